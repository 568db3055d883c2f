//! Conversation follow-ups: "now by month", "only the West region", "and for 2023?", "top 10
//! instead", "same for customers" refine the session's last answered plan, without a
//! language model. The follow-up's words are linked against the role's catalog view like a
//! question ([`crate::catalog::link::LinkIndex::link`]), read into changes (`read`) and
//! applied to the previous plan (`apply`); the result must pass
//! [`crate::ask::plan_check::check_plan`] and compile, or the follow-up declines.
//!
//! # Precedence
//!
//! A full question always wins over a follow-up. The caller, when the session has a
//! previous answer and [`looks_like_follow_up`] holds, calls [`refine`] first and answers
//! the refined plan; on [`FollowUp::NotAFollowUp`] (and always without a previous answer or
//! when the text does not look like a follow-up) it hands the text to the deterministic
//! planner as a new question. [`refine`] itself returns `NotAFollowUp` for any text the
//! planner answers on its own with a measure named in its words (a metric, an aggregate of a
//! column, "how many ..."), even after a leading "now" or "and" ("now total revenue by
//! region in 2023"), with one exception: a metric alone after words that point back ("what
//! about profit?", "same for units sold") keeps the previous shape with the new metric. The
//! planner is not asked first because it reads some fragments as questions of their own
//! ("what about stores" would list the stores).

mod apply;
mod read;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_other;

use super::plan::{AnalysisPlan, Intent, Measure};
use crate::catalog::link::{Candidate, Element};
use crate::catalog::store::Semantic;
use crate::catalog::{Catalog, ColRef, TableId};
use read::Change;

/// The session's last answered question and the plan it was answered with. The plan names
/// catalog elements by position, so it is only meaningful against the catalog view it was
/// made in: forget it when the view changes (another role, a catalog refresh).
#[derive(Debug, Clone, PartialEq)]
pub struct Previous {
    /// The question as asked (a follow-up's own text when it was one).
    pub question: String,
    /// The plan answered.
    pub plan: AnalysisPlan,
}

/// What a text is, next to the previous answer.
// One value per question, moved once to the caller: not worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum FollowUp {
    /// A refinement of the previous plan.
    Refined {
        /// The refined plan (checked against the view and compiled once).
        plan: AnalysisPlan,
        /// One line of what changed, e.g. "by month instead of by region".
        said: String,
    },
    /// Not a follow-up: a new question for the planner, or words no refinement explains.
    NotAFollowUp,
}

/// Most words of a follow-up.
const MAX_WORDS: usize = 12;

/// Words that start a follow-up by pointing back at the previous answer.
const LEADS: &[&str] = &[
    "now", "and", "only", "just", "same", "instead", "also", "but", "then", "plus", "ok", "okay",
];

/// Words that start a fragment a follow-up is made of ("by month", "for 2023", "top 10").
#[rustfmt::skip]
const FRAGMENTS: &[&str] = &[
    "by", "per", "for", "in", "during", "since", "over", "across", "top", "bottom", "without",
    "excluding", "except", "sorted", "sort", "ascending", "descending", "reversed", "as",
    "monthly", "weekly", "daily", "quarterly", "yearly", "annually", "break", "split", "drill",
    "all", "drop", "remove", "exclude", "last", "past", "previous", "this", "today",
    "yesterday", "highest", "lowest", "largest", "smallest", "not", "other",
];

/// Words that end a follow-up by pointing back ("West only", "top 10 instead").
const TAILS: &[&str] = &["instead", "only", "too", "then", "again"];

/// Whether `text` reads like a follow-up, cheaply and without the catalog: at most 12 words
/// that start with a word pointing back ("now", "and", "only", "just", "same", "what about",
/// "how about", "instead", "also", "but"), or with a fragment's first word ("by", "for",
/// "in", "top", "bottom", "without", "sorted", "as", "monthly", ...), or that end with
/// "instead", "only", "too" or "again". [`refine`] decides.
pub fn looks_like_follow_up(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return false;
    };
    let second = words.get(1).map(String::as_str).unwrap_or("");
    words.len() <= MAX_WORDS
        && (LEADS.contains(&first.as_str())
            || FRAGMENTS.contains(&first.as_str())
            || (matches!(first.as_str(), "what" | "how") && second == "about")
            || TAILS.contains(&last.as_str())
            || (last == "well" && words.len() > 1 && words[words.len() - 2] == "as"))
}

