//! Readiness gates: plain functions over a workload's typed spec and status,
//! and over the status controllers write on what they serve (a GatewayClass
//! its controller accepted, a Certificate cert-manager issued).
//! `kube-runtime`'s `is_deployment_completed` alone is not enough: a gate must
//! see that the controller observed the latest generation, that every replica
//! is updated, ready and available, and that a rollout can also fail.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use serde_json::Value;

/// Where a workload's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    Ready,
    /// Still rolling out; the text says how far (`1/3 ready`).
    Progressing(String),
    /// Will not become ready without a change; the text says why.
    Failed(String),
}

pub fn deployment(d: &Deployment) -> Rollout {
    let generation = d.metadata.generation.unwrap_or(0);
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(status) = &d.status else {
        return Rollout::Progressing("waiting for the controller".into());
    };
    for c in status.conditions.iter().flatten() {
        if c.type_ == "Progressing" && c.status == "False" && c.reason.as_deref() == Some("ProgressDeadlineExceeded") {
            return Rollout::Failed(format!(
                "progress deadline exceeded: {}",
                c.message.as_deref().unwrap_or("no progress")
            ));
        }
    }
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Progressing("waiting for the controller to observe the new generation".into());
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    if updated < desired {
        return Rollout::Progressing(format!("{updated}/{desired} updated, {ready}/{desired} ready"));
    }
    if total > updated {
        return Rollout::Progressing(format!("{} old replicas pending termination", total - updated));
    }
    if ready < desired || available < desired {
        return Rollout::Progressing(format!("{ready}/{desired} ready, {available}/{desired} available"));
    }
    Rollout::Ready
}

pub fn stateful_set(s: &StatefulSet) -> Rollout {
    let generation = s.metadata.generation.unwrap_or(0);
    let spec = s.spec.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
    let Some(status) = &s.status else {
        return Rollout::Progressing("waiting for the controller".into());
    };
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Progressing("waiting for the controller to observe the new generation".into());
    }
    let on_delete = spec
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        == Some("OnDelete");
    let ready = status.ready_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if ready < desired || available < desired {
        return Rollout::Progressing(format!("{ready}/{desired} ready"));
    }
    if !on_delete {
        let partition = spec
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.partition)
            .unwrap_or(0);
        let updated = status.updated_replicas.unwrap_or(0);
        if updated < desired - partition {
            return Rollout::Progressing(format!("{updated}/{desired} updated"));
        }
        if partition == 0 && status.update_revision.is_some() && status.current_revision != status.update_revision {
            return Rollout::Progressing("waiting for the update revision to become current".into());
        }
    }
    Rollout::Ready
}

pub fn daemon_set(d: &DaemonSet) -> Rollout {
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(status) = &d.status else {
        return Rollout::Progressing("waiting for the controller".into());
    };
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Progressing("waiting for the controller to observe the new generation".into());
    }
    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    let ready = status.number_ready;
    if updated < desired || available < desired || ready < desired {
        return Rollout::Progressing(format!("{ready}/{desired} ready, {updated}/{desired} updated"));
    }
    Rollout::Ready
}

pub fn job(j: &Job) -> Rollout {
    let Some(status) = &j.status else {
        return Rollout::Progressing("waiting for the controller".into());
    };
    for c in status.conditions.iter().flatten() {
        if c.status != "True" {
            continue;
        }
        match c.type_.as_str() {
            "Complete" | "SuccessCriteriaMet" => return Rollout::Ready,
            "Failed" | "FailureTarget" => {
                return Rollout::Failed(format!(
                    "job failed: {}",
                    c.reason.as_deref().or(c.message.as_deref()).unwrap_or("unknown reason")
                ));
            }
            _ => {}
        }
    }
    let completions = j.spec.as_ref().and_then(|s| s.completions).unwrap_or(1);
    Rollout::Progressing(format!("{}/{completions} succeeded", status.succeeded.unwrap_or(0)))
}

