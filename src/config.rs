//! Typed configuration: defaults < TOML file (`--config`) < `QUERENT_*` environment < flags.
//!
//! Every setting is listed once in [`SETTINGS`]; environment overrides, flag overrides and the
//! documentation test are all driven by that table, so a setting cannot exist undocumented.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a client proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Anyone may connect as any user; a warning is logged. For local development.
    Trust,
    /// SCRAM-SHA-256 against the users file.
    Scram,
    /// Cleartext password checked against the users file's SCRAM verifier; TLS only.
    Password,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A duration written as `30s`, `250ms`, `5m`, `1h` or a number of seconds; `0` disables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl Dur {
    /// `None` when the duration is zero (disabled).
    pub fn enabled(self) -> Option<Duration> {
        (!self.0.is_zero()).then_some(self.0)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(s) => Ok(Dur(Duration::from_secs(s))),
            Raw::Str(s) => parse_duration(&s)
                .map(Dur)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Parses `30s`, `250ms`, `5m`, `1h`, `2d` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        format!("invalid duration \"{s}\": expected a number with a unit such as 30s, 250ms, 5m")
    })?;
    let secs = match unit.trim() {
        "" | "s" | "sec" | "secs" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        u => {
            return Err(format!(
                "invalid duration unit \"{u}\" in \"{s}\": use ms, s, m, h or d"
            ))
        }
    };
    Ok(Duration::from_secs_f64(secs))
}

/// TLS for client connections; on when both files are set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
}

/// Timeouts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Upstream TCP connect plus login.
    pub connect: Dur,
    /// A client must finish startup and authentication within this.
    pub auth: Dur,
    /// Close a client idle (not in a statement) this long; 0 = never.
    pub idle: Dur,
    /// Cancel a statement running this long upstream; 0 = never.
    pub query: Dur,
    /// On SIGTERM, how long running statements may finish.
    pub shutdown: Dur,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Dur(Duration::from_secs(5)),
            auth: Dur(Duration::from_secs(60)),
            idle: Dur(Duration::ZERO),
            query: Dur(Duration::ZERO),
            shutdown: Dur(Duration::from_secs(30)),
        }
    }
}

/// Upstream connection pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Idle upstream connections kept per database.
    pub max_idle: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig { max_idle: 64 }
    }
}

/// Limits that protect the proxy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most client connections at once; more get 53300.
    pub max_clients: usize,
    /// Largest message a client may send, in bytes.
    pub max_message_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_clients: 10_000,
            max_message_size: 64 << 20,
        }
    }
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `querent=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// The whole configuration of `querent serve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address for Postgres clients.
    pub listen: String,
    /// Address of the admin HTTP port (`/metrics`, `/healthz`); empty disables it.
    pub admin_listen: String,
    /// Upstream PostgreSQL URL; its user and password are the proxy's own login.
    pub upstream: String,
    /// Client authentication mode.
    pub auth: AuthMode,
    /// Users file (SCRAM verifiers, roles, attributes).
    pub users: Option<PathBuf>,
    /// Policy directory (used by the guard).
    pub policies: Option<PathBuf>,
    /// Schema annotation directory (used by the catalog).
    pub schemas: Option<PathBuf>,
    /// TLS files.
    pub tls: TlsConfig,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Pool.
    pub pool: PoolConfig,
    /// Limits.
    pub limits: Limits,
    /// Worker threads, each with its own runtime; 0 = half the CPUs, at least one.
    pub workers: usize,
    /// Logging.
    pub log: LogConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:6432".into(),
            admin_listen: "127.0.0.1:9187".into(),
            upstream: "postgres://root@127.0.0.1:5432/test".into(),
            auth: AuthMode::Trust,
            users: None,
            policies: None,
            schemas: None,
            tls: TlsConfig::default(),
            timeouts: Timeouts::default(),
            pool: PoolConfig::default(),
            limits: Limits::default(),
            workers: 0,
            log: LogConfig::default(),
        }
    }
}

/// The kind of value a setting holds, used to check overrides before they are merged.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Free text.
    Text,
    /// A socket address `host:port` (empty allowed where noted in the description).
    Addr,
    /// A file or directory path.
    Path,
    /// A non-negative integer.
    Int,
    /// A duration such as `30s`.
    Duration,
    /// One of the listed words.
    OneOf(&'static [&'static str]),
}

/// One documented setting.
#[derive(Debug)]
pub struct Setting {
    /// Dotted key in the TOML file.
    pub key: &'static str,
    /// Kind of value.
    pub kind: Kind,
    /// Default, as written in the file.
    pub default: &'static str,
    /// What it does.
    pub doc: &'static str,
}

impl Setting {
    /// The environment variable that overrides it.
    pub fn env_var(&self) -> String {
        format!("QUERENT_{}", self.key.replace('.', "_").to_uppercase())
    }
}

