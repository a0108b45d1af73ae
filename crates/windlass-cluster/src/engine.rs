//! The apply engine: units (the platform, each namespace, each app) applied in
//! dependency order, independent units in parallel with bounded concurrency, each
//! waited for through its readiness gates within a timeout. Atomic per unit: a
//! failed rollout is put back to the last good revision. Pruning and `down` touch
//! only objects the unit's ApplySet owns.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event as KubeEvent, Pod};
use kube::Api;
use kube::api::ListParams;
use serde::Serialize;
use serde_json::Value;

use crate::ClusterError;
use crate::apply::Applier;
use crate::gates::{self, Rollout};
use crate::history::{self, History, HistoryStore, Outcome, Revision};
use crate::inventory::{self, ObjectRef};
use crate::retry::with_retry;

/// One unit to apply, as the CLI planned it.
#[derive(Debug, Clone)]
pub struct ApplyUnit {
    /// Stable id: `platform`, `namespace.<ns>`, `app.<ns>.<name>`.
    pub id: String,
    /// For people: `platform`, `namespace shop`, `app backend`.
    pub title: String,
    /// In apply order.
    pub objects: Vec<Value>,
    /// Unit ids that must be ready first.
    pub needs: Vec<String>,
}

/// Something that happened, for progress lines and `--output json`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Applying {
        unit: String,
        objects: usize,
        revision: u32,
    },
    Waiting {
        unit: String,
        message: String,
    },
    Ready {
        unit: String,
        revision: u32,
        changed: bool,
        seconds: f64,
    },
    Pruned {
        unit: String,
        object: String,
    },
    Kept {
        unit: String,
        object: String,
        reason: String,
    },
    Deleted {
        unit: String,
        object: String,
    },
    RolledBack {
        unit: String,
        failed_revision: u32,
        to_revision: u32,
    },
    Failed {
        unit: String,
        reason: String,
        details: Vec<String>,
    },
    Skipped {
        unit: String,
        reason: String,
    },
}

pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;

#[derive(Debug, Clone, Serialize)]
pub struct UnitResult {
    pub unit: String,
    pub title: String,
    pub ok: bool,
    pub changed: bool,
    pub revision: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub concurrency: usize,
    /// Per unit, for its rollout.
    pub timeout: Duration,
    /// Every unit id the whole spec has (whatever `--only` selected): histories of
    /// other units belong to units removed from the spec, and are pruned.
    pub spec_units: BTreeSet<String>,
}

struct Ctx {
    applier: Arc<Applier>,
    store: HistoryStore,
    events: EventSink,
}

/// Applies `units` in order and prunes units gone from the spec. Returns one
/// result per unit (failed and skipped ones included).
pub async fn up(
    applier: Arc<Applier>,
    store: HistoryStore,
    units: Vec<ApplyUnit>,
    options: &UpOptions,
    events: EventSink,
) -> Result<Vec<UnitResult>, ClusterError> {
    store.ensure_namespace().await?;
    let ctx = Arc::new(Ctx { applier, store, events });
    let titles: BTreeMap<String, String> = units.iter().map(|u| (u.id.clone(), u.title.clone())).collect();
    let mut pending: Vec<ApplyUnit> = units;
    let mut done: BTreeMap<String, bool> = BTreeMap::new();
    let mut results = Vec::new();
    let mut running = tokio::task::JoinSet::new();
    let in_plan: BTreeSet<String> = titles.keys().cloned().collect();
    loop {
        // Skip units whose needs failed; start those whose needs are all done.
        let mut i = 0;
        while i < pending.len() {
            let needs: Vec<String> = pending[i]
                .needs
                .iter()
                .filter(|n| in_plan.contains(*n))
                .cloned()
                .collect();
            if let Some(failed) = needs.iter().find(|n| done.get(*n) == Some(&false)) {
                let unit = pending.remove(i);
                let reason = format!("{} failed", titles.get(failed).map_or(failed.as_str(), String::as_str));
                (ctx.events)(Event::Skipped {
                    unit: unit.title.clone(),
                    reason,
                });
                done.insert(unit.id.clone(), false);
                results.push(UnitResult {
                    unit: unit.id,
                    title: unit.title,
                    ok: false,
                    changed: false,
                    revision: None,
                });
                i = 0;
                continue;
            }
            if running.len() < options.concurrency.max(1) && needs.iter().all(|n| done.get(n) == Some(&true)) {
                let unit = pending.remove(i);
                let ctx = ctx.clone();
                let timeout = options.timeout;
                running.spawn(async move { deploy(&ctx, unit, timeout).await });
                continue;
            }
            i += 1;
        }
        match running.join_next().await {
            Some(Ok(result)) => {
                done.insert(result.unit.clone(), result.ok);
                results.push(result);
            }
            Some(Err(join)) => return Err(ClusterError::History(format!("a unit task failed: {join}"))),
            None if pending.is_empty() => break,
            None => {
                // Needs that are not in the plan and never finish cannot happen (filtered above).
                return Err(ClusterError::History("units left with unmet needs".into()));
            }
        }
    }
    if results.iter().all(|r| r.ok) {
        prune_removed_units(&ctx, &options.spec_units).await?;
    }
    Ok(results)
}

