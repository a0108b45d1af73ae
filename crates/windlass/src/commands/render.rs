//! `windlass render`: the chosen environment's objects as YAML files, one
//! directory per namespace and app, or one stream on stdout. Units are built,
//! checked and serialised a window at a time and written as they come, so
//! memory is bounded by the largest units, not by the platform.

use std::collections::BTreeMap;

use windlass_core::components::release_description;
use windlass_core::plan::Plan;
use windlass_core::render::{Object, Outline, documents, for_each_unit, to_yaml};
use windlass_core::unit::UnitId;

use super::{ExitStatus, load_platform, refuse_findings};
use crate::cli::{OutputFormat, RenderArgs};
use crate::error::CliError;
use crate::output::{print, print_all};
use crate::sink::files::TreeWriter;

/// What the summary says of a unit once its objects are written and freed.
struct UnitSummary {
    /// The unit's id (`app.shop.web`) and the ids of the units it waits for.
    id: String,
    needs: Vec<String>,
    title: String,
    dir: String,
    objects: usize,
    kinds: BTreeMap<String, usize>,
}

pub fn run(args: &RenderArgs) -> Result<ExitStatus, CliError> {
    let platform = load_platform(&args.spec)?;
    let plan = Plan::new(&platform, &args.selection.only)?;
    let outline = Outline::new(&platform, &plan);
    if args.stdout {
        for_each_unit(&outline, documents, |unit| {
            refuse_findings(&unit.findings)?;
            print_all(unit.documents.iter().flat_map(|d| ["---\n", d.yaml.as_str()]))
        })?;
        return Ok(ExitStatus::Success);
    }
    let tree = TreeWriter::begin(&args.out)?;
    let mut units = Vec::with_capacity(outline.units().len());
    for_each_unit(&outline, documents, |unit| {
        refuse_findings(&unit.findings)?;
        for d in &unit.documents {
            tree.write(&format!("{}/{}", unit.dir, d.file), &d.yaml)?;
        }
        let needs = plan
            .up()
            .iter()
            .find(|p| p.id == unit.kind)
            .map(|p| p.needs.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        units.push(UnitSummary {
            id: unit.kind.to_string(),
            needs,
            title: unit.kind.title(),
            dir: unit.dir.clone(),
            objects: unit.documents.len(),
            kinds: unit.kinds().into_iter().map(|(k, n)| (k.to_string(), n)).collect(),
        });
        Ok::<(), CliError>(())
    })?;
    // Beside each component unit's objects: its release and the values helm gets.
    let mut releases = 0;
    for planned in plan.up() {
        let UnitId::Component(name) = &planned.id else { continue };
        let Some(c) = name.parse().ok().and_then(|n| platform.component(n)) else {
            continue;
        };
        let dir = outline.unit(&planned.id).dir;
        let release = release_description(c, &planned.needs);
        tree.write(&format!("{dir}/release.yaml"), &to_yaml(&Object(release)))?;
        tree.write(&format!("{dir}/values.yaml"), &to_yaml(&Object(c.values.clone())))?;
        releases += 1;
    }
    tree.commit()?;
    print(&summary(args, &platform.environment, &units, releases))?;
    Ok(ExitStatus::Success)
}

/// `releases`: how many components got a release.yaml and a values.yaml.
fn summary(args: &RenderArgs, env: &str, units: &[UnitSummary], releases: usize) -> String {
    let total: usize = units.iter().map(|u| u.objects).sum();
    let files = total + 2 * releases;
    let dir = args.out.display();
    match args.output {
        OutputFormat::Json => {
            let units: Vec<serde_json::Value> = units
                .iter()
                .map(|u| {
                    serde_json::json!({
                        "unit": u.id,
                        "needs": u.needs,
                        "dir": u.dir,
                        "objects": u.objects,
                        "kinds": u.kinds,
                    })
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
            if releases > 0 {
                s.push_str(&format!(
                    "  and the release and values of {releases} components ({dir}/_components/NAME/{{release,values}}.yaml)\n"
                ));
            }
            // A line per unit while that stays readable; a large platform gets the first few and a count.
            const SHOWN: usize = 24;
            for u in units.iter().take(SHOWN) {
                let kinds: Vec<String> = u
                    .kinds
                    .iter()
                    .map(|(k, n)| if *n == 1 { k.clone() } else { format!("{k} x{n}") })
                    .collect();
                s.push_str(&format!("  {:<22} {:>3}  {}\n", u.title, u.objects, kinds.join(", ")));
            }
            if units.len() > SHOWN {
                let rest = &units[SHOWN..];
                let objects: usize = rest.iter().map(|u| u.objects).sum();
                s.push_str(&format!("  ... and {} more units ({objects} objects)\n", rest.len()));
            }
            s
        }
    }
}
