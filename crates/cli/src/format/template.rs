//! The part of Go's `text/template` that `docker ... --format` uses, over
//! JSON values: `{{.Field.Sub}}`, pipelines (`{{.Names | json}}`), Docker's
//! functions (`json`, `join`, `split`, `lower`, `upper`, `title`, `pad`,
//! `truncate`, `println`) and Go's (`len`, `index`, `eq`, `ne`, `lt`,
//! `gt`, `le`, `ge`, `not`, `and`, `or`, `print`, `printf` with `%s %d %v
//! %q`), `if` / `else if` / `else`, `range` (with `$i, $v :=`), `with`,
//! variables, string and number literals, and `{{-` / `-}}` trimming.
//! Values print as Go prints them (`[a b]`, `map[k:v]`, `<no value>`).

use serde_json::{Map, Value};

/// A template that failed to parse or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {0}")]
pub struct TemplateError(pub String);

type Result<T> = std::result::Result<T, TemplateError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(TemplateError(msg.into()))
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(Pipeline),
    If(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    Range(
        Option<(String, Option<String>)>,
        Pipeline,
        Vec<Node>,
        Vec<Node>,
    ),
    With(Pipeline, Vec<Node>, Vec<Node>),
}

#[derive(Debug, Clone)]
struct Pipeline {
    /// `$x :=` at its start.
    decl: Option<String>,
    cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// `.A.B` (empty path: `.`).
    Field(Vec<String>),
    /// `$x.A` (`$` alone is the root).
    Var(String, Vec<String>),
    Ident(String),
    Lit(Value),
    Sub(Pipeline),
}

impl Template {
    /// Parses `src`.
    pub fn parse(src: &str) -> Result<Template> {
        let tokens = split_actions(src)?;
        let mut pos = 0;
        let (nodes, end) = parse_nodes(&tokens, &mut pos)?;
        if let Some(e) = end {
            return err(format!("unexpected {{{{{e}}}}}"));
        }
        Ok(Template { nodes })
    }

    /// Runs the template with `dot` as `.`.
    pub fn render(&self, dot: &Value) -> Result<String> {
        let mut out = String::new();
        let mut vars = vec![("$".to_string(), dot.clone())];
        exec_nodes(&self.nodes, dot, &mut vars, &mut out)?;
        Ok(out)
    }
}

/// A piece of the source: text, or the inside of an action.
#[derive(Debug)]
enum Piece {
    Text(String),
    Action(String),
}

fn split_actions(src: &str) -> Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        let mut text = rest[..start].to_string();
        let mut inner = &rest[start + 2..];
        if inner.starts_with("- ") || inner.starts_with("-\t") || inner.starts_with("-\n") {
            text = text.trim_end().to_string();
            inner = &inner[1..];
        }
        let end = find_action_end(inner).ok_or_else(|| TemplateError("unclosed action".into()))?;
        let mut action = &inner[..end];
        let mut after = &inner[end + 2..];
        if action.ends_with(" -") || action.ends_with("\t-") || action.ends_with("\n-") {
            action = &action[..action.len() - 1];
            after = after.trim_start();
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let action = action.trim();
        if !action.starts_with("/*") {
            pieces.push(Piece::Action(action.to_string()));
        }
        rest = after;
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

/// The `}}` ending an action, skipping string literals.
fn find_action_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if b[i + 1] == b'}' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses nodes until `{{end}}` / `{{else ...}}`; returns which ended it.
fn parse_nodes(pieces: &[Piece], pos: &mut usize) -> Result<(Vec<Node>, Option<String>)> {
    let mut nodes = Vec::new();
    while *pos < pieces.len() {
        let piece = &pieces[*pos];
        *pos += 1;
        let action = match piece {
            Piece::Text(t) => {
                nodes.push(Node::Text(t.clone()));
                continue;
            }
            Piece::Action(a) => a.as_str(),
        };
        let (word, rest) = match action.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (action, ""),
        };
        match word {
            "end" => return Ok((nodes, Some("end".into()))),
            "else" => return Ok((nodes, Some(format!("else {rest}").trim().to_string()))),
            "if" => {
                let mut branches = Vec::new();
                let mut cond = parse_pipeline(rest)?;
                let mut otherwise = Vec::new();
                loop {
                    let (body, end) = parse_nodes(pieces, pos)?;
                    branches.push((cond, body));
                    match end.as_deref() {
                        Some("end") => break,
                        Some("else") => {
                            let (body, end) = parse_nodes(pieces, pos)?;
                            if end.as_deref() != Some("end") {
                                return err("if: else without end");
                            }
                            otherwise = body;
                            break;
                        }
                        Some(e) if e.starts_with("else if ") => {
                            cond = parse_pipeline(&e["else if ".len()..])?;
                        }
                        _ => return err("if without end"),
                    }
                }
                nodes.push(Node::If(branches, otherwise));
            }
            "range" | "with" => {
                let (vars, pipe_src) = range_vars(rest);
                let pipe = parse_pipeline(pipe_src)?;
                let (body, end) = parse_nodes(pieces, pos)?;
                let otherwise = match end.as_deref() {
                    Some("end") => Vec::new(),
                    Some("else") => {
                        let (b, e) = parse_nodes(pieces, pos)?;
                        if e.as_deref() != Some("end") {
                            return err(format!("{word}: else without end"));
                        }
                        b
                    }
                    _ => return err(format!("{word} without end")),
                };
                nodes.push(if word == "range" {
                    Node::Range(vars, pipe, body, otherwise)
                } else {
                    Node::With(pipe, body, otherwise)
                });
            }
            _ => nodes.push(Node::Action(parse_pipeline(action)?)),
        }
    }
    Ok((nodes, None))
}

