//! Finds message boundaries in the upstream byte stream without copying or decoding it, so the
//! relay can forward bytes as they come and still see ReadyForQuery and FATAL errors.

const PREFIX: usize = 24;

/// A complete backend message seen in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Message type.
    pub tag: u8,
    /// Up to the first 24 body bytes (status of `Z`, severity of `E`, tag of `C`).
    pub prefix: [u8; PREFIX],
    /// How many prefix bytes are valid.
    pub prefix_len: u8,
}

impl Seen {
    /// The transaction status of a ReadyForQuery.
    pub fn status(&self) -> u8 {
        if self.prefix_len > 0 {
            self.prefix[0]
        } else {
            b'I'
        }
    }

    /// Rows of a CommandComplete (`SELECT 5`, `INSERT 0 5`, `COPY 5`): its last number.
    pub fn rows(&self) -> Option<u64> {
        if self.tag != b'C' {
            return None;
        }
        let p = &self.prefix[..self.prefix_len as usize];
        let text = std::str::from_utf8(p.split(|&b| b == 0).next()?).ok()?;
        text.rsplit(' ').next()?.parse().ok()
    }

    /// Whether this is an ErrorResponse of severity FATAL or PANIC.
    pub fn is_fatal_error(&self) -> bool {
        let p = &self.prefix[..self.prefix_len as usize];
        self.tag == b'E' && (p.starts_with(b"SFATAL") || p.starts_with(b"SPANIC"))
    }
}

/// Incremental scanner state across reads.
#[derive(Debug, Default)]
pub struct Scanner {
    hdr: [u8; 5],
    hdr_len: usize,
    in_body: bool,
    remaining: usize,
    cur: Option<Seen>,
}

impl Scanner {
    /// Whether the stream so far ends exactly at a message boundary.
    pub fn at_boundary(&self) -> bool {
        self.hdr_len == 0 && !self.in_body
    }

    /// How many leading bytes of `data` belong to the message in progress (all of `data` when
    /// it ends inside that message; 0 at a boundary).
    pub fn head_len(&self, data: &[u8]) -> usize {
        if self.in_body {
            return self.remaining.min(data.len());
        }
        if self.hdr_len == 0 {
            return 0;
        }
        let need = 5 - self.hdr_len;
        if data.len() < need {
            return data.len();
        }
        let mut hdr = self.hdr;
        hdr[self.hdr_len..].copy_from_slice(&data[..need]);
        let len = u32::from_be_bytes([hdr[1], hdr[2], hdr[3], hdr[4]]) as usize;
        (need + len.saturating_sub(4)).min(data.len())
    }

    /// Feeds the next bytes; calls `on_msg` for every message completed by them.
    pub fn feed(&mut self, mut data: &[u8], mut on_msg: impl FnMut(Seen)) {
        while !data.is_empty() {
            if !self.in_body {
                let take = (5 - self.hdr_len).min(data.len());
                self.hdr[self.hdr_len..self.hdr_len + take].copy_from_slice(&data[..take]);
                self.hdr_len += take;
                data = &data[take..];
                if self.hdr_len < 5 {
                    continue;
                }
                self.hdr_len = 0;
                let len = u32::from_be_bytes([self.hdr[1], self.hdr[2], self.hdr[3], self.hdr[4]])
                    as usize;
                self.remaining = len.saturating_sub(4);
                let seen = Seen {
                    tag: self.hdr[0],
                    prefix: [0; PREFIX],
                    prefix_len: 0,
                };
                if self.remaining == 0 {
                    on_msg(seen);
                } else {
                    self.cur = Some(seen);
                    self.in_body = true;
                }
                continue;
            }
            let take = self.remaining.min(data.len());
            if let Some(seen) = self.cur.as_mut() {
                let have = seen.prefix_len as usize;
                if have < PREFIX {
                    let n = (PREFIX - have).min(take);
                    seen.prefix[have..have + n].copy_from_slice(&data[..n]);
                    seen.prefix_len += n as u8;
                }
            }
            self.remaining -= take;
            data = &data[take..];
            if self.remaining == 0 {
                self.in_body = false;
                if let Some(seen) = self.cur.take() {
                    on_msg(seen);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn finds_messages_across_any_split() {
        let mut stream = msg(b'C', b"SELECT 1\0");
        stream.extend(msg(b'E', b"SFATAL\0VFATAL\0C57P01\0\0"));
        stream.extend(msg(b'Z', b"T"));
        for split in 0..stream.len() {
            let mut s = Scanner::default();
            let mut seen = Vec::new();
            s.feed(&stream[..split], |m| seen.push(m));
            s.feed(&stream[split..], |m| seen.push(m));
            assert!(s.at_boundary());
            let tags: Vec<u8> = seen.iter().map(|m| m.tag).collect();
            assert_eq!(tags, b"CEZ", "split at {split}");
            assert!(seen[1].is_fatal_error());
            assert_eq!(seen[2].status(), b'T');
        }
    }

    #[test]
    fn head_len_reaches_the_next_boundary() {
        let stream = [msg(b'C', b"SELECT 1\0"), msg(b'Z', b"I")].concat();
        let first = msg(b'C', b"SELECT 1\0").len();
        for split in 1..first {
            let mut s = Scanner::default();
            s.feed(&stream[..split], |_| {});
            let rest = &stream[split..];
            assert_eq!(s.head_len(rest), first - split, "split at {split}");
            assert_eq!(s.head_len(&rest[..1]), 1);
            s.feed(&rest[..first - split], |_| {});
            assert!(s.at_boundary());
            assert_eq!(s.head_len(&stream[first..]), 0);
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let stream = [msg(b'1', b""), msg(b'Z', b"I")].concat();
        let mut s = Scanner::default();
        let mut n = 0;
        for b in &stream {
            s.feed(std::slice::from_ref(b), |_| n += 1);
        }
        assert_eq!(n, 2);
    }
}
