//! `docker logs` options and the parsers for their Engine API query forms
//! (moby's `container.LogsOptions`, `timetypes.GetTimestamp` and
//! `timetypes.ParseTimestamps`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{DaemonError, Result};

/// What `docker logs` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsOptions {
    /// Include the stdout stream.
    pub stdout: bool,
    /// Include the stderr stream.
    pub stderr: bool,
    /// Keep streaming new lines until the container stops.
    pub follow: bool,
    /// Only the last N lines of the existing log (`None`: all of them).
    /// As in Docker, the N lines are counted over both streams, before
    /// `since` / `until` and stream selection apply.
    pub tail: Option<usize>,
    /// Only lines logged at or after this time.
    pub since: Option<SystemTime>,
    /// Only lines logged at or before this time; follow ends once it passes.
    pub until: Option<SystemTime>,
    /// Prefix each line with its time (see [`super::LogMessage::render`]).
    pub timestamps: bool,
}

impl Default for LogsOptions {
    /// Both streams, all lines, no follow, no filters, no timestamps.
    fn default() -> Self {
        LogsOptions {
            stdout: true,
            stderr: true,
            follow: false,
            tail: None,
            since: None,
            until: None,
            timestamps: false,
        }
    }
}

impl LogsOptions {
    /// Builds options from Engine API query pairs (`stdout`, `stderr`,
    /// `follow`, `timestamps`, `tail`, `since`, `until`), relative times
    /// measured from `now`. Unlike [`LogsOptions::default`], the streams
    /// default to off, as the Engine API's do. Unknown keys are ignored.
    pub fn from_query<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        now: SystemTime,
    ) -> Result<LogsOptions> {
        let mut o = LogsOptions {
            stdout: false,
            stderr: false,
            ..LogsOptions::default()
        };
        for (key, value) in pairs {
            match key {
                "stdout" => o.stdout = parse_bool(value),
                "stderr" => o.stderr = parse_bool(value),
                "follow" => o.follow = parse_bool(value),
                "timestamps" => o.timestamps = parse_bool(value),
                "tail" => o.tail = parse_tail(value),
                "since" => o.since = parse_time_filter(value, now)?,
                "until" => o.until = parse_time_filter(value, now)?,
                _ => {}
            }
        }
        Ok(o)
    }
}

/// Docker's query booleans (`httputils.BoolValue`): anything but empty,
/// `0`, `no`, `false` or `none` (case-insensitive) is true.
pub fn parse_bool(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    !matches!(v.as_str(), "" | "0" | "no" | "false" | "none")
}

/// `tail`: a count, or anything else (`all`, empty, negative, garbage) for
/// all lines, as moby's `strconv.Atoi` fallback does.
pub fn parse_tail(value: &str) -> Option<usize> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| usize::try_from(n).ok())
}

/// `since` / `until`: empty or `0` means no filter; otherwise
/// [`parse_timestamp`].
pub fn parse_time_filter(value: &str, now: SystemTime) -> Result<Option<SystemTime>> {
    match value.trim() {
        "" | "0" => Ok(None),
        v => parse_timestamp(v, now).map(Some),
    }
}

/// Parses a time the way `docker logs --since/--until` accepts one
/// (`timetypes.GetTimestamp`, then `ParseTimestamps`):
///
/// - a Go duration (`10m`, `1h30m`, `1.5s`), meaning `now` minus it,
///   truncated to whole seconds;
/// - RFC 3339 with or without fraction and zone, `2006-01-02T15`,
///   `2006-01-02T15:04`, `2006-01-02`, `2006-01-02Z07:00` (a missing zone
///   is taken as UTC: the daemon has no client time zone);
/// - Unix seconds with an optional fraction (`1700000000.5`).
pub fn parse_timestamp(value: &str, now: SystemTime) -> Result<SystemTime> {
    let value = value.trim();
    if value != "0" {
        if let Some(d) = parse_go_duration(value) {
            let t = add_signed(now, -d);
            // Go's reference.Add(-d).Unix(): whole seconds, floored.
            let (s, _) = to_unix(t);
            return Ok(from_unix(s, 0));
        }
    }
    if let Some((s, n)) = parse_date_time(value) {
        return Ok(from_unix(s, n));
    }
    if value.contains('-') {
        return Err(DaemonError::invalid(format!(
            "parsing time {value:?}: invalid timestamp"
        )));
    }
    parse_unix(value)
        .map(|(s, n)| from_unix(s, n))
        .ok_or_else(|| {
            DaemonError::invalid(format!(
                "failed to parse value as time or duration: {value:?}"
            ))
        })
}

/// `seconds[.fraction]` (moby's `parseTimestamp`: the fraction is scaled to
/// nanoseconds).
fn parse_unix(value: &str) -> Option<(i64, u32)> {
    let (secs, frac) = match value.split_once('.') {
        Some((s, f)) => (s, Some(f)),
        None => (value, None),
    };
    let s: i64 = secs.parse().ok()?;
    let n = match frac {
        None => 0,
        Some(f) if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return None
        }
        Some(f) => f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32),
    };
    Some((s, n))
}

/// A Go `time.ParseDuration` string as signed nanoseconds.
pub fn parse_go_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return None;
        }
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale: f64 = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += num.parse::<f64>().ok()? * scale;
    }
    let ns = total.round() as i128;
    Some(if neg { -ns } else { ns })
}

/// The RFC 3339-like forms of `GetTimestamp`, as Unix seconds and nanos.
/// A missing zone is UTC.
pub(crate) fn parse_date_time(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = digits(&s[0..4])?;
    let month: u32 = digits(&s[5..7])?;
    let day: u32 = digits(&s[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut rest = &s[10..];
    let (mut hour, mut min, mut sec, mut nanos) = (0u32, 0u32, 0u32, 0u32);
    if let Some(r) = rest.strip_prefix(['T', 't']) {
        hour = digits(r.get(0..2)?)?;
        rest = &r[2..];
        if let Some(r) = rest.strip_prefix(':') {
            min = digits(r.get(0..2)?)?;
            rest = &r[2..];
            if let Some(r) = rest.strip_prefix(':') {
                sec = digits(r.get(0..2)?)?;
                rest = &r[2..];
                if let Some(r) = rest.strip_prefix('.') {
                    let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
                    if end == 0 || end > 9 {
                        return None;
                    }
                    nanos = r[..end].parse::<u32>().ok()? * 10u32.pow(9 - end as u32);
                    rest = &r[end..];
                }
            }
        }
        if hour > 23 || min > 59 || sec > 60 {
            return None;
        }
    }
    let offset: i64 = match rest {
        "" | "Z" | "z" => 0,
        z => {
            let sign = match z.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zb = z.as_bytes();
            if zb.len() != 6 || zb[3] != b':' {
                return None;
            }
            let h: i64 = digits(&z[1..3])?;
            let m: i64 = digits(&z[4..6])?;
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec);
    Some((secs - offset, nanos))
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// A Unix time (seconds may be negative) as a `SystemTime`.
pub(crate) fn from_unix(secs: i64, nanos: u32) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nanos)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nanos.into())
    }
}

/// A `SystemTime` as floored Unix seconds and nanos.
pub(crate) fn to_unix(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let (s, n) = (d.as_secs() as i64, d.subsec_nanos());
            if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - n)
            }
        }
    }
}

fn add_signed(t: SystemTime, ns: i128) -> SystemTime {
    let d = Duration::from_nanos(ns.unsigned_abs().min(u64::MAX as u128) as u64);
    if ns >= 0 {
        t + d
    } else {
        t - d
    }
}
