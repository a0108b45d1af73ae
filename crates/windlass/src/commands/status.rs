//! `windlass status`: per app of the environment, its revision and last deploy,
//! images, desired/ready replicas, rollout state and URLs, from the cluster
//! crate's snapshot, as a table or JSON.

use windlass_cluster::{AppStatus, ComponentStatus};
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
    let with_urls: Vec<_> = platform
        .components
        .iter()
        .map(|c| (c.clone(), windlass_core::components::urls(&platform, c)))
        .collect();
    let (components, apps) = runtime()?.block_on(async {
        let session = session(&args.cluster, &platform, &plan, false, no_events()).await?;
        let components = session.component_status(&with_urls).await?;
        Ok::<_, CliError>((components, session.status(&units).await?))
    })?;
    match args.output {
        OutputFormat::Json => print(&format!(
            "{}\n",
            serde_json::json!({"environment": platform.environment, "components": components, "apps": apps})
        ))?,
        OutputFormat::Text => print(&(components_text(&components) + &text(&platform.environment, &apps)))?,
    }
    Ok(ExitStatus::Success)
}

fn components_text(components: &[ComponentStatus]) -> String {
    if components.is_empty() {
        return String::new();
    }
    let rows: Vec<[String; 5]> = components
        .iter()
        .map(|c| {
            let release = match (&c.release_status, c.release_revision) {
                (Some(st), Some(r)) => format!("{st} (rev {r})"),
                _ => "not installed".into(),
            };
            [
                c.component.clone(),
                format!("{} {}", c.chart, c.version),
                release,
                format!("{}/{}", c.workloads_ready, c.workloads),
                c.urls.join(" "),
            ]
        })
        .collect();
    let header = ["COMPONENT", "CHART", "RELEASE", "READY", "URLS"].map(String::from);
    // Each column as wide as its widest cell; the last one is not padded.
    let mut widths = [0; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut s = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        line.push_str(&row[4]);
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s.push('\n');
    s
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
        for c in a.certificates.iter().filter(|c| c.state != "ready") {
            s.push_str(&format!("{:<92}certificate {}: {}\n", "", c.name, c.state));
        }
    }
    s
}
