//! `cargo xtask fuzz`: coverage-guided fuzzing of the spec pipeline with AFL++
//! through cargo-afl (stable Rust). Installs cargo-afl and builds the AFL++
//! runtime when missing, builds the instrumented targets in `fuzz/`, runs each
//! for a fixed time from the seed corpus, and fails naming every crashing input.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The cargo-afl release the `afl` dependency in fuzz/Cargo.toml is pinned to (they must match).
const CARGO_AFL_VERSION: &str = "0.18.2";

/// Seconds per target in `cargo xtask ci`.
pub const CI_SECONDS: u64 = 60;

/// Every fuzz target (a binary of the `fuzz/` crate).
pub const TARGETS: &[&str] = &["spec_pipeline", "yaml_source"];

/// A single execution slower than this is a hang, not a crash (milliseconds). Rendering a
/// large accepted spec with its content pack takes tens of milliseconds in the instrumented build.
const EXEC_TIMEOUT_MS: &str = "5000";

pub struct Options {
    /// How long each target runs.
    pub seconds: u64,
    /// Targets to run (all when empty).
    pub targets: Vec<String>,
    /// Keep fuzzing after the first crash (for long runs that collect every crash).
    pub keep_going: bool,
}

/// What one target's run did.
struct Summary {
    target: String,
    execs: u64,
    corpus: u64,
    crashes: Vec<PathBuf>,
    hangs: u64,
}

pub fn run(options: &Options) -> Result<()> {
    let start = Instant::now();
    let root = crate::repo_root();
    let targets: Vec<String> = if options.targets.is_empty() {
        TARGETS.iter().map(|t| (*t).to_string()).collect()
    } else {
        options.targets.clone()
    };
    if let Some(unknown) = targets.iter().find(|t| !TARGETS.contains(&t.as_str())) {
        bail!("no fuzz target `{unknown}`: the targets are {}", TARGETS.join(", "));
    }
    let cargo_afl = ensure_cargo_afl()?;
    build_targets(&root, &cargo_afl)?;
    eprintln!("fuzz: ready after {:.0?}", start.elapsed());

    let mut summaries = Vec::new();
    for target in &targets {
        summaries.push(fuzz_target(&root, &cargo_afl, target, options)?);
    }
    let mut crashed = false;
    for s in &summaries {
        eprintln!(
            "fuzz: {}: {} executions, {} inputs in the corpus, {} crashes, {} hangs",
            s.target,
            s.execs,
            s.corpus,
            s.crashes.len(),
            s.hangs
        );
        for c in &s.crashes {
            crashed = true;
            let (target, input) = (&s.target, c.display());
            eprintln!("fuzz: {target} crashed on {input} (replay: target/afl/release/{target} < '{input}')");
        }
    }
    eprintln!("fuzz: finished in {:.0?}", start.elapsed());
    if crashed {
        bail!("the fuzzers found crashing inputs (listed above); add each to fuzz/regressions/ once fixed");
    }
    Ok(())
}

/// Finds cargo-afl at the pinned version (on PATH or in cargo's bin directory) or installs it
/// there with `cargo install`, so later runs and later clones on the same machine reuse it; then
/// makes sure its AFL++ runtime is built.
fn ensure_cargo_afl() -> Result<PathBuf> {
    let cargo_afl = match installed_cargo_afl() {
        Some(path) => path,
        None => {
            let t = Instant::now();
            eprintln!("fuzz: installing cargo-afl {CARGO_AFL_VERSION} from crates.io (builds AFL++ too)");
            let status = niced(Path::new(&cargo()))
                .args([
                    "install",
                    "--locked",
                    "--force",
                    "--version",
                    CARGO_AFL_VERSION,
                    "cargo-afl",
                ])
                .status()
                .context("running cargo install cargo-afl")?;
            if !status.success() {
                bail!("cargo install cargo-afl {CARGO_AFL_VERSION} failed ({status})");
            }
            eprintln!("fuzz: cargo-afl installed in {:.0?}", t.elapsed());
            installed_cargo_afl().context("cargo-afl is not on PATH or in cargo's bin directory after installing it")?
        }
    };
    // `config --build` compiles AFL++ (afl-fuzz and the runtime the targets link) from the
    // sources cargo-afl ships; a C compiler and make are all it needs. It is a no-op once built.
    let t = Instant::now();
    let output = niced(&cargo_afl)
        .args(["afl", "config", "--build"])
        .output()
        .context("running cargo afl config --build")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() && !stderr.contains("already built") {
        bail!(
            "building AFL++ with `cargo afl config --build` failed ({}); it needs `make` and a C compiler (Debian: build-essential):\n{stderr}",
            output.status
        );
    }
    if t.elapsed().as_secs() > 2 {
        eprintln!("fuzz: AFL++ built in {:.0?}", t.elapsed());
    }
    Ok(cargo_afl)
}

