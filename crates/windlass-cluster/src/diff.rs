//! What `up` would change, decided the way `up` decides it: each object
//! server-side applied as a dry run and compared with the live object
//! (bookkeeping stripped); stale objects and removed units are the ones the
//! engine would prune (`engine::stale_refs`, `engine::removed_units`), and only
//! when the unit still owns them.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use similar::TextDiff;
use windlass_core::plan::NamespaceOrigin;
use windlass_core::render::{Object, to_yaml};
use windlass_core::unit::UnitId;

use crate::ClusterError;
use crate::engine::{self, ApplyUnit, Ctx};
use crate::inventory::ObjectRef;

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

pub(crate) async fn plan(
    ctx: &Ctx,
    units: &[ApplyUnit],
    spec_units: &BTreeSet<UnitId>,
) -> Result<Vec<Change>, ClusterError> {
    let mut changes = Vec::new();
    for unit in units {
        let change = |object: &ObjectRef, action, diff| Change {
            unit: unit.id.clone(),
            object: object.to_string(),
            action,
            diff,
        };
        let history = ctx.store.load(&unit.id).await?;
        let id = history.applyset_id();
        let objects = engine::unit_objects(&history, &unit.objects);
        for o in &objects {
            let r = ObjectRef::of(o);
            let live = ctx.applier.get(&r).await?;
            let dry = match ctx.applier.apply(o, true).await {
                Ok(d) => d,
                Err(ClusterError::Conflict { conflicts, .. }) => {
                    let fields = conflicts
                        .iter()
                        .map(|c| format!("field {} is owned by {}\n", c.field, c.manager))
                        .collect();
                    changes.push(change(&r, Action::Conflict, fields));
                    continue;
                }
                // The namespace unit before it creates the namespace: everything in it is new.
                Err(ClusterError::NamespaceMissing {
                    origin: Some(NamespaceOrigin::Unit(_)),
                    ..
                }) => {
                    changes.push(change(&r, Action::Create, String::new()));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(live) = live else {
                changes.push(change(&r, Action::Create, String::new()));
                continue;
            };
            let (before, after) = (comparable(&live), comparable(&dry));
            if before != after {
                let diff = TextDiff::from_lines(&before, &after)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("live {r}"), &format!("windlass {r}"))
                    .to_string();
                changes.push(change(&r, Action::Update, diff));
            }
        }
        for r in engine::stale_refs(&history, &objects) {
            if engine::owned_live(&ctx.applier, &r, &id).await? == Some(true) {
                changes.push(change(&r, Action::Prune, String::new()));
            }
        }
    }
    for history in engine::removed_units(ctx, spec_units).await? {
        let id = history.applyset_id();
        for r in history.all_refs() {
            if engine::owned_live(&ctx.applier, &r, &id).await? == Some(true) {
                changes.push(Change {
                    unit: history.unit.clone(),
                    object: r.to_string(),
                    action: Action::Prune,
                    diff: String::new(),
                });
            }
        }
    }
    Ok(changes)
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
