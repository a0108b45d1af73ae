//! `render --format flux|argocd [--fleet]`: the plan as a GitOps tree. Each
//! cluster (the chosen environment, or with `--fleet` every environment) gets
//! `clusters/<cluster>/` (the Flux Kustomizations or the Argo CD Applications,
//! from `windlass_core::render::{flux, argocd}`) and `units/<cluster>/<unit dir>/`
//! (the unit's objects). In a fleet, the objects every cluster with that unit
//! renders identically but for the environment label are written once, without
//! that label, under `units/_base/<unit dir>/`; a cluster's unit directory lists
//! that base plus only what differs, and puts the label back with kustomize's
//! `labels` transformer (metadata and pod templates, never selectors), so it
//! builds to exactly what a single-cluster render holds: `diff -ru units/A
//! units/B` shows how two clusters differ. The tree is written
//! atomically like `render --out`, byte for byte the same for the same spec.

use std::collections::{BTreeMap, BTreeSet};

use windlass_core::defaults::LABEL_ENVIRONMENT;
use windlass_core::model::Platform;
use windlass_core::plan::Plan;
use windlass_core::render::argocd::{self, ArgoOptions};
use windlass_core::render::flux::{self, FLUX_FILE, FluxOptions};
use windlass_core::render::{Object, Outline, documents, for_each_unit, to_yaml, to_yaml_stream};
use windlass_core::unit::UnitId;

use super::{ExitStatus, load_spec, refuse_findings};
use crate::cli::{OutputFormat, RenderArgs, RenderFormat};
use crate::error::CliError;
use crate::output::print;
use crate::sink::files::TreeWriter;

/// Where the objects shared by a fleet's clusters go.
const BASE: &str = "_base";

/// One cluster's units as files: unit directory -> file name -> YAML.
type Files = BTreeMap<String, BTreeMap<String, String>>;

/// One cluster, rendered.
struct Cluster {
    platform: Platform,
    plan: Plan,
    /// Unit id -> its directory (the outline's).
    dirs: BTreeMap<UnitId, String>,
    files: Files,
    /// Component units with objects of CRD-defined kinds (a `-config` unit).
    configs: BTreeSet<UnitId>,
    /// Units carrying SOPS-encrypted Secrets (from the environment's SOPS file).
    encrypted: BTreeSet<UnitId>,
}

/// Each format's own flags, refused with another format: a flag is never ignored.
pub fn check_flags(args: &RenderArgs) -> Result<(), CliError> {
    let given = [
        ("--flux-source", args.flux_source.is_some(), RenderFormat::Flux),
        ("--sops-secret", args.sops_secret.is_some(), RenderFormat::Flux),
        ("--repo-url", args.repo_url.is_some(), RenderFormat::Argocd),
        ("--revision", args.revision.is_some(), RenderFormat::Argocd),
    ];
    for (flag, set, format) in given {
        if set && args.format != format {
            let name = if format == RenderFormat::Flux { "flux" } else { "argocd" };
            return Err(CliError::Usage(format!(
                "{flag} is for `--format {name}`\n  help: add `--format {name}`, or drop {flag}"
            )));
        }
    }
    Ok(())
}

