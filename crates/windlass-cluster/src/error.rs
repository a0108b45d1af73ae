//! The one error type of the cluster edge.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot read kubeconfig {}: {source}", path.display())]
    Kubeconfig {
        path: PathBuf,
        source: kube::config::KubeconfigError,
    },
    #[error("cannot load the kube config{}: {message}", context.as_ref().map(|c| format!(" (context {c})")).unwrap_or_default())]
    Config { context: Option<String>, message: String },
    #[error("cannot reach the cluster: {0}")]
    Connect(String),
    #[error("{object}: {source}")]
    Api {
        object: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{object}: the apiserver does not serve {api_version} {kind} (is its CRD installed?)")]
    UnknownKind {
        object: String,
        api_version: String,
        kind: String,
    },
    #[error("{object}: a namespaced {kind} without a namespace")]
    MissingNamespace { object: String, kind: String },
    #[error("{object}: {}\n  help: another field manager owns these fields; re-run with --force-conflicts to take them over", conflicts.iter().map(|c| format!("field {} is owned by {}", c.field, c.manager)).collect::<Vec<_>>().join(", "))]
    Conflict {
        object: String,
        conflicts: Vec<FieldConflict>,
    },
    #[error("{0}")]
    History(String),
    #[error("timed out after {seconds}s waiting for {what}")]
    Timeout { what: String, seconds: u64 },
    #[error("{0}")]
    Lease(String),
}

/// One field another manager owns, from a 409 of a server-side apply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldConflict {
    pub field: String,
    pub manager: String,
}

impl ClusterError {
    pub fn api(object: impl Into<String>, source: kube::Error) -> Self {
        ClusterError::Api {
            object: object.into(),
            source: Box::new(source),
        }
    }
}
