//! A rendered Kubernetes object: built from a typed struct (k8s-openapi or one
//! of our CRD structs), held as JSON so every sink (files, cluster) treats all
//! kinds alike.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Object(pub Value);

impl Object {
    /// Serialises a typed object. Typed objects always serialise; a failure is a bug in windlass.
    pub fn from_typed<T: Serialize>(typed: &T) -> Object {
        match serde_json::to_value(typed) {
            Ok(v) => Object(v),
            Err(e) => panic!("windlass bug: a typed object failed to serialise: {e}"),
        }
    }

    /// The value at a path of object keys (no allocation, unlike `Value::pointer`).
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(&self.0, |v, k| v.get(k))
    }

    /// The items of the list at a path (none when it is absent or not a list).
    pub fn list(&self, path: &[&str]) -> impl Iterator<Item = &Value> {
        self.at(path).and_then(Value::as_array).into_iter().flatten()
    }

    fn str_at(&self, path: &[&str]) -> &str {
        self.at(path).and_then(Value::as_str).unwrap_or("")
    }

    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"])
    }
    pub fn kind(&self) -> &str {
        self.str_at(&["kind"])
    }
    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"])
    }
    /// Empty for cluster-scoped objects.
    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"])
    }
    pub fn labels(&self) -> Option<&serde_json::Map<String, Value>> {
        self.at(&["metadata", "labels"]).and_then(Value::as_object)
    }

    /// `Kind/namespace/name`, for messages.
    pub fn id(&self) -> String {
        if self.namespace().is_empty() {
            format!("{}/{}", self.kind(), self.name())
        } else {
            format!("{}/{}/{}", self.kind(), self.namespace(), self.name())
        }
    }
}
