//! `render --format flux`: the same plan as `up`, as a tree Flux reconciles in the
//! same order. Pure: the caller writes the files.
//!
//! Layout (one cluster = one environment):
//!
//! ```text
//! clusters/<cluster>/kustomization.yaml   resources: [windlass.yaml] (the path `flux bootstrap` points at)
//! clusters/<cluster>/windlass.yaml        one Flux Kustomization per unit, in flux-system
//! units/<cluster>/<unit dir>/             the unit's objects and a kustomization.yaml listing them
//! ```
//!
//! Units map one to one: `platform`, `namespace.NS`, `app.NS.NAME` and
//! `component.NAME`, whose directory also holds the chart's source (an
//! OCIRepository or a HelmRepository) and the HelmRelease (helm-controller
//! installs the chart's CRDs, `CreateReplace`), so its Kustomization's `wait`
//! covers the release. A component's objects of kinds its chart (or another's)
//! defines, such as Envoy Gateway's GatewayClass, cannot go in with the release
//! that brings their CRDs: they go in `component.NAME-config`, after it, and
//! an edge to the component means its config too. A `crds.NAME` unit has no
//! Kustomization of its own: an edge to it becomes an edge to `component.NAME`
//! (the release Ready means its CRDs are there). Every Kustomization waits
//! (`wait: true`) and `dependsOn` the Kustomizations of the unit's needs, so a
//! unit starts only once what it needs is Ready — the same edges `up` follows.

use serde_json::{Value, json};

use super::config::fnv1a;
use super::object::Object;
use crate::components::{Component, CrdSource};
use crate::model::Platform;
use crate::plan::Plan;
use crate::unit::UnitId;

/// Where Flux's objects live.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// The Flux Kustomizations' file in each cluster directory.
pub const FLUX_FILE: &str = "windlass.yaml";
const KUSTOMIZE_API: &str = "kustomize.toolkit.fluxcd.io/v1";

/// The source every Kustomization reads the tree from (`flux bootstrap` makes
/// `GitRepository/flux-system`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxSource {
    pub kind: String,
    pub name: String,
}

impl Default for FluxSource {
    fn default() -> Self {
        FluxSource {
            kind: "GitRepository".into(),
            name: "flux-system".into(),
        }
    }
}

