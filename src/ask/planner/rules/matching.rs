//! Text matches: "journals whose names start with the letter 'J'", "diagnoses containing
//! 'psoriasis'", "products ending with 'Pro'". The value is matched case-insensitively, its
//! own wildcard characters escaped; the column is the text column (or the entity, by its
//! display column) named just before.

use super::super::draft::Draft;
use super::super::grammar::display;
use super::super::Declined;
use crate::ask::plan::*;
use crate::catalog::link::Element;
use crate::catalog::{ColRef, ValueKind};

/// Words between a match verb and its value.
const BETWEEN: &[&str] = &[
    "with", "the", "a", "an", "letter", "letters", "word", "string", "text", "prefix", "suffix",
    "phrase",
];

/// Reads text matches into filters.
pub(in super::super) fn matching(d: &mut Draft) -> Result<(), Declined> {
    let n = d.r.toks.len();
    for i in 0..n {
        let op = match d.r.w(i) {
            "contains" | "containing" | "contain" | "mentioning" | "mentions" | "like" => {
                Op::Contains
            }
            "start" | "starts" | "starting" | "begin" | "begins" | "beginning"
                if d.r.w(i + 1) == "with" =>
            {
                Op::StartsWith
            }
            "end" | "ends" | "ending" if d.r.w(i + 1) == "with" => Op::EndsWith,
            _ => continue,
        };
        let mut v = i + 1;
        while v < n && BETWEEN.contains(&d.r.w(v)) && !d.r.toks[v].quoted {
            v += 1;
        }
        let Some(tok) = d.r.toks.get(v) else { continue };
        if !tok.quoted && (tok.stop || tok.number) && tok.text.chars().count() > 1 {
            continue;
        }
        let Some(column) = target(d, i) else {
            return Err(Declined {
                message: format!(
                    "ASK did not understand which column should {} \"{}\"",
                    d.r.toks[i].text, tok.text
                ),
                hint: "name the column before it, e.g. \"names starting with 'J'\"".into(),
            });
        };
        if i > 0
            && matches!(
                d.r.w(i - 1),
                "not" | "dont" | "doesnt" | "don't" | "doesn't"
            )
        {
            return Err(Declined {
                message: "ASK cannot match text negatively yet".into(),
                hint: "ask for the rows that do match".into(),
            });
        }
        let text = tok.text.clone();
        // The value may also have linked as a stored value: it is the pattern, not an equality.
        d.filters
            .retain(|f| !(f.op == Op::Eq && f.values == [Value::Text(text.clone())]));
        for k in i..=v {
            d.r.eat(k);
        }
        d.filters.push(Filter {
            column,
            op,
            values: vec![Value::Text(text)],
        });
    }
    Ok(())
}

/// The text column named nearest before token `i`: a column, a value's column, or an entity's
/// display column.
fn target(d: &Draft, i: usize) -> Option<ColRef> {
    let c = d.r.c;
    d.picked
        .iter()
        .map(|k| &d.linking.candidates[*k])
        .filter(|cand| cand.span.1 <= i)
        .filter_map(|cand| match &cand.element {
            Element::Column(col) if c.column(*col).kind == ValueKind::Text => Some(*col),
            Element::Table(t) => display(c, *t),
            _ => None,
        })
        .next_back()
}