async fn deploy(ctx: &Ctx, unit: ApplyUnit, timeout: Duration) -> UnitResult {
    let started = Instant::now();
    let mut result = UnitResult {
        unit: unit.id.clone(),
        title: unit.title.clone(),
        ok: false,
        changed: false,
        revision: None,
    };
    let fail = |reason: String, details: Vec<String>| {
        (ctx.events)(Event::Failed {
            unit: unit.title.clone(),
            reason,
            details,
        })
    };
    let mut history = match ctx.store.load(&unit.id).await {
        Ok(h) => h,
        Err(e) => {
            fail(e.to_string(), Vec::new());
            return result;
        }
    };
    let id = history.applyset_id();
    let mut objects = unit.objects.clone();
    for o in &mut objects {
        inventory::mark(o, &id);
    }
    let digest = history::digest(&objects);
    let unchanged = history
        .latest()
        .is_some_and(|r| r.result == Outcome::Deployed && r.digest == digest);
    let good = history.last_deployed().cloned();
    let number = if unchanged {
        history.latest().map_or(1, |r| r.revision)
    } else {
        history.next_number()
    };
    if !unchanged {
        // Recorded before anything is applied: an interrupted run still owns what it applied.
        history.push(Revision {
            revision: number,
            digest: digest.clone(),
            at: history::now(),
            result: Outcome::Pending,
            message: String::new(),
            objects: objects.clone(),
        });
        if let Err(e) = ctx.store.save(&history).await {
            fail(e.to_string(), Vec::new());
            return result;
        }
    }
    (ctx.events)(Event::Applying {
        unit: unit.title.clone(),
        objects: objects.len(),
        revision: number,
    });
    // An unchanged unit whose live objects still hold every field windlass sets
    // needs no patch: reads are far cheaper for the apiserver than applies. Any
    // drift (a missing object, a field changed by someone else) applies as usual.
    let applied = if unchanged && in_sync(ctx, &objects).await {
        Ok(())
    } else {
        apply_all(ctx, &objects).await
    };
    let outcome = match applied {
        Ok(()) => wait_ready(ctx, &unit.title, &objects, timeout).await,
        Err(e) => Err(Failure {
            reason: e.to_string(),
            details: Vec::new(),
        }),
    };
    match outcome {
        Ok(()) => {
            if !unchanged {
                let stale: Vec<ObjectRef> = stale_refs(&history, &objects);
                if let Err(e) = remove_owned(ctx, &unit.title, &stale, &id, true, timeout).await {
                    fail(format!("pruning: {e}"), Vec::new());
                    return result;
                }
                set_result(&mut history, number, Outcome::Deployed, String::new());
                if let Err(e) = ctx.store.save(&history).await {
                    fail(e.to_string(), Vec::new());
                    return result;
                }
            }
            (ctx.events)(Event::Ready {
                unit: unit.title.clone(),
                revision: number,
                changed: !unchanged,
                seconds: started.elapsed().as_secs_f64(),
            });
            result.ok = true;
            result.changed = !unchanged;
            result.revision = Some(number);
        }
        Err(failure) => {
            result.revision = Some(number);
            let mut details = failure.details;
            if !unchanged {
                set_result(&mut history, number, Outcome::Failed, failure.reason.clone());
                match good.filter(|g| g.digest != digest) {
                    Some(good) => match restore(ctx, &unit.title, &good, &objects, &id, timeout).await {
                        Ok(()) => (ctx.events)(Event::RolledBack {
                            unit: unit.title.clone(),
                            failed_revision: number,
                            to_revision: good.revision,
                        }),
                        Err(e) => details.push(format!("rolling back to revision {} failed too: {e}", good.revision)),
                    },
                    None => details.push("no earlier good revision to roll back to".into()),
                }
                if let Err(e) = ctx.store.save(&history).await {
                    details.push(format!("recording the failed revision: {e}"));
                }
            }
            fail(failure.reason, details);
        }
    }
    result
}

