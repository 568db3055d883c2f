//! `querent history list` and `querent history verify ID`: the ASK history (`history.table`
//! or `history.file`) from the shell.

use clap::{Args, Subcommand};
use querent::config;
use querent::history::{Entry, Store};
use std::io::Write;
use std::path::PathBuf;

/// `querent history`.
#[derive(Subcommand)]
pub enum HistoryCommand {
    /// Print the latest entries, newest first.
    List {
        #[command(flatten)]
        place: Place,
        /// How many entries.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Mark an answered entry verified: its question and SQL become an example that similar
    /// questions are shown (to the roles that may read its tables).
    Verify {
        #[command(flatten)]
        place: Place,
        /// The entry's id (the first column of `querent history list`).
        id: String,
    },
}

/// Where the history is.
#[derive(Args)]
pub struct Place {
    /// TOML configuration file (also QUERENT_CONFIG); its history.* settings are the defaults.
    #[arg(long, env = "QUERENT_CONFIG")]
    config: Option<PathBuf>,
    /// The history table, schema.table (default: history.table).
    #[arg(long)]
    table: Option<String>,
    /// The history file (default: history.file).
    #[arg(long)]
    file: Option<String>,
    /// PostgreSQL URL of the table (default: history.upstream, else upstream).
    #[arg(long)]
    upstream: Option<String>,
}

impl Place {
    fn store(&self) -> Result<Store, String> {
        // A place named on the command line replaces the configured one of the other kind.
        let mut flags: Vec<(&str, String)> = Vec::new();
        if let Some(t) = &self.table {
            flags.push(("history.table", t.clone()));
            flags.push(("history.file", String::new()));
        }
        if let Some(f) = &self.file {
            flags.push(("history.file", f.clone()));
            flags.push(("history.table", String::new()));
        }
        if let Some(u) = &self.upstream {
            flags.push(("history.upstream", u.clone()));
        }
        let env = std::env::vars().filter(|(k, _)| k != "QUERENT_CONFIG");
        let cfg = config::load(self.config.as_deref(), env, &flags).map_err(|e| e.to_string())?;
        Store::from_config(&cfg)?.ok_or_else(|| {
            "no history: set history.table or history.file (in the configuration, as QUERENT_HISTORY_TABLE or QUERENT_HISTORY_FILE, or with --table or --file)".to_string()
        })
    }
}

/// Runs `querent history ...`.
pub fn history(cmd: HistoryCommand) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    match cmd {
        HistoryCommand::List { place, limit, json } => {
            let store = place.store()?;
            let entries = rt.block_on(store.list(limit))?;
            let mut out = std::io::stdout().lock();
            for e in &entries {
                let line = if json {
                    serde_json::to_string(e).map_err(|e| e.to_string())?
                } else {
                    text_line(e)
                };
                // A closed pipe (`| head`) just ends the listing.
                if writeln!(out, "{line}").is_err() {
                    break;
                }
            }
            if entries.is_empty() {
                eprintln!("no entries in {}", store.describe());
            }
            Ok(())
        }
        HistoryCommand::Verify { place, id } => {
            let store = place.store()?;
            let e = rt.block_on(store.verify(id.trim()))?;
            println!("verified {}: {:?}", e.id, e.question);
            Ok(())
        }
    }
}

fn text_line(e: &Entry) -> String {
    format!(
        "{}  {}  {}  {}  {:<8}  {:<13}  {:<8}  {:?}",
        e.id,
        e.at,
        e.database,
        e.user,
        e.outcome.to_string(),
        e.planner.to_string(),
        if e.verified { "verified" } else { "-" },
        e.question
    )
}
