//! `render --format flux|argocd` against the real thing: the example as a fleet
//! (both environments, one tree each format), every directory built by the real
//! `kubectl kustomize`, every object admitted by a strict server-side dry run
//! against the bed's apiserver with the upstream Flux CRDs (source-controller v1.9.0
//! and kustomize-controller v1.9.6, the versions the bed runs; helm-controller v1.6.4)
//! and Argo CD's (v3.6.1), their CEL rules included. The ordering is read back
//! from the built trees: Flux `dependsOn` edges and Argo CD sync waves agree.
//!
//! End to end: the bed's real source-controller and kustomize-controller (built
//! from their Go modules, run as host processes) reconcile a rendered tree
//! served as an OCI artifact from the bed's registry: the units' Kustomizations
//! become Ready in `needs` order, and a changed spec, rendered and pushed, rolls
//! out. helm-controller's module is not served, so HelmReleases are proven by the
//! strict dry run against its CRD only, never installed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use kube::ResourceExt;
use kube::api::{DynamicObject, Patch, PatchParams, ValidationDirective};
use windlass_testbed::TestBed;
use windlass_testbed::{ObjectApplier, parse_yaml_stream};

const EXAMPLE: &str = "examples/platform/windlass.yaml";

/// The tests take turns: the dry run makes and deletes `flux-system` (and the
/// example's namespaces), which the end-to-end test's controllers work in.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const ENVIRONMENTS: [&str; 2] = ["production", "development"];

