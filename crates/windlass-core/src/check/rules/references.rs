//! References: selectors that select nothing, and names that point at nothing
//! (HPA targets, Ingress and HTTPRoute backends, TLS Secrets, a StatefulSet's
//! headless Service, ServiceMonitor ports, the Prometheus that should load a
//! monitoring object).

use crate::check::index::items;
use serde_json::{Map, Value};

use super::{Ctx, Out};
use crate::check::index::{expressions, selector_matches};
use crate::render::Object;
use crate::source::FieldPath;

fn spec() -> FieldPath {
    FieldPath::root().key("spec")
}

fn nonempty(v: Option<&Value>) -> Option<&Value> {
    v.filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
}

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    selectors(cx, out);
    hpa_targets(cx, out);
    backends(cx, out);
    tls(cx, out);
    statefulsets(cx, out);
    monitors(cx, out);
}

fn selectors(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, s) in cx.index.of_kind("Service") {
        if s.at(&["spec", "type"]).and_then(Value::as_str) == Some("ExternalName") {
            continue;
        }
        if let Some(sel) = s
            .at(&["spec", "selector"])
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
            && cx.index.selected_by_service(s.namespace(), sel).next().is_none()
        {
            out.report(
                i,
                "selector-matches-nothing",
                spec().key("selector"),
                format!("selects no pods: {}", labels(sel)),
            );
        }
    }
    for (kind, field) in [
        ("PodDisruptionBudget", "selector"),
        ("NetworkPolicy", "podSelector"),
        ("PodMonitor", "selector"),
    ] {
        for (i, o) in cx.index.of_kind(kind) {
            if let Some(sel) = nonempty(o.at(&["spec", field]))
                && cx.index.selected_by(o.namespace(), sel).next().is_none()
            {
                out.report(
                    i,
                    "selector-matches-nothing",
                    spec().key(field),
                    format!("selects no pods: {}", selector_text(sel)),
                );
            }
        }
    }
}

fn hpa_targets(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, h) in cx.index.of_kind("HorizontalPodAutoscaler") {
        let t = |f: &str| {
            h.at(&["spec", "scaleTargetRef", f])
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        if cx.index.find(t("kind"), h.namespace(), t("name")).is_none() {
            out.report(
                i,
                "hpa-target-missing",
                spec().key("scaleTargetRef").key("name"),
                format!("scales {} {}, which is not among the objects", t("kind"), t("name")),
            );
        }
    }
}

/// Whether a Service has a port by number (`port`) or name.
fn service_has_port(s: &Object, port: &Value) -> bool {
    s.list(&["spec", "ports"]).any(|p| match port {
        Value::Number(n) => p.get("port").and_then(Value::as_i64) == n.as_i64(),
        Value::String(name) => p.get("name").and_then(Value::as_str) == Some(name),
        _ => true,
    })
}

fn backends(cx: &Ctx<'_>, out: &mut Out<'_>) {
    let check = |out: &mut Out<'_>, i: usize, ns: &str, name: &str, port: Option<&Value>, path: FieldPath| match cx
        .index
        .find("Service", ns, name)
    {
        None => out.report(
            i,
            "backend-service-missing",
            path,
            format!("sends traffic to Service {ns}/{name}, which is not among the objects"),
        ),
        Some((_, s)) => {
            if let Some(p) = port
                && !service_has_port(s, p)
            {
                out.report(
                    i,
                    "backend-service-missing",
                    path,
                    format!("sends traffic to port {p} of Service {ns}/{name}, which has no such port"),
                );
            }
        }
    };
    for (i, ing) in cx.index.of_kind("Ingress") {
        let ns = ing.namespace();
        let mut refs: Vec<(FieldPath, &Value)> = Vec::new();
        if let Some(b) = ing.at(&["spec", "defaultBackend", "service"]) {
            refs.push((spec().key("defaultBackend").key("service"), b));
        }
        for (r, rule) in ing.list(&["spec", "rules"]).enumerate() {
            for (p, path) in rule
                .pointer("/http/paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(b) = path.pointer("/backend/service") {
                    let at = spec()
                        .key("rules")
                        .index(r)
                        .key("http")
                        .key("paths")
                        .index(p)
                        .key("backend")
                        .key("service");
                    refs.push((at, b));
                }
            }
        }
        for (at, b) in refs {
            let name = b.get("name").and_then(Value::as_str).unwrap_or("");
            let port = b.pointer("/port/number").or_else(|| b.pointer("/port/name"));
            check(out, i, ns, name, port, at);
        }
    }
    for kind in ["HTTPRoute", "GRPCRoute"] {
        for (i, route) in cx.index.of_kind(kind) {
            for (r, rule) in route.list(&["spec", "rules"]).enumerate() {
                for (b, br) in items(rule, "backendRefs").enumerate() {
                    let kind = br.get("kind").and_then(Value::as_str).unwrap_or("Service");
                    let group = br.get("group").and_then(Value::as_str).unwrap_or("");
                    if kind != "Service" || !group.is_empty() {
                        continue;
                    }
                    let ns = br.get("namespace").and_then(Value::as_str).unwrap_or(route.namespace());
                    let name = br.get("name").and_then(Value::as_str).unwrap_or("");
                    let at = spec().key("rules").index(r).key("backendRefs").index(b);
                    check(out, i, ns, name, br.get("port"), at);
                }
            }
        }
    }
}

