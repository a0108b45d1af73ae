//! `cargo xtask ci`: the one test command. Format and lint checks, a short fuzz
//! run, then the test bed up, the whole workspace's tests against it, and the test bed down whatever
//! happened (also on Ctrl-C or SIGTERM).

use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::bed;

pub fn run() -> Result<ExitCode> {
    let start = Instant::now();
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let interrupted = Arc::clone(&interrupted);
        // Children in our process group get the signal too; we only note it, so
        // the test bed still comes down.
        ctrlc::set_handler(move || interrupted.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let root = crate::repo_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let step = |what: &str, args: &[&str], env: &[(String, String)]| -> Result<()> {
        if interrupted.load(Ordering::SeqCst) {
            bail!("interrupted");
        }
        eprintln!("ci: {what}: cargo {}", args.join(" "));
        let step_start = Instant::now();
        let status = Command::new(&cargo)
            .args(args)
            .current_dir(&root)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .status()
            .with_context(|| format!("running cargo {}", args.join(" ")))?;
        eprintln!("ci: {what}: {status} after {:.0?}", step_start.elapsed());
        if !status.success() {
            bail!("{what} failed (cargo {})", args.join(" "));
        }
        Ok(())
    };

    step("format", &["fmt", "--all", "--check"], &[])?;
    step(
        "lint",
        &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        &[],
    )?;
    if interrupted.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    // A short coverage-guided run per target: it catches a new panic on input before review does.
    crate::fuzz::run(&crate::fuzz::Options {
        seconds: crate::fuzz::CI_SECONDS,
        targets: Vec::new(),
        keep_going: false,
    })?;

    let tested = (|| -> Result<()> {
        let up_start = Instant::now();
        bed::up()?;
        eprintln!("ci: test bed ready after {:.0?}", up_start.elapsed());
        step("tests", &["test", "--workspace"], &bed::test_env()?)
    })();
    let stopped = bed::down();
    eprintln!("ci: finished in {:.0?}", start.elapsed());
    tested?;
    stopped?;
    if interrupted.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    Ok(ExitCode::SUCCESS)
}
