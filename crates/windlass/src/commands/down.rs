//! `windlass down [--only ...]`: everything windlass owns for the environment
//! deleted in the plan's `down` order (apps, then namespaces, then the
//! platform), waiting until it is gone. Asks first on a terminal unless `--yes`.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use windlass_core::plan::Plan;
use windlass_core::unit::UnitId;

use super::cluster::{runtime, session};
use super::{ExitStatus, load_platform};
use crate::cli::DownArgs;
use crate::error::CliError;
use crate::progress::Progress;

pub fn run(args: &DownArgs) -> Result<ExitStatus, CliError> {
    let platform = load_platform(&args.spec)?;
    let plan = Plan::new(&platform, &args.only)?;
    let progress = Progress::new(args.output);
    runtime()?.block_on(async {
        let session = session(&args.cluster, &platform, &plan, false, progress.sink()).await?;
        let units = session.down_order(&plan).await?;
        if units.is_empty() {
            progress.note(&format!(
                "nothing to delete: windlass owns nothing for environment `{}` here",
                platform.environment
            ));
            return Ok(ExitStatus::Success);
        }
        if !args.yes {
            confirm(&units, &platform.environment, args.purge)?;
        }
        let timeout = Duration::from_secs(args.timeout);
        let removed = session
            .down(
                &units,
                &platform.components,
                args.purge,
                timeout,
                Duration::from_secs(args.lock_timeout),
            )
            .await?;
        let whole = units.contains(&UnitId::Platform);
        progress.note(&format!(
            "deleted {removed} units of environment `{}`{}",
            platform.environment,
            if whole { "" } else { " (the platform stays)" }
        ));
        Ok(ExitStatus::Success)
    })
}

#[allow(clippy::print_stderr)] // the question goes where prompts go
fn confirm(units: &[UnitId], environment: &str, purge: bool) -> Result<(), CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "down deletes objects; pass --yes to confirm when stdin is not a terminal".into(),
        ));
    }
    let names: Vec<String> = units.iter().map(UnitId::title).collect();
    if units
        .iter()
        .any(|u| matches!(u, UnitId::Component(_) | UnitId::Crds(_)))
    {
        eprintln!(
            "{}",
            if purge {
                "--purge: the components' CRDs go, and with them every object of their kinds (certificates, rules, \
                 dashboards' monitors) in every namespace; the components' namespaces go with the volume claims \
                 in them (Prometheus, Loki and Alertmanager data)"
            } else {
                "the components' releases are uninstalled; their CRDs, namespaces and volumes are kept \
                 (`--purge` deletes them)"
            }
        );
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
