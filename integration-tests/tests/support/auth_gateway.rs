//! An authenticating front for the real test registry, the way Docker Hub
//! puts a token service in front of its registry: it answers 401 with a
//! `Basic` or `Bearer` challenge, runs the token endpoint for `Bearer`, and
//! forwards authorized requests to the registry (one request per
//! connection, `Connection: close`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use base64::Engine as _;

/// Which challenge the gateway issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// HTTP basic auth on every request.
    Basic,
    /// Bearer tokens from `/token`, which wants basic credentials.
    Bearer,
}

struct Config {
    upstream: String,
    mode: AuthMode,
    basic: String,
    token: String,
    port: u16,
    authorized: AtomicUsize,
    stopping: AtomicBool,
}

/// The gateway; stops accepting on drop.
pub struct AuthGateway {
    config: Arc<Config>,
}

impl AuthGateway {
    /// Fronts `upstream` (`host:port`) on a free 127.0.0.1 port, accepting
    /// `user`/`password`.
    pub fn start(upstream: &str, mode: AuthMode, user: &str, password: &str) -> AuthGateway {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind gateway");
        let port = listener.local_addr().expect("addr").port();
        let config = Arc::new(Config {
            upstream: upstream.to_string(),
            mode,
            basic: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
            token: format!("tok-{}-{port}", std::process::id()),
            port,
            authorized: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        });
        let cfg = config.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if cfg.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let cfg = cfg.clone();
                thread::spawn(move || {
                    let _ = serve(conn, &cfg);
                });
            }
        });
        AuthGateway { config }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.config.port)
    }

    /// How many requests were let through with valid credentials.
    pub fn authorized_requests(&self) -> usize {
        self.config.authorized.load(Ordering::SeqCst)
    }
}

impl Drop for AuthGateway {
    fn drop(&mut self) {
        self.config.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.config.port));
    }
}

fn respond(
    conn: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &str,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\nContent-Type: application/json\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body.as_bytes())
}

fn serve(mut conn: TcpStream, cfg: &Config) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let header = |name: &str| -> Option<String> {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let auth = header("Authorization").unwrap_or_default();
    let unauthorized =
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;

    if cfg.mode == AuthMode::Bearer && path.starts_with("/token") {
        if auth != cfg.basic {
            return respond(&mut conn, "401 Unauthorized", &[], unauthorized);
        }
        let body = format!(
            r#"{{"token":"{0}","access_token":"{0}","expires_in":300}}"#,
            cfg.token
        );
        return respond(&mut conn, "200 OK", &[], &body);
    }
    let (ok, challenge) = match cfg.mode {
        AuthMode::Basic => (auth == cfg.basic, r#"Basic realm="berth-test""#.to_string()),
        AuthMode::Bearer => (
            auth == format!("Bearer {}", cfg.token),
            format!(
                r#"Bearer realm="http://127.0.0.1:{}/token",service="berth-test""#,
                cfg.port
            ),
        ),
    };
    if !ok {
        return respond(
            &mut conn,
            "401 Unauthorized",
            &[
                ("WWW-Authenticate", challenge),
                ("Docker-Distribution-Api-Version", "registry/2.0".into()),
            ],
            unauthorized,
        );
    }
    cfg.authorized.fetch_add(1, Ordering::SeqCst);
    let mut upstream = TcpStream::connect(&cfg.upstream)?;
    let mut forwarded = request_line.clone();
    let mut seen = HashMap::new();
    for (k, v) in &headers {
        let lower = k.to_ascii_lowercase();
        if lower == "authorization" || lower == "connection" || lower == "host" {
            continue;
        }
        seen.insert(lower, ());
        forwarded.push_str(&format!("{k}: {v}\r\n"));
    }
    forwarded.push_str(&format!(
        "Host: {}\r\nConnection: close\r\n\r\n",
        cfg.upstream
    ));
    upstream.write_all(forwarded.as_bytes())?;
    let mut body = Vec::new();
    upstream.read_to_end(&mut body)?;
    conn.write_all(&body)
}
