//! Prometheus metrics, kept as atomics and rendered as text on the admin port.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::LazyLock;
use std::time::Duration;

/// A monotonically increasing count.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }
    /// Subtracts one.
    pub fn dec(&self) {
        self.0.fetch_sub(1, Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

const BUCKETS_US: [u64; 14] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
    5_000_000, 30_000_000,
];

/// A latency histogram with fixed buckets (seconds in the output).
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; 14],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let us = d.as_micros() as u64;
        if let Some(i) = BUCKETS_US.iter().position(|&b| us <= b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (i, b) in BUCKETS_US.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}le=\"{}\"}} {cumulative}",
                *b as f64 / 1e6
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum{{{}}} {}",
            labels.trim_end_matches(','),
            self.sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "{name}_count{{{}}} {count}",
            labels.trim_end_matches(',')
        );
    }
}

/// Which way a statement went (the classifier's answer; only pass-through exists so far).
#[derive(Debug, Clone, Copy)]
pub enum StatementPath {
    /// Relayed to the upstream as sent.
    Passthrough,
}

/// All metrics of the process.
#[derive(Default)]
pub struct Metrics {
    /// Client connections accepted.
    pub connections_total: Counter,
    /// Client connections open now.
    pub connections_active: Gauge,
    /// Clients refused (limits, protocol errors before login).
    pub connections_rejected: Counter,
    /// Failed client authentications.
    pub auth_failures: Counter,
    /// Login attempts made to wait after earlier failures of their user or address.
    pub auth_throttled: Counter,
    /// Statements (Query or Sync round trips) relayed.
    pub statements_passthrough: Counter,
    /// Their latency, from the first message to ReadyForQuery.
    pub statement_latency: Histogram,
    /// Upstream connections open now.
    pub upstream_open: Gauge,
    /// Upstream logins made.
    pub upstream_connects: Counter,
    /// Upstream failures: connect errors and connections lost mid-session.
    pub upstream_errors: Counter,
    /// Cancel requests forwarded upstream.
    pub upstream_cancels: Counter,
    /// Idle pooled upstream connections.
    pub pool_idle: Gauge,
    /// Client protocol violations.
    pub protocol_errors: Counter,
    /// Audit records taken by the audit writer.
    pub audit_records: Counter,
    /// Audit records lost: queue full, file write failed, or table backlog full.
    pub audit_dropped: Counter,
    /// Failed connects or inserts of the audit table sink.
    pub audit_db_errors: Counter,
    /// ASK history entries taken by the history writer.
    pub history_records: Counter,
    /// ASK history entries lost: queue full, file write failed, or table backlog full.
    pub history_dropped: Counter,
    /// Failed connects or inserts of the history table sink.
    pub history_db_errors: Counter,
    /// The configured language model's name, once set.
    pub llm_model_name: std::sync::OnceLock<String>,
    /// Requests made to the language model.
    pub llm_requests: Counter,
    /// Questions the model could not answer: endpoint errors, timeouts, no usable answer.
    pub llm_failures: Counter,
    /// Answers of the model sent back for repair.
    pub llm_repairs: Counter,
    /// Prompt tokens, as the endpoint counted them.
    pub llm_prompt_tokens: Counter,
    /// Answer tokens.
    pub llm_completion_tokens: Counter,
    /// Time per request to the model.
    pub llm_latency: Histogram,
}

/// The process-wide metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

impl Metrics {
    /// Counts a finished statement.
    pub fn statement(&self, path: StatementPath, took: Duration) {
        match path {
            StatementPath::Passthrough => self.statements_passthrough.inc(),
        }
        self.statement_latency.observe(took);
    }

    /// Names the configured model (the label of the `querent_llm_*` metrics).
    pub fn llm_model(&self, name: &str) {
        let _ = self.llm_model_name.set(name.to_string());
    }

    /// Counts the tokens of one answer of the model.
    pub fn llm_tokens(&self, prompt: u32, completion: u32) {
        self.llm_prompt_tokens.add(u64::from(prompt));
        self.llm_completion_tokens.add(u64::from(completion));
    }

