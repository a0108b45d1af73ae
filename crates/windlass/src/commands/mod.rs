//! One module per command. Each returns how the process exits (`ExitStatus`) or a `CliError`.

mod check;
mod cluster;
mod completions;
mod diff;
mod doctor;
mod down;
mod gitops;
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

/// The model of the environment chosen by `--env`, with the environment's SOPS
/// file attached (read without a key) when its apps reference it.
pub fn load_platform(args: &SpecArgs) -> Result<Platform, CliError> {
    let spec = load_spec(&args.file)?;
    let (env, file) = spec.environment(args.env.as_deref())?;
    let mut platform = Platform::build(file, env);
    if platform.uses_sops() {
        attach_secrets(&spec, &args.file, &mut platform)?;
    }
    Ok(platform)
}

/// Reads `platform.secrets.file` (beside the spec), holds every `{sops: ...}`
/// reference to it, and attaches it sealed: no key is needed, no value is read.
pub(super) fn attach_secrets(spec: &Spec, spec_path: &Path, platform: &mut Platform) -> Result<(), CliError> {
    use std::io::Read;
    use windlass_core::secrets::{MAX_SECRETS_BYTES, Sealed, check_refs};
    let Some(relative) = platform.secrets_file.clone() else {
        return Ok(()); // validation refuses a reference without the setting
    };
    let dir = spec_path.parent().unwrap_or(Path::new(""));
    let path = dir.join(&relative);
    let shown = path.display().to_string();
    let setting = || {
        windlass_core::source::FieldPath::root()
            .key("platform")
            .key("secrets")
            .key("file")
    };
    let mut bytes = Vec::new();
    let read = std::fs::File::open(&path).and_then(|f| {
        let limit = u64::try_from(MAX_SECRETS_BYTES).unwrap_or(u64::MAX);
        f.take(limit.saturating_add(1)).read_to_end(&mut bytes)
    });
    if let Err(e) = read {
        let (message, help) = if e.kind() == std::io::ErrorKind::NotFound {
            (
                format!("the secrets file {shown} does not exist"),
                format!(
                    "write the Secrets as `NAME: {{KEY: value}}` and encrypt them: `windlass secrets encrypt --age age1... --output {shown} PLAIN.yaml`"
                ),
            )
        } else {
            (
                format!("cannot read the secrets file {shown}: {e}"),
                "check the file's permissions".to_string(),
            )
        };
        return Err(spec
            .error_at(&platform.environment, vec![(setting(), message, help)])
            .into());
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        spec.error_at(
            &platform.environment,
            vec![(
                setting(),
                format!("the secrets file {shown} is not UTF-8 text"),
                "name the SOPS-encrypted YAML file of the environment's Secrets".to_string(),
            )],
        )
    })?;
    let sealed = Sealed::parse(&shown, &text)?;
    let missing = check_refs(platform, &sealed);
    if !missing.is_empty() {
        return Err(spec.error_at(&platform.environment, missing).into());
    }
    platform.attach_secrets(sealed);
    Ok(())
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
