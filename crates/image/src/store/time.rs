//! The little RFC 3339 handling the store needs (image configs record
//! `created` as RFC 3339 text; the API wants Unix seconds or Go's
//! `time.RFC3339Nano` rendering), without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Go's zero `time.Time` rendered as RFC 3339, what Docker prints for a
/// `LastTagTime` that was never set.
pub(crate) const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A parsed RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp {
    /// Seconds since the Unix epoch (UTC).
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// The zone offset the text was written in, in seconds east of UTC.
    pub offset: i32,
}

impl Timestamp {
    /// Now, in UTC.
    pub fn now() -> Timestamp {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: d.subsec_nanos(),
            offset: 0,
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`; `None` if malformed.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = num(0..4)?;
        let month = num(5..7)?;
        let day = num(8..10)?;
        let hour = num(11..13)?;
        let min = num(14..16)?;
        let sec = num(17..19)?;
        if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || min > 59
            || sec > 60
        {
            return None;
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 {
                return None;
            }
            for _ in digits..9 {
                nanos *= 10;
            }
        }
        let offset = match b.get(i)? {
            b'Z' | b'z' if i + 1 == b.len() => 0,
            c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
                let oh = num(i + 1..i + 3)?;
                let om = num(i + 4..i + 6)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = (oh * 3600 + om * 60) as i32;
                if *c == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month as u32, day as u32);
        let local = days * 86_400 + hour * 3600 + min * 60 + sec.min(59);
        Some(Timestamp {
            secs: local - i64::from(offset),
            nanos,
            offset,
        })
    }

    /// Go's `time.RFC3339Nano` rendering, in the offset the time was parsed
    /// with: no trailing zeros in the fraction, `Z` for a zero offset.
    pub fn to_rfc3339_nano(self) -> String {
        let local = self.secs + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut s = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            (rem / 60) % 60,
            rem % 60
        );
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        if self.offset == 0 {
            s.push('Z');
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let o = self.offset.unsigned_abs();
            s.push_str(&format!("{sign}{:02}:{:02}", o / 3600, (o / 60) % 60));
        }
        s
    }
}

/// Unix seconds of an RFC 3339 string, 0 when absent or malformed (as Docker
/// reports an image without a creation time).
pub(crate) fn unix_seconds(s: Option<&str>) -> i64 {
    s.and_then(Timestamp::parse).map_or(0, |t| t.secs)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
