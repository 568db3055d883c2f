//! Judging: runs an entry in one mode as alice and decides the verdict (refusal with an
//! expected SQLSTATE, or rows that pass the checks and leak nothing).

use super::{
    connect_proxy, run_copy, run_extended, run_simple, Entry, ErrInfo, Forbid, Mode, RunOut, Truth,
    ALICE, ALICE_PW, REGION, STATEMENT_DEADLINE,
};
use std::sync::Arc;
use std::time::Duration;

/// Runs one entry in one mode as alice; Ok(summary) or Err(failure).
pub async fn run_entry(
    env_port: u16,
    truth: &Truth,
    e: &Entry,
    mode: Mode,
) -> Result<String, String> {
    let sql = truth.subst(&e.sql);
    let forbid = Forbid::load(&e.forbid.iter().map(|q| truth.subst(q)).collect::<Vec<_>>()).await;
    let conn = connect_proxy(env_port, ALICE, ALICE_PW, e.options.as_deref())
        .await
        .map_err(|err| format!("SUITE: cannot connect as alice: {err}"))?;
    let params: Vec<Vec<String>> = e
        .params
        .iter()
        .map(|p| p.iter().map(|v| truth.subst(v)).collect())
        .collect();
    let mut out = RunOut::default();
    let work = async {
        for s in &e.setup {
            let mut o = RunOut::default();
            run_simple(&conn.client, &truth.subst(s), &mut o).await;
            out.sets.extend(o.sets);
            if let Some(err) = o.error {
                out.error = Some(ErrInfo {
                    code: err.code,
                    text: format!("in setup `{s}`: {}", err.text),
                });
                out.setup_error = true;
                return;
            }
        }
        match mode {
            Mode::Simple => run_simple(&conn.client, &sql, &mut out).await,
            Mode::Extended => run_extended(&conn.client, &sql, &params, &mut out).await,
            Mode::Copy => run_copy(&conn.client, &sql, &mut out).await,
        }
    };
    if tokio::time::timeout(STATEMENT_DEADLINE, work)
        .await
        .is_err()
    {
        out.timed_out = true;
    }
    // Undo anything an unguarded write did inside the entry's transaction.
    let _ =
        tokio::time::timeout(Duration::from_secs(5), conn.client.simple_query("ROLLBACK")).await;
    out.notices = conn.notices.lock().unwrap().clone();
    judge(truth, e, &out, forbid.as_ref())
}

/// The verdict on one run.
pub fn judge(
    truth: &Truth,
    e: &Entry,
    out: &RunOut,
    forbid: Option<&Forbid>,
) -> Result<String, String> {
    // 1. Nothing anywhere may contain a forbidden value: cells, error text, notices.
    for (si, set) in out.sets.iter().enumerate() {
        for (ri, row) in set.rows.iter().enumerate() {
            for (ci, cell) in row.iter().enumerate() {
                if let Some(v) = cell {
                    if let Some(what) = truth.leak_in(v, forbid) {
                        let col = set.columns.get(ci).cloned().unwrap_or_default();
                        return Err(format!(
                            "LEAK: {what} in result {si} row {ri} column {col:?}: {}",
                            clip(v)
                        ));
                    }
                }
            }
        }
    }
    if let Some(err) = &out.error {
        if let Some(what) = truth.leak_in(&err.text, forbid) {
            return Err(format!(
                "LEAK: {what} in the error message: {}",
                clip(&err.text)
            ));
        }
    }
    for n in &out.notices {
        if let Some(what) = truth.leak_in(n, forbid) {
            return Err(format!("LEAK: {what} in a notice: {}", clip(n)));
        }
    }
    // 2. Row checks apply to whatever rows came back, even before an error.
    for c in &e.checks {
        check(truth, &truth.subst(c), out)?;
    }
    if out.timed_out {
        return Err(format!(
            "NOT REFUSED: no answer within {} s (still running: not refused)",
            STATEMENT_DEADLINE.as_secs()
        ));
    }
    // 3. Refused or not.
    match &out.error {
        Some(err) if e.refuse.contains(&err.code) => Ok(format!(
            "refused {}{}",
            err.code,
            if out.setup_error { " (in setup)" } else { "" }
        )),
        Some(err) if e.refuse.is_empty() => Err(format!(
            "OVER-BLOCKING: expected rows, got error {} {}",
            err.code,
            clip(&err.text)
        )),
        Some(err) => Err(format!(
            "WRONG SQLSTATE: expected one of {:?}, got {} {}",
            e.refuse,
            if err.code.is_empty() { "(client error)" } else { &err.code },
            clip(&err.text)
        )),
        None if e.must_refuse => Err(format!(
            "NOT REFUSED: expected SQLSTATE {:?}, but it ran ({} rows in {} result sets, {} commands completed)",
            e.refuse,
            out.rows(),
            out.sets.len(),
            out.commands
        )),
        None => Ok(format!("{} rows, checks passed", out.rows())),
    }
}

