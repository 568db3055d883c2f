//! Scenarios, the corpus file format, and running one scenario against two servers.

use crate::wire::{self, Conn, Msg};

/// One thing a scenario does on its connection.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these frontend bytes.
    Send(Vec<u8>),
    /// Read until this many ReadyForQuery messages arrived.
    Until(usize),
    /// Read exactly this many messages.
    Read(usize),
}

/// Content a scenario must produce (checked on the direct side, which the proxy side equals).
#[derive(Clone, Debug)]
pub enum Check {
    /// Exactly this many DataRows.
    Rows(usize),
    /// An ErrorResponse with this SQLSTATE.
    Error(String),
    /// A NoticeResponse with this SQLSTATE.
    Notice(String),
    /// A message with this tag.
    Has(u8),
    /// No message with this tag.
    Lacks(u8),
    /// This text appears in a DataRow, CopyData, error field or command tag (text results only).
    Contains(String),
    /// The ReadyForQuery statuses, in order, after the `pre` statements.
    Status(String),
}

/// A named exchange run once directly and once through the proxy.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    /// Extra startup parameters.
    pub params: Vec<(String, String)>,
    pub steps: Vec<Step>,
    /// How many ReadyForQuery messages the `pre` steps produce (excluded from Status checks).
    pub pre_ready: usize,
    pub checks: Vec<Check>,
    /// Whether results are text (so `Contains` checks apply).
    pub text_results: bool,
}

impl Scenario {
    /// A scenario with no startup parameters and no checks yet.
    pub fn new(name: impl Into<String>, steps: Vec<Step>) -> Scenario {
        Scenario {
            name: name.into(),
            params: Vec::new(),
            steps,
            pre_ready: 0,
            checks: Vec::new(),
            text_results: true,
        }
    }

    /// Marks whether results are text, so `Contains` checks apply.
    pub fn text_only(mut self, text: bool) -> Scenario {
        self.text_results = text;
        self
    }

    /// Adds a check.
    pub fn check(mut self, c: Check) -> Scenario {
        self.checks.push(c);
        self
    }
}

/// Runs the steps on a fresh connection to `port`; returns the startup messages and the replies.
pub async fn run_on(port: u16, sc: &Scenario) -> Result<(Vec<Msg>, Vec<Msg>), String> {
    let params: Vec<(&str, &str)> = sc
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut conn = Conn::connect(port, &params).await?;
    let mut out = Vec::new();
    for step in &sc.steps {
        let r = match step {
            Step::Send(b) => conn.send(b).await,
            Step::Until(n) => conn.until_ready(*n, &mut out).await,
            Step::Read(n) => conn.read_n(*n, &mut out).await,
        };
        if let Err(e) = r {
            return Err(format!("{e}; got so far:\n{}", listing(&out)));
        }
    }
    let startup = std::mem::take(&mut conn.startup);
    conn.close().await;
    Ok((startup, out))
}

fn listing(msgs: &[Msg]) -> String {
    msgs.iter()
        .enumerate()
        .map(|(i, m)| format!("   #{i:<3} {}\n", m.describe()))
        .collect()
}

/// The ParameterStatus values in a startup sequence.
fn reported(startup: &[Msg]) -> Vec<(String, String)> {
    startup
        .iter()
        .filter(|m| m.tag == b'S')
        .filter_map(|m| {
            let mut parts = m.body.split(|&b| b == 0);
            let k = String::from_utf8_lossy(parts.next()?).into_owned();
            let v = String::from_utf8_lossy(parts.next()?).into_owned();
            Some((k, v))
        })
        .collect()
}

