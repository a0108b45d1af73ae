//! More public hosts than one Gateway's 64 listeners hold, in gateway mode, with
//! no change to the spec: the hosts spread over `NAME`, `NAME-2`, ... (the first
//! keeps the plain HTTP listener), every route attaches to the listener of its
//! host on the Gateway that has it, and Envoy Gateway merges the Gateways onto
//! one address. Without the Envoy Gateway component the spec is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;
use windlass_core::model::Platform;
use windlass_core::plan::Plan;
use windlass_core::render::render;

/// `apps` apps with one public host each; `envoy_gateway: false` switches the component off.
fn spec(apps: usize, envoy_gateway: bool) -> String {
    let mut s = format!(
        "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform:\n  name: many\n  domain: many.example.com\n  \
         email: ops@example.com\n  tls: letsencrypt-prod\n  components:\n    envoy-gateway: {{ enabled: {envoy_gateway} }}\napps:\n"
    );
    for i in 0..apps {
        let _ = write!(
            s,
            "  app{i:03}:\n    image: registry.example.com/app{i}:1.0.0\n    port: 8080\n    hosts: [h{i:03}]\n    health: /healthz\n"
        );
    }
    s
}

fn objects(apps: usize) -> Vec<Value> {
    let spec = windlass_core::spec::load("windlass.yaml", &spec(apps, true)).expect("a valid spec");
    let (name, file) = spec.environment(None).expect("the default environment");
    let platform = Platform::build(file, name);
    let plan = Plan::new(&platform, &[]).expect("plan");
    render(&platform, &plan)
        .units
        .into_iter()
        .flat_map(|u| u.objects)
        .map(|o| o.0)
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

/// Gateway name -> its listeners' names.
fn listeners(objects: &[Value]) -> BTreeMap<String, Vec<String>> {
    of_kind(objects, "Gateway")
        .into_iter()
        .map(|g| {
            let names = g["spec"]["listeners"]
                .as_array()
                .expect("listeners")
                .iter()
                .map(|l| l["name"].as_str().expect("a name").to_string())
                .collect();
            (g["metadata"]["name"].as_str().expect("a name").to_string(), names)
        })
        .collect()
}

#[test]
fn up_to_63_hosts_stay_on_one_gateway_without_merging() {
    // 62 apps + Grafana = 63 hosts, plus the HTTP listener: 64.
    let objects = objects(62);
    let gateways = listeners(&objects);
    assert_eq!(gateways.keys().collect::<Vec<_>>(), ["many"]);
    assert_eq!(gateways["many"].len(), 64);
    assert!(of_kind(&objects, "EnvoyProxy").is_empty());
    let class = of_kind(&objects, "GatewayClass");
    assert!(class[0]["spec"].get("parametersRef").is_none());
}

#[test]
fn more_hosts_spread_over_merged_gateways_and_every_route_finds_its_listener() {
    // 200 apps + Grafana = 201 hosts: 63 + 64 + 64 + 10.
    let objects = objects(200);
    let gateways = listeners(&objects);
    let sizes: Vec<(String, usize)> = gateways.iter().map(|(n, l)| (n.clone(), l.len())).collect();
    assert_eq!(
        sizes,
        [
            ("many".to_string(), 64),
            ("many-2".to_string(), 64),
            ("many-3".to_string(), 64),
            ("many-4".to_string(), 10),
        ]
    );
    assert_eq!(gateways["many"][0], "http", "the first Gateway keeps plain HTTP");
    for (name, l) in &gateways {
        if name != "many" {
            assert!(!l.contains(&"http".to_string()), "{name} has no second HTTP listener");
        }
    }
    // Every host has exactly one listener, on exactly one Gateway.
    let all: Vec<&String> = gateways.values().flatten().filter(|l| *l != "http").collect();
    assert_eq!(all.len(), 201);
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 201);

    // Every HTTPS route attaches to a listener that exists on the Gateway it names.
    let mut attached = 0;
    for route in of_kind(&objects, "HTTPRoute") {
        for parent in route["spec"]["parentRefs"].as_array().expect("parents") {
            let gateway = parent["name"].as_str().expect("a Gateway");
            let section = parent["sectionName"].as_str().expect("a listener");
            assert!(
                gateways.get(gateway).is_some_and(|l| l.iter().any(|n| n == section)),
                "{} attaches to {gateway}/{section}, which does not exist",
                route["metadata"]["name"]
            );
            attached += 1;
        }
    }
    assert!(
        attached > 201,
        "every app's route and Grafana's are checked ({attached})"
    );

    // The controller merges them: one Envoy fleet, one address for every host.
    let proxies = of_kind(&objects, "EnvoyProxy");
    assert_eq!(proxies.len(), 1);
    assert_eq!(proxies[0]["spec"]["mergeGateways"], true);
    let class = of_kind(&objects, "GatewayClass");
    let parameters = &class[0]["spec"]["parametersRef"];
    assert_eq!(parameters["kind"], "EnvoyProxy");
    assert_eq!(parameters["name"], proxies[0]["metadata"]["name"]);
    assert_eq!(parameters["namespace"], proxies[0]["metadata"]["namespace"]);
}

#[test]
fn without_envoy_gateway_more_than_63_hosts_are_refused_with_the_fix() {
    let err = windlass_core::spec::load("windlass.yaml", &spec(70, false))
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains(
            "platform.traffic.mode: 71 public hosts (Grafana's included) do not fit on one Gateway (at most 63)"
        ),
        "{err}"
    );
    assert!(
        err.contains("help: switch `platform.components.envoy-gateway` back on"),
        "{err}"
    );
}
