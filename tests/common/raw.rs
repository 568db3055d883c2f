//! A minimal blocking wire client for tests that must send exact bytes (bad messages, cancel
//! requests, clients that vanish mid-query).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One backend message.
pub type Msg = (u8, Vec<u8>);

/// A raw connection.
pub struct Raw {
    pub s: TcpStream,
    /// BackendKeyData from login.
    pub key: (i32, i32),
}

/// A StartupMessage packet.
pub fn startup_packet(params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = 196_608i32.to_be_bytes().to_vec();
    for (k, v) in params {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut out = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    out.extend(body);
    out
}

/// A tagged frontend message.
pub fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A simple Query message.
pub fn query(sql: &str) -> Vec<u8> {
    let mut b = sql.as_bytes().to_vec();
    b.push(0);
    msg(b'Q', &b)
}

/// Reads one backend message; `None` on EOF.
pub fn read_msg(s: &mut TcpStream) -> Option<Msg> {
    let mut hdr = [0u8; 5];
    s.read_exact(&mut hdr).ok()?;
    let len = u32::from_be_bytes([hdr[1], hdr[2], hdr[3], hdr[4]]) as usize;
    let mut body = vec![0u8; len - 4];
    s.read_exact(&mut body).ok()?;
    Some((hdr[0], body))
}

/// The SQLSTATE of an ErrorResponse/NoticeResponse body.
pub fn field(body: &[u8], tag: u8) -> Option<String> {
    body.split(|&b| b == 0)
        .find(|f| f.first() == Some(&tag))
        .map(|f| String::from_utf8_lossy(&f[1..]).into_owned())
}

impl Raw {
    /// Connects with trust auth as root/test and reads until ReadyForQuery.
    pub fn connect(port: u16) -> Raw {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s.write_all(&startup_packet(&[("user", "root"), ("database", "test")]))
            .unwrap();
        let mut key = (0, 0);
        loop {
            let (tag, body) = read_msg(&mut s).expect("login reply");
            match tag {
                b'K' => {
                    key = (
                        i32::from_be_bytes(body[0..4].try_into().unwrap()),
                        i32::from_be_bytes(body[4..8].try_into().unwrap()),
                    )
                }
                b'E' => panic!("login failed: {:?}", String::from_utf8_lossy(&body)),
                b'Z' => break,
                _ => {}
            }
        }
        Raw { s, key }
    }

    /// Sends bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    /// Reads messages until ReadyForQuery (included) or EOF.
    pub fn until_ready(&mut self) -> Vec<Msg> {
        let mut out = Vec::new();
        while let Some(m) = read_msg(&mut self.s) {
            let done = m.0 == b'Z';
            out.push(m);
            if done {
                break;
            }
        }
        out
    }

    /// Reads messages until EOF.
    pub fn until_eof(&mut self) -> Vec<Msg> {
        let mut out = Vec::new();
        while let Some(m) = read_msg(&mut self.s) {
            out.push(m);
        }
        out
    }
}

/// Sends a CancelRequest; returns the bytes the server wrote back before closing.
pub fn cancel(port: u16, pid: i32, secret: i32) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut p = 16i32.to_be_bytes().to_vec();
    p.extend_from_slice(&80_877_102i32.to_be_bytes());
    p.extend_from_slice(&pid.to_be_bytes());
    p.extend_from_slice(&secret.to_be_bytes());
    s.write_all(&p).unwrap();
    let mut back = Vec::new();
    let _ = s.read_to_end(&mut back);
    back
}