pub fn run(args: &RenderArgs) -> Result<ExitStatus, CliError> {
    check_flags(args)?;
    let spec = load_spec(&args.spec.file)?;
    let names: Vec<String> = if args.fleet {
        spec.environments.keys().cloned().collect()
    } else {
        vec![spec.environment(args.spec.env.as_deref())?.0.to_string()]
    };
    let mut clusters = Vec::with_capacity(names.len());
    for env in &names {
        let (env, file) = spec.environment(Some(env))?;
        let mut platform = Platform::build(file, env);
        if platform.uses_sops() {
            super::attach_secrets(&spec, &args.spec.file, &mut platform)?;
        }
        let plan = Plan::new(&platform, &args.selection.only)?;
        clusters.push(render_cluster(args, platform, plan)?);
    }
    let shared = shared_files(&clusters);
    let tree = TreeWriter::begin(&args.out)?;
    let mut summary = Vec::new();
    for c in &clusters {
        let cluster = c.platform.environment.as_str();
        for (dir, files) in &c.files {
            // Argo CD reads a component's chart alone when windlass adds nothing to it.
            if files.is_empty() && args.format == RenderFormat::Argocd {
                continue;
            }
            write_unit(&tree, cluster, dir, files, shared.get(dir))?;
        }
        let top = match args.format {
            RenderFormat::Flux => write_flux(&tree, args, c)?,
            _ => write_argocd(&tree, args, c)?,
        };
        let objects: usize = c.files.values().map(BTreeMap::len).sum();
        summary.push((cluster.to_string(), top, objects));
    }
    for (dir, files) in &shared {
        let resources: Vec<String> = files.keys().cloned().collect();
        for (file, yaml) in files {
            tree.write(&format!("units/{BASE}/{dir}/{file}"), yaml)?;
        }
        tree.write(
            &format!("units/{BASE}/{dir}/kustomization.yaml"),
            &to_yaml(&flux::kustomize_file(&resources)),
        )?;
    }
    tree.write("README.md", &readme(args, &clusters))?;
    tree.commit()?;
    let base: usize = shared.values().map(BTreeMap::len).sum();
    print(&summary_text(args, &summary, base))?;
    Ok(ExitStatus::Success)
}

/// A cluster's units as files, each unit checked like `render` checks it. The
/// Secrets apps read from the SOPS file are decrypted in memory and written
/// encrypted again (to the file's age recipients) as Secret manifests Flux decrypts.
fn render_cluster(args: &RenderArgs, platform: Platform, plan: Plan) -> Result<Cluster, CliError> {
    let format = args.format;
    let made = windlass_core::render::sops::made_secrets(plan.up().iter().filter_map(|u| match &u.id {
        UnitId::App { name, .. } => platform.app(name),
        _ => None,
    }));
    if !made.is_empty() && format == RenderFormat::Argocd {
        return Err(CliError::Usage(format!(
            "environment `{}`: apps read Secrets from the SOPS file {} ({}); Argo CD cannot decrypt SOPS files without a plugin, and windlass writes no Secret in the clear\n  \
             help: render `--format flux` (kustomize-controller decrypts them), deploy those apps with `windlass up`, or read the values through Vault (`secretEnv: {{vault: ...}}`)",
            platform.environment,
            platform.secrets_file.as_deref().unwrap_or_default(),
            made.join(", ")
        )));
    }
    let outline = Outline::new(&platform, &plan);
    let dirs: BTreeMap<UnitId, String> = outline
        .units()
        .iter()
        .map(|id| (id.clone(), outline.unit(id).dir))
        .collect();
    let mut files = Files::new();
    let mut configs = BTreeSet::new();
    let mut sealed: Vec<(UnitId, String, Vec<serde_json::Value>)> = Vec::new();
    let split = |unit: windlass_core::render::Unit| {
        let secrets: Vec<serde_json::Value> = unit
            .objects
            .iter()
            .filter(|o| windlass_core::render::sops::is_sealed(&o.0))
            .map(|o| o.0.clone())
            .collect();
        let (main, config) = flux::split(unit);
        (documents(main), config.map(documents), secrets)
    };
    for_each_unit(&outline, split, |(unit, config, secrets)| {
        if !secrets.is_empty() {
            sealed.push((unit.kind.clone(), unit.dir.clone(), secrets));
        }
        if !flux::has_kustomization(&unit.kind) {
            return Ok(());
        }
        refuse_findings(&unit.findings)?;
        let mut own: BTreeMap<String, String> = unit
            .documents
            .iter()
            .map(|d| (d.file.clone(), d.yaml.clone()))
            .collect();
        if format == RenderFormat::Flux
            && let UnitId::Component(name) = &unit.kind
            && let Some(c) = name.parse().ok().and_then(|n| platform.component(n))
        {
            for o in flux::component_objects(&platform, c) {
                let file = format!("{:02}-{}-{}.yaml", own.len(), o.kind().to_lowercase(), o.name());
                own.insert(file, to_yaml(&o));
            }
        }
        files.insert(unit.dir.clone(), own);
        if let Some(config) = config {
            refuse_findings(&config.findings)?;
            files.insert(
                config.dir.clone(),
                config
                    .documents
                    .iter()
                    .map(|d| (d.file.clone(), d.yaml.clone()))
                    .collect(),
            );
            configs.insert(unit.kind.clone());
        }
        Ok::<(), CliError>(())
    })?;
    let mut encrypted = BTreeSet::new();
    if let (Some(file), false) = (platform.sealed.as_ref(), sealed.is_empty()) {
        let secrets = super::secrets::EnvironmentSecrets::open(file)?;
        for (unit, dir, objects) in sealed {
            let own = files.entry(dir.clone()).or_default();
            for o in objects {
                let real = Object(secrets.unseal(&o)?);
                let file = format!("{:02}-secret-{}.sops.yaml", own.len(), real.name());
                // The same file of the tree this render replaces, to keep unchanged ciphertext.
                let previous =
                    std::fs::read_to_string(args.out.join(flux::unit_path(&platform.environment, &dir)).join(&file))
                        .ok();
                own.insert(file, secrets.encrypt_manifest(&to_yaml(&real), previous.as_deref())?);
            }
            encrypted.insert(unit);
        }
    }
    Ok(Cluster {
        platform,
        plan,
        dirs,
        files,
        configs,
        encrypted,
    })
}

