//! Master keys: the data key encrypted to age X25519 recipients (armored, as sops
//! writes it) and opened with age identities; OpenPGP entries opened with a secret
//! key so files from a GPG setup can be moved to age. Encrypting to OpenPGP is not
//! offered.

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

use pgp::composed::{Deserializable, Message, SignedSecretKey};
use pgp::types::{KeyDetails, Password};
use zeroize::Zeroizing;

use crate::cipher::DataKey;
use crate::error::{Result, SopsError};
use crate::metadata::{AgeEntry, KeyGroup, Metadata};

/// An age X25519 recipient (`age1...`).
#[derive(Clone, PartialEq, Eq)]
pub struct AgeRecipient {
    text: String,
    parsed: age::x25519::Recipient,
}

impl AgeRecipient {
    /// Parses one `age1...` recipient. SSH and plugin recipients are refused.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let fail = |reason: &str| SopsError::Recipient {
            recipient: text.to_string(),
            reason: reason.into(),
        };
        if text.starts_with("ssh-") || text.starts_with("ecdsa-") {
            return Err(fail(
                "SSH recipients are not supported by windlass; use an age X25519 key",
            ));
        }
        if text.starts_with("age1pq1") {
            return Err(fail(
                "post-quantum hybrid recipients are not supported by windlass; use an age X25519 key",
            ));
        }
        if text.starts_with("age1") && text.matches('1').count() > 1 && !text.starts_with("age1pq") {
            // Plugin recipients are `age1<plugin>1...`; X25519 ones have a single `1`.
            if age::x25519::Recipient::from_str(text).is_err() {
                return Err(fail(
                    "age plugin recipients are not supported by windlass; use an age X25519 key",
                ));
            }
        }
        let parsed = age::x25519::Recipient::from_str(text).map_err(fail)?;
        Ok(Self {
            text: text.to_string(),
            parsed,
        })
    }

    /// Parses a list separated by commas and newlines, as `.sops.yaml` and `--age` take it.
    pub fn parse_list(text: &str) -> Result<Vec<Self>> {
        text.split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Self::parse)
            .collect()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An OpenPGP secret key able to open `pgp` entries.
struct PgpKey {
    key: SignedSecretKey,
    fingerprint: String,
    password: Zeroizing<String>,
}

/// The private keys available to open files: age identities and OpenPGP secret keys.
/// `Debug` shows public parts only.
#[derive(Default)]
pub struct Keyring {
    age: Vec<age::x25519::Identity>,
    pgp: Vec<PgpKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("age", &self.age_recipients())
            .field("pgp", &self.pgp_fingerprints())
            .finish()
    }
}

impl Keyring {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the age identities of a keys file or variable (`AGE-SECRET-KEY-1...`
    /// lines; `#` comments and blank lines skipped; several keys on one line allowed,
    /// as sops allows for `SOPS_AGE_KEY`). Plugin and post-quantum identities are
    /// skipped while the source holds an X25519 one, and refused when it holds none.
    /// Returns how many were added.
    pub fn add_age_identities(&mut self, source_name: &str, text: &str) -> Result<usize> {
        let mut added = 0;
        let mut unsupported = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            for word in line.split_whitespace() {
                let fail = |reason: &str| SopsError::Identity {
                    source_name: source_name.to_string(),
                    line: n + 1,
                    reason: reason.to_string(),
                };
                if word.starts_with("AGE-PLUGIN-") || word.starts_with("AGE-SECRET-KEY-PQ-") {
                    unsupported.get_or_insert_with(|| {
                        fail("age plugin and post-quantum identities are not supported by windlass; use an X25519 key (age-keygen)")
                    });
                    continue;
                }
                let identity = age::x25519::Identity::from_str(word).map_err(|_| fail("not an age X25519 identity"))?;
                self.age.push(identity);
                added += 1;
            }
        }
        match unsupported {
            Some(err) if added == 0 => Err(err),
            _ => Ok(added),
        }
    }

    /// Adds the OpenPGP secret key(s) of an armored export (`gpg --export-secret-keys
    /// --armor FPR`), unlocked with `passphrase` ("" for none). Returns their fingerprints.
    pub fn add_pgp_secret_keys(&mut self, armored: &str, passphrase: &str) -> Result<Vec<String>> {
        let fail = |problem: String| SopsError::Pgp {
            problem,
            fix: "export the key with `gpg --export-secret-keys --armor FINGERPRINT > key.asc`".into(),
        };
        let (keys, _) =
            SignedSecretKey::from_string_many(armored).map_err(|e| fail(format!("cannot read the secret key: {e}")))?;
        let mut added = Vec::new();
        for key in keys {
            let key = key.map_err(|e| fail(format!("cannot read the secret key: {e}")))?;
            let fingerprint = format!("{:X}", key.fingerprint());
            added.push(fingerprint.clone());
            self.pgp.push(PgpKey {
                key,
                fingerprint,
                password: Zeroizing::new(passphrase.to_string()),
            });
        }
        if added.is_empty() {
            return Err(fail("the file holds no secret key".into()));
        }
        Ok(added)
    }

    /// The recipients of the age identities (public, safe to show).
    pub fn age_recipients(&self) -> Vec<String> {
        self.age.iter().map(|i| i.to_public().to_string()).collect()
    }

