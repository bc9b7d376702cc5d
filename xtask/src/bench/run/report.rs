//! The bench's printed tables: `run --rm` times per network mode, and the
//! concurrent start, with berth/docker ratios against the targets.

use std::fmt::Write as _;

use super::engine::Concurrent;
use super::NetworkMode;
use crate::bench::{millis, Summary};

/// `run --rm`: berth's median must be at most this share of Docker's...
pub const RUN_TARGET: f64 = 0.2;
/// ...and should be at most this one.
pub const RUN_AIM: f64 = 0.1;
/// Concurrent start: berth's time at most this share of Docker's.
pub const CONCURRENT_TARGET: f64 = 0.3;

/// What networking may add to berth's `run --rm` (default minus none,
/// medians), in ms.
pub const NETWORK_COST_TARGET_MS: f64 = 5.0;

/// The timed `run --rm` samples (ms) of one network mode.
#[derive(Clone, Debug, Default)]
pub struct RunSamples {
    /// berth's wall times, ms.
    pub berth: Vec<f64>,
    /// docker's wall times, ms.
    pub docker: Vec<f64>,
}

/// The concurrent start of one network mode: each side's outcome, or the
/// error that stopped it.
#[derive(Clone, Debug)]
pub struct ConcurrentRow {
    /// The network mode.
    pub mode: NetworkMode,
    /// berth's outcome.
    pub berth: Result<Concurrent, String>,
    /// docker's outcome.
    pub docker: Result<Concurrent, String>,
}

/// `met`, `met (aim ... met too)` or `NOT met` for a berth/docker ratio.
pub fn verdict(ratio: f64, target: f64, aim: Option<f64>) -> String {
    match aim {
        _ if ratio > target => format!("target <= {target}: NOT met"),
        Some(aim) if ratio <= aim => format!("target <= {target}: met, aim <= {aim}: met"),
        Some(aim) => format!("target <= {target}: met, aim <= {aim}: not yet"),
        None => format!("target <= {target}: met"),
    }
}

/// The `run --rm` table for `modes` (each with its samples).
pub fn run_table(image: &str, modes: &[(NetworkMode, RunSamples)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "run --rm {image} true (CLI process, spawn to exit)");
    let _ = writeln!(
        out,
        "  {:<18} {:<7} {:>5} {:>10} {:>10} {:>10} {:>10}",
        "network", "engine", "runs", "median ms", "p90 ms", "min ms", "max ms"
    );
    for (mode, samples) in modes {
        let b = row(&mut out, mode.label(), "berth", &samples.berth);
        let d = row(&mut out, "", "docker", &samples.docker);
        if let (Some(b), Some(d)) = (b, d) {
            let ratio = b.median / d.median;
            let _ = writeln!(
                out,
                "  {:<18} ratio berth/docker: median {ratio:.3}, p90 {:.3} ({})",
                "",
                b.p90 / d.p90,
                verdict(ratio, RUN_TARGET, Some(RUN_AIM))
            );
        }
    }
    let median = |m: NetworkMode, side: fn(&RunSamples) -> &Vec<f64>| {
        modes
            .iter()
            .find(|(mode, _)| *mode == m)
            .and_then(|(_, s)| Summary::of(side(s)))
            .map(|s| s.median)
    };
    if let (Some(bn), Some(bd), Some(dn), Some(dd)) = (
        median(NetworkMode::None, |s| &s.berth),
        median(NetworkMode::Default, |s| &s.berth),
        median(NetworkMode::None, |s| &s.docker),
        median(NetworkMode::Default, |s| &s.docker),
    ) {
        let berth = bd - bn;
        let _ = writeln!(
            out,
            "  networking adds (default - none, medians): berth {berth:.1} ms, docker {:.1} ms (target: berth <= {NETWORK_COST_TARGET_MS} ms: {})",
            dd - dn,
            if berth <= NETWORK_COST_TARGET_MS { "met" } else { "NOT met" }
        );
    }
    out
}

fn row(out: &mut String, mode: &str, engine: &str, samples: &[f64]) -> Option<Summary> {
    let s = Summary::of(samples)?;
    let _ = writeln!(
        out,
        "  {mode:<18} {engine:<7} {:>5} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
        s.count, s.median, s.p90, s.min, s.max
    );
    Some(s)
}

