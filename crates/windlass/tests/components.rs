//! Platform components on the test bed: the real `windlass` binary installs
//! charts through the real `helm` from the bed's chart repositories (HTTP and
//! OCI on 127.0.0.1), applies CRDs server-side and waits for them, holds
//! dependents back until a webhook admits, recovers a release a killed run left
//! pending, rolls back an upgrade that never becomes ready, reports and takes
//! over field conflicts, and touches nothing on a no-op run.
//!
//! kube-prometheus-stack here is the bed's fixture chart (the real chart is not
//! served here) with the real prometheus-operator CRDs; its admission webhook
//! points at the bed's webhook stand-in by URL. The tests share cluster-wide
//! names (the release's ClusterRoles, its webhook), so they run one at a time.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::{text, windlass, windlass_cmd};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;
use tokio::sync::Mutex;
use windlass_testbed::{TestBed, wait_until};

/// One component test at a time: they install the same cluster-wide objects.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

const CHART_REPO_ENV: &str = "WINDLASS_TESTBED_CHART_REPO";
const OCI_REPO_ENV: &str = "WINDLASS_TESTBED_OCI_REPO";
const WEBHOOK_ENV: &str = "WINDLASS_TESTBED_WEBHOOK";

struct Bed {
    bed: TestBed,
    chart_repo: String,
    oci_repo: String,
    webhook: String,
}

/// The bed with its chart repositories and webhook stand-in, or `None` (skip) without a bed.
async fn bed() -> Option<Bed> {
    let bed = TestBed::connect().await?;
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: run the tests through `cargo xtask ci`, or `eval \"$(cargo xtask testbed env)\"`"
            )
        })
    };
    Some(Bed {
        chart_repo: var(CHART_REPO_ENV),
        oci_repo: var(OCI_REPO_ENV),
        webhook: var(WEBHOOK_ENV),
        bed,
    })
}

