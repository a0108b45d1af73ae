//! windlass's developer tasks. `cargo xtask ci` is the one test command;
//! `cargo xtask testbed up|down|status|env` manages the local control plane the
//! cluster tests run against.

mod bed;
mod bench;
mod bench_doctor;
mod bench_platform;
mod certs;
mod charts;
mod ci;
mod crds;
mod fuzz;
mod process;
mod serve;
mod tools;
mod versions;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "windlass developer tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The one test command: fmt check, clippy, a short fuzz run, test bed up, cargo test, test bed down.
    Ci,
    /// Coverage-guided fuzzing of the spec pipeline (cargo-afl and AFL++, installed when missing).
    /// Fails, naming each input, if a target crashes.
    Fuzz {
        /// Seconds each target runs.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Run only this target (repeatable): `spec_pipeline` or `yaml_source`.
        #[arg(long = "target")]
        targets: Vec<String>,
        /// Keep fuzzing after the first crash, to collect every crash of the run.
        #[arg(long)]
        keep_going: bool,
    },
    /// The local test bed: a real control plane on 127.0.0.1 with kwok nodes.
    #[command(subcommand)]
    Testbed(TestbedCommand),
    /// Benchmarks, measured against the named peer in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// (internal) One of the test bed's small servers, started by `testbed up`.
    #[command(hide = true, subcommand)]
    Serve(ServeCommand),
    /// (internal) Run one command and print its wall time and peak RSS; used by `bench`.
    #[command(hide = true)]
    MeasureChild {
        command: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ServeCommand {
    /// A read-only HTTP chart repository: the files directly in DIR.
    ChartRepo {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        listen: String,
    },
    /// The Service network stand-in: HTTPS, allows every AdmissionReview, answers
    /// aggregated discovery, a certificate per SNI name signed by the CA.
    Webhook {
        #[arg(long)]
        listen: String,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        ca_cert: PathBuf,
        #[arg(long)]
        ca_key: PathBuf,
    },
    /// The apiserver's "cluster" egress: HTTP CONNECT on a Unix socket; loopback
    /// targets direct, Service IPs to the stand-in, nothing else.
    EgressProxy {
        #[arg(long)]
        socket: PathBuf,
        /// The Service CIDR.
        #[arg(long)]
        services: String,
        /// The Service network stand-in (`host:port`).
        #[arg(long)]
        stand_in: String,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Render a generated platform with the release binary: wall time and peak
    /// memory, next to `helm template` of an equivalent chart.
    Render {
        /// Apps in the generated platform.
        #[arg(long, default_value_t = 500)]
        apps: usize,
        /// Timed runs of each command (after one warm-up).
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
    /// `windlass check` over the rendered generated platform: objects per second and
    /// peak memory, next to kube-score on the same files (built on first use).
    Check {
        /// Apps in the generated platform.
        #[arg(long, default_value_t = 500)]
        apps: usize,
        /// Timed runs of each command (after one warm-up).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// `windlass doctor` on a fresh test bed filled with kwok nodes and pods:
    /// wall time and peak memory, beside kubectl listing the same pods. Stops the
    /// bed afterwards (its etcd holds the bench's objects).
    Doctor {
        /// kwok nodes to add.
        #[arg(long, default_value_t = 1000)]
        nodes: usize,
        /// Pods to create (bare pods, spread over the nodes and 20 namespaces).
        #[arg(long, default_value_t = 20_000)]
        pods: usize,
        /// Timed runs of each command (after one warm-up).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Apply a generated platform to the test bed (started if it is not running):
    /// `windlass up` first apply and no-op re-run, next to `windlass render --stdout
    /// | kubectl apply --server-side -f -` plus `kubectl wait` for Available.
    Apply {
        /// Apps in the generated platform.
        #[arg(long, default_value_t = 200)]
        apps: usize,
        /// `windlass up --concurrency` (default: windlass's own default).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Seconds each side may take to become ready.
        #[arg(long, default_value_t = 900)]
        timeout: u64,
        /// Timed no-op re-runs of `windlass up`.
        #[arg(long, default_value_t = 3)]
        noop_runs: usize,
    },
    /// The whole platform plus the example apps onto a fresh test bed (restarted
    /// empty for each side): `windlass up` against `helmfile sync` of the same
    /// charts with the same needs and a sequential `helm upgrade --install --wait`
    /// script; then the no-op re-runs. Builds helmfile on first use.
    Platform {
        /// Seconds each side may take.
        #[arg(long, default_value_t = 900)]
        timeout: u64,
        /// Timed no-op re-runs of `windlass up`.
        #[arg(long, default_value_t = 5)]
        noop_runs: usize,
    },
}

#[derive(Subcommand)]
enum TestbedCommand {
    /// Build what is missing (first time: ~15 min), start the control plane, kwok
    /// nodes and upstream CRDs, and wait until all is ready.
    ///
    /// Pods labelled `windlass.dev/testbed: crashloop` crash-loop
    /// (CrashLoopBackOff, restartCount climbing, lastState OOMKilled); pods
    /// labelled `windlass.dev/testbed: never-ready` run but never become Ready.
    /// Every other pod scheduled on a kwok node becomes Running and Ready.
    Up,
    /// Stop every process `up` started (by recorded PID) and remove the run directory.
    Down,
    /// Say what runs and whether the apiserver is ready.
    Status,
    /// Print shell `export` lines: KUBECONFIG, PATH with the tools, WINDLASS_TESTBED_BIN.
    ///
    /// Use as `eval "$(cargo xtask testbed env)"`.
    Env,
    /// Build (or check the cache of) every binary and CRD without starting anything.
    Build,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ci => ci::run(),
        Command::Fuzz {
            seconds,
            targets,
            keep_going,
        } => fuzz::run(&fuzz::Options {
            seconds,
            targets,
            keep_going,
        })
        .map(|()| ExitCode::SUCCESS),
        Command::Serve(serve) => match serve {
            ServeCommand::ChartRepo { dir, listen } => serve::chart_repo(&dir, &listen),
            ServeCommand::Webhook {
                listen,
                cert,
                key,
                ca_cert,
                ca_key,
            } => serve::webhook(&listen, &cert, &key, &ca_cert, &ca_key),
            ServeCommand::EgressProxy {
                socket,
                services,
                stand_in,
            } => serve::egress_proxy(&socket, &services, &stand_in),
        }
        .map(|()| ExitCode::SUCCESS),
        Command::MeasureChild { command, args } => bench::measure_child(&command, &args).map(|()| ExitCode::SUCCESS),
        Command::Bench(BenchCommand::Render { apps, runs }) => bench::render(&bench::Options {
            apps,
            runs: runs.max(1),
        })
        .map(|()| ExitCode::SUCCESS),
        Command::Bench(BenchCommand::Doctor { nodes, pods, runs }) => {
            bench_doctor::doctor(&bench_doctor::DoctorOptions {
                nodes,
                pods,
                runs: runs.max(1),
            })
            .map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Check { apps, runs }) => bench::check(&bench::Options {
            apps,
            runs: runs.max(1),
        })
        .map(|()| ExitCode::SUCCESS),
        Command::Bench(BenchCommand::Apply {
            apps,
            concurrency,
            timeout,
            noop_runs,
        }) => bench::apply(&bench::ApplyOptions {
            apps,
            concurrency,
            timeout,
            noop_runs,
        })
        .map(|()| ExitCode::SUCCESS),
        Command::Bench(BenchCommand::Platform { timeout, noop_runs }) => {
            bench_platform::platform(&bench_platform::PlatformOptions { timeout, noop_runs })
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Testbed(cmd) => match cmd {
            TestbedCommand::Up => bed::up().map(|_| ExitCode::SUCCESS),
            TestbedCommand::Down => bed::down().map(|()| ExitCode::SUCCESS),
            TestbedCommand::Status => bed::status(),
            TestbedCommand::Env => bed::print_env().map(|()| ExitCode::SUCCESS),
            TestbedCommand::Build => bed::build().map(|_| ExitCode::SUCCESS),
        },
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(3)
        }
    }
}

/// The repository root (xtask lives one level below it).
fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
