//! Framing of tagged messages: `tag (1 byte) | length (4 bytes, includes itself) | body`.

use super::ProtocolError;
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Header of a tagged message found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Message type byte.
    pub tag: u8,
    /// Total size on the wire: tag + length field + body.
    pub total: usize,
}

/// Looks at the message starting at `buf[0]`.
///
/// Returns `Ok(None)` when fewer than 5 bytes are there, an error when the length field is
/// below 4 or above `max_len`.
pub fn peek_header(buf: &[u8], max_len: usize) -> Result<Option<Header>, ProtocolError> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if len < 4 {
        return Err(ProtocolError::Invalid(format!(
            "invalid message length {len} for message type '{}'",
            printable(buf[0])
        )));
    }
    if len > max_len {
        return Err(ProtocolError::Invalid(format!(
            "message of type '{}' is {len} bytes, over the limit of {max_len} bytes",
            printable(buf[0])
        )));
    }
    Ok(Some(Header {
        tag: buf[0],
        total: len + 1,
    }))
}

/// Whole messages in a buffer already checked with [`peek_header`] (each `&[u8]` includes tag
/// and length); stops at anything incomplete.
pub fn messages(mut buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if buf.len() < 5 {
            return None;
        }
        let total = 1 + u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
        if total < 5 || buf.len() < total {
            return None;
        }
        let (msg, rest) = buf.split_at(total);
        buf = rest;
        Some(msg)
    })
}

/// The tag as a character for messages, `?` when unprintable.
pub fn printable(tag: u8) -> char {
    if tag.is_ascii_graphic() {
        tag as char
    } else {
        '?'
    }
}

/// Reads one whole tagged message (used during authentication, not on the relay path).
pub async fn read_message<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut BytesMut,
    max_len: usize,
) -> Result<(u8, BytesMut), ProtocolError> {
    loop {
        if let Some(h) = peek_header(buf, max_len)? {
            if buf.len() >= h.total {
                let mut msg = buf.split_to(h.total);
                msg.advance(5);
                return Ok((h.tag, msg));
            }
            buf.reserve(h.total - buf.len());
        } else {
            buf.reserve(64);
        }
        if r.read_buf(buf).await? == 0 {
            return Err(ProtocolError::Closed);
        }
    }
}

/// Reads a NUL-terminated string from the front of `body`.
pub fn take_cstr(body: &mut &[u8]) -> Result<String, ProtocolError> {
    let end = body
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| ProtocolError::Invalid("missing string terminator".into()))?;
    let s = std::str::from_utf8(&body[..end])
        .map_err(|_| ProtocolError::Invalid("string is not valid UTF-8".into()))?
        .to_string();
    *body = &body[end + 1..];
    Ok(s)
}

/// Reads a big-endian i32 from the front of `body`.
pub fn take_i32(body: &mut &[u8]) -> Result<i32, ProtocolError> {
    if body.len() < 4 {
        return Err(ProtocolError::Invalid("message too short".into()));
    }
    let v = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    *body = &body[4..];
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_needs_five_bytes() {
        assert_eq!(peek_header(b"Q\0\0\0", 100).unwrap(), None);
        let h = peek_header(b"Q\0\0\0\x05x", 100).unwrap().unwrap();
        assert_eq!(
            h,
            Header {
                tag: b'Q',
                total: 6
            }
        );
    }

    #[test]
    fn header_rejects_bad_lengths() {
        assert!(peek_header(b"Q\0\0\0\x03", 100).is_err());
        assert!(peek_header(b"Q\0\0\x10\x00", 100).is_err());
    }

    #[test]
    fn cstr_parsing() {
        let mut b: &[u8] = b"user\0bob\0";
        assert_eq!(take_cstr(&mut b).unwrap(), "user");
        assert_eq!(take_cstr(&mut b).unwrap(), "bob");
        assert!(take_cstr(&mut b).is_err());
    }
}
