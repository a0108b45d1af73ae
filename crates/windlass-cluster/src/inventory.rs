//! Ownership, recorded the Kubernetes way (KEP-3659 ApplySets): each unit's
//! history Secret is an ApplySet parent, and every object windlass applies for the
//! unit carries `applyset.kubernetes.io/part-of=<id>`. Pruning and `down` touch an
//! object only when the live object still carries the unit's id.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
pub const ID_LABEL: &str = "applyset.kubernetes.io/id";
pub const TOOLING_ANNOTATION: &str = "applyset.kubernetes.io/tooling";
pub const GROUP_KINDS_ANNOTATION: &str = "applyset.kubernetes.io/contains-group-kinds";
pub const NAMESPACES_ANNOTATION: &str = "applyset.kubernetes.io/additional-namespaces";

/// The identity of one object: enough to get or delete it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn of(obj: &Value) -> ObjectRef {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        ObjectRef {
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
        }
    }

    /// `Group` of the apiVersion (`""` for core).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
    }

    /// `Kind.group` as ApplySets spell it (`Service`, `Deployment.apps`).
    pub fn group_kind(&self) -> String {
        match self.group() {
            "" => self.kind.clone(),
            g => format!("{}.{g}", self.kind),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The ApplySet id of a parent Secret, as KEP-3659 defines it:
/// `applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1`.
pub fn applyset_id(parent_name: &str, parent_namespace: &str) -> String {
    let digest = Sha256::digest(format!("{parent_name}.{parent_namespace}.Secret.").as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// Marks an object as a member of the ApplySet `id` (a label, nothing else changes).
pub fn mark(obj: &mut Value, id: &str) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = meta
            .entry("labels")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(PART_OF_LABEL.to_string(), Value::String(id.to_string()));
        }
    }
}

/// Whether a live object belongs to the ApplySet `id`.
pub fn owned_by(live: &Value, id: &str) -> bool {
    live.pointer("/metadata/labels")
        .and_then(|l| l.get(PART_OF_LABEL))
        .and_then(Value::as_str)
        == Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applyset_ids_are_stable_label_values() {
        let id = applyset_id("windlass.shop.production.app.shop.backend", "windlass-system");
        assert_eq!(
            id,
            applyset_id("windlass.shop.production.app.shop.backend", "windlass-system")
        );
        assert!(id.starts_with("applyset-") && id.ends_with("-v1"));
        assert!(id.len() <= 63, "{id}");
        assert_ne!(
            id,
            applyset_id("windlass.shop.production.app.shop.frontend", "windlass-system")
        );
    }

    #[test]
    fn marks_and_recognises_members() {
        let mut obj =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "n"}});
        assert!(!owned_by(&obj, "x"));
        mark(&mut obj, "x");
        assert!(owned_by(&obj, "x"));
        assert!(!owned_by(&obj, "y"));
        let r = ObjectRef::of(&obj);
        assert_eq!(r.group_kind(), "Deployment.apps");
        assert_eq!(r.to_string(), "Deployment/n/a");
    }
}
