//! The bundled example platform: pinned by snapshots, and held to the
//! production invariants and the k8s-openapi round trip in every environment.

use windlass_core::check::{invariants, round_trips};
use windlass_core::model::Platform;
use windlass_core::plan::{Plan, Selector};
use windlass_core::render::{Rendered, render, to_yaml_stream};

const EXAMPLE: &str = include_str!("../../../examples/platform/windlass.yaml");

fn rendered(env: &str, only: &[Selector]) -> (Platform, Rendered) {
    let spec = windlass_core::spec::load("examples/platform/windlass.yaml", EXAMPLE).expect("example is valid");
    let (name, file) = spec.environment(Some(env)).expect("environment exists");
    let platform = Platform::build(file, name);
    let plan = Plan::new(&platform, only).expect("plan");
    let r = render(&platform, &plan);
    (platform, r)
}

#[test]
fn development_snapshot() {
    let (_, r) = rendered("development", &[]);
    insta::assert_snapshot!("development", to_yaml_stream(r.objects()));
}

#[test]
fn production_snapshot() {
    let (_, r) = rendered("production", &[]);
    insta::assert_snapshot!("production", to_yaml_stream(r.objects()));
}

#[test]
fn every_environment_passes_the_invariants_and_round_trips() {
    for env in ["development", "production"] {
        let (_, r) = rendered(env, &[]);
        let objects: Vec<_> = r.objects().cloned().collect();
        assert_eq!(invariants(&objects), vec![], "{env}");
        let mut typed = 0;
        for o in &objects {
            if round_trips(o).unwrap_or_else(|e| panic!("{env}: {e}")) {
                typed += 1;
            }
        }
        assert!(typed >= 25, "{env}: only {typed} objects had a k8s-openapi type");
    }
}

#[test]
fn production_backend_autoscales_from_three_and_has_no_replicas() {
    let (_, r) = rendered("production", &[]);
    let hpa = r
        .objects()
        .find(|o| o.kind() == "HorizontalPodAutoscaler" && o.name() == "backend")
        .expect("backend HPA");
    assert_eq!(hpa.0.pointer("/spec/minReplicas"), Some(&serde_json::json!(3)));
    let deploy = r
        .objects()
        .find(|o| o.kind() == "Deployment" && o.name() == "backend")
        .expect("deployment");
    assert_eq!(deploy.0.pointer("/spec/replicas"), None);
}

#[test]
fn only_selects_transitive_needs_in_dependency_order() {
    let (_, r) = rendered("production", &["app=frontend".parse().expect("selector")]);
    let apps: Vec<&str> = r
        .units
        .iter()
        .filter_map(|u| match &u.kind {
            windlass_core::render::UnitId::App { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(apps, ["postgres", "backend", "frontend"]);
    let (_, r) = rendered("production", &["tier=backend".parse().expect("selector")]);
    let n = r
        .units
        .iter()
        .filter(|u| matches!(u.kind, windlass_core::render::UnitId::App { .. }))
        .count();
    assert_eq!(n, 3, "backend, cleanup and postgres (needed by backend)");
}

#[test]
fn the_admin_path_is_only_reachable_from_the_allow_list() {
    let (_, r) = rendered("production", &[]);
    let policy = r
        .objects()
        .find(|o| o.kind() == "SecurityPolicy" && o.name() == "frontend-admin")
        .expect("security policy");
    assert_eq!(
        policy.0.pointer("/spec/authorization/defaultAction"),
        Some(&serde_json::json!("Deny"))
    );
    assert_eq!(
        policy.0.pointer("/spec/authorization/rules/0/principal/clientCIDRs/0"),
        Some(&serde_json::json!("203.0.113.0/24"))
    );
    let route = r
        .objects()
        .find(|o| o.kind() == "HTTPRoute" && o.name() == "frontend-admin")
        .expect("admin route");
    assert_eq!(
        route.0.pointer("/spec/rules/0/matches/0/path/value"),
        Some(&serde_json::json!("/admin"))
    );
}
