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
    for (rule, bad, good) in &live_table() {
        let found = live_rules_of(bad);
        assert!(found.contains(rule), "{rule}: not caught; found {found:?} in\n{bad}");
        let found = live_rules_of(good);
        assert!(
            !found.contains(rule),
            "{rule}: reported on the healthy objects ({found:?}):\n{good}"
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
    let loc = super::manifests::Locator::new(&bad).locate(&located[f.index], &f.path);
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

/// The clock of the live tests: 2026-11-30T12:00:00Z.
fn now() -> jiff::Timestamp {
    "2026-11-30T12:00:00Z".parse().expect("timestamp")
}

fn live_findings(yaml: &str) -> Vec<Finding> {
    let located = parse("t.yaml", yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let objects: Vec<&Object> = located.iter().map(|l| &l.object).collect();
    run(&objects, Source::Live { now: now() }, &Config::default())
}

fn live_rules_of(yaml: &str) -> Vec<&'static str> {
    live_findings(yaml).into_iter().map(|f| f.rule).collect()
}

/// A pod owned by a ReplicaSet (so template rules leave it alone) with `status`.
fn pod(status: &str, spec_extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: n, creationTimestamp: '2026-11-13T12:00:00Z', ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: u, controller: true}}]}}\nspec: {{containers: [{{name: c, image: c:1, resources: {{limits: {{memory: 256Mi}}}}}}]{spec_extra}}}\nstatus: {status}\n"
    )
}

