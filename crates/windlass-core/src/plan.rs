//! The plan: the typed unit graph of one environment. Which units an invocation
//! acts on (`--only app=NAME|tier=NAME`, widened to their transitive `needs`),
//! what each unit needs, and the one order every command takes: `up` and `diff`
//! go in dependency order, `down` in reverse. Ties are broken by name, so output is stable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::components::{ComponentName, CrdSource};
use crate::defaults as d;
use crate::diagnostics::did_you_mean;
use crate::model::Platform;
use crate::spec::TrafficMode;
use crate::unit::{UnitId, removal_order};

/// One `--only` selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    App(String),
    /// Any label of the app, e.g. `tier=frontend`.
    Label(String, String),
}

impl FromStr for Selector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some(("app", v)) if !v.is_empty() => Ok(Selector::App(v.to_string())),
            Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok(Selector::Label(k.to_string(), v.to_string())),
            _ => Err(format!(
                "`{s}` is not a selector; write `app=NAME` or `tier=NAME` (any app label)"
            )),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::App(a) => write!(f, "app={a}"),
            Selector::Label(k, v) => write!(f, "{k}={v}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("--only {selector}: no app matches{}", suggest(.suggestion))]
    NothingSelected {
        selector: String,
        suggestion: Option<String>,
    },
    #[error("no app `{name}` in the spec{}", suggest(.suggestion))]
    NoSuchApp { name: String, suggestion: Option<String> },
}

fn suggest(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// A unit with the units that must be ready before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedUnit {
    pub id: UnitId,
    /// Every unit that must be done before all of this one is: what it needs to
    /// start, and what some of its objects use (the order GitOps trees follow).
    pub needs: Vec<UnitId>,
    /// What must be serving before the unit starts: for an app, its namespace and
    /// the apps it needs; for any other unit, all of `needs`. An app's objects
    /// that use a component or the platform (a ServiceMonitor, an HTTPRoute) are
    /// held back until that unit is done ([`Plan::object_needs`]), so an app's
    /// rollout never waits for monitoring or routing to be installed.
    pub start: Vec<UnitId>,
}

/// Who makes a namespace that objects are applied into: what a "namespace not
/// found" from the cluster should tell the user to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceOrigin {
    /// `windlass up` creates it as this unit, before the units that need it.
    Unit(UnitId),
    /// A switched-off platform component's namespace: the cluster's own install makes it.
    Component {
        /// The component, for people: `the monitoring stack`.
        component: &'static str,
        /// The spec key that names the namespace, when the spec can move it.
        spec_key: Option<&'static str>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Selected app names in deploy order.
    pub apps: Vec<String>,
    /// Selected units in dependency order: the platform, the selected apps'
    /// namespaces, the selected apps.
    units: Vec<PlannedUnit>,
    /// Every unit of the environment in dependency order, whatever `--only` selected.
    spec_units: Vec<UnitId>,
    /// The app units `--only` named itself, before widening; `None` without `--only`.
    named: Option<BTreeSet<UnitId>>,
    namespaces: BTreeMap<String, NamespaceOrigin>,
}

impl Plan {
    pub fn new(platform: &Platform, only: &[Selector]) -> Result<Plan, PlanError> {
        let named = if only.is_empty() {
            None
        } else {
            Some(select(platform, only)?)
        };
        let mut chosen: BTreeSet<&str> = match &named {
            None => platform.apps.iter().map(|a| a.name.as_str()).collect(),
            Some(named) => named.iter().copied().collect(),
        };
        // Widen to transitive needs.
        let mut stack: Vec<&str> = chosen.iter().copied().collect();
        while let Some(name) = stack.pop() {
            if let Some(app) = platform.app(name) {
                for n in &app.needs {
                    if chosen.insert(n.as_str()) {
                        stack.push(n.as_str());
                    }
                }
            }
        }
        let apps = order(platform, &chosen);
        let all: BTreeSet<&str> = platform.apps.iter().map(|a| a.name.as_str()).collect();
        let namespaces = namespace_origins(platform);
        let spec_units = unit_graph(platform, &namespaces, &order(platform, &all))
            .into_iter()
            .map(|u| u.id)
            .collect();
        let unit_of = |name: &str| platform.app(name).map(|a| UnitId::app(&a.namespace, &a.name));
        Ok(Plan {
            units: unit_graph(platform, &namespaces, &apps),
            apps,
            spec_units,
            named: named.map(|n| n.into_iter().filter_map(unit_of).collect()),
            namespaces,
        })
    }

