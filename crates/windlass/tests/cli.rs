//! The real `windlass` binary, run in a temporary directory: success paths,
//! every class of spec error (location, field, fix, exit 2, nothing written),
//! and byte-for-byte determinism.
//!
//! A `Test` expects exit status 0 and empty stdout and stderr unless told
//! otherwise, and compares exactly, so any changed or extra output fails.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const EXAMPLE: &str = include_str!("../../../examples/platform/windlass.yaml");

/// What a stream must hold: exactly this text, or anything (for output pinned by other tests).
enum Expect {
    Exact(String),
    Any,
}

struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    status: i32,
    stdout: Expect,
    stderr: Expect,
}

/// The finished run, for checks on the files it left.
struct Done {
    dir: tempfile::TempDir,
    stdout: String,
    stderr: String,
}

impl Done {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A next run in the same directory, seeing what this one left.
    fn then(self) -> Test {
        Test {
            dir: self.dir,
            ..Test::new()
        }
    }
}

impl Test {
    fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("tempdir"),
            args: Vec::new(),
            status: 0,
            stdout: Expect::Exact(String::new()),
            stderr: Expect::Exact(String::new()),
        }
    }

    /// Writes `windlass.yaml`, the file every command reads by default.
    fn spec(self, text: &str) -> Test {
        self.file("windlass.yaml", text.as_bytes())
    }

    fn file(self, name: &str, bytes: &[u8]) -> Test {
        fs::write(self.dir.path().join(name), bytes).expect("write");
        self
    }

    fn args(mut self, args: &[&str]) -> Test {
        self.args = args.iter().map(|a| (*a).to_string()).collect();
        self
    }

    fn status(mut self, code: i32) -> Test {
        self.status = code;
        self
    }

    fn stdout(mut self, text: &str) -> Test {
        self.stdout = Expect::Exact(text.to_string());
        self
    }

    fn stderr(mut self, text: &str) -> Test {
        self.stderr = Expect::Exact(text.to_string());
        self
    }

    fn any_stdout(mut self) -> Test {
        self.stdout = Expect::Any;
        self
    }

    fn any_stderr(mut self) -> Test {
        self.stderr = Expect::Any;
        self
    }

    fn run(self) -> Done {
        let out = Command::cargo_bin("windlass")
            .expect("binary")
            .current_dir(self.dir.path())
            .args(&self.args)
            .output()
            .expect("run");
        // The temporary directory differs per run; show it as [TMP].
        let tmp = self.dir.path().display().to_string();
        let filter = |b: &[u8]| String::from_utf8_lossy(b).replace(&tmp, "[TMP]");
        let (stdout, stderr) = (filter(&out.stdout), filter(&out.stderr));
        let code = out.status.code().unwrap_or(-1);
        assert_eq!(code, self.status, "exit status of {:?}; stderr:\n{stderr}", self.args);
        if let Expect::Exact(want) = &self.stdout {
            assert_eq!(&stdout, want, "stdout of {:?}", self.args);
        }
        if let Expect::Exact(want) = &self.stderr {
            assert_eq!(&stderr, want, "stderr of {:?}", self.args);
        }
        Done {
            dir: self.dir,
            stdout,
            stderr,
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
    health: {path: /healthz, liveness: /livez}
    autoscaling: {min: 2, max: 4}
  api:
    image: ghcr.io/acme/api:1.0.0
    port: 9000
    health: {path: /healthz, liveness: /livez}
    needs: [db]
  db:
    kind: statefulset
    image: postgres:17.2
    port: 5432
";

/// Renders `spec` and asserts a spec error: exit 2, exactly `stderr`, nothing on stdout, no output written.
fn assert_spec_error(spec: &str, stderr: &str) {
    let done = Test::new().spec(spec).args(&["render"]).status(2).stderr(stderr).run();
    assert!(!done.path("rendered").exists(), "output written despite the error");
}

#[test]
fn base_spec_is_valid() {
    let done = Test::new().spec(BASE).args(&["render"]).any_stdout().run();
    assert!(done.path("rendered/demo/web").is_dir());
}

#[test]
fn unknown_field_names_line_column_and_suggests() {
    let spec = BASE.replace("    port: 8080\n", "    prot: 8080\n");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:10:5: apps.web.prot: unknown field `prot`\n  help: did you mean `port`?\n",
    );
}

#[test]
fn wrong_type_is_located() {
    let spec = BASE.replace("port: 8080", "port: eighty");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:10:11: apps.web.port: expected a port number from 1 to 65535, found string \"eighty\"\n  help: write a port number from 1 to 65535 here (quote text that looks like a number or boolean)\n",
    );
}