fn set_result(history: &mut History, number: u32, outcome: Outcome, message: String) {
    if let Some(r) = history.revisions.iter_mut().find(|r| r.revision == number) {
        r.result = outcome;
        r.message = message;
    }
}

/// Objects earlier revisions applied that `objects` no longer has, newest first.
fn stale_refs(history: &History, objects: &[Value]) -> Vec<ObjectRef> {
    let keep: BTreeSet<ObjectRef> = objects.iter().map(ObjectRef::of).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in history.revisions.iter().rev() {
        for o in r.refs().collect::<Vec<_>>().into_iter().rev() {
            if !keep.contains(&o) && seen.insert(o.clone()) {
                out.push(o);
            }
        }
    }
    out
}

/// Puts a unit back to `good`: re-apply its objects, drop what the failed revision added, wait.
async fn restore(
    ctx: &Ctx,
    title: &str,
    good: &Revision,
    failed: &[Value],
    id: &str,
    timeout: Duration,
) -> Result<(), ClusterError> {
    apply_all(ctx, &good.objects).await?;
    let keep: BTreeSet<ObjectRef> = good.refs().collect();
    let added: Vec<ObjectRef> = failed
        .iter()
        .map(ObjectRef::of)
        .filter(|r| !keep.contains(r))
        .rev()
        .collect();
    remove_owned(ctx, title, &added, id, true, timeout).await?;
    wait_ready(ctx, title, &good.objects, timeout)
        .await
        .map_err(|f| ClusterError::Timeout {
            what: format!("revision {} to become ready again ({})", good.revision, f.reason),
            seconds: timeout.as_secs(),
        })
}

/// Whether every object exists and holds every field windlass sets with the
/// value windlass sets. Unreadable means "no": the caller then applies.
async fn in_sync(ctx: &Ctx, objects: &[Value]) -> bool {
    for o in objects {
        let Ok(Some(live)) = ctx.applier.get(&ObjectRef::of(o)).await else {
            return false;
        };
        let Ok(live) = serde_json::to_value(&live) else {
            return false;
        };
        if !holds(&live, o) {
            return false;
        }
    }
    true
}

/// `live` holds `wanted`: every key of `wanted` is in `live` with a value that
/// holds the wanted one; lists must match item by item (same length).
fn holds(live: &Value, wanted: &Value) -> bool {
    match (live, wanted) {
        (Value::Object(l), Value::Object(w)) => w.iter().all(|(k, wv)| l.get(k).is_some_and(|lv| holds(lv, wv))),
        (Value::Array(l), Value::Array(w)) => l.len() == w.len() && l.iter().zip(w).all(|(lv, wv)| holds(lv, wv)),
        _ => live == wanted,
    }
}

async fn apply_all(ctx: &Ctx, objects: &[Value]) -> Result<(), ClusterError> {
    for o in objects {
        ctx.applier.apply(o, false).await?;
    }
    Ok(())
}

struct Failure {
    reason: String,
    details: Vec<String>,
}