/// An object's YAML without the environment label (the lines `up` sets it on).
fn without_environment(yaml: &str, env: &str) -> String {
    let label = format!("{LABEL_ENVIRONMENT}: {env}");
    yaml.lines()
        .filter(|l| l.trim() != label)
        .flat_map(|l| [l, "\n"])
        .collect()
}

/// Per unit directory, the files every cluster with that directory renders the
/// same but for the environment label, without it (only when two or more
/// clusters have the directory).
fn shared_files(clusters: &[Cluster]) -> Files {
    let mut out = Files::new();
    if clusters.len() < 2 {
        return out;
    }
    let dirs: BTreeSet<&String> = clusters.iter().flat_map(|c| c.files.keys()).collect();
    for dir in dirs {
        let having: Vec<BTreeMap<&String, String>> = clusters
            .iter()
            .filter_map(|c| {
                let files = c.files.get(dir)?;
                let env = &c.platform.environment;
                Some(files.iter().map(|(f, y)| (f, without_environment(y, env))).collect())
            })
            .collect();
        if having.len() < 2 {
            continue;
        }
        let common: BTreeMap<String, String> = having[0]
            .iter()
            .filter(|(file, yaml)| having[1..].iter().all(|h| h.get(*file) == Some(*yaml)))
            .map(|(f, y)| ((*f).clone(), y.clone()))
            .collect();
        if !common.is_empty() {
            out.insert(dir.clone(), common);
        }
    }
    out
}

/// A cluster's unit directory: its own files and a kustomization.yaml listing
/// them and, in a fleet, the shared base of the same directory.
fn write_unit(
    tree: &TreeWriter,
    cluster: &str,
    dir: &str,
    files: &BTreeMap<String, String>,
    shared: Option<&BTreeMap<String, String>>,
) -> Result<(), CliError> {
    let path = flux::unit_path(cluster, dir);
    let mut resources = Vec::new();
    let mut kustomization = flux::kustomize_file(&[]);
    if shared.is_some() {
        kustomization.0["labels"] = serde_json::json!([{
            "pairs": {LABEL_ENVIRONMENT: cluster},
            "includeSelectors": false,
            "includeTemplates": true,
        }]);
        // units/<cluster>/<dir> -> units/_base/<dir>
        let up = "../".repeat(1 + dir.split('/').count());
        resources.push(format!("{up}{BASE}/{dir}"));
    }
    for (file, yaml) in files {
        if shared.is_some_and(|s| s.contains_key(file)) {
            continue;
        }
        tree.write(&format!("{path}/{file}"), yaml)?;
        resources.push(file.clone());
    }
    kustomization.0["resources"] = serde_json::json!(resources);
    tree.write(&format!("{path}/kustomization.yaml"), &to_yaml(&kustomization))
}

