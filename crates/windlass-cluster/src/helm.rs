//! The `helm` CLI (v4) as windlass drives it for platform components: version
//! check with what to install, chart download into a local cache (OCI or HTTP
//! repository), CRD extraction (`helm template`), `upgrade --install` with
//! server-side apply, kstatus waiting and rollback on failure, `uninstall`, and
//! `rollback` of a release a killed run left pending. Values always travel in a
//! 0600 file, never on the command line. helm runs in windlass's process group,
//! so Ctrl-C reaches it and it stops cleanly on its own.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use windlass_core::components::{ChartRef, Component, CrdSource};

use crate::client::ClusterTarget;

/// The oldest helm windlass drives: server-side apply and `--rollback-on-failure` came with v4.
const MIN_MAJOR: u64 = 4;
const INSTALL_HINT: &str =
    "install helm v4 (https://helm.sh/docs/intro/install/), or put it on PATH; set WINDLASS_HELM to use another binary";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelmError {
    #[error("helm is not installed (looked for `{binary}` on PATH)\n  help: {INSTALL_HINT}")]
    Missing { binary: String },
    #[error("helm {found} is too old: windlass needs helm v{MIN_MAJOR}\n  help: {INSTALL_HINT}")]
    TooOld { found: String },
    #[error("`helm {doing}` failed: {message}")]
    Failed { doing: String, message: String },
    #[error("{0}")]
    Io(String),
}

/// One helm binary, checked, with the cluster it talks to and where charts are cached.
#[derive(Debug, Clone)]
pub struct Helm {
    binary: PathBuf,
    pub version: String,
    target: ClusterTarget,
    cache: PathBuf,
}

/// A release as helm stores it (the newest revision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseState {
    pub revision: u32,
    /// `deployed`, `failed`, `pending-install`, `pending-upgrade`, `pending-rollback`, `uninstalling`, `superseded`.
    pub status: String,
}

impl ReleaseState {
    pub fn is_pending(&self) -> bool {
        self.status.starts_with("pending-")
    }
}

impl Helm {
    /// Finds helm (`WINDLASS_HELM` or `helm` on PATH) and checks its version.
    pub async fn locate(target: &ClusterTarget, cache: PathBuf) -> Result<Helm, HelmError> {
        let binary = std::env::var_os("WINDLASS_HELM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("helm"));
        let out = tokio::process::Command::new(&binary)
            .args(["version", "--template", "{{.Version}}"])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|_| HelmError::Missing {
                binary: binary.display().to_string(),
            })?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        match major(&version) {
            Some(m) if m >= MIN_MAJOR => Ok(Helm {
                binary,
                version,
                target: target.clone(),
                cache,
            }),
            _ => Err(HelmError::TooOld {
                found: if version.is_empty() {
                    "(unknown version)".into()
                } else {
                    version
                },
            }),
        }
    }

