//! What the proxy changes in the upstream's replies, and where.
//!
//! Three things: a refused statement's marker error (`SELECT querent_refused_N` fails
//! upstream) is swapped for Querent's own ErrorResponse, an ASK's NOTICEs are put in front of
//! that statement's results, and a simple query the plan cache sent as a prepared statement
//! loses the ParseComplete and BindComplete the client did not ask for.
//!
//! Placing NOTICEs under pipelining uses response cycles. Every Query, Sync and FunctionCall
//! sent upstream ends one cycle on the client side (extended messages before a Sync belong to
//! the cycle that Sync ends); every ReadyForQuery from the upstream ends the oldest cycle. Both
//! sides are counted from the start of the session, so cycle `n` is answered after `n`
//! ReadyForQuery messages. An ASK in a Query is due before the first upstream message of its
//! cycle; an ASK in a Parse before the ParseComplete of that Parse (the `j`-th ParseComplete
//! of its cycle, since every Parse answers with one until an error skips the rest of the
//! batch — then the ASK never ran and its NOTICEs are dropped at the cycle's ReadyForQuery).
//!
//! Upstream bytes are only looked at message by message while something is pending; the
//! counters are kept by the relay's [`super::scan::Scanner`] on every message it forwards.

use super::tap::{Finish, State as TapState, Step, Tap};
use crate::error::PgError;
use crate::protocol::backend;
use crate::protocol::frame::peek_header;
use bytes::BytesMut;
use std::collections::{HashMap, VecDeque};

/// Where a statement sits among the response cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    /// Its cycle (the number of ReadyForQuery messages before its results).
    cycle: u64,
    /// For a Parse, which ParseComplete of the cycle answers it (from 1); `None` for a Query.
    parse: Option<u32>,
    /// Whether it is the first message of its cycle.
    first: bool,
}

impl Spot {
    /// Whether the message is the first of its cycle (nothing answered before it in the cycle).
    pub fn first(&self) -> bool {
        self.first
    }
}

/// The client side's count of response cycles.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cycles {
    /// Cycles ended (Query, Sync and FunctionCall sent upstream).
    sent: u64,
    /// Parse messages sent in the cycle not yet ended.
    parses: u32,
    /// Messages sent in the cycle not yet ended.
    messages: u32,
}

impl Cycles {
    /// Counts one client message going upstream (`tag` = its type) and returns where it sits.
    #[inline]
    pub fn client(&mut self, tag: u8) -> Spot {
        let cycle = self.sent;
        let first = self.messages == 0;
        self.messages += 1;
        match tag {
            b'Q' | b'S' | b'F' => {
                self.sent += 1;
                self.parses = 0;
                self.messages = 0;
                Spot {
                    cycle,
                    parse: None,
                    first,
                }
            }
            b'P' => {
                self.parses += 1;
                Spot {
                    cycle,
                    parse: Some(self.parses),
                    first,
                }
            }
            _ => Spot {
                cycle,
                parse: None,
                first,
            },
        }
    }
}

/// A Parse the plan cache sent as a named statement: confirmed by its ParseComplete (the
/// `parse`-th of its cycle), forgotten when the cycle ends first.
struct Confirm {
    at: Spot,
    name: String,
}

/// A simple query the plan cache sent as Parse/Bind/Describe/Execute/Sync (`super::plans`):
/// its ParseComplete and BindComplete are dropped; the Parse of statement `prepare`, if any,
/// is confirmed by the ParseComplete.
struct Converted {
    cycle: u64,
    prepare: Option<String>,
    parsed: bool,
}

/// NOTICEs waiting for their statement's first response.
struct Pending {
    at: Spot,
    bytes: BytesMut,
}

/// A session's changes to upstream replies (every session has one).
#[derive(Default)]
pub struct Replies {
    /// Marker id → (its cycle, Querent's ErrorResponse).
    subs: HashMap<u64, (u64, BytesMut)>,
    next: u64,
    carry: BytesMut,
    cycles: Cycles,
    /// Cycles the upstream has answered (ReadyForQuery forwarded).
    answered: u64,
    /// ParseComplete messages forwarded in the cycle the upstream is answering.
    parsed: u32,
    notices: VecDeque<Pending>,
    converted: VecDeque<Converted>,
    confirms: VecDeque<Confirm>,
    /// Statements whose Parse was answered: (name, prepared).
    resolved: Vec<(String, bool)>,
    /// ASKs whose rows are read for their insights.
    taps: VecDeque<Tap>,
}