    fn render_llm(&self, o: &mut String) {
        let Some(model) = self.llm_model_name.get() else {
            return;
        };
        let label = format!("model=\"{}\"", model.replace(['"', '\\', '\n'], "_"));
        for (name, help, v) in [
            ("querent_llm_requests_total", "Requests made to the language model.", self.llm_requests.get()),
            ("querent_llm_failures_total", "Questions the model could not answer (endpoint errors, timeouts, no usable answer).", self.llm_failures.get()),
            ("querent_llm_repairs_total", "Answers of the model sent back for repair.", self.llm_repairs.get()),
        ] {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name}{{{label}}} {v}");
        }
        let _ = writeln!(o, "# HELP querent_llm_tokens_total Tokens of the language model, as its endpoint counted them.\n# TYPE querent_llm_tokens_total counter");
        let _ = writeln!(
            o,
            "querent_llm_tokens_total{{{label},kind=\"prompt\"}} {}",
            self.llm_prompt_tokens.get()
        );
        let _ = writeln!(
            o,
            "querent_llm_tokens_total{{{label},kind=\"completion\"}} {}",
            self.llm_completion_tokens.get()
        );
        let _ = writeln!(o, "# HELP querent_llm_request_duration_seconds Time per request to the language model.\n# TYPE querent_llm_request_duration_seconds histogram");
        self.llm_latency.render(
            o,
            "querent_llm_request_duration_seconds",
            &format!("{label},"),
        );
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut o = String::with_capacity(4096);
        let mut one = |name: &str, kind: &str, help: &str, v: String| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        one(
            "querent_connections_total",
            "counter",
            "Client connections accepted.",
            self.connections_total.get().to_string(),
        );
        one(
            "querent_connections_active",
            "gauge",
            "Client connections open now.",
            self.connections_active.get().to_string(),
        );
        one(
            "querent_connections_rejected_total",
            "counter",
            "Client connections refused before login.",
            self.connections_rejected.get().to_string(),
        );
        one(
            "querent_auth_failures_total",
            "counter",
            "Failed client authentications.",
            self.auth_failures.get().to_string(),
        );
        one(
            "querent_auth_throttled_total",
            "counter",
            "Login attempts made to wait after earlier failures of their user or address.",
            self.auth_throttled.get().to_string(),
        );
        one(
            "querent_upstream_connections",
            "gauge",
            "Upstream connections open now.",
            self.upstream_open.get().to_string(),
        );
        one(
            "querent_upstream_connects_total",
            "counter",
            "Upstream logins made.",
            self.upstream_connects.get().to_string(),
        );
        one(
            "querent_upstream_errors_total",
            "counter",
            "Upstream connect failures and connections lost mid-session.",
            self.upstream_errors.get().to_string(),
        );
        one(
            "querent_upstream_cancels_total",
            "counter",
            "Cancel requests forwarded upstream.",
            self.upstream_cancels.get().to_string(),
        );
        one(
            "querent_pool_idle_connections",
            "gauge",
            "Idle pooled upstream connections.",
            self.pool_idle.get().to_string(),
        );
        one(
            "querent_protocol_errors_total",
            "counter",
            "Client protocol violations.",
            self.protocol_errors.get().to_string(),
        );
        one(
            "querent_audit_records_total",
            "counter",
            "Audit records taken by the audit writer.",
            self.audit_records.get().to_string(),
        );
        one(
            "querent_audit_dropped_total",
            "counter",
            "Audit records lost: queue full (audit.queue), file write failed, or table backlog full.",
            self.audit_dropped.get().to_string(),
        );
        one(
            "querent_audit_db_errors_total",
            "counter",
            "Failed connects or inserts of the audit table sink (audit.table).",
            self.audit_db_errors.get().to_string(),
        );
        one(
            "querent_history_records_total",
            "counter",
            "ASK history entries taken by the history writer.",
            self.history_records.get().to_string(),
        );
        one(
            "querent_history_dropped_total",
            "counter",
            "ASK history entries lost: queue full (history.queue), file write failed, or table backlog full.",
            self.history_dropped.get().to_string(),
        );
        one(
            "querent_history_db_errors_total",
            "counter",
            "Failed connects or inserts of the history table sink (history.table).",
            self.history_db_errors.get().to_string(),
        );
        let _ = writeln!(o, "# HELP querent_statements_total Statements by path.\n# TYPE querent_statements_total counter");
        let _ = writeln!(
            o,
            "querent_statements_total{{path=\"passthrough\"}} {}",
            self.statements_passthrough.get()
        );
        let _ = writeln!(o, "# HELP querent_statement_duration_seconds Statement latency through the proxy.\n# TYPE querent_statement_duration_seconds histogram");
        self.statement_latency.render(
            &mut o,
            "querent_statement_duration_seconds",
            "path=\"passthrough\",",
        );
        self.render_llm(&mut o);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.statement(StatementPath::Passthrough, Duration::from_micros(80));
        m.statement(StatementPath::Passthrough, Duration::from_millis(3));
        let text = m.render();
        assert!(
            text.contains(
                "querent_statement_duration_seconds_bucket{path=\"passthrough\",le=\"0.0001\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "querent_statement_duration_seconds_bucket{path=\"passthrough\",le=\"0.005\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("querent_statement_duration_seconds_count{path=\"passthrough\"} 2"),
            "{text}"
        );
        assert!(text.contains("querent_statements_total{path=\"passthrough\"} 2"));
    }
}
