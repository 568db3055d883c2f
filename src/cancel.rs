//! Cancel keys the proxy hands to clients (BackendKeyData), mapped to the upstream backend a
//! session is bound to, so a client's CancelRequest reaches the right upstream query.

use crate::upstream::CancelKey;
use rand::Rng;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A session's upstream key, and the signal a cancel of its own work (an ASK waiting for a
/// language model, say) listens to.
#[derive(Default)]
struct Slot {
    key: Mutex<Option<CancelKey>>,
    asked: tokio::sync::Notify,
}

type Target = Arc<Slot>;

/// All live sessions' keys.
#[derive(Default)]
pub struct CancelRegistry {
    map: Mutex<HashMap<i32, (i32, Target)>>,
}

/// A session's key; unregisters itself when dropped.
pub struct Registration {
    /// Process id given to the client.
    pub pid: i32,
    /// Secret given to the client.
    pub secret: i32,
    target: Target,
    registry: Arc<CancelRegistry>,
}

impl Registration {
    /// Records the upstream backend the session is bound to (or none).
    pub fn set_upstream(&self, key: Option<CancelKey>) {
        *self.target.key.lock().unwrap_or_else(|p| p.into_inner()) = key;
    }

    /// Completes when a client sends this session's CancelRequest after the call (a cancel
    /// that arrived before is not remembered).
    pub async fn cancelled(&self) {
        self.target.asked.notified().await
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.pid);
    }
}

impl CancelRegistry {
    /// Gives a new session a unique random key.
    pub fn register(self: &Arc<Self>) -> Registration {
        let mut rng = rand::thread_rng();
        let target: Target = Arc::new(Slot::default());
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let pid = rng.gen_range(1..i32::MAX);
            if map.contains_key(&pid) {
                continue;
            }
            let secret = rng.gen::<i32>();
            map.insert(pid, (secret, target.clone()));
            return Registration {
                pid,
                secret,
                target,
                registry: self.clone(),
            };
        }
    }

    /// The upstream key to cancel for a client's (pid, secret), if it matches a live session
    /// that is bound upstream; the session's own waits ([`Registration::cancelled`]) end too.
    /// A wrong secret finds nothing.
    pub fn lookup(&self, pid: i32, secret: i32) -> Option<CancelKey> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let (s, target) = map.get(&pid)?;
        if *s != secret {
            return None;
        }
        target.asked.notify_waiters();
        let key = *target.key.lock().unwrap_or_else(|p| p.into_inner());
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_needs_secret_and_binding() {
        let r = Arc::new(CancelRegistry::default());
        let reg = r.register();
        assert_eq!(
            r.lookup(reg.pid, reg.secret),
            None,
            "unbound session has nothing to cancel"
        );
        let key = CancelKey {
            addr: "127.0.0.1:5432".parse().unwrap(),
            pid: 42,
            secret: 7,
        };
        reg.set_upstream(Some(key));
        assert_eq!(r.lookup(reg.pid, reg.secret), Some(key));
        assert_eq!(r.lookup(reg.pid, reg.secret.wrapping_add(1)), None);
        let pid = reg.pid;
        drop(reg);
        assert_eq!(r.lookup(pid, 0), None);
    }
}
