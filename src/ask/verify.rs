//! SQL a language model wrote, checked upstream before it runs: `EXPLAIN` on the proxy's own
//! connection to the database (read-only by default, with a statement timeout), so a wrong
//! column, a type error or a syntax error comes back as text the model can repair from, and
//! the client never sees a failed answer. `EXPLAIN` without `ANALYZE` plans the query and
//! runs nothing.

use crate::upstream::UpstreamTarget;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Connections for `EXPLAIN`, one per database, opened on first use.
pub struct Verifier {
    target: UpstreamTarget,
    clients: Mutex<HashMap<String, Arc<tokio_postgres::Client>>>,
}

impl Verifier {
    /// A verifier of databases of `target` (no connection is opened yet).
    pub fn new(target: UpstreamTarget) -> Verifier {
        Verifier {
            target,
            clients: Mutex::new(HashMap::new()),
        }
    }

    async fn client(&self, db: &str) -> Result<Arc<tokio_postgres::Client>, String> {
        let held = self.lock().get(db).filter(|c| !c.is_closed()).cloned();
        if let Some(c) = held {
            return Ok(c);
        }
        let c = crate::catalog::store::connect(&self.target, db).await?;
        c.batch_execute(
            "SET default_transaction_read_only = on; SET statement_timeout = '10s'; \
             SET application_name = 'querent-ask'",
        )
        .await
        .map_err(|e| describe(&e))?;
        let c = Arc::new(c);
        self.lock().insert(db.to_string(), c.clone());
        Ok(c)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio_postgres::Client>>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Ok` when PostgreSQL can plan `sql` in database `db`; its error otherwise. `Err` with
    /// `upstream: true` when the database could not be reached at all.
    pub async fn explain(&self, db: &str, sql: &str) -> Result<(), Failed> {
        let client = self.client(db).await.map_err(|e| Failed {
            message: e,
            upstream: true,
        })?;
        match client.simple_query(&format!("EXPLAIN {sql}")).await {
            Ok(_) => Ok(()),
            Err(e) => Err(Failed {
                upstream: e.as_db_error().is_none(),
                message: describe(&e),
            }),
        }
    }
}

/// Why `EXPLAIN` failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    /// PostgreSQL's message (with its hint), or the connection error.
    pub message: String,
    /// The database was not reached (no SQL error).
    pub upstream: bool,
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => {
            let mut m = format!("{}: {}", d.code().code(), d.message());
            if let Some(h) = d.hint() {
                m.push_str(&format!(" (hint: {h})"));
            }
            m
        }
        None => e.to_string(),
    }
}
