//! `windlass rollback APP [--to REVISION]`: an app put back to an earlier
//! revision from its history in the cluster, recorded as a new revision.

use std::process::ExitCode;
use std::time::Duration;

use windlass_cluster::engine;

use super::load_platform;
use super::units::{Progress, app_unit, lock, runtime, session};
use crate::cli::RollbackArgs;
use crate::error::CliError;

pub fn run(args: &RollbackArgs) -> Result<ExitCode, CliError> {
    let platform = load_platform(&args.spec)?;
    let Some(app) = platform.app(&args.app) else {
        let known: Vec<&str> = platform.apps.iter().map(|a| a.name.as_str()).collect();
        return Err(CliError::Usage(format!(
            "no app `{}` in the spec; apps: {}",
            args.app,
            known.join(", ")
        )));
    };
    let unit = app_unit(&app.namespace, &app.name);
    let progress = Progress::new(args.output);
    runtime()?.block_on(async {
        let session = session(&args.cluster, &platform, false).await?;
        let held = lock(&session, &platform, args.lock_timeout, &progress).await?;
        let done = engine::rollback(
            session.applier.clone(),
            session.store.clone(),
            &unit,
            args.to,
            Duration::from_secs(args.timeout),
            progress.sink(),
        )
        .await;
        held.release().await;
        let (revision, to) = done?;
        progress.note(&format!(
            "app {} rolled back to revision {to} (now revision {revision})",
            app.name
        ));
        Ok(ExitCode::SUCCESS)
    })
}