/// `windlass render --format FORMAT --fleet` of the example (every environment a cluster) into `out`.
fn render_fleet(format: &str, out: &Path) {
    let spec = common::repo_root().join(EXAMPLE);
    let repo: &[&str] = if format == "argocd" {
        &["--repo-url", "https://git.example.com/shop.git"]
    } else {
        &[]
    };
    let output = Command::new(common::windlass_binary())
        .args(["render", "--format", format, "--fleet"])
        .args(repo)
        .arg("--out")
        .arg(out)
        .arg("-f")
        .arg(&spec)
        .output()
        .expect("windlass render");
    assert!(
        output.status.success(),
        "render --format {format} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every directory under `root` that holds a kustomization.yaml, relative, `/`-separated.
fn kustomize_dirs(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry.file_name() == "kustomization.yaml" {
                let rel = dir
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// `kubectl kustomize` of every directory of the tree: directory -> the objects it builds.
fn build_all(kubectl: &Path, root: &Path) -> BTreeMap<String, Vec<DynamicObject>> {
    let mut built = BTreeMap::new();
    for d in kustomize_dirs(root) {
        let out = Command::new(kubectl)
            .args(["kustomize"])
            .arg(root.join(&d))
            .output()
            .expect("kubectl kustomize");
        assert!(
            out.status.success(),
            "kubectl kustomize {d}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let docs = parse_yaml_stream(&String::from_utf8(out.stdout).expect("utf-8")).expect("YAML");
        assert!(!docs.is_empty(), "{d} builds to nothing");
        built.insert(d, docs);
    }
    built
}

/// Admits every object with a strict server-side dry run (namespaces made first);
/// returns the kinds seen. Strictness is checked live on `probe_kind`.
async fn admitted_strictly(bed: &TestBed, objects: &[DynamicObject], probe_kind: &str) -> BTreeSet<String> {
    let _cleanup = common::namespaces_for(bed, objects).await;
    let mut applier = ObjectApplier::new(bed.client(), "windlass");
    let mut params = PatchParams::apply("windlass").force();
    params.dry_run = true;
    params.field_validation = Some(ValidationDirective::Strict);
    let mut kinds = BTreeSet::new();
    for obj in objects.iter().filter(|o| common::kind(o) != "Namespace") {
        let (api, kind) = applier.api_for(obj).await.expect("kind served");
        api.patch(&obj.name_any(), &params, &Patch::Apply(obj))
            .await
            .unwrap_or_else(|e| panic!("{} refused: {e}", common::describe(obj)));
        kinds.insert(kind);
    }
    let mut bad = objects
        .iter()
        .find(|o| common::kind(o) == probe_kind)
        .unwrap_or_else(|| panic!("a {probe_kind}"))
        .clone();
    bad.data["spec"]["bogusField"] = serde_json::json!(true);
    let (api, _) = applier.api_for(&bad).await.expect("kind served");
    let refused = api.patch(&bad.name_any(), &params, &Patch::Apply(&bad)).await;
    assert!(
        matches!(&refused, Err(kube::Error::Api(s)) if s.message.contains("bogusField")),
        "strictness is live: {refused:?}"
    );
    kinds
}

/// The directories the top objects (Kustomizations' `path`, Applications' source `path`s) apply.
fn applied_paths(top: &[DynamicObject]) -> Vec<String> {
    top.iter()
        .flat_map(|o| {
            let spec = &o.data["spec"];
            let mut paths: Vec<String> = Vec::new();
            for p in [&spec["path"], &spec["source"]["path"]] {
                paths.extend(p.as_str().map(|p| p.trim_start_matches("./").to_string()));
            }
            for s in spec["sources"].as_array().into_iter().flatten() {
                paths.extend(s["path"].as_str().map(str::to_string));
            }
            paths
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_fleet_trees_build_with_kustomize_and_are_admitted_strictly() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let kubectl = windlass_testbed::paths::tool("kubectl").expect("the bed's kubectl");
    let dir = tempfile::tempdir().expect("tempdir");
    let (flux_root, argo_root) = (dir.path().join("flux"), dir.path().join("argocd"));
    render_fleet("flux", &flux_root);
    render_fleet("argocd", &argo_root);
    let flux = build_all(&kubectl, &flux_root);
    let argo = build_all(&kubectl, &argo_root);
    // The fleet shares a base; each cluster's directory still builds to exactly what
    // a render of that environment alone holds.
    assert!(
        flux.keys().any(|d| d.starts_with("units/_base/")),
        "the fleet shares nothing"
    );
    for environment in ENVIRONMENTS {
        let single_root = dir.path().join(format!("single-{environment}"));
        let output = Command::new(common::windlass_binary())
            .args(["render", "--format", "flux", "--env", environment, "--out"])
            .arg(&single_root)
            .arg("-f")
            .arg(common::repo_root().join(EXAMPLE))
            .output()
            .expect("windlass render");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let single = build_all(&kubectl, &single_root);
        let as_set = |docs: &[DynamicObject]| -> BTreeSet<String> {
            docs.iter().map(|d| serde_json::to_string(d).expect("json")).collect()
        };
        for (d, docs) in single.iter().filter(|(d, _)| d.starts_with("units/")) {
            let fleet = flux.get(d).unwrap_or_else(|| panic!("the fleet lacks {d}"));
            assert_eq!(
                as_set(fleet),
                as_set(docs),
                "{d}: the fleet's build differs from the single render's"
            );
        }
    }
    for (format, built) in [("flux", &flux), ("argocd", &argo)] {
        let unit_dirs: BTreeSet<&String> = built
            .keys()
            .filter(|d| d.starts_with("units/") && !d.starts_with("units/_base/"))
            .collect();
        for environment in ENVIRONMENTS {
            let top_dir = match format {
                "flux" => format!("clusters/{environment}"),
                _ => format!("clusters/{environment}/apps"),
            };
            let top = built.get(&top_dir).unwrap_or_else(|| panic!("{format}: {top_dir}"));
            let paths = applied_paths(top);
            let unique: BTreeSet<&String> = paths.iter().collect();
            assert_eq!(
                unique.len(),
                paths.len(),
                "{format}: a directory applied twice: {paths:?}"
            );
            let mine: BTreeSet<&String> = unit_dirs
                .iter()
                .copied()
                .filter(|d| d.starts_with(&format!("units/{environment}/")))
                .collect();
            assert_eq!(
                unique, mine,
                "{format} {environment}: every unit directory is applied by exactly one top object"
            );
        }
    }
    // Ordering: every Flux edge A -> B is a later Argo CD wave for B.
    for environment in ENVIRONMENTS {
        let ks = &flux[&format!("clusters/{environment}")];
        let names: BTreeSet<String> = ks.iter().map(|k| k.name_any()).collect();
        let waves: BTreeMap<String, u64> = argo[&format!("clusters/{environment}/apps")]
            .iter()
            .map(|a| {
                let w = a.annotations()["argocd.argoproj.io/sync-wave"].parse().expect("wave");
                (a.name_any(), w)
            })
            .collect();
        assert_eq!(names, waves.keys().cloned().collect(), "the same units in both trees");
        for k in ks {
            assert_eq!(k.data["spec"]["wait"], true, "{} waits", k.name_any());
            for d in k.data["spec"]["dependsOn"].as_array().into_iter().flatten() {
                let a = d["name"].as_str().expect("name");
                assert!(
                    names.contains(a),
                    "{} depends on {a}, which the tree lacks",
                    k.name_any()
                );
                assert!(waves[a] < waves[&k.name_any()], "wave({a}) < wave({})", k.name_any());
            }
        }
    }
    // What Flux and Argo CD apply: every top object and every applied directory's objects.
    for (format, built, probe) in [("flux", &flux, "HelmRelease"), ("argocd", &argo, "Application")] {
        let mut objects: Vec<DynamicObject> = built
            .iter()
            .filter(|(d, _)| !d.starts_with("units/_base/"))
            .flat_map(|(_, docs)| docs.iter().cloned())
            .collect();
        if format == "argocd" {
            // The root Application and the argocd-cm health check, applied by hand.
            for environment in ENVIRONMENTS {
                for file in ["root.yaml", "argocd-cm-health.yaml"] {
                    let text = std::fs::read_to_string(argo_root.join(format!("clusters/{environment}/{file}")))
                        .expect("read");
                    objects.extend(parse_yaml_stream(&text).expect("YAML"));
                }
            }
        }
        let kinds = admitted_strictly(&bed, &objects, probe).await;
        let wanted: &[&str] = match format {
            "flux" => &[
                "Kustomization",
                "HelmRelease",
                "OCIRepository",
                "HelmRepository",
                "Deployment",
            ],
            _ => &["Application", "ConfigMap", "Deployment"],
        };
        for w in wanted {
            assert!(kinds.contains(*w), "{format}: no {w} in {kinds:?}");
        }
    }
}

/// Pushes `dir` as a Flux OCI artifact (a config of Flux's media type and one
/// tar+gzip layer, as `flux push artifact` makes) to a plain-HTTP registry on
/// 127.0.0.1, with the distribution API's monolithic upload; returns the manifest digest.
fn push_artifact(registry: &str, repository: &str, tag: &str, dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Write};
    let tgz = dir.with_extension("tgz");
    let status = Command::new("tar")
        .args(["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-czf"])
        .arg(&tgz)
        .arg("-C")
        .arg(dir)
        .arg(".")
        .status()
        .expect("tar");
    assert!(status.success(), "tar failed");
    let layer = std::fs::read(&tgz).expect("tarball");
    let config = b"{}".to_vec();
    let digest = |b: &[u8]| format!("sha256:{:x}", Sha256::digest(b));
    // One HTTP/1.1 request, `Connection: close`: status code and headers of the answer.
    let request = |method: &str, path: &str, content_type: &str, body: &[u8]| -> (u16, String) {
        let mut s = std::net::TcpStream::connect(registry).expect("registry");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {registry}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).expect("write");
        s.write_all(body).expect("write");
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("read");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let code = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (code, answer)
    };
    for blob in [&config, &layer] {
        let (code, answer) = request(
            "POST",
            &format!("/v2/{repository}/blobs/uploads/"),
            "application/octet-stream",
            &[],
        );
        assert_eq!(code, 202, "{answer}");
        let location = answer
            .lines()
            .find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: ")))
            .expect("upload location")
            .trim()
            .to_string();
        let path = location
            .split_once(registry)
            .map_or(location.as_str(), |(_, p)| p)
            .to_string();
        let sep = if path.contains('?') { '&' } else { '?' };
        let (code, answer) = request(
            "PUT",
            &format!("{path}{sep}digest={}", digest(blob)),
            "application/octet-stream",
            blob,
        );
        assert_eq!(code, 201, "{answer}");
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.flux.config.v1+json",
        "config": {"mediaType": "application/vnd.cncf.flux.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.cncf.flux.content.v1.tar+gzip", "digest": digest(&layer), "size": layer.len()}],
        "annotations": {"org.opencontainers.image.revision": tag},
    });
    let body = serde_json::to_vec(&manifest).expect("json");
    let (code, answer) = request(
        "PUT",
        &format!("/v2/{repository}/manifests/{tag}"),
        "application/vnd.oci.image.manifest.v1+json",
        &body,
    );
    assert_eq!(code, 201, "{answer}");
    digest(&body)
}

// A throwaway age key made with age-keygen for these tests; it protects nothing.
const AGE_KEY: &str = "AGE-SECRET-KEY-156C9HPY50LLX4CE32DYJCCG2LMZQ4GM7S88SGEY0EUGEDGM2Z77QAFQY53";
const AGE_RECIPIENT: &str = "age1dvk6vxsd3cs2krrzm05gwyjz204j3u0gj0vv9n3a8xnds6z3qu8q5a7hla";
const SECRET_VALUE: &str = "flux-decrypted-value";

/// Whatever a failed end-to-end run leaves in flux-system loses its Flux
/// finalizers when the test ends (the controllers that would remove them are
/// stopped), so the namespace can go and the next run starts clean.
struct Finalizers(kube::Client);

impl Drop for Finalizers {
    fn drop(&mut self) {
        use kube::api::{ApiResource, ListParams, Patch, PatchParams};
        use kube::core::GroupVersionKind;
        let client = self.0.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                for (group, kind) in [
                    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
                    ("source.toolkit.fluxcd.io", "OCIRepository"),
                ] {
                    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind));
                    let api: kube::Api<DynamicObject> = kube::Api::namespaced_with(client.clone(), "flux-system", &ar);
                    let Ok(list) = api.list(&ListParams::default()).await else {
                        continue;
                    };
                    for o in list {
                        let patch = serde_json::json!({"metadata": {"finalizers": null}});
                        let _ = api
                            .patch(&o.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
                            .await;
                    }
                }
            });
        })
        .join();
    }
}

