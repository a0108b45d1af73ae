//! The harness's one error type.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the test bed kubeconfig {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: kube::config::KubeconfigError,
    },
    #[error("cannot build a client from {path}: {source}")]
    ClientConfig { path: PathBuf, source: Box<kube::Error> },
    #[error("the test bed apiserver is not ready: {0}")]
    NotReady(String),
    #[error(transparent)]
    Kube(Box<kube::Error>),
    #[error("restarting the test bed apiserver: {0}")]
    Restart(String),
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { after: Duration, what: String },
    #[error("invalid YAML document {index}: {message}")]
    Yaml { index: usize, message: String },
    #[error("object {object} has no kind or apiVersion")]
    MissingType { object: String },
    #[error("{kind} {name} is namespaced but has no namespace and none was given")]
    MissingNamespace { kind: String, name: String },
    #[error("applying {kind} {namespace}/{name}: {source}")]
    Apply {
        kind: String,
        namespace: String,
        name: String,
        source: Box<kube::Error>,
    },
}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        Self::Kube(Box::new(err))
    }
}
