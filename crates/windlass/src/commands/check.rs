//! `windlass check`: reads manifests from files, directories and stdin, runs
//! the rule engine over all of them at once (rules see across files), prints
//! the findings at file:line:col and exits by `--fail-on`.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use windlass_core::check::manifests::{self, Located, Locator};
use windlass_core::check::report::{self, Entry, Place, Report};
use windlass_core::check::{Config, RULES, Severity, Source, run as run_rules};
use windlass_core::source::FieldPath;

use super::ExitStatus;
use crate::cli::{CheckArgs, CheckOutput, FailOn};
use crate::error::CliError;
use crate::output::print;

/// The configuration file read when `--config` is not given and it exists.
const DEFAULT_CONFIG: &str = ".windlass-check.yaml";

pub fn run(args: &CheckArgs) -> Result<ExitStatus, CliError> {
    if args.list_rules {
        return list_rules();
    }
    if args.report.output == CheckOutput::Html {
        return Err(CliError::Usage(
            "--output html is doctor's report page; check prints text, json, sarif or junit".into(),
        ));
    }
    let config = read_config(args.report.config.as_deref())?;
    let mut inputs: Vec<(String, String, bool)> = Vec::new();
    for path in &args.paths {
        let walked = path.is_dir();
        inputs.extend(read_inputs(path)?.into_iter().map(|(name, text)| (name, text, walked)));
    }
    // Each file parsed on its own core; objects keep the files' order.
    let parsed = parse_all(&inputs);
    let mut objects: Vec<(usize, Located)> = Vec::new();
    let mut skipped = Vec::new();
    for (file, result) in parsed.into_iter().enumerate() {
        let (found, other) = result?;
        if other > 0 {
            skipped.push(inputs[file].0.clone());
        }
        objects.extend(found.into_iter().map(|o| (file, o)));
    }
    if !skipped.is_empty() {
        #[allow(clippy::print_stderr)]
        {
            let more = match skipped.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            eprintln!(
                "note: skipped documents that are not Kubernetes objects (no kind or apiVersion) in {}{more}",
                skipped[0]
            );
        }
    }
    let refs: Vec<&windlass_core::render::Object> = objects.iter().map(|(_, o)| &o.object).collect();
    let findings = run_rules(&refs, Source::Manifests, &config);
    // Located only where there is a finding: the file's documents are parsed again, once each.
    let mut locators: HashMap<usize, Locator> = HashMap::new();
    let mut place = |i: usize, path: &FieldPath| {
        let (file, o) = &objects[i];
        let loc = locators
            .entry(*file)
            .or_insert_with(|| Locator::new(&inputs[*file].1))
            .locate(o, path);
        Place {
            file: inputs[*file].0.clone(),
            line: loc.line,
            column: loc.column,
        }
    };
    let entries: Vec<Entry> = findings
        .into_iter()
        .map(|f| Entry {
            place: place(f.index, &f.path),
            finding: f,
        })
        .collect();
    let mut report = Report {
        objects: objects
            .iter()
            .map(|(file, o)| {
                let place = Place {
                    file: inputs[*file].0.clone(),
                    line: 0,
                    column: 0,
                };
                (o.object.id(), place)
            })
            .collect(),
        entries,
    };
    // Per object, in the order the fields are written.
    report
        .entries
        .sort_by_key(|e| (e.finding.index, e.place.line, e.place.column));
    emit(&report, args.report.output, "")?;
    Ok(exit_for(&report, args.report.fail_on, &config))
}

/// Prints the report in the chosen format (`title` heads the HTML page).
pub(super) fn emit(report: &Report, output: CheckOutput, title: &str) -> Result<(), CliError> {
    match output {
        CheckOutput::Text => print(&report::text(report, std::io::stdout().is_terminal())),
        CheckOutput::Json => print(&report::json(report)),
        CheckOutput::Sarif => print(&report::sarif(report, env!("CARGO_PKG_VERSION"))),
        CheckOutput::Junit => print(&report::junit(report)),
        CheckOutput::Html => print(&report::html(report, "windlass doctor", title)),
    }
}

/// Exit 1 when a finding is at or above the threshold (`--fail-on`, else the config's, else error).
pub(super) fn exit_for(report: &Report, fail_on: Option<FailOn>, config: &Config) -> ExitStatus {
    let threshold = match fail_on {
        Some(FailOn::Never) => None,
        Some(FailOn::Error) => Some(Severity::Error),
        Some(FailOn::Warning) => Some(Severity::Warning),
        Some(FailOn::Info) => Some(Severity::Info),
        None => Some(config.fail_on.unwrap_or(Severity::Error)),
    };
    match (threshold, report.worst()) {
        (Some(t), Some(w)) if w >= t => ExitStatus::Changes,
        _ => ExitStatus::Success,
    }
}

type Parsed = Result<(Vec<Located>, usize), windlass_core::diagnostics::SpecError>;

/// Parses every input, the files shared among the cores in contiguous runs.
fn parse_all(inputs: &[(String, String, bool)]) -> Vec<Parsed> {
    let parse = |(name, text, walked): &(String, String, bool)| manifests::parse_with(name, text, !walked);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if cores < 2 || inputs.len() < 2 {
        return inputs.iter().map(parse).collect();
    }
    // Contiguous runs of about equal bytes, so one large file does not leave a core idle.
    let total: usize = inputs.iter().map(|i| i.1.len()).sum::<usize>().max(1);
    let per = total.div_ceil(cores);
    let mut runs: Vec<&[(String, String, bool)]> = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, input) in inputs.iter().enumerate() {
        bytes += input.1.len();
        if bytes >= per && runs.len() + 1 < cores {
            runs.push(&inputs[start..=i]);
            start = i + 1;
            bytes = 0;
        }
    }
    runs.push(&inputs[start..]);
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| scope.spawn(move || run.iter().map(parse).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn list_rules() -> Result<ExitStatus, CliError> {
    let mut out = String::new();
    for r in RULES {
        out.push_str(&format!(
            "{:<30} {:<8} {}\n{:<39} fix: {}\n",
            r.id,
            r.severity.as_str(),
            r.why,
            "",
            r.fix
        ));
    }
    print(&out)?;
    Ok(ExitStatus::Success)
}

pub(super) fn read_config(path: Option<&Path>) -> Result<Config, CliError> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Config::parse(&path.display().to_string(), &text)?),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(source) => Err(CliError::ReadSpec { path, source }),
    }
}

/// The manifests at `path`: stdin for `-`, the file, or every *.yaml, *.yml and
/// *.json below a directory (sorted, so output is stable).
fn read_inputs(path: &Path) -> Result<Vec<(String, String)>, CliError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| CliError::ReadSpec {
                path: "standard input".into(),
                source,
            })?;
        return Ok(vec![("<stdin>".to_string(), text)]);
    }
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| (p.display().to_string(), t))
            .map_err(|source| CliError::ReadSpec {
                path: p.to_path_buf(),
                source,
            })
    };
    let meta = std::fs::metadata(path).map_err(|source| CliError::ReadSpec {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Ok(vec![read(path)?]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| CliError::ReadSpec {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| CliError::ReadSpec {
                path: dir.clone(),
                source,
            })?;
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files.iter().map(|p| read(p)).collect()
}
