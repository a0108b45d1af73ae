//! `cargo xtask bench platform`: the whole platform (every component the example
//! enables) plus the example's apps onto a fresh test bed, three ways, each timed
//! from an empty bed to everything ready:
//!
//! - `windlass up` (the release binary), then its no-op re-runs;
//! - `helmfile sync` of the same charts, versions and values with the same `needs`
//!   (helmfile v1.8, built from its Go module on first use; `[[bench]]` in
//!   testbed/versions.toml), then `helmfile sync` again (helmfile's own no-op);
//! - a sequential `helm upgrade --install --wait` script in dependency order: what
//!   an `install.sh` does.
//!
//! The peers get what windlass renders and the same order: each component's chart
//! and values from `windlass render` (`_components/NAME/release.yaml` and
//! `values.yaml`), the components' own windlass objects (namespaces with their Pod
//! Security labels, the Alertmanager and blackbox Secrets, the GatewayClass) as a
//! first local chart, and one local chart per other unit (the platform, each
//! namespace, each app) whose `needs` are the unit's own from render's JSON
//! summary (a component's CRDs come with its release). Every side fetches the
//! charts from the bed's HTTP chart repository.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::bench::{release_binary, tail, timed_with as timed};
use crate::versions::Pinned;

pub struct PlatformOptions {
    /// Seconds each side may take.
    pub timeout: u64,
    /// Timed no-op re-runs of `windlass up`.
    pub noop_runs: usize,
}

/// A component's `release.yaml`, as `windlass render` writes it.
#[derive(Debug, Deserialize)]
struct Release {
    release: String,
    namespace: String,
    chart: Chart,
}

#[derive(Debug, Deserialize)]
struct Chart {
    repository: String,
    name: String,
    version: String,
}

/// One component as the peers install it.
struct Component {
    name: String,
    release: Release,
    values: PathBuf,
}

