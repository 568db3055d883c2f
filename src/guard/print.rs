//! The guard's printer: checked statements as text that PostgreSQL reads exactly as the guard
//! read them, whatever the session's settings.
//!
//! Three things could make PostgreSQL read the printed text differently from the checked
//! statements:
//!
//! - **sqlparser's printing is not faithful for every value**: its quote escaping guesses
//!   whether a string is already escaped, so the value `\'` prints as `'\''`, which
//!   PostgreSQL reads as an unterminated string that swallows the SQL after it (the same for a
//!   quoted identifier holding `\"`). String constants are therefore printed by
//!   [`string_literal`], never by sqlparser, and the printed text is parsed again and compared
//!   with the checked statements: a statement that does not print faithfully (an identifier
//!   holding a double quote after a backslash, say) is refused, never sent.
//! - **`standard_conforming_strings`** decides whether `\` escapes in `'...'`; every string is
//!   printed as `'...'` only when it has no backslash, else as `E'...'` (which escapes whatever
//!   the setting says), and `\'` is never printed, so `backslash_quote` plays no part.
//! - **`client_encoding`**: in SJIS, GBK, BIG5, ... the byte `\` can be the second byte of a
//!   character (`ぁ\'` in UTF-8 bytes read as SJIS swallows the backslash). Strings are printed
//!   in ASCII (`\uXXXX` escapes), and an identifier with non-ASCII characters is always
//!   double-quoted (no client encoding has a quote byte inside a character, and `\` means
//!   nothing in an identifier). The guard also pins both settings ([`super::settings`]).

use crate::error::PgError;
use sqlparser::ast::{Expr, Statement, Value, ValueWithSpan, VisitMut, VisitorMut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use std::fmt::Write;
use std::ops::ControlFlow;

/// A string literal that means `s` under any `standard_conforming_strings`,
/// `backslash_quote` and client encoding, in ASCII.
pub fn string_literal(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\') {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('\'');
    out
}

/// A double-quoted identifier.
fn quoted_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn unfaithful(what: &str) -> PgError {
    PgError::error(
        "0A000",
        format!("the guard cannot print this statement so that PostgreSQL reads it as checked: {what}"),
    )
    .with_hint("identifiers holding a double quote next to a backslash are not supported through the guard; rename or drop the alias")
}

/// Every kind of plain string constant (`E'...'`, `U&'...'`, `$$...$$`) as a `'...'` one: the
/// same constant to PostgreSQL; two statements PostgreSQL reads the same compare equal after
/// this.
struct PlainStrings;

impl VisitorMut for PlainStrings {
    type Break = ();
    fn pre_visit_value(&mut self, v: &mut ValueWithSpan) -> ControlFlow<()> {
        let plain = match &mut v.value {
            Value::EscapedStringLiteral(s) | Value::UnicodeStringLiteral(s) => std::mem::take(s),
            Value::DollarQuotedString(d) => std::mem::take(&mut d.value),
            _ => return ControlFlow::Continue(()),
        };
        v.value = Value::SingleQuotedString(plain);
        ControlFlow::Continue(())
    }
}

/// See [`PlainStrings`].
pub fn plain_strings(stmts: &mut [Statement]) {
    for s in stmts.iter_mut() {
        let _ = VisitMut::visit(s, &mut PlainStrings);
    }
}

/// A number as PostgreSQL 15 reads one token: digits, one point, an exponent; sqlparser also
/// takes `1_000`, which PostgreSQL 15 reads as `1` followed by the alias `_000`, so underscores
/// are dropped (the value the guard read). `None` for anything else.
pub fn number_literal(n: &str) -> Option<String> {
    let n: String = n.chars().filter(|c| *c != '_').collect();
    let (mantissa, exponent) = match n.find(['e', 'E']) {
        Some(i) => (&n[..i], Some(&n[i + 1..])),
        None => (n.as_str(), None),
    };
    let digits = mantissa.chars().filter(|c| c.is_ascii_digit()).count();
    let points = mantissa.chars().filter(|c| *c == '.').count();
    let mantissa_ok = digits > 0 && points <= 1 && digits + points == mantissa.len();
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    (mantissa_ok && exponent_ok).then_some(n)
}

/// The forms the printer needs before sqlparser prints: each `'...'` constant's
/// [`string_literal`] text in its place (a placeholder prints its text verbatim), numbers as
/// [`number_literal`], and a prefix operator applied to another one in brackets (sqlparser
/// prints `- -1` as `--1`, a comment to PostgreSQL).
#[derive(Default)]
struct PrintForms {
    bad_number: Option<String>,
}

