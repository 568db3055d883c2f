//! Decisions reused across statements that differ only in their literals.
//!
//! Simple-protocol clients send every value inline (`... WHERE aid = 48211`), so each
//! statement is new text. A statement's fingerprint is its token stream with number and
//! string literals taken out; when the guard's decision on it inspected no literal value (no
//! `pg_sleep` duration, `set_config` name or `LIMIT` to cap), the rewritten SQL is stored as a
//! template with a slot per literal, and the next statement with the same fingerprint gets its
//! own literals put into the slots. A template is kept only if it reproduces the full
//! decision's output for the statement that produced it.

use sqlparser::ast::{Statement, Value, ValueWithSpan, VisitMut, VisitorMut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer};
use std::ops::ControlFlow;

/// Prefix of the slot marks put in place of literals while a template is made.
pub const MARK: &str = "$querent_lit_";

/// A statement's literal-free key and its literals, in text order.
pub struct Fingerprint {
    /// Tokens without whitespace and comments, literals as `?`.
    pub key: String,
    /// Each literal as it will be printed (numbers as written, strings quoted).
    pub literals: Vec<String>,
    /// Each literal's value (for binding it as a parameter).
    pub raw: Vec<super::params::Literal>,
    locations: Vec<Location>,
}

/// The tokens of `sql` with literals abstracted; `None` when it does not tokenize.
pub fn fingerprint(sql: &str) -> Option<Fingerprint> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .ok()?;
    let mut key = String::with_capacity(sql.len());
    let (mut literals, mut locations, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    for t in tokens {
        match &t.token {
            Token::Whitespace(_) => continue,
            Token::Number(n, false) => {
                // As the printer writes numbers; one it would refuse gets no template.
                let n = super::print::number_literal(n)?;
                literals.push(n.clone());
                raw.push(super::params::Literal::Number(n));
                locations.push(t.span.start);
                key.push('?');
            }
            // PostgreSQL text cannot hold NUL (nor can a protocol message): no template.
            Token::SingleQuotedString(s) if s.contains('\0') => return None,
            Token::SingleQuotedString(s) => {
                literals.push(super::print::string_literal(s));
                raw.push(super::params::Literal::Text(s.clone()));
                locations.push(t.span.start);
                key.push('?');
            }
            other => key.push_str(&other.to_string()),
        }
        key.push(' ');
    }
    Some(Fingerprint {
        key,
        literals,
        raw,
        locations,
    })
}

/// Rewritten SQL with a slot for each literal.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Slot(usize),
}

impl Template {
    /// The SQL for these literals.
    pub fn render(&self, literals: &[String]) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Slot(i) => out.push_str(literals.get(*i)?),
            }
        }
        Some(out)
    }

    /// Splits printed SQL at the slot marks.
    pub(super) fn from_marked(text: &str, slots: usize) -> Option<Template> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut seen = 0;
        while let Some(at) = rest.find(MARK) {
            parts.push(Part::Text(rest[..at].to_string()));
            let digits: String = rest[at + MARK.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            parts.push(Part::Slot(
                digits.parse().ok().filter(|&i: &usize| i < slots)?,
            ));
            seen += 1;
            rest = &rest[at + MARK.len() + digits.len()..];
        }
        parts.push(Part::Text(rest.to_string()));
        (seen >= slots).then_some(Template { parts })
    }
}

struct Mark {
    /// Literal index by its source position.
    at: std::collections::HashMap<(u64, u64), usize>,
    replaced: Vec<bool>,
}

impl VisitorMut for Mark {
    type Break = ();
    fn pre_visit_value(&mut self, v: &mut ValueWithSpan) -> ControlFlow<()> {
        if matches!(v.value, Value::Number(_, _) | Value::SingleQuotedString(_)) {
            let start = v.span.start;
            if let Some(&i) = self.at.get(&(start.line, start.column)) {
                v.value = Value::Placeholder(format!("{MARK}{i}"));
                self.replaced[i] = true;
            }
        }
        ControlFlow::Continue(())
    }
}

/// Replaces each literal of the parsed statements by a slot mark, matched to the fingerprint's
/// literals by source position; `false` when some literal was not found in the tree.
pub fn mark_literals(stmts: &mut [Statement], fp: &Fingerprint) -> bool {
    let mut m = Mark {
        at: fp
            .locations
            .iter()
            .enumerate()
            .map(|(i, l)| ((l.line, l.column), i))
            .collect(),
        replaced: vec![false; fp.locations.len()],
    };
    for stmt in stmts.iter_mut() {
        let _ = VisitMut::visit(stmt, &mut m);
    }
    m.replaced.iter().all(|&r| r)
}

/// A template from the marked statements' decision, kept only if it reproduces `expected`.
pub fn build(marked_output: &str, fp: &Fingerprint, expected: &str) -> Option<Template> {
    let t = Template::from_marked(marked_output, fp.literals.len())?;
    (t.render(&fp.literals)? == expected).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_literals_and_spacing() {
        let a = fingerprint("SELECT x FROM t WHERE id = 5 AND s = 'a''b'").unwrap();
        let b = fingerprint("select  x FROM t WHERE id = 77 AND s = 'zz' -- c").unwrap();
        assert_ne!(a.key, b.key, "keywords keep their spelling");
        let c = fingerprint("SELECT x FROM t WHERE id = 77 AND s = 'zz'").unwrap();
        assert_eq!(a.key, c.key);
        assert_eq!(a.literals, vec!["5".to_string(), "'a''b'".to_string()]);
    }

    #[test]
    fn templates_render_new_literals() {
        let t = Template::from_marked(
            "SELECT 1 FROM t WHERE id = $querent_lit_0 AND s = $querent_lit_1",
            2,
        )
        .unwrap();
        assert_eq!(
            t.render(&["9".into(), "'q'".into()]).unwrap(),
            "SELECT 1 FROM t WHERE id = 9 AND s = 'q'"
        );
        assert!(Template::from_marked("SELECT $querent_lit_7", 1).is_none());
    }
}
