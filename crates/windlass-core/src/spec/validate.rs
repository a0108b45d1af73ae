//! Semantic validation of one environment's merged spec: everything the types
//! cannot say (names, references, cycles, scaling and disruption rules, the
//! incidents DESIGN.md lists). Each finding is located on the merged tree, so it
//! points at the line that set the value, base or overlay.

use std::collections::{BTreeMap, BTreeSet};

use super::names::*;
use super::types::*;
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::source::{FieldPath, Node};

/// The longest app name: CronJob names are limited to 52 characters.
const MAX_APP_NAME: usize = 52;
/// Gateway API allows 64 listeners; one is the plain HTTP listener.
const MAX_GATEWAY_HOSTS: usize = 63;

struct Findings<'a> {
    node: &'a Node,
    diags: Vec<Diagnostic>,
}

impl Findings<'_> {
    fn err(&mut self, path: FieldPath, message: impl Into<String>, help: impl Into<String>) {
        let loc = self.node.locate(&path);
        self.diags.push(Diagnostic::new(path, message).help(help).at(loc));
    }

    /// An error about a mapping key itself (an app or environment name), located at the key.
    fn err_key(&mut self, parent: &FieldPath, key: &str, message: impl Into<String>, help: impl Into<String>) {
        let path = parent.key(key);
        let parent_node = parent_node(self.node, parent);
        let loc = parent_node
            .and_then(|p| p.key_loc(key))
            .unwrap_or_else(|| self.node.locate(&path));
        self.diags.push(Diagnostic::new(path, message).help(help).at(loc));
    }
}

fn parent_node<'a>(root: &'a Node, path: &FieldPath) -> Option<&'a Node> {
    let mut n = root;
    for seg in &path.0 {
        n = match seg {
            crate::source::Segment::Key(k) => n.get(k)?,
            crate::source::Segment::Index(i) => match &n.value {
                crate::source::Value::Seq(items) => items.get(*i)?,
                _ => return None,
            },
        };
    }
    Some(n)
}

/// The fully qualified host for a spec host (`www` means `www.<domain>`).
pub fn qualify_host(host: &str, domain: &str) -> String {
    if host.contains('.') {
        host.to_string()
    } else {
        format!("{host}.{domain}")
    }
}

pub fn validate(spec: &PlatformFile, node: &Node, environments: &[(String, Option<&Node>)]) -> Vec<Diagnostic> {
    let mut f = Findings {
        node,
        diags: Vec::new(),
    };
    let root = FieldPath::root();

    if spec.api_version != API_VERSION {
        f.err(
            root.key("apiVersion"),
            format!("unsupported apiVersion `{}`", spec.api_version),
            format!("this windlass reads `apiVersion: {API_VERSION}`"),
        );
    }
    if spec.kind != "Platform" {
        f.err(
            root.key("kind"),
            format!("unsupported kind `{}`", spec.kind),
            "use `kind: Platform`",
        );
    }
    if let Some(default) = &spec.default_environment {
        let names: Vec<&str> = environments.iter().map(|(n, _)| n.as_str()).collect();
        if !names.contains(&default.as_str()) {
            let help = match did_you_mean(default, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("name one of the environments: {}", names.join(", ")),
            };
            f.err(
                root.key("defaultEnvironment"),
                format!("no environment named `{default}`"),
                help,
            );
        }
    }
    platform(&mut f, &spec.platform);

    let mut hosts_seen: BTreeMap<String, FieldPath> = BTreeMap::new();
    let app_names: Vec<&str> = spec.apps.keys().map(String::as_str).collect();
    for (name, app) in &spec.apps {
        let path = root.key("apps").key(name);
        if !is_dns1035_label(name) || name.len() > MAX_APP_NAME {
            f.err_key(
                &root.key("apps"),
                name,
                format!("app name `{name}` is not a valid name"),
                format!(
                    "use at most {MAX_APP_NAME} lowercase letters, digits and `-`, starting with a letter (it becomes a Service name)"
                ),
            );
        }
        app_checks(&mut f, &spec.platform, &spec.apps, name, app, &path, &app_names);
        for (i, host) in app.hosts.iter().enumerate() {
            let fq = qualify_host(host, &spec.platform.domain);
            let hpath = path.key("hosts").index(i);
            if !is_dns1123_subdomain(&fq) {
                f.err(
                    hpath.clone(),
                    format!("host `{fq}` is not a valid DNS name"),
                    "use lowercase letters, digits, `-` and `.`, e.g. `www.example.com` or `www`",
                );
            } else if let Some(first) = hosts_seen.get(&fq) {
                f.err(
                    hpath.clone(),
                    format!("host `{fq}` is already used by {first}"),
                    "give each host to one app; serve several paths of one host with `routes`",
                );
            } else {
                hosts_seen.insert(fq, hpath);
            }
        }
    }
    // A Gateway has at most 64 listeners: one for plain HTTP, one HTTPS listener per host.
    if spec.platform.traffic.mode == TrafficMode::Gateway && hosts_seen.len() > MAX_GATEWAY_HOSTS {
        f.err(
            root.key("platform").key("traffic").key("mode"),
            format!(
                "{} public hosts do not fit on one Gateway (at most {MAX_GATEWAY_HOSTS})",
                hosts_seen.len()
            ),
            "use `traffic: {mode: ingress}` for this many hosts, or split the platform",
        );
    }
    dependency_cycles(&mut f, &spec.apps);
    for (path, message, help) in super::observability::validate(spec) {
        f.err(path, message, help);
    }
    f.diags
}