fn live_table() -> Vec<(&'static str, String, String)> {
    let running = "{phase: Running, startTime: '2026-11-13T12:00:00Z', conditions: [{type: Ready, status: 'True', lastTransitionTime: '2026-11-13T12:01:00Z'}], containerStatuses: [{name: c, ready: true, restartCount: 0, state: {running: {}}}]}";
    let looping = "{phase: Running, startTime: '2026-11-13T12:00:00Z', conditions: [{type: Ready, status: 'False', lastTransitionTime: '2026-11-13T12:00:00Z'}], containerStatuses: [{name: c, ready: false, restartCount: 45, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {reason: OOMKilled, exitCode: 137, finishedAt: '2026-11-30T11:58:00Z'}}}]}";
    let pending = "{phase: Pending, conditions: [{type: PodScheduled, status: 'False', reason: Unschedulable, message: '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.'}]}";
    let unready = "{phase: Running, startTime: '2026-11-30T11:00:00Z', conditions: [{type: Ready, status: 'False', reason: ContainersNotReady, lastTransitionTime: '2026-11-30T11:00:00Z'}], containerStatuses: [{name: c, ready: false, restartCount: 0, state: {running: {}}}]}";
    let pull = "{phase: Pending, containerStatuses: [{name: c, ready: false, restartCount: 0, state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image c:1'}}}]}";
    let pvc = |phase: &str, class: &str| {
        format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data, namespace: n}}\nspec: {{{class}accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\nstatus: {{phase: {phase}}}\n"
        )
    };
    let with_claim = ", volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]";
    let deploy = |cond: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: n}}\nspec: {{selector: {{matchLabels: {{a: b}}}}, template: {{metadata: {{labels: {{a: b}}}}, spec: {{containers: []}}}}}}\nstatus: {{conditions: [{cond}]}}\n"
        )
    };
    let cert = |ready: &str, not_after: &str| {
        format!(
            "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {{name: c, namespace: n, creationTimestamp: '2026-11-01T00:00:00Z'}}\nspec: {{secretName: c-tls, dnsNames: [a.example.com], issuerRef: {{name: i}}}}\nstatus: {{notAfter: '{not_after}', conditions: [{{type: Ready, status: '{ready}', reason: Pending, lastTransitionTime: '2026-11-30T10:00:00Z'}}]}}\n"
        )
    };
    let webhook = |policy: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: w}}\nwebhooks: [{{name: v.example.com, failurePolicy: {policy}, clientConfig: {{service: {{namespace: n, name: hook}}}}, rules: [{{operations: [CREATE], apiGroups: [''], apiVersions: [v1], resources: [configmaps]}}], sideEffects: None, admissionReviewVersions: [v1]}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: hook, namespace: n}}\nspec: {{ports: [{{port: 443}}]}}\n"
        )
    };
    let slice = |ready: bool| {
        format!(
            "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: hook-x, namespace: n, labels: {{kubernetes.io/service-name: hook}}}}\naddressType: IPv4\nendpoints: [{{addresses: [10.0.0.1], conditions: {{ready: {ready}}}}}]\n"
        )
    };
    let apiservice = |status: &str| {
        format!(
            "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {{name: v1beta1.metrics.k8s.io}}\nspec: {{group: metrics.k8s.io, version: v1beta1, service: {{namespace: kube-system, name: metrics-server}}, groupPriorityMinimum: 100, versionPriority: 100}}\nstatus: {{conditions: [{{type: Available, status: '{status}', reason: MissingEndpoints, message: 'endpoints for service/metrics-server in kube-system have no addresses'}}]}}\n"
        )
    };
    let ns = |deleted: &str| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: gone{deleted}}}\nspec: {{finalizers: [kubernetes]}}\n"
        )
    };
    let hpa = |status: &str| {
        format!(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h, namespace: n}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: d, apiVersion: apps/v1}}, maxReplicas: 3}}\nstatus: {{conditions: [{{type: AbleToScale, status: 'True'}}, {{type: ScalingActive, status: '{status}', reason: FailedGetResourceMetric, lastTransitionTime: '2026-11-30T11:00:00Z'}}]}}\n"
        )
    };
    let pdb = |since: &str| {
        format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: b, namespace: n}}\nspec: {{minAvailable: 1, selector: {{matchLabels: {{x: y}}}}}}\nstatus: {{disruptionsAllowed: 0, expectedPods: 1, currentHealthy: 1, desiredHealthy: 1, conditions: [{{type: DisruptionAllowed, status: 'False', lastTransitionTime: '{since}'}}]}}\n"
        )
    };
    let cron = |success: &str| {
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: j, namespace: n, creationTimestamp: '2026-11-01T00:00:00Z'}}\nspec: {{schedule: '0 * * * *', jobTemplate: {{spec: {{template: {{spec: {{restartPolicy: Never, containers: []}}}}}}}}}}\nstatus: {{lastScheduleTime: '2026-11-30T11:00:00Z', lastSuccessfulTime: '{success}'}}\n"
        )
    };
    let node = |ready: &str, pressure: &str| {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: n1}}\nstatus: {{conditions: [{{type: Ready, status: '{ready}', reason: KubeletStopped, lastTransitionTime: '2026-11-30T09:00:00Z'}}, {{type: DiskPressure, status: '{pressure}', lastTransitionTime: '2026-11-30T09:00:00Z'}}]}}\n"
        )
    };
    vec![
        ("crash-loop", pod(looping, ""), pod(running, "")),
        ("oom-killed", pod(looping, ""), pod(running, "")),
        (
            "pod-pending",
            format!("{}---\n{}", pod(pending, with_claim), pvc("Pending", "")),
            pod(running, with_claim),
        ),
        ("image-pull-failing", pod(pull, ""), pod(running, "")),
        (
            "container-cannot-start",
            pod(
                &pull
                    .replace("ImagePullBackOff", "CreateContainerConfigError")
                    .replace("Back-off pulling image c:1", "configmap app not found"),
                "",
            ),
            pod(running, ""),
        ),
        (
            "pvc-pending",
            format!(
                "{}---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: fast}}\nprovisioner: x\n",
                pvc("Pending", "storageClassName: fast, ")
            ),
            pvc("Bound", "storageClassName: fast, "),
        ),
        ("pod-not-ready", pod(unready, ""), pod(running, "")),
        (
            "pvc-unbound",
            pvc("Pending", "storageClassName: fast, "),
            pvc("Bound", "storageClassName: fast, "),
        ),
        (
            "rollout-stuck",
            deploy(
                "{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: 'ReplicaSet d-1 has timed out progressing.'}",
            ),
            deploy("{type: Progressing, status: 'True', reason: NewReplicaSetAvailable}"),
        ),
        (
            "certificate-not-ready",
            cert("False", "2027-02-01T00:00:00Z"),
            cert("True", "2027-02-01T00:00:00Z"),
        ),
        (
            "certificate-expiring",
            cert("True", "2026-12-10T12:00:00Z"),
            cert("True", "2027-02-01T00:00:00Z"),
        ),
        (
            "webhook-no-endpoints",
            webhook("Fail") + &slice(false),
            webhook("Fail") + &slice(true),
        ),
        ("apiservice-unavailable", apiservice("False"), apiservice("True")),
        (
            "stuck-terminating",
            ns("\n  deletionTimestamp: '2026-11-30T11:00:00Z'").replace(
                "metadata: {name: gone\n  deletionTimestamp: '2026-11-30T11:00:00Z'}",
                "metadata: {name: gone, deletionTimestamp: '2026-11-30T11:00:00Z'}",
            ),
            ns(""),
        ),
        ("hpa-cannot-scale", hpa("False"), hpa("True")),
        (
            "pdb-no-disruptions",
            pdb("2026-11-28T00:00:00Z"),
            pdb("2026-11-30T11:59:00Z"),
        ),
        (
            "cronjob-not-succeeding",
            cron("2026-11-29T00:00:00Z"),
            cron("2026-11-30T11:00:30Z"),
        ),
        ("node-not-ready", node("False", "False"), node("True", "False")),
        ("node-pressure", node("True", "True"), node("True", "False")),
    ]
}