/// A Flux controller as a host process against the bed, stopped on drop.
struct Controller(std::process::Child);

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start(binary: &Path, kubeconfig: &Path, args: &[String], log: &Path) -> Controller {
    let log = std::fs::File::create(log).expect("log file");
    let child = Command::new(binary)
        .env("KUBECONFIG", kubeconfig)
        .env("RUNTIME_NAMESPACE", "flux-system")
        .args([
            "--enable-leader-election=false",
            "--watch-all-namespaces=true",
            "--log-encoding=console",
        ])
        .arg(format!("--metrics-addr=127.0.0.1:{}", free_port()))
        .arg(format!("--health-addr=127.0.0.1:{}", free_port()))
        .args(args)
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start controller");
    Controller(child)
}

/// The spec of the end-to-end test: the platform's own units and two apps, `api`
/// needing `db`, in the test's namespaces; no components (helm-controller is not served).
fn e2e_spec(name: &str, apps_ns: &str, gw: &str, mon: &str, api_image: &str) -> String {
    // `api` also reads a SOPS secret: the tree carries it encrypted, kustomize-controller decrypts it.
    let off: String = windlass_core::components::ComponentName::ALL
        .into_iter()
        .map(|c| format!("    {}: {{ enabled: false }}\n", c.as_str()))
        .collect();
    format!(
        "apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: {name}
  domain: {name}.example.com
  email: ops@example.com
  tls: letsencrypt-staging
  secrets: {{ file: secrets.sops.yaml }}
  namespace: {apps_ns}
  traffic: {{ mode: gateway, namespace: {gw} }}
  monitoring: {{ namespace: {mon} }}
  components:
{off}apps:
  db:
    kind: statefulset
    image: ghcr.io/example/db:16.4
    port: 5432
    health: {{ tcp: true }}
  api:
    image: {api_image}
    port: 8080
    health: {{ path: /ready, liveness: /livez }}
    needs: [db]
    secretEnv: {{ DB_PASSWORD: {{ sops: db/password }} }}
"
    )
}