/// A platform whose only component is kube-prometheus-stack, in its own namespace.
fn spec(name: &str, mirror: &str, kps_values: &str) -> String {
    format!(
        "apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: {name}
  domain: {name}.example.com
  email: ops@example.com
  tls: letsencrypt-staging
  monitoring: {{ namespace: {name}-mon }}
  # Ingress mode without its controller: no Gateway for Grafana, whose namespace the bed lacks.
  traffic: {{ mode: ingress }}
  charts: {{ mirror: \"{mirror}\" }}
  components:
{off}    kube-prometheus-stack:
      values:
{kps_values}
apps: {{}}
",
        off = common::components_off(&[KPS])
    )
}

/// `spec` with two apps in namespace `<name>-apps`: `api` needs `db`. Their alert
/// rules (PrometheusRules, which the webhook admits) and dashboards use the
/// monitoring stack; their workloads do not.
fn with_apps(spec: &str, name: &str) -> String {
    spec.replace(
        "apps: {}\n",
        &format!(
            "apps:
  db:
    image: registry.example/db:1.0.0
    port: 5432
    health: {{ tcp: true }}
    namespace: {name}-apps
  api:
    image: registry.example/api:1.0.0
    port: 8080
    health: /healthz
    namespace: {name}-apps
    needs: [db]
"
        ),
    )
}

/// The objects of a custom kind (group, version, kind, plural) in `namespace`.
fn dynamic(
    client: kube::Client,
    (group, version, kind, plural): (&str, &str, &str, &str),
    namespace: &str,
) -> Api<kube::api::DynamicObject> {
    let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
    let resource = kube::api::ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::namespaced_with(client, namespace, &resource)
}

/// The PrometheusRules in `namespace`.
async fn rules(bed: &Bed, namespace: &str) -> Vec<String> {
    let resource = ("monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules");
    let api = dynamic(bed.bed.client(), resource, namespace);
    let list = api.list(&ListParams::default()).await.expect("list rules");
    list.items.into_iter().filter_map(|r| r.metadata.name).collect()
}

fn webhook_values(url: &str) -> String {
    format!("        testbed: {{ webhook: {{ url: \"{url}\", onlyReleaseNamespace: true }} }}\n")
}

struct Platform {
    dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
    namespace: String,
}

impl Platform {
    fn new(bed: &Bed, name: &str, spec: &str) -> Platform {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("windlass.yaml"), spec).expect("spec");
        Platform {
            dir,
            kubeconfig: bed.bed.kubeconfig().to_path_buf(),
            namespace: format!("{name}-mon"),
        }
    }

    fn write(&self, spec: &str) {
        std::fs::write(self.dir.path().join("windlass.yaml"), spec).expect("spec");
    }

    fn run(&self, args: &[&str]) -> Output {
        windlass(self.dir.path(), &self.kubeconfig, args)
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Platform {
    /// `down` (CRDs stay: the rest of the bed uses them), then the namespace.
    fn drop(&mut self) {
        let _ = windlass(self.dir.path(), &self.kubeconfig, &["down", "--yes", "--timeout", "60"]);
        let _ = std::process::Command::new("kubectl")
            .args([
                "delete",
                "namespace",
                &self.namespace,
                "--ignore-not-found",
                "--wait=false",
            ])
            .env("KUBECONFIG", &self.kubeconfig)
            .output();
    }
}

/// The JSON events of an `--output json` run.
fn events(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn position(events: &[Value], event: &str, unit: &str) -> Option<usize> {
    events.iter().position(|e| e["event"] == event && e["unit"] == unit)
}

/// The helm release Secrets of `release`: (revision, status), oldest first.
async fn revisions(bed: &Bed, namespace: &str, release: &str) -> Vec<(u32, String)> {
    let api: Api<Secret> = Api::namespaced(bed.bed.client(), namespace);
    let list = api
        .list_metadata(&ListParams::default().labels(&format!("owner=helm,name={release}")))
        .await
        .expect("release secrets");
    let mut out: Vec<(u32, String)> = list
        .items
        .iter()
        .filter_map(|s| {
            let l = s.metadata.labels.as_ref()?;
            Some((l.get("version")?.parse().ok()?, l.get("status")?.clone()))
        })
        .collect();
    out.sort();
    out
}

const KPS: &str = "kube-prometheus-stack";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_are_established_before_their_objects_and_a_large_crd_goes_in_server_side() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let name = "wc-crds";
    let webhook = format!("https://{}/validate", bed.webhook);
    let p = Platform::new(&bed, name, &spec(name, &bed.chart_repo, &webhook_values(&webhook)));
    let out = p.run(&["up", "--output", "json", "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ev = events(&out);
    let crds_ready = position(&ev, "ready", "crds.kube-prometheus-stack").expect("the CRD unit is ready");
    let release_starts = position(&ev, "applying", "component.kube-prometheus-stack").expect("the release is applied");
    assert!(
        crds_ready < release_starts,
        "CRDs are Established before any object of theirs"
    );
    // The Prometheus CRD is far over the 256 KiB annotation limit of client-side apply.
    let crds: Api<CustomResourceDefinition> = Api::all(bed.bed.client());
    let prometheus = crds.get("prometheuses.monitoring.coreos.com").await.expect("CRD");
    let size = serde_json::to_vec(&prometheus).expect("json").len();
    assert!(size > 262_144, "the CRD is {size} bytes");
    let applied = prometheus
        .metadata
        .managed_fields
        .unwrap_or_default()
        .iter()
        .any(|m| m.manager.as_deref() == Some("windlass") && m.operation.as_deref() == Some("Apply"));
    assert!(applied, "windlass applied it server-side");
    assert!(
        !prometheus
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key("kubectl.kubernetes.io/last-applied-configuration")
    );
    // The release's objects of those kinds exist (the Prometheus and Alertmanager CRs).
    let status = revisions(&bed, &p.namespace, KPS).await;
    assert_eq!(status.last().map(|s| s.1.as_str()), Some("deployed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_op_rerun_touches_no_release_and_the_oci_mirror_serves_too() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let name = "wc-noop";
    let webhook = format!("https://{}/validate", bed.webhook);
    let p = Platform::new(&bed, name, &spec(name, &bed.oci_repo, &webhook_values(&webhook)));
    let out = p.run(&["up", "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let before = revisions(&bed, &p.namespace, KPS).await;
    assert_eq!(before, vec![(1, "deployed".to_string())]);
    let again = p.run(&["up", "--output", "json"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let ev = events(&again);
    let ready = ev
        .iter()
        .find(|e| e["event"] == "ready" && e["unit"] == "component.kube-prometheus-stack")
        .expect("ready");
    assert_eq!(ready["changed"], false);
    assert_eq!(revisions(&bed, &p.namespace, KPS).await, before, "helm did not run");
}

/// A TCP forwarder to `to` that starts listening on `port` after `delay`: a webhook
/// that is not reachable yet, then is.
fn forward_after(port: u16, to: String, delay: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the forwarder");
        for conn in listener.incoming().flatten() {
            let to = to.clone();
            std::thread::spawn(move || {
                let Ok(upstream) = std::net::TcpStream::connect(&to) else {
                    return;
                };
                let (mut a, mut b) = (conn.try_clone().expect("clone"), upstream.try_clone().expect("clone"));
                let (mut c, mut d) = (conn, upstream);
                std::thread::spawn(move || std::io::copy(&mut a, &mut b));
                let _ = std::io::copy(&mut d, &mut c);
            });
        }
    });
}

/// The PIDs of a process's children, whichever of its threads started them (Linux /proc).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .flat_map(|t| {
            std::fs::read_to_string(t.path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_not_ready_yet_holds_back_what_depends_on_it_until_it_admits() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let name = "wc-late";
    let port = free_port();
    let url = format!("https://127.0.0.1:{port}/validate");
    let p = Platform::new(
        &bed,
        name,
        &with_apps(&spec(name, &bed.chart_repo, &webhook_values(&url)), name),
    );
    // The webhook comes up only once windlass's gate is waiting on it, and 15 s later:
    // until then the platform, and the apps' rules, must stay back; the apps' workloads
    // (which do not use the monitoring stack) roll out meanwhile, `api` once `db` serves.
    let mut child = windlass_cmd(p.dir(), &p.kubeconfig, &["up", "--output", "json", "--timeout", "120"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("windlass up");
    let stdout = child.stdout.take().expect("stdout");
    let to = bed.webhook.clone();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = Vec::new();
        let mut started = false;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if !started && line.contains("\"waiting\"") && line.contains("admission webhook") {
                forward_after(port, to.clone(), Duration::from_secs(15));
                started = true;
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    let stdout = reader.join().expect("reader");
    let out = Output {
        status,
        stdout: stdout.into_bytes(),
        stderr: Vec::new(),
    };
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ev = events(&out);
    let waited = ev.iter().any(|e| {
        e["event"] == "waiting"
            && e["unit"] == "component.kube-prometheus-stack"
            && e["message"].as_str().is_some_and(|m| m.contains("admission webhook"))
    });
    assert!(waited, "the run waited on the webhook");
    let ready = position(&ev, "ready", "component.kube-prometheus-stack").expect("ready");
    let platform = position(&ev, "applying", "platform").expect("platform applied");
    assert!(
        ready < platform,
        "the platform's rules went on only after the webhook admitted"
    );
    let (db, api) = (format!("app.{name}-apps.db"), format!("app.{name}-apps.api"));
    let holding = ev
        .iter()
        .position(|e| {
            e["event"] == "waiting"
                && e["unit"] == db.as_str()
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("serving; holding") && m.contains("PrometheusRule"))
        })
        .expect("db held its rules back");
    let api_applying = position(&ev, "applying", &api).expect("api applied");
    assert!(
        holding < api_applying && api_applying < ready,
        "db served and api started while the monitoring stack's webhook was not admitting"
    );
    assert!(
        position(&ev, "ready", &db).expect("db ready") > ready,
        "db is done once its rules are in"
    );
    let mut held = rules(&bed, &format!("{name}-apps")).await;
    held.sort();
    assert_eq!(held, ["api-alerts", "db-alerts"], "both apps' rules went in at the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_never_admits_fails_the_run_with_exit_3_naming_it() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let name = "wc-dead";
    // Nothing ever listens here.
    let url = format!("https://127.0.0.1:{}/validate", free_port());
    let p = Platform::new(
        &bed,
        name,
        &with_apps(&spec(name, &bed.chart_repo, &webhook_values(&url)), name),
    );
    let out = p.run(&["up", "--timeout", "15"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.lines().any(|l| l.starts_with("✗ kube-prometheus-stack")
            && l.contains("kube-prometheus-stack: its admission webhook did not admit within 15s")),
        "{all}"
    );
    assert!(
        all.lines()
            .any(|l| l == "- platform                 skipped: kube-prometheus-stack failed"),
        "{all}"
    );
    // Nothing that needs the webhook was applied: neither the platform's rules nor the apps'.
    assert_eq!(
        rules(&bed, &p.namespace).await,
        Vec::<String>::new(),
        "no platform rule"
    );
    assert_eq!(
        rules(&bed, &format!("{name}-apps")).await,
        Vec::<String>::new(),
        "no app rule"
    );
    // The apps' workloads use nothing of the monitoring stack: they went in, and each
    // app fails naming what its rules waited for.
    let deployments: Api<Deployment> = Api::namespaced(bed.bed.client(), &format!("{name}-apps"));
    for app in ["db", "api"] {
        deployments.get(app).await.expect("the workload went in");
        assert!(
            all.lines().any(|l| l.starts_with(&format!("✗ app {app} "))
                && l.contains("never went in: kube-prometheus-stack failed")),
            "{all}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_while_helm_waits_leaves_a_pending_release_the_next_up_recovers() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let name = "wc-kill";
    let webhook = format!("https://{}/validate", bed.webhook);
    let stuck = webhook_values(&webhook).replace("testbed: {", "testbed: { neverReady: true,");
    let p = Platform::new(&bed, name, &spec(name, &bed.chart_repo, &stuck));
    let mut child = windlass_cmd(p.dir(), &p.kubeconfig, &["up", "--timeout", "300"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("windlass up");
    wait_until(
        "helm to be waiting on a pending-install release",
        Duration::from_secs(120),
        || async {
            let r = revisions(&bed, &p.namespace, KPS).await;
            Ok::<_, windlass_testbed::Error>(r.last().filter(|s| s.1 == "pending-install").map(|_| ()))
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // SIGKILL to windlass and to the helm it runs, as when the machine running them dies.
    let helm = children(child.id());
    assert!(!helm.is_empty(), "windlass is running helm");
    child.kill().expect("SIGKILL windlass");
    let _ = child.wait();
    for pid in helm {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        revisions(&bed, &p.namespace, KPS).await.last().map(|s| s.1.clone()),
        Some("pending-install".to_string()),
        "the killed run left the release pending"
    );
    p.write(&spec(name, &bed.chart_repo, &webhook_values(&webhook)));
    let out = p.run(&["up", "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("recovered release kube-prometheus-stack left pending by an interrupted run"),
        "{}",
        text(&out)
    );
    assert_eq!(
        revisions(&bed, &p.namespace, KPS).await.last().map(|s| s.1.clone()),
        Some("deployed".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_that_never_becomes_ready_is_rolled_back_and_the_old_pods_keep_serving() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let name = "wc-roll";
    let webhook = format!("https://{}/validate", bed.webhook);
    let p = Platform::new(&bed, name, &spec(name, &bed.chart_repo, &webhook_values(&webhook)));
    let out = p.run(&["up", "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stuck = webhook_values(&webhook).replace("testbed: {", "testbed: { neverReady: true,");
    p.write(&spec(name, &bed.chart_repo, &stuck));
    let out = p.run(&["up", "--timeout", "20"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let history = revisions(&bed, &p.namespace, KPS).await;
    let statuses: Vec<&str> = history.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(statuses, ["superseded", "failed", "deployed"], "{history:?}");
    let operator: Api<Deployment> = Api::namespaced(bed.bed.client(), &p.namespace);
    let d = operator.get("kube-prometheus-stack-operator").await.expect("operator");
    let labels = d
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.labels)
        .unwrap_or_default();
    assert!(
        !labels.contains_key("windlass.dev/testbed"),
        "the rolled-back template is the ready one"
    );
    let ready = d.status.and_then(|s| s.ready_replicas).unwrap_or(0);
    assert!(ready >= 1, "the previous pods keep serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_another_manager_changed_is_reported_then_taken_over_with_force_conflicts() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let name = "wc-conflict";
    let webhook = format!("https://{}/validate", bed.webhook);
    let p = Platform::new(&bed, name, &spec(name, &bed.chart_repo, &webhook_values(&webhook)));
    let out = p.run(&["up", "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Someone scales Grafana with their own field manager.
    let patched = std::process::Command::new("kubectl")
        .args([
            "-n",
            &p.namespace,
            "patch",
            "deployment",
            "kube-prometheus-stack-grafana",
            "--type=merge",
            "--field-manager=someone-else",
            "-p",
            r#"{"spec":{"replicas":3}}"#,
        ])
        .env("KUBECONFIG", &p.kubeconfig)
        .output()
        .expect("kubectl");
    assert!(patched.status.success(), "{}", String::from_utf8_lossy(&patched.stderr));
    // A values change makes helm run again; the chart sets replicas too.
    let changed = webhook_values(&webhook) + "        grafana: { replicas: 1 }\n";
    p.write(&spec(name, &bed.chart_repo, &changed));
    let out = p.run(&["up", "--timeout", "60"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("conflict"),
        "the conflict is reported: {}",
        text(&out)
    );
    let out = p.run(&["up", "--timeout", "60", "--force-conflicts"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let grafana: Api<Deployment> = Api::namespaced(bed.bed.client(), &p.namespace);
    let d = grafana.get("kube-prometheus-stack-grafana").await.expect("grafana");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_then_up_converges() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let name = "wc-down";
    let webhook = format!("https://{}/validate", bed.webhook);
    let p = Platform::new(&bed, name, &spec(name, &bed.chart_repo, &webhook_values(&webhook)));
    assert_eq!(p.run(&["up", "--timeout", "120"]).status.code(), Some(0));
    let out = p.run(&["down", "--yes", "--timeout", "60"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        revisions(&bed, &p.namespace, KPS).await.is_empty(),
        "the release is gone"
    );
    let all = text(&out);
    assert!(all.contains("kept"), "CRDs and the namespace are kept: {all}");
    let crds: Api<CustomResourceDefinition> = Api::all(bed.bed.client());
    assert!(
        crds.get_opt("prometheuses.monitoring.coreos.com")
            .await
            .expect("get")
            .is_some()
    );
    let out = p.run(&["up", "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        revisions(&bed, &p.namespace, KPS).await.last().map(|s| s.1.clone()),
        Some("deployed".to_string())
    );
}

/// The headline: `windlass init` (pointed at the bed's chart mirror) then `windlass up`
/// with no other step brings every component and the starter app to Ready, with the
/// platform's TLS objects, Grafana behind the Gateway at the URL `status` prints, and
/// Loki's volume bound; a second `up` touches no release; `down` removes the releases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_then_up_brings_every_component_and_app_to_ready() {
    let Some(bed) = bed().await else { return };
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = bed.bed.kubeconfig().to_path_buf();
    let run = |args: &[&str]| windlass(dir.path(), &kubeconfig, args);
    let init = std::process::Command::new(env!("CARGO_BIN_EXE_windlass"))
        .args([
            "init",
            "--domain",
            "story.example.com",
            "--email",
            "ops@example.com",
            "--chart-mirror",
            &bed.oci_repo,
        ])
        .current_dir(dir.path())
        .output()
        .expect("windlass init");
    assert_eq!(init.status.code(), Some(0), "{}", text(&init));
    struct Down<'a>(&'a Path, &'a Path);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = windlass(self.0, self.1, &["down", "--yes", "--timeout", "120"]);
        }
    }
    let _down = Down(dir.path(), &kubeconfig);

    let up = run(&["up", "--output", "json", "--timeout", "180"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    let ev = events(&up);
    let ready: Vec<&str> = ev
        .iter()
        .filter(|e| e["event"] == "ready")
        .filter_map(|e| e["unit"].as_str())
        .collect();
    let components = [
        "cert-manager",
        "envoy-gateway",
        "kube-prometheus-stack",
        "loki",
        "alloy",
        "blackbox-exporter",
        "metrics-server",
        "reloader",
    ];
    for c in components {
        assert!(
            ready.contains(&format!("component.{c}").as_str()),
            "{c} is ready: {ready:?}"
        );
    }
    for unit in ["platform", "namespace.story-dev", "app.story-dev.web"] {
        assert!(ready.contains(&unit), "{unit} is ready: {ready:?}");
    }

    // `status`: every release deployed with all its workloads ready, Grafana's URL, the app.
    let status = run(&["status", "--output", "json"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let status: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let listed = status["components"].as_array().expect("components");
    assert_eq!(listed.len(), components.len(), "{status:#}");
    for c in listed {
        assert_eq!(c["release_status"], "deployed", "{c:#}");
        assert!(c["workloads"].as_u64() > Some(0), "{c:#}");
        assert_eq!(c["workloads_ready"], c["workloads"], "{c:#}");
    }
    let grafana = listed
        .iter()
        .find(|c| c["component"] == KPS)
        .and_then(|c| c["urls"][0].as_str())
        .expect("Grafana's URL");
    assert_eq!(grafana, "https://grafana.story.example.com");
    let web = &status["apps"][0];
    assert_eq!(
        (web["app"].as_str(), web["ready"].as_u64()),
        (Some("web"), Some(1)),
        "{web:#}"
    );

    // Grafana through the Gateway: a route for the URL's host to Grafana's Service, a
    // listener for it whose certificate comes from the self-signed chain.
    let client = bed.bed.client();
    let host = grafana.trim_start_matches("https://");
    let dynamic = |group, version, kind, plural, ns: &str| dynamic(client.clone(), (group, version, kind, plural), ns);
    let route = dynamic(
        "gateway.networking.k8s.io",
        "v1",
        "HTTPRoute",
        "httproutes",
        "monitoring",
    )
    .get("grafana")
    .await
    .expect("Grafana's HTTPRoute");
    assert_eq!(route.data["spec"]["hostnames"][0], host);
    assert_eq!(
        route.data["spec"]["rules"][0]["backendRefs"][0]["name"],
        "kube-prometheus-stack-grafana"
    );
    let gateway_name = route.data["spec"]["parentRefs"][0]["name"].as_str().expect("parent");
    let gateway_ns = route.data["spec"]["parentRefs"][0]["namespace"]
        .as_str()
        .unwrap_or("monitoring");
    let gateway = dynamic("gateway.networking.k8s.io", "v1", "Gateway", "gateways", gateway_ns)
        .get(gateway_name)
        .await
        .expect("the Gateway");
    assert_eq!(gateway.data["spec"]["gatewayClassName"], "eg");
    let listener = gateway.data["spec"]["listeners"]
        .as_array()
        .expect("listeners")
        .iter()
        .find(|l| l["hostname"] == host && l["protocol"] == "HTTPS")
        .expect("an HTTPS listener for Grafana's host")
        .clone();
    let secret = listener["tls"]["certificateRefs"][0]["name"]
        .as_str()
        .expect("a certificate");
    let certificates = dynamic("cert-manager.io", "v1", "Certificate", "certificates", gateway_ns);
    let certificate = certificates
        .list(&ListParams::default())
        .await
        .expect("certificates")
        .items
        .into_iter()
        .find(|c| c.data["spec"]["secretName"] == secret)
        .expect("the listener's Certificate");
    assert_eq!(certificate.data["spec"]["dnsNames"][0], host);
    assert_eq!(certificate.data["spec"]["issuerRef"]["name"], "windlass-selfsigned-ca");

    // Loki's volume is bound to one of the bed's static volumes.
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> = Api::namespaced(client.clone(), "monitoring");
    let loki = claims.get("storage-loki-0").await.expect("Loki's claim");
    assert_eq!(loki.status.and_then(|s| s.phase).as_deref(), Some("Bound"));

    // Nothing to do the second time: no release gets a new revision.
    let releases = [
        ("cert-manager", "cert-manager"),
        ("monitoring", KPS),
        ("monitoring", "loki"),
        ("envoy-gateway-system", "envoy-gateway"),
    ];
    let mut before = Vec::new();
    for (ns, release) in releases {
        before.push(revisions(&bed, ns, release).await);
    }
    let again = run(&["up"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("0 changed"), "{}", text(&again));
    for ((ns, release), was) in releases.into_iter().zip(before) {
        assert_eq!(revisions(&bed, ns, release).await, was, "{release} untouched");
    }

    // `diff` of the installed platform: nothing (exit 0). Then component values
    // change: the release's objects are diffed as helm would apply them — the
    // changed Deployment, a new PodDisruptionBudget, the APIService the chart no
    // longer renders — exit 1, and nothing is applied.
    let diff = run(&["diff"]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    assert!(text(&diff).contains("no changes"), "{}", text(&diff));
    let spec_path = dir.path().join("windlass.yaml");
    let spec = std::fs::read_to_string(&spec_path).expect("the spec");
    let spec = spec.replacen(
        "platform:\n",
        "platform:\n  components:\n    metrics-server:\n      values:\n        replicas: 2\n        \
         podDisruptionBudget: { enabled: true, minAvailable: 1 }\n        apiService: { create: false }\n",
        1,
    );
    std::fs::write(&spec_path, spec).expect("writing the spec");
    let diff = run(&["diff", "--output", "json"]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    let diff: Value = serde_json::from_slice(&diff.stdout).expect("diff JSON");
    let changes: Vec<(&str, &str, &str)> = diff["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["unit"].as_str().unwrap_or_default(),
                c["object"].as_str().unwrap_or_default(),
                c["action"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                "component.metrics-server",
                "PodDisruptionBudget/kube-system/metrics-server",
                "create"
            ),
            (
                "component.metrics-server",
                "Deployment/kube-system/metrics-server",
                "update"
            ),
            ("component.metrics-server", "APIService/v1beta1.metrics.k8s.io", "prune"),
        ],
        "{diff:#}"
    );
    let update = diff["changes"][1]["diff"].as_str().expect("a diff");
    assert!(
        update.contains("-  replicas: 1\n+  replicas: 2\n"),
        "the replica count is what changes:\n{update}"
    );
    assert_eq!(
        revisions(&bed, "kube-system", "metrics-server").await.len(),
        1,
        "diff installs nothing"
    );

    let down = run(&["down", "--yes", "--timeout", "120"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down));
    assert!(
        revisions(&bed, "monitoring", KPS).await.is_empty(),
        "the releases are gone"
    );
}
