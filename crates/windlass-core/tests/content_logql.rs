//! Every LogQL expression (log alert rules and dashboard log panels) parses
//! with Loki's own parser (`logqlcheck`, built by the test bed from Loki's Go
//! module), and the log rules are valid rule files.

mod content_support;

use content_support::{Fixture, SPEC, dashboard_logql, log_rule_exprs, run, run_failing, tool};

#[test]
fn every_logql_expression_parses_with_lokis_parser() {
    let Some(logqlcheck) = tool("logqlcheck") else {
        return;
    };
    let pack = Fixture::new(SPEC).pack();
    let mut exprs = log_rule_exprs(&pack);
    assert_eq!(exprs.len(), 3, "php-fatal, innodb-io and the platform's oom-messages");
    exprs.extend(dashboard_logql(&pack));
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
