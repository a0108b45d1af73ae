//! The apply engine against an apiserver that dies mid-run, on the real test bed
//! through the real binary: `windlass up` of a chain of apps is started, the test
//! bed's kube-apiserver is killed (SIGKILL) and started again while the run is
//! waiting on the first app; the interrupted run must finish or fail with a clear
//! error (never a panic), a re-run must converge, `status` must show every app,
//! and every object in the platform's namespaces must carry windlass's ApplySet
//! label and be recorded in its history.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{platform_header, show, text, windlass, windlass_cmd};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams};
use kube::{Api, ResourceExt};
use windlass_cluster::history::HistoryStore;
use windlass_cluster::inventory::{ObjectRef, PART_OF_LABEL};
use windlass_testbed::{TestBed, restart_apiserver, wait_until};

const APPS: [&str; 4] = ["web", "api", "worker", "admin"];

fn spec(name: &str, apps_ns: &str, gw: &str, mon: &str) -> String {
    let mut s = platform_header(name, apps_ns, gw, mon);
    // A chain, so the run is still going when the apiserver dies.
    for (i, app) in APPS.iter().enumerate() {
        s.push_str(&format!(
            "  {app}:\n    image: ghcr.io/example/{app}:1.0.0\n    port: 8080\n    health: /healthz\n    replicas: 2\n"
        ));
        if i > 0 {
            s.push_str(&format!("    needs: [{}]\n", APPS[i - 1]));
        }
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)]
async fn up_survives_an_apiserver_restart_and_a_rerun_converges() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let client = bed.client();
    let gw = bed.namespace("wr-gw").await.expect("namespace");
    let mon = bed.namespace("wr-mon").await.expect("namespace");
    let name = gw.name().trim_start_matches("wr-gw-").to_string();
    let platform = format!("r{name}");
    let apps_ns = format!("rapps-{name}");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("windlass.yaml"),
        spec(&platform, &apps_ns, gw.name(), mon.name()),
    )
    .expect("write spec");
    let kc = bed.kubeconfig().to_path_buf();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &apps_ns);

    // Start `up` in the background; once the first app's Deployment exists the run
    // is mid-way (waiting on it, the other apps not applied yet): kill the apiserver.
    let up_args = ["up", "--timeout", "120"];
    let child = windlass_cmd(dir.path(), &kc, &up_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting windlass up");
    let interrupted = std::thread::spawn(move || child.wait_with_output());
    wait_until("the first app's Deployment", Duration::from_secs(120), || {
        let deployments = deployments.clone();
        async move { Ok(deployments.get_opt(APPS[0]).await?.map(|_| ())) }
    })
    .await
    .expect("up never created the first Deployment");
    let new_pid = tokio::task::spawn_blocking(|| restart_apiserver(Duration::from_secs(3)))
        .await
        .expect("join")
        .expect("restarting the apiserver");
    eprintln!("killed the apiserver and started it again as pid {new_pid}");
    wait_until(
        "the restarted apiserver's /readyz",
        Duration::from_secs(120),
        || async { Ok(TestBed::try_connect().await.ok().map(|_| ())) },
    )
    .await
    .expect("the apiserver did not come back");

    // The interrupted run: completed, or stopped with a clear error; never a panic.
    let first = tokio::task::spawn_blocking(move || interrupted.join())
        .await
        .expect("join")
        .expect("thread")
        .expect("waiting for windlass up");
    show(&up_args, &first);
    let out = text(&first);
    assert!(!out.contains("panicked"), "the interrupted up panicked:\n{out}");
    assert_ne!(first.status.code(), Some(101), "the interrupted up panicked:\n{out}");
    assert!(
        first.status.code().is_some(),
        "the interrupted up died by a signal:\n{out}"
    );
    if !first.status.success() {
        assert!(
            out.to_ascii_lowercase().contains("error") || out.contains('✗'),
            "the interrupted up failed without saying why:\n{out}"
        );
    }

    // A re-run converges: exit 0, every app ready, `status` shows them all.
    let again = windlass(dir.path(), &kc, &["up", "--timeout", "120"]);
    assert!(again.status.success(), "the re-run did not converge:\n{}", text(&again));
    for app in APPS {
        let d = deployments.get(app).await.expect("deployment");
        let status = d.status.unwrap_or_default();
        assert_eq!(status.ready_replicas, Some(2), "{app} not ready: {status:?}");
    }
    let status = windlass(dir.path(), &kc, &["status", "--output", "json"]);
    assert!(status.status.success(), "{}", text(&status));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    let shown: BTreeSet<&str> = json["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter(|a| a["revision"].as_u64().is_some())
        .filter_map(|a| a["app"].as_str())
        .collect();
    assert_eq!(shown, APPS.into_iter().collect(), "status: {json:#}");

    // Nothing orphaned: every object of a kind windlass renders, in the platform's
    // namespaces, carries the ApplySet label of a unit whose latest revision records it.
    let histories = HistoryStore::new(client.clone(), &platform, "default")
        .list()
        .await
        .expect("histories");
    let mut recorded: BTreeMap<ObjectRef, String> = BTreeMap::new();
    for h in &histories {
        let latest = h.latest().expect("a revision");
        for r in latest.refs() {
            recorded.insert(r, h.applyset_id());
        }
    }
    let rendered = Command::new(env!("CARGO_BIN_EXE_windlass"))
        .args(["render", "--stdout", "-f"])
        .arg(dir.path().join("windlass.yaml"))
        .output()
        .expect("render");
    let stream = windlass_testbed::parse_yaml_stream(&String::from_utf8_lossy(&rendered.stdout)).expect("yaml");
    let kinds: BTreeSet<(String, String)> = stream
        .iter()
        .filter(|o| o.metadata.namespace.is_some())
        .filter_map(|o| o.types.as_ref())
        .map(|t| (t.api_version.clone(), t.kind.clone()))
        .collect();
    let mut checked = 0;
    for ns in [apps_ns.as_str(), gw.name(), mon.name()] {
        for (api_version, kind) in &kinds {
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            for live in api.list(&ListParams::default()).await.expect("list").items {
                let live_name = live.name_any();
                // Made by Kubernetes itself in every namespace.
                if (kind == "ServiceAccount" && live_name == "default")
                    || (kind == "ConfigMap" && live_name == "kube-root-ca.crt")
                {
                    continue;
                }
                let what = format!("{kind} {ns}/{live_name}");
                let label = live.labels().get(PART_OF_LABEL).cloned();
                assert!(label.is_some(), "{what} has no {PART_OF_LABEL} label: orphaned");
                let key = ObjectRef {
                    api_version: api_version.clone(),
                    kind: kind.clone(),
                    namespace: ns.to_string(),
                    name: live_name.clone(),
                };
                assert_eq!(
                    recorded.get(&key),
                    label.as_ref(),
                    "{what} is not recorded in the history of the ApplySet it is labelled with"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= APPS.len() * 4, "only {checked} objects checked");
    eprintln!("{checked} objects: all labelled and recorded");

    let down = windlass(dir.path(), &kc, &["down", "--yes"]);
    assert!(down.status.success(), "{}", text(&down));
    let _ = Api::<Namespace>::all(client)
        .delete(&apps_ns, &DeleteParams::background())
        .await;
}