/// Waits until every workload among `objects` passes its readiness gate.
async fn wait_ready(ctx: &Ctx, title: &str, objects: &[Value], timeout: Duration) -> Result<(), Failure> {
    let workloads: Vec<ObjectRef> = objects
        .iter()
        .map(ObjectRef::of)
        .filter(|r| matches!(r.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "Job"))
        .collect();
    let start = Instant::now();
    let mut last_message = String::new();
    loop {
        let mut progress = Vec::new();
        for w in &workloads {
            match gate(ctx, w).await {
                Ok(Rollout::Ready) => {}
                Ok(Rollout::Progressing(m)) => progress.push(format!("{} {}: {m}", w.kind, w.name)),
                Ok(Rollout::Failed(m)) => {
                    return Err(Failure {
                        reason: format!("{} {}: {m}", w.kind, w.name),
                        details: diagnose(ctx, objects).await,
                    });
                }
                Err(e) => progress.push(format!("{} {}: {e}", w.kind, w.name)),
            }
        }
        if progress.is_empty() {
            return Ok(());
        }
        let message = progress.join("; ");
        if start.elapsed() > timeout {
            return Err(Failure {
                reason: format!("rollout did not complete within {}s: {message}", timeout.as_secs()),
                details: diagnose(ctx, objects).await,
            });
        }
        if message != last_message {
            (ctx.events)(Event::Waiting {
                unit: title.to_string(),
                message: message.clone(),
            });
            last_message = message;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn gate(ctx: &Ctx, w: &ObjectRef) -> Result<Rollout, ClusterError> {
    let client = ctx.applier.client().clone();
    let what = w.to_string();
    macro_rules! typed {
        ($t:ty, $f:path) => {{
            let api: Api<$t> = Api::namespaced(client, &w.namespace);
            match with_retry(|| api.get_opt(&w.name))
                .await
                .map_err(|e| ClusterError::api(&what, e))?
            {
                Some(o) => $f(&o),
                None => Rollout::Progressing("not found".into()),
            }
        }};
    }
    Ok(match w.kind.as_str() {
        "Deployment" => typed!(Deployment, gates::deployment),
        "StatefulSet" => typed!(StatefulSet, gates::stateful_set),
        "DaemonSet" => typed!(DaemonSet, gates::daemon_set),
        "Job" => typed!(Job, gates::job),
        _ => Rollout::Ready,
    })
}

/// Why a unit's workloads are not ready: each unready pod's containers (waiting
/// and terminated reasons, last state, restarts) and the recent Events.
async fn diagnose(ctx: &Ctx, objects: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let r = ObjectRef::of(o);
        if !matches!(r.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "Job") {
            continue;
        }
        let Some(labels) = o.pointer("/spec/selector/matchLabels").and_then(Value::as_object) else {
            continue;
        };
        let selector: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        let pods: Api<Pod> = Api::namespaced(ctx.applier.client().clone(), &r.namespace);
        let params = ListParams::default().labels(&selector.join(","));
        let Ok(list) = with_retry(|| pods.list(&params)).await else {
            continue;
        };
        let mut names = vec![r.name.clone()];
        for pod in list.items.iter().filter(|p| !pod_ready(p)).take(5) {
            let name = pod.metadata.name.clone().unwrap_or_default();
            out.extend(describe_pod(pod));
            names.push(name);
        }
        out.extend(recent_events(ctx, &r.namespace, &names).await);
    }
    out
}

fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub fn describe_pod(pod: &Pod) -> Vec<String> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let ready = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .map(|c| {
            let why = c.reason.clone().or(c.message.clone()).unwrap_or_default();
            format!(
                "Ready={}{}",
                c.status,
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                }
            )
        })
        .unwrap_or_else(|| "no Ready condition".into());
    let mut out = vec![format!(
        "pod {name}: {} {ready}",
        status.phase.as_deref().unwrap_or("Unknown")
    )];
    for c in status.container_statuses.iter().flatten() {
        let state = c.state.as_ref();
        let now = if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
            format!("waiting: {}", w.reason.as_deref().unwrap_or("unknown"))
        } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            format!(
                "terminated: {} (exit {})",
                t.reason.as_deref().unwrap_or("unknown"),
                t.exit_code
            )
        } else if state.and_then(|s| s.running.as_ref()).is_some() {
            "running".to_string()
        } else {
            "unknown state".to_string()
        };
        let last = c
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| {
                format!(
                    "; last state: terminated {} (exit {})",
                    t.reason.as_deref().unwrap_or("unknown"),
                    t.exit_code
                )
            })
            .unwrap_or_default();
        out.push(format!(
            "  container {}: {now}, ready={}, restarts={}{last}",
            c.name, c.ready, c.restart_count
        ));
    }
    out
}