/// `$i, $v := pipeline` or `$v := pipeline` at the start of a range.
fn range_vars(s: &str) -> (Option<(String, Option<String>)>, &str) {
    if let Some((lhs, rhs)) = s.split_once(":=") {
        let names: Vec<&str> = lhs.split(',').map(str::trim).collect();
        if names.iter().all(|n| n.starts_with('$')) {
            let vars = match names.as_slice() {
                [v] => Some((v.to_string(), None)),
                [k, v] => Some((k.to_string(), Some(v.to_string()))),
                _ => None,
            };
            return (vars, rhs.trim());
        }
    }
    (None, s)
}

/// Tokens of a pipeline.
fn lex(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= chars.len() {
                return err("unterminated quoted string");
            }
            i += 1;
            out.push(chars[start..i].iter().collect());
        } else if c == '`' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '`' {
                i += 1;
            }
            if i >= chars.len() {
                return err("unterminated raw quoted string");
            }
            i += 1;
            out.push(chars[start..i].iter().collect());
        } else if matches!(c, '|' | '(' | ')') {
            out.push(c.to_string());
            i += 1;
        } else if c == ':' && chars.get(i + 1) == Some(&'=') {
            out.push(":=".into());
            i += 2;
        } else {
            let start = i;
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !matches!(chars[i], '|' | '(' | ')')
            {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        }
    }
    Ok(out)
}

fn parse_pipeline(s: &str) -> Result<Pipeline> {
    let tokens = lex(s)?;
    let mut pos = 0;
    let p = parse_tokens(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return err(format!("unexpected {:?} in {s:?}", tokens[pos]));
    }
    Ok(p)
}

fn parse_tokens(tokens: &[String], pos: &mut usize) -> Result<Pipeline> {
    let mut decl = None;
    if tokens.len() > *pos + 1 && tokens[*pos].starts_with('$') && tokens[*pos + 1] == ":=" {
        decl = Some(tokens[*pos].clone());
        *pos += 2;
    }
    let mut cmds = vec![Vec::new()];
    while *pos < tokens.len() {
        let t = tokens[*pos].as_str();
        match t {
            ")" => break,
            "|" => {
                *pos += 1;
                cmds.push(Vec::new());
            }
            "(" => {
                *pos += 1;
                let sub = parse_tokens(tokens, pos)?;
                if tokens.get(*pos).map(String::as_str) != Some(")") {
                    return err("unclosed (");
                }
                *pos += 1;
                cmds.last_mut().unwrap().push(Arg::Sub(sub));
            }
            _ => {
                cmds.last_mut().unwrap().push(parse_arg(t)?);
                *pos += 1;
            }
        }
    }
    if cmds.iter().any(Vec::is_empty) {
        return err("missing value for command");
    }
    Ok(Pipeline { decl, cmds })
}

