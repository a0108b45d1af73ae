//! Static checks over rendered objects: the production invariants every
//! windlass object must satisfy, and that any YAML from elsewhere can be held
//! to. Each finding names the object, the rule and what is wrong.

mod typed;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::defaults as d;
use crate::render::Object;

pub use typed::round_trips;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `Kind/namespace/name`.
    pub object: String,
    pub rule: &'static str,
    pub message: String,
}

/// The pod spec of a workload object, if it has one.
pub fn pod_spec(o: &Object) -> Option<&Value> {
    match o.kind() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => o.at(&["spec", "template", "spec"]),
        "CronJob" => o.at(&["spec", "jobTemplate", "spec", "template", "spec"]),
        "Pod" => o.at(&["spec"]),
        _ => None,
    }
}

fn as_i64(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_i64)
}

pub fn invariants<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Vec<Finding> {
    let objects: Vec<&Object> = objects.into_iter().collect();
    let mut out = Vec::new();
    let mut push = |o: &Object, rule: &'static str, message: String| {
        out.push(Finding {
            object: o.id(),
            rule,
            message,
        });
    };
    // HPA targets by (namespace, kind, name) -> minReplicas.
    let mut hpa_min: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for o in objects
        .iter()
        .copied()
        .filter(|o| o.kind() == "HorizontalPodAutoscaler")
    {
        let target = |f: &str| {
            o.at(&["spec", "scaleTargetRef", f])
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        hpa_min.insert(
            (o.namespace().to_string(), target("kind"), target("name")),
            as_i64(o.at(&["spec", "minReplicas"])).unwrap_or(1),
        );
    }
    // Replica floor per (namespace, selector) for PDB checks.
    let mut floors: Vec<(String, Value, i64)> = Vec::new();
    for o in objects.iter().copied() {
        let Some(pod) = pod_spec(o) else { continue };
        let key = (o.namespace().to_string(), o.kind().to_string(), o.name().to_string());
        let replicas = as_i64(o.at(&["spec", "replicas"]));
        if let Some(min) = hpa_min.get(&key) {
            if replicas.is_some() {
                push(
                    o,
                    "replicas-with-hpa",
                    "sets `replicas` while an HPA owns the count: every deploy resets the autoscaler".to_string(),
                );
            }
            floors.push((
                o.namespace().to_string(),
                o.at(&["spec", "selector"]).cloned().unwrap_or(Value::Null),
                *min,
            ));
        } else if matches!(o.kind(), "Deployment" | "StatefulSet") {
            floors.push((
                o.namespace().to_string(),
                o.at(&["spec", "selector"]).cloned().unwrap_or(Value::Null),
                replicas.unwrap_or(1),
            ));
        }
        if let Some(sel) = o.at(&["spec", "selector", "matchLabels"]).and_then(Value::as_object) {
            for k in sel.keys() {
                if k != d::LABEL_NAME && k != d::LABEL_INSTANCE {
                    push(
                        o,
                        "unstable-selector",
                        format!("selector uses `{k}`: changing it later fails with `field is immutable`"),
                    );
                }
            }
        }
        pod_checks(o, pod, &mut push);
    }
    for o in objects.iter().copied().filter(|o| o.kind() == "PodDisruptionBudget") {
        let sel = o.at(&["spec", "selector"]).cloned().unwrap_or(Value::Null);
        let floor = floors
            .iter()
            .find(|(ns, s, _)| ns == o.namespace() && *s == sel)
            .map(|(_, _, f)| *f);
        if let Some(mu) = o.at(&["spec", "maxUnavailable"])
            && (mu.as_i64() == Some(0) || mu.as_str() == Some("0%"))
        {
            push(
                o,
                "pdb-blocks-drain",
                "maxUnavailable 0 blocks every node drain".to_string(),
            );
        }
        if let (Some(ma), Some(floor)) = (as_i64(o.at(&["spec", "minAvailable"])), floor)
            && ma >= floor
        {
            push(
                o,
                "pdb-blocks-drain",
                format!("minAvailable {ma} >= replicas {floor} blocks every node drain"),
            );
        }
    }
    out
}