    /// The fingerprints of the OpenPGP keys (public, safe to show).
    pub fn pgp_fingerprints(&self) -> Vec<String> {
        self.pgp.iter().map(|k| k.fingerprint.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.age.is_empty() && self.pgp.is_empty()
    }

    fn open_age(&self, entry: &AgeEntry) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        if self.age.is_empty() {
            return Err("no age identity loaded".into());
        }
        let reader = age::armor::ArmoredReader::new(entry.enc.as_bytes());
        let decryptor = age::Decryptor::new(reader).map_err(|e| e.to_string())?;
        let mut stream = decryptor
            .decrypt(self.age.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| e.to_string())?;
        let mut out = Zeroizing::new(Vec::new());
        stream.read_to_end(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    fn open_pgp(&self, enc: &str) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        if self.pgp.is_empty() {
            return Err("no OpenPGP secret key loaded".into());
        }
        let mut last = String::new();
        for key in &self.pgp {
            let (message, _) = Message::from_string(enc).map_err(|e| e.to_string())?;
            let password = Password::from(key.password.as_str());
            match message.decrypt(&password, &key.key) {
                Ok(mut message) => {
                    if message.is_compressed() {
                        message = message.decompress().map_err(|e| e.to_string())?;
                    }
                    let data = message.as_data_vec().map_err(|e| e.to_string())?;
                    return Ok(Zeroizing::new(data));
                }
                Err(e) => last = format!("{}: {e}", key.fingerprint),
            }
        }
        Err(last)
    }
}

/// Opens a file's data key with the local keys: age entries first, then PGP (sops's order).
pub(crate) fn open_data_key(metadata: &Metadata, keys: &Keyring) -> Result<DataKey> {
    if metadata.key_groups.len() > 1 {
        return Err(SopsError::Unsupported {
            what: format!(
                "a file split over {} key groups (Shamir's secret sharing)",
                metadata.key_groups.len()
            ),
            fix: "open it with `sops`, or re-create it with one key group".into(),
        });
    }
    let group = metadata.key_groups.first().cloned().unwrap_or_default();
    let mut tried = Vec::new();
    for entry in &group.age {
        match keys.open_age(entry) {
            Ok(bytes) => {
                return DataKey::from_bytes(&bytes).ok_or_else(|| {
                    SopsError::DataKey(format!("the age entry for {} does not hold 32 bytes", entry.recipient))
                });
            }
            Err(e) => tried.push(format!("age {}: {e}", entry.recipient)),
        }
    }
    for entry in &group.pgp {
        match keys.open_pgp(&entry.enc) {
            Ok(bytes) => {
                return DataKey::from_bytes(&bytes).ok_or_else(|| {
                    SopsError::DataKey(format!(
                        "the pgp entry for {} does not hold 32 bytes",
                        entry.fingerprint
                    ))
                });
            }
            Err(e) => tried.push(format!("pgp {}: {e}", entry.fingerprint)),
        }
    }
    let described = group.describe();
    Err(SopsError::NoKeyOpens {
        recipients: if described.is_empty() {
            "no key".into()
        } else {
            described.join(", ")
        },
        tried: if tried.is_empty() {
            "nothing (the file has no age or pgp entry)".into()
        } else {
            tried.join("; ")
        },
        fix: if keys.is_empty() {
            "no private key was found: set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY, SOPS_AGE_KEY_CMD) or put your key in the sops age keys file".into()
        } else {
            format!(
                "ask someone who can open it to add your recipient ({}) with `windlass secrets rotate --add-age`",
                keys.age_recipients().join(", ")
            )
        },
    })
}

/// Encrypts the data key to one age recipient, armored.
pub(crate) fn seal_age(recipient: &AgeRecipient, key: &DataKey) -> Result<AgeEntry> {
    let fail = |e: &dyn fmt::Display| SopsError::Age {
        action: "encrypt the data key",
        reason: e.to_string(),
    };
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient.parsed as &dyn age::Recipient))
        .map_err(|e| fail(&e))?;
    let mut out = Vec::new();
    {
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).map_err(|e| fail(&e))?;
        let mut writer = encryptor.wrap_output(armor).map_err(|e| fail(&e))?;
        writer.write_all(key.as_bytes()).map_err(|e| fail(&e))?;
        writer.finish().and_then(|armor| armor.finish()).map_err(|e| fail(&e))?;
    }
    let mut enc = String::from_utf8(out).map_err(|e| fail(&e))?;
    if !enc.ends_with('\n') {
        enc.push('\n');
    }
    Ok(AgeEntry {
        recipient: recipient.as_str().to_string(),
        enc,
    })
}

/// A group of fresh age entries for `recipients`.
pub(crate) fn age_group(recipients: &[AgeRecipient], key: &DataKey) -> Result<KeyGroup> {
    if recipients.is_empty() {
        return Err(SopsError::NoRecipients);
    }
    let mut seen = std::collections::HashSet::new();
    let age = recipients
        .iter()
        .filter(|r| seen.insert(r.as_str().to_string()))
        .map(|r| seal_age(r, key))
        .collect::<Result<Vec<_>>>()?;
    Ok(KeyGroup {
        age,
        ..KeyGroup::default()
    })
}
