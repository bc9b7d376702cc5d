//! Undoing what a process added to iptables, from two `iptables-save`
//! dumps (before and after). Pure text work, so it is unit-tested; the
//! commands are applied by [`super::bridge`].
//!
//! Only what `ours` claims is undone: other processes on the machine may
//! add rules meanwhile, and those must survive.

use std::collections::BTreeMap;

/// One table of a dump: its chains (name, policy; `-` for user chains) and
/// its rules (each `-A ...` line without the `-A `), in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// `(name, policy)` in dump order.
    pub chains: Vec<(String, String)>,
    /// Rule specs, e.g. `FORWARD -o br0 -j DOCKER`.
    pub rules: Vec<String>,
}

/// A parsed `iptables-save` dump: table name to [`Table`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dump {
    /// The tables, by name (`filter`, `nat`, ...).
    pub tables: BTreeMap<String, Table>,
}

impl Dump {
    /// Parses `iptables-save` output (comments, counters and `COMMIT` are
    /// skipped).
    pub fn parse(text: &str) -> Dump {
        let mut dump = Dump::default();
        let mut current: Option<&mut Table> = None;
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('*') {
                current = Some(dump.tables.entry(name.to_owned()).or_default());
            } else if let (Some(chain), Some(table)) = (line.strip_prefix(':'), current.as_mut()) {
                let mut words = chain.split_whitespace();
                if let (Some(name), Some(policy)) = (words.next(), words.next()) {
                    table.chains.push((name.to_owned(), policy.to_owned()));
                }
            } else if let (Some(rule), Some(table)) = (line.strip_prefix("-A "), current.as_mut()) {
                table.rules.push(rule.to_owned());
            }
        }
        dump
    }

    fn policy(&self, table: &str, chain: &str) -> Option<&str> {
        self.tables
            .get(table)?
            .chains
            .iter()
            .find(|(name, _)| name == chain)
            .map(|(_, policy)| policy.as_str())
    }

    /// Whether `table` exists and holds no rule at all.
    pub fn is_empty_table(&self, table: &str) -> bool {
        self.tables.get(table).is_some_and(|t| t.rules.is_empty())
    }
}

/// The `iptables-restore --noflush` script that undoes, in `after`, what
/// was added since `before` and `ours` claims (it is given each added rule
/// spec, `CHAIN args...`, and each added chain's name): deletes those
/// rules (newest first), then those chains, and puts back builtin chain
/// policies that changed (to ACCEPT, the kernel's default, for a table
/// that did not exist before). Empty when there is nothing to undo.
pub fn undo_script(before: &Dump, after: &Dump, ours: impl Fn(&str) -> bool) -> String {
    let mut script = String::new();
    for (name, table) in &after.tables {
        let old = before.tables.get(name);
        let mut lines = Vec::new();
        // Rules may repeat; each old copy cancels one new copy.
        let mut old_rules: Vec<&String> = old.map(|t| t.rules.iter().collect()).unwrap_or_default();
        let mut added = Vec::new();
        for rule in &table.rules {
            if let Some(i) = old_rules.iter().position(|r| *r == rule) {
                old_rules.swap_remove(i);
            } else if ours(rule) {
                added.push(rule);
            }
        }
        lines.extend(added.iter().rev().map(|rule| format!("-D {rule}")));
        for (chain, policy) in &table.chains {
            match before.policy(name, chain) {
                None if policy == "-" && ours(chain) => lines.push(format!("-X {chain}")),
                None if policy != "-" && policy != "ACCEPT" => {
                    lines.push(format!("-P {chain} ACCEPT"));
                }
                Some(old) if old != "-" && old != policy => {
                    lines.push(format!("-P {chain} {old}"));
                }
                _ => {}
            }
        }
        if !lines.is_empty() {
            script += &format!("*{name}\n{}\nCOMMIT\n", lines.join("\n"));
        }
    }
    script
}

/// The tables of `after` that `before` did not have.
pub fn new_tables(before: &Dump, after: &Dump) -> Vec<String> {
    after
        .tables
        .keys()
        .filter(|name| !before.tables.contains_key(*name))
        .cloned()
        .collect()
}

/// The rules and chains of `dump` that `ours` claims, as `table: spec`
/// lines: what should be gone after an undo.
pub fn leftovers(dump: &Dump, ours: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    for (name, table) in &dump.tables {
        let chains = table
            .chains
            .iter()
            .filter(|(chain, policy)| policy == "-" && ours(chain))
            .map(|(chain, _)| format!("{name}: chain {chain}"));
        let rules = table
            .rules
            .iter()
            .filter(|rule| ours(rule))
            .map(|rule| format!("{name}: -A {rule}"));
        out.extend(chains.chain(rules));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "\
# Generated by iptables-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:MINE - [0:0]
-A INPUT -m comment --comment \"keep me\" -j MINE
COMMIT
";

    const AFTER: &str = "\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:MINE - [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
:OTHER - [0:0]
-A INPUT -m comment --comment \"keep me\" -j MINE
-A FORWARD -j DOCKER-USER
-A FORWARD -o berthbench0 -j DOCKER
-A FORWARD -j OTHER
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A POSTROUTING -s 10.213.37.0/24 ! -o berthbench0 -j MASQUERADE
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
COMMIT
";

    fn ours(spec: &str) -> bool {
        spec.contains("DOCKER") || spec.contains("berthbench0")
    }

    #[test]
    fn parses_chains_policies_and_rules() {
        let dump = Dump::parse(BEFORE);
        let filter = &dump.tables["filter"];
        assert_eq!(filter.chains.len(), 4);
        assert_eq!(filter.chains[3], ("MINE".into(), "-".into()));
        assert_eq!(
            filter.rules,
            ["INPUT -m comment --comment \"keep me\" -j MINE"]
        );
        assert_eq!(dump.policy("filter", "FORWARD"), Some("ACCEPT"));
        assert!(!dump.is_empty_table("filter"));
        assert!(!dump.is_empty_table("nat"));
    }

    #[test]
    fn undoes_only_what_is_ours_newest_first() {
        let (before, after) = (Dump::parse(BEFORE), Dump::parse(AFTER));
        assert_eq!(
            undo_script(&before, &after, ours),
            "*filter\n\
             -D DOCKER-USER -j RETURN\n\
             -D FORWARD -o berthbench0 -j DOCKER\n\
             -D FORWARD -j DOCKER-USER\n\
             -P FORWARD ACCEPT\n\
             -X DOCKER\n\
             -X DOCKER-USER\n\
             COMMIT\n\
             *nat\n\
             -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n\
             -D POSTROUTING -s 10.213.37.0/24 ! -o berthbench0 -j MASQUERADE\n\
             -X DOCKER\n\
             COMMIT\n"
        );
        assert_eq!(new_tables(&before, &after), ["nat"]);
        let left = leftovers(&after, ours);
        assert_eq!(left.len(), 8, "{left:?}");
        assert!(leftovers(&before, ours).is_empty());
    }

    #[test]
    fn restores_a_policy_changed_from_drop_and_keeps_repeated_rules() {
        let before = Dump::parse("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -j DOCKER\nCOMMIT\n");
        let after = Dump::parse(
            "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j DOCKER\n-A FORWARD -j DOCKER\nCOMMIT\n",
        );
        assert_eq!(
            undo_script(&before, &after, ours),
            "*filter\n-D FORWARD -j DOCKER\n-P FORWARD DROP\nCOMMIT\n"
        );
        assert_eq!(undo_script(&after, &after, ours), "");
    }
}
