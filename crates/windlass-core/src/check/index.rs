//! The cross-object index rules consult: workloads with their pod templates,
//! Services, HPAs by target, what can provide a TLS Secret, the Prometheus
//! objects' selectors. Built once per run, borrowing from the objects.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::render::Object;
use crate::source::FieldPath;

/// Anything that runs pods, with where its pod template is.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    pub index: usize,
    pub object: &'a Object,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    /// The pod spec (`spec.template.spec` and the like).
    pub pod: &'a Value,
    /// The path of `pod` from the object's root.
    pub pod_path: FieldPath,
    /// The pod template's labels (a Pod's own labels).
    pub labels: Option<&'a Map<String, Value>>,
    /// `spec.replicas` as written (`None` when absent or not a number).
    pub replicas: Option<i64>,
    /// Made by a controller (a Deployment's ReplicaSet, a ReplicaSet's Pod): rules
    /// about the pod template judge the owner, not each copy.
    pub owned: bool,
}

impl Workload<'_> {
    /// The pods this workload keeps running when nothing scales it: `replicas`
    /// (1 when absent), 1 for a Pod, `None` for DaemonSets, Jobs and CronJobs.
    pub fn steady_replicas(&self) -> Option<i64> {
        match self.kind {
            "Deployment" | "StatefulSet" | "ReplicaSet" => Some(self.replicas.unwrap_or(1)),
            "Pod" => Some(1),
            _ => None,
        }
    }
}

/// The path of a workload kind's pod spec.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => Some(&["spec", "template", "spec"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        "Pod" => Some(&["spec"]),
        _ => None,
    }
}

fn path_of(keys: &[&str]) -> FieldPath {
    FieldPath(
        keys.iter()
            .map(|k| crate::source::Segment::Key((*k).to_string()))
            .collect(),
    )
}

pub struct Index<'a> {
    pub workloads: Vec<Workload<'a>>,
    /// Indexes into the objects, by kind.
    by_kind: HashMap<&'a str, Vec<usize>>,
    /// (kind, namespace, name) -> the first object so named.
    by_name: HashMap<(&'a str, &'a str, &'a str), usize>,
    objects: &'a [&'a Object],
    /// (namespace, secretName) of every cert-manager Certificate.
    certificate_secrets: HashSet<(&'a str, &'a str)>,
    /// (namespace, kind, name) of HPA targets -> the HPA's index.
    hpa_targets: HashMap<(&'a str, &'a str, &'a str), usize>,
}

impl<'a> Index<'a> {
    pub fn new(objects: &'a [&'a Object]) -> Index<'a> {
        let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_name = HashMap::new();
        let mut workloads = Vec::new();
        let mut certificate_secrets = HashSet::new();
        let mut hpa_targets = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            let kind = o.kind();
            by_kind.entry(kind).or_default().push(i);
            by_name.entry((kind, o.namespace(), o.name())).or_insert(i);
            if let Some(keys) = pod_spec_path(kind)
                && let Some(pod) = o.at(keys)
            {
                let labels_at: &[&str] = if kind == "Pod" {
                    &["metadata", "labels"]
                } else if kind == "CronJob" {
                    &["spec", "jobTemplate", "spec", "template", "metadata", "labels"]
                } else {
                    &["spec", "template", "metadata", "labels"]
                };
                workloads.push(Workload {
                    index: i,
                    object: o,
                    kind,
                    namespace: o.namespace(),
                    name: o.name(),
                    pod,
                    pod_path: path_of(keys),
                    labels: o.at(labels_at).and_then(Value::as_object),
                    replicas: o.at(&["spec", "replicas"]).and_then(Value::as_i64),
                    owned: controlled(&o.0),
                });
            }
            match kind {
                "Certificate" => {
                    if let Some(s) = o.at(&["spec", "secretName"]).and_then(Value::as_str) {
                        certificate_secrets.insert((o.namespace(), s));
                    }
                }
                "HorizontalPodAutoscaler" => {
                    let t = |f: &str| {
                        o.at(&["spec", "scaleTargetRef", f])
                            .and_then(Value::as_str)
                            .unwrap_or("")
                    };
                    hpa_targets.insert((o.namespace(), t("kind"), t("name")), i);
                }
                _ => {}
            }
        }
        Index {
            workloads,
            by_kind,
            by_name,
            objects,
            certificate_secrets,
            hpa_targets,
        }
    }

    /// The objects of one kind, with their indexes.
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = (usize, &'a Object)> + '_ {
        self.by_kind
            .get(kind)
            .into_iter()
            .flatten()
            .map(|&i| (i, self.objects[i]))
    }

    /// The object of a kind by namespace and name.
    pub fn find(&self, kind: &str, namespace: &str, name: &str) -> Option<(usize, &'a Object)> {
        self.by_name
            .get(&(kind, namespace, name))
            .map(|&i| (i, self.objects[i]))
    }

    /// The HPA scaling a workload, if any.
    pub fn hpa_for(&self, w: &Workload<'_>) -> Option<(usize, &'a Object)> {
        self.hpa_targets
            .get(&(w.namespace, w.kind, w.name))
            .map(|&i| (i, self.objects[i]))
    }

    /// Workloads in `namespace` whose pods a LabelSelector (`matchLabels`,
    /// `matchExpressions`) selects.
    pub fn selected_by<'s>(
        &'s self,
        namespace: &'s str,
        selector: &'s Value,
    ) -> impl Iterator<Item = &'s Workload<'a>> + 's {
        self.workloads
            .iter()
            .filter(move |w| w.namespace == namespace && selector_matches(selector, w.labels))
    }

    /// Workloads in `namespace` whose pods a Service's plain selector selects.
    pub fn selected_by_service<'s>(
        &'s self,
        namespace: &'s str,
        selector: &'s Map<String, Value>,
    ) -> impl Iterator<Item = &'s Workload<'a>> + 's {
        self.workloads.iter().filter(move |w| {
            w.namespace == namespace && selector.iter().all(|(k, v)| w.labels.and_then(|l| l.get(k)) == Some(v))
        })
    }

    /// Whether something in the input provides the Secret: the Secret itself or a
    /// Certificate writing it.
    pub fn secret_provided(&self, namespace: &str, name: &str) -> bool {
        self.find("Secret", namespace, name).is_some() || self.certificate_secrets.contains(&(namespace, name))
    }
}

/// The items of the list at `key` (none when it is absent or not a list).
pub fn items<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// One of a LabelSelector's `matchExpressions`.
pub struct Expression<'v> {
    pub key: Option<&'v str>,
    pub operator: Option<&'v str>,
    pub values: Vec<&'v str>,
}

/// A LabelSelector's `matchExpressions`, read.
pub fn expressions(selector: &Value) -> impl Iterator<Item = Expression<'_>> {
    items(selector, "matchExpressions").map(|e| Expression {
        key: e.get("key").and_then(Value::as_str),
        operator: e.get("operator").and_then(Value::as_str),
        values: items(e, "values").filter_map(Value::as_str).collect(),
    })
}

/// Whether a controller made the object (an owner reference with `controller: true`).
pub fn controlled(object: &Value) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        })
}

/// Whether a Kubernetes LabelSelector selects `labels`. An empty selector
/// selects everything; `null` selects nothing.
pub fn selector_matches(selector: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let Some(sel) = selector.as_object() else { return false };
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object)
        && !ml.iter().all(|(k, v)| get(k).is_some() && get(k) == v.as_str())
    {
        return false;
    }
    for e in expressions(selector) {
        let (key, values) = (e.key.unwrap_or(""), e.values);
        let have = get(key);
        let ok = match e.operator.unwrap_or("") {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}
