//! What `up` would change, decided the way `up` decides it: each object
//! server-side applied as a dry run and compared with the live object
//! (bookkeeping stripped); stale objects and removed units are the ones the
//! engine would prune (`engine::stale_refs`, `engine::removed_units`), and only
//! when the unit still owns them. A component's CRDs and its release are diffed
//! the same way: the chart rendered by `helm template` with the release's values,
//! applied as a dry run as helm's field manager, plus what the installed
//! revision has that the new one drops.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use similar::TextDiff;
use windlass_core::components::Component;
use windlass_core::plan::NamespaceOrigin;
use windlass_core::render::{Object, to_yaml};
use windlass_core::unit::UnitId;

use crate::engine::{self, ApplyUnit, Ctx};
use crate::history::Outcome;
use crate::inventory::ObjectRef;
use crate::{ClusterError, FIELD_MANAGER};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Prune,
    /// Another field manager owns fields windlass sets; `up` stops unless forced.
    Conflict,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub unit: UnitId,
    pub object: String,
    pub action: Action,
    /// A unified diff (update) or the conflicting fields (conflict).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
}

/// The field manager helm v4 applies a release's objects with (`--server-side`).
const HELM_FIELD_MANAGER: &str = "helm";

pub(crate) async fn plan(
    ctx: &Ctx,
    units: &[ApplyUnit],
    spec_units: &BTreeSet<UnitId>,
) -> Result<Vec<Change>, ClusterError> {
    let mut changes = Vec::new();
    for unit in units {
        let history = ctx.store.load(&unit.id).await?;
        let id = history.applyset_id();
        let current = |digest: String| {
            history
                .latest()
                .is_some_and(|r| r.result == Outcome::Deployed && r.digest == digest)
        };
        let (namespaces, objects) = match (&unit.id, &unit.component) {
            // `up` applies a chart's CRDs again only when the chart changed.
            (UnitId::Crds(_), Some(c)) if current(engine::crds_digest(c)) => continue,
            (UnitId::Crds(_), Some(c)) => (Vec::new(), engine::unit_objects(&history, &chart_crds(ctx, c).await?)),
            (UnitId::Component(_), Some(c)) => {
                let (namespaces, objects) = engine::own_objects(unit, &history);
                // helm runs only when the release's inputs changed or it is not deployed.
                let deployed = engine::release_state(ctx, &c.release, &c.namespace)
                    .await?
                    .is_some_and(|s| s.status == "deployed");
                if !(deployed && current(engine::release_digest(&objects, c))) {
                    changes.extend(release_changes(ctx, &unit.id, c).await?);
                }
                (namespaces, objects)
            }
            _ => (Vec::new(), engine::unit_objects(&history, &unit.applied()?)),
        };
        for o in namespaces.iter().chain(&objects) {
            changes.extend(object_change(ctx, &unit.id, o, FIELD_MANAGER, "windlass").await?);
        }
        for r in engine::stale_refs(&history, &objects) {
            if engine::owned_live(&ctx.applier, &r, &id).await? == Some(true) {
                changes.push(Change::new(&unit.id, &r, Action::Prune, String::new()));
            }
        }
    }
    for history in engine::removed_units(ctx, spec_units).await? {
        let id = history.applyset_id();
        for r in history.all_refs() {
            if engine::owned_live(&ctx.applier, &r, &id).await? == Some(true) {
                changes.push(Change::new(&history.unit, &r, Action::Prune, String::new()));
            }
        }
    }
    Ok(changes)
}

impl Change {
    fn new(unit: &UnitId, object: &ObjectRef, action: Action, diff: String) -> Change {
        Change {
            unit: unit.clone(),
            object: object.to_string(),
            action,
            diff,
        }
    }
}

