//! The bundled example platform: pinned by snapshots, and held to the
//! production invariants and the k8s-openapi round trip in every environment.

use windlass_core::check::{Config, Source, invariants, round_trips, run};
use windlass_core::content;
use windlass_core::model::Platform;
use windlass_core::plan::{Plan, Selector};
use windlass_core::render::{Outline, Rendered, documents, for_each_unit, render, to_yaml, to_yaml_stream};

const EXAMPLE: &str = include_str!("../../../examples/platform/windlass.yaml");

fn rendered(env: &str, only: &[Selector]) -> (Platform, Rendered) {
    let spec = windlass_core::spec::load("examples/platform/windlass.yaml", EXAMPLE).expect("example is valid");
    let (name, file) = spec.environment(Some(env)).expect("environment exists");
    let platform = Platform::build(file, name);
    let plan = Plan::new(&platform, only).expect("plan");
    let r = render(&platform, &plan);
    (platform, r)
}

/// One snapshot per unit, so a change shows up in the unit it belongs to.
fn snapshot_units(env: &str) {
    let (platform, r) = rendered(env, &[]);
    for unit in r.units.iter().filter(|u| !u.objects.is_empty()) {
        let name = format!("{env}-{}", unit.dir.replace('/', "-"));
        insta::assert_snapshot!(name, to_yaml_stream(&unit.objects));
    }
    // The chart values windlass sets, one snapshot per component.
    for c in &platform.components {
        let name = format!("{env}-_components-{}-values", c.name);
        insta::assert_snapshot!(name, to_yaml(&windlass_core::render::Object(c.values.clone())));
    }
}

#[test]
fn development_snapshots() {
    snapshot_units("development");
}

#[test]
fn production_snapshots() {
    snapshot_units("production");
}

/// Content is built per unit (platform, then each app); together the pieces are exactly the
/// whole content pack that the promtool/amtool tests check.
#[test]
fn per_unit_content_is_the_whole_pack() {
    for env in ["development", "production"] {
        let spec = windlass_core::spec::load("examples/platform/windlass.yaml", EXAMPLE).expect("example is valid");
        let (name, file) = spec.environment(Some(env)).expect("environment exists");
        let platform = Platform::build(file, name);
        let apps: Vec<&windlass_core::model::App> = platform.apps.iter().collect();
        let whole = content::render(&platform, &apps);
        assert_eq!(content::platform_objects(&platform, &apps), whole.platform, "{env}");
        for app in &apps {
            assert_eq!(
                Some(&content::app_objects(&platform, app)),
                whole.apps.get(&app.name),
                "{env} {}",
                app.name
            );
        }
        assert_eq!(whole.apps.len(), apps.len(), "{env}");
    }
}

/// The streaming path hands over every unit of the plan once, in plan order, checked and serialised.
#[test]
fn streamed_units_follow_the_plan() {
    let (platform, r) = rendered("production", &[]);
    let plan = Plan::new(&platform, &[]).expect("plan");
    let mut streamed = Vec::new();
    let done: Result<(), ()> = for_each_unit(&Outline::new(&platform, &plan), documents, |u| {
        assert_eq!(u.findings, vec![], "{}", u.dir);
        streamed.push((u.dir, u.documents.into_iter().map(|d| d.yaml).collect::<Vec<_>>()));
        Ok(())
    });
    assert_eq!(done, Ok(()));
    let whole: Vec<(String, Vec<String>)> = r
        .units
        .into_iter()
        .map(|u| (u.dir, u.objects.iter().map(to_yaml).collect()))
        .collect();
    assert_eq!(streamed, whole);
}

#[test]
fn the_plan_orders_every_object_after_what_it_uses_in_both_traffic_modes_and_with_vault() {
    let ingress = EXAMPLE.replace("mode: gateway", "mode: ingress");
    // Vault and its operator on, the backend reading its password from Vault.
    let vault = EXAMPLE
        .replace(
            "  traffic:\n",
            "  components: { vault: { enabled: true }, vault-secrets-operator: { enabled: true } }\n  traffic:\n",
        )
        .replace(
            "DATABASE_PASSWORD: postgres-credentials/password",
            "DATABASE_PASSWORD: { vault: secret/shop/db#password }",
        );
    assert_ne!(vault, EXAMPLE);
    for text in [EXAMPLE, ingress.as_str(), vault.as_str()] {
        let spec = windlass_core::spec::load("windlass.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        for (env, file) in &spec.environments {
            let platform = Platform::build(file, env);
            let plan = Plan::new(&platform, &[]).expect("plan");
            let units = render(&platform, &plan).units;
            assert_eq!(plan.unordered_needs(&platform, &units), Vec::<String>::new(), "{env}");
        }
    }
}

#[test]
fn every_environment_passes_the_invariants_and_round_trips() {
    for env in ["development", "production"] {
        let (_, r) = rendered(env, &[]);
        let objects: Vec<_> = r.objects().cloned().collect();
        assert_eq!(invariants(&objects), vec![], "{env}");
        // The whole platform at once, with the rules that follow references across units too.
        let all: Vec<&_> = objects.iter().collect();
        assert_eq!(run(&all, Source::Manifests, &Config::default()), vec![], "{env}");
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
