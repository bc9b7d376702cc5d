//! Reading processes from `/proc`: memory (VmRSS, Pss) and command lines.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

/// One process's memory, in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mem {
    /// `VmRSS` from `/proc/<pid>/status`: every resident page it maps,
    /// shared ones counted in full.
    pub rss_kib: u64,
    /// `Pss` from `/proc/<pid>/smaps_rollup`: shared pages divided among
    /// the processes that map them.
    pub pss_kib: u64,
}

impl std::ops::Add for Mem {
    type Output = Mem;

    fn add(self, other: Mem) -> Mem {
        Mem {
            rss_kib: self.rss_kib + other.rss_kib,
            pss_kib: self.pss_kib + other.pss_kib,
        }
    }
}

/// Reads the memory of `pid`.
pub fn read_mem(pid: u32) -> Result<Mem> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .with_context(|| format!("reading /proc/{pid}/smaps_rollup"))?;
    Ok(Mem {
        rss_kib: field_kib(&status, "VmRSS:")
            .with_context(|| format!("no VmRSS in /proc/{pid}/status"))?,
        pss_kib: field_kib(&rollup, "Pss:")
            .with_context(|| format!("no Pss in /proc/{pid}/smaps_rollup"))?,
    })
}

/// The value of a `Key:   1234 kB` line.
fn field_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// A running process: its PID and argv.
#[derive(Clone, Debug)]
pub struct Process {
    pub pid: u32,
    pub argv: Vec<String>,
}

impl Process {
    /// The file name of `argv[0]`.
    pub fn name(&self) -> &str {
        self.argv
            .first()
            .and_then(|a| Path::new(a).file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("")
    }
}

/// Every process with a non-empty command line (kernel threads have none).
pub fn processes() -> Vec<Process> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Ok(raw) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if raw.is_empty() {
            continue;
        }
        let argv = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        out.push(Process { pid, argv });
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// Mean of `values` (0 when empty).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kib_fields() {
        let rollup = "Rss:  1200 kB\nPss:   800 kB\nPss_Anon:  300 kB\n";
        assert_eq!(field_kib(rollup, "Pss:"), Some(800));
        assert_eq!(field_kib(rollup, "Pss_Anon:"), Some(300));
        assert_eq!(field_kib("VmRSS:\t  4096 kB\n", "VmRSS:"), Some(4096));
        assert_eq!(field_kib("VmHWM: 1 kB\n", "VmRSS:"), None);
    }

    #[test]
    fn reads_own_memory_and_command_line() {
        let mem = read_mem(std::process::id()).expect("own memory");
        assert!(mem.rss_kib > 0 && mem.pss_kib > 0, "{mem:?}");
        let me = processes()
            .into_iter()
            .find(|p| p.pid == std::process::id())
            .expect("self in /proc");
        assert!(!me.argv.is_empty());
        assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
    }
}
