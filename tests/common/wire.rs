//! A tiny raw PostgreSQL v3 wire client for tests: plain TCP, trust authentication, arbitrary
//! frontend messages out, backend messages back as `(tag, raw body)` without interpretation.
#![allow(dead_code)]

use bytes::{BufMut, BytesMut};
use std::fmt::Write as _;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long any single read may wait before the test gives up.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// One backend message: its type byte and its body (without the length word).
#[derive(Clone, PartialEq, Eq)]
pub struct Msg {
    pub tag: u8,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A connected, logged-in session.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    /// Everything the server sent up to and including the first ReadyForQuery.
    pub startup: Vec<Msg>,
}

impl Conn {
    /// Connects to `127.0.0.1:port`, sends a StartupMessage for user root, database test plus
    /// `params`, and reads up to the first ReadyForQuery. Fails on an ErrorResponse or a request
    /// for a password.
    pub async fn connect(port: u16, params: &[(&str, &str)]) -> Result<Conn, String> {
        Self::connect_as(port, "root", "test", params).await
    }

    /// Same, as `user` on `database`.
    pub async fn connect_as(
        port: u16,
        user: &str,
        database: &str,
        params: &[(&str, &str)],
    ) -> Result<Conn, String> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("connect {port}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let mut c = Conn {
            stream,
            buf: BytesMut::with_capacity(8192),
            startup: Vec::new(),
        };
        let mut body = BytesMut::new();
        body.put_i32(196608);
        for (k, v) in [("user", user), ("database", database)]
            .iter()
            .chain(params.iter())
        {
            cstr(&mut body, k);
            cstr(&mut body, v);
        }
        body.put_u8(0);
        let mut out = BytesMut::new();
        out.put_i32(body.len() as i32 + 4);
        out.extend_from_slice(&body);
        c.send(&out).await?;
        loop {
            let m = c.read_msg().await?;
            let tag = m.tag;
            match tag {
                b'E' => return Err(format!("startup failed: {}", m.describe())),
                b'R' if m.body.get(..4) != Some(&[0, 0, 0, 0]) => {
                    return Err("server asked for a password".into())
                }
                _ => {}
            }
            c.startup.push(m);
            if tag == b'Z' {
                return Ok(c);
            }
        }
    }

    /// Writes raw frontend bytes.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| format!("write: {e}"))
    }

    /// Reads one backend message.
    pub async fn read_msg(&mut self) -> Result<Msg, String> {
        loop {
            if self.buf.len() >= 5 {
                let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]])
                    as usize;
                if len < 4 {
                    return Err(format!("bad message length {len}"));
                }
                if self.buf.len() > len {
                    let frame = self.buf.split_to(1 + len);
                    return Ok(Msg {
                        tag: frame[0],
                        body: frame[5..].to_vec(),
                    });
                }
            }
            let read =
                tokio::time::timeout(READ_TIMEOUT, self.stream.read_buf(&mut self.buf)).await;
            match read {
                Err(_) => return Err("timed out waiting for the server".into()),
                Ok(Err(e)) => return Err(format!("read: {e}")),
                Ok(Ok(0)) => return Err("server closed the connection".into()),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// Reads messages until `n` ReadyForQuery messages have arrived (inclusive).
    pub async fn until_ready(&mut self, n: usize, out: &mut Vec<Msg>) -> Result<(), String> {
        let mut seen = 0;
        while seen < n {
            let m = self.read_msg().await?;
            if m.tag == b'Z' {
                seen += 1;
            }
            out.push(m);
        }
        Ok(())
    }

    /// Reads exactly `n` messages.
    pub async fn read_n(&mut self, n: usize, out: &mut Vec<Msg>) -> Result<(), String> {
        for _ in 0..n {
            out.push(self.read_msg().await?);
        }
        Ok(())
    }

    /// Sends Terminate and closes.
    pub async fn close(mut self) {
        let _ = self.send(&terminate()).await;
        let _ = self.stream.shutdown().await;
    }
}

// ---- frontend message builders ----

fn cstr(b: &mut BytesMut, s: &str) {
    b.extend_from_slice(s.as_bytes());
    b.put_u8(0);
}

fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(tag);
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Query (simple protocol).
pub fn query(sql: &str) -> Vec<u8> {
    let mut b = BytesMut::new();
    cstr(&mut b, sql);
    frame(b'Q', &b)
}

/// Parse with explicit parameter type OIDs (0 = unspecified).
pub fn parse(name: &str, sql: &str, types: &[u32]) -> Vec<u8> {
    let mut b = BytesMut::new();
    cstr(&mut b, name);
    cstr(&mut b, sql);
    b.put_i16(types.len() as i16);
    for t in types {
        b.put_u32(*t);
    }
    frame(b'P', &b)
}

