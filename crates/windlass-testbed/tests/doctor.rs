//! `windlass doctor` against the test bed: each incident staged for real
//! (kwok's misbehaviour stages for the pods, the real controllers for the
//! rest, a Certificate's status written through its status subresource as
//! cert-manager would), then found by the binary with durations from the
//! objects' own timestamps; and its HTML page opened in a real headless browser.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::RESTRICTED_CONTAINER;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client};
use serde_json::{Value, json};
use windlass_testbed::{TestBed, parse_yaml_stream, wait_until};

fn incidents(ns: &str, hook_label: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: {ns}}}
spec:
  serviceName: db
  replicas: 1
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db, windlass.dev/testbed: crashloop}}}}
    spec:
      containers:
      - name: postgres
        resources: {{limits: {{memory: 256Mi}}}}{RESTRICTED_CONTAINER}
---
apiVersion: v1
kind: Service
metadata: {{name: db, namespace: {ns}}}
spec: {{clusterIP: None, selector: {{app: db}}, ports: [{{name: postgres, port: 5432}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: stuck, namespace: {ns}}}
spec:
  replicas: 1
  progressDeadlineSeconds: 5
  selector: {{matchLabels: {{app: stuck}}}}
  template:
    metadata: {{labels: {{app: stuck, windlass.dev/testbed: never-ready}}}}
    spec:
      containers:
      - name: app{RESTRICTED_CONTAINER}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: {ns}}}
spec: {{storageClassName: no-such-class, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: waits, namespace: {ns}}}
spec:
  volumes: [{{name: data, persistentVolumeClaim: {{claimName: data}}}}]
  containers:
    - name: app
      image: registry.example/app:1.0.0
      securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 10001, capabilities: {{drop: [ALL]}}, seccompProfile: {{type: RuntimeDefault}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: hook, namespace: {ns}}}
spec: {{selector: {{app: nothing-runs-this}}, ports: [{{port: 443}}]}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: {ns}-hook}}
webhooks:
  - name: check.{ns}.windlass.dev
    failurePolicy: Fail
    sideEffects: None
    admissionReviewVersions: [v1]
    clientConfig: {{service: {{namespace: {ns}, name: hook}}}}
    rules: [{{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}}]
    # No namespace has this label: the webhook can refuse nothing on the shared bed.
    namespaceSelector: {{matchLabels: {{windlass.dev/doctor-test: {hook_label}}}}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {{name: expiring, namespace: {ns}}}
spec: {{secretName: expiring-tls, dnsNames: [expiring.example.com], issuerRef: {{name: selfsigned, kind: ClusterIssuer}}}}
"#
    )
}

async fn apply(client: &Client, yaml: &str) {
    let objects = parse_yaml_stream(yaml).expect("valid fixture");
    common::apply_admitted(client, &objects).await;
}

/// `windlass doctor` as JSON findings.
fn doctor(kubeconfig: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::new(common::windlass_binary())
        .arg("doctor")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--output", "json"])
        .args(args)
        .output()
        .expect("running windlass doctor");
    let code = out.status.code().unwrap_or(-1);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, v)
}

