//! The operations on whole files: encrypt a plaintext, open an encrypted file,
//! re-encrypt an edited plaintext against it (unchanged values keep their
//! ciphertext), rotate its data key and recipients.

use std::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use crate::cipher::{self, DataKey, Decrypted, Plain, Stash};
use crate::error::{Result, SopsError};
use crate::keys::{self, AgeRecipient, Keyring};
use crate::metadata::{KeyGroup, Metadata, SOPS_VERSION};
use crate::tree::{Entry, PathSegment, Value, lookup, map_get};
use crate::walk::{self, EncryptionRules};
use crate::{json, yaml};

/// The formats of SOPS files windlass reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// The format sops would pick for a file name (by extension). Formats windlass
    /// does not handle (dotenv, INI, binary) are refused with the reason.
    pub fn from_path(path: &str) -> Result<Format> {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("yaml" | "yml") => Ok(Format::Yaml),
            Some("json") => Ok(Format::Json),
            Some("env") => Err(unsupported(
                "dotenv files",
                "keep secrets in a .yaml or .json SOPS file",
            )),
            Some("ini") => Err(unsupported("INI files", "keep secrets in a .yaml or .json SOPS file")),
            _ => Err(unsupported(
                &format!("`{name}`: sops treats files without a .yaml, .yml or .json extension as binary, and binary"),
                "name the file *.yaml, *.yml or *.json (or pass --format)",
            )),
        }
    }

    /// Parses `yaml`/`yml`/`json`.
    pub fn from_name(name: &str) -> Result<Format> {
        match name.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            other => Err(unsupported(&format!("the format `{other}`"), "use yaml or json")),
        }
    }
}

fn unsupported(what: &str, fix: &str) -> SopsError {
    SopsError::Unsupported {
        what: what.into(),
        fix: fix.into(),
    }
}

fn parse_documents(format: Format, text: &str) -> Result<Vec<Vec<Entry>>> {
    match format {
        Format::Yaml => yaml::parse(text),
        Format::Json => Ok(vec![json::parse(text)?]),
    }
}

fn emit_documents(format: Format, docs: &[Vec<Entry>]) -> String {
    match format {
        Format::Yaml => yaml::emit(docs),
        Format::Json => json::emit(docs.first().map_or(&[][..], Vec::as_slice)),
    }
}

/// A plaintext document (or YAML stream of documents). Zeroed on drop; `Debug`
/// shows keys and kinds only.
#[derive(Clone, PartialEq)]
pub struct PlainDocument {
    format: Format,
    docs: Vec<Vec<Entry>>,
}

impl Drop for PlainDocument {
    fn drop(&mut self) {
        for doc in &mut self.docs {
            doc.iter_mut().for_each(Zeroize::zeroize);
        }
    }
}

impl fmt::Debug for PlainDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainDocument")
            .field("format", &self.format)
            .field("docs", &self.docs)
            .finish()
    }
}

impl PlainDocument {
    /// Parses plaintext YAML or JSON.
    pub fn parse(format: Format, text: &str) -> Result<Self> {
        Ok(Self {
            format,
            docs: parse_documents(format, text)?,
        })
    }

    /// A document from root maps (one per YAML document; JSON has one).
    pub fn from_documents(format: Format, docs: Vec<Vec<Entry>>) -> Self {
        Self { format, docs }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The root map of each document.
    pub fn documents(&self) -> &[Vec<Entry>] {
        &self.docs
    }

    /// The document as text in its format (zeroed when dropped).
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(emit_documents(self.format, &self.docs))
    }

    /// The value at a path in the first document (`--extract`).
    pub fn extract(&self, path: &[PathSegment]) -> Option<&Value> {
        lookup(self.docs.first()?, path)
    }

    /// The value at a path as sops's `--extract` prints it: a string as it is, any
    /// other value in the document's format followed by a newline.
    pub fn extract_text(&self, path: &[PathSegment]) -> Option<Zeroizing<String>> {
        Some(Zeroizing::new(match self.extract(path)? {
            Value::Str(s) => s.clone(),
            other => match self.format {
                Format::Yaml => yaml::emit_value(other),
                Format::Json => json::emit_value_text(other),
            },
        }))
    }
}

/// What to encrypt to, and how.
#[derive(Debug, Clone)]
pub struct EncryptOptions {
    pub recipients: Vec<AgeRecipient>,
    pub rules: EncryptionRules,
}

