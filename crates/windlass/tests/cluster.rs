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
        self.up_fails_fast_with(|args| self.run(args))
    }

    /// `up_fails_fast`, run by `run`.
    fn up_fails_fast_with(&self, run: impl Fn(&[&str]) -> Output) -> String {
        let start = std::time::Instant::now();
        let bad = run(&["up", "--timeout", "300"]);
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
    // The stand-in fails the issuance a second after the Certificate is written (the
    // app's last object: it waits for the platform's issuers). Until then `status`
    // says it is waiting for cert-manager.
    let mut last = String::new();
    for _ in 0..20 {
        let status = p.run(&["status"]);
        assert!(status.status.success(), "{}", text(&status));
        last = text(&status);
        if last.contains("issuance failed") {
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

// A throwaway age key made with age-keygen for these tests; it protects nothing.
const AGE_KEY: &str = "AGE-SECRET-KEY-156C9HPY50LLX4CE32DYJCCG2LMZQ4GM7S88SGEY0EUGEDGM2Z77QAFQY53";
const AGE_RECIPIENT: &str = "age1dvk6vxsd3cs2krrzm05gwyjz204j3u0gj0vv9n3a8xnds6z3qu8q5a7hla";

/// Where a run of windlass may leave files: its own temp and runtime directories.
struct Scratch {
    tmp: tempfile::TempDir,
    run: tempfile::TempDir,
    /// The editor script lives apart from everything the canary search reads.
    editor: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let s = Scratch {
            tmp: tempfile::tempdir().expect("tempdir"),
            run: tempfile::tempdir().expect("tempdir"),
            editor: tempfile::tempdir().expect("tempdir"),
        };
        use std::os::unix::fs::PermissionsExt;
        let script = s.editor.path().join("edit.sh");
        // Replaces the current value with $WL_NEW, as a user would in $EDITOR.
        std::fs::write(
            &script,
            "#!/bin/sh\nsed -i \"s/password: .*/password: $WL_NEW/\" \"$1\"\n",
        )
        .expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        s
    }

    fn envs(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("SOPS_AGE_KEY", AGE_KEY.into()),
            ("TMPDIR", self.tmp.path().into()),
            ("XDG_RUNTIME_DIR", self.run.path().into()),
            ("EDITOR", self.editor.path().join("edit.sh").into()),
        ]
    }
}

impl Platform {
    /// Runs windlass on this platform with the age key and the scratch directories.
    fn run_with(&self, scratch: &Scratch, args: &[&str]) -> Output {
        let out = common::windlass_cmd(self.dir.path(), &self.kubeconfig, args)
            .envs(scratch.envs())
            .output()
            .expect("windlass");
        common::show(args, &out);
        out
    }

    /// `windlass ARGS` in the spec's directory, with no cluster (`secrets`, `render`);
    /// `new_value` is what the editor script writes.
    fn local(&self, scratch: &Scratch, args: &[&str], new_value: &str) -> Output {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_windlass"))
            .args(args)
            .current_dir(self.dir.path())
            .envs(scratch.envs())
            .env("WL_NEW", new_value)
            .output()
            .expect("windlass secrets");
        common::show(args, &out);
        out
    }

    async fn sops_secret_value(&self) -> Option<String> {
        let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(self.client.clone(), &self.apps_ns);
        let s = secrets.get_opt("web-sops-postgres").await.expect("get secret")?;
        let bytes = s.data?.get("password")?.0.clone();
        Some(String::from_utf8(bytes).expect("utf-8"))
    }

    async fn web_template(&self) -> (i64, Option<String>) {
        let web = self.deployments().get("web").await.expect("web");
        let checksum = web
            .spec
            .and_then(|s| s.template.metadata)
            .and_then(|m| m.annotations)
            .and_then(|a| a.get("windlass.dev/secrets-checksum").cloned());
        (web.metadata.generation.unwrap_or_default(), checksum)
    }
}

/// Every object the cluster holds, as JSON text, but the one Secret that is meant
/// to hold the value; windlass's revision histories are gunzipped first.
async fn cluster_text(client: &Client, except: (&str, &str)) -> String {
    use kube::api::{DynamicObject, ListParams};
    use kube::discovery::{Discovery, verbs};
    let discovery = Discovery::new(client.clone()).run().await.expect("discovery");
    let mut text = String::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if !caps.supports_operation(verbs::LIST) {
                continue;
            }
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
            let Ok(list) = api.list(&ListParams::default()).await else {
                continue;
            };
            for o in list {
                let ns = o.metadata.namespace.clone().unwrap_or_default();
                if ar.kind == "Secret" && (ns.as_str(), o.name_any().as_str()) == except {
                    continue;
                }
                if ar.kind == "Secret" && ns == "windlass-system" {
                    let secret: k8s_openapi::api::core::v1::Secret =
                        serde_json::from_value(serde_json::to_value(&o).expect("json")).expect("secret");
                    if let Ok(h) = windlass_cluster::history::decode(&secret) {
                        text.push_str(&serde_json::to_string(&h.revisions).expect("json"));
                    }
                }
                text.push_str(&serde_json::to_string(&o).expect("json"));
                text.push('\n');
            }
        }
    }
    text
}

