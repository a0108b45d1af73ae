//! The example platform's content pack, in every environment, passes the real
//! tools: promtool (rule files and their generated scenarios, dashboard
//! queries), amtool (the Alertmanager configuration) and Loki's LogQL parser.

mod content_support;

use content_support::{dashboard_logql, log_rule_exprs, run, tool, write};
use windlass_core::content::crds::{Rule, RuleFile, RuleGroup};
use windlass_core::content::{self, scenarios, yaml};
use windlass_core::model::{App, Platform};

const EXAMPLE: &str = include_str!("../../../examples/platform/windlass.yaml");

fn packs() -> Vec<(String, content::Pack)> {
    let spec = windlass_core::spec::load("windlass.yaml", EXAMPLE).expect("the example loads");
    spec.environments
        .iter()
        .map(|(env, file)| {
            let platform = Platform::build(file, env);
            let apps: Vec<&App> = platform.apps.iter().collect();
            (env.clone(), content::build(&platform, &apps))
        })
        .collect()
}

#[test]
fn example_rules_and_scenarios_pass_promtool() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    for (env, pack) in packs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut dashboard_rules = Vec::new();
        for set in &pack.rules {
            let file = format!("{}.yaml", set.name);
            write(dir.path(), &file, &yaml(&set.file));
            run(&promtool, &["check", "rules", &file], dir.path());
            let all: Vec<Rule> = set.file.groups.iter().flat_map(|g| g.rules.clone()).collect();
            let suite = scenarios::test_file(std::slice::from_ref(&file), &all, &set.scenarios)
                .unwrap_or_else(|e| panic!("{env}: {e}"));
            let test = format!("{}.test.yaml", set.name);
            write(dir.path(), &test, &yaml(&suite));
            run(&promtool, &["test", "rules", &test], dir.path());
        }
        for dash in &pack.dashboards {
            for (kind, expr) in dash.queries() {
                if kind == "prometheus" {
                    dashboard_rules.push(Rule {
                        alert: None,
                        record: Some("windlass:dashboard_query:check".to_string()),
                        expr: expr.replace("$__rate_interval", "5m"),
                        for_: None,
                        labels: Default::default(),
                        annotations: Default::default(),
                    });
                }
            }
        }
        let file = RuleFile {
            groups: vec![RuleGroup {
                name: "dashboards".into(),
                interval: None,
                rules: dashboard_rules,
            }],
        };
        write(dir.path(), "dashboards.yaml", &yaml(&file));
        run(&promtool, &["check", "rules", "dashboards.yaml"], dir.path());
    }
}

#[test]
fn example_alertmanager_config_passes_amtool() {
    let Some(amtool) = tool("amtool") else { return };
    for (_, pack) in packs() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "alertmanager.yaml", &pack.alertmanager.yaml());
        run(&amtool, &["check-config", "alertmanager.yaml"], dir.path());
        let test = |receiver: &str, ns: &str, severity: &str| {
            let verify = format!("--verify.receivers={receiver}");
            let ns = format!("namespace={ns}");
            let severity = format!("severity={severity}");
            let args = [
                "config",
                "routes",
                "test",
                "--config.file=alertmanager.yaml",
                &verify,
                "alertname=X",
                &ns,
                &severity,
            ];
            run(&amtool, &args, dir.path());
        };
        test("pager", "shop", "critical");
        test("chat", "shop-dev", "critical");
        test("chat", "shop", "warning");
    }
}

#[test]
fn example_logql_parses() {
    let Some(logqlcheck) = tool("logqlcheck") else {
        return;
    };
    for (_, pack) in packs() {
        let mut exprs = log_rule_exprs(&pack);
        exprs.extend(dashboard_logql(&pack));
        assert!(exprs.len() >= 3, "{exprs:?}");
        let dir = tempfile::tempdir().expect("tempdir");
        let args: Vec<&str> = exprs.iter().map(String::as_str).collect();
        run(&logqlcheck, &args, dir.path());
    }
}