impl VisitorMut for PrintForms {
    type Break = ();
    fn pre_visit_value(&mut self, v: &mut ValueWithSpan) -> ControlFlow<()> {
        match &v.value {
            Value::SingleQuotedString(s) => v.value = Value::Placeholder(string_literal(s)),
            // PostgreSQL reads `$N` into a 32-bit integer: a larger N wraps to another parameter.
            Value::Placeholder(p)
                if p.strip_prefix('$').is_some_and(|d| {
                    d.chars().all(|c| c.is_ascii_digit()) && d.parse::<u16>().is_err()
                }) =>
            {
                self.bad_number = Some(p.clone())
            }
            Value::Number(n, long) => match number_literal(n) {
                Some(clean) => v.value = Value::Number(clean, *long),
                None => self.bad_number = Some(n.clone()),
            },
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Expr::UnaryOp { expr, .. } = e {
            if matches!(**expr, Expr::UnaryOp { .. }) {
                let inner = std::mem::replace(&mut **expr, Expr::Value(Value::Null.into()));
                **expr = Expr::Nested(Box::new(inner));
            }
        }
        ControlFlow::Continue(())
    }
}

/// Undoes the string placeholders of [`PrintForms`] (for comparing with a parse of the text).
struct Unplaceholder;

impl VisitorMut for Unplaceholder {
    type Break = ();
    fn pre_visit_value(&mut self, v: &mut ValueWithSpan) -> ControlFlow<()> {
        if let Value::Placeholder(p) = &v.value {
            if let Some(s) = unquote(p) {
                v.value = Value::SingleQuotedString(s);
            }
        }
        ControlFlow::Continue(())
    }
}

/// The value of a [`string_literal`] text (`None` for other placeholders, such as `$1`).
fn unquote(lit: &str) -> Option<String> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, lit).tokenize().ok()?;
    match tokens.as_slice() {
        [Token::SingleQuotedString(s)] | [Token::EscapedStringLiteral(s)] => Some(s.clone()),
        _ => None,
    }
}

/// Non-ASCII unquoted identifiers in `text` (already faithful) double-quoted, folded as
/// PostgreSQL folds them (ASCII letters only); the rest of the text kept byte for byte.
fn quote_words(text: &str) -> Result<String, PgError> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize_with_location()
        .map_err(|e| unfaithful(&e.to_string()))?;
    let offset = |l: sqlparser::tokenizer::Location| -> usize {
        let line_start: usize = text
            .split_inclusive('\n')
            .take(l.line.saturating_sub(1) as usize)
            .map(str::len)
            .sum();
        let col = l.column.saturating_sub(1) as usize;
        line_start
            + text[line_start..]
                .char_indices()
                .nth(col)
                .map_or(text.len() - line_start, |(i, _)| i)
    };
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for t in &tokens {
        if let Token::Word(w) = &t.token {
            if w.quote_style.is_none() && !w.value.is_ascii() {
                let (start, end) = (offset(t.span.start), offset(t.span.end));
                out.push_str(&text[at..start]);
                out.push_str(&quoted_ident(&w.value.to_ascii_lowercase()));
                at = end;
            }
        }
    }
    out.push_str(&text[at..]);
    Ok(out)
}

fn parse_printed(text: &str) -> Result<Vec<Statement>, PgError> {
    let mut again = Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(super::depth::PARSER_RECURSION_LIMIT)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| unfaithful(&e.to_string()))?;
    plain_strings(&mut again);
    Ok(again)
}

/// Checked statements as the text the upstream runs (`; `-separated): strings printed by
/// [`string_literal`], the text parsed again and compared with the statements.
pub fn statements(stmts: &mut [Statement]) -> Result<String, PgError> {
    plain_strings(stmts);
    let mut forms = PrintForms::default();
    for s in stmts.iter_mut() {
        let _ = VisitMut::visit(s, &mut forms);
    }
    if let Some(n) = forms.bad_number {
        return Err(unfaithful(&format!(
            "the number {n} is not one PostgreSQL reads as written"
        )));
    }
    // What was checked, in the forms printed: strings back to plain constants.
    let mut checked = stmts.to_vec();
    for s in checked.iter_mut() {
        let _ = VisitMut::visit(s, &mut Unplaceholder);
    }
    let mut text = stmts
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    if parse_printed(&text)? != checked {
        return Err(unfaithful(
            "its printed text reads back as another statement",
        ));
    }
    if !text.is_ascii() {
        let quoted = quote_words(&text)?;
        if quoted != text {
            // Only identifiers changed quoting: compare them by name as PostgreSQL folds them.
            let (a, b) = (parse_printed(&quoted)?, &checked);
            if a.len() != b.len() || !same_but_quoting(&a, b) {
                return Err(unfaithful("its identifiers could not be quoted"));
            }
            text = quoted;
        }
    }
    Ok(text)
}