fn cert_manager_annotated(o: &Object) -> bool {
    o.at(&["metadata", "annotations"])
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key("cert-manager.io/cluster-issuer") || a.contains_key("cert-manager.io/issuer"))
}

fn tls(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, ing) in cx.index.of_kind("Ingress") {
        if cert_manager_annotated(ing) {
            continue;
        }
        for (t, tls) in ing.list(&["spec", "tls"]).enumerate() {
            if let Some(name) = tls.get("secretName").and_then(Value::as_str)
                && !cx.index.secret_provided(ing.namespace(), name)
            {
                out.report(
                    i,
                    "tls-secret-missing",
                    spec().key("tls").index(t).key("secretName"),
                    format!(
                        "TLS Secret {}/{name}: no Secret, no Certificate and no cert-manager annotation creates it",
                        ing.namespace()
                    ),
                );
            }
        }
    }
    for (i, gw) in cx.index.of_kind("Gateway") {
        if cert_manager_annotated(gw) {
            continue;
        }
        for (l, listener) in gw.list(&["spec", "listeners"]).enumerate() {
            for (c, r) in listener
                .pointer("/tls/certificateRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if r.get("kind").and_then(Value::as_str).unwrap_or("Secret") != "Secret" {
                    continue;
                }
                let ns = r.get("namespace").and_then(Value::as_str).unwrap_or(gw.namespace());
                let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                if !cx.index.secret_provided(ns, name) {
                    out.report(
                        i,
                        "tls-secret-missing",
                        spec().key("listeners").index(l).key("tls").key("certificateRefs").index(c),
                        format!("TLS Secret {ns}/{name}: no Secret, no Certificate and no cert-manager annotation creates it"),
                    );
                }
            }
        }
    }
}

fn statefulsets(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, s) in cx.index.of_kind("StatefulSet") {
        let Some(name) = s
            .at(&["spec", "serviceName"])
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        let at = spec().key("serviceName");
        match cx.index.find("Service", s.namespace(), name) {
            None => out.report(
                i,
                "statefulset-service-missing",
                at,
                format!("serviceName `{name}`: no such Service among the objects"),
            ),
            Some((_, svc)) if svc.at(&["spec", "clusterIP"]).and_then(Value::as_str) != Some("None") => out.report(
                i,
                "statefulset-service-missing",
                at,
                format!("serviceName `{name}` is not headless (`clusterIP: None`): the pods get no stable DNS names"),
            ),
            Some(_) => {}
        }
    }
}

/// The namespaces a monitor's `namespaceSelector` covers: `None` for any.
fn monitor_namespaces(o: &Object) -> Option<Vec<&str>> {
    match o.at(&["spec", "namespaceSelector"]) {
        Some(ns) if ns.get("any").and_then(Value::as_bool) == Some(true) => None,
        Some(ns) if ns.get("matchNames").is_some() => Some(items(ns, "matchNames").filter_map(Value::as_str).collect()),
        _ => Some(vec![o.namespace()]),
    }
}

