//! ASK as a relation: `SELECT * FROM ask('top 5 products by revenue')` anywhere a table can
//! stand (subqueries, joins, CTEs, `COPY (...) TO STDOUT`), and `ask_insights('...')`,
//! `ask_followups('...')` for tools that drop NOTICEs. Each call is a table factor of the
//! parsed statement; the session answers its question and this module replaces the factor
//! with a derived table of the answer's SQL (its alias kept, `ask` when it has none), then
//! prints the statement once. The result goes through the guard like any typed SQL.
//!
//! [`mentions`] is the relay's only test of ordinary SQL: a scan for `ask`, `ask_insights` or
//! `ask_followups` before a `(`, so statements that cannot hold a call are never parsed.

use crate::error::PgError;
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName, Query, Statement,
    TableAlias, TableFactor, Value, Visit, VisitMut, Visitor, VisitorMut,
};
use std::ops::ControlFlow;

/// The three table functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `ask('...')`: the answer's rows.
    Ask,
    /// `ask_insights('...')`: (kind, text, score, columns).
    Insights,
    /// `ask_followups('...')`: (question, kind).
    Followups,
}

impl Func {
    /// Its SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Func::Ask => "ask",
            Func::Insights => "ask_insights",
            Func::Followups => "ask_followups",
        }
    }

    fn of(name: &ObjectName) -> Option<Func> {
        // Only an unqualified name (or schema `querent`) is ours: public.ask() is the user's.
        let parts: Vec<String> = name
            .0
            .iter()
            // A quoted name is the name as written: "ASK" is another function than ask.
            .map(|p| {
                p.as_ident().map_or(String::new(), |i| match i.quote_style {
                    Some(_) => i.value.clone(),
                    None => i.value.to_lowercase(),
                })
            })
            .collect();
        let last = match parts.as_slice() {
            [one] => one,
            [schema, one] if schema == "querent" => one,
            _ => return None,
        };
        match last.as_str() {
            "ask" => Some(Func::Ask),
            "ask_insights" => Some(Func::Insights),
            "ask_followups" => Some(Func::Followups),
            _ => None,
        }
    }
}

/// One call in a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Which function.
    pub func: Func,
    /// Its question.
    pub question: String,
}

/// Whether `sql` may hold a call: `ask`, `ask_insights` or `ask_followups` (any case, not
/// the tail of a longer identifier) followed by optional blanks and `(`. A byte scan, no parse.
pub fn mentions(sql: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = sql[from..].iter().position(|&b| b == b'(') {
        let open = from + p;
        from = open + 1;
        let mut end = open;
        while end > 0 && sql[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        let start = sql[..end]
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'"'))
            .map_or(0, |i| i + 1);
        // No allocation: the word, without the quotes of a quoted identifier.
        let mut word = &sql[start..end];
        if word.len() >= 2 && word[0] == b'"' && word[word.len() - 1] == b'"' {
            word = &word[1..word.len() - 1];
        }
        if [&b"ask"[..], b"ask_insights", b"ask_followups"]
            .iter()
            .any(|w| word.eq_ignore_ascii_case(w))
        {
            return true;
        }
    }
    false
}

fn not_literal(func: Func) -> PgError {
    PgError::error(
        "22023",
        format!("{}() takes its question as one string literal", func.name()),
    )
    .with_hint(format!(
        "write the question in the statement: SELECT * FROM {}('top 5 products by revenue')",
        func.name()
    ))
}

fn question_of(func: Func, args: &[FunctionArg]) -> Result<String, PgError> {
    let [arg] = args else {
        return Err(not_literal(func));
    };
    let expr = match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => e,
        FunctionArg::Named {
            name,
            arg: FunctionArgExpr::Expr(e),
            ..
        } if name.value.eq_ignore_ascii_case("question") => e,
        FunctionArg::ExprNamed {
            name: Expr::Identifier(name),
            arg: FunctionArgExpr::Expr(e),
            ..
        } if name.value.eq_ignore_ascii_case("question") => e,
        _ => return Err(not_literal(func)),
    };
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => Ok(s.clone()),
            Value::DollarQuotedString(d) => Ok(d.value.clone()),
            _ => Err(not_literal(func)),
        },
        _ => Err(not_literal(func)),
    }
}

