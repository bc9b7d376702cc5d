//! Times as the CLI sends and shows them: docker/cli's
//! `timetypes.GetTimestamp` for `--since` / `--until`, and Go's
//! `RFC3339NanoFixed` for event lines.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::opts::parse::go_duration;

/// `GetTimestamp`: a duration (`10m`) is that long before `now`; Unix
/// seconds (`1700000000[.5]`) pass through; an RFC 3339 time or date
/// (`2013-01-02T13:23:37Z`, `2013-01-02`) becomes Unix `seconds.nanos`.
pub fn get_timestamp(value: &str, now: SystemTime) -> Result<String, String> {
    if let Ok(d) = go_duration(value) {
        let t = if d >= 0 {
            now.checked_sub(Duration::from_nanos(d as u64))
        } else {
            now.checked_add(Duration::from_nanos(d.unsigned_abs()))
        }
        .unwrap_or(UNIX_EPOCH);
        return Ok(unix(t));
    }
    let numeric = {
        let mut parts = value.splitn(2, '.');
        let secs = parts.next().unwrap_or("");
        let frac = parts.next();
        !secs.is_empty()
            && secs.chars().all(|c| c.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
    };
    if numeric {
        return Ok(value.to_string());
    }
    let candidate = if value.len() == 10 {
        format!("{value}T00:00:00Z")
    } else {
        value.to_string()
    };
    let t = humantime::parse_rfc3339_weak(&candidate)
        .or_else(|_| humantime::parse_rfc3339_weak(&format!("{candidate}Z")))
        .map_err(|_| format!("failed to parse value as time or duration: \"{value}\""))?;
    Ok(unix(t))
}

fn unix(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// `2006-01-02T15:04:05.000000000Z` for Unix nanoseconds (UTC).
pub fn rfc3339_nano_fixed(nanos: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_nanos(nanos.max(0) as u64);
    humantime::format_rfc3339_nanos(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_like_docker() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(get_timestamp("10m", now).unwrap(), "1699999400.000000000");
        assert_eq!(get_timestamp("1700000000", now).unwrap(), "1700000000");
        assert_eq!(get_timestamp("1700000000.5", now).unwrap(), "1700000000.5");
        assert_eq!(
            get_timestamp("2013-01-02T13:23:37Z", now).unwrap(),
            "1357133017.000000000"
        );
        assert_eq!(
            get_timestamp("2013-01-02", now).unwrap(),
            "1357084800.000000000"
        );
        assert!(get_timestamp("yesterday", now).is_err());
        assert_eq!(
            rfc3339_nano_fixed(1_357_133_017_000_000_001),
            "2013-01-02T13:23:37.000000001Z"
        );
    }
}
