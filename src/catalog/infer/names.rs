//! The naming rules of key and relationship inference: pure functions over table and column
//! names, no database. A name only proposes a candidate; the data decides (see `verify`).
//!
//! ```text
//! author(aid, name, oid)   aid: "a" + "id", and "author" starts with "a"  -> own key
//! writes(aid, pid)         aid names author, pid names publication        -> a bridge, no key
//! flight.from_airport      "airport" is a word part                       -> airport's key
//! course_prerequisite.pre_course_id = "pre_" + course.course_id           -> course's key
//! ```

use std::collections::HashMap;

/// Key names too generic to relate two tables on their own (`b.id = a.id` says nothing).
const GENERIC_KEYS: &[&str] = &["id", "code", "key", "name", "title", "description", "uuid"];

/// Suffixes that mark a column as an identifier: the part before them is its stem.
const KEY_SUFFIXES: &[&str] = &["_id", "id", "_code", "code", "_key", "_no", "_num"];

/// The singular of a table name, for the usual English plurals (`plans` → `plan`,
/// `categories` → `category`, `addresses` → `address`); other names are returned as they are.
pub fn singular(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    if n.ends_with("us") || n.ends_with("ss") {
        n
    } else if let Some(s) = n.strip_suffix("ies").filter(|s| !s.is_empty()) {
        format!("{s}y")
    } else if let Some(s) = ["sses", "xes", "ches", "shes"]
        .iter()
        .find_map(|suf| n.strip_suffix(suf).map(|s| (s, suf)))
    {
        format!("{}{}", s.0, &s.1[..s.1.len() - 2])
    } else if let Some(s) = n
        .strip_suffix('s')
        .filter(|s| !s.is_empty() && !s.ends_with('s'))
    {
        s.to_string()
    } else {
        n
    }
}

/// The stem of an identifier-like column name: `customer_id` → `customer`, `aid` → `a`,
/// `airport_code` → `airport`; `None` when the name does not end like an identifier or nothing
/// is left.
pub fn key_stem(column: &str) -> Option<String> {
    let c = column.to_ascii_lowercase();
    KEY_SUFFIXES.iter().find_map(|s| {
        let stem = c.strip_suffix(s)?.trim_end_matches('_');
        (!stem.is_empty()).then(|| stem.to_string())
    })
}

/// Whether `stem` (from [`key_stem`]) names table `table`: it is the table's name or its
/// singular, a prefix of it (`doc` → `doctors`; a one-letter stem only for a three-letter
/// column such as `aid` → `author`), or its last word part (`offering` → `course_offering`).
pub fn stem_names_table(stem: &str, column: &str, table: &str) -> bool {
    let t = table.to_ascii_lowercase();
    let one = singular(&t);
    if stem == t || stem == one {
        return true;
    }
    // A prefix within the first word only: `course` does not name `course_tags_count`.
    let long_enough = stem.len() >= 3 || (stem.len() == 1 && column.len() == 3);
    let prefix = t
        .strip_prefix(stem)
        .is_some_and(|rest| long_enough && !rest.contains('_'));
    prefix || (stem.len() >= 3 && t.ends_with(&format!("_{stem}")))
}

/// Whether column `column` contains table `table` (or its singular) as whole word parts:
/// `from_airport` and `airport` name `airport`, `plan` names `plans`, `time_zone_code` names
/// `time_zone`; `airports_count` does not name `airport`... unless by its plural.
pub fn contains_table(column: &str, table: &str) -> bool {
    let parts: Vec<&str> = column.split('_').filter(|p| !p.is_empty()).collect();
    let t = table.to_ascii_lowercase();
    let names = [t.clone(), singular(&t)];
    let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
    (0..lower.len()).any(|i| {
        (i + 1..=lower.len()).any(|j| {
            let joined = lower[i..j].join("_");
            names.contains(&joined)
        })
    })
}