#[test]
fn every_type_error_is_reported_in_one_run() {
    let spec = BASE
        .replace("port: 8080", "port: eighty")
        .replace("    port: 9000\n", "    prot: 9000\n")
        .replace("kind: statefulset", "kind: stateful")
        .replace("{min: 2, max: 4}", "[2, 4]");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:10:11: apps.web.port: expected a port number from 1 to 65535, found string \"eighty\"\n  help: write a port number from 1 to 65535 here (quote text that looks like a number or boolean)\nwindlass.yaml:13:18: apps.web.autoscaling: expected a mapping of autoscaling settings, found a list\n  help: write `field: value` pairs here, with fields from: min, max, cpu\nwindlass.yaml:16:5: apps.api.prot: unknown field `prot`\n  help: did you mean `port`?\nwindlass.yaml:20:11: apps.db.kind: unknown value `stateful`\n  help: did you mean `statefulset`? (one of: web, worker, cron, statefulset)\n",
    );
}

#[test]
fn repeated_errors_are_counted() {
    let mut spec = BASE.to_string();
    for i in 0..10 {
        spec.push_str(&format!("  w{i}:\n    kind: worker\n    imag: x:1\n"));
    }
    assert_spec_error(
        &spec,
        "error: windlass.yaml:25:5: apps.w0.imag: unknown field `imag`\n  help: did you mean `image`?\nwindlass.yaml:28:5: apps.w1.imag: unknown field `imag`\n  help: did you mean `image`?\nwindlass.yaml:31:5: apps.w2.imag: unknown field `imag`\n  help: did you mean `image`?\nwindlass.yaml: ... and 7 more errors like this\n",
    );
}

#[test]
fn a_list_where_a_mapping_belongs_is_refused() {
    let spec = BASE.replace(
        "    health: {path: /healthz, liveness: /livez}\n    autoscaling",
        "    health: {path: /healthz, liveness: /livez}\n    resources: [\"3\", 5Gi]\n    autoscaling",
    );
    assert_spec_error(
        &spec,
        "error: windlass.yaml:13:16: apps.web.resources: expected a mapping of resources settings, found a list\n  help: write `field: value` pairs here, with fields from: cpu, memory, limits\n",
    );
}

#[test]
fn binary_file_is_refused_with_its_offset() {
    let done = Test::new()
        .file("windlass.yaml", b"apiVersion: x\n\x00\x01\x02")
        .args(&["render"])
        .status(2)
        .stderr("error: windlass.yaml:2:1: the file is binary, not a YAML spec: it has a NUL byte at byte offset 14\n  help: check that `-f` names the spec (a text file such as windlass.yaml)\n")
        .run();
    assert!(!done.path("rendered").exists());
}

#[test]
fn non_utf8_file_is_refused_with_its_offset() {
    Test::new()
        .file("windlass.yaml", b"apiVersion: x\nkind: caf\xe9\n")
        .args(&["render"])
        .status(2)
        .stderr("error: windlass.yaml:2:10: the file is not UTF-8 text: byte 0xe9 at byte offset 23 is not valid UTF-8\n  help: save the spec as UTF-8\n")
        .run();
}

