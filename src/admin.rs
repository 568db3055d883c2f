//! The admin HTTP port: `GET /metrics` (Prometheus text), `GET /healthz`, `GET /catalog` (a
//! JSON summary of the catalogs read), `POST /catalog/refresh[?database=DB]` and
//! `GET /v1/charts/<id>.svg|.json` (answers' charts, `crate::ask::chart`).
//! A deliberately small HTTP/1.1 responder: one request per connection, no keep-alive.

mod page;

use crate::catalog::store::CatalogStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the admin port serves besides metrics.
#[derive(Clone)]
pub struct AdminState {
    /// Becomes true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// The server's catalogs.
    pub catalog: Arc<CatalogStore>,
    /// Database refreshed when the request names none.
    pub default_db: String,
    /// The charts of answers, when the server keeps them.
    pub charts: Option<Arc<crate::ask::chart::Charts>>,
    /// The server, for `POST /v1/ask` (`crate::api`); `None` serves no API.
    pub api: Option<Arc<crate::server::Shared>>,
}

/// Binds the admin port and serves it in the background; returns the bound address.
pub async fn start(addr: SocketAddr, state: AdminState) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on admin_listen {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let _ = handle(tcp, state).await;
            });
        }
    });
    Ok(bound)
}

async fn read_head(tcp: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > 16 * 1024 {
            // RFC 6585: say so rather than drop the connection.
            let body = "{\"error\":{\"code\":\"54000\",\"message\":\"the request head is longer than 16 KiB\",\"hint\":\"send shorter headers (a bearer token is a few hundred bytes)\",\"detail\":null}}\n";
            let head = format!(
                "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            tcp.write_all(head.as_bytes()).await?;
            tcp.write_all(body.as_bytes()).await?;
            return Ok(None);
        }
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(buf))
}

/// Decodes `%XX` escapes of a query-string value (`+` stays a plus sign). `None` for a bad
/// escape or text that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

type Reply = (&'static str, &'static str, String);

fn json_error(status: &'static str, db: &str, error: &str) -> Reply {
    let body = serde_json::json!({ "database": db, "error": error });
    (status, "application/json", format!("{body}\n"))
}

/// `POST /catalog/refresh[?database=DB]`. The port has no authentication, so only the default
/// database and databases the server already read (for its clients) can be refreshed: a
/// caller cannot make the proxy connect to and profile any database it names.
async fn refresh(state: &AdminState, query: &str) -> Reply {
    let named = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("database="))
        .filter(|d| !d.is_empty());
    let db = match named.map(percent_decode) {
        None => state.default_db.clone(),
        Some(Some(db)) => db,
        Some(None) => {
            let raw = named.unwrap_or_default();
            return json_error(
                "400 Bad Request",
                raw,
                "the database name is not valid percent-encoded UTF-8",
            );
        }
    };
    if db != state.default_db && !state.catalog.knows(&db) {
        let e = format!(
            "no catalog of database {db:?} is known: only the default database ({:?}) and databases already read can be refreshed",
            state.default_db
        );
        return json_error("404 Not Found", &db, &e);
    }
    match state.catalog.refresh(&db).await {
        Ok(l) => (
            "200 OK",
            "application/json",
            format!("{}\n", crate::catalog::store::summary(&db, Some(&l), None)),
        ),
        Err(e) => (
            "502 Bad Gateway",
            "application/json",
            format!("{}\n", crate::catalog::store::summary(&db, None, Some(&e))),
        ),
    }
}

fn no_api() -> Reply {
    crate::api::ApiError::new(
        "404 Not Found",
        "0A000",
        "this server has no API",
        "the API runs on a server started by querent serve",
    )
    .reply()
}

