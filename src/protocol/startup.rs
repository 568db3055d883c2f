//! The untagged first packet of a connection: StartupMessage, SSLRequest, GSSENCRequest or
//! CancelRequest.

use super::frame::{take_cstr, take_i32};
use super::{ProtocolError, CANCEL_REQUEST, GSSENC_REQUEST, MAX_STARTUP_LEN, SSL_REQUEST};
use tokio::io::{AsyncRead, AsyncReadExt};

/// What a client sent first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupPacket {
    /// Asks to switch to TLS.
    SslRequest,
    /// Asks for GSSAPI encryption (always refused).
    GssEncRequest,
    /// Cancels the query of the session with this key.
    Cancel {
        /// Process id from BackendKeyData.
        pid: i32,
        /// Secret from BackendKeyData.
        secret: i32,
    },
    /// A real startup message.
    Startup {
        /// Protocol version (major << 16 | minor).
        version: i32,
        /// Parameters in the order the client sent them.
        params: Vec<(String, String)>,
    },
}

/// Reads the first packet of a connection.
pub async fn read_startup<R: AsyncRead + Unpin>(r: &mut R) -> Result<StartupPacket, ProtocolError> {
    let mut len_buf = [0u8; 4];
    if let Err(e) = r.read_exact(&mut len_buf).await {
        return Err(if e.kind() == std::io::ErrorKind::UnexpectedEof {
            ProtocolError::Closed
        } else {
            e.into()
        });
    }
    let len = i32::from_be_bytes(len_buf);
    if !(8..=MAX_STARTUP_LEN as i32).contains(&len) {
        return Err(ProtocolError::Invalid(format!(
            "invalid length of startup packet: {len}"
        )));
    }
    let mut body = vec![0u8; len as usize - 4];
    r.read_exact(&mut body).await?;
    parse_startup(&body)
}

/// Parses a startup packet body (everything after the length).
pub fn parse_startup(body: &[u8]) -> Result<StartupPacket, ProtocolError> {
    let mut b = body;
    let code = take_i32(&mut b)?;
    match code {
        SSL_REQUEST => Ok(StartupPacket::SslRequest),
        GSSENC_REQUEST => Ok(StartupPacket::GssEncRequest),
        CANCEL_REQUEST => {
            let pid = take_i32(&mut b)?;
            let secret = take_i32(&mut b)?;
            Ok(StartupPacket::Cancel { pid, secret })
        }
        version if version >> 16 == 3 => {
            let mut params = Vec::new();
            loop {
                if b.first() == Some(&0) || b.is_empty() {
                    break;
                }
                let k = take_cstr(&mut b)?;
                let v = take_cstr(&mut b)?;
                params.push((k, v));
            }
            Ok(StartupPacket::Startup { version, params })
        }
        other => Err(ProtocolError::Invalid(format!(
            "unsupported frontend protocol {}.{}: server supports 3.0",
            other >> 16,
            other & 0xffff
        ))),
    }
}

/// Splits the `options` startup parameter (`-c name=value --name=value ...`) into settings.
///
/// Backslash escapes a space, as libpq documents.
pub fn parse_options(options: &str) -> Result<Vec<(String, String)>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut out = Vec::new();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        let setting = if w == "-c" {
            it.next().ok_or("option -c needs name=value")?
        } else if let Some(rest) = w.strip_prefix("-c") {
            rest.to_string()
        } else if let Some(rest) = w.strip_prefix("--") {
            rest.to_string()
        } else {
            return Err(format!(
                "invalid command-line argument for server process: {w}"
            ));
        };
        let (k, v) = setting
            .split_once('=')
            .ok_or_else(|| format!("option \"{setting}\" needs the form name=value"))?;
        out.push((k.replace('-', "_"), v.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_startup_params() {
        let mut body = 196_608i32.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0bob\0database\0db\0\0");
        let p = parse_startup(&body).unwrap();
        assert_eq!(
            p,
            StartupPacket::Startup {
                version: 196_608,
                params: vec![
                    ("user".into(), "bob".into()),
                    ("database".into(), "db".into())
                ]
            }
        );
    }

    #[test]
    fn rejects_protocol_2() {
        let body = (2i32 << 16).to_be_bytes();
        assert!(parse_startup(&body).is_err());
    }

    #[test]
    fn options_forms() {
        let o = parse_options("-c search_path=a,b --statement-timeout=5s -cwork_mem=64MB").unwrap();
        assert_eq!(
            o,
            vec![
                ("search_path".into(), "a,b".into()),
                ("statement_timeout".into(), "5s".into()),
                ("work_mem".into(), "64MB".into())
            ]
        );
        let o = parse_options(r"-c application_name=a\ b").unwrap();
        assert_eq!(o, vec![("application_name".into(), "a b".into())]);
        assert!(parse_options("-x").is_err());
    }
}
