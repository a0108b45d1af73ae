//! Server-side apply (field manager `windlass`) of rendered objects, resolved
//! through discovery; conflicts with other managers are reported, not overridden,
//! unless the caller forces them. CRDs are waited for until Established, after
//! which discovery is asked again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PropagationPolicy};
use kube::discovery::{ApiCapabilities, Scope, pinned_kind};
use kube::{Api, Client};
use serde_json::Value;
use windlass_core::plan::NamespaceOrigin;

use crate::error::FieldConflict;
use crate::inventory::ObjectRef;
use crate::retry::with_retry;
use crate::{ClusterError, FIELD_MANAGER};

/// Applies, reads and deletes objects of any kind the apiserver serves.
pub struct Applier {
    client: Client,
    force_conflicts: bool,
    /// Who creates each namespace, for the fix of a "namespace not found".
    namespaces: BTreeMap<String, NamespaceOrigin>,
    resources: Mutex<HashMap<(String, String), (ApiResource, ApiCapabilities)>>,
}

impl Applier {
    pub fn new(client: Client, force_conflicts: bool, namespaces: BTreeMap<String, NamespaceOrigin>) -> Self {
        Applier {
            client,
            force_conflicts,
            namespaces,
            resources: Mutex::new(HashMap::new()),
        }
    }