/// Every setting, in documentation order.
pub const SETTINGS: &[Setting] = &[
    Setting { key: "listen", kind: Kind::Addr, default: "127.0.0.1:6432", doc: "address Postgres clients connect to" },
    Setting { key: "admin_listen", kind: Kind::Addr, default: "127.0.0.1:9187", doc: "admin HTTP address for /metrics and /healthz; empty string disables" },
    Setting { key: "upstream", kind: Kind::Text, default: "postgres://root@127.0.0.1:5432/test", doc: "upstream PostgreSQL URL; its user/password are the proxy's own login, its database the default" },
    Setting { key: "auth", kind: Kind::OneOf(&["trust", "scram", "password"]), default: "trust", doc: "client authentication: trust (development only), scram (SCRAM-SHA-256), password (cleartext, TLS only)" },
    Setting { key: "users", kind: Kind::Path, default: "", doc: "users file with SCRAM verifiers, roles and attributes (see `querent user add`)" },
    Setting { key: "policies", kind: Kind::Path, default: "", doc: "directory of policies/*.toml" },
    Setting { key: "schemas", kind: Kind::Path, default: "", doc: "directory of schemas/*.toml annotations" },
    Setting { key: "tls.cert", kind: Kind::Path, default: "", doc: "PEM certificate chain; TLS is on when cert and key are both set" },
    Setting { key: "tls.key", kind: Kind::Path, default: "", doc: "PEM private key (PKCS#8, PKCS#1 or SEC1)" },
    Setting { key: "timeouts.connect", kind: Kind::Duration, default: "5s", doc: "upstream TCP connect plus login" },
    Setting { key: "timeouts.auth", kind: Kind::Duration, default: "60s", doc: "time a client has to finish startup and authentication" },
    Setting { key: "timeouts.idle", kind: Kind::Duration, default: "0", doc: "close a client idle outside a statement this long (57P05); 0 = never" },
    Setting { key: "timeouts.query", kind: Kind::Duration, default: "0", doc: "cancel a statement running this long upstream (57014); 0 = never" },
    Setting { key: "timeouts.shutdown", kind: Kind::Duration, default: "30s", doc: "on SIGTERM, how long running statements may finish before exit" },
    Setting { key: "pool.max_idle", kind: Kind::Int, default: "64", doc: "idle upstream connections kept per database after DISCARD ALL" },
    Setting { key: "limits.max_clients", kind: Kind::Int, default: "10000", doc: "most client connections at once; more are refused with 53300" },
    Setting { key: "limits.max_message_size", kind: Kind::Int, default: "67108864", doc: "largest protocol message a client may send, in bytes; larger closes the connection with 08P01" },
    Setting { key: "workers", kind: Kind::Int, default: "0", doc: "worker threads, each running its own event loop (thread per core); 0 = half the CPUs, at least one" },
    Setting { key: "log.format", kind: Kind::OneOf(&["text", "json"]), default: "text", doc: "log format on stderr" },
    Setting { key: "log.level", kind: Kind::Text, default: "info", doc: "tracing filter, e.g. info or querent=debug (RUST_LOG wins when set)" },
];

/// A configuration error naming the key and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn check_value(setting: &Setting, source: &str, raw: &str) -> Result<toml::Value, ConfigError> {
    let bad = |what: String| ConfigError(format!("{source}: {what}"));
    Ok(match setting.kind {
        Kind::Text | Kind::Path | Kind::Addr => toml::Value::String(raw.to_string()),
        Kind::Int => toml::Value::Integer(
            raw.trim()
                .parse::<u32>()
                .map_err(|_| bad(format!("expected a non-negative integer, got \"{raw}\"")))?
                .into(),
        ),
        Kind::Duration => {
            parse_duration(raw).map_err(bad)?;
            toml::Value::String(raw.to_string())
        }
        Kind::OneOf(words) => {
            if !words.contains(&raw) {
                return Err(bad(format!(
                    "expected one of {}, got \"{raw}\"",
                    words.join(", ")
                )));
            }
            toml::Value::String(raw.to_string())
        }
    })
}

fn set_path(table: &mut toml::Table, key: &str, value: toml::Value) {
    match key.split_once('.') {
        Some((section, rest)) => {
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                set_path(t, rest, value);
            }
        }
        None => {
            table.insert(key.to_string(), value);
        }
    }
}