/// Runs a scenario directly and through the proxy; `Err` describes every difference or failed
/// check.
pub async fn run_pair(direct: u16, proxy: u16, sc: &Scenario) -> Result<(), String> {
    let d = run_on(direct, sc)
        .await
        .map_err(|e| format!("direct run failed: {e}"))?;
    let p = run_on(proxy, sc)
        .await
        .map_err(|e| format!("proxy run failed: {e}"))?;
    let mut problems = Vec::new();
    if d.1 != p.1 {
        problems.push(wire::diff(&d.1, &p.1, "direct", "proxy"));
    }
    // Startup parameters the client asked for must be reported as PostgreSQL reports them.
    let (dr, pr) = (reported(&d.0), reported(&p.0));
    for (k, _) in &sc.params {
        let dv = dr.iter().find(|(n, _)| n.eq_ignore_ascii_case(k));
        let pv = pr.iter().find(|(n, _)| n.eq_ignore_ascii_case(k));
        if dv != pv {
            problems.push(format!(
                "startup ParameterStatus for {k}: direct {dv:?}, proxy {pv:?}"
            ));
        }
    }
    for c in &sc.checks {
        if let Err(e) = verify(c, sc, &d.1) {
            problems.push(format!("check {c:?} failed: {e}\n{}", listing(&d.1)));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn verify(c: &Check, sc: &Scenario, msgs: &[Msg]) -> Result<(), String> {
    let has_field = |tag: u8, code: &str| {
        msgs.iter()
            .any(|m| m.tag == tag && m.field('C').as_deref() == Some(code))
    };
    match c {
        Check::Rows(n) => {
            let got = msgs.iter().filter(|m| m.tag == b'D').count();
            (got == *n).then_some(()).ok_or(format!("{got} DataRows"))
        }
        Check::Error(code) => has_field(b'E', code)
            .then_some(())
            .ok_or_else(|| "no such ErrorResponse".into()),
        Check::Notice(code) => has_field(b'N', code)
            .then_some(())
            .ok_or_else(|| "no such NoticeResponse".into()),
        Check::Has(t) => msgs
            .iter()
            .any(|m| m.tag == *t)
            .then_some(())
            .ok_or_else(|| "missing".into()),
        Check::Lacks(t) => (!msgs.iter().any(|m| m.tag == *t))
            .then_some(())
            .ok_or_else(|| "present".into()),
        Check::Contains(s) => {
            if !sc.text_results || msgs.iter().any(|m| m.text().contains(s.as_str())) {
                Ok(())
            } else {
                Err("text not found".into())
            }
        }
        Check::Status(want) => {
            let got: String = msgs
                .iter()
                .filter(|m| m.tag == b'Z')
                .skip(sc.pre_ready)
                .map(|m| m.body[0] as char)
                .collect();
            (got == *want)
                .then_some(())
                .ok_or(format!("statuses {got:?}"))
        }
    }
}

/// Parses a `-- expect:` line.
fn parse_checks(line: &str) -> Result<Vec<Check>, String> {
    let (line, contains) = match line.find("contains=") {
        Some(at) => (
            &line[..at],
            Some(Check::Contains(line[at + "contains=".len()..].to_string())),
        ),
        None => (line, None),
    };
    let mut checks: Vec<Check> = line
        .split_whitespace()
        .map(|item| {
            let (k, v) = item.split_once('=').ok_or(format!("bad check {item:?}"))?;
            let tag = || v.bytes().next().ok_or(format!("bad tag in {item:?}"));
            Ok(match k {
                "rows" => Check::Rows(v.parse().map_err(|_| format!("bad count in {item:?}"))?),
                "error" => Check::Error(v.into()),
                "notice" => Check::Notice(v.into()),
                "has" => Check::Has(tag()?),
                "lacks" => Check::Lacks(tag()?),
                "status" => Check::Status(v.into()),
                _ => return Err(format!("unknown check {k:?}")),
            })
        })
        .collect::<Result<_, String>>()?;
    checks.extend(contains);
    Ok(checks)
}

/// One corpus entry before expansion.
#[derive(Default)]
struct Entry {
    name: String,
    mode: String,
    variants: Vec<Vec<(String, String)>>,
    pre: Vec<String>,
    checks: Vec<Check>,
    sql: String,
}

/// Parses the corpus file (see its header for the format) into scenarios; `@schema@` becomes
/// `schema`.
pub fn parse_corpus(text: &str, schema: &str) -> Result<Vec<Scenario>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    for (no, raw) in text.replace("@schema@", schema).lines().enumerate() {
        let line = raw.trim_end();
        let directive = line
            .strip_prefix("-- ")
            .and_then(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim(), v.trim()));
        let err = |e: String| format!("corpus line {}: {e}", no + 1);
        match directive {
            Some(("name", v)) => entries.push(Entry {
                name: v.into(),
                mode: "value".into(),
                ..Default::default()
            }),
            Some((k @ ("mode" | "params" | "pre" | "expect"), v)) => {
                let e = entries
                    .last_mut()
                    .ok_or_else(|| err(format!("{k} before any name")))?;
                match k {
                    "mode" => e.mode = v.into(),
                    "pre" => e.pre.push(v.into()),
                    "expect" => e.checks.extend(parse_checks(v).map_err(err)?),
                    _ => e.variants.push(
                        v.split_whitespace()
                            .map(|kv| {
                                kv.split_once('=')
                                    .map(|(a, b)| (a.to_string(), b.to_string()))
                                    .ok_or(err(format!("bad param {kv:?}")))
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                }
            }
            _ if line.starts_with("--") && !line.starts_with("-- next") => {} // comment
            _ => {
                if let Some(e) = entries.last_mut() {
                    e.sql.push_str(line);
                    e.sql.push('\n');
                }
            }
        }
    }
    let mut out = Vec::new();
    for e in entries {
        if e.sql.trim().is_empty() {
            return Err(format!("corpus entry {} has no SQL", e.name));
        }
        let variants = if e.variants.is_empty() {
            vec![Vec::new()]
        } else {
            e.variants.clone()
        };
        for params in variants {
            let suffix: String = params.iter().map(|(k, v)| format!(" {k}={v}")).collect();
            let mut pre_steps = Vec::new();
            for p in &e.pre {
                pre_steps.push(Step::Send(wire::query(p)));
                pre_steps.push(Step::Until(1));
            }
            let make = |kind: &str, body: Vec<Step>, text: bool| {
                let mut steps = pre_steps.clone();
                steps.extend(body);
                Scenario {
                    name: format!("{}[{kind}{suffix}]", e.name),
                    params: params.clone(),
                    steps,
                    pre_ready: e.pre.len(),
                    checks: e.checks.clone(),
                    text_results: text,
                }
            };
            match e.mode.as_str() {
                "simple" => {
                    let mut body = Vec::new();
                    for part in e
                        .sql
                        .split("-- next\n")
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                    {
                        let sql = match part {
                            "<empty>" => "",
                            "<spaces>" => "   ",
                            p => p,
                        };
                        body.push(Step::Send(wire::query(sql)));
                        body.push(Step::Until(1));
                    }
                    out.push(make("simple", body, true));
                }
                "value" => {
                    let sql = e.sql.trim();
                    out.push(make(
                        "simple",
                        vec![Step::Send(wire::query(sql)), Step::Until(1)],
                        true,
                    ));
                    for (kind, fmt) in [("ext-text", 0), ("ext-binary", 1)] {
                        out.push(make(kind, extended_steps(sql, fmt), fmt == 0));
                    }
                }
                m => return Err(format!("corpus entry {}: unknown mode {m:?}", e.name)),
            }
        }
    }
    Ok(out)
}

/// Parse, Describe statement, Bind with one result format for all columns, Describe portal,
/// Execute everything, Sync.
pub fn extended_steps(sql: &str, result_format: i16) -> Vec<Step> {
    let mut b = Vec::new();
    b.extend(wire::parse("", sql, &[]));
    b.extend(wire::describe(b'S', ""));
    b.extend(wire::bind("", "", &[], &[], &[result_format]));
    b.extend(wire::describe(b'P', ""));
    b.extend(wire::execute("", 0));
    b.extend(wire::sync());
    vec![Step::Send(b), Step::Until(1)]
}
