//! Each rule against a manifest that breaks it and one that does not.

use super::manifests::parse;
use super::*;

/// A Deployment (in namespace `n`, pods labelled `app: a`) whose single
/// container is `container` (YAML, indented by 8), plus `extra` documents.
fn deployment(container: &str, extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: a, namespace: n}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: a}}}}\n  template:\n    metadata: {{labels: {{app: a}}}}\n    spec:\n      securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}\n      containers:\n{container}\n---\n{extra}"
    )
}

/// A container that passes every rule, with `patch` lines appended (indented by 8).
fn container(patch: &str) -> String {
    let base = "      - name: a\n        image: a:1\n        ports: [{name: http, containerPort: 8080}]\n        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi, ephemeral-storage: 1Gi}}\n        readinessProbe: {httpGet: {path: /ready, port: 8080}, timeoutSeconds: 3}\n        livenessProbe: {httpGet: {path: /live, port: 8080}, timeoutSeconds: 5, periodSeconds: 20}";
    if patch.is_empty() {
        base.to_string()
    } else {
        format!("{base}\n{patch}")
    }
}

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: n, labels: {app: a}}\nspec:\n  selector: {app: a}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n";

fn rules_of(yaml: &str) -> Vec<&'static str> {
    let located = parse("t.yaml", yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let objects: Vec<&Object> = located.iter().map(|l| &l.object).collect();
    run(&objects, Source::Manifests, &Config::default())
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

/// (rule, breaks it, holds it)
fn table() -> Vec<(&'static str, String, String)> {
    let good = deployment(&container(""), SERVICE);
    let with = |patch: &str| deployment(&container(patch), SERVICE);
    let replace = |from: &str, to: &str| deployment(&container("").replace(from, to), SERVICE);
    vec![
        (
            "probe-not-local",
            replace("path: /ready, port: 8080}", "path: /ready, port: 8080, host: a.n.svc}"),
            good.clone(),
        ),
        (
            "probe-not-local",
            replace(
                "livenessProbe: {httpGet: {path: /live, port: 8080}",
                "livenessProbe: {exec: {command: [pg_isready, -h, a]}",
            ),
            replace(
                "livenessProbe: {httpGet: {path: /live, port: 8080}",
                "livenessProbe: {exec: {command: [pg_isready, -h, localhost]}",
            ),
        ),
        (
            "probe-not-local",
            replace(
                "livenessProbe: {httpGet: {path: /live, port: 8080}",
                "livenessProbe: {exec: {command: [sh, -c, 'curl -f http://backend.other.svc.cluster.local:8080/']}",
            ),
            replace(
                "livenessProbe: {httpGet: {path: /live, port: 8080}",
                "livenessProbe: {exec: {command: [sh, -c, 'curl -f http://127.0.0.1:8080/']}",
            ),
        ),
        (
            "probe-timeout-default",
            replace("image: a:1", "image: docker.io/library/postgres:17").replace(", timeoutSeconds: 3}", "}"),
            replace("image: a:1", "image: docker.io/library/postgres:17"),
        ),
        (
            "liveness-too-eager",
            replace("timeoutSeconds: 5, periodSeconds: 20", "timeoutSeconds: 2, periodSeconds: 20"),
            good.clone(),
        ),
        (
            "probes-identical",
            replace(
                "livenessProbe: {httpGet: {path: /live, port: 8080}, timeoutSeconds: 5, periodSeconds: 20}",
                "livenessProbe: {httpGet: {path: /ready, port: 8080}, timeoutSeconds: 3}",
            )
            .replace("timeoutSeconds: 3}", "timeoutSeconds: 5}"),
            replace(
                "livenessProbe: {httpGet: {path: /live, port: 8080}, timeoutSeconds: 5, periodSeconds: 20}",
                "livenessProbe: {httpGet: {path: /ready, port: 8080}, timeoutSeconds: 3}",
            )
            .replace("timeoutSeconds: 3}", "timeoutSeconds: 5}")
            .replace(
                "        readinessProbe:",
                "        startupProbe: {httpGet: {path: /ready, port: 8080}, failureThreshold: 30}\n        readinessProbe:",
            ),
        ),
        (
            "liveness-checks-dependencies",
            replace("path: /live,", "path: /ready,"),
            good.clone(),
        ),
        (
            "pdb-blocks-drain",
            format!("{good}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: a, namespace: n}}\nspec: {{minAvailable: 2, selector: {{matchLabels: {{app: a}}}}}}\n"),
            format!("{good}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: a, namespace: n}}\nspec: {{minAvailable: 1, selector: {{matchLabels: {{app: a}}}}}}\n"),
        ),
        (
            "pdb-blocks-drain",
            format!("{good}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: a, namespace: n}}\nspec: {{maxUnavailable: 0, selector: {{matchExpressions: [{{key: app, operator: In, values: [a]}}]}}}}\n"),
            format!("{good}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: a, namespace: n}}\nspec: {{maxUnavailable: 1, selector: {{matchExpressions: [{{key: app, operator: In, values: [a]}}]}}}}\n"),
        ),
        (
            "replicas-with-hpa",
            format!("{good}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: a, namespace: n}}\nspec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: a}}, minReplicas: 3, maxReplicas: 5}}\n"),
            format!("{}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: a, namespace: n}}\nspec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: a}}, minReplicas: 3, maxReplicas: 5}}\n", good.replace("  replicas: 2\n", "")),
        ),
        (
            "selector-matches-nothing",
            good.replace("selector: {app: a}", "selector: {app: b}"),
            good.clone(),
        ),
        (
            "hpa-target-missing",
            format!("{good}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: a, namespace: n}}\nspec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: b}}, maxReplicas: 5}}\n"),
            format!("{}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: a, namespace: n}}\nspec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: a}}, maxReplicas: 5}}\n", good.replace("  replicas: 2\n", "")),
        ),
        (
            "backend-service-missing",
            format!("{good}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: a, namespace: n}}\nspec:\n  rules: [{{http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: a, port: {{number: 8080}}}}}}}}]}}}}]\n"),
            format!("{good}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: a, namespace: n}}\nspec:\n  rules: [{{http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: a, port: {{number: 80}}}}}}}}]}}}}]\n"),
        ),
        (
            "backend-service-missing",
            format!("{good}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: a, namespace: n}}\nspec: {{rules: [{{backendRefs: [{{name: b, port: 80}}]}}]}}\n"),
            format!("{good}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: a, namespace: n}}\nspec: {{rules: [{{backendRefs: [{{name: a, port: 80}}]}}]}}\n"),
        ),
        (
            "tls-secret-missing",
            format!("{good}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: a, namespace: n}}\nspec:\n  tls: [{{hosts: [a.example.com], secretName: a-tls}}]\n  rules: [{{host: a.example.com, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: a, port: {{name: http}}}}}}}}]}}}}]\n"),
            format!("{good}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: a, namespace: n, annotations: {{cert-manager.io/cluster-issuer: le}}}}\nspec:\n  tls: [{{hosts: [a.example.com], secretName: a-tls}}]\n  rules: [{{host: a.example.com, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: a, port: {{name: http}}}}}}}}]}}}}]\n"),
        ),
        (
            "tls-secret-missing",
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g, namespace: n}\nspec: {gatewayClassName: x, listeners: [{name: a, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: a-tls}]}}]}\n".to_string(),
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g, namespace: n}\nspec: {gatewayClassName: x, listeners: [{name: a, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: a-tls}]}}]}\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: a, namespace: n}\nspec: {secretName: a-tls, dnsNames: [a.example.com], issuerRef: {name: le, kind: ClusterIssuer}}\n".to_string(),
        ),
        (
            "statefulset-service-missing",
            good.replace("kind: Deployment", "kind: StatefulSet").replace("  replicas: 2\n", "  replicas: 2\n  serviceName: a\n"),
            good.replace("kind: Deployment", "kind: StatefulSet")
                .replace("  replicas: 2\n", "  replicas: 2\n  serviceName: a\n")
                .replace("  selector: {app: a}\n", "  clusterIP: None\n  selector: {app: a}\n"),
        ),
        (
            "servicemonitor-port-missing",
            format!("{good}---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: a, namespace: n}}\nspec: {{selector: {{matchLabels: {{app: a}}}}, endpoints: [{{port: metrics}}]}}\n"),
            format!("{good}---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: a, namespace: n}}\nspec: {{selector: {{matchLabels: {{app: a}}}}, endpoints: [{{port: http}}]}}\n"),
        ),
        (
            "selector-matches-nothing",
            format!("{good}---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: a, namespace: n}}\nspec: {{selector: {{matchLabels: {{app: web}}}}, endpoints: [{{port: http}}]}}\n"),
            format!("{good}---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: a, namespace: n}}\nspec: {{selector: {{matchLabels: {{app: a}}}}, endpoints: [{{port: http}}]}}\n"),
        ),
        (
            "not-selected-by-prometheus",
            format!("{good}---\napiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {{name: p, namespace: monitoring}}\nspec: {{ruleSelector: {{matchLabels: {{release: kps}}}}, ruleNamespaceSelector: {{}}}}\n---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {{name: a, namespace: n}}\nspec: {{groups: []}}\n"),
            format!("{good}---\napiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {{name: p, namespace: monitoring}}\nspec: {{ruleSelector: {{matchLabels: {{release: kps}}}}, ruleNamespaceSelector: {{}}}}\n---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {{name: a, namespace: n, labels: {{release: kps}}}}\nspec: {{groups: []}}\n"),
        ),
        (
            "port-protocol-mismatch",
            good.replace("ports: [{name: http, port: 80, targetPort: 8080}]", "ports: [{name: http, port: 5432}]"),
            good.replace("ports: [{name: http, port: 80, targetPort: 8080}]", "ports: [{name: postgres, port: 5432}]"),
        ),
        ("image-tag-latest", replace("image: a:1", "image: registry:5000/a"), good.clone()),
        ("image-tag-latest", replace("image: a:1", "image: a:latest"), replace("image: a:1", "image: a@sha256:0")),
        (
            "resources-missing",
            replace("resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi, ephemeral-storage: 1Gi}}", "resources: {limits: {ephemeral-storage: 1Gi}}"),
            good.clone(),
        ),
        (
            "ephemeral-storage-unbounded",
            with("        volumeMounts: [{name: t, mountPath: /tmp}]").replace("      containers:\n", "      volumes: [{name: t, emptyDir: {}}]\n      containers:\n"),
            with("        volumeMounts: [{name: t, mountPath: /tmp}]").replace("      containers:\n", "      volumes: [{name: t, emptyDir: {sizeLimit: 1Gi}}]\n      containers:\n"),
        ),
        (
            "pod-security-restricted",
            replace("capabilities: {drop: [ALL]}", "capabilities: {drop: [ALL], add: [NET_ADMIN]}"),
            replace("capabilities: {drop: [ALL]}", "capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}"),
        ),
        (
            "pod-security-restricted",
            good.replace("      containers:\n", "      hostNetwork: true\n      containers:\n"),
            good.clone(),
        ),
        (
            "api-removed",
            good.replace("apiVersion: apps/v1", "apiVersion: extensions/v1beta1"),
            good.clone(),
        ),
        (
            "api-deprecated",
            "apiVersion: v1\nkind: Endpoints\nmetadata: {name: x, namespace: n}\n".to_string(),
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: x, namespace: n}\naddressType: IPv4\nendpoints: []\n".to_string(),
        ),
        (
            "selector-version-label",
            good.replace("selector: {matchLabels: {app: a}}", "selector: {matchLabels: {app: a, version: v1}}")
                .replace("labels: {app: a}}", "labels: {app: a, version: v1}}"),
            good.clone(),
        ),
        (
            "bad-suppression",
            good.replace("metadata: {name: a, namespace: n}", "metadata: {name: a, namespace: n, annotations: {windlass.dev/ignore.image-tag-latest: ''}}"),
            good.replace("metadata: {name: a, namespace: n}", "metadata: {name: a, namespace: n, annotations: {windlass.dev/ignore.image-tag-latest: 'pinned by digest in CD'}}"),
        ),
    ]
}