fn platform(f: &mut Findings<'_>, p: &PlatformSpec) {
    let path = FieldPath::root().key("platform");
    if !is_dns1123_label(&p.name) {
        f.err(
            path.key("name"),
            format!("platform name `{}` is not a DNS-1123 label", p.name),
            "use lowercase letters, digits and `-` (at most 63), e.g. `shop`",
        );
    }
    if !is_dns1123_subdomain(&p.domain) || !p.domain.contains('.') {
        f.err(
            path.key("domain"),
            format!("domain `{}` is not a valid DNS domain", p.domain),
            "use a domain you control, e.g. `example.com`",
        );
    }
    match (&p.email, p.tls) {
        (None, TlsIssuer::LetsencryptProd | TlsIssuer::LetsencryptStaging) => f.err(
            path.key("email"),
            "Let's Encrypt needs an ACME account e-mail",
            "add `email: ops@your-domain` under `platform`, or use `tls: self-signed`",
        ),
        (Some(e), _) if !valid_email(e) => f.err(
            path.key("email"),
            format!("`{e}` is not an e-mail address"),
            "write it as `name@domain`",
        ),
        _ => {}
    }
    for (field, ns) in [
        ("namespace", p.namespace.as_deref()),
        ("traffic.namespace", p.traffic.namespace.as_deref()),
        ("monitoring.namespace", p.monitoring.namespace.as_deref()),
    ] {
        if let Some(ns) = ns
            && !is_dns1123_label(ns)
        {
            f.err(
                FieldPath::parse(&format!("platform.{field}")),
                format!("namespace `{ns}` is not a DNS-1123 label"),
                "use lowercase letters, digits and `-` (at most 63)",
            );
        }
    }
    if let Some(class) = &p.traffic.class
        && !is_dns1123_subdomain(class)
    {
        f.err(
            path.key("traffic").key("class"),
            format!("class `{class}` is not a valid name"),
            "use the name of an existing GatewayClass or IngressClass, e.g. `eg` or `nginx`",
        );
    }
    if let Some(release) = &p.monitoring.release
        && !is_label_value(release)
    {
        f.err(
            path.key("monitoring").key("release"),
            format!("release `{release}` is not a valid label value"),
            "use the Helm release name of kube-prometheus-stack",
        );
    }
}

fn valid_email(e: &str) -> bool {
    matches!(e.split_once('@'), Some((user, domain)) if !user.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace))
}

