//! Recognises a question in a statement: `ASK '<question>'` (quotes doubled inside),
//! `ASK <free text>` to the end of the statement, `/* ask: <question> */`, a `-- ask:
//! <question>` comment line, and `EXPLAIN` before any of them. Anything else is SQL.

/// A question found in a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskRequest {
    /// The question, trimmed.
    pub question: String,
    /// `EXPLAIN ASK`: show the plan instead of running it.
    pub explain: bool,
}

fn skip_ws(s: &str) -> &str {
    s.trim_start()
}

fn strip_keyword<'a>(s: &'a str, kw: &str) -> Option<&'a str> {
    let head = s.get(..kw.len())?;
    if !head.eq_ignore_ascii_case(kw) {
        return None;
    }
    let rest = &s[kw.len()..];
    match rest.chars().next() {
        None => Some(rest),
        Some(c) if c.is_whitespace() || c == '\'' || c == ';' => Some(rest),
        _ => None,
    }
}

/// Removes one trailing `;` and whitespace.
fn end_of_statement(s: &str) -> &str {
    let t = s.trim_end();
    t.strip_suffix(';').unwrap_or(t).trim_end()
}

/// `'...'` with doubled quotes; returns the text and what follows.
fn string_literal(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.strip_prefix('\'')?.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            let after = &s[1 + i + 1..];
            if after.starts_with('\'') {
                out.push('\'');
                chars.next();
                continue;
            }
            return Some((out, after));
        }
        out.push(c);
    }
    None
}

/// The question in `sql`, if it is one.
pub fn detect(sql: &str) -> Option<AskRequest> {
    let mut s = skip_ws(sql);
    let mut explain = false;
    if let Some(rest) = strip_keyword(s, "explain") {
        let rest = skip_ws(rest);
        // Only `EXPLAIN ASK` / `EXPLAIN /* ask: */` / `EXPLAIN -- ask:` are ours.
        if strip_keyword(rest, "ask").is_some() || comment_question(rest).is_some() {
            explain = true;
            s = rest;
        } else {
            return None;
        }
    }
    if let Some(q) = comment_question(s) {
        return Some(AskRequest {
            question: q,
            explain,
        });
    }
    let rest = skip_ws(strip_keyword(s, "ask")?);
    let question = if rest.starts_with('\'') {
        let (text, after) = string_literal(rest)?;
        if !end_of_statement(after).is_empty() {
            return None;
        }
        text
    } else {
        end_of_statement(rest).to_string()
    };
    let question = question.trim().to_string();
    (!question.is_empty()).then_some(AskRequest { question, explain })
}

/// `/* ask: q */` or `-- ask: q` lines, with nothing but whitespace and `;` after them.
fn comment_question(s: &str) -> Option<String> {
    if let Some(body) = s.strip_prefix("/*") {
        let end = body.find("*/")?;
        let inner = body[..end].trim_start();
        let q = strip_ask_label(inner)?;
        if !end_of_statement(&body[end + 2..]).is_empty() {
            return None;
        }
        return Some(q.trim().to_string()).filter(|q| !q.is_empty());
    }
    if s.starts_with("--") {
        let mut parts = Vec::new();
        for line in s.lines() {
            let line = line.trim();
            if line.is_empty() || line == ";" {
                continue;
            }
            let c = line.strip_prefix("--")?.trim_start();
            match strip_ask_label(c) {
                Some(q) => parts.push(q.trim().to_string()),
                // Further comment lines continue the question.
                None if !parts.is_empty() => parts.push(c.trim().to_string()),
                None => return None,
            }
        }
        let q = parts.join(" ").trim().to_string();
        return (!q.is_empty()).then_some(q);
    }
    None
}

fn strip_ask_label(s: &str) -> Option<&str> {
    let head = s.get(..4)?;
    head.eq_ignore_ascii_case("ask:").then(|| &s[4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(sql: &str) -> Option<(String, bool)> {
        detect(sql).map(|r| (r.question, r.explain))
    }

    #[test]
    fn every_trigger_form() {
        let want = Some(("top 5 products by revenue".to_string(), false));
        assert_eq!(q("ASK 'top 5 products by revenue'"), want);
        assert_eq!(q("  ask 'top 5 products by revenue' ;"), want);
        assert_eq!(q("ASK top 5 products by revenue;"), want);
        assert_eq!(q("/* ask: top 5 products by revenue */"), want);
        assert_eq!(q("/*ASK: top 5 products by revenue */;"), want);
        assert_eq!(q("-- ask: top 5 products by revenue\n"), want);
        assert_eq!(q("-- ask: top 5 products\n-- by revenue\n;"), want);
        assert_eq!(
            q("ASK 'what''s our revenue'"),
            Some(("what's our revenue".into(), false))
        );
        assert_eq!(
            q("EXPLAIN ASK 'revenue by region'"),
            Some(("revenue by region".into(), true))
        );
        assert_eq!(
            q("explain /* ask: revenue */"),
            Some(("revenue".into(), true))
        );
    }

    #[test]
    fn sql_stays_sql() {
        for sql in [
            "SELECT 1",
            "asking_price",
            "SELECT ask FROM t",
            "EXPLAIN SELECT 1",
            "ASK",
            "ASK ''",
            "ASK 'unterminated",
            "ASK 'q' AND more",
            "/* ask: q */ SELECT 1",
            "-- ask: q\nSELECT 1",
            "/* just a comment */ SELECT 1",
            "-- note\nSELECT 1",
            "",
        ] {
            assert_eq!(detect(sql), None, "{sql:?}");
        }
    }
}
