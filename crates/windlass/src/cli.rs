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
    /// Check Kubernetes manifests (files, directories, `-` for stdin) against windlass's rules.
    Check(CheckArgs),
    /// Diagnose a live cluster: windlass's rules over what runs, plus what only a cluster shows.
    Doctor(DoctorArgs),
    /// SOPS-encrypted secret files (age): encrypt, decrypt, edit, rotate, list keys.
    Secrets(SecretsArgs),
    /// Print a shell completion script (e.g. `windlass completions bash > /etc/bash_completion.d/windlass`).
    Completions(CompletionsArgs),
    /// Write man pages: windlass(1) and one page per subcommand.
    Man(ManArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 unreadable input or configuration.\n\
Suppress a rule on one object with the annotation `windlass.dev/ignore.<rule-id>: \"<reason>\"` (the reason is mandatory)."
)]
pub struct CheckArgs {
    /// Files or directories (read recursively: *.yaml, *.yml, *.json) to check; `-` reads stdin.
    #[arg(value_name = "PATH", required_unless_present = "list_rules")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print every rule (id, severity, why, fix) and exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// How `check` and `doctor` report: the format, the exit threshold, the rules' configuration.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = CheckOutput::Text)]
    pub output: CheckOutput,
    /// Exit 1 when a finding is at or above this severity (default: the config's `failOn`, else error).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Severities and disabled rules (default: .windlass-check.yaml in the current directory, when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckOutput {
    Text,
    Json,
    Sarif,
    Junit,
    /// One self-contained HTML page (doctor only).
    Html,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad arguments or configuration, 3 the cluster could not be read.\n\
Reads every namespace (namespaced kinds in --namespace only); Secrets are read as metadata only."
)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Only this namespace's objects (cluster-scoped ones such as nodes and webhooks are always read).
    #[arg(long, short = 'n', value_name = "NAME")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    /// Always exit 0 when the input could be read.
    Never,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Files are SOPS files (YAML or JSON) that the sops CLI reads and writes too.\n\