#[allow(clippy::too_many_lines)]
fn app_checks(
    f: &mut Findings<'_>,
    platform: &PlatformSpec,
    apps: &indexmap::IndexMap<String, AppSpec>,
    name: &str,
    app: &AppSpec,
    path: &FieldPath,
    app_names: &[&str],
) {
    // Image: a tag or digest, never a moving `latest` unless the user says so.
    let (repo, tag, digest) = split_image(&app.image);
    if app.image.trim().is_empty() || app.image.contains(char::is_whitespace) || repo.is_empty() {
        f.err(
            path.key("image"),
            format!("`{}` is not an image reference", app.image),
            "write e.g. `ghcr.io/acme/web:1.4.2`",
        );
    } else if tag.is_none() && digest.is_none() {
        f.err(
            path.key("image"),
            format!("image `{}` has no tag or digest", app.image),
            format!(
                "pin a version, e.g. `{repo}:1.0.0` or `{repo}@sha256:...`, so rollouts and rollbacks are reproducible"
            ),
        );
    } else if tag == Some("latest") && digest.is_none() && !app.allow_latest {
        f.err(
            path.key("image"),
            format!("image `{}` uses the mutable `latest` tag", app.image),
            "pin a version tag or digest, or set `allowLatest: true` if you accept unreproducible rollouts",
        );
    }

    let scaled = app.kind != AppKind::Cron;
    match app.kind {
        AppKind::Web if app.port.is_none() => f.err(
            path.clone(),
            "a `web` app needs a `port`",
            "add `port: 8080` (the container port serving HTTP), or use `kind: worker`",
        ),
        AppKind::Cron if app.schedule.is_none() => f.err(
            path.clone(),
            "a `cron` app needs a `schedule`",
            "add e.g. `schedule: \"*/15 * * * *\"`",
        ),
        _ => {}
    }
    if app.kind != AppKind::Cron && app.schedule.is_some() {
        f.err(
            path.key("schedule"),
            "`schedule` only applies to `kind: cron`",
            "remove it, or set `kind: cron`",
        );
    }
    if let Some(s) = &app.schedule
        && !valid_cron(s)
    {
        f.err(
            path.key("schedule"),
            format!("`{s}` is not a cron schedule"),
            "use five fields (minute hour day-of-month month day-of-week), e.g. `0 3 * * *`, or a macro like `@daily`",
        );
    }

    // Public traffic.
    if !app.hosts.is_empty() && (app.kind != AppKind::Web) {
        f.err(
            path.key("hosts"),
            "only `web` apps can have public hosts",
            "remove `hosts`, or set `kind: web`",
        );
    }
    if !app.routes.is_empty() && app.hosts.is_empty() {
        f.err(
            path.key("routes"),
            "`routes` need at least one host",
            "add `hosts: [www]`, or remove `routes`",
        );
    }
    let mut paths_seen = BTreeSet::new();
    for (i, r) in app.routes.iter().enumerate() {
        let rpath = path.key("routes").index(i);
        if !r.path.starts_with('/') || r.path.contains(char::is_whitespace) {
            f.err(
                rpath.key("path"),
                format!("route path `{}` must start with `/`", r.path),
                "write e.g. `/admin`",
            );
        } else if !paths_seen.insert(r.path.trim_end_matches('/').to_string()) {
            f.err(
                rpath.key("path"),
                format!("route path `{}` is listed twice", r.path),
                "list each path once",
            );
        }
        for (j, cidr) in r.allow_from.iter().enumerate() {
            if !is_cidr(cidr) {
                f.err(
                    rpath.key("allowFrom").index(j),
                    format!("`{cidr}` is not a CIDR"),
                    "write an address range such as `10.0.0.0/8` or `203.0.113.7/32`",
                );
            }
        }
        if !r.allow_from.is_empty()
            && platform.traffic.mode == TrafficMode::Ingress
            && platform.traffic.class.as_deref().is_some_and(|c| c != "nginx")
        {
            f.err(
                rpath.key("allowFrom"),
                "source-IP allow lists on Ingress are only rendered for the `nginx` class",
                "use `traffic: {mode: gateway}` or `traffic: {mode: ingress, class: nginx}`",
            );
        }
    }

    // Probes always target the pod itself.
    if let Some(h) = &app.health {
        let h = &h.0;
        let hpath = path.key("health");
        let ways = usize::from(h.path.is_some()) + usize::from(h.tcp) + usize::from(h.command.is_some());
        if ways != 1 {
            f.err(
                hpath.clone(),
                "health needs exactly one of `path`, `tcp: true` or `command`",
                "write e.g. `health: /healthz`",
            );
        }
        if let Some(p) = &h.path {
            if p.contains("://") {
                f.err(
                    hpath.clone(),
                    format!("health path `{p}` is a URL"),
                    "give only the path (e.g. `/healthz`): probes always call the pod itself, never a Service",
                );
            } else if !p.starts_with('/') {
                f.err(
                    hpath.clone(),
                    format!("health path `{p}` must start with `/`"),
                    "write e.g. `/healthz`",
                );
            }
        }
        if (h.path.is_some() || h.tcp) && h.port.or(app.port).is_none() {
            f.err(
                hpath.clone(),
                "an HTTP or TCP health check needs a port",
                "set `port` on the app or `health.port`",
            );
        }
        if let Some(cmd) = &h.command {
            if cmd.is_empty() {
                f.err(
                    hpath.key("command"),
                    "the health command is empty",
                    "write e.g. `[pg_isready, -h, localhost]`",
                );
            }
            // A probe that goes through a Service deadlocks: the Service has no endpoints until the pod is Ready.
            for word in cmd {
                if let Some(target) = app_names.iter().find(|n| mentions_service(word, n, platform)) {
                    f.err(
                        hpath.key("command"),
                        format!("the health command calls the Service `{target}` instead of the pod itself"),
                        "use `localhost` (or 127.0.0.1): through a Service the probe waits for endpoints that appear only once the pod is Ready",
                    );
                    break;
                }
            }
        }
        if app.kind == AppKind::Cron {
            f.err(hpath, "`cron` apps are not probed", "remove `health`");
        }
    } else if app.kind == AppKind::Web {
        f.err(
            path.clone(),
            "a `web` app needs a `health` endpoint for its probes",
            "add e.g. `health: /healthz` (an HTTP path that answers 200 when the app can serve)",
        );
    }
    if let Some(m) = &app.metrics {
        if !m.0.path.starts_with('/') {
            f.err(
                path.key("metrics"),
                format!("metrics path `{}` must start with `/`", m.0.path),
                "write e.g. `/metrics`",
            );
        }
        if m.0.port.or(app.port).is_none() {
            f.err(
                path.key("metrics"),
                "metrics need a port",
                "set `port` on the app or `metrics.port`",
            );
        }
    }

    // Scaling and disruption.
    if !scaled {
        for (field, set) in [
            ("replicas", app.replicas.is_some()),
            ("autoscaling", app.autoscaling.is_some()),
            ("disruption", app.disruption.is_some()),
        ] {
            if set {
                f.err(
                    path.key(field),
                    format!("`{field}` does not apply to `kind: cron`"),
                    "remove it",
                );
            }
        }
    }
    if app.replicas.is_some() && app.autoscaling.is_some() {
        f.err(
            path.key("replicas"),
            "`replicas` and `autoscaling` both set: the HPA and every deploy would fight over the replica count",
            "remove `replicas` (use `autoscaling.min`), or remove `autoscaling` (use `replicas: null` in an environment overlay to drop an inherited one)",
        );
    }
    if app.replicas == Some(0) {
        f.err(
            path.key("replicas"),
            "replicas: 0 runs nothing",
            "use at least 1, or remove the app from this environment with `apps: {NAME: null}`",
        );
    }
    if let Some(a) = &app.autoscaling {
        let ap = path.key("autoscaling");
        if a.min == 0 {
            f.err(
                ap.key("min"),
                "autoscaling.min must be at least 1",
                "use `min: 2` or more to stay available during drains",
            );
        }
        if a.min > a.max {
            f.err(
                ap.key("min"),
                format!("autoscaling.min ({}) is above autoscaling.max ({})", a.min, a.max),
                "make `min` at most `max`",
            );
        }
        if let Some(cpu) = a.cpu
            && !(1..=1000).contains(&cpu)
        {
            f.err(
                ap.key("cpu"),
                format!("CPU target {cpu}% is out of range"),
                "use a percentage of the CPU request between 1 and 1000, typically 60-80",
            );
        }
    }
    let min_replicas = app.autoscaling.as_ref().map(|a| a.min).or(app.replicas);
    if let Some(d) = &app.disruption {
        let dp = path.key("disruption");
        match (d.max_unavailable, d.min_available) {
            (Some(_), Some(_)) => f.err(
                dp.clone(),
                "set `maxUnavailable` or `minAvailable`, not both",
                "keep one (maxUnavailable: 1 is the safe default)",
            ),
            (Some(0), None) => f.err(
                dp.key("maxUnavailable"),
                "maxUnavailable: 0 blocks every node drain",
                "use `maxUnavailable: 1` (or more)",
            ),
            (None, Some(m)) => {
                let replicas = min_replicas.unwrap_or_else(|| default_replicas(app.kind));
                if m >= replicas {
                    f.err(
                        dp.key("minAvailable"),
                        format!("minAvailable ({m}) >= replicas ({replicas}) blocks every node drain"),
                        format!(
                            "use `minAvailable: {}` or less, or `maxUnavailable: 1`",
                            replicas.saturating_sub(1)
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    resources(f, &app.resources, &path.key("resources"));

    // Environment.
    for (k, _) in &app.env {
        if !is_env_var_name(k) {
            f.err(
                path.key("env").key(k),
                format!("`{k}` is not a valid environment variable name"),
                "use letters, digits and `_`, not starting with a digit",
            );
        }
    }
    for (k, r) in &app.secret_env {
        let sp = path.key("secretEnv").key(k);
        if !is_env_var_name(k) {
            f.err(
                sp.clone(),
                format!("`{k}` is not a valid environment variable name"),
                "use letters, digits and `_`, not starting with a digit",
            );
        }
        if app.env.contains_key(k) {
            f.err(
                sp.clone(),
                format!("`{k}` is set in both `env` and `secretEnv`"),
                "keep one",
            );
        }
        if !is_dns1123_subdomain(&r.0.secret) {
            f.err(
                sp.clone(),
                format!("`{}` is not a valid Secret name", r.0.secret),
                "use lowercase letters, digits, `-` and `.`",
            );
        }
        if !is_config_key(&r.0.key) {
            f.err(
                sp,
                format!("`{}` is not a valid Secret key", r.0.key),
                "use letters, digits, `-`, `_` and `.`",
            );
        }
    }
    if let Some(c) = &app.config {
        for (k, _) in &c.files {
            if !is_config_key(k) {
                f.err(
                    path.key("config").key("files").key(k),
                    format!("`{k}` is not a valid file name for a ConfigMap"),
                    "use letters, digits, `-`, `_` and `.` (no directories)",
                );
            }
        }
        if let Some(m) = &c.mount_path {
            absolute(f, m, &path.key("config").key("mountPath"));
        }
    }

    // Dependencies.
    let mut needs_seen = BTreeSet::new();
    for (i, dep) in app.needs.iter().enumerate() {
        let np = path.key("needs").index(i);
        if dep == name {
            f.err(np, format!("`{name}` needs itself"), "remove it from `needs`");
        } else if !apps.contains_key(dep) {
            let help = match did_you_mean(dep, app_names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("name an app of this spec: {}", app_names.join(", ")),
            };
            f.err(np, format!("unknown app `{dep}` in `needs`"), help);
        } else if !needs_seen.insert(dep) {
            f.err(np, format!("`{dep}` is listed twice in `needs`"), "list it once");
        }
    }
    for (i, e) in app.egress.iter().enumerate() {
        if !is_cidr(&e.cidr) {
            f.err(
                path.key("egress").index(i).key("cidr"),
                format!("`{}` is not a CIDR", e.cidr),
                "write e.g. `0.0.0.0/0` or `10.20.0.0/16`",
            );
        }
    }

    // Storage.
    if let Some(p) = &app.persistence {
        let pp = path.key("persistence");
        if p.size.milli() == 0 {
            f.err(
                pp.key("size"),
                format!("`{}` is not a volume size", p.size),
                "write e.g. `10Gi`",
            );
        }
        if let Some(m) = &p.mount_path {
            absolute(f, m, &pp.key("mountPath"));
        }
        if let Some(sc) = &p.storage_class
            && !is_dns1123_subdomain(sc)
        {
            f.err(
                pp.key("storageClass"),
                format!("`{sc}` is not a valid StorageClass name"),
                "use the name of a StorageClass of the cluster",
            );
        }
        let max = app
            .autoscaling
            .as_ref()
            .map(|a| a.max)
            .or(app.replicas)
            .unwrap_or_else(|| default_replicas(app.kind));
        let mode = p.access_mode.unwrap_or(AccessMode::ReadWriteOnce);
        match app.kind {
            AppKind::Cron => f.err(pp, "`cron` apps cannot have persistence", "remove `persistence`"),
            AppKind::Web | AppKind::Worker if max > 1 && mode != AccessMode::ReadWriteMany => f.err(
                pp,
                format!("{} replicas cannot share one {} volume", max, mode.as_str()),
                "use `kind: statefulset` (a volume per replica), `accessMode: ReadWriteMany`, or one replica",
            ),
            _ => {}
        }
    }
    for (i, w) in app.writable_paths.iter().enumerate() {
        absolute(f, w, &path.key("writablePaths").index(i));
    }
    if let Some(uid) = app.run_as_user
        && uid <= 0
    {
        f.err(
            path.key("runAsUser"),
            format!("runAsUser {uid} is root or invalid"),
            "use a non-root UID such as 10001 (Pod Security `restricted`)",
        );
    }
    if let Some(ns) = &app.namespace
        && !is_dns1123_label(ns)
    {
        f.err(
            path.key("namespace"),
            format!("namespace `{ns}` is not a DNS-1123 label"),
            "use lowercase letters, digits and `-` (at most 63)",
        );
    }
    for (k, v) in &app.labels {
        let lp = path.key("labels").key(k);
        if !is_label_key(k) {
            f.err(
                lp,
                format!("`{k}` is not a valid label key"),
                "use e.g. `tier` or `example.com/team`",
            );
        } else if k.starts_with("app.kubernetes.io/") {
            f.err(
                lp,
                format!("`{k}` is set by windlass"),
                "choose another key, e.g. `tier`",
            );
        } else if !is_label_value(v) {
            f.err(
                lp,
                format!("`{v}` is not a valid label value"),
                "use up to 63 letters, digits, `-`, `_` and `.`",
            );
        }
    }
}

/// The replica count when the spec sets neither `replicas` nor `autoscaling`.
pub fn default_replicas(kind: AppKind) -> u32 {
    match kind {
        AppKind::Web => 2,
        AppKind::Worker | AppKind::Statefulset | AppKind::Cron => 1,
    }
}

fn mentions_service(word: &str, app: &str, platform: &PlatformSpec) -> bool {
    let host = word
        .split("://")
        .nth(1)
        .unwrap_or(word)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    host == app || host.starts_with(&format!("{app}.")) && !host.ends_with(&platform.domain)
}

fn absolute(f: &mut Findings<'_>, p: &str, path: &FieldPath) {
    if !p.starts_with('/') || p.contains("..") {
        f.err(
            path.clone(),
            format!("`{p}` is not an absolute path"),
            "write e.g. `/var/cache/app`",
        );
    }
}

fn resources(f: &mut Findings<'_>, r: &ResourcesSpec, path: &FieldPath) {
    let limits = r.limits.clone().unwrap_or_default();
    for (field, req, lim) in [("cpu", &r.cpu, &limits.cpu), ("memory", &r.memory, &limits.memory)] {
        if let (Some(rq), Some(lq)) = (req, lim)
            && rq.milli() > lq.milli()
        {
            f.err(
                path.key("limits").key(field),
                format!("{field} limit {lq} is below the request {rq}"),
                "raise the limit to at least the request",
            );
        }
    }
}

fn valid_cron(s: &str) -> bool {
    let s = s.trim();
    if s.starts_with('@') {
        return matches!(
            s,
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly"
        );
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'/' | b',' | b'-' | b'?'))
        })
}

fn dependency_cycles(f: &mut Findings<'_>, apps: &indexmap::IndexMap<String, AppSpec>) {
    // Depth-first search with colours; each cycle is reported once, at the edge that closes it.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&str, Colour> = apps.keys().map(|k| (k.as_str(), Colour::White)).collect();
    let mut stack: Vec<&str> = Vec::new();
    fn visit<'a>(
        f: &mut Findings<'_>,
        apps: &'a indexmap::IndexMap<String, AppSpec>,
        name: &'a str,
        colour: &mut BTreeMap<&'a str, Colour>,
        stack: &mut Vec<&'a str>,
    ) {
        colour.insert(name, Colour::Grey);
        stack.push(name);
        if let Some(app) = apps.get(name) {
            for (i, dep) in app.needs.iter().enumerate() {
                match colour.get(dep.as_str()).copied() {
                    Some(Colour::White) => visit(f, apps, dep, colour, stack),
                    Some(Colour::Grey) => {
                        let start = stack.iter().position(|n| n == dep).unwrap_or(0);
                        let mut cycle: Vec<&str> = stack[start..].to_vec();
                        cycle.push(dep);
                        f.err(
                            FieldPath::root().key("apps").key(name).key("needs").index(i),
                            format!("dependency cycle: {}", cycle.join(" -> ")),
                            "remove one of these `needs` so the apps can be deployed in order",
                        );
                    }
                    _ => {}
                }
            }
        }
        stack.pop();
        colour.insert(name, Colour::Black);
    }
    for name in apps.keys() {
        if colour.get(name.as_str()) == Some(&Colour::White) {
            visit(f, apps, name, &mut colour, &mut stack);
        }
    }
}