fn parse_arg(t: &str) -> Result<Arg> {
    if t == "." {
        return Ok(Arg::Field(Vec::new()));
    }
    if let Some(path) = t.strip_prefix('.') {
        return Ok(Arg::Field(path.split('.').map(str::to_string).collect()));
    }
    if t.starts_with('$') {
        let mut parts = t.split('.');
        let name = parts.next().unwrap_or("$").to_string();
        return Ok(Arg::Var(name, parts.map(str::to_string).collect()));
    }
    if t.starts_with('"') {
        let s: String =
            serde_json::from_str(t).map_err(|e| TemplateError(format!("bad string {t}: {e}")))?;
        return Ok(Arg::Lit(Value::String(s)));
    }
    if let Some(raw) = t.strip_prefix('`') {
        return Ok(Arg::Lit(Value::String(
            raw.trim_end_matches('`').to_string(),
        )));
    }
    match t {
        "true" => return Ok(Arg::Lit(Value::Bool(true))),
        "false" => return Ok(Arg::Lit(Value::Bool(false))),
        "nil" => return Ok(Arg::Lit(Value::Null)),
        _ => {}
    }
    if let Ok(n) = t.parse::<i64>() {
        return Ok(Arg::Lit(Value::from(n)));
    }
    if let Ok(f) = t.parse::<f64>() {
        return Ok(Arg::Lit(Value::from(f)));
    }
    if t.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Ok(Arg::Ident(t.to_string()));
    }
    err(format!("unexpected {t:?}"))
}

type Vars = Vec<(String, Value)>;

fn exec_nodes(nodes: &[Node], dot: &Value, vars: &mut Vars, out: &mut String) -> Result<()> {
    for node in nodes {
        let depth = vars.len();
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => {
                let v = eval_pipeline(p, dot, vars)?;
                if p.decl.is_none() {
                    out.push_str(&print(&v));
                }
                // A declaration lives to the end of the enclosing block.
                continue;
            }
            Node::If(branches, otherwise) => {
                let mut done = false;
                for (cond, body) in branches {
                    if truthy(&eval_pipeline(cond, dot, vars)?) {
                        exec_nodes(body, dot, vars, out)?;
                        done = true;
                        break;
                    }
                }
                if !done {
                    exec_nodes(otherwise, dot, vars, out)?;
                }
            }
            Node::With(p, body, otherwise) => {
                let v = eval_pipeline(p, dot, vars)?;
                if truthy(&v) {
                    exec_nodes(body, &v, vars, out)?;
                } else {
                    exec_nodes(otherwise, dot, vars, out)?;
                }
            }
            Node::Range(decl, p, body, otherwise) => {
                let v = eval_pipeline(p, dot, vars)?;
                let items: Vec<(Value, Value)> = match &v {
                    Value::Array(a) => a
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (Value::from(i), x.clone()))
                        .collect(),
                    Value::Object(m) => m
                        .iter()
                        .map(|(k, x)| (Value::String(k.clone()), x.clone()))
                        .collect(),
                    Value::Null => Vec::new(),
                    other => return err(format!("range can't iterate over {}", print(other))),
                };
                if items.is_empty() {
                    exec_nodes(otherwise, dot, vars, out)?;
                }
                for (key, item) in items {
                    match decl {
                        Some((v, None)) => vars.push((v.clone(), item.clone())),
                        Some((k, Some(v))) => {
                            vars.push((k.clone(), key));
                            vars.push((v.clone(), item.clone()));
                        }
                        None => {}
                    }
                    exec_nodes(body, &item, vars, out)?;
                    vars.truncate(depth);
                }
            }
        }
        vars.truncate(depth);
    }
    Ok(())
}

fn eval_pipeline(p: &Pipeline, dot: &Value, vars: &mut Vars) -> Result<Value> {
    let mut prev: Option<Value> = None;
    for cmd in &p.cmds {
        prev = Some(eval_command(cmd, dot, vars, prev)?);
    }
    let v = prev.unwrap_or(Value::Null);
    if let Some(name) = &p.decl {
        vars.push((name.clone(), v.clone()));
    }
    Ok(v)
}

fn eval_command(cmd: &[Arg], dot: &Value, vars: &mut Vars, piped: Option<Value>) -> Result<Value> {
    if let Arg::Ident(name) = &cmd[0] {
        let mut args = cmd[1..]
            .iter()
            .map(|a| eval_arg(a, dot, vars))
            .collect::<Result<Vec<_>>>()?;
        if let Some(p) = piped {
            args.push(p);
        }
        return call(name, args);
    }
    if cmd.len() > 1 || piped.is_some() {
        return err("can't give arguments to a non-function");
    }
    eval_arg(&cmd[0], dot, vars)
}

fn eval_arg(a: &Arg, dot: &Value, vars: &mut Vars) -> Result<Value> {
    match a {
        Arg::Field(path) => Ok(walk(dot, path)),
        Arg::Var(name, path) => {
            let v = vars
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| TemplateError(format!("undefined variable {name:?}")))?;
            Ok(walk(&v, path))
        }
        Arg::Lit(v) => Ok(v.clone()),
        Arg::Sub(p) => eval_pipeline(p, dot, vars),
        Arg::Ident(name) => call(name, Vec::new()),
    }
}

