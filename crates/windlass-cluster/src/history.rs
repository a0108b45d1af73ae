//! A bounded revision history per unit, kept in the cluster like Helm's release
//! history but compact: one Secret per unit in `windlass-system`, holding the last
//! revisions' rendered objects gzip-compressed. The Secret is also the unit's
//! ApplySet parent (see `inventory`), so ownership and history are one object.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use windlass_core::unit::UnitId;

use crate::inventory::{self, ObjectRef};
use crate::retry::with_retry;
use crate::{ClusterError, FIELD_MANAGER, STATE_NAMESPACE};

/// How many revisions a unit keeps.
pub const KEEP: usize = 10;
const DATA_KEY: &str = "revisions.json.gz";
const SECRET_TYPE: &str = "windlass.dev/history";
pub const PLATFORM_LABEL: &str = "windlass.dev/platform";
pub const ENVIRONMENT_LABEL: &str = "windlass.dev/environment";
pub const UNIT_ANNOTATION: &str = "windlass.dev/unit";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Being applied, or the run was interrupted: its objects may be live.
    Pending,
    Deployed,
    /// Failed and put back to the previous good revision.
    Failed,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Pending => "pending",
            Outcome::Deployed => "deployed",
            Outcome::Failed => "failed",
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revision {
    pub revision: u32,
    /// sha256 of the applied objects: equal digests mean nothing to change.
    pub digest: String,
    /// RFC 3339.
    pub at: String,
    pub result: Outcome,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub objects: Vec<Value>,
}

impl Revision {
    /// A revision recorded before anything of it is applied, stamped now.
    pub fn pending(revision: u32, digest: String, message: String, objects: Vec<Value>) -> Revision {
        Revision {
            revision,
            digest,
            at: now(),
            result: Outcome::Pending,
            message,
            objects,
        }
    }

    pub fn refs(&self) -> impl Iterator<Item = ObjectRef> + '_ {
        self.objects.iter().map(ObjectRef::of)
    }

    /// Container images of the revision's workloads.
    pub fn images(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        for o in &self.objects {
            let spec = match o.get("kind").and_then(Value::as_str) {
                Some("CronJob") => o.pointer("/spec/jobTemplate/spec/template/spec"),
                _ => o.pointer("/spec/template/spec"),
            };
            for c in spec
                .and_then(|s| s.get("containers"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(image) = c.get("image").and_then(Value::as_str) {
                    out.insert(image.to_string());
                }
            }
        }
        out.into_iter().collect()
    }
}

