//! `windlass doctor`: reads the live cluster through the cluster crate's
//! paginated, reducing source, runs the rule engine at the current time, and
//! prints the findings as `check` does (plus an HTML page).

use windlass_cluster::ClusterTarget;
use windlass_cluster::doctor::collect;
use windlass_core::check::report::{Entry, Place, Report};
use windlass_core::check::{Paged, Source};

use super::ExitStatus;
use super::check::{emit, exit_for, read_config};
use super::cluster::runtime;
use crate::cli::DoctorArgs;
use crate::error::CliError;

pub fn run(args: &DoctorArgs) -> Result<ExitStatus, CliError> {
    let config = read_config(args.report.config.as_deref())?;
    let target = ClusterTarget {
        kubeconfig: args.cluster.kubeconfig.clone(),
        context: args.cluster.context.clone(),
    };
    let mut now = None;
    let collected = runtime()?.block_on(async {
        let client = windlass_cluster::client::connect(&target).await?;
        let start = |context| {
            // The only clock doctor reads, once every kind but pods is read: durations are
            // measured from the objects' timestamps to now.
            let at = jiff::Timestamp::now();
            now = Some(at);
            Paged::new(context, Source::Live { now: at }, &config)
        };
        Ok::<_, CliError>(collect(&client, args.namespace.as_deref(), start).await?)
    })?;
    let now = now.unwrap_or_else(jiff::Timestamp::now);
    let (skipped, (objects, findings)) = (collected.skipped, collected.paged.finish());
    let report = Report {
        objects: objects.iter().map(|o| (o.id(), Place::live())).collect(),
        entries: findings
            .into_iter()
            .map(|f| Entry {
                finding: f,
                place: Place::live(),
            })
            .collect(),
    };
    if !skipped.is_empty() {
        #[allow(clippy::print_stderr)]
        {
            let kinds: Vec<String> = skipped.iter().map(|(k, why)| format!("{k} ({why})")).collect();
            eprintln!("note: not read: {}", kinds.join(", "));
        }
    }
    let scope = match &args.namespace {
        Some(ns) => format!("namespace {ns}"),
        None => "every namespace".to_string(),
    };
    emit(&report, args.report.output, &format!("{scope}, read at {now}"))?;
    Ok(exit_for(&report, args.report.fail_on, &config))
}