/// The concurrent-start table: `count` containers per engine and mode.
pub fn concurrent_table(image: &str, count: usize, rows: &[ConcurrentRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "concurrent start: {count} x `run -d {image} sleep 1000` spawned at once, \
         time until all are running"
    );
    let _ = writeln!(
        out,
        "  {:<18} {:<7} {:>14} {:>16}",
        "network", "engine", "all running ms", "CLIs returned ms"
    );
    for r in rows {
        let side = |out: &mut String, mode: &str, engine: &str, c: &Result<Concurrent, String>| {
            let _ = match c {
                Ok(c) => writeln!(
                    out,
                    "  {mode:<18} {engine:<7} {:>14.1} {:>16.1}",
                    millis(c.all_running),
                    millis(c.cli_done)
                ),
                Err(e) => writeln!(out, "  {mode:<18} {engine:<7} failed: {e}"),
            };
        };
        side(&mut out, r.mode.label(), "berth", &r.berth);
        side(&mut out, "", "docker", &r.docker);
        if let (Ok(b), Ok(d)) = (&r.berth, &r.docker) {
            let ratio = millis(b.all_running) / millis(d.all_running);
            let _ = writeln!(
                out,
                "  {:<18} ratio berth/docker: {ratio:.3} ({})",
                "",
                verdict(ratio, CONCURRENT_TARGET, None)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn verdicts_against_target_and_aim() {
        assert_eq!(
            verdict(0.05, 0.2, Some(0.1)),
            "target <= 0.2: met, aim <= 0.1: met"
        );
        assert_eq!(
            verdict(0.15, 0.2, Some(0.1)),
            "target <= 0.2: met, aim <= 0.1: not yet"
        );
        assert_eq!(verdict(0.25, 0.2, Some(0.1)), "target <= 0.2: NOT met");
        assert_eq!(verdict(0.3, 0.3, None), "target <= 0.3: met");
    }

    #[test]
    fn run_table_has_ratios_and_the_network_cost() {
        let samples = RunSamples {
            berth: vec![10.0, 12.0, 11.0],
            docker: vec![100.0, 120.0, 110.0],
        };
        let with_net = RunSamples {
            berth: vec![13.0, 15.0, 14.0],
            docker: vec![150.0, 170.0, 160.0],
        };
        let table = run_table(
            "127.0.0.1:5000/busybox:latest",
            &[
                (NetworkMode::None, samples),
                (NetworkMode::Default, with_net),
            ],
        );
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[2].starts_with("  --network none     berth       3       11.0       12.0"));
        assert!(
            lines[3].contains("docker      3      110.0      120.0"),
            "{table}"
        );
        assert!(lines[4].contains("ratio berth/docker: median 0.100, p90 0.100"));
        assert!(lines[4].contains("aim <= 0.1: met"));
        assert!(
            lines[5].starts_with("  default network    berth"),
            "{table}"
        );
        assert_eq!(
            lines.last().copied(),
            Some("  networking adds (default - none, medians): berth 3.0 ms, docker 50.0 ms (target: berth <= 5 ms: met)"),
            "{table}"
        );
    }

    #[test]
    fn concurrent_table_reports_failures_without_a_ratio() {
        let ok = Concurrent {
            cli_done: Duration::from_millis(300),
            all_running: Duration::from_millis(300),
        };
        let slow = Concurrent {
            cli_done: Duration::from_millis(1000),
            all_running: Duration::from_millis(1200),
        };
        let table = concurrent_table(
            "img",
            50,
            &[
                ConcurrentRow {
                    mode: NetworkMode::None,
                    berth: Ok(ok),
                    docker: Ok(slow),
                },
                ConcurrentRow {
                    mode: NetworkMode::Default,
                    berth: Err("boom".into()),
                    docker: Ok(slow),
                },
            ],
        );
        assert!(
            table.contains("ratio berth/docker: 0.250 (target <= 0.3: met)"),
            "{table}"
        );
        assert!(table.contains("berth   failed: boom"), "{table}");
        assert_eq!(table.matches("ratio berth/docker").count(), 1, "{table}");
        assert!(table.contains("1200.0           1000.0"), "{table}");
    }
}
