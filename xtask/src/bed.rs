//! `cargo xtask testbed up|down|status|env|build`: a real control plane on
//! 127.0.0.1 (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) with
//! kwok simulating nodes and pods, and the upstream CRDs installed.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use windlass_testbed::paths;

use crate::certs::{self, Files};
use crate::process::{self, Started};
use crate::tools;
use crate::versions::Pinned;

/// How many simulated nodes kwok manages.
const NODE_COUNT: usize = 3;
/// The label that makes kwok's default pod stages leave a pod alone, so our
/// misbehaviour stages (testbed/kwok/misbehaviour-stages.yaml) can act on it.
const MISBEHAVIOUR_LABEL: &str = "windlass.dev/testbed";
const SERVICE_CIDR: &str = "10.96.0.0/16";

/// What `up` recorded about the running test bed (`<run>/state.json`).
#[derive(Debug, Serialize, Deserialize)]
struct State {
    versions_hash: String,
    bin_dir: PathBuf,
    server: String,
    processes: Vec<Started>,
}

/// The built tools and CRDs of the pinned versions.
pub struct Built {
    pub pinned: Pinned,
    pub bin_dir: PathBuf,
    pub crd_dir: PathBuf,
    pub kwok_module_dir: PathBuf,
}

fn pinned() -> Result<Pinned> {
    Pinned::load(&crate::repo_root())
}

fn bin_dir_of(pinned: &Pinned) -> PathBuf {
    paths::build_dir(&pinned.hash).join("bin")
}

/// Builds or finds everything `up` needs.
pub fn build() -> Result<Built> {
    let pinned = pinned()?;
    let build_dir = paths::build_dir(&pinned.hash);
    let bin_dir = build_dir.join("bin");
    tools::ensure_debian_tools(&pinned)?;
    tools::build_go_binaries(&pinned, &build_dir, &bin_dir)?;
    tools::link_debian_tools(&pinned, &bin_dir)?;
    let crd_dir = crate::crds::ensure_crds(&pinned, &build_dir)?;
    let kwok = pinned
        .versions
        .build
        .iter()
        .find(|b| b.name == "kwok")
        .context("testbed/versions.toml has no `kwok` build")?;
    let download = tools::go_mod_download(&kwok.module, &kwok.version)?;
    let kwok_module_dir = download
        .go_mod
        .and_then(|_| module_dir(&kwok.module, &kwok.version))
        .context("kwok's module is not extracted in the Go module cache")?;
    Ok(Built {
        pinned,
        bin_dir,
        crd_dir,
        kwok_module_dir,
    })
}

/// Where the Go module cache extracted `module@version` (GOMODCACHE layout).
fn module_dir(module: &str, version: &str) -> Option<PathBuf> {
    let output = Command::new("go").args(["env", "GOMODCACHE"]).output().ok()?;
    let cache = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    // Upper-case letters are escaped as !lower in module cache paths.
    let escaped: String = module
        .chars()
        .flat_map(|c| {
            if c.is_ascii_uppercase() {
                vec!['!', c.to_ascii_lowercase()]
            } else {
                vec![c]
            }
        })
        .collect();
    let dir = cache.join(format!("{escaped}@{version}"));
    dir.is_dir().then_some(dir)
}

pub fn up() -> Result<PathBuf> {
    let started_at = Instant::now();
    let built = build()?;
    let run_dir = paths::run_dir();
    if let Some(state) = read_state(&run_dir) {
        let health = health(&state, &built.bin_dir);
        if health.is_ok() && state.versions_hash == built.pinned.hash {
            eprintln!(
                "testbed: already running and healthy at {} (kubeconfig {})",
                state.server,
                paths::kubeconfig().display()
            );
            return Ok(paths::kubeconfig());
        }
        let why = match health {
            Err(err) => format!("{err:#}"),
            Ok(()) => "the pinned versions changed".to_string(),
        };
        eprintln!("testbed: restarting the test bed in {} ({why})", run_dir.display());
        stop_all(&run_dir)?;
    } else if run_dir.exists() {
        eprintln!("testbed: removing the leftover run directory {}", run_dir.display());
        std::fs::remove_dir_all(&run_dir).with_context(|| format!("removing {}", run_dir.display()))?;
    }
    match start(&built, &run_dir) {
        Ok(()) => {
            eprintln!(
                "testbed: up in {:.1?}; use it with: eval \"$(cargo xtask testbed env)\"",
                started_at.elapsed()
            );
            Ok(paths::kubeconfig())
        }
        Err(err) => {
            // Leave the logs for inspection but no processes behind.
            let _ = stop_processes(&run_dir);
            Err(err.context(format!(
                "the test bed did not come up; logs are in {}",
                run_dir.join("logs").display()
            )))
        }
    }
}