async fn recent_events(ctx: &Ctx, namespace: &str, names: &[String]) -> Vec<String> {
    let api: Api<KubeEvent> = Api::namespaced(ctx.applier.client().clone(), namespace);
    let params = ListParams::default();
    let Ok(list) = with_retry(|| api.list(&params)).await else {
        return Vec::new();
    };
    let mut events: Vec<&KubeEvent> = list
        .items
        .iter()
        .filter(|e| {
            e.involved_object
                .name
                .as_ref()
                .is_some_and(|n| names.iter().any(|m| n == m || n.starts_with(&format!("{m}-"))))
        })
        .collect();
    events.sort_by_key(|e| {
        e.last_timestamp
            .as_ref()
            .map(|t| t.0)
            .or(e.event_time.as_ref().map(|t| t.0))
    });
    events
        .iter()
        .rev()
        .take(8)
        .rev()
        .map(|e| {
            format!(
                "event {} {} {}/{}: {}",
                e.type_.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or(""),
                e.involved_object.kind.as_deref().unwrap_or(""),
                e.involved_object.name.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or("").trim()
            )
        })
        .collect()
}

/// Deletes the objects among `refs` that the ApplySet `id` owns (a Namespace only
/// when nothing in it belongs to someone else) and, when `wait`, waits until gone.
async fn remove_owned(
    ctx: &Ctx,
    title: &str,
    refs: &[ObjectRef],
    id: &str,
    prune: bool,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let mut deleted = Vec::new();
    for r in refs {
        let Some(live) = ctx.applier.get(r).await? else {
            continue;
        };
        let live = serde_json::to_value(&live).unwrap_or_default();
        if !inventory::owned_by(&live, id) {
            (ctx.events)(Event::Kept {
                unit: title.to_string(),
                object: r.to_string(),
                reason: "not owned by this unit".into(),
            });
            continue;
        }
        if r.kind == "Namespace"
            && let Some(foreign) = foreign_object_in(ctx, &r.name).await?
        {
            (ctx.events)(Event::Kept {
                unit: title.to_string(),
                object: r.to_string(),
                reason: format!("it holds {foreign}, which windlass does not own"),
            });
            continue;
        }
        if ctx.applier.delete(r).await? {
            deleted.push(r.clone());
        }
        let object = r.to_string();
        let unit = title.to_string();
        (ctx.events)(if prune {
            Event::Pruned { unit, object }
        } else {
            Event::Deleted { unit, object }
        });
    }
    for r in &deleted {
        ctx.applier.wait_deleted(r, timeout).await?;
    }
    Ok(())
}

/// The first object in a namespace that no windlass ApplySet owns and nothing owns
/// through an ownerReference (pods of a ReplicaSet are not foreign).
async fn foreign_object_in(ctx: &Ctx, namespace: &str) -> Result<Option<String>, ClusterError> {
    const KINDS: &[(&str, &str)] = &[
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "Service"),
        ("v1", "ServiceAccount"),
        ("v1", "PersistentVolumeClaim"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("batch/v1", "CronJob"),
        ("batch/v1", "Job"),
    ];
    for (api_version, kind) in KINDS {
        let r = ObjectRef {
            api_version: (*api_version).to_string(),
            kind: (*kind).to_string(),
            namespace: namespace.to_string(),
            name: String::new(),
        };
        let api = ctx.applier.api(&r).await?;
        let params = ListParams::default();
        let list = with_retry(|| api.list(&params))
            .await
            .map_err(|e| ClusterError::api(format!("{kind}s in {namespace}"), e))?;
        for o in &list.items {
            let name = o.metadata.name.as_deref().unwrap_or_default();
            let owned = o.metadata.owner_references.as_ref().is_some_and(|v| !v.is_empty())
                || o.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(inventory::PART_OF_LABEL));
            let builtin = matches!(
                (*kind, name),
                ("ConfigMap", "kube-root-ca.crt") | ("ServiceAccount", "default")
            );
            if !owned && !builtin && o.metadata.deletion_timestamp.is_none() {
                return Ok(Some(format!("{kind}/{namespace}/{name}")));
            }
        }
    }
    Ok(None)
}

