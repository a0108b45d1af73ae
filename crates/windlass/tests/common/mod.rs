//! Running the real `windlass` binary against the test bed, for the cluster tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// `windlass ARGS -f DIR/windlass.yaml --kubeconfig KUBECONFIG`, not yet run.
pub fn windlass_cmd(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_windlass"));
    cmd.args(args)
        .arg("-f")
        .arg(dir.join("windlass.yaml"))
        .arg("--kubeconfig")
        .arg(kubeconfig);
    cmd
}

/// Prints the transcript of a run: it is what a failing test shows.
#[allow(clippy::print_stderr)]
pub fn show(args: &[&str], out: &Output) {
    eprintln!(
        "$ windlass {}\n{}{}-> {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status
    );
}

/// Runs windlass to completion and prints its transcript.
pub fn windlass(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    let out = windlass_cmd(dir, kubeconfig, args).output().expect("running windlass");
    show(args, &out);
    out
}

/// Stdout and stderr together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `platform:` part of a cluster test's spec (its own name, namespaces for the apps,
/// the gateway and monitoring), ending in `apps:` for the test to add its apps under.
/// The platform components are switched off: the test bed already has their CRDs, and
/// these tests are about the platform's own units (the components have their own tests).
pub fn platform_header(name: &str, apps_ns: &str, gw: &str, mon: &str) -> String {
    format!(
        "apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: {name}
  domain: {name}.example.com
  email: ops@example.com
  tls: letsencrypt-staging
  namespace: {apps_ns}
  traffic: {{ mode: gateway, namespace: {gw} }}
  monitoring: {{ namespace: {mon} }}
  components:
{off}apps:
",
        off = components_off(&[])
    )
}

/// `    NAME: { enabled: false }` for every component of the catalog but `except`:
/// a platform whose only components are the ones a test installs.
pub fn components_off(except: &[&str]) -> String {
    windlass_core::components::ComponentName::ALL
        .into_iter()
        .map(|c| c.as_str())
        .filter(|c| !except.contains(c))
        .map(|c| format!("    {c}: {{ enabled: false }}\n"))
        .collect()
}
