//! The one error type of the CLI and the one place it is rendered.
//! Each error decides its `ExitStatus` (2 usage or input, 3 runtime); cluster
//! errors arrive as sentences with their fix (`windlass_cluster::error`).

use std::io::IsTerminal;
use std::path::PathBuf;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use windlass_core::diagnostics::SpecError;
use windlass_core::plan::PlanError;

use crate::commands::ExitStatus;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("cannot read {}: {source}", path.display())]
    ReadSpec { path: PathBuf, source: std::io::Error },
    #[error("{} does not exist\n  help: run `windlass init --domain example.com --email ops@example.com` to write one, or pass `-f PATH`", path.display())]
    NoSpec { path: PathBuf },
    #[error("{} already exists; windlass init never overwrites a spec\n  help: remove it first, or choose another path with `-f`", path.display())]
    SpecExists { path: PathBuf },
    #[error("refusing to replace {}: it is not empty and was not written by `windlass render`\n  help: choose another `--out` directory, or remove it", path.display())]
    ForeignOutput { path: PathBuf },
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Cluster(#[from] windlass_cluster::ClusterError),
    #[error(transparent)]
    Secrets(#[from] windlass_sops::SopsError),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// Units that failed; their reasons were already reported as they happened.
    #[error("{0}")]
    Failed(String),
    /// A rendered object broke an error-severity rule of `windlass check`: nothing is written or applied.
    #[error("the spec renders objects that break windlass's rules (nothing was written or applied):\n  {}", .0.join("\n  "))]
    Invariant(Vec<String>),
}

impl CliError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            CliError::Spec(_)
            | CliError::Plan(_)
            | CliError::ReadSpec { .. }
            | CliError::NoSpec { .. }
            | CliError::SpecExists { .. }
            | CliError::ForeignOutput { .. }
            | CliError::Usage(_)
            | CliError::Secrets(_)
            | CliError::Read { .. }
            | CliError::Invariant(_) => ExitStatus::Input,
            CliError::Write { .. } | CliError::Cluster(_) | CliError::Failed(_) => ExitStatus::Runtime,
        }
    }
}

/// Prints the error to stderr (with source snippets on a terminal) and returns how the process exits.
#[allow(clippy::print_stderr)]
pub fn report(e: &CliError) -> ExitStatus {
    let tty = std::io::stderr().is_terminal();
    match e {
        CliError::Spec(spec) if tty && !spec.source_text.is_empty() => {
            eprint!("{}", fancy(spec));
        }
        other => eprintln!("error: {other}"),
    }
    e.exit_status()
}

/// One miette report per diagnostic, with the offending line underlined.
fn fancy(spec: &SpecError) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode());
    let mut out = String::new();
    for d in &spec.diagnostics {
        let report = SpecReport {
            message: if d.path.is_root() {
                d.message.clone()
            } else {
                format!("{}: {}", d.path, d.message)
            },
            help: d.help.clone(),
            src: NamedSource::new(&spec.file, spec.source_text.clone()),
            span: d.loc.map(|l| SourceSpan::from((l.offset, 0))),
        };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{spec}\n"));
            return out;
        }
        out.push('\n');
    }
    out
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct SpecReport {
    message: String,
    help: Option<String>,
    src: NamedSource<String>,
    span: Option<SourceSpan>,
}

impl Diagnostic for SpecReport {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.span.map(|s| {
            Box::new(std::iter::once(LabeledSpan::new_with_span(Some("here".to_string()), s)))
                as Box<dyn Iterator<Item = LabeledSpan>>
        })
    }
}
