//! What the cluster commands share: the spec's units as the apply engine takes
//! them, the connection, and progress output (live lines on a terminal, plain
//! lines otherwise, one JSON event per line with `--output json`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use windlass_cluster::apply::Applier;
use windlass_cluster::client::{ClusterTarget, connect};
use windlass_cluster::engine::{ApplyUnit, Event, EventSink};
use windlass_cluster::history::HistoryStore;
use windlass_cluster::lease::{self, HeldLease};
use windlass_core::model::Platform;
use windlass_core::plan::{Plan, Selector};
use windlass_core::render::UnitKind;

use super::render_checked;
use crate::cli::{ClusterArgs, OutputFormat, SpecArgs};
use crate::error::CliError;
use crate::output::print;

pub const PLATFORM_UNIT: &str = "platform";

pub fn unit_id(kind: &UnitKind) -> String {
    match kind {
        UnitKind::Platform => PLATFORM_UNIT.to_string(),
        UnitKind::Namespace(ns) => format!("namespace.{ns}"),
        UnitKind::App { namespace, name } => app_unit(namespace, name),
    }
}

pub fn app_unit(namespace: &str, name: &str) -> String {
    format!("app.{namespace}.{name}")
}

fn title(kind: &UnitKind) -> String {
    match kind {
        UnitKind::Platform => "platform".to_string(),
        UnitKind::Namespace(ns) => format!("namespace {ns}"),
        UnitKind::App { name, .. } => format!("app {name}"),
    }
}

/// The spec's environment, planned and rendered as apply units.
pub struct Target {
    pub platform: Platform,
    /// Selected units in apply order.
    pub units: Vec<ApplyUnit>,
    /// Every unit id of the whole spec, whatever `--only` selected.
    pub spec_units: BTreeSet<String>,
}

pub fn target(spec: &SpecArgs, only: &[Selector]) -> Result<Target, CliError> {
    let (platform, rendered) = render_checked(spec, only)?;
    let all = Plan::new(&platform, &[])?;
    let mut spec_units: BTreeSet<String> = [PLATFORM_UNIT.to_string()].into();
    for name in &all.apps {
        if let Some(app) = platform.app(name) {
            spec_units.insert(format!("namespace.{}", app.namespace));
            spec_units.insert(app_unit(&app.namespace, &app.name));
        }
    }
    let units = rendered
        .units
        .iter()
        .map(|u| {
            let needs = match &u.kind {
                UnitKind::Platform => Vec::new(),
                UnitKind::Namespace(_) => vec![PLATFORM_UNIT.to_string()],
                UnitKind::App { namespace, name } => {
                    let mut needs = vec![format!("namespace.{namespace}")];
                    for need in platform.app(name).map(|a| a.needs.as_slice()).unwrap_or_default() {
                        if let Some(n) = platform.app(need) {
                            needs.push(app_unit(&n.namespace, &n.name));
                        }
                    }
                    needs
                }
            };
            ApplyUnit {
                id: unit_id(&u.kind),
                title: title(&u.kind),
                objects: u.objects.iter().map(|o| o.0.clone()).collect(),
                needs,
            }
        })
        .collect();
    Ok(Target {
        platform,
        units,
        spec_units,
    })
}

pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))
}

pub struct Session {
    pub applier: Arc<Applier>,
    pub store: HistoryStore,
}

pub async fn session(cluster: &ClusterArgs, platform: &Platform, force_conflicts: bool) -> Result<Session, CliError> {
    let client = connect(&ClusterTarget {
        kubeconfig: cluster.kubeconfig.clone(),
        context: cluster.context.clone(),
    })
    .await?;
    Ok(Session {
        store: HistoryStore::new(client.clone(), &platform.name, &platform.environment),
        applier: Arc::new(Applier::new(client, force_conflicts)),
    })
}

/// Takes the platform's Lease, saying who holds it while waiting.
pub async fn lock(session: &Session, platform: &Platform, wait: u64, events: &Progress) -> Result<HeldLease, CliError> {
    session.store.ensure_namespace().await?;
    let line = events.clone();
    Ok(lease::acquire(
        session.applier.client().clone(),
        &platform.name,
        Duration::from_secs(wait),
        move |holder| line.note(&format!("waiting for the Lease held by {holder}")),
    )
    .await?)
}

/// Progress output of a cluster command.
#[derive(Clone)]
pub struct Progress {
    inner: Arc<ProgressInner>,
}

enum ProgressInner {
    Json,
    Plain,
    Live {
        bars: MultiProgress,
        units: Mutex<HashMap<String, ProgressBar>>,
    },
}

