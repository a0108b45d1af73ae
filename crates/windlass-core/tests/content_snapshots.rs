//! The rendered content pack of a small platform, pinned: every object as
//! YAML, platform objects first, then each app's.

mod content_support;

use content_support::{Fixture, SPEC};
use windlass_core::content;
use windlass_core::render::to_yaml_stream;

#[test]
fn content_pack_snapshot() {
    let f = Fixture::new(SPEC);
    let objects = content::render(&f.platform, &f.apps());
    let mut out = String::from("# platform\n");
    out.push_str(&to_yaml_stream(&objects.platform));
    for (app, objs) in &objects.apps {
        out.push_str(&format!("# app {app}\n"));
        out.push_str(&to_yaml_stream(objs));
    }
    insta::assert_snapshot!("content_pack", out);
}

#[test]
fn rendering_is_deterministic() {
    let f = Fixture::new(SPEC);
    let a = content::render(&f.platform, &f.apps());
    let b = content::render(&f.platform, &f.apps());
    assert_eq!(to_yaml_stream(&a.platform), to_yaml_stream(&b.platform));
    assert_eq!(a.apps.len(), b.apps.len());
}

#[test]
fn disabled_alerts_are_not_rendered_and_tuning_applies() {
    let pack = Fixture::new(SPEC).pack();
    let worker = pack
        .rules
        .iter()
        .find(|s| s.name == "worker-alerts")
        .expect("worker rules");
    let rules: Vec<_> = worker.file.groups.iter().flat_map(|g| &g.rules).collect();
    assert!(
        !rules.iter().any(|r| r.alert.as_deref() == Some("AppOOMKilled")),
        "oomKilled: {{enabled: false}}"
    );
    let not_ready = rules
        .iter()
        .find(|r| r.alert.as_deref() == Some("AppPodNotReady"))
        .expect("not ready");
    assert_eq!(not_ready.for_.as_deref(), Some("30m"));
    assert_eq!(not_ready.labels.get("severity").map(String::as_str), Some("info"));
    let web = pack.rules.iter().find(|s| s.name == "web-alerts").expect("web rules");
    let errors = web
        .file
        .groups
        .iter()
        .flat_map(|g| &g.rules)
        .find(|r| r.alert.as_deref() == Some("AppErrorRateHigh"));
    assert!(
        errors.is_some_and(|r| r.expr.ends_with("> 0.02")),
        "errorRate threshold 2%"
    );
}
