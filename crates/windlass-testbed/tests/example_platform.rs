//! The rendered example platform is real: rendered by the actual `windlass` binary,
//! every object is admitted by the test bed's apiserver (HTTPRoute, ServiceMonitor,
//! PrometheusRule and Certificate against the upstream CRD schemas) into namespaces
//! that enforce Pod Security `restricted`, every Deployment becomes Available on
//! kwok nodes, and applying again changes nothing.

mod common;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{DynamicObject, PostParams};
use kube::{Api, ResourceExt};
use windlass_testbed::TestBed;

const EXAMPLE: &str = "examples/platform/windlass.yaml";
/// Every environment of the example: production (Let's Encrypt) and development (self-signed CA).
const ENVIRONMENTS: [&str; 2] = ["production", "development"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rendered_example_platform_is_admitted_and_rolls_out() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    // One environment after the other: both use the same platform component namespaces.
    for environment in ENVIRONMENTS {
        check_environment(&bed, environment).await;
    }
}

async fn check_environment(bed: &TestBed, environment: &str) {
    let client = bed.client();
    let objects = common::render(&common::repo_root().join(EXAMPLE), Some(environment));

    for wanted in [
        "Namespace",
        "Deployment",
        "HTTPRoute",
        "ServiceMonitor",
        "PrometheusRule",
        "Certificate",
    ] {
        assert!(
            objects.iter().any(|o| common::kind(o) == wanted),
            "the rendered example has no {wanted}"
        );
    }
    let namespaces: Vec<&DynamicObject> = objects.iter().filter(|o| common::kind(o) == "Namespace").collect();
    for ns in &namespaces {
        // App namespaces are restricted; components' namespaces get what their pods
        // need: node-exporter and the log collector read the host, the gateway's proxies bind ports.
        let wanted = match ns.name_any().as_str() {
            "monitoring" => "privileged",
            "envoy-gateway-system" => "baseline",
            _ => "restricted",
        };
        assert_eq!(
            ns.labels()
                .get("pod-security.kubernetes.io/enforce")
                .map(String::as_str),
            Some(wanted),
            "rendered Namespace {} does not enforce Pod Security {wanted}",
            ns.name_any()
        );
    }
    let _cleanup = common::namespaces_for(bed, &objects).await;
    common::apply_admitted(&client, &objects).await;
    common::deployments_available(&client, &objects).await;
    common::reapply_is_noop(&client, &objects).await;

    // The same pod template with a privileged container is refused: the
    // restricted enforcement in the rendered namespaces is live.
    let deployment = objects
        .iter()
        .find(|o| common::kind(o) == "Deployment")
        .expect("a Deployment");
    let namespace = deployment.namespace().expect("the Deployment has a namespace");
    let mut template = deployment.data["spec"]["template"].clone();
    template["spec"]["containers"][0]["securityContext"] = serde_json::json!({"privileged": true});
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged-probe", "labels": {"windlass.dev/test": "privileged"}},
        "spec": template["spec"],
    }))
    .expect("a Pod from the Deployment's template");
    match Api::<Pod>::namespaced(client.clone(), &namespace)
        .create(&PostParams::default(), &pod)
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403, "{status:?}");
            assert!(status.message.contains("violates PodSecurity"), "{}", status.message);
        }
        other => panic!("a privileged pod in {namespace} was not refused: {other:?}"),
    }
}