fn start(built: &Built, run_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
    let pki = run_dir.join("pki");
    certs::generate(&pki)?;
    let bin = |name: &str| built.bin_dir.join(name);
    let pki_file = |name: &str| pki.join(name).display().to_string();

    let [
        etcd_port,
        etcd_peer_port,
        apiserver_port,
        kcm_port,
        scheduler_port,
        kwok_port,
    ] = free_ports()?;
    let server = format!("https://127.0.0.1:{apiserver_port}");
    let kubeconfig = paths::kubeconfig();
    std::fs::write(&kubeconfig, kubeconfig_yaml(&server, &pki))
        .with_context(|| format!("writing {}", kubeconfig.display()))?;

    let mut state = State {
        versions_hash: built.pinned.hash.clone(),
        bin_dir: built.bin_dir.clone(),
        server: server.clone(),
        processes: Vec::new(),
    };
    let launch = |state: &mut State, name: &str, args: Vec<String>| -> Result<Started> {
        let started = process::start(run_dir, name, &bin(name), &args)?;
        state.processes.push(started.clone());
        write_state(run_dir, state)?;
        Ok(started)
    };

    let etcd_url = format!("http://127.0.0.1:{etcd_port}");
    let peer_url = format!("http://127.0.0.1:{etcd_peer_port}");
    let etcd = launch(
        &mut state,
        "etcd",
        vec![
            "--name=windlass".into(),
            format!("--data-dir={}", run_dir.join("etcd").display()),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=windlass={peer_url}"),
            // A throwaway store: skipping fsync makes every write fast.
            "--unsafe-no-fsync".into(),
            "--log-level=warn".into(),
        ],
    )?;
    wait_for_port(&etcd, etcd_port, Duration::from_secs(30))?;

    let apiserver = launch(
        &mut state,
        "kube-apiserver",
        vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            // The endpoint reconciler refuses a loopback advertise address; no
            // pod here talks to the kubernetes Service anyway.
            "--endpoint-reconciler-type=none".into(),
            format!("--secure-port={apiserver_port}"),
            format!("--cert-dir={}", pki.display()),
            format!("--tls-cert-file={}", pki_file(Files::SERVING_CERT)),
            format!("--tls-private-key-file={}", pki_file(Files::SERVING_KEY)),
            format!("--client-ca-file={}", pki_file(Files::CA)),
            "--authorization-mode=Node,RBAC".into(),
            format!(
                "--service-account-key-file={}",
                pki_file(Files::SERVICE_ACCOUNT_PUBLIC_KEY)
            ),
            format!(
                "--service-account-signing-key-file={}",
                pki_file(Files::SERVICE_ACCOUNT_KEY)
            ),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            // Privileged pods must be refused by Pod Security admission, not by
            // this global switch, so the tests prove the namespace labels work.
            "--allow-privileged=true".into(),
            "--profiling=false".into(),
            "--v=1".into(),
        ],
    )?;
    let kubectl = Kubectl {
        binary: bin("kubectl"),
        kubeconfig: kubeconfig.clone(),
    };
    wait_ready(&apiserver, &kubectl, Duration::from_secs(90))?;

    let kubeconfig_flag = format!("--kubeconfig={}", kubeconfig.display());
    launch(
        &mut state,
        "kube-controller-manager",
        vec![
            kubeconfig_flag.clone(),
            format!("--authentication-kubeconfig={}", kubeconfig.display()),
            format!("--authorization-kubeconfig={}", kubeconfig.display()),
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={kcm_port}"),
            format!(
                "--service-account-private-key-file={}",
                pki_file(Files::SERVICE_ACCOUNT_KEY)
            ),
            format!("--root-ca-file={}", pki_file(Files::CA)),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            "--use-service-account-credentials=true".into(),
            "--leader-elect=false".into(),
            // Fast feedback for rollout tests.
            "--concurrent-deployment-syncs=10".into(),
            "--profiling=false".into(),
        ],
    )?;
    launch(
        &mut state,
        "kube-scheduler",
        vec![
            kubeconfig_flag.clone(),
            format!("--authentication-kubeconfig={}", kubeconfig.display()),
            format!("--authorization-kubeconfig={}", kubeconfig.display()),
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={scheduler_port}"),
            "--leader-elect=false".into(),
            "--profiling=false".into(),
        ],
    )?;
    let kwok_config = run_dir.join("kwok.yaml");
    std::fs::write(&kwok_config, kwok_config_yaml(built)?)
        .with_context(|| format!("writing {}", kwok_config.display()))?;
    launch(
        &mut state,
        "kwok",
        vec![
            kubeconfig_flag,
            format!("--config={}", kwok_config.display()),
            "--manage-all-nodes=false".into(),
            // The heartbeat-with-lease stage refreshes node status only every ~10 min and
            // relies on a renewed Lease; without leases the node lifecycle controller marks
            // the nodes NotReady after its grace period and every pod on them with it.
            "--node-lease-duration-seconds=40".into(),
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake".into(),
            "--node-ip=10.244.0.1".into(),
            "--cidr=10.244.0.0/16".into(),
            format!("--server-address=127.0.0.1:{kwok_port}"),
        ],
    )?;

    let nodes = run_dir.join("nodes.yaml");
    std::fs::write(&nodes, nodes_yaml()).with_context(|| format!("writing {}", nodes.display()))?;
    kubectl.run(
        &["apply", "--server-side", "--field-manager=windlass-testbed", "-f"],
        Some(&nodes),
    )?;
    eprintln!("testbed: installing CRDs from {}", built.crd_dir.display());
    kubectl.run(
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=windlass-testbed",
            "-f",
        ],
        Some(&built.crd_dir),
    )?;
    kubectl.run(
        &["wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"],
        None,
    )?;
    kubectl.run(
        &["wait", "--for=condition=Ready", "node", "--all", "--timeout=120s"],
        None,
    )?;
    // The service-account controller runs once the default account exists;
    // pods cannot be created in a namespace before that.
    wait_until("the default service account", Duration::from_secs(60), || {
        kubectl
            .output(&["get", "serviceaccount", "default", "--namespace=default"])
            .is_ok()
    })?;
    let smoke = built.pinned.testbed_dir.join("smoke.yaml");
    kubectl.run(
        &["apply", "--server-side", "--field-manager=windlass-testbed", "-f"],
        Some(&smoke),
    )?;
    kubectl.run(
        &[
            "rollout",
            "status",
            "deployment/smoke",
            "--namespace=windlass-testbed",
            "--timeout=90s",
        ],
        None,
    )?;
    for started in &state.processes {
        if !process::is_running(started) {
            bail!(
                "{} exited during start-up:\n{}",
                started.name,
                process::log_tail(&started.log, 20)
            );
        }
    }
    Ok(())
}

