//! Typed configuration: defaults < TOML file (`--config`) < `QUERENT_*` environment < flags.
//!
//! Every setting is listed once in [`SETTINGS`]; environment overrides, flag overrides and the
//! documentation test are all driven by that table, so a setting cannot exist undocumented.

mod sections;
mod settings;

pub use sections::{
    parse_duration, AskConfig, AuditConfig, CacheConfig, CatalogConfig, Dur, GuardConfig,
    HistoryConfig, JwtConfig, Limits, List, LlmConfig, LogConfig, LogFormat, PoolConfig, Timeouts,
    TlsConfig,
};
use settings::{check_value, set_path};
pub use settings::{Kind, Setting, SETTINGS};

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// ASK history and verified examples.
    pub history: HistoryConfig,
    /// Catalog introspection and annotations.
    pub catalog: CatalogConfig,
    /// The language model ASK may ask.
    pub llm: LlmConfig,
    /// Caches shared between replicas.
    pub cache: CacheConfig,
    /// Insights, charts and the HTTP API.
    pub ask: AskConfig,
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
            history: HistoryConfig::default(),
            catalog: CatalogConfig::default(),
            llm: LlmConfig::default(),
            cache: CacheConfig::default(),
            ask: AskConfig::default(),
        }
    }
}

/// A configuration error naming the key and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Most repairs `llm.max_repairs` may allow.
pub const MAX_REPAIRS: u32 = 10;

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
        // The key is spelled as it is inside SQL text; a character SQL would escape (a quote, a
        // backslash, anything outside ASCII) would show an escaped spelling no redaction finds.
        if let Some(c) = self
            .guard
            .mask_secret
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.~+/=:".contains(*c)))
        {
            return Err(ConfigError(format!(
                "guard.mask_secret: the character {c:?} is not allowed; use letters, digits and - _ . ~ + / = : (e.g. openssl rand -hex 32)"
            )));
        }
        if self.llm.max_repairs > MAX_REPAIRS {
            return Err(ConfigError(format!(
                "llm.max_repairs: at most {MAX_REPAIRS}, got {}",
                self.llm.max_repairs
            )));
        }
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
        if !self.history.table.trim().is_empty() && self.history.file_path().is_some() {
            return Err(ConfigError(
                "history.file: set history.table or history.file, not both".into(),
            ));
        }
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
    use std::time::Duration;

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
