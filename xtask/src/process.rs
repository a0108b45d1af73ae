//! The test bed's processes: started in their own process group (so Ctrl-C in the
//! terminal does not reach them), logged to a file each, and stopped only by the
//! PID recorded when they started, after checking the PID still runs our binary.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Started {
    pub name: String,
    pub pid: u32,
    pub binary: PathBuf,
    pub log: PathBuf,
}

/// Starts `binary args...` (with `env` added to ours) with its output in
/// `<run>/logs/<name>.log`.
pub fn start(run_dir: &Path, name: &str, binary: &Path, args: &[String], env: &[(&str, &str)]) -> Result<Started> {
    let logs = run_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let log = logs.join(format!("{name}.log"));
    // Appending: a server restarted by `up` keeps its earlier log.
    let out = File::options()
        .create(true)
        .append(true)
        .open(&log)
        .with_context(|| format!("creating {}", log.display()))?;
    let mut child = Command::new(binary)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(run_dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let started = Started {
        name: name.to_string(),
        pid: child.id(),
        binary: binary.to_path_buf(),
        log,
    };
    // Right after spawning, /proc may still show the forked xtask; wait until
    // the PID shows our binary, so `is_running` (and `down`) recognise it.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "{name} exited at once ({status}); the end of {}:\n{}",
                started.log.display(),
                log_tail(&started.log, 30)
            );
        }
        if is_running(&started) {
            return Ok(started);
        }
        if Instant::now() > deadline {
            bail!(
                "{name} (pid {}) started but /proc does not show {}",
                started.pid,
                binary.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `started` still runs (and is still our binary, not a reused PID).
pub fn is_running(started: &Started) -> bool {
    windlass_testbed::process::runs(started.pid, &started.binary)
}

/// Stops `started` with SIGTERM, then SIGKILL after `grace`. Returns whether it
/// had to be killed.
pub fn stop(started: &Started, grace: Duration) -> Result<bool> {
    if !is_running(started) {
        return Ok(false);
    }
    let pid = Pid::from_raw(i32::try_from(started.pid).context("PID out of range")?);
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !is_running(started) {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = kill(pid, Signal::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(5);
    while is_running(started) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(true)
}

/// The last `lines` lines of a log, for error messages.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
