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
    /// The password is a JWT checked against the keys in `[jwt]`; TLS only.
    Jwt,
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

/// A list of words or paths: a TOML array, or one string with comma-separated items (the form
/// environment variables and flags use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List(pub Vec<String>);

impl List {
    fn parse(s: &str) -> List {
        List(
            s.split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::One(s) => List::parse(&s),
            Raw::Many(v) => List::parse(&v.join(",")),
        })
    }
}

/// JWT verification for `auth = "jwt"`: the client's password is a JWT.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// HS256 shared secret.
    pub secret: Option<String>,
    /// File holding the HS256 shared secret (a trailing newline is ignored).
    pub secret_file: Option<PathBuf>,
    /// PEM public keys (RSA or EC P-256) for RS256 and ES256.
    pub public_keys: List,
    /// JWKS file (JSON) whose keys are matched by `kid`.
    pub jwks: Option<PathBuf>,
    /// Algorithms a token may use.
    pub algorithms: List,
    /// Required `aud` value, when set.
    pub audience: Option<String>,
    /// Required `iss` value, when set.
    pub issuer: Option<String>,
    /// Claim that must equal the startup user name.
    pub user_claim: String,
    /// Claim holding the roles: an array of strings or a space/comma separated string.
    pub roles_claim: String,
    /// Claim holding an object whose scalar values become attributes.
    pub attributes_claim: String,
    /// Clock skew allowed for `exp` and `nbf`.
    pub leeway: Dur,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            secret: None,
            secret_file: None,
            public_keys: List::default(),
            jwks: None,
            algorithms: List::parse("HS256,RS256,ES256"),
            audience: None,
            issuer: None,
            user_claim: "sub".into(),
            roles_claim: "roles".into(),
            attributes_claim: "attrs".into(),
            leeway: Dur(Duration::from_secs(30)),
        }
    }
}

impl JwtConfig {
    fn has_secret(&self) -> bool {
        self.secret.as_deref().is_some_and(|s| !s.trim().is_empty())
    }

    fn has_secret_file(&self) -> bool {
        self.secret_file
            .as_deref()
            .is_some_and(|p| !p.as_os_str().is_empty())
    }

    /// Whether any key source is configured.
    pub fn has_keys(&self) -> bool {
        self.has_secret()
            || self.has_secret_file()
            || !self.public_keys.0.is_empty()
            || self
                .jwks
                .as_deref()
                .is_some_and(|p| !p.as_os_str().is_empty())
    }
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

/// The policy guard (`policies`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Key of the `hash` column mask; empty = a random key per process.
    pub mask_secret: String,
}

