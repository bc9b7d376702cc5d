//! What the image listings share: rows printed through a `--format`
//! (`table ...`, a template, `json`) as docker/cli's formatter prints
//! them, and sizes as `units.HumanSizeWithPrecision(size, 3)`.

pub use crate::format::output::rows as render;

/// go-units' `HumanSizeWithPrecision(size, 3)`: decimal units, three
/// significant digits (`4.26MB`, `745kB`, `0B`), as `docker images` and
/// `docker history` print sizes.
pub fn size3(size: f64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = size;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g3(size), UNITS[i])
}

/// Go's `%.3g` for the values `size3` formats (below 1000 after scaling).
fn go_g3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    // Round to three significant digits first: 999.5 becomes 1e+03.
    let e = format!("{v:.2e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..3).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim_zeros(mantissa), exp.abs());
    }
    let decimals = usize::try_from(2 - exp).unwrap_or(0);
    trim_zeros(&format!("{v:.decimals$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_have_three_significant_digits() {
        assert_eq!(size3(0.0), "0B");
        assert_eq!(size3(512.0), "512B");
        assert_eq!(size3(4_261_000.0), "4.26MB");
        assert_eq!(size3(745_123.0), "745kB");
        assert_eq!(size3(1_500.0), "1.5kB");
        assert_eq!(size3(999_600.0), "1e+03kB");
        assert_eq!(size3(12_345_678_901.0), "12.3GB");
    }
}
