//! One unit applied: its revision recorded before anything is applied (so an
//! interrupted run still owns what it applied), its objects server-side applied
//! unless the live ones already hold them, waited for, and on failure put back
//! to the last good revision.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use windlass_core::unit::UnitId;

use super::schedule::Board;
use super::{ApplyUnit, Ctx, Event, UnitResult, prune, rollback, wait};
use crate::ClusterError;
use crate::history::{self, History, Outcome, Revision};
use crate::inventory::{self, ObjectRef};

/// A unit's objects as applied: each marked with the unit's ApplySet id.
pub(crate) fn unit_objects(history: &History, objects: &[Value]) -> Vec<Value> {
    let id = history.applyset_id();
    let mut objects = objects.to_vec();
    for o in &mut objects {
        inventory::mark(o, &id);
    }
    objects
}

pub(super) async fn deploy(ctx: &Ctx, unit: ApplyUnit, timeout: Duration, board: &Board) -> UnitResult {
    let started = Instant::now();
    let mut result = UnitResult {
        unit: unit.id.clone(),
        ok: false,
        changed: false,
        revision: None,
    };
    let fail = |reason: String, details: Vec<String>| {
        ctx.emit(Event::Failed {
            unit: unit.id.clone(),
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
    // `objects` is what the history records (Secrets from the SOPS file sealed: digests,
    // never values); `applied` is what goes to the cluster.
    let objects = unit_objects(&history, &unit.objects);
    let applied = match unit.applied() {
        Ok(a) => unit_objects(&history, &a),
        Err(e) => {
            fail(e.to_string(), Vec::new());
            return result;
        }
    };
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
        history.push(Revision::pending(
            number,
            digest.clone(),
            String::new(),
            objects.clone(),
        ));
        if let Err(e) = ctx.store.save(&history).await {
            fail(e.to_string(), Vec::new());
            return result;
        }
    }
    ctx.emit(Event::Applying {
        unit: unit.id.clone(),
        objects: objects.len(),
        revision: number,
    });
    // An unchanged unit whose live objects still hold every field windlass sets
    // needs no patch: reads are far cheaper for the apiserver than applies. Any
    // drift (a missing object, a field changed by someone else) applies as usual.
    // The values of the unit's SOPS Secrets as they are live, before this run changes
    // them: held in memory only, so a failed rollout can put them back.
    let mut known = unit.secrets.clone();
    if !unchanged {
        known.extend(live_secrets(ctx, &objects).await);
    }
    let outcome = if unchanged && in_sync(ctx, &applied).await {
        wait::wait_ready(ctx, &unit.id, &applied, timeout).await
    } else {
        rollout(ctx, &unit, &applied, timeout, board).await
    };
    match outcome {
        Ok(()) => {
            if !unchanged {
                let stale: Vec<ObjectRef> = stale_refs(&history, &objects);
                if let Err(e) = prune::remove_owned(ctx, &unit.id, &stale, &id, true, timeout).await {
                    fail(format!("pruning: {e}"), Vec::new());
                    return result;
                }
                set_result(&mut history, number, Outcome::Deployed, String::new());
                if let Err(e) = ctx.store.save(&history).await {
                    fail(e.to_string(), Vec::new());
                    return result;
                }
            }
            ctx.emit(Event::Ready {
                unit: unit.id.clone(),
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
                    Some(good) => match rollback::restore(ctx, &unit.id, &good, &objects, &known, &id, timeout).await {
                        Ok(()) => ctx.emit(Event::RolledBack {
                            unit: unit.id.clone(),
                            failed_revision: number,
                            to_revision: good.revision,
                        }),
                        Err(e) => details.push(e.to_string()),
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

/// Applies `applied` (the unit's objects, in order) and waits for them: first
/// every object whose needs are done; then, the unit serving (what needs it may
/// start), the objects held for units not done yet, once those are.
async fn rollout(
    ctx: &Ctx,
    unit: &ApplyUnit,
    applied: &[Value],
    timeout: Duration,
    board: &Board,
) -> Result<(), wait::Failure> {
    let failed = |e: ClusterError| wait::Failure {
        reason: e.to_string(),
        details: Vec::new(),
    };
    let (mut now, mut held, mut waits): (Vec<Value>, Vec<Value>, Vec<UnitId>) = Default::default();
    for (i, o) in applied.iter().enumerate() {
        let needs = unit.object_needs.get(i).map(Vec::as_slice).unwrap_or_default();
        let pending: Vec<&UnitId> = needs.iter().filter(|n| !board.is_done(n)).collect();
        if pending.is_empty() {
            now.push(o.clone());
        } else {
            held.push(o.clone());
            waits.extend(pending.into_iter().cloned());
        }
    }
    apply_all(ctx, &now).await.map_err(failed)?;
    wait::wait_ready(ctx, &unit.id, &now, timeout).await?;
    if held.is_empty() {
        return Ok(());
    }
    waits.sort();
    waits.dedup();
    let names: Vec<String> = held.iter().map(|o| ObjectRef::of(o).to_string()).collect();
    let until: Vec<String> = waits.iter().map(UnitId::title).collect();
    board.serving(&unit.id);
    ctx.emit(Event::Waiting {
        unit: unit.id.clone(),
        message: format!(
            "serving; holding {} until {} {} ready",
            names.join(", "),
            until.join(" and "),
            if waits.len() == 1 { "is" } else { "are" }
        ),
    });
    if let Err(need) = board.wait_done(&waits).await {
        return Err(wait::Failure {
            reason: format!("{} never went in: {} failed", names.join(", "), need.title()),
            details: Vec::new(),
        });
    }
    apply_all(ctx, &held).await.map_err(failed)?;
    wait::wait_ready(ctx, &unit.id, &held, timeout).await
}

pub(super) fn set_result(history: &mut History, number: u32, outcome: Outcome, message: String) {
    if let Some(r) = history.revisions.iter_mut().find(|r| r.revision == number) {
        r.result = outcome;
        r.message = message;
    }
}

/// Objects earlier revisions applied that `objects` no longer has, newest first:
/// what applying `objects` prunes.
pub(crate) fn stale_refs(history: &History, objects: &[Value]) -> Vec<ObjectRef> {
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

/// The live form of each sealed Secret of `objects` that exists (unreadable ones
/// are skipped: a rollback then keeps the live Secret, and says so).
pub(super) async fn live_secrets(ctx: &Ctx, objects: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for o in objects.iter().filter(|o| windlass_core::render::sops::is_sealed(o)) {
        if let Ok(Some(live)) = ctx.applier.get(&ObjectRef::of(o)).await
            && let Ok(mut live) = serde_json::to_value(&live)
            && live.get("data").is_some()
        {
            if let Some(m) = live.as_object_mut() {
                m.remove("status");
            }
            out.push(live);
        }
    }
    out
}

/// Whether every object exists and holds every field windlass sets with the
/// value windlass sets. Unreadable means "no": the caller then applies.
pub(super) async fn in_sync(ctx: &Ctx, objects: &[Value]) -> bool {
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

pub(super) async fn apply_all(ctx: &Ctx, objects: &[Value]) -> Result<(), ClusterError> {
    for o in objects {
        ctx.applier.apply(o, false).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn holds_is_a_strict_subset_match() {
        let live = json!({"metadata": {"name": "a", "labels": {"x": "1", "y": "2"}, "uid": "u"},
                          "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i:1", "imagePullPolicy": "IfNotPresent"}]}}}});
        let wanted = json!({"metadata": {"name": "a", "labels": {"x": "1"}},
                            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}});
        assert!(
            holds(&live, &wanted),
            "defaulted and extra fields do not count as drift"
        );
        let mut changed = live.clone();
        changed["spec"]["replicas"] = json!(3);
        assert!(
            !holds(&changed, &wanted),
            "a field windlass sets, changed by someone else"
        );
        let mut removed = live.clone();
        removed["metadata"]["labels"].as_object_mut().map(|l| l.remove("x"));
        assert!(!holds(&removed, &wanted), "a field windlass sets, removed");
        let mut extra = live.clone();
        if let Some(containers) = extra["spec"]["template"]["spec"]["containers"].as_array_mut() {
            containers.push(json!({"name": "d"}));
        }
        assert!(!holds(&extra, &wanted), "a list that grew");
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
            unit: windlass_core::unit::UnitId::app("a", "x"),
            secret_name: "s".into(),
            revisions: vec![rev(1, vec![cm("a"), cm("b")]), rev(2, vec![cm("a"), cm("c")])],
        };
        let stale: Vec<String> = stale_refs(&h, &[cm("a")]).iter().map(|r| r.name.clone()).collect();
        assert_eq!(stale, vec!["c", "b"]);
    }
}
