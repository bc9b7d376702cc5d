//! Running the `iptables` tool: one call per operation, always with `-w`
//! so Berth waits for the xtables lock instead of racing dockerd or firewalld.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{NetworkError, Result};

/// Where the tool is looked for when it is not on `PATH`.
const KNOWN_PATHS: &[&str] = &["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"];

/// One iptables rule: the table and chain it lives in and its match and
/// target arguments (what follows `-A <chain>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `nat` or `filter`.
    pub table: &'static str,
    /// The chain holding the rule.
    pub chain: &'static str,
    /// The rule's arguments.
    pub args: Vec<String>,
}

/// The `iptables` binary and the operations Berth needs from it.
#[derive(Debug, Clone)]
pub struct Tool {
    bin: PathBuf,
}

impl Tool {
    /// Finds `iptables` on `PATH` or in the usual sbin directories.
    pub fn find() -> Result<Self> {
        let from_path = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("iptables"))
                .find(|p| p.is_file())
        });
        let bin = from_path
            .or_else(|| KNOWN_PATHS.iter().map(PathBuf::from).find(|p| p.is_file()))
            .ok_or_else(|| {
                NetworkError::System(
                    "iptables not found: install iptables to publish ports and use bridge networks"
                        .into(),
                )
            })?;
        Ok(Tool { bin })
    }

    /// Uses the `iptables` at `bin`.
    pub fn at(bin: impl AsRef<Path>) -> Self {
        Tool {
            bin: bin.as_ref().to_path_buf(),
        }
    }

    /// Runs `iptables -w -t <table> <args>`; `Ok(Err(stderr))` when the tool
    /// ran and said no.
    fn call(&self, table: &str, args: &[&str]) -> Result<std::result::Result<String, String>> {
        let out = Command::new(&self.bin)
            .arg("-w")
            .args(["-t", table])
            .args(args)
            .output()
            .map_err(|e| NetworkError::io(format!("running {}", self.bin.display()), e))?;
        if out.status.success() {
            Ok(Ok(String::from_utf8_lossy(&out.stdout).into_owned()))
        } else {
            Ok(Err(String::from_utf8_lossy(&out.stderr).trim().to_string()))
        }
    }

    /// Runs a command that must succeed.
    fn must(&self, table: &str, args: &[&str]) -> Result<String> {
        self.call(table, args)?.map_err(|stderr| {
            NetworkError::System(format!("iptables -t {table} {}: {stderr}", args.join(" ")))
        })
    }

    /// Whether `rule` is present (`-C`).
    pub fn exists(&self, rule: &Rule) -> Result<bool> {
        let mut args = vec!["-C", rule.chain];
        args.extend(rule.args.iter().map(String::as_str));
        Ok(self.call(rule.table, &args)?.is_ok())
    }

    /// Appends `rule` unless it is present.
    pub fn append(&self, rule: &Rule) -> Result<()> {
        if self.exists(rule)? {
            return Ok(());
        }
        let mut args = vec!["-A", rule.chain];
        args.extend(rule.args.iter().map(String::as_str));
        self.must(rule.table, &args).map(drop)
    }

    /// Inserts `rule` at `pos` (1 is first) unless it is present.
    pub fn insert(&self, rule: &Rule, pos: usize) -> Result<()> {
        if self.exists(rule)? {
            return Ok(());
        }
        let pos = pos.to_string();
        let mut args = vec!["-I", rule.chain, pos.as_str()];
        args.extend(rule.args.iter().map(String::as_str));
        self.must(rule.table, &args).map(drop)
    }

    /// Deletes every copy of `rule`; a missing rule or chain is fine.
    pub fn delete(&self, rule: &Rule) -> Result<()> {
        let mut args = vec!["-D", rule.chain];
        args.extend(rule.args.iter().map(String::as_str));
        // `-D` until it fails saves a `-C` per call; the loop is bounded
        // because a stuck loop would be worse than a leftover.
        for _ in 0..64 {
            if self.call(rule.table, &args)?.is_err() {
                break;
            }
        }
        Ok(())
    }

    /// Creates `chain` in `table` unless it exists.
    pub fn new_chain(&self, table: &str, chain: &str) -> Result<()> {
        if self.chain_exists(table, chain)? {
            return Ok(());
        }
        self.must(table, &["-N", chain]).map(drop)
    }

    /// Whether `chain` exists in `table`.
    pub fn chain_exists(&self, table: &str, chain: &str) -> Result<bool> {
        Ok(self.call(table, &["-S", chain])?.is_ok())
    }

    /// Empties `chain` if it exists.
    pub fn flush(&self, table: &str, chain: &str) -> Result<()> {
        if !self.chain_exists(table, chain)? {
            return Ok(());
        }
        self.must(table, &["-F", chain]).map(drop)
    }

    /// Deletes `chain` (which must be empty and unreferenced) if it exists.
    pub fn delete_chain(&self, table: &str, chain: &str) -> Result<()> {
        if !self.chain_exists(table, chain)? {
            return Ok(());
        }
        self.must(table, &["-X", chain]).map(drop)
    }

    /// The names of the user chains in `table` starting with `prefix`.
    pub fn chains_with_prefix(&self, table: &str, prefix: &str) -> Result<Vec<String>> {
        let listing = self.must(table, &["-S"])?;
        Ok(listing
            .lines()
            .filter_map(|l| l.strip_prefix("-N "))
            .filter(|name| name.starts_with(prefix))
            .map(str::to_string)
            .collect())
    }

    /// The rules of `chain` as `-S` prints them, split into arguments
    /// (without the leading `-A <chain>`); empty when the chain is missing.
    /// Arguments are split on whitespace, so a quoted argument with spaces
    /// (someone else's comment) comes out in pieces; Berth's never have any.
    pub fn rules(&self, table: &str, chain: &str) -> Result<Vec<Vec<String>>> {
        let Ok(listing) = self.call(table, &["-S", chain])? else {
            return Ok(Vec::new());
        };
        let prefix = format!("-A {chain} ");
        Ok(listing
            .lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .collect())
    }
}
