//! Command-line definitions (clap), kept apart from what the commands do.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use windlass_core::plan::Selector;

#[derive(Debug, Parser)]
#[command(
    name = "windlass",
    version,
    about = "From an empty Kubernetes cluster to production-grade apps, from one declarative file.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter windlass.yaml.
    Init(InitArgs),
    /// Render an environment's objects as YAML files (or one stream with --stdout).
    Render(RenderArgs),
    /// Print the JSON Schema of windlass.yaml (for yaml-language-server and other editors).
    Schema,
    /// Apply platform and apps to the cluster in order, wait on readiness gates, roll back on failure.
    Up(UpArgs),
    /// Show what `up` would change: a server-side dry-run compared with the live objects.
    Diff(DiffArgs),
    /// Per app: revision, images, replicas, rollout state, URLs, last deploy.
    Status(StatusArgs),
    /// Put an app back to an earlier revision from its history in the cluster.
    Rollback(RollbackArgs),
    /// Delete what windlass owns, in reverse order, and wait until it is gone.
    Down(DownArgs),
}

/// Which cluster (as kubectl chooses it).
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub selection: Selection,
    /// Take over fields another field manager owns instead of stopping with a conflict.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Seconds each unit may take to become ready before it is rolled back.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    /// Units applied at once (independent units only).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds to wait for another windlass run's Lease.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lock_timeout: u64,
    /// Progress format: text lines (live on a terminal) or one JSON event per line.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub selection: Selection,
    /// Format: a coloured unified diff, or JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub selection: Selection,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The app to roll back.
    pub app: String,
    /// Revision to go back to (default: the good revision before the current one).
    #[arg(long, value_name = "REVISION")]
    pub to: Option<u32>,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Seconds the app may take to become ready.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    /// Seconds to wait for another windlass run's Lease.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lock_timeout: u64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Only these apps (`app=NAME`) or apps with a label (`tier=NAME`); without it, everything. Repeatable.
    #[arg(long, value_name = "SELECTOR", value_parser = clap::value_parser!(Selector))]
    pub only: Vec<Selector>,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Seconds to wait for each unit's objects to be gone.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    /// Seconds to wait for another windlass run's Lease.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lock_timeout: u64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// Flags shared by every command that reads a spec.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// The platform spec.
    #[arg(short = 'f', long = "file", value_name = "PATH", default_value = "windlass.yaml")]
    pub file: PathBuf,
    /// Environment to use (default: the spec's `defaultEnvironment`, else its first environment).
    #[arg(long = "env", value_name = "NAME")]
    pub env: Option<String>,
}

/// `--only`, for the commands that act on selected apps and what they need.
#[derive(Debug, Args)]
pub struct Selection {
    /// Only these apps (`app=NAME`) or apps with a label (`tier=NAME`), plus everything they need. Repeatable.
    #[arg(long, value_name = "SELECTOR", value_parser = clap::value_parser!(Selector))]
    pub only: Vec<Selector>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Directory to write (replaced atomically; default ./rendered).
    #[arg(long, value_name = "DIR", default_value = "rendered", conflicts_with = "stdout")]
    pub out: PathBuf,
    /// Write one multi-document YAML stream to stdout instead of files.
    #[arg(long)]
    pub stdout: bool,
    #[command(flatten)]
    pub selection: Selection,
    /// Summary format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Base domain of the platform's public hosts.
    #[arg(long)]
    pub domain: String,
    /// ACME (Let's Encrypt) account e-mail.
    #[arg(long)]
    pub email: String,
    /// Platform name (default: the first label of the domain).
    #[arg(long)]
    pub name: Option<String>,
    /// Where to write the spec.
    #[arg(short = 'f', long = "file", value_name = "PATH", default_value = "windlass.yaml")]
    pub file: PathBuf,
}

pub fn parse() -> Cli {
    Cli::parse()
}
