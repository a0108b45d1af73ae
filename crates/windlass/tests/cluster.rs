//! The apply engine on the real test bed, through the real binary: one behaviour
//! per test, each on its own platform in its own namespaces: first deploy and a
//! no-op re-run, diff and an image bump, conflicts, the Lease, a never-ready
//! rollout rolled back, pruning a removed app, and `down` sparing what others own.
//! The tests take turns: every platform renders the same cluster-scoped
//! ClusterIssuers, so two at once would rewrite each other's and see drift.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{platform_header, text, windlass};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use windlass_testbed::{TestBed, TestNamespace};

/// One platform on the test bed: its gateway and monitoring namespaces (made
/// by the test bed) and its app namespace (made by windlass, deleted on drop).
struct Platform {
    client: Client,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
    name: String,
    apps_ns: String,
    gw: TestNamespace,
    mon: TestNamespace,
    // Dropped last: the namespaces above are gone before the next test starts.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// One platform on the bed at a time (see the module comment).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Platform {
    async fn new(prefix: &str) -> Option<Platform> {
        // An async lock: it is held across awaits, and a failed test still hands on its turn.
        let turn = TURN.lock().await;
        let bed = TestBed::connect().await?;
        let gw = bed.namespace(&format!("{prefix}-gw")).await.expect("namespace");
        let mon = bed.namespace(&format!("{prefix}-mon")).await.expect("namespace");
        let suffix = gw.name().trim_start_matches(&format!("{prefix}-gw-")).to_string();
        Some(Platform {
            client: bed.client(),
            kubeconfig: bed.kubeconfig().to_path_buf(),
            dir: tempfile::tempdir().expect("tempdir"),
            name: format!("p{prefix}{suffix}"),
            apps_ns: format!("{prefix}-apps-{suffix}"),
            gw,
            mon,
            _turn: turn,
        })
    }

    /// Writes the spec: `web` (and `api`, which needs it, when `with_api`).
    fn write(&self, web_image: &str, web_labels: &str, with_api: bool) {
        let (name, apps_ns, gw, mon) = (&self.name, &self.apps_ns, self.gw.name(), self.mon.name());
        let mut s = platform_header(name, apps_ns, gw, mon);
        s.push_str(&format!(
            "  web:
    image: {web_image}
    port: 8080
    health: /healthz
    replicas: 2
    labels: {{ {web_labels} }}
"
        ));
        if with_api {
            s.push_str(
                "  api:\n    image: ghcr.io/example/api:1.0.0\n    port: 8080\n    health: /healthz\n    needs: [web]\n",
            );
        }
        std::fs::write(self.dir.path().join("windlass.yaml"), s).expect("write spec");
    }

    fn run(&self, args: &[&str]) -> Output {
        windlass(self.dir.path(), &self.kubeconfig, args)
    }

    fn header(&self) -> String {
        platform_header(&self.name, &self.apps_ns, self.gw.name(), self.mon.name())
    }

    /// The spec: `header`, then `web` alone (one replica) with `extra`, one line of its settings.
    fn write_web(&self, header: &str, extra: &str) {
        let s = format!(
            "{header}  web:\n    image: ghcr.io/example/web:1.0.0\n    port: 8080\n    health: /healthz\n    replicas: 1\n    {extra}\n"
        );
        std::fs::write(self.dir.path().join("windlass.yaml"), s).expect("write spec");
    }

    /// `up --timeout 300`, which must fail (exit 3) long before the timeout: its output.
    fn up_fails_fast(&self) -> String {
        let start = std::time::Instant::now();
        let bad = self.run(&["up", "--timeout", "300"]);
        let took = start.elapsed();
        assert_eq!(bad.status.code(), Some(3), "{}", text(&bad));
        let out = text(&bad);
        // The 300 s timeout was never reached: the cluster said why at once.
        assert!(took.as_secs() < 120, "took {took:?}:\n{out}");
        out
    }

