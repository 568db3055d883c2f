//! Policies: `policies/*.toml`, one or more `[role.NAME]` tables each. Loading checks every
//! value and reports errors with file, line and key (`querent policy check DIR`). A principal's
//! roles combine into one [`Effective`] policy (their union).

mod effective;

pub use effective::{Effective, MaskKind, TableRule};

use serde::Deserialize;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A role as written in a policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    #[serde(default)]
    read_only: Option<Spanned<bool>>,
    #[serde(default)]
    trusted: Option<Spanned<bool>>,
    #[serde(default)]
    tables: Vec<Spanned<String>>,
    #[serde(default)]
    deny_columns: Vec<Spanned<String>>,
    #[serde(default)]
    max_rows: Option<Spanned<u64>>,
    #[serde(default)]
    statement_timeout: Option<Spanned<String>>,
    #[serde(default)]
    mask: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    row_filter: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    role: BTreeMap<String, RoleSpec>,
}

/// A checked role.
#[derive(Debug, Clone)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// Refuse writes, DDL and session-changing statements.
    pub read_only: bool,
    /// Bypass the guard entirely (still audited).
    pub trusted: bool,
    /// Allowed tables, `schema.table` patterns with `*` wildcards.
    pub tables: Vec<String>,
    /// Columns never readable, `schema.table.column`.
    pub deny_columns: Vec<String>,
    /// Most rows a statement may return.
    pub max_rows: Option<u64>,
    /// Longest a statement may run.
    pub statement_timeout: Option<Duration>,
    /// Column masks by `schema.table.column`.
    pub masks: BTreeMap<String, MaskKind>,
    /// Row filters by `schema.table`: SQL boolean expressions with `${user.ATTR}` placeholders.
    pub row_filters: BTreeMap<String, String>,
}

/// Identifies a policy set's content; caches key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PolicyVersion(pub u64);

/// All roles from a policy directory.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    /// Roles by name.
    pub roles: BTreeMap<String, Role>,
    /// Content hash of all files.
    pub version: Option<PolicyVersion>,
}

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Dotted key, e.g. `role.analyst.mask."retail.customers.email"`.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(
                f,
                "{}:{}: {}: {}",
                self.file.display(),
                l,
                self.key,
                self.message
            ),
            None => write!(f, "{}: {}: {}", self.file.display(), self.key, self.message),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Loads every `*.toml` in `dir` (sorted by name). All problems are reported, not just the first.
pub fn load_dir(dir: &Path) -> Result<Policies, Vec<Diagnostic>> {
    let diag = |file: &Path, line, key: &str, message: String| Diagnostic {
        file: file.to_path_buf(),
        line,
        key: key.to_string(),
        message,
    };
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) => {
            return Err(vec![diag(
                dir,
                None,
                "policies",
                format!("cannot read policy directory: {e}"),
            )])
        }
    };
    entries.sort();
    let mut out = Policies::default();
    let mut problems = Vec::new();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for path in &entries {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(diag(path, None, "-", format!("cannot read: {e}")));
                continue;
            }
        };
        text.hash(&mut hasher);
        let file: PolicyFile = match toml::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                let line = e.span().map(|s| line_of(&text, s.start));
                problems.push(diag(path, line, "-", e.message().to_string()));
                continue;
            }
        };
        for (name, spec) in file.role {
            let mut report = |span: std::ops::Range<usize>, key: String, msg: String| {
                problems.push(diag(path, Some(line_of(&text, span.start)), &key, msg));
            };
            let role = check_role(&name, spec, &mut report);
            if out.roles.contains_key(&name) {
                problems.push(diag(
                    path,
                    None,
                    &format!("role.{name}"),
                    "role is defined in more than one file".into(),
                ));
            }
            out.roles.insert(name, role);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    out.version = Some(PolicyVersion(hasher.finish()));
    Ok(out)
}

fn valid_table_pattern(p: &str) -> bool {
    let parts: Vec<&str> = p.split('.').collect();
    parts.len() == 2 && parts.iter().all(|s| !s.is_empty())
}

fn valid_column(p: &str) -> bool {
    let parts: Vec<&str> = p.split('.').collect();
    parts.len() == 3 && parts.iter().all(|s| !s.is_empty() && !s.contains('*'))
}

