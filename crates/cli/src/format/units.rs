//! Sizes and times as Docker prints and parses them (go-units):
//! `HumanSize` (`1.23MB`, decimal), `BytesSize` (`1.5MiB`, binary),
//! `RAMInBytes` (`32m` = 32 MiB), and "2 minutes ago".

use std::time::SystemTime;

pub use berth_api::units::{bytes_size, human_duration, human_size};

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

#[cfg(test)]
mod tests {
    use super::*;

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
