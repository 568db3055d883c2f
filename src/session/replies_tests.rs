//! The cycle and NOTICE bookkeeping over synthetic byte streams, fed the way the relay feeds
//! them (fast path through the scanner alone; slow path: the message in progress as it is,
//! then whole messages through `Replies::upstream`), in every split.

use super::*;
use crate::session::scan::Scanner;

fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn notice(text: &str) -> Vec<u8> {
    let mut b = BytesMut::new();
    backend::notice(&mut b, "00000", text, None);
    b.to_vec()
}

/// One simple-protocol answer: RowDescription, DataRow, CommandComplete, ReadyForQuery.
fn rows(tag: &str) -> Vec<u8> {
    [
        msg(
            b'T',
            b"\0\x01x\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0",
        ),
        msg(b'D', &[0, 1, 0, 0, 0, 1, b'1']),
        msg(b'C', format!("{tag}\0").as_bytes()),
        msg(b'Z', b"I"),
    ]
    .concat()
}

/// What the relay does with one read from the upstream; returns the bytes for the client.
fn relay(r: &mut Replies, scan: &mut Scanner, chunk: &[u8]) -> Vec<u8> {
    fn forward(r: &mut Replies, scan: &mut Scanner, out: &mut Vec<u8>, bytes: &[u8]) {
        scan.feed(bytes, |m| r.seen(m.tag));
        out.extend_from_slice(bytes);
    }
    let mut out = Vec::new();
    if !r.active() {
        forward(r, scan, &mut out, chunk);
        return out;
    }
    let head = scan.head_len(chunk);
    forward(r, scan, &mut out, &chunk[..head]);
    let mut rewritten = BytesMut::new();
    r.upstream(&chunk[head..], &mut rewritten);
    forward(r, scan, &mut out, &rewritten);
    out
}

/// Client messages (tags) sent in order, with `asks` = (index of the message, notices).
fn session(client: &[u8], asks: &[(usize, &[&str])]) -> Replies {
    let mut r = Replies::default();
    for (i, &tag) in client.iter().enumerate() {
        let spot = r.client(tag);
        if let Some((_, n)) = asks.iter().find(|(at, _)| *at == i) {
            let n: Vec<String> = n.iter().map(|s| s.to_string()).collect();
            r.notify(spot, &n);
        }
    }
    r
}

/// Feeds `upstream` in two reads split at every position (and one byte at a time), and checks
/// the client gets `want` each time.
fn check(client: &[u8], asks: &[(usize, &[&str])], upstream: &[u8], want: &[u8]) {
    for split in 0..=upstream.len() {
        let mut r = session(client, asks);
        let mut scan = Scanner::default();
        let mut got = relay(&mut r, &mut scan, &upstream[..split]);
        got.extend(relay(&mut r, &mut scan, &upstream[split..]));
        assert_eq!(got, want, "split at {split}");
        assert!(!r.active(), "nothing left pending (split at {split})");
    }
    let mut r = session(client, asks);
    let mut scan = Scanner::default();
    let got: Vec<u8> = upstream
        .iter()
        .flat_map(|b| relay(&mut r, &mut scan, std::slice::from_ref(b)))
        .collect();
    assert_eq!(got, want, "one byte at a time");
}

#[test]
fn no_question_changes_nothing() {
    let up = [rows("SELECT 1"), rows("SELECT 1")].concat();
    check(b"QQ", &[], &up, &up);
    let ext = [msg(b'1', b""), msg(b'2', b""), rows("SELECT 1")].concat();
    check(b"PBDES", &[], &ext, &ext);
}

#[test]
fn a_query_gets_its_notices_before_its_first_response() {
    let up = rows("SELECT 1");
    let want = [notice("a"), notice("b"), up.clone()].concat();
    check(b"Q", &[(0, &["a", "b"])], &up, &want);
}

#[test]
fn pipelined_queries_only_the_question_gets_notices() {
    let (a, b, c) = (rows("SELECT 1"), rows("SELECT 2"), rows("SELECT 3"));
    let up = [a.clone(), b.clone(), c.clone()].concat();
    let want = [a.clone(), notice("n"), b.clone(), c.clone()].concat();
    check(b"QQQ", &[(1, &["n"])], &up, &want);
    let want = [a.clone(), b.clone(), notice("n"), c.clone()].concat();
    check(b"QQQ", &[(2, &["n"])], &up, &want);
    let want = [notice("x"), a, b, notice("z"), c].concat();
    check(b"QQQ", &[(0, &["x"]), (2, &["z"])], &up, &want);
}