    /// The unit of one app, for commands that name an app (`rollback APP`).
    pub fn app_unit(platform: &Platform, name: &str) -> Result<UnitId, PlanError> {
        match platform.app(name) {
            Some(app) => Ok(UnitId::app(&app.namespace, &app.name)),
            None => Err(PlanError::NoSuchApp {
                name: name.to_string(),
                suggestion: did_you_mean(name, platform.apps.iter().map(|a| a.name.as_str())).map(str::to_string),
            }),
        }
    }

    /// Selected units in the order `up` applies them (each after what it needs).
    pub fn up(&self) -> &[PlannedUnit] {
        &self.units
    }

    /// The selected app units in dependency order.
    pub fn app_units(&self) -> impl Iterator<Item = &UnitId> {
        self.units.iter().map(|u| &u.id).filter(|id| id.app_name().is_some())
    }

    /// Every unit of the environment, whatever `--only` selected: a unit the
    /// cluster has and this set lacks was removed from the spec.
    pub fn spec_units(&self) -> BTreeSet<UnitId> {
        self.spec_units.iter().cloned().collect()
    }

    /// What `down` removes of the units the cluster holds (`present`), in the
    /// order it removes them. With `--only`: exactly the named apps (never what
    /// they need, others may need it too), dependents first. Without: everything,
    /// units the spec no longer has first, then the spec's units in reverse
    /// dependency order, the platform last.
    pub fn down(&self, present: impl IntoIterator<Item = UnitId>) -> Vec<UnitId> {
        let present: BTreeSet<UnitId> = present.into_iter().collect();
        let reversed = self.spec_units.iter().rev().filter(|u| present.contains(*u));
        match &self.named {
            Some(named) => reversed.filter(|u| named.contains(*u)).cloned().collect(),
            None => {
                let known: BTreeSet<&UnitId> = self.spec_units.iter().collect();
                let mut gone: Vec<UnitId> = present.iter().filter(|u| !known.contains(u)).cloned().collect();
                removal_order(&mut gone);
                gone.extend(reversed.cloned());
                gone
            }
        }
    }

    /// Who creates each namespace the environment applies objects into.
    pub fn namespace_origins(&self) -> &BTreeMap<String, NamespaceOrigin> {
        &self.namespaces
    }

    /// The units that must be done before `object`, one of `unit`'s objects, can be
    /// applied: the component serving its API (its CRDs, its admission webhook, its
    /// controller), the unit creating its namespace, and for an app's Certificates
    /// and routes the platform (the issuers and the Gateway they refer to). Never
    /// `unit` itself; empty for an object of Kubernetes' own APIs in its own namespace.
    pub fn object_needs(&self, platform: &Platform, unit: &UnitId, object: &serde_json::Value) -> Vec<UnitId> {
        let api_version = object.get("apiVersion").and_then(|v| v.as_str()).unwrap_or_default();
        let kind = object.get("kind").and_then(|v| v.as_str()).unwrap_or_default();
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let mut out = Vec::new();
        out.extend(serving(platform, group));
        out.extend(serving(platform, &format!("{group}/{kind}")));
        let namespace = object.pointer("/metadata/namespace").and_then(|n| n.as_str());
        // A component unit ensures its own namespace before its objects.
        let own = |ns: &str| match unit {
            UnitId::Component(c) => c
                .parse()
                .ok()
                .and_then(|c| platform.component(c))
                .is_some_and(|c| c.namespace == ns),
            _ => false,
        };
        if let Some(NamespaceOrigin::Unit(u)) = namespace.filter(|ns| !own(ns)).and_then(|ns| self.namespaces.get(ns)) {
            out.push(u.clone());
        }
        let routing = matches!(group, "cert-manager.io" | "gateway.networking.k8s.io")
            || (group == "networking.k8s.io" && kind == "Ingress");
        if unit.app_name().is_some() && routing {
            out.push(UnitId::Platform);
        }
        out.retain(|u| u != unit);
        dedup_in_order(&mut out);
        out
    }