/// What applying `o` as `manager` would do: a server-side dry run compared with
/// the live object; `None` when nothing would change. `source` names the
/// wanted side in the diff's header (`windlass`, or the release).
async fn object_change(
    ctx: &Ctx,
    unit: &UnitId,
    o: &Value,
    manager: &str,
    source: &str,
) -> Result<Option<Change>, ClusterError> {
    let r = ObjectRef::of(o);
    let live = ctx.applier.get(&r).await?;
    let dry = match ctx.applier.apply_as(o, manager, true).await {
        Ok(d) => d,
        Err(ClusterError::Conflict { conflicts, .. }) => {
            let fields = conflicts
                .iter()
                .map(|c| format!("field {} is owned by {}\n", c.field, c.manager))
                .collect();
            return Ok(Some(Change::new(unit, &r, Action::Conflict, fields)));
        }
        // The namespace unit (or the component) before it creates the namespace,
        // or a kind whose CRD is not applied yet: the object is new.
        Err(
            ClusterError::NamespaceMissing {
                origin: Some(NamespaceOrigin::Unit(_)),
                ..
            }
            | ClusterError::UnknownKind { .. },
        ) if live.is_none() => return Ok(Some(Change::new(unit, &r, Action::Create, String::new()))),
        Err(e) => return Err(e),
    };
    let Some(live) = live else {
        return Ok(Some(Change::new(unit, &r, Action::Create, String::new())));
    };
    let (mut live, mut dry) = (
        serde_json::to_value(&live).unwrap_or_default(),
        serde_json::to_value(&dry).unwrap_or_default(),
    );
    hide_secret_values(&mut live, &mut dry);
    let (before, after) = (comparable(&live), comparable(&dry));
    if before == after {
        return Ok(None);
    }
    let diff = TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("live {r}"), &format!("{source} {r}"))
        .to_string();
    Ok(Some(Change::new(unit, &r, Action::Update, diff)))
}

fn helm_error(e: crate::helm::HelmError) -> ClusterError {
    ClusterError::Helm(e.to_string())
}

/// The CRDs a `crds.NAME` unit takes from its component's chart.
async fn chart_crds(ctx: &Ctx, c: &Component) -> Result<Vec<Value>, ClusterError> {
    let helm = ctx.helm().await.map_err(ClusterError::Helm)?;
    let package = helm.fetch(&c.chart).await.map_err(helm_error)?;
    helm.crds(c, &package).await.map_err(helm_error)
}

/// `component.NAME`: what `helm upgrade` would change — the chart rendered with
/// the release's values against the live objects (server-side dry run as helm's
/// field manager), and the objects of the installed revision the new one drops
/// (helm deletes those).
async fn release_changes(ctx: &Ctx, unit: &UnitId, c: &Component) -> Result<Vec<Change>, ClusterError> {
    let helm = ctx.helm().await.map_err(ClusterError::Helm)?;
    let package = helm.fetch(&c.chart).await.map_err(helm_error)?;
    let mut wanted = helm.manifests(c, &package).await.map_err(helm_error)?;
    place(ctx, &mut wanted, &c.release, &c.namespace).await?;
    let source = format!("release {}", c.release);
    let mut changes = Vec::new();
    for o in &wanted {
        changes.extend(object_change(ctx, unit, o, HELM_FIELD_MANAGER, &source).await?);
    }
    if let Some(mut installed) = helm
        .release_manifest(&c.release, &c.namespace)
        .await
        .map_err(helm_error)?
    {
        // CRDs a chart renders from its templates are the `crds.NAME` unit's.
        installed.retain(|o| !crate::helm::is_crd(o));
        place(ctx, &mut installed, &c.release, &c.namespace).await?;
        let kept: BTreeSet<ObjectRef> = wanted.iter().map(ObjectRef::of).collect();
        for r in installed.iter().map(ObjectRef::of).filter(|r| !kept.contains(r)) {
            if ctx.applier.get(&r).await?.is_some() {
                changes.push(Change::new(unit, &r, Action::Prune, String::new()));
            }
        }
    }
    Ok(changes)
}

