//! Server-side apply of arbitrary objects (a rendered YAML stream) through
//! discovery, the way `kubectl apply --server-side` does it.

use std::collections::HashMap;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::{ApiCapabilities, Scope, pinned_kind};
use kube::{Api, Client, ResourceExt};

use crate::Error;

/// Parses a multi-document YAML stream into objects, skipping empty documents.
pub fn parse_yaml_stream(yaml: &str) -> Result<Vec<DynamicObject>, Error> {
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).map_err(|e| Error::Yaml {
        index: 0,
        message: e.to_string(),
    })?;
    documents
        .into_iter()
        .filter(|doc| !doc.is_null())
        .enumerate()
        .map(|(index, doc)| {
            serde_json::from_value(doc).map_err(|e| Error::Yaml {
                index,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Applies objects with server-side apply, resolving each kind once through
/// discovery.
pub struct ObjectApplier {
    client: Client,
    field_manager: String,
    resources: HashMap<GroupVersionKind, (ApiResource, ApiCapabilities)>,
}

impl ObjectApplier {
    pub fn new(client: Client, field_manager: &str) -> Self {
        Self {
            client,
            field_manager: field_manager.to_string(),
            resources: HashMap::new(),
        }
    }

    /// Applies every object in order (Namespaces and CRDs first), forcing
    /// ownership of conflicting fields; `dry_run` asks the apiserver to admit
    /// and default the objects without persisting them. Returns what the
    /// apiserver answered, in the order applied.
    pub async fn apply_all(&mut self, objects: &[DynamicObject], dry_run: bool) -> Result<Vec<DynamicObject>, Error> {
        let mut ordered: Vec<&DynamicObject> = objects.iter().collect();
        ordered.sort_by_key(|obj| apply_rank(obj));
        let mut applied = Vec::with_capacity(ordered.len());
        for obj in ordered {
            applied.push(self.apply(obj, dry_run).await?);
        }
        Ok(applied)
    }

    /// Applies one object.
    pub async fn apply(&mut self, obj: &DynamicObject, dry_run: bool) -> Result<DynamicObject, Error> {
        let (api, kind) = self.api_for(obj).await?;
        let mut params = PatchParams::apply(&self.field_manager).force();
        params.dry_run = dry_run;
        let name = obj.name_any();
        api.patch(&name, &params, &Patch::Apply(obj))
            .await
            .map_err(|source| Error::Apply {
                kind,
                namespace: obj.namespace().unwrap_or_default(),
                name,
                source: Box::new(source),
            })
    }

    /// The API for an object's kind, scoped to its namespace when namespaced.
    pub async fn api_for(&mut self, obj: &DynamicObject) -> Result<(Api<DynamicObject>, String), Error> {
        let types = obj
            .types
            .as_ref()
            .ok_or_else(|| Error::MissingType { object: obj.name_any() })?;
        let gvk = GroupVersionKind::try_from(types).map_err(|_| Error::MissingType { object: obj.name_any() })?;
        if !self.resources.contains_key(&gvk) {
            let found = pinned_kind(&self.client, &gvk).await?;
            self.resources.insert(gvk.clone(), found);
        }
        let Some((resource, caps)) = self.resources.get(&gvk) else {
            unreachable!("inserted above")
        };
        let api = match (&caps.scope, obj.namespace()) {
            (Scope::Cluster, _) => Api::all_with(self.client.clone(), resource),
            (Scope::Namespaced, Some(ns)) => Api::namespaced_with(self.client.clone(), &ns, resource),
            (Scope::Namespaced, None) => {
                return Err(Error::MissingNamespace {
                    kind: gvk.kind.clone(),
                    name: obj.name_any(),
                });
            }
        };
        Ok((api, gvk.kind))
    }
}

fn apply_rank(obj: &DynamicObject) -> u8 {
    match obj.types.as_ref().map(|t| t.kind.as_str()) {
        Some("Namespace") => 0,
        Some("CustomResourceDefinition") => 1,
        Some("ServiceAccount" | "ConfigMap" | "Secret") => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stream_and_skips_empty_documents() {
        let yaml = "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: a\n";
        let objects = parse_yaml_stream(yaml).expect("valid stream");
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[1].types.as_ref().map(|t| t.kind.as_str()), Some("Deployment"));
        assert_eq!(objects[1].namespace().as_deref(), Some("a"));
    }

    #[test]
    fn namespaces_apply_first() {
        let objects = parse_yaml_stream(
            "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
        )
        .expect("valid stream");
        let mut ordered: Vec<&DynamicObject> = objects.iter().collect();
        ordered.sort_by_key(|obj| apply_rank(obj));
        assert_eq!(ordered[0].name_any(), "a");
    }
}
