//! Builders for the backend messages the proxy writes itself (authentication, startup
//! parameters, errors). Relayed upstream messages never pass through here.

use crate::error::PgError;
use bytes::{BufMut, BytesMut};

fn message(buf: &mut BytesMut, tag: u8, body: impl FnOnce(&mut BytesMut)) {
    buf.put_u8(tag);
    let at = buf.len();
    buf.put_i32(0);
    body(buf);
    let len = (buf.len() - at) as i32;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

fn cstr(buf: &mut BytesMut, s: &str) {
    // A NUL inside would end the field early; Postgres strings cannot hold NUL either.
    buf.put_slice(s.replace('\0', "").as_bytes());
    buf.put_u8(0);
}

/// AuthenticationOk.
pub fn auth_ok(buf: &mut BytesMut) {
    message(buf, b'R', |b| b.put_i32(0));
}

/// AuthenticationCleartextPassword.
pub fn auth_cleartext(buf: &mut BytesMut) {
    message(buf, b'R', |b| b.put_i32(3));
}

/// AuthenticationSASL with the offered mechanisms.
pub fn auth_sasl(buf: &mut BytesMut, mechanisms: &[&str]) {
    message(buf, b'R', |b| {
        b.put_i32(10);
        for m in mechanisms {
            cstr(b, m);
        }
        b.put_u8(0);
    });
}

/// AuthenticationSASLContinue.
pub fn auth_sasl_continue(buf: &mut BytesMut, data: &[u8]) {
    message(buf, b'R', |b| {
        b.put_i32(11);
        b.put_slice(data);
    });
}

/// AuthenticationSASLFinal.
pub fn auth_sasl_final(buf: &mut BytesMut, data: &[u8]) {
    message(buf, b'R', |b| {
        b.put_i32(12);
        b.put_slice(data);
    });
}

/// ParameterStatus.
pub fn parameter_status(buf: &mut BytesMut, name: &str, value: &str) {
    message(buf, b'S', |b| {
        cstr(b, name);
        cstr(b, value);
    });
}

/// BackendKeyData.
pub fn backend_key_data(buf: &mut BytesMut, pid: i32, secret: i32) {
    message(buf, b'K', |b| {
        b.put_i32(pid);
        b.put_i32(secret);
    });
}

/// ReadyForQuery with a transaction status (`I`, `T` or `E`).
pub fn ready_for_query(buf: &mut BytesMut, status: u8) {
    message(buf, b'Z', |b| b.put_u8(status));
}

/// NegotiateProtocolVersion: the newest minor version supported and the options not understood.
pub fn negotiate_protocol_version(buf: &mut BytesMut, minor: i32, unrecognized: &[String]) {
    message(buf, b'v', |b| {
        b.put_i32(minor);
        b.put_i32(unrecognized.len() as i32);
        for o in unrecognized {
            cstr(b, o);
        }
    });
}

fn fields(b: &mut BytesMut, e: &PgError) {
    b.put_u8(b'S');
    cstr(b, e.severity.as_str());
    b.put_u8(b'V');
    cstr(b, e.severity.as_str());
    b.put_u8(b'C');
    cstr(b, &e.code);
    b.put_u8(b'M');
    cstr(b, &e.message);
    if let Some(d) = &e.detail {
        b.put_u8(b'D');
        cstr(b, d);
    }
    if let Some(h) = &e.hint {
        b.put_u8(b'H');
        cstr(b, h);
    }
    b.put_u8(0);
}

/// ErrorResponse.
pub fn error_response(buf: &mut BytesMut, e: &PgError) {
    message(buf, b'E', |b| fields(b, e));
}

/// NoticeResponse with severity NOTICE.
pub fn notice(buf: &mut BytesMut, code: &str, text: &str, hint: Option<&str>) {
    message(buf, b'N', |b| {
        for (tag, v) in [
            (b'S', "NOTICE"),
            (b'V', "NOTICE"),
            (b'C', code),
            (b'M', text),
        ] {
            b.put_u8(tag);
            cstr(b, v);
        }
        if let Some(h) = hint {
            b.put_u8(b'H');
            cstr(b, h);
        }
        b.put_u8(0);
    });
}

/// Parses the fields of an ErrorResponse or NoticeResponse body into a `PgError`.
pub fn parse_error_fields(body: &[u8]) -> PgError {
    let mut e = PgError::error("XX000", "");
    for field in body.split(|&b| b == 0) {
        let Some((&tag, value)) = field.split_first() else {
            continue;
        };
        let v = String::from_utf8_lossy(value).into_owned();
        match tag {
            b'V' if v == "FATAL" || v == "PANIC" => e.severity = crate::error::Severity::Fatal,
            b'C' => e.code = v,
            b'M' => e.message = v,
            b'D' => e.detail = Some(v),
            b'H' => e.hint = Some(v),
            _ => {}
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_round_trip() {
        let e = PgError::fatal("28P01", "password authentication failed for user \"bob\"")
            .with_hint("check the password");
        let mut b = BytesMut::new();
        error_response(&mut b, &e);
        assert_eq!(b[0], b'E');
        let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
        assert_eq!(len + 1, b.len());
        assert_eq!(parse_error_fields(&b[5..]), e);
    }
}