/// An encrypted SOPS file: its documents (keys in the clear, values `ENC[...]`)
/// and its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct EncryptedFile {
    format: Format,
    docs: Vec<Vec<Entry>>,
    metadata: Metadata,
}

/// `lastmodified` as sops writes it: RFC 3339 in UTC, whole seconds.
fn last_modified(now: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(now.as_second()).unwrap_or(now).to_string()
}

fn fill(rng: &mut impl CryptoRng) -> impl FnMut(&mut [u8]) + '_ {
    move |buf: &mut [u8]| rng.fill_bytes(buf)
}

/// Encrypts a plaintext to age recipients under a fresh data key.
pub fn encrypt(
    plain: &PlainDocument,
    options: &EncryptOptions,
    now: jiff::Timestamp,
    rng: &mut impl CryptoRng,
) -> Result<EncryptedFile> {
    if plain.docs.first().is_some_and(|d| map_get(d, "sops").is_some()) {
        return Err(SopsError::AlreadyEncrypted);
    }
    options.rules.selection.validate()?;
    let mut random = fill(rng);
    let key = DataKey::generate(&mut random);
    let group = keys::age_group(&options.recipients, &key)?;
    let metadata = Metadata {
        key_groups: vec![group],
        grouped: false,
        shamir_threshold: None,
        last_modified: String::new(),
        mac: String::new(),
        version: SOPS_VERSION.into(),
        rules: options.rules.clone(),
        unknown: Vec::new(),
    };
    seal(plain, &key, metadata, &Stash::default(), now, &mut random)
}

/// Encrypts `plain` under `key` with `metadata`'s rules and key groups; a new MAC
/// and `lastmodified`.
fn seal(
    plain: &PlainDocument,
    key: &DataKey,
    mut metadata: Metadata,
    stash: &Stash,
    now: jiff::Timestamp,
    rng: &mut dyn FnMut(&mut [u8]),
) -> Result<EncryptedFile> {
    let (docs, mac) = walk::encrypt(&plain.docs, key, &metadata.rules, stash, rng)?;
    metadata.last_modified = last_modified(now);
    let mac = Plain {
        kind: "str",
        bytes: Zeroizing::new(mac.into_bytes()),
    };
    metadata.mac = cipher::encrypt(key, &mac, &metadata.last_modified, &Stash::default(), rng);
    Ok(EncryptedFile {
        format: plain.format,
        docs,
        metadata,
    })
}

impl EncryptedFile {
    /// Parses an encrypted file; fails when it has no `sops` metadata.
    pub fn parse(format: Format, text: &str) -> Result<Self> {
        let mut docs = parse_documents(format, text)?;
        let metadata_value = docs
            .first()
            .and_then(|d| map_get(d, "sops"))
            .cloned()
            .ok_or(SopsError::NotEncrypted)?;
        let metadata = Metadata::from_value(&metadata_value)?;
        for doc in &mut docs {
            doc.retain(|e| !matches!(e, Entry::Pair(k, _) if k == "sops"));
        }
        Ok(Self { format, docs, metadata })
    }

    /// The file as sops writes it: the `sops` block in every YAML document.
    pub fn to_text(&self) -> String {
        let meta = self.metadata.to_value();
        let docs: Vec<Vec<Entry>> = self
            .docs
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.push(Entry::Pair("sops".into(), meta.clone()));
                d
            })
            .collect();
        emit_documents(self.format, &docs)
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The encrypted documents: key names in the clear, values `ENC[...]`. Enough to
    /// check which keys a file has without any private key.
    pub fn documents(&self) -> &[Vec<Entry>] {
        &self.docs
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Whether `keys` open the data key (no value is decrypted).
    pub fn check_keys(&self, keys: &Keyring) -> Result<()> {
        keys::open_data_key(&self.metadata, keys).map(|_| ())
    }

    /// Opens the file: data key, every value, the MAC verified.
    pub fn open(&self, keys: &Keyring) -> Result<Opened> {
        let key = keys::open_data_key(&self.metadata, keys)?;
        self.open_with(key)
    }

    fn open_with(&self, key: DataKey) -> Result<Opened> {
        let (docs, computed, stash) = walk::decrypt(&self.docs, &key, &self.metadata.rules)?;
        let plaintext = PlainDocument {
            format: self.format,
            docs,
        };
        let stored = match cipher::decrypt(&key, &self.metadata.mac, &self.metadata.last_modified) {
            Ok((Decrypted::Value(Value::Str(mac)), _, _)) => Zeroizing::new(mac),
            _ => return Err(SopsError::MacTampered),
        };
        if stored.as_str() != computed {
            return Err(SopsError::MacMismatch);
        }
        Ok(Opened {
            plaintext,
            key,
            stash,
            source: self.clone(),
        })
    }
}