fn check_role(
    name: &str,
    spec: RoleSpec,
    report: &mut impl FnMut(std::ops::Range<usize>, String, String),
) -> Role {
    let key = |k: &str| format!("role.{name}.{k}");
    for t in &spec.tables {
        if !valid_table_pattern(t.get_ref()) {
            report(
                t.span(),
                key("tables"),
                format!(
                    "\"{}\": expected schema.table, e.g. \"retail.*\" or \"retail.orders\"",
                    t.get_ref()
                ),
            );
        }
    }
    for c in &spec.deny_columns {
        if !valid_column(c.get_ref()) {
            report(
                c.span(),
                key("deny_columns"),
                format!("\"{}\": expected schema.table.column", c.get_ref()),
            );
        }
    }
    let mut masks = BTreeMap::new();
    for (col, kind) in &spec.mask {
        let k = format!("{}.\"{col}\"", key("mask"));
        if !valid_column(col) {
            report(
                kind.span(),
                k.clone(),
                format!("\"{col}\": expected schema.table.column"),
            );
        }
        match MaskKind::parse(kind.get_ref()) {
            Some(m) => {
                masks.insert(col.clone(), m);
            }
            None => report(
                kind.span(),
                k,
                format!(
                    "unknown mask \"{}\": expected hash, partial, redact or null",
                    kind.get_ref()
                ),
            ),
        }
    }
    let mut row_filters = BTreeMap::new();
    for (table, filter) in &spec.row_filter {
        let k = format!("{}.\"{table}\"", key("row_filter"));
        if !valid_table_pattern(table) || table.contains('*') {
            report(
                filter.span(),
                k.clone(),
                format!("\"{table}\": expected schema.table"),
            );
        }
        if let Err(e) = effective::parse_filter(filter.get_ref(), &Default::default(), true) {
            report(filter.span(), k, e);
        }
        row_filters.insert(table.clone(), filter.get_ref().clone());
    }
    let statement_timeout = spec.statement_timeout.as_ref().and_then(|t| {
        match crate::config::parse_duration(t.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                report(t.span(), key("statement_timeout"), e);
                None
            }
        }
    });
    Role {
        name: name.to_string(),
        read_only: spec.read_only.map(|s| s.into_inner()).unwrap_or(false),
        trusted: spec.trusted.map(|s| s.into_inner()).unwrap_or(false),
        tables: spec.tables.into_iter().map(Spanned::into_inner).collect(),
        deny_columns: spec
            .deny_columns
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        max_rows: spec.max_rows.map(Spanned::into_inner),
        statement_timeout,
        masks,
        row_filters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "querent-pol-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&d).unwrap();
        for (n, t) in files {
            std::fs::write(d.join(n), t).unwrap();
        }
        d
    }

    pub(crate) const EXAMPLE: &str = r#"
[role.analyst_west]
read_only = true
tables = ["retail.*"]                       # allowlist, wildcards allowed
deny_columns = ["retail.employees.salary"]
max_rows = 10000
statement_timeout = "30s"

[role.analyst_west.mask]
"retail.customers.email" = "hash"           # stable hash
"retail.customers.phone" = "partial"        # keep the last 4 characters
"retail.customers.name"  = "redact"         # '***'

[role.analyst_west.row_filter]
"retail.stores" = "region_id = ${user.region_id}"
"retail.orders" = "store_id IN (SELECT store_id FROM retail.stores WHERE region_id = ${user.region_id})"
"#;

    #[test]
    fn the_example_loads() {
        let p = load_dir(&dir_with(&[("example.toml", EXAMPLE)])).unwrap();
        let r = &p.roles["analyst_west"];
        assert!(r.read_only && !r.trusted);
        assert_eq!(r.masks["retail.customers.phone"], MaskKind::Partial);
        assert_eq!(r.statement_timeout, Some(Duration::from_secs(30)));
        assert!(p.version.is_some());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let bad = "[role.a]\ntables = [\"retail\"]\n[role.a.mask]\n\"retail.c.email\" = \"scramble\"\n[role.a.row_filter]\n\"retail.s\" = \"region_id = = 3\"\n";
        let errs = load_dir(&dir_with(&[("bad.toml", bad)])).unwrap_err();
        let text: Vec<String> = errs.iter().map(|d| d.to_string()).collect();
        assert!(
            text.iter().any(|t| t.contains("bad.toml:2: role.a.tables")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains(":4: role.a.mask.\"retail.c.email\": unknown mask")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains(":6: role.a.row_filter.\"retail.s\"")),
            "{text:?}"
        );
        let errs = load_dir(&dir_with(&[("x.toml", "[role.a]\nread_olny = true\n")])).unwrap_err();
        assert!(
            errs[0].to_string().contains("x.toml:2") && errs[0].message.contains("read_olny"),
            "{errs:?}"
        );
    }
}