    pub fn force_conflicts(&self) -> bool {
        self.force_conflicts
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The API of an object's kind, scoped to its namespace when namespaced.
    pub async fn api(&self, r: &ObjectRef) -> Result<Api<DynamicObject>, ClusterError> {
        let (resource, caps) = self.kind(r).await?;
        Ok(match caps.scope {
            Scope::Cluster => Api::all_with(self.client.clone(), &resource),
            Scope::Namespaced if r.namespace.is_empty() => {
                return Err(ClusterError::MissingNamespace {
                    object: r.to_string(),
                    kind: r.kind.clone(),
                });
            }
            Scope::Namespaced => Api::namespaced_with(self.client.clone(), &r.namespace, &resource),
        })
    }

    /// Whether the object's kind lives in namespaces.
    pub async fn namespaced(&self, r: &ObjectRef) -> Result<bool, ClusterError> {
        Ok(matches!(self.kind(r).await?.1.scope, Scope::Namespaced))
    }

    /// The served resource of an object's kind (discovery, cached).
    async fn kind(&self, r: &ObjectRef) -> Result<(ApiResource, ApiCapabilities), ClusterError> {
        let key = (r.api_version.clone(), r.kind.clone());
        if let Some(found) = self.lock().get(&key).cloned() {
            return Ok(found);
        }
        let (group, version) = match r.api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", r.api_version.as_str()),
        };
        let gvk = GroupVersionKind::gvk(group, version, &r.kind);
        let found = with_retry(|| pinned_kind(&self.client, &gvk))
            .await
            .map_err(|e| match e {
                kube::Error::Api(s) if s.code == 404 => ClusterError::UnknownKind {
                    object: r.to_string(),
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                },
                kube::Error::Discovery(_) => ClusterError::UnknownKind {
                    object: r.to_string(),
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                },
                e => ClusterError::api(r.to_string(), e),
            })?;
        self.lock().insert(key, found.clone());
        Ok(found)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), (ApiResource, ApiCapabilities)>> {
        self.resources.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets what discovery said, so newly Established CRDs are found.
    pub fn rediscover(&self) {
        self.lock().clear();
    }

    /// Server-side applies one object; `dry_run` asks the apiserver to admit and
    /// default it without persisting. Returns what the apiserver answered.
    pub async fn apply(&self, obj: &Value, dry_run: bool) -> Result<DynamicObject, ClusterError> {
        self.apply_as(obj, FIELD_MANAGER, dry_run).await
    }

    /// [`Applier::apply`] as another field manager (helm's, for a release's objects).
    pub async fn apply_as(&self, obj: &Value, manager: &str, dry_run: bool) -> Result<DynamicObject, ClusterError> {
        let r = ObjectRef::of(obj);
        let api = self.api(&r).await?;
        let mut params = PatchParams::apply(manager);
        params.force = self.force_conflicts;
        params.dry_run = dry_run;
        let patch = Patch::Apply(obj);
        let answered = with_retry(|| api.patch(&r.name, &params, &patch))
            .await
            .map_err(|e| conflict_or(r.to_string(), e).with_namespace_origin(|ns| self.namespaces.get(ns).cloned()))?;
        if r.kind == "CustomResourceDefinition" && !dry_run {
            self.wait_established(&r.name, Duration::from_secs(60)).await?;
            self.rediscover();
        }
        Ok(answered)
    }

    pub async fn get(&self, r: &ObjectRef) -> Result<Option<DynamicObject>, ClusterError> {
        let api = match self.api(r).await {
            Ok(api) => api,
            // A kind the cluster no longer serves has no live objects.
            Err(ClusterError::UnknownKind { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        with_retry(|| api.get_opt(&r.name))
            .await
            .map_err(|e| ClusterError::api(r.to_string(), e))
    }

    /// Deletes an object (foreground, so its dependents go first); `false` when it was already gone.
    pub async fn delete(&self, r: &ObjectRef) -> Result<bool, ClusterError> {
        let api = self.api(r).await?;
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match with_retry(|| api.delete(&r.name, &params)).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(ClusterError::api(r.to_string(), e)),
        }
    }

    /// Waits until an object is gone.
    pub async fn wait_deleted(&self, r: &ObjectRef, timeout: Duration) -> Result<(), ClusterError> {
        let start = Instant::now();
        while self.get(r).await?.is_some() {
            if start.elapsed() > timeout {
                return Err(ClusterError::DeleteTimeout {
                    object: r.to_string(),
                    seconds: timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(())
    }

    async fn wait_established(&self, name: &str, timeout: Duration) -> Result<(), ClusterError> {
        let api: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        let start = Instant::now();
        loop {
            let crd = with_retry(|| api.get(name))
                .await
                .map_err(|e| ClusterError::api(format!("CustomResourceDefinition/{name}"), e))?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(ClusterError::CrdTimeout {
                    name: name.to_string(),
                    seconds: timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A 409 of a server-side apply names each conflicting field and its manager.
fn conflict_or(object: String, e: kube::Error) -> ClusterError {
    if let kube::Error::Api(status) = &e
        && status.code == 409
    {
        let conflicts = parse_conflicts(status);
        if !conflicts.is_empty() {
            return ClusterError::Conflict { object, conflicts };
        }
    }
    ClusterError::api(object, e)
}

pub fn parse_conflicts(status: &kube::core::Status) -> Vec<FieldConflict> {
    let causes = status.details.as_ref().map(|d| d.causes.as_slice()).unwrap_or_default();
    causes
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict" || !c.field.is_empty())
        .map(|c| FieldConflict {
            field: c.field.clone(),
            // `conflict with "kubectl-edit" using apps/v1`
            manager: c.message.split('"').nth(1).unwrap_or(c.message.as_str()).to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use kube::core::response::{StatusCause, StatusDetails};

    #[test]
    fn conflicts_name_field_and_manager() {
        let status = Status::failure("Apply failed with 1 conflict", "Conflict")
            .with_code(409)
            .with_details(StatusDetails {
                causes: vec![StatusCause {
                    reason: "FieldManagerConflict".into(),
                    message: "conflict with \"kubectl-edit\" using apps/v1".into(),
                    field: ".spec.replicas".into(),
                }],
                name: "web".into(),
                group: "apps".into(),
                kind: "deployments".into(),
                uid: String::new(),
                retry_after_seconds: 0,
            });
        assert_eq!(
            parse_conflicts(&status),
            vec![FieldConflict {
                field: ".spec.replicas".into(),
                manager: "kubectl-edit".into()
            }]
        );
    }
}