#[test]
fn the_good_manifest_breaks_no_rule() {
    assert_eq!(rules_of(&deployment(&container(""), SERVICE)), Vec::<&str>::new());
}

#[test]
fn each_rule_catches_its_manifest_and_passes_the_fixed_one() {
    let table = table();
    let mut covered: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for (rule, bad, good) in &table {
        let found = rules_of(bad);
        assert!(found.contains(rule), "{rule}: not caught; found {found:?} in\n{bad}");
        let found = rules_of(good);
        assert!(
            !found.contains(rule),
            "{rule}: reported on the fixed manifest ({found:?}):\n{good}"
        );
        covered.insert(rule);
    }
    let missing: Vec<&str> = RULES.iter().map(|r| r.id).filter(|id| !covered.contains(id)).collect();
    assert_eq!(missing, Vec::<&str>::new(), "rules without a test");
}

#[test]
fn a_suppression_with_a_reason_hides_only_its_rule_on_its_object() {
    let bad = deployment(&container("").replace("image: a:1", "image: a:latest"), SERVICE);
    assert_eq!(rules_of(&bad), vec!["image-tag-latest"]);
    let suppressed = bad.replace(
        "metadata: {name: a, namespace: n}",
        "metadata: {name: a, namespace: n, annotations: {windlass.dev/ignore.image-tag-latest: 'a dev sandbox'}}",
    );
    assert_eq!(rules_of(&suppressed), Vec::<&str>::new());
    let empty = suppressed.replace("'a dev sandbox'", "' '");
    assert_eq!(rules_of(&empty), vec!["image-tag-latest", "bad-suppression"]);
}