#[test]
fn oversize_file_is_refused_before_parsing() {
    let big = format!("apiVersion: windlass.dev/v1alpha1\n#{}\n", "x".repeat(4 * 1024 * 1024));
    Test::new()
        .spec(&big)
        .args(&["render"])
        .status(2)
        .stderr("error: windlass.yaml: the file is larger than 4 MiB, the limit for a spec\n  help: check that `-f` names the spec; split a platform this large into several specs\n")
        .run();
}

#[test]
fn endless_input_is_refused_without_reading_it_all() {
    Test::new()
        .args(&["render", "-f", "/dev/zero"])
        .status(2)
        .stderr("error: /dev/zero: the file is larger than 4 MiB, the limit for a spec\n  help: check that `-f` names the spec; split a platform this large into several specs\n")
        .run();
}

#[test]
fn duplicate_key_and_extra_documents_in_plain_words() {
    let spec = BASE.replace("    port: 8080\n", "    port: 8080\n    port: 8081\n");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:11:5: duplicate key `port`\n  help: a mapping holds each key once: remove one `port`, or merge the two\n",
    );
    assert_spec_error(
        &format!("{BASE}---\nkind: Other\n"),
        "error: windlass.yaml:24:1: the file has more than one YAML document (a `---` line starts another); a windlass spec is one document\n  help: remove the `---` line and what follows it, or merge the documents into one\n",
    );
}

#[test]
fn invalid_dns_name() {
    let spec = BASE
        .replace("  api:\n", "  Api_Server:\n")
        .replace("needs: [db]", "needs: []");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:14:3: apps.Api_Server: app name `Api_Server` is not a valid name\n  help: use at most 52 lowercase letters, digits and `-`, starting with a letter (it becomes a Service name)\n",
    );
}

#[test]
fn duplicate_hosts() {
    let spec = BASE.replace("    port: 9000\n", "    port: 9000\n    hosts: [www.example.com]\n");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:17:13: apps.api.hosts[0]: host `www.example.com` is already used by apps.web.hosts[0]\n  help: give each host to one app; serve several paths of one host with `routes`\n",
    );
}

#[test]
fn dependency_cycle() {
    let spec = BASE.replace("    port: 5432\n", "    port: 5432\n    needs: [api]\n");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:23:13: apps.db.needs[0]: dependency cycle: api -> db -> api\n  help: remove `needs` until no app needs itself through others, so the apps can be deployed in order\n",
    );
}

#[test]
fn two_hundred_apps_in_one_cycle_give_one_error() {
    let mut spec = BASE.to_string();
    let names: Vec<String> = (0..200).map(|i| format!("a{i}")).collect();
    for n in &names {
        spec.push_str(&format!(
            "  {n}:\n    kind: worker\n    image: ghcr.io/acme/w:1\n    needs: [{}]\n",
            names.iter().filter(|m| *m != n).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    assert_spec_error(
        &spec,
        "error: windlass.yaml:30:13: apps.a1.needs[0]: dependency cycle: a0 -> a1 -> a0; 200 apps need each other in cycles: a0, a1, a2, a3, a4, a5, a6, a7, a8, a9 and 190 more\n  help: remove `needs` until no app needs itself through others, so the apps can be deployed in order\n",
    );
}

#[test]
fn unknown_dependency_suggests() {
    let spec = BASE.replace("needs: [db]", "needs: [dbb]");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:18:13: apps.api.needs[0]: unknown app `dbb` in `needs`\n  help: did you mean `db`?\n",
    );
}

#[test]
fn hpa_min_above_max() {
    let spec = BASE.replace("{min: 2, max: 4}", "{min: 5, max: 4}");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:13:24: apps.web.autoscaling.min: autoscaling.min (5) is above autoscaling.max (4)\n  help: make `min` at most `max`\n",
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
        "error: windlass.yaml:14:32: apps.web.disruption.minAvailable: minAvailable (2) >= replicas (2) blocks every node drain\n  help: use `minAvailable: 1` or less, or `maxUnavailable: 1`\n",
    );
    let spec = BASE.replace(
        "    autoscaling: {min: 2, max: 4}\n",
        "    autoscaling: {min: 2, max: 4}\n    disruption: {maxUnavailable: 0}\n",
    );
    assert_spec_error(
        &spec,
        "error: windlass.yaml:14:34: apps.web.disruption.maxUnavailable: maxUnavailable: 0 blocks every node drain\n  help: use `maxUnavailable: 1` (or more)\n",
    );
}

#[test]
fn missing_image_tag_and_latest() {
    let spec = BASE.replace("ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:9:12: apps.web.image: image `ghcr.io/acme/web` has no tag or digest\n  help: pin a version, e.g. `ghcr.io/acme/web:1.0.0` or `ghcr.io/acme/web@sha256:...`, so rollouts and rollbacks are reproducible\n",
    );
    let spec = BASE.replace("ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web:latest");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:9:12: apps.web.image: image `ghcr.io/acme/web:latest` uses the mutable `latest` tag\n  help: pin a version tag or digest, or set `allowLatest: true` if you accept unreproducible rollouts\n",
    );
    let allowed = BASE.replace(
        "ghcr.io/acme/web:1.0.0",
        "ghcr.io/acme/web:latest\n    allowLatest: true",
    );
    Test::new().spec(&allowed).args(&["render"]).any_stdout().run();
}

