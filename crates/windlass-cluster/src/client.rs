//! Which cluster: the kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, else
//! `~/.kube/config`) and its context (`--context`), as kubectl chooses them.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
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
            let kubeconfig = Kubeconfig::read_from(path).map_err(|source| ClusterError::Kubeconfig {
                path: path.clone(),
                source,
            })?;
            Config::from_custom_kubeconfig(kubeconfig, &options).await
        }
        None if target.context.is_some() => Config::from_kubeconfig(&options).await,
        None => {
            return Config::infer()
                .await
                .map_err(|e| ClusterError::Config {
                    context: None,
                    message: e.to_string(),
                })
                .and_then(client_from);
        }
    }
    .map_err(|e| ClusterError::Config {
        context: target.context.clone(),
        message: e.to_string(),
    })?;
    client_from(config)
}

fn client_from(mut config: Config) -> Result<Client, ClusterError> {
    // Bounded requests: a hung apiserver must surface as a retryable timeout, not a hang.
    config.read_timeout = Some(std::time::Duration::from_secs(30));
    config.connect_timeout = Some(std::time::Duration::from_secs(5));
    Client::try_from(config).map_err(|e| ClusterError::Connect(e.to_string()))
}
