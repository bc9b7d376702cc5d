//! A user's `--format` as docker/cli's formatter reads it, and rows printed
//! through it: `table ...` gets a header row and aligned columns, `json`
//! is `{{json .}}`, anything else is a template printed once per row.

use serde_json::Value;

use crate::errors::CliError;
use crate::format::table::align;
use crate::format::template::Template;

/// Parses `format`: `json` means `{{json .}}`, and `\t` / `\n` written out
/// are a tab and a newline, as Docker reads them. A template that does not
/// parse is Docker's `template parsing error: ...` (exit 1; inspect
/// callers raise it to 64 as Docker does).
pub fn template(format: &str) -> Result<Template, CliError> {
    let format = if format == "json" {
        "{{json .}}"
    } else {
        format
    };
    Template::parse(&format.replace("\\t", "\t").replace("\\n", "\n"))
        .map_err(|e| CliError::msg(format!("template parsing error: {e}")))
}

/// Renders `rows` through `format`; a `table` format prints `header` (the
/// column titles by field) on top and aligns the columns.
pub fn rows(format: &str, header: &Value, rows: &[Value]) -> Result<String, CliError> {
    let (table, body) = match format.strip_prefix("table") {
        Some(rest) => (true, rest.trim_start()),
        None => (false, format),
    };
    let tmpl = template(body)?;
    let mut out = String::new();
    for row in table.then_some(header).into_iter().chain(rows) {
        out.push_str(&tmpl.render(row).map_err(|e| CliError::msg(e.to_string()))?);
        out.push('\n');
    }
    Ok(if table { align(&out) } else { out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_templates_and_json() {
        let header = json!({"A": "COL A", "B": "B"});
        let rows_in = [json!({"A": "x", "B": "y"}), json!({"A": "long", "B": "z"})];
        assert_eq!(
            rows("table {{.A}}\\t{{.B}}", &header, &rows_in).unwrap(),
            "COL A     B\nx         y\nlong      z\n"
        );
        assert_eq!(rows("{{.A}}", &header, &rows_in).unwrap(), "x\nlong\n");
        assert_eq!(
            rows("json", &header, &rows_in[..1]).unwrap(),
            "{\"A\":\"x\",\"B\":\"y\"}\n"
        );
        assert_eq!(rows("table {{.A}}", &header, &[]).unwrap(), "COL A\n");
        let e = rows("{{.A", &header, &rows_in).unwrap_err();
        assert_eq!(e.status, 1);
        assert!(e.message.unwrap().starts_with("template parsing error: "));
    }
}
