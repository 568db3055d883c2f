//! How complex a statement may be before the guard will not walk it.
//!
//! sqlparser builds left-deep trees for chains (`a + b + ...`, `x AND y AND ...`,
//! `SELECT 1 UNION SELECT 1 ...`, `x::int::text...`) in loops, so a short statement can
//! become a tree thousands of levels deep; cloning, printing, visiting or dropping it then
//! recurses that deep and can overflow the stack, which aborts the whole process. PostgreSQL
//! refuses such statements with `54001 stack depth limit exceeded`; the guard refuses them
//! before parsing, from the tokens, with `54001 statement too complex`.
//!
//! [`estimate`] is an upper bound on the depth of the tree the parser would build: every
//! bracket opens a level worth [`BRACKET_COST`], every operator token adds one to the chain
//! of the current list item (a comma, JOIN or ON at the same level starts a new item, whose
//! tree is a sibling), and every set operation adds [`SET_OPERATION_COST`] to its level (set operations
//! chain across commas). Checked statements are then walked on a stack of [`GUARD_STACK`]
//! bytes (see [`with_stack`]), measured to hold the deepest tree the limit admits.

use crate::error::PgError;
use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// Largest [`estimate`] the guard accepts.
pub const MAX_DEPTH: usize = 2000;
/// Depth one bracket level may add (subquery, function call, nested expression).
pub const BRACKET_COST: usize = 8;
/// Depth one set operation adds (a set operation node is large: it weighs twice).
pub const SET_OPERATION_COST: usize = 2;
/// Longest statement text the guard parses (bytes).
pub const MAX_STATEMENT_BYTES: usize = 4 << 20;
/// Recursion limit of the parser (nested brackets, prefix operators, CASE ...).
pub const PARSER_RECURSION_LIMIT: usize = 400;
/// Stack the guard runs on. `tests/guard_depth.rs` (the deepest trees [`MAX_DEPTH`] admits,
/// through the whole check, in a debug build) passes with half of it.
pub const GUARD_STACK: usize = 64 << 20;
/// Below this much free stack, [`with_stack`] moves to a fresh stack of [`GUARD_STACK`].
const RED_ZONE: usize = 48 << 20;

#[derive(Default, Clone, Copy)]
struct Level {
    item_ops: usize,
    set_ops: usize,
}

impl Level {
    fn depth(&self) -> usize {
        self.item_ops + SET_OPERATION_COST * self.set_ops
    }
}

fn chain_keyword(k: Keyword) -> bool {
    use Keyword::*;
    matches!(
        k,
        AND | OR
            | NOT
            | IS
            | IN
            | LIKE
            | ILIKE
            | SIMILAR
            | BETWEEN
            | COLLATE
            | AT
            | ESCAPE
            | OVERLAPS
            | NOTNULL
            | OPERATOR
            | CASE
            | WHEN
            | ARRAY
            | INTERVAL
            | EXISTS
            | ANY
            | ALL
            | SOME
    )
}

/// An upper bound on the depth of the syntax tree of `tokens` (see the module doc).
pub fn estimate<'a>(tokens: impl IntoIterator<Item = &'a Token>) -> usize {
    let mut levels = vec![Level::default()];
    let mut sum = 0usize; // depth of the enclosing levels, kept so each token costs O(1)
    let mut max = 0usize;
    for t in tokens {
        match t {
            Token::Whitespace(_) | Token::EOF => continue,
            Token::LParen | Token::LBracket | Token::LBrace => {
                sum += levels.last().map_or(0, Level::depth) + BRACKET_COST;
                levels.push(Level::default());
            }
            Token::RParen | Token::RBracket | Token::RBrace => {
                if levels.len() > 1 {
                    levels.pop();
                    sum -= levels.last().map_or(0, Level::depth) + BRACKET_COST;
                }
            }
            Token::Comma => {
                if let Some(l) = levels.last_mut() {
                    l.item_ops = 0;
                }
            }
            Token::SemiColon => {
                levels = vec![Level::default()];
                sum = 0;
            }
            Token::Word(w) => {
                if let Some(l) = levels.last_mut() {
                    match w.keyword {
                        Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT => l.set_ops += 1,
                        // A join's condition is a sibling of the next join's: JOIN and ON never
                        // continue an expression. (No other keyword is safe to reset at:
                        // `a IS DISTINCT FROM b ...` chains across FROM, CASE across THEN.)
                        Keyword::JOIN | Keyword::ON if w.quote_style.is_none() => l.item_ops = 0,
                        k if w.quote_style.is_none() && chain_keyword(k) => l.item_ops += 1,
                        _ => {}
                    }
                }
            }
            Token::Number(..)
            | Token::Char(_)
            | Token::Placeholder(_)
            | Token::Period
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::QuoteDelimitedStringLiteral(_)
            | Token::NationalQuoteDelimitedStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_) => {}
            // Every other token is an operator of some kind: it may add a level.
            _ => {
                if let Some(l) = levels.last_mut() {
                    l.item_ops += 1;
                }
            }
        }
        let here = sum + levels.last().map_or(0, Level::depth);
        max = max.max(here);
    }
    max
}

