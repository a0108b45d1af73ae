//! What the cluster commands share: the spec planned and rendered as the
//! engine's units (order and needs from the plan), the async runtime, and the
//! session for the chosen cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use windlass_cluster::{ApplyUnit, ClusterTarget, EventSink, Session, SessionFor};
use windlass_core::model::Platform;
use windlass_core::plan::{Plan, Selector};
use windlass_core::render::component_namespace;
use windlass_core::unit::UnitId;

use super::plan_checked;
use crate::cli::{ClusterArgs, SpecArgs};
use crate::error::CliError;

/// The spec's environment, planned and rendered as apply units; the Secrets from
/// the SOPS file decrypted in memory (only `up` and `diff` call this).
pub struct Target {
    pub platform: Platform,
    pub plan: Plan,
    /// Selected units in the plan's `up` order.
    pub units: Vec<ApplyUnit>,
}

pub fn target(spec: &SpecArgs, only: &[Selector]) -> Result<Target, CliError> {
    let (platform, plan, rendered) = plan_checked(spec, only)?;
    let mut objects: BTreeMap<_, _> = rendered
        .units
        .into_iter()
        .map(|u| (u.kind, u.objects.into_iter().map(|o| o.0).collect::<Vec<_>>()))
        .collect();
    let units = plan
        .up()
        .iter()
        .map(|u| {
            let component = match &u.id {
                UnitId::Crds(name) | UnitId::Component(name) => name
                    .parse()
                    .ok()
                    .and_then(|c| platform.component(c))
                    .map(|c| Arc::new(c.clone())),
                _ => None,
            };
            let namespace = match (&u.id, &component) {
                (UnitId::Component(_), Some(c)) => component_namespace(&platform, c).map(|o| o.0),
                _ => None,
            };
            let objects = objects.remove(&u.id).unwrap_or_default();
            // What an object uses beyond what its unit starts after holds that object back.
            let object_needs = objects
                .iter()
                .map(|o| {
                    let mut needs = plan.object_needs(&platform, &u.id, o);
                    needs.retain(|n| !u.start.contains(n));
                    needs
                })
                .collect();
            ApplyUnit {
                id: u.id.clone(),
                objects,
                needs: u.start.clone(),
                object_needs,
                component,
                namespace,
                secrets: Vec::new(),
            }
        })
        .collect::<Vec<_>>();
    let mut units = units;
    super::secrets::unseal_units(&platform, &mut units)?;
    Ok(Target { platform, plan, units })
}

/// For the read-only commands: the engine has nothing to report while they read.
pub fn no_events() -> EventSink {
    std::sync::Arc::new(|_| {})
}

pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))
}

pub async fn session(
    cluster: &ClusterArgs,
    platform: &Platform,
    plan: &Plan,
    force_conflicts: bool,
    events: EventSink,
) -> Result<Session, CliError> {
    let target = ClusterTarget {
        kubeconfig: cluster.kubeconfig.clone(),
        context: cluster.context.clone(),
    };
    let what = SessionFor {
        platform: &platform.name,
        environment: &platform.environment,
        plan,
        force_conflicts,
    };
    Ok(Session::connect(&target, what, events).await?)
}
