//! The rendered example platform is real: rendered by the actual `windlass` binary,
//! every object is admitted by the test bed's apiserver (HTTPRoute, ServiceMonitor,
//! PrometheusRule and Certificate against the upstream CRD schemas) into namespaces
//! that enforce Pod Security `restricted`, every Deployment becomes Available on
//! kwok nodes, and applying again changes nothing.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{DeleteParams, DynamicObject, PostParams};
use kube::{Api, ResourceExt};
use windlass_testbed::{Error, TestBed, parse_yaml_stream, wait_until};

const EXAMPLE: &str = "examples/platform/windlass.yaml";
/// Every environment of the example: production (Let's Encrypt) and development (self-signed CA).
const ENVIRONMENTS: [&str; 2] = ["production", "development"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `windlass` binary, freshly built (or `$WINDLASS_BIN`).
fn windlass_binary() -> PathBuf {
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

fn render(environment: &str) -> Vec<DynamicObject> {
    let root = repo_root();
    let spec = root.join(EXAMPLE);
    assert!(spec.exists(), "the example platform {} is missing", spec.display());
    let output = Command::new(windlass_binary())
        .arg("render")
        .arg("-f")
        .arg(&spec)
        .args(["--env", environment, "--stdout"])
        .current_dir(&root)
        .output()
        .expect("running windlass render");
    assert!(
        output.status.success(),
        "windlass render failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let yaml = String::from_utf8(output.stdout).expect("rendered YAML is UTF-8");
    parse_yaml_stream(&yaml).unwrap_or_else(|e| panic!("windlass render printed invalid YAML: {e}"))
}

/// Deletes the rendered namespaces when the test ends, however it ends.
struct RenderedNamespaces {
    names: Vec<String>,
    kubeconfig: PathBuf,
}

impl Drop for RenderedNamespaces {
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
    let objects = render(environment);

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
    // Objects for platform components (monitoring, the gateway) go to namespaces
    // their charts' installs own, which the render does not emit: stand them in.
    let rendered: BTreeSet<String> = namespaces.iter().map(|n| n.name_any()).collect();
    let referenced: BTreeSet<String> = objects.iter().filter_map(|o| o.namespace()).collect();
    let platform: Vec<DynamicObject> = referenced
        .difference(&rendered)
        .map(|name| {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": {"windlass.dev/test-namespace": "true"}},
            }))
            .expect("a Namespace")
        })
        .collect();
    let _cleanup = RenderedNamespaces {
        names: rendered.iter().chain(referenced.iter()).cloned().collect(),
        kubeconfig: bed.kubeconfig().to_path_buf(),
    };
    // A namespace left terminating by an earlier run would refuse new objects.
    let ns_api = Api::<Namespace>::all(client.clone());
    for name in rendered.iter().chain(referenced.iter()) {
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

    common::apply_admitted(&client, &platform).await;
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
