//! A platform with more public hosts than one Gateway holds is admitted by the
//! real Gateway API and Envoy Gateway schemas: the Gateways of 64 listeners each
//! (the CRD's own maximum and its unique-name/hostname rules), the EnvoyProxy that
//! merges them, the GatewayClass pointing at it, and every HTTPRoute attached to
//! its host's listener. Server-side dry run, so nothing but namespaces is left to clean up.

mod common;

use std::fmt::Write as _;

use kube::api::DynamicObject;
use windlass_testbed::{ObjectApplier, TestBed};

const APPS: usize = 100;

fn spec() -> String {
    let mut s = String::from(
        "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform:\n  name: many\n  domain: many.example.com\n  \
         email: ops@example.com\n  tls: letsencrypt-prod\napps:\n",
    );
    for i in 0..APPS {
        let _ = write!(
            s,
            "  app{i:03}:\n    image: registry.example.com/app{i}:1.0.0\n    port: 8080\n    hosts: [h{i:03}]\n    health: /healthz\n"
        );
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_gateways_their_merging_proxy_and_every_route_are_admitted() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("windlass.yaml");
    std::fs::write(&file, spec()).expect("writing the spec");
    // Only the traffic objects are parsed: the whole stream is a thousand documents.
    let objects = common::render_kinds(
        &file,
        None,
        &["Namespace", "Gateway", "GatewayClass", "EnvoyProxy", "HTTPRoute"],
    );
    let count = |kind: &str| objects.iter().filter(|o| common::kind(o) == kind).count();
    // 100 apps + Grafana = 101 hosts: 63 (and plain HTTP) + 38 listeners.
    assert_eq!(count("Gateway"), 2);
    assert_eq!(count("EnvoyProxy"), 1);
    assert_eq!(count("GatewayClass"), 1);
    assert!(count("HTTPRoute") > APPS, "every app's routes and Grafana's");

    let _namespaces = common::namespaces_for(&bed, &objects).await;
    let rest: Vec<DynamicObject> = objects
        .iter()
        .filter(|o| common::kind(o) != "Namespace")
        .cloned()
        .collect();
    let mut applier = ObjectApplier::new(bed.client(), "windlass");
    let admitted = applier
        .apply_all(&rest, true)
        .await
        .unwrap_or_else(|err| panic!("the apiserver refused an object: {err}"));
    assert_eq!(admitted.len(), rest.len());
    for gateway in admitted.iter().filter(|o| common::kind(o) == "Gateway") {
        let listeners = gateway.data["spec"]["listeners"].as_array().expect("listeners").len();
        assert!((1..=64).contains(&listeners), "{} listeners", listeners);
    }
}
