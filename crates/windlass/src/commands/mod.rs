//! One module per command. Each returns how the process exits (`ExitStatus`) or a `CliError`.

mod check;
mod cluster;
mod completions;
mod diff;
mod doctor;
mod down;
mod init;
mod man;
mod render;
mod rollback;
mod schema;
mod secrets;
mod status;
mod up;

use std::path::Path;
use std::process::ExitCode;

use windlass_core::model::Platform;
use windlass_core::plan::{Plan, Selector};
use windlass_core::render::{Rendered, render};
use windlass_core::spec::Spec;

use crate::cli::{Cli, Command, SpecArgs};
use crate::error::CliError;

/// How the process exits, as scripts read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; nothing to report.
    Success,
    /// Done, and there are findings or changes (`diff` with changes).
    Changes,
    /// The command line or the spec is wrong; nothing was written or applied.
    Input,
    /// The cluster or the machine failed the command.
    Runtime,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Changes => 1,
            ExitStatus::Input => 2,
            ExitStatus::Runtime => 3,
        })
    }
}

pub fn run(cli: Cli) -> Result<ExitStatus, CliError> {
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Schema => schema::run(),
        Command::Up(args) => up::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Rollback(args) => rollback::run(&args),
        Command::Down(args) => down::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Secrets(args) => secrets::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

/// Reads and validates the spec named by `-f`. At most one byte past the size
/// limit is read, so `-f /dev/zero` or a huge file is refused without filling memory.
pub fn load_spec(path: &Path) -> Result<Spec, CliError> {
    use std::io::Read;
    let read_err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            CliError::NoSpec {
                path: path.to_path_buf(),
            }
        } else {
            CliError::ReadSpec {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let limit = u64::try_from(windlass_core::spec::MAX_SPEC_BYTES).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    Ok(windlass_core::spec::load_bytes(&path.display().to_string(), &bytes)?)
}

/// The model of the environment chosen by `--env`.
pub fn load_platform(args: &SpecArgs) -> Result<Platform, CliError> {
    let spec = load_spec(&args.file)?;
    let (env, file) = spec.environment(args.env.as_deref())?;
    Ok(Platform::build(file, env))
}

/// The chosen environment planned and rendered for `--only`, every object held
/// to the production invariants before anything applies it.
pub fn plan_checked(args: &SpecArgs, only: &[Selector]) -> Result<(Platform, Plan, Rendered), CliError> {
    let platform = load_platform(args)?;
    let plan = Plan::new(&platform, only)?;
    let rendered = render(&platform, &plan);
    refuse_findings(&windlass_core::check::invariants(rendered.objects()))?;
    Ok((platform, plan, rendered))
}

/// The rule engine's findings on rendered objects: error-severity ones refuse the
/// spec (nothing is written or applied), warnings are printed to stderr.
#[allow(clippy::print_stderr)]
pub fn refuse_findings(findings: &[windlass_core::check::Finding]) -> Result<(), CliError> {
    use windlass_core::check::Severity;
    for f in findings.iter().filter(|f| f.severity == Severity::Warning) {
        eprintln!(
            "warning: {}: [{}] {}: {}\n  help: {}",
            f.object,
            f.rule,
            f.path,
            f.message,
            f.rule().fix
        );
    }
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            format!(
                "{}: [{}] {}: {}\n    help: {}",
                f.object,
                f.rule,
                f.path,
                f.message,
                f.rule().fix
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::Invariant(errors))
    }
}