/// Units whose history exists but which the spec no longer has: apps first, then
/// namespaces, then anything else.
async fn prune_removed_units(ctx: &Ctx, spec_units: &BTreeSet<String>) -> Result<(), ClusterError> {
    let mut gone: Vec<History> = ctx
        .store
        .list()
        .await?
        .into_iter()
        .filter(|h| !spec_units.contains(&h.unit))
        .collect();
    gone.sort_by_key(|h| removal_rank(&h.unit));
    for h in gone {
        remove_unit(ctx, &h, true, Duration::from_secs(120)).await?;
    }
    Ok(())
}

fn removal_rank(unit: &str) -> u8 {
    if unit.starts_with("app.") {
        0
    } else if unit.starts_with("namespace.") {
        1
    } else {
        2
    }
}

/// Deletes everything a unit's ApplySet owns, newest revision's objects in
/// reverse apply order first, then its history.
async fn remove_unit(ctx: &Ctx, h: &History, prune: bool, timeout: Duration) -> Result<(), ClusterError> {
    let title = title_of(&h.unit);
    let mut refs: Vec<ObjectRef> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in h.revisions.iter().rev() {
        for o in r.refs().collect::<Vec<_>>().into_iter().rev() {
            if seen.insert(o.clone()) {
                refs.push(o);
            }
        }
    }
    remove_owned(ctx, &title, &refs, &h.applyset_id(), prune, timeout).await?;
    ctx.store.delete(h).await
}

/// `app shop/backend` from `app.shop.backend`.
pub fn title_of(unit: &str) -> String {
    if let Some(rest) = unit.strip_prefix("app.") {
        match rest.split_once('.') {
            Some((_, name)) => format!("app {name}"),
            None => format!("app {rest}"),
        }
    } else if let Some(ns) = unit.strip_prefix("namespace.") {
        format!("namespace {ns}")
    } else {
        unit.to_string()
    }
}

/// `windlass down`: every given unit (already in reverse apply order) removed.
pub async fn down(
    applier: Arc<Applier>,
    store: HistoryStore,
    units: &[String],
    timeout: Duration,
    events: EventSink,
) -> Result<usize, ClusterError> {
    let ctx = Ctx { applier, store, events };
    let mut removed = 0;
    for unit in units {
        let h = ctx.store.load(unit).await?;
        if h.revisions.is_empty() {
            continue;
        }
        remove_unit(&ctx, &h, false, timeout).await?;
        removed += 1;
    }
    Ok(removed)
}