    /// Objects of `units` (this plan, rendered) that use a unit the plan does not
    /// order before theirs, one line each: empty when `needs` cover every object.
    /// The plan derives a unit's needs from the model; this holds them to the objects.
    pub fn unordered_needs(&self, platform: &Platform, units: &[crate::render::Unit]) -> Vec<String> {
        let needs: BTreeMap<&UnitId, &Vec<UnitId>> = self.units.iter().map(|u| (&u.id, &u.needs)).collect();
        let mut out = Vec::new();
        for unit in units {
            let mut reach = BTreeSet::new();
            let mut stack = vec![&unit.kind];
            while let Some(u) = stack.pop() {
                for n in needs.get(u).copied().into_iter().flatten() {
                    if reach.insert(n) {
                        stack.push(n);
                    }
                }
            }
            for o in &unit.objects {
                for n in self.object_needs(platform, &unit.kind, &o.0) {
                    if !reach.contains(&n) {
                        out.push(format!(
                            "{} {}/{} of {} uses {n}, which the plan does not order before it",
                            o.kind(),
                            o.namespace(),
                            o.name(),
                            unit.kind
                        ));
                    }
                }
            }
        }
        for unit in &self.units {
            for s in unit.start.iter().filter(|s| !unit.needs.contains(s)) {
                out.push(format!("{} starts after {s} without needing it", unit.id));
            }
        }
        out
    }
}

/// The apps each selector matches; a selector that matches none is an error.
fn select<'a>(platform: &'a Platform, only: &[Selector]) -> Result<BTreeSet<&'a str>, PlanError> {
    let mut chosen = BTreeSet::new();
    for sel in only {
        let matched: Vec<&str> = platform
            .apps
            .iter()
            .filter(|a| match sel {
                Selector::App(n) => a.name == *n,
                Selector::Label(k, v) => a.labels.get(k) == Some(v),
            })
            .map(|a| a.name.as_str())
            .collect();
        if matched.is_empty() {
            let suggestion = match sel {
                Selector::App(n) => {
                    did_you_mean(n, platform.apps.iter().map(|a| a.name.as_str())).map(|s| format!("app={s}"))
                }
                Selector::Label(k, v) => {
                    let values: BTreeSet<&str> = platform
                        .apps
                        .iter()
                        .filter_map(|a| a.labels.get(k))
                        .map(String::as_str)
                        .collect();
                    did_you_mean(v, values).map(|s| format!("{k}={s}"))
                }
            };
            return Err(PlanError::NothingSelected {
                selector: sel.to_string(),
                suggestion,
            });
        }
        chosen.extend(matched);
    }
    Ok(chosen)
}

