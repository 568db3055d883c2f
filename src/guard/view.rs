//! A session's view of the catalog: the values the catalog rules' filter templates name
//! (`{pairs}`, `{rels}`, `{hidden}`, ...), computed once per session from its policy.
//!
//! Row-filtered tables get special care: their statistics describe every row, hidden ones
//! included, so `pg_stats` leaves them out (`{stat_pairs}`), and their row and page counts
//! (`pg_class.reltuples`, `pg_stat_user_tables.n_live_tup`, sizes) are hidden
//! (`{filtered_rels}`: the tables and their indexes).

use super::catalog::{Snapshot, SYSTEM_SCHEMAS};
use super::catalog_rules;
use crate::policy::Effective;

/// Values of a session's catalog filters, computed once.
#[derive(Debug, Clone, Default)]
pub struct SessionView {
    pairs: String,
    stat_pairs: String,
    filtered_pairs: String,
    hidden: String,
    hidden_stats: String,
    hidden_attrs: String,
    key: String,
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn values(v: Vec<String>, empty: &str) -> String {
    format!(
        "VALUES {}",
        if v.is_empty() {
            empty.to_string()
        } else {
            v.join(", ")
        }
    )
}

/// `ARRAY(oids of the relations named in a VALUES list of (schema, name))`.
fn oids(pairs: &str) -> String {
    format!(
        "ARRAY(SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE (n.nspname::text, c.relname::text) IN ({pairs}))"
    )
}

impl SessionView {
    /// The view of a principal's policy over a snapshot; `mask_key` is the hash mask's key
    /// (catalog relations that show statement texts hide the ones holding it).
    pub fn build(snap: &Snapshot, eff: &Effective, mask_key: &str) -> SessionView {
        let (mut pairs, mut stat_pairs, mut filtered) = (Vec::new(), Vec::new(), Vec::new());
        let (mut hidden, mut hidden_stats) = (Vec::new(), Vec::new());
        let mut keys: Vec<_> = snap
            .relations
            .keys()
            .filter(|(s, _)| !SYSTEM_SCHEMAS.contains(&s.as_str()))
            .collect();
        keys.sort();
        for (s, t) in keys {
            let Ok(Some(rule)) = eff.table_rule(s, t) else {
                continue;
            };
            let pair = format!("({}, {})", lit(s), lit(t));
            pairs.push(pair.clone());
            if rule.filter.is_some() {
                filtered.push(pair);
            } else {
                stat_pairs.push(pair);
            }
            for c in &rule.denied {
                hidden.push(format!("({}, {}, {})", lit(s), lit(t), lit(c)));
            }
            for c in rule.denied.iter().chain(rule.masks.keys()) {
                hidden_stats.push(format!("({}, {}, {})", lit(s), lit(t), lit(c)));
            }
        }
        let hidden_v = values(hidden, "('', '', '')");
        SessionView {
            pairs: values(pairs, "('', '')"),
            stat_pairs: values(stat_pairs, "('', '')"),
            filtered_pairs: values(filtered, "('', '')"),
            hidden_attrs: format!(
                "SELECT c.oid, x.col::pg_catalog.name FROM ({hidden_v}) AS x(s, t, col) \
                 JOIN pg_catalog.pg_namespace n ON n.nspname = x.s JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = x.t"
            ),
            hidden: hidden_v,
            hidden_stats: values(hidden_stats, "('', '', '')"),
            key: lit(mask_key),
        }
    }

    /// `ARRAY(...)` of the oids of the row-filtered tables and their indexes.
    pub fn filtered_rels(&self) -> String {
        let tables = oids(&self.filtered_pairs);
        format!(
            "ARRAY(SELECT pg_catalog.unnest({tables}) UNION ALL \
             SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE i.indrelid = ANY({tables}))"
        )
    }

    /// Fills a catalog filter template.
    pub fn fill(&self, tpl: &str) -> String {
        let sys = "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema'))";
        tpl.replace("{visible}", catalog_rules::visible())
            .replace("{filtered_rels}", &self.filtered_rels())
            .replace("{rels}", &oids(&self.pairs))
            .replace("{sys}", sys)
            .replace("{pairs}", &self.pairs)
            .replace("{stat_pairs}", &self.stat_pairs)
            .replace("{hidden_attrs}", &self.hidden_attrs)
            .replace("{hidden_stats}", &self.hidden_stats)
            .replace("{hidden}", &self.hidden)
            .replace("{key}", &self.key)
    }
}