    fn command(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.binary);
        if let Some(k) = &self.target.kubeconfig {
            c.arg("--kubeconfig").arg(k);
        }
        if let Some(ctx) = &self.target.context {
            c.arg("--kube-context").arg(ctx);
        }
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    async fn run(&self, doing: &str, args: &[&str]) -> Result<String, HelmError> {
        let out = self
            .command()
            .args(args)
            .output()
            .await
            .map_err(|e| HelmError::Io(format!("running helm: {e}")))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(HelmError::Failed {
                doing: doing.to_string(),
                message: last_lines(&String::from_utf8_lossy(&out.stderr)),
            })
        }
    }

    /// The chart package, downloaded once into the cache (keyed by repository, name and version).
    pub async fn fetch(&self, chart: &ChartRef) -> Result<PathBuf, HelmError> {
        let dir = self.cache.join(short_hash(&chart.repository));
        let file = dir.join(format!("{}-{}.tgz", chart.name, chart.version));
        if file.is_file() {
            return Ok(file);
        }
        std::fs::create_dir_all(&dir).map_err(|e| HelmError::Io(format!("creating {}: {e}", dir.display())))?;
        // Download next to the cache and rename: a half-written package never looks cached.
        let tmp = tempdir_in(&dir)?;
        let tmp_str = tmp.to_string_lossy().to_string();
        let reference = chart.reference();
        let mut args = vec![
            "pull",
            reference.as_str(),
            "--version",
            &chart.version,
            "--destination",
            &tmp_str,
        ];
        if !chart.is_oci() {
            args.extend(["--repo", chart.repository.as_str()]);
        } else if is_loopback(&chart.repository) {
            args.push("--plain-http");
        }
        let pulled = self
            .run(&format!("pull {reference} --version {}", chart.version), &args)
            .await;
        let found = pulled.and_then(|_| {
            std::fs::read_dir(&tmp)
                .map_err(|e| HelmError::Io(e.to_string()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "tgz"))
                .ok_or_else(|| HelmError::Io(format!("helm pull of {reference} wrote no package")))
        });
        let result = found.and_then(|p| {
            std::fs::rename(&p, &file).map_err(|e| HelmError::Io(format!("caching {}: {e}", file.display())))
        });
        let _ = std::fs::remove_dir_all(&tmp);
        result.map(|()| file)
    }

    /// The chart's CustomResourceDefinitions: `helm template` with the chart's CRD switch on.
    pub async fn crds(&self, component: &Component, package: &Path) -> Result<Vec<Value>, HelmError> {
        let mut values = component.values.clone();
        if let CrdSource::Template(key) = component.crds {
            set_path(&mut values, key, Value::Bool(true));
        }
        let docs = self.template(component, package, &values, &["--include-crds"]).await?;
        Ok(docs.into_iter().filter(is_crd).collect())
    }

    /// The objects `upgrade` would leave in the cluster: `helm template` with the
    /// release's values, without CRDs (the `crds.*` unit's), hooks or tests.
    pub async fn manifests(&self, component: &Component, package: &Path) -> Result<Vec<Value>, HelmError> {
        let docs = self
            .template(
                component,
                package,
                &component.values,
                &["--skip-crds", "--no-hooks", "--skip-tests"],
            )
            .await?;
        Ok(docs.into_iter().filter(|d| !is_crd(d)).collect())
    }

    async fn template(
        &self,
        component: &Component,
        package: &Path,
        values: &Value,
        extra: &[&str],
    ) -> Result<Vec<Value>, HelmError> {
        let file = ValuesFile::write(&self.cache, values)?;
        let package = package.to_string_lossy();
        let mut args = vec![
            "template",
            &component.release,
            &package,
            "--namespace",
            &component.namespace,
            "--values",
            file.path_str(),
        ];
        args.extend(extra);
        let rendered = self.run(&format!("template {}", component.release), &args).await?;
        parse_stream(&rendered).map_err(HelmError::Io)
    }

    /// The objects of the release's current revision (`helm get manifest`);
    /// `None` when the release is not installed.
    pub async fn release_manifest(&self, release: &str, namespace: &str) -> Result<Option<Vec<Value>>, HelmError> {
        match self
            .run(
                &format!("get manifest {release}"),
                &["get", "manifest", release, "--namespace", namespace],
            )
            .await
        {
            Ok(text) => parse_stream(&text).map(Some).map_err(HelmError::Io),
            Err(HelmError::Failed { message, .. }) if message.contains("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `helm upgrade --install`: server-side apply, CRDs skipped (windlass applied them),
    /// waits until every object is ready (kstatus) and rolls back when it is not.
    pub async fn upgrade(
        &self,
        component: &Component,
        package: &Path,
        timeout: Duration,
        force_conflicts: bool,
    ) -> Result<(), HelmError> {
        let file = ValuesFile::write(&self.cache, &component.values)?;
        let package = package.to_string_lossy();
        let timeout = seconds(timeout);
        let mut args = vec![
            "upgrade",
            "--install",
            &component.release,
            &package,
            "--namespace",
            &component.namespace,
            "--values",
            file.path_str(),
            "--skip-crds",
            "--server-side=true",
            "--wait=watcher",
            "--wait-for-jobs",
            "--rollback-on-failure",
            "--timeout",
            &timeout,
            "--hide-notes",
        ];
        if force_conflicts {
            args.push("--force-conflicts");
        }
        self.run(&format!("upgrade --install {}", component.release), &args)
            .await
            .map(|_| ())
    }

    pub async fn uninstall(&self, release: &str, namespace: &str, timeout: Duration) -> Result<(), HelmError> {
        let timeout = seconds(timeout);
        self.run(
            &format!("uninstall {release}"),
            &[
                "uninstall",
                release,
                "--namespace",
                namespace,
                "--wait",
                "--timeout",
                &timeout,
                "--ignore-not-found",
            ],
        )
        .await
        .map(|_| ())
    }

    /// Back to the newest deployed revision (a release a killed run left pending).
    pub async fn rollback(&self, release: &str, namespace: &str, timeout: Duration) -> Result<(), HelmError> {
        let timeout = seconds(timeout);
        self.run(
            &format!("rollback {release}"),
            &[
                "rollback",
                release,
                "--namespace",
                namespace,
                "--wait",
                "--timeout",
                &timeout,
            ],
        )
        .await
        .map(|_| ())
    }
}

pub(crate) fn is_crd(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
}

/// A values file only the current user can read, removed when dropped.
struct ValuesFile {
    dir: PathBuf,
    path: PathBuf,
    path_str: String,
}

impl ValuesFile {
    fn write(cache: &Path, values: &Value) -> Result<ValuesFile, HelmError> {
        use std::io::Write;
        std::fs::create_dir_all(cache).map_err(|e| HelmError::Io(format!("creating {}: {e}", cache.display())))?;
        let dir = tempdir_in(cache)?;
        let path = dir.join("values.json");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let write = || -> std::io::Result<()> {
            let mut f = options.open(&path)?;
            // JSON is YAML: helm reads it as a values file.
            f.write_all(values.to_string().as_bytes())?;
            f.sync_all()
        };
        write().map_err(|e| HelmError::Io(format!("writing {}: {e}", path.display())))?;
        let path_str = path.to_string_lossy().into_owned();
        Ok(ValuesFile { dir, path, path_str })
    }

    fn path_str(&self) -> &str {
        &self.path_str
    }
}

impl Drop for ValuesFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A fresh 0700 directory under `parent`.
fn tempdir_in(parent: &Path) -> Result<PathBuf, HelmError> {
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = parent.join(format!(".tmp-{}-{nanos}-{attempt}", std::process::id()));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        match b.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(HelmError::Io(format!(
                    "creating a directory in {}: {e}",
                    parent.display()
                )));
            }
        }
    }
    Err(HelmError::Io(format!(
        "cannot create a directory in {}",
        parent.display()
    )))
}

