//! The apply engine on the real test bed, through the real binary: first deploy,
//! no-op re-run, diff exit codes, image bump, conflicts, the Lease, a never-ready
//! rollout rolled back, pruning a removed app, and `down` sparing what others own.

mod common;

use common::{text, windlass};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use windlass_testbed::TestBed;

fn spec(name: &str, apps_ns: &str, gw: &str, mon: &str, web_image: &str, web_labels: &str, with_api: bool) -> String {
    let mut s = format!(
        "apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: {name}
  domain: {name}.example.com
  email: ops@example.com
  tls: letsencrypt-staging
  namespace: {apps_ns}
  traffic: {{ mode: gateway, namespace: {gw} }}
  monitoring: {{ namespace: {mon} }}
apps:
  web:
    image: {web_image}
    port: 8080
    health: /healthz
    replicas: 2
    labels: {{ {web_labels} }}
"
    );
    if with_api {
        s.push_str(
            "  api:\n    image: ghcr.io/example/api:1.0.0\n    port: 8080\n    health: /healthz\n    needs: [web]\n",
        );
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_status_diff_rollback_prune_and_down_on_the_test_bed() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let client = bed.client();
    let gw = bed.namespace("wl-gw").await.expect("namespace");
    let mon = bed.namespace("wl-mon").await.expect("namespace");
    let name = gw.name().trim_start_matches("wl-gw-").to_string();
    let platform = format!("p{name}");
    let apps_ns = format!("apps-{name}");
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |image: &str, labels: &str, with_api: bool| {
        std::fs::write(
            dir.path().join("windlass.yaml"),
            spec(&platform, &apps_ns, gw.name(), mon.name(), image, labels, with_api),
        )
        .expect("write spec")
    };
    let kc = bed.kubeconfig().to_path_buf();
    let run = |args: &[&str]| windlass(dir.path(), &kc, args);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &apps_ns);

    // First deploy: everything ready, in order.
    write("ghcr.io/example/web:1.0.0", "tier: web", true);
    let first = run(&["up", "--timeout", "120"]);
    assert!(first.status.success(), "first up failed:\n{}", text(&first));
    let web = deployments.get("web").await.expect("web exists");
    assert_eq!(web.status.as_ref().and_then(|s| s.ready_replicas), Some(2));
    let before: Vec<(String, String)> = deployments
        .list(&Default::default())
        .await
        .expect("list")
        .items
        .iter()
        .map(|d| (d.name_any(), d.resource_version().unwrap_or_default()))
        .collect();

    // Re-run: nothing patched.
    let again = run(&["up"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 changed"), "{}", text(&again));
    let after: Vec<(String, String)> = deployments
        .list(&Default::default())
        .await
        .expect("list")
        .items
        .iter()
        .map(|d| (d.name_any(), d.resource_version().unwrap_or_default()))
        .collect();
    assert_eq!(before, after, "a no-op up changed a Deployment");
    let diff = run(&["diff"]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));

    // Image change: diff says so (exit 1), up rolls it out as revision 2.
    write("ghcr.io/example/web:1.1.0", "tier: web", true);
    let diff = run(&["diff"]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    assert!(
        text(&diff).contains("+        image: ghcr.io/example/web:1.1.0"),
        "{}",
        text(&diff)
    );
    let bump = run(&["up", "--timeout", "120"]);
    assert!(bump.status.success(), "{}", text(&bump));
    let status = run(&["status", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    let web_status = &json["apps"][0];
    assert_eq!(web_status["app"], "web");
    assert_eq!(web_status["revision"], 2);
    assert_eq!(web_status["images"][0], "ghcr.io/example/web:1.1.0");

    // Someone else's object in the app namespace.
    let foreign: Api<ConfigMap> = Api::namespaced(client.clone(), &apps_ns);
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "not-windlass"}, "data": {"a": "b"}}))
            .expect("configmap");
    foreign
        .create(&PostParams::default(), &cm)
        .await
        .expect("foreign configmap");

    // A field taken by another manager is a conflict, named; --force-conflicts takes it back.
    let intrusion = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    deployments
        .patch(
            "web",
            &PatchParams::apply("intruder").force(),
            &Patch::Apply(&intrusion),
        )
        .await
        .expect("intruder apply");
    let conflict = run(&["up", "--timeout", "60"]);
    assert_eq!(conflict.status.code(), Some(3), "{}", text(&conflict));
    assert!(
        text(&conflict).contains("field .spec.replicas is owned by intruder"),
        "{}",
        text(&conflict)
    );
    let forced = run(&["up", "--force-conflicts", "--timeout", "120"]);
    assert!(forced.status.success(), "{}", text(&forced));

    // Two ups at once serialize on the Lease.
    write("ghcr.io/example/web:1.2.0", "tier: web", true);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run(&["up", "--timeout", "120"]));
        let b = s.spawn(|| run(&["up", "--timeout", "120"]));
        (a.join().expect("thread"), b.join().expect("thread"))
    });
    assert!(a.status.success() && b.status.success(), "{}\n{}", text(&a), text(&b));
    assert!(
        text(&a).contains("waiting for the Lease") || text(&b).contains("waiting for the Lease"),
        "neither up waited for the other:\n{}\n{}",
        text(&a),
        text(&b)
    );

    // A pod that never becomes Ready: rolled back to the last good revision, exit 3, reason named.
    write("ghcr.io/example/web:2.0.0", "windlass.dev/testbed: never-ready", true);
    let bad = run(&["up", "--timeout", "20"]);
    assert_eq!(bad.status.code(), Some(3), "{}", text(&bad));
    let out = text(&bad);
    assert!(out.contains("rolled back"), "{out}");
    assert!(out.contains("pod web-") && out.contains("Ready=False"), "{out}");
    let web = deployments.get("web").await.expect("web");
    let image = web
        .spec
        .and_then(|s| s.template.spec)
        .map(|s| s.containers[0].image.clone());
    assert_eq!(image, Some(Some("ghcr.io/example/web:1.2.0".to_string())));

    // Removing an app prunes exactly its objects.
    write("ghcr.io/example/web:1.2.0", "tier: web", false);
    let pruned = run(&["up", "--timeout", "120"]);
    assert!(pruned.status.success(), "{}", text(&pruned));
    assert!(
        deployments.get_opt("api").await.expect("get").is_none(),
        "api was not pruned"
    );
    assert!(
        deployments.get_opt("web").await.expect("get").is_some(),
        "web was pruned"
    );
    assert!(foreign.get_opt("not-windlass").await.expect("get").is_some());

    // down: everything windlass owns goes; the foreign ConfigMap (and so its namespace) stays.
    let down = run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(deployments.get_opt("web").await.expect("get").is_none());
    assert!(foreign.get_opt("not-windlass").await.expect("get").is_some());
    assert!(text(&down).contains("kept Namespace"), "{}", text(&down));
    let diff = run(&["diff"]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));

    let _ = Api::<Namespace>::all(client)
        .delete(&apps_ns, &DeleteParams::background())
        .await;
}
