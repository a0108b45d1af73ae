//! The pinned versions file (`testbed/versions.toml`) and the cache key derived
//! from it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bump when the way binaries are built changes without versions.toml changing.
const RECIPE_REVISION: &str = "1";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Versions {
    pub go: GoSettings,
    pub build: Vec<GoBuild>,
    pub debian: BTreeMap<String, String>,
    pub crds: Vec<CrdSource>,
    /// Helm charts packaged from upstream module zips (fixture charts live in
    /// testbed/charts/ and carry their version in their Chart.yaml).
    #[serde(default)]
    pub charts: Vec<ChartSource>,
    /// Go tools only the benchmarks use (the peers windlass is measured against):
    /// built by `cargo xtask bench ...` on first use, never by `testbed up` or CI.
    #[serde(default)]
    pub bench: Vec<GoBuild>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoSettings {
    pub experiment: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GoBuild {
    pub name: String,
    pub module: String,
    pub version: String,
    pub staging_version: Option<String>,
    #[serde(default)]
    pub ldflags: Vec<String>,
    pub binaries: Vec<Binary>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Binary {
    pub name: String,
    /// A package of the module to build.
    pub package: Option<String>,
    /// Or a directory under testbed/ with our own main package.
    pub source: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CrdSource {
    pub name: String,
    pub module: String,
    pub version: String,
    pub dirs: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSource {
    /// The chart's name (what `helm package` calls it).
    pub name: String,
    pub module: String,
    pub version: String,
    /// The chart's directory inside the module zip.
    pub dir: String,
}

/// The versions file with what it hashes to.
pub struct Pinned {
    pub versions: Versions,
    pub hash: String,
    pub testbed_dir: PathBuf,
}

impl Pinned {
    pub fn load(repo_root: &Path) -> Result<Self> {
        let testbed_dir = repo_root.join("testbed");
        let path = testbed_dir.join("versions.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the pinned versions file {}", path.display()))?;
        let versions: Versions = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let mut hasher = Sha256::new();
        hasher.update(RECIPE_REVISION.as_bytes());
        // What the cached binaries and CRDs are made of, not the whole file: a chart
        // pin, a CRD pin or a comment changing must not relink every Go binary
        // (charts and CRDs have their own cache keys, see charts.rs and crds.rs).
        // Debian tools are not built: `testbed up` installs and links the missing ones every time.
        let built_from = serde_json::json!({
            "go": versions.go,
            "build": versions.build,
        });
        hasher.update(built_from.to_string().as_bytes());
        // Our own Go sources and kwok stages are part of what a cache entry holds.
        for file in hashed_files(&testbed_dir)? {
            hasher.update(
                file.strip_prefix(&testbed_dir)
                    .unwrap_or(&file)
                    .to_string_lossy()
                    .as_bytes(),
            );
            hasher.update(std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?);
        }
        let digest = hasher.finalize();
        let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            versions,
            hash,
            testbed_dir,
        })
    }
}

fn hashed_files(testbed_dir: &Path) -> Result<Vec<PathBuf>> {
    let go = testbed_dir.join("go");
    if !go.exists() {
        return Ok(Vec::new());
    }
    files_below(&go, |_| true)
}

/// Every file below `dir`, sorted, descending only into the directories `descend` accepts.
pub fn files_below(dir: &Path, descend: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                if descend(&path) {
                    stack.push(path);
                }
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
