//! End-to-end fuzzing of the spec pipeline: generated specs (any unicode, any
//! numbers, every field, environments and observability) go through load ->
//! model -> plan -> render -> invariants -> k8s-openapi round trip, and every
//! accepted spec must render objects the apiserver would accept. Also replays the
//! saved failing inputs under `fuzz/regressions/`.
//!
//! `PROPTEST_CASES=20000 cargo test -p windlass-core --test fuzz_pipeline` for a
//! long run; `PROPTEST_RNG_SEED=N` replays one; failures persist in
//! `tests/fuzz_pipeline.proptest-regressions`.

mod fuzz_support;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use fuzz_support::{Failure, Verdict, check, specgen};

/// Cases per run unless PROPTEST_CASES says otherwise: 20-30 s in a debug build on 2 busy cores
/// (20,000 took 447 s there).
const DEFAULT_CASES: u32 = 1000;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

proptest! {
    #![proptest_config(Config { cases: cases(), max_shrink_iters: 2000, ..Config::default() })]

    /// The property: no panic, located errors, and accepted specs render objects a cluster takes.
    #[test]
    fn generated_specs_are_refused_with_a_location_or_render_valid_objects(spec in specgen::spec()) {
        let text = specgen::to_yaml(&spec);
        if let Err(failure) = check(&text) {
            return Err(TestCaseError::fail(format!("{failure}\n--- spec ---\n{text}")));
        }
    }
}

/// Every `*.yaml` in `dir`, sorted.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    files
}

fn replay(dir: &Path) -> Vec<(PathBuf, Failure)> {
    let mut failed = Vec::new();
    for file in inputs(dir) {
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        // Non-UTF-8 input is refused by the CLI before the core sees it.
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        if let Err(f) = check(&text) {
            failed.push((file, f));
        }
    }
    failed
}