/// An opened file: its plaintext, its data key and the IVs of its values.
pub struct Opened {
    plaintext: PlainDocument,
    key: DataKey,
    stash: Stash,
    source: EncryptedFile,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("plaintext", &self.plaintext)
            .finish_non_exhaustive()
    }
}

/// Recipient changes for [`Opened::rotate`].
#[derive(Debug, Clone, Default)]
pub struct Rotation {
    pub add_age: Vec<AgeRecipient>,
    /// `age1...` recipients to remove.
    pub remove_age: Vec<String>,
}

/// A rotated file, and the master keys that could not follow the new data key.
#[derive(Debug)]
pub struct Rotated {
    pub file: EncryptedFile,
    /// `kind: id` of every PGP/KMS/Vault/... entry dropped: windlass encrypts only to age.
    pub dropped: Vec<String>,
    /// Removals that matched no recipient of the file.
    pub not_found: Vec<String>,
}

impl Opened {
    pub fn plaintext(&self) -> &PlainDocument {
        &self.plaintext
    }

    /// Whether `edited` holds exactly the opened plaintext (then nothing needs writing).
    pub fn is_unchanged(&self, edited: &PlainDocument) -> bool {
        edited.docs == self.plaintext.docs
    }

    /// Re-encrypts an edited plaintext with the same data key and recipients: values
    /// whose path and plaintext are unchanged keep their ciphertext, changed ones get
    /// fresh IVs; new MAC and `lastmodified`. Every master key entry stays valid.
    pub fn reencrypt(
        &self,
        edited: &PlainDocument,
        now: jiff::Timestamp,
        rng: &mut impl CryptoRng,
    ) -> Result<EncryptedFile> {
        if edited.docs.first().is_some_and(|d| map_get(d, "sops").is_some()) {
            return Err(SopsError::Shape {
                problem: "the edited document has a top-level `sops` key, which is reserved for the metadata".into(),
                fix: "rename that key".into(),
            });
        }
        let mut random = fill(rng);
        let mut file = seal(
            edited,
            &self.key,
            self.source.metadata.clone(),
            &self.stash,
            now,
            &mut random,
        )?;
        file.format = self.source.format;
        Ok(file)
    }

    /// A new data key, every value re-encrypted with fresh IVs, age recipients kept,
    /// added or removed. PGP and cloud KMS entries cannot be re-encrypted by windlass
    /// and are dropped (listed in [`Rotated::dropped`]).
    pub fn rotate(&self, change: &Rotation, now: jiff::Timestamp, rng: &mut impl CryptoRng) -> Result<Rotated> {
        let old = self.source.metadata.key_groups.first().cloned().unwrap_or_default();
        let mut recipients = Vec::new();
        let mut not_found: Vec<String> = change
            .remove_age
            .iter()
            .filter(|r| !old.age.iter().any(|a| &a.recipient == *r))
            .cloned()
            .collect();
        for entry in &old.age {
            if change.remove_age.iter().any(|r| r == &entry.recipient) {
                continue;
            }
            recipients.push(AgeRecipient::parse(&entry.recipient)?);
        }
        recipients.extend(change.add_age.iter().cloned());
        not_found.dedup();
        let dropped = KeyGroup { age: Vec::new(), ..old }.describe();
        let mut random = fill(rng);
        let key = DataKey::generate(&mut random);
        let group = keys::age_group(&recipients, &key)?;
        let metadata = Metadata {
            key_groups: vec![group],
            grouped: false,
            shamir_threshold: None,
            version: SOPS_VERSION.into(),
            ..self.source.metadata.clone()
        };
        let file = seal(&self.plaintext, &key, metadata, &Stash::default(), now, &mut random)?;
        Ok(Rotated {
            file,
            dropped,
            not_found,
        })
    }
}

#[cfg(test)]
mod tests {
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::tree::{ListItem, PathSegment};
    use crate::walk::Selection;

