//! The apply engine: units (the platform, each namespace, each app) applied in
//! the plan's dependency order, each waited for through its readiness gates and
//! put back to its last good revision when it fails. One module per job:
//! `schedule` (which unit runs when), `apply` (one unit), `wait` (readiness
//! gates), `diagnose` (why a rollout is stuck), `prune` (removing what a unit no
//! longer has, and `down`), `rollback` (an earlier revision, on request).

mod apply;
mod component;
mod diagnose;
mod prune;
mod rollback;
mod schedule;
mod wait;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use windlass_core::unit::UnitId;

use crate::apply::Applier;
use crate::history::HistoryStore;

pub(crate) use apply::{stale_refs, unit_objects};
pub(crate) use component::{crds_digest, own_objects, release_digest, release_state};
pub(crate) use prune::{down, owned_live, removed_units};
pub(crate) use rollback::rollback;
pub(crate) use schedule::up;

/// One unit to apply: the plan's unit with its rendered objects.
#[derive(Debug, Clone)]
pub struct ApplyUnit {
    pub id: UnitId,
    /// In apply order.
    pub objects: Vec<Value>,
    /// Units that must be serving before it starts (the plan's `start`).
    pub needs: Vec<UnitId>,
    /// Per object of `objects` (same order; missing = none): units that must be
    /// done before that object is applied. The rest of the unit goes ahead; these
    /// objects are held until then (an app's monitors until the monitoring stack is in).
    pub object_needs: Vec<Vec<UnitId>>,
    /// For `crds.*` and `component.*` units: the component (chart, release, values, gates).
    pub component: Option<Arc<windlass_core::components::Component>>,
    /// For `component.*` units: the component's namespace, ensured before its release
    /// and never pruned with it (components share namespaces).
    pub namespace: Option<Value>,
    /// The unit's Secrets from the SOPS file with their values, decrypted by the caller:
    /// `objects` holds them sealed (no values), which is what the revision history keeps.
    pub secrets: Vec<Value>,
}

impl ApplyUnit {
    /// A unit of objects only (the platform, a namespace, an app).
    pub fn objects(id: UnitId, objects: Vec<Value>, needs: Vec<UnitId>) -> ApplyUnit {
        ApplyUnit {
            id,
            objects,
            needs,
            object_needs: Vec::new(),
            component: None,
            namespace: None,
            secrets: Vec::new(),
        }
    }

    /// The objects as applied: each sealed Secret replaced by its unsealed form.
    pub(crate) fn applied(&self) -> Result<Vec<Value>, crate::ClusterError> {
        let (objects, missing) = unseal(&self.objects, &self.secrets);
        match missing.first() {
            Some(r) => Err(crate::ClusterError::Sealed { object: r.to_string() }),
            None => Ok(objects),
        }
    }
}

/// `objects` with each sealed Secret replaced by the object of `known` with the same
/// identity and the same digests (the values the sealed one stands for), and the
/// sealed Secrets nothing in `known` stands for, which are left out.
pub(crate) fn unseal(objects: &[Value], known: &[Value]) -> (Vec<Value>, Vec<crate::inventory::ObjectRef>) {
    use crate::inventory::ObjectRef;
    use windlass_core::render::sops::{DIGESTS_ANNOTATION, is_sealed};
    let digests = |o: &Value| {
        o.pointer("/metadata/annotations")
            .and_then(|a| a.get(DIGESTS_ANNOTATION))
            .cloned()
    };
    let mut out = Vec::with_capacity(objects.len());
    let mut missing = Vec::new();
    for o in objects {
        if !is_sealed(o) {
            out.push(o.clone());
            continue;
        }
        let r = ObjectRef::of(o);
        let found = known
            .iter()
            .find(|k| !is_sealed(k) && ObjectRef::of(k) == r && digests(k) == digests(o));
        match found {
            Some(k) => {
                // The sealed object's metadata (the unit's ownership mark included), the known values.
                let mut k = k.clone();
                if let (Some(m), Some(meta)) = (k.as_object_mut(), o.get("metadata")) {
                    m.insert("metadata".into(), meta.clone());
                }
                out.push(k);
            }
            None => missing.push(r),
        }
    }
    (out, missing)
}

