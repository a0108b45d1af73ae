//! What the apiserver (and the Gateway API CRDs' schema) would refuse in a rendered
//! object: names, labels, annotations, ports, container and volume fields, HTTPRoute
//! paths and hostnames, ConfigMap keys and size. The rules restate Kubernetes'
//! apimachinery validation (`IsDNS1123Label`, `IsQualifiedName`, `IsValidPortName`, ...)
//! and the Gateway API v1 schema; a violation names the object, the field and the rule.

use std::collections::BTreeSet;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `Kind/namespace/name`.
    pub object: String,
    /// JSON path of the field, e.g. `spec.template.spec.containers[0].ports[0].name`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.object, self.field, self.message)
    }
}

// --- apimachinery syntaxes --------------------------------------------------

fn alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 bytes.
pub fn dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && alnum_lower(b[0])
        && alnum_lower(b[b.len() - 1])
        && b.iter().all(|&c| alnum_lower(c) || c == b'-')
}

/// A DNS-1123 label starting with a letter.
pub fn dns1035_label(s: &str) -> bool {
    dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`, at most 253 bytes. Unlike
/// DNS itself, Kubernetes puts no 63-byte limit on the parts between the dots.
pub fn dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && alnum_lower(b[0])
                && alnum_lower(b[b.len() - 1])
                && b.iter().all(|&c| alnum_lower(c) || c == b'-')
        })
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 bytes (label values, qualified-name names).
fn qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Label and annotation keys: an optional DNS-1123 subdomain prefix and `/`, then a name.
pub fn qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => dns1123_subdomain(prefix) && qualified_part(name),
        None => qualified_part(s),
    }
}

/// Empty, or a qualified-name part.
pub fn label_value(s: &str) -> bool {
    s.is_empty() || qualified_part(s)
}

/// IANA_SVC_NAME: at most 15 of `[-a-z0-9]`, at least one letter, no `-` at either end or doubled.
pub fn iana_svc_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 15
        && b.iter().all(|&c| alnum_lower(c) || c == b'-')
        && b.iter().any(u8::is_ascii_lowercase)
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !s.contains("--")
}

/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn env_var_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
}

/// `[-._a-zA-Z0-9]+`, at most 253 bytes, not `.`, `..` or starting with `..`.
pub fn config_map_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s != "."
        && !s.starts_with("..")
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
}

fn port_number(v: &Value) -> bool {
    v.as_i64().is_some_and(|p| (1..=65535).contains(&p))
}

/// An int-or-string port: a number 1-65535 or an IANA service name.
fn int_or_name_port(v: &Value) -> bool {
    match v {
        Value::String(s) => iana_svc_name(s),
        other => port_number(other),
    }
}

fn cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// A resource quantity (`100m`, `1.5Gi`, `2e3`), in base units; None when malformed.
pub fn quantity(s: &str) -> Option<f64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let digits = num.trim_start_matches(['+', '-']);
    if digits.is_empty() || digits == "." || num.len() - digits.len() > 1 || digits.matches('.').count() > 1 {
        return None;
    }
    if digits.contains(['+', '-']) {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => {
            let exp = &e[1..];
            let body = exp.trim_start_matches(['+', '-']);
            if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) || exp.len() - body.len() > 1 {
                return None;
            }
            10f64.powi(exp.parse().ok()?)
        }
        _ => return None,
    };
    Some(n * factor)
}

/// A Gateway API hostname: optional `*.`, then lowercase DNS labels, at most 253 bytes, and
/// (as the Gateway API spec says) not an IP address.
pub fn gateway_hostname(s: &str) -> bool {
    let rest = s.strip_prefix("*.").unwrap_or(s);
    dns1123_subdomain(rest) && s.len() <= 253 && rest.parse::<std::net::IpAddr>().is_err()
}

/// Gateway API SectionName (listener names): dot-separated DNS labels, at most 253 bytes.
pub fn section_name(s: &str) -> bool {
    dns1123_subdomain(s)
}

/// The Gateway API v1 schema's rules for a `PathPrefix` or `Exact` HTTPRoute path.
pub fn http_route_path(p: &str) -> Result<(), String> {
    if p.is_empty() || p.len() > 1024 {
        return Err(format!("length {} is outside 1..=1024", p.len()));
    }
    if !p.starts_with('/') {
        return Err("must be an absolute path".into());
    }
    for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] {
        if p.contains(bad) {
            return Err(format!("must not contain `{bad}`"));
        }
    }
    for bad in ["/..", "/."] {
        if p.ends_with(bad) {
            return Err(format!("must not end with `{bad}`"));
        }
    }
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex = b.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !hex {
                return Err("`%` must start a percent-encoded byte".into());
            }
            i += 3;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c)) {
            return Err(format!(
                "character {:?} is not allowed",
                p[i..].chars().next().unwrap_or('?')
            ));
        }
        i += 1;
    }
    Ok(())
}

/// The networking/v1 rules for an Ingress `Prefix` or `Exact` path.
pub fn ingress_path(p: &str) -> Result<(), String> {
    if !p.starts_with('/') {
        return Err("must be an absolute path".into());
    }
    for bad in ["//", "/./", "/../", "%2f", "%2F"] {
        if p.contains(bad) {
            return Err(format!("must not contain `{bad}`"));
        }
    }
    for bad in ["/..", "/."] {
        if p.ends_with(bad) {
            return Err(format!("must not end with `{bad}`"));
        }
    }
    Ok(())
}

// --- walking objects ----------------------------------------------------------

struct Checker<'a> {
    object: String,
    out: &'a mut Vec<Violation>,
}

impl Checker<'_> {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.out.push(Violation {
            object: self.object.clone(),
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn expect(&mut self, ok: bool, field: &str, message: impl FnOnce() -> String) {
        if !ok {
            let m = message();
            self.fail(field, m);
        }
    }

    fn labels(&mut self, field: &str, labels: Option<&Value>) {
        let Some(map) = labels.and_then(Value::as_object) else {
            return;
        };
        for (k, v) in map {
            self.expect(qualified_name(k), field, || {
                format!("label key `{k}` is not a qualified name")
            });
            let v = v.as_str().unwrap_or("\u{0}");
            self.expect(label_value(v), field, || {
                format!("label `{k}` has an invalid value `{v}`")
            });
        }
    }

    fn annotations(&mut self, field: &str, annotations: Option<&Value>) {
        let Some(map) = annotations.and_then(Value::as_object) else {
            return;
        };
        let mut total = 0;
        for (k, v) in map {
            self.expect(qualified_name(&k.to_lowercase()), field, || {
                format!("annotation key `{k}` is not a qualified name")
            });
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        self.expect(total <= 256 * 1024, field, || {
            format!("annotations total {total} bytes, over 262144")
        });
    }

    fn selector(&mut self, field: &str, selector: Option<&Value>) {
        if let Some(s) = selector {
            self.labels(&format!("{field}.matchLabels"), s.get("matchLabels"));
        }
    }

    /// `claims`: a StatefulSet's volumeClaimTemplates, which its containers mount like volumes.
    fn pod_spec(&mut self, field: &str, spec: &Value, claims: &[&str]) {
        let mut volumes: BTreeSet<String> = claims.iter().map(|c| (*c).to_string()).collect();
        for (i, v) in arr(spec.get("volumes")).iter().enumerate() {
            let f = format!("{field}.volumes[{i}].name");
            let name = str_of(v.get("name"));
            self.expect(dns1123_label(name), &f, || {
                format!("volume name `{name}` is not a DNS-1123 label")
            });
            self.expect(volumes.insert(name.to_string()), &f, || {
                format!("volume `{name}` is declared twice")
            });
            if let Some(items) = v.pointer("/configMap/items").and_then(Value::as_array) {
                for (j, item) in items.iter().enumerate() {
                    let key = str_of(item.get("key"));
                    self.expect(
                        config_map_key(key),
                        &format!("{field}.volumes[{i}].configMap.items[{j}].key"),
                        || format!("`{key}` is not a ConfigMap key"),
                    );
                }
            }
        }
        if let Some(sc) = spec.get("securityContext") {
            self.ids(&format!("{field}.securityContext"), sc);
        }
        let mut container_names = BTreeSet::new();
        for list in ["initContainers", "containers"] {
            for (i, c) in arr(spec.get(list)).iter().enumerate() {
                let cf = format!("{field}.{list}[{i}]");
                let name = str_of(c.get("name"));
                self.expect(dns1123_label(name), &format!("{cf}.name"), || {
                    format!("container name `{name}` is not a DNS-1123 label")
                });
                self.expect(container_names.insert(name.to_string()), &format!("{cf}.name"), || {
                    format!("container `{name}` is declared twice")
                });
                self.container(&cf, c, &volumes);
            }
        }
    }

    fn ids(&mut self, field: &str, sc: &Value) {
        for key in ["runAsUser", "runAsGroup", "fsGroup"] {
            if let Some(v) = sc.get(key) {
                let ok = v.as_i64().is_some_and(|id| (0..=i64::from(i32::MAX)).contains(&id));
                self.expect(ok, &format!("{field}.{key}"), || {
                    format!("{v} is outside 0..=2147483647")
                });
            }
        }
    }

    fn container(&mut self, cf: &str, c: &Value, volumes: &BTreeSet<String>) {
        let mut port_names = BTreeSet::new();
        for (j, p) in arr(c.get("ports")).iter().enumerate() {
            let pf = format!("{cf}.ports[{j}]");
            if let Some(name) = p.get("name").and_then(Value::as_str) {
                self.expect(iana_svc_name(name), &format!("{pf}.name"), || {
                    format!("port name `{name}` is not an IANA service name (at most 15 of a-z, 0-9, `-`)")
                });
                self.expect(port_names.insert(name.to_string()), &format!("{pf}.name"), || {
                    format!("port name `{name}` is used twice")
                });
            }
            let port = p.get("containerPort").cloned().unwrap_or(Value::Null);
            self.expect(port_number(&port), &format!("{pf}.containerPort"), || {
                format!("{port} is not a port number")
            });
        }
        let image = str_of(c.get("image"));
        self.expect(
            !image.is_empty() && image.trim() == image,
            &format!("{cf}.image"),
            || format!("`{image}` is empty or has surrounding whitespace"),
        );
        for (j, e) in arr(c.get("env")).iter().enumerate() {
            let name = str_of(e.get("name"));
            self.expect(env_var_name(name), &format!("{cf}.env[{j}].name"), || {
                format!("`{name}` is not a valid environment variable name")
            });
            if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
                let key = str_of(r.get("key"));
                self.expect(
                    config_map_key(key),
                    &format!("{cf}.env[{j}].valueFrom.secretKeyRef.key"),
                    || format!("`{key}` is not a Secret key"),
                );
                let secret = str_of(r.get("name"));
                self.expect(
                    dns1123_subdomain(secret),
                    &format!("{cf}.env[{j}].valueFrom.secretKeyRef.name"),
                    || format!("`{secret}` is not a Secret name"),
                );
            }
        }
        let mut mount_paths = BTreeSet::new();
        for (j, m) in arr(c.get("volumeMounts")).iter().enumerate() {
            let mf = format!("{cf}.volumeMounts[{j}]");
            let name = str_of(m.get("name"));
            self.expect(volumes.contains(name), &format!("{mf}.name"), || {
                format!("no volume named `{name}`")
            });
            let path = str_of(m.get("mountPath"));
            self.expect(!path.is_empty(), &format!("{mf}.mountPath"), || "is empty".into());
            self.expect(
                !path.contains(':') || path.starts_with('/'),
                &format!("{mf}.mountPath"),
                || format!("`{path}` must not contain `:`"),
            );
            self.expect(mount_paths.insert(path.to_string()), &format!("{mf}.mountPath"), || {
                format!("`{path}` is mounted twice")
            });
        }
        for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
            if let Some(p) = c.get(probe) {
                for handler in ["httpGet", "tcpSocket", "grpc"] {
                    if let Some(port) = p.get(handler).and_then(|h| h.get("port")) {
                        self.expect(int_or_name_port(port), &format!("{cf}.{probe}.{handler}.port"), || {
                            format!("{port} is not a port number or IANA service name")
                        });
                        if let Value::String(name) = port {
                            self.expect(
                                port_names.contains(name),
                                &format!("{cf}.{probe}.{handler}.port"),
                                || format!("no container port named `{name}`"),
                            );
                        }
                    }
                }
            }
        }
        if let Some(sc) = c.get("securityContext") {
            self.ids(&format!("{cf}.securityContext"), sc);
        }
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        for (what, map) in [("requests", requests), ("limits", limits)] {
            for (k, v) in map.into_iter().flatten() {
                let q = v.as_str().and_then(quantity);
                self.expect(
                    q.is_some_and(|q| q >= 0.0),
                    &format!("{cf}.resources.{what}.{k}"),
                    || format!("{v} is not a non-negative quantity"),
                );
            }
        }
        for (k, r) in requests.into_iter().flatten() {
            let l = limits.and_then(|l| l.get(k));
            if let (Some(r), Some(l)) = (
                r.as_str().and_then(quantity),
                l.and_then(Value::as_str).and_then(quantity),
            ) {
                self.expect(r <= l, &format!("{cf}.resources.requests.{k}"), || {
                    format!("request {r} is above the limit {l}")
                });
            }
        }
    }

    fn ports_of_service(&mut self, spec: &Value) {
        let ports = arr(spec.get("ports"));
        let mut names = BTreeSet::new();
        for (i, p) in ports.iter().enumerate() {
            let pf = format!("spec.ports[{i}]");
            let name = p.get("name").and_then(Value::as_str);
            match name {
                Some(n) => {
                    self.expect(dns1123_label(n), &format!("{pf}.name"), || {
                        format!("`{n}` is not a DNS-1123 label")
                    });
                    self.expect(names.insert(n.to_string()), &format!("{pf}.name"), || {
                        format!("`{n}` is used twice")
                    });
                }
                None if ports.len() > 1 => self.fail(&format!("{pf}.name"), "required when there are several ports"),
                None => {}
            }
            let port = p.get("port").cloned().unwrap_or(Value::Null);
            self.expect(port_number(&port), &format!("{pf}.port"), || {
                format!("{port} is not a port number")
            });
            if let Some(t) = p.get("targetPort") {
                self.expect(int_or_name_port(t), &format!("{pf}.targetPort"), || {
                    format!("{t} is not a port number or IANA service name")
                });
            }
            if let Some(a) = p.get("appProtocol").and_then(Value::as_str) {
                self.expect(qualified_name(a), &format!("{pf}.appProtocol"), || {
                    format!("`{a}` is not a qualified name")
                });
            }
        }
    }
}

fn arr(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// Every violation in one rendered object.
pub fn validate(o: &Value) -> Vec<Violation> {
    let kind = str_of(o.get("kind"));
    let name = str_of(o.pointer("/metadata/name"));
    let namespace = str_of(o.pointer("/metadata/namespace"));
    let mut out = Vec::new();
    let mut c = Checker {
        object: format!("{kind}/{namespace}/{name}"),
        out: &mut out,
    };

    let (name_ok, rule) = match kind {
        "Namespace" => (dns1123_label(name), "a DNS-1123 label"),
        "Service" => (dns1035_label(name), "a DNS-1035 label"),
        "CronJob" => (
            dns1123_subdomain(name) && name.len() <= 52,
            "a DNS-1123 subdomain of at most 52",
        ),
        _ => (dns1123_subdomain(name), "a DNS-1123 subdomain"),
    };
    c.expect(name_ok, "metadata.name", || format!("`{name}` is not {rule}"));
    if !namespace.is_empty() {
        c.expect(dns1123_label(namespace), "metadata.namespace", || {
            format!("`{namespace}` is not a DNS-1123 label")
        });
    }
    c.labels("metadata.labels", o.pointer("/metadata/labels"));
    c.annotations("metadata.annotations", o.pointer("/metadata/annotations"));
    let spec = o.get("spec").cloned().unwrap_or(Value::Null);

    let template = match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => Some("spec.template"),
        "CronJob" => Some("spec.jobTemplate.spec.template"),
        _ => None,
    };
    if let Some(t) = template {
        let pointer = format!("/{}", t.replace('.', "/"));
        if let Some(tpl) = o.pointer(&pointer) {
            c.labels(&format!("{t}.metadata.labels"), tpl.pointer("/metadata/labels"));
            c.annotations(
                &format!("{t}.metadata.annotations"),
                tpl.pointer("/metadata/annotations"),
            );
            let claims: Vec<&str> = arr(spec.get("volumeClaimTemplates"))
                .iter()
                .map(|t| str_of(t.pointer("/metadata/name")))
                .collect();
            if let Some(ps) = tpl.get("spec") {
                c.pod_spec(&format!("{t}.spec"), ps, &claims);
            }
            // The selector must select the template's own pods.
            if let Some(sel) = spec.pointer("/selector/matchLabels").and_then(Value::as_object) {
                let tl = tpl.pointer("/metadata/labels").and_then(Value::as_object);
                let ok = sel.iter().all(|(k, v)| tl.and_then(|l| l.get(k)) == Some(v));
                c.expect(ok, "spec.selector", || "does not match the template's labels".into());
            }
        }
        if let Some(r) = spec.get("replicas") {
            c.expect(
                r.as_i64().is_some_and(|r| (0..=i64::from(i32::MAX)).contains(&r)),
                "spec.replicas",
                || format!("{r} is outside 0..=2147483647"),
            );
        }
    }
    c.selector("spec.selector", spec.get("selector").filter(|_| kind != "Service"));

    match kind {
        "Service" => {
            c.ports_of_service(&spec);
            if let Some(sel) = spec.get("selector") {
                c.labels("spec.selector", Some(sel));
            }
        }
        "ConfigMap" | "Secret" => {
            let mut size = 0;
            for field in ["data", "binaryData", "stringData"] {
                for (k, v) in o.get(field).and_then(Value::as_object).into_iter().flatten() {
                    c.expect(config_map_key(k), field, || format!("`{k}` is not a valid key"));
                    size += v.as_str().map_or(0, str::len);
                }
            }
            c.expect(size <= 1024 * 1024, "data", || {
                format!("{size} bytes of data, over 1 MiB")
            });
        }
        "HorizontalPodAutoscaler" => {
            let min = spec.get("minReplicas").and_then(Value::as_i64).unwrap_or(1);
            let max = spec.get("maxReplicas").and_then(Value::as_i64).unwrap_or(0);
            c.expect(min >= 1, "spec.minReplicas", || format!("{min} is below 1"));
            c.expect(max >= min, "spec.maxReplicas", || {
                format!("{max} is below minReplicas {min}")
            });
            c.expect(max <= i64::from(i32::MAX), "spec.maxReplicas", || {
                format!("{max} is over 2147483647")
            });
            for (i, m) in arr(spec.get("metrics")).iter().enumerate() {
                if let Some(u) = m.pointer("/resource/target/averageUtilization") {
                    c.expect(
                        u.as_i64().is_some_and(|u| u > 0 && u <= i64::from(i32::MAX)),
                        &format!("spec.metrics[{i}]"),
                        || format!("averageUtilization {u} must be above 0"),
                    );
                }
            }
        }
        "PodDisruptionBudget" => {
            for key in ["minAvailable", "maxUnavailable"] {
                if let Some(v) = spec.get(key) {
                    let ok = match v {
                        Value::String(s) => s
                            .strip_suffix('%')
                            .and_then(|p| p.parse::<u32>().ok())
                            .is_some_and(|p| p <= 100),
                        other => other.as_i64().is_some_and(|n| (0..=i64::from(i32::MAX)).contains(&n)),
                    };
                    c.expect(ok, &format!("spec.{key}"), || {
                        format!("{v} is not a count or percentage")
                    });
                }
            }
        }
        "NetworkPolicy" => {
            c.selector("spec.podSelector", spec.get("podSelector"));
            for dir in ["ingress", "egress"] {
                let peers = if dir == "ingress" { "from" } else { "to" };
                for (i, rule) in arr(spec.get(dir)).iter().enumerate() {
                    for (j, p) in arr(rule.get("ports")).iter().enumerate() {
                        if let Some(port) = p.get("port") {
                            c.expect(
                                int_or_name_port(port),
                                &format!("spec.{dir}[{i}].ports[{j}].port"),
                                || format!("{port} is not a port number or IANA service name"),
                            );
                        }
                    }
                    for (j, peer) in arr(rule.get(peers)).iter().enumerate() {
                        let pf = format!("spec.{dir}[{i}].{peers}[{j}]");
                        c.selector(&format!("{pf}.podSelector"), peer.get("podSelector"));
                        c.selector(&format!("{pf}.namespaceSelector"), peer.get("namespaceSelector"));
                        if let Some(block) = peer.get("ipBlock") {
                            let cidr_s = str_of(block.get("cidr"));
                            c.expect(cidr(cidr_s), &format!("{pf}.ipBlock.cidr"), || {
                                format!("`{cidr_s}` is not a CIDR")
                            });
                        }
                    }
                }
            }
        }
        "Ingress" => {
            for (i, rule) in arr(spec.get("rules")).iter().enumerate() {
                if let Some(host) = rule.get("host").and_then(Value::as_str) {
                    let bare = host.strip_prefix("*.").unwrap_or(host);
                    let ok = dns1123_subdomain(bare) && bare.parse::<std::net::IpAddr>().is_err();
                    c.expect(ok, &format!("spec.rules[{i}].host"), || {
                        format!("`{host}` is not a DNS name")
                    });
                }
                for (j, p) in arr(rule.pointer("/http/paths")).iter().enumerate() {
                    let path = str_of(p.get("path"));
                    let pf = format!("spec.rules[{i}].http.paths[{j}].path");
                    if let Err(e) = ingress_path(path) {
                        c.fail(&pf, format!("`{path}` {e}"));
                    }
                    if let Some(port) = p.pointer("/backend/service/port/number") {
                        c.expect(port_number(port), &pf, || {
                            format!("backend port {port} is not a port number")
                        });
                    }
                }
            }
            for (i, t) in arr(spec.get("tls")).iter().enumerate() {
                for h in arr(t.get("hosts")) {
                    let h = h.as_str().unwrap_or("");
                    let bare = h.strip_prefix("*.").unwrap_or(h);
                    c.expect(dns1123_subdomain(bare), &format!("spec.tls[{i}].hosts"), || {
                        format!("`{h}` is not a DNS name")
                    });
                }
            }
        }
        "HTTPRoute" => http_route(&mut c, &spec),
        "Gateway" => {
            let listeners = arr(spec.get("listeners"));
            c.expect(!listeners.is_empty() && listeners.len() <= 64, "spec.listeners", || {
                format!("{} listeners, allowed 1..=64", listeners.len())
            });
            let mut names = BTreeSet::new();
            for (i, l) in listeners.iter().enumerate() {
                let name = str_of(l.get("name"));
                c.expect(section_name(name), &format!("spec.listeners[{i}].name"), || {
                    format!("`{name}` is not a section name (DNS-1123 subdomain, at most 253)")
                });
                c.expect(
                    names.insert(name.to_string()),
                    &format!("spec.listeners[{i}].name"),
                    || format!("`{name}` is used twice"),
                );
                if let Some(h) = l.get("hostname").and_then(Value::as_str) {
                    c.expect(gateway_hostname(h), &format!("spec.listeners[{i}].hostname"), || {
                        format!("`{h}` is not a hostname")
                    });
                }
                let port = l.get("port").cloned().unwrap_or(Value::Null);
                c.expect(port_number(&port), &format!("spec.listeners[{i}].port"), || {
                    format!("{port} is not a port number")
                });
            }
        }
        "Certificate" => {
            for (i, h) in arr(spec.get("dnsNames")).iter().enumerate() {
                let h = h.as_str().unwrap_or("");
                let bare = h.strip_prefix("*.").unwrap_or(h);
                c.expect(dns1123_subdomain(bare), &format!("spec.dnsNames[{i}]"), || {
                    format!("`{h}` is not a DNS name")
                });
            }
        }
        "PersistentVolumeClaim" => {
            for (i, m) in arr(spec.get("accessModes")).iter().enumerate() {
                let m = m.as_str().unwrap_or("");
                let ok = matches!(
                    m,
                    "ReadWriteOnce" | "ReadOnlyMany" | "ReadWriteMany" | "ReadWriteOncePod"
                );
                c.expect(ok, &format!("spec.accessModes[{i}]"), || {
                    format!("`{m}` is not an access mode")
                });
            }
            let size = spec.pointer("/resources/requests/storage");
            let ok = size.and_then(Value::as_str).and_then(quantity).is_some_and(|q| q > 0.0);
            c.expect(ok, "spec.resources.requests.storage", || {
                format!("{size:?} is not a positive quantity")
            });
        }
        _ => {}
    }
    if kind == "StatefulSet" {
        for (i, t) in arr(spec.get("volumeClaimTemplates")).iter().enumerate() {
            let n = str_of(t.pointer("/metadata/name"));
            c.expect(
                dns1123_label(n),
                &format!("spec.volumeClaimTemplates[{i}].metadata.name"),
                || format!("`{n}` is not a DNS-1123 label"),
            );
        }
    }
    out
}

fn http_route(c: &mut Checker<'_>, spec: &Value) {
    let hostnames = arr(spec.get("hostnames"));
    c.expect(hostnames.len() <= 16, "spec.hostnames", || {
        format!("{} hostnames, at most 16", hostnames.len())
    });
    for (i, h) in hostnames.iter().enumerate() {
        let h = h.as_str().unwrap_or("");
        c.expect(gateway_hostname(h), &format!("spec.hostnames[{i}]"), || {
            format!("`{h}` is not a hostname")
        });
    }
    for (i, p) in arr(spec.get("parentRefs")).iter().enumerate() {
        if let Some(s) = p.get("sectionName").and_then(Value::as_str) {
            c.expect(section_name(s), &format!("spec.parentRefs[{i}].sectionName"), || {
                format!("`{s}` is not a section name")
            });
        }
    }
    let rules = arr(spec.get("rules"));
    c.expect(rules.len() <= 16, "spec.rules", || {
        format!("{} rules, at most 16", rules.len())
    });
    let mut total = 0;
    for (i, rule) in rules.iter().enumerate() {
        let matches = arr(rule.get("matches"));
        total += matches.len();
        c.expect(matches.len() <= 64, &format!("spec.rules[{i}].matches"), || {
            format!("{} matches, at most 64", matches.len())
        });
        for (j, m) in matches.iter().enumerate() {
            if let Some(path) = m.get("path") {
                let kind = path.get("type").and_then(Value::as_str).unwrap_or("PathPrefix");
                let value = str_of(path.get("value"));
                if kind != "RegularExpression"
                    && let Err(e) = http_route_path(value)
                {
                    c.fail(
                        &format!("spec.rules[{i}].matches[{j}].path.value"),
                        format!("`{value}` {e}"),
                    );
                }
            }
        }
        for (j, b) in arr(rule.get("backendRefs")).iter().enumerate() {
            if let Some(port) = b.get("port") {
                c.expect(
                    port_number(port),
                    &format!("spec.rules[{i}].backendRefs[{j}].port"),
                    || format!("{port} is not a port number"),
                );
            }
        }
    }
    c.expect(total <= 128, "spec.rules", || {
        format!("{total} matches across the rules, at most 128")
    });
}

/// Every violation in `objects`, plus names that two objects of one kind share in a namespace.
pub fn validate_all<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for o in objects {
        out.extend(validate(o));
        let id = (
            str_of(o.get("apiVersion")).to_string(),
            str_of(o.get("kind")).to_string(),
            str_of(o.pointer("/metadata/namespace")).to_string(),
            str_of(o.pointer("/metadata/name")).to_string(),
        );
        if !seen.insert(id.clone()) {
            out.push(Violation {
                object: format!("{}/{}/{}", id.1, id.2, id.3),
                field: "metadata.name".into(),
                message: "two objects of this kind have this name in one namespace".into(),
            });
        }
    }
    out
}