impl Replies {
    /// Counts one client message going upstream (`tag` = its type) and returns where it sits;
    /// call it for every message, in order.
    #[inline]
    pub fn client(&mut self, tag: u8) -> Spot {
        self.cycles.client(tag)
    }

    /// The client side's count so far (to find the spots of a batch's messages again).
    pub fn cycles(&self) -> Cycles {
        self.cycles
    }

    /// Counts one upstream message forwarded to the client; call it for every message, in
    /// order (the relay's scanner does).
    #[inline]
    pub fn seen(&mut self, tag: u8) {
        match tag {
            b'Z' => {
                self.answered += 1;
                self.parsed = 0;
            }
            b'1' => self.parsed += 1,
            _ => {}
        }
    }

    /// Registers a refusal of the statement at `at`: returns the marker statement to send
    /// upstream instead, whose error will be replaced by `e`.
    pub fn refuse(&mut self, at: Spot, e: &PgError) -> String {
        self.next += 1;
        let mut err = BytesMut::new();
        backend::error_response(&mut err, e);
        self.subs.insert(self.next, (at.cycle, err));
        format!("SELECT querent_refused_{}", self.next)
    }

    /// Sends `notices` (severity NOTICE, SQLSTATE 00000) before the first response to the
    /// statement at `at`.
    pub fn notify(&mut self, at: Spot, notices: &[String]) {
        if notices.is_empty() {
            return;
        }
        let mut bytes = BytesMut::new();
        for n in notices {
            backend::notice(&mut bytes, "00000", n, None);
        }
        self.notices.push_back(Pending { at, bytes });
    }

    /// Reads the rows of the statement at `at` (at most `limit` kept) and sends the NOTICEs
    /// `finish` makes of them right after its CommandComplete.
    pub fn tap(&mut self, at: Spot, limit: usize, finish: Finish) {
        self.taps.push_back(Tap {
            cycle: at.cycle,
            parse: at.parse,
            armed: at.parse.is_none(),
            state: TapState::Waiting,
            limit,
            finish: Some(finish),
            statement: false,
            carried: None,
        });
    }

    /// Registers the simple query at `at` as sent in the extended protocol (see
    /// [`Converted`]).
    pub fn converted(&mut self, at: Spot, prepare: Option<String>) {
        self.converted.push_back(Converted {
            cycle: at.cycle,
            prepare,
            parsed: false,
        });
    }

    /// Registers the client's Parse at `at`, sent upstream as the named statement `name`.
    pub fn confirm(&mut self, at: Spot, name: String) {
        self.confirms.push_back(Confirm { at, name });
    }

    /// Puts a ParseComplete in front of the first reply of the cycle of `at` (the client's
    /// Parse was not sent: its statement is prepared already).
    pub fn parse_complete(&mut self, at: Spot) {
        let mut bytes = BytesMut::new();
        super::intercept::message(&mut bytes, b'1', &[]);
        self.notices.push_back(Pending {
            at: Spot {
                cycle: at.cycle,
                parse: None,
                first: true,
            },
            bytes,
        });
    }

    /// Statements whose Parse the upstream has answered since the last call: (name, prepared).
    pub fn take_resolved(&mut self) -> Vec<(String, bool)> {
        std::mem::take(&mut self.resolved)
    }

    /// Whether upstream bytes must go through [`Replies::upstream`] (a marker error or a
    /// NOTICE is on its way, a converted query is answered, or a message is half read).
    #[inline]
    pub fn active(&self) -> bool {
        !self.subs.is_empty()
            || !self.notices.is_empty()
            || !self.converted.is_empty()
            || !self.confirms.is_empty()
            || !self.taps.is_empty()
            || !self.carry.is_empty()
    }

