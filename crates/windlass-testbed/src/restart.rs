//! Restarting the test bed's kube-apiserver, for tests of what survives it.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;
use crate::paths;

/// Kills the running test bed's kube-apiserver (SIGKILL, by the PID `cargo xtask
/// testbed up` recorded in `<run>/state.json`, after checking that PID still runs
/// the recorded binary), waits `downtime`, and starts it again with the same
/// command line, working directory and log file. The new PID is written back to
/// `state.json`, so `cargo xtask testbed down` stops the new process. Returns
/// the new PID; the apiserver is not ready yet when this returns (poll
/// [`crate::TestBed::try_connect`]).
pub fn restart_apiserver(downtime: Duration) -> Result<u32, Error> {
    let fail = |what: String| Error::Restart(what);
    let run_dir = paths::run_dir();
    let state_path = run_dir.join("state.json");
    let text =
        std::fs::read_to_string(&state_path).map_err(|e| fail(format!("reading {}: {e}", state_path.display())))?;
    let mut state: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| fail(format!("parsing {}: {e}", state_path.display())))?;
    let entry = state["processes"]
        .as_array()
        .and_then(|ps| ps.iter().position(|p| p["name"] == "kube-apiserver"))
        .ok_or_else(|| fail(format!("{} records no kube-apiserver", state_path.display())))?;
    let process = &state["processes"][entry];
    let pid = process["pid"]
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .ok_or_else(|| fail("kube-apiserver has no PID in state.json".into()))?;
    let binary = PathBuf::from(process["binary"].as_str().unwrap_or_default());
    let log = PathBuf::from(process["log"].as_str().unwrap_or_default());
    let argv =
        crate::process::cmdline(pid).ok_or_else(|| fail(format!("kube-apiserver (pid {pid}) is not running")))?;
    let environment = crate::process::environ(pid)
        .ok_or_else(|| fail(format!("cannot read the environment of kube-apiserver (pid {pid})")))?;
    if argv.first().map(PathBuf::from) != Some(binary.clone()) {
        return Err(fail(format!(
            "pid {pid} no longer runs {} (it runs {:?})",
            binary.display(),
            argv.first()
        )));
    }

    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .map_err(|e| fail(format!("running kill: {e}")))?;
    if !killed.success() {
        return Err(fail(format!("kill -KILL {pid} failed ({killed})")));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while crate::process::runs(pid, &binary) {
        if Instant::now() > deadline {
            return Err(fail(format!("kube-apiserver (pid {pid}) survived SIGKILL for 10s")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(downtime);

    let out = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&log)
        .map_err(|e| fail(format!("opening {}: {e}", log.display())))?;
    let err = out.try_clone().map_err(|e| fail(e.to_string()))?;
    let child = Command::new(&binary)
        .args(&argv[1..])
        // Its own environment again, not the test's: the trust bundle for URL webhooks is in it.
        .env_clear()
        .envs(environment)
        .current_dir(&run_dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Its own process group, like `testbed up` starts it: no terminal signal reaches it.
        .process_group(0)
        .spawn()
        .map_err(|e| fail(format!("starting {}: {e}", binary.display())))?;
    let new_pid = child.id();
    // Not waited for: it outlives the test, and `testbed down` stops it by PID.
    drop(child);
    state["processes"][entry]["pid"] = serde_json::Value::from(new_pid);
    let text = serde_json::to_string_pretty(&state).map_err(|e| fail(e.to_string()))?;
    let tmp = state_path.with_extension("json.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &state_path))
        .map_err(|e| fail(format!("writing {}: {e}", state_path.display())))?;
    Ok(new_pid)
}