pub fn digest(objects: &[Value]) -> String {
    let mut h = Sha256::new();
    for o in objects {
        h.update(o.to_string().as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// One unit's history, oldest revision first.
#[derive(Debug, Clone)]
pub struct History {
    pub unit: UnitId,
    pub secret_name: String,
    pub revisions: Vec<Revision>,
}

impl History {
    pub fn applyset_id(&self) -> String {
        inventory::applyset_id(&self.secret_name, STATE_NAMESPACE)
    }

    pub fn latest(&self) -> Option<&Revision> {
        self.revisions.last()
    }

    pub fn last_deployed(&self) -> Option<&Revision> {
        self.revisions.iter().rev().find(|r| r.result == Outcome::Deployed)
    }

    pub fn get(&self, revision: u32) -> Option<&Revision> {
        self.revisions.iter().find(|r| r.revision == revision)
    }

    pub fn next_number(&self) -> u32 {
        self.latest().map_or(1, |r| r.revision + 1)
    }

    /// Every object any kept revision applied: the candidates for pruning.
    pub fn all_refs(&self) -> BTreeSet<ObjectRef> {
        self.revisions.iter().flat_map(Revision::refs).collect()
    }

    pub fn push(&mut self, revision: Revision) {
        self.revisions.retain(|r| r.revision != revision.revision);
        self.revisions.push(revision);
        let excess = self.revisions.len().saturating_sub(KEEP);
        self.revisions.drain(..excess);
    }
}

/// Reads and writes the histories of one platform and environment.
#[derive(Clone)]
pub struct HistoryStore {
    api: Api<Secret>,
    client: Client,
    pub platform: String,
    pub environment: String,
}

impl HistoryStore {
    pub fn new(client: Client, platform: &str, environment: &str) -> Self {
        HistoryStore {
            api: Api::namespaced(client.clone(), STATE_NAMESPACE),
            client,
            platform: platform.to_string(),
            environment: environment.to_string(),
        }
    }

    pub fn secret_name(&self, unit: &UnitId) -> String {
        format!("windlass.{}.{}.{unit}", self.platform, self.environment)
    }

    /// Creates `windlass-system` when missing (server-side apply, idempotent).
    pub async fn ensure_namespace(&self) -> Result<(), ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": STATE_NAMESPACE}});
        let (params, patch) = (PatchParams::apply(FIELD_MANAGER), Patch::Apply(&ns));
        with_retry(|| api.patch(STATE_NAMESPACE, &params, &patch))
            .await
            .map(|_| ())
            .map_err(|e| ClusterError::api(format!("Namespace/{STATE_NAMESPACE}"), e))
    }

    pub async fn load(&self, unit: &UnitId) -> Result<History, ClusterError> {
        let name = self.secret_name(unit);
        let secret = with_retry(|| self.api.get_opt(&name))
            .await
            .map_err(|e| ClusterError::api(format!("Secret/{STATE_NAMESPACE}/{name}"), e))?;
        match secret {
            Some(s) => decode(&s),
            None => Ok(History {
                unit: unit.clone(),
                secret_name: name,
                revisions: Vec::new(),
            }),
        }
    }

    /// Every unit history of this platform and environment.
    pub async fn list(&self) -> Result<Vec<History>, ClusterError> {
        let selector = format!(
            "{PLATFORM_LABEL}={},{ENVIRONMENT_LABEL}={}",
            self.platform, self.environment
        );
        let params = ListParams::default().labels(&selector);
        let list = with_retry(|| self.api.list(&params))
            .await
            .map_err(|e| ClusterError::api(format!("Secrets in {STATE_NAMESPACE}"), e))?;
        list.items.iter().map(decode).collect()
    }

    pub async fn save(&self, history: &History) -> Result<(), ClusterError> {
        let unwritable = |reason: String| ClusterError::HistoryUnwritable {
            unit: history.unit.clone(),
            reason,
        };
        let json = serde_json::to_vec(&history.revisions).map_err(|e| unwritable(e.to_string()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&json).map_err(|e| unwritable(e.to_string()))?;
        let bytes = gz.finish().map_err(|e| unwritable(e.to_string()))?;
        let refs: BTreeSet<ObjectRef> = history.all_refs();
        let group_kinds: BTreeSet<String> = refs.iter().map(ObjectRef::group_kind).collect();
        let namespaces: BTreeSet<&str> = refs
            .iter()
            .map(|r| r.namespace.as_str())
            .filter(|n| !n.is_empty() && *n != STATE_NAMESPACE)
            .collect();
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(history.secret_name.clone()),
                namespace: Some(STATE_NAMESPACE.to_string()),
                labels: Some(BTreeMap::from([
                    (inventory::ID_LABEL.to_string(), history.applyset_id()),
                    (PLATFORM_LABEL.to_string(), self.platform.clone()),
                    (ENVIRONMENT_LABEL.to_string(), self.environment.clone()),
                ])),
                annotations: Some(BTreeMap::from([
                    (
                        inventory::TOOLING_ANNOTATION.to_string(),
                        format!("windlass/v{}", env!("CARGO_PKG_VERSION")),
                    ),
                    (
                        inventory::GROUP_KINDS_ANNOTATION.to_string(),
                        group_kinds.into_iter().collect::<Vec<_>>().join(","),
                    ),
                    (
                        inventory::NAMESPACES_ANNOTATION.to_string(),
                        namespaces.into_iter().collect::<Vec<_>>().join(","),
                    ),
                    (UNIT_ANNOTATION.to_string(), history.unit.to_string()),
                ])),
                ..ObjectMeta::default()
            },
            type_: Some(SECRET_TYPE.to_string()),
            data: Some(BTreeMap::from([(DATA_KEY.to_string(), ByteString(bytes))])),
            ..Secret::default()
        };
        let mut value = serde_json::to_value(&secret).map_err(|e| unwritable(e.to_string()))?;
        value["apiVersion"] = Value::String("v1".into());
        value["kind"] = Value::String("Secret".into());
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let patch = Patch::Apply(&value);
        with_retry(|| self.api.patch(&history.secret_name, &params, &patch))
            .await
            .map(|_| ())
            .map_err(|e| ClusterError::api(format!("Secret/{STATE_NAMESPACE}/{}", history.secret_name), e))
    }

    pub async fn delete(&self, history: &History) -> Result<(), ClusterError> {
        let params = DeleteParams::default();
        match with_retry(|| self.api.delete(&history.secret_name, &params)).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(ClusterError::api(
                format!("Secret/{STATE_NAMESPACE}/{}", history.secret_name),
                e,
            )),
        }
    }
}