/// Makes `helm template`'s objects what helm applies: namespaced objects without
/// a namespace go into the release's, and every object carries helm's ownership
/// annotations naming the release.
async fn place(ctx: &Ctx, objects: &mut [Value], release: &str, namespace: &str) -> Result<(), ClusterError> {
    for o in objects.iter_mut() {
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(annotations) = annotations.as_object_mut() {
                annotations.insert("meta.helm.sh/release-name".into(), release.into());
                annotations.insert("meta.helm.sh/release-namespace".into(), namespace.into());
            }
        }
        let r = ObjectRef::of(o);
        if !r.namespace.is_empty() {
            continue;
        }
        let namespaced = match ctx.applier.namespaced(&r).await {
            Ok(n) => n,
            // A kind whose CRD is not there yet: its object is a create either way.
            Err(ClusterError::UnknownKind { .. }) => true,
            Err(e) => return Err(e),
        };
        if namespaced && let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), Value::String(namespace.to_string()));
        }
    }
    Ok(())
}

/// A Secret's values are never shown: each becomes `(hidden)` on both sides, and
/// `(hidden, changed)` on the wanted side when it differs, so the diff names the
/// keys that change and nothing more.
fn hide_secret_values(live: &mut Value, wanted: &mut Value) {
    if wanted.get("kind").and_then(Value::as_str) != Some("Secret") {
        return;
    }
    for field in ["data", "stringData"] {
        let before = live.get(field).cloned();
        if let Some(m) = wanted.get_mut(field).and_then(Value::as_object_mut) {
            for (k, v) in m.iter_mut() {
                let same = before.as_ref().and_then(|b| b.get(k)) == Some(&*v);
                *v = Value::String(if same { "(hidden)" } else { "(hidden, changed)" }.into());
            }
        }
        if let Some(m) = live.get_mut(field).and_then(Value::as_object_mut) {
            for v in m.values_mut() {
                *v = Value::String("(hidden)".into());
            }
        }
    }
}

/// The object as YAML without what the apiserver keeps for itself.
fn comparable(obj: &impl Serialize) -> String {
    let mut v = serde_json::to_value(obj).unwrap_or_default();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    to_yaml(&Object(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bookkeeping_and_status_do_not_count_as_change() {
        let wanted = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "uid": "u", "resourceVersion": "7", "managedFields": [{}], "creationTimestamp": "t", "generation": 2},
            "data": {"k": "v"}, "status": {"x": 1}});
        assert_eq!(comparable(&live), comparable(&wanted));
        let changed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "w"}});
        assert_ne!(comparable(&changed), comparable(&wanted));
    }

    #[test]
    fn a_secrets_diff_names_the_changed_keys_and_shows_no_value() {
        let secret =
            |data: Value| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data});
        let mut live = secret(json!({"same": "c2FtZQ==", "old": "b2xkLXZhbHVl"}));
        let mut wanted = secret(json!({"same": "c2FtZQ==", "old": "bmV3LXZhbHVl", "added": "YWRkZWQ="}));
        hide_secret_values(&mut live, &mut wanted);
        let diff = TextDiff::from_lines(&comparable(&live), &comparable(&wanted))
            .unified_diff()
            .to_string();
        assert!(
            diff.contains("-  old: (hidden)\n") && diff.contains("+  old: (hidden, changed)\n"),
            "{diff}"
        );
        assert!(diff.contains("+  added: (hidden, changed)\n"), "{diff}");
        assert!(
            diff.lines().all(|l| !l.contains("same") || l.starts_with(' ')),
            "an unchanged key is context at most: {diff}"
        );
        for value in ["c2FtZQ==", "b2xkLXZhbHVl", "bmV3LXZhbHVl", "YWRkZWQ="] {
            assert!(!diff.contains(value), "{diff}");
        }
        // Objects other than Secrets are diffed as they are.
        let mut cm = json!({"kind": "ConfigMap", "data": {"k": "v"}});
        let mut cm2 = cm.clone();
        hide_secret_values(&mut cm, &mut cm2);
        assert_eq!(cm["data"]["k"], "v");
    }

    #[test]
    fn changes_serialize_with_the_unit_id_and_a_kebab_action() {
        let c = Change {
            unit: UnitId::app("shop", "web"),
            object: "ConfigMap/shop/a".into(),
            action: Action::Create,
            diff: String::new(),
        };
        assert_eq!(
            serde_json::to_string(&c).expect("json"),
            r#"{"unit":"app.shop.web","object":"ConfigMap/shop/a","action":"create"}"#
        );
    }
}
