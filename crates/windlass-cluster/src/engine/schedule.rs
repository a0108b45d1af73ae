//! Which unit runs when: a unit starts once every unit it needs is ready, up to
//! `concurrency` at once; a unit whose need failed is skipped, never applied.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use windlass_core::unit::UnitId;

use super::{ApplyUnit, Ctx, Event, UnitResult, UpOptions, prune};
use crate::ClusterError;

/// Applies `units` (in plan order) and, when all succeed, prunes units gone from
/// the spec. Returns one result per unit (failed and skipped ones included).
pub(crate) async fn up(
    ctx: Arc<Ctx>,
    units: Vec<ApplyUnit>,
    options: &UpOptions,
) -> Result<Vec<UnitResult>, ClusterError> {
    ctx.store.ensure_namespace().await?;
    recover_pending_releases(&ctx, &units, options.timeout).await?;
    let in_plan: BTreeSet<UnitId> = units.iter().map(|u| u.id.clone()).collect();
    let mut pending: Vec<ApplyUnit> = units;
    let mut done: BTreeMap<UnitId, bool> = BTreeMap::new();
    let mut results = Vec::new();
    let mut running = tokio::task::JoinSet::new();
    loop {
        // Skip units whose needs failed; start those whose needs are all done.
        let mut i = 0;
        while i < pending.len() {
            let needs: Vec<&UnitId> = pending[i].needs.iter().filter(|n| in_plan.contains(*n)).collect();
            if let Some(failed) = needs.iter().find(|n| done.get(**n) == Some(&false)) {
                let reason = format!("{} failed", failed.title());
                let unit = pending.remove(i);
                ctx.emit(Event::Skipped {
                    unit: unit.id.clone(),
                    reason,
                });
                done.insert(unit.id.clone(), false);
                results.push(UnitResult {
                    unit: unit.id,
                    ok: false,
                    changed: false,
                    revision: None,
                });
                i = 0;
                continue;
            }
            if running.len() < options.concurrency.max(1) && needs.iter().all(|n| done.get(*n) == Some(&true)) {
                let unit = pending.remove(i);
                let ctx = ctx.clone();
                let timeout = options.timeout;
                running.spawn(async move { super::deploy(&ctx, unit, timeout).await });
                continue;
            }
            i += 1;
        }
        match running.join_next().await {
            Some(Ok(result)) => {
                done.insert(result.unit.clone(), result.ok);
                results.push(result);
            }
            Some(Err(join)) => {
                return Err(ClusterError::TaskFailed {
                    reason: join.to_string(),
                });
            }
            None if pending.is_empty() => break,
            None => {
                // Needs outside the plan are filtered above, so only a cycle gets here.
                return Err(ClusterError::TaskFailed {
                    reason: format!(
                        "units left with needs that never finish: {}",
                        pending.iter().map(|u| u.id.to_string()).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
    }
    if results.iter().all(|r| r.ok) {
        prune::prune_removed_units(&ctx, &options.spec_units).await?;
    }
    Ok(results)
}

/// Releases a killed run left `pending-*` are put back before anything else runs.
async fn recover_pending_releases(
    ctx: &Ctx,
    units: &[ApplyUnit],
    timeout: std::time::Duration,
) -> Result<(), ClusterError> {
    for unit in units.iter().filter(|u| matches!(u.id, UnitId::Component(_))) {
        let Some(c) = &unit.component else { continue };
        let Some(state) = super::component::release_state(ctx, &c.release, &c.namespace)
            .await?
            .filter(|s| s.is_pending())
        else {
            continue;
        };
        let helm = ctx.helm().await.map_err(ClusterError::Helm)?;
        super::component::recover_pending(helm, c, &state, timeout)
            .await
            .map_err(|e| {
                ClusterError::Helm(format!(
                    "recovering release {} left pending by an interrupted run: {e}",
                    c.release
                ))
            })?;
        ctx.emit(Event::Waiting {
            unit: unit.id.clone(),
            message: format!("recovered release {} left pending by an interrupted run", c.release),
        });
    }
    Ok(())
}
