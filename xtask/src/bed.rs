//! `cargo xtask testbed up|down|status|env|build`: a real control plane on
//! 127.0.0.1 (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) with
//! kwok simulating nodes and pods, the upstream CRDs installed, a default
//! StorageClass with static PersistentVolumes, and the bed's services: a chart
//! repository, an OCI registry holding the same charts, the Service network
//! stand-in (an allow-all webhook and aggregated-API server, see serve.rs) and the
//! apiserver's egress proxy.

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
/// Static PersistentVolumes `up` creates for the default StorageClass.
const VOLUME_COUNT: usize = 12;
const STORAGE_CLASS: &str = "standard";

/// Bumped when a bed started by an older xtask lacks something only a fresh start
/// gives (the apiserver's egress proxy and trust bundle, storage): `up` restarts it.
const LAYOUT: u32 = 2;

/// The environment variables `testbed env` prints for the bed's services.
pub const CHART_REPO_ENV: &str = "WINDLASS_TESTBED_CHART_REPO";
pub const OCI_REPO_ENV: &str = "WINDLASS_TESTBED_OCI_REPO";
pub const WEBHOOK_ENV: &str = "WINDLASS_TESTBED_WEBHOOK";
pub const CA_ENV: &str = "WINDLASS_TESTBED_CA";
pub const CA_KEY_ENV: &str = "WINDLASS_TESTBED_CA_KEY";

/// The bed's service processes: restarted by `up` when they are not running,
/// without restarting the control plane.
const EGRESS_PROXY: &str = "egress-proxy";
const CHART_REPO: &str = "chart-repo";
const WEBHOOK: &str = "webhook";
const REGISTRY: &str = "registry";
const SERVICES: [&str; 4] = [EGRESS_PROXY, CHART_REPO, WEBHOOK, REGISTRY];
/// The apiserver's "cluster" egress socket, in the run directory.
const EGRESS_SOCKET: &str = "egress.sock";
/// The repository path the charts are pushed under in the OCI registry.
const OCI_PATH: &str = "charts";

/// What `up` recorded about the running test bed (`<run>/state.json`).
#[derive(Debug, Serialize, Deserialize)]
struct State {
    versions_hash: String,
    bin_dir: PathBuf,
    server: String,
    processes: Vec<Started>,
    #[serde(default)]
    layout: u32,
    #[serde(default)]
    services: Services,
}

/// Where the bed's services listen and what they hold.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Services {
    chart_repo_port: Option<u16>,
    webhook_port: Option<u16>,
    /// The stand-in port the running egress proxy sends Service dials to.
    #[serde(default)]
    egress_stand_in: Option<u16>,
    registry_port: Option<u16>,
    /// The package directory the chart repository serves.
    served_charts: Option<PathBuf>,
    /// The package directory whose charts were pushed to the registry.
    pushed_charts: Option<PathBuf>,
}

impl State {
    fn running(&self, name: &str) -> bool {
        self.processes
            .iter()
            .rev()
            .find(|p| p.name == name)
            .is_some_and(process::is_running)
    }

    fn chart_repo(&self) -> Option<String> {
        self.services
            .chart_repo_port
            .map(|port| format!("http://127.0.0.1:{port}"))
    }

    fn oci_repo(&self) -> Option<String> {
        self.services
            .registry_port
            .map(|port| format!("oci://127.0.0.1:{port}/{OCI_PATH}"))
    }

    fn webhook(&self) -> Option<String> {
        self.services.webhook_port.map(|port| format!("127.0.0.1:{port}"))
    }
}

