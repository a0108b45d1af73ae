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
use crate::model::{App, Platform, SopsRef};

/// Per key of a sealed Secret, the short digest of its encrypted text: `key=digest,...`.
pub const DIGESTS_ANNOTATION: &str = "windlass.dev/sops-digests";
/// Where the values come from: `<file>#<secret>`.
pub const SOURCE_ANNOTATION: &str = "windlass.dev/sops-source";
/// On the pod template: a digest of the app's SOPS values as encrypted.
pub const CHECKSUM_ANNOTATION: &str = "windlass.dev/secrets-checksum";

/// The SOPS Secrets an app reads -> the keys it reads of each, in order.
fn secrets(app: &App) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (_, r) in app.sops_refs() {
        let keys = out.entry(r.secret.as_str()).or_default();
        if !keys.contains(&r.key.as_str()) {
            keys.push(r.key.as_str());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::invariants;
    use crate::plan::Plan;
    use crate::render::{Unit, documents, render};
    use crate::secrets::Sealed;

    const SPEC: &str = "apiVersion: windlass.dev/v1alpha1\nkind: Platform\n\
        platform: {name: shop, domain: example.com, email: ops@example.com, secrets: {file: 'secrets/{env}.sops.yaml'}}\n\
        apps:\n  api:\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv:\n      \
        DB_PASSWORD: {sops: postgres/password}\n      LEGACY: legacy/token\n    \
        config: {files: {app.conf: x}, secretFiles: {db.user: {sops: postgres/username}}}\n\
        environments: {production: {}}\n";

    fn sealed(password: &str) -> Sealed {
        let enc = |d: &str| format!("ENC[AES256_GCM,data:{d},iv:aXY=,tag:dGFn,type:str]");
        let text = format!(
            "postgres:\n    password: {}\n    username: {}\n    unused: {}\nsops:\n    mac: x\n",
            enc(password),
            enc("dXNlcg=="),
            enc("dW51c2Vk")
        );
        Sealed::parse("secrets/production.sops.yaml", &text).expect("sealed")
    }

    fn objects(sealed_file: Sealed) -> Vec<Object> {
        let spec = crate::spec::load("windlass.yaml", SPEC).expect("valid spec");
        let (env, file) = spec.environment(None).expect("environment");
        let mut platform = Platform::build(file, env);
        assert!(crate::secrets::check_refs(&platform, &sealed_file).is_empty());
        platform.attach_secrets(sealed_file);
        let rendered = render(&platform, &Plan::new(&platform, &[]).expect("plan"));
        rendered.objects().cloned().collect()
    }

    fn template_checksum(objects: &[Object]) -> Value {
        let d = objects.iter().find(|o| o.kind() == "Deployment").expect("deployment");
        d.0.pointer("/spec/template/metadata/annotations")
            .and_then(|a| a.get(CHECKSUM_ANNOTATION))
            .cloned()
            .expect("checksum")
    }

    #[test]
    fn an_app_gets_one_sealed_secret_per_sops_secret_with_only_the_keys_it_reads() {
        let objects = objects(sealed("cGFzcw=="));
        let secrets: Vec<&Object> = objects.iter().filter(|o| is_sealed(&o.0)).collect();
        assert_eq!(secrets.len(), 1);
        let s = secrets[0];
        assert_eq!((s.namespace(), s.name()), ("shop", "api-sops-postgres"));
        assert_eq!(s.0.get("data"), None, "sealed: no values");
        let digests = s.0["metadata"]["annotations"][DIGESTS_ANNOTATION]
            .as_str()
            .expect("digests");
        assert!(
            digests.starts_with("password=") && digests.contains(",username=") && !digests.contains("unused"),
            "{digests}"
        );
        assert_eq!(
            sealed_source(&s.0),
            Some((
                "postgres".to_string(),
                vec!["password".to_string(), "username".to_string()]
            ))
        );
        let deployment = objects.iter().find(|o| o.kind() == "Deployment").expect("deployment");
        let env = deployment
            .0
            .pointer("/spec/template/spec/containers/0/env")
            .expect("env");
        assert!(
            env.as_array().expect("list").iter().any(|e| e["name"] == "DB_PASSWORD"
                && e["valueFrom"]["secretKeyRef"]["name"] == "api-sops-postgres"
                && e["valueFrom"]["secretKeyRef"]["key"] == "password"),
            "{env}"
        );
        // Reloader watches only the Secret windlass does not own; the checksum rolls for the rest.
        let annotations = &deployment.0["metadata"]["annotations"];
        assert_eq!(annotations["secret.reloader.stakater.com/reload"], "legacy");
        assert_eq!(annotations.get("reloader.stakater.com/auto"), None);
        // The config file from the SOPS file, projected beside the ConfigMap's.
        let volume = deployment
            .0
            .pointer("/spec/template/spec/volumes")
            .and_then(|v| v.as_array())
            .and_then(|v| v.iter().find(|v| v["name"] == "config"))
            .expect("config volume");
        assert_eq!(
            volume["projected"]["sources"],
            serde_json::json!([
                {"configMap": {"name": "api-config"}},
                {"secret": {"name": "api-sops-postgres", "items": [{"key": "username", "path": "db.user"}], "optional": false}}
            ])
        );
        let errors: Vec<_> = invariants(&objects)
            .into_iter()
            .filter(|f| f.severity == crate::check::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "the sealed Secret holds every invariant: {errors:?}");
    }

    #[test]
    fn a_changed_ciphertext_changes_the_pod_template_and_an_unchanged_one_does_not() {
        let before = template_checksum(&objects(sealed("cGFzcw==")));
        assert_eq!(before, template_checksum(&objects(sealed("cGFzcw=="))));
        assert_ne!(before, template_checksum(&objects(sealed("bmV3"))));
    }

    #[test]
    fn unseal_adds_the_values_and_render_writes_no_sealed_secret() {
        let objects = objects(sealed("cGFzcw=="));
        let s = objects.iter().find(|o| is_sealed(&o.0)).expect("sealed");
        let real = unseal(
            &s.0,
            vec![
                ("password".into(), b"pass".to_vec()),
                ("username".into(), b"user".to_vec()),
            ],
        );
        assert!(!is_sealed(&real));
        assert_eq!(real["data"]["password"], "cGFzcw==");
        assert_eq!(real["metadata"], s.0["metadata"]);
        let unit = Unit {
            kind: crate::unit::UnitId::app("shop", "api"),
            dir: "shop/api".into(),
            objects: objects.clone(),
        };
        let docs = documents(unit);
        assert!(docs.documents.iter().all(|d| !d.yaml.contains(DIGESTS_ANNOTATION)));
        assert_eq!(docs.documents.len(), objects.len() - 1);
    }
}
