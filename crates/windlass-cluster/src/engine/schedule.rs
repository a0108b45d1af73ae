//! Which unit runs when: a unit starts once every unit it needs to start is
//! serving (its objects applied and ready), up to `concurrency` at once; a unit
//! whose need failed is skipped, never applied. Objects of a running unit that
//! use a unit not done yet (an app's ServiceMonitor, before the monitoring stack)
//! wait for it on the [`Board`], while the rest of their unit goes ahead.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::watch;
use windlass_core::unit::UnitId;

use super::{ApplyUnit, Ctx, Event, UnitResult, UpOptions, prune};
use crate::ClusterError;

/// How far a unit of this run has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Its objects, but those held for a unit not done yet, are applied and ready:
    /// what needs it to start may start.
    Serving,
    /// Finished: ready (`true`), or failed or skipped.
    Done(bool),
}

/// Every unit's progress in this run, watched by units holding objects back.
#[derive(Clone)]
pub(crate) struct Board {
    tx: Arc<watch::Sender<BTreeMap<UnitId, Progress>>>,
    /// Units of this run: a need outside it is met already (or not this run's to meet).
    in_plan: Arc<BTreeSet<UnitId>>,
}

impl Board {
    fn new(in_plan: BTreeSet<UnitId>) -> Board {
        Board {
            tx: Arc::new(watch::Sender::new(BTreeMap::new())),
            in_plan: Arc::new(in_plan),
        }
    }

    fn set(&self, unit: &UnitId, p: Progress) {
        self.tx.send_modify(|m| {
            m.insert(unit.clone(), p);
        });
    }

    pub(crate) fn serving(&self, unit: &UnitId) {
        self.set(unit, Progress::Serving);
    }

    fn get(&self, unit: &UnitId) -> Option<Progress> {
        self.tx.borrow().get(unit).copied()
    }

    /// Whether `unit` is done and ready (a unit outside the run counts as done).
    pub(crate) fn is_done(&self, unit: &UnitId) -> bool {
        !self.in_plan.contains(unit) || self.get(unit) == Some(Progress::Done(true))
    }

    /// Waits until every unit of `needs` is done: `Err` names the first that failed.
    pub(crate) async fn wait_done(&self, needs: &[UnitId]) -> Result<(), UnitId> {
        let needs: Vec<&UnitId> = needs.iter().filter(|n| self.in_plan.contains(*n)).collect();
        let failed = |board: &BTreeMap<UnitId, Progress>| {
            needs
                .iter()
                .find(|n| board.get(**n) == Some(&Progress::Done(false)))
                .map(|n| (*n).clone())
        };
        let settled = |board: &BTreeMap<UnitId, Progress>| {
            failed(board).is_some() || needs.iter().all(|n| board.get(*n) == Some(&Progress::Done(true)))
        };
        let mut rx = self.tx.subscribe();
        match rx.wait_for(settled).await {
            Ok(board) => failed(&board).map_or(Ok(()), Err),
            // `self` holds the sender: the channel cannot close while this waits.
            Err(_) => Err(needs.first().map_or(UnitId::Platform, |n| (*n).clone())),
        }
    }
}

/// Applies `units` (in plan order) and, when all succeed, prunes units gone from
/// the spec. Returns one result per unit (failed and skipped ones included).
pub(crate) async fn up(
    ctx: Arc<Ctx>,
    units: Vec<ApplyUnit>,
    options: &UpOptions,
) -> Result<Vec<UnitResult>, ClusterError> {
    ctx.store.ensure_namespace().await?;
    recover_pending_releases(&ctx, &units, options.timeout).await?;
    let board = Board::new(units.iter().map(|u| u.id.clone()).collect());
    let mut rx = board.tx.subscribe();
    let mut pending: Vec<ApplyUnit> = units;
    let mut results = Vec::new();
    let mut running = tokio::task::JoinSet::new();
    loop {
        // Seen before the scan: a unit that starts serving during it wakes the select below.
        rx.borrow_and_update();
        // Skip units whose needs failed; start those whose needs are all serving.
        let mut i = 0;
        while i < pending.len() {
            let needs: Vec<&UnitId> = pending[i].needs.iter().filter(|n| board.in_plan.contains(*n)).collect();
            let progress: Vec<Option<Progress>> = needs.iter().map(|n| board.get(n)).collect();
            if let Some(failed) = needs
                .iter()
                .zip(&progress)
                .find(|(_, p)| **p == Some(Progress::Done(false)))
                .map(|(n, _)| *n)
            {
                let reason = format!("{} failed", failed.title());
                let unit = pending.remove(i);
                ctx.emit(Event::Skipped {
                    unit: unit.id.clone(),
                    reason,
                });
                board.set(&unit.id, Progress::Done(false));
                results.push(UnitResult {
                    unit: unit.id,
                    ok: false,
                    changed: false,
                    revision: None,
                });
                i = 0;
                continue;
            }
            let met = progress
                .iter()
                .all(|p| matches!(p, Some(Progress::Serving | Progress::Done(true))));
            if running.len() < options.concurrency.max(1) && met {
                let unit = pending.remove(i);
                let ctx = ctx.clone();
                let board = board.clone();
                let timeout = options.timeout;
                running.spawn(async move { super::deploy(&ctx, unit, timeout, &board).await });
                continue;
            }
            i += 1;
        }
        tokio::select! {
            joined = running.join_next() => match joined {
                Some(Ok(result)) => {
                    board.set(&result.unit, Progress::Done(result.ok));
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
            },
            // A unit started serving: what needs it may start.
            _ = rx.changed() => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> Board {
        Board::new(
            [UnitId::Platform, UnitId::Component("loki".into())]
                .into_iter()
                .collect(),
        )
    }

    #[tokio::test]
    async fn held_objects_wait_until_their_needs_are_done_and_learn_which_failed() {
        let b = board();
        let loki = UnitId::Component("loki".into());
        let outside = UnitId::Component("reloader".into());
        assert!(b.is_done(&outside), "a unit outside the run is met already");
        assert!(!b.is_done(&UnitId::Platform));
        let waiter = {
            let b = b.clone();
            let needs = vec![UnitId::Platform, loki.clone(), outside];
            tokio::spawn(async move { b.wait_done(&needs).await })
        };
        b.serving(&UnitId::Platform);
        b.set(&loki, Progress::Done(true));
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "serving is not done");
        b.set(&UnitId::Platform, Progress::Done(true));
        assert_eq!(waiter.await.expect("join"), Ok(()));

        let b = board();
        let waiter = {
            let b = b.clone();
            tokio::spawn(async move { b.wait_done(&[UnitId::Platform, UnitId::Component("loki".into())]).await })
        };
        b.set(&loki, Progress::Done(false));
        assert_eq!(
            waiter.await.expect("join"),
            Err(loki),
            "a failure ends the wait at once"
        );
    }
}
