//! Every rule file passes `promtool check rules`; every alert's generated
//! scenarios pass `promtool test rules` against the rendered rules; every
//! dashboard PromQL query parses.

mod content_support;

use content_support::{Fixture, SPEC, run, tool, write};
use windlass_core::content::crds::{Rule, RuleFile, RuleGroup};
use windlass_core::content::{scenarios, yaml};

#[test]
fn every_rule_file_passes_promtool_check() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = Fixture::new(SPEC).pack();
    for set in &pack.rules {
        let file = format!("{}.yaml", set.name);
        write(dir.path(), &file, &yaml(&set.file));
        run(&promtool, &["check", "rules", &file], dir.path());
    }
}

#[test]
fn every_alert_fires_on_its_incident_and_stays_quiet_on_healthy_series() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = Fixture::new(SPEC).pack();
    let mut tested = std::collections::BTreeSet::new();
    for set in &pack.rules {
        let rules_file = format!("{}.yaml", set.name);
        write(dir.path(), &rules_file, &yaml(&set.file));
        let all: Vec<Rule> = set.file.groups.iter().flat_map(|g| g.rules.clone()).collect();
        let suite = scenarios::test_file(std::slice::from_ref(&rules_file), &all, &set.scenarios)
            .expect("scenarios match rules");
        let test_name = format!("{}.test.yaml", set.name);
        write(dir.path(), &test_name, &yaml(&suite));
        run(&promtool, &["test", "rules", &test_name], dir.path());
        for s in &set.scenarios {
            for e in &s.expect {
                tested.insert((e.alert.clone(), !e.firing.is_empty()));
            }
        }
        // Every alert of the rule file has a firing and a quiet scenario.
        for r in all.iter().filter_map(|r| r.alert.as_ref()) {
            assert!(
                tested.contains(&(r.clone(), true)),
                "{}: alert {r} has no firing scenario",
                set.name
            );
            let quiet = tested.contains(&(r.clone(), false)) || r == "Watchdog";
            assert!(quiet, "{}: alert {r} has no quiet scenario", set.name);
        }
    }
}

/// Grafana's interval variables, replaced by a fixed window so the query parses as PromQL.
fn without_grafana_variables(q: &str) -> String {
    q.replace("$__rate_interval", "5m")
        .replace("$__interval", "1m")
        .replace("$__range", "1h")
}

#[test]
fn every_dashboard_promql_query_parses() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = Fixture::new(SPEC).pack();
    let mut rules = Vec::new();
    for dash in &pack.dashboards {
        for (kind, expr) in dash.queries() {
            if kind == "prometheus" {
                assert!(
                    !expr.contains('$') || expr.contains("$__"),
                    "{}: unknown variable in {expr}",
                    dash.dashboard.uid
                );
                rules.push(Rule {
                    alert: None,
                    record: Some("windlass:dashboard_query:check".to_string()),
                    expr: without_grafana_variables(expr),
                    for_: None,
                    labels: Default::default(),
                    annotations: Default::default(),
                });
            }
        }
    }
    assert!(rules.len() > 40, "expected many dashboard queries, got {}", rules.len());
    let file = RuleFile {
        groups: vec![RuleGroup {
            name: "dashboards".to_string(),
            interval: None,
            rules,
        }],
    };
    write(dir.path(), "dashboards.yaml", &yaml(&file));
    run(&promtool, &["check", "rules", "dashboards.yaml"], dir.path());
}
