//! `secretEnv: {vault: MOUNT/PATH#KEY}` renders Vault Secrets Operator objects
//! that the apiserver admits under strict field validation against the
//! operator's CRDs. The operator's Go module is not served here, so the CRDs
//! are the test bed's fixture (testbed/charts/vault-secrets-operator/crds:
//! upstream's names, group and main fields, written from its documented API),
//! not upstream's own; no operator runs, so nothing syncs or restarts.

mod common;

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, ValidationDirective};
use kube::{Api, ResourceExt};
use windlass_testbed::{ObjectApplier, TestBed, parse_yaml_stream, wait_until};

const CRDS: [&str; 3] = ["vaultconnections", "vaultauths", "vaultstaticsecrets"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_references_render_objects_the_operators_crds_admit_strictly() {
    let Some(bed) = TestBed::connect().await else {
        return;
    };
    let client = bed.client();
    let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
    // The fixture CRDs, unless a component test installed the operator already; removed after.
    let mut installed = Vec::new();
    for plural in CRDS {
        let name = format!("{plural}.secrets.hashicorp.com");
        if crd_api.get_opt(&name).await.expect("read CRD").is_some() {
            continue;
        }
        let file = common::repo_root().join(format!(
            "testbed/charts/vault-secrets-operator/crds/secrets.hashicorp.com_{plural}.yaml"
        ));
        let yaml = std::fs::read_to_string(&file).expect("fixture CRD");
        let crd = parse_yaml_stream(&yaml).expect("a CRD").remove(0);
        crd_api
            .patch(&name, &PatchParams::apply("windlass-test").force(), &Patch::Apply(&crd))
            .await
            .expect("apply CRD");
        installed.push(name);
    }
    for name in &installed {
        let api = crd_api.clone();
        let name = name.clone();
        wait_until(&format!("CRD {name} Established"), Duration::from_secs(60), || {
            let api = api.clone();
            let name = name.clone();
            async move {
                let crd = api.get(&name).await?;
                let established = crd
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True");
                Ok::<_, windlass_testbed::Error>(established.then_some(()))
            }
        })
        .await
        .expect("CRD established");
    }

    let ns = bed.namespace("vault").await.expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("windlass.yaml");
    std::fs::write(
        &spec,
        format!(
            "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform:\n  name: vt\n  domain: vt.example.com\n  tls: self-signed\n  \
             namespace: {ns}\n  vault: {{address: 'https://vault.example.com:8200', authMount: clusters/test, refreshAfter: 5m}}\n  \
             components:\n    vault-secrets-operator: {{enabled: true}}\n\
             apps:\n  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: {{path: /healthz, liveness: /livez}}\n    \
             secretEnv:\n      DB_PASSWORD: {{vault: kv/shop/db#password}}\n      DB_USER: {{vault: kv/shop/db#username}}\n      \
             API_KEY: {{vault: secret/team/api#key}}\n      LEGACY: legacy/token\n",
            ns = ns.name()
        ),
    )
    .expect("write spec");
    let objects = common::render(&spec, None);
    let of = |kind: &str| -> Vec<&DynamicObject> { objects.iter().filter(|o| common::kind(o) == kind).collect() };
    let statics = of("VaultStaticSecret");
    assert_eq!(of("VaultConnection").len(), 1);
    assert_eq!(of("VaultAuth").len(), 1);
    // One per Vault secret, however many of its keys the app reads.
    assert_eq!(statics.len(), 2);
    let connection = of("VaultConnection")[0];
    assert_eq!(connection.data["spec"]["address"], "https://vault.example.com:8200");
    let auth = of("VaultAuth")[0];
    assert_eq!(auth.data["spec"]["mount"], "clusters/test");
    assert_eq!(auth.data["spec"]["kubernetes"]["serviceAccount"], "web");
    assert_eq!(auth.data["spec"]["vaultConnectionRef"], connection.name_any());

    // The pod reads each key from the Secret its VaultStaticSecret writes; the others' Secret as before.
    let deployment = of("Deployment")[0];
    let env = deployment.data["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .clone();
    let from = |var: &str| {
        let e = env.iter().find(|e| e["name"] == var).expect("env var");
        let r = &e["valueFrom"]["secretKeyRef"];
        (
            r["name"].as_str().expect("name").to_string(),
            r["key"].as_str().expect("key").to_string(),
        )
    };
    let db = statics
        .iter()
        .find(|s| s.data["spec"]["path"] == "shop/db")
        .expect("the shop/db VaultStaticSecret");
    assert_eq!(db.data["spec"]["mount"], "kv");
    assert_eq!(db.data["spec"]["type"], "kv-v2");
    assert_eq!(db.data["spec"]["refreshAfter"], "5m");
    assert_eq!(db.data["spec"]["vaultAuthRef"], auth.name_any());
    assert_eq!(
        db.data["spec"]["rolloutRestartTargets"],
        serde_json::json!([{"kind": "Deployment", "name": "web"}])
    );
    let destination = db.data["spec"]["destination"]["name"].as_str().expect("destination");
    assert_eq!(from("DB_PASSWORD"), (destination.to_string(), "password".to_string()));
    assert_eq!(from("DB_USER"), (destination.to_string(), "username".to_string()));
    assert_eq!(from("LEGACY"), ("legacy".to_string(), "token".to_string()));
    assert_ne!(from("API_KEY").0, destination);

    // Every object of the app, admitted by a strict server-side dry run.
    let mut applier = ObjectApplier::new(client.clone(), "windlass");
    let mut params = PatchParams::apply("windlass").force();
    params.dry_run = true;
    params.field_validation = Some(ValidationDirective::Strict);
    for obj in objects.iter().filter(|o| o.namespace().as_deref() == Some(ns.name())) {
        let (api, kind) = applier.api_for(obj).await.expect("kind served");
        api.patch(&obj.name_any(), &params, &Patch::Apply(obj))
            .await
            .unwrap_or_else(|e| panic!("{kind} {} refused: {e}", obj.name_any()));
    }
    // Strictness is live: a field the CRD does not have is refused.
    let mut bad = (*db).clone();
    bad.data["spec"]["destination"]["bogus"] = serde_json::json!(true);
    let (api, _) = applier.api_for(&bad).await.expect("kind served");
    let refused = api.patch(&bad.name_any(), &params, &Patch::Apply(&bad)).await;
    assert!(
        matches!(&refused, Err(kube::Error::Api(s)) if s.message.contains("bogus")),
        "{refused:?}"
    );

    for name in installed {
        crd_api
            .delete(&name, &DeleteParams::default())
            .await
            .expect("delete CRD");
    }
}