/// Whether two statement lists print the same once every identifier is quoted: they differ at
/// most in identifiers that were unquoted in `b` and are quoted (folded) in `a`.
fn same_but_quoting(a: &[Statement], b: &[Statement]) -> bool {
    let show = |s: &[Statement]| -> Result<String, PgError> {
        let text = s
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        quote_words(&text)
    };
    matches!((show(a), show(b)), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Vec<Statement> {
        sqlparser::parser::Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap()
    }

    #[test]
    fn literals_mean_the_same_under_any_setting() {
        assert_eq!(string_literal("abc 'x'"), "'abc ''x'''");
        assert_eq!(string_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(string_literal("ぁ\\'"), "E'\\u3041\\\\'''");
        assert_eq!(string_literal("line\nnext"), "E'line\\u000Anext'");
        assert_eq!(string_literal("😀"), "E'\\U0001F600'");
        assert!(string_literal("ünïcödé\u{7f}\t").is_ascii());
    }

    #[test]
    fn printed_sql_is_ascii_but_quoted_identifiers() {
        let cases = [
            (
                "SELECT 'a\\' AS q, 'b' AS r",
                "SELECT E'a\\\\' AS q, 'b' AS r",
            ),
            ("SELECT E'ぁ\\' , 1 --'", "SELECT E'\\u3041'' , 1 --'"),
            ("SELECT $$x\\y$$, $t$é$t$", "SELECT E'x\\\\y', E'\\u00E9'"),
            (
                "SELECT Café, \"Été\" FROM t",
                "SELECT \"café\", \"Été\" FROM t",
            ),
            ("SELECT U&'d\\0061t\\+000061'", "SELECT 'data'"),
        ];
        for (input, want) in cases {
            let out = statements(&mut parse(input)).unwrap();
            assert_eq!(out, want, "{input}");
            let outside_quotes: String = out.split('"').step_by(2).collect();
            assert!(outside_quotes.is_ascii(), "{out}");
        }
    }

    #[test]
    fn reprints_parse_to_the_same_statements() {
        for sql in [
            r#"SELECT 'é' || E'\n' AS x FROM t WHERE "naïve" = 'a''b\c'"#,
            r#"SELECT * FROM "日本"."表" WHERE c = '表\'"#,
            r#"SELECT '\''' AS a, '''''' AS b, 'x''''y' AS c"#,
        ] {
            let mut checked = parse(sql);
            plain_strings(&mut checked);
            let out = statements(&mut parse(sql)).unwrap();
            let mut again = parse(&out);
            plain_strings(&mut again);
            assert_eq!(again, checked, "{out} parses to the statements printed");
            assert_eq!(statements(&mut again).unwrap(), out, "printing is stable");
        }
    }

    /// sqlparser prints the value `\'` as `'\''`, which PostgreSQL reads as a string running
    /// on into the SQL after it; a quoted identifier holding `\"` likewise. The guard prints
    /// strings itself, and refuses what it cannot print faithfully.
    #[test]
    fn values_sqlparser_misprints_are_printed_faithfully_or_refused() {
        let attack = r#"SELECT '\''' AS a, ' , (SELECT secret FROM t) AS b --' AS c"#;
        let out = statements(&mut parse(attack)).unwrap();
        assert_eq!(
            out,
            r#"SELECT E'\\''' AS a, ' , (SELECT secret FROM t) AS b --' AS c"#
        );
        let ident = r#"SELECT 1 AS "a\""", 2 AS " , (SELECT secret FROM t) AS ""x""#;
        let e = statements(&mut parse(ident)).unwrap_err();
        assert_eq!(e.code, "0A000", "{}", e.message);
    }
}
#[cfg(test)]
mod more_tests {
    use super::*;

    fn out(sql: &str) -> Result<String, PgError> {
        let mut s = sqlparser::parser::Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        statements(&mut s)
    }

    /// sqlparser prints `- -1` as `--1` (a comment to PostgreSQL) and keeps `1_000`, which
    /// PostgreSQL 15 reads as `1 AS _000`: both are printed as the guard read them.
    #[test]
    fn prefix_operators_and_numbers_print_as_read() {
        assert_eq!(
            out("SELECT - -1, - - - 2 FROM t").unwrap(),
            "SELECT -(-1), -(-(-2)) FROM t"
        );
        assert_eq!(
            out("SELECT 1_000 AS x, 1e5, .5e-3").unwrap(),
            "SELECT 1000 AS x, 1e5, .5e-3"
        );
        assert_eq!(number_literal("1.2.3"), None);
        assert_eq!(number_literal("1e"), None);
        assert_eq!(number_literal("12"), Some("12".into()));
        let e = out("SELECT 'a\u{0}b'").unwrap_err();
        assert_eq!(e.code, "0A000");
    }
}