/// `clusters/<cluster>/`: the Flux Kustomizations and the root kustomization.yaml.
/// Returns the Kustomizations' names.
fn write_flux(tree: &TreeWriter, args: &RenderArgs, c: &Cluster) -> Result<Vec<Object>, CliError> {
    let cluster = &c.platform.environment;
    let opts = FluxOptions {
        cluster: cluster.clone(),
        source: args.flux_source.clone().unwrap_or_default(),
        sops_secret: args.sops_secret.clone().unwrap_or_else(|| "sops-age".into()),
    };
    let ks = flux::kustomizations(
        &c.platform,
        &c.plan,
        &opts,
        |id| dir_of(c, id),
        &c.configs,
        &c.encrypted,
    );
    let dir = format!("clusters/{cluster}");
    tree.write(&format!("{dir}/{FLUX_FILE}"), &to_yaml_stream(ks.iter()))?;
    tree.write(
        &format!("{dir}/kustomization.yaml"),
        &format!(
            "# The path `flux bootstrap --path={dir}` points at. After bootstrap, keep\n\
             # `flux-system` (the directory bootstrap writes here) in these resources.\n{}",
            to_yaml(&flux::kustomize_file(&[FLUX_FILE.to_string()]))
        ),
    )?;
    Ok(ks)
}

/// `clusters/<cluster>/`: the root Application, one Application per unit under
/// `apps/`, and the Application health check for `argocd-cm`.
fn write_argocd(tree: &TreeWriter, args: &RenderArgs, c: &Cluster) -> Result<Vec<Object>, CliError> {
    let cluster = &c.platform.environment;
    let opts = ArgoOptions {
        cluster: cluster.clone(),
        repo_url: args.repo_url.clone().unwrap_or_default(),
        revision: args.revision.clone().unwrap_or_else(|| "HEAD".into()),
    };
    let has_objects = |id: &UnitId| c.files.get(&dir_of(c, id)).is_some_and(|f| !f.is_empty());
    let apps = argocd::applications(&c.platform, &c.plan, &opts, |id| dir_of(c, id), has_objects, &c.configs);
    let dir = format!("clusters/{cluster}");
    let mut files = Vec::new();
    for (i, a) in apps.iter().enumerate() {
        let file = format!("{i:02}-application-{}.yaml", a.name());
        tree.write(&format!("{dir}/apps/{file}"), &to_yaml(a))?;
        files.push(file);
    }
    tree.write(
        &format!("{dir}/apps/kustomization.yaml"),
        &to_yaml(&flux::kustomize_file(&files)),
    )?;
    tree.write(&format!("{dir}/root.yaml"), &to_yaml(&argocd::root(&c.platform, &opts)))?;
    tree.write(
        &format!("{dir}/argocd-cm-health.yaml"),
        &to_yaml(&argocd::health_config()),
    )?;
    Ok(apps)
}

fn dir_of(c: &Cluster, id: &UnitId) -> String {
    c.dirs.get(id).cloned().unwrap_or_default()
}

