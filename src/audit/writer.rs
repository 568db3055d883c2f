//! The writer thread: drains the queue, appends each record as a JSON line to `audit.file`
//! and hands it to the table sink.

use super::table::{Ack, DbMsg, DbSink, DbTarget, SinkCounts};
use super::{AuditRecord, Counts, Ctl, DB_BATCH_ROWS, POLL};
use crate::metrics::METRICS;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Records drained before the writer lets the table sink run.
const DRAIN_SLICE: usize = 512;

/// Opens `p` for appending (created with mode 0600); errors name `setting`.
pub(crate) fn open_append_file(p: &std::path::Path, setting: &str) -> Result<File, String> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(p)
        .map_err(|e| format!("{setting}: cannot open {} for appending: {e}", p.display()))
}

pub(super) fn open_append(p: &std::path::Path) -> Result<BufWriter<File>, String> {
    open_append_file(p, "audit.file").map(|f| BufWriter::with_capacity(64 * 1024, f))
}

pub(super) struct Writer {
    pub(super) rx: Receiver<AuditRecord>,
    pub(super) ctl: mpsc::UnboundedReceiver<Ctl>,
    pub(super) file: Option<BufWriter<File>>,
    pub(super) path: Option<PathBuf>,
    pub(super) counts: Arc<Counts>,
    pub(super) file_failing: bool,
    /// The table sink has stopped: records can no longer reach it.
    pub(super) table_closed: bool,
}

impl Writer {
    pub(super) async fn run(mut self, db: Option<DbTarget>, queue: usize) {
        let (db_tx, db_task) = match db {
            Some(target) => {
                let (tx, rx) = mpsc::channel(queue.max(DB_BATCH_ROWS));
                let sink = DbSink::new(target, self.counts.clone(), queue.max(DB_BATCH_ROWS));
                (Some(tx), Some(tokio::spawn(sink.run(rx))))
            }
            None => (None, None),
        };
        loop {
            let ctl = tokio::select! {
                c = self.ctl.recv() => Some(c.unwrap_or(Ctl::Shutdown)),
                _ = tokio::time::sleep(POLL) => None,
            };
            let open = if ctl.is_some() || !self.counts.paused.load(Relaxed) {
                self.drain(db_tx.as_ref()).await
            } else {
                true
            };
            self.flush_file();
            match ctl {
                Some(Ctl::Flush(ack)) => match &db_tx {
                    Some(db) => {
                        if let Err(e) = db.send(DbMsg::Flush(Ack::Blocking(ack))).await {
                            if let DbMsg::Flush(ack) = e.0 {
                                ack.done();
                            }
                        }
                    }
                    None => {
                        let _ = ack.send(());
                    }
                },
                Some(Ctl::Shutdown) => break,
                None if !open => break,
                None => {}
            }
        }
        self.drain(db_tx.as_ref()).await;
        self.flush_file();
        drop(db_tx);
        if let Some(t) = db_task {
            let _ = t.await;
            // Records other clones sent during the last insert still reach the file (and
            // count as dropped for the table).
            self.table_closed = true;
            self.drain(None).await;
            self.flush_file();
        }
    }

    /// Writes every queued record; false once every sender is gone.
    async fn drain(&mut self, db: Option<&mpsc::Sender<DbMsg>>) -> bool {
        let mut n = 0;
        loop {
            let rec = match self.rx.try_recv() {
                Ok(r) => r,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            };
            self.write(rec, db);
            n += 1;
            if n % DRAIN_SLICE == 0 {
                // Let the table sink take its share before the next slice.
                tokio::task::yield_now().await;
            }
        }
    }

    fn write(&mut self, rec: AuditRecord, db: Option<&mpsc::Sender<DbMsg>>) {
        let mut line = match serde_json::to_string(&rec) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "audit: cannot serialize a record");
                self.counts.dropped(1);
                return;
            }
        };
        self.counts.written.fetch_add(1, Relaxed);
        METRICS.audit_records.inc();
        let mut lost = false;
        if let Some(f) = &mut self.file {
            line.push('\n');
            match f.write_all(line.as_bytes()) {
                Ok(()) => self.file_failing = false,
                Err(e) => {
                    lost = true;
                    if !self.file_failing {
                        tracing::warn!(error = %e, file = ?self.path, "audit.file: write failed; records are being dropped");
                        self.file_failing = true;
                    }
                }
            }
            line.pop();
        }
        match db {
            Some(db) => lost |= db.try_send(DbMsg::Line(line)).is_err(),
            None => lost |= self.table_closed,
        }
        if lost {
            self.counts.dropped(1);
        }
    }

    fn flush_file(&mut self) {
        if let Some(f) = &mut self.file {
            if let Err(e) = f.flush() {
                if !self.file_failing {
                    tracing::warn!(error = %e, file = ?self.path, "audit.file: flush failed");
                    self.file_failing = true;
                }
            }
        }
    }
}
