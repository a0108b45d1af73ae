//! `windlass check` on what other tools print, without being told where it came
//! from: `helm template` of the real upstream charts the test bed serves, and
//! `kubectl kustomize` of an overlay. Needs the test bed's tools (helm,
//! kubectl) and its chart repository.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn tool(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(windlass_testbed::paths::BIN_ENV)?;
    let p = Path::new(&dir).join(name);
    p.exists().then_some(p)
}

fn tools() -> Option<(PathBuf, PathBuf, String)> {
    let found = (|| {
        Some((
            tool("helm")?,
            tool("kubectl")?,
            std::env::var("WINDLASS_TESTBED_CHART_REPO").ok()?,
        ))
    })();
    assert!(
        found.is_some() || !windlass_testbed::paths::testbed_required(),
        "the test bed's tools are missing: run `eval \"$(cargo xtask testbed env)\"`"
    );
    found
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `windlass check - --output json` on `stream`: exit code and report.
fn check(stream: &str) -> (i32, Value) {
    let mut child = Command::new(common::windlass_binary())
        .args(["check", "-", "--output", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("windlass check");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let code = out.status.code().unwrap_or(-1);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("exit {code}, no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (code, v)
}

#[test]
fn helm_template_of_the_upstream_charts_is_read_and_located() {
    let Some((helm, _, repo)) = tools() else { return };
    for (chart, release) in [
        ("cert-manager", "cert-manager"),
        ("metrics-server", "metrics-server"),
        ("gateway-helm", "eg"),
    ] {
        let stream = run(Command::new(&helm).args([
            "template",
            release,
            chart,
            "--repo",
            &repo,
            "--namespace",
            "platform",
            "--include-crds",
        ]));
        let documents = stream.lines().filter(|l| l.starts_with("kind: ")).count();
        let (code, v) = check(&stream);
        assert!(code == 0 || code == 1, "{chart}: exit {code}");
        assert_eq!(
            v["summary"]["objects"].as_u64(),
            Some(documents as u64),
            "{chart}: every object read"
        );
        let lines: Vec<&str> = stream.lines().collect();
        for f in v["findings"].as_array().expect("findings") {
            let line = f["line"].as_u64().expect("line") as usize;
            assert!(line >= 1 && line <= lines.len(), "{chart}: {f}");
            // The finding's object starts above its line: the located field is inside it.
            let name = f["object"].as_str().expect("object").rsplit('/').next().expect("name");
            assert!(
                lines[..line]
                    .iter()
                    .rev()
                    .any(|l| l.trim() == format!("name: {name}") || l.trim() == format!("name: \"{name}\"")),
                "{chart}: {f} is not inside {name}"
            );
        }
    }
}

#[test]
fn kustomize_build_output_is_checked_at_its_lines() {
    let Some((_, kubectl, _)) = tools() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kustomize");
    let stream = run(Command::new(&kubectl).arg("kustomize").arg(&dir));
    let (code, v) = check(&stream);
    assert_eq!(code, 0, "a warning only");
    let findings = v["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{v}");
    assert_eq!(findings[0]["rule"], "image-tag-latest");
    assert_eq!(findings[0]["object"], "Deployment/shop/prod-web");
    let line = findings[0]["line"].as_u64().expect("line") as usize;
    let at = stream.lines().nth(line - 1).expect("line");
    assert!(
        at.trim_start().starts_with("image: ghcr.io/example/web:latest")
            || at.trim_start().starts_with("- image: ghcr.io/example/web:latest"),
        "{at}"
    );
}
