//! Checks shared by the cluster tests: render a spec with the real binary, stand in
//! the namespaces its objects need, apply objects for real, wait for their
//! Deployments, and prove a second apply changes nothing.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, DynamicObject};
use kube::{Api, Client, ResourceExt};
use windlass_testbed::{Error, ObjectApplier, TestBed, parse_yaml_stream, wait_until};

/// A container's fields (after `- name: NAME`, list items at 6 spaces) that pass
/// Pod Security `restricted`, as the test namespaces enforce it.
pub const RESTRICTED_CONTAINER: &str = r#"
        image: registry.example/app:1.0.0
        securityContext:
          allowPrivilegeEscalation: false
          runAsNonRoot: true
          runAsUser: 10001
          capabilities: {drop: [ALL]}
          seccompProfile: {type: RuntimeDefault}"#;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `windlass` binary, freshly built (or `$WINDLASS_BIN`).
pub fn windlass_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("WINDLASS_BIN") {
        return PathBuf::from(bin);
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--package", "windlass", "--bin", "windlass"])
        .current_dir(repo_root())
        .status()
        .expect("running cargo build");
    assert!(status.success(), "cargo build -p windlass failed");
    // This test runs from <target>/debug/deps; the binary sits in <target>/debug.
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target profile directory");
    let bin = profile_dir.join("windlass");
    assert!(bin.exists(), "no windlass binary at {}", bin.display());
    bin
}

/// `windlass render -f SPEC [--env ENVIRONMENT] --stdout`, parsed.
pub fn render(spec: &Path, environment: Option<&str>) -> Vec<DynamicObject> {
    render_kinds(spec, environment, &[])
}

/// Like [`render`], but only the documents of these kinds are parsed (all if empty).
pub fn render_kinds(spec: &Path, environment: Option<&str>, kinds: &[&str]) -> Vec<DynamicObject> {
    assert!(spec.exists(), "the spec {} is missing", spec.display());
    let output = Command::new(windlass_binary())
        .arg("render")
        .arg("-f")
        .arg(spec)
        .args(environment.map(|e| ["--env", e]).into_iter().flatten())
        .arg("--stdout")
        .current_dir(spec.parent().expect("the spec's directory"))
        .output()
        .expect("running windlass render");
    assert!(
        output.status.success(),
        "windlass render failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut yaml = String::from_utf8(output.stdout).expect("rendered YAML is UTF-8");
    if !kinds.is_empty() {
        yaml = yaml
            .split("\n---\n")
            .filter(|doc| {
                doc.lines()
                    .any(|l| kinds.iter().any(|k| l.strip_prefix("kind: ") == Some(k)))
            })
            .collect::<Vec<_>>()
            .join("\n---\n");
    }
    parse_yaml_stream(&yaml).unwrap_or_else(|e| panic!("windlass render printed invalid YAML: {e}"))
}

/// Deletes namespaces when the test ends, however it ends.
pub struct Namespaces {
    names: Vec<String>,
    kubeconfig: PathBuf,
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        let names = std::mem::take(&mut self.names);
        let kubeconfig = self.kubeconfig.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let kubeconfig = kube::config::Kubeconfig::read_from(&kubeconfig).ok()?;
                let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                    .await
                    .ok()?;
                let api = Api::<Namespace>::all(kube::Client::try_from(config).ok()?);
                for name in names {
                    let _ = api.delete(&name, &DeleteParams::background()).await;
                }
                Some(())
            })
        })
        .join();
    }
}