/// Every file under `dir`, as text (lossy), each prefixed with its path.
fn files_text(dir: &std::path::Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push_str(&format!("{}:\n{}\n", path.display(), String::from_utf8_lossy(&bytes)));
            }
        }
    }
    out
}

/// The value, and its base64 form (how a Secret's data would leak into another object).
fn assert_nowhere(what: &str, haystack: &str, value: &str) {
    let b64 = serde_json::to_value(k8s_openapi::ByteString(value.as_bytes().to_vec())).expect("b64");
    let b64 = b64.as_str().expect("string");
    assert!(
        !haystack.contains(value) && !haystack.contains(b64),
        "the secret value appears in {what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sops_secret_rolls_the_app_when_it_changes_and_its_value_is_nowhere_but_in_its_secret() {
    let Some(p) = Platform::new("wl-sops").await else {
        return;
    };
    let scratch = Scratch::new();
    let (first, canary, second) = (
        format!("first-{}", p.name),
        format!("canary-{}", p.name),
        format!("second-{}", p.name),
    );
    let mut outputs: Vec<String> = Vec::new();

    // The secrets file, encrypted by windlass from a plaintext the user then removes.
    let plain = p.dir.path().join("plain.yaml");
    std::fs::write(&plain, format!("postgres:\n  password: {first}\n")).expect("plain");
    let made = p.local(
        &scratch,
        &[
            "secrets",
            "encrypt",
            "--age",
            AGE_RECIPIENT,
            "--output",
            "secrets.sops.yaml",
            "plain.yaml",
        ],
        "",
    );
    assert!(made.status.success(), "{}", text(&made));
    outputs.push(text(&made));
    std::fs::remove_file(&plain).expect("rm plain");
    let header = format!(
        "{}  secrets: {{ file: secrets.sops.yaml }}\napps:\n",
        p.header().strip_suffix("apps:\n").expect("header ends in apps:")
    );
    // The value as an environment variable and as a config file (a projected volume).
    let reads = "secretEnv: { DB_PASSWORD: { sops: postgres/password } }\n    \
                 config: { secretFiles: { db.password: { sops: postgres/password } } }";
    p.write_web(&header, reads);
    let up = p.run_with(&scratch, &["up", "--timeout", "120"]);
    assert!(up.status.success(), "{}", text(&up));
    outputs.push(text(&up));
    assert_eq!(p.sops_secret_value().await.as_deref(), Some(first.as_str()));
    let (generation, checksum) = p.web_template().await;
    assert!(checksum.is_some(), "the pod template carries the secrets checksum");

    // The user edits the value; diff names the key, never a value.
    let edit = p.local(&scratch, &["secrets", "edit", "secrets.sops.yaml"], &canary);
    assert!(edit.status.success(), "{}", text(&edit));
    outputs.push(text(&edit));
    let diff = p.run_with(&scratch, &["diff"]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    assert!(
        text(&diff).contains("+  password: (hidden, changed)"),
        "{}",
        text(&diff)
    );
    assert!(!text(&diff).contains(&first), "the old value is not shown either");
    outputs.push(text(&diff));

    // `up` applies it and rolls the app: the template's checksum changed.
    let up = p.run_with(&scratch, &["up", "--timeout", "120", "--output", "json"]);
    assert!(up.status.success(), "{}", text(&up));
    outputs.push(text(&up));
    assert_eq!(p.sops_secret_value().await.as_deref(), Some(canary.as_str()));
    let (rolled, new_checksum) = p.web_template().await;
    assert_ne!(new_checksum, checksum, "a changed secret changes the pod template");
    assert!(rolled > generation, "the Deployment rolled ({generation} -> {rolled})");
    let status = p.run_with(&scratch, &["status"]);
    assert!(status.status.success(), "{}", text(&status));
    outputs.push(text(&status));

    // A failed up with another value: rolled back, the Secret's values put back from memory.
    let edit = p.local(&scratch, &["secrets", "edit", "secrets.sops.yaml"], &second);
    assert!(edit.status.success(), "{}", text(&edit));
    outputs.push(text(&edit));
    p.write_web(
        &header,
        &format!("{reads}\n    labels: {{ windlass.dev/testbed: crashloop }}"),
    );
    let failed = p.up_fails_fast_with(|args| p.run_with(&scratch, args));
    assert!(
        failed.contains("rolled back: revision 3 failed, back to revision 2"),
        "{failed}"
    );
    outputs.push(failed.clone());
    assert_eq!(
        p.sops_secret_value().await.as_deref(),
        Some(canary.as_str()),
        "the rollback put back the values the good revision ran with"
    );

    // render writes the encrypted file through and no Secret.
    let render = p.local(&scratch, &["render", "--out", "rendered"], "");
    assert!(render.status.success(), "{}", text(&render));
    outputs.push(text(&render));
    let copied = std::fs::read_to_string(p.dir.path().join("rendered/_secrets/secrets.sops.yaml")).expect("copied");
    let source = std::fs::read_to_string(p.dir.path().join("secrets.sops.yaml")).expect("source");
    assert_eq!(copied, source, "written through unchanged");

    // The cluster: the value only in its own Secret (not in the histories, the
    // Deployment, Events, or an apply annotation on the Secret itself).
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(p.client.clone(), &p.apps_ns);
    let own = secrets.get("web-sops-postgres").await.expect("secret");
    assert!(
        !own.annotations()
            .contains_key("kubectl.kubernetes.io/last-applied-configuration"),
        "server-side apply leaves no last-applied copy"
    );
    let cluster = cluster_text(&p.client, (&p.apps_ns, "web-sops-postgres")).await;
    assert!(cluster.contains("web-sops-postgres"), "the search reads the cluster");
    let down = p.run_with(&scratch, &["down", "--yes"]);
    assert!(down.status.success(), "{}", text(&down));
    outputs.push(text(&down));

    let files = files_text(p.dir.path());
    assert!(files.contains("ENC[AES256_GCM"), "the search reads the files");
    let scratch_files = format!("{}{}", files_text(scratch.tmp.path()), files_text(scratch.run.path()));
    for value in [&first, &canary, &second] {
        assert_nowhere("windlass's output", &outputs.concat(), value);
        assert_nowhere("the spec's directory", &files, value);
        assert_nowhere("the temp and runtime directories", &scratch_files, value);
        assert_nowhere("the cluster's other objects", &cluster, value);
    }
}
