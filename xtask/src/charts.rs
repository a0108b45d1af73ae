//! The Helm charts the test bed serves: upstream charts packaged from the chart
//! directories of pinned Go module zips (`[[charts]]` in testbed/versions.toml) and
//! our fixture charts (testbed/charts/) for upstream charts no module carries. Both
//! are packaged with the bed's own helm into one directory with a repository index.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::tools::go_mod_download;
use crate::versions::{ChartSource, Pinned};

/// This file is part of the cache key: a changed recipe repackages everything.
const RECIPE: &str = include_str!("charts.rs");

/// Fixture charts that carry real upstream CRDs, copied in at packaging time (never
/// committed): (chart, directory inside the chart, `[[crds]]` entry to copy from).
/// kube-prometheus-stack keeps them in a `crds` subchart switched by `crds.enabled`,
/// as upstream does.
const FIXTURE_CRDS: &[(&str, &str, &str)] = &[("kube-prometheus-stack", "charts/crds/crds", "prometheus-operator")];

/// An upstream values template whose placeholders the release fills (envsubst).
struct ValuesTemplate {
    chart: &'static str,
    file: &'static str,
    /// `${NAME}` and its value; `{version}` in a value is the module version.
    vars: &'static [(&'static str, &'static str)],
}

const VALUES_TEMPLATES: &[ValuesTemplate] = &[ValuesTemplate {
    chart: "gateway-helm",
    file: "values.tmpl.yaml",
    vars: &[
        ("GatewayImage", "docker.io/envoyproxy/gateway:{version}"),
        ("GatewayImagePullPolicy", "IfNotPresent"),
    ],
}];

