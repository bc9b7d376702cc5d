//! Benchmarks (not tests): timing Berth against the tools it mirrors.
//!
//! This module holds what every bench shares: summary statistics and
//! formatting; [`measure`] runs and measures one process.

pub mod cgroups;
pub mod daemon;
pub mod dockerd;
pub mod measure;
pub mod pull;
pub mod run;
pub mod runtime;

use std::time::Duration;

/// Summary statistics of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Median (mean of the two middle samples for an even count).
    pub median: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
}

impl Summary {
    /// Summarizes `samples`; `None` when there are none (or one is NaN).
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|s| s.is_nan()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Summary {
            count: n,
            median,
            p90: percentile(&sorted, 90.0),
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

/// The nearest-rank `pct` percentile of non-empty, ascending `sorted`.
pub fn percentile(sorted: &[f64], pct: f64) -> f64 {
    let rank = (pct / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A duration in milliseconds, as a float for statistics.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A size in KiB, human-readable: `812 KiB` or `12.3 MiB (12595 KiB)`.
pub fn format_kib(kib: u64) -> String {
    if kib < 1024 {
        format!("{kib} KiB")
    } else {
        format!("{:.1} MiB ({kib} KiB)", kib as f64 / 1024.0)
    }
}

/// Re-runs this command from a release build of xtask (`cargo run
/// --release`), so in-process Berth code is measured optimized. `env` marks
/// the re-executed run so it does not loop.
pub fn rerun_in_release(bench: &str, env: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::os::unix::process::CommandExt;
    eprintln!(
        "bench {bench}: this is a debug build; re-running in a release build \
         (pass --allow-debug to skip)"
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let err = std::process::Command::new(cargo)
        .current_dir(crate::workspace_root())
        .args(["run", "--release", "--quiet", "--package", "xtask", "--"])
        .args(std::env::args_os().skip(1))
        .env(env, "1")
        .exec();
    Err(err).context("re-running in a release build")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(Summary::of(&[3.0, 1.0, 2.0]).map(|s| s.median), Some(2.0));
        assert_eq!(
            Summary::of(&[4.0, 1.0, 3.0, 2.0]).map(|s| s.median),
            Some(2.5)
        );
    }

    #[test]
    fn p90_is_nearest_rank() {
        let samples: Vec<f64> = (1..=50).map(f64::from).collect();
        let summary = Summary::of(&samples).expect("non-empty");
        assert_eq!(summary.p90, 45.0);
        assert_eq!((summary.min, summary.max, summary.count), (1.0, 50.0, 50));
        assert_eq!(Summary::of(&[7.0]).map(|s| s.p90), Some(7.0));
    }

    #[test]
    fn empty_or_nan_has_no_summary() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(format_kib(812), "812 KiB");
        assert_eq!(format_kib(2048), "2.0 MiB (2048 KiB)");
    }
}
