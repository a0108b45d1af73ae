//! `windlass render`: the chosen environment's objects as YAML files, one
//! directory per namespace and app, or one stream on stdout. Units are built,
//! checked and serialised a window at a time and written as they come, so
//! memory is bounded by the largest units, not by the platform.

use std::collections::BTreeMap;

use windlass_core::components::release_description;
use windlass_core::plan::Plan;
use windlass_core::render::sops::made_secrets;
use windlass_core::render::{Object, Outline, documents, for_each_unit, to_yaml};
use windlass_core::unit::UnitId;

use super::{ExitStatus, load_platform, refuse_findings};
use crate::cli::{OutputFormat, RenderArgs, RenderFormat};
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
    if args.format != RenderFormat::Plain {
        return super::gitops::run(args);
    }
    super::gitops::check_flags(args)?;
    if args.fleet {
        return Err(CliError::Usage(
            "--fleet renders a GitOps tree per cluster: add --format flux or --format argocd".into(),
        ));
    }
    let platform = load_platform(&args.spec)?;
    let plan = Plan::new(&platform, &args.selection.only)?;
    let outline = Outline::new(&platform, &plan);
    let selected_apps = plan.up().iter().filter_map(|u| match &u.id {
        UnitId::App { name, .. } => platform.app(name),
        _ => None,
    });
    let made = made_secrets(selected_apps);
    if args.stdout {
        for_each_unit(&outline, documents, |unit| {
            refuse_findings(&unit.findings)?;
            print_all(unit.documents.iter().flat_map(|d| ["---\n", d.yaml.as_str()]))
        })?;
        if !made.is_empty() {
            note(&format!(
                "note: the stream leaves out the {} `windlass up` makes from the encrypted {} ({}): render with --out to get the encrypted file beside the objects",
                plural(made.len(), "Secret"),
                platform.secrets_file.as_deref().unwrap_or_default(),
                made.join(", ")
            ));
        }
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
    // The SOPS file, encrypted, exactly as read: the objects' Secrets come from it at `up`.
    let secrets = match (&platform.sealed, made.is_empty()) {
        (Some(sealed), false) => {
            let name = std::path::Path::new(&sealed.file)
                .file_name()
                .map_or_else(|| "secrets.sops.yaml".into(), |n| n.to_string_lossy().into_owned());
            let path = format!("{SECRETS_DIR}/{name}");
            tree.write(&path, &sealed.text)?;
            Some(SecretsSummary { path, made })
        }
        _ => None,
    };
    tree.commit()?;
    print(&summary(
        args,
        &platform.environment,
        &units,
        releases,
        secrets.as_ref(),
    ))?;
    Ok(ExitStatus::Success)
}

/// Where the encrypted SOPS file goes in the rendered tree.
const SECRETS_DIR: &str = "_secrets";

/// The encrypted file written through, and the Secrets `up` makes from it.
struct SecretsSummary {
    path: String,
    made: Vec<String>,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[allow(clippy::print_stderr)]
fn note(text: &str) {
    eprintln!("{text}");
}

/// `releases`: how many components got a release.yaml and a values.yaml.
fn summary(
    args: &RenderArgs,
    env: &str,
    units: &[UnitSummary],
    releases: usize,
    secrets: Option<&SecretsSummary>,
) -> String {
    let total: usize = units.iter().map(|u| u.objects).sum();
    let files = total + 2 * releases + usize::from(secrets.is_some());
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
                "secrets": secrets.map(|s| serde_json::json!({"file": s.path, "madeByUp": s.made})),
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
            if let Some(sec) = secrets {
                s.push_str(&format!(
                    "  and the encrypted secrets file ({dir}/{}), unchanged: `windlass up` decrypts it in memory and makes {} ({})\n",
                    sec.path,
                    plural(sec.made.len(), "Secret"),
                    sec.made.join(", ")
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