pub fn down() -> Result<()> {
    let run_dir = paths::run_dir();
    if !run_dir.exists() {
        eprintln!("testbed: not running (no {})", run_dir.display());
        return Ok(());
    }
    stop_all(&run_dir)?;
    eprintln!("testbed: stopped and removed {}", run_dir.display());
    Ok(())
}

/// Stops every recorded process, then removes the run directory.
fn stop_all(run_dir: &Path) -> Result<()> {
    stop_processes(run_dir)?;
    std::fs::remove_dir_all(run_dir).with_context(|| format!("removing {}", run_dir.display()))
}

fn stop_processes(run_dir: &Path) -> Result<()> {
    let Some(state) = read_state(run_dir) else {
        return Ok(());
    };
    // Stop in reverse start order: clients first, etcd last.
    for started in state.processes.iter().rev() {
        if process::stop(started, Duration::from_secs(10))? {
            eprintln!("testbed: {} (pid {}) had to be killed", started.name, started.pid);
        }
    }
    Ok(())
}

pub fn status() -> Result<ExitCode> {
    let run_dir = paths::run_dir();
    let Some(state) = read_state(&run_dir) else {
        println!("test bed: not running (start it with `{}`)", paths::UP_COMMAND);
        return Ok(ExitCode::from(1));
    };
    println!("test bed: {} (run directory {})", state.server, run_dir.display());
    for started in &state.processes {
        let running = if process::is_running(started) {
            "running"
        } else {
            "NOT RUNNING"
        };
        println!(
            "  {:<24} pid {:<8} {running}  log {}",
            started.name,
            started.pid,
            started.log.display()
        );
    }
    match health(&state, &state.bin_dir) {
        Ok(()) => {
            let kubectl = Kubectl {
                binary: state.bin_dir.join("kubectl"),
                kubeconfig: paths::kubeconfig(),
            };
            let nodes = kubectl.output(&["get", "nodes", "--no-headers"]).unwrap_or_default();
            let crds = kubectl.output(&["get", "crds", "--no-headers"]).unwrap_or_default();
            println!(
                "  apiserver ready; {} nodes, {} CRDs; kubeconfig {}",
                nodes.lines().count(),
                crds.lines().count(),
                paths::kubeconfig().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("  unhealthy: {err:#}");
            Ok(ExitCode::from(1))
        }
    }
}

pub fn print_env() -> Result<()> {
    let pinned = pinned()?;
    let bin_dir = bin_dir_of(&pinned);
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    if std::env::var_os(paths::HOME_ENV).is_some() {
        println!("export {}={}", paths::HOME_ENV, quote(&paths::home()));
    }
    println!("export KUBECONFIG={}", quote(&paths::kubeconfig()));
    println!("export {}={}", paths::BIN_ENV, quote(&bin_dir));
    println!("export PATH={}:\"$PATH\"", quote(&bin_dir));
    if read_state(&paths::run_dir()).is_none() {
        eprintln!(
            "# note: the test bed is not running; start it with `{}`",
            paths::UP_COMMAND
        );
    }
    Ok(())
}

/// The environment `cargo xtask ci` gives the tests.
pub fn test_env() -> Result<Vec<(String, String)>> {
    let pinned = pinned()?;
    let bin_dir = bin_dir_of(&pinned);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin_dir.clone()).chain(std::env::split_paths(&path)))?;
    Ok(vec![
        ("KUBECONFIG".into(), paths::kubeconfig().display().to_string()),
        (paths::BIN_ENV.into(), bin_dir.display().to_string()),
        ("PATH".into(), path.to_string_lossy().into_owned()),
        (paths::REQUIRE_ENV.into(), "1".into()),
        // `cargo test --workspace` builds the CLI for its own tests; the cluster
        // tests use that build instead of building it again with other features.
        (
            "WINDLASS_BIN".into(),
            target_dir().join("debug/windlass").display().to_string(),
        ),
    ])
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_relative() {
                crate::repo_root().join(dir)
            } else {
                dir
            }
        })
        .unwrap_or_else(|| crate::repo_root().join("target"))
}

