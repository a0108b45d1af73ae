//! Certificates for one run: a CA (its key kept, so test harnesses can mint serving
//! certificates), the apiserver's serving certificate, an admin client certificate
//! (system:masters), the webhook stand-in's serving certificate for 127.0.0.1, the
//! service-account signing key, and the trust bundle the apiserver verifies
//! URL-addressed webhooks with (the system CAs plus ours).

use std::path::Path;

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Debian's bundle of the system's trusted CAs.
const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

pub struct Files;

impl Files {
    pub const CA: &str = "ca.crt";
    pub const CA_KEY: &str = "ca.key";
    pub const WEBHOOK_CERT: &str = "webhook.crt";
    pub const WEBHOOK_KEY: &str = "webhook.key";
    /// System CAs plus the bed's CA: the apiserver's SSL_CERT_FILE.
    pub const TRUST_BUNDLE: &str = "trust-bundle.crt";
    pub const SERVING_CERT: &str = "apiserver.crt";
    pub const SERVING_KEY: &str = "apiserver.key";
    pub const ADMIN_CERT: &str = "admin.crt";
    pub const ADMIN_KEY: &str = "admin.key";
    pub const SERVICE_ACCOUNT_KEY: &str = "service-account.key";
    pub const SERVICE_ACCOUNT_PUBLIC_KEY: &str = "service-account.pub";
}

/// Writes every certificate and key into `dir`.
pub fn generate(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let ca_key = KeyPair::generate().context("generating the CA key")?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name = name("windlass-testbed-ca", None);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).context("signing the CA")?;
    write(dir, Files::CA, &ca_cert.pem())?;
    write(dir, Files::CA_KEY, &ca_key.serialize_pem())?;
    let mut bundle = std::fs::read_to_string(SYSTEM_CA_FILE).unwrap_or_default();
    if !bundle.is_empty() && !bundle.ends_with('\n') {
        bundle.push('\n');
    }
    bundle.push_str(&ca_cert.pem());
    write(dir, Files::TRUST_BUNDLE, &bundle)?;
    let issuer = Issuer::new(ca, ca_key);

    let serving_key = KeyPair::generate()?;
    let mut serving = CertificateParams::new(
        [
            "127.0.0.1",
            "localhost",
            "10.96.0.1",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ]
        .map(String::from)
        .to_vec(),
    )?;
    serving.distinguished_name = name("kube-apiserver", None);
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let serving_cert = serving
        .signed_by(&serving_key, &issuer)
        .context("signing the serving certificate")?;
    write(dir, Files::SERVING_CERT, &serving_cert.pem())?;
    write(dir, Files::SERVING_KEY, &serving_key.serialize_pem())?;

    let webhook_key = KeyPair::generate()?;
    let mut webhook = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    webhook.distinguished_name = name("windlass-testbed-webhook", None);
    webhook.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let webhook_cert = webhook
        .signed_by(&webhook_key, &issuer)
        .context("signing the webhook certificate")?;
    write(dir, Files::WEBHOOK_CERT, &webhook_cert.pem())?;
    write(dir, Files::WEBHOOK_KEY, &webhook_key.serialize_pem())?;

    let admin_key = KeyPair::generate()?;
    let mut admin = CertificateParams::new(Vec::<String>::new())?;
    admin.distinguished_name = name("windlass-testbed-admin", Some("system:masters"));
    admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let admin_cert = admin
        .signed_by(&admin_key, &issuer)
        .context("signing the admin certificate")?;
    write(dir, Files::ADMIN_CERT, &admin_cert.pem())?;
    write(dir, Files::ADMIN_KEY, &admin_key.serialize_pem())?;

    let service_account_key = KeyPair::generate()?;
    write(dir, Files::SERVICE_ACCOUNT_KEY, &service_account_key.serialize_pem())?;
    // The apiserver reads public keys from PEM `PUBLIC KEY` blocks, not from PKCS#8.
    write(
        dir,
        Files::SERVICE_ACCOUNT_PUBLIC_KEY,
        &service_account_key.public_key_pem(),
    )?;
    Ok(())
}

fn name(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    dn
}

fn write(dir: &Path, file: &str, pem: &str) -> Result<()> {
    let path = dir.join(file);
    std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))
}