/// The enabled components (each after its CRDs and the components it needs),
/// the platform, then each namespace of `apps` (sorted), then `apps` in the given
/// order; each with its needs among them.
fn unit_graph(platform: &Platform, origins: &BTreeMap<String, NamespaceOrigin>, apps: &[String]) -> Vec<PlannedUnit> {
    let apps: Vec<_> = apps.iter().filter_map(|n| platform.app(n)).collect();
    let namespaces: BTreeSet<&str> = apps.iter().map(|a| a.namespace.as_str()).collect();
    let mut units = component_units(platform);
    let creator = |ns: &str| match origins.get(ns) {
        Some(NamespaceOrigin::Unit(u @ UnitId::Component(_))) => Some(u.clone()),
        _ => None,
    };
    // What objects of the platform and of apps use (checked against the rendered
    // objects by `plan_needs_cover_what_every_object_uses`): the components serving
    // the APIs of issuers, Gateways, routes, rules and monitors, and those creating
    // the monitoring namespace (dashboards, rules) and the traffic one (the Gateway,
    // Certificates). Not every component: nothing the platform applies uses the log
    // collector, the metrics server or Reloader, which install beside it.
    let monitoring: Vec<UnitId> = serving(platform, "monitoring.coreos.com")
        .into_iter()
        .chain(creator(&platform.monitoring.namespace))
        .collect();
    let mut platform_needs: Vec<UnitId> = platform
        .components
        .iter()
        .filter(|c| !c.entry().serves.is_empty())
        .map(|c| UnitId::Component(c.name.to_string()))
        .chain(monitoring.iter().cloned())
        .chain(creator(&platform.traffic.namespace))
        .collect();
    dedup_in_order(&mut platform_needs);
    units.push(PlannedUnit {
        id: UnitId::Platform,
        start: platform_needs.clone(),
        needs: platform_needs,
    });
    // A namespace's own objects (the Namespace, its LimitRange and NetworkPolicies) use no component.
    units.extend(namespaces.iter().map(|ns| PlannedUnit {
        id: UnitId::namespace(*ns),
        needs: Vec::new(),
        start: Vec::new(),
    }));
    let secrets = serving(platform, "secrets.hashicorp.com");
    for app in &apps {
        let mut start = vec![UnitId::namespace(&app.namespace)];
        start.extend(
            app.needs
                .iter()
                .filter_map(|n| platform.app(n))
                .map(|n| UnitId::app(&n.namespace, &n.name)),
        );
        let mut needs = start.clone();
        // Every app has alert rules and a dashboard; Vault references become the
        // operator's objects; public hosts get routes and Certificates that refer to
        // the platform's Gateway and issuers.
        needs.extend(monitoring.iter().cloned());
        needs.extend(secrets.clone());
        if !app.hosts.is_empty() {
            needs.push(UnitId::Platform);
        }
        dedup_in_order(&mut needs);
        units.push(PlannedUnit {
            id: UnitId::app(&app.namespace, &app.name),
            needs,
            start,
        });
    }
    units
}

fn dedup_in_order(units: &mut Vec<UnitId>) {
    let mut seen = BTreeSet::new();
    units.retain(|u| seen.insert(u.clone()));
}

/// The enabled component serving `api`: an API group (`cert-manager.io`), or a
/// group and kind (`networking.k8s.io/Ingress`) for a component that serves one
/// kind of a group (through its admission webhook).
fn serving(platform: &Platform, api: &str) -> Option<UnitId> {
    platform
        .components
        .iter()
        .find(|c| c.entry().serves.contains(&api))
        .map(|c| UnitId::Component(c.name.to_string()))
}

/// CRD units first (they need nothing), then components in catalog order,
/// which lists every component after the ones it needs.
fn component_units(platform: &Platform) -> Vec<PlannedUnit> {
    let crds = |c: &crate::components::Component| UnitId::Crds(c.name.to_string());
    let has_crds = |c: &crate::components::Component| c.crds != CrdSource::None;
    let mut units: Vec<PlannedUnit> = platform
        .components
        .iter()
        .filter(|c| has_crds(c))
        .map(|c| PlannedUnit {
            id: crds(c),
            needs: Vec::new(),
            start: Vec::new(),
        })
        .collect();
    let monitoring_crds = platform
        .component(ComponentName::KubePrometheusStack)
        .filter(|c| has_crds(c))
        .map(crds);
    for c in &platform.components {
        let mut needs = Vec::new();
        if has_crds(c) {
            needs.push(crds(c));
        }
        if c.needs_monitoring_crds {
            needs.extend(monitoring_crds.clone());
        }
        needs.extend(c.needs.iter().map(|n| UnitId::Component(n.to_string())));
        units.push(PlannedUnit {
            id: UnitId::Component(c.name.to_string()),
            start: needs.clone(),
            needs,
        });
    }
    units
}