/// Follows `.A.B`; a missing key is "no value" (Go's default for maps).
fn walk(v: &Value, path: &[String]) -> Value {
    let mut cur = v;
    for key in path {
        match cur.get(key.as_str()) {
            Some(next) => cur = next,
            None => return Value::Null,
        }
    }
    cur.clone()
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// A value as Go's `fmt.Print` shows the value decoded from JSON.
pub fn print(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                let f = n.as_f64().unwrap_or_default();
                if f.fract() == 0.0 && f.abs() < 1e21 {
                    format!("{f:.0}")
                } else {
                    f.to_string()
                }
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(print_inner).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(m) => print_map(m),
    }
}

fn print_inner(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        other => print(other),
    }
}

fn print_map(m: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let items: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{k}:{}", print_inner(&m[k])))
        .collect();
    format!("map[{}]", items.join(" "))
}

fn as_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => print(other),
    }
}

fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Ok(x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => err("incompatible types for comparison"),
    }
}

fn arity(name: &str, args: &[Value], n: usize) -> Result<()> {
    if args.len() != n {
        return err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn call(name: &str, args: Vec<Value>) -> Result<Value> {
    use std::cmp::Ordering::*;
    let s = |v: &Value| as_str(v);
    Ok(match name {
        "json" => {
            arity(name, &args, 1)?;
            Value::String(serde_json::to_string(&args[0]).unwrap_or_default())
        }
        "join" => {
            arity(name, &args, 2)?;
            let items: Vec<String> = match &args[0] {
                Value::Array(a) => a.iter().map(as_str).collect(),
                Value::Null => Vec::new(),
                other => vec![as_str(other)],
            };
            Value::String(items.join(&s(&args[1])))
        }
        "split" => {
            arity(name, &args, 2)?;
            let sep = s(&args[1]);
            Value::Array(
                s(&args[0])
                    .split(sep.as_str())
                    .map(|p| Value::String(p.into()))
                    .collect(),
            )
        }
        "lower" => Value::String(s(args.first().unwrap_or(&Value::Null)).to_lowercase()),
        "upper" => Value::String(s(args.first().unwrap_or(&Value::Null)).to_uppercase()),
        "title" => {
            let text = s(args.first().unwrap_or(&Value::Null));
            let mut out = String::new();
            let mut start = true;
            for c in text.chars() {
                if start {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = c.is_whitespace();
            }
            Value::String(out)
        }
        "pad" => {
            arity(name, &args, 3)?;
            let n = |v: &Value| v.as_u64().unwrap_or(0) as usize;
            let text = s(&args[0]);
            Value::String(format!(
                "{}{text}{}",
                " ".repeat(n(&args[1])),
                " ".repeat(n(&args[2]))
            ))
        }
        "truncate" => {
            arity(name, &args, 2)?;
            let n = args[1].as_u64().unwrap_or(0) as usize;
            Value::String(s(&args[0]).chars().take(n).collect())
        }
        "println" => Value::String(format!(
            "{}\n",
            args.iter().map(as_str).collect::<Vec<_>>().join(" ")
        )),
        "print" => Value::String(args.iter().map(as_str).collect::<Vec<_>>().join(" ")),
        "printf" => {
            let fmt = s(args
                .first()
                .ok_or_else(|| TemplateError("printf: no format".into()))?);
            Value::String(printf(&fmt, &args[1..]))
        }
        "len" => {
            arity(name, &args, 1)?;
            Value::from(match &args[0] {
                Value::Array(a) => a.len(),
                Value::Object(m) => m.len(),
                Value::String(x) => x.len(),
                Value::Null => 0,
                _ => return err("len of a non-collection"),
            })
        }
        "index" => {
            let mut cur = args.first().cloned().unwrap_or(Value::Null);
            for k in args.iter().skip(1) {
                cur = match (&cur, k) {
                    (Value::Array(a), Value::Number(n)) => a
                        .get(n.as_u64().unwrap_or(u64::MAX) as usize)
                        .cloned()
                        .unwrap_or(Value::Null),
                    (Value::Object(m), key) => m.get(&as_str(key)).cloned().unwrap_or(Value::Null),
                    _ => Value::Null,
                };
            }
            cur
        }
        "eq" => Value::Bool(args.len() > 1 && args[1..].iter().any(|b| *b == args[0])),
        "ne" => {
            arity(name, &args, 2)?;
            Value::Bool(args[0] != args[1])
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(name, &args, 2)?;
            let o = compare(&args[0], &args[1])?;
            Value::Bool(match name {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            })
        }
        "not" => Value::Bool(!truthy(args.first().unwrap_or(&Value::Null))),
        "and" => args
            .iter()
            .find(|v| !truthy(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "or" => args
            .iter()
            .find(|v| truthy(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        other => return err(format!("function {other:?} not defined")),
    })
}

/// Go's `Sprintf` for the verbs format strings use in practice.
fn printf(fmt: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut it = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('q') => out.push_str(
                &serde_json::to_string(&as_str(it.next().unwrap_or(&Value::Null)))
                    .unwrap_or_default(),
            ),
            Some(_) => out.push_str(
                &it.next()
                    .map(as_str)
                    .unwrap_or_else(|| "%!(MISSING)".into()),
            ),
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().render(v).unwrap()
    }

    #[test]
    fn fields_pipelines_and_functions() {
        let v = json!({
            "ID": "abc", "Names": ["/web", "/alias"], "State": {"Status": "running", "Pid": 42},
            "Config": {"Labels": {"b": "2", "a": "1"}, "Env": null}, "Size": 1.5
        });
        assert_eq!(render("{{.ID}}\t{{.State.Status}}", &v), "abc\trunning");
        assert_eq!(render("{{.State.Pid}} {{.Size}}", &v), "42 1.5");
        assert_eq!(render("{{json .Names}}", &v), r#"["/web","/alias"]"#);
        assert_eq!(render("{{.Names | json}}", &v), r#"["/web","/alias"]"#);
        assert_eq!(render("{{join .Names \",\"}}", &v), "/web,/alias");
        assert_eq!(render("{{.Names}}", &v), "[/web /alias]");
        assert_eq!(render("{{.Config.Labels}}", &v), "map[a:1 b:2]");
        assert_eq!(render("{{.Nope}}", &v), "<no value>");
        assert_eq!(render("{{index .Config.Labels \"b\"}}", &v), "2");
        assert_eq!(render("{{upper .ID}} {{len .Names}}", &v), "ABC 2");
        assert_eq!(render("{{printf \"%s-%d\" .ID .State.Pid}}", &v), "abc-42");
        assert_eq!(render("{{title \"hello world\"}}", &v), "Hello World");
        assert_eq!(render("{{truncate .ID 2}}", &v), "ab");
        assert_eq!(render("{{(index .Names 0)}}", &v), "/web");
    }

    #[test]
    fn control_flow_and_variables() {
        let v = json!({"Mounts": [{"Source": "/a"}, {"Source": "/b"}], "L": {"x": "1", "y": "2"}, "On": true, "N": 3});
        assert_eq!(render("{{range .Mounts}}{{.Source}};{{end}}", &v), "/a;/b;");
        assert_eq!(
            render("{{range $k, $v := .L}}{{$k}}={{$v}} {{end}}", &v),
            "x=1 y=2 "
        );
        assert_eq!(
            render("{{range $i, $m := .Mounts}}{{$i}}{{$m.Source}}{{end}}", &v),
            "0/a1/b"
        );
        assert_eq!(render("{{range .None}}x{{else}}empty{{end}}", &v), "empty");
        assert_eq!(render("{{if .On}}yes{{else}}no{{end}}", &v), "yes");
        assert_eq!(
            render(
                "{{if eq .N 1}}one{{else if gt .N 2}}big{{else}}small{{end}}",
                &v
            ),
            "big"
        );
        assert_eq!(render("{{with .L}}{{.x}}{{end}}", &v), "1");
        assert_eq!(
            render("{{$n := .N}}{{range .Mounts}}{{$n}}{{end}}", &v),
            "33"
        );
        assert_eq!(render("{{range .Mounts}}{{$.N}}{{end}}", &v), "33");
        assert_eq!(render("a  {{- .N -}}  b", &v), "a3b");
        assert_eq!(render("{{/* note */}}x", &v), "x");
    }

    #[test]
    fn errors_are_clear() {
        for bad in [
            "{{.ID",
            "{{if .X}}x",
            "{{end}}",
            "{{nosuch .X}}",
            "{{\"open}}",
        ] {
            let e = Template::parse(bad).and_then(|t| t.render(&json!({})));
            assert!(e.is_err(), "{bad}");
        }
    }
}
