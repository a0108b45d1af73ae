//! Going back: `restore` puts a failed unit back to its last good revision
//! (called by `apply`); `rollback` re-applies an earlier revision on request as a
//! new revision and prunes what that revision does not have.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use windlass_core::unit::UnitId;

use super::apply::{apply_all, set_result, stale_refs};
use super::prune::remove_owned;
use super::wait::wait_ready;
use super::{Ctx, Event};
use crate::ClusterError;
use crate::history::{Outcome, Revision};
use crate::inventory::ObjectRef;

/// A revision's objects as they can be applied again: its Secrets from the SOPS file
/// with the values of `known` that have their digests; a Secret whose values
/// windlass does not hold (the history keeps digests, never values) is left as it
/// is live, with an event saying so.
fn reapplicable(ctx: &Ctx, unit: &UnitId, revision: &Revision, known: &[Value]) -> Vec<Value> {
    let (objects, kept) = super::unseal(&revision.objects, known);
    for r in kept {
        ctx.emit(Event::Kept {
            unit: unit.clone(),
            object: r.to_string(),
            reason: format!(
                "its values stay as they are: windlass's history keeps digests of secrets, never values; \
                 to go back to revision {}'s, restore the SOPS file of that revision and run `windlass up`",
                revision.revision
            ),
        });
    }
    objects
}

/// Puts a unit back to `good`: re-apply its objects, drop what the failed revision added, wait.
/// `known`: Secrets from the SOPS file with values (this run's and the live ones before it).
pub(super) async fn restore(
    ctx: &Ctx,
    unit: &UnitId,
    good: &Revision,
    failed: &[Value],
    known: &[Value],
    id: &str,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let restore_failed = |reason: String| ClusterError::RestoreFailed {
        unit: unit.clone(),
        revision: good.revision,
        reason,
    };
    let objects = reapplicable(ctx, unit, good, known);
    apply_all(ctx, &objects)
        .await
        .map_err(|e| restore_failed(e.to_string()))?;
    let keep: BTreeSet<ObjectRef> = good.refs().collect();
    let added: Vec<ObjectRef> = failed
        .iter()
        .map(ObjectRef::of)
        .filter(|r| !keep.contains(r))
        .rev()
        .collect();
    remove_owned(ctx, unit, &added, id, true, timeout)
        .await
        .map_err(|e| restore_failed(e.to_string()))?;
    wait_ready(ctx, unit, &objects, timeout)
        .await
        .map_err(|f| restore_failed(format!("it did not become ready again: {}", f.reason)))
}

/// `windlass rollback`: re-apply revision `to` (default: the good revision before
/// the current one) as a new revision, prune what it does not have, wait.
/// Returns the new revision's number and the revision it went back to.
pub(crate) async fn rollback(
    ctx: &Ctx,
    unit: &UnitId,
    to: Option<u32>,
    timeout: Duration,
) -> Result<(u32, u32), ClusterError> {
    let mut history = ctx.store.load(unit).await?;
    if history.revisions.is_empty() {
        return Err(ClusterError::NoHistory { unit: unit.clone() });
    }
    let current = history.last_deployed().map(|r| r.revision);
    let target = match to {
        Some(n) => history.get(n).cloned().ok_or_else(|| ClusterError::NoRevision {
            unit: unit.clone(),
            revision: n,
            kept: history
                .revisions
                .iter()
                .map(|r| format!("{} ({})", r.revision, r.result))
                .collect(),
        })?,
        None => history
            .revisions
            .iter()
            .rev()
            .find(|r| r.result == Outcome::Deployed && Some(r.revision) != current)
            .cloned()
            .ok_or_else(|| ClusterError::NoEarlierRevision { unit: unit.clone() })?,
    };
    let number = history.next_number();
    let id = history.applyset_id();
    history.push(Revision::pending(
        number,
        target.digest.clone(),
        format!("rollback to revision {}", target.revision),
        target.objects.clone(),
    ));
    ctx.store.save(&history).await?;
    ctx.emit(Event::Applying {
        unit: unit.clone(),
        objects: target.objects.len(),
        revision: number,
    });
    let started = Instant::now();
    // The live values stand for the target's when they have its digests (unchanged since).
    let live = super::apply::live_secrets(ctx, &target.objects).await;
    let objects = reapplicable(ctx, unit, &target, &live);
    apply_all(ctx, &objects).await?;
    if let Err(f) = wait_ready(ctx, unit, &objects, timeout).await {
        set_result(&mut history, number, Outcome::Failed, f.reason.clone());
        ctx.store.save(&history).await?;
        ctx.emit(Event::Failed {
            unit: unit.clone(),
            reason: f.reason.clone(),
            details: f.details,
        });
        return Err(ClusterError::RollbackFailed {
            unit: unit.clone(),
            revision: target.revision,
            reason: f.reason,
        });
    }
    let stale = stale_refs(&history, &target.objects);
    remove_owned(ctx, unit, &stale, &id, true, timeout).await?;
    set_result(
        &mut history,
        number,
        Outcome::Deployed,
        format!("rollback to revision {}", target.revision),
    );
    ctx.store.save(&history).await?;
    ctx.emit(Event::Ready {
        unit: unit.clone(),
        revision: number,
        changed: true,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok((number, target.revision))
}
