//! The model's answers shared between replicas through Redis (`cache.redis_url`): a minimal
//! RESP client (AUTH, SELECT, GET, SET ... EX) over one connection, with a short timeout on
//! every call. Redis is an optimisation: when it is down or slow, ASK goes on without it (and
//! says so in the log once per failure streak); it never delays an answer by more than the
//! timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// Longest wait for one Redis call.
const TIMEOUT: Duration = Duration::from_millis(250);

/// Largest value read back.
const MAX_VALUE: usize = 4 << 20;

/// A Redis server.
pub struct Redis {
    addr: String,
    password: Option<String>,
    db: u32,
    conn: Mutex<Option<BufReader<TcpStream>>>,
    failing: AtomicBool,
}

/// What Redis answered.
#[derive(Debug, PartialEq)]
enum Reply {
    Ok,
    Nil,
    Bulk(Vec<u8>),
    Int(i64),
}

impl Redis {
    /// From `redis://[:password@]host[:port][/db]`.
    pub fn parse(url: &str) -> Result<Redis, String> {
        let bad = || {
            format!(
                "cache.redis_url: expected redis://[:password@]host[:port][/db], got \"{}\"",
                redact(url)
            )
        };
        let rest = url.strip_prefix("redis://").ok_or_else(bad)?;
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((a, r)) => (Some(a), r),
            None => (None, rest),
        };
        let password = auth.map(|a| a.rsplit_once(':').map(|(_, p)| p).unwrap_or(a).to_string());
        let (hostport, db) = match rest.split_once('/') {
            Some((h, d)) if !d.is_empty() => (h, d.parse::<u32>().map_err(|_| bad())?),
            Some((h, _)) => (h, 0),
            None => (rest, 0),
        };
        if hostport.is_empty() {
            return Err(bad());
        }
        let addr = if hostport.contains(':') {
            hostport.to_string()
        } else {
            format!("{hostport}:6379")
        };
        Ok(Redis {
            addr,
            password: password.filter(|p| !p.is_empty()),
            db,
            conn: Mutex::new(None),
            failing: AtomicBool::new(false),
        })
    }

    /// The value of `key`, or `None` (absent, or Redis unavailable).
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self.call(&[b"GET", key.as_bytes()]).await {
            Some(Reply::Bulk(v)) => Some(v),
            _ => None,
        }
    }

    /// Sets `key` to `value` for `ttl`; failures are logged and otherwise ignored.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let secs = ttl.as_secs().max(1).to_string();
        let _ = self
            .call(&[b"SET", key.as_bytes(), value, b"EX", secs.as_bytes()])
            .await;
    }

    async fn call(&self, args: &[&[u8]]) -> Option<Reply> {
        let mut conn = self.conn.lock().await;
        let result = tokio::time::timeout(TIMEOUT, async {
            if conn.is_none() {
                *conn = Some(self.open().await?);
            }
            let c = conn.as_mut().ok_or("no connection")?;
            command(c, args).await
        })
        .await
        .unwrap_or_else(|_| Err("timed out".into()));
        match result {
            Ok(r) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(addr = %self.addr, "Redis answers again; ASK shares model answers");
                }
                Some(r)
            }
            Err(e) => {
                // A connection in an unknown state is never reused.
                *conn = None;
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(addr = %self.addr, error = %e, "Redis failed; ASK goes on without the shared cache");
                }
                None
            }
        }
    }

    async fn open(&self) -> Result<BufReader<TcpStream>, String> {
        let s = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let mut c = BufReader::new(s);
        if let Some(p) = &self.password {
            command(&mut c, &[b"AUTH", p.as_bytes()]).await?;
        }
        if self.db != 0 {
            command(&mut c, &[b"SELECT", self.db.to_string().as_bytes()]).await?;
        }
        Ok(c)
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            format!("{}<credentials>@{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

async fn command(c: &mut BufReader<TcpStream>, args: &[&[u8]]) -> Result<Reply, String> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    c.get_mut()
        .write_all(&out)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut line = String::new();
    c.read_line(&mut line)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let line = line.trim_end();
    let (kind, rest) = line.split_at(line.len().min(1));
    match kind {
        "+" => Ok(Reply::Ok),
        "-" => Err(format!("Redis: {rest}")),
        ":" => rest
            .parse()
            .map(Reply::Int)
            .map_err(|_| "bad integer".into()),
        "$" => {
            let n: i64 = rest.parse().map_err(|_| "bad length".to_string())?;
            if n < 0 {
                return Ok(Reply::Nil);
            }
            let n = n as usize;
            if n > MAX_VALUE {
                return Err(format!("value of {n} bytes"));
            }
            let mut buf = vec![0u8; n + 2];
            c.read_exact(&mut buf)
                .await
                .map_err(|e| format!("read: {e}"))?;
            buf.truncate(n);
            Ok(Reply::Bulk(buf))
        }
        _ => Err(format!("unexpected reply {line:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_the_password() {
        let r = Redis::parse("redis://:s3cret@cache.internal:6380/2").unwrap();
        assert_eq!(r.addr, "cache.internal:6380");
        assert_eq!(r.password.as_deref(), Some("s3cret"));
        assert_eq!(r.db, 2);
        let r = Redis::parse("redis://127.0.0.1").unwrap();
        assert_eq!((r.addr.as_str(), r.db), ("127.0.0.1:6379", 0));
        let e = Redis::parse("http://:s3cret@x/1").err().unwrap();
        assert!(!e.contains("s3cret"), "{e}");
        assert!(Redis::parse("redis://x/notanumber").is_err());
    }

    #[tokio::test]
    async fn get_and_set_against_the_local_redis_or_nothing() {
        // Redis on 127.0.0.1:6379 (scripts/ensure-services.sh starts it).
        let r = Redis::parse("redis://127.0.0.1:6379/0").unwrap();
        let key = format!("querent:test:{}", std::process::id());
        r.set(&key, b"value \r\n with CRLF", Duration::from_secs(30))
            .await;
        assert_eq!(
            r.get(&key).await.as_deref(),
            Some(&b"value \r\n with CRLF"[..])
        );
        assert_eq!(r.get("querent:test:absent").await, None);
        // A server that is not there: no answer, quickly, no panic.
        let gone = Redis::parse("redis://127.0.0.1:9/0").unwrap();
        let t = std::time::Instant::now();
        assert_eq!(gone.get(&key).await, None);
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}