#[test]
fn replicas_fighting_an_hpa() {
    let spec = BASE.replace(
        "    autoscaling: {min: 2, max: 4}\n",
        "    autoscaling: {min: 2, max: 4}\n    replicas: 3\n",
    );
    assert_spec_error(
        &spec,
        "error: windlass.yaml:14:15: apps.web.replicas: `replicas` and `autoscaling` both set: the HPA and every deploy would fight over the replica count\n  help: remove `replicas` (use `autoscaling.min`), or remove `autoscaling` (use `replicas: null` in an environment overlay to drop an inherited one)\n",
    );
}

#[test]
fn probe_through_a_service_name() {
    let spec = BASE.replace(
        "    port: 5432\n",
        "    port: 5432\n    health: {command: [curl, -f, http://api:9000/healthz]}\n",
    );
    assert_spec_error(
        &spec,
        "error: windlass.yaml:23:23: apps.db.health.command: the health command calls the Service `api` instead of the pod itself\n  help: use `localhost` (or 127.0.0.1): through a Service the probe waits for endpoints that appear only once the pod is Ready\n",
    );
}

#[test]
fn yaml_syntax_error_is_located() {
    let spec = BASE.replace("hosts: [www]", "hosts: [www");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:12:11: invalid YAML: illegal placement of ':' indicator\n  help: fix the YAML syntax at this position (indentation, quotes, brackets)\n",
    );
}

#[test]
fn several_errors_are_all_reported() {
    let spec = BASE
        .replace("{min: 2, max: 4}", "{min: 5, max: 4}")
        .replace("needs: [db]", "needs: [nope]");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:13:24: apps.web.autoscaling.min: autoscaling.min (5) is above autoscaling.max (4)\n  help: make `min` at most `max`\nwindlass.yaml:18:13: apps.api.needs[0]: unknown app `nope` in `needs`\n  help: name an app of this spec: web, api, db\n",
    );
}

#[test]
fn overlay_errors_point_into_the_overlay_and_name_the_environment() {
    let spec =
        format!("{BASE}environments:\n  dev: {{}}\n  prod:\n    apps:\n      web:\n        autoscaling: {{min: 9}}\n");
    assert_spec_error(
        &spec,
        "error: windlass.yaml:28:28: apps.web.autoscaling.min: autoscaling.min (9) is above autoscaling.max (4) (environment prod)\n  help: make `min` at most `max`\n",
    );
}

#[test]
fn unknown_environment_suggests() {
    Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--env", "prodution"])
        .status(2)
        .stderr("error: windlass.yaml: environments: no environment named `prodution`\n  help: did you mean `--env production`?\n")
        .run();
}

#[test]
fn missing_spec_file() {
    Test::new().args(&["render"]).status(2).stderr("error: windlass.yaml does not exist\n  help: run `windlass init --domain example.com --email ops@example.com` to write one, or pass `-f PATH`\n").run();
}