fn clip(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// Cells of the column(s) named by `col` ("name", "#index" or "*"), with the column name.
fn cells<'a>(out: &'a RunOut, col: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    // `name?`: the column may legitimately be absent (e.g. the statement's shape depends on
    // how the lexer reads it); checked when present.
    let (col, optional) = match col.strip_suffix('?') {
        Some(c) => (c, true),
        None => (col, false),
    };
    let mut v = Vec::new();
    let mut found = false;
    let mut any_rows = false;
    for set in &out.sets {
        if set.rows.is_empty() {
            continue;
        }
        any_rows = true;
        let idx: Vec<usize> = if col == "*" {
            (0..set.columns.len()).collect()
        } else if let Some(n) = col.strip_prefix('#') {
            vec![n.parse().map_err(|_| format!("SUITE: bad column {col}"))?]
        } else {
            (0..set.columns.len())
                .filter(|&i| set.columns[i].eq_ignore_ascii_case(col))
                .collect()
        };
        for &i in &idx {
            if i < set.columns.len() || set.rows.iter().any(|r| i < r.len()) {
                found = true;
            }
            for r in &set.rows {
                if let Some(Some(c)) = r.get(i) {
                    v.push((
                        set.columns.get(i).map(String::as_str).unwrap_or(""),
                        c.as_str(),
                    ));
                }
            }
        }
    }
    if any_rows && !found && !optional {
        let cols: Vec<&Vec<String>> = out.sets.iter().map(|s| &s.columns).collect();
        return Err(format!(
            "CHECK: column {col:?} is not in the result (columns {cols:?})"
        ));
    }
    Ok(v)
}

/// One `check:` line.
pub fn check(truth: &Truth, c: &str, out: &RunOut) -> Result<(), String> {
    let words: Vec<&str> = c.split_whitespace().collect();
    let rest = |n: usize| words[n..].join(" ");
    match words.as_slice() {
        ["rows", op, n] => {
            let n: usize = n.parse().map_err(|_| format!("SUITE: bad check {c}"))?;
            let got = out.rows();
            let ok = match *op {
                "=" => got == n,
                "<=" => got <= n,
                ">=" => got >= n,
                _ => return Err(format!("SUITE: bad check {c}")),
            };
            if !ok {
                return Err(format!(
                    "ROW FILTER/ORACLE: expected rows {op} {n}, got {got}"
                ));
            }
        }
        ["explain_rows", "<=", n] => {
            let n: u64 = n.parse().map_err(|_| format!("SUITE: bad check {c}"))?;
            let all: Vec<&str> = out
                .sets
                .iter()
                .flat_map(|s| s.rows.iter().flatten().flatten())
                .map(String::as_str)
                .collect();
            let text = all.join("\n");
            let found = [("actual rows=", 12), ("\"Actual Rows\": ", 15)]
                .iter()
                .filter_map(|(pat, len)| text.find(pat).map(|p| p + len))
                .min();
            if let Some(pos) = found {
                let num: String = text[pos..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                let got: u64 = num.parse().unwrap_or(0);
                if got > n {
                    return Err(format!(
                        "ROW FILTER: EXPLAIN ANALYZE's top node saw {got} rows, more than the {n} allowed"
                    ));
                }
            }
        }
        ["nomention", ..] => {
            let w = rest(1).to_ascii_lowercase();
            let mut texts: Vec<String> = out
                .sets
                .iter()
                .flat_map(|s| s.rows.iter().flatten().flatten().cloned())
                .collect();
            texts.extend(out.error.iter().map(|e| e.text.clone()));
            texts.extend(out.notices.iter().cloned());
            if let Some(t) = texts.iter().find(|t| t.to_ascii_lowercase().contains(&w)) {
                return Err(format!("LEAK: {w:?} is mentioned: {}", clip(t)));
            }
        }
        [col, "in", set] => {
            for (name, v) in cells(out, col)? {
                let ok = match *set {
                    "stores" => v.parse::<i64>().is_ok_and(|x| truth.stores.contains(&x)),
                    "orders" => v.parse::<i64>().is_ok_and(|x| truth.orders.contains(&x)),
                    "regions" => v.trim() == REGION.to_string(),
                    _ => return Err(format!("SUITE: bad check {c}")),
                };
                if !ok {
                    return Err(format!(
                        "ROW FILTER: column {name:?} holds {v:?}, outside the allowed {set} of region {REGION}"
                    ));
                }
            }
        }
        [col, "is", kind] => {
            for (name, v) in cells(out, col)? {
                let ok = match *kind {
                    "hash" => v.len() >= 16 && v.bytes().all(|b| b.is_ascii_hexdigit()),
                    "partial" => {
                        let n = v.chars().count();
                        n > 4
                            && v.chars().take(n - 4).all(|c| c == '*')
                            && !v.chars().skip(n - 4).any(|c| c == '*')
                    }
                    "redact" => v == "***",
                    "stars" => v.chars().all(|c| c == '*'),
                    _ => return Err(format!("SUITE: bad check {c}")),
                };
                if !ok {
                    return Err(format!(
                        "MASK: column {name:?} holds {:?}, which is not a {kind} mask",
                        clip(v)
                    ));
                }
            }
        }
        [col, "=", ..] => {
            let want = rest(2);
            for (name, v) in cells(out, col)? {
                if v != want {
                    return Err(format!(
                        "ROW FILTER/ORACLE: column {name:?} holds {:?}, expected {want:?}",
                        clip(v)
                    ));
                }
            }
        }
        [col, "!=", ..] => {
            let bad = rest(2);
            for (name, v) in cells(out, col)? {
                if v.eq_ignore_ascii_case(&bad) {
                    return Err(format!("LEAK: column {name:?} holds {v:?}"));
                }
            }
        }
        _ => return Err(format!("SUITE: unknown check {c:?}")),
    }
    Ok(())
}

/// Runs all entries (each mode on a fresh connection) with a little parallelism.
pub async fn run_all(
    port: u16,
    truth: Arc<Truth>,
    entries: Vec<Entry>,
) -> Vec<(Entry, Mode, Result<String, String>)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let mut handles = Vec::new();
    for e in entries {
        for &m in &e.modes {
            let sem = sem.clone();
            let truth = truth.clone();
            let e = e.clone();
            handles.push(tokio::spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                let r = run_entry(port, &truth, &e, m).await;
                (e, m, r)
            }));
        }
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    results
}