fn namespace_labels<'a>(cx: &Ctx<'a>, ns: &str) -> Option<&'a Map<String, Value>> {
    cx.index
        .find("Namespace", "", ns)
        .and_then(|(_, n)| n.at(&["metadata", "labels"]))
        .and_then(Value::as_object)
}

fn monitors(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, sm) in cx.index.of_kind("ServiceMonitor") {
        let Some(sel) = sm.at(&["spec", "selector"]) else {
            continue;
        };
        let namespaces = monitor_namespaces(sm);
        let services: Vec<&Object> = cx
            .index
            .of_kind("Service")
            .map(|(_, s)| s)
            .filter(|s| namespaces.as_ref().is_none_or(|n| n.contains(&s.namespace())))
            .filter(|s| selector_matches(sel, s.at(&["metadata", "labels"]).and_then(Value::as_object)))
            .collect();
        if services.is_empty() {
            out.report(
                i,
                "selector-matches-nothing",
                spec().key("selector"),
                format!("selects no Service: {}", selector_text(sel)),
            );
        } else {
            for (e, ep) in sm.list(&["spec", "endpoints"]).enumerate() {
                let Some(port) = ep.get("port").and_then(Value::as_str) else {
                    continue;
                };
                let missing: Vec<String> = services
                    .iter()
                    .filter(|s| !service_has_port(s, &Value::String(port.to_string())))
                    .map(|s| format!("{}/{}", s.namespace(), s.name()))
                    .collect();
                if !missing.is_empty() {
                    out.report(
                        i,
                        "servicemonitor-port-missing",
                        spec().key("endpoints").index(e).key("port"),
                        format!("port `{port}` is not a port name of Service {}", missing.join(", ")),
                    );
                }
            }
        }
    }
    let prometheuses: Vec<&Object> = cx.index.of_kind("Prometheus").map(|(_, p)| p).collect();
    if prometheuses.is_empty() {
        return;
    }
    for (kind, selector, ns_selector) in [
        (
            "ServiceMonitor",
            "serviceMonitorSelector",
            "serviceMonitorNamespaceSelector",
        ),
        ("PodMonitor", "podMonitorSelector", "podMonitorNamespaceSelector"),
        ("Probe", "probeSelector", "probeNamespaceSelector"),
        ("PrometheusRule", "ruleSelector", "ruleNamespaceSelector"),
    ] {
        for (i, o) in cx.index.of_kind(kind) {
            let labels = o.at(&["metadata", "labels"]).and_then(Value::as_object);
            let selected = prometheuses.iter().any(|p| {
                let in_namespace = match p.at(&["spec", ns_selector]) {
                    None => o.namespace() == p.namespace(),
                    // A Namespace not among the objects: its labels are unknown, so it may match.
                    Some(ns) => namespace_labels(cx, o.namespace()).is_none_or(|l| {
                        let mut l = l.clone();
                        l.insert(
                            "kubernetes.io/metadata.name".into(),
                            Value::String(o.namespace().into()),
                        );
                        selector_matches(ns, Some(&l))
                    }),
                };
                in_namespace && p.at(&["spec", selector]).is_some_and(|s| selector_matches(s, labels))
            });
            if !selected {
                out.report(
                    i,
                    "not-selected-by-prometheus",
                    FieldPath::root().key("metadata").key("labels"),
                    format!(
                        "no Prometheus among the objects selects this {kind} (Prometheus {} asks for {})",
                        prometheuses
                            .iter()
                            .map(|p| format!("{}/{}", p.namespace(), p.name()))
                            .collect::<Vec<_>>()
                            .join(", "),
                        prometheuses
                            .first()
                            .and_then(|p| p.at(&["spec", selector]))
                            .map_or("nothing".to_string(), selector_text)
                    ),
                );
            }
        }
    }
}

fn labels(m: &Map<String, Value>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
        .collect::<Vec<_>>()
        .join(",")
}

fn selector_text(sel: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        parts.push(labels(m));
    }
    for e in expressions(sel) {
        parts.push(format!(
            "{} {} ({})",
            e.key.unwrap_or("?"),
            e.operator.unwrap_or("?"),
            e.values.join(",")
        ));
    }
    if parts.is_empty() {
        "{}".to_string()
    } else {
        parts.join(",")
    }
}
