//! berthd's settings: dockerd's flags (`--data-root`, `--exec-root`,
//! `-H/--host`, `--pidfile`, `--insecure-registry`, `--debug`,
//! `--log-level`), optionally from a JSON config file with dockerd's
//! `daemon.json` keys. As dockerd does, a setting given both as a flag and
//! in the file is an error naming it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the daemon listens: `unix://PATH`, `tcp://HOST:PORT` or `fd://`
/// (socket activation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A unix socket path.
    Unix(PathBuf),
    /// A TCP address (`host:port`).
    Tcp(String),
    /// Sockets handed over by systemd (`LISTEN_FDS`); `fd://` means all.
    Fd(Option<u32>),
}

impl ListenAddr {
    /// Parses one `-H` value as dockerd does (`unix://` with no path is the
    /// default socket; `tcp://` needs a port).
    pub fn parse(s: &str) -> Result<ListenAddr, String> {
        if let Some(path) = s.strip_prefix("unix://") {
            let path = if path.is_empty() {
                DEFAULT_SOCKET
            } else {
                path
            };
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = s.strip_prefix("tcp://") {
            let ok = addr
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(format!("Invalid bind address format: {s}"));
            }
            return Ok(ListenAddr::Tcp(addr.to_string()));
        }
        if let Some(fd) = s.strip_prefix("fd://") {
            if fd.is_empty() {
                return Ok(ListenAddr::Fd(None));
            }
            return fd
                .parse()
                .map(|n| ListenAddr::Fd(Some(n)))
                .map_err(|_| format!("Invalid bind address format: {s}"));
        }
        Err(format!("Invalid bind address format: {s}"))
    }
}

/// The default API socket.
pub const DEFAULT_SOCKET: &str = "/run/berth.sock";
/// The default data root.
pub const DEFAULT_DATA_ROOT: &str = "/var/lib/berth";
/// The default exec root.
pub const DEFAULT_EXEC_ROOT: &str = "/run/berth";
/// The default pidfile.
pub const DEFAULT_PIDFILE: &str = "/run/berthd.pid";

/// What the flags said (each `None` when not given).
#[derive(Debug, Clone, Default)]
pub struct FlagValues {
    /// `--data-root`.
    pub data_root: Option<PathBuf>,
    /// `--exec-root`.
    pub exec_root: Option<PathBuf>,
    /// `-H/--host`, repeatable.
    pub hosts: Vec<String>,
    /// `--pidfile`.
    pub pidfile: Option<PathBuf>,
    /// `--insecure-registry`, repeatable.
    pub insecure_registries: Vec<String>,
    /// `-D/--debug`.
    pub debug: bool,
    /// `-l/--log-level`.
    pub log_level: Option<String>,
    /// `--max-concurrent-downloads`.
    pub max_concurrent_downloads: Option<usize>,
}

/// The config file (dockerd's `daemon.json` keys).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileValues {
    /// `data-root`.
    pub data_root: Option<PathBuf>,
    /// `exec-root`.
    pub exec_root: Option<PathBuf>,
    /// `hosts`.
    pub hosts: Option<Vec<String>>,
    /// `pidfile`.
    pub pidfile: Option<PathBuf>,
    /// `insecure-registries`.
    pub insecure_registries: Option<Vec<String>>,
    /// `debug`.
    pub debug: Option<bool>,
    /// `log-level`.
    pub log_level: Option<String>,
    /// `max-concurrent-downloads`.
    pub max_concurrent_downloads: Option<usize>,
}

/// The daemon's effective settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonOptions {
    /// Persistent state: containers, images, volumes.
    pub data_root: PathBuf,
    /// Runtime state: shim sockets, bundles.
    pub exec_root: PathBuf,
    /// API listeners.
    pub hosts: Vec<ListenAddr>,
    /// The pidfile (also the lock that keeps a second daemon off the data root).
    pub pidfile: PathBuf,
    /// Registries reached over plain HTTP besides loopback.
    pub insecure_registries: Vec<String>,
    /// `debug`, `info`, `warn`, `error`, `fatal`.
    pub log_level: String,
    /// Layers downloaded at once per pull.
    pub max_concurrent_downloads: usize,
    /// The default bridge and NAT (`--bridge`, `--bip`, `--iptables`).
    pub network: crate::daemon::NetworkOptions,
}