#[test]
fn only_with_no_match_suggests() {
    let r = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--only", "app=frontnd"])
        .status(2)
        .any_stderr()
        .run();
    assert!(r.stderr.contains("did you mean `app=frontend`?"), "{}", r.stderr);
    let r = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--only", "frontend"])
        .status(2)
        .any_stderr()
        .run();
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
    let a = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--env", "production", "--out", "a"])
        .any_stdout()
        .run();
    assert!(
        a.stdout.contains("for environment `production` into a/"),
        "{}",
        a.stdout
    );
    let b = a
        .then()
        .args(&["render", "--env", "production", "--out", "b"])
        .any_stdout()
        .run();
    let (ta, tb) = (tree(&b.path("a")), tree(&b.path("b")));
    assert!(ta.len() > 40, "{} files", ta.len());
    assert_eq!(ta, tb, "two runs differ");
    // One directory per namespace and per app.
    for d in ["_platform", "shop", "shop/frontend", "shop/backend", "shop/postgres"] {
        assert!(b.path("a").join(d).is_dir(), "{d}");
    }
    // Re-rendering replaces the directory as a whole: a stale file disappears.
    fs::write(b.path("a/shop/stale.yaml"), "x").expect("write");
    let c = b
        .then()
        .args(&["render", "--env", "production", "--out", "a"])
        .any_stdout()
        .run();
    assert!(!c.path("a/shop/stale.yaml").exists());
    assert_eq!(tree(&c.path("a")), tb);
}

#[test]
fn stdout_stream_matches_the_files_and_is_deterministic() {
    let a = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--stdout", "--env", "development"])
        .any_stdout()
        .run();
    let first = a.stdout.clone();
    let b = a
        .then()
        .args(&["render", "--stdout", "--env", "development"])
        .stdout(&first)
        .run();
    let documents = first.lines().filter(|l| *l == "---").count();
    let kinds = first.lines().filter(|l| l.starts_with("kind: ")).count();
    assert_eq!(documents, kinds);
    assert!(documents > 40, "{documents} documents");
    assert!(!b.path("rendered").exists(), "--stdout must not write files");
}

#[test]
fn render_refuses_to_replace_a_foreign_directory() {
    let t = Test::new().spec(EXAMPLE);
    fs::create_dir(t.dir.path().join("docs")).expect("mkdir");
    let done = t
        .file("docs/keep.md", b"mine")
        .args(&["render", "--out", "docs"])
        .status(2)
        .stderr("error: refusing to replace docs: it is not empty and was not written by `windlass render`\n  help: choose another `--out` directory, or remove it\n")
        .run();
    assert_eq!(fs::read_to_string(done.path("docs/keep.md")).expect("kept"), "mine");
}

#[test]
fn render_only_writes_selected_apps_and_their_needs() {
    let r = Test::new()
        .spec(EXAMPLE)
        .args(&[
            "render",
            "--env",
            "production",
            "--only",
            "app=frontend",
            "--output",
            "json",
        ])
        .any_stdout()
        .run();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json summary");
    let dirs: Vec<&str> = v["units"]
        .as_array()
        .expect("units")
        .iter()
        .filter_map(|u| u["dir"].as_str())
        .filter(|d| !d.starts_with("_components/"))
        .collect();
    assert_eq!(
        dirs,
        ["_platform", "shop", "shop/postgres", "shop/backend", "shop/frontend"]
    );
}

#[test]
fn init_writes_a_valid_spec_and_never_overwrites() {
    let done = Test::new()
        .args(&["init", "--domain", "acme.io", "--email", "ops@acme.io"])
        .any_stdout()
        .run();
    let written = fs::read_to_string(done.path("windlass.yaml")).expect("written");
    assert!(written.contains("domain: acme.io"));
    let done = done.then().args(&["render", "--env", "production"]).any_stdout().run();
    let done = done
        .then()
        .args(&["init", "--domain", "other.io", "--email", "ops@other.io"])
        .status(2)
        .stderr("error: windlass.yaml already exists; windlass init never overwrites a spec\n  help: remove it first, or choose another path with `-f`\n")
        .run();
    assert_eq!(fs::read_to_string(done.path("windlass.yaml")).expect("kept"), written);
}

