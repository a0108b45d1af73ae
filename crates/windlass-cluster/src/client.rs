//! Which cluster: the kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, else
//! `~/.kube/config`) and its context (`--context`), as kubectl chooses them.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use crate::ClusterError;

#[derive(Debug, Clone, Default)]
pub struct ClusterTarget {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

pub async fn connect(target: &ClusterTarget) -> Result<Client, ClusterError> {
    let options = KubeConfigOptions {
        context: target.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &target.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| ClusterError::Kubeconfig {
                path: path.clone(),
                reason: kubeconfig_reason(&e),
            })?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| config_error(target, &e))?
        }
        None if target.context.is_some() => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| config_error(target, &e))?,
        // Without flags, as kubectl: the kubeconfig, else the in-cluster service account.
        None => Config::infer().await.map_err(|e| {
            match std::error::Error::source(&e).and_then(|s| s.downcast_ref::<KubeconfigError>()) {
                Some(k) => config_error(target, k),
                None => ClusterError::NoKubeconfig,
            }
        })?,
    };
    client_from(config)
}

fn config_error(target: &ClusterTarget, e: &KubeconfigError) -> ClusterError {
    match e {
        KubeconfigError::FindPath => ClusterError::NoKubeconfig,
        KubeconfigError::ReadConfig(_, path) => ClusterError::Kubeconfig {
            path: path.clone(),
            reason: kubeconfig_reason(e),
        },
        _ => ClusterError::Config {
            context: target.context.clone(),
            reason: kubeconfig_reason(e),
        },
    }
}

/// The kubeconfig problem in words, without the OS error number.
fn kubeconfig_reason(e: &KubeconfigError) -> String {
    match e {
        KubeconfigError::ReadConfig(io, _) if io.kind() == std::io::ErrorKind::NotFound => "it does not exist".into(),
        KubeconfigError::ReadConfig(io, _) => io.kind().to_string(),
        KubeconfigError::Parse(_) => "it is not valid kubeconfig YAML".into(),
        KubeconfigError::CurrentContextNotSet => "it sets no current context".into(),
        other => other.to_string(),
    }
}

fn client_from(mut config: Config) -> Result<Client, ClusterError> {
    // Bounded requests: a hung apiserver must surface as a retryable timeout, not a hang.
    config.read_timeout = Some(std::time::Duration::from_secs(30));
    config.connect_timeout = Some(std::time::Duration::from_secs(5));
    Client::try_from(config).map_err(|e| ClusterError::api("the connection to the cluster", e))
}