/// The 54001 refusal.
pub fn too_complex(detail: impl Into<String>) -> PgError {
    PgError::error("54001", "statement too complex for the guard")
        .with_detail(detail)
        .with_hint("split the statement, or write long lists as IN (...) or = ANY(ARRAY[...]) instead of chains of OR")
}

fn parse_error(e: ParserError) -> PgError {
    match e {
        ParserError::RecursionLimitExceeded => {
            too_complex(format!("brackets or prefix operators nest deeper than {PARSER_RECURSION_LIMIT} levels"))
        }
        e => PgError::error("42601", format!("Querent cannot check this statement: {e}"))
            .with_hint("guarded roles can only run SQL the guard can parse; simplify the statement or ask for a trusted role"),
    }
}

/// Tokenizes `sql` and checks its size and depth (the estimate of [`estimate`]).
pub fn checked_tokens(sql: &str) -> Result<Vec<TokenWithSpan>, PgError> {
    if sql.len() > MAX_STATEMENT_BYTES {
        return Err(PgError::error(
            "54000",
            format!(
                "statement too long for the guard: {} bytes (at most {MAX_STATEMENT_BYTES})",
                sql.len()
            ),
        )
        .with_hint(
            "split the statement; long value lists fit better in a parameter or a temporary table",
        ));
    }
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| parse_error(ParserError::TokenizerError(e.to_string())))?;
    let depth = estimate(tokens.iter().map(|t| &t.token));
    if depth > MAX_DEPTH {
        return Err(too_complex(format!(
            "its expressions and set operations nest about {depth} levels deep; the guard walks at most {MAX_DEPTH}"
        )));
    }
    Ok(tokens)
}

/// Parses SQL the guard will walk: size and depth checked first, then the parser with
/// [`PARSER_RECURSION_LIMIT`]. The only way the guard parses client SQL.
pub fn parse(sql: &str) -> Result<Vec<Statement>, PgError> {
    let tokens = checked_tokens(sql)?;
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(parse_error)
}

/// Runs `f` with at least [`RED_ZONE`] bytes of stack: on the current stack when it has that
/// much left (worker threads are started with [`GUARD_STACK`]), else on a fresh one.
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, GUARD_STACK, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(sql: &str) -> usize {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize()
            .unwrap();
        estimate(&tokens)
    }

    #[test]
    fn chains_count_lists_do_not() {
        assert!(est(&format!("SELECT 1{}", " UNION SELECT 1".repeat(600))) >= 1200);
        assert!(est(&format!("SELECT 1 WHERE true{}", " AND true".repeat(3000))) >= 3000);
        assert!(est(&format!("SELECT 1{}", "+1".repeat(5000))) >= 5000);
        assert!(est(&format!("SELECT 1{}", "::int".repeat(5000))) >= 5000);
        let list: Vec<String> = (0..20000).map(|i| i.to_string()).collect();
        let in_list = format!("SELECT 1 WHERE x IN ({})", list.join(", "));
        assert!(est(&in_list) < 50, "a long IN list is flat");
        let cols: Vec<String> = (0..5000).map(|i| format!("a + {i} AS c{i}")).collect();
        assert!(est(&format!("SELECT {} FROM t", cols.join(", "))) < 50);
        let joins: String = (0..3000)
            .map(|i| format!(" JOIN t{i} ON t{i}.id = t.id"))
            .collect();
        assert!(
            est(&format!("SELECT 1 FROM t{joins}")) < 50,
            "joins are a list"
        );
    }

    #[test]
    fn nesting_adds_up() {
        let nested = format!("SELECT {}1{}", "(1 + ".repeat(100), ")".repeat(100));
        assert!(est(&nested) >= 100 * BRACKET_COST);
        let e1 = est("SELECT a FROM t WHERE a = 1");
        let e2 = est("SELECT a FROM t WHERE a = 1; SELECT b FROM u WHERE b = 2");
        assert_eq!(e1, e2, "each statement on its own");
        assert!(
            est(")))) SELECT 1") < 10,
            "unbalanced brackets do not underflow"
        );
    }

    #[test]
    fn refusals_name_the_limit() {
        let e = parse(&format!("SELECT 1{}", " UNION SELECT 1".repeat(5000))).unwrap_err();
        assert_eq!(e.code, "54001");
        let e = parse(&format!("SELECT {}1{}", "(".repeat(1000), ")".repeat(1000))).unwrap_err();
        assert_eq!(e.code, "54001");
        assert!(parse("SELECT 1 FROM").unwrap_err().code == "42601");
        let big = format!("SELECT '{}'", "x".repeat(MAX_STATEMENT_BYTES));
        assert_eq!(parse(&big).unwrap_err().code, "54000");
    }
}
