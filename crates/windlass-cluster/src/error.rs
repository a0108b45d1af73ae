//! The one error type of the cluster edge, and how a failed request becomes one:
//! every variant reads as a sentence naming the object, the cause and the fix,
//! never the client library's types or a debug dump.

use std::path::PathBuf;

use windlass_core::plan::NamespaceOrigin;
use windlass_core::unit::UnitId;

use crate::STATE_NAMESPACE;
use crate::retry::RETRY_BUDGET;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "no cluster to talk to: no kubeconfig was found\n  help: pass `--kubeconfig PATH`, set KUBECONFIG, or write ~/.kube/config (`kubectl config view` shows what kubectl would use)"
    )]
    NoKubeconfig,
    #[error(
        "cannot read the kubeconfig {}: {reason}\n  help: check that the file exists and is a kubeconfig (`kubectl config view --kubeconfig {}`)",
        path.display(),
        path.display()
    )]
    Kubeconfig { path: PathBuf, reason: String },
    #[error("{}", config_sentence(.context.as_deref(), .reason))]
    Config { context: Option<String>, reason: String },
    #[error(
        "cannot reach the cluster while {doing}: {reason}\n  help: check that the cluster is running and that the kubeconfig points at it (`kubectl cluster-info`); windlass retried for {}s",
        RETRY_BUDGET.as_secs()
    )]
    Unreachable { doing: String, reason: String },
    #[error(
        "the cluster did not accept windlass's credentials while {doing}: {message}\n  help: the kubeconfig's token or certificate is expired or wrong; log in to the cluster again and re-run"
    )]
    Unauthorized { doing: String, message: String },
    #[error(
        "windlass is not allowed to touch {object}: {message}\n  help: ask a cluster admin for RBAC rights on it (`kubectl auth can-i --list` shows yours), or use a context that has them (`--context`)"
    )]
    Forbidden { object: String, message: String },
    #[error("{}", namespace_sentence(.object, .namespace, .origin.as_ref()))]
    NamespaceMissing {
        object: String,
        namespace: String,
        origin: Option<NamespaceOrigin>,
    },
    #[error(
        "{object} has fields another tool manages: {}\n  help: another field manager owns these fields; re-run with --force-conflicts to take them over",
        conflicts.iter().map(|c| format!("field {} is owned by {}", c.field, c.manager)).collect::<Vec<_>>().join(", ")
    )]
    Conflict {
        object: String,
        conflicts: Vec<FieldConflict>,
    },
    #[error(
        "{object} was changed by someone else while windlass wrote it: {message}\n  help: re-run; if it keeps happening, another tool writes the same object at the same time (its managedFields name it)"
    )]
    Changed { object: String, message: String },
    #[error(
        "the admission webhook `{webhook}` refused {object}: {reason}\n  help: the cluster's policy rejects this object; change the spec so it complies, or ask the webhook's owner about the rule"
    )]
    WebhookDenied {
        object: String,
        webhook: String,
        reason: String,
    },
    #[error(
        "{object} cannot be changed in place: {message}\n  help: delete it with kubectl and re-run `windlass up`, which creates it anew"
    )]
    Immutable { object: String, message: String },
    #[error(
        "the cluster rejected {object} as invalid: {message}\n  help: the spec passed windlass's validation, so this is a windlass bug; please report it with this message"
    )]
    Invalid { object: String, message: String },
    #[error(
        "the cluster did not answer in time while {doing}: {reason}\n  help: the apiserver is overloaded or the network is slow; re-run, and check the apiserver's health (`kubectl get --raw /readyz`)"
    )]
    ApiTimeout { doing: String, reason: String },
    #[error("the cluster refused {doing} ({code}): {message}\n  help: {}", refusal_fix(.code))]
    Refused { doing: String, code: u16, message: String },
    #[error(
        "a request while {doing} failed: {reason}\n  help: re-run; if it persists, check the cluster with `kubectl cluster-info`"
    )]
    Request { doing: String, reason: String },
    #[error(
        "{object}: the cluster does not serve {kind} ({api_version})\n  help: install the component that defines it (its CustomResourceDefinition) first, then re-run"
    )]
    UnknownKind {
        object: String,
        api_version: String,
        kind: String,
    },
    #[error("{object}: a namespaced {kind} without a namespace (a windlass bug; please report it)")]
    MissingNamespace { object: String, kind: String },
    #[error(
        "timed out after {seconds}s waiting for {object} to be deleted\n  help: something holds it back, usually a finalizer in its metadata; raise --timeout, or remove what blocks it"
    )]
    DeleteTimeout { object: String, seconds: u64 },
    #[error(
        "timed out after {seconds}s waiting for CustomResourceDefinition {name} to be Established\n  help: `kubectl describe crd {name}` shows why the apiserver does not serve it"
    )]
    CrdTimeout { name: String, seconds: u64 },
    #[error(
        "{} failed and putting back revision {revision} failed too: {reason}\n  help: `windlass status` shows what runs; `windlass rollback {}` retries the way back",
        .unit.title(),
        .unit.app_name().unwrap_or("APP")
    )]
    RestoreFailed {
        unit: UnitId,
        revision: u32,
        reason: String,
    },
    #[error(
        "the revision history Secret {}/{secret} cannot be read: {reason}\n  help: something other than windlass changed it; delete it (`kubectl -n {} delete secret {secret}`) to start that unit's history afresh",
        STATE_NAMESPACE,
        STATE_NAMESPACE
    )]
    HistoryUnreadable { secret: String, reason: String },
    #[error("the revision history of {} cannot be written: {reason} (a windlass bug; please report it)", .unit.title())]
    HistoryUnwritable { unit: UnitId, reason: String },
    #[error("{} has no revision history in this cluster\n  help: `windlass up` deploys it first", .unit.title())]
    NoHistory { unit: UnitId },
    #[error("{} has no revision {revision}; kept revisions: {}\n  help: pass one of those to --to", .unit.title(), .kept.join(", "))]
    NoRevision {
        unit: UnitId,
        revision: u32,
        kept: Vec<String>,
    },
    #[error(
        "{} has no earlier good revision to roll back to\n  help: `windlass status` shows its revisions; pass one with --to",
        .unit.title()
    )]
    NoEarlierRevision { unit: UnitId },
    #[error(
        "{}: rollback to revision {revision} failed: {reason}\n  help: the reasons above say why it is not ready; the failed attempt is recorded, the revision history is intact",
        .unit.title()
    )]
    RollbackFailed {
        unit: UnitId,
        revision: u32,
        reason: String,
    },
    #[error(
        "another windlass run ({holder}) holds Lease {}/{lease}; waited {waited}s\n  help: wait for it to finish, or raise --lock-timeout; a crashed run's lease expires {expires}s after its last renewal",
        STATE_NAMESPACE
    )]
    LeaseHeld {
        lease: String,
        holder: String,
        waited: u64,
        expires: u64,
    },
    #[error("a unit's apply stopped unexpectedly: {reason} (a windlass bug; please report it)")]
    TaskFailed { reason: String },
    #[error(
        "{object} comes from the SOPS file and its values were not decrypted: windlass never applies it without them (a windlass bug; please report it)"
    )]
    Sealed { object: String },
    /// helm is missing, too old, or one of its commands failed.
    #[error("{0}")]
    Helm(String),
}

