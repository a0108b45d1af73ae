//! Writes a rendered tree atomically: everything goes to a fresh sibling
//! directory first, which then replaces the output directory by rename. A
//! failure part-way leaves the previous output untouched.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Marks a directory as windlass output, so `render` never replaces anything else.
pub const MARKER: &str = ".windlass-rendered";

pub struct RenderedFile {
    /// Relative, `/`-separated.
    pub path: String,
    pub contents: String,
}

pub fn write_tree(out: &Path, files: impl IntoIterator<Item = RenderedFile>) -> Result<(), CliError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CliError::Write { path, source }
    };
    if out.exists() {
        let ours = out.join(MARKER).is_file();
        let empty = fs::read_dir(out).map_err(werr(out))?.next().is_none();
        if !out.is_dir() || !(ours || empty) {
            return Err(CliError::ForeignOutput {
                path: out.to_path_buf(),
            });
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(werr(&parent))?;
    let name = out
        .file_name()
        .map_or_else(|| "rendered".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let result = (|| {
        fs::create_dir_all(&staging).map_err(werr(&staging))?;
        fs::write(
            staging.join(MARKER),
            "written by `windlass render`; replaced as a whole on every run\n",
        )
        .map_err(werr(&staging))?;
        for f in files {
            let path = staging.join(&f.path);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(werr(dir))?;
            }
            fs::write(&path, &f.contents).map_err(werr(&path))?;
        }
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        if out.exists() {
            fs::rename(out, &old).map_err(werr(out))?;
        }
        fs::rename(&staging, out).map_err(werr(out))?;
        let _ = fs::remove_dir_all(&old);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}