/// Inputs that once failed and are fixed: each must pass for good.
#[test]
fn fixed_regressions_stay_fixed() {
    let failed = replay(&repo_root().join("fuzz/regressions/fixed"));
    let report: Vec<String> = failed.iter().map(|(p, f)| format!("{}: {f}", p.display())).collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Inputs that fail on the current code, one per known bug. Run with `--ignored`: an input that
/// passes now is reported so it can be moved to `fuzz/regressions/fixed/`.
#[test]
#[ignore = "known open bugs; see fuzz/regressions/README.md"]
fn open_regressions() {
    let dir = repo_root().join("fuzz/regressions/open");
    let failed = replay(&dir);
    let failing: Vec<&PathBuf> = failed.iter().map(|(p, _)| p).collect();
    let passing: Vec<PathBuf> = inputs(&dir).into_iter().filter(|p| !failing.contains(&p)).collect();
    let mut report: Vec<String> = failed
        .iter()
        .map(|(p, f)| format!("FAIL {}: {f}", p.display()))
        .collect();
    report.extend(
        passing
            .iter()
            .map(|p| format!("PASS {} (move it to fuzz/regressions/fixed/)", p.display())),
    );
    assert!(failed.is_empty(), "{}", report.join("\n"));
}

/// A long survey (`--ignored`): runs PROPTEST_CASES generated specs (seed PROPTEST_RNG_SEED, default
/// 8) without stopping at the first failure, or every file of FUZZ_REPLAY_DIR (e.g. an AFL queue),
/// groups failures by cause and saves the smallest input of each group in FUZZ_SURVEY_DIR
/// (default `target/fuzz-survey/`) with the failure as a comment. Prints the counts.
#[test]
#[ignore = "long run; used to find and file the bugs"]
fn survey() {
    use std::collections::BTreeMap;
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    let strategy = specgen::spec();
    let out = std::env::var_os("FUZZ_SURVEY_DIR").map_or_else(|| repo_root().join("target/fuzz-survey"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("survey directory");
    let (mut accepted, mut refused) = (0u32, 0u32);
    let mut groups: BTreeMap<String, (u32, String, String)> = BTreeMap::new();
    let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
    let replay_dir = std::env::var_os("FUZZ_REPLAY_DIR").map(PathBuf::from);
    let replayed: Vec<PathBuf> = replay_dir.as_ref().map_or_else(Vec::new, |dir| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("FUZZ_REPLAY_DIR is a directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    });
    let total = if replay_dir.is_some() {
        replayed.len()
    } else {
        cases() as usize
    };
    for i in 0..total {
        let text = match replayed.get(i) {
            Some(file) => match String::from_utf8(std::fs::read(file).expect("readable input")) {
                Ok(text) => text,
                Err(_) => continue,
            },
            None => specgen::to_yaml(&strategy.new_tree(&mut runner).expect("a generated spec").current()),
        };
        match check(&text) {
            Ok(Verdict::Accepted) => accepted += 1,
            Ok(Verdict::Refused(_)) => {
                refused += 1;
                if let Err(e) = windlass_core::spec::load("s.yaml", &text) {
                    for d in &e.diagnostics {
                        let key: String = d.message.split('`').step_by(2).collect::<Vec<_>>().join("_");
                        *reasons.entry(key.chars().take(90).collect()).or_default() += 1;
                    }
                }
            }
            Err(f) => {
                let entry = groups.entry(f.kind()).or_insert((0, String::new(), String::new()));
                entry.0 += 1;
                if entry.1.is_empty() || text.len() < entry.1.len() {
                    entry.1 = text;
                    entry.2 = f.to_string();
                }
            }
        }
    }
    let mut summary = format!(
        "{}: {total} cases, {accepted} accepted and valid, {refused} refused with locations, {} failure groups\n",
        replay_dir.map_or_else(|| format!("seed {seed}"), |d| d.display().to_string()),
        groups.len()
    );
    for (i, (kind, (count, text, failure))) in groups.iter().enumerate() {
        summary.push_str(&format!("{count:6}  {kind}\n"));
        let small = fuzz_support::minimise(text, kind);
        let failure = check(&small).err().map_or_else(|| failure.clone(), |f| f.to_string());
        let comment: String = failure.lines().map(|l| format!("# {l}\n")).collect();
        std::fs::write(out.join(format!("{i:03}.yaml")), format!("{comment}{small}")).expect("write survey input");
    }
    let mut reasons: Vec<(u32, String)> = reasons.into_iter().map(|(k, v)| (v, k)).collect();
    reasons.sort_unstable_by(|a, b| b.cmp(a));
    summary.push_str("most frequent reasons for refusing:\n");
    for (count, reason) in reasons.iter().take(25) {
        summary.push_str(&format!("{count:6}  {reason}\n"));
    }
    std::fs::write(out.join("SUMMARY.txt"), &summary).expect("write summary");
    #[allow(clippy::print_stderr)] // the counts are what a survey is run for
    {
        eprintln!("{summary}");
    }
}

/// The apiserver's rules as restated in `fuzz_support::apiserver`, on examples whose answer
/// Kubernetes documents: a wrong rule would hide bugs or invent them.
#[test]
fn apiserver_rules_answer_like_kubernetes() {
    use fuzz_support::apiserver::*;
    let long_label = "a".repeat(64);
    let cases: Vec<(&str, bool, bool)> = vec![
        // (value, expected, actual)
        ("label a-1", true, dns1123_label("a-1")),
        ("label -a", false, dns1123_label("-a")),
        ("label A", false, dns1123_label("A")),
        ("label 64", false, dns1123_label(&long_label)),
        ("1035 1a", false, dns1035_label("1a")),
        ("subdomain a.b-c", true, dns1123_subdomain("a.b-c")),
        (
            "subdomain 64-byte part",
            true,
            dns1123_subdomain(&format!("{long_label}.b")),
        ),
        ("subdomain a..b", false, dns1123_subdomain("a..b")),
        (
            "qualified example.com/Team_1",
            true,
            qualified_name("example.com/Team_1"),
        ),
        ("qualified /x", false, qualified_name("/x")),
        ("qualified a/b/c", false, qualified_name("a/b/c")),
        ("label value empty", true, label_value("")),
        ("label value a.b_C-1", true, label_value("a.b_C-1")),
        ("label value -a", false, label_value("-a")),
        ("iana http", true, iana_svc_name("http")),
        ("iana 15 chars", true, iana_svc_name("abcdefghijklmno")),
        ("iana 16 chars", false, iana_svc_name("abcdefghijklmnop")),
        ("iana a--b", false, iana_svc_name("a--b")),
        ("iana 8080", false, iana_svc_name("8080")),
        ("env .A-b_1", true, env_var_name(".A-b_1")),
        ("env 1A", false, env_var_name("1A")),
        ("key a.conf", true, config_map_key("a.conf")),
        ("key ..a", false, config_map_key("..a")),
        ("key a/b", false, config_map_key("a/b")),
        ("route /a/b~c", true, http_route_path("/a/b~c").is_ok()),
        ("route /a%20b", true, http_route_path("/a%20b").is_ok()),
        ("route //a", false, http_route_path("//a").is_ok()),
        ("route /a/.", false, http_route_path("/a/.").is_ok()),
        ("route /a?b", false, http_route_path("/a?b").is_ok()),
        ("route /é", false, http_route_path("/é").is_ok()),
        ("ingress /a/..", false, ingress_path("/a/..").is_ok()),
        ("hostname *.a.b", true, gateway_hostname("*.a.b")),
        ("hostname 10.0.0.1", false, gateway_hostname("10.0.0.1")),
    ];
    let wrong: Vec<&str> = cases.iter().filter(|(_, e, a)| e != a).map(|(n, _, _)| *n).collect();
    assert_eq!(wrong, Vec::<&str>::new());
    assert_eq!(quantity("100m"), Some(0.1));
    assert_eq!(quantity("1Gi"), Some(1_073_741_824.0));
    assert_eq!(quantity("2e3"), Some(2000.0));
    assert_eq!(quantity("1.5.5"), None);
    assert_eq!(quantity("Mi"), None);
}
