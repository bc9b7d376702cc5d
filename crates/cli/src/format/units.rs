//! Sizes and times as Docker prints and parses them (go-units):
//! `HumanSize` (`1.23MB`, decimal), `BytesSize` (`1.5MiB`, binary),
//! `RAMInBytes` (`32m` = 32 MiB), and "2 minutes ago".

use std::time::{Duration, SystemTime};

const DECIMAL: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/// Four significant digits and a unit, as go-units' `CustomSize("%.4g%s")`.
fn custom_size(size: f64, base: f64, units: &[&str; 9]) -> String {
    let mut size = size;
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    format!("{}{}", four_significant(size), units[i])
}

/// Go's `%.4g`: four significant digits, trailing zeros dropped.
fn four_significant(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = v.abs().log10().floor() as i32 + 1;
    let decimals = (4 - digits).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Decimal size (`docker images`, `ps -s`): `HumanSize`.
pub fn human_size(bytes: f64) -> String {
    custom_size(bytes, 1000.0, &DECIMAL)
}

/// Binary size (`docker stats` memory): `BytesSize`.
pub fn bytes_size(bytes: f64) -> String {
    custom_size(bytes, 1024.0, &BINARY)
}

/// Parses a memory size as `--memory` takes it (`RAMInBytes`): a number
/// with an optional `b`, `k`, `m`, `g`, `t`, `p` suffix (optionally
/// followed by `b` / `ib`), binary multiples.
pub fn ram_in_bytes(s: &str) -> Result<i64, String> {
    let lower = s.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("invalid size: '{s}'"))?;
    let mult: f64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024f64.powi(2),
        "g" => 1024f64.powi(3),
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return Err(format!("invalid suffix: '{unit}'")),
    };
    if n < 0.0 {
        return Err(format!("invalid size: '{s}'"));
    }
    Ok((n * mult) as i64)
}

/// "About a minute ago"-style text for how long before `now` `then` was.
pub fn ago(then: SystemTime, now: SystemTime) -> String {
    format!(
        "{} ago",
        human_duration(now.duration_since(then).unwrap_or_default())
    )
}

/// go-units' `HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let mins = secs / 60;
    let hours = ((d.as_secs_f64() / 3600.0) + 0.5) as u64;
    match () {
        _ if secs < 1 => "Less than a second".into(),
        _ if secs == 1 => "1 second".into(),
        _ if secs < 60 => format!("{secs} seconds"),
        _ if mins == 1 => "About a minute".into(),
        _ if mins < 60 => format!("{mins} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", secs / 3600 / 24 / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_go_units() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(1000.0), "1kB");
        assert_eq!(human_size(1_234_567.0), "1.235MB");
        assert_eq!(human_size(4_261_000.0), "4.261MB");
        assert_eq!(bytes_size(1536.0), "1.5KiB");
        assert_eq!(bytes_size(32.0 * 1024.0 * 1024.0), "32MiB");
    }

    #[test]
    fn memory_sizes_parse_like_ram_in_bytes() {
        assert_eq!(ram_in_bytes("32m"), Ok(32 << 20));
        assert_eq!(ram_in_bytes("1g"), Ok(1 << 30));
        assert_eq!(ram_in_bytes("512"), Ok(512));
        assert_eq!(ram_in_bytes("2KB"), Ok(2048));
        assert_eq!(ram_in_bytes("1.5gib"), Ok(3 << 29));
        assert!(ram_in_bytes("12x").is_err());
        assert!(ram_in_bytes("m").is_err());
    }
}
