//! Checks shared by the cluster tests: apply objects for real, wait for their
//! Deployments, and prove a second apply changes nothing.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::DynamicObject;
use kube::{Api, Client, ResourceExt};
use windlass_testbed::{Error, ObjectApplier, wait_until};

pub fn kind(obj: &DynamicObject) -> &str {
    obj.types.as_ref().map(|t| t.kind.as_str()).unwrap_or_default()
}

pub fn describe(obj: &DynamicObject) -> String {
    format!(
        "{} {}/{}",
        kind(obj),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

/// Applies `objects` with server-side apply; every one must be admitted.
pub async fn apply_admitted(client: &Client, objects: &[DynamicObject]) -> Vec<DynamicObject> {
    let mut applier = ObjectApplier::new(client.clone(), "windlass");
    match applier.apply_all(objects, false).await {
        Ok(applied) => applied,
        Err(err) => panic!("the apiserver refused an object: {err}"),
    }
}

/// Waits until every Deployment among `objects` is Available with all replicas ready.
pub async fn deployments_available(client: &Client, objects: &[DynamicObject]) {
    for obj in objects.iter().filter(|o| kind(o) == "Deployment") {
        let ns = obj.namespace().unwrap_or_default();
        let api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        let name = obj.name_any();
        let what = format!("Deployment {ns}/{name} to become Available");
        let available = wait_until(&what, Duration::from_secs(120), || {
            let api = api.clone();
            let name = name.clone();
            async move {
                let deployment = api.get(&name).await?;
                let wanted = deployment.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                let status = deployment.status.unwrap_or_default();
                let available = status
                    .conditions
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Available" && c.status == "True");
                let done = available
                    && status.ready_replicas.unwrap_or(0) == wanted
                    && status.updated_replicas.unwrap_or(0) == wanted;
                Ok::<_, Error>(done.then_some(()))
            }
        })
        .await;
        if let Err(err) = available {
            panic!("{err}");
        }
    }
}

/// A server-side dry-run apply of the same objects must answer exactly the live
/// objects, and a real re-apply must not bump any resourceVersion.
pub async fn reapply_is_noop(client: &Client, objects: &[DynamicObject]) {
    let mut applier = ObjectApplier::new(client.clone(), "windlass");
    let mut live = BTreeMap::new();
    for obj in objects {
        let (api, _) = applier.api_for(obj).await.expect("discovered kind");
        let current = api.get(&obj.name_any()).await.expect("object exists");
        live.insert(describe(obj), current);
    }
    let dry = applier.apply_all(objects, true).await.expect("dry-run apply admitted");
    for answered in &dry {
        let key = describe(answered);
        let current = &live[&key];
        let (answered_json, current_json) = (
            serde_json::to_value(answered).expect("json"),
            serde_json::to_value(current).expect("json"),
        );
        assert_eq!(
            answered_json, current_json,
            "a server-side dry-run apply of {key} would change it"
        );
    }
    // A real re-apply must leave every object as it was. (Its resourceVersion may
    // still move: the apiserver rewrites some CRD objects, e.g. Gateway API's
    // with defaulted status, even when nothing in them changes.)
    let again = applier.apply_all(objects, false).await.expect("re-apply admitted");
    for answered in &again {
        let key = describe(answered);
        let before = &live[&key];
        assert_eq!(
            answered.metadata.generation, before.metadata.generation,
            "re-applying {key} changed its generation"
        );
        assert_eq!(
            without_resource_version(answered),
            without_resource_version(before),
            "re-applying {key} changed it"
        );
    }
}

fn without_resource_version(obj: &DynamicObject) -> serde_json::Value {
    let mut value = serde_json::to_value(obj).expect("json");
    if let Some(metadata) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        metadata.remove("resourceVersion");
    }
    value
}
