//! `windlass doctor`: reads the live cluster through the cluster crate's
//! paginated, reducing source, runs the rule engine at the current time, and
//! prints the findings as `check` does (plus an HTML page).

use windlass_cluster::ClusterTarget;
use windlass_cluster::doctor::collect;
use windlass_core::check::report::{Entry, Place, Report};
use windlass_core::check::{Source, run as run_rules};

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
    let collected = runtime()?.block_on(async {
        let client = windlass_cluster::client::connect(&target).await?;
        Ok::<_, CliError>(collect(&client, args.namespace.as_deref()).await?)
    })?;
    // The only clock doctor reads: durations are measured from the objects' timestamps to now.
    let now = jiff::Timestamp::now();
    let refs: Vec<&windlass_core::render::Object> = collected.objects.iter().collect();
    let findings = run_rules(&refs, Source::Live { now }, &config);
    let report = Report {
        objects: collected.objects.iter().map(|o| (o.id(), Place::live())).collect(),
        entries: findings
            .into_iter()
            .map(|f| Entry {
                finding: f,
                place: Place::live(),
            })
            .collect(),
    };
    if !collected.skipped.is_empty() {
        #[allow(clippy::print_stderr)]
        {
            let kinds: Vec<String> = collected
                .skipped
                .iter()
                .map(|(k, why)| format!("{k} ({why})"))
                .collect();
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