/// One field another manager owns, from a 409 of a server-side apply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldConflict {
    pub field: String,
    pub manager: String,
}

fn config_sentence(context: Option<&str>, reason: &str) -> String {
    match context {
        Some(c) => format!(
            "cannot use context `{c}` of the kubeconfig: {reason}\n  help: `kubectl config get-contexts` lists the contexts; pass one of them with --context"
        ),
        None => format!(
            "cannot use the kubeconfig's current context: {reason}\n  help: `kubectl config get-contexts` lists the contexts; choose one with `kubectl config use-context NAME` or --context"
        ),
    }
}

fn namespace_sentence(object: &str, namespace: &str, origin: Option<&NamespaceOrigin>) -> String {
    let fix = match origin {
        Some(NamespaceOrigin::Unit(unit)) => format!(
            "`windlass up` creates it ({}) before anything in it; run `windlass up` (`diff` and `status` only read)",
            unit.title()
        ),
        Some(NamespaceOrigin::Component { component, spec_key }) => {
            let moved = spec_key
                .map(|k| format!(", or set `{k}` to the namespace where it runs"))
                .unwrap_or_default();
            format!(
                "it belongs to {component}, which the spec switches off under `platform.components` (the cluster runs its own): \
                 install {component} there, or create the namespace with `kubectl create namespace {namespace}`{moved}"
            )
        }
        None => format!("create it with `kubectl create namespace {namespace}` and re-run"),
    };
    format!("{object} cannot be created: namespace `{namespace}` does not exist\n  help: {fix}")
}