impl std::str::FromStr for FluxSource {
    type Err = String;
    /// `KIND/NAME`, KIND one of Flux's sources that hold a tree.
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, name) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not KIND/NAME (e.g. GitRepository/flux-system)"))?;
        if !["GitRepository", "OCIRepository", "Bucket"].contains(&kind) {
            return Err(format!(
                "`{kind}` is not a Flux source of a tree: use GitRepository, OCIRepository or Bucket"
            ));
        }
        if !crate::spec::names::is_dns1123_subdomain(name) {
            return Err(format!("`{name}` is not a valid object name"));
        }
        Ok(FluxSource {
            kind: kind.into(),
            name: name.into(),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct FluxOptions {
    /// The cluster's name: its directories (`clusters/<cluster>`, `units/<cluster>`).
    pub cluster: String,
    pub source: FluxSource,
    /// The Secret in flux-system with the age key that decrypts the units' SOPS-encrypted Secrets.
    pub sops_secret: String,
}

/// The Flux Kustomization of a unit (`crds.NAME` folds into `component.NAME`):
/// `<platform>-<unit>` as a DNS label; a name longer than 63 (Flux puts it in a
/// label) keeps its start and a hash of the whole.
pub fn kustomization_name(platform: &Platform, unit: &UnitId) -> String {
    let unit = folded(unit);
    label_name(format!("{}-{}", platform.name, unit.to_string().replace('.', "-")))
}

/// The unit a GitOps tree applies for `unit`: a `crds.NAME` unit is its component's
/// (the release installs the CRDs); every other unit is itself.
pub fn folded(unit: &UnitId) -> UnitId {
    match unit {
        UnitId::Crds(name) => UnitId::Component(name.clone()),
        other => other.clone(),
    }
}

/// The Kustomization of a component's objects that need its CRDs (`-config`).
pub fn config_kustomization_name(platform: &Platform, component: &str) -> String {
    label_name(format!("{}-component-{component}-config", platform.name))
}

/// The directory of a component's config objects, beside the component's.
pub fn config_dir(component_dir: &str) -> String {
    format!("{component_dir}-config")
}

/// Whether an object's kind is built into Kubernetes (so it applies before any CRD).
pub fn is_builtin(o: &Object) -> bool {
    let api = o.0.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io") && !group.starts_with("gateway.networking")
}

fn label_name(full: String) -> String {
    if full.len() <= 63 {
        return full;
    }
    let hash = format!("{:08x}", fnv1a([full.as_str()]) as u32);
    let head = full[..54].trim_end_matches('-');
    format!("{head}-{hash}")
}

/// The directory of a unit's files, relative to the tree's root.
pub fn unit_path(cluster: &str, dir: &str) -> String {
    format!("units/{cluster}/{dir}")
}

/// Whether `up` has a unit of this id in the Flux tree (CRD units fold into their component).
pub fn has_kustomization(unit: &UnitId) -> bool {
    !matches!(unit, UnitId::Crds(_))
}

/// The Flux Kustomizations of the plan's units, in `up` order. `dir` gives each
/// unit's directory (the outline's); units in `decrypt` carry SOPS-encrypted
/// Secrets, which kustomize-controller decrypts with `sops_secret`.
/// `configs`: the component units that have config objects (see `is_builtin`).
pub fn kustomizations(
    platform: &Platform,
    plan: &Plan,
    opts: &FluxOptions,
    dir: impl Fn(&UnitId) -> String,
    configs: &std::collections::BTreeSet<UnitId>,
    decrypt: &std::collections::BTreeSet<UnitId>,
) -> Vec<Object> {
    let mut out = Vec::new();
    for unit in plan.up().iter().filter(|u| has_kustomization(&u.id)) {
        let name = kustomization_name(platform, &unit.id);
        let mut depends: Vec<String> = unit
            .needs
            .iter()
            .map(|n| match n {
                UnitId::Component(c) if configs.contains(n) => config_kustomization_name(platform, c),
                _ => kustomization_name(platform, n),
            })
            .filter(|n| *n != name)
            .collect();
        depends.sort();
        depends.dedup();
        let path = format!("./{}", unit_path(&opts.cluster, &dir(&unit.id)));
        let mut k = kustomization(platform, opts, &unit.id, name.clone(), path.clone(), depends);
        if decrypt.contains(&unit.id) {
            k.0["spec"]["decryption"] = json!({"provider": "sops", "secretRef": {"name": opts.sops_secret}});
        }
        out.push(k);
        if let UnitId::Component(c) = &unit.id
            && configs.contains(&unit.id)
        {
            out.push(kustomization(
                platform,
                opts,
                &unit.id,
                config_kustomization_name(platform, c),
                config_dir(&path),
                vec![name],
            ));
        }
    }
    out
}

fn kustomization(
    platform: &Platform,
    opts: &FluxOptions,
    unit: &UnitId,
    name: String,
    path: String,
    depends: Vec<String>,
) -> Object {
    {
        let component = matches!(unit, UnitId::Component(_));
        let mut spec = json!({
            "interval": "10m",
            "retryInterval": "1m",
            // Components install charts (helm waits for their workloads); apps roll out.
            "timeout": if component { "15m" } else { "5m" },
            "path": path,
            "prune": true,
            "wait": true,
            "sourceRef": {"kind": opts.source.kind, "name": opts.source.name},
        });
        if !depends.is_empty() {
            spec["dependsOn"] = Value::Array(depends.into_iter().map(|n| json!({"name": n})).collect());
        }
        Object(json!({
            "apiVersion": KUSTOMIZE_API,
            "kind": "Kustomization",
            "metadata": {
                "name": name,
                "namespace": FLUX_NAMESPACE,
                "labels": {
                    "app.kubernetes.io/managed-by": "windlass",
                    "windlass.dev/platform": platform.name,
                    "windlass.dev/unit": unit.to_string(),
                },
            },
            "spec": spec,
        }))
    }
}

/// A component's chart source and HelmRelease, in flux-system: the release is
/// named and stored as `up` installs it (so one can move between the two), with
/// the values `up` gives helm and the chart's CRDs installed and upgraded by
/// helm-controller (`CreateReplace`) instead of a `crds.NAME` unit.
pub fn component_objects(platform: &Platform, c: &Component) -> Vec<Object> {
    let name = format!("{}-{}", platform.name, c.name.as_str());
    let labels = json!({
        "app.kubernetes.io/managed-by": "windlass",
        "windlass.dev/platform": platform.name,
        crate::defaults::LABEL_ENVIRONMENT: platform.environment,
    });
    let interval = "1h";
    let mut values = c.values.clone();
    if let CrdSource::Template(switch) = c.crds {
        set_path(&mut values, switch, Value::Bool(true));
    }
    let loopback = |repo: &str| {
        let host = repo.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        host == "localhost" || host == "127.0.0.1" || host == "[::1]"
    };
    let (source, chart) = if c.chart.is_oci() {
        let mut spec = json!({
            "interval": interval,
            "url": format!("{}/{}", c.chart.repository.trim_end_matches('/'), c.chart.name),
            "ref": {"tag": c.chart.version},
            "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy"},
        });
        if loopback(&c.chart.repository) {
            spec["insecure"] = Value::Bool(true);
        }
        (
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                   "metadata": {"name": name, "namespace": FLUX_NAMESPACE, "labels": labels}, "spec": spec}),
            json!({"chartRef": {"kind": "OCIRepository", "name": name}}),
        )
    } else {
        let mut spec = json!({"interval": interval, "url": c.chart.repository});
        if loopback(&c.chart.repository) {
            spec["insecure"] = Value::Bool(true);
        }
        (
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
                   "metadata": {"name": name, "namespace": FLUX_NAMESPACE, "labels": labels}, "spec": spec}),
            json!({"chart": {"spec": {
                "chart": c.chart.name,
                "version": c.chart.version,
                "sourceRef": {"kind": "HelmRepository", "name": name},
                "interval": interval,
            }}}),
        )
    };
    let mut spec = json!({
        "interval": "30m",
        "releaseName": c.release,
        "targetNamespace": c.namespace,
        "storageNamespace": c.namespace,
        "timeout": "10m",
        // Server-side apply as `up` runs helm; a failed install is retried, a failed
        // upgrade rolled back (as `up --rollback-on-failure` does) and retried.
        "install": {
            "crds": "CreateReplace",
            "serverSideApply": true,
            "strategy": {"name": "RetryOnFailure", "retryInterval": "2m"},
        },
        "upgrade": {
            "crds": "CreateReplace",
            // A string here (enabled | disabled | auto), a boolean under `install`.
            "serverSideApply": "enabled",
            "remediation": {"retries": 3, "remediateLastFailure": true, "strategy": "rollback"},
            "cleanupOnFail": true,
        },
        "rollback": {"cleanupOnFail": true},
        "values": values,
    });
    if let (Some(s), Some(chart)) = (spec.as_object_mut(), chart.as_object()) {
        for (k, v) in chart {
            s.insert(k.clone(), v.clone());
        }
    }
    vec![
        Object(source),
        Object(json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": name, "namespace": FLUX_NAMESPACE, "labels": labels},
            "spec": spec,
        })),
    ]
}