/// Bind: parameter format codes, parameter values (None = NULL), result format codes
/// (0 = text, 1 = binary; empty = all text, one = applies to all columns).
pub fn bind(
    portal: &str,
    stmt: &str,
    param_formats: &[i16],
    params: &[Option<Vec<u8>>],
    result_formats: &[i16],
) -> Vec<u8> {
    let mut b = BytesMut::new();
    cstr(&mut b, portal);
    cstr(&mut b, stmt);
    b.put_i16(param_formats.len() as i16);
    for f in param_formats {
        b.put_i16(*f);
    }
    b.put_i16(params.len() as i16);
    for p in params {
        match p {
            None => b.put_i32(-1),
            Some(v) => {
                b.put_i32(v.len() as i32);
                b.extend_from_slice(v);
            }
        }
    }
    b.put_i16(result_formats.len() as i16);
    for f in result_formats {
        b.put_i16(*f);
    }
    frame(b'B', &b)
}

/// Describe a statement (`b'S'`) or portal (`b'P'`).
pub fn describe(kind: u8, name: &str) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_u8(kind);
    cstr(&mut b, name);
    frame(b'D', &b)
}

/// Execute a portal, returning at most `max_rows` rows (0 = all).
pub fn execute(portal: &str, max_rows: i32) -> Vec<u8> {
    let mut b = BytesMut::new();
    cstr(&mut b, portal);
    b.put_i32(max_rows);
    frame(b'E', &b)
}

/// Close a statement (`b'S'`) or portal (`b'P'`).
pub fn close(kind: u8, name: &str) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_u8(kind);
    cstr(&mut b, name);
    frame(b'C', &b)
}

/// Flush.
pub fn flush() -> Vec<u8> {
    frame(b'H', &[])
}

/// Sync.
pub fn sync() -> Vec<u8> {
    frame(b'S', &[])
}

/// Terminate.
pub fn terminate() -> Vec<u8> {
    frame(b'X', &[])
}

// ---- backend message decoding (for assertions and readable diffs) ----

/// A cursor over a message body.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn i16(&mut self) -> Option<i16> {
        let v = i16::from_be_bytes(self.0.get(..2)?.try_into().ok()?);
        self.0 = &self.0[2..];
        Some(v)
    }
    fn i32(&mut self) -> Option<i32> {
        let v = i32::from_be_bytes(self.0.get(..4)?.try_into().ok()?);
        self.0 = &self.0[4..];
        Some(v)
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let v = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(v)
    }
    fn cstr(&mut self) -> Option<String> {
        let end = self.0.iter().position(|&b| b == 0)?;
        let s = String::from_utf8_lossy(&self.0[..end]).into_owned();
        self.0 = &self.0[end + 1..];
        Some(s)
    }
}

/// One RowDescription field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub table_oid: u32,
    pub column: i16,
    pub type_oid: u32,
    pub type_len: i16,
    pub type_mod: i32,
    pub format: i16,
}

