//! Reading an ASK's rows as they stream to the client, for its insights and chart: the
//! RowDescription gives the columns, each DataRow is decoded into a bounded
//! [`crate::ask::frame::Frame`] (past `ask.insight_rows` rows it only counts), and at the
//! CommandComplete the tap's `finish` turns the frame into NOTICEs sent right after it. The
//! rows are forwarded as they arrive: the tap copies values, it never holds a message back.
//! Text-format values are read as sent; binary ones for the integer, float, date and
//! timestamp types (others become NULL for the agents, never for the client).

use crate::ask::frame::Frame;
use bytes::BytesMut;

/// What turns the result into NOTICE texts.
pub type Finish = Box<dyn FnOnce(&Frame) -> Vec<String> + Send + Sync>;

/// Where a tapped statement's rows are.
pub enum State {
    /// Waiting for its RowDescription.
    Waiting,
    /// Reading its rows (per column: binary, text, or `None` = not known: described as a
    /// statement, whose Bind chose the formats).
    Reading(Frame, Vec<Option<bool>>),
}

/// One ASK whose rows are read.
pub struct Tap {
    /// Its response cycle.
    pub cycle: u64,
    /// For a Parse, the ParseComplete of its cycle after which its rows come.
    pub parse: Option<u32>,
    /// Whether its rows may have started (its ParseComplete seen, or a Query's cycle begun).
    pub armed: bool,
    /// Rows read so far.
    pub state: State,
    /// Most rows kept.
    pub limit: usize,
    /// Makes the NOTICEs.
    pub finish: Option<Finish>,
    /// A ParameterDescription came first: the RowDescription describes a statement.
    pub statement: bool,
    /// Carried into the next cycle, whose first message must be a BindComplete.
    pub carried: Option<bool>,
}

/// What the tap did with one upstream message.
pub enum Step {
    /// Nothing (keep going).
    Go,
    /// The statement ended with these NOTICE bytes to send after the message.
    Done(BytesMut),
    /// The statement failed or ended without rows: drop the tap.
    Drop,
}

impl Tap {
    /// Looks at one whole upstream message of the tap's cycle.
    pub fn message(&mut self, msg: &[u8]) -> Step {
        let body = &msg[5..];
        if let Some(first) = self.carried.as_mut() {
            if *first {
                *first = false;
                if msg[0] != b'2' {
                    return Step::Drop;
                }
                return Step::Go;
            }
        }
        match (msg[0], &mut self.state) {
            (b't', State::Waiting) => {
                self.statement = true;
                Step::Go
            }
            (b'T', State::Waiting) => {
                let Some((cols, binary)) = row_description(body) else {
                    return Step::Drop;
                };
                let formats = binary
                    .into_iter()
                    .map(|b| (!self.statement).then_some(b))
                    .collect();
                self.state = State::Reading(Frame::new(&cols, self.limit), formats);
                Step::Go
            }
            (b'D', State::Reading(frame, binary)) => {
                if frame.rows.len() >= frame.limit {
                    frame.seen += 1;
                } else if let Some(values) = data_row(body, binary, frame) {
                    let refs: Vec<Option<&[u8]>> = values.iter().map(|v| v.as_deref()).collect();
                    frame.push_text(&refs);
                }
                Step::Go
            }
            (b'C', State::Reading(frame, _)) => {
                let Some(finish) = self.finish.take() else {
                    return Step::Drop;
                };
                let mut out = BytesMut::new();
                for n in finish(frame) {
                    crate::protocol::backend::notice(&mut out, "00000", &n, None);
                }
                Step::Done(out)
            }
            (b'E' | b'C' | b'I', _) => Step::Drop,
            _ => Step::Go,
        }
    }