fn pod_checks(o: &Object, pod: &Value, push: &mut impl FnMut(&Object, &'static str, String)) {
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod.get(host).and_then(Value::as_bool) == Some(true) {
            push(
                o,
                "restricted",
                format!("`{host}: true` is not allowed under Pod Security restricted"),
            );
        }
    }
    if pod
        .get("volumes")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().any(|v| v.get("hostPath").is_some()))
    {
        push(
            o,
            "restricted",
            "hostPath volumes are not allowed under Pod Security restricted".to_string(),
        );
    }
    let pod_sc = pod.get("securityContext");
    let pod_non_root = pod_sc.and_then(|s| s.get("runAsNonRoot")).and_then(Value::as_bool) == Some(true);
    let pod_seccomp = pod_sc
        .and_then(|s| s.pointer("/seccompProfile/type"))
        .and_then(Value::as_str);
    let containers = ["initContainers", "containers"]
        .iter()
        .filter_map(|k| pod.get(*k).and_then(Value::as_array))
        .flatten();
    for c in containers {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
        let sc = c.get("securityContext");
        let get = |p: &str| sc.and_then(|s| s.pointer(p));
        if get("/allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false) {
            push(
                o,
                "restricted",
                format!("container `{name}` must set allowPrivilegeEscalation: false"),
            );
        }
        if get("/privileged").and_then(Value::as_bool) == Some(true) {
            push(o, "restricted", format!("container `{name}` is privileged"));
        }
        let drops_all = get("/capabilities/drop")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            push(
                o,
                "restricted",
                format!("container `{name}` must drop ALL capabilities"),
            );
        }
        if !(pod_non_root || get("/runAsNonRoot").and_then(Value::as_bool) == Some(true)) {
            push(
                o,
                "restricted",
                format!("container `{name}` may run as root (set runAsNonRoot: true)"),
            );
        }
        let seccomp = get("/seccompProfile/type").and_then(Value::as_str).or(pod_seccomp);
        if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
            push(
                o,
                "restricted",
                format!("container `{name}` needs seccompProfile RuntimeDefault"),
            );
        }
        if c.get("ports")
            .and_then(Value::as_array)
            .is_some_and(|ps| ps.iter().any(|p| p.get("hostPort").is_some()))
        {
            push(o, "restricted", format!("container `{name}` uses a hostPort"));
        }
        if c.pointer("/resources/requests").is_none() || c.pointer("/resources/limits/memory").is_none() {
            push(
                o,
                "resources",
                format!("container `{name}` needs resource requests and a memory limit"),
            );
        }
        probe_checks(o, name, c, push);
    }
}

fn probe_checks(o: &Object, name: &str, c: &Value, push: &mut impl FnMut(&Object, &'static str, String)) {
    let probes: Vec<(&str, &Value)> = ["startupProbe", "readinessProbe", "livenessProbe"]
        .iter()
        .filter_map(|k| c.get(*k).map(|p| (*k, p)))
        .collect();
    for (i, (a, pa)) in probes.iter().enumerate() {
        for (b, pb) in &probes[i + 1..] {
            if pa == pb {
                push(
                    o,
                    "probes-identical",
                    format!("container `{name}`: {a} and {b} are identical"),
                );
            }
        }
        if pa.pointer("/httpGet/host").is_some() || pa.pointer("/tcpSocket/host").is_some() {
            push(
                o,
                "probe-not-local",
                format!("container `{name}`: {a} targets another host; probes must call the pod itself"),
            );
        }
    }
    if let Some(l) = c.get("livenessProbe") {
        let timeout = as_i64(l.get("timeoutSeconds")).unwrap_or(1);
        let failures = as_i64(l.get("failureThreshold")).unwrap_or(3);
        if timeout < 5 || failures < 3 {
            push(
                o,
                "liveness-too-eager",
                format!(
                    "container `{name}`: liveness timeout {timeout}s x {failures} failures restarts a slow-but-alive process; use >= 5s and >= 3"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment(replicas: Option<i64>, container: Value) -> Object {
        let mut spec = json!({
            "selector": {"matchLabels": {"app.kubernetes.io/name": "a", "app.kubernetes.io/instance": "p"}},
            "template": {"spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                                  "containers": [container]}}
        });
        if let Some(r) = replicas {
            spec["replicas"] = json!(r);
        }
        Object(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "n"}, "spec": spec}),
        )
    }

    fn good_container() -> Value {
        let probe = |period: i64, timeout: i64| json!({"httpGet": {"path": "/h", "port": 80}, "periodSeconds": period, "timeoutSeconds": timeout, "failureThreshold": 3});
        json!({
            "name": "a", "image": "a:1",
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
            "resources": {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}},
            "readinessProbe": probe(10, 3), "livenessProbe": probe(20, 10)
        })
    }

    fn rules(objects: &[Object]) -> Vec<&'static str> {
        invariants(objects).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_good_deployment_passes() {
        assert_eq!(rules(&[deployment(Some(2), good_container())]), Vec::<&str>::new());
    }

    #[test]
    fn catches_each_violation() {
        let hpa = Object(
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a", "namespace": "n"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "minReplicas": 2, "maxReplicas": 4}}),
        );
        assert_eq!(
            rules(&[deployment(Some(2), good_container()), hpa]),
            vec!["replicas-with-hpa"]
        );

        let pdb = Object(
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "a", "namespace": "n"},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "a", "app.kubernetes.io/instance": "p"}}, "minAvailable": 2}}),
        );
        assert_eq!(
            rules(&[deployment(Some(2), good_container()), pdb]),
            vec!["pdb-blocks-drain"]
        );

        let mut c = good_container();
        c["livenessProbe"] = c["readinessProbe"].clone();
        let r = rules(&[deployment(Some(2), c)]);
        assert!(
            r.contains(&"probes-identical") && r.contains(&"liveness-too-eager"),
            "{r:?}"
        );

        let mut c = good_container();
        c["securityContext"] = json!({"privileged": true});
        let r = rules(&[deployment(Some(2), c)]);
        assert_eq!(r, vec!["restricted", "restricted", "restricted"]);

        let mut c = good_container();
        c["readinessProbe"]["httpGet"]["host"] = json!("api.prod.svc");
        assert_eq!(rules(&[deployment(Some(2), c)]), vec!["probe-not-local"]);
    }

    #[test]
    fn round_trip_detects_unknown_fields() {
        let ok = deployment(Some(1), good_container());
        assert_eq!(round_trips(&ok), Ok(true));
        let mut bad = ok.clone();
        bad.0["spec"]["replica"] = json!(3);
        assert!(round_trips(&bad).is_err());
    }
}