impl Msg {
    /// The fields of a RowDescription.
    pub fn row_description(&self) -> Option<Vec<Field>> {
        if self.tag != b'T' {
            return None;
        }
        let mut r = Rd(&self.body);
        let n = r.i16()?;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(Field {
                name: r.cstr()?,
                table_oid: r.i32()? as u32,
                column: r.i16()?,
                type_oid: r.i32()? as u32,
                type_len: r.i16()?,
                type_mod: r.i32()?,
                format: r.i16()?,
            });
        }
        Some(out)
    }

    /// The column values of a DataRow (None = NULL).
    pub fn data_row(&self) -> Option<Vec<Option<Vec<u8>>>> {
        if self.tag != b'D' {
            return None;
        }
        let mut r = Rd(&self.body);
        let n = r.i16()?;
        let mut out = Vec::new();
        for _ in 0..n {
            let len = r.i32()?;
            out.push(if len < 0 {
                None
            } else {
                Some(r.bytes(len as usize)?.to_vec())
            });
        }
        Some(out)
    }

    /// The fields of an ErrorResponse or NoticeResponse, as (code, value).
    pub fn fields(&self) -> Option<Vec<(char, String)>> {
        if self.tag != b'E' && self.tag != b'N' {
            return None;
        }
        let mut r = Rd(&self.body);
        let mut out = Vec::new();
        loop {
            let code = *r.bytes(1)?.first()?;
            if code == 0 {
                return Some(out);
            }
            out.push((code as char, r.cstr()?));
        }
    }

    /// One field of an ErrorResponse or NoticeResponse.
    pub fn field(&self, code: char) -> Option<String> {
        self.fields()?
            .into_iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v)
    }

    /// The command tag of a CommandComplete.
    pub fn command_tag(&self) -> Option<String> {
        (self.tag == b'C').then(|| Rd(&self.body).cstr()).flatten()
    }

    /// The human name of the message type.
    pub fn name(&self) -> &'static str {
        match self.tag {
            b'1' => "ParseComplete",
            b'2' => "BindComplete",
            b'3' => "CloseComplete",
            b'A' => "NotificationResponse",
            b'C' => "CommandComplete",
            b'c' => "CopyDone",
            b'd' => "CopyData",
            b'D' => "DataRow",
            b'E' => "ErrorResponse",
            b'G' => "CopyInResponse",
            b'H' => "CopyOutResponse",
            b'I' => "EmptyQueryResponse",
            b'K' => "BackendKeyData",
            b'n' => "NoData",
            b'N' => "NoticeResponse",
            b's' => "PortalSuspended",
            b'S' => "ParameterStatus",
            b't' => "ParameterDescription",
            b'T' => "RowDescription",
            b'Z' => "ReadyForQuery",
            b'R' => "Authentication",
            _ => "Unknown",
        }
    }

    /// A one-line readable rendering.
    pub fn describe(&self) -> String {
        let mut s = format!("{} '{}'", self.name(), self.tag as char);
        if let Some(fields) = self.row_description() {
            let cols: Vec<String> = fields
                .iter()
                .map(|f| {
                    format!(
                        "{}:oid={} tbl={}/{} len={} mod={} fmt={}",
                        f.name, f.type_oid, f.table_oid, f.column, f.type_len, f.type_mod, f.format
                    )
                })
                .collect();
            let _ = write!(s, " [{}]", cols.join(", "));
        } else if let Some(vals) = self.data_row() {
            let cols: Vec<String> = vals
                .iter()
                .map(|v| v.as_deref().map_or_else(|| "NULL".to_string(), show_bytes))
                .collect();
            let _ = write!(s, " ({})", cols.join(", "));
        } else if let Some(fields) = self.fields() {
            let f: Vec<String> = fields.iter().map(|(c, v)| format!("{c}={v:?}")).collect();
            let _ = write!(s, " {{{}}}", f.join(" "));
        } else if let Some(tag) = self.command_tag() {
            let _ = write!(s, " {tag:?}");
        } else if self.tag == b'S' {
            let parts: Vec<String> = self
                .body
                .split(|&b| b == 0)
                .take(2)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            let _ = write!(s, " {}", parts.join("="));
        } else if matches!(self.tag, b'Z' | b'd' | b't' | b'H' | b's') {
            let _ = write!(s, " {}", show_bytes(&self.body));
        }
        s
    }

    /// The message's payload as text, for content checks: DataRow values, CopyData,
    /// error/notice fields and command tags.
    pub fn text(&self) -> String {
        if let Some(vals) = self.data_row() {
            vals.iter()
                .map(|v| {
                    v.as_deref()
                        .map_or("NULL".into(), |b| String::from_utf8_lossy(b).into_owned())
                })
                .collect::<Vec<_>>()
                .join("|")
        } else if let Some(fields) = self.fields() {
            fields
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join("|")
        } else if let Some(tag) = self.command_tag() {
            tag
        } else if self.tag == b'd' {
            String::from_utf8_lossy(&self.body).into_owned()
        } else {
            String::new()
        }
    }
}

/// Text when printable UTF-8, otherwise hex.
pub fn show_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => format!("{s:?}"),
        _ => {
            let mut h = String::from("0x");
            for byte in b {
                let _ = write!(h, "{byte:02x}");
            }
            h
        }
    }
}

/// A side-by-side listing of two message sequences, marking the rows that differ.
pub fn diff(left: &[Msg], right: &[Msg], left_name: &str, right_name: &str) -> String {
    let mut out = String::new();
    let n = left.len().max(right.len());
    let first = (0..n).find(|&i| left.get(i) != right.get(i));
    let _ = writeln!(
        out,
        "{} {} messages vs {} {} messages; first difference at #{:?}",
        left_name,
        left.len(),
        right_name,
        right.len(),
        first
    );
    for i in 0..n {
        let (l, r) = (left.get(i), right.get(i));
        if l == r {
            let _ = writeln!(
                out,
                "   #{i:<3} {}",
                l.map(Msg::describe).unwrap_or_default()
            );
        } else {
            let _ = writeln!(
                out,
                "!! #{i:<3} {left_name}: {}",
                l.map(Msg::describe).unwrap_or_else(|| "<none>".into())
            );
            let _ = writeln!(
                out,
                "!!      {right_name}: {}",
                r.map(Msg::describe).unwrap_or_else(|| "<none>".into())
            );
        }
    }
    out
}
