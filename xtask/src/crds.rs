//! The upstream CRDs, read out of the pinned modules' zips in the Go module cache
//! into the versions-keyed cache directory.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::tools::go_mod_download;
use crate::versions::{CrdSource, Pinned};

/// Kinds we install from the CRD directories.
const INSTALLED_KINDS: [&str; 3] = [
    "kind: CustomResourceDefinition",
    "kind: ValidatingAdmissionPolicy",
    "kind: ValidatingAdmissionPolicyBinding",
];

/// Returns the directory holding every CRD file, extracting them on first use.
/// The set has its own cache key (the `[[crds]]` pins), so changing a CRD pin
/// does not relink the Go binaries.
pub fn ensure_crds(pinned: &Pinned, build_dir: &Path) -> Result<PathBuf> {
    let root = build_dir.join("crds");
    let dir = root.join(cache_key(pinned));
    let done = dir.join(".complete");
    if done.exists() {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (index, source) in pinned.versions.crds.iter().enumerate() {
        let count = extract(source, &dir, |file| format!("{index:02}-{}-{file}", source.name))?;
        eprintln!("testbed: {} CRD files from {}@{}", count, source.module, source.version);
    }
    std::fs::write(&done, "")?;
    Ok(dir)
}

fn cache_key(pinned: &Pinned) -> String {
    let pins = serde_json::json!({ "crds": pinned.versions.crds, "kinds": INSTALLED_KINDS }).to_string();
    Sha256::digest(pins.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes every CRD file of `source` into `out`, named by `file_name`.
pub fn extract(source: &CrdSource, out: &Path, file_name: impl Fn(&str) -> String) -> Result<usize> {
    let download = go_mod_download(&source.module, &source.version)?;
    let zip_path = download
        .zip
        .filter(|p| p.exists())
        .with_context(|| format!("no module zip for {}@{}", source.module, source.version))?;
    let file = std::fs::File::open(&zip_path).with_context(|| format!("opening {}", zip_path.display()))?;
    let mut archive = zip::ZipArchive::new(file).with_context(|| format!("reading {}", zip_path.display()))?;
    let root = format!("{}@{}/", source.module, source.version);
    let mut count = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let name = entry.name()?.to_string();
        let Some(relative) = name.strip_prefix(&root) else {
            continue;
        };
        let Some((dir, base)) = relative.rsplit_once('/') else {
            continue;
        };
        if !source.dirs.iter().any(|d| d.trim_end_matches('/') == dir)
            || !(base.ends_with(".yaml") || base.ends_with(".yml"))
        {
            continue;
        }
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .with_context(|| format!("reading {name} from {}", zip_path.display()))?;
        if !INSTALLED_KINDS.iter().any(|kind| text.contains(kind)) {
            continue;
        }
        let target = out.join(file_name(base));
        std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
        count += 1;
    }
    if count == 0 {
        bail!(
            "no CRDs found in {}@{} under {:?}: check `dirs` in testbed/versions.toml",
            source.module,
            source.version,
            source.dirs
        );
    }
    Ok(count)
}
