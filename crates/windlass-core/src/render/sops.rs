//! An app's SOPS references (`secretEnv: {sops: SECRET/KEY}`): per Secret of the
//! environment's SOPS file that the app reads, a Secret `<app>-sops-<secret>`
//! holding the keys the app reads, owned by the app's unit like its other objects.
//!
//! The core renders it *sealed*: metadata only, with the digest of each key's
//! encrypted text in `windlass.dev/sops-digests`, and no `data`. That is what
//! `check` sees, what the revision history stores and what `diff`/`up` compare to
//! decide "unchanged". The edge (`up`, `diff`) decrypts the file in memory and
//! builds the real Secret with `unseal`; nothing else ever holds a value.
//! The pod template carries `windlass.dev/secrets-checksum`, a digest of those
//! digests: a changed value (a new ciphertext) rolls the pods.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::labels::app_meta;
use super::object::Object;
use crate::model::{App, EnvSecret, Platform, SopsRef};

/// Per key of a sealed Secret, the short digest of its encrypted text: `key=digest,...`.
pub const DIGESTS_ANNOTATION: &str = "windlass.dev/sops-digests";
/// Where the values come from: `<file>#<secret>`.
pub const SOURCE_ANNOTATION: &str = "windlass.dev/sops-source";
/// On the pod template: a digest of the app's SOPS values as encrypted.
pub const CHECKSUM_ANNOTATION: &str = "windlass.dev/secrets-checksum";

/// The SOPS Secrets an app reads -> the keys it reads of each, in order.
fn secrets(app: &App) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (_, s) in &app.secret_env {
        if let EnvSecret::Sops(r) = s {
            let keys = out.entry(r.secret.as_str()).or_default();
            if !keys.contains(&r.key.as_str()) {
                keys.push(r.key.as_str());
            }
        }
    }
    for keys in out.values_mut() {
        keys.sort_unstable();
    }
    out
}

/// The Secret windlass makes for an app from a Secret of the SOPS file.
pub fn destination(app: &App, r: &SopsRef) -> String {
    destination_of(app, &r.secret)
}

fn destination_of(app: &App, secret: &str) -> String {
    format!("{}-sops-{secret}", app.name)
}

/// `key=digest,...` for one Secret; a digest is empty while no file is attached
/// (a caller that renders without reading the file, such as a property test).
fn digests(platform: &Platform, secret: &str, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| {
            let d = platform
                .sealed
                .as_ref()
                .and_then(|s| s.value(secret, k))
                .map_or("", |v| v.short_digest());
            format!("{k}={d}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The sealed Secrets of an app, one per SOPS Secret it reads.
pub fn objects(platform: &Platform, app: &App) -> Vec<Object> {
    let file = platform.secrets_file.as_deref().unwrap_or_default();
    secrets(app)
        .into_iter()
        .map(|(secret, keys)| {
            let mut meta = app_meta(platform, app, destination_of(app, secret));
            meta.annotations = Some(BTreeMap::from([
                (SOURCE_ANNOTATION.to_string(), format!("{file}#{secret}")),
                (DIGESTS_ANNOTATION.to_string(), digests(platform, secret, &keys)),
            ]));
            Object::from_typed(&Secret {
                metadata: meta,
                type_: Some("Opaque".to_string()),
                ..Secret::default()
            })
        })
        .collect()
}

/// Namespace and name of each Secret windlass makes from the SOPS file for the
/// given apps, in order.
pub fn made_secrets<'a>(apps: impl IntoIterator<Item = &'a App>) -> Vec<String> {
    apps.into_iter()
        .flat_map(|app| {
            secrets(app)
                .into_keys()
                .map(|s| format!("{}/{}", app.namespace, destination_of(app, s)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The pod template's checksum of the app's SOPS values (as encrypted), or
/// `None` when the app reads none.
pub fn checksum(platform: &Platform, app: &App) -> Option<String> {
    let secrets = secrets(app);
    if secrets.is_empty() {
        return None;
    }
    let mut h = Sha256::new();
    for (secret, keys) in secrets {
        h.update(secret.as_bytes());
        h.update(b":");
        h.update(digests(platform, secret, &keys).as_bytes());
        h.update(b"\n");
    }
    Some(h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect())
}

/// A sealed Secret: windlass's Secret from the SOPS file, without its values.
pub fn is_sealed(o: &Value) -> bool {
    o.get("kind").and_then(Value::as_str) == Some("Secret")
        && o.get("data").is_none()
        && o.pointer("/metadata/annotations")
            .and_then(|a| a.get(DIGESTS_ANNOTATION))
            .is_some()
}

/// Of a sealed Secret: the SOPS Secret it comes from and the keys it holds.
pub fn sealed_source(o: &Value) -> Option<(String, Vec<String>)> {
    let annotations = o.pointer("/metadata/annotations")?;
    let source = annotations.get(SOURCE_ANNOTATION)?.as_str()?;
    let (_, secret) = source.rsplit_once('#')?;
    let keys = annotations
        .get(DIGESTS_ANNOTATION)?
        .as_str()?
        .split(',')
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string()))
        .collect();
    Some((secret.to_string(), keys))
}

/// The real Secret: the sealed one with its values (decrypted by the caller).
pub fn unseal(sealed: &Value, values: Vec<(String, Vec<u8>)>) -> Value {
    let mut o = sealed.clone();
    let data: serde_json::Map<String, Value> = values
        .into_iter()
        .map(|(k, v)| (k, serde_json::to_value(ByteString(v)).unwrap_or_default()))
        .collect();
    if let Some(m) = o.as_object_mut() {
        m.insert("data".into(), Value::Object(data));
    }
    o
}