#[test]
fn an_empty_answer_still_gets_them() {
    let up = [msg(b'I', b""), msg(b'Z', b"I")].concat();
    let want = [notice("n"), up.clone()].concat();
    check(b"Q", &[(0, &["n"])], &up, &want);
}

#[test]
fn extended_batch_notices_before_the_questions_parse_complete() {
    // P1 B1 D1 E1 P2(ask) B2 D2 E2 S
    let one = [msg(b'1', b""), msg(b'2', b"")].concat();
    let body = |t: &str| {
        let r = rows(t);
        r[..r.len() - 6].to_vec() // without ReadyForQuery
    };
    let up = [
        one.clone(),
        body("SELECT 1"),
        one.clone(),
        body("SELECT 2"),
        msg(b'Z', b"I"),
    ]
    .concat();
    let want = [
        one.clone(),
        body("SELECT 1"),
        notice("n"),
        one.clone(),
        body("SELECT 2"),
        msg(b'Z', b"I"),
    ]
    .concat();
    check(b"PBDEPBDES", &[(4, &["n"])], &up, &want);
    // The same batch after a simple Query answered first.
    let q = rows("SELECT 0");
    let up2 = [q.clone(), up.clone()].concat();
    let want2 = [q, want].concat();
    check(b"QPBDEPBDES", &[(5, &["n"])], &up2, &want2);
    // Two batches pipelined, the question in the first Parse of the second.
    let up3 = [up.clone(), up.clone()].concat();
    let want3 = [up.clone(), notice("m"), up].concat();
    check(b"PBDEPBDESPBDEPBDES", &[(9, &["m"])], &up3, &want3);
}

#[test]
fn a_question_skipped_after_an_error_gets_no_notices() {
    // P1 fails; the upstream skips the question's Parse and answers the Sync.
    let err = msg(b'E', b"SERROR\0C42601\0Msyntax\0\0");
    let up = [err.clone(), msg(b'Z', b"I"), rows("SELECT 1")].concat();
    check(b"PBEPBESQ", &[(3, &["n"])], &up, &up);
}

#[test]
fn markers_are_swapped_and_notices_placed_in_one_stream() {
    let mut r = Replies::default();
    let spot = r.client(b'Q');
    let marker = r.refuse(spot, &PgError::error("QA001", "declined"));
    assert_eq!(marker, "SELECT querent_refused_1");
    let spot = r.client(b'Q');
    r.notify(spot, &["n".into()]);
    let upstream_err = msg(
        b'E',
        b"SERROR\0C42703\0Mcolumn \"querent_refused_1\" does not exist\0\0",
    );
    let up = [upstream_err, msg(b'Z', b"I"), rows("SELECT 1")].concat();
    let mut ours = BytesMut::new();
    backend::error_response(&mut ours, &PgError::error("QA001", "declined"));
    let want = [
        ours.to_vec(),
        msg(b'Z', b"I"),
        notice("n"),
        rows("SELECT 1"),
    ]
    .concat();
    let mut scan = Scanner::default();
    assert_eq!(relay(&mut r, &mut scan, &up), want);
    assert!(!r.active());
}

#[test]
fn a_flushed_cycle_already_under_way() {
    // P1 B1 E1 H answered at once, then P2(ask) B2 E2 S in the same cycle.
    let mut r = Replies::default();
    let mut scan = Scanner::default();
    for tag in *b"PBEH" {
        r.client(tag);
    }
    let first = [msg(b'1', b""), msg(b'2', b""), msg(b'C', b"SELECT 1\0")].concat();
    assert_eq!(relay(&mut r, &mut scan, &first), first);
    let spot = r.client(b'P');
    r.notify(spot, &["n".into()]);
    for tag in *b"BES" {
        r.client(tag);
    }
    let second = [
        msg(b'1', b""),
        msg(b'2', b""),
        msg(b'C', b"SELECT 2\0"),
        msg(b'Z', b"I"),
    ]
    .concat();
    let want = [notice("n"), second.clone()].concat();
    assert_eq!(relay(&mut r, &mut scan, &second), want);
    assert!(!r.active());
}

#[test]
fn a_skipped_marker_is_forgotten_with_its_cycle() {
    // P1 fails; the refused question's marker Parse after it is never answered.
    let mut r = Replies::default();
    for tag in *b"PB" {
        r.client(tag);
    }
    let spot = r.client(b'P');
    r.refuse(spot, &PgError::error("QA001", "declined"));
    r.client(b'S');
    let up = [msg(b'E', b"SERROR\0C42601\0Msyntax\0\0"), msg(b'Z', b"I")].concat();
    let mut scan = Scanner::default();
    assert_eq!(relay(&mut r, &mut scan, &up), up);
    assert!(!r.active(), "back on the fast path");
}
