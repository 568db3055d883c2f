//! The table of every setting ([`SETTINGS`]) and the helpers that check an override against it
//! and merge it into the TOML table.

use super::{parse_duration, ConfigError, List};

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
    Setting { key: "limits.login_backoff", kind: Kind::Duration, default: "250ms", doc: "after 3 failed logins of a user from one address (10 of an address), each attempt waits its turn, this long after the last one and doubling per failure; 0 = no backoff" },
    Setting { key: "limits.login_backoff_max", kind: Kind::Duration, default: "10s", doc: "the longest wait between two login attempts of one user or address; an attempt that would wait longer is refused at once" },
    Setting { key: "workers", kind: Kind::Int, default: "0", doc: "worker threads, each running its own event loop (thread per core); 0 = half the CPUs, at least one" },
    Setting { key: "guard.plan_cache", kind: Kind::OneOf(&["on", "off"]), default: "on", doc: "run guarded statements as prepared statements upstream, planned once per shape and session: simple-protocol statements whose literals are all compared with columns, and clients' unnamed extended-protocol queries" },
    Setting { key: "guard.mask_secret", kind: Kind::Text, default: "", doc: "key of the hash column mask (letters, digits and - _ . ~ + / = :; the same on every replica for hashes that join across them); empty = a random key per process, logged as a warning" },
    Setting { key: "log.format", kind: Kind::OneOf(&["text", "json"]), default: "text", doc: "log format on stderr" },
    Setting { key: "log.level", kind: Kind::Text, default: "info", doc: "tracing filter, e.g. info or querent=debug (RUST_LOG wins when set)" },
    Setting { key: "audit.file", kind: Kind::Path, default: "", doc: "append one JSON line per statement decision (allow, rewrite, deny) to this file; empty = no audit file" },
    Setting { key: "audit.table", kind: Kind::Text, default: "", doc: "also insert audit records, in batches, into this PostgreSQL table (schema.table), created if missing; empty = none" },
    Setting { key: "audit.upstream", kind: Kind::Text, default: "", doc: "PostgreSQL URL for audit.table; empty = the upstream URL" },
    Setting { key: "audit.queue", kind: Kind::Int, default: "10000", doc: "audit records waiting to be written; beyond this they are dropped and counted (querent_audit_dropped_total), never delaying statements" },
    Setting { key: "history.table", kind: Kind::Text, default: "", doc: "record every ASK (question, plan or SQL, planner, outcome, latency, roles; never result rows) in this PostgreSQL table (schema.table), created if missing; empty = none" },
    Setting { key: "history.file", kind: Kind::Path, default: "", doc: "record every ASK as one JSON line in this file instead (when history.table is empty); both empty = no history" },
    Setting { key: "history.upstream", kind: Kind::Text, default: "", doc: "PostgreSQL URL for history.table; empty = the upstream URL" },
    Setting { key: "history.queue", kind: Kind::Int, default: "1000", doc: "history entries waiting to be written; beyond this they are dropped and counted (querent_history_dropped_total), never delaying an answer" },
    Setting { key: "catalog.include_schemas", kind: Kind::List, default: "", doc: "upstream schemas the catalog reads (comma-separated); empty = all but the system schemas" },
    Setting { key: "catalog.value_threshold", kind: Kind::Int, default: "1000", doc: "text columns with at most this many distinct values have their values indexed, so \"in the West region\" links to a value" },
    Setting { key: "catalog.full_scan_rows", kind: Kind::Int, default: "1000000", doc: "tables with at most this many estimated rows are profiled exactly; bigger ones from a TABLESAMPLE" },
    Setting { key: "catalog.sample_rows", kind: Kind::Int, default: "100000", doc: "rows a profiling sample of a big table aims for" },
    Setting { key: "catalog.profile", kind: Kind::OneOf(&["on", "off"]), default: "on", doc: "profile columns (distinct counts, values, min/max); off = names, keys and comments only" },
    Setting { key: "catalog.statement_timeout", kind: Kind::Duration, default: "5s", doc: "time limit of each profiling statement (profiling also gives up on locks after 200ms)" },
    Setting { key: "catalog.refresh_interval", kind: Kind::Duration, default: "0s", doc: "re-read the catalog this often; 0s = at start and on demand (POST /catalog/refresh, querent catalog refresh)" },
    Setting { key: "llm.url", kind: Kind::Text, default: "", doc: "base URL of an OpenAI-compatible API (e.g. http://127.0.0.1:11434/v1) ASK may ask when its own planner declines; empty = no model" },
    Setting { key: "llm.model", kind: Kind::Text, default: "", doc: "model name sent with every request" },
    Setting { key: "llm.api_key", kind: Kind::Text, default: "", doc: "API key, sent as a bearer token; never logged or shown in errors" },
    Setting { key: "llm.api_key_file", kind: Kind::Path, default: "", doc: "file holding the API key (instead of llm.api_key)" },
    Setting { key: "llm.timeout", kind: Kind::Duration, default: "30s", doc: "longest wait for one answer of the model (QA004 beyond it)" },
    Setting { key: "llm.max_repairs", kind: Kind::Int, default: "2", doc: "times the model may repair a failing answer before ASK declines with the last error (at most 10)" },
    Setting { key: "llm.mode", kind: Kind::OneOf(&["fallback", "always", "off"]), default: "fallback", doc: "fallback: the deterministic planner first, the model when it declines; always: the model for every question; off: never" },
    Setting { key: "llm.tokens_per_minute", kind: Kind::Int, default: "0", doc: "tokens one principal may spend per minute; 0 = no limit" },
    Setting { key: "ask.insights", kind: Kind::Int, default: "3", doc: "insights sent after an ASK's rows (NOTICEs), by ask_insights() and POST /v1/ask; 0 = none" },
    Setting { key: "ask.insight_rows", kind: Kind::Int, default: "10000", doc: "rows of an answer the insight and chart agents read while the rows stream; past them the insights say they read the first N" },
    Setting { key: "ask.api_rows", kind: Kind::Int, default: "1000", doc: "most rows POST /v1/ask returns (the answer says when it had more)" },
    Setting { key: "ask.chart_ttl", kind: Kind::Duration, default: "1h", doc: "how long an answer's chart stays at /v1/charts/<id>.svg on the admin port (at most 1000 charts are kept)" },
    Setting { key: "ask.run_timeout", kind: Kind::Duration, default: "30s", doc: "time limit of an answer Querent runs itself (ask_insights(), POST /v1/ask), on its own read-only connection" },
    Setting { key: "ask.analysis", kind: Kind::OneOf(&["on", "off"]), default: "on", doc: "on: insights, the chart link and next questions follow an ASK's rows (NOTICEs); off: only the rows (ask_insights(), ask_followups() and POST /v1/ask still analyse)" },
    Setting { key: "ask.public_url", kind: Kind::Text, default: "", doc: "base URL of the admin port in links people follow (an ASK's chart); empty = http://<admin_listen>" },
    Setting { key: "cache.redis_url", kind: Kind::Text, default: "", doc: "redis://[:password@]host:port[/db] where replicas share the language model's answers (keyed like the in-process cache); empty = each process caches on its own" },
];

pub(super) fn check_value(
    setting: &Setting,
    source: &str,
    raw: &str,
) -> Result<toml::Value, ConfigError> {
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

pub(super) fn set_path(table: &mut toml::Table, key: &str, value: toml::Value) {
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
