//! `windlass up`: the environment applied to the cluster, unit by unit in
//! dependency order, each waited for and rolled back on failure.

use std::process::ExitCode;
use std::time::Duration;

use windlass_cluster::engine::{self, UpOptions};

use super::units::{Progress, lock, runtime, session, target};
use crate::cli::UpArgs;
use crate::error::CliError;

pub fn run(args: &UpArgs) -> Result<ExitCode, CliError> {
    let target = target(&args.spec, &args.selection.only)?;
    let progress = Progress::new(args.output);
    runtime()?.block_on(async {
        let session = session(&args.cluster, &target.platform, args.force_conflicts).await?;
        let held = lock(&session, &target.platform, args.lock_timeout, &progress).await?;
        let options = UpOptions {
            concurrency: args.concurrency,
            timeout: Duration::from_secs(args.timeout),
            spec_units: target.spec_units.clone(),
        };
        let results = engine::up(
            session.applier.clone(),
            session.store.clone(),
            target.units,
            &options,
            progress.sink(),
        )
        .await;
        held.release().await;
        let results = results?;
        let failed: Vec<&str> = results.iter().filter(|r| !r.ok).map(|r| r.title.as_str()).collect();
        let changed = results.iter().filter(|r| r.changed).count();
        if !failed.is_empty() {
            return Err(CliError::Failed(format!(
                "up failed for {}: see the reasons above",
                failed.join(", ")
            )));
        }
        progress.note(&format!(
            "environment `{}` is up: {} units, {changed} changed",
            target.platform.environment,
            results.len()
        ));
        Ok(ExitCode::SUCCESS)
    })
}