    const PLAIN: &str = "\
# who may log in
user: admin # the default
password: hunter2
port: 5432
ratio: 0.75
enabled: true
since: 2024-01-01
empty: \"\"
none: null
nested:
    # keep this
    list:
        - a
        # between
        - 2
        - k: v
    note_unencrypted: visible
";

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_764_584_000).expect("valid")
    }

    fn identity() -> (Keyring, AgeRecipient) {
        let id = age::x25519::Identity::generate();
        let mut keys = Keyring::new();
        keys.add_age_identities("test", id.to_string().expose_secret())
            .expect("identity");
        let recipient = AgeRecipient::parse(&id.to_public().to_string()).expect("recipient");
        (keys, recipient)
    }

    use age::secrecy::ExposeSecret;

    fn encrypted(rules: EncryptionRules, seed: u64) -> (Keyring, EncryptedFile) {
        let (keys, recipient) = identity();
        let plain = PlainDocument::parse(Format::Yaml, PLAIN).expect("plain");
        let options = EncryptOptions {
            recipients: vec![recipient],
            rules,
        };
        let file = encrypt(&plain, &options, now(), &mut ChaCha20Rng::seed_from_u64(seed)).expect("encrypts");
        (keys, file)
    }

    fn reparse(file: &EncryptedFile) -> EncryptedFile {
        EncryptedFile::parse(file.format(), &file.to_text()).expect("reparses")
    }

    #[test]
    fn encrypt_then_open_gives_the_plaintext_back_with_types_and_comments() {
        let (keys, file) = encrypted(EncryptionRules::default(), 1);
        let text = file.to_text();
        assert!(
            !text.contains("hunter2") && !text.contains("admin") && !text.contains("who may"),
            "{text}"
        );
        assert!(text.contains("note_unencrypted: visible"), "{text}");
        for tag in [
            "type:str]",
            "type:int]",
            "type:float]",
            "type:bool]",
            "type:time]",
            "type:comment]",
        ] {
            assert!(text.contains(tag), "{tag} in {text}");
        }
        assert!(text.contains("lastmodified: \"2025-12-01T10:13:20Z\""), "{text}");
        let opened = reparse(&file).open(&keys).expect("opens");
        assert_eq!(
            opened.plaintext().to_text().as_str(),
            PLAIN.replace("since: 2024-01-01", "since: 2024-01-01T00:00:00Z")
        );
        let port = opened.plaintext().extract(&[PathSegment::Key("port".into())]);
        assert_eq!(port, Some(&Value::Int(5432)));
        let text = |path: &str| {
            let path = crate::tree::parse_extract_path(path).expect("path");
            opened.plaintext().extract_text(&path).map(|t| t.to_string())
        };
        assert_eq!(text(r#"["password"]"#).as_deref(), Some("hunter2"));
        assert_eq!(text(r#"["port"]"#).as_deref(), Some("5432\n"));
        assert_eq!(text(r#"["nested"]["list"][2]"#).as_deref(), Some("k: v\n"));
        assert_eq!(
            text(r#"["nested"]["list"]"#).as_deref(),
            Some("- a\n# between\n- 2\n- k: v\n")
        );
        assert_eq!(text(r#"["nope"]"#), None);
    }

    #[test]
    fn the_same_seed_and_time_give_the_same_values_and_mac() {
        let (_, a) = encrypted(EncryptionRules::default(), 7);
        let (_, b) = encrypted(EncryptionRules::default(), 7);
        assert_eq!(a.documents(), b.documents());
        assert_eq!(a.metadata().mac, b.metadata().mac);
        let (_, c) = encrypted(EncryptionRules::default(), 8);
        assert_ne!(a.documents(), c.documents());
    }

    #[test]
    fn an_edit_keeps_the_ciphertext_of_unchanged_values_only() {
        let (keys, file) = encrypted(EncryptionRules::default(), 2);
        let opened = file.open(&keys).expect("opens");
        let edited = PlainDocument::parse(Format::Yaml, &PLAIN.replace("hunter2", "hunter3")).expect("edited");
        assert!(!opened.is_unchanged(&edited));
        assert!(opened.is_unchanged(&PlainDocument::parse(Format::Yaml, PLAIN).expect("same")));
        let later = now().checked_add(jiff::SignedDuration::from_secs(60)).expect("time");
        let again = opened
            .reencrypt(&edited, later, &mut ChaCha20Rng::seed_from_u64(99))
            .expect("re-encrypts");
        let before_text = file.to_text();
        let before: Vec<&str> = before_text.lines().map(str::trim).collect();
        let after_text = again.to_text();
        let changed: Vec<&str> = after_text.lines().filter(|l| !before.contains(&l.trim())).collect();
        assert!(changed.iter().any(|l| l.starts_with("password: ENC[")), "{changed:?}");
        assert!(
            changed
                .iter()
                .all(|l| l.starts_with("password:") || l.contains("lastmodified") || l.contains("mac:")),
            "{changed:?}"
        );
        assert_eq!(
            again.metadata().key_groups,
            file.metadata().key_groups,
            "the data key entries stay"
        );
        let reopened = reparse(&again).open(&keys).expect("opens after edit");
        assert_eq!(reopened.plaintext(), &edited);
    }

    #[test]
    fn a_tampered_value_or_mac_is_refused_and_names_what_failed() {
        let (keys, file) = encrypted(EncryptionRules::default(), 3);
        let text = file.to_text();
        let line = text.lines().find(|l| l.starts_with("password: ")).expect("line");
        // Another value's ciphertext moved here: it does not authenticate under this path.
        let port = text.lines().find(|l| l.starts_with("port: ")).expect("port");
        let swapped = text.replace(line, &format!("password: {}", &port["port: ".len()..]));
        let err = EncryptedFile::parse(Format::Yaml, &swapped)
            .expect("parses")
            .open(&keys)
            .expect_err("refused");
        assert!(
            matches!(&err, SopsError::ValueTampered { path } if path == "[\"password\"]"),
            "{err}"
        );
        // A removed value leaves every remaining value intact but breaks the MAC.
        let removed = text.replace(&format!("{line}\n"), "");
        let err = EncryptedFile::parse(Format::Yaml, &removed)
            .expect("parses")
            .open(&keys)
            .expect_err("refused");
        assert!(matches!(err, SopsError::MacMismatch), "{err}");
        // A changed lastmodified no longer authenticates the MAC.
        let touched = text.replace("2025-12-01T10:13:20Z", "2025-12-01T10:13:21Z");
        let err = EncryptedFile::parse(Format::Yaml, &touched)
            .expect("parses")
            .open(&keys)
            .expect_err("refused");
        assert!(matches!(err, SopsError::MacTampered), "{err}");
        // A plain value added by hand where values are encrypted.
        let added = text.replace("port: ", "extra: 5\nport: ");
        let err = EncryptedFile::parse(Format::Yaml, &added)
            .expect("parses")
            .open(&keys)
            .expect_err("refused");
        assert!(matches!(err, SopsError::PlainValue { .. }), "{err}");
        for e in [err.to_string(), format!("{err:?}")] {
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn a_foreign_key_cannot_open_and_the_error_says_who_can() {
        let (_, file) = encrypted(EncryptionRules::default(), 4);
        let (other, _) = identity();
        let err = file.open(&other).expect_err("wrong key");
        let recipient = &file.metadata().key_groups[0].age[0].recipient;
        assert!(
            matches!(&err, SopsError::NoKeyOpens { recipients, .. } if recipients.contains(recipient.as_str())),
            "{err}"
        );
        assert!(file.check_keys(&other).is_err());
    }

    #[test]
    fn rotation_changes_the_data_key_and_recipients() {
        let (keys, file) = encrypted(EncryptionRules::default(), 5);
        let (new_keys, new_recipient) = identity();
        let old_recipient = file.metadata().key_groups[0].age[0].recipient.clone();
        let opened = file.open(&keys).expect("opens");
        let rotated = opened
            .rotate(
                &Rotation {
                    add_age: vec![new_recipient.clone()],
                    remove_age: vec![old_recipient, "age1notthere".into()],
                },
                now(),
                &mut ChaCha20Rng::seed_from_u64(6),
            )
            .expect("rotates");
        assert_eq!(rotated.not_found, ["age1notthere"]);
        assert!(rotated.dropped.is_empty());
        let file2 = reparse(&rotated.file);
        assert!(
            file2.open(&keys).is_err(),
            "the removed recipient can no longer open it"
        );
        let reopened = file2.open(&new_keys).expect("the new recipient opens it");
        assert_eq!(reopened.plaintext(), opened.plaintext());
        // Every value has a new ciphertext.
        let old = file.to_text();
        assert!(!file2.to_text().lines().any(|l| l.contains("ENC[") && old.contains(l)));
    }

    #[test]
    fn master_keys_windlass_does_not_use_are_kept_on_edit_and_reported_on_rotate() {
        let (keys, file) = encrypted(EncryptionRules::default(), 12);
        let kms = "    kms:\n        - arn: arn:aws:kms:eu-west-1:111122223333:key/abc\n          created_at: \"2025-01-01T00:00:00Z\"\n          enc: AQICAHh\n          aws_profile: \"\"\n";
        let text = file
            .to_text()
            .replace("    lastmodified:", &format!("{kms}    lastmodified:"));
        let file = EncryptedFile::parse(Format::Yaml, &text).expect("parses");
        assert_eq!(file.metadata().key_groups[0].other.len(), 1);
        let opened = file.open(&keys).expect("opens");
        let edited = PlainDocument::parse(Format::Yaml, &PLAIN.replace("5432", "5433")).expect("edited");
        let again = opened
            .reencrypt(&edited, now(), &mut ChaCha20Rng::seed_from_u64(13))
            .expect("re-encrypts");
        assert!(
            again
                .to_text()
                .contains("arn: arn:aws:kms:eu-west-1:111122223333:key/abc"),
            "{}",
            again.to_text()
        );
        let rotated = opened
            .rotate(&Rotation::default(), now(), &mut ChaCha20Rng::seed_from_u64(14))
            .expect("rotates");
        assert_eq!(rotated.dropped, ["kms: arn:aws:kms:eu-west-1:111122223333:key/abc"]);
        assert!(!rotated.file.to_text().contains("kms:"));
        assert!(reparse(&rotated.file).open(&keys).is_ok());
    }

    #[test]
    fn encrypted_regex_and_mac_only_encrypted_select_and_authenticate() {
        let rules = EncryptionRules {
            selection: Selection::EncryptedRegex("^(password|list)$".into()),
            mac_only_encrypted: true,
        };
        let (keys, file) = encrypted(rules, 9);
        let text = file.to_text();
        assert!(
            text.contains("user: admin")
                && !text.contains("hunter2")
                && text.contains("encrypted_regex: ^(password|list)$"),
            "{text}"
        );
        assert!(text.contains("mac_only_encrypted: true"), "{text}");
        // A plain value may change without breaking a MAC over encrypted values only.
        let changed = text.replace("user: admin", "user: root");
        let opened = EncryptedFile::parse(Format::Yaml, &changed)
            .expect("parses")
            .open(&keys)
            .expect("opens");
        let Some(Value::List(items)) = opened
            .plaintext()
            .extract(&[PathSegment::Key("nested".into()), PathSegment::Key("list".into())])
        else {
            panic!("list")
        };
        assert!(matches!(items[1], ListItem::Comment(_)), "{items:?}");
    }

    #[test]
    fn json_and_multi_document_yaml_round_trip() {
        let (keys, recipient) = identity();
        let options = EncryptOptions {
            recipients: vec![recipient],
            rules: EncryptionRules::default(),
        };
        let json =
            PlainDocument::parse(Format::Json, r#"{"b": 1, "a": {"c": [1, 2.5, true, "x"]}, "e": ""}"#).expect("json");
        let file = encrypt(&json, &options, now(), &mut ChaCha20Rng::seed_from_u64(10)).expect("encrypts");
        assert!(
            file.to_text().starts_with("{\n\t\"b\": \"ENC[AES256_GCM,"),
            "{}",
            file.to_text()
        );
        assert_eq!(reparse(&file).open(&keys).expect("opens").plaintext(), &json);
        let multi = PlainDocument::parse(Format::Yaml, "a: 1\n---\nb: two\n").expect("yaml");
        let file = encrypt(&multi, &options, now(), &mut ChaCha20Rng::seed_from_u64(11)).expect("encrypts");
        assert_eq!(
            file.to_text().matches("\nsops:\n").count(),
            2,
            "metadata in every document, as sops writes it"
        );
        assert_eq!(reparse(&file).open(&keys).expect("opens").plaintext(), &multi);
    }

    /// A value with every comment marked own-line.
    fn flatten(v: &Value) -> Value {
        match v {
            Value::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|e| match e {
                        Entry::Pair(k, v) => Entry::Pair(k.clone(), flatten(v)),
                        Entry::Comment(c) => Entry::Comment(crate::tree::Comment {
                            text: c.text.clone(),
                            inline: false,
                        }),
                    })
                    .collect(),
            ),
            Value::List(items) => Value::List(
                items
                    .iter()
                    .map(|i| match i {
                        ListItem::Value(v) => ListItem::Value(flatten(v)),
                        ListItem::Comment(c) => ListItem::Comment(crate::tree::Comment {
                            text: c.text.clone(),
                            inline: false,
                        }),
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        use rand_core::Rng;
        let pieces = [
            "a",
            ": ",
            "\n",
            "  ",
            "- ",
            "#",
            "'",
            "\"",
            "[",
            "]",
            "{",
            "}",
            ",",
            "&x ",
            "*x",
            "|",
            ">",
            "---\n",
            "!!binary ",
            "0x1",
            "2024-01-01",
            "sops",
            "ENC[AES256_GCM,data:",
            ",iv:",
            ",tag:",
            ",type:int]",
            "\u{3000}",
            "é",
            "\t",
            "?",
            "1e9",
            ".inf",
            "null",
        ];
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let mut parsed = 0;
        for _ in 0..20_000 {
            let n = 1 + (rng.next_u32() % 24) as usize;
            let text: String = (0..n)
                .map(|_| pieces[(rng.next_u32() as usize) % pieces.len()])
                .collect();
            for format in [Format::Yaml, Format::Json] {
                if let Ok(doc) = PlainDocument::parse(format, &text) {
                    parsed += 1;
                    let again = doc.to_text();
                    let reparsed = PlainDocument::parse(format, &again);
                    if format == Format::Yaml {
                        // Data and comments survive; whether a comment ended a line may not.
                        let flat = |d: &PlainDocument| {
                            d.documents()
                                .iter()
                                .map(|e| flatten(&Value::Map(e.clone())))
                                .collect::<Vec<_>>()
                        };
                        let reparsed = reparsed.unwrap_or_else(|e| panic!("{text:?} -> {:?}: {e}", again.as_str()));
                        assert_eq!(flat(&reparsed), flat(&doc), "{text:?} -> {:?}", again.as_str());
                    }
                }
                let _ = EncryptedFile::parse(format, &text);
            }
            let _ = crate::tree::parse_extract_path(&text);
        }
        assert!(
            parsed > 1_000,
            "only {parsed} inputs parsed: the generator exercises too little"
        );
    }

    #[test]
    fn what_is_not_supported_says_so() {
        for (path, what) in [("x.env", "dotenv"), ("x.ini", "INI"), ("secret.bin", "binary")] {
            let err = Format::from_path(path).expect_err(path);
            assert!(err.to_string().contains(what), "{err}");
        }
        let plain = PlainDocument::parse(Format::Yaml, "a: 1\nsops: {}\n").expect("parses");
        let (_, recipient) = identity();
        let options = EncryptOptions {
            recipients: vec![recipient],
            rules: EncryptionRules::default(),
        };
        let err = encrypt(&plain, &options, now(), &mut ChaCha20Rng::seed_from_u64(1)).expect_err("already");
        assert!(matches!(err, SopsError::AlreadyEncrypted));
        assert!(
            AgeRecipient::parse("ssh-ed25519 AAAA")
                .expect_err("ssh")
                .to_string()
                .contains("SSH")
        );
        assert!(
            AgeRecipient::parse("age1pq1xyz")
                .expect_err("pq")
                .to_string()
                .contains("post-quantum")
        );
        let mut keys = Keyring::new();
        let plugin = "AGE-PLUGIN-YUBIKEY-1QQQQQQ";
        let err = keys.add_age_identities("f", plugin).expect_err("only a plugin key");
        assert!(err.to_string().contains("plugin"), "{err}");
        let id = age::x25519::Identity::generate();
        let both = format!("{plugin}\n{}\n", id.to_string().expose_secret());
        assert_eq!(keys.add_age_identities("f", &both).expect("the X25519 key is used"), 1);
        assert!(!format!("{keys:?}").contains("AGE-SECRET-KEY"), "{keys:?}");
        let none = EncryptOptions {
            recipients: vec![],
            rules: EncryptionRules::default(),
        };
        assert!(matches!(
            encrypt(
                &PlainDocument::parse(Format::Yaml, "a: 1\n").expect("p"),
                &none,
                now(),
                &mut ChaCha20Rng::seed_from_u64(1)
            ),
            Err(SopsError::NoRecipients)
        ));
    }
}
