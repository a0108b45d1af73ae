//! `windlass status`: per app of the environment, its revision and last deploy,
//! images, desired/ready replicas, rollout state and URLs, from the cluster
//! crate's snapshot, as a table or JSON.

use windlass_cluster::AppStatus;
use windlass_core::plan::Plan;
use windlass_core::unit::UnitId;

use super::cluster::{no_events, runtime, session};
use super::{ExitStatus, load_platform};
use crate::cli::{OutputFormat, StatusArgs};
use crate::error::CliError;
use crate::output::print;

pub fn run(args: &StatusArgs) -> Result<ExitStatus, CliError> {
    let platform = load_platform(&args.spec)?;
    let plan = Plan::new(&platform, &args.selection.only)?;
    let units: Vec<UnitId> = plan.app_units().cloned().collect();
    let apps = runtime()?.block_on(async {
        let session = session(&args.cluster, &platform, &plan, false, no_events()).await?;
        Ok::<_, CliError>(session.status(&units).await?)
    })?;
    match args.output {
        OutputFormat::Json => print(&format!(
            "{}\n",
            serde_json::json!({"environment": platform.environment, "apps": apps})
        ))?,
        OutputFormat::Text => print(&text(&platform.environment, &apps))?,
    }
    Ok(ExitStatus::Success)
}

fn text(environment: &str, apps: &[AppStatus]) -> String {
    let mut s = format!("environment `{environment}`\n");
    s.push_str(&format!(
        "{:<14} {:<4} {:<9} {:<28} {:<22} {}\n",
        "APP", "REV", "READY", "ROLLOUT", "LAST DEPLOY", "IMAGES / URLS"
    ));
    for a in apps {
        let ready = match (a.ready, a.desired) {
            (Some(r), Some(d)) => format!("{r}/{d}"),
            (Some(r), None) => format!("{r}"),
            _ => "-".into(),
        };
        let last = match (&a.last_deploy, &a.last_result) {
            (Some(t), Some(r)) => format!("{t} {}", r.split(':').next().unwrap_or(r)),
            _ => "never".into(),
        };
        s.push_str(&format!(
            "{:<14} {:<4} {:<9} {:<28} {:<22} {}\n",
            a.app,
            a.revision.map_or("-".into(), |r| r.to_string()),
            ready,
            a.rollout,
            last,
            a.images.join(", ")
        ));
        for u in &a.urls {
            s.push_str(&format!("{:<92}{u}\n", ""));
        }
    }
    s
}