fn refusal_fix(code: &u16) -> &'static str {
    match code {
        404 => "it does not exist (any more); re-run, and check it with kubectl",
        429 => "the apiserver is throttling requests; wait a moment and re-run",
        500..=599 => "the apiserver failed internally; check its health (`kubectl get --raw /readyz`) and re-run",
        _ => "the message above is the apiserver's reason; fix what it names and re-run",
    }
}

impl ClusterError {
    /// The error for a failed request about `object` (`Deployment/shop/web`,
    /// `Secrets in windlass-system`), classified by what the user can do about it.
    pub fn api(object: impl Into<String>, source: kube::Error) -> Self {
        let object = object.into();
        match source {
            kube::Error::Api(status) => from_status(object, &status),
            other => from_transport(object, &other),
        }
    }

    /// Names who creates a missing namespace, when the caller knows.
    pub fn with_namespace_origin(self, origin: impl FnOnce(&str) -> Option<NamespaceOrigin>) -> Self {
        match self {
            ClusterError::NamespaceMissing {
                object,
                namespace,
                origin: None,
            } => {
                let origin = origin(&namespace);
                ClusterError::NamespaceMissing {
                    object,
                    namespace,
                    origin,
                }
            }
            other => other,
        }
    }
}

fn from_status(object: String, status: &kube::core::Status) -> ClusterError {
    let message = status.message.trim().to_string();
    let details = status.details.as_ref();
    if let Some((webhook, reason)) = webhook_denial(&message) {
        return ClusterError::WebhookDenied {
            object,
            webhook,
            reason,
        };
    }
    match status.code {
        401 => ClusterError::Unauthorized {
            doing: doing(&object),
            message,
        },
        403 => ClusterError::Forbidden { object, message },
        404 if details.is_some_and(|d| d.kind == "namespaces") => ClusterError::NamespaceMissing {
            namespace: details.map(|d| d.name.clone()).unwrap_or_default(),
            object,
            origin: None,
        },
        409 => ClusterError::Changed { object, message },
        422 if message.contains("field is immutable") => ClusterError::Immutable { object, message },
        422 => ClusterError::Invalid { object, message },
        504 => ClusterError::ApiTimeout {
            doing: doing(&object),
            reason: message,
        },
        code => ClusterError::Refused {
            doing: doing(&object),
            code,
            message: if message.is_empty() {
                status.reason.clone()
            } else {
                message
            },
        },
    }
}

/// `admission webhook "x.example.com" denied the request: reason`
fn webhook_denial(message: &str) -> Option<(String, String)> {
    let rest = message.split_once("admission webhook \"")?.1;
    let (webhook, rest) = rest.split_once('"')?;
    let reason = rest.split_once("denied the request")?.1;
    let reason = reason.trim_start_matches(':').trim();
    Some((
        webhook.to_string(),
        if reason.is_empty() {
            "no reason given".to_string()
        } else {
            reason.to_string()
        },
    ))
}

/// What was being done, for errors that are about the connection rather than the object.
fn doing(object: &str) -> String {
    format!("working on {object}")
}

