//! Property tests: any valid spec renders objects that survive the k8s-openapi
//! round trip and satisfy the production invariants; any input at all is
//! answered with objects or diagnostics, never a panic.

use proptest::prelude::*;
use serde_json::{Value, json};
use windlass_core::check::{invariants, round_trips};
use windlass_core::model::Platform;
use windlass_core::plan::Plan;
use windlass_core::render::render;

#[derive(Debug, Clone)]
struct AppGen {
    kind: &'static str,
    port: u16,
    metrics_port: Option<u16>,
    scaling: (bool, u32, u32),
    disruption: Option<(bool, u32)>,
    cpu_milli: u32,
    memory_mi: u32,
    public: bool,
    restricted_path: bool,
    needs_mask: u8,
    health: u8,
    persistence: bool,
}

fn app_gen() -> impl Strategy<Value = AppGen> {
    (
        prop_oneof![Just("web"), Just("worker"), Just("cron"), Just("statefulset")],
        1024u16..60000,
        proptest::option::of(1024u16..60000),
        (any::<bool>(), 1u32..5, 0u32..6),
        proptest::option::of((any::<bool>(), 0u32..4)),
        (1u32..4000, 16u32..4096),
        (any::<bool>(), any::<bool>()),
        any::<u8>(),
        0u8..3,
        any::<bool>(),
    )
        .prop_map(
            |(
                kind,
                port,
                metrics_port,
                scaling,
                disruption,
                (cpu_milli, memory_mi),
                (public, restricted_path),
                needs_mask,
                health,
                persistence,
            )| AppGen {
                kind,
                port,
                metrics_port,
                scaling,
                disruption,
                cpu_milli,
                memory_mi,
                public,
                restricted_path,
                needs_mask,
                health,
                persistence,
            },
        )
}