fn health(state: &State, bin_dir: &Path) -> Result<()> {
    for started in &state.processes {
        if !process::is_running(started) {
            bail!("{} (pid {}) is not running", started.name, started.pid);
        }
    }
    let kubectl = Kubectl {
        binary: bin_dir.join("kubectl"),
        kubeconfig: paths::kubeconfig(),
    };
    let ready = kubectl.output(&["get", "--raw=/readyz"])?;
    if ready.trim() != "ok" {
        bail!("the apiserver's /readyz says {ready:?}");
    }
    Ok(())
}

fn read_state(run_dir: &Path) -> Option<State> {
    let text = std::fs::read_to_string(run_dir.join("state.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_state(run_dir: &Path, state: &State) -> Result<()> {
    let path = run_dir.join("state.json");
    std::fs::write(&path, serde_json::to_string_pretty(state)?).with_context(|| format!("writing {}", path.display()))
}

struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .arg("--request-timeout=10s")
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn output(&self, args: &[&str]) -> Result<String> {
        let output = self
            .command(args)
            .output()
            .with_context(|| format!("running {}", self.binary.display()))?;
        if !output.status.success() {
            bail!(
                "kubectl {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Runs kubectl with `args` (and `path` appended), failing with its output.
    fn run(&self, args: &[&str], path: Option<&Path>) -> Result<()> {
        let mut cmd = self.command(args);
        if let Some(path) = path {
            cmd.arg(path);
        }
        let output = cmd
            .output()
            .with_context(|| format!("running {}", self.binary.display()))?;
        if !output.status.success() {
            bail!(
                "kubectl {} {} failed:\n{}{}",
                args.join(" "),
                path.map(|p| p.display().to_string()).unwrap_or_default(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("timed out after {timeout:?} waiting for {what}")
}

fn wait_for_port(started: &Started, port: u16, timeout: Duration) -> Result<()> {
    wait_until(
        &format!("{} to listen on 127.0.0.1:{port}", started.name),
        timeout,
        || assert_alive(started).is_err() || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
    )?;
    assert_alive(started)
}

fn wait_ready(apiserver: &Started, kubectl: &Kubectl, timeout: Duration) -> Result<()> {
    let result = wait_until("the apiserver's /readyz", timeout, || {
        assert_alive(apiserver).is_err()
            || kubectl
                .output(&["get", "--raw=/readyz"])
                .is_ok_and(|body| body.trim() == "ok")
    });
    assert_alive(apiserver)?;
    result.map_err(|err| err.context(process::log_tail(&apiserver.log, 20)))
}

fn assert_alive(started: &Started) -> Result<()> {
    if process::is_running(started) {
        return Ok(());
    }
    bail!(
        "{} exited; the end of {}:\n{}",
        started.name,
        started.log.display(),
        process::log_tail(&started.log, 30)
    )
}

fn free_ports<const N: usize>() -> Result<[u16; N]> {
    // Hold every listener until all ports are chosen, so none repeats.
    let listeners = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .context("finding free ports on 127.0.0.1")?;
    let mut ports = [0u16; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

fn kubeconfig_yaml(server: &str, pki: &Path) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: windlass-testbed
  cluster:
    server: {server}
    certificate-authority: {ca}
users:
- name: windlass-testbed-admin
  user:
    client-certificate: {cert}
    client-key: {key}
contexts:
- name: windlass-testbed
  context:
    cluster: windlass-testbed
    user: windlass-testbed-admin
current-context: windlass-testbed
",
        ca = pki.join(Files::CA).display(),
        cert = pki.join(Files::ADMIN_CERT).display(),
        key = pki.join(Files::ADMIN_KEY).display(),
    )
}

fn nodes_yaml() -> String {
    let mut out = String::new();
    for i in 0..NODE_COUNT {
        let _ = write!(
            out,
            "---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-{i}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: \"0\"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-{i}
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: \"\"
    type: kwok
    topology.kubernetes.io/zone: zone-{zone}
status:
  allocatable:
    cpu: \"32\"
    memory: 256Gi
    pods: \"250\"
  capacity:
    cpu: \"32\"
    memory: 256Gi
    pods: \"250\"
",
            zone = i % 3
        );
    }
    out
}

/// kwok's configuration: its upstream default node and pod stages (from the
/// pinned module), with the pod stages told to leave misbehaving pods alone, plus
/// our misbehaviour stages.
fn kwok_config_yaml(built: &Built) -> Result<String> {
    let stage_dir = built.kwok_module_dir.join("kustomize/stage");
    // Stages only: a KwokConfiguration document here would replace kwok's
    // defaulted options with zeroes.
    let mut out = String::new();
    let exclusion = format!(
        "    matchExpressions:\n    - key: '.metadata.labels[\"{MISBEHAVIOUR_LABEL}\"]'\n      operator: 'DoesNotExist'\n"
    );
    for (file, exclude) in [
        ("node/fast/node-initialize.yaml", false),
        ("node/heartbeat-with-lease/node-heartbeat-with-lease.yaml", false),
        ("pod/fast/pod-ready.yaml", true),
        ("pod/fast/pod-complete.yaml", true),
        ("pod/fast/pod-delete.yaml", false),
    ] {
        let path = stage_dir.join(file);
        let mut stage =
            std::fs::read_to_string(&path).with_context(|| format!("reading kwok stage {}", path.display()))?;
        if exclude {
            let anchor = "    matchExpressions:\n";
            if stage.matches(anchor).count() != 1 {
                bail!(
                    "kwok stage {} changed shape (expected one `matchExpressions:`); update kwok_config_yaml",
                    path.display()
                );
            }
            stage = stage.replacen(anchor, &exclusion, 1);
        }
        out.push_str("---\n");
        out.push_str(&stage);
    }
    let ours = built.pinned.testbed_dir.join("kwok/misbehaviour-stages.yaml");
    out.push_str("---\n");
    out.push_str(&std::fs::read_to_string(&ours).with_context(|| format!("reading {}", ours.display()))?);
    Ok(out)
}
