//! An app's Vault references (`secretEnv: {vault: MOUNT/PATH#KEY}`), read
//! through the Vault Secrets Operator: a VaultConnection and a VaultAuth per
//! app (Vault's Kubernetes auth with the app's own ServiceAccount, the role
//! named like the app), and one VaultStaticSecret per Vault secret the app
//! reads, which the operator syncs into a Secret of the app's namespace (the
//! pod's environment reads its keys) and which restarts the app's workload
//! when the secret changes. No secret value passes through windlass.

use std::collections::BTreeSet;

use super::config::fnv1a;
use super::crds::{
    RolloutRestartTarget, VaultAuth, VaultAuthSpec, VaultConnection, VaultConnectionSpec, VaultDestination,
    VaultKubernetesAuth, VaultStaticSecret, VaultStaticSecretSpec,
};
use super::labels::app_meta;
use super::object::Object;
use crate::defaults as d;
use crate::model::{App, EnvSecret, Platform, VaultRef};
use crate::spec::AppKind;

/// The Vault secrets (mount, path) an app reads, each once, in order.
fn secrets(app: &App) -> BTreeSet<(&str, &str)> {
    app.secret_env
        .iter()
        .filter_map(|(_, s)| match s {
            EnvSecret::Vault(v) => Some((v.mount.as_str(), v.path.as_str())),
            EnvSecret::Secret(_) | EnvSecret::Sops(_) => None,
        })
        .collect()
}

/// The Secret the operator writes a Vault secret into: `<app>-vault-<hash of mount and path>`.
pub fn destination(app: &App, r: &VaultRef) -> String {
    destination_of(app, &r.mount, &r.path)
}

fn destination_of(app: &App, mount: &str, path: &str) -> String {
    format!("{}-vault-{:08x}", app.name, fnv1a([mount, path]) as u32)
}

/// VaultConnection and VaultAuth `<app>-vault` and a VaultStaticSecret per
/// Vault secret; nothing when the app reads no Vault secret.
pub fn objects(platform: &Platform, app: &App) -> Vec<Object> {
    let secrets = secrets(app);
    if secrets.is_empty() {
        return Vec::new();
    }
    let name = format!("{}-vault", app.name);
    let vault = &platform.vault;
    let mut out = vec![
        Object::from_typed(&VaultConnection::new(
            app_meta(platform, app, &name),
            VaultConnectionSpec {
                address: vault.address.clone(),
            },
        )),
        Object::from_typed(&VaultAuth::new(
            app_meta(platform, app, &name),
            VaultAuthSpec {
                vault_connection_ref: name.clone(),
                method: "kubernetes",
                mount: vault.auth_mount.clone(),
                kubernetes: VaultKubernetesAuth {
                    role: app.name.clone(),
                    service_account: app.name.clone(),
                    audiences: vec![d::VAULT_AUDIENCE.to_string()],
                },
            },
        )),
    ];
    // A CronJob's next run reads the Secret as it is then: nothing to restart.
    let target = match app.kind {
        AppKind::Web | AppKind::Worker => Some("Deployment"),
        AppKind::Statefulset => Some("StatefulSet"),
        AppKind::Cron => None,
    };
    for (mount, path) in secrets {
        let secret = destination_of(app, mount, path);
        out.push(Object::from_typed(&VaultStaticSecret::new(
            app_meta(platform, app, &secret),
            VaultStaticSecretSpec {
                vault_auth_ref: name.clone(),
                mount: mount.to_string(),
                path: path.to_string(),
                type_: "kv-v2",
                refresh_after: vault.refresh_after.clone(),
                // No labels of windlass's: the operator owns this Secret, and nothing of
                // windlass's (selectors, inventory) may take it for its own.
                destination: VaultDestination {
                    name: secret,
                    create: true,
                },
                rollout_restart_targets: target
                    .map(|kind| RolloutRestartTarget {
                        kind,
                        name: app.name.clone(),
                    })
                    .into_iter()
                    .collect(),
            },
        )));
    }
    out
}
