//! Getting the test bed's tools: Go binaries built from pinned modules into the
//! versions-keyed cache, and Debian packages installed when missing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::versions::{GoBuild, Pinned};

/// What `go mod download -json` says about one module.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModuleDownload {
    pub go_mod: Option<PathBuf>,
    pub zip: Option<PathBuf>,
    pub error: Option<String>,
}

/// Downloads `module@version` into the Go module cache. Returns the paths of its
/// go.mod and zip even when Go refuses to extract it (a module may require a
/// newer Go than ours; we only read files out of the zip).
pub fn go_mod_download(module: &str, version: &str) -> Result<ModuleDownload> {
    let output = go_command()?
        .args(["mod", "download", "-json", &format!("{module}@{version}")])
        .output()
        .with_context(|| format!("running go mod download {module}@{version}"))?;
    let info: ModuleDownload = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "go mod download {module}@{version} printed no module info: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    if info.go_mod.as_deref().is_none_or(|p| !p.exists()) {
        bail!(
            "could not download {module}@{version} from the Go module proxy: {}",
            info.error.as_deref().unwrap_or("no go.mod in the answer")
        );
    }
    Ok(info)
}

/// A `go` command with the settings every test bed build shares.
fn go_command() -> Result<Command> {
    let go = which("go")
        .context("`go` is not on PATH: the test bed builds its binaries from Go modules; install Go 1.26 or newer")?;
    let mut cmd = Command::new(go);
    // Never fetch another toolchain; a module needing a newer Go should fail loudly.
    cmd.env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod -buildvcs=false")
        .env("CGO_ENABLED", "0");
    Ok(cmd)
}

/// Builds every binary of the test bed's pinned Go modules that is not in `bin_dir` yet.
pub fn build_go_binaries(pinned: &Pinned, build_dir: &Path, bin_dir: &Path) -> Result<()> {
    build_modules(pinned, &pinned.versions.build, build_dir, bin_dir)
}

/// Builds every binary of `builds` that is not in `bin_dir` yet.
pub fn build_modules(pinned: &Pinned, builds: &[GoBuild], build_dir: &Path, bin_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(bin_dir).with_context(|| format!("creating {}", bin_dir.display()))?;
    for build in builds {
        let missing: Vec<_> = build
            .binaries
            .iter()
            .filter(|b| !bin_dir.join(&b.name).exists())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let src = build_dir.join("src").join(&build.name);
        prepare_module(pinned, build, &src)?;
        for binary in missing {
            let package = match (&binary.package, &binary.source) {
                (Some(package), None) => package.clone(),
                (None, Some(_)) => format!("./{}", binary.name),
                _ => bail!(
                    "testbed/versions.toml: binary {} needs exactly one of `package` or `source`",
                    binary.name
                ),
            };
            let partial = bin_dir.join(format!("{}.partial", binary.name));
            let ldflags = std::iter::once("-s -w".to_string())
                .chain(build.ldflags.iter().map(|f| f.replace("{version}", &build.version)))
                .collect::<Vec<_>>()
                .join(" ");
            let note = if binary.name == "kube-apiserver" {
                " (~7 min on 2 cores with a cold Go build cache)"
            } else {
                ""
            };
            eprintln!(
                "testbed: building {} from {}@{}{note}",
                binary.name, build.module, build.version
            );
            let start = Instant::now();
            let status = go_command()?
                .current_dir(&src)
                .env("GOEXPERIMENT", &pinned.versions.go.experiment)
                .args(["build", "-trimpath", "-ldflags", &ldflags, "-o"])
                .arg(&partial)
                .arg(&package)
                .status()
                .with_context(|| format!("running go build for {}", binary.name))?;
            if !status.success() {
                bail!(
                    "go build of {} ({}@{}) failed ({status}); the generated module is {}",
                    binary.name,
                    build.module,
                    build.version,
                    src.display()
                );
            }
            std::fs::rename(&partial, bin_dir.join(&binary.name))
                .with_context(|| format!("moving {} into {}", binary.name, bin_dir.display()))?;
            eprintln!("testbed: built {} in {:.0?}", binary.name, start.elapsed());
        }
    }
    Ok(())
}

/// Writes a module that builds `build`'s binaries: upstream's go.mod renamed (so
/// every dependency is pinned as upstream pins it), with its relative `replace`
/// lines pointed at `staging_version` or dropped, plus our own main packages.
fn prepare_module(pinned: &Pinned, build: &GoBuild, src: &Path) -> Result<()> {
    std::fs::create_dir_all(src).with_context(|| format!("creating {}", src.display()))?;
    let download = go_mod_download(&build.module, &build.version)?;
    let go_mod_path = download.go_mod.context("no go.mod")?;
    let upstream =
        std::fs::read_to_string(&go_mod_path).with_context(|| format!("reading {}", go_mod_path.display()))?;
    let go_mod = generate_go_mod(&upstream, build)?;
    std::fs::write(src.join("go.mod"), go_mod).with_context(|| format!("writing go.mod in {}", src.display()))?;
    for binary in &build.binaries {
        let Some(source) = &binary.source else {
            continue;
        };
        let from = pinned.testbed_dir.join(source);
        let to = src.join(&binary.name);
        std::fs::create_dir_all(&to)?;
        for entry in std::fs::read_dir(&from).with_context(|| format!("listing {}", from.display()))? {
            let path = entry?.path();
            if let Some(name) = path.file_name() {
                std::fs::copy(&path, to.join(name)).with_context(|| format!("copying {}", path.display()))?;
            }
        }
    }
    Ok(())
}

