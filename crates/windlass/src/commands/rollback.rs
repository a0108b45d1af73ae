//! `windlass rollback APP [--to REVISION]`: an app put back to an earlier
//! revision from its history in the cluster, recorded as a new revision.

use std::time::Duration;

use windlass_core::plan::Plan;

use super::cluster::{runtime, session};
use super::{ExitStatus, load_platform};
use crate::cli::RollbackArgs;
use crate::error::CliError;
use crate::progress::Progress;

pub fn run(args: &RollbackArgs) -> Result<ExitStatus, CliError> {
    let platform = load_platform(&args.spec)?;
    let unit = Plan::app_unit(&platform, &args.app)?;
    let plan = Plan::new(&platform, &[])?;
    let progress = Progress::new(args.output);
    let (revision, to) = runtime()?.block_on(async {
        let session = session(&args.cluster, &platform, &plan, false, progress.sink()).await?;
        let timeout = Duration::from_secs(args.timeout);
        let lock_wait = Duration::from_secs(args.lock_timeout);
        Ok::<_, CliError>(session.rollback(&unit, args.to, timeout, lock_wait).await?)
    })?;
    progress.note(&format!(
        "{} rolled back to revision {to} (now revision {revision})",
        unit.title()
    ));
    Ok(ExitStatus::Success)
}
