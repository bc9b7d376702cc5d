//! Sizes and durations as Docker prints them (go-units), shared by the
//! daemon (`docker ps` status strings, pull progress bars) and the CLI.

use std::time::Duration;

/// go-units' `HumanSize`: decimal units (`B`, `kB`, `MB`, ...) with four
/// significant digits as Go's `%.4g` prints them (`1.2kB`, `3.355MB`,
/// `512B`).
pub fn human_size(size: f64) -> String {
    custom_size(
        size,
        1000.0,
        &["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"],
    )
}

/// go-units' `BytesSize`: binary units (`KiB`, `MiB`, ...), as `docker
/// stats` shows memory.
pub fn bytes_size(size: f64) -> String {
    custom_size(
        size,
        1024.0,
        &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"],
    )
}

/// go-units' `CustomSize("%.4g%s", ...)`.
fn custom_size(size: f64, base: f64, units: &[&str; 9]) -> String {
    let mut size = size;
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    format!("{}{}", go_g(size, 4), units[i])
}

/// Go's `%.{prec}g`: `prec` significant digits, trailing zeros dropped,
/// exponent form when the exponent is below -4 or at least `prec`.
fn go_g(v: f64, prec: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { v.to_string() };
    }
    let e = format!("{:.*e}", prec.saturating_sub(1), v);
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let p = i32::try_from(prec).unwrap_or(i32::MAX);
    if exp < -4 || exp >= p {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim_zeros(mantissa), exp.abs());
    }
    let decimals = usize::try_from((p - 1 - exp).max(0)).unwrap_or(0);
    trim_zeros(&format!("{v:.decimals$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A duration as Docker prints it in `ps` (go-units' `HumanDuration`).
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
    fn human_sizes_match_go_units() {
        for (n, want) in [
            (0.0, "0B"),
            (512.0, "512B"),
            (999.0, "999B"),
            (1000.0, "1kB"),
            (1200.0, "1.2kB"),
            (1234.0, "1.234kB"),
            (3_355_443.0, "3.355MB"),
            (999_999.0, "1000kB"),
            (2_147_483_648.0, "2.147GB"),
            (100_000.0, "100kB"),
        ] {
            assert_eq!(human_size(n), want, "{n}");
        }
        assert_eq!(go_g(0.000012345, 4), "1.234e-05");
    }

    #[test]
    fn human_durations_match_go_units() {
        let s = Duration::from_secs;
        let cases = [
            (Duration::from_millis(400), "Less than a second"),
            (s(1), "1 second"),
            (s(59), "59 seconds"),
            (s(60), "About a minute"),
            (s(119), "About a minute"),
            (s(120), "2 minutes"),
            (s(3599), "59 minutes"),
            (s(3600), "About an hour"),
            (s(5400), "2 hours"),
            (s(47 * 3600), "47 hours"),
            (s(48 * 3600), "2 days"),
            (s(15 * 86400), "2 weeks"),
            (s(61 * 86400), "2 months"),
            (s(800 * 86400), "2 years"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn binary_sizes_match_go_units() {
        assert_eq!(bytes_size(1536.0), "1.5KiB");
        assert_eq!(bytes_size(32.0 * 1024.0 * 1024.0), "32MiB");
    }
}