/// Creates every namespace `objects` live in: the rendered Namespaces and, for
/// the platform components' objects, stand-ins for the namespaces their charts'
/// installs own (the render does not emit those). Waits out any left terminating
/// by an earlier run; the answer deletes them all when dropped.
pub async fn namespaces_for(bed: &TestBed, objects: &[DynamicObject]) -> Namespaces {
    let client = bed.client();
    let rendered: Vec<DynamicObject> = objects.iter().filter(|o| kind(o) == "Namespace").cloned().collect();
    let rendered_names: BTreeSet<String> = rendered.iter().map(|n| n.name_any()).collect();
    let referenced: BTreeSet<String> = objects.iter().filter_map(|o| o.namespace()).collect();
    let stand_ins: Vec<DynamicObject> = referenced
        .difference(&rendered_names)
        .map(|name| {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": {"windlass.dev/test-namespace": "true"}},
            }))
            .expect("a Namespace")
        })
        .collect();
    let all: BTreeSet<String> = rendered_names.union(&referenced).cloned().collect();
    let guard = Namespaces {
        names: all.iter().cloned().collect(),
        kubeconfig: bed.kubeconfig().to_path_buf(),
    };
    let ns_api = Api::<Namespace>::all(client.clone());
    for name in &all {
        let name = name.clone();
        wait_until(
            &format!("namespace {name} to finish terminating"),
            Duration::from_secs(90),
            || {
                let ns_api = ns_api.clone();
                let name = name.clone();
                async move {
                    let terminating = ns_api
                        .get_opt(&name)
                        .await?
                        .is_some_and(|n| n.metadata.deletion_timestamp.is_some());
                    Ok::<_, Error>((!terminating).then_some(()))
                }
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    apply_admitted(&client, &stand_ins).await;
    apply_admitted(&client, &rendered).await;
    guard
}

pub fn kind(obj: &DynamicObject) -> &str {
    obj.types.as_ref().map(|t| t.kind.as_str()).unwrap_or_default()
}

pub fn describe(obj: &DynamicObject) -> String {
    format!(
        "{} {}/{}",
        kind(obj),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

/// Applies `objects` with server-side apply; every one must be admitted.
pub async fn apply_admitted(client: &Client, objects: &[DynamicObject]) -> Vec<DynamicObject> {
    let mut applier = ObjectApplier::new(client.clone(), "windlass");
    match applier.apply_all(objects, false).await {
        Ok(applied) => applied,
        Err(err) => panic!("the apiserver refused an object: {err}"),
    }
}

/// Waits until every Deployment among `objects` is Available with all replicas ready.
pub async fn deployments_available(client: &Client, objects: &[DynamicObject]) {
    for obj in objects.iter().filter(|o| kind(o) == "Deployment") {
        let ns = obj.namespace().unwrap_or_default();
        let api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        let name = obj.name_any();
        let what = format!("Deployment {ns}/{name} to become Available");
        let available = wait_until(&what, Duration::from_secs(120), || {
            let api = api.clone();
            let name = name.clone();
            async move {
                let deployment = api.get(&name).await?;
                let wanted = deployment.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                let status = deployment.status.unwrap_or_default();
                let available = status
                    .conditions
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Available" && c.status == "True");
                let done = available
                    && status.ready_replicas.unwrap_or(0) == wanted
                    && status.updated_replicas.unwrap_or(0) == wanted;
                Ok::<_, Error>(done.then_some(()))
            }
        })
        .await;
        if let Err(err) = available {
            panic!("{err}");
        }
    }
}

/// A server-side dry-run apply of the same objects must answer exactly the live
/// objects, and a real re-apply must not bump any resourceVersion.
pub async fn reapply_is_noop(client: &Client, objects: &[DynamicObject]) {
    let mut applier = ObjectApplier::new(client.clone(), "windlass");
    let mut live = BTreeMap::new();
    for obj in objects {
        let (api, _) = applier.api_for(obj).await.expect("discovered kind");
        let current = api.get(&obj.name_any()).await.expect("object exists");
        live.insert(describe(obj), current);
    }
    let dry = applier.apply_all(objects, true).await.expect("dry-run apply admitted");
    for answered in &dry {
        let key = describe(answered);
        let current = &live[&key];
        let (answered_json, current_json) = (
            serde_json::to_value(answered).expect("json"),
            serde_json::to_value(current).expect("json"),
        );
        assert_eq!(
            answered_json, current_json,
            "a server-side dry-run apply of {key} would change it"
        );
    }
    // A real re-apply must leave every object as it was. (Its resourceVersion may
    // still move: the apiserver rewrites some CRD objects, e.g. Gateway API's
    // with defaulted status, even when nothing in them changes.)
    let again = applier.apply_all(objects, false).await.expect("re-apply admitted");
    for answered in &again {
        let key = describe(answered);
        let before = &live[&key];
        assert_eq!(
            answered.metadata.generation, before.metadata.generation,
            "re-applying {key} changed its generation"
        );
        assert_eq!(
            without_resource_version(answered),
            without_resource_version(before),
            "re-applying {key} changed it"
        );
    }
}

fn without_resource_version(obj: &DynamicObject) -> serde_json::Value {
    let mut value = serde_json::to_value(obj).expect("json");
    if let Some(metadata) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        metadata.remove("resourceVersion");
    }
    value
}