#[test]
fn live_findings_say_how_long_from_the_objects_own_timestamps() {
    let looping = "{phase: Running, startTime: '2026-11-13T12:00:00Z', conditions: [{type: Ready, status: 'False', lastTransitionTime: '2026-11-13T12:00:00Z'}], containerStatuses: [{name: c, ready: false, restartCount: 45, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {reason: OOMKilled, exitCode: 137, finishedAt: '2026-11-30T11:58:00Z'}}}]}";
    let messages: Vec<String> = live_findings(&pod(looping, ""))
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert_eq!(
        messages,
        vec![
            "container `c` is crash-looping for 17 days, 45 restarts; last exit: OOMKilled (code 137)".to_string(),
            "container `c` was OOMKilled 2 min ago, over its memory limit 256Mi (45 restarts)".to_string(),
        ]
    );
}

#[test]
fn a_webhook_without_endpoints_names_its_blast_radius() {
    let yaml = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: w}\nwebhooks: [{name: v.example.com, clientConfig: {service: {namespace: n, name: hook}}, rules: [{operations: [CREATE, UPDATE], resources: [configmaps]}], namespaceSelector: {matchLabels: {team: a}}}]\n";
    let f = live_findings(yaml);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(
        f[0].message,
        "webhook v.example.com: Service n/hook does not exist; failurePolicy Fail: every CREATE, UPDATE of configmaps in namespaces matching {\"matchLabels\":{\"team\":\"a\"}} is refused until it has one"
    );
}