/// The tree's README: what is where, and the commands that hand each cluster over.
fn readme(args: &RenderArgs, clusters: &[Cluster]) -> String {
    let name = clusters.first().map_or("", |c| c.platform.name.as_str());
    let list: Vec<String> = clusters.iter().map(|c| c.platform.environment.clone()).collect();
    let mut s = format!(
        "# GitOps tree of platform `{name}`\n\n\
         Rendered by `windlass render --format {}{}`; do not edit by hand: change windlass.yaml\n\
         and render again. Clusters: {}.\n\n\
         - `units/CLUSTER/DIR/`: each windlass unit's objects (platform, namespaces, apps,\n  \
           components) with a kustomization.yaml.{}\n",
        match args.format {
            RenderFormat::Flux => "flux",
            _ => "argocd",
        },
        if args.fleet { " --fleet" } else { "" },
        list.join(", "),
        if clusters.len() > 1 {
            " Objects every cluster renders the same are in\n  `units/_base/DIR/`, which each cluster's directory lists first; `diff -ru units/A units/B`\n  shows exactly how two clusters differ."
        } else {
            ""
        },
    );
    for c in clusters {
        let cluster = &c.platform.environment;
        let dir = format!("clusters/{cluster}");
        match args.format {
            RenderFormat::Flux => s.push_str(&format!(
                "\n## Cluster `{cluster}` (Flux)\n\n\
                 `{dir}/windlass.yaml` holds one Flux Kustomization per unit, each `wait: true` and\n\
                 `dependsOn` what the unit needs, so Flux applies them in the order `windlass up` does;\n\
                 a component's directory also holds its chart source and HelmRelease, and its objects of\n\
                 kinds the chart defines are a `-config` Kustomization after it. Every Kustomization reads\n\
                 `{kind}/{source}` in flux-system.\n\n\
                 ```sh\n\
                 flux bootstrap git --url=ssh://git@example.com/REPO.git --branch=main --path={dir}\n\
                 ```\n\n\
                 Bootstrap writes `{dir}/flux-system/`: add `- flux-system` to the resources of\n\
                 `{dir}/kustomization.yaml` in the same commit. Watch: `flux get kustomizations --watch`.\n",
                kind = args.flux_source.clone().unwrap_or_default().kind,
                source = args.flux_source.clone().unwrap_or_default().name,
            )),
            _ => s.push_str(&format!(
                "\n## Cluster `{cluster}` (Argo CD)\n\n\
                 `{dir}/apps/` holds one Application per unit with `argocd.argoproj.io/sync-wave` set to the\n\
                 unit's depth in the graph; `{dir}/root.yaml` is the app of apps that syncs them. Argo CD\n\
                 only waits for a wave's Applications to be Healthy with a health check for\n\
                 Applications in `argocd-cm`: merge `{dir}/argocd-cm-health.yaml` into it first.\n\n\
                 ```sh\n\
                 kubectl -n argocd patch configmap argocd-cm --type merge --patch-file {dir}/argocd-cm-health.yaml\n\
                 kubectl apply -f {dir}/root.yaml\n\
                 argocd app get {name}-{cluster}\n\
                 ```\n",
            )),
        }
    }
    s
}

fn summary_text(args: &RenderArgs, clusters: &[(String, Vec<Object>, usize)], base: usize) -> String {
    let dir = args.out.display();
    let what = match args.format {
        RenderFormat::Flux => "Kustomizations",
        _ => "Applications",
    };
    match args.output {
        OutputFormat::Json => {
            let list: Vec<serde_json::Value> = clusters
                .iter()
                .map(|(name, top, objects)| {
                    serde_json::json!({
                        "cluster": name,
                        "dir": format!("clusters/{name}"),
                        "objects": objects,
                        what.to_lowercase(): top.iter().map(|o| o.name().to_string()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            format!(
                "{}\n",
                serde_json::json!({"out": dir.to_string(), "format": what, "clusters": list, "sharedObjects": base})
            )
        }
        OutputFormat::Text => {
            let mut s = format!(
                "rendered {} tree of {} cluster(s) into {dir}/ (bootstrap: {dir}/README.md)\n",
                match args.format {
                    RenderFormat::Flux => "a Flux",
                    _ => "an Argo CD",
                },
                clusters.len()
            );
            for (name, top, objects) in clusters {
                s.push_str(&format!(
                    "  cluster {name}: {} {what} in {dir}/clusters/{name}/, {objects} objects under {dir}/units/{name}/\n",
                    top.len()
                ));
                if clusters.len() == 1 {
                    for o in top {
                        let after = match args.format {
                            RenderFormat::Flux => o.0["spec"]["dependsOn"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|d| d["name"].as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            _ => format!(
                                "wave {}",
                                o.0["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
                                    .as_str()
                                    .unwrap_or("0")
                            ),
                        };
                        let after = match args.format {
                            RenderFormat::Flux if after.is_empty() => String::new(),
                            RenderFormat::Flux => format!("after {after}"),
                            _ => after,
                        };
                        s.push_str(&format!("    {:<40} {after}\n", o.name()));
                    }
                }
            }
            if base > 0 {
                s.push_str(&format!(
                    "  {base} objects every cluster renders the same, once under {dir}/units/{BASE}/\n"
                ));
            }
            s
        }
    }
}
