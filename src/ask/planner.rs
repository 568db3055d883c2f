//! The deterministic planner: from a linked question to an [`AnalysisPlan`]. It reads a small,
//! closed grammar of analytics English (aggregates, "by/per/each", top/bottom N, shares,
//! growth, comparisons, numeric conditions, "never", time ranges and grains) and takes every
//! other word from schema linking. Every word must be accounted for: a content word that
//! neither the grammar nor linking explains makes it decline, never guess.

mod check;
mod draft;
mod grammar;
mod rules;

use super::plan::*;
use crate::catalog::link::Linking;
use crate::catalog::store::Semantic;
use check::{plan_tables, relation_verb, unexplained, unused_elements};
use draft::Draft;
use grammar::{confidence, declined};
use rules::*;

// What conversation follow-ups (`crate::ask::followup`) read the same way as the planner.
pub use grammar::{anchor, display, year_like};
pub use rules::elements::referenced_display;
pub use rules::periods::{clock_period, growth_periods};

/// Why a question was declined, with what was understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Declined {
    /// What was not understood.
    pub message: String,
    /// What was understood and a question it could answer.
    pub hint: String,
}

/// A plan with the linking it came from and the candidates it used.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan.
    pub plan: AnalysisPlan,
    /// Linking of the question.
    pub linking: Linking,
    /// Indexes in `linking.candidates` the plan used.
    pub used: Vec<usize>,
}

/// A step of planning: reads part of the question into the draft, or declines.
type Rule = fn(&mut Draft) -> Result<(), Declined>;

/// The rules, in the order they read the question. Each is a small function with its own
/// tests; a new shape of question is a new rule here.
const RULES: &[(&str, Rule)] = &[
    ("elements", elements::elements),
    ("stored counts", stored::stored_counts),
    ("ordering", ordering::ordering),
    ("ratio", ratio::ratio),
    ("flags", flags::flags),
    ("text matches", matching::matching),
    ("ranking", words::ranking),
    ("intent words", words::intent_words),
    ("conditions", words::conditions),
    ("grain words", words::grain_words),
    ("absence", absence::absence),
    ("counted entity", counting::counted),
    ("rows", rows::rows),
    ("measure", measure::measure),
    ("ranked entity", shape::ranked_entity),
    ("no numeric groups", shape::no_numeric_groups),
    ("difference", shape::difference),
    ("time range", periods::range),
    ("grain", periods::grain),
    ("unsupported", periods::unsupported),
    ("growth periods", periods::growth),
    ("condition", shape::place_condition),
    ("versus", shape::versus),
    ("share part", shape::share_part),
];

/// Plans `question` against the role's catalog view.
pub fn plan(s: &Semantic, question: &str) -> Result<Planned, Declined> {
    let linking = s.index.link(&s.catalog, question);
    let mut d = Draft::new(s, &linking, question);
    for (name, rule) in RULES {
        rule(&mut d)?;
        tracing::trace!(
            rule = name,
            measures = ?d.measures,
            dimensions = ?d.dimensions,
            filters = ?d.filters,
            entities = ?d.entities,
            columns = ?d.columns,
            order = ?d.order,
            intent = ?d.intent,
            "planner rule"
        );
    }
    let mut plan = d.plan();
    through_entities(&mut d, &mut plan, s);
    // Every content word must be accounted for; a word repeating an element already used
    // ("region" in "the East region ... the West region") is.
    let mut left = unexplained(&d.r, &linking, &d.used);
    let dated = plan.time.is_some()
        || plan
            .dimensions
            .iter()
            .any(|dim| dim.grain.is_some() || grammar::year_like(&s.catalog, dim.column))
        || plan
            .filters
            .iter()
            .any(|f| grammar::year_like(&s.catalog, f.column));
    if plan_tables(s, &plan).len() > 1 || dated {
        // "papers written by authors", "publications published in 2021"
        left.retain(|w| !relation_verb(&w.to_lowercase()));
    }
    let mut unused = unused_elements(
        s,
        &plan,
        &d.columns,
        &d.entities,
        d.counted,
        &linking,
        &d.used,
    );
    unused.retain(|w| !left.contains(w));
    // "flights that require a round-trip to purchase the fare": words the plan's own columns
    // (and the stored counts read: "the enrollment number" after "number of enrolled
    // students") are named or described by ("Whether a round-trip is required to purchase
    // this fare") are accounted for, and not another reference, whatever else they resemble.
    let described: Vec<String> = if left.is_empty() && unused.is_empty() {
        Vec::new() // nothing to account for: skip the work
    } else {
        check::plan_columns(&s.catalog, &plan)
            .into_iter()
            .chain(d.stored.iter().map(|(col, ..)| *col))
            .flat_map(|col| {
                grammar::element_stems(&s.catalog, &crate::catalog::link::Element::Column(col))
            })
            .collect()
    };
    let explained = |w: &String| {
        !check::must_read(w)
            && crate::catalog::text::phrase_words(w).iter().all(|x| {
                let st = crate::catalog::text::stem(x);
                described.iter().any(|k| check::akin(k, &st))
            })
    };
    left.retain(|w| !explained(w));
    unused.retain(|w| !explained(w));
    unused.dedup();
    if !left.is_empty() || !unused.is_empty() {
        return Err(declined(&d.r, &linking, &d.used, &left, &unused, ""));
    }
    plan.confidence = confidence(&linking, &d.used);
    let used = d.used;
    Ok(Planned {
        plan,
        linking,
        used,
    })
}

/// "authors who have written publications in the domain X": a table named right after a
/// relation verb, that the plan does not read otherwise, is the way the others are joined
/// through (author → publication → domain), not something to leave out.
fn through_entities(d: &mut Draft, plan: &mut AnalysisPlan, s: &Semantic) {
    let read = plan_tables(s, plan);
    if read.len() < 2 {
        return;
    }
    let mut kept = Vec::new();
    for (t, at) in d.entities.clone() {
        let mut k = at;
        while k > 0 && matches!(d.r.w(k - 1), "a" | "an" | "the" | "any" | "some" | "their") {
            k -= 1;
        }
        let verb = k > 0 && relation_verb(d.r.w(k - 1));
        // "organizations that have authors who have written ...": a link in the chain too.
        let end = (at..d.r.toks.len())
            .find(|&i| !d.r.used_tok[i] || d.r.toks[i].stop)
            .unwrap_or(at + 1);
        let chained = k > 0
            && matches!(d.r.w(k - 1), "have" | "has" | "with")
            && matches!(d.r.w(end), "who" | "that" | "which")
            && (end + 1..(end + 4).min(d.r.toks.len())).any(|i| relation_verb(d.r.w(i)));
        if (verb || chained) && !read.contains(&t) && !plan.via.contains(&t) {
            plan.via.push(t);
        } else {
            kept.push((t, at));
        }
    }
    d.entities = kept;
}
