//! `windlass down [--only ...]`: everything windlass owns for the environment
//! deleted in reverse apply order (apps, then namespaces, then the platform),
//! waiting until it is gone. Asks first on a terminal unless `--yes`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use windlass_cluster::engine::{self, title_of};
use windlass_core::plan::Plan;

use super::load_platform;
use super::units::{PLATFORM_UNIT, Progress, app_unit, lock, runtime, selected_app_units, session};
use crate::cli::DownArgs;
use crate::error::CliError;

pub fn run(args: &DownArgs) -> Result<ExitCode, CliError> {
    let platform = load_platform(&args.spec)?;
    // `--only` must name apps of the spec (same errors as the other commands).
    Plan::new(&platform, &args.only)?;
    let progress = Progress::new(args.output);
    runtime()?.block_on(async {
        let session = session(&args.cluster, &platform, false).await?;
        let units: Vec<String> = if args.only.is_empty() {
            let order = Plan::new(&platform, &[])?;
            let rank: BTreeMap<String, usize> = order
                .apps
                .iter()
                .enumerate()
                .filter_map(|(i, n)| platform.app(n).map(|a| (app_unit(&a.namespace, &a.name), i)))
                .collect();
            let mut units: Vec<String> = session.store.list().await?.into_iter().map(|h| h.unit).collect();
            // Dependents before what they need; apps no longer in the spec first; the platform last.
            units.sort_by_key(|u| {
                let group = if u.starts_with("app.") {
                    0
                } else if u.starts_with("namespace.") {
                    1
                } else {
                    2
                };
                (
                    group,
                    std::cmp::Reverse(rank.get(u).copied().unwrap_or(usize::MAX)),
                    u.clone(),
                )
            });
            units
        } else {
            let order = Plan::new(&platform, &[])?;
            let selected = selected_app_units(&platform, &args.only);
            order
                .apps
                .iter()
                .rev()
                .filter_map(|n| selected.get(n).cloned())
                .collect()
        };
        if units.is_empty() {
            progress.note(&format!(
                "nothing to delete: windlass owns nothing for environment `{}` here",
                platform.environment
            ));
            return Ok(ExitCode::SUCCESS);
        }
        let names: Vec<String> = units.iter().map(|u| title_of(u)).collect();
        if !args.yes {
            confirm(&names, &platform.environment)?;
        }
        let held = lock(&session, &platform, args.lock_timeout, &progress).await?;
        let removed = engine::down(
            session.applier.clone(),
            session.store.clone(),
            &units,
            Duration::from_secs(args.timeout),
            progress.sink(),
        )
        .await;
        held.release().await;
        let removed = removed?;
        let whole = units.iter().any(|u| u == PLATFORM_UNIT);
        progress.note(&format!(
            "deleted {removed} units of environment `{}`{}",
            platform.environment,
            if whole { "" } else { " (the platform stays)" }
        ));
        Ok(ExitCode::SUCCESS)
    })
}

#[allow(clippy::print_stderr)] // the question goes where prompts go
fn confirm(names: &[String], environment: &str) -> Result<(), CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "down deletes objects; pass --yes to confirm when stdin is not a terminal".into(),
        ));
    }
    eprint!("delete {} from environment `{environment}`? [y/N] ", names.join(", "));
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Usage(format!("cannot read the answer: {e}")))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(CliError::Usage("down cancelled; nothing was deleted".into()))
    }
}