impl Progress {
    pub fn new(format: OutputFormat) -> Progress {
        let inner = match format {
            OutputFormat::Json => ProgressInner::Json,
            OutputFormat::Text if std::io::stderr().is_terminal() && std::io::stdout().is_terminal() => {
                ProgressInner::Live {
                    bars: MultiProgress::new(),
                    units: Mutex::new(HashMap::new()),
                }
            }
            OutputFormat::Text => ProgressInner::Plain,
        };
        Progress { inner: Arc::new(inner) }
    }

    pub fn sink(&self) -> EventSink {
        let me = self.clone();
        Arc::new(move |e| me.event(&e))
    }

    /// A line that belongs to no unit.
    pub fn note(&self, text: &str) {
        match &*self.inner {
            ProgressInner::Json => line(&serde_json::json!({"event": "note", "message": text}).to_string()),
            ProgressInner::Plain => line(text),
            ProgressInner::Live { bars, .. } => {
                let _ = bars.println(text);
            }
        }
    }

    fn event(&self, e: &Event) {
        match &*self.inner {
            ProgressInner::Json => line(&serde_json::to_string(e).unwrap_or_default()),
            ProgressInner::Plain => {
                for l in text_lines(e) {
                    line(&l);
                }
            }
            ProgressInner::Live { bars, units } => {
                let (unit, message, finished) = live_message(e);
                let mut units = units.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let bar = units.entry(unit.clone()).or_insert_with(|| {
                    let bar = bars.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<24} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(unit.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                if finished {
                    bar.finish_with_message(message);
                } else {
                    bar.set_message(message);
                }
                if let Event::Failed { details, .. } = e {
                    for d in details {
                        let _ = bars.println(format!("    {d}"));
                    }
                }
            }
        }
    }
}

fn line(text: &str) {
    // A closed stdout ends the process in `print`; other errors cannot be reported better here.
    let _ = print(&format!("{text}\n"));
}

fn text_lines(e: &Event) -> Vec<String> {
    let row = |mark: &str, unit: &str, what: String| format!("{mark} {unit:<24} {what}");
    match e {
        Event::Applying {
            unit,
            objects,
            revision,
        } => {
            vec![row(
                " ",
                unit,
                format!("applying {objects} objects (revision {revision})"),
            )]
        }
        Event::Waiting { unit, message } => vec![row(" ", unit, format!("waiting: {message}"))],
        Event::Ready {
            unit,
            revision,
            changed,
            seconds,
        } => vec![row(
            "✓",
            unit,
            if *changed {
                format!("ready, revision {revision} ({seconds:.1}s)")
            } else {
                format!("unchanged, revision {revision} ({seconds:.1}s)")
            },
        )],
        Event::Pruned { unit, object } => vec![row(" ", unit, format!("pruned {object}"))],
        Event::Deleted { unit, object } => vec![row(" ", unit, format!("deleted {object}"))],
        Event::Kept { unit, object, reason } => vec![row(" ", unit, format!("kept {object}: {reason}"))],
        Event::RolledBack {
            unit,
            failed_revision,
            to_revision,
        } => vec![row(
            "↺",
            unit,
            format!("rolled back: revision {failed_revision} failed, back to revision {to_revision}"),
        )],
        Event::Failed { unit, reason, details } => {
            let mut v = vec![row("✗", unit, format!("failed: {reason}"))];
            v.extend(details.iter().map(|d| format!("    {d}")));
            v
        }
        Event::Skipped { unit, reason } => vec![row("-", unit, format!("skipped: {reason}"))],
    }
}

fn live_message(e: &Event) -> (String, String, bool) {
    let text = text_lines(e).into_iter().next().unwrap_or_default();
    let (unit, finished) = match e {
        Event::Applying { unit, .. }
        | Event::Waiting { unit, .. }
        | Event::Pruned { unit, .. }
        | Event::Deleted { unit, .. }
        | Event::Kept { unit, .. } => (unit, false),
        Event::Ready { unit, .. }
        | Event::RolledBack { unit, .. }
        | Event::Failed { unit, .. }
        | Event::Skipped { unit, .. } => (unit, true),
    };
    // The row already starts with the mark and the unit; the bar shows those itself.
    let message = text.get(2 + 24 + 1..).unwrap_or(&text).trim().to_string();
    let mark = text.chars().next().unwrap_or(' ');
    let message = if mark == ' ' {
        message
    } else {
        format!("{mark} {message}")
    };
    (unit.clone(), message, finished)
}

/// Apps of the spec chosen by `--only` (no widening to needs), as unit ids.
pub fn selected_app_units(platform: &Platform, only: &[Selector]) -> BTreeMap<String, String> {
    platform
        .apps
        .iter()
        .filter(|a| {
            only.iter().any(|s| match s {
                Selector::App(n) => a.name == *n,
                Selector::Label(k, v) => a.labels.get(k) == Some(v),
            })
        })
        .map(|a| (a.name.clone(), app_unit(&a.namespace, &a.name)))
        .collect()
}
