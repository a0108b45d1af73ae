//! `windlass man [--out DIR]`: roff man pages generated from the clap
//! definitions: windlass(1) and windlass-COMMAND(1) for each subcommand.

use std::path::Path;

use super::ExitStatus;
use crate::cli::{ManArgs, command};
use crate::error::CliError;
use crate::output::print;

pub fn run(args: &ManArgs) -> Result<ExitStatus, CliError> {
    let pages = pages()?;
    std::fs::create_dir_all(&args.out).map_err(|source| CliError::Write {
        path: args.out.clone(),
        source,
    })?;
    for (name, text) in &pages {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|source| CliError::Write { path, source })?;
    }
    print(&format!(
        "wrote {} man pages into {}\n",
        pages.len(),
        display_dir(&args.out)
    ))?;
    Ok(ExitStatus::Success)
}

fn display_dir(dir: &Path) -> String {
    format!("{}/", dir.display().to_string().trim_end_matches('/'))
}

/// File name and roff text of each page: `windlass.1` first, then one per subcommand
/// (nested ones too).
pub fn pages() -> Result<Vec<(String, Vec<u8>)>, CliError> {
    let mut root = command();
    root.build();
    let mut pages = vec![("windlass.1".to_string(), render(root.clone())?)];
    add_pages(&root, "windlass", &mut pages)?;
    Ok(pages)
}

/// One page per subcommand, and per nested subcommand (`windlass-secrets-edit.1`).
fn add_pages(parent: &clap::Command, prefix: &str, pages: &mut Vec<(String, Vec<u8>)>) -> Result<(), CliError> {
    for sub in parent.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("{prefix}-{}", sub.get_name());
        let page = sub.clone().name(name.clone()).display_name(name.clone());
        pages.push((format!("{name}.1"), render(page)?));
        add_pages(sub, &name, pages)?;
    }
    Ok(())
}

fn render(cmd: clap::Command) -> Result<Vec<u8>, CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|source| CliError::Write {
            path: "a man page".into(),
            source,
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_for_windlass_and_each_subcommand() {
        let pages = pages().expect("pages");
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "windlass.1",
                "windlass-init.1",
                "windlass-render.1",
                "windlass-schema.1",
                "windlass-up.1",
                "windlass-diff.1",
                "windlass-status.1",
                "windlass-rollback.1",
                "windlass-down.1",
                "windlass-check.1",
                "windlass-doctor.1",
                "windlass-secrets.1",
                "windlass-secrets-encrypt.1",
                "windlass-secrets-decrypt.1",
                "windlass-secrets-edit.1",
                "windlass-secrets-rotate.1",
                "windlass-secrets-keys.1",
                "windlass-completions.1",
                "windlass-man.1"
            ]
        );
        let root = String::from_utf8_lossy(&pages[0].1);
        // The subcommand list itself is pinned by the completions test.
        for sub in command().get_subcommands().map(|s| s.get_name()) {
            assert!(
                root.contains(&format!("windlass\\-{sub}(1)")),
                "windlass.1 does not list {sub}:\n{root}"
            );
        }
        let up = String::from_utf8_lossy(&pages[4].1);
        assert!(up.starts_with(".ie \\n(.g .ds Aq"), "{up}");
        assert!(up.contains(".TH windlass-up 1 "), "{up}");
        assert!(up.contains("\\-\\-lock\\-timeout"), "{up}");
    }

    #[test]
    fn pages_are_written_into_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("share/man1");
        run(&ManArgs { out: out.clone() }).expect("man");
        let mut written: Vec<String> = std::fs::read_dir(&out)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        written.sort();
        assert_eq!(written.len(), 19);
        assert_eq!(written[0], "windlass-check.1");
    }
}