/// How well the name of column `column` (of another table, or of the same table) suggests a
/// reference to key `key` of table `table`: higher is better, `None` is no suggestion.
///
/// - 4: the same name, and it names the table (`course_id` → `course.course_id`);
/// - 3: `<table>_<key>`, `<table>_id`, `<table>id` (`customer_id` → `customers.id`, `doc_id` →
///   `doctors.id`), or the
///   key behind a prefix (`pre_course_id`, `from_airport_code` → `…_course_id`);
/// - 2: the same, non-generic name (`acct` → `accounts.acct`, `aid` → `author.aid`);
/// - 1: the table's name as word parts (`from_airport` → `airport`, `plan` → `plans`).
pub fn name_score(column: &str, table: &str, key: &str) -> Option<u8> {
    let c = column.to_ascii_lowercase();
    let k = key.to_ascii_lowercase();
    let t = table.to_ascii_lowercase();
    let one = singular(&t);
    let generic = GENERIC_KEYS.contains(&k.as_str());
    if c == k {
        let named = key_stem(&c).is_some_and(|s| stem_names_table(&s, &c, &t));
        return match (named, generic) {
            (true, _) => Some(4),
            (false, false) => Some(2),
            (false, true) => None,
        };
    }
    if generic && key_stem(&c).is_some_and(|s| stem_names_table(&s, &c, &t)) {
        return Some(3);
    }
    let spelled = [
        format!("{t}_{k}"),
        format!("{one}_{k}"),
        format!("{t}_id"),
        format!("{one}_id"),
        format!("{one}id"),
    ];
    if spelled.contains(&c) {
        return Some(3);
    }
    if !generic && k.len() >= 3 && c.ends_with(&format!("_{k}")) {
        return Some(3);
    }
    contains_table(&c, &t).then_some(1)
}

/// The table names of one schema, indexed so that the naming rules stay cheap with thousands
/// of tables.
#[derive(Debug, Default)]
pub struct TableNames {
    names: Vec<String>,
    /// A name or its singular → tables.
    whole: HashMap<String, Vec<usize>>,
    /// The last word part of a name of several parts → tables.
    last: HashMap<String, Vec<usize>>,
    /// Names of one word, sorted, for prefix searches.
    single: Vec<(String, usize)>,
}

impl TableNames {
    /// Indexes `names`; a table's index in `names` identifies it.
    pub fn new<S: AsRef<str>>(names: &[S]) -> TableNames {
        let mut out = TableNames::default();
        for (i, n) in names.iter().enumerate() {
            let n = n.as_ref().to_ascii_lowercase();
            for w in [n.clone(), singular(&n)] {
                let e = out.whole.entry(w).or_default();
                if !e.contains(&i) {
                    e.push(i);
                }
            }
            match n.rsplit_once('_') {
                Some((_, last)) if !last.is_empty() => {
                    out.last.entry(last.to_string()).or_default().push(i)
                }
                _ => out.single.push((n.clone(), i)),
            }
            out.names.push(n);
        }
        out.single.sort();
        out
    }

