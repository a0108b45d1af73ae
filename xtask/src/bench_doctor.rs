//! `cargo xtask bench doctor`: `windlass doctor` on a large cluster (issue 10:
//! 1,000 nodes and 20,000 pods, under 5 s and 300 MB), on a fresh test bed:
//! kwok nodes and bare pods (each with resources, probes and a security context,
//! so the static rules run on every one) spread over 20 namespaces, made Running
//! by kwok. Beside it, the apiserver's own time to list those pods, as
//! `kubectl get pods -A -o json --chunk-size=500` measures it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::{mb, measure, ms};

pub struct DoctorOptions {
    pub nodes: usize,
    pub pods: usize,
    pub runs: usize,
}

const NAMESPACES: usize = 20;
/// Parallel `kubectl create` processes filling the bed.
const WRITERS: usize = 4;

fn nodes_yaml(from: usize, to: usize) -> String {
    let mut out = String::new();
    for i in from..to {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: bench-node-{i}\n  annotations: {{kwok.x-k8s.io/node: fake}}\n  \
             labels: {{type: kwok, kubernetes.io/hostname: bench-node-{i}}}\nstatus:\n  allocatable: {{cpu: \"32\", memory: 256Gi, ephemeral-storage: 200Gi, pods: \"110\"}}\n  \
             capacity: {{cpu: \"32\", memory: 256Gi, ephemeral-storage: 200Gi, pods: \"110\"}}\n"
        );
    }
    out
}

fn pods_yaml(from: usize, to: usize, nodes: usize) -> String {
    let mut out = String::new();
    for i in from..to {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  namespace: bench-{ns}\n  labels: {{app: app-{app}}}\nspec:\n  \
             nodeName: bench-node-{node}\n  securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}\n  containers:\n  \
             - name: app\n    image: registry.example.com/team/app-{app}:1.0.0\n    ports: [{{name: http, containerPort: 8080}}]\n    \
             securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}\n    \
             resources: {{requests: {{cpu: 10m, memory: 32Mi}}, limits: {{memory: 64Mi, ephemeral-storage: 1Gi}}}}\n    \
             readinessProbe: {{httpGet: {{path: /ready, port: 8080}}, timeoutSeconds: 3}}\n    \
             livenessProbe: {{httpGet: {{path: /live, port: 8080}}, timeoutSeconds: 5}}\n",
            ns = i % NAMESPACES,
            app = i % 500,
            node = i % nodes,
        );
    }
    out
}

/// `kubectl create -f -` of each chunk, `WRITERS` at a time.
fn create_parallel(
    kubectl: &Path,
    kubeconfig: &Path,
    chunks: Vec<String>,
    log_dir: &Path,
    what: &str,
) -> Result<Duration> {
    use std::io::Write as _;
    let start = Instant::now();
    let mut children = Vec::new();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let log = std::fs::File::create(log_dir.join(format!("{what}-{i}.log")))?;
        let mut child = Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["create", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("running kubectl create")?;
        child.stdin.take().context("stdin")?.write_all(chunk.as_bytes())?;
        children.push((i, child));
    }
    for (i, mut child) in children {
        if !child.wait()?.success() {
            let text = std::fs::read_to_string(log_dir.join(format!("{what}-{i}.log"))).unwrap_or_default();
            bail!(
                "kubectl create of {what} chunk {i} failed:\n{}",
                crate::bench::tail(&text, 20)
            );
        }
    }
    Ok(start.elapsed())
}

fn chunks(total: usize, make: impl Fn(usize, usize) -> String) -> Vec<String> {
    let per = total.div_ceil(WRITERS);
    (0..WRITERS)
        .map(|w| (w * per, ((w + 1) * per).min(total)))
        .filter(|(a, b)| a < b)
        .map(|(a, b)| make(a, b))
        .collect()
}

fn running_pods(kubectl: &Path, kubeconfig: &Path) -> Result<usize> {
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args([
            "get",
            "pods",
            "-A",
            "--chunk-size=500",
            "--field-selector=status.phase=Running",
            "-o",
            "name",
        ])
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).lines().count())
}

pub fn doctor(opts: &DoctorOptions) -> Result<()> {
    let root = crate::repo_root();
    let windlass = crate::bench::release_binary(&root)?;
    println!("starting a fresh test bed ...");
    crate::bed::down()?;
    let kubeconfig = crate::bed::up()?;
    let env: std::collections::BTreeMap<String, String> = crate::bed::test_env()?.into_iter().collect();
    let bin_dir = PathBuf::from(env.get(windlass_testbed::paths::BIN_ENV).context("the bed's bin dir")?);
    let kubectl = bin_dir.join("kubectl");
    let work = std::env::temp_dir().join(format!("windlass-bench-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    let namespaces: String = (0..NAMESPACES)
        .map(|i| format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: bench-{i}}}\n"))
        .collect();
    create_parallel(&kubectl, &kubeconfig, vec![namespaces], &work, "namespaces")?;
    let took = create_parallel(&kubectl, &kubeconfig, chunks(opts.nodes, nodes_yaml), &work, "nodes")?;
    println!("  {} kwok nodes created in {:.1} s", opts.nodes, took.as_secs_f64());
    let nodes = opts.nodes;
    let took = create_parallel(
        &kubectl,
        &kubeconfig,
        chunks(opts.pods, |a, b| pods_yaml(a, b, nodes)),
        &work,
        "pods",
    )?;
    println!("  {} pods created in {:.1} s", opts.pods, took.as_secs_f64());
    let start = Instant::now();
    let mut running = 0;
    while start.elapsed() < Duration::from_secs(900) {
        running = running_pods(&kubectl, &kubeconfig)?;
        if running >= opts.pods {
            break;
        }
        std::thread::sleep(Duration::from_secs(5));
    }
    println!(
        "  {running} pods Running after {:.0} s more",
        start.elapsed().as_secs_f64()
    );

    let kubeconfig_arg = kubeconfig.display().to_string();
    let ours = measure(
        &windlass,
        &[
            "doctor",
            "--kubeconfig",
            &kubeconfig_arg,
            "--output",
            "json",
            "--fail-on",
            "never",
        ],
        opts.runs,
    )?;
    let list = measure(
        &kubectl,
        &[
            "--kubeconfig",
            &kubeconfig_arg,
            "get",
            "pods",
            "-A",
            "-o",
            "json",
            "--chunk-size=500",
        ],
        opts.runs,
    )?;
    println!();
    println!(
        "{} nodes (+ the bed's own), {} pods, {} runs each (median wall time, peak RSS)",
        opts.nodes, opts.pods, opts.runs
    );
    println!(
        "  windlass doctor (every kind, every rule)     {:>8.1} ms  {:>6.1} MB   target: < 5 s and < 300 MB — {}",
        ms(ours.median),
        mb(ours.max_rss_kb),
        if ours.median.as_secs_f64() < 5.0 && mb(ours.max_rss_kb) < 300.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  kubectl get pods -A -o json --chunk-size=500 {:>8.1} ms  {:>6.1} MB   (the apiserver listing the pods)",
        ms(list.median),
        mb(list.max_rss_kb)
    );
    println!(
        "  doctor / pod list: {:.2}x the time",
        ours.median.as_secs_f64() / list.median.as_secs_f64()
    );
    println!("stopping the test bed (its etcd holds the bench's objects) ...");
    crate::bed::down()?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
