//! The writer task: takes entries off the queue in batches and appends them to
//! `history.file` or hands them to the table sink (`crate::audit::table`, shared with the
//! audit log).

use super::{file, Counts, Entry};
use crate::audit::table::{Ack, DbMsg, SinkCounts};
use crate::metrics::METRICS;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most entries written in one go.
const BATCH: usize = 256;

/// What the queue carries.
pub(super) enum Msg {
    /// One entry (boxed: the queue's slots stay small).
    Entry(Box<Entry>),
    /// Acknowledge once everything queued before is written (or, for the table, one insert
    /// was attempted).
    Flush(oneshot::Sender<()>),
}

/// Where entries go.
pub(super) enum Sink {
    /// Appended to a JSON-lines file.
    File {
        path: PathBuf,
        /// A write failed and was logged; logged again only after a success.
        failing: bool,
    },
    /// Inserted by the table sink task.
    Table {
        tx: mpsc::Sender<DbMsg>,
        task: tokio::task::JoinHandle<()>,
    },
}

/// Runs until every sender is gone, then closes the sink.
pub(super) async fn run(mut rx: mpsc::Receiver<Msg>, mut sink: Sink, counts: Arc<Counts>) {
    while let Some(first) = rx.recv().await {
        let mut lines = Vec::new();
        let mut acks = Vec::new();
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(m) = next.take() {
            match m {
                Msg::Entry(e) => match serde_json::to_string(&*e) {
                    Ok(l) => {
                        counts.written.fetch_add(1, Relaxed);
                        METRICS.history_records.inc();
                        lines.push(l);
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "history: cannot serialize an entry");
                        counts.dropped(1);
                    }
                },
                Msg::Flush(ack) => acks.push(ack),
            }
            taken += 1;
            if taken < BATCH {
                next = rx.try_recv().ok();
            }
        }
        sink.write(lines, acks, &counts).await;
    }
    if let Sink::Table { tx, task } = sink {
        drop(tx);
        let _ = task.await;
    }
}

impl Sink {
    async fn write(&mut self, lines: Vec<String>, acks: Vec<oneshot::Sender<()>>, counts: &Counts) {
        match self {
            Sink::File { path, failing } => {
                if !lines.is_empty() {
                    let n = lines.len() as u64;
                    let mut text = lines.join("\n");
                    text.push('\n');
                    let p = path.clone();
                    let done = tokio::task::spawn_blocking(move || file::append(&p, &text))
                        .await
                        .unwrap_or_else(|e| Err(format!("history.file: {e}")));
                    match done {
                        Ok(()) => *failing = false,
                        Err(e) => {
                            counts.dropped(n);
                            if !*failing {
                                tracing::warn!(error = %e, "history.file: write failed; entries are being dropped");
                                *failing = true;
                            }
                        }
                    }
                }
                for ack in acks {
                    let _ = ack.send(());
                }
            }
            Sink::Table { tx, .. } => {
                for l in lines {
                    if tx.try_send(DbMsg::Line(l)).is_err() {
                        counts.dropped(1);
                    }
                }
                for ack in acks {
                    if let Err(e) = tx.send(DbMsg::Flush(Ack::Async(ack))).await {
                        if let DbMsg::Flush(ack) = e.0 {
                            ack.done();
                        }
                    }
                }
            }
        }
    }
}
