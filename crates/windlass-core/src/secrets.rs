//! The environment's SOPS file as the core sees it: *sealed*. Without any key,
//! the encrypted file gives the names of its Secrets and keys (SOPS keeps keys in
//! the clear), where each is written, and a digest of each value's encrypted
//! text. That is enough to check every `{sops: SECRET/KEY}` reference, to render
//! the Secrets an app reads without their values, and to roll the pods when a
//! value changes (the digest of the ciphertext changes; the plaintext is never
//! read here). Decrypting is the edge's job (`windlass` opens the file with the
//! keys sops would find, only for `up` and `diff`).
//!
//! The file, before encryption, is two levels: Secret name -> key -> text.

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use crate::diagnostics::{Diagnostic, SpecError, did_you_mean};
use crate::model::Platform;
use crate::source::{FieldPath, Loc, Value, parse_yaml};
use crate::spec::names::{is_config_key, is_dns1123_label};

/// The largest secrets file windlass reads (1 MiB: a Kubernetes Secret holds at most 1 MiB).
pub const MAX_SECRETS_BYTES: usize = 1024 * 1024;

/// The environment's SOPS file, read without a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Sealed {
    /// The file as the user wrote it in the spec (`secrets/production.sops.yaml`).
    pub file: String,
    /// Secret name -> its keys, in file order.
    pub secrets: IndexMap<String, SealedSecret>,
    /// The encrypted text as read: what `render` writes through unchanged.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SealedSecret {
    pub loc: Loc,
    /// Key -> digest of its encrypted text.
    pub keys: IndexMap<String, SealedValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SealedValue {
    pub loc: Loc,
    /// sha256 (hex) of the value as stored: `ENC[AES256_GCM,...]`, never the plaintext.
    pub digest: String,
}