    /// The spec written and `up` run once, successfully.
    fn deployed(&self, with_api: bool) {
        self.write("ghcr.io/example/web:1.0.0", "tier: web", with_api);
        let first = self.run(&["up", "--timeout", "120"]);
        assert!(first.status.success(), "first up failed:\n{}", text(&first));
    }

    fn deployments(&self) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), &self.apps_ns)
    }

    /// Someone else's ConfigMap in the app namespace.
    async fn foreign_config_map(&self) -> Api<ConfigMap> {
        let foreign: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.apps_ns);
        let cm: ConfigMap =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "not-windlass"}, "data": {"a": "b"}}))
                .expect("configmap");
        foreign
            .create(&PostParams::default(), &cm)
            .await
            .expect("foreign configmap");
        foreign
    }

    async fn image_of_web(&self) -> Option<String> {
        let web = self.deployments().get("web").await.expect("web");
        web.spec
            .and_then(|s| s.template.spec)
            .and_then(|s| s.containers.first().and_then(|c| c.image.clone()))
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        // The test bed deletes its own namespaces; the app namespace is windlass's.
        let (client, ns) = (self.client.clone(), self.apps_ns.clone());
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                let _ = Api::<Namespace>::all(client)
                    .delete(&ns, &DeleteParams::background())
                    .await;
            });
        })
        .join();
    }
}

