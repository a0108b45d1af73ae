//! The real `windlass` binary, run in a temporary directory: success paths,
//! every class of spec error (location, field, fix, exit 2, nothing written),
//! and byte-for-byte determinism.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const EXAMPLE: &str = include_str!("../../../examples/platform/windlass.yaml");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

struct Test {
    dir: tempfile::TempDir,
}

impl Test {
    fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn with_spec(text: &str) -> Test {
        let t = Test::new();
        t.write("windlass.yaml", text);
        t
    }

    fn write(&self, name: &str, text: &str) {
        fs::write(self.dir.path().join(name), text).expect("write");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = Command::cargo_bin("windlass")
            .expect("binary")
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .expect("run");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A small valid spec; each error test breaks one thing in it.
const BASE: &str = "apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: demo
  domain: example.com
  email: ops@example.com
apps:
  web:
    image: ghcr.io/acme/web:1.0.0
    port: 8080
    hosts: [www]
    health: /healthz
    autoscaling: {min: 2, max: 4}
  api:
    image: ghcr.io/acme/api:1.0.0
    port: 9000
    health: /healthz
    needs: [db]
  db:
    kind: statefulset
    image: postgres:17.2
    port: 5432
";

/// Renders `spec` and asserts a spec error: exit 2, each `expect` in stderr, and no output written.
fn assert_spec_error(spec: &str, expect: &[&str]) -> String {
    let t = Test::with_spec(spec);
    let r = t.run(&["render"]);
    assert_eq!(r.code, 2, "exit code; stderr:\n{}", r.stderr);
    for e in expect {
        assert!(r.stderr.contains(e), "stderr lacks {e:?}:\n{}", r.stderr);
    }
    assert!(r.stderr.contains("help:"), "no fix offered:\n{}", r.stderr);
    assert!(!t.path("rendered").exists(), "output written despite the error");
    assert!(r.stdout.is_empty());
    r.stderr
}

#[test]
fn base_spec_is_valid() {
    let t = Test::with_spec(BASE);
    let r = t.run(&["render"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.path("rendered/demo/web").is_dir());
}

#[test]
fn unknown_field_names_line_column_and_suggests() {
    let spec = BASE.replace("    port: 8080\n", "    prot: 8080\n");
    assert_spec_error(
        &spec,
        &[
            "windlass.yaml:10:5: apps.web.prot: unknown field `prot`",
            "did you mean `port`?",
        ],
    );
}

#[test]
fn wrong_type_is_located() {
    let spec = BASE.replace("port: 8080", "port: eighty");
    assert_spec_error(
        &spec,
        &["windlass.yaml:10:11: apps.web.port: expected a port number from 1 to 65535, found string \"eighty\""],
    );
}

#[test]
fn invalid_dns_name() {
    let spec = BASE
        .replace("  api:\n", "  Api_Server:\n")
        .replace("needs: [db]", "needs: []");
    assert_spec_error(
        &spec,
        &["windlass.yaml:14:3: apps.Api_Server: app name `Api_Server` is not a valid name"],
    );
}

#[test]
fn duplicate_hosts() {
    let spec = BASE.replace("    port: 9000\n", "    port: 9000\n    hosts: [www.example.com]\n");
    assert_spec_error(
        &spec,
        &["windlass.yaml:17:13: apps.api.hosts[0]: host `www.example.com` is already used by apps.web.hosts[0]"],
    );
}

#[test]
fn dependency_cycle() {
    let spec = BASE.replace("    port: 5432\n", "    port: 5432\n    needs: [api]\n");
    assert_spec_error(
        &spec,
        &[
            "apps.db.needs[0]: dependency cycle: api -> db -> api",
            "windlass.yaml:23:13",
        ],
    );
}

#[test]
fn unknown_dependency_suggests() {
    let spec = BASE.replace("needs: [db]", "needs: [dbb]");
    assert_spec_error(
        &spec,
        &[
            "windlass.yaml:18:13: apps.api.needs[0]: unknown app `dbb` in `needs`",
            "did you mean `db`?",
        ],
    );
}

#[test]
fn hpa_min_above_max() {
    let spec = BASE.replace("{min: 2, max: 4}", "{min: 5, max: 4}");
    assert_spec_error(
        &spec,
        &["windlass.yaml:13:24: apps.web.autoscaling.min: autoscaling.min (5) is above autoscaling.max (4)"],
    );
}

#[test]
fn pdb_that_blocks_drains() {
    let spec = BASE.replace(
        "    autoscaling: {min: 2, max: 4}\n",
        "    autoscaling: {min: 2, max: 4}\n    disruption: {minAvailable: 2}\n",
    );
    assert_spec_error(
        &spec,
        &[
            "windlass.yaml:14:32: apps.web.disruption.minAvailable: minAvailable (2) >= replicas (2) blocks every node drain",
        ],
    );
    let spec = BASE.replace(
        "    autoscaling: {min: 2, max: 4}\n",
        "    autoscaling: {min: 2, max: 4}\n    disruption: {maxUnavailable: 0}\n",
    );
    assert_spec_error(
        &spec,
        &["apps.web.disruption.maxUnavailable: maxUnavailable: 0 blocks every node drain"],
    );
}

#[test]
fn missing_image_tag_and_latest() {
    let spec = BASE.replace("ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web");
    assert_spec_error(
        &spec,
        &["windlass.yaml:9:12: apps.web.image: image `ghcr.io/acme/web` has no tag or digest"],
    );
    let spec = BASE.replace("ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web:latest");
    assert_spec_error(&spec, &["uses the mutable `latest` tag", "allowLatest: true"]);
    let allowed = BASE.replace(
        "ghcr.io/acme/web:1.0.0",
        "ghcr.io/acme/web:latest\n    allowLatest: true",
    );
    assert_eq!(Test::with_spec(&allowed).run(&["render"]).code, 0);
}

#[test]
fn replicas_fighting_an_hpa() {
    let spec = BASE.replace(
        "    autoscaling: {min: 2, max: 4}\n",
        "    autoscaling: {min: 2, max: 4}\n    replicas: 3\n",
    );
    assert_spec_error(&spec, &["apps.web.replicas: `replicas` and `autoscaling` both set"]);
}

#[test]
fn probe_through_a_service_name() {
    let spec = BASE.replace(
        "    port: 5432\n",
        "    port: 5432\n    health: {command: [curl, -f, http://api:9000/healthz]}\n",
    );
    assert_spec_error(
        &spec,
        &[
            "apps.db.health.command: the health command calls the Service `api`",
            "localhost",
        ],
    );
}

#[test]
fn yaml_syntax_error_is_located() {
    let spec = BASE.replace("hosts: [www]", "hosts: [www");
    let err = assert_spec_error(&spec, &["invalid YAML"]);
    assert!(err.contains("windlass.yaml:"), "{err}");
}

#[test]
fn several_errors_are_all_reported() {
    let spec = BASE
        .replace("{min: 2, max: 4}", "{min: 5, max: 4}")
        .replace("needs: [db]", "needs: [nope]");
    let err = assert_spec_error(&spec, &["autoscaling.min (5)", "unknown app `nope`"]);
    assert_eq!(err.matches("help:").count(), 2, "{err}");
}

#[test]
fn overlay_errors_point_into_the_overlay_and_name_the_environment() {
    let spec =
        format!("{BASE}environments:\n  dev: {{}}\n  prod:\n    apps:\n      web:\n        autoscaling: {{min: 9}}\n");
    assert_spec_error(
        &spec,
        &[
            "windlass.yaml:28:28: apps.web.autoscaling.min: autoscaling.min (9) is above autoscaling.max (4) (environment prod)",
        ],
    );
}

#[test]
fn unknown_environment_suggests() {
    let t = Test::with_spec(EXAMPLE);
    let r = t.run(&["render", "--env", "prodution"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no environment named `prodution`"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `--env production`?"), "{}", r.stderr);
}

#[test]
fn missing_spec_file() {
    let t = Test::new();
    let r = t.run(&["render"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("windlass.yaml does not exist"), "{}", r.stderr);
    assert!(r.stderr.contains("windlass init"), "{}", r.stderr);
}

#[test]
fn only_with_no_match_suggests() {
    let t = Test::with_spec(EXAMPLE);
    let r = t.run(&["render", "--only", "app=frontnd"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean `app=frontend`?"), "{}", r.stderr);
    let r = t.run(&["render", "--only", "frontend"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("app=NAME"), "{}", r.stderr);
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
                out.push((rel, fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn render_writes_the_example_and_is_deterministic() {
    let t = Test::with_spec(EXAMPLE);
    let r = t.run(&["render", "--env", "production", "--out", "a"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("for environment `production` into a/"),
        "{}",
        r.stdout
    );
    let r2 = t.run(&["render", "--env", "production", "--out", "b"]);
    assert_eq!(r2.code, 0);
    let (a, b) = (tree(&t.path("a")), tree(&t.path("b")));
    assert!(a.len() > 40, "{} files", a.len());
    assert_eq!(a, b, "two runs differ");
    // One directory per namespace and per app.
    for d in ["_platform", "shop", "shop/frontend", "shop/backend", "shop/postgres"] {
        assert!(t.path("a").join(d).is_dir(), "{d}");
    }
    // Re-rendering replaces the directory as a whole: a stale file disappears.
    fs::write(t.path("a/shop/stale.yaml"), "x").expect("write");
    assert_eq!(t.run(&["render", "--env", "production", "--out", "a"]).code, 0);
    assert!(!t.path("a/shop/stale.yaml").exists());
    assert_eq!(tree(&t.path("a")), b);
}

#[test]
fn stdout_stream_matches_the_files_and_is_deterministic() {
    let t = Test::with_spec(EXAMPLE);
    let a = t.run(&["render", "--stdout", "--env", "development"]);
    let b = t.run(&["render", "--stdout", "--env", "development"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
    let documents = a.stdout.lines().filter(|l| *l == "---").count();
    let kinds = a.stdout.lines().filter(|l| l.starts_with("kind: ")).count();
    assert_eq!(documents, kinds);
    assert!(documents > 40, "{documents} documents");
    assert!(!t.path("rendered").exists(), "--stdout must not write files");
}

#[test]
fn render_refuses_to_replace_a_foreign_directory() {
    let t = Test::with_spec(EXAMPLE);
    fs::create_dir(t.path("docs")).expect("mkdir");
    fs::write(t.path("docs/keep.md"), "mine").expect("write");
    let r = t.run(&["render", "--out", "docs"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("refusing to replace"), "{}", r.stderr);
    assert_eq!(fs::read_to_string(t.path("docs/keep.md")).expect("kept"), "mine");
}

#[test]
fn render_only_writes_selected_apps_and_their_needs() {
    let t = Test::with_spec(EXAMPLE);
    let r = t.run(&[
        "render",
        "--env",
        "production",
        "--only",
        "app=frontend",
        "--output",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json summary");
    let dirs: Vec<&str> = v["units"]
        .as_array()
        .expect("units")
        .iter()
        .filter_map(|u| u["dir"].as_str())
        .collect();
    assert_eq!(
        dirs,
        ["_platform", "shop", "shop/postgres", "shop/backend", "shop/frontend"]
    );
}

#[test]
fn init_writes_a_valid_spec_and_never_overwrites() {
    let t = Test::new();
    let r = t.run(&["init", "--domain", "acme.io", "--email", "ops@acme.io"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let written = fs::read_to_string(t.path("windlass.yaml")).expect("written");
    assert!(written.contains("domain: acme.io"));
    let r = t.run(&["render", "--env", "production"]);
    assert_eq!(r.code, 0, "starter spec does not render: {}", r.stderr);
    let r = t.run(&["init", "--domain", "other.io", "--email", "ops@other.io"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(fs::read_to_string(t.path("windlass.yaml")).expect("kept"), written);
}

#[test]
fn init_rejects_bad_values() {
    let t = Test::new();
    let r = t.run(&["init", "--domain", "not a domain", "--email", "ops@acme.io"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a valid DNS domain"), "{}", r.stderr);
    assert!(!t.path("windlass.yaml").exists());
}

#[test]
fn schema_is_json_schema_for_the_spec() {
    let r = Test::new().run(&["schema"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["title"], "windlass platform spec");
    for key in ["apiVersion", "kind", "platform", "apps", "environments"] {
        assert!(v["properties"].get(key).is_some(), "{key}");
    }
    assert!(v["$defs"]["AppSpec"]["properties"]["autoscaling"].is_object());
    // Overlays accept partial apps: nothing required in the partial app definition.
    assert!(v["$defs"]["PartialAppSpec"].get("required").is_none());
}

#[test]
fn usage_errors_exit_2() {
    let r = Test::new().run(&["render", "--bogus"]);
    assert_eq!(r.code, 2);
}