/// The request head (up to the blank line) as text.
fn head_text(buf: &[u8]) -> String {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(buf.len(), |i| i + 4);
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The body of a request whose head (and perhaps the body's start) is in `buf`: exactly
/// `Content-Length` bytes, at most [`crate::api::MAX_BODY`], within 10 s.
async fn read_body(tcp: &mut TcpStream, buf: &[u8]) -> Result<Vec<u8>, crate::api::ApiError> {
    use crate::api::{ApiError, MAX_BODY};
    let head = head_text(buf);
    let Some(len) = crate::api::header(&head, "content-length") else {
        return Err(ApiError::new(
            "411 Length Required",
            "22P02",
            "the request has no Content-Length",
            "send the JSON body with a Content-Length header (chunked bodies are not read)",
        ));
    };
    let len: usize = len.parse().map_err(|_| {
        ApiError::new(
            "400 Bad Request",
            "22P02",
            "Content-Length is not a number",
            "send a valid Content-Length",
        )
    })?;
    if len > MAX_BODY {
        return Err(ApiError::new(
            "413 Payload Too Large",
            "54000",
            format!("the body has {len} bytes, more than {MAX_BODY}"),
            "send one question at a time",
        ));
    }
    let mut body = buf[head.len()..].to_vec();
    body.truncate(len);
    let read = async {
        let mut chunk = [0u8; 4096];
        while body.len() < len {
            let n = tcp.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n.min(len - body.len())]);
        }
        Ok::<_, std::io::Error>(())
    };
    match tokio::time::timeout(Duration::from_secs(10), read).await {
        Ok(Ok(())) if body.len() == len => Ok(body),
        _ => Err(ApiError::new(
            "400 Bad Request",
            "08P01",
            "the body ended before Content-Length bytes arrived",
            "send the whole body",
        )),
    }
}

async fn handle(mut tcp: TcpStream, state: AdminState) -> std::io::Result<()> {
    let head = tokio::time::timeout(Duration::from_secs(10), read_head(&mut tcp)).await;
    let Ok(Ok(Some(buf))) = head else {
        return Ok(());
    };
    let line = String::from_utf8_lossy(&buf);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let shutdown = &state.shutdown;
    let (status, ctype, body) = match (method, path) {
        ("GET", "/") => page::reply(),
        ("POST", "/v1/ask") => match state.api.as_deref() {
            Some(shared) => match read_body(&mut tcp, &buf).await {
                Ok(body) => {
                    let head = head_text(&buf);
                    crate::api::post_ask(shared, &head, &body).await
                }
                Err(e) => e.reply(),
            },
            None => no_api(),
        },
        (_, "/v1/ask") => crate::api::ApiError::new(
            "405 Method Not Allowed",
            "0A000",
            format!("{method} /v1/ask is not supported"),
            "POST a JSON body: {\"question\": \"...\"}",
        )
        .reply(),
        ("GET", "/v1/openapi.json") => ("200 OK", "application/json", crate::api::OPENAPI.into()),
        ("GET", "/catalog") => ("200 OK", "application/json", state.catalog.summary_json()),
        ("POST", "/catalog/refresh") => refresh(&state, query).await,
        ("GET", p) if p.starts_with(crate::ask::chart::PREFIX) => {
            crate::ask::chart::route(p, state.charts.as_deref())
        }
        ("GET", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4",
            crate::metrics::METRICS.render(),
        ),
        ("GET", "/healthz") if *shutdown.borrow() => (
            "503 Service Unavailable",
            "application/json",
            "{\"status\":\"shutting_down\"}\n".into(),
        ),
        ("GET", "/healthz") => ("200 OK", "application/json", "{\"status\":\"ok\"}\n".into()),
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "not found: try /metrics, /healthz or /catalog\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET, and POST /catalog/refresh, are supported\n".into(),
        ),
    };
    // Answers and charts hold a user's data: never cached, never sniffed as another type.
    let private = if path.starts_with("/v1/") {
        "Cache-Control: private, no-store\r\nX-Content-Type-Options: nosniff\r\n"
    } else {
        ""
    };
    // RFC 9110: a 405 says which methods the resource has.
    let allow = match (status.starts_with("405"), path) {
        (false, _) => "",
        (true, "/v1/ask") => "Allow: POST\r\n",
        (true, "/catalog/refresh") => "Allow: POST\r\n",
        (true, _) => "Allow: GET\r\n",
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{allow}{private}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await?;
    tcp.write_all(body.as_bytes()).await?;
    tcp.shutdown().await
}