fn finding<'v>(v: &'v Value, rule: &str, object_prefix: &str) -> Option<&'v Value> {
    v["findings"]
        .as_array()?
        .iter()
        .find(|f| f["rule"] == rule && f["object"].as_str().is_some_and(|o| o.starts_with(object_prefix)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_finds_each_incident_with_durations_from_the_objects() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let client = bed.client();
    let ns = bed.namespace("doctor").await.expect("namespace");
    let n = ns.name().to_string();
    apply(&client, &incidents(&n, &n)).await;

    // The Certificate as cert-manager would leave it: Ready, expiring in 10 days.
    let cert = ApiResource::from_gvk(&GroupVersionKind::gvk("cert-manager.io", "v1", "Certificate"));
    let certs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &n, &cert);
    let now = jiff::Timestamp::now();
    let not_after = now + jiff::SignedDuration::from_hours(24 * 10);
    let status = json!({"status": {"notAfter": not_after.to_string(), "notBefore": now.to_string(),
        "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired", "lastTransitionTime": now.to_string()}]}});
    certs
        .patch_status("expiring", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("certificate status");

    // A namespace stuck Terminating: a ConfigMap in it holds a finalizer nothing removes.
    let term = format!("{n}-term");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns_obj: Namespace = serde_json::from_value(json!({"metadata": {"name": term}})).expect("namespace");
    namespaces
        .create(&PostParams::default(), &ns_obj)
        .await
        .expect("create namespace");
    let held: Api<ConfigMap> = Api::namespaced(client.clone(), &term);
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "held", "finalizers": ["windlass.dev/doctor-test"]}}))
            .expect("cm");
    held.create(&PostParams::default(), &cm)
        .await
        .expect("create configmap");
    namespaces
        .delete(&term, &DeleteParams::default())
        .await
        .expect("delete namespace");

    let expected = [
        ("crash-loop", format!("Pod/{n}/db-0")),
        ("oom-killed", format!("Pod/{n}/db-0")),
        ("pod-not-ready", format!("Pod/{n}/stuck-")),
        ("rollout-stuck", format!("Deployment/{n}/stuck")),
        ("pvc-unbound", format!("PersistentVolumeClaim/{n}/data")),
        ("pod-pending", format!("Pod/{n}/waits")),
        (
            "webhook-no-endpoints",
            format!("ValidatingWebhookConfiguration/{n}-hook"),
        ),
        ("certificate-expiring", format!("Certificate/{n}/expiring")),
        ("stuck-terminating", format!("Namespace/{term}")),
    ];
    let kubeconfig = bed.kubeconfig().to_path_buf();
    let report = wait_until(
        "doctor to report every staged incident",
        Duration::from_secs(120),
        || {
            let kubeconfig = kubeconfig.clone();
            let expected = expected.clone();
            async move {
                let (_, v) = doctor(&kubeconfig, &[]);
                let all = expected
                    .iter()
                    .all(|(rule, object)| finding(&v, rule, object).is_some());
                Ok::<_, windlass_testbed::Error>(all.then_some(v))
            }
        },
    )
    .await;
    // Leave nothing behind on the shared bed, whatever happened.
    let _ = held
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await;
    let hooks = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
    ));
    let _ = Api::<DynamicObject>::all_with(client.clone(), &hooks)
        .delete(&format!("{n}-hook"), &DeleteParams::default())
        .await;
    let report = report.unwrap_or_else(|e| panic!("{e}: {}", doctor(&kubeconfig, &[]).1));

    let message = |rule: &str, object: &str| {
        finding(&report, rule, object).expect("finding")["message"]
            .as_str()
            .expect("message")
            .to_string()
    };
    let crash = message("crash-loop", &expected[0].1);
    assert!(
        crash.starts_with("container `postgres` is crash-looping for "),
        "{crash}"
    );
    assert!(crash.contains(" restarts; last exit: OOMKilled (code 137)"), "{crash}");
    assert!(message("oom-killed", &expected[1].1).contains("over its memory limit 256Mi"));
    assert!(message("pvc-unbound", &expected[4].1).contains("StorageClass no-such-class does not exist"));
    let pending = message("pod-pending", &expected[5].1);
    assert!(
        pending.starts_with("Pending for ") && pending.contains("PersistentVolumeClaim data is unbound"),
        "{pending}"
    );
    let hook = finding(&report, "webhook-no-endpoints", &expected[6].1).expect("webhook");
    assert_eq!(hook["severity"], "error");
    assert!(hook["message"].as_str().expect("message").contains(&format!(
        "Service {n}/hook has no ready endpoints; failurePolicy Fail: every CREATE of configmaps"
    )));
    let cert = finding(&report, "certificate-expiring", &expected[7].1).expect("certificate");
    assert_eq!(cert["severity"], "warning");
    assert!(
        cert["message"]
            .as_str()
            .expect("message")
            .starts_with("expires in 9 days"),
        "{cert}"
    );
    let stuck = message("stuck-terminating", &expected[8].1);
    assert!(
        stuck.starts_with("Terminating for ") && stuck.contains("windlass.dev/doctor-test"),
        "{stuck}"
    );

    // --namespace narrows the namespaced kinds; the exit code follows --fail-on.
    let (code, narrowed) = doctor(&kubeconfig, &["--namespace", &n]);
    assert_eq!(code, 1);
    assert!(
        narrowed["findings"].as_array().expect("findings").iter().all(|f| {
            let o = f["object"].as_str().unwrap_or("");
            o.matches('/').count() == 1 || o.split('/').nth(1) == Some(n.as_str())
        }),
        "{narrowed}"
    );
    let (code, _) = doctor(&kubeconfig, &["--namespace", &n, "--fail-on", "never"]);
    assert_eq!(code, 0);
}

/// The HTML page opened in headless Chromium: the browser's DOM shows the same
/// counts as the JSON of the same run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_opens_in_a_browser() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let ns = bed.namespace("doctor-html").await.expect("namespace");
    let n = ns.name();
    apply(
        &bed.client(),
        &format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data, namespace: {n}}}\nspec: {{storageClassName: no-such-class, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n"
        ),
    )
    .await;
    let dir = tempfile::tempdir().expect("tmp");
    let page = dir.path().join("doctor.html");
    let out = Command::new(common::windlass_binary())
        .args(["doctor", "--namespace", n, "--output", "html", "--kubeconfig"])
        .arg(bed.kubeconfig())
        .output()
        .expect("doctor");
    std::fs::write(&page, &out.stdout).expect("write page");
    let chromium = std::env::var_os(windlass_testbed::paths::BIN_ENV)
        .map(|d| Path::new(&d).join("chromium"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "chromium".into());
    let dom = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("running chromium (the test bed installs it)");
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The page as the browser built it: each summary count matches the rows of its section
    // (findings elsewhere on the shared bed change between two runs, so one page is compared with itself).
    for severity in ["error", "warning", "info"] {
        let marker = format!("<span class=\"n\" id=\"count-{severity}\">");
        let at = dom
            .find(&marker)
            .unwrap_or_else(|| panic!("no {severity} count in the page:\n{dom}"))
            + marker.len();
        let count: usize = dom[at..]
            .split('<')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a number");
        let rows = dom
            .split(&format!("<section class=\"{severity}\">"))
            .nth(1)
            .map_or(0, |s| {
                s.split("</section>")
                    .next()
                    .unwrap_or("")
                    .matches("<tr class=\"finding\"")
                    .count()
            });
        assert_eq!(
            rows, count,
            "{severity}: the summary says {count}, the page lists {rows}"
        );
    }
    assert!(dom.contains(&format!("PersistentVolumeClaim/{n}/data")), "{dom}");
    assert!(dom.contains("StorageClass no-such-class does not exist"));
}