    /// At the end of its cycle: whether the tap goes on into the next one — a statement
    /// described but not yet run (a client that prepares, then binds and executes in the next
    /// cycle, as tokio-postgres and asyncpg do). Only once, and only if that cycle starts
    /// with a BindComplete.
    pub fn carry(&mut self) -> bool {
        // Described (a RowDescription, no rows yet), or only parsed: psycopg's prepare=True
        // parses in one round trip and binds, describes the portal and executes in the next.
        let described = match &self.state {
            State::Reading(f, _) => f.seen == 0,
            State::Waiting => self.parse.is_some(),
        };
        if !described || self.carried.is_some() || self.finish.is_none() {
            return false;
        }
        self.cycle += 1;
        self.armed = true;
        self.carried = Some(true);
        true
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// (name, type OID) of each column, and whether it is sent in binary.
/// Columns (name, type OID) and, per column, whether it is sent in binary.
type Described = (Vec<(String, u32)>, Vec<bool>);

fn row_description(body: &[u8]) -> Option<Described> {
    let n = u16_at(body, 0)?;
    let mut at = 2;
    let mut cols = Vec::with_capacity(n);
    let mut binary = Vec::with_capacity(n);
    for _ in 0..n {
        let end = at + body.get(at..)?.iter().position(|&b| b == 0)?;
        let name = String::from_utf8_lossy(&body[at..end]).into_owned();
        at = end + 1;
        // table oid (4), attnum (2), type oid (4), typlen (2), typmod (4), format (2)
        let oid = i32_at(body, at + 6)? as u32;
        let format = u16_at(body, at + 16)?;
        at += 18;
        cols.push((name, oid));
        binary.push(format == 1);
    }
    Some((cols, binary))
}

/// The values of a DataRow as text (binary values of known types converted).
fn data_row(body: &[u8], formats: &[Option<bool>], frame: &Frame) -> Option<Vec<Option<Vec<u8>>>> {
    let n = u16_at(body, 0)?;
    let mut at = 2;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let len = i32_at(body, at)?;
        at += 4;
        if len < 0 {
            out.push(None);
            continue;
        }
        let v = body.get(at..at + len as usize)?;
        at += len as usize;
        let oid = frame.columns.get(i).map_or(0, |c| c.type_oid);
        let binary = match formats.get(i).copied().flatten() {
            Some(b) => b,
            // Not known: text when it reads as this type's text, else binary.
            None => !reads_as_text(oid, v),
        };
        if binary {
            out.push(from_binary(oid, v).map(String::into_bytes));
        } else {
            out.push(Some(v.to_vec()));
        }
    }
    Some(out)
}

/// Whether `v` is the text form of a value of type `oid` (numbers and times; any UTF-8 for
/// the other types).
fn reads_as_text(oid: u32, v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    match oid {
        20 | 21 | 23 | 700 | 701 | 1700 => s.trim().parse::<f64>().is_ok(),
        1082 | 1114 | 1184 => crate::ask::frame::days(s).is_some(),
        _ => true,
    }
}

/// A binary value of type `oid` as PostgreSQL prints it, for the integer, float, date and
/// timestamp types; `None` for the others.
fn from_binary(oid: u32, v: &[u8]) -> Option<String> {
    const EPOCH_2000: i64 = 10_957; // days from 1970-01-01 to 2000-01-01
    Some(match (oid, v.len()) {
        (21, 2) => i16::from_be_bytes(v.try_into().ok()?).to_string(),
        (23, 4) => i32::from_be_bytes(v.try_into().ok()?).to_string(),
        (20, 8) => i64::from_be_bytes(v.try_into().ok()?).to_string(),
        (700, 4) => f32::from_be_bytes(v.try_into().ok()?).to_string(),
        (701, 8) => f64::from_be_bytes(v.try_into().ok()?).to_string(),
        (1700, _) => numeric(v)?,
        (1082, 4) => {
            let d = i64::from(i32::from_be_bytes(v.try_into().ok()?));
            crate::ask::analyse::iso(d + EPOCH_2000)
        }
        (1114 | 1184, 8) => {
            let us = i64::from_be_bytes(v.try_into().ok()?);
            let (d, rest) = (
                us.div_euclid(86_400_000_000),
                us.rem_euclid(86_400_000_000) / 1_000_000,
            );
            format!(
                "{} {:02}:{:02}:{:02}",
                crate::ask::analyse::iso(d + EPOCH_2000),
                rest / 3600,
                rest / 60 % 60,
                rest % 60
            )
        }
        _ => return None,
    })
}

/// A binary `numeric` (ndigits, weight, sign, dscale, base-10000 digits) as a decimal
/// number's text (to f64 precision: the agents read it as a float).
fn numeric(v: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<i64> {
        Some(i64::from(i16::from_be_bytes(
            v.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    let (n, weight, sign) = (word(0)?, word(2)?, word(4)? as u16);
    if sign == 0xC000 {
        return None; // NaN
    }
    let mut x = 0f64;
    for k in 0..n.max(0) as usize {
        x += word(8 + 2 * k)? as f64 * 10_000f64.powi((weight - k as i64) as i32);
    }
    Some(if sign == 0x4000 { -x } else { x }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![tag];
        m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    fn description(cols: &[(&str, u32)]) -> Vec<u8> {
        let mut b = BytesMut::new();
        b.put_u16(cols.len() as u16);
        for (name, oid) in cols {
            b.put_slice(name.as_bytes());
            b.put_u8(0);
            b.put_u32(0);
            b.put_u16(0);
            b.put_u32(*oid);
            b.put_i16(-1);
            b.put_i32(-1);
            b.put_u16(0);
        }
        msg(b'T', &b)
    }

    fn row(values: &[Option<&str>]) -> Vec<u8> {
        let mut b = BytesMut::new();
        b.put_u16(values.len() as u16);
        for v in values {
            match v {
                Some(s) => {
                    b.put_i32(s.len() as i32);
                    b.put_slice(s.as_bytes());
                }
                None => b.put_i32(-1),
            }
        }
        msg(b'D', &b)
    }

    #[test]
    fn rows_are_read_bounded_and_finished_at_command_complete() {
        let mut tap = Tap {
            cycle: 0,
            parse: None,
            armed: true,
            state: State::Waiting,
            limit: 2,
            statement: false,
            carried: None,
            finish: Some(Box::new(|f: &Frame| {
                vec![format!(
                    "{} of {} rows, first {:?}",
                    f.rows.len(),
                    f.seen,
                    f.rows[0][1]
                )]
            })),
        };
        assert!(matches!(
            tap.message(&description(&[("region", 25), ("revenue", 1700)])),
            Step::Go
        ));
        for r in [
            [Some("East"), Some("10.5")],
            [Some("West"), None],
            [Some("North"), Some("1")],
        ] {
            assert!(matches!(tap.message(&row(&r)), Step::Go));
        }
        match tap.message(&msg(b'C', b"SELECT 3\0")) {
            Step::Done(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                assert!(text.contains("2 of 3 rows, first Num(10.5)"), "{text}");
            }
            _ => panic!("no notices"),
        }
    }

    #[test]
    fn errors_and_malformed_messages_drop_the_tap() {
        let mut tap = Tap {
            cycle: 0,
            parse: None,
            armed: true,
            state: State::Waiting,
            limit: 2,
            statement: false,
            carried: None,
            finish: Some(Box::new(|_: &Frame| vec!["x".into()])),
        };
        assert!(matches!(tap.message(&msg(b'T', &[0, 5])), Step::Drop));
        assert!(matches!(tap.message(&msg(b'E', b"")), Step::Drop));
        assert_eq!(from_binary(23, &[0, 0, 0, 7]).as_deref(), Some("7"));
        assert_eq!(
            from_binary(701, &1.5f64.to_be_bytes()).as_deref(),
            Some("1.5")
        );
        assert_eq!(
            from_binary(1082, &[0, 0, 0, 0]).as_deref(),
            Some("2000-01-01")
        );
        let noon = 86_400_000_000i64 + 43_200_000_000;
        assert_eq!(
            from_binary(1114, &noon.to_be_bytes()).as_deref(),
            Some("2000-01-02 12:00:00")
        );
        assert_eq!(from_binary(1700, &[0, 0]), None);
        // 12345.6789 = digits [1, 2345, 6789], weight 1, positive, dscale 4.
        let n = [0, 3, 0, 1, 0, 0, 0, 4, 0, 1, 0x09, 0x29, 0x1a, 0x85];
        assert_eq!(from_binary(1700, &n).as_deref(), Some("12345.6789"));
        assert!(reads_as_text(1700, b"12.5") && !reads_as_text(1700, &n));
        let f = Frame::new(&[("a".into(), 23)], 1);
        assert_eq!(data_row(&[0, 1, 0, 0, 0, 9, 1], &[Some(false)], &f), None);
    }
}
