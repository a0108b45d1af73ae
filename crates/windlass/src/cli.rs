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
    /// Only these apps (`app=NAME`) or apps with a label (`tier=NAME`), plus everything they need. Repeatable.
    #[arg(long, value_name = "SELECTOR", value_parser = clap::value_parser!(Selector))]
    pub only: Vec<Selector>,
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
