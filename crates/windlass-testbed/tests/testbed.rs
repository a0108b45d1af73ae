//! The test bed itself: kwok nodes run pods, the upstream CRDs admit (and
//! validate) their objects, Pod Security `restricted` is enforced, and pods can
//! be made to crash-loop or never become Ready.

mod common;

use std::time::Duration;

use common::RESTRICTED_CONTAINER;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DynamicObject, PostParams};
use kube::{Api, ResourceExt};
use windlass_testbed::{Error, ObjectApplier, TestBed, parse_yaml_stream, wait_until};

fn in_namespace(yaml: &str, ns: &str) -> Vec<DynamicObject> {
    let mut objects = parse_yaml_stream(yaml).expect("valid fixture");
    for obj in &mut objects {
        obj.metadata.namespace = Some(ns.to_string());
    }
    objects
}

#[tokio::test]
async fn nodes_are_ready_and_crds_are_established() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let nodes = Api::<Node>::all(bed.client())
        .list(&Default::default())
        .await
        .expect("nodes");
    assert!(
        nodes.items.len() >= 3,
        "expected the kwok nodes, got {}",
        nodes.items.len()
    );
    for node in &nodes.items {
        let ready = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        assert!(ready, "node {} is not Ready", node.name_any());
    }
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(bed.client());
    for name in [
        "servicemonitors.monitoring.coreos.com",
        "podmonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com",
        "probes.monitoring.coreos.com",
        "alertmanagerconfigs.monitoring.coreos.com",
        "certificates.cert-manager.io",
        "issuers.cert-manager.io",
        "clusterissuers.cert-manager.io",
        "httproutes.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "helmrepositories.source.toolkit.fluxcd.io",
        "gitrepositories.source.toolkit.fluxcd.io",
        "ocirepositories.source.toolkit.fluxcd.io",
        "helmreleases.helm.toolkit.fluxcd.io",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "applications.argoproj.io",
        "appprojects.argoproj.io",
    ] {
        let crd = crds
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("CRD {name} missing: {e}"));
        let established = crd
            .status
            .and_then(|s| s.conditions)
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Established" && c.status == "True"));
        assert!(established, "CRD {name} is not Established");
    }
}

#[tokio::test]
async fn a_deployment_rolls_out_and_custom_resources_are_admitted() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let ns = bed.namespace("testbed-rollout").await.expect("namespace");
    let yaml = format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, labels: {{app: web}}}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web{RESTRICTED_CONTAINER}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: 8080}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web}}
spec:
  parentRefs: [{{name: public, namespace: gateways}}]
  hostnames: [web.example.com]
  rules:
  - backendRefs: [{{name: web, port: 80}}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {{name: web}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  endpoints: [{{port: http, path: /metrics, interval: 30s}}]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{name: web}}
spec:
  groups:
  - name: web
    rules:
    - alert: WebDown
      expr: up{{job="web"}} == 0
      for: 5m
      labels: {{severity: critical}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {{name: web}}
spec:
  secretName: web-tls
  dnsNames: [web.example.com]
  issuerRef: {{name: letsencrypt, kind: ClusterIssuer}}
"#
    );
    let objects = in_namespace(&yaml, ns.name());
    common::apply_admitted(&bed.client(), &objects).await;
    common::deployments_available(&bed.client(), &objects).await;
    common::reapply_is_noop(&bed.client(), &objects).await;
}

#[tokio::test]
async fn crd_schemas_are_enforced() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let ns = bed.namespace("testbed-schema").await.expect("namespace");
    // `interval` must match the CRD's duration pattern.
    let objects = in_namespace(
        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: bad}\nspec:\n  selector: {}\n  endpoints: [{port: http, interval: soon}]\n",
        ns.name(),
    );
    let refused = ObjectApplier::new(bed.client(), "windlass")
        .apply_all(&objects, false)
        .await;
    let err = refused.expect_err("an invalid ServiceMonitor must be refused");
    assert!(err.to_string().contains("interval"), "unexpected refusal: {err}");
}

#[tokio::test]
async fn a_privileged_pod_is_refused_in_a_restricted_namespace() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let ns = bed.namespace("testbed-privileged").await.expect("namespace");
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "privileged"},
        "spec": {"containers": [{
            "name": "root", "image": "registry.example/app:1.0.0",
            "securityContext": {"privileged": true}
        }]}
    }))
    .expect("pod");
    let refused = Api::<Pod>::namespaced(bed.client(), ns.name())
        .create(&PostParams::default(), &pod)
        .await;
    match refused {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403, "{status:?}");
            assert!(status.message.contains("violates PodSecurity"), "{}", status.message);
        }
        other => panic!("a privileged pod was not refused by Pod Security: {other:?}"),
    }
}

fn pod_yaml(name: &str, behaviour: Option<&str>) -> String {
    let label = behaviour
        .map(|b| format!("\n  labels: {{windlass.dev/testbed: {b}}}"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}{label}\nspec:\n  containers:\n      - name: app{RESTRICTED_CONTAINER}\n"
    )
}

async fn wait_for_pod(api: &Api<Pod>, name: &str, what: &str, check: impl Fn(&Pod) -> bool) -> Pod {
    let result = wait_until(what, Duration::from_secs(60), || {
        let api = api.clone();
        let name = name.to_string();
        let check = &check;
        async move {
            let pod = api.get(&name).await?;
            Ok::<_, Error>(check(&pod).then_some(pod))
        }
    })
    .await;
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

#[tokio::test]
async fn pods_can_be_made_to_crash_loop_or_never_become_ready() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let ns = bed.namespace("testbed-misbehave").await.expect("namespace");
    let yaml = [
        pod_yaml("healthy", None),
        pod_yaml("crashing", Some("crashloop")),
        pod_yaml("stuck", Some("never-ready")),
    ]
    .join("---\n");
    let objects = in_namespace(&yaml, ns.name());
    common::apply_admitted(&bed.client(), &objects).await;
    let pods: Api<Pod> = Api::namespaced(bed.client(), ns.name());

    wait_for_pod(&pods, "healthy", "the healthy pod to become Ready", ready).await;

    let crashing = wait_for_pod(&pods, "crashing", "the crash-looping pod to restart twice", |pod| {
        pod.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|c| c.first())
            .is_some_and(|c| c.restart_count >= 2)
    })
    .await;
    assert_eq!(phase(&crashing), "Running");
    assert!(!ready(&crashing), "a crash-looping pod must not be Ready");
    let status = &crashing
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default()[0];
    let waiting = status
        .state
        .as_ref()
        .and_then(|s| s.waiting.as_ref())
        .and_then(|w| w.reason.as_deref());
    assert_eq!(waiting, Some("CrashLoopBackOff"));
    let last = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.reason.as_deref());
    assert_eq!(last, Some("OOMKilled"));

    let stuck = wait_for_pod(&pods, "stuck", "the never-ready pod to run", |pod| {
        phase(pod) == "Running"
    })
    .await;
    assert!(!ready(&stuck));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stuck = pods.get("stuck").await.expect("pod");
    assert!(!ready(&stuck), "the never-ready pod became Ready");
    assert_eq!(phase(&stuck), "Running");
}