/// Sets a dotted path (`crds.enabled`) in a values tree, making mappings on the way.
pub(crate) fn set_path(values: &mut Value, path: &str, to: Value) {
    let mut at = values;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !at.is_object() {
            *at = json!({});
        }
        let Some(map) = at.as_object_mut() else { return };
        if parts.peek().is_none() {
            map.insert(part.to_string(), to);
            return;
        }
        at = map.entry(part.to_string()).or_insert_with(|| json!({}));
    }
}

/// A unit as Flux applies it: a component's objects of CRD-defined kinds split
/// off into its `-config` unit (same id, `config_dir`); every other unit whole.
pub fn split(unit: super::Unit) -> (super::Unit, Option<super::Unit>) {
    if !matches!(unit.kind, UnitId::Component(_)) {
        return (unit, None);
    }
    let (main, config): (Vec<_>, Vec<_>) = unit.objects.into_iter().partition(is_builtin);
    let config = (!config.is_empty()).then(|| super::Unit {
        kind: unit.kind.clone(),
        dir: config_dir(&unit.dir),
        objects: config,
    });
    (
        super::Unit {
            kind: unit.kind,
            dir: unit.dir,
            objects: main,
        },
        config,
    )
}

/// A kustomize `kustomization.yaml` listing `resources` (file or directory names).
pub fn kustomize_file(resources: &[String]) -> Object {
    Object(json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }))
}
