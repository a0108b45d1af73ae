//! Removing what windlass owns: objects a unit no longer has (after it is
//! ready), units the spec no longer has (after a successful `up`), and whole
//! units for `down`. Only objects the unit's ApplySet owns are touched; a
//! namespace that holds someone else's objects is kept.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kube::api::ListParams;
use windlass_core::components::{Component, ComponentName, default_home};
use windlass_core::unit::{UnitId, removal_order};

use super::{Ctx, Event};
use crate::ClusterError;
use crate::apply::Applier;
use crate::history::History;
use crate::inventory::{self, ObjectRef};
use crate::retry::with_retry;

/// Whether the live object is owned by the ApplySet `id`; `None` when it is gone.
pub(crate) async fn owned_live(applier: &Applier, r: &ObjectRef, id: &str) -> Result<Option<bool>, ClusterError> {
    Ok(applier
        .get(r)
        .await?
        .map(|live| inventory::owned_by(&serde_json::to_value(&live).unwrap_or_default(), id)))
}

/// Deletes the objects among `refs` that the ApplySet `id` owns (a Namespace only
/// when nothing in it belongs to someone else) and, when `wait`, waits until gone.
pub(super) async fn remove_owned(
    ctx: &Ctx,
    unit: &UnitId,
    refs: &[ObjectRef],
    id: &str,
    prune: bool,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let mut deleted = Vec::new();
    for r in refs {
        let Some(owned) = owned_live(&ctx.applier, r, id).await? else {
            continue;
        };
        if !owned {
            ctx.emit(Event::Kept {
                unit: unit.clone(),
                object: r.to_string(),
                reason: "not owned by this unit".into(),
            });
            continue;
        }
        if r.kind == "Namespace"
            && let Some(foreign) = foreign_object_in(ctx, &r.name).await?
        {
            ctx.emit(Event::Kept {
                unit: unit.clone(),
                object: r.to_string(),
                reason: format!("it holds {foreign}, which windlass does not own"),
            });
            continue;
        }
        if ctx.applier.delete(r).await? {
            deleted.push(r.clone());
        }
        let object = r.to_string();
        let unit = unit.clone();
        ctx.emit(if prune {
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

/// Histories of units the spec no longer has, in the order they come off.
pub(crate) async fn removed_units(ctx: &Ctx, spec_units: &BTreeSet<UnitId>) -> Result<Vec<History>, ClusterError> {
    let mut gone: Vec<History> = ctx
        .store
        .list()
        .await?
        .into_iter()
        .filter(|h| !spec_units.contains(&h.unit))
        .collect();
    let mut order: Vec<UnitId> = gone.iter().map(|h| h.unit.clone()).collect();
    removal_order(&mut order);
    gone.sort_by_key(|h| order.iter().position(|u| *u == h.unit));
    Ok(gone)
}

/// Removes the units the spec no longer has.
pub(super) async fn prune_removed_units(ctx: &Ctx, spec_units: &BTreeSet<UnitId>) -> Result<(), ClusterError> {
    for h in removed_units(ctx, spec_units).await? {
        remove_unit(ctx, &h, true, Duration::from_secs(120)).await?;
    }
    Ok(())
}

/// Deletes everything a unit's ApplySet owns, newest revision's objects in
/// reverse apply order first, then its history.
async fn remove_unit(ctx: &Ctx, h: &History, prune: bool, timeout: Duration) -> Result<(), ClusterError> {
    let mut refs: Vec<ObjectRef> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in h.revisions.iter().rev() {
        for o in r.refs().collect::<Vec<_>>().into_iter().rev() {
            if seen.insert(o.clone()) {
                refs.push(o);
            }
        }
    }
    remove_owned(ctx, &h.unit, &refs, &h.applyset_id(), prune, timeout).await?;
    ctx.store.delete(h).await
}

/// `windlass down`: every given unit (in the plan's `down` order) removed: a
/// component's release uninstalled before its own objects go. CRDs (and with them
/// every custom resource) and the components' namespaces (with the volume claims
/// in them) stay unless `purge`. Returns how many units had something to remove.
pub(crate) async fn down(
    ctx: &Ctx,
    units: &[UnitId],
    components: &[Component],
    purge: bool,
    timeout: Duration,
) -> Result<usize, ClusterError> {
    let mut removed = 0;
    // Each component namespace with the first component unit found in it.
    let mut namespaces = BTreeMap::new();
    for unit in units {
        let h = ctx.store.load(unit).await?;
        if h.revisions.is_empty() {
            continue;
        }
        match unit {
            UnitId::Crds(_) if !purge => {
                ctx.emit(Event::Kept {
                    unit: unit.clone(),
                    object: unit.title(),
                    reason: "CRDs stay (deleting one deletes every object of its kind); `down --purge` deletes them"
                        .into(),
                });
                continue;
            }
            UnitId::Component(name) => {
                let (release, namespace) = release_of(name, components);
                let helm = ctx.helm().await.map_err(ClusterError::Helm)?;
                helm.uninstall(&release, &namespace, timeout)
                    .await
                    .map_err(|e| ClusterError::Helm(e.to_string()))?;
                ctx.emit(Event::Deleted {
                    unit: unit.clone(),
                    object: format!("helm release {namespace}/{release}"),
                });
                namespaces.entry(namespace).or_insert_with(|| unit.clone());
            }
            _ => {}
        }
        remove_unit(ctx, &h, false, timeout).await?;
        removed += 1;
    }
    for (ns, unit) in namespaces
        .into_iter()
        .filter(|(ns, _)| !(ns == "default" || ns.starts_with("kube-")))
    {
        let r = ObjectRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: String::new(),
            name: ns,
        };
        if purge {
            if ctx.applier.delete(&r).await? {
                ctx.applier.wait_deleted(&r, timeout).await?;
                ctx.emit(Event::Deleted {
                    unit,
                    object: r.to_string(),
                });
            }
        } else {
            ctx.emit(Event::Kept {
                unit,
                object: r.to_string(),
                reason: "a component's namespace stays with what its release left (volume claims, Secrets); \
                         `down --purge` deletes it"
                    .into(),
            });
        }
    }
    Ok(removed)
}

/// A component's release and namespace: from the spec, else the catalog's
/// defaults (a component the spec no longer has).
fn release_of(name: &str, components: &[Component]) -> (String, String) {
    if let Some(c) = components.iter().find(|c| c.name.as_str() == name) {
        return (c.release.clone(), c.namespace.clone());
    }
    match name.parse::<ComponentName>() {
        Ok(c) => (c.entry().release.to_string(), default_home(c).to_string()),
        // Not a component this windlass knows: its history names it, the release is named alike.
        Err(_) => (
            name.to_string(),
            windlass_core::defaults::GATEWAY_CONTROLLER_NAMESPACE.to_string(),
        ),
    }
}
