//! `cargo xtask bench doctor`: `windlass doctor` on a large cluster (issue 10:
//! 1,000 nodes and 20,000 pods, under 5 s and 300 MB), on a fresh test bed:
//! kwok nodes and bare pods (each with resources, probes and a security context,
//! so the static rules run on every one) spread over 20 namespaces, made Running
//! by kwok. Beside it, the apiserver's own time to list those pods, as
//! `kubectl get pods -A -o json --chunk-size=500` measures it. One pod in
//! every `PLANTED_EVERY` crash-loops (the bed's kwok misbehaviour stage): the
//! bench fails unless doctor finds exactly those at this scale.

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
/// One pod in this many crash-loops.
const PLANTED_EVERY: usize = 2_000;

fn planted(i: usize) -> bool {
    i % PLANTED_EVERY == PLANTED_EVERY - 1
}

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
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  namespace: bench-{ns}\n  labels: {{app: app-{app}{planted}}}\nspec:\n  \
             nodeName: bench-node-{node}\n  securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}\n  containers:\n  \
             - name: app\n    image: registry.example.com/team/app-{app}:1.0.0\n    ports: [{{name: http, containerPort: 8080}}]\n    \
             securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}\n    \
             resources: {{requests: {{cpu: 10m, memory: 32Mi}}, limits: {{memory: 64Mi, ephemeral-storage: 1Gi}}}}\n    \
             readinessProbe: {{httpGet: {{path: /ready, port: 8080}}, timeoutSeconds: 3}}\n    \
             livenessProbe: {{httpGet: {{path: /live, port: 8080}}, timeoutSeconds: 5}}\n",
            ns = i % NAMESPACES,
            app = i % 500,
            node = i % nodes,
            planted = if planted(i) {
                ", windlass.dev/testbed: crashloop"
            } else {
                ""
            },
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
        if running >= opts.pods - opts.pods / PLANTED_EVERY {
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
    let verdict = findings_hold(&windlass, &kubeconfig_arg, opts);
    println!("stopping the test bed (its etcd holds the bench's objects) ...");
    crate::bed::down()?;
    let _ = std::fs::remove_dir_all(&work);
    verdict
}

/// At this scale, doctor reads every pod and node and finds exactly the planted
/// crash loops, and no other pod at error severity.
fn findings_hold(windlass: &Path, kubeconfig: &str, opts: &DoctorOptions) -> Result<()> {
    let out = Command::new(windlass)
        .args([
            "doctor",
            "--kubeconfig",
            kubeconfig,
            "--output",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .context("running windlass doctor")?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).context("doctor's JSON report")?;
    let objects = report["summary"]["objects"].as_u64().unwrap_or(0) as usize;
    if objects < opts.nodes + opts.pods {
        bail!(
            "doctor checked {objects} objects, fewer than the {} nodes and pods",
            opts.nodes + opts.pods
        );
    }
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let on = |f: &serde_json::Value, key: &str| f[key].as_str().unwrap_or("").to_string();
    let looping: std::collections::BTreeSet<String> = findings
        .iter()
        .filter(|f| on(f, "rule") == "crash-loop")
        .map(|f| on(f, "object"))
        .collect();
    let wanted: std::collections::BTreeSet<String> = (0..opts.pods)
        .filter(|&i| planted(i))
        .map(|i| format!("Pod/bench-{}/pod-{i}", i % NAMESPACES))
        .collect();
    if looping != wanted {
        bail!("doctor's crash loops {looping:?} are not the planted {wanted:?}");
    }
    let other: Vec<String> = findings
        .iter()
        .filter(|f| on(f, "severity") == "error" && on(f, "object").starts_with("Pod/bench-"))
        .filter(|f| !wanted.contains(&on(f, "object")))
        .map(|f| format!("{} {}", on(f, "object"), on(f, "rule")))
        .collect();
    if !other.is_empty() {
        bail!("doctor reports errors on healthy pods: {other:?}");
    }
    println!(
        "  doctor read {objects} objects and found exactly the {} planted crash loops among the {} pods",
        wanted.len(),
        opts.pods
    );
    Ok(())
}
