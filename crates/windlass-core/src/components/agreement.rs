//! The content pack and the components must agree: every selector, label,
//! datasource uid, Secret and Service name the rendered objects assume is set
//! by a component's values. The test reads both sides from their outputs (the
//! rendered objects and the values windlass hands to helm), so a change on
//! either side that breaks the other fails it.

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use crate::components::{ComponentName, lookup};
    use crate::model::Platform;
    use crate::plan::Plan;
    use crate::render::{Object, render};

    const EXAMPLE: &str = include_str!("../../../../examples/platform/windlass.yaml");

    fn example(env: &str) -> (Platform, Vec<Object>) {
        let spec = crate::spec::load("windlass.yaml", EXAMPLE).expect("example is valid");
        let (name, file) = spec.environment(Some(env)).expect("environment");
        let platform = Platform::build(file, name);
        let plan = Plan::new(&platform, &[]).expect("plan");
        let objects = render(&platform, &plan).objects().cloned().collect();
        (platform, objects)
    }

    fn values(platform: &Platform, c: ComponentName) -> &Value {
        &platform.component(c).expect("component enabled").values
    }

    fn text<'a>(v: &'a Value, path: &str) -> &'a str {
        lookup(v, path)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{path} is set"))
    }

    fn label<'a>(o: &'a Object, key: &str) -> Option<&'a str> {
        o.labels().and_then(|l| l.get(key)).and_then(Value::as_str)
    }

    /// Every `"datasource": {"uid": ...}` in a dashboard.
    fn datasource_uids(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(uid) = m.get("datasource").and_then(|d| d.get("uid")).and_then(Value::as_str) {
                    out.insert(uid.to_string());
                }
                m.values().for_each(|v| datasource_uids(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| datasource_uids(v, out)),
            _ => {}
        }
    }

    /// Label names of every LogQL stream selector (`{a="x", b=~"y"}`) in a text.
    fn stream_label_names(expr: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let mut rest = expr;
        while let Some(start) = rest.find('{') {
            let Some(len) = rest[start..].find('}') else { break };
            for matcher in rest[start + 1..start + len].split(',') {
                let name: String = matcher
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.insert(name);
                }
            }
            rest = &rest[start + len..];
        }
        names
    }

    #[test]
    fn every_monitoring_object_is_selected_by_the_prometheus_the_values_configure() {
        for env in ["development", "production"] {
            let (platform, objects) = example(env);
            let kps = values(&platform, ComponentName::KubePrometheusStack);
            let mut seen = 0;
            for (kind, selector) in [
                ("PrometheusRule", "prometheus.prometheusSpec.ruleSelector.matchLabels"),
                (
                    "ServiceMonitor",
                    "prometheus.prometheusSpec.serviceMonitorSelector.matchLabels",
                ),
                ("Probe", "prometheus.prometheusSpec.probeSelector.matchLabels"),
            ] {
                let wanted = lookup(kps, selector).and_then(Value::as_object).expect(selector);
                assert!(!wanted.is_empty(), "{selector} selects something");
                for o in objects.iter().filter(|o| o.kind() == kind) {
                    for (k, v) in wanted {
                        assert_eq!(label(o, k), v.as_str(), "{env}: {} carries {k}", o.id());
                    }
                    seen += 1;
                }
            }
            assert!(seen > 5, "{env}: the example renders rules, monitors and probes");
            // The release the selectors name is the release windlass installs.
            let release = &platform
                .component(ComponentName::KubePrometheusStack)
                .expect("kps")
                .release;
            assert_eq!(
                text(kps, "prometheus.prometheusSpec.ruleSelector.matchLabels.release"),
                release
            );
        }
    }

    #[test]
    fn dashboards_are_picked_up_and_query_datasources_grafana_has() {
        let (platform, objects) = example("production");
        let kps = values(&platform, ComponentName::KubePrometheusStack);
        let key = text(kps, "grafana.sidecar.dashboards.label");
        let value = text(kps, "grafana.sidecar.dashboards.labelValue");
        let mut provisioned: BTreeSet<String> =
            BTreeSet::from([text(kps, "grafana.sidecar.datasources.uid").to_string()]);
        for ds in lookup(kps, "grafana.additionalDataSources")
            .and_then(Value::as_array)
            .expect("datasources")
        {
            provisioned.insert(text(ds, "uid").to_string());
        }
        let dashboards: Vec<&Object> = objects
            .iter()
            .filter(|o| o.kind() == "ConfigMap" && o.name().starts_with("dashboard-"))
            .collect();
        assert!(dashboards.len() >= 5);
        let mut used = BTreeSet::new();
        for d in dashboards {
            assert_eq!(label(d, key), Some(value), "{} is picked up by the sidecar", d.id());
            for json in d.at(&["data"]).and_then(Value::as_object).expect("data").values() {
                let parsed: Value = serde_json::from_str(json.as_str().expect("text")).expect("dashboard JSON");
                datasource_uids(&parsed, &mut used);
            }
        }
        assert!(used.contains("prometheus") && used.contains("loki"), "{used:?}");
        let missing: Vec<&String> = used.difference(&provisioned).collect();
        assert!(
            missing.is_empty(),
            "dashboards query datasources Grafana lacks: {missing:?}"
        );
    }

    #[test]
    fn log_rules_reach_the_ruler_and_select_labels_the_collector_sets() {
        let (platform, objects) = example("production");
        let loki = values(&platform, ComponentName::Loki);
        let key = text(loki, "sidecar.rules.label");
        let value = text(loki, "sidecar.rules.labelValue");
        let rules: Vec<&Object> = objects.iter().filter(|o| label(o, key).is_some()).collect();
        assert!(!rules.is_empty());
        let set: BTreeSet<String> = super::super::values::stream_labels()
            .iter()
            .map(|l| l.label.to_string())
            .collect();
        let pipeline = text(values(&platform, ComponentName::Alloy), "alloy.configMap.content");
        for l in super::super::values::stream_labels() {
            assert!(
                pipeline.contains(&format!("target_label  = {:?}", l.label)),
                "the Alloy pipeline sets `{}`",
                l.label
            );
        }
        for r in rules {
            assert_eq!(label(r, key), Some(value), "{}", r.id());
            for text in r.at(&["data"]).and_then(Value::as_object).expect("data").values() {
                let used = stream_label_names(text.as_str().expect("rules text"));
                assert!(!used.is_empty(), "{} has stream selectors", r.id());
                let unknown: Vec<&String> = used.difference(&set).collect();
                assert!(
                    unknown.is_empty(),
                    "{} selects labels no log carries: {unknown:?}",
                    r.id()
                );
            }
        }
    }

    #[test]
    fn secrets_services_and_classes_are_the_ones_the_charts_use() {
        let (platform, objects) = example("production");
        let find = |kind: &str, name: &str| {
            objects
                .iter()
                .find(|o| o.kind() == kind && o.name() == name)
                .unwrap_or_else(|| panic!("{kind} {name} is rendered"))
        };
        let kps = platform.component(ComponentName::KubePrometheusStack).expect("kps");
        let am = find(
            "Secret",
            text(&kps.values, "alertmanager.alertmanagerSpec.configSecret"),
        );
        assert_eq!(am.namespace(), kps.namespace);
        let blackbox = platform.component(ComponentName::BlackboxExporter).expect("blackbox");
        let config = find("Secret", text(&blackbox.values, "configExistingSecretName"));
        assert_eq!(config.namespace(), blackbox.namespace);
        // The chart names its Service after the release (it contains the chart name).
        assert!(blackbox.release.contains(&blackbox.chart.name));
        let prober = format!("{}.{}.svc:9115", blackbox.release, blackbox.namespace);
        for p in objects.iter().filter(|o| o.kind() == "Probe") {
            assert_eq!(
                p.at(&["spec", "prober", "url"]).and_then(Value::as_str),
                Some(prober.as_str())
            );
        }
        let class = find("GatewayClass", &platform.traffic.class);
        assert_eq!(
            class.at(&["spec", "controllerName"]).and_then(Value::as_str),
            Some(crate::render::ENVOY_GATEWAY_CONTROLLER)
        );
        for g in objects.iter().filter(|o| o.kind() == "Gateway") {
            assert_eq!(
                g.at(&["spec", "gatewayClassName"]).and_then(Value::as_str),
                Some(class.name())
            );
        }
        // The Alertmanager mounts every Secret the receivers read credentials from.
        let mounted: Vec<&str> = lookup(&kps.values, "alertmanager.alertmanagerSpec.secrets")
            .and_then(Value::as_array)
            .expect("secrets")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let config_text = am
            .at(&["stringData", "alertmanager.yaml"])
            .and_then(Value::as_str)
            .expect("config");
        for line in config_text.lines().filter(|l| l.contains("/etc/alertmanager/secrets/")) {
            let secret = line
                .split("/etc/alertmanager/secrets/")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .expect("secret dir");
            assert!(mounted.contains(&secret), "{secret} is mounted");
        }
    }

    #[test]
    fn stream_selectors_are_read() {
        assert_eq!(
            stream_label_names(r#"sum(count_over_time({namespace="shop", app=~"web"} |= "x" [5m]))"#),
            BTreeSet::from(["app".to_string(), "namespace".to_string()])
        );
    }
}