Private keys are found as sops finds them: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD and the sops age keys file \
($XDG_CONFIG_HOME/sops/age/keys.txt, else ~/.config/sops/age/keys.txt; ~/Library/Application Support/sops/age/keys.txt on macOS).\n\
Exit status: 0 done, 1 `keys`: the local keys do not open the file, 2 bad input (unreadable file, wrong key, tampered value or MAC), 3 a write failed."
)]
pub struct SecretsArgs {
    #[command(subcommand)]
    pub command: SecretsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Encrypt a plaintext YAML/JSON file to age recipients (--age, else the nearest .sops.yaml's creation rules).
    Encrypt(SecretsEncryptArgs),
    /// Decrypt a SOPS file to stdout (or --output); the MAC is verified first.
    Decrypt(SecretsDecryptArgs),
    /// Open a SOPS file in $VISUAL/$EDITOR and re-encrypt it on save (unchanged values keep their ciphertext).
    Edit(SecretsEditArgs),
    /// New data key, every value re-encrypted; add or remove age recipients. PGP-encrypted files move to age here.
    Rotate(SecretsRotateArgs),
    /// List a SOPS file's recipients and whether the local keys open it (no value is decrypted).
    Keys(SecretsKeysArgs),
}

/// Where the private keys come from, besides sops's age key locations.
#[derive(Debug, Args)]
pub struct SecretKeyArgs {
    /// An armored OpenPGP secret key (`gpg --export-secret-keys --armor FPR`) to open files encrypted with sops --pgp;
    /// its passphrase, if any, from WINDLASS_SOPS_PGP_PASSPHRASE.
    #[arg(long, value_name = "FILE", env = "WINDLASS_SOPS_PGP_KEY_FILE")]
    pub pgp_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretsFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct SecretsEncryptArgs {
    /// The plaintext file (*.yaml, *.yml or *.json).
    pub file: PathBuf,
    /// Age recipient(s) (`age1...`, comma-separated or repeated); default: the nearest .sops.yaml's creation rule.
    #[arg(long, value_name = "RECIPIENT")]
    pub age: Vec<String>,
    /// Replace the file with its encrypted form (default: print it).
    #[arg(long, short = 'i', conflicts_with = "output")]
    pub in_place: bool,
    /// Write the encrypted file here instead of printing it.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Only values under keys matching this regex are encrypted (overrides .sops.yaml).
    #[arg(long, value_name = "REGEX", group = "selection")]
    pub encrypted_regex: Option<String>,
    /// Values under keys matching this regex stay plain (overrides .sops.yaml).
    #[arg(long, value_name = "REGEX", group = "selection")]
    pub unencrypted_regex: Option<String>,
    /// Only values under keys ending in this suffix are encrypted (overrides .sops.yaml).
    #[arg(long, value_name = "SUFFIX", group = "selection")]
    pub encrypted_suffix: Option<String>,
    /// Values under keys ending in this suffix stay plain (default `_unencrypted`).
    #[arg(long, value_name = "SUFFIX", group = "selection")]
    pub unencrypted_suffix: Option<String>,
    /// The MAC covers encrypted values only, so plain values may change without re-encrypting.
    #[arg(long)]
    pub mac_only_encrypted: bool,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<SecretsFormat>,
}

#[derive(Debug, Args)]
pub struct SecretsDecryptArgs {
    /// The SOPS file.
    pub file: PathBuf,
    /// Write the plaintext here (mode 0600) instead of printing it.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Only this value, as sops takes it: `["key"]["nested"][0]`.
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<SecretsFormat>,
    #[command(flatten)]
    pub keys: SecretKeyArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The plaintext lives only in a 0600 file inside a private 0700 directory on tmpfs ($XDG_RUNTIME_DIR or /dev/shm) where one exists, \
and is removed when the editor closes, on every path. A file that no longer parses is shown with its error and reopened; \
answer `q` (or close stdin) to abort without writing. An unchanged file is not rewritten."
)]
pub struct SecretsEditArgs {
    /// The SOPS file.
    pub file: PathBuf,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<SecretsFormat>,
    #[command(flatten)]
    pub keys: SecretKeyArgs,
}

#[derive(Debug, Args)]
pub struct SecretsRotateArgs {
    /// The SOPS file (rewritten in place unless --output is given).
    pub file: PathBuf,
    /// Add this age recipient (repeatable, or comma-separated).
    #[arg(long, value_name = "RECIPIENT")]
    pub add_age: Vec<String>,
    /// Remove this age recipient (repeatable, or comma-separated).
    #[arg(long = "rm-age", value_name = "RECIPIENT")]
    pub rm_age: Vec<String>,
    /// Write the rotated file here instead of replacing FILE.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<SecretsFormat>,
    #[command(flatten)]
    pub keys: SecretKeyArgs,
}

#[derive(Debug, Args)]
pub struct SecretsKeysArgs {
    /// The SOPS file.
    pub file: PathBuf,
    /// Format: text, or JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<SecretsFormat>,
    #[command(flatten)]
    pub keys: SecretKeyArgs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created when missing).
    #[arg(long, value_name = "DIR", default_value = "man")]
    pub out: PathBuf,
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
    /// Format: a table, or JSON.
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
    /// Progress format: text lines (live on a terminal) or one JSON event per line.
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
    /// Also delete the components' CRDs (and every object of their kinds) and the
    /// components' namespaces (and the volume claims in them).
    #[arg(long)]
    pub purge: bool,
    /// Seconds to wait for each unit's objects to be gone.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    /// Seconds to wait for another windlass run's Lease.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lock_timeout: u64,
    /// Progress format: text lines (live on a terminal) or one JSON event per line.
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
    #[arg(long, conflicts_with = "format")]
    pub stdout: bool,
    /// What to write: plain manifests, or a tree that Flux reconciles in the order `up` follows.
    #[arg(long, value_enum, default_value_t = RenderFormat::Plain)]
    pub format: RenderFormat,
    /// Flux: the source every Kustomization reads the tree from, KIND/NAME in flux-system
    /// [default: GitRepository/flux-system, which `flux bootstrap` makes].
    #[arg(long, value_name = "KIND/NAME", value_parser = clap::value_parser!(windlass_core::render::flux::FluxSource))]
    pub flux_source: Option<windlass_core::render::flux::FluxSource>,
    /// Flux: the Secret in flux-system holding the age key (`age.agekey`) that decrypts the
    /// tree's SOPS-encrypted Secrets [default: sops-age].
    #[arg(long, value_name = "NAME")]
    pub sops_secret: Option<String>,
    /// Argo CD: the Git repository that will hold this tree (the Applications' repoURL).
    #[arg(long, value_name = "URL", required_if_eq("format", "argocd"))]
    pub repo_url: Option<String>,
    /// Argo CD: the revision of that repository to sync [default: HEAD].
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// Every environment of the spec, each a cluster (`clusters/ENV`), in one tree: objects
    /// the clusters share are written once (`units/_base`), each cluster keeps what differs.
    #[arg(long, conflicts_with = "env")]
    pub fleet: bool,
    #[command(flatten)]
    pub selection: Selection,
    /// Summary format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    /// One directory per unit of plain manifests (what `up` applies).
    Plain,
    /// A Flux tree: clusters/ENV (a Kustomization per unit, dependsOn the unit's needs) and units/ENV.
    Flux,
    /// An Argo CD app of apps: clusters/ENV (an Application per unit, sync waves by depth) and units/ENV.
    Argocd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// For scripts.
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
    /// Fetch every component chart from this mirror (`oci://HOST/PATH` or an HTTP chart
    /// repository) instead of the upstream repositories: for clusters without internet.
    #[arg(long, value_name = "URL")]
    pub chart_mirror: Option<String>,
    /// Where to write the spec.
    #[arg(short = 'f', long = "file", value_name = "PATH", default_value = "windlass.yaml")]
    pub file: PathBuf,
}

pub fn parse() -> Cli {
    Cli::parse()
}

/// The clap definition, for completions, man pages and the help test.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument of every command, with the command path that has it.
    fn arguments(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Arg)>) {
        for arg in cmd.get_arguments() {
            out.push((path.to_string(), arg.clone()));
        }
        for sub in cmd.get_subcommands() {
            arguments(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_flag_and_argument_says_what_it_is_for() {
        let mut cmd = command();
        cmd.build();
        let mut all = Vec::new();
        arguments(&cmd, "windlass", &mut all);
        let missing: Vec<String> = all
            .iter()
            .filter(|(_, a)| a.get_help().is_none_or(|h| h.to_string().trim().is_empty()))
            .map(|(path, a)| {
                format!(
                    "{path} {}",
                    a.get_long().map_or(a.get_id().to_string(), |l| format!("--{l}"))
                )
            })
            .collect();
        assert_eq!(missing, Vec::<String>::new(), "arguments without help");
        assert!(all.len() > 40, "the walk found only {} arguments", all.len());
    }

    #[test]
    fn every_subcommand_says_what_it_does() {
        let cmd = command();
        let missing: Vec<&str> = cmd
            .get_subcommands()
            .filter(|s| s.get_about().is_none())
            .map(|s| s.get_name())
            .collect();
        assert_eq!(missing, Vec::<&str>::new());
    }

    #[test]
    fn the_definition_is_consistent() {
        command().debug_assert();
    }
}