pub fn platform(opts: &PlatformOptions) -> Result<()> {
    let root = crate::repo_root();
    let pinned = Pinned::load(&root)?;
    let helmfile = build_peers(&pinned)?;
    let windlass = release_binary(&root)?;
    let example = std::fs::read_to_string(root.join("examples/platform/windlass.yaml"))?;
    let work = std::env::temp_dir().join(format!("windlass-bench-platform-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let timeout = opts.timeout.to_string();

    // windlass.
    let bed = fresh_bed()?;
    let spec = work.join("windlass.yaml");
    std::fs::write(&spec, with_mirror(&example, &bed.chart_repo)?)?;
    let spec_arg = spec.display().to_string();
    let kc = bed.kubeconfig.display().to_string();
    let up_args = [
        "up",
        "-f",
        &spec_arg,
        "--env",
        "production",
        "--kubeconfig",
        &kc,
        "--timeout",
        &timeout,
    ];
    // helm on PATH as for the peers; windlass's chart cache starts empty like theirs.
    let home = work.join("helm-home-windlass");
    let mut env = peer_env(&bed, &home);
    env.push(("XDG_CACHE_HOME".into(), home.join("xdg-cache").display().to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    println!("windlass up (empty bed to ready) ...");
    let first = timed(&windlass, &up_args, &env, &work.join("windlass-up.log"))?;
    let mut noops = Vec::new();
    for i in 0..opts.noop_runs.max(1) {
        noops.push(timed(
            &windlass,
            &up_args,
            &env,
            &work.join(format!("windlass-noop-{i}.log")),
        )?);
    }
    let noop_log = std::fs::read_to_string(work.join("windlass-noop-0.log")).unwrap_or_default();
    if !noop_log.contains(" 0 changed") {
        bail!("windlass's re-run changed something:\n{}", tail(&noop_log, 10));
    }

    // What the peers install: windlass's own render of the same spec.
    let rendered = work.join("rendered");
    let out = Command::new(&windlass)
        .args([
            "render",
            "-f",
            &spec_arg,
            "--env",
            "production",
            "--output",
            "json",
            "--out",
        ])
        .arg(&rendered)
        .output()
        .context("windlass render")?;
    if !out.status.success() {
        bail!("windlass render failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let units: Summary = serde_json::from_slice(&out.stdout).context("render's JSON summary")?;
    let components = read_components(&rendered)?;
    let charts = work.join("charts");
    let mut releases = peer_releases(&components, &units.units, &rendered, &charts)?;
    let mut served_from = bed.chart_repo.clone();

    // helmfile sync.
    let bed = fresh_bed()?;
    move_repository(&mut releases, &mut served_from, &bed.chart_repo);
    let helm = bed.bin_dir.join("helm");
    let helmfile_yaml = work.join("helmfile.yaml");
    std::fs::write(&helmfile_yaml, helmfile_spec(&releases, opts.timeout))?;
    let env = peer_env(&bed, &work.join("helm-home-helmfile"));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let helmfile_args = [
        "--file",
        helmfile_yaml.to_str().context("a UTF-8 path")?,
        "--helm-binary",
        helm.to_str().context("a UTF-8 path")?,
        "sync",
    ];
    println!("helmfile sync (empty bed to ready) ...");
    let helmfile_first = timed(&helmfile, &helmfile_args, &env, &work.join("helmfile-sync.log"))?;
    println!("helmfile sync again (nothing changed) ...");
    let helmfile_noop = timed(&helmfile, &helmfile_args, &env, &work.join("helmfile-noop.log"))?;

    // A sequential `helm upgrade --install --wait` script.
    let bed = fresh_bed()?;
    move_repository(&mut releases, &mut served_from, &bed.chart_repo);
    let script = work.join("install.sh");
    std::fs::write(&script, install_script(&releases, opts.timeout)?)?;
    let env = peer_env(&bed, &work.join("helm-home-script"));
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let helm_arg = helm.display().to_string();
    env.push(("HELM", &helm_arg));
    println!("install.sh: helm upgrade --install --wait, one release after another ...");
    let script_first = timed(
        Path::new("bash"),
        &[script.to_str().context("a UTF-8 path")?],
        &env,
        &work.join("install-sh.log"),
    )?;
    // The last bed holds what install.sh installed: not what a later `testbed up` should find.
    crate::bed::down()?;

    let noop_median = {
        let mut sorted = noops.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    };
    let s = |d: Duration| d.as_secs_f64();
    println!();
    println!(
        "the example platform (production): {} components and {} other units ({} objects) as {} releases \
         for the peers; a fresh test bed per side (wall time)",
        components.len(),
        units
            .units
            .iter()
            .filter(|u| !u.unit.starts_with("component.") && !u.unit.starts_with("crds."))
            .count(),
        units.objects,
        releases.len(),
    );
    println!("  windlass up, empty bed to ready           {:>8.1} s", s(first));
    println!(
        "  helmfile sync (same charts, values, needs) {:>7.1} s",
        s(helmfile_first)
    );
    println!("  install.sh (sequential helm --wait)       {:>8.1} s", s(script_first));
    println!(
        "  ratio windlass / helmfile                 {:>8.2}x  (target: <= 0.5)",
        s(first) / s(helmfile_first)
    );
    println!(
        "  ratio windlass / install.sh               {:>8.2}x",
        s(first) / s(script_first)
    );
    println!(
        "  windlass up, no-op (median of {})          {:>8.2} s  runs: {}  (target: < 2 s)",
        noops.len(),
        s(noop_median),
        noops
            .iter()
            .map(|d| format!("{:.2}", s(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  helmfile sync, no-op                      {:>8.1} s",
        s(helmfile_noop)
    );
    println!("  logs and inputs: {}", work.display());
    Ok(())
}

/// helmfile, built from its pinned module into the bench's own bin directory.
fn build_peers(pinned: &Pinned) -> Result<PathBuf> {
    let build_dir = windlass_testbed::paths::build_dir(&pinned.hash);
    let bin_dir = build_dir.join("bench-bin");
    crate::tools::build_modules(pinned, &pinned.versions.bench, &build_dir, &bin_dir)?;
    Ok(bin_dir.join("helmfile"))
}

struct Bed {
    kubeconfig: PathBuf,
    bin_dir: PathBuf,
    chart_repo: String,
}

/// A test bed with nothing installed: stopped (its etcd data removed) and started.
fn fresh_bed() -> Result<Bed> {
    crate::bed::down()?;
    let kubeconfig = crate::bed::up()?;
    let env: BTreeMap<String, String> = crate::bed::test_env()?.into_iter().collect();
    let get = |name: &str| {
        env.get(name)
            .cloned()
            .with_context(|| format!("the test bed's environment has no {name}"))
    };
    Ok(Bed {
        kubeconfig,
        bin_dir: PathBuf::from(get(windlass_testbed::paths::BIN_ENV)?),
        chart_repo: get("WINDLASS_TESTBED_CHART_REPO")?,
    })
}

/// Each fresh bed serves the charts on a new port: the releases rendered against
/// an earlier bed's repository fetch from this one's.
fn move_repository(releases: &mut [PeerRelease], from: &mut String, to: &str) {
    for r in releases.iter_mut() {
        if let Source::Repository { url, .. } = &mut r.source
            && url == from
        {
            *url = to.to_string();
        }
    }
    *from = to.to_string();
}

/// The example spec with every chart fetched from `mirror`.
fn with_mirror(example: &str, mirror: &str) -> Result<String> {
    let anchor = "platform:\n";
    let Some(at) = example.find(anchor) else {
        bail!("the example spec has no `platform:` line");
    };
    let at = at + anchor.len();
    Ok(format!(
        "{}  charts:\n    mirror: \"{mirror}\"\n{}",
        &example[..at],
        &example[at..]
    ))
}

fn read_components(rendered: &Path) -> Result<Vec<Component>> {
    let dir = rendered.join("_components");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let file = path.join("release.yaml");
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let release: Release = serde_saphyr::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        out.push(Component {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            release,
            values: path.join("values.yaml"),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    if out.is_empty() {
        bail!("windlass render wrote no component releases under {}", dir.display());
    }
    Ok(out)
}

/// `windlass render --output json`: the units with their needs.
#[derive(Debug, Deserialize)]
struct Summary {
    objects: usize,
    units: Vec<UnitSummary>,
}

#[derive(Debug, Deserialize)]
struct UnitSummary {
    unit: String,
    needs: Vec<String>,
    dir: String,
}

/// One release a peer installs.
struct PeerRelease {
    name: String,
    namespace: String,
    source: Source,
    values: Option<PathBuf>,
    /// `NAMESPACE/NAME` of the releases it waits for.
    needs: Vec<String>,
}

enum Source {
    Repository {
        url: String,
        chart: String,
        version: String,
    },
    Local(PathBuf),
}

impl PeerRelease {
    fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The peers' releases, in windlass's unit order: the components' own objects,
/// each component's chart, then one local chart per other unit.
fn peer_releases(
    components: &[Component],
    units: &[UnitSummary],
    rendered: &Path,
    charts: &Path,
) -> Result<Vec<PeerRelease>> {
    const OWN: &str = "default/windlass-components";
    // A unit id -> the release that carries it.
    let mut carrier: BTreeMap<String, String> = BTreeMap::new();
    for c in components {
        let key = format!("{}/{}", c.release.namespace, c.release.release);
        carrier.insert(format!("component.{}", c.name), key.clone());
        carrier.insert(format!("crds.{}", c.name), key);
    }
    let local_name = |unit: &str| format!("windlass-{}", unit.replace('.', "-"));
    for u in units {
        if !carrier.contains_key(&u.unit) {
            carrier.insert(u.unit.clone(), format!("default/{}", local_name(&u.unit)));
        }
    }
    let needs_of = |unit: &str, needs: &[String], extra: Option<&str>| -> Vec<String> {
        let own = carrier.get(unit);
        let mut out: Vec<String> = needs
            .iter()
            .filter_map(|n| carrier.get(n))
            .filter(|n| Some(*n) != own)
            .cloned()
            .chain(extra.map(String::from))
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let mut own_files = Vec::new();
    for c in components {
        own_files.extend(yaml_files(&rendered.join("_components").join(&c.name))?);
    }
    let own_chart = charts.join("windlass-components");
    local_chart(&own_chart, &own_files)?;
    let mut releases = vec![PeerRelease {
        name: "windlass-components".into(),
        namespace: "default".into(),
        source: Source::Local(own_chart),
        values: None,
        needs: Vec::new(),
    }];
    for c in components {
        let needs = units
            .iter()
            .find(|u| u.unit == format!("component.{}", c.name))
            .map(|u| needs_of(&u.unit, &u.needs, Some(OWN)))
            .unwrap_or_else(|| vec![OWN.to_string()]);
        releases.push(PeerRelease {
            name: c.release.release.clone(),
            namespace: c.release.namespace.clone(),
            source: Source::Repository {
                url: c.release.chart.repository.clone(),
                chart: c.release.chart.name.clone(),
                version: c.release.chart.version.clone(),
            },
            values: Some(c.values.clone()),
            needs,
        });
    }
    for u in units
        .iter()
        .filter(|u| !u.unit.starts_with("component.") && !u.unit.starts_with("crds."))
    {
        let files = yaml_files(&rendered.join(&u.dir))?;
        if files.is_empty() {
            continue;
        }
        let chart = charts.join(local_name(&u.unit));
        local_chart(&chart, &files)?;
        releases.push(PeerRelease {
            name: local_name(&u.unit),
            namespace: "default".into(),
            source: Source::Local(chart),
            values: None,
            needs: needs_of(&u.unit, &u.needs, None),
        });
    }
    Ok(releases)
}

/// The `.yaml` object files directly in `dir` (not its subdirectories: an app's
/// directory sits inside its namespace's), without a component's release and values.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let file = entry?.path();
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file.is_file() && name.ends_with(".yaml") && name != "release.yaml" && name != "values.yaml" {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// `releases` in an order where each comes after what it needs.
fn install_order(releases: &[PeerRelease]) -> Result<Vec<&PeerRelease>> {
    let mut done: Vec<&PeerRelease> = Vec::new();
    while done.len() < releases.len() {
        let before = done.len();
        for r in releases {
            if done.iter().any(|d| d.key() == r.key()) {
                continue;
            }
            if r.needs.iter().all(|n| done.iter().any(|d| &d.key() == n)) {
                done.push(r);
            }
        }
        if done.len() == before {
            bail!("the releases' needs have a cycle or name a release that is not there");
        }
    }
    Ok(done)
}

/// A chart whose one template emits `files` verbatim (`.Files.Get`, so the
/// `{{` in dashboards and alert annotations is not read as a template).
fn local_chart(dir: &Path, files: &[PathBuf]) -> Result<()> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::create_dir_all(dir.join("templates"))?;
    std::fs::create_dir_all(dir.join("objects"))?;
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\n"),
    )?;
    for (i, file) in files.iter().enumerate() {
        std::fs::copy(file, dir.join("objects").join(format!("{i:04}.yaml")))?;
    }
    std::fs::write(
        dir.join("templates/objects.yaml"),
        "{{- range $path, $_ := .Files.Glob \"objects/*.yaml\" }}\n---\n{{ $.Files.Get $path }}\n{{- end }}\n",
    )?;
    Ok(())
}

fn helmfile_spec(releases: &[PeerRelease], timeout: u64) -> String {
    let mut repos: Vec<&str> = releases
        .iter()
        .filter_map(|r| match &r.source {
            Source::Repository { url, .. } => Some(url.as_str()),
            Source::Local(_) => None,
        })
        .collect();
    repos.sort_unstable();
    repos.dedup();
    let repo_name = |url: &str| format!("repo{}", repos.iter().position(|r| *r == url).unwrap_or(0));
    let mut s = String::from("repositories:\n");
    for r in &repos {
        let _ = writeln!(s, "  - name: {}\n    url: {r}", repo_name(r));
    }
    let _ = write!(
        s,
        "helmDefaults:\n  wait: true\n  waitForJobs: true\n  timeout: {timeout}\n  createNamespace: false\nreleases:\n"
    );
    for r in releases {
        let _ = writeln!(s, "  - name: {}\n    namespace: {}", r.name, r.namespace);
        match &r.source {
            Source::Repository { url, chart, version } => {
                let _ = writeln!(s, "    chart: {}/{chart}\n    version: \"{version}\"", repo_name(url));
            }
            Source::Local(path) => {
                let _ = writeln!(s, "    chart: {}", path.display());
            }
        }
        if let Some(values) = &r.values {
            let _ = writeln!(s, "    values: [{}]", values.display());
        }
        let _ = writeln!(s, "    needs: [{}]", r.needs.join(", "));
    }
    s
}

fn install_script(releases: &[PeerRelease], timeout: u64) -> Result<String> {
    let wait = format!("--wait --wait-for-jobs --timeout {timeout}s");
    let mut s = String::from(
        "#!/usr/bin/env bash\n# What an install.sh does: one release after another, each waited for.\nset -euo pipefail\n",
    );
    for r in install_order(releases)? {
        let chart = match &r.source {
            Source::Repository { url, chart, version } => format!("{chart} --repo {url} --version {version}"),
            Source::Local(path) => path.display().to_string(),
        };
        let values = r
            .values
            .as_ref()
            .map(|v| format!(" --values {}", v.display()))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "\"$HELM\" upgrade --install {} {chart} --namespace {}{values} {wait}",
            r.name, r.namespace
        );
    }
    Ok(s)
}

/// The peers' environment: the bed's kubeconfig, and helm's own cache and
/// configuration in `home` (empty at first, as on a new machine).
fn peer_env(bed: &Bed, home: &Path) -> Vec<(String, String)> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bed.bin_dir.clone()).chain(std::env::split_paths(&path)))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    vec![
        ("KUBECONFIG".into(), bed.kubeconfig.display().to_string()),
        ("PATH".into(), path),
        ("HELM_CACHE_HOME".into(), home.join("cache").display().to_string()),
        ("HELM_CONFIG_HOME".into(), home.join("config").display().to_string()),
        ("HELM_DATA_HOME".into(), home.join("data").display().to_string()),
    ]
}
