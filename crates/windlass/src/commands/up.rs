//! `windlass up`: the environment applied to the cluster, unit by unit in the
//! plan's dependency order, each waited for and rolled back on failure.

use std::time::Duration;

use windlass_cluster::UpOptions;

use super::ExitStatus;
use super::cluster::{Target, runtime, session, target};
use crate::cli::UpArgs;
use crate::error::CliError;
use crate::progress::Progress;

pub fn run(args: &UpArgs) -> Result<ExitStatus, CliError> {
    let Target { platform, plan, units } = target(&args.spec, &args.selection.only)?;
    let progress = Progress::new(args.output);
    let options = UpOptions {
        concurrency: args.concurrency,
        timeout: Duration::from_secs(args.timeout),
        spec_units: plan.spec_units(),
    };
    let count = units.len();
    let results = runtime()?.block_on(async {
        let session = session(&args.cluster, &platform, &plan, args.force_conflicts, progress.sink()).await?;
        let lock_wait = Duration::from_secs(args.lock_timeout);
        Ok::<_, CliError>(session.up(units, &options, lock_wait).await?)
    })?;
    let failed: Vec<String> = results.iter().filter(|r| !r.ok).map(|r| r.unit.title()).collect();
    if !failed.is_empty() {
        return Err(CliError::Failed(format!(
            "up failed for {}: see the reasons above",
            failed.join(", ")
        )));
    }
    let changed = results.iter().filter(|r| r.changed).count();
    progress.note(&format!(
        "environment `{}` is up: {count} units, {changed} changed",
        platform.environment
    ));
    Ok(ExitStatus::Success)
}