/// Loads the configuration from an optional file, the environment and flag overrides
/// (`(key, value)` pairs using the dotted keys of [`SETTINGS`]).
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    flags: &[(&str, String)],
) -> Result<Config, ConfigError> {
    let mut table = toml::Table::new();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        // Deserializing the text itself gives line numbers and the offending key.
        toml::from_str::<Config>(&text)
            .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
        table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
    }
    for (name, value) in env {
        if !name.starts_with("QUERENT_") {
            continue;
        }
        let setting = SETTINGS
            .iter()
            .find(|s| s.env_var() == name)
            .ok_or_else(|| {
                ConfigError(format!(
                    "unknown environment variable {name}: Querent settings are {}",
                    SETTINGS
                        .iter()
                        .map(|s| s.env_var())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let v = check_value(setting, &name, &value)?;
        set_path(&mut table, setting.key, v);
    }
    for (key, value) in flags {
        let setting = SETTINGS
            .iter()
            .find(|s| s.key == *key)
            .ok_or_else(|| ConfigError(format!("internal: flag for unknown setting {key}")))?;
        let v = check_value(
            setting,
            &format!("--{}", key.replace(['.', '_'], "-")),
            value,
        )?;
        set_path(&mut table, setting.key, v);
    }
    let config: Config = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError(format!("configuration: {e}")))?;
    config.validate()?;
    Ok(config)
}

impl Config {
    /// Checks values that serde cannot: addresses, URLs, file pairs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        self.admin_addr()?;
        crate::upstream::UpstreamTarget::parse(&self.upstream)
            .map_err(|e| ConfigError(format!("upstream: {e}")))?;
        match (&self.tls.cert, &self.tls.key) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(ConfigError(
                    "tls: set both tls.cert and tls.key to turn TLS on, or neither".into(),
                ))
            }
            _ => {}
        }
        if self.auth != AuthMode::Trust && self.users.is_none() {
            return Err(ConfigError(format!(
                "auth: mode {:?} needs a users file: set `users` (or --users); create one with `querent user add`",
                self.auth
            )));
        }
        if self.auth == AuthMode::Password && !self.tls_enabled() {
            return Err(ConfigError(
                "auth: mode password sends cleartext passwords and needs TLS: set tls.cert and tls.key, or use auth = \"scram\"".into(),
            ));
        }
        if self.limits.max_message_size < 1024 {
            return Err(ConfigError(
                "limits.max_message_size: expected at least 1024 bytes".into(),
            ));
        }
        Ok(())
    }

    /// Whether client TLS is configured.
    pub fn tls_enabled(&self) -> bool {
        self.tls.cert.is_some() && self.tls.key.is_some()
    }

    /// The client listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError(format!(
                "listen: expected host:port such as 127.0.0.1:6432, got \"{}\"",
                self.listen
            ))
        })
    }

    /// The admin address, `None` when disabled.
    pub fn admin_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        if self.admin_listen.is_empty() {
            return Ok(None);
        }
        self.admin_listen.parse().map(Some).map_err(|_| {
            ConfigError(format!(
                "admin_listen: expected host:port such as 127.0.0.1:9187 or \"\" to disable, got \"{}\"",
                self.admin_listen
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn defaults_load() {
        let c = load(None, vec![], &[]).unwrap();
        assert_eq!(c.listen, "127.0.0.1:6432");
        assert_eq!(c.auth, AuthMode::Trust);
    }

    #[test]
    fn layering_env_then_flags() {
        let env = vec![
            ("QUERENT_LISTEN".to_string(), "127.0.0.1:7000".to_string()),
            ("QUERENT_TIMEOUTS_QUERY".to_string(), "5s".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let c = load(None, env, &[("listen", "127.0.0.1:7001".into())]).unwrap();
        assert_eq!(c.listen, "127.0.0.1:7001");
        assert_eq!(c.timeouts.query.0, Duration::from_secs(5));
    }

    #[test]
    fn errors_name_the_key() {
        let e = load(
            None,
            vec![("QUERENT_TIMEOUTS_QUERY".into(), "soon".into())],
            &[],
        )
        .unwrap_err();
        assert!(e.0.contains("QUERENT_TIMEOUTS_QUERY"), "{e}");
        let e = load(None, vec![("QUERENT_NOPE".into(), "1".into())], &[]).unwrap_err();
        assert!(e.0.contains("QUERENT_NOPE"), "{e}");
        let e = load(None, vec![], &[("auth", "magic".into())]).unwrap_err();
        assert!(e.0.contains("--auth") && e.0.contains("trust"), "{e}");
        let e = load(None, vec![], &[("listen", "nowhere".into())]).unwrap_err();
        assert!(e.0.starts_with("listen:"), "{e}");
    }

    #[test]
    fn file_errors_have_line_and_key() {
        let dir = std::env::temp_dir().join(format!("querent-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.toml");
        std::fs::write(
            &p,
            "listen = \"127.0.0.1:1\"\n[timeouts]\nquery = \"fast\"\n",
        )
        .unwrap();
        let e = load(Some(&p), vec![], &[]).unwrap_err().0;
        assert!(e.contains("line 3") && e.contains("query"), "{e}");
        std::fs::write(&p, "[pool]\nmax_idel = 3\n").unwrap();
        let e = load(Some(&p), vec![], &[]).unwrap_err().0;
        assert!(e.contains("max_idel") && e.contains("max_idle"), "{e}");
    }

    #[test]
    fn every_setting_deserializes_from_its_default() {
        let mut table = toml::Table::new();
        for s in SETTINGS {
            if !s.default.is_empty() {
                set_path(&mut table, s.key, check_value(s, s.key, s.default).unwrap());
            }
        }
        let c: Config = toml::Value::Table(table).try_into().unwrap();
        c.validate().unwrap();
    }
}
