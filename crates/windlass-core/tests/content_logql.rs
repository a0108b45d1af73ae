//! Every LogQL expression (log alert rules and dashboard log panels) parses
//! with Loki's own parser (`logqlcheck`, built by the test bed from Loki's Go
//! module), and the log rules are valid rule files.

mod content_support;

use content_support::{Fixture, SPEC, run, run_failing, tool};

#[test]
fn every_logql_expression_parses_with_lokis_parser() {
    let Some(logqlcheck) = tool("logqlcheck") else {
        return;
    };
    let pack = Fixture::new(SPEC).pack();
    let mut exprs: Vec<String> = pack
        .log_rules
        .iter()
        .flat_map(|l| {
            l.file
                .groups
                .iter()
                .flat_map(|g| g.rules.iter().map(|r| r.expr.clone()))
        })
        .collect();
    assert_eq!(exprs.len(), 3, "php-fatal, innodb-io and the platform's oom-messages");
    for dash in &pack.dashboards {
        exprs.extend(
            dash.queries()
                .into_iter()
                .filter(|(kind, _)| *kind == "loki")
                .map(|(_, e)| e.to_string()),
        );
    }
    assert!(exprs.len() >= 3 + 2 * 5, "every app dashboard has log panels");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args: Vec<&str> = Vec::new();
    args.extend(exprs.iter().map(String::as_str));
    run(&logqlcheck, &args, dir.path());
    // The checker is not a rubber stamp.
    run_failing(
        &logqlcheck,
        &["sum(count_over_time({namespace=\"x\"} |~ [5m]))"],
        dir.path(),
    );
}