#[test]
fn init_rejects_bad_values() {
    let done = Test::new()
        .args(&["init", "--domain", "not a domain", "--email", "ops@acme.io"])
        .status(2)
        .any_stderr()
        .run();
    assert!(done.stderr.contains("is not a valid DNS domain"), "{}", done.stderr);
    assert!(!done.path("windlass.yaml").exists());
}

#[test]
fn schema_is_json_schema_for_the_spec() {
    let r = Test::new().args(&["schema"]).any_stdout().run();
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
    Test::new().args(&["render", "--bogus"]).status(2).any_stderr().run();
}

#[test]
fn gitops_trees_are_deterministic_and_a_fleet_shares_what_its_clusters_have_in_common() {
    for format in ["flux", "argocd"] {
        let args = |out: &'static str| {
            let mut a = vec!["render", "--format", format, "--fleet", "--out", out];
            if format == "argocd" {
                a.extend(["--repo-url", "https://git.example.com/shop.git"]);
            }
            a
        };
        let a = Test::new().spec(EXAMPLE).args(&args("a")).any_stdout().run();
        assert!(
            a.stdout.contains("cluster production:") && a.stdout.contains("cluster development:"),
            "{}",
            a.stdout
        );
        let b = a.then().args(&args("b")).any_stdout().run();
        let (ta, tb) = (tree(&b.path("a")), tree(&b.path("b")));
        assert_eq!(ta, tb, "{format}: two runs differ");
        let names: Vec<&str> = ta.iter().map(|(n, _)| n.as_str()).collect();
        for wanted in [
            "README.md",
            "clusters/production/",
            "clusters/development/",
            "units/production/",
            "units/development/",
        ] {
            assert!(
                names.iter().any(|n| n.starts_with(wanted)),
                "{format}: no {wanted} in {names:?}"
            );
        }
        // A file shared by both clusters lives once in the base, not in either cluster.
        let base: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| n.starts_with("units/_base/"))
            .collect();
        assert!(
            base.iter().any(|n| !n.ends_with("kustomization.yaml")),
            "{format}: nothing shared: {names:?}"
        );
        for shared in base.iter().filter(|n| !n.ends_with("kustomization.yaml")) {
            let rel = shared.trim_start_matches("units/_base/");
            for cluster in ["production", "development"] {
                assert!(
                    !names.contains(&format!("units/{cluster}/{rel}").as_str()),
                    "{shared} copied into {cluster}"
                );
            }
        }
    }
}

#[test]
fn gitops_flags_are_checked() {
    let r = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--format", "argocd"])
        .status(2)
        .any_stderr()
        .run();
    assert!(r.stderr.contains("--repo-url <URL>"), "{}", r.stderr);
    let r = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--fleet"])
        .status(2)
        .any_stderr()
        .run();
    assert!(
        r.stderr.contains("--fleet renders a GitOps tree per cluster"),
        "{}",
        r.stderr
    );
    let r = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--format", "flux", "--flux-source", "ConfigMap/x"])
        .status(2)
        .any_stderr()
        .run();
    assert!(r.stderr.contains("is not a Flux source of a tree"), "{}", r.stderr);
    // A flag of another format is refused, never ignored.
    let r = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--sops-secret", "x"])
        .status(2)
        .any_stderr()
        .run();
    assert!(
        r.stderr.contains("--sops-secret is for `--format flux`"),
        "{}",
        r.stderr
    );
    let r = Test::new()
        .spec(EXAMPLE)
        .args(&["render", "--format", "flux", "--revision", "main"])
        .status(2)
        .any_stderr()
        .run();
    assert!(r.stderr.contains("--revision is for `--format argocd`"), "{}", r.stderr);
}
