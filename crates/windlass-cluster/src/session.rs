//! A connection to one cluster for one platform and environment: what every
//! cluster command goes through. Commands that change the cluster (`up`, `down`,
//! `rollback`) hold the platform's Lease for exactly their own work, here and
//! nowhere else; `diff` and `status` only read.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use windlass_core::components::Component;
use windlass_core::plan::Plan;
use windlass_core::unit::UnitId;

use crate::apply::Applier;
use crate::client::{ClusterTarget, connect};
use crate::diff::{self, Change};
use crate::engine::{self, ApplyUnit, Ctx, Event, EventSink, UnitResult, UpOptions};
use crate::history::HistoryStore;
use crate::status::{self, AppStatus};
use crate::{ClusterError, lease};

pub struct Session {
    ctx: Arc<Ctx>,
    platform: String,
}

/// Which platform and environment a session acts for, and how.
pub struct SessionFor<'a> {
    pub platform: &'a str,
    pub environment: &'a str,
    pub plan: &'a Plan,
    /// Take over fields other field managers own instead of failing with a conflict.
    pub force_conflicts: bool,
}

impl Session {
    pub async fn connect(
        target: &ClusterTarget,
        what: SessionFor<'_>,
        events: EventSink,
    ) -> Result<Session, ClusterError> {
        let client = connect(target).await?;
        let applier = Applier::new(
            client.clone(),
            what.force_conflicts,
            what.plan.namespace_origins().clone(),
        );
        Ok(Session {
            ctx: Arc::new(Ctx {
                applier: Arc::new(applier),
                store: HistoryStore::new(client, what.platform, what.environment),
                events,
                target: target.clone(),
                helm: tokio::sync::OnceCell::new(),
            }),
            platform: what.platform.to_string(),
        })
    }

    /// Runs `work` holding the platform's Lease, waiting up to `wait` for another
    /// run's; the Lease is given up whatever `work` returns.
    async fn locked<T>(
        &self,
        wait: Duration,
        work: impl Future<Output = Result<T, ClusterError>>,
    ) -> Result<T, ClusterError> {
        self.ctx.store.ensure_namespace().await?;
        let events = self.ctx.events.clone();
        let held = lease::acquire(self.ctx.applier.client().clone(), &self.platform, wait, move |holder| {
            events(Event::WaitingForLease {
                holder: holder.to_string(),
            })
        })
        .await?;
        let out = work.await;
        held.release().await;
        out
    }

    /// Applies `units` in their order (see `engine`), then prunes units the spec no longer has.
    pub async fn up(
        &self,
        units: Vec<ApplyUnit>,
        options: &UpOptions,
        lock_wait: Duration,
    ) -> Result<Vec<UnitResult>, ClusterError> {
        self.locked(lock_wait, engine::up(self.ctx.clone(), units, options))
            .await
    }

    /// The units `down` would remove, in the plan's `down` order, of those the cluster holds.
    pub async fn down_order(&self, plan: &Plan) -> Result<Vec<UnitId>, ClusterError> {
        let present = self.ctx.store.list().await?.into_iter().map(|h| h.unit);
        Ok(plan.down(present))
    }

    /// Removes `units` (from `down_order`) one after another, components'
    /// releases uninstalled; CRDs and component namespaces stay unless `purge`.
    /// Returns how many units had objects.
    pub async fn down(
        &self,
        units: &[UnitId],
        components: &[Component],
        purge: bool,
        timeout: Duration,
        lock_wait: Duration,
    ) -> Result<usize, ClusterError> {
        self.locked(lock_wait, engine::down(&self.ctx, units, components, purge, timeout))
            .await
    }

    /// Puts `unit` back to revision `to` (default: the good one before the
    /// current); returns the new revision's number and the one it went back to.
    pub async fn rollback(
        &self,
        unit: &UnitId,
        to: Option<u32>,
        timeout: Duration,
        lock_wait: Duration,
    ) -> Result<(u32, u32), ClusterError> {
        self.locked(lock_wait, engine::rollback(&self.ctx, unit, to, timeout))
            .await
    }

    /// What `up` of `units` would change, objects of removed units included.
    pub async fn diff(&self, units: &[ApplyUnit], spec_units: &BTreeSet<UnitId>) -> Result<Vec<Change>, ClusterError> {
        diff::plan(&self.ctx, units, spec_units).await
    }

    /// Chart, release state, ready workloads and URLs of each component (with its URLs).
    pub async fn component_status(
        &self,
        components: &[(Component, Vec<String>)],
    ) -> Result<Vec<status::ComponentStatus>, ClusterError> {
        status::components(&self.ctx, components).await
    }

    /// Revision, rollout state, images and URLs of each app unit.
    pub async fn status(&self, apps: &[UnitId]) -> Result<Vec<AppStatus>, ClusterError> {
        status::snapshot(&self.ctx, apps).await
    }
}
