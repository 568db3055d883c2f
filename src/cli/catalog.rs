//! `querent catalog`, `querent catalog refresh` and `querent schema suggest`.

use clap::{Args, Subcommand};
use querent::auth::Principal;
use querent::catalog::{report, store, suggest};
use querent::config;
use querent::upstream::UpstreamTarget;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;

/// Where a catalog command reads from.
#[derive(Args)]
pub struct Source {
    /// TOML configuration file (also QUERENT_CONFIG); its upstream, schemas, policies and
    /// catalog.* settings are the defaults.
    #[arg(long, env = "QUERENT_CONFIG")]
    config: Option<PathBuf>,
    /// Upstream PostgreSQL URL (default: the configuration's `upstream`).
    #[arg(long)]
    upstream: Option<String>,
    /// Database to read (default: the upstream URL's).
    #[arg(long)]
    database: Option<String>,
    /// Annotation directory (default: the configuration's `schemas`).
    #[arg(long)]
    schemas: Option<String>,
    /// Upstream schemas to read, comma-separated (default: all but system schemas).
    #[arg(long)]
    include_schemas: Option<String>,
}

impl Source {
    pub(crate) fn load(
        &self,
        policies: Option<String>,
    ) -> Result<(config::Config, UpstreamTarget, String), String> {
        let flags: Vec<(&str, String)> = [
            ("upstream", self.upstream.clone()),
            ("schemas", self.schemas.clone()),
            ("policies", policies),
            ("catalog.include_schemas", self.include_schemas.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let env = std::env::vars().filter(|(k, _)| k != "QUERENT_CONFIG");
        let cfg = config::load(self.config.as_deref(), env, &flags).map_err(|e| e.to_string())?;
        let target = UpstreamTarget::parse(&cfg.upstream)?;
        let db = self
            .database
            .clone()
            .unwrap_or_else(|| target.dbname.clone());
        Ok((cfg, target, db))
    }
}

/// `querent catalog`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CatalogArgs {
    #[command(subcommand)]
    action: Option<CatalogAction>,
    #[command(flatten)]
    source: Source,
    /// Policy directory (default: the configuration's `policies`); with --role.
    #[arg(long)]
    policies: Option<String>,
    /// Show only what this role may see (repeat for several roles).
    #[arg(long = "role")]
    roles: Vec<String>,
    /// Attribute key=value of the principal, for row filters (repeat for several).
    #[arg(long = "attr")]
    attrs: Vec<String>,
    /// Also show how this question links to the catalog (repeat for several).
    #[arg(long = "link")]
    questions: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum CatalogAction {
    /// Ask a running server to re-read its catalog (POST /catalog/refresh on its admin port).
    Refresh {
        /// The server's admin address.
        #[arg(long, default_value = "127.0.0.1:9187")]
        admin: String,
        /// Database to refresh (default: the server's default database).
        #[arg(long)]
        database: Option<String>,
    },
}

/// `querent schema`.
#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Draft an annotation file from the live catalog, for a person to edit.
    Suggest {
        #[command(flatten)]
        source: Source,
        /// Write the draft here instead of standard output; a directory (such as `schemas`)
        /// gets `<database>.toml`. One database per run: a draft is one database's file.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Runs `querent catalog ...`.
pub fn catalog(args: CatalogArgs) -> Result<(), String> {
    if let Some(CatalogAction::Refresh { admin, database }) = &args.action {
        return refresh(admin, database.as_deref());
    }
    let (cfg, target, db) = args.source.load(args.policies.clone())?;
    let files = store::read_annotations(cfg.schemas.as_ref())?;
    let rt = runtime()?;
    let loaded = rt.block_on(store::discover(&target, &db, &store::options(&cfg), &files))?;
    let view = if args.roles.is_empty() {
        loaded.full.clone()
    } else {
        let dir = cfg.policies.as_ref().ok_or(
            "--role needs policies: pass --policies DIR or set policies in the configuration",
        )?;
        let policies = querent::policy::load_dir(dir).map_err(|errs| {
            errs.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        let mut attributes = BTreeMap::new();
        for a in &args.attrs {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("--attr {a}: expected key=value"))?;
            attributes.insert(k.to_string(), v.to_string());
        }
        let principal = Principal {
            user: "querent-catalog".into(),
            roles: args.roles.clone(),
            attributes,
        };
        let eff = querent::policy::Effective::new(&policies, &principal);
        std::sync::Arc::new(store::Semantic::new(querent::catalog::view::for_role(
            &loaded.full.catalog,
            &eff,
        )))
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let links: Vec<_> = args
            .questions
            .iter()
            .map(|q| serde_json::json!({"question": q, "linking": view.index.link(&view.catalog, q)}))
            .collect();
        // With a role, everything describes the role's view only.
        let (summary, problems) = if args.roles.is_empty() {
            let problems = loaded.problems.iter().map(|p| p.to_string()).collect();
            (store::summary(&db, Some(&loaded), None), problems)
        } else {
            (store::view_summary(&db, &loaded, &view), Vec::new())
        };
        let v = serde_json::json!({
            "summary": summary,
            "catalog": &view.catalog,
            "links": links,
            "annotation_problems": problems,
        });
        let _ = writeln!(out, "{v:#}");
        return Ok(());
    }
    let role = (!args.roles.is_empty()).then(|| args.roles.join(", "));
    let _ = write!(out, "{}", report::render(&loaded, &view, role.as_deref()));
    for q in &args.questions {
        let linking = view.index.link(&view.catalog, q);
        let _ = write!(out, "\n{}", report::render_link(&view, q, &linking));
    }
    Ok(())
}

/// Runs `querent schema suggest`.
pub fn schema(cmd: SchemaCommand) -> Result<(), String> {
    let SchemaCommand::Suggest { source, output } = cmd;
    let (cfg, target, db) = source.load(None)?;
    let rt = runtime()?;
    // The draft is made from the bare catalog: existing annotations are not merged in.
    let loaded = rt.block_on(store::discover(&target, &db, &store::options(&cfg), &[]))?;
    let draft = suggest::suggest(&loaded.full.catalog);
    match output {
        Some(path) => {
            let path = if path.is_dir() {
                // An edited annotation file is never overwritten by a draft unasked.
                let file = path.join(suggest::file_name(&db));
                if file.exists() {
                    return Err(format!(
                        "{} already exists; name the file with --output to overwrite it",
                        file.display()
                    ));
                }
                file
            } else {
                path
            };
            std::fs::write(&path, draft)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            let _ = std::io::stdout().lock().write_all(draft.as_bytes());
            Ok(())
        }
    }
}

/// Escapes everything but unreserved characters (RFC 3986) for a query-string value.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// POSTs /catalog/refresh to a running server and prints its answer.
fn refresh(admin: &str, database: Option<&str>) -> Result<(), String> {
    let path = match database {
        Some(db) => format!("/catalog/refresh?database={}", percent_encode(db)),
        None => "/catalog/refresh".to_string(),
    };
    let mut tcp = std::net::TcpStream::connect(admin)
        .map_err(|e| format!("cannot reach the admin port {admin}: {e}"))?;
    let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(600)));
    write!(
        tcp,
        "POST {path} HTTP/1.1\r\nHost: {admin}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("cannot send to {admin}: {e}"))?;
    let mut answer = String::new();
    tcp.read_to_string(&mut answer)
        .map_err(|e| format!("no answer from {admin}: {e}"))?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let ok = head.starts_with("HTTP/1.1 200");
    println!("{}", body.trim_end());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "refresh failed: {}",
            head.lines().next().unwrap_or("no status line")
        ))
    }
}
