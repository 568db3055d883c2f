//! The `querent` command line.

use clap::{Args, Parser, Subcommand};
use querent::auth::users::UsersFile;
use querent::config;
use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

/// Querent: a PostgreSQL-wire proxy for plain-English questions and guarded SQL.
#[derive(Parser)]
#[command(name = "querent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy.
    Serve(ServeArgs),
    /// Manage the users file.
    #[command(subcommand)]
    User(UserCommand),
    /// Print every configuration setting with its default, environment variable and meaning.
    Settings,
    /// Check policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print what Querent knows about a database: tables, keys, join graph, metrics, value
    /// index; `catalog refresh` makes a running server re-read it.
    Catalog(cli::catalog::CatalogArgs),
    /// Work with annotation files (schemas/*.toml).
    #[command(subcommand)]
    Schema(cli::catalog::SchemaCommand),
    /// Plan a question from the shell and print its SQL (nothing runs upstream).
    Ask(cli::ask::AskArgs),
    /// Look at the ASK history and promote answers to examples (history.table or history.file).
    #[command(subcommand)]
    History(cli::history::HistoryCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Load every policies/*.toml in DIR and report each problem with file, line and key.
    Check {
        /// Policy directory.
        dir: PathBuf,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// TOML configuration file (also QUERENT_CONFIG).
    #[arg(long, env = "QUERENT_CONFIG")]
    config: Option<PathBuf>,
    /// Address for Postgres clients, e.g. 127.0.0.1:6432.
    #[arg(long)]
    listen: Option<String>,
    /// Upstream PostgreSQL URL, e.g. postgres://root@127.0.0.1:5432/test.
    #[arg(long)]
    upstream: Option<String>,
    /// Client authentication: trust, scram, password or jwt.
    #[arg(long)]
    auth: Option<String>,
    /// Users file (see `querent user add`).
    #[arg(long)]
    users: Option<String>,
    /// Policy directory.
    #[arg(long)]
    policies: Option<String>,
    /// Schema annotation directory.
    #[arg(long)]
    schemas: Option<String>,
    /// Admin HTTP address for /metrics and /healthz ("" disables).
    #[arg(long)]
    admin_listen: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long)]
    tls_cert: Option<String>,
    /// TLS private key (PEM).
    #[arg(long)]
    tls_key: Option<String>,
    /// Log format: text or json.
    #[arg(long)]
    log_format: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create or update a user: a new password replaces the old one, roles given replace the
    /// roles, attributes given are merged in.
    Add {
        /// Login name.
        name: String,
        /// Users file to create or update.
        #[arg(long)]
        users: PathBuf,
        /// Password; when absent for a new user it is read from standard input.
        #[arg(long)]
        password: Option<String>,
        /// Role (repeat for several).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Attribute key=value (repeat for several).
        #[arg(long = "attr")]
        attrs: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::User(UserCommand::Add {
            name,
            users,
            password,
            roles,
            attrs,
        }) => user_add(&name, &users, password, &roles, &attrs),
        Command::Policy(PolicyCommand::Check { dir }) => policy_check(&dir),
        Command::Catalog(args) => cli::catalog::catalog(args),
        Command::Schema(cmd) => cli::catalog::schema(cmd),
        Command::Ask(args) => cli::ask::ask(args),
        Command::History(cmd) => cli::history::history(cmd),
        Command::Settings => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for s in config::SETTINGS {
                let default = format!("\"{}\"", s.default);
                // A closed pipe (`| head`) just ends the listing.
                if writeln!(
                    out,
                    "{:<28} {:<34} default {default:<38} {}",
                    s.key,
                    s.env_var(),
                    s.doc
                )
                .is_err()
                {
                    break;
                }
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("querent: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let flags: Vec<(&str, String)> = [
        ("listen", args.listen),
        ("upstream", args.upstream),
        ("auth", args.auth),
        ("users", args.users),
        ("policies", args.policies),
        ("schemas", args.schemas),
        ("admin_listen", args.admin_listen),
        ("tls.cert", args.tls_cert),
        ("tls.key", args.tls_key),
        ("log.format", args.log_format),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let env = std::env::vars().filter(|(k, _)| k != "QUERENT_CONFIG");
    let cfg = config::load(args.config.as_deref(), env, &flags).map_err(|e| e.to_string())?;
    querent::telemetry::init(&cfg.log);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async {
        let server = querent::server::start(cfg)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(a) = server.admin_addr {
            tracing::info!(%a, "admin port: /metrics and /healthz");
        }
        wait_for_signal(&server).await;
        tracing::info!("signal received; shutting down");
        server.shutdown().await;
        tracing::info!("bye");
        Ok(())
    })
}

/// Waits for SIGTERM or Ctrl-C; SIGHUP reloads the users file meanwhile.
async fn wait_for_signal(server: &querent::server::Server) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    loop {
        tokio::select! {
            _ = term.recv() => return,
            _ = tokio::signal::ctrl_c() => return,
            _ = hup.recv() => match server.reload() {
                Ok(n) => tracing::info!(users = n, "SIGHUP: users file reloaded"),
                Err(e) => tracing::error!("SIGHUP: users file not reloaded, the old one stays in force: {e}"),
            },
        }
    }
}

fn policy_check(dir: &std::path::Path) -> Result<(), String> {
    match querent::policy::load_dir(dir) {
        Ok(p) => {
            for (name, r) in &p.roles {
                let kind = if r.trusted {
                    "trusted"
                } else if r.read_only {
                    "read-only"
                } else {
                    "read-write"
                };
                println!(
                    "role {name}: {kind}, {} table pattern(s), {} mask(s), {} row filter(s), {} denied column(s)",
                    r.tables.len(),
                    r.masks.len(),
                    r.row_filters.len(),
                    r.deny_columns.len()
                );
            }
            println!("{}: {} role(s), all valid", dir.display(), p.roles.len());
            Ok(())
        }
        Err(problems) => {
            for d in &problems {
                eprintln!("{d}");
            }
            Err(format!(
                "{} problem(s) in {}",
                problems.len(),
                dir.display()
            ))
        }
    }
}

fn user_add(
    name: &str,
    path: &std::path::Path,
    password: Option<String>,
    roles: &[String],
    attrs: &[String],
) -> Result<(), String> {
    let mut file = UsersFile::load(path, true)?;
    let attributes = attrs
        .iter()
        .map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("--attr {a}: expected key=value, e.g. --attr region_id=3"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let password = match password {
        Some(p) => Some(p),
        None if !file.users.contains_key(name) => {
            eprintln!("password for {name}: ");
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read password: {e}"))?;
            let p = line.trim_end_matches(['\r', '\n']).to_string();
            if p.is_empty() {
                return Err(
                    "a new user needs a password: pass --password or type one on standard input"
                        .into(),
                );
            }
            Some(p)
        }
        None => None,
    };
    file.upsert(name, password.as_deref(), roles, &attributes);
    file.save(path)?;
    eprintln!("user {name} saved in {}", path.display());
    Ok(())
}