/// The function and arguments of a table factor that is a call.
fn call_of(t: &TableFactor) -> Option<(Func, &[FunctionArg])> {
    match t {
        TableFactor::Table {
            name,
            args: Some(a),
            ..
        } => Some((Func::of(name)?, &a.args)),
        TableFactor::Function { name, args, .. } => Some((Func::of(name)?, args)),
        _ => None,
    }
}

struct Collect {
    calls: Vec<Call>,
}

impl Visitor for Collect {
    type Break = PgError;

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<PgError> {
        if let Some((func, args)) = call_of(t) {
            match question_of(func, args) {
                Ok(question) => self.calls.push(Call { func, question }),
                Err(e) => return ControlFlow::Break(e),
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<PgError> {
        if let Expr::Function(f) = e {
            if let Some(func) = Func::of(&f.name) {
                if matches!(f.args, FunctionArguments::List(_)) {
                    return ControlFlow::Break(
                        PgError::error(
                            "42809",
                            format!("{}() is a table function, not a value", func.name()),
                        )
                        .with_hint(format!(
                            "use it where a table stands: SELECT * FROM {}('...')",
                            func.name()
                        )),
                    );
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Most calls one statement may make (each is a question answered, perhaps run).
pub const MAX_CALLS: usize = 8;

/// The calls in `stmts`, in the order [`splice`] replaces them; empty when there are none.
pub fn calls(stmts: &[Statement]) -> Result<Vec<Call>, PgError> {
    let mut c = Collect { calls: Vec::new() };
    for s in stmts {
        if let ControlFlow::Break(e) = crate::guard::depth::with_stack(|| s.visit(&mut c)) {
            return Err(e);
        }
    }
    if c.calls.len() > MAX_CALLS {
        return Err(PgError::error(
            "54000",
            format!(
                "the statement asks {} questions; at most {MAX_CALLS} calls of ask(), ask_insights() and ask_followups() are answered in one statement",
                c.calls.len()
            ),
        )
        .with_hint("split the statement, or ask fewer questions at once"));
    }
    Ok(c.calls)
}

struct Splice {
    with: std::vec::IntoIter<(Func, Query)>,
}

impl VisitorMut for Splice {
    type Break = ();

    fn post_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
        let Some((func, _)) = call_of(t) else {
            return ControlFlow::Continue(());
        };
        let Some((_, subquery)) = self.with.next() else {
            return ControlFlow::Break(());
        };
        let alias = match t {
            TableFactor::Table { alias, .. } | TableFactor::Function { alias, .. } => alias.take(),
            _ => None,
        };
        let alias = alias.unwrap_or_else(|| TableAlias {
            explicit: true,
            name: Ident::new(func.name()),
            columns: Vec::new(),
            at: None,
        });
        *t = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(subquery),
            alias: Some(alias),
            sample: None,
        };
        ControlFlow::Continue(())
    }
}

/// `stmts` with each call replaced by the derived table of its query (in [`calls`] order),
/// printed once.
pub fn splice(mut stmts: Vec<Statement>, with: Vec<(Func, Query)>) -> Result<String, PgError> {
    let n = with.len();
    let mut s = Splice {
        with: with.into_iter(),
    };
    for st in stmts.iter_mut() {
        if crate::guard::depth::with_stack(|| st.visit(&mut s)).is_break() {
            return Err(PgError::error("XX000", "ask(): more calls than answers")
                .with_hint("report this to the operator"));
        }
    }
    if s.with.len() != 0 {
        return Err(
            PgError::error("XX000", format!("ask(): {n} answers but fewer calls"))
                .with_hint("report this to the operator"),
        );
    }
    crate::guard::print::statements(&mut stmts)
}

/// The query of SQL text ASK produced (one SELECT).
pub fn query_of(sql: &str) -> Result<Query, PgError> {
    let mut stmts = crate::guard::depth::parse(sql)?;
    match (stmts.pop(), stmts.is_empty()) {
        (Some(Statement::Query(q)), true) => Ok(*q),
        _ => Err(
            PgError::error("XX000", "the SQL ASK produced is not one query")
                .with_hint("report this to the operator"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Vec<Statement> {
        crate::guard::depth::parse(sql).unwrap()
    }

    #[test]
    fn mentions_is_a_cheap_superset() {
        for sql in [
            "SELECT * FROM ask('x')",
            "select * from ASK ('x')",
            "SELECT * FROM (SELECT * FROM ask_insights('x')) t",
            "select * from \"ask\"('x')",
            "WITH a AS (SELECT * FROM ask_followups($$x$$)) SELECT * FROM a",
            "SELECT mask (1), ask(2)",
        ] {
            assert!(mentions(sql.as_bytes()), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "SELECT task(1)",
            "SELECT 'ask'",
            "SELECT mask (x) FROM t",
            "SELECT ask FROM t",
            "(",
            "",
            "SELECT flask_insights()",
        ] {
            assert!(!mentions(sql.as_bytes()), "{sql}");
        }
    }

    #[test]
    fn calls_in_every_place_a_table_stands() {
        let sql = "WITH c AS (SELECT * FROM ask('q1')) \
                   SELECT * FROM (SELECT * FROM ask_insights('q2')) AS s \
                   JOIN LATERAL ask_followups(question => 'q3') f ON true, c";
        let got = calls(&parse(sql)).unwrap();
        let funcs: Vec<_> = got.iter().map(|c| (c.func, c.question.as_str())).collect();
        assert_eq!(
            funcs,
            vec![
                (Func::Ask, "q1"),
                (Func::Insights, "q2"),
                (Func::Followups, "q3")
            ]
        );
        assert!(calls(&parse("SELECT * FROM public.ask('x')"))
            .unwrap()
            .is_empty());
        assert!(calls(&parse("SELECT * FROM \"ASK\"('x')"))
            .unwrap()
            .is_empty());
        assert_eq!(
            calls(&parse("SELECT * FROM \"ask\"('x')")).unwrap().len(),
            1
        );
        assert_eq!(calls(&parse("SELECT * FROM t")).unwrap(), vec![]);
        assert_eq!(
            calls(&parse("COPY (SELECT * FROM ask(E'it''s')) TO STDOUT")).unwrap()[0].question,
            "it's"
        );
    }

    #[test]
    fn bad_calls_are_named() {
        for (sql, code) in [
            ("SELECT * FROM ask($1)", "22023"),
            ("SELECT * FROM ask('a', 'b')", "22023"),
            ("SELECT * FROM ask(1)", "22023"),
            ("SELECT * FROM ask()", "22023"),
            ("SELECT ask('x')", "42809"),
            (
                &format!("SELECT * FROM {}", ["ask('q')"; MAX_CALLS + 1].join(", ")),
                "54000",
            ),
        ] {
            let e = calls(&parse(sql)).unwrap_err();
            assert_eq!(e.code, code, "{sql}");
            assert!(e.hint.is_some());
        }
    }

    #[test]
    fn splice_keeps_aliases_and_prints_once() {
        let stmts = parse("SELECT a.x, s.y FROM ask('q') AS a(x) JOIN ask('r') s ON true");
        let q1 = query_of("SELECT 1 AS x").unwrap();
        let q2 = query_of("SELECT 'it''s' AS y").unwrap();
        let out = splice(stmts, vec![(Func::Ask, q1), (Func::Ask, q2)]).unwrap();
        assert_eq!(
            out,
            "SELECT a.x, s.y FROM (SELECT 1 AS x) AS a (x) JOIN (SELECT 'it''s' AS y) s ON true"
        );
        let out = splice(
            parse("SELECT * FROM ask('q')"),
            vec![(Func::Ask, query_of("SELECT 1").unwrap())],
        )
        .unwrap();
        assert_eq!(out, "SELECT * FROM (SELECT 1) AS ask");
        assert!(splice(parse("SELECT * FROM ask('q')"), vec![]).is_err());
    }
}
