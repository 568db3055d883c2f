//! An answer's result as the insight, chart and follow-up agents see it: columns with a kind
//! (time, category, measure) and the first rows, decoded from the text the upstream sent. The
//! session fills a [`Frame`] while the rows stream to the client (bounded: past `limit` rows
//! it only counts them); the HTTP API fills it from the rows it runs.

use super::plan::{AnalysisPlan, Grain};

/// What a column is to the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A date or timestamp (or a time bucket of one).
    Time,
    /// Text, booleans, ids: a breakdown's labels.
    Category,
    /// A number a measure was computed into.
    Measure,
}

/// One column of the result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Column {
    /// Its name as the client sees it.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// The upstream's type OID.
    pub type_oid: u32,
}

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL (or text a number or time column could not be read from).
    Null,
    /// A number.
    Num(f64),
    /// Text, as sent.
    Text(String),
    /// A time: days since 1970-01-01 (fractional for timestamps) and the text as sent.
    Time {
        /// Days since the epoch.
        days: f64,
        /// The upstream's text.
        text: String,
    },
}

impl Cell {
    /// The number, for measures.
    pub fn num(&self) -> Option<f64> {
        match self {
            Cell::Num(x) => Some(*x),
            _ => None,
        }
    }

    /// The text a person reads (dates as sent, numbers as Rust prints them, "(no value)" for
    /// NULL: a breakdown's NULL group is named so).
    pub fn label(&self) -> String {
        match self {
            Cell::Null => "(no value)".into(),
            Cell::Num(x) => format!("{x}"),
            Cell::Text(s) => s.clone(),
            Cell::Time { text, .. } => text.clone(),
        }
    }
}

/// What the question asked, for the agents' wording and choices.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The question.
    pub question: String,
    /// The plan, when the answer had one (a model's SQL may not).
    pub plan: Option<AnalysisPlan>,
    /// The time grain of the time dimension, when the plan has one.
    pub grain: Option<Grain>,
    /// The question's date range `[start, end)` as ISO dates, when it has one.
    pub range: Option<(String, String)>,
}

/// The result's columns and its first rows.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The first `limit` rows.
    pub rows: Vec<Vec<Cell>>,
    /// Rows the result had (may exceed `rows.len()`).
    pub seen: u64,
    /// Most rows kept.
    pub limit: usize,
}

/// Postgres type OIDs read as numbers.
const NUMERIC: [u32; 6] = [20, 21, 23, 700, 701, 1700];
/// date, timestamp, timestamptz.
const TIMES: [u32; 3] = [1082, 1114, 1184];

impl Frame {
    /// An empty frame for columns `(name, type OID)`, keeping at most `limit` rows.
    pub fn new(columns: &[(String, u32)], limit: usize) -> Frame {
        let columns = columns
            .iter()
            .map(|(name, oid)| Column {
                name: name.clone(),
                kind: if NUMERIC.contains(oid) {
                    Kind::Measure
                } else if TIMES.contains(oid) {
                    Kind::Time
                } else {
                    Kind::Category
                },
                type_oid: *oid,
            })
            .collect();
        Frame {
            columns,
            rows: Vec::new(),
            seen: 0,
            limit,
        }
    }

    /// Adds one row of text values (`None` = NULL); past `limit` rows it is only counted.
    pub fn push_text(&mut self, values: &[Option<&[u8]>]) {
        self.seen += 1;
        if self.rows.len() >= self.limit {
            return;
        }
        let row = self
            .columns
            .iter()
            .zip(values.iter().chain(std::iter::repeat(&None)))
            .map(|(c, v)| match v {
                None => Cell::Null,
                Some(b) => decode(c.kind, &String::from_utf8_lossy(b)),
            })
            .collect();
        self.rows.push(row);
    }

    /// Whether rows were left out (the result had more than `limit`).
    pub fn truncated(&self) -> bool {
        self.seen > self.rows.len() as u64
    }

    /// Indexes of the columns of `kind`.
    pub fn of_kind(&self, kind: Kind) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&i| self.columns[i].kind == kind)
            .collect()
    }
}

fn decode(kind: Kind, s: &str) -> Cell {
    match kind {
        Kind::Measure => s.trim().parse::<f64>().map_or(Cell::Null, |x| {
            if x.is_finite() {
                Cell::Num(x)
            } else {
                Cell::Null
            }
        }),
        Kind::Time => days(s).map_or(Cell::Null, |days| Cell::Time {
            days,
            text: s.to_string(),
        }),
        Kind::Category => Cell::Text(s.to_string()),
    }
}

/// Days since 1970-01-01 of `YYYY-MM-DD[ HH:MM[:SS[.fff]]][+zz]` (the offset is ignored:
/// times are compared, not converted).
pub fn days(s: &str) -> Option<f64> {
    let d = super::time::Date::parse(s)?;
    let (y, m) = if d.m <= 2 {
        (i64::from(d.y) - 1, i64::from(d.m) + 9)
    } else {
        (i64::from(d.y), i64::from(d.m) - 3)
    };
    // Days from civil (Howard Hinnant's algorithm).
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + i64::from(d.d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let whole = era * 146_097 + doe - 719_468;
    let mut frac = 0.0;
    if let Some(t) = s.get(11..) {
        let mut parts = t.split([':', '+', '-', ' ']);
        let h: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        let mi: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        let se: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        frac = (h * 3600.0 + mi * 60.0 + se) / 86_400.0;
    }
    Some(whole as f64 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_cells() {
        let cols = [
            ("month".to_string(), 1114),
            ("region".to_string(), 25),
            ("revenue".to_string(), 1700),
        ];
        let mut f = Frame::new(&cols, 2);
        f.push_text(&[Some(b"2023-02-01 00:00:00"), Some(b"West"), Some(b"12.5")]);
        f.push_text(&[None, Some(b"East"), Some(b"x")]);
        f.push_text(&[None, None, None]);
        assert_eq!(f.of_kind(Kind::Time), vec![0]);
        assert_eq!(f.of_kind(Kind::Measure), vec![2]);
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.seen, 3);
        assert!(f.truncated());
        assert_eq!(f.rows[0][2], Cell::Num(12.5));
        assert_eq!(f.rows[1][2], Cell::Null);
        assert_eq!(f.rows[0][0].label(), "2023-02-01 00:00:00");
    }

    #[test]
    fn days_since_epoch() {
        assert_eq!(days("1970-01-01"), Some(0.0));
        assert_eq!(days("2000-03-01"), Some(11_017.0));
        assert_eq!(days("2024-01-01 12:00:00+00"), Some(19_723.5));
        assert_eq!(days("nope"), None);
    }
}