#[test]
fn config_switches_rules_off_and_changes_severities() {
    let bad = deployment(&container("").replace("image: a:1", "image: a:latest"), SERVICE);
    let located = parse("t.yaml", &bad).expect("valid");
    let objects: Vec<&Object> = located.iter().map(|l| &l.object).collect();
    let raised = Config::parse("c", "rules: {image-tag-latest: error}").expect("valid");
    let f = run(&objects, Source::Manifests, &raised);
    assert_eq!(
        f.iter().map(|f| (f.rule, f.severity)).collect::<Vec<_>>(),
        vec![("image-tag-latest", Severity::Error)]
    );
    let off = Config::parse("c", "rules: {image-tag-latest: off}").expect("valid");
    assert_eq!(run(&objects, Source::Manifests, &off), vec![]);
}

#[test]
fn findings_point_at_the_field_in_the_file() {
    let bad = deployment(&container("").replace("image: a:1", "image: a:latest"), SERVICE);
    let located = parse("t.yaml", &bad).expect("valid");
    let objects: Vec<&Object> = located.iter().map(|l| &l.object).collect();
    let f = &run(&objects, Source::Manifests, &Config::default())[0];
    assert_eq!(f.path.to_string(), "spec.template.spec.containers[0].image");
    let loc = located[f.index].locate(&f.path);
    let line = bad.lines().nth(loc.line as usize - 1).expect("valid");
    assert_eq!(&line[loc.column as usize - 1..], "a:latest");
}

#[test]
fn pod_security_is_an_error_where_the_namespace_enforces_restricted() {
    let bad = deployment(
        &container("").replace("capabilities: {drop: [ALL]}", "capabilities: {}"),
        SERVICE,
    );
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: {pod-security.kubernetes.io/enforce: restricted}}\n";
    for (yaml, severity) in [
        (bad.clone(), Severity::Warning),
        (format!("{bad}---\n{ns}"), Severity::Error),
    ] {
        let located = parse("t.yaml", &yaml).expect("valid");
        let objects: Vec<&Object> = located.iter().map(|l| &l.object).collect();
        let f = run(&objects, Source::Manifests, &Config::default());
        assert_eq!(
            f.iter().map(|f| (f.rule, f.severity)).collect::<Vec<_>>(),
            vec![("pod-security-restricted", severity)]
        );
    }
}