fn versions(list: &[Deployment]) -> Vec<(String, String)> {
    list.iter()
        .map(|d| (d.name_any(), d.resource_version().unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_up_is_ready_and_a_rerun_changes_nothing() {
    let Some(p) = Platform::new("wl-first").await else {
        return;
    };
    p.deployed(true);
    let web = p.deployments().get("web").await.expect("web exists");
    assert_eq!(web.status.as_ref().and_then(|s| s.ready_replicas), Some(2));
    let before = versions(&p.deployments().list(&Default::default()).await.expect("list").items);

    let again = p.run(&["up"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 changed"), "{}", text(&again));
    let after = versions(&p.deployments().list(&Default::default()).await.expect("list").items);
    assert_eq!(before, after, "a no-op up changed a Deployment");
    let diff = p.run(&["diff"]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    assert_eq!(String::from_utf8_lossy(&diff.stdout), "no changes\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_bump_shows_in_diff_and_rolls_out_as_the_next_revision() {
    let Some(p) = Platform::new("wl-bump").await else {
        return;
    };
    p.deployed(true);
    p.write("ghcr.io/example/web:1.1.0", "tier: web", true);
    let diff = p.run(&["diff"]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    assert!(
        text(&diff).contains("+        image: ghcr.io/example/web:1.1.0"),
        "{}",
        text(&diff)
    );
    let bump = p.run(&["up", "--timeout", "120"]);
    assert!(bump.status.success(), "{}", text(&bump));
    let status = p.run(&["status", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    let web_status = &json["apps"][0];
    assert_eq!(web_status["app"], "web");
    assert_eq!(web_status["revision"], 2);
    assert_eq!(web_status["images"][0], "ghcr.io/example/web:1.1.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_another_manager_owns_is_a_conflict_until_forced() {
    let Some(p) = Platform::new("wl-conflict").await else {
        return;
    };
    p.deployed(false);
    let intrusion = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    p.deployments()
        .patch(
            "web",
            &PatchParams::apply("intruder").force(),
            &Patch::Apply(&intrusion),
        )
        .await
        .expect("intruder apply");
    // The spec is unchanged: the drift alone makes `up` apply, and meet the other manager.
    let conflict = p.run(&["up", "--timeout", "60"]);
    assert_eq!(conflict.status.code(), Some(3), "{}", text(&conflict));
    let out = text(&conflict);
    let line = out.lines().find(|l| l.starts_with("✗ app web")).unwrap_or_default();
    assert_eq!(
        line,
        format!(
            "✗ app web                  failed: Deployment/{}/web has fields another tool manages: field .spec.replicas is owned by intruder",
            p.apps_ns
        ),
        "{out}"
    );
    let forced = p.run(&["up", "--force-conflicts", "--timeout", "120"]);
    assert!(forced.status.success(), "{}", text(&forced));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ups_at_once_take_turns_on_the_lease() {
    let Some(p) = Platform::new("wl-lease").await else {
        return;
    };
    p.deployed(false);
    p.write("ghcr.io/example/web:1.2.0", "tier: web", false);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| p.run(&["up", "--timeout", "120"]));
        let b = s.spawn(|| p.run(&["up", "--timeout", "120"]));
        (a.join().expect("thread"), b.join().expect("thread"))
    });
    assert!(a.status.success() && b.status.success(), "{}\n{}", text(&a), text(&b));
    assert!(
        text(&a).contains("waiting for the Lease held by ") || text(&b).contains("waiting for the Lease held by "),
        "neither up waited for the other:\n{}\n{}",
        text(&a),
        text(&b)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_that_never_becomes_ready_is_rolled_back_with_its_reason() {
    let Some(p) = Platform::new("wl-never").await else {
        return;
    };
    p.deployed(false);
    p.write("ghcr.io/example/web:2.0.0", "windlass.dev/testbed: never-ready", false);
    let bad = p.run(&["up", "--timeout", "20"]);
    assert_eq!(bad.status.code(), Some(3), "{}", text(&bad));
    let out = text(&bad);
    assert!(
        out.lines()
            .any(|l| l == "↺ app web                  rolled back: revision 2 failed, back to revision 1"),
        "{out}"
    );
    assert!(out.contains("pod web-") && out.contains("Ready=False"), "{out}");
    assert_eq!(p.image_of_web().await.as_deref(), Some("ghcr.io/example/web:1.0.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_rollout_fails_in_seconds_with_the_reason_not_at_the_timeout() {
    let Some(p) = Platform::new("wl-crash").await else {
        return;
    };
    p.deployed(false);
    p.write("ghcr.io/example/web:2.0.0", "windlass.dev/testbed: crashloop", false);
    let out = p.up_fails_fast();
    assert!(
        out.contains("can never become ready: container `web` is crash-looping") && out.contains("[crash-loop]"),
        "{out}"
    );
    assert!(
        out.contains("rolled back: revision 2 failed, back to revision 1"),
        "{out}"
    );
    assert_eq!(p.image_of_web().await.as_deref(), Some("ghcr.io/example/web:1.0.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_nothing_can_bind_fails_the_unit_in_seconds_with_the_reason() {
    let Some(p) = Platform::new("wl-claim").await else {
        return;
    };
    p.write_web(&p.header(), "persistence: {size: 1Gi, storageClass: no-such-class}");
    let out = p.up_fails_fast();
    assert!(
        out.contains("can never become ready: unbound: StorageClass no-such-class does not exist [pvc-unbound]"),
        "{out}"
    );
}

/// The bed's cert-manager stand-in (testbed/kwok/controller-stages.yaml) fails
/// issuance for hosts under `.invalid`, with the conditions cert-manager sets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_that_cannot_be_issued_fails_the_unit_with_cert_managers_reason() {
    let Some(p) = Platform::new("wl-cert").await else {
        return;
    };
    // The self-signed chain: cert-manager issues it alone, so `up` waits for it. Its root
    // Certificate lives in cert-manager's namespace, which this platform (cert-manager
    // switched off: the bed's stand-in plays it) does not create.
    let namespaces: Api<Namespace> = Api::all(p.client.clone());
    let created = namespaces
        .get_opt("cert-manager")
        .await
        .expect("read namespace")
        .is_none();
    if created {
        let ns = Namespace {
            metadata: kube::api::ObjectMeta {
                name: Some("cert-manager".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        namespaces
            .create(&Default::default(), &ns)
            .await
            .expect("create namespace");
    }
    let header = p.header().replace("letsencrypt-staging", "self-signed");
    p.write_web(&header, "hosts: [shop.invalid]");
    let out = p.up_fails_fast();
    assert!(
        out.contains("issuance failed: Failed: The certificate request has failed to complete and will be retried"),
        "{out}"
    );
    // The same spec with a host the stand-in issues goes through the gate.
    p.write_web(&header, "hosts: [shop.example.com]");
    let ok = p.run(&["up", "--timeout", "120"]);
    assert!(ok.status.success(), "{}", text(&ok));
    if created {
        // Gone before the component tests install cert-manager into it.
        namespaces
            .delete("cert-manager", &Default::default())
            .await
            .expect("delete namespace");
        for _ in 0..120 {
            if namespaces
                .get_opt("cert-manager")
                .await
                .expect("read namespace")
                .is_none()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
}

/// An ACME Certificate is not waited for (HTTP-01 needs DNS a first run cannot
/// have set up): `up` succeeds and `status` says the certificate is not issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acme_certificate_is_not_waited_for_and_status_shows_it_unissued() {
    let Some(p) = Platform::new("wl-acme").await else {
        return;
    };
    let header = p.header();
    assert!(header.contains("tls: letsencrypt-staging"), "{header}");
    p.write_web(&header, "hosts: [shop.invalid]");
    let up = p.run(&["up", "--timeout", "120"]);
    assert!(up.status.success(), "{}", text(&up));
    // The stand-in fails the issuance a second after the Certificate is written.
    let mut last = String::new();
    for _ in 0..20 {
        let status = p.run(&["status"]);
        assert!(status.status.success(), "{}", text(&status));
        last = text(&status);
        if last.contains("certificate ") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(
        last.contains(&format!(
            "certificate {}-web-tls: failed: issuance failed: Failed: The certificate request has failed to complete",
            p.apps_ns
        )),
        "{last}"
    );
    let json = p.run(&["status", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("status json");
    let certs = v
        .pointer("/apps/0/certificates")
        .and_then(serde_json::Value::as_array)
        .cloned();
    assert_eq!(certs.map(|c| c.len()), Some(1), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_app_from_the_spec_prunes_exactly_its_objects() {
    let Some(p) = Platform::new("wl-prune").await else {
        return;
    };
    p.deployed(true);
    let foreign = p.foreign_config_map().await;
    p.write("ghcr.io/example/web:1.0.0", "tier: web", false);
    let diff = p.run(&["diff"]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    assert!(
        text(&diff).contains(&format!("- prune Deployment/{}/api\n", p.apps_ns)),
        "{}",
        text(&diff)
    );
    let pruned = p.run(&["up", "--timeout", "120"]);
    assert!(pruned.status.success(), "{}", text(&pruned));
    assert!(
        p.deployments().get_opt("api").await.expect("get").is_none(),
        "api was not pruned"
    );
    assert!(
        p.deployments().get_opt("web").await.expect("get").is_some(),
        "web was pruned"
    );
    assert!(foreign.get_opt("not-windlass").await.expect("get").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_deletes_what_windlass_owns_and_keeps_what_others_put_there() {
    let Some(p) = Platform::new("wl-down").await else {
        return;
    };
    p.deployed(true);
    let foreign = p.foreign_config_map().await;
    let down = p.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(p.deployments().get_opt("web").await.expect("get").is_none());
    assert!(p.deployments().get_opt("api").await.expect("get").is_none());
    assert!(foreign.get_opt("not-windlass").await.expect("get").is_some());
    let out = text(&down);
    assert!(
        out.contains(&format!(
            "kept Namespace/{}: it holds ConfigMap/{}/not-windlass, which windlass does not own",
            p.apps_ns, p.apps_ns
        )),
        "{out}"
    );
    // Apps go before their namespace, the platform last.
    let mut order: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_once(" deleted ").or_else(|| l.split_once(" kept ")))
        .map(|(unit, _)| unit.trim())
        .collect();
    order.dedup();
    assert_eq!(
        order,
        ["app api", "app web", &format!("namespace {}", p.apps_ns), "platform"],
        "{out}"
    );
    assert!(out.ends_with("deleted 4 units of environment `default`\n"), "{out}");
    let diff = p.run(&["diff"]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
}