/// Something that happened, for progress lines and `--output json`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// Another run holds the platform's Lease; this one waits for it.
    WaitingForLease {
        holder: String,
    },
    Applying {
        unit: UnitId,
        objects: usize,
        revision: u32,
    },
    Waiting {
        unit: UnitId,
        message: String,
    },
    Ready {
        unit: UnitId,
        revision: u32,
        changed: bool,
        seconds: f64,
    },
    Pruned {
        unit: UnitId,
        object: String,
    },
    Kept {
        unit: UnitId,
        object: String,
        reason: String,
    },
    Deleted {
        unit: UnitId,
        object: String,
    },
    RolledBack {
        unit: UnitId,
        failed_revision: u32,
        to_revision: u32,
    },
    Failed {
        unit: UnitId,
        reason: String,
        details: Vec<String>,
    },
    Skipped {
        unit: UnitId,
        reason: String,
    },
}

pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;

#[derive(Debug, Clone, Serialize)]
pub struct UnitResult {
    pub unit: UnitId,
    pub ok: bool,
    pub changed: bool,
    pub revision: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub concurrency: usize,
    /// Per unit, for its rollout.
    pub timeout: Duration,
    /// Every unit the whole spec has (whatever `--only` selected): histories of
    /// other units belong to units removed from the spec, and are pruned.
    pub spec_units: BTreeSet<UnitId>,
}

/// What every job of the engine works with.
pub(crate) struct Ctx {
    pub applier: Arc<Applier>,
    pub store: HistoryStore,
    pub events: EventSink,
    /// The cluster helm talks to (the same kubeconfig and context).
    pub target: crate::client::ClusterTarget,
    /// Found and version-checked on first use: only component units need it.
    pub helm: tokio::sync::OnceCell<Result<crate::helm::Helm, String>>,
}

impl Ctx {
    fn emit(&self, e: Event) {
        (self.events)(e);
    }

    pub(crate) async fn helm(&self) -> Result<&crate::helm::Helm, String> {
        self.helm
            .get_or_init(|| async {
                crate::helm::Helm::locate(&self.target, crate::helm::default_cache())
                    .await
                    .map_err(|e| e.to_string())
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// One unit of any kind, to its end (ready, failed and rolled back, or skipped).
pub(super) async fn deploy(ctx: &Ctx, unit: ApplyUnit, timeout: Duration, board: &schedule::Board) -> UnitResult {
    match (&unit.id, unit.component.clone()) {
        (UnitId::Crds(_), Some(c)) => component::crds(ctx, unit, &c, timeout).await,
        (UnitId::Component(_), Some(c)) => component::release(ctx, unit, &c, timeout).await,
        _ => apply::deploy(ctx, unit, timeout, board).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use windlass_core::render::sops::{DIGESTS_ANNOTATION, SOURCE_ANNOTATION};

    fn sealed(digests: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
               "metadata": {"name": "web-sops-db", "namespace": "shop", "labels": {"applyset": "mine"},
                            "annotations": {DIGESTS_ANNOTATION: digests, SOURCE_ANNOTATION: "s.yaml#db"}}})
    }

    fn with_values(sealed: &Value, value: &str) -> Value {
        let mut o = sealed.clone();
        o["data"] = json!({"pw": value});
        o["metadata"]["labels"] = json!({});
        o
    }

    #[test]
    fn a_sealed_secret_is_applied_only_with_values_of_the_same_digests() {
        let (old, new) = (sealed("pw=aaaa"), sealed("pw=bbbb"));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}});
        let known = vec![with_values(&old, "b2xk"), with_values(&new, "bmV3")];
        let (objects, missing) = unseal(&[cm.clone(), new.clone()], &known);
        assert!(missing.is_empty());
        assert_eq!(objects[0], cm);
        assert_eq!(
            objects[1]["data"]["pw"], "bmV3",
            "the values with the sealed object's digests"
        );
        assert_eq!(
            objects[1]["metadata"], new["metadata"],
            "the sealed object's metadata (its owner mark)"
        );
        let (objects, missing) = unseal(std::slice::from_ref(&sealed("pw=cccc")), &known);
        assert!(objects.is_empty(), "never applied without its values");
        assert_eq!(missing.len(), 1);
        let unit = ApplyUnit::objects(UnitId::app("shop", "web"), vec![new], Vec::new());
        assert!(matches!(unit.applied(), Err(crate::ClusterError::Sealed { .. })));
    }
}
