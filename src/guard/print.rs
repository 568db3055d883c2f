//! The guard's printer: checked statements as text that PostgreSQL reads exactly as the guard
//! read them, whatever the session's settings.
//!
//! Two settings change how PostgreSQL lexes SQL: `standard_conforming_strings` (whether `\`
//! escapes in `'...'`) and `client_encoding` (in SJIS, GBK, BIG5, ... the byte `\` can be the
//! second byte of a character, so `ぁ\'` in UTF-8 bytes read as SJIS swallows the backslash and
//! the quote closes the string). The guard pins both for guarded sessions ([`super::settings`]),
//! and prints so that neither could matter:
//!
//! - every string literal is ASCII in a form no setting changes: `'...'` when it holds only
//!   printable ASCII and no backslash, else `E'...'` with `''`, `\\` and `\uXXXX` /
//!   `\UXXXXXXXX` escapes (`E''` strings escape whatever `standard_conforming_strings` says,
//!   and `\'` is never printed, so `backslash_quote` plays no part);
//! - an identifier with non-ASCII characters is always double-quoted (an unquoted one folded
//!   as PostgreSQL folds it: ASCII letters only). No client encoding has a quote byte as the
//!   second byte of a character, and `\` means nothing in an identifier.
//!
//! Statements are printed by sqlparser once; when that text holds a non-ASCII byte or a
//! backslash, its tokens are printed again by these rules and the result is checked by lexing
//! it back (same tokens, same values), failing closed.

use crate::error::PgError;
use sqlparser::ast::{Statement, Value, ValueWithSpan, VisitMut, VisitorMut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
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

fn unsafe_token(what: &str) -> PgError {
    PgError::error(
        "XX000",
        format!("Querent cannot print this statement safely: {what}"),
    )
    .with_hint("this is a bug in Querent's guard; the statement was not sent")
}

/// Prints one token by the module's rules.
fn token(t: &Token, out: &mut String) -> Result<(), PgError> {
    match t {
        Token::Whitespace(Whitespace::Space) => out.push(' '),
        Token::Whitespace(Whitespace::Newline) => out.push('\n'),
        Token::Whitespace(Whitespace::Tab) => out.push('\t'),
        Token::Whitespace(_) => out.push(' '), // comments: never printed by sqlparser
        Token::Word(w) => match w.quote_style {
            None if w.value.is_ascii() => out.push_str(&w.value),
            None => out.push_str(&quoted_ident(&w.value.to_ascii_lowercase())),
            Some('"') => out.push_str(&quoted_ident(&w.value)),
            Some(q) => return Err(unsafe_token(&format!("identifier quoted with {q}"))),
        },
        Token::SingleQuotedString(s)
        | Token::EscapedStringLiteral(s)
        | Token::UnicodeStringLiteral(s) => out.push_str(&string_literal(s)),
        Token::DollarQuotedString(d) => out.push_str(&string_literal(&d.value)),
        Token::NationalStringLiteral(s) => {
            let lit = string_literal(s);
            if lit.starts_with('E') {
                return Err(unsafe_token("N'' string with escapes"));
            }
            out.push('N');
            out.push_str(&lit);
        }
        other => {
            let text = other.to_string();
            if !text.is_ascii() || text.contains('\\') {
                return Err(unsafe_token(&format!("token {text}")));
            }
            out.push_str(&text);
        }
    }
    Ok(())
}

/// What a token means, for checking a reprint: strings by value, identifiers by name.
fn meaning(t: &Token) -> Option<String> {
    match t {
        Token::Whitespace(_) => None,
        Token::Word(w) => Some(match w.quote_style {
            None if w.value.is_ascii() => format!("w:{}", w.value),
            None => format!("i:{}", w.value.to_ascii_lowercase()),
            Some(_) => format!("i:{}", w.value),
        }),
        Token::SingleQuotedString(s)
        | Token::EscapedStringLiteral(s)
        | Token::UnicodeStringLiteral(s) => Some(format!("s:{s}")),
        Token::DollarQuotedString(d) => Some(format!("s:{}", d.value)),
        Token::NationalStringLiteral(s) => Some(format!("n:{s}")),
        other => Some(format!("t:{other}")),
    }
}

fn tokens(sql: &str) -> Result<Vec<Token>, PgError> {
    Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize()
        .map_err(|e| unsafe_token(&e.to_string()))
}

/// `text` (printed by sqlparser) reprinted by the module's rules, or as it is when it has no
/// non-ASCII byte and no backslash.
pub fn reprint(text: String) -> Result<String, PgError> {
    if text.bytes().all(|b| b.is_ascii() && b != b'\\') {
        return Ok(text);
    }
    let before = tokens(&text)?;
    let mut out = String::with_capacity(text.len() + 16);
    for t in &before {
        token(t, &mut out)?;
    }
    let after = tokens(&out)?;
    let same = before
        .iter()
        .filter_map(meaning)
        .eq(after.iter().filter_map(meaning));
    if !same {
        return Err(unsafe_token(
            "the reprint does not lex back to the same tokens",
        ));
    }
    Ok(out)
}

/// Every kind of plain string constant (`E'...'`, `U&'...'`, `$$...$$`) as a `'...'` one: the
/// same constant to PostgreSQL, and the one form [`reprint`] needs to look at.
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

/// Rewrites every plain string constant as `'...'` (see [`PlainStrings`]); two statements
/// PostgreSQL reads the same compare equal after this.
pub fn plain_strings(stmts: &mut [Statement]) {
    for s in stmts.iter_mut() {
        let _ = VisitMut::visit(s, &mut PlainStrings);
    }
}

/// Checked statements as the text the upstream runs (`; `-separated).
pub fn statements(stmts: &mut [Statement]) -> Result<String, PgError> {
    plain_strings(stmts);
    let text = stmts
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    reprint(text)
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
            "SELECT 'é' || E'\\n' AS x FROM t WHERE \"naïve\" = 'a''b\\c'",
            "SELECT * FROM \"日本\".\"表\" WHERE c = '表\\'",
        ] {
            let mut stmts = parse(sql);
            let out = statements(&mut stmts).unwrap();
            let mut again = parse(&out);
            plain_strings(&mut again);
            assert_eq!(again, stmts, "the reprint parses to the statements printed");
            assert_eq!(statements(&mut again).unwrap(), out, "printing is stable");
        }
    }
}