    /// Takes upstream bytes that start at a message boundary; appends whole messages to `out`,
    /// each marker error replaced by Querent's own and due NOTICEs in front of their
    /// statement's first response; keeps an incomplete tail for the next call. Does not count
    /// the messages (see [`Replies::seen`]).
    pub fn upstream(&mut self, data: &[u8], out: &mut BytesMut) {
        self.carry.extend_from_slice(data);
        let (mut answered, mut parsed) = (self.answered, self.parsed);
        loop {
            let total = match peek_header(&self.carry, usize::MAX) {
                Ok(Some(h)) if self.carry.len() >= h.total => h.total,
                _ => break,
            };
            let msg = self.carry.split_to(total);
            let tag = msg[0];
            let after = self.tapped(&msg, answered, parsed);
            while let Some(p) = self.notices.front() {
                let due = p.at.cycle == answered
                    && p.at.parse.is_none_or(|j| tag == b'1' && parsed + 1 == j);
                if !due {
                    break;
                }
                out.extend_from_slice(&p.bytes);
                self.notices.pop_front();
            }
            if let Some(c) = self.converted.front_mut().filter(|c| c.cycle == answered) {
                match tag {
                    b'1' => {
                        c.parsed = true;
                        continue;
                    }
                    b'2' => continue,
                    b'E' | b'N' => {
                        out.extend_from_slice(&without_parameter_context(&msg));
                        continue;
                    }
                    _ => {}
                }
            }
            if tag == b'1' {
                if let Some(c) = self.confirms.front() {
                    if c.at.cycle == answered && c.at.parse == Some(parsed + 1) {
                        self.resolved.push((c.name.clone(), true));
                        self.confirms.pop_front();
                    }
                }
            }
            match tag {
                b'Z' => {
                    answered += 1;
                    parsed = 0;
                    while let Some(c) = self.confirms.front().filter(|c| c.at.cycle < answered) {
                        self.resolved.push((c.name.clone(), false));
                        self.confirms.pop_front();
                    }
                    while let Some(c) = self.converted.front().filter(|c| c.cycle < answered) {
                        if let Some(name) = &c.prepare {
                            self.resolved.push((name.clone(), c.parsed));
                        }
                        self.converted.pop_front();
                    }
                    // A cycle that ended without its statement's response: an earlier error
                    // in its batch made the upstream skip it.
                    while self.notices.front().is_some_and(|p| p.at.cycle < answered) {
                        self.notices.pop_front();
                    }
                    while let Some(t) = self.taps.front_mut().filter(|t| t.cycle < answered) {
                        if t.carry() {
                            break;
                        }
                        self.taps.pop_front();
                    }
                    if !self.subs.is_empty() {
                        self.subs.retain(|_, (cycle, _)| *cycle >= answered);
                    }
                }
                b'1' => parsed += 1,
                b'E' => {
                    if let Some((_, err)) = marker(&msg).and_then(|id| self.subs.remove(&id)) {
                        out.extend_from_slice(&err);
                        continue;
                    }
                }
                _ => {}
            }
            out.extend_from_slice(&msg);
            if let Some(a) = after {
                out.extend_from_slice(&a);
            }
        }
    }

    /// Shows one upstream message to the oldest tap when it is in the tap's cycle; returns
    /// the NOTICEs to send after the message when the tapped statement completed.
    fn tapped(&mut self, msg: &[u8], answered: u64, parsed: u32) -> Option<BytesMut> {
        let t = self.taps.front_mut().filter(|t| t.cycle == answered)?;
        if !t.armed {
            if msg[0] == b'1' && t.parse == Some(parsed + 1) {
                t.armed = true;
            }
            return None;
        }
        match t.message(msg) {
            Step::Go => None,
            Step::Done(bytes) => {
                self.taps.pop_front();
                Some(bytes)
            }
            Step::Drop => {
                self.taps.pop_front();
                None
            }
        }
    }
}

/// An error or notice without the context line PostgreSQL adds for a bound parameter
/// (`unnamed portal parameter $1 = '...'`): the client of a converted simple query bound none.
fn without_parameter_context(msg: &[u8]) -> BytesMut {
    use bytes::BufMut;
    let mut body = BytesMut::with_capacity(msg.len());
    let mut fields = &msg[5..];
    while let Some((&code, rest)) = fields.split_first() {
        if code == 0 {
            break;
        }
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let value = &rest[..end];
        fields = rest.get(end + 1..).unwrap_or(&[]);
        if code == b'W' && value.starts_with(b"unnamed portal parameter $") {
            continue;
        }
        body.put_u8(code);
        body.put_slice(value);
        body.put_u8(0);
    }
    body.put_u8(0);
    let mut out = BytesMut::with_capacity(body.len() + 5);
    out.put_u8(msg[0]);
    out.put_u32(body.len() as u32 + 4);
    out.put_slice(&body);
    out
}

fn marker(msg: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(&msg[5..]).ok()?;
    let at = text.find("querent_refused_")? + "querent_refused_".len();
    let digits: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
#[path = "replies_tests.rs"]
mod tests;
