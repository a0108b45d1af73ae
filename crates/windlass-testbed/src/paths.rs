//! Where the test bed lives on disk: the one definition shared by `cargo xtask
//! testbed` (which writes there) and the test harness (which reads there).

use std::path::PathBuf;

/// Overrides the test bed's home directory (default `~/.cache/windlass/testbed`).
pub const HOME_ENV: &str = "WINDLASS_TESTBED_HOME";
/// Set to `1` to make a missing test bed a test failure instead of a skip.
pub const REQUIRE_ENV: &str = "WINDLASS_REQUIRE_TESTBED";
/// Set by `cargo xtask testbed env` to the directory holding the test bed's tools.
pub const BIN_ENV: &str = "WINDLASS_TESTBED_BIN";
/// The command that starts the test bed, quoted in every "not running" message.
pub const UP_COMMAND: &str = "cargo xtask testbed up";

/// The test bed's home: `$WINDLASS_TESTBED_HOME`, else
/// `$XDG_CACHE_HOME/windlass/testbed`, else `$HOME/.cache/windlass/testbed`.
pub fn home() -> PathBuf {
    if let Some(dir) = non_empty_env(HOME_ENV) {
        return PathBuf::from(dir);
    }
    let cache = non_empty_env("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty_env("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| std::env::temp_dir().join("windlass-cache"));
    cache.join("windlass").join("testbed")
}

/// The directory of the running test bed: certificates, data, logs, PIDs.
pub fn run_dir() -> PathBuf {
    home().join("run")
}

/// The admin kubeconfig of the running test bed.
pub fn kubeconfig() -> PathBuf {
    run_dir().join("kubeconfig")
}

/// Where the binaries built for one set of pinned versions live.
pub fn build_dir(versions_hash: &str) -> PathBuf {
    home().join(versions_hash)
}

/// Whether the environment demands a running test bed (CI sets it).
pub fn testbed_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A tool of the test bed: `$WINDLASS_TESTBED_BIN/NAME` when set (as `cargo xtask
/// testbed env` sets it), else the first `NAME` on `PATH`.
pub fn tool(name: &str) -> Option<PathBuf> {
    if let Some(dir) = non_empty_env(BIN_ENV) {
        let p = PathBuf::from(dir).join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The named tools for a test that needs the test bed's binaries but no running
/// control plane (sops, age, gpg). When one is missing the test skips (`None`,
/// after a note), or fails under `WINDLASS_REQUIRE_TESTBED=1` as CI sets it.
pub fn tools<const N: usize>(names: [&str; N]) -> Option<[PathBuf; N]> {
    let found = names.map(tool);
    let missing: Vec<&str> = names
        .iter()
        .zip(&found)
        .filter(|(_, p)| p.is_none())
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return Some(found.map(|p| p.unwrap_or_default()));
    }
    assert!(
        !testbed_required(),
        "{REQUIRE_ENV}=1 but the test bed's tools {} are missing: run `eval \"$(cargo xtask testbed env)\"` \
         after `{UP_COMMAND}` (or put the bed's bin directory on PATH)",
        missing.join(", ")
    );
    #[allow(clippy::print_stderr)] // the skip note is the point
    {
        eprintln!(
            "note: skipping: the test bed's tools {} are missing; run `eval \"$(cargo xtask testbed env)\"`",
            missing.join(", ")
        );
    }
    None
}
