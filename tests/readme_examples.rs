//! The runnable examples of README.md and docs/*.md (shell blocks starting with `# example:`) run
//! against a live
//! proxy, and its sample querent.toml loads: documentation that cannot rot silently.

mod common;

use common::Proxy;
use std::process::Command;

fn blocks(readme: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    readme
        .split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(b, _)| b.to_string()))
        .collect()
}

#[test]
fn shell_examples_run() {
    // The README's examples, then those of docs/*.md.
    let mut docs = vec![common::repo().join("README.md")];
    let mut pages: Vec<_> = std::fs::read_dir(common::repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    docs.extend(pages);
    let examples: Vec<String> = docs
        .iter()
        .flat_map(|d| blocks(&std::fs::read_to_string(d).unwrap(), "sh"))
        .filter(|b| b.starts_with("# example:"))
        .collect();
    assert!(examples.len() >= 6, "found {} examples", examples.len());
    // docs/ANSWERS.md asks about the retail data.
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(common::retail::ensure_dataset());
    let p = Proxy::start(&["--schemas", "schemas"]);
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_querent"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for ex in examples {
        let script = ex
            .replace("6432", &p.port.to_string())
            .replace("9187", &p.admin_port.to_string());
        let out = Command::new("bash")
            .args(["-e", "-c", &script])
            .env("PATH", &path)
            .current_dir(common::repo())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && !stdout.trim().is_empty(),
            "README example failed:\n{script}\nstdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn sample_config_loads() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let sample = blocks(&readme, "toml")
        .into_iter()
        .find(|b| b.starts_with("# querent.toml"))
        .expect("sample config");
    let f = std::env::temp_dir().join(format!("querent-readme-{}.toml", std::process::id()));
    std::fs::write(&f, sample).unwrap();
    let cfg = querent::config::load(Some(&f), Vec::new(), &[]).unwrap();
    assert_eq!(cfg.auth, querent::config::AuthMode::Scram);
    assert_eq!(cfg.timeouts.query.0, std::time::Duration::from_secs(300));
}
