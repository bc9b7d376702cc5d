//! `network ls` output as docker/cli's network formatter prints it:
//! sorted by name (natural order), IDs cut to 12 characters unless
//! `--no-trunc`, the `NETWORK ID  NAME  DRIVER  SCOPE` table by default.

use std::cmp::Ordering;

use berth_api::types::network::NetworkResource;
use serde_json::{json, Value};

use super::args::NetworkLsArgs;
use crate::commands::ps::short_id;
use crate::errors::CliError;
use crate::format::output::rows as render_with_header;

/// docker/cli's default table.
const TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";

/// The format `network ls` prints with: `--format` when given (`table`
/// and `raw` are Docker's names for its own), else the table, or only the
/// IDs with `-q`.
fn format_of(args: &NetworkLsArgs) -> String {
    let source = args.format.as_deref().filter(|f| !f.is_empty());
    match (source.unwrap_or("table"), args.quiet) {
        ("table", true) => "{{.ID}}".into(),
        ("table", false) => TABLE.into(),
        ("raw", true) => "network_id: {{.ID}}".into(),
        ("raw", false) => {
            "network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n".into()
        }
        (f, _) => f.to_string(),
    }
}

/// The text `network ls` prints for `networks`.
pub fn render(
    args: &NetworkLsArgs,
    mut networks: Vec<NetworkResource>,
) -> Result<String, CliError> {
    networks.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    let rows: Vec<Value> = networks.iter().map(|n| row(n, !args.no_trunc)).collect();
    let header = json!({
        "ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
        "IPv4": "IPV4", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
        "CreatedAt": "CREATED AT",
    });
    render_with_header(&format_of(args), &header, &rows)
}

/// The fields a `--format` template sees (docker/cli's `networkContext`),
/// booleans as Go's `%v` prints them.
fn row(n: &NetworkResource, trunc: bool) -> Value {
    let id = if trunc { short_id(&n.id) } else { n.id.clone() };
    let labels: Vec<String> = n
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    json!({
        "ID": id,
        "Name": n.name,
        "Driver": n.driver,
        "Scope": n.scope,
        "IPv4": n.enable_ipv4.to_string(),
        "IPv6": n.enable_ipv6.to_string(),
        "Internal": n.internal.to_string(),
        "Labels": labels.join(","),
        "CreatedAt": go_time_string(&n.created),
    })
}

/// Go's `time.Time.String()` of an RFC 3339 time as the daemon sends it:
/// `2025-01-02 03:04:05.123456789 +0000 UTC` (fraction without trailing
/// zeros; a non-UTC offset is printed twice, as Go names an unnamed zone
/// by its offset). Anything else is shown as given.
pub fn go_time_string(rfc3339: &str) -> String {
    let Some((date, rest)) = rfc3339.split_once('T') else {
        return rfc3339.to_string();
    };
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let clock = match clock.split_once('.') {
        Some((hms, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                hms.to_string()
            } else {
                format!("{hms}.{frac}")
            }
        }
        None => clock.to_string(),
    };
    let zone = match zone {
        "" | "Z" | "z" | "+00:00" => "+0000 UTC".to_string(),
        z => {
            let offset = z.replace(':', "");
            format!("{offset} {offset}")
        }
    };
    format!("{date} {clock} {zone}")
}

/// `sortorder.NaturalLess`: runs of digits compare by value (then by
/// length, fewer leading zeros first), everything else byte by byte.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let si = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let (da, db) = (&a[si..i], &b[sj..j]);
            let (ta, tb) = (trim_zeros(da), trim_zeros(db));
            let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
            let ord = by_value.then_with(|| da.len().cmp(&db.len()));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let start = d.iter().position(|&c| c != b'0').unwrap_or(d.len());
    &d[start..]
}