/// The audit log of statement decisions (`crate::audit`); off unless `file` or `table` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// JSON-lines file the records are appended to.
    pub file: Option<PathBuf>,
    /// PostgreSQL table (`schema.table` or `table`) the records are also inserted into; empty = none.
    pub table: String,
    /// Connection URL for `table`; empty = `upstream`.
    pub upstream: String,
    /// Records that may wait for the writer; more are dropped and counted.
    pub queue: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            file: None,
            table: String::new(),
            upstream: String::new(),
            queue: 10_000,
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
    /// JWT verification (`auth = "jwt"`).
    pub jwt: JwtConfig,
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
    /// The policy guard.
    pub guard: GuardConfig,
    /// Audit log.
    pub audit: AuditConfig,
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
            jwt: JwtConfig::default(),
            timeouts: Timeouts::default(),
            pool: PoolConfig::default(),
            limits: Limits::default(),
            workers: 0,
            log: LogConfig::default(),
            guard: GuardConfig::default(),
            audit: AuditConfig::default(),
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
    /// Comma-separated items (a TOML array in the file).
    List,
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
    Setting { key: "auth", kind: Kind::OneOf(&["trust", "scram", "password", "jwt"]), default: "trust", doc: "client authentication: trust (development only), scram (SCRAM-SHA-256), password (cleartext, TLS only), jwt (a JWT as the password, TLS only; see [jwt])" },
    Setting { key: "users", kind: Kind::Path, default: "", doc: "users file with SCRAM verifiers, roles and attributes (see `querent user add`)" },
    Setting { key: "policies", kind: Kind::Path, default: "", doc: "directory of policies/*.toml" },
    Setting { key: "schemas", kind: Kind::Path, default: "", doc: "directory of schemas/*.toml annotations" },
    Setting { key: "tls.cert", kind: Kind::Path, default: "", doc: "PEM certificate chain; TLS is on when cert and key are both set" },
    Setting { key: "tls.key", kind: Kind::Path, default: "", doc: "PEM private key (PKCS#8, PKCS#1 or SEC1)" },
    Setting { key: "jwt.secret", kind: Kind::Text, default: "", doc: "HS256 shared secret for auth = jwt" },
    Setting { key: "jwt.secret_file", kind: Kind::Path, default: "", doc: "file holding the HS256 shared secret (instead of jwt.secret)" },
    Setting { key: "jwt.public_keys", kind: Kind::List, default: "", doc: "PEM public keys (RSA or EC P-256) for RS256/ES256, comma-separated (a list in the file)" },
    Setting { key: "jwt.jwks", kind: Kind::Path, default: "", doc: "JWKS file (JSON) with RSA/EC public keys, matched by the token's kid" },
    Setting { key: "jwt.algorithms", kind: Kind::List, default: "HS256,RS256,ES256", doc: "algorithms a token may be signed with" },
    Setting { key: "jwt.audience", kind: Kind::Text, default: "", doc: "required aud claim; not checked when empty" },
    Setting { key: "jwt.issuer", kind: Kind::Text, default: "", doc: "required iss claim; not checked when empty" },
    Setting { key: "jwt.user_claim", kind: Kind::Text, default: "sub", doc: "claim that must equal the startup user name" },
    Setting { key: "jwt.roles_claim", kind: Kind::Text, default: "roles", doc: "claim with the principal's roles: array of strings or space/comma separated string" },
    Setting { key: "jwt.attributes_claim", kind: Kind::Text, default: "attrs", doc: "claim with a JSON object whose scalar values become the principal's attributes" },
    Setting { key: "jwt.leeway", kind: Kind::Duration, default: "30s", doc: "clock skew allowed when checking exp and nbf" },
    Setting { key: "timeouts.connect", kind: Kind::Duration, default: "5s", doc: "upstream TCP connect plus login" },
    Setting { key: "timeouts.auth", kind: Kind::Duration, default: "60s", doc: "time a client has to finish startup and authentication" },
    Setting { key: "timeouts.idle", kind: Kind::Duration, default: "0", doc: "close a client idle outside a statement this long (57P05); 0 = never" },
    Setting { key: "timeouts.query", kind: Kind::Duration, default: "0", doc: "cancel a statement running this long upstream (57014); 0 = never" },
    Setting { key: "timeouts.shutdown", kind: Kind::Duration, default: "30s", doc: "on SIGTERM, how long running statements may finish before exit" },
    Setting { key: "pool.max_idle", kind: Kind::Int, default: "64", doc: "idle upstream connections kept per database after DISCARD ALL" },
    Setting { key: "limits.max_clients", kind: Kind::Int, default: "10000", doc: "most client connections at once; more are refused with 53300" },
    Setting { key: "limits.max_message_size", kind: Kind::Int, default: "67108864", doc: "largest protocol message a client may send, in bytes; larger closes the connection with 08P01" },
    Setting { key: "workers", kind: Kind::Int, default: "0", doc: "worker threads, each running its own event loop (thread per core); 0 = half the CPUs, at least one" },
    Setting { key: "guard.mask_secret", kind: Kind::Text, default: "", doc: "key of the hash column mask (the same on every replica for hashes that join across them); empty = a random key per process, logged as a warning" },
    Setting { key: "log.format", kind: Kind::OneOf(&["text", "json"]), default: "text", doc: "log format on stderr" },
    Setting { key: "log.level", kind: Kind::Text, default: "info", doc: "tracing filter, e.g. info or querent=debug (RUST_LOG wins when set)" },
    Setting { key: "audit.file", kind: Kind::Path, default: "", doc: "append one JSON line per statement decision (allow, rewrite, deny) to this file; empty = no audit file" },
    Setting { key: "audit.table", kind: Kind::Text, default: "", doc: "also insert audit records, in batches, into this PostgreSQL table (schema.table), created if missing; empty = none" },
    Setting { key: "audit.upstream", kind: Kind::Text, default: "", doc: "PostgreSQL URL for audit.table; empty = the upstream URL" },
    Setting { key: "audit.queue", kind: Kind::Int, default: "10000", doc: "audit records waiting to be written; beyond this they are dropped and counted (querent_audit_dropped_total), never delaying statements" },
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
        Kind::List => toml::Value::Array(
            List::parse(raw)
                .0
                .into_iter()
                .map(toml::Value::String)
                .collect(),
        ),
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
        if !matches!(self.auth, AuthMode::Trust | AuthMode::Jwt) && self.users.is_none() {
            return Err(ConfigError(format!(
                "auth: mode {:?} needs a users file: set `users` (or --users); create one with `querent user add`",
                self.auth
            )));
        }
        if matches!(self.auth, AuthMode::Password | AuthMode::Jwt) && !self.tls_enabled() {
            return Err(ConfigError(if self.auth == AuthMode::Jwt {
                "auth: mode jwt sends tokens as cleartext passwords and needs TLS: set tls.cert and tls.key".into()
            } else {
                "auth: mode password sends cleartext passwords and needs TLS: set tls.cert and tls.key, or use auth = \"scram\"".into()
            }));
        }
        self.validate_jwt()?;
        if self.limits.max_message_size < 1024 {
            return Err(ConfigError(
                "limits.max_message_size: expected at least 1024 bytes".into(),
            ));
        }
        Ok(())
    }

    /// Checks `[jwt]`: algorithm names always; key sources when `auth = "jwt"`. The key files
    /// themselves are read at start (`crate::auth::jwt::JwtVerifier::load`).
    fn validate_jwt(&self) -> Result<(), ConfigError> {
        let jwt = &self.jwt;
        for a in &jwt.algorithms.0 {
            if !matches!(a.as_str(), "HS256" | "RS256" | "ES256") {
                return Err(ConfigError(format!(
                    "jwt.algorithms: unknown algorithm \"{a}\": expected some of HS256, RS256, ES256"
                )));
            }
        }
        if self.auth != AuthMode::Jwt {
            return Ok(());
        }
        if jwt.algorithms.0.is_empty() {
            return Err(ConfigError(
                "jwt.algorithms: name at least one of HS256, RS256, ES256".into(),
            ));
        }
        if jwt.has_secret() && jwt.has_secret_file() {
            return Err(ConfigError(
                "jwt.secret_file: set jwt.secret or jwt.secret_file, not both".into(),
            ));
        }
        if !jwt.has_keys() {
            return Err(ConfigError(
                "jwt: mode jwt needs a key to verify tokens: set jwt.secret (or jwt.secret_file) for HS256, jwt.public_keys or jwt.jwks for RS256/ES256".into(),
            ));
        }
        for (key, claim) in [
            ("jwt.user_claim", &jwt.user_claim),
            ("jwt.roles_claim", &jwt.roles_claim),
            ("jwt.attributes_claim", &jwt.attributes_claim),
        ] {
            if claim.trim().is_empty() {
                return Err(ConfigError(format!("{key}: expected a claim name")));
            }
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
    fn jwt_section_from_file_env_and_checks() {
        let dir = std::env::temp_dir().join(format!("querent-cfg-jwt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("jwt.toml");
        std::fs::write(
            &p,
            "auth = \"jwt\"\n[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n[jwt]\npublic_keys = [\"a.pem\", \"b.pem\"]\naudience = \"querent\"\nleeway = \"5s\"\n",
        )
        .unwrap();
        let c = load(Some(&p), vec![], &[]).unwrap();
        assert_eq!(c.auth, AuthMode::Jwt);
        assert_eq!(c.jwt.public_keys.0, vec!["a.pem", "b.pem"]);
        assert_eq!(c.jwt.algorithms.0, vec!["HS256", "RS256", "ES256"]);
        assert_eq!(c.jwt.audience.as_deref(), Some("querent"));
        assert_eq!(c.jwt.leeway.0, Duration::from_secs(5));
        assert_eq!(c.jwt.user_claim, "sub");
        let env = vec![
            (
                "QUERENT_JWT_PUBLIC_KEYS".to_string(),
                "x.pem, y.pem".to_string(),
            ),
            ("QUERENT_JWT_ALGORITHMS".to_string(), "RS256".to_string()),
        ];
        let c = load(Some(&p), env, &[]).unwrap();
        assert_eq!(c.jwt.public_keys.0, vec!["x.pem", "y.pem"]);
        assert_eq!(c.jwt.algorithms.0, vec!["RS256"]);

        let tls = [
            ("tls.cert", "c.pem".to_string()),
            ("tls.key", "k.pem".to_string()),
        ];
        let jwt = |env: Vec<(String, String)>, tls: &[(&str, String)]| {
            let mut flags = vec![("auth", "jwt".to_string())];
            flags.extend(tls.iter().cloned());
            load(None, env, &flags)
        };
        let secret = || vec![("QUERENT_JWT_SECRET".to_string(), "s3cret".to_string())];
        let e = jwt(secret(), &[]).unwrap_err().0;
        assert!(e.contains("mode jwt") && e.contains("needs TLS"), "{e}");
        let e = jwt(vec![], &tls).unwrap_err().0;
        assert!(e.starts_with("jwt:") && e.contains("jwt.secret"), "{e}");
        assert!(jwt(secret(), &tls).is_ok(), "no users file needed");
        let mut env = secret();
        env.push(("QUERENT_JWT_ALGORITHMS".into(), "HS256,none".into()));
        let e = jwt(env, &tls).unwrap_err().0;
        assert!(
            e.contains("jwt.algorithms: unknown algorithm \"none\""),
            "{e}"
        );
        let mut env = secret();
        env.push(("QUERENT_JWT_SECRET_FILE".into(), "/s".into()));
        assert!(jwt(env, &tls).unwrap_err().0.contains("not both"));
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