/// Kahn's algorithm over the chosen apps; validation guarantees there is no cycle.
fn order(platform: &Platform, chosen: &BTreeSet<&str>) -> Vec<String> {
    let mut pending: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for app in platform.apps.iter().filter(|a| chosen.contains(a.name.as_str())) {
        let deps: BTreeSet<&str> = app
            .needs
            .iter()
            .map(String::as_str)
            .filter(|n| chosen.contains(n))
            .collect();
        for d in &deps {
            dependents.entry(d).or_default().push(&app.name);
        }
        pending.insert(&app.name, deps.len());
    }
    let mut ready: BTreeSet<&str> = pending.iter().filter(|(_, n)| **n == 0).map(|(k, _)| *k).collect();
    let mut out = Vec::with_capacity(chosen.len());
    while let Some(next) = ready.pop_first() {
        out.push(next.to_string());
        pending.remove(next);
        for dependent in dependents.get(next).map(Vec::as_slice).unwrap_or_default() {
            if let Some(count) = pending.get_mut(dependent) {
                *count -= 1;
                if *count == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    // Anything left is in a cycle; validation rejects those, but never lose an app.
    out.extend(pending.keys().map(|k| (*k).to_string()));
    out
}

/// App namespaces are units of the plan, and so are enabled components' (their
/// component unit creates them); a switched-off component's namespace must exist already.
fn namespace_origins(platform: &Platform) -> BTreeMap<String, NamespaceOrigin> {
    let mut out = BTreeMap::new();
    out.insert(
        d::CERT_MANAGER_NAMESPACE.to_string(),
        NamespaceOrigin::Component {
            component: "cert-manager",
            spec_key: None,
        },
    );
    out.insert(
        platform.monitoring.namespace.clone(),
        NamespaceOrigin::Component {
            component: "the monitoring stack",
            spec_key: Some("platform.monitoring.namespace"),
        },
    );
    out.insert(
        platform.traffic.namespace.clone(),
        NamespaceOrigin::Component {
            component: match platform.traffic.mode {
                TrafficMode::Gateway => "the Gateway controller",
                TrafficMode::Ingress => "the Ingress controller",
            },
            spec_key: Some("platform.traffic.namespace"),
        },
    );
    for c in platform.components.iter().rev() {
        out.insert(
            c.namespace.clone(),
            NamespaceOrigin::Unit(UnitId::Component(c.name.to_string())),
        );
    }
    for ns in platform.namespaces() {
        out.insert(ns.to_string(), NamespaceOrigin::Unit(UnitId::namespace(ns)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    /// web <- api <- worker, admin alone; `api` and `worker` in namespace `back`.
    fn platform() -> Platform {
        let text = "apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: shop
  domain: shop.example.com
  email: ops@example.com
  tls: letsencrypt-staging
apps:
  web:
    image: ghcr.io/example/web:1.0.0
    port: 8080
    hosts: [www]
    health: /healthz
    labels: { tier: front }
  api:
    image: ghcr.io/example/api:1.0.0
    port: 8080
    health: /healthz
    namespace: back
    needs: [web]
  worker:
    image: ghcr.io/example/worker:1.0.0
    kind: worker
    namespace: back
    needs: [api]
  admin:
    image: ghcr.io/example/admin:1.0.0
    port: 8080
    health: /healthz
    labels: { tier: front }
";
        let spec = spec::load("windlass.yaml", text).expect("valid spec");
        let (env, file) = spec.environment(None).expect("environment");
        Platform::build(file, env)
    }

    /// The platform's own units (components are covered by their own test).
    fn ids(units: &[PlannedUnit]) -> Vec<String> {
        units
            .iter()
            .filter(|u| u.id.layer() >= crate::unit::Layer::Platform)
            .map(|u| u.id.to_string())
            .collect()
    }

    fn app(name: &str) -> Selector {
        Selector::App(name.into())
    }

    #[test]
    fn up_goes_platform_then_namespaces_then_apps_after_their_needs() {
        let plan = Plan::new(&platform(), &[]).expect("plan");
        assert_eq!(
            ids(plan.up()),
            [
                "platform",
                "namespace.back",
                "namespace.shop",
                "app.shop.admin",
                "app.shop.web",
                "app.back.api",
                "app.back.worker"
            ]
        );
        let unit = |id: UnitId| plan.up().iter().find(|u| u.id == id).expect("unit").clone();
        let monitoring = UnitId::Component("kube-prometheus-stack".into());
        // A worker starts once its namespace and the app it needs are up; its rules wait for the monitoring stack.
        let worker = unit(UnitId::app("back", "worker"));
        assert_eq!(worker.start, [UnitId::namespace("back"), UnitId::app("back", "api")]);
        assert_eq!(
            worker.needs,
            [
                UnitId::namespace("back"),
                UnitId::app("back", "api"),
                monitoring.clone()
            ]
        );
        // An app with public hosts: its routes and Certificate need the platform's Gateway and issuers.
        let web = unit(UnitId::app("shop", "web"));
        assert_eq!(web.start, [UnitId::namespace("shop")]);
        assert_eq!(web.needs, [UnitId::namespace("shop"), monitoring, UnitId::Platform]);
        // A namespace's objects use no component: it goes first.
        assert_eq!(unit(UnitId::namespace("back")).needs, []);
        assert_eq!(plan.apps, ["admin", "web", "api", "worker"]);
    }

    #[test]
    fn only_widens_to_transitive_needs_and_their_namespaces() {
        let plan = Plan::new(&platform(), &[app("worker")]).expect("plan");
        assert_eq!(
            ids(plan.up()),
            [
                "platform",
                "namespace.back",
                "namespace.shop",
                "app.shop.web",
                "app.back.api",
                "app.back.worker"
            ]
        );
        // Pruning still knows the whole spec.
        assert!(plan.spec_units().contains(&UnitId::app("shop", "admin")));
        let by_label = Plan::new(&platform(), &[Selector::Label("tier".into(), "front".into())]).expect("plan");
        assert_eq!(by_label.apps, ["admin", "web"]);
    }

    #[test]
    fn down_is_the_reverse_with_units_gone_from_the_spec_first() {
        let plan = Plan::new(&platform(), &[]).expect("plan");
        let mut present: Vec<UnitId> = plan.spec_units().into_iter().collect();
        present.push(UnitId::app("old", "gone"));
        present.push(UnitId::namespace("old"));
        let order: Vec<String> = plan.down(present).iter().map(UnitId::to_string).collect();
        let components = order.iter().position(|u| u == "platform").expect("platform") + 1;
        assert!(
            order[components..]
                .iter()
                .all(|u| u.starts_with("component.") || u.starts_with("crds.")),
            "components come off after the platform: {order:?}"
        );
        assert_eq!(
            order[..components],
            [
                "app.old.gone",
                "namespace.old",
                "app.back.worker",
                "app.back.api",
                "app.shop.web",
                "app.shop.admin",
                "namespace.shop",
                "namespace.back",
                "platform"
            ]
        );
    }

    #[test]
    fn down_with_only_removes_exactly_the_named_apps_dependents_first() {
        let plan = Plan::new(&platform(), &[app("web"), app("worker")]).expect("plan");
        let present = plan.spec_units();
        let order: Vec<String> = plan.down(present).iter().map(UnitId::to_string).collect();
        assert_eq!(order, ["app.back.worker", "app.shop.web"]);
        // Only what the cluster holds.
        assert_eq!(plan.down([UnitId::app("shop", "web")]), [UnitId::app("shop", "web")]);
    }

    #[test]
    fn a_selector_that_matches_nothing_suggests_the_nearest() {
        assert_eq!(
            Plan::new(&platform(), &[app("admn")])
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err("--only app=admn: no app matches (did you mean `app=admin`?)".to_string())
        );
        assert_eq!(
            Plan::app_unit(&platform(), "wrker").map_err(|e| e.to_string()),
            Err("no app `wrker` in the spec (did you mean `worker`?)".to_string())
        );
        assert_eq!(Plan::app_unit(&platform(), "api"), Ok(UnitId::app("back", "api")));
    }

    #[test]
    fn namespaces_say_who_creates_them() {
        let plan = Plan::new(&platform(), &[]).expect("plan");
        let origins = plan.namespace_origins();
        assert_eq!(
            origins.get("back"),
            Some(&NamespaceOrigin::Unit(UnitId::namespace("back")))
        );
        assert_eq!(
            origins.get("monitoring"),
            Some(&NamespaceOrigin::Unit(UnitId::Component(
                "kube-prometheus-stack".into()
            )))
        );
        assert_eq!(
            origins.get("cert-manager"),
            Some(&NamespaceOrigin::Unit(UnitId::Component("cert-manager".into())))
        );
        assert_eq!(
            origins.get("envoy-gateway-system"),
            Some(&NamespaceOrigin::Unit(UnitId::Component("envoy-gateway".into())))
        );
    }

    #[test]
    fn a_switched_off_components_namespace_must_exist_already() {
        let text = "apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: shop
  domain: shop.example.com
  tls: self-signed
  components:
    cert-manager: { enabled: false }
apps: {}
";
        let spec = spec::load("windlass.yaml", text).expect("valid spec");
        let (env, file) = spec.environment(None).expect("environment");
        let plan = Plan::new(&Platform::build(file, env), &[]).expect("plan");
        assert_eq!(
            plan.namespace_origins().get("cert-manager"),
            Some(&NamespaceOrigin::Component {
                component: "cert-manager",
                spec_key: None
            })
        );
        assert!(!plan.spec_units().contains(&UnitId::Component("cert-manager".into())));
    }

    #[test]
    fn components_go_first_after_their_crds_and_needs_and_the_platform_needs_what_its_objects_use() {
        let plan = Plan::new(&platform(), &[]).expect("plan");
        let units = plan.up();
        let position = |id: &str| units.iter().position(|u| u.id.to_string() == id).expect(id);
        let component = |c: &str| UnitId::Component(c.into());
        let crds = |c: &str| UnitId::Crds(c.into());
        for u in units {
            for n in &u.needs {
                assert!(
                    position(&n.to_string()) < position(&u.id.to_string()),
                    "{} before {}",
                    n,
                    u.id
                );
            }
        }
        let need = |id: &str| &units[position(id)].needs;
        assert_eq!(need("crds.cert-manager"), &Vec::<UnitId>::new());
        // cert-manager's ServiceMonitor needs the monitoring CRDs.
        assert_eq!(
            need("component.cert-manager"),
            &vec![crds("cert-manager"), crds("kube-prometheus-stack")]
        );
        assert_eq!(need("component.alloy"), &vec![component("loki")]);
        assert_eq!(need("component.loki"), &Vec::<UnitId>::new());
        // Issuers, the Gateway, rules and dashboards; the rest installs beside the platform.
        assert_eq!(
            need("platform"),
            &vec![
                component("cert-manager"),
                component("envoy-gateway"),
                component("kube-prometheus-stack")
            ]
        );
        // Optional ones stay off unless the spec turns them on; ingress-nginx only in ingress mode.
        for off in ["vault", "vault-secrets-operator", "ingress-nginx"] {
            assert!(!plan.spec_units().contains(&component(off)), "{off}");
        }
    }
}