/// Builds the instrumented targets into target/afl (apart from the normal builds: other flags).
fn build_targets(root: &Path, cargo_afl: &Path) -> Result<()> {
    let t = Instant::now();
    let status = niced(cargo_afl)
        .args(["afl", "build", "--release", "--manifest-path"])
        .arg(root.join("fuzz").join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target").join("afl"))
        .status()
        .context("running cargo afl build")?;
    if !status.success() {
        bail!("building the fuzz targets failed ({status})");
    }
    eprintln!("fuzz: targets built in {:.0?}", t.elapsed());
    Ok(())
}

fn fuzz_target(root: &Path, cargo_afl: &Path, target: &str, options: &Options) -> Result<Summary> {
    let out = root.join("target").join("afl-runs").join(target);
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let binary = root.join("target").join("afl").join("release").join(target);
    eprintln!("fuzz: {target}: {} s from fuzz/corpus", options.seconds);
    let log_path = out.join("afl-fuzz.log");
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let log_err = log.try_clone().context("sharing the afl-fuzz log")?;
    let mut cmd = niced(cargo_afl);
    cmd.args(["afl", "fuzz", "-i"])
        .arg(root.join("fuzz").join("corpus"))
        .arg("-o")
        .arg(&out)
        .args(["-V", &options.seconds.to_string(), "-t", EXEC_TIMEOUT_MS]);
    // The spec's keys and the values its rules test: AFL would take long to spell them itself.
    let dictionary = root.join("fuzz").join(format!("{target}.dict"));
    if dictionary.is_file() {
        cmd.arg("-x").arg(&dictionary);
    }
    cmd.arg("--")
        .arg(&binary)
        // A plain log instead of the full-screen status, and no setup that needs a tuned host:
        // CI machines share their cores and pipe core dumps to a handler.
        .env("AFL_NO_UI", "1")
        .env("AFL_SKIP_CPUFREQ", "1")
        .env("AFL_NO_AFFINITY", "1")
        .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
        .stdout(log)
        .stderr(log_err);
    if !options.keep_going {
        cmd.env("AFL_BENCH_UNTIL_CRASH", "1");
    }
    let status = cmd.status().context("running cargo afl fuzz")?;
    let run_dir = out.join("default");
    if !status.success() {
        bail!(
            "afl-fuzz on {target} failed ({status}); see {} and {}",
            log_path.display(),
            run_dir.display()
        );
    }
    let stats = std::fs::read_to_string(run_dir.join("fuzzer_stats"))
        .with_context(|| format!("reading {}", run_dir.join("fuzzer_stats").display()))?;
    let stat = |key: &str| -> u64 {
        stats
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim() == key)
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0)
    };
    Ok(Summary {
        target: target.to_string(),
        execs: stat("execs_done"),
        corpus: stat("corpus_count"),
        crashes: inputs_in(&run_dir.join("crashes"))?,
        hangs: stat("saved_hangs"),
    })
}

/// The saved inputs in an afl-fuzz output directory (`id:...` files; not its README).
fn inputs_in(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("id:")))
        .collect();
    found.sort();
    Ok(found)
}

/// cargo-afl at the pinned version, if one is installed.
fn installed_cargo_afl() -> Option<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join("cargo-afl"));
    let candidates = crate::tools::which("cargo-afl").into_iter().chain(cargo_bin);
    candidates.into_iter().find(|path| {
        path.is_file()
            && Command::new(path)
                .args(["afl", "--version"])
                .env("CARGO", cargo())
                .output()
                .is_ok_and(|o| {
                    String::from_utf8_lossy(&o.stdout).starts_with(&format!("cargo-afl {CARGO_AFL_VERSION} "))
                })
    })
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A command run at low priority: fuzzing and its instrumented build share the machine.
fn niced(program: &Path) -> Command {
    let mut cmd = Command::new("nice");
    // cargo-afl runs cargo itself and finds it through CARGO, as when cargo starts it.
    cmd.args(["-n", "10"]).arg(program).env("CARGO", cargo());
    cmd
}
