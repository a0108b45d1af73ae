//! `windlass render`: the chosen environment's objects as YAML files, one
//! directory per namespace and app, or one stream on stdout.

use super::ExitStatus;
use std::borrow::Cow;
use std::collections::BTreeMap;

use windlass_core::render::{Object, Rendered, to_yaml_all};

use super::render_checked;
use crate::cli::{OutputFormat, RenderArgs};
use crate::error::CliError;
use crate::output::{print, print_all};
use crate::sink::files::{RenderedFile, write_tree};

pub fn run(args: &RenderArgs) -> Result<ExitStatus, CliError> {
    let (platform, rendered) = render_checked(&args.spec, &args.selection.only)?;
    let total = rendered.objects().count();
    if args.stdout {
        print_all(documents(rendered).flat_map(|d| [Cow::Borrowed("---\n"), Cow::Owned(d.contents)]))?;
    } else {
        let summary = summary(args, &platform.environment, &rendered, total);
        write_tree(&args.out, documents(rendered))?;
        print(&summary)?;
    }
    Ok(ExitStatus::Success)
}

/// Objects serialised per batch: each batch uses every core, then its objects are freed,
/// so the whole platform never sits in memory twice (as values and as text).
const BATCH: usize = 1024;

/// Consumes the rendered objects as files `<unit dir>/<NN>-<kind>-<name>.yaml`
/// (NN keeps the apply order visible in `ls`), in order.
fn documents(rendered: Rendered) -> impl Iterator<Item = RenderedFile> {
    let mut objects = rendered.units.into_iter().flat_map(|unit| {
        let dir = unit.dir;
        unit.objects.into_iter().enumerate().map(move |(i, o)| {
            let path = format!("{dir}/{i:02}-{}-{}.yaml", o.kind().to_lowercase(), o.name());
            (path, o)
        })
    });
    std::iter::from_fn(move || {
        let batch: Vec<(String, Object)> = objects.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            return None;
        }
        let refs: Vec<&Object> = batch.iter().map(|(_, o)| o).collect();
        let docs = to_yaml_all(&refs);
        Some(
            batch
                .into_iter()
                .zip(docs)
                .map(|((path, _), contents)| RenderedFile { path, contents })
                .collect::<Vec<_>>(),
        )
    })
    .flatten()
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
            // A line per unit while that stays readable; a large platform gets the first few and a count.
            const SHOWN: usize = 24;
            for u in rendered.units.iter().take(SHOWN) {
                let what = u.kind.title();
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
            if rendered.units.len() > SHOWN {
                let rest = &rendered.units[SHOWN..];
                let objects: usize = rest.iter().map(|u| u.objects.len()).sum();
                s.push_str(&format!("  ... and {} more units ({objects} objects)\n", rest.len()));
            }
            s
        }
    }
}