/// Bare pods (no owner: template rules judge them) and the objects that select them.
fn bare_pods() -> String {
    let pod = |name: &str, labels: &str, image: &str, annotations: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: bare, labels: {{{labels}}}, creationTimestamp: '2026-11-13T12:00:00Z'{annotations}}}\nspec: {{containers: [{{name: c, image: '{image}'}}]}}\nstatus: {{phase: Running, startTime: '2026-11-13T12:00:00Z', conditions: [{{type: Ready, status: 'True', lastTransitionTime: '2026-11-13T12:01:00Z'}}], containerStatuses: [{{name: c, ready: true, restartCount: 0, state: {{running: {{}}}}}}]}}\n---\n"
        )
    };
    let mut out = String::new();
    out += &pod("one", "app: one", "one:latest", "");
    out += &pod(
        "two",
        "app: two",
        "two:1",
        ", annotations: {windlass.dev/ignore.resources-missing: 'measured'}",
    );
    out += &pod(
        "three",
        "app: three",
        "three:1",
        ", annotations: {windlass.dev/ignore.no-such-rule: 'x'}",
    );
    // Selects only the last pod read: a page of the first pods alone would see nothing selected.
    out += "apiVersion: v1\nkind: Service\nmetadata: {name: three, namespace: bare}\nspec: {selector: {app: three}, ports: [{port: 80}]}\n---\n";
    out += "apiVersion: v1\nkind: Service\nmetadata: {name: nobody, namespace: bare}\nspec: {selector: {app: nobody}, ports: [{port: 80}]}\n---\n";
    out += "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: one, namespace: bare}\nspec: {minAvailable: 1, selector: {matchLabels: {app: one}}}\n---\n";
    out += "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: two, namespace: bare}\nspec: {podSelector: {matchLabels: {app: two}}}\n";
    out
}

#[test]
fn doctor_reading_pods_a_page_at_a_time_finds_what_one_run_over_everything_finds() {
    // Every case of both tables and the bare pods, each table row in a namespace of its own.
    let mut yaml = String::new();
    let rows = table().into_iter().chain(live_table());
    for (i, (_, bad, good)) in rows.enumerate() {
        let isolated = format!("{bad}\n---\n{good}")
            .replace("namespace: n,", &format!("namespace: n{i},"))
            .replace("namespace: n}", &format!("namespace: n{i}}}"));
        yaml += &isolated;
        yaml += "\n---\n";
    }
    yaml += &bare_pods();
    let located = parse("t.yaml", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let all: Vec<Object> = located.into_iter().map(|l| l.object).collect();
    let (pods, context): (Vec<Object>, Vec<Object>) = all.into_iter().partition(|o| o.kind() == PAGED_KIND);
    let source = Source::Live { now: now() };
    let config = Config::default();
    let ordered: Vec<&Object> = context.iter().chain(&pods).collect();
    let whole = run(&ordered, source, &config);
    let key = |f: &Finding| {
        (
            f.index,
            f.rule,
            f.severity,
            f.object.clone(),
            f.path.to_string(),
            f.message.clone(),
        )
    };
    let expected: Vec<_> = whole.iter().map(key).collect();
    // The comparison means something: findings about pods and about objects judged by the pods they select.
    let on = |kind: &str| whole.iter().filter(|f| f.object.starts_with(kind)).count();
    assert!(
        on("Pod/") >= 10 && on("Service/") >= 1 && on("PodDisruptionBudget/") >= 1,
        "{whole:#?}"
    );
    assert!(
        whole
            .iter()
            .any(|f| f.object == "Pod/bare/one" && f.rule == "image-tag-latest")
    );
    assert!(
        whole
            .iter()
            .any(|f| f.object == "PodDisruptionBudget/bare/one" && f.rule == "pdb-blocks-drain")
    );
    assert!(
        whole
            .iter()
            .any(|f| f.object == "Service/bare/nobody" && f.rule == "selector-matches-nothing")
    );
    assert!(!whole.iter().any(|f| f.object == "Service/bare/three"));
    for page_size in [1, 2, 7, pods.len()] {
        let mut paged = Paged::new(context.clone(), source, &config);
        for page in pods.chunks(page_size) {
            paged.page(page.to_vec());
        }
        let (objects, findings) = paged.finish();
        assert_eq!(objects.len(), context.len() + pods.len());
        let ids: Vec<String> = objects.iter().map(Object::id).collect();
        assert_eq!(ids, ordered.iter().map(|o| o.id()).collect::<Vec<_>>());
        assert_eq!(
            findings.iter().map(key).collect::<Vec<_>>(),
            expected,
            "pages of {page_size}"
        );
    }
}
