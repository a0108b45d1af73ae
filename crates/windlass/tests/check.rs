//! `windlass check` as a user runs it: the seed incidents caught at their
//! lines, every output format read back by a real parser (SARIF against the
//! 2.1.0 schema), exit codes, stdin, directories and the configuration file.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check")
}

fn incident(name: &str) -> PathBuf {
    fixtures().join("incidents").join(format!("{name}.yaml"))
}

/// Runs `windlass check` with `args` (from the fixtures directory); returns exit code, stdout, stderr.
fn check(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::cargo_bin("windlass").expect("binary");
    cmd.current_dir(fixtures()).arg("check").args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (rule, object, line) of every finding, from `--output json`.
fn findings(args: &[&str]) -> Vec<(String, String, u64)> {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = check(&all, None);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let v: Value = serde_json::from_str(&out).expect("json output");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["object"].as_str().expect("object").to_string(),
                f["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

fn line_of(file: &Path, needle: &str, nth: usize) -> u64 {
    let text = std::fs::read_to_string(file).expect("fixture");
    let i = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} not in {}", file.display()))
        .0;
    u64::try_from(i + 1).expect("line")
}

fn owned(v: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    v.iter()
        .map(|(r, o, l)| ((*r).to_string(), (*o).to_string(), *l))
        .collect()
}

#[test]
fn the_postgres_probe_deadlock_is_caught() {
    let f = incident("postgres-probe-deadlock");
    let cmd = |n| line_of(&f, "command: [pg_isready, -h, postgres", n);
    let exec = |n| line_of(&f, "exec:", n);
    let pg = "StatefulSet/dev/postgres";
    assert_eq!(
        findings(&[f.to_str().expect("path")]),
        owned(&[
            ("probe-timeout-default", pg, exec(0)),
            ("probe-not-local", pg, cmd(0)),
            ("probe-timeout-default", pg, exec(1)),
            ("probe-not-local", pg, cmd(1)),
        ])
    );
}

#[test]
fn the_drain_blocking_budget_and_replicas_on_an_hpa_target_are_caught() {
    let f = incident("drain-blocking-pdb");
    assert_eq!(
        findings(&[f.to_str().expect("path")]),
        owned(&[
            (
                "replicas-with-hpa",
                "Deployment/shop/api",
                line_of(&f, "  replicas: 3", 0)
            ),
            (
                "pdb-blocks-drain",
                "PodDisruptionBudget/shop/api",
                line_of(&f, "minAvailable: 3", 0)
            ),
        ])
    );
}

#[test]
fn dangling_selectors_and_a_tls_secret_nothing_creates_are_caught() {
    let f = incident("dangling-references");
    assert_eq!(
        findings(&[f.to_str().expect("path")]),
        owned(&[
            (
                "selector-matches-nothing",
                "Service/web/shop",
                line_of(&f, "app: webshop", 0)
            ),
            (
                "selector-matches-nothing",
                "ServiceMonitor/web/shop",
                line_of(&f, "matchLabels:", 1)
            ),
            (
                "tls-secret-missing",
                "Ingress/web/shop",
                line_of(&f, "secretName: shop-tls", 0)
            ),
        ])
    );
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_regions() {
    let (code, out, err) = check(&["--output", "sarif", "incidents"], None);
    assert_eq!(code, 1, "{err}");
    let sarif: Value = serde_json::from_str(&out).expect("sarif is json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("sarif-schema-2.1.0.json")).expect("schema"))
            .expect("schema is json");
    // The official schema's `language` pattern has a stray `]` that ECMAScript reads as a literal
    // and the meta-schema's `format: regex` check refuses: formats are not what this test is about.
    let validator = jsonschema::options()
        .should_validate_formats(false)
        .build(&schema)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 9);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().expect("rules");
    for r in results {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().is_some_and(|l| l > 0), "{r}");
        let i = usize::try_from(r["ruleIndex"].as_u64().expect("ruleIndex")).expect("index");
        assert_eq!(rules[i]["id"], r["ruleId"]);
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert!(uri.starts_with("incidents/") && fixtures().join(uri).exists(), "{uri}");
    }
}

#[test]
fn junit_output_parses_with_a_failure_per_finding() {
    let (code, out, err) = check(&["--output", "junit", "incidents"], None);
    assert_eq!(code, 1, "{err}");
    let doc = roxmltree::Document::parse(&out).expect("junit is xml");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("testsuite");
    let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
    let failed = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .count();
    assert_eq!(failed, 9);
    assert_eq!(suite.attribute("failures"), Some("9"));
    assert_eq!(suite.attribute("tests"), Some(cases.len().to_string().as_str()));
    // 10 objects, 6 of them with findings: 4 clean objects pass.
    assert_eq!(cases.len(), 9 + 4);
}

#[test]
fn fail_on_sets_the_exit_code() {
    let f = incident("dangling-references");
    let path = f.to_str().expect("path");
    assert_eq!(check(&[path], None).0, 1);
    assert_eq!(check(&["--fail-on", "never", path], None).0, 0);
    let clean = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n";
    assert_eq!(check(&["-"], Some(clean)).0, 0);
    // Only warnings: exit 0 by default, 1 with --fail-on warning.
    let warn = std::fs::read_to_string(&f)
        .expect("fixture")
        .replace("secretName: shop-tls", "secretName: shop-tls-x");
    let warn = format!(
        "{warn}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: shop-tls-x, namespace: web}}\ntype: kubernetes.io/tls\n"
    );
    assert_eq!(check(&["-"], Some(&warn)).0, 0);
    assert_eq!(check(&["--fail-on", "warning", "-"], Some(&warn)).0, 1);
}

#[test]
fn unreadable_input_exits_2_at_its_line() {
    let (code, out, err) = check(&["-"], Some("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\n"));
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("<stdin>:3:"), "{err}");
    let (code, _, err) = check(&["-"], Some("apiVersion: v1\nkind: ConfigMap\n---\nreplicas: 3\n"));
    assert_eq!(code, 2);
    assert!(err.contains("<stdin>:4:1: this document has no `kind`"), "{err}");
    let (code, _, err) = check(&["no/such/file.yaml"], None);
    assert_eq!(code, 2);
    assert!(err.contains("no/such/file.yaml"), "{err}");
}

#[test]
fn the_config_file_changes_severities_and_is_validated() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("check.yaml");
    let f = incident("dangling-references");
    let path = f.to_str().expect("path");
    std::fs::write(&config, "failOn: warning\nrules:\n  tls-secret-missing: off\n").expect("write");
    let (code, out, _) = check(
        &["--config", config.to_str().expect("path"), "--output", "json", path],
        None,
    );
    assert_eq!(code, 1, "failOn: warning and two warnings");
    assert!(!out.contains("tls-secret-missing"), "{out}");
    std::fs::write(&config, "rules:\n  tls-secret-mising: off\n").expect("write");
    let (code, _, err) = check(&["--config", config.to_str().expect("path"), path], None);
    assert_eq!(code, 2);
    assert!(
        err.contains("check.yaml:2:3: rules.tls-secret-mising: no rule is called `tls-secret-mising`"),
        "{err}"
    );
    assert!(err.contains("did you mean `tls-secret-missing`"), "{err}");
}

#[test]
fn list_rules_names_every_rule() {
    let (code, out, _) = check(&["--list-rules"], None);
    assert_eq!(code, 0);
    for r in windlass_core::check::RULES {
        assert!(out.contains(r.id), "{}", r.id);
    }
}