impl SealedValue {
    /// The short form carried in annotations (64 bits of the digest).
    pub fn short_digest(&self) -> &str {
        &self.digest[..16]
    }
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a stored value is a SOPS ciphertext (or the empty string, which sops
/// leaves as it is).
fn is_encrypted(s: &str) -> bool {
    s.is_empty() || (s.starts_with("ENC[AES256_GCM,") && s.ends_with(']'))
}

impl Sealed {
    /// Reads the encrypted text of `file`. Every problem is located in that file;
    /// no message quotes a value (a value in the clear is a secret in the clear).
    pub fn parse(file: &str, text: &str) -> Result<Sealed, SpecError> {
        let fail = |diagnostics: Vec<Diagnostic>| SpecError {
            file: file.to_string(),
            // Never shown as a snippet: a value written in the clear by mistake would be printed.
            source_text: String::new(),
            diagnostics,
        };
        if text.len() > MAX_SECRETS_BYTES {
            return Err(fail(vec![
                Diagnostic::new(FieldPath::root(), "the secrets file is larger than 1 MiB")
                    .help("a Kubernetes Secret holds at most 1 MiB: split the secrets over several environments' files or move large ones to Vault"),
            ]));
        }
        let root = parse_yaml(text).map_err(|mut d| {
            // The parser's message may quote the text around the error.
            d.message = "is not valid YAML".to_string();
            d.help = Some("open it with `windlass secrets edit`, or check that it is the SOPS file".into());
            fail(vec![d])
        })?;
        let help_encrypt = "encrypt the file: `windlass secrets encrypt --in-place FILE` (or `sops -e -i FILE`)";
        let Value::Map(entries) = &root.value else {
            return Err(fail(vec![
                Diagnostic::new(
                    FieldPath::root(),
                    format!(
                        "expected a mapping of Secret names to their keys, found {}",
                        root.value.kind()
                    ),
                )
                .at(root.loc)
                .help("write `SECRET: {KEY: value}` entries, then encrypt the file"),
            ]));
        };
        let mut diags = Vec::new();
        match root.get("sops") {
            Some(n) if matches!(n.value, Value::Map(_)) && n.get("mac").is_some() => {}
            Some(n) => diags.push(
                Diagnostic::new(FieldPath::root().key("sops"), "the `sops` metadata has no `mac`")
                    .at(n.loc)
                    .help("the file was damaged: restore it from version control"),
            ),
            None => {
                return Err(fail(vec![
                    Diagnostic::new(FieldPath::root(), "is not encrypted: it has no `sops` metadata")
                        .at(root.loc)
                        .help(help_encrypt),
                ]));
            }
        }
        let mut secrets = IndexMap::new();
        for (name, node) in entries.iter().filter(|(k, _)| k.name != "sops") {
            let path = FieldPath::root().key(&name.name);
            if !is_dns1123_label(&name.name) {
                diags.push(
                    Diagnostic::new(
                        path.clone(),
                        format!("`{}` is not a valid Secret name", name.name),
                        )
                    .at(name.loc)
                    .help("use lowercase letters, digits and `-` (at most 63): windlass names the Secret `<app>-sops-<name>`"),
                );
            }
            let Value::Map(keys) = &node.value else {
                diags.push(
                    Diagnostic::new(
                        path,
                        format!("expected the Secret's keys (a mapping), found {}", node.value.kind()),
                    )
                    .at(node.loc)
                    .help("write `SECRET: {KEY: value}`"),
                );
                continue;
            };
            let mut sealed = IndexMap::new();
            for (key, value) in keys {
                let kpath = path.key(&key.name);
                if !is_config_key(&key.name) {
                    diags.push(
                        Diagnostic::new(kpath.clone(), format!("`{}` is not a valid Secret key", key.name))
                            .at(key.loc)
                            .help("use letters, digits, `-`, `_` and `.`"),
                    );
                }
                match &value.value {
                    Value::Str(s) if is_encrypted(s) => {
                        sealed.insert(
                            key.name.clone(),
                            SealedValue {
                                loc: value.loc,
                                digest: sha256_hex(s),
                            },
                        );
                    }
                    Value::Map(_) | Value::Seq(_) => diags.push(
                        Diagnostic::new(
                            kpath,
                            format!(
                                "is {}: a Secret's key holds one text value",
                                value.value.kind()
                            ),
                        )
                        .at(value.loc)
                        .help("write the value as text (a multi-line value as a `|` block) before encrypting"),
                    ),
                    Value::Null => diags.push(
                        Diagnostic::new(kpath, "has no value")
                            .at(value.loc)
                            .help("give the key a value, or remove it"),
                    ),
                    _ => diags.push(
                        Diagnostic::new(kpath, "is stored in the clear, not encrypted")
                            .at(value.loc)
                            .help(format!(
                                "{help_encrypt}; sops's --unencrypted-suffix and --encrypted-regex leave values in the clear, which a secrets file must not"
                            )),
                    ),
                }
            }
            secrets.insert(
                name.name.clone(),
                SealedSecret {
                    loc: name.loc,
                    keys: sealed,
                },
            );
        }
        if diags.is_empty() {
            Ok(Sealed {
                file: file.to_string(),
                secrets,
                text: text.to_string(),
            })
        } else {
            Err(fail(diags))
        }
    }

    pub fn value(&self, secret: &str, key: &str) -> Option<&SealedValue> {
        self.secrets.get(secret)?.keys.get(key)
    }
}

/// Every `{sops: SECRET/KEY}` of the platform's apps that the file does not hold:
/// the reference's field path, the message and the fix.
pub fn check_refs(platform: &Platform, sealed: &Sealed) -> Vec<(FieldPath, String, String)> {
    let mut out = Vec::new();
    for app in &platform.apps {
        for (path, r) in app.sops_refs() {
            match sealed.secrets.get(&r.secret) {
                None => {
                    let help = match did_you_mean(&r.secret, sealed.secrets.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}/{}`?", r.key),
                        None if sealed.secrets.is_empty() => format!(
                            "the file holds no Secret yet: add `{}: {{{}: ...}}` with `windlass secrets edit {}`",
                            r.secret, r.key, sealed.file
                        ),
                        None => format!(
                            "the file holds {}; add it with `windlass secrets edit {}`",
                            list(sealed.secrets.keys()),
                            sealed.file
                        ),
                    };
                    out.push((path, format!("{} has no Secret `{}`", sealed.file, r.secret), help));
                }
                Some(s) if !s.keys.contains_key(&r.key) => {
                    let help = match did_you_mean(&r.key, s.keys.keys().map(String::as_str)) {
                        Some(k) => format!("did you mean `{}/{k}`?", r.secret),
                        None => format!(
                            "`{}` holds {}; add the key with `windlass secrets edit {}`",
                            r.secret,
                            list(s.keys.keys()),
                            sealed.file
                        ),
                    };
                    out.push((
                        path,
                        format!("the Secret `{}` in {} has no key `{}`", r.secret, sealed.file, r.key),
                        help,
                    ));
                }
                Some(_) => {}
            }
        }
    }
    out
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "no keys".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: &str = "sops:\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.13.3\n";

    fn enc(tag: &str) -> String {
        format!("ENC[AES256_GCM,data:{tag},iv:aXY=,tag:dGFn,type:str]")
    }

    #[test]
    fn names_keys_and_digests_of_the_ciphertext_without_a_key() {
        let text = format!(
            "postgres:\n    password: {}\n    username: {}\nstripe:\n    api-key: ''\n{MAC}",
            enc("a"),
            enc("b")
        );
        let s = Sealed::parse("s.yaml", &text).expect("parses");
        assert_eq!(s.secrets.keys().collect::<Vec<_>>(), ["postgres", "stripe"]);
        let pw = s.value("postgres", "password").expect("password");
        assert_eq!(pw.digest, sha256_hex(&enc("a")));
        assert_eq!(pw.loc.line, 2);
        assert_ne!(pw.digest, s.value("postgres", "username").expect("username").digest);
        assert!(
            s.value("stripe", "api-key").is_some(),
            "an empty value stays as sops leaves it"
        );
    }

    #[test]
    fn every_bad_shape_is_located_and_no_message_quotes_a_value() {
        let text = format!(
            "postgres:\n    password: hunter2\n    nested: {{a: b}}\n    empty:\nBad_Name:\n    k: {}\nlist: [a]\n{MAC}",
            enc("a")
        );
        let e = Sealed::parse("s.yaml", &text).expect_err("refused").to_string();
        assert_eq!(
            e,
            "s.yaml:2:15: postgres.password: is stored in the clear, not encrypted\n  help: encrypt the file: `windlass secrets encrypt --in-place FILE` (or `sops -e -i FILE`); sops's --unencrypted-suffix and --encrypted-regex leave values in the clear, which a secrets file must not\n\
             s.yaml:3:13: postgres.nested: is a mapping: a Secret's key holds one text value\n  help: write the value as text (a multi-line value as a `|` block) before encrypting\n\
             s.yaml:4:10: postgres.empty: has no value\n  help: give the key a value, or remove it\n\
             s.yaml:5:1: Bad_Name: `Bad_Name` is not a valid Secret name\n  help: use lowercase letters, digits and `-` (at most 63): windlass names the Secret `<app>-sops-<name>`\n\
             s.yaml:7:7: list: expected the Secret's keys (a mapping), found a list\n  help: write `SECRET: {KEY: value}`"
        );
        assert!(!e.contains("hunter2"));
        let plain = Sealed::parse("s.yaml", "postgres: {password: hunter2}\n").expect_err("plain");
        assert_eq!(
            plain.to_string(),
            "s.yaml:1:1: is not encrypted: it has no `sops` metadata\n  help: encrypt the file: `windlass secrets encrypt --in-place FILE` (or `sops -e -i FILE`)"
        );
        let broken = Sealed::parse("s.yaml", "a: [hunter2\n").expect_err("yaml");
        assert!(!broken.to_string().contains("hunter2"), "{broken}");
    }
}