/// The built tools and CRDs of the pinned versions.
pub struct Built {
    pub pinned: Pinned,
    pub bin_dir: PathBuf,
    pub crd_dir: PathBuf,
    pub kwok_module_dir: PathBuf,
    pub charts: crate::charts::Packages,
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
    let charts = crate::charts::ensure_charts(&pinned, &build_dir, &bin_dir.join("helm"))?;
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
        charts,
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
    if let Some(mut state) = read_state(&run_dir) {
        let health = health(&state, &built.bin_dir);
        if health.is_ok() && state.versions_hash == built.pinned.hash && state.layout == LAYOUT {
            ensure_services(&built, &run_dir, &mut state)?;
            eprintln!(
                "testbed: already running and healthy at {} (kubeconfig {})",
                state.server,
                paths::kubeconfig().display()
            );
            return Ok(paths::kubeconfig());
        }
        let why = match health {
            Err(err) => format!("{err:#}"),
            Ok(()) if state.layout != LAYOUT => "it was started by an older xtask".to_string(),
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
        layout: LAYOUT,
        services: Services::default(),
    };
    let launch_bin = |state: &mut State, name: &str, args: Vec<String>| -> Result<Started> {
        launch(run_dir, state, name, &bin(name), &args, &[])
    };

    // Before the apiserver: it sends its "cluster" traffic through this proxy.
    ensure_egress_proxy(run_dir, &mut state)?;
    let egress_config = run_dir.join("egress-selector.yaml");
    std::fs::write(&egress_config, egress_selector_yaml(&run_dir.join(EGRESS_SOCKET)))
        .with_context(|| format!("writing {}", egress_config.display()))?;

    let etcd_url = format!("http://127.0.0.1:{etcd_port}");
    let peer_url = format!("http://127.0.0.1:{etcd_peer_port}");
    let etcd = launch_bin(
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

    // Webhooks and APIServices reached by URL without a caBundle are verified with
    // the system's CAs: make the bed's CA one of them.
    let trust_bundle = pki_file(Files::TRUST_BUNDLE);
    let apiserver = launch(
        run_dir,
        &mut state,
        "kube-apiserver",
        &bin("kube-apiserver"),
        &[
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
            // Service-backed webhooks, APIServices and kubelets are dialled through
            // the egress proxy: Service IPs reach the stand-in (kwok's pods serve
            // nothing), loopback goes direct, and the rest is refused at once.
            format!("--egress-selector-config-file={}", egress_config.display()),
            "--profiling=false".into(),
            "--v=1".into(),
        ],
        &[("SSL_CERT_FILE", trust_bundle.as_str())],
    )?;
    let kubectl = Kubectl {
        binary: bin("kubectl"),
        kubeconfig: kubeconfig.clone(),
    };
    wait_ready(&apiserver, &kubectl, Duration::from_secs(90))?;

    let kubeconfig_flag = format!("--kubeconfig={}", kubeconfig.display());
    launch_bin(
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
    launch_bin(
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
    // kwok after the CRDs: its stages for custom resources (GatewayClass, Certificate)
    // start their watches once, at start, and need the kinds served.
    let kwok_config = run_dir.join("kwok.yaml");
    std::fs::write(&kwok_config, kwok_config_yaml(built)?)
        .with_context(|| format!("writing {}", kwok_config.display()))?;
    launch_bin(
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
    let storage = run_dir.join("storage.yaml");
    std::fs::write(&storage, storage_yaml()).with_context(|| format!("writing {}", storage.display()))?;
    kubectl.run(
        &["apply", "--server-side", "--field-manager=windlass-testbed", "-f"],
        Some(&storage),
    )?;
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
    ensure_services(built, run_dir, &mut state)?;
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

/// Starts `binary` as `name` and records it in the state file.
fn launch(
    run_dir: &Path,
    state: &mut State,
    name: &str,
    binary: &Path,
    args: &[String],
    env: &[(&str, &str)],
) -> Result<Started> {
    let started = process::start(run_dir, name, binary, args, env)?;
    state.processes.retain(|p| p.name != name || process::is_running(p));
    state.processes.push(started.clone());
    write_state(run_dir, state)?;
    Ok(started)
}

/// The xtask binary itself runs the bed's small servers (`cargo xtask serve`).
fn xtask_binary() -> Result<PathBuf> {
    std::env::current_exe().context("finding the xtask binary to run the test bed's servers")
}

/// The apiserver's egress proxy and the Service network stand-in it sends Service
/// dials to (both before the apiserver: it dials through them).
fn ensure_egress_proxy(run_dir: &Path, state: &mut State) -> Result<()> {
    let stand_in = ensure_webhook(run_dir, state)?;
    if state.services.egress_stand_in != Some(stand_in) {
        stop_service(state, EGRESS_PROXY)?;
    }
    if state.running(EGRESS_PROXY) {
        return Ok(());
    }
    let socket = run_dir.join(EGRESS_SOCKET);
    let started = launch(
        run_dir,
        state,
        EGRESS_PROXY,
        &xtask_binary()?,
        &[
            "serve".into(),
            "egress-proxy".into(),
            format!("--socket={}", socket.display()),
            format!("--services={SERVICE_CIDR}"),
            format!("--stand-in=127.0.0.1:{stand_in}"),
        ],
        &[],
    )?;
    wait_until("the egress proxy's socket", Duration::from_secs(10), || {
        assert_alive(&started).is_err() || socket.exists()
    })?;
    assert_alive(&started)?;
    state.services.egress_stand_in = Some(stand_in);
    write_state(run_dir, state)
}

/// The Service network stand-in (`serve webhook`); returns its port.
fn ensure_webhook(run_dir: &Path, state: &mut State) -> Result<u16> {
    if let (true, Some(port)) = (state.running(WEBHOOK), state.services.webhook_port) {
        return Ok(port);
    }
    let port = reuse_port(state.services.webhook_port)?;
    let pki = run_dir.join("pki");
    let started = launch(
        run_dir,
        state,
        WEBHOOK,
        &xtask_binary()?,
        &[
            "serve".into(),
            "webhook".into(),
            format!("--listen=127.0.0.1:{port}"),
            format!("--cert={}", pki.join(Files::WEBHOOK_CERT).display()),
            format!("--key={}", pki.join(Files::WEBHOOK_KEY).display()),
            format!("--ca-cert={}", pki.join(Files::CA).display()),
            format!("--ca-key={}", pki.join(Files::CA_KEY).display()),
        ],
        &[],
    )?;
    wait_for_port(&started, port, Duration::from_secs(10))?;
    state.services.webhook_port = Some(port);
    write_state(run_dir, state)?;
    eprintln!("testbed: Service network stand-in (allow-all webhook) on https://127.0.0.1:{port}");
    Ok(port)
}

/// Starts whichever of the bed's services is not running (the control plane is
/// left alone), and pushes the charts to the registry when it lacks them.
fn ensure_services(built: &Built, run_dir: &Path, state: &mut State) -> Result<()> {
    ensure_egress_proxy(run_dir, state)?;
    let xtask = xtask_binary()?;
    let charts = &built.charts.dir;

    if state.services.served_charts.as_ref() != Some(charts) {
        stop_service(state, CHART_REPO)?;
    }
    if !state.running(CHART_REPO) {
        let port = reuse_port(state.services.chart_repo_port)?;
        let started = launch(
            run_dir,
            state,
            CHART_REPO,
            &xtask,
            &[
                "serve".into(),
                "chart-repo".into(),
                format!("--dir={}", charts.display()),
                format!("--listen=127.0.0.1:{port}"),
            ],
            &[],
        )?;
        wait_for_http(&started, port, "/index.yaml")?;
        state.services.chart_repo_port = Some(port);
        state.services.served_charts = Some(charts.clone());
        eprintln!("testbed: chart repository on http://127.0.0.1:{port}");
    }

    if !state.running(REGISTRY) {
        let port = reuse_port(state.services.registry_port)?;
        let config = run_dir.join("registry.yaml");
        std::fs::write(&config, registry_yaml(&run_dir.join("registry"), port))
            .with_context(|| format!("writing {}", config.display()))?;
        let started = launch(
            run_dir,
            state,
            REGISTRY,
            &built.bin_dir.join("registry"),
            &["serve".into(), config.display().to_string()],
            // distribution v3 exports traces over OTLP by default.
            &[("OTEL_TRACES_EXPORTER", "none")],
        )?;
        wait_for_http(&started, port, "/v2/")?;
        state.services.registry_port = Some(port);
        eprintln!("testbed: OCI registry on 127.0.0.1:{port}");
    }
    if state.services.pushed_charts.as_ref() != Some(charts) {
        let oci = state.oci_repo().context("the registry has no port")?;
        push_charts(&built.bin_dir.join("helm"), &built.charts.files, &oci)?;
        state.services.pushed_charts = Some(charts.clone());
    }
    write_state(run_dir, state)
}

fn stop_service(state: &mut State, name: &str) -> Result<()> {
    for started in state.processes.iter().filter(|p| p.name == name) {
        process::stop(started, Duration::from_secs(5))?;
    }
    state.processes.retain(|p| p.name != name);
    Ok(())
}

/// The port a restarted service had, so the URLs `env` printed stay valid, unless
/// something else took it meanwhile.
fn reuse_port(previous: Option<u16>) -> Result<u16> {
    if let Some(port) = previous
        && TcpListener::bind(("127.0.0.1", port)).is_ok()
    {
        return Ok(port);
    }
    let [port] = free_ports()?;
    Ok(port)
}

/// `helm push` of every package, in parallel.
fn push_charts(helm: &Path, packages: &[PathBuf], oci: &str) -> Result<()> {
    let started = Instant::now();
    let children = packages
        .iter()
        .map(|package| {
            Command::new(helm)
                .arg("push")
                .arg(package)
                .args([oci, "--plain-http"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("running {}", helm.display()))
                .map(|child| (package, child))
        })
        .collect::<Result<Vec<_>>>()?;
    for (package, child) in children {
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!(
                "helm push {} {oci} failed:\n{}",
                package.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    eprintln!(
        "testbed: pushed {} charts to {oci} in {:.1?}",
        packages.len(),
        started.elapsed()
    );
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
    for (what, url) in [
        ("chart repository", state.chart_repo()),
        ("OCI registry", state.oci_repo()),
        ("allow-all webhook", state.webhook().map(|a| format!("https://{a}"))),
    ] {
        if let Some(url) = url {
            println!("  {what:<24} {url}");
        }
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
    let state = read_state(&paths::run_dir());
    for (name, value) in service_env(state.as_ref()) {
        println!("export {name}={}", quote(Path::new(&value)));
    }
    if state.is_none() {
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
    Ok([
        ("KUBECONFIG".into(), paths::kubeconfig().display().to_string()),
        (paths::BIN_ENV.into(), bin_dir.display().to_string()),
        ("PATH".into(), path.to_string_lossy().into_owned()),
        (paths::REQUIRE_ENV.into(), "1".into()),
    ]
    .into_iter()
    .chain(service_env(read_state(&paths::run_dir()).as_ref()))
    .chain([
        // `cargo test --workspace` builds the CLI for its own tests; the cluster
        // tests use that build instead of building it again with other features.
        (
            "WINDLASS_BIN".into(),
            target_dir().join("debug/windlass").display().to_string(),
        ),
    ])
    .collect())
}

/// The services' addresses and the CA (`testbed env`, and the tests' environment).
fn service_env(state: Option<&State>) -> Vec<(String, String)> {
    let pki = paths::run_dir().join("pki");
    let mut env = vec![
        (CA_ENV.to_string(), pki.join(Files::CA).display().to_string()),
        (CA_KEY_ENV.to_string(), pki.join(Files::CA_KEY).display().to_string()),
    ];
    if let Some(state) = state {
        for (name, value) in [
            (CHART_REPO_ENV, state.chart_repo()),
            (OCI_REPO_ENV, state.oci_repo()),
            (WEBHOOK_ENV, state.webhook()),
        ] {
            if let Some(value) = value {
                env.push((name.to_string(), value));
            }
        }
    }
    env
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

/// Whether the control plane runs and is ready (the services are `ensure_services`'s).
fn health(state: &State, bin_dir: &Path) -> Result<()> {
    for started in state.processes.iter().filter(|p| !SERVICES.contains(&p.name.as_str())) {
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
    ephemeral-storage: 200Gi
    pods: \"250\"
  capacity:
    cpu: \"32\"
    memory: 256Gi
    ephemeral-storage: 200Gi
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
    for ours in ["kwok/misbehaviour-stages.yaml", "kwok/controller-stages.yaml"] {
        let ours = built.pinned.testbed_dir.join(ours);
        out.push_str("---\n");
        out.push_str(&std::fs::read_to_string(&ours).with_context(|| format!("reading {}", ours.display()))?);
    }
    Ok(out)
}

/// The apiserver's egress configuration: "cluster" traffic through our proxy.
fn egress_selector_yaml(socket: &Path) -> String {
    format!(
        "apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: {}
",
        socket.display()
    )
}

/// The default StorageClass and static PersistentVolumes for it, so claims bind
/// without a provisioner (100Gi each: the largest claim the platform makes is
/// Prometheus's). The host paths are never touched: kwok runs no pods.
fn storage_yaml() -> String {
    let mut out = format!(
        "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {STORAGE_CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: \"true\"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
reclaimPolicy: Retain
"
    );
    for i in 0..VOLUME_COUNT {
        let _ = write!(
            out,
            "---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: windlass-testbed-pv-{i:02}
  labels:
    windlass.dev/testbed: volume
spec:
  storageClassName: {STORAGE_CLASS}
  capacity:
    storage: 100Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath:
    path: /tmp/windlass-testbed/pv-{i:02}
    type: DirectoryOrCreate
"
        );
    }
    out
}

/// distribution's configuration: filesystem storage in the run directory.
fn registry_yaml(storage: &Path, port: u16) -> String {
    format!(
        "version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: {}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
",
        storage.display()
    )
}

/// Waits until `GET path` on 127.0.0.1:port answers 200.
fn wait_for_http(started: &Started, port: u16, path: &str) -> Result<()> {
    wait_until(
        &format!("{} to answer GET http://127.0.0.1:{port}{path}", started.name),
        Duration::from_secs(30),
        || assert_alive(started).is_err() || http_status(port, path).is_ok_and(|status| status == 200),
    )?;
    assert_alive(started)
}

/// The status code of a plain `GET path` on 127.0.0.1:port.
fn http_status(port: u16, path: &str) -> Result<u16> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    text.get(9..12)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP answer: {text:?}"))
}