fn generate_go_mod(upstream: &str, build: &GoBuild) -> Result<String> {
    let mut out = String::new();
    let mut renamed = false;
    for line in upstream.lines() {
        let trimmed = line.trim();
        if !renamed && trimmed.starts_with("module ") {
            writeln!(out, "module windlass.dev/testbed/{}", build.name)?;
            renamed = true;
            continue;
        }
        if trimmed.starts_with("toolchain ") {
            continue;
        }
        // `X => ./path` inside a replace block, or `replace X => ../path`.
        let body = trimmed.strip_prefix("replace ").unwrap_or(trimmed);
        if let Some((left, right)) = body.split_once("=>")
            && (right.trim().starts_with("./") || right.trim().starts_with("../"))
        {
            let left = left.trim();
            let standalone = trimmed.starts_with("replace ");
            if let Some(staging) = &build.staging_version {
                let prefix = if standalone { "replace " } else { "\t" };
                writeln!(out, "{prefix}{left} => {left} {staging}")?;
            }
            continue;
        }
        writeln!(out, "{line}")?;
    }
    if !renamed {
        bail!("the go.mod of {}@{} has no module line", build.module, build.version);
    }
    writeln!(out, "\nrequire {} {}", build.module, build.version)?;
    Ok(out)
}

/// Installs the Debian packages whose commands are missing (apt-get, as root).
pub fn ensure_debian_tools(pinned: &Pinned) -> Result<()> {
    let missing: Vec<(&String, &String)> = pinned
        .versions
        .debian
        .iter()
        .filter(|(command, _)| which(command).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|(_, p)| p.as_str()).collect();
    let commands: Vec<&str> = missing.iter().map(|(c, _)| c.as_str()).collect();
    if which("apt-get").is_none() {
        bail!(
            "missing {} and there is no apt-get to install Debian packages {}: install them yourself",
            commands.join(", "),
            packages.join(" ")
        );
    }
    if !nix::unistd::Uid::effective().is_root() {
        bail!(
            "missing {}: install them with `sudo apt-get install {}` (the test bed installs them itself only as root)",
            commands.join(", "),
            packages.join(" ")
        );
    }
    eprintln!(
        "testbed: installing Debian packages {} for {}",
        packages.join(" "),
        commands.join(", ")
    );
    for args in [
        vec!["update", "-qq"],
        [
            vec!["install", "-y", "-qq", "--no-install-recommends"],
            packages.clone(),
        ]
        .concat(),
    ] {
        let status = Command::new("apt-get")
            .args(&args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get")?;
        if !status.success() {
            bail!("apt-get {} failed ({status})", args.join(" "));
        }
    }
    Ok(())
}

/// Links the Debian-provided commands into `bin_dir`, so one directory on PATH
/// (or in WINDLASS_TESTBED_BIN) holds every tool.
pub fn link_debian_tools(pinned: &Pinned, bin_dir: &Path) -> Result<()> {
    for command in pinned.versions.debian.keys() {
        let link = bin_dir.join(command);
        if link.exists() {
            continue;
        }
        let target = which(command).with_context(|| format!("{command} is still missing after installing it"))?;
        let _ = std::fs::remove_file(&link); // a dangling link from an older install
        std::os::unix::fs::symlink(&target, &link)
            .with_context(|| format!("linking {} to {}", link.display(), target.display()))?;
    }
    Ok(())
}

/// The first executable `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versions::Binary;

    fn build(staging: Option<&str>) -> GoBuild {
        GoBuild {
            name: "kubernetes".into(),
            module: "k8s.io/kubernetes".into(),
            version: "v1.37.1".into(),
            staging_version: staging.map(String::from),
            ldflags: vec![],
            binaries: vec![Binary {
                name: "kubectl".into(),
                package: Some("k8s.io/kubernetes/cmd/kubectl".into()),
                source: None,
            }],
        }
    }

    const UPSTREAM: &str = "module k8s.io/kubernetes\n\ngo 1.26.0\n\ntoolchain go1.26.10\n\nrequire (\n\tk8s.io/api v0.0.0\n)\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tgithub.com/x/y => github.com/x/y v1.0.0\n)\n\nreplace go.etcd.io/etcd/api/v3 => ../api\n";

    #[test]
    fn staging_replaces_point_at_the_staging_version() {
        let out = generate_go_mod(UPSTREAM, &build(Some("v0.37.1"))).expect("valid go.mod");
        assert!(out.starts_with("module windlass.dev/testbed/kubernetes\n"), "{out}");
        assert!(out.contains("\tk8s.io/api => k8s.io/api v0.37.1\n"), "{out}");
        assert!(
            out.contains("replace go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v0.37.1\n"),
            "{out}"
        );
        assert!(out.contains("github.com/x/y => github.com/x/y v1.0.0"), "{out}");
        assert!(!out.contains("toolchain"), "{out}");
        assert!(out.ends_with("require k8s.io/kubernetes v1.37.1\n"), "{out}");
    }

    #[test]
    fn relative_replaces_are_dropped_without_a_staging_version() {
        let out = generate_go_mod(UPSTREAM, &build(None)).expect("valid go.mod");
        assert!(!out.contains("./staging"), "{out}");
        assert!(!out.contains("../api"), "{out}");
        assert!(!out.contains("k8s.io/api =>"), "{out}");
    }
}