    /// The tables column `column` names: as whole word parts ([`contains_table`]) or by the
    /// stem of an identifier ([`stem_names_table`]).
    pub fn named_by(&self, column: &str) -> Vec<usize> {
        let c = column.to_ascii_lowercase();
        let parts: Vec<&str> = c.split('_').filter(|p| !p.is_empty()).collect();
        let mut found: Vec<usize> = Vec::new();
        for i in 0..parts.len() {
            for j in i + 1..=parts.len() {
                if let Some(ts) = self.whole.get(&parts[i..j].join("_")) {
                    found.extend(ts);
                }
            }
        }
        if let Some(stem) = key_stem(&c) {
            found.extend(self.whole.get(&stem).into_iter().flatten());
            found.extend(self.last.get(&stem).into_iter().flatten());
            let from = self
                .single
                .partition_point(|(n, _)| n.as_str() < stem.as_str());
            found.extend(
                self.single[from..]
                    .iter()
                    .take_while(|(n, _)| n.starts_with(&stem))
                    .map(|(_, i)| *i),
            );
            found.retain(|t| {
                contains_table(&c, &self.names[*t]) || stem_names_table(&stem, &c, &self.names[*t])
            });
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Whether column `column` of table `own` is named after its own table as an identifier
    /// (`author.aid`, `course.course_id`), and not after another table by its whole name
    /// (`flight_fare.fare_id` is `fare`'s key).
    pub fn is_own_key(&self, column: &str, own: usize) -> bool {
        let c = column.to_ascii_lowercase();
        key_stem(&c).is_some_and(|s| {
            let other = self
                .whole
                .get(&s)
                .is_some_and(|ts| ts.iter().any(|t| *t != own));
            !other && stem_names_table(&s, &c, &self.names[own])
        })
    }

    /// Whether column `column` of table `own` looks like a reference to another table and not
    /// like the table's own key.
    pub fn looks_foreign(&self, column: &str, own: usize) -> bool {
        !self.is_own_key(column, own) && self.named_by(column).iter().any(|t| *t != own)
    }
}

/// The order in which the columns of table `own` are tried as its primary key: `id`, a key
/// named after the table (`<table>_id`, `<table>id`, `aid` for `author`), other
/// identifier-like columns (`…id`, `…code`) that do not look like references to other tables,
/// then the first column if it does not either. A bridge table (every column a reference)
/// gets no candidate.
pub fn key_order(own: usize, columns: &[&str], names: &TableNames) -> Vec<usize> {
    let lower: Vec<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
    let mut out: Vec<usize> = Vec::new();
    let passes: [&dyn Fn(&str) -> bool; 3] =
        [&|c| c == "id", &|c| names.is_own_key(c, own), &|c| {
            (c.ends_with("id") || c.ends_with("code")) && !names.looks_foreign(c, own)
        }];
    for pass in passes {
        for (i, c) in lower.iter().enumerate() {
            if pass(c) && !out.contains(&i) {
                out.push(i);
            }
        }
    }
    if let Some(first) = lower.first() {
        if !names.looks_foreign(first, own) && !out.contains(&0) {
            out.push(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singulars() {
        assert_eq!(singular("plans"), "plan");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("class"), "class");
        assert_eq!(singular("author"), "author");
    }

    #[test]
    fn stems_and_table_names() {
        assert_eq!(key_stem("customer_id").as_deref(), Some("customer"));
        assert_eq!(key_stem("aid").as_deref(), Some("a"));
        assert_eq!(key_stem("airport_code").as_deref(), Some("airport"));
        assert_eq!(key_stem("id"), None);
        assert_eq!(key_stem("name"), None);
        assert!(stem_names_table("a", "aid", "author"));
        assert!(!stem_names_table("a", "area_id", "author"));
        assert!(stem_names_table("doc", "doc_id", "doctors"));
        assert!(stem_names_table(
            "offering",
            "offering_id",
            "course_offering"
        ));
        assert!(stem_names_table("customer", "customer_id", "customers"));
        assert!(!stem_names_table("course", "course_id", "area"));
    }

    #[test]
    fn word_parts_name_tables() {
        assert!(contains_table("from_airport", "airport"));
        assert!(contains_table("plan", "plans"));
        assert!(contains_table("time_zone_code", "time_zone"));
        assert!(!contains_table("airplane", "plan"));
        assert!(!contains_table("zone", "time_zone"));
    }

    #[test]
    fn name_scores() {
        assert_eq!(name_score("course_id", "course", "course_id"), Some(4));
        assert_eq!(
            name_score("airline_code", "airline", "airline_code"),
            Some(4)
        );
        assert_eq!(name_score("customer_id", "customers", "id"), Some(3));
        assert_eq!(name_score("pre_course_id", "course", "course_id"), Some(3));
        assert_eq!(name_score("acct", "accounts", "acct"), Some(2));
        assert_eq!(name_score("aid", "author", "aid"), Some(4));
        assert_eq!(
            name_score("from_airport", "airport", "airport_code"),
            Some(1)
        );
        assert_eq!(name_score("plan", "plans", "code"), Some(1));
        // A generic key relates nothing by its name alone.
        assert_eq!(name_score("id", "plans", "id"), None);
        assert_eq!(name_score("parent_id", "nodes", "id"), None);
        assert_eq!(name_score("total", "plans", "code"), None);
        assert_eq!(name_score("doc_id", "doctors", "id"), Some(3));
    }

    #[test]
    fn key_candidates_in_order() {
        let academic = TableNames::new(&[
            "author",
            "publication",
            "conference",
            "journal",
            "writes",
            "organization",
        ]);
        let pubs = ["abstract", "cid", "citation_num", "jid", "pid", "title"];
        assert_eq!(key_order(1, &pubs, &academic), vec![4, 0]);
        let author = ["aid", "homepage", "name", "oid"];
        assert_eq!(key_order(0, &author, &academic), vec![0]);
        // A bridge table: every column names another table.
        assert!(key_order(4, &["aid", "pid"], &academic).is_empty());
        let atis = TableNames::new(&["fare", "flight", "flight_fare"]);
        assert!(key_order(2, &["flight_id", "fare_id"], &atis).is_empty());
        let shop = TableNames::new(&["orders"]);
        assert_eq!(key_order(0, &["order_no", "id"], &shop), vec![1, 0]);
    }

    #[test]
    fn references_look_foreign() {
        let names = TableNames::new(&["course", "student", "area", "course_tags_count"]);
        assert!(names.looks_foreign("course_id", 2));
        assert!(!names.looks_foreign("area", 2));
        assert!(!names.looks_foreign("course_id", 0));
        assert_eq!(names.named_by("course_id"), vec![0]);
        let atis = TableNames::new(&["airport", "time_zone", "flight", "airline"]);
        assert_eq!(atis.named_by("from_airport"), vec![0]);
        assert_eq!(atis.named_by("time_zone_code"), vec![1]);
        assert_eq!(atis.named_by("main_airline"), vec![3]);
        assert!(atis.named_by("departure_time").is_empty());
    }
}