impl DaemonOptions {
    /// Merges flags with the config file (which may be absent). A setting
    /// in both is dockerd's error.
    pub fn resolve(flags: FlagValues, file: Option<FileValues>) -> Result<DaemonOptions, String> {
        let file = file.unwrap_or_default();
        let mut both = Vec::new();
        let mut pick = |name: &str, flag: bool, in_file: bool| {
            if flag && in_file {
                both.push(name.to_string());
            }
        };
        pick(
            "data-root",
            flags.data_root.is_some(),
            file.data_root.is_some(),
        );
        pick(
            "exec-root",
            flags.exec_root.is_some(),
            file.exec_root.is_some(),
        );
        pick("hosts", !flags.hosts.is_empty(), file.hosts.is_some());
        pick("pidfile", flags.pidfile.is_some(), file.pidfile.is_some());
        pick(
            "insecure-registries",
            !flags.insecure_registries.is_empty(),
            file.insecure_registries.is_some(),
        );
        pick("debug", flags.debug, file.debug.is_some());
        pick(
            "log-level",
            flags.log_level.is_some(),
            file.log_level.is_some(),
        );
        pick(
            "max-concurrent-downloads",
            flags.max_concurrent_downloads.is_some(),
            file.max_concurrent_downloads.is_some(),
        );
        if !both.is_empty() {
            return Err(format!(
                "the following directives are specified both as a flag and in the configuration file: {}",
                both.join(", ")
            ));
        }
        let hosts: Vec<String> = if !flags.hosts.is_empty() {
            flags.hosts
        } else {
            file.hosts.unwrap_or_default()
        };
        let hosts = if hosts.is_empty() {
            vec![ListenAddr::Unix(PathBuf::from(DEFAULT_SOCKET))]
        } else {
            hosts
                .iter()
                .map(|h| ListenAddr::parse(h))
                .collect::<Result<_, _>>()?
        };
        let debug = flags.debug || file.debug.unwrap_or(false);
        let log_level = flags
            .log_level
            .or(file.log_level)
            .unwrap_or_else(|| if debug { "debug" } else { "info" }.to_string());
        if !["debug", "info", "warn", "error", "fatal"].contains(&log_level.as_str()) {
            return Err(format!("unable to parse logging level: {log_level}"));
        }
        let max = flags
            .max_concurrent_downloads
            .or(file.max_concurrent_downloads)
            .unwrap_or(3);
        if max == 0 {
            return Err("invalid max concurrent downloads: 0".into());
        }
        let absolute = |p: PathBuf, what: &str| -> Result<PathBuf, String> {
            if p.is_absolute() {
                Ok(p)
            } else {
                Err(format!("{what} must be an absolute path: {}", p.display()))
            }
        };
        Ok(DaemonOptions {
            network: crate::daemon::NetworkOptions::default(),
            data_root: absolute(
                flags
                    .data_root
                    .or(file.data_root)
                    .unwrap_or_else(|| DEFAULT_DATA_ROOT.into()),
                "data-root",
            )?,
            exec_root: absolute(
                flags
                    .exec_root
                    .or(file.exec_root)
                    .unwrap_or_else(|| DEFAULT_EXEC_ROOT.into()),
                "exec-root",
            )?,
            hosts,
            pidfile: flags
                .pidfile
                .or(file.pidfile)
                .unwrap_or_else(|| DEFAULT_PIDFILE.into()),
            insecure_registries: if flags.insecure_registries.is_empty() {
                file.insecure_registries.unwrap_or_default()
            } else {
                flags.insecure_registries
            },
            log_level,
            max_concurrent_downloads: max,
        })
    }
}

/// Reads a JSON config file; `Ok(None)` when it does not exist and was not
/// asked for explicitly.
pub fn read_config_file(path: &Path, explicit: bool) -> Result<Option<FileValues>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => {
            return Err(format!(
                "unable to configure the daemon with file {}: {e}",
                path.display()
            ))
        }
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        format!(
            "unable to configure the daemon with file {}: {e}",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_config() {
        let o = DaemonOptions::resolve(FlagValues::default(), None).unwrap();
        assert_eq!(o.data_root, Path::new(DEFAULT_DATA_ROOT));
        assert_eq!(o.hosts, [ListenAddr::Unix(DEFAULT_SOCKET.into())]);
        assert_eq!(o.log_level, "info");
        assert_eq!(o.max_concurrent_downloads, 3);
    }

    #[test]
    fn hosts_parse_like_dockerd() {
        assert_eq!(
            ListenAddr::parse("tcp://127.0.0.1:2375").unwrap(),
            ListenAddr::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            ListenAddr::parse("unix:///tmp/x.sock").unwrap(),
            ListenAddr::Unix("/tmp/x.sock".into())
        );
        assert_eq!(ListenAddr::parse("fd://").unwrap(), ListenAddr::Fd(None));
        assert_eq!(
            ListenAddr::parse("fd://3").unwrap(),
            ListenAddr::Fd(Some(3))
        );
        for bad in ["tcp://nohost", "http://x:1", "tcp://:99999", "fd://x"] {
            assert!(ListenAddr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_setting_in_both_places_is_refused() {
        let flags = FlagValues {
            data_root: Some("/a".into()),
            debug: true,
            ..Default::default()
        };
        let file: FileValues = serde_json::from_str(r#"{"data-root":"/b","debug":false}"#).unwrap();
        let err = DaemonOptions::resolve(flags, Some(file)).unwrap_err();
        assert_eq!(err, "the following directives are specified both as a flag and in the configuration file: data-root, debug");
    }

    #[test]
    fn the_file_fills_in_and_unknown_keys_are_errors() {
        let file: FileValues = serde_json::from_str(
            r#"{"exec-root":"/x","insecure-registries":["r:5000"],"log-level":"warn"}"#,
        )
        .unwrap();
        let o = DaemonOptions::resolve(FlagValues::default(), Some(file)).unwrap();
        assert_eq!(o.exec_root, Path::new("/x"));
        assert_eq!(o.insecure_registries, ["r:5000"]);
        assert_eq!(o.log_level, "warn");
        assert!(serde_json::from_str::<FileValues>(r#"{"bogus":1}"#).is_err());
        let bad = DaemonOptions::resolve(
            FlagValues {
                data_root: Some("rel".into()),
                ..Default::default()
            },
            None,
        );
        assert!(bad.unwrap_err().contains("absolute"));
    }
}