/// The Ready condition of a Flux object: (status, last transition time).
fn ready(o: &DynamicObject) -> Option<(String, String)> {
    o.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["lastTransitionTime"].as_str().unwrap_or_default().to_string(),
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_controllers_reconcile_the_rendered_tree_in_needs_order_and_roll_out_a_change() {
    use kube::Api;
    use kube::api::{ApiResource, DeleteParams, PostParams};
    use kube::core::GroupVersionKind;
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    // Dropped after the controllers (declared before them): see `Finalizers`.
    let _finalizers = Finalizers(bed.client());
    let Some([source_controller, kustomize_controller]) =
        windlass_testbed::paths::tools(["source-controller", "kustomize-controller"])
    else {
        assert!(
            !windlass_testbed::paths::testbed_required(),
            "the bed has no Flux controllers"
        );
        return;
    };
    let registry =
        std::env::var("WINDLASS_TESTBED_OCI_REPO").expect("WINDLASS_TESTBED_OCI_REPO (run through cargo xtask ci)");
    let registry = registry
        .trim_start_matches("oci://")
        .split('/')
        .next()
        .expect("host:port")
        .to_string();
    let client = bed.client();
    let gw = bed.namespace("flux-gw").await.expect("namespace");
    let mon = bed.namespace("flux-mon").await.expect("namespace");
    let suffix = gw.name().trim_start_matches("flux-gw-").to_string();
    let (name, apps_ns) = (format!("fx{suffix}"), format!("flux-apps-{suffix}"));
    let work = tempfile::tempdir().expect("tempdir");
    let spec_path = work.path().join("windlass.yaml");
    let source = format!("flux-{suffix}");
    // The secrets file, encrypted by windlass to a throwaway age key.
    std::fs::write(
        work.path().join("plain.yaml"),
        format!("db:\n  password: {SECRET_VALUE}\n"),
    )
    .expect("plain");
    let made = Command::new(common::windlass_binary())
        .args([
            "secrets",
            "encrypt",
            "--age",
            AGE_RECIPIENT,
            "plain.yaml",
            "-o",
            "secrets.sops.yaml",
        ])
        .current_dir(work.path())
        .output()
        .expect("windlass secrets encrypt");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let render = |image: &str, out: &str| {
        std::fs::write(&spec_path, e2e_spec(&name, &apps_ns, gw.name(), mon.name(), image)).expect("spec");
        let o = Command::new(common::windlass_binary())
            .args([
                "render",
                "--format",
                "flux",
                "--flux-source",
                &format!("OCIRepository/{source}"),
            ])
            .args(["--sops-secret", &format!("sops-age-{suffix}"), "--out", out])
            .arg("-f")
            .arg(&spec_path)
            .current_dir(work.path())
            .env("SOPS_AGE_KEY", AGE_KEY)
            .env("HOME", work.path())
            .output()
            .expect("windlass render");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        work.path().join(out)
    };
    let repository = format!("windlass-flux-{suffix}");
    let tree = render("ghcr.io/example/api:1.0.0", "v1");
    push_artifact(&registry, &repository, "v1", &tree);

    // flux-system, the controllers, the source and the root Kustomization `flux bootstrap` would make.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "flux-system"}})).expect("ns");
    // (Another test may have just deleted it: wait until it is gone, then make it.)
    windlass_testbed::wait_until("namespace flux-system", std::time::Duration::from_secs(120), || {
        let (namespaces, ns) = (namespaces.clone(), ns.clone());
        async move {
            match namespaces.get_opt("flux-system").await? {
                Some(n) if n.metadata.deletion_timestamp.is_none() => Ok::<_, windlass_testbed::Error>(Some(())),
                Some(_) => Ok(None),
                None => {
                    let _ = namespaces.create(&PostParams::default(), &ns).await;
                    Ok(None)
                }
            }
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // The age key kustomize-controller decrypts with, as the tree's README says to create it.
    let key_secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), "flux-system");
    let key: k8s_openapi::api::core::v1::Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("sops-age-{suffix}")},
        "stringData": {"age.agekey": AGE_KEY},
    }))
    .expect("secret");
    key_secrets
        .create(&PostParams::default(), &key)
        .await
        .expect("sops key Secret");
    let storage = work.path().join("storage");
    std::fs::create_dir_all(&storage).expect("storage");
    let storage_port = free_port();
    let _source = start(
        &source_controller,
        bed.kubeconfig(),
        &[
            format!("--storage-path={}", storage.display()),
            format!("--storage-addr=127.0.0.1:{storage_port}"),
            format!("--storage-adv-addr=127.0.0.1:{storage_port}"),
        ],
        &work.path().join("source-controller.log"),
    );
    let _kustomize = start(
        &kustomize_controller,
        bed.kubeconfig(),
        &["--requeue-dependency=5s".to_string()],
        &work.path().join("kustomize-controller.log"),
    );
    let gvk =
        |group: &str, version: &str, kind: &str| ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    let oci_api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "flux-system",
        &gvk("source.toolkit.fluxcd.io", "v1", "OCIRepository"),
    );
    let ks_api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "flux-system",
        &gvk("kustomize.toolkit.fluxcd.io", "v1", "Kustomization"),
    );
    let oci: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
        "metadata": {"name": source, "namespace": "flux-system"},
        "spec": {"interval": "5s", "url": format!("oci://{registry}/{repository}"), "ref": {"tag": "v1"}, "insecure": true},
    }))
    .expect("OCIRepository");
    oci_api
        .create(&PostParams::default(), &oci)
        .await
        .expect("create OCIRepository");
    let root_name = format!("{source}-root");
    let root: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": root_name, "namespace": "flux-system"},
        "spec": {"interval": "10m", "path": "./clusters/default", "prune": true,
                 "sourceRef": {"kind": "OCIRepository", "name": source}},
    }))
    .expect("Kustomization");
    ks_api
        .create(&PostParams::default(), &root)
        .await
        .expect("create root Kustomization");

    // Every unit's Kustomization becomes Ready, and none before the ones it depends on.
    let units = [
        "platform",
        &format!("namespace-{apps_ns}"),
        &format!("app-{apps_ns}-db"),
        &format!("app-{apps_ns}-api"),
    ]
    .map(|u| format!("{name}-{u}"));
    let logs = work.path().to_path_buf();
    let all_ready = wait_until_ready(&ks_api, &units, &logs).await;
    for pair in units.windows(2) {
        let (before, after) = (&all_ready[&pair[0]], &all_ready[&pair[1]]);
        assert!(
            before <= after,
            "{} became Ready at {after}, before {} ({before})",
            pair[1],
            pair[0]
        );
    }
    let api_ks = ks_api.get(&units[3]).await.expect("api Kustomization");
    let depends: Vec<&str> = api_ks.data["spec"]["dependsOn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(depends.contains(&units[2].as_str()), "{depends:?}");
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client.clone(), &apps_ns);
    let image = |d: &k8s_openapi::api::apps::v1::Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers[0].image.clone())
    };
    assert_eq!(
        image(&deployments.get("api").await.expect("api")).as_deref(),
        Some("ghcr.io/example/api:1.0.0")
    );
    // The Secret arrived decrypted by kustomize-controller; the tree held it encrypted.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), &apps_ns);
    let db = secrets.get("api-sops-db").await.expect("the SOPS Secret");
    assert_eq!(
        db.data.and_then(|d| d.get("password").cloned()).map(|b| b.0),
        Some(SECRET_VALUE.as_bytes().to_vec())
    );
    let tree_text: String = kustomize_dirs(&tree)
        .iter()
        .flat_map(|d| std::fs::read_dir(tree.join(d)).expect("dir").flatten())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert!(tree_text.contains("ENC[AES256_GCM") && !tree_text.contains(SECRET_VALUE));

    // A change to the spec, rendered and pushed, rolls out.
    let tree = render("ghcr.io/example/api:1.1.0", "v2");
    push_artifact(&registry, &repository, "v1", &tree);
    windlass_testbed::wait_until(
        "the new image to roll out through Flux",
        std::time::Duration::from_secs(120),
        || {
            let deployments = deployments.clone();
            async move {
                let d = deployments.get("api").await?;
                Ok::<_, windlass_testbed::Error>(
                    (image(&d).as_deref() == Some("ghcr.io/example/api:1.1.0")).then_some(()),
                )
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", controller_logs(&logs)));

    // Deleting the root prunes the unit Kustomizations, which prune their objects.
    ks_api
        .delete(&root_name, &DeleteParams::default())
        .await
        .expect("delete root");
    windlass_testbed::wait_until("the units to be pruned", std::time::Duration::from_secs(120), || {
        let ks_api = ks_api.clone();
        let name = units[0].clone();
        async move { Ok::<_, windlass_testbed::Error>(ks_api.get_opt(&name).await?.is_none().then_some(())) }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", controller_logs(&logs)));
    oci_api
        .delete(&source, &DeleteParams::default())
        .await
        .expect("delete source");
    let _ = key_secrets
        .delete(&format!("sops-age-{suffix}"), &DeleteParams::default())
        .await;
    let _ = namespaces.delete(&apps_ns, &DeleteParams::default()).await;
}

/// Waits until each named Kustomization is Ready; returns when each became so.
async fn wait_until_ready(api: &kube::Api<DynamicObject>, names: &[String], logs: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in names {
        let at = windlass_testbed::wait_until(
            &format!("Kustomization {name} to become Ready"),
            std::time::Duration::from_secs(240),
            || {
                let api = api.clone();
                let name = name.clone();
                async move {
                    let Some(k) = api.get_opt(&name).await? else {
                        return Ok::<_, windlass_testbed::Error>(None);
                    };
                    Ok(ready(&k).filter(|(s, _)| s == "True").map(|(_, at)| at))
                }
            },
        )
        .await;
        let at = match at {
            Ok(at) => at,
            Err(e) => {
                let status = api
                    .get_opt(name)
                    .await
                    .ok()
                    .flatten()
                    .map(|k| k.data["status"].to_string());
                panic!("{e}\nstatus: {status:?}\n{}", controller_logs(logs))
            }
        };
        out.insert(name.clone(), at);
    }
    out
}

/// The tail of both controllers' logs, for a failing test's message.
fn controller_logs(dir: &Path) -> String {
    ["source-controller.log", "kustomize-controller.log"]
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            let tail: Vec<&str> = text
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("--- {f}\n{}", tail.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