/// A spec that is valid by construction: the generator only makes choices the validator accepts.
fn spec_from(apps: &[AppGen], ingress: bool, tls: &str) -> Value {
    let mut out = serde_json::Map::new();
    for (i, g) in apps.iter().enumerate() {
        let name = format!("app{i}");
        let mut a = serde_json::Map::new();
        a.insert("kind".into(), json!(g.kind));
        a.insert("image".into(), json!(format!("registry.example/app{i}:1.{i}.0")));
        if g.kind != "cron" {
            a.insert("port".into(), json!(g.port));
            match g.health {
                0 => a.insert("health".into(), json!("/healthz")),
                1 => a.insert("health".into(), json!({"tcp": true})),
                _ => a.insert("health".into(), json!({"command": ["/bin/check", "--local"]})),
            };
            if let Some(mp) = g.metrics_port {
                a.insert("metrics".into(), json!({"path": "/metrics", "port": mp}));
            }
            let (auto, min, extra) = g.scaling;
            let floor = if auto {
                a.insert("autoscaling".into(), json!({"min": min, "max": min + extra, "cpu": 70}));
                min
            } else {
                a.insert("replicas".into(), json!(min));
                min
            };
            if let Some((max_unavailable, n)) = g.disruption {
                if max_unavailable {
                    a.insert("disruption".into(), json!({"maxUnavailable": n.max(1)}));
                } else {
                    a.insert("disruption".into(), json!({"minAvailable": n.min(floor - 1)}));
                }
            }
            if g.persistence && (g.kind == "statefulset" || (floor == 1 && !auto)) {
                a.insert("persistence".into(), json!({"size": "5Gi"}));
            }
        } else {
            a.insert("schedule".into(), json!("*/5 * * * *"));
        }
        if g.kind == "web" && g.public {
            a.insert("hosts".into(), json!([format!("h{i}")]));
            if g.restricted_path {
                a.insert(
                    "routes".into(),
                    json!([{"path": "/"}, {"path": "/admin", "allowFrom": ["10.0.0.0/8"]}]),
                );
            }
        }
        a.insert(
            "resources".into(),
            json!({"cpu": format!("{}m", g.cpu_milli), "memory": format!("{}Mi", g.memory_mi)}),
        );
        let needs: Vec<String> = (0..i)
            .filter(|j| g.needs_mask & (1 << (j % 8)) != 0)
            .map(|j| format!("app{j}"))
            .collect();
        a.insert("needs".into(), json!(needs));
        out.insert(name, Value::Object(a));
    }
    json!({
        "apiVersion": "windlass.dev/v1alpha1",
        "kind": "Platform",
        "platform": {
            "name": "prop", "domain": "example.org", "email": "ops@example.org", "tls": tls,
            "traffic": {"mode": if ingress { "ingress" } else { "gateway" }}
        },
        "apps": out,
        "environments": {"staging": {}, "production": {"platform": {"namespace": "prop-prod"}}}
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn valid_specs_render_objects_that_hold_the_invariants(
        apps in proptest::collection::vec(app_gen(), 1..7),
        ingress in any::<bool>(),
        tls in prop_oneof![Just("letsencrypt-prod"), Just("letsencrypt-staging"), Just("self-signed")],
    ) {
        let text = serde_saphyr::to_string(&spec_from(&apps, ingress, tls)).expect("yaml");
        let spec = match windlass_core::spec::load("prop.yaml", &text) {
            Ok(s) => s,
            Err(e) => return Err(TestCaseError::fail(format!("generated spec rejected:\n{e}\n{text}"))),
        };
        for (env, file) in &spec.environments {
            let platform = Platform::build(file, env);
            let rendered = render(&platform, &Plan::new(&platform, &[]).expect("plan"));
            let objects: Vec<_> = rendered.objects().cloned().collect();
            // A spec gives one health path unless it sets `health.liveness`: that warning is
            // the user's to fix; every other rule holds on every valid spec.
            let findings: Vec<_> =
                invariants(&objects).into_iter().filter(|f| f.rule != "liveness-checks-dependencies").collect();
            prop_assert_eq!(findings, vec![]);
            for o in &objects {
                prop_assert!(round_trips(o).is_ok(), "{:?}", round_trips(o));
            }
            // Workloads: one per app, never `replicas` alongside an HPA (also checked above, by name here).
            for app in &platform.apps {
                let has_hpa = objects.iter().any(|o| o.kind() == "HorizontalPodAutoscaler" && o.name() == app.name);
                let workload = objects.iter().find(|o| matches!(o.kind(), "Deployment" | "StatefulSet" | "CronJob") && o.name() == app.name);
                prop_assert!(workload.is_some());
                if has_hpa {
                    prop_assert!(workload.and_then(|w| w.0.pointer("/spec/replicas")).is_none());
                }
            }
        }
    }

    #[test]
    fn plan_needs_cover_what_every_object_uses(
        apps in proptest::collection::vec(app_gen(), 1..7),
        ingress in any::<bool>(),
        tls in prop_oneof![Just("letsencrypt-prod"), Just("self-signed")],
    ) {
        let text = serde_saphyr::to_string(&spec_from(&apps, ingress, tls)).expect("yaml");
        let spec = windlass_core::spec::load("prop.yaml", &text).expect("valid");
        for (env, file) in &spec.environments {
            let platform = Platform::build(file, env);
            let plan = Plan::new(&platform, &[]).expect("plan");
            let rendered = render(&platform, &plan);
            prop_assert_eq!(plan.unordered_needs(&platform, &rendered.units), Vec::<String>::new());
        }
    }

    #[test]
    fn gitops_trees_follow_every_edge_of_the_unit_graph_and_apply_every_object_once(
        apps in proptest::collection::vec(app_gen(), 1..7),
        ingress in any::<bool>(),
    ) {
        use std::collections::{BTreeMap, BTreeSet};
        use windlass_core::render::flux::{self, FluxOptions};
        use windlass_core::render::{Outline, map_units};
        use windlass_core::unit::UnitId;
        let text = serde_saphyr::to_string(&spec_from(&apps, ingress, "self-signed")).expect("yaml");
        let spec = windlass_core::spec::load("prop.yaml", &text).expect("valid");
        for (env, file) in &spec.environments {
            let platform = Platform::build(file, env);
            let plan = Plan::new(&platform, &[]).expect("plan");
            let outline = Outline::new(&platform, &plan);
            let opts = FluxOptions { cluster: env.clone(), ..FluxOptions::default() };
            // Units as Flux applies them: directory -> object identities.
            let mut dirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut configs = BTreeSet::new();
            let mut total = 0;
            for (unit, whole) in map_units(&outline, |u| {
                let n = u.objects.len();
                (flux::split(u), n)
            }) {
                let (main, config) = unit;
                total += whole;
                if !flux::has_kustomization(&main.kind) {
                    prop_assert_eq!(whole, 0, "a CRD unit renders nothing of its own");
                    continue;
                }
                let ids = |u: &windlass_core::render::Unit| u.objects.iter().map(|o| format!("{}/{}/{}", o.kind(), o.namespace(), o.name())).collect::<Vec<_>>();
                dirs.insert(flux::unit_path(env, &main.dir), ids(&main));
                if let Some(c) = config {
                    configs.insert(main.kind.clone());
                    dirs.insert(flux::unit_path(env, &c.dir), ids(&c));
                }
            }
            let ks = flux::kustomizations(&platform, &plan, &opts, |id| outline.unit(id).dir, &configs, &BTreeSet::new());
            let by_unit: BTreeMap<String, &windlass_core::render::Object> = ks.iter()
                .filter(|k| !k.name().ends_with("-config"))
                .map(|k| (k.0["metadata"]["labels"]["windlass.dev/unit"].as_str().unwrap_or_default().to_string(), k))
                .collect();
            let mut paths = BTreeSet::new();
            for k in &ks {
                prop_assert_eq!(&k.0["spec"]["wait"], &json!(true));
                let path = k.0["spec"]["path"].as_str().unwrap_or_default().trim_start_matches("./").to_string();
                prop_assert!(dirs.contains_key(&path), "{} applies {}, which holds nothing", k.name(), path);
                prop_assert!(paths.insert(path));
            }
            // Every object is in exactly one directory, and every directory has exactly one Kustomization.
            prop_assert_eq!(paths.len(), dirs.len());
            let placed: Vec<&String> = dirs.values().flatten().collect();
            let distinct: BTreeSet<&String> = placed.iter().copied().collect();
            prop_assert_eq!(placed.len(), total);
            prop_assert_eq!(distinct.len(), total);
            // For every edge A -> B of the graph, B's Kustomization depends on A's (a CRD unit
            // is its component's release; a component with config objects, its config).
            for unit in plan.up().iter().filter(|u| flux::has_kustomization(&u.id)) {
                let k = by_unit.get(&unit.id.to_string()).expect("a Kustomization per unit");
                let depends: BTreeSet<&str> = k.0["spec"]["dependsOn"].as_array().into_iter().flatten()
                    .filter_map(|d| d["name"].as_str()).collect();
                for need in &unit.needs {
                    let wanted = match need {
                        UnitId::Component(c) if configs.contains(need) => flux::config_kustomization_name(&platform, c),
                        _ => flux::kustomization_name(&platform, need),
                    };
                    if wanted != k.name() {
                        prop_assert!(depends.contains(wanted.as_str()), "{} lacks {} ({} needs {})", k.name(), wanted, unit.id, need);
                    }
                }
            }
            // Argo CD: for every edge A -> B, wave(B) > wave(A) (and after A's config wave).
            let waves = windlass_core::render::argocd::waves(&plan, &configs);
            for unit in plan.up() {
                for need in &unit.needs {
                    let (a, b) = (flux::folded(need), flux::folded(&unit.id));
                    if a == b { continue; }
                    let gap = if !matches!(need, UnitId::Crds(_)) && configs.contains(&a) { 2 } else { 1 };
                    prop_assert!(waves[&b] >= waves[&a] + gap, "wave({}) = {} vs wave({}) = {}", b, waves[&b], a, waves[&a]);
                }
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = windlass_core::spec::load("fuzz.yaml", &text);
    }

    #[test]
    fn mutated_valid_specs_never_panic(
        apps in proptest::collection::vec(app_gen(), 1..3),
        cut in 0usize..2000,
        insert in "[ :\\-\\[\\]{}a-z0-9\\n]{0,12}",
    ) {
        let text = serde_saphyr::to_string(&spec_from(&apps, false, "self-signed")).expect("yaml");
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) { cut -= 1; }
        let mutated = format!("{}{}{}", &text[..cut], insert, &text[cut..]);
        if let Ok(spec) = windlass_core::spec::load("m.yaml", &mutated) {
            for (env, file) in &spec.environments {
                let platform = Platform::build(file, env);
                let _ = render(&platform, &Plan::new(&platform, &[]).expect("plan"));
            }
        }
    }
}