/// `windlass rollback`: re-apply revision `to` (default: the good revision before
/// the current one) as a new revision, prune what it does not have, wait.
pub async fn rollback(
    applier: Arc<Applier>,
    store: HistoryStore,
    unit: &str,
    to: Option<u32>,
    timeout: Duration,
    events: EventSink,
) -> Result<(u32, u32), ClusterError> {
    store.ensure_namespace().await?;
    let ctx = Ctx { applier, store, events };
    let title = title_of(unit);
    let mut history = ctx.store.load(unit).await?;
    if history.revisions.is_empty() {
        return Err(ClusterError::History(format!(
            "{title} has no revision history in this cluster\n  help: `windlass up` deploys it first"
        )));
    }
    let current = history.last_deployed().map(|r| r.revision);
    let target = match to {
        Some(n) => history.get(n).cloned().ok_or_else(|| {
            let known: Vec<String> = history
                .revisions
                .iter()
                .map(|r| format!("{} ({})", r.revision, r.result))
                .collect();
            ClusterError::History(format!(
                "{title} has no revision {n}; kept revisions: {}",
                known.join(", ")
            ))
        })?,
        None => history
            .revisions
            .iter()
            .rev()
            .find(|r| r.result == Outcome::Deployed && Some(r.revision) != current)
            .cloned()
            .ok_or_else(|| ClusterError::History(format!("{title} has no earlier good revision to roll back to")))?,
    };
    let number = history.next_number();
    let id = history.applyset_id();
    history.push(Revision {
        revision: number,
        digest: target.digest.clone(),
        at: history::now(),
        result: Outcome::Pending,
        message: format!("rollback to revision {}", target.revision),
        objects: target.objects.clone(),
    });
    ctx.store.save(&history).await?;
    (ctx.events)(Event::Applying {
        unit: title.clone(),
        objects: target.objects.len(),
        revision: number,
    });
    let started = Instant::now();
    apply_all(&ctx, &target.objects).await?;
    let waited = wait_ready(&ctx, &title, &target.objects, timeout).await;
    if let Err(f) = waited {
        set_result(&mut history, number, Outcome::Failed, f.reason.clone());
        ctx.store.save(&history).await?;
        (ctx.events)(Event::Failed {
            unit: title.clone(),
            reason: f.reason.clone(),
            details: f.details,
        });
        return Err(ClusterError::History(format!(
            "{title}: rollback to revision {} failed: {}",
            target.revision, f.reason
        )));
    }
    let stale = stale_refs(&history, &target.objects);
    remove_owned(&ctx, &title, &stale, &id, true, timeout).await?;
    set_result(
        &mut history,
        number,
        Outcome::Deployed,
        format!("rollback to revision {}", target.revision),
    );
    ctx.store.save(&history).await?;
    (ctx.events)(Event::Ready {
        unit: title,
        revision: number,
        changed: true,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok((number, target.revision))
}

#[cfg(test)]
mod tests {
    #[test]
    fn holds_is_a_strict_subset_match() {
        let live = json!({"metadata": {"name": "a", "labels": {"x": "1", "y": "2"}, "uid": "u"},
                          "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i:1", "imagePullPolicy": "IfNotPresent"}]}}}});
        let wanted = json!({"metadata": {"name": "a", "labels": {"x": "1"}},
                            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}});
        assert!(
            super::holds(&live, &wanted),
            "defaulted and extra fields do not count as drift"
        );
        let mut changed = live.clone();
        changed["spec"]["replicas"] = json!(3);
        assert!(
            !super::holds(&changed, &wanted),
            "a field windlass sets, changed by someone else"
        );
        let mut removed = live.clone();
        removed["metadata"]["labels"].as_object_mut().map(|l| l.remove("x"));
        assert!(!super::holds(&removed, &wanted), "a field windlass sets, removed");
        let mut extra = live.clone();
        if let Some(containers) = extra["spec"]["template"]["spec"]["containers"].as_array_mut() {
            containers.push(json!({"name": "d"}));
        }
        assert!(!super::holds(&extra, &wanted), "a list that grew");
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn titles_read_like_the_spec() {
        assert_eq!(title_of("app.shop.backend"), "app backend");
        assert_eq!(title_of("namespace.shop"), "namespace shop");
        assert_eq!(title_of("platform"), "platform");
    }

    #[test]
    fn stale_refs_are_what_earlier_revisions_had_and_the_new_one_lacks() {
        let cm = |n: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": "a"}});
        let rev = |n: u32, objects: Vec<Value>| Revision {
            revision: n,
            digest: String::new(),
            at: String::new(),
            result: Outcome::Deployed,
            message: String::new(),
            objects,
        };
        let h = History {
            unit: "app.a.x".into(),
            secret_name: "s".into(),
            revisions: vec![rev(1, vec![cm("a"), cm("b")]), rev(2, vec![cm("a"), cm("c")])],
        };
        let stale: Vec<String> = stale_refs(&h, &[cm("a")]).iter().map(|r| r.name.clone()).collect();
        assert_eq!(stale, vec!["c", "b"]);
    }
}
