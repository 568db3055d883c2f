//! Running statements through the proxy: simple Query, extended Parse/Bind and
//! COPY TO STDOUT, collecting result sets, errors and notices.

use super::AnyText;
use tokio_postgres::types::{Format, IsNull, ToSql, Type};
use tokio_postgres::{Client, SimpleQueryMessage};

/// One result set: column names and rows of text (NULL = None).
#[derive(Debug, Default, Clone)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

#[derive(Debug, Clone)]
pub struct ErrInfo {
    /// SQLSTATE, or "" for a client-side or connection error.
    pub code: String,
    pub text: String,
}

impl ErrInfo {
    pub fn from(e: &tokio_postgres::Error) -> ErrInfo {
        match e.as_db_error() {
            Some(db) => ErrInfo {
                code: db.code().code().to_string(),
                text: format!(
                    "{}: {}{}{}{}",
                    db.severity(),
                    db.message(),
                    db.detail()
                        .map(|d| format!(" DETAIL: {d}"))
                        .unwrap_or_default(),
                    db.hint().map(|d| format!(" HINT: {d}")).unwrap_or_default(),
                    db.where_()
                        .map(|d| format!(" CONTEXT: {d}"))
                        .unwrap_or_default()
                ),
            },
            None => ErrInfo {
                code: String::new(),
                text: e.to_string(),
            },
        }
    }
}

/// Everything a run produced.
#[derive(Debug, Default, Clone)]
pub struct RunOut {
    pub sets: Vec<ResultSet>,
    pub commands: usize,
    pub error: Option<ErrInfo>,
    /// The error happened in a `setup:` statement.
    pub setup_error: bool,
    pub notices: Vec<String>,
    pub timed_out: bool,
}

impl RunOut {
    pub fn rows(&self) -> usize {
        self.sets.iter().map(|s| s.rows.len()).sum()
    }
}

/// Runs `sql` with the simple Query protocol, keeping rows that arrived before an error.
pub async fn run_simple(client: &Client, sql: &str, out: &mut RunOut) {
    let stream = match client.simple_query_raw(sql).await {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(ErrInfo::from(&e));
            return;
        }
    };
    let mut stream = Box::pin(stream);
    let mut open = false;
    loop {
        let next =
            std::future::poll_fn(|cx| futures_util::Stream::poll_next(stream.as_mut(), cx)).await;
        match next {
            None => break,
            Some(Err(e)) => {
                out.error = Some(ErrInfo::from(&e));
                break;
            }
            Some(Ok(SimpleQueryMessage::RowDescription(cols))) => {
                out.sets.push(ResultSet {
                    columns: cols.iter().map(|c| c.name().to_string()).collect(),
                    rows: Vec::new(),
                });
                open = true;
            }
            Some(Ok(SimpleQueryMessage::Row(r))) => {
                if !open {
                    out.sets.push(ResultSet {
                        columns: r.columns().iter().map(|c| c.name().to_string()).collect(),
                        rows: Vec::new(),
                    });
                    open = true;
                }
                let row = (0..r.len()).map(|i| r.get(i).map(str::to_string)).collect();
                out.sets.last_mut().unwrap().rows.push(row);
            }
            Some(Ok(SimpleQueryMessage::CommandComplete(_))) => {
                out.commands += 1;
                open = false;
            }
            Some(Ok(_)) => {}
        }
    }
}

/// Runs `sql` with the extended protocol (Parse/Describe, then Bind/Execute once per
/// parameter set; parameters are sent in text format and typed by the server).
pub async fn run_extended(client: &Client, sql: &str, params: &[Vec<String>], out: &mut RunOut) {
    let stmt = match client.prepare(sql).await {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(ErrInfo::from(&e));
            return;
        }
    };
    let sets: Vec<Vec<String>> = if params.is_empty() {
        vec![Vec::new()]
    } else {
        params.to_vec()
    };
    for set in sets {
        let ps: Vec<TextParam> = set.into_iter().map(TextParam).collect();
        let stream = match client.query_raw(&stmt, ps.iter()).await {
            Ok(s) => s,
            Err(e) => {
                out.error = Some(ErrInfo::from(&e));
                return;
            }
        };
        let mut rs = ResultSet {
            columns: stmt
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
            rows: Vec::new(),
        };
        let mut stream = Box::pin(stream);
        loop {
            let next =
                std::future::poll_fn(|cx| futures_util::Stream::poll_next(stream.as_mut(), cx))
                    .await;
            match next {
                None => break,
                Some(Err(e)) => {
                    out.error = Some(ErrInfo::from(&e));
                    break;
                }
                Some(Ok(row)) => {
                    let cells = (0..row.len())
                        .map(|i| match row.try_get::<_, AnyText>(i) {
                            Ok(v) => v.0,
                            Err(e) => Some(format!("<undecodable: {e}>")),
                        })
                        .collect();
                    rs.rows.push(cells);
                }
            }
        }
        out.sets.push(rs);
        out.commands += 1;
        if out.error.is_some() {
            return;
        }
    }
}

/// Runs a `COPY ... TO STDOUT` and splits the text output into rows and tab-separated cells
/// (columns are named "#0", "#1", ...).
pub async fn run_copy(client: &Client, sql: &str, out: &mut RunOut) {
    let stream = match client.copy_out(sql).await {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(ErrInfo::from(&e));
            return;
        }
    };
    let mut stream = Box::pin(stream);
    let mut data = Vec::new();
    loop {
        let next =
            std::future::poll_fn(|cx| futures_util::Stream::poll_next(stream.as_mut(), cx)).await;
        match next {
            None => break,
            Some(Err(e)) => {
                out.error = Some(ErrInfo::from(&e));
                break;
            }
            Some(Ok(bytes)) => data.extend_from_slice(&bytes),
        }
    }
    let text = String::from_utf8_lossy(&data);
    let mut rs = ResultSet::default();
    for line in text.lines() {
        let cells: Vec<Option<String>> = line
            .split('\t')
            .map(|c| {
                if c == "\\N" {
                    None
                } else {
                    Some(c.to_string())
                }
            })
            .collect();
        if rs.columns.len() < cells.len() {
            rs.columns = (0..cells.len()).map(|i| format!("#{i}")).collect();
        }
        rs.rows.push(cells);
    }
    out.sets.push(rs);
    out.commands += 1;
}

/// A parameter sent in text format; the server infers its type.
#[derive(Debug)]
pub struct TextParam(pub String);

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }
    tokio_postgres::types::to_sql_checked!();
}