/// Refines the previous plan with `text`, read against the role's catalog view `s` (the view
/// the previous plan was made in). See the module documentation for when a text is a
/// follow-up.
pub fn refine(s: &Semantic, prev: &Previous, text: &str) -> FollowUp {
    match refined(s, prev, text) {
        Some((plan, said)) => FollowUp::Refined { plan, said },
        None => FollowUp::NotAFollowUp,
    }
}

fn refined(s: &Semantic, prev: &Previous, text: &str) -> Option<(AnalysisPlan, String)> {
    if text.len() > super::MAX_QUESTION || !looks_like_follow_up(text) {
        return None;
    }
    let linking = s.index.link(&s.catalog, text);
    let time_col = prev
        .plan
        .time
        .as_ref()
        .and_then(|t| t.column)
        .or_else(|| super::compile::measure_time(&s.catalog, prev.plan.measures.first()?));
    let reading = read::read(s, &linking, time_col)?;
    let metric_only = reading
        .changes
        .iter()
        .all(|c| matches!(c, Change::Metric(_)));
    if !(metric_only && reading.refers_back) && full_question(s, text) {
        return None;
    }
    let (plan, said) = apply::apply(s, &prev.plan, &reading)?;
    valid(s, &plan).then_some((plan, said))
}

/// Leading words that point back, left out when the text is tried as a question of its own.
const STRIPPED: &[&str] = &[
    "now", "and", "also", "but", "then", "so", "ok", "okay", "plus",
];

/// `text` without the leading words that point back ("now", "and", "also", "but", "so",
/// "ok", "then", "plus"): the question part of "now total revenue by region in 2023". A caller
/// that gets [`FollowUp::NotAFollowUp`] for a text with such a lead may plan this part.
pub fn question_part(text: &str) -> &str {
    let mut rest = text.trim_start();
    loop {
        let word_end = rest
            .find(|ch: char| !ch.is_alphanumeric())
            .unwrap_or(rest.len());
        if !STRIPPED.contains(&rest[..word_end].to_lowercase().as_str()) || word_end == 0 {
            return rest;
        }
        rest = rest[word_end..].trim_start_matches(|ch: char| ch.is_whitespace() || ch == ',');
    }
}

/// Whether the planner answers `text` (without a leading "now", "and", ...) on its own, with
/// a measure its words name.
fn full_question(s: &Semantic, text: &str) -> bool {
    let rest = question_part(text);
    let Ok(planned) = super::planner::plan(s, rest) else {
        return false;
    };
    let words: Vec<&str> = planned
        .linking
        .tokens
        .iter()
        .map(|t| t.norm.as_str())
        .collect();
    let counted = words
        .windows(2)
        .any(|w| w == ["how", "many"] || w == ["number", "of"])
        || words.contains(&"count");
    // "only Online orders": the metric `order_count` is the noun of a value, not a measure.
    let used: Vec<&Candidate> = planned
        .used
        .iter()
        .map(|i| &planned.linking.candidates[*i])
        .collect();
    let named_metric = used
        .iter()
        .any(|c| matches!(c.element, Element::Metric(_)) && !read::names_value(s, c, &used));
    let named = named_metric
        || counted
        || matches!(
            planned.plan.measures.first(),
            Some(Measure::Aggregate { .. })
        );
    named && planned.plan.intent != Intent::List
}

/// Shapes the compiler computes wrongly or the planner never makes, checked after the
/// changes; then the view check and the compiler.
fn valid(s: &Semantic, plan: &AnalysisPlan) -> bool {
    let growth_by_time =
        plan.intent == Intent::Growth && plan.dimensions.iter().any(|d| d.grain.is_some());
    let difference_by = plan.intent == Intent::Difference && !plan.dimensions.is_empty();
    let never_with = plan.without.is_some() && (!plan.filters.is_empty() || plan.time.is_some());
    !(growth_by_time || difference_by || never_with)
        && super::plan_check::check_plan(&s.catalog, plan).is_ok()
        && super::compile::compile(s, plan).is_ok()
}

/// The column that shows table `t`'s rows: its display column, else its one-column key.
fn shown(c: &Catalog, t: TableId) -> Option<ColRef> {
    crate::ask::planner::display(c, t).or_else(|| match c.table(t).primary_key.as_slice() {
        [k] => Some(ColRef {
            table: t,
            column: *k,
        }),
        _ => None,
    })
}