fn from_transport(object: String, e: &kube::Error) -> ClusterError {
    let reason = root_cause(e);
    let lower = reason.to_ascii_lowercase();
    let io_kind = io_kind(e);
    use std::io::ErrorKind as K;
    if matches!(io_kind, Some(K::TimedOut)) || lower.contains("timed out") || lower.contains("deadline") {
        return ClusterError::ApiTimeout {
            doing: doing(&object),
            reason,
        };
    }
    let unreachable = matches!(
        io_kind,
        Some(K::ConnectionRefused | K::ConnectionReset | K::ConnectionAborted | K::NotConnected | K::HostUnreachable)
    ) || [
        "connection refused",
        "connection reset",
        "dns error",
        "no route to host",
        "connect",
    ]
    .iter()
    .any(|s| lower.contains(s));
    if unreachable {
        ClusterError::Unreachable {
            doing: doing(&object),
            reason,
        }
    } else {
        ClusterError::Request {
            doing: doing(&object),
            reason,
        }
    }
}

/// The innermost cause, without the OS error number: what a person can act on.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "no reason given".to_string(),
    }
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use kube::core::response::StatusDetails;

    fn status(code: u16, reason: &str, message: &str, kind: &str, name: &str) -> kube::Error {
        let mut s = Status::failure(message, reason).with_code(code);
        if !kind.is_empty() {
            s = s.with_details(StatusDetails {
                name: name.into(),
                group: String::new(),
                kind: kind.into(),
                uid: String::new(),
                causes: Vec::new(),
                retry_after_seconds: 0,
            });
        }
        kube::Error::Api(Box::new(s))
    }

    fn missing_namespace(ns: &str) -> ClusterError {
        ClusterError::api(
            format!("Certificate/{ns}/ca"),
            status(
                404,
                "NotFound",
                &format!("namespaces \"{ns}\" not found"),
                "namespaces",
                ns,
            ),
        )
    }

    #[test]
    fn a_missing_component_namespace_says_who_makes_it_and_how_to_fix_it() {
        let e = missing_namespace("cert-manager").with_namespace_origin(|_| {
            Some(NamespaceOrigin::Component {
                component: "cert-manager",
                spec_key: None,
            })
        });
        assert_eq!(
            e.to_string(),
            "Certificate/cert-manager/ca cannot be created: namespace `cert-manager` does not exist\n  \
             help: it belongs to cert-manager, which the spec switches off under `platform.components` (the cluster runs its own): \
             install cert-manager there, or create the namespace with `kubectl create namespace cert-manager`"
        );
        let e = missing_namespace("monitoring").with_namespace_origin(|_| {
            Some(NamespaceOrigin::Component {
                component: "the monitoring stack",
                spec_key: Some("platform.monitoring.namespace"),
            })
        });
        assert_eq!(
            e.to_string(),
            "Certificate/monitoring/ca cannot be created: namespace `monitoring` does not exist\n  \
             help: it belongs to the monitoring stack, which the spec switches off under `platform.components` (the cluster runs its own): \
             install the monitoring stack there, or create the namespace with `kubectl create namespace monitoring`, \
             or set `platform.monitoring.namespace` to the namespace where it runs"
        );
    }

    #[test]
    fn a_missing_app_namespace_points_at_up() {
        let e =
            missing_namespace("shop").with_namespace_origin(|ns| Some(NamespaceOrigin::Unit(UnitId::namespace(ns))));
        assert_eq!(
            e.to_string(),
            "Certificate/shop/ca cannot be created: namespace `shop` does not exist\n  \
             help: `windlass up` creates it (namespace shop) before anything in it; run `windlass up` (`diff` and `status` only read)"
        );
        let unknown = missing_namespace("other").with_namespace_origin(|_| None);
        assert_eq!(
            unknown.to_string(),
            "Certificate/other/ca cannot be created: namespace `other` does not exist\n  \
             help: create it with `kubectl create namespace other` and re-run"
        );
    }

    #[test]
    fn connection_refused_is_unreachable() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let e = ClusterError::api("Secrets in windlass-system", kube::Error::Service(Box::new(io)));
        assert_eq!(
            e.to_string(),
            "cannot reach the cluster while working on Secrets in windlass-system: connection refused\n  \
             help: check that the cluster is running and that the kubeconfig points at it (`kubectl cluster-info`); windlass retried for 60s"
        );
    }

    #[test]
    fn a_client_timeout_is_a_timeout() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "operation timed out");
        let e = ClusterError::api("Deployment/shop/web", kube::Error::Service(Box::new(io)));
        assert_eq!(
            e.to_string(),
            "the cluster did not answer in time while working on Deployment/shop/web: operation timed out\n  \
             help: the apiserver is overloaded or the network is slow; re-run, and check the apiserver's health (`kubectl get --raw /readyz`)"
        );
    }

    #[test]
    fn forbidden_names_the_object_and_rbac() {
        let e = ClusterError::api(
            "Deployment/shop/web",
            status(
                403,
                "Forbidden",
                "deployments.apps \"web\" is forbidden: User \"dev\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"shop\"",
                "deployments",
                "web",
            ),
        );
        assert_eq!(
            e.to_string(),
            "windlass is not allowed to touch Deployment/shop/web: deployments.apps \"web\" is forbidden: User \"dev\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"shop\"\n  \
             help: ask a cluster admin for RBAC rights on it (`kubectl auth can-i --list` shows yours), or use a context that has them (`--context`)"
        );
    }

    #[test]
    fn a_webhook_denial_names_the_webhook_and_its_reason() {
        let e = ClusterError::api(
            "Deployment/shop/web",
            status(
                400,
                "BadRequest",
                "admission webhook \"validate.kyverno.svc\" denied the request: images must come from registry.example.com",
                "",
                "",
            ),
        );
        assert_eq!(
            e.to_string(),
            "the admission webhook `validate.kyverno.svc` refused Deployment/shop/web: images must come from registry.example.com\n  \
             help: the cluster's policy rejects this object; change the spec so it complies, or ask the webhook's owner about the rule"
        );
    }

    #[test]
    fn a_write_conflict_and_an_immutable_field_say_what_to_do() {
        let e = ClusterError::api(
            "Lease/windlass-system/windlass.shop",
            status(
                409,
                "Conflict",
                "the object has been modified; please apply your changes to the latest version and try again",
                "leases",
                "windlass.shop",
            ),
        );
        assert_eq!(
            e.to_string(),
            "Lease/windlass-system/windlass.shop was changed by someone else while windlass wrote it: the object has been modified; please apply your changes to the latest version and try again\n  \
             help: re-run; if it keeps happening, another tool writes the same object at the same time (its managedFields name it)"
        );
        let e = ClusterError::api(
            "Deployment/shop/web",
            status(
                422,
                "Invalid",
                "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: field is immutable",
                "deployments",
                "web",
            ),
        );
        assert!(matches!(e, ClusterError::Immutable { .. }), "{e:?}");
    }

    #[test]
    fn no_message_shows_a_debug_dump() {
        let errors = [
            missing_namespace("x"),
            ClusterError::api(
                "Secret/a/b",
                status(500, "InternalError", "etcdserver: leader changed", "", ""),
            ),
            ClusterError::api("Secret/a/b", status(401, "Unauthorized", "Unauthorized", "", "")),
        ];
        for e in errors {
            let text = e.to_string();
            for leak in ["Status {", "Some(", "ApiError", "ServiceError", "kube::"] {
                assert!(!text.contains(leak), "{text}");
            }
        }
    }

    #[test]
    fn a_held_lease_says_who_holds_it() {
        let e = ClusterError::LeaseHeld {
            lease: "windlass.shop".into(),
            holder: "host/pid-1/ab".into(),
            waited: 600,
            expires: 30,
        };
        assert_eq!(
            e.to_string(),
            "another windlass run (host/pid-1/ab) holds Lease windlass-system/windlass.shop; waited 600s\n  \
             help: wait for it to finish, or raise --lock-timeout; a crashed run's lease expires 30s after its last renewal"
        );
    }
}
