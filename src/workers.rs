//! Thread-per-core execution: each worker thread runs its own single-threaded tokio runtime,
//! and every accepted connection lives on one worker. A session's task and the I/O driver that
//! wakes it share a thread, so relaying costs no cross-thread wakeups or work stealing.

use crate::server::Shared;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// One accepted connection handed to a worker.
pub struct Job {
    /// The socket, detached from the acceptor's runtime.
    pub tcp: std::net::TcpStream,
    /// The client's address.
    pub peer: SocketAddr,
    /// Held while the session lives; shutdown waits for every one to drop.
    pub alive: mpsc::Sender<()>,
}

/// The worker threads.
pub struct Workers {
    senders: Vec<mpsc::UnboundedSender<Job>>,
    next: AtomicUsize,
}

/// Counts an active client and releases its shutdown token, even if its task panics.
struct Active(#[allow(dead_code)] mpsc::Sender<()>);

impl Drop for Active {
    fn drop(&mut self) {
        crate::metrics::METRICS.connections_active.dec();
    }
}

impl Workers {
    /// Starts `n` workers (0 = one per CPU).
    pub fn start(n: usize, shared: Arc<Shared>) -> Result<Workers, String> {
        let n = if n == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            n
        };
        let mut senders = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, rx) = mpsc::unbounded_channel();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start worker runtime: {e}"))?;
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("querent-worker-{i}"))
                // Room for the guard's deepest admitted statement (reserved, touched only as used).
                .stack_size(crate::guard::depth::GUARD_STACK)
                .spawn(move || rt.block_on(run(rx, shared)))
                .map_err(|e| format!("cannot start worker thread: {e}"))?;
            senders.push(tx);
        }
        Ok(Workers {
            senders,
            next: AtomicUsize::new(0),
        })
    }

    /// Hands a connection to the next worker (round robin).
    pub fn dispatch(&self, job: Job) {
        crate::metrics::METRICS.connections_active.inc();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.senders.len();
        if let Err(mpsc::error::SendError(job)) = self.senders[i].send(job) {
            // The worker is gone (it only stops at shutdown): the connection just closes.
            drop(Active(job.alive));
        }
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Job>, shared: Arc<Shared>) {
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            job = rx.recv() => {
                let Some(job) = job else { break };
                let active = Active(job.alive);
                match tokio::net::TcpStream::from_std(job.tcp) {
                    Ok(tcp) => {
                        let shared = shared.clone();
                        sessions.spawn(async move {
                            crate::session::serve(tcp, job.peer, shared).await;
                            drop(active);
                        });
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot register an accepted socket"),
                }
            }
            Some(done) = sessions.join_next(), if !sessions.is_empty() => {
                if let Err(e) = done {
                    if e.is_panic() {
                        tracing::error!("a session task panicked; the listener keeps serving");
                    }
                }
            }
        }
    }
    // No new connections: let the running sessions finish (bounded by the shutdown grace).
    while sessions.join_next().await.is_some() {}
}
