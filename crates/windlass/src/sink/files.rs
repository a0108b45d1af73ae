//! Writes a rendered tree atomically: every file goes to a fresh sibling
//! directory first, which then replaces the output directory by rename. A
//! failure part-way (or a writer dropped before `commit`) leaves the previous
//! output untouched and removes the staging directory.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Marks a directory as windlass output, so `render` never replaces anything else.
pub const MARKER: &str = ".windlass-rendered";

/// An output tree being written; nothing is visible at `out` until `commit`.
pub struct TreeWriter {
    out: PathBuf,
    parent: PathBuf,
    name: String,
    staging: PathBuf,
    committed: bool,
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> CliError {
    let path = path.to_path_buf();
    move |source| CliError::Write { path, source }
}

impl TreeWriter {
    /// Checks that `out` may be replaced and opens the staging directory beside it.
    pub fn begin(out: &Path) -> Result<TreeWriter, CliError> {
        if out.exists() {
            // Anything but a directory that windlass wrote (or an empty one) is the user's, never replaced.
            let replaceable = out.is_dir()
                && (out.join(MARKER).is_file() || fs::read_dir(out).map_err(write_error(out))?.next().is_none());
            if !replaceable {
                return Err(CliError::ForeignOutput {
                    path: out.to_path_buf(),
                });
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if let Some(file) = parent.ancestors().find(|a| a.is_file()) {
            return Err(CliError::Usage(format!(
                "cannot write {}: {} is a file, not a directory\n  help: choose another `--out` directory",
                out.display(),
                file.display()
            )));
        }
        fs::create_dir_all(&parent).map_err(write_error(&parent))?;
        let name = out
            .file_name()
            .map_or_else(|| "rendered".into(), |n| n.to_string_lossy().into_owned());
        let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        let writer = TreeWriter {
            out: out.to_path_buf(),
            parent,
            name,
            staging,
            committed: false,
        };
        fs::create_dir_all(&writer.staging).map_err(write_error(&writer.staging))?;
        writer.write(
            MARKER,
            "written by `windlass render`; replaced as a whole on every run\n",
        )?;
        Ok(writer)
    }

    /// Writes one file; `path` is relative and `/`-separated.
    pub fn write(&self, path: &str, contents: &str) -> Result<(), CliError> {
        let path = self.staging.join(path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(write_error(dir))?;
        }
        fs::write(&path, contents).map_err(write_error(&path))
    }

    /// Puts the staged tree in place of `out`.
    pub fn commit(mut self) -> Result<(), CliError> {
        let old = self.parent.join(format!(".{}.old-{}", self.name, std::process::id()));
        if self.out.exists() {
            fs::rename(&self.out, &old).map_err(write_error(&self.out))?;
        }
        fs::rename(&self.staging, &self.out).map_err(write_error(&self.out))?;
        self.committed = true;
        let _ = fs::remove_dir_all(&old);
        Ok(())
    }
}

impl Drop for TreeWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}