/// The packaged charts: `NAME-VERSION.tgz` files and `index.yaml`.
pub struct Packages {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Packages every chart into `<build>/charts/<key>/`, unless a complete directory for
/// the same inputs exists. Older package directories are removed.
pub fn ensure_charts(pinned: &Pinned, build_dir: &Path, helm: &Path) -> Result<Packages> {
    let fixtures = fixture_dirs(&pinned.testbed_dir)?;
    let key = cache_key(pinned, &fixtures)?;
    let root = build_dir.join("charts");
    let dir = root.join(&key);
    if !dir.join(".complete").exists() {
        package_all(pinned, &fixtures, &dir, helm)?;
        // Keep only the current set; `up` serves exactly this directory.
        for entry in std::fs::read_dir(&root).with_context(|| format!("listing {}", root.display()))? {
            let path = entry?.path();
            if path != dir && path.is_dir() {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "tgz"))
        .collect();
    files.sort();
    Ok(Packages { dir, files })
}

fn fixture_dirs(testbed_dir: &Path) -> Result<Vec<PathBuf>> {
    let charts = testbed_dir.join("charts");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&charts)
        .with_context(|| format!("listing {}", charts.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("Chart.yaml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Everything a package is made of: this recipe, the chart and CRD pins, the helm
/// that packages them, and every fixture file.
fn cache_key(pinned: &Pinned, fixtures: &[PathBuf]) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(RECIPE.as_bytes());
    let helm = pinned.versions.build.iter().find(|b| b.name == "helm");
    hasher.update(
        serde_json::json!({
            "charts": pinned.versions.charts,
            "crds": pinned.versions.crds,
            "helm": helm.map(|b| &b.version),
        })
        .to_string()
        .as_bytes(),
    );
    for dir in fixtures {
        for file in files_under(dir)? {
            hasher.update(
                file.strip_prefix(&pinned.testbed_dir)
                    .unwrap_or(&file)
                    .to_string_lossy()
                    .as_bytes(),
            );
            hasher.update(std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?);
        }
    }
    Ok(hasher.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect())
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn package_all(pinned: &Pinned, fixtures: &[PathBuf], dir: &Path, helm: &Path) -> Result<()> {
    let work = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&work);
    let src = work.join("src");
    let out = work.join("out");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for chart in &pinned.versions.charts {
        let chart_dir = src.join(&chart.name);
        extract_chart(chart, &chart_dir)?;
        let version = prepare_upstream(chart, &chart_dir)?;
        package(helm, &chart_dir, &out, version.as_deref())?;
        eprintln!(
            "testbed: packaged chart {} from {}@{}",
            chart.name, chart.module, chart.version
        );
    }
    for fixture in fixtures {
        let name = fixture
            .file_name()
            .and_then(|n| n.to_str())
            .context("a fixture chart directory without a name")?;
        let chart_dir = src.join(name);
        copy_dir(fixture, &chart_dir)?;
        for (chart, sub_dir, crds) in FIXTURE_CRDS.iter().filter(|(chart, ..)| *chart == name) {
            let source = pinned.versions.crds.iter().find(|c| c.name == *crds).with_context(|| {
                format!("chart {chart} wants the CRDs of `{crds}`, which testbed/versions.toml does not pin")
            })?;
            let target = chart_dir.join(sub_dir);
            std::fs::create_dir_all(&target)?;
            crate::crds::extract(source, &target, |file| format!("crd-{file}"))?;
        }
        helm_run(helm, &["lint", "--strict"], &chart_dir)?;
        package(helm, &chart_dir, &out, None)?;
        eprintln!("testbed: packaged fixture chart {name}");
    }
    helm_run(helm, &["repo", "index"], &out)?;
    std::fs::write(out.join(".complete"), "")?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&out, dir).with_context(|| format!("moving the packages to {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// Copies the chart directory out of the module zip.
fn extract_chart(chart: &ChartSource, to: &Path) -> Result<()> {
    let download = go_mod_download(&chart.module, &chart.version)?;
    let zip_path = download
        .zip
        .filter(|p| p.exists())
        .with_context(|| format!("no module zip for {}@{}", chart.module, chart.version))?;
    let file = std::fs::File::open(&zip_path).with_context(|| format!("opening {}", zip_path.display()))?;
    let mut archive = zip::ZipArchive::new(file).with_context(|| format!("reading {}", zip_path.display()))?;
    let prefix = format!(
        "{}@{}/{}/",
        chart.module,
        chart.version,
        chart.dir.trim_end_matches('/')
    );
    let mut count = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let name = entry.name()?.to_string();
        let Some(relative) = name.strip_prefix(&prefix) else {
            continue;
        };
        if relative.is_empty() || name.ends_with('/') {
            continue;
        }
        // Zip paths from the module proxy are checked by Go, but never write outside `to`.
        if relative.split('/').any(|part| part == ".." || part.is_empty()) {
            bail!("unexpected path {name} in {}", zip_path.display());
        }
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {name} from {}", zip_path.display()))?;
        std::fs::write(&target, bytes).with_context(|| format!("writing {}", target.display()))?;
        count += 1;
    }
    if count == 0 || !to.join("Chart.yaml").exists() {
        bail!(
            "no chart at {} in {}@{}: check `dir` in testbed/versions.toml",
            chart.dir,
            chart.module,
            chart.version
        );
    }
    Ok(())
}

/// Makes the repository copy of an upstream chart what its release publishes, as
/// far as the files allow. Returns the version to package it as, when the
/// repository copy carries a placeholder version (cert-manager's v0.0.0, Envoy
/// Gateway's v0.0.0-latest: their releases set version and appVersion to the tag).
fn prepare_upstream(chart: &ChartSource, dir: &Path) -> Result<Option<String>> {
    let chart_yaml_path = dir.join("Chart.yaml");
    let mut chart_yaml = std::fs::read_to_string(&chart_yaml_path)?;
    let placeholder =
        top_level_scalar(&chart_yaml, "version").is_some_and(|v| v.trim_start_matches('v').starts_with("0.0.0"));
    let version = placeholder.then(|| chart.version.clone());

    // Values templates filled like the release's envsubst step.
    for ValuesTemplate {
        chart: name,
        file: template,
        vars,
    } in VALUES_TEMPLATES.iter().filter(|t| t.chart == chart.name)
    {
        let path = dir.join(template);
        let mut text = std::fs::read_to_string(&path)
            .with_context(|| format!("chart {name}: reading its values template {}", path.display()))?;
        for (var, value) in vars.iter() {
            text = text.replace(&format!("${{{var}}}"), &value.replace("{version}", &chart.version));
        }
        if text.contains("${") {
            bail!("chart {name}: {template} still has a placeholder after filling it; update VALUES_TEMPLATES");
        }
        std::fs::write(dir.join("values.yaml"), text)?;
        std::fs::remove_file(&path)?;
    }

    match chart.name.as_str() {
        "cert-manager" => {
            // The release adds the signing-key annotation from signkey_annotation.txt and
            // renders README.md from README.template.md; the rest of the repository-only
            // files are not in the published package.
            let key = std::fs::read_to_string(dir.join("signkey_annotation.txt"))
                .context("cert-manager: reading signkey_annotation.txt")?;
            let mut annotations = String::from("  artifacthub.io/prerelease: \"false\"\n  artifacthub.io/signKey: |\n");
            for line in key.lines() {
                annotations.push_str("    ");
                annotations.push_str(line);
                annotations.push('\n');
            }
            chart_yaml = insert_after_line(&chart_yaml, "annotations:", &annotations)
                .context("cert-manager: Chart.yaml has no `annotations:` block")?;
            let readme = std::fs::read_to_string(dir.join("README.template.md"))?;
            std::fs::write(
                dir.join("README.md"),
                readme.replace("{{RELEASE_VERSION}}", &chart.version),
            )?;
            for file in [
                "README.template.md",
                "signkey_annotation.txt",
                "values.linter.exceptions",
                ".gitignore",
            ] {
                let _ = std::fs::remove_file(dir.join(file));
            }
            let _ = std::fs::remove_dir_all(dir.join("tests"));
        }
        "gateway-helm" => {
            // helm-docs writes the release version where the repository says v0.0.0-latest.
            let readme = dir.join("README.md");
            if let Ok(text) = std::fs::read_to_string(&readme) {
                std::fs::write(&readme, text.replace("v0.0.0-latest", &chart.version))?;
            }
        }
        "loki" => {
            // Its dependencies (minio, grafana-agent-operator, rollout-operator) come
            // from chart repositories this machine cannot reach, and helm refuses a
            // chart whose declared dependencies are missing even when their conditions
            // are off (all three are off by default). They are dropped, so enabling
            // minio.enabled, rollout_operator.enabled or
            // monitoring.selfMonitoring.grafanaAgent.installOperator renders nothing.
            chart_yaml = drop_top_level_key(&chart_yaml, "dependencies");
            if top_level_scalar(&chart_yaml, "annotations").is_some() {
                bail!("loki: Chart.yaml has annotations now; merge the test bed's note into them");
            }
            // helm package rewrites Chart.yaml without comments: the note is an annotation.
            chart_yaml.push_str(
                "annotations:\n  windlass.dev/testbed: \"dependencies minio, grafana-agent-operator and \
                 rollout-operator removed (not downloadable here; all disabled by default)\"\n",
            );
            let _ = std::fs::remove_file(dir.join("Chart.lock"));
        }
        _ => {}
    }
    std::fs::write(&chart_yaml_path, chart_yaml)?;
    Ok(version)
}

/// The value of a top-level `key: value` line.
fn top_level_scalar<'a>(yaml: &'a str, key: &str) -> Option<&'a str> {
    yaml.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        Some(value.trim().trim_matches('"').trim_matches('\''))
    })
}

fn insert_after_line(text: &str, line: &str, insert: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + insert.len());
    let mut done = false;
    for current in text.split_inclusive('\n') {
        out.push_str(current);
        if !done && current.trim_end() == line {
            if !current.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(insert);
            done = true;
        }
    }
    done.then_some(out)
}