/// Where charts are cached: `$XDG_CACHE_HOME/windlass/charts` or `~/.cache/windlass/charts`.
pub fn default_cache() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("windlass").join("charts")
}

/// A registry on this machine speaks plain HTTP (as container tools assume for localhost).
fn is_loopback(repository: &str) -> bool {
    let rest = repository.split_once("://").map_or(repository, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(
        host,
        |(h, p)| if p.chars().all(|c| c.is_ascii_digit()) { h } else { host },
    );
    let ipv4_loopback = host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback());
    matches!(host, "localhost" | "[::1]") || ipv4_loopback
}

/// A helm `--timeout` value: whole seconds, at least one.
fn seconds(timeout: Duration) -> String {
    format!("{}s", timeout.as_secs().max(1))
}

fn major(version: &str) -> Option<u64> {
    version.trim_start_matches('v').split('.').next()?.parse().ok()
}

fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The last few lines of helm's stderr: where its error is.
fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(6);
    let text = lines[start..].join("\n");
    if text.is_empty() {
        "helm printed no error".into()
    } else {
        text
    }
}

/// Sets a dotted path in a values mapping, creating mappings on the way.
fn set_path(values: &mut Value, path: &str, to: Value) {
    let mut v = values;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, k) in keys.iter().enumerate() {
        if !v.is_object() {
            *v = Value::Object(serde_json::Map::new());
        }
        let Value::Object(map) = v else { return };
        if i + 1 == keys.len() {
            map.insert((*k).to_string(), to);
            return;
        }
        v = map
            .entry((*k).to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
}

/// A multi-document YAML stream as JSON values (empty documents skipped).
pub fn parse_stream(yaml: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).map_err(|e| format!("reading helm's output: {e}"))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_and_hosts() {
        assert_eq!(major("v4.3.1"), Some(4));
        assert_eq!(major("v3.19.0"), Some(3));
        assert_eq!(major(""), None);
        assert!(is_loopback("oci://127.0.0.1:5000/charts"));
        assert!(is_loopback("oci://localhost:5000/charts"));
        assert!(!is_loopback("oci://ghcr.io/prometheus-community/charts"));
        assert!(!is_loopback("oci://127.example.com/charts"));
    }

    #[test]
    fn set_path_creates_mappings() {
        let mut v = json!({"crds": {"enabled": false}, "x": 1});
        set_path(&mut v, "crds.enabled", json!(true));
        set_path(&mut v, "a.b.c", json!("d"));
        assert_eq!(v, json!({"crds": {"enabled": true}, "x": 1, "a": {"b": {"c": "d"}}}));
    }

    #[test]
    fn a_stream_skips_empty_documents() {
        let docs = parse_stream("---\n# comment only\n---\nkind: A\n---\nkind: B\n").expect("parses");
        assert_eq!(docs, vec![json!({"kind": "A"}), json!({"kind": "B"})]);
    }

    #[test]
    fn values_files_are_private_and_removed() {
        let dir = std::env::temp_dir().join(format!("windlass-helm-test-{}", std::process::id()));
        let f = ValuesFile::write(&dir, &json!({"password": "s3cret"})).expect("written");
        let path = f.path.clone();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("exists").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        drop(f);
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