/// A condition of `status.conditions` by type.
fn condition<'v>(object: &'v Value, kind: &str) -> Option<&'v Value> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn field<'v>(c: &'v Value, key: &str) -> &'v str {
    c.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Whether the condition speaks of the object's current generation (when it says which).
fn current(object: &Value, c: &Value) -> bool {
    let generation = object.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed = c.get("observedGeneration").and_then(Value::as_i64);
    match (generation, observed) {
        (Some(g), Some(o)) => o >= g,
        _ => true,
    }
}

/// `reason: message`, or whichever of them is set.
fn because(c: &Value) -> String {
    match (field(c, "reason"), field(c, "message")) {
        ("", "") => "no reason given".to_string(),
        (r, "") => r.to_string(),
        ("", m) => m.to_string(),
        (r, m) => format!("{r}: {m}"),
    }
}

/// A Gateway API GatewayClass: ready when its controller has `Accepted` it.
/// A class the controller refuses (bad parameters, an unsupported version) fails.
pub fn gateway_class(g: &Value) -> Rollout {
    let controller = g.pointer("/spec/controllerName").and_then(Value::as_str).unwrap_or("?");
    match condition(g, "Accepted") {
        Some(c) if field(c, "status") == "True" && current(g, c) => Rollout::Ready,
        Some(c) if field(c, "status") == "True" => {
            Rollout::Progressing(format!("waiting for {controller} to observe the new generation"))
        }
        Some(c) if field(c, "status") == "False" && field(c, "reason") != "Pending" => {
            Rollout::Failed(format!("not accepted by {controller}: {}", because(c)))
        }
        _ => Rollout::Progressing(format!(
            "waiting for its controller {controller} to accept it (is that controller installed and running?)"
        )),
    }
}

/// A cert-manager Certificate: ready when `Ready` is True for the current
/// generation; an issuance attempt that failed (cert-manager backs off for an
/// hour and more before the next) fails the gate with cert-manager's message.
pub fn certificate(c: &Value) -> Rollout {
    let ready = condition(c, "Ready");
    if let Some(r) = ready
        && field(r, "status") == "True"
        && current(c, r)
    {
        return Rollout::Ready;
    }
    if let Some(i) = condition(c, "Issuing")
        && field(i, "status") == "False"
        && field(i, "reason") == "Failed"
        && current(c, i)
    {
        return Rollout::Failed(format!("issuance failed: {}", because(i)));
    }
    match ready {
        Some(r) => Rollout::Progressing(format!("Ready {}: {}", field(r, "status"), because(r))),
        None => Rollout::Progressing("waiting for cert-manager to issue it (is cert-manager running?)".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(v: serde_json::Value) -> Deployment {
        serde_json::from_value(v).expect("a Deployment fixture")
    }

    fn done_deployment() -> serde_json::Value {
        json!({
            "metadata": {"name": "a", "generation": 2},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                       "conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}
        })
    }

    #[test]
    fn a_complete_deployment_is_ready() {
        assert_eq!(deployment(&deploy(done_deployment())), Rollout::Ready);
    }

    #[test]
    fn a_stale_observed_generation_is_not_ready_even_when_counts_match() {
        let mut v = done_deployment();
        v["metadata"]["generation"] = json!(3);
        assert!(matches!(deployment(&deploy(v)), Rollout::Progressing(_)));
    }

    #[test]
    fn old_replicas_still_running_are_not_ready() {
        let mut v = done_deployment();
        v["status"]["replicas"] = json!(4);
        assert!(matches!(deployment(&deploy(v)), Rollout::Progressing(m) if m.contains("old replicas")));
    }

    #[test]
    fn unready_replicas_are_counted() {
        let mut v = done_deployment();
        v["status"]["readyReplicas"] = json!(1);
        v["status"]["availableReplicas"] = json!(1);
        assert_eq!(
            deployment(&deploy(v)),
            Rollout::Progressing("1/3 ready, 1/3 available".into())
        );
    }

    #[test]
    fn progress_deadline_exceeded_fails() {
        let mut v = done_deployment();
        v["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"a-1\" has timed out progressing."}]);
        assert!(matches!(deployment(&deploy(v)), Rollout::Failed(m) if m.contains("timed out progressing")));
    }

    #[test]
    fn a_deployment_without_status_waits() {
        let mut v = done_deployment();
        v.as_object_mut().map(|o| o.remove("status"));
        assert!(matches!(deployment(&deploy(v)), Rollout::Progressing(_)));
    }

    #[test]
    fn stateful_sets_wait_for_the_update_revision() {
        let base = json!({
            "metadata": {"name": "db", "generation": 1},
            "spec": {"replicas": 2, "selector": {}, "serviceName": "db", "template": {}},
            "status": {"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2,
                       "currentRevision": "db-1", "updateRevision": "db-1"}
        });
        let s: StatefulSet = serde_json::from_value(base.clone()).expect("fixture");
        assert_eq!(stateful_set(&s), Rollout::Ready);
        let mut v = base;
        v["status"]["updateRevision"] = json!("db-2");
        let s: StatefulSet = serde_json::from_value(v.clone()).expect("fixture");
        assert!(matches!(stateful_set(&s), Rollout::Progressing(_)));
        v["status"]["readyReplicas"] = json!(1);
        let s: StatefulSet = serde_json::from_value(v).expect("fixture");
        assert_eq!(stateful_set(&s), Rollout::Progressing("1/2 ready".into()));
    }

    #[test]
    fn daemon_sets_count_updated_and_available() {
        let v = json!({
            "metadata": {"name": "agent", "generation": 4},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 4, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0,
                       "numberReady": 3, "numberAvailable": 3, "updatedNumberScheduled": 2}
        });
        let d: DaemonSet = serde_json::from_value(v).expect("fixture");
        assert_eq!(daemon_set(&d), Rollout::Progressing("3/3 ready, 2/3 updated".into()));
    }

    #[test]
    fn jobs_complete_or_fail() {
        let complete: Job = serde_json::from_value(
            json!({"status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}}),
        )
        .expect("fixture");
        assert_eq!(job(&complete), Rollout::Ready);
        let failed: Job = serde_json::from_value(
            json!({"status": {"failed": 6, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}),
        )
        .expect("fixture");
        assert_eq!(job(&failed), Rollout::Failed("job failed: BackoffLimitExceeded".into()));
        let running: Job =
            serde_json::from_value(json!({"spec": {"completions": 2, "template": {}}, "status": {"succeeded": 1}}))
                .expect("fixture");
        assert_eq!(job(&running), Rollout::Progressing("1/2 succeeded".into()));
    }

    #[test]
    fn a_gateway_class_is_ready_once_its_controller_accepts_this_generation() {
        let class = |conditions: serde_json::Value| {
            json!({"metadata": {"name": "eg", "generation": 2}, "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
                   "status": {"conditions": conditions}})
        };
        assert_eq!(
            gateway_class(&class(
                json!([{"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": 2}])
            )),
            Rollout::Ready
        );
        assert!(matches!(
            gateway_class(&class(json!([{"type": "Accepted", "status": "True", "observedGeneration": 1}]))),
            Rollout::Progressing(m) if m.contains("new generation")
        ));
        // What the apiserver defaults before any controller looks at it.
        assert!(matches!(
            gateway_class(&class(json!([{"type": "Accepted", "status": "Unknown", "reason": "Pending", "message": "Waiting for controller"}]))),
            Rollout::Progressing(m) if m.contains("gateway.envoyproxy.io/gatewayclass-controller")
        ));
        assert_eq!(
            gateway_class(&class(json!([{"type": "Accepted", "status": "False", "reason": "InvalidParameters", "message": "EnvoyProxy eg not found"}]))),
            Rollout::Failed(
                "not accepted by gateway.envoyproxy.io/gatewayclass-controller: InvalidParameters: EnvoyProxy eg not found"
                    .into()
            )
        );
    }

    #[test]
    fn a_certificate_is_ready_when_issued_and_fails_when_issuance_failed() {
        let cert = |conditions: serde_json::Value| json!({"metadata": {"name": "c", "generation": 1}, "spec": {"secretName": "c"}, "status": {"conditions": conditions}});
        assert_eq!(
            certificate(&cert(
                json!([{"type": "Ready", "status": "True", "observedGeneration": 1}])
            )),
            Rollout::Ready
        );
        assert_eq!(
            certificate(&cert(
                json!([{"type": "Ready", "status": "False", "reason": "DoesNotExist", "message": "Issuing certificate as Secret does not exist"},
                                     {"type": "Issuing", "status": "True", "reason": "DoesNotExist"}])
            )),
            Rollout::Progressing("Ready False: DoesNotExist: Issuing certificate as Secret does not exist".into())
        );
        assert_eq!(
            certificate(&cert(json!([{"type": "Ready", "status": "False", "reason": "DoesNotExist"},
                                     {"type": "Issuing", "status": "False", "reason": "Failed", "message": "The certificate request has failed to complete and will be retried: issuer not ready"}]))),
            Rollout::Failed("issuance failed: Failed: The certificate request has failed to complete and will be retried: issuer not ready".into())
        );
        // A failure of an earlier generation: the changed spec is issued anew.
        assert!(matches!(
            certificate(
                &json!({"metadata": {"name": "c", "generation": 2}, "status": {"conditions": [
                {"type": "Ready", "status": "False", "reason": "DoesNotExist", "observedGeneration": 1},
                {"type": "Issuing", "status": "False", "reason": "Failed", "observedGeneration": 1}]}})
            ),
            Rollout::Progressing(_)
        ));
        assert!(
            matches!(certificate(&json!({"metadata": {"name": "c"}})), Rollout::Progressing(m) if m.contains("cert-manager"))
        );
    }
}
