//! `querent ask`: plan a question against a database's catalog from the shell and print the
//! SQL (or, with --explain, what was linked and the plan). Nothing is run upstream except the
//! catalog reads.

use super::catalog::Source;
use clap::Args;
use querent::catalog::store;

/// `querent ask`.
#[derive(Args)]
pub struct AskArgs {
    #[command(flatten)]
    source: Source,
    /// Show the linked elements and the plan too.
    #[arg(long)]
    explain: bool,
    /// The question (several words are joined).
    #[arg(required = true)]
    question: Vec<String>,
}

/// Runs `querent ask ...`.
pub fn ask(args: AskArgs) -> Result<(), String> {
    let (cfg, target, db) = args.source.load(None)?;
    if std::env::var_os("RUST_LOG").is_some() {
        // RUST_LOG=querent::ask=trace shows each planner rule's draft.
        querent::telemetry::init(&cfg.log);
    }
    let files = store::read_annotations(cfg.schemas.as_ref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let loaded = rt.block_on(store::discover(&target, &db, &store::options(&cfg), &files))?;
    let view = &loaded.full;
    let question = args.question.join(" ");
    let planned = querent::ask::planner::plan(view, &question)
        .map_err(|d| format!("declined: {}\nhint: {}", d.message, d.hint))?;
    let sql = querent::ask::compile::compile(view, &planned.plan)
        .map_err(|e| format!("declined: {}\nhint: {}", e.message, e.hint))?;
    if args.explain {
        for i in &planned.used {
            let c = &planned.linking.candidates[*i];
            println!(
                "-- linked \"{}\" -> {} ({:?}, {:.2})",
                c.words,
                querent::catalog::report::element_name(&view.catalog, &c.element),
                c.how,
                c.score
            );
        }
        println!(
            "-- plan {}",
            serde_json::to_string(&planned.plan).unwrap_or_default()
        );
    }
    println!("{sql}");
    Ok(())
}
