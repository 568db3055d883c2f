//! Backoff after failed logins, per user name from one client address and per address.
//!
//! The first failures of a key cost nothing ([`USER_FREE_FAILURES`] for a user name from one
//! address, [`ADDR_FREE_FAILURES`] for an address, which many users may share behind a NAT or a
//! BI server); after that each attempt for the key waits for its turn: turns are `base`
//! (`limits.login_backoff`) apart, doubling with every further failure up to `max`
//! (`limits.login_backoff_max`), and an attempt takes the next free turn, so parallel
//! connections do not multiply the guessing rate. An attempt whose turn is further away than
//! `max` is refused at once (it would only hold a connection). Keys are per address, so an
//! attacker failing a user's logins from one address does not lock that user out elsewhere.
//! A successful login clears its key's and its address's record; records idle for
//! [`FORGET_AFTER`] are forgotten, and at most `MAX_KEYS` are kept.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of a user name before its attempts are slowed down.
pub const USER_FREE_FAILURES: u32 = 3;
/// Failures from an address before its attempts are slowed down.
pub const ADDR_FREE_FAILURES: u32 = 10;
/// A key with no failure for this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String, IpAddr),
    Addr(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last_failure: Instant,
    /// The earliest time the next attempt of this key may go ahead.
    next_turn: Instant,
}

/// Failed-login records, shared by all connections.
#[derive(Debug, Default)]
pub struct Throttle {
    base: Duration,
    max: Duration,
    records: Mutex<HashMap<Key, Record>>,
}

impl Key {
    fn free(&self) -> u32 {
        match self {
            Key::User(..) => USER_FREE_FAILURES,
            Key::Addr(_) => ADDR_FREE_FAILURES,
        }
    }
}

impl Throttle {
    /// Backoff starting at `base` after the free failures, capped at `max`; a zero `base`
    /// turns it off.
    pub fn new(base: Duration, max: Duration) -> Throttle {
        Throttle {
            base,
            max,
            records: Mutex::default(),
        }
    }

    /// The wait between attempts of `key` after `failures` failures.
    fn delay(&self, key: &Key, failures: u32) -> Duration {
        if failures < key.free() || self.base.is_zero() {
            return Duration::ZERO;
        }
        let doublings = (failures - key.free()).min(16);
        (self.base * 2u32.pow(doublings)).min(self.max)
    }

    fn keys(user: &str, addr: IpAddr) -> [Key; 2] {
        [Key::User(user.to_string(), addr), Key::Addr(addr)]
    }

    /// How long this attempt must wait for its turn (zero for keys without recent failures);
    /// the turn is taken, so the next attempt of the same key waits longer. `Err` with the
    /// wait when it would exceed the longest backoff: the attempt is refused, no turn taken.
    pub fn turn(&self, user: &str, addr: IpAddr) -> Result<Duration, Duration> {
        let now = Instant::now();
        let mut map = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let keys = Self::keys(user, addr);
        let mut plan = Vec::new();
        let mut wait = Duration::ZERO;
        for k in &keys {
            let Some(r) = map.get(k) else { continue };
            let step = self.delay(k, r.failures);
            if step.is_zero() {
                continue;
            }
            let turn = r.next_turn.max(now);
            wait = wait.max(turn - now);
            plan.push((k.clone(), turn + step));
        }
        if wait > self.max {
            return Err(wait);
        }
        for (k, next) in plan {
            if let Some(r) = map.get_mut(&k) {
                r.next_turn = next;
            }
        }
        Ok(wait)
    }

    /// Records a failed attempt.
    pub fn failed(&self, user: &str, addr: IpAddr) {
        let now = Instant::now();
        let mut map = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, r| now - r.last_failure < FORGET_AFTER);
            if map.len() >= MAX_KEYS {
                map.clear(); // bounded, whatever a flood of names and addresses does
            }
        }
        for k in Self::keys(user, addr) {
            let step_key = k.clone();
            let r = map.entry(k).or_insert(Record {
                failures: 0,
                last_failure: now,
                next_turn: now,
            });
            if now - r.last_failure > FORGET_AFTER {
                r.failures = 0;
            }
            r.failures = r.failures.saturating_add(1);
            r.last_failure = now;
            let step = self.delay(&step_key, r.failures);
            r.next_turn = r.next_turn.max(now + step);
        }
    }

    /// Records a successful login: its user (from this address) and its address start afresh.
    pub fn succeeded(&self, user: &str, addr: IpAddr) {
        let mut map = self.records.lock().unwrap_or_else(|p| p.into_inner());
        for k in Self::keys(user, addr) {
            map.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(10);

    #[test]
    fn delays_grow_and_are_capped() {
        let t = Throttle::new(BASE, MAX);
        let u = Key::User("u".into(), "10.0.0.1".parse().unwrap());
        let free = USER_FREE_FAILURES;
        assert_eq!(t.delay(&u, 0), Duration::ZERO);
        assert_eq!(t.delay(&u, free - 1), Duration::ZERO);
        assert_eq!(t.delay(&u, free), BASE);
        assert_eq!(t.delay(&u, free + 1), BASE * 2);
        assert_eq!(t.delay(&u, 300), MAX);
        assert_eq!(
            t.delay(&Key::Addr("10.0.0.1".parse().unwrap()), free),
            Duration::ZERO
        );
        assert_eq!(
            Throttle::new(Duration::ZERO, MAX).delay(&u, 300),
            Duration::ZERO
        );
    }

    #[test]
    fn turns_space_out_parallel_attempts() {
        let t = Throttle::new(BASE, MAX);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..USER_FREE_FAILURES {
            assert_eq!(t.turn("alice", a), Ok(Duration::ZERO));
            t.failed("alice", a);
        }
        // Three attempts at once: each takes the next turn.
        let w: Vec<Duration> = (0..3).map(|_| t.turn("alice", a).unwrap()).collect();
        assert!(w[0] > Duration::ZERO && w[1] > w[0] && w[2] > w[1], "{w:?}");
        // Alice from another address is not slowed by failures at this one, nor is bob here
        // (an address gets more free failures than a user).
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(t.turn("alice", b), Ok(Duration::ZERO));
        assert_eq!(t.turn("bob", a), Ok(Duration::ZERO));
        // A success clears alice at this address.
        t.succeeded("alice", a);
        assert_eq!(t.turn("alice", a), Ok(Duration::ZERO));
    }

    #[test]
    fn a_queue_longer_than_the_longest_wait_is_refused() {
        let t = Throttle::new(BASE, Duration::from_secs(1));
        let a: IpAddr = "10.0.0.9".parse().unwrap();
        for _ in 0..USER_FREE_FAILURES + 3 {
            t.failed("mallory", a);
        }
        let mut refused = 0;
        for _ in 0..20 {
            if t.turn("mallory", a).is_err() {
                refused += 1;
            }
        }
        assert!(
            refused > 10,
            "turns beyond the longest wait are refused, not queued"
        );
    }
}