/// Removes a top-level key and its indented block.
fn drop_top_level_key(yaml: &str, key: &str) -> String {
    let mut out = String::with_capacity(yaml.len());
    let mut dropping = false;
    for line in yaml.split_inclusive('\n') {
        let top_level = !line.starts_with(' ') && !line.starts_with('-') && !line.trim().is_empty();
        if top_level {
            dropping = line.strip_prefix(key).is_some_and(|rest| rest.starts_with(':'));
        }
        if !dropping {
            out.push_str(line);
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for file in files_under(from)? {
        let relative = file.strip_prefix(from)?;
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&file, &target).with_context(|| format!("copying {}", file.display()))?;
    }
    Ok(())
}

fn package(helm: &Path, chart_dir: &Path, out: &Path, version: Option<&str>) -> Result<()> {
    let mut args = vec!["package".to_string(), "--destination".into(), out.display().to_string()];
    if let Some(version) = version {
        args.extend([
            "--version".into(),
            version.into(),
            "--app-version".into(),
            version.into(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    helm_run(helm, &args, chart_dir)
}

/// Runs `helm ARGS PATH`, failing with its output.
fn helm_run(helm: &Path, args: &[&str], path: &Path) -> Result<()> {
    let output = Command::new(helm)
        .args(args)
        .arg(path)
        .output()
        .with_context(|| format!("running {}", helm.display()))?;
    if !output.status.success() {
        bail!(
            "helm {} {} failed:\n{}{}",
            args.join(" "),
            path.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_key_keeps_the_rest() {
        let yaml =
            "name: loki\ndependencies:\n  - name: minio\n    condition: minio.enabled\nmaintainers:\n  - name: a\n";
        assert_eq!(
            drop_top_level_key(yaml, "dependencies"),
            "name: loki\nmaintainers:\n  - name: a\n"
        );
    }

    #[test]
    fn placeholder_versions_are_read() {
        assert_eq!(
            top_level_scalar("name: x\nversion: v0.0.0\n", "version"),
            Some("v0.0.0")
        );
        assert_eq!(
            top_level_scalar("appVersion: \"latest\"\n", "appVersion"),
            Some("latest")
        );
        assert_eq!(top_level_scalar("kubeVersion: x\n", "version"), None);
    }

    #[test]
    fn lines_are_inserted_after_the_first_match() {
        let out = insert_after_line("a:\nannotations:\n  x: y\n", "annotations:", "  k: v\n");
        assert_eq!(out.as_deref(), Some("a:\nannotations:\n  k: v\n  x: y\n"));
        assert_eq!(insert_after_line("a: b\n", "annotations:", "  k: v\n"), None);
    }
}
