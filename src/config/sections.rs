//! The `[section]` tables of the configuration and the value types they use (`Dur`, `List`).

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

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
    pub(super) fn parse(s: &str) -> List {
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
    pub(super) fn has_secret(&self) -> bool {
        self.secret.as_deref().is_some_and(|s| !s.trim().is_empty())
    }

    pub(super) fn has_secret_file(&self) -> bool {
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
    /// First wait after repeated failed logins (doubling per failure); zero disables.
    pub login_backoff: Dur,
    /// Longest wait between two login attempts of one user or address.
    pub login_backoff_max: Dur,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_clients: 10_000,
            max_message_size: 64 << 20,
            login_backoff: Dur(Duration::from_millis(250)),
            login_backoff_max: Dur(Duration::from_secs(10)),
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Key of the `hash` column mask; empty = a random key per process.
    pub mask_secret: String,
    /// `on` or `off`: run guarded statements that differ only in their literals as one
    /// prepared statement upstream (see `guard::params`).
    pub plan_cache: String,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            mask_secret: String::new(),
            plan_cache: "on".into(),
        }
    }
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

/// The ASK history and its verified examples (`crate::history`); off unless `table` or `file`
/// is set (not both).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// PostgreSQL table (`schema.table` or `table`) the entries go to; empty = none.
    pub table: String,
    /// JSON-lines file the entries go to when `table` is empty.
    pub file: Option<PathBuf>,
    /// Connection URL for `table`; empty = `upstream`.
    pub upstream: String,
    /// Entries that may wait for the writer; more are dropped and counted.
    pub queue: usize,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            table: String::new(),
            file: None,
            upstream: String::new(),
            queue: 1000,
        }
    }
}

impl HistoryConfig {
    /// `history.file` when set to a non-empty path.
    pub fn file_path(&self) -> Option<&std::path::Path> {
        self.file.as_deref().filter(|p| !p.as_os_str().is_empty())
    }
}

/// The catalog: introspection, profiling and annotations (`crate::catalog`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// Upstream schemas to read; empty = every schema but the system ones.
    pub include_schemas: List,
    /// Text columns with at most this many distinct values have them indexed for linking.
    pub value_threshold: u64,
    /// Tables with at most this many estimated rows are profiled exactly; bigger ones sampled.
    pub full_scan_rows: u64,
    /// Target rows of a sample of a big table.
    pub sample_rows: u64,
    /// `on` or `off`: profile columns (distinct counts, values, min/max).
    pub profile: String,
    /// Time limit of each profiling statement.
    pub statement_timeout: Dur,
    /// Re-read the catalog this often; 0 = only at start and on demand.
    pub refresh_interval: Dur,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            include_schemas: List::default(),
            value_threshold: 1000,
            full_scan_rows: 1_000_000,
            sample_rows: 100_000,
            profile: "on".into(),
            statement_timeout: Dur(Duration::from_secs(5)),
            refresh_interval: Dur(Duration::ZERO),
        }
    }
}

/// The language model ASK may ask (`crate::ask::model`): any OpenAI-compatible endpoint. Off
/// while `url` is empty. Its `Debug` never shows the key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Base URL of the API (`http://127.0.0.1:11434/v1`); empty = no model.
    pub url: String,
    /// Model name sent with every request.
    pub model: String,
    /// API key (sent as a bearer token); empty = none.
    pub api_key: String,
    /// File holding the API key (instead of `api_key`).
    pub api_key_file: Option<PathBuf>,
    /// Longest wait for one answer of the model.
    pub timeout: Dur,
    /// Times the model may repair a failing answer before ASK declines.
    pub max_repairs: u32,
    /// `fallback` (the deterministic planner first), `always` or `off`.
    pub mode: String,
    /// Tokens one principal may spend per minute; 0 = no limit.
    pub tokens_per_minute: u64,
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field(
                "api_key",
                &if self.api_key.is_empty() { "" } else { "<set>" },
            )
            .field("api_key_file", &self.api_key_file)
            .field("timeout", &self.timeout)
            .field("max_repairs", &self.max_repairs)
            .field("mode", &self.mode)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .finish()
    }
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            url: String::new(),
            model: String::new(),
            api_key: String::new(),
            api_key_file: None,
            timeout: Dur(Duration::from_secs(30)),
            max_repairs: 2,
            mode: "fallback".into(),
            tokens_per_minute: 0,
        }
    }
}

/// Caches shared between replicas: answers of the language model in Redis.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// `redis://[:password@]host:port[/db]`; empty = each process caches on its own.
    pub redis_url: String,
}

/// What follows an answer's rows: insights, charts, the HTTP API's limits (`crate::ask::analyse`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AskConfig {
    /// Insights sent after an answer's rows (0 = none).
    pub insights: usize,
    /// Rows of an answer the insight and chart agents read; past them they say so.
    pub insight_rows: usize,
    /// Most rows `POST /v1/ask` returns.
    pub api_rows: usize,
    /// How long a chart stays available on the admin port.
    pub chart_ttl: Dur,
    /// Time limit of an answer the proxy runs itself (`ask_insights()`, `POST /v1/ask`).
    pub run_timeout: Dur,
    /// Base URL of the admin port in links (charts); empty = `http://<admin_listen>`.
    pub public_url: String,
    /// `on`: insights, chart and next questions follow an ASK's rows; `off`: only the rows.
    pub analysis: String,
}

impl Default for AskConfig {
    fn default() -> Self {
        AskConfig {
            insights: 3,
            insight_rows: 10_000,
            api_rows: 1_000,
            chart_ttl: Dur(Duration::from_secs(3600)),
            run_timeout: Dur(Duration::from_secs(30)),
            public_url: String::new(),
            analysis: "on".into(),
        }
    }
}
