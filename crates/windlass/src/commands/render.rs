//! `windlass render`: the chosen environment's objects as YAML files, one
//! directory per namespace and app, or one stream on stdout.

use std::collections::BTreeMap;
use std::process::ExitCode;

use windlass_core::plan::Plan;
use windlass_core::render::{Rendered, UnitKind, render, to_yaml, to_yaml_stream};

use super::load_platform;
use crate::cli::{OutputFormat, RenderArgs};
use crate::error::CliError;
use crate::output::print;
use crate::sink::files::{RenderedFile, write_tree};

pub fn run(args: &RenderArgs) -> Result<ExitCode, CliError> {
    let platform = load_platform(&args.spec)?;
    let plan = Plan::new(&platform, &args.only)?;
    let rendered = render(&platform, &plan);
    // Every object is held to the production invariants before it leaves windlass.
    let findings = windlass_core::check::invariants(rendered.objects());
    if !findings.is_empty() {
        return Err(CliError::Invariant(
            findings
                .iter()
                .map(|f| format!("{}: [{}] {}", f.object, f.rule, f.message))
                .collect(),
        ));
    }
    if args.stdout {
        print(&to_yaml_stream(rendered.objects()))?;
    } else {
        let files = files(&rendered);
        write_tree(&args.out, &files)?;
        print(&summary(args, &platform.environment, &rendered, files.len()))?;
        std::mem::forget(files);
    }
    // The process ends here: freeing thousands of objects one by one is a tenth of the run.
    std::mem::forget(rendered);
    std::mem::forget(platform);
    Ok(ExitCode::SUCCESS)
}

/// `<unit dir>/<NN>-<kind>-<name>.yaml`; NN keeps the apply order visible in `ls`.
fn files(rendered: &Rendered) -> Vec<RenderedFile> {
    let mut out = Vec::new();
    for unit in &rendered.units {
        for (i, o) in unit.objects.iter().enumerate() {
            out.push(RenderedFile {
                path: format!("{}/{:02}-{}-{}.yaml", unit.dir, i, o.kind().to_lowercase(), o.name()),
                contents: to_yaml(o),
            });
        }
    }
    out
}

fn summary(args: &RenderArgs, env: &str, rendered: &Rendered, files: usize) -> String {
    let total = rendered.objects().count();
    let dir = args.out.display();
    match args.output {
        OutputFormat::Json => {
            let units: Vec<serde_json::Value> = rendered
                .units
                .iter()
                .map(|u| {
                    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
                    for o in &u.objects {
                        *kinds.entry(o.kind()).or_default() += 1;
                    }
                    serde_json::json!({ "dir": u.dir, "objects": u.objects.len(), "kinds": kinds })
                })
                .collect();
            let v = serde_json::json!({
                "environment": env,
                "out": dir.to_string(),
                "objects": total,
                "files": files,
                "units": units,
            });
            format!("{v}\n")
        }
        OutputFormat::Text => {
            let mut s = format!("rendered {total} objects ({files} files) for environment `{env}` into {dir}/\n");
            for u in &rendered.units {
                let what = match &u.kind {
                    UnitKind::Platform => "platform".to_string(),
                    UnitKind::Namespace(ns) => format!("namespace {ns}"),
                    UnitKind::App { name, .. } => format!("app {name}"),
                };
                let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
                for o in &u.objects {
                    *kinds.entry(o.kind()).or_default() += 1;
                }
                let kinds: Vec<String> = kinds
                    .into_iter()
                    .map(|(k, n)| if n == 1 { k.to_string() } else { format!("{k} x{n}") })
                    .collect();
                s.push_str(&format!("  {what:<22} {:>3}  {}\n", u.objects.len(), kinds.join(", ")));
            }
            s
        }
    }
}