/// A history Secret read back (its revisions gunzipped).
pub fn decode(secret: &Secret) -> Result<History, ClusterError> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let bad = |reason: String| ClusterError::HistoryUnreadable {
        secret: name.clone(),
        reason,
    };
    let unit = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(UNIT_ANNOTATION))
        .ok_or_else(|| bad(format!("it has no {UNIT_ANNOTATION} annotation")))?
        .parse::<UnitId>()
        .map_err(|e| bad(format!("its {UNIT_ANNOTATION} annotation: {e}")))?;
    let revisions = match secret.data.as_ref().and_then(|d| d.get(DATA_KEY)) {
        None => Vec::new(),
        Some(bytes) => {
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(bytes.0.as_slice())
                .read_to_end(&mut json)
                .map_err(|e| bad(format!("its revisions are not gzip data ({e})")))?;
            serde_json::from_slice(&json)
                .map_err(|e| bad(format!("its revisions are not what windlass writes ({e})")))?
        }
    };
    Ok(History {
        unit,
        secret_name: name,
        revisions,
    })
}

/// Now, RFC 3339 (the clock is read here, at the edge).
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .round(k8s_openapi::jiff::Unit::Second)
        .map_or_else(|_| String::new(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rev(n: u32, result: Outcome) -> Revision {
        Revision {
            revision: n,
            digest: format!("d{n}"),
            at: String::new(),
            result,
            message: String::new(),
            objects: vec![
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{n}"), "namespace": "a"}}),
            ],
        }
    }

    #[test]
    fn history_is_bounded_and_finds_the_last_good_revision() {
        let mut h = History {
            unit: UnitId::app("a", "b"),
            secret_name: "s".into(),
            revisions: Vec::new(),
        };
        for n in 1..=12 {
            h.push(rev(n, if n == 12 { Outcome::Failed } else { Outcome::Deployed }));
        }
        assert_eq!(h.revisions.len(), KEEP);
        assert_eq!(h.revisions[0].revision, 3);
        assert_eq!(h.last_deployed().map(|r| r.revision), Some(11));
        assert_eq!(h.next_number(), 13);
        assert_eq!(h.all_refs().len(), KEEP);
    }

    #[test]
    fn secrets_round_trip() {
        let mut h = History {
            unit: UnitId::app("a", "b"),
            secret_name: "windlass.p.e.app.a.b".into(),
            revisions: vec![rev(1, Outcome::Deployed)],
        };
        h.revisions[0].objects[0]["spec"] = json!({"template": {"spec": {"containers": [{"image": "x:1"}]}}});
        let json = serde_json::to_vec(&h.revisions).expect("json");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&json).expect("gzip");
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(h.secret_name.clone()),
                annotations: Some(BTreeMap::from([(UNIT_ANNOTATION.to_string(), "app.a.b".to_string())])),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([(
                DATA_KEY.to_string(),
                ByteString(gz.finish().expect("gzip")),
            )])),
            ..Secret::default()
        };
        let back = decode(&secret).expect("decodes");
        assert_eq!(back.unit, UnitId::app("a", "b"));
        assert_eq!(back.revisions[0].images(), vec!["x:1".to_string()]);
    }

    #[test]
    fn a_history_with_a_foreign_unit_annotation_is_named_unreadable() {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some("windlass.p.e.x".into()),
                annotations: Some(BTreeMap::from([(UNIT_ANNOTATION.to_string(), "chart.x".to_string())])),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        };
        assert_eq!(
            decode(&secret).map(|h| h.unit).map_err(|e| e.to_string()),
            Err("the revision history Secret windlass-system/windlass.p.e.x cannot be read: its windlass.dev/unit annotation: \
                 `chart.x` is not a unit: units are `platform`, `namespace.NAMESPACE`, `app.NAMESPACE.NAME`, `crds.COMPONENT` and `component.COMPONENT`\n  \
                 help: something other than windlass changed it; delete it (`kubectl -n windlass-system delete secret windlass.p.e.x`) \
                 to start that unit's history afresh"
                .to_string())
        );
    }
}
