//! The walk over a document that encrypts or decrypts every value, in sops's order,
//! deciding per value whether it is encrypted (suffix and regex rules over its key
//! path) and hashing the plaintexts into the MAC exactly as sops does: SHA-512 over
//! each non-comment value's bytes in walk order (only the encrypted ones with
//! `mac_only_encrypted`), nulls skipped, printed as upper-case hex.

use regex::Regex;
use sha2::{Digest, Sha512};

use crate::cipher::{self, DataKey, DecryptFailure, Decrypted, Plain, Stash};
use crate::error::{Result, SopsError};
use crate::tree::{Comment, Entry, ListItem, PathSegment, Value};

/// sops's fixed prefix of a MAC over encrypted values only (`sha256("sops")`), so
/// that such a MAC never equals a MAC over all values.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b,
    0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// Which values of a file are encrypted: at most one rule, as sops allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Values under a key ending in this suffix stay plain (sops's default: `_unencrypted`).
    UnencryptedSuffix(String),
    /// Only values under a key ending in this suffix are encrypted.
    EncryptedSuffix(String),
    /// Values under a key matching this regex stay plain.
    UnencryptedRegex(String),
    /// Only values under a key matching this regex are encrypted.
    EncryptedRegex(String),
}

impl Default for Selection {
    fn default() -> Self {
        Selection::UnencryptedSuffix("_unencrypted".into())
    }
}

impl Selection {
    /// The metadata field that records this rule.
    pub fn field(&self) -> &'static str {
        match self {
            Selection::UnencryptedSuffix(_) => "unencrypted_suffix",
            Selection::EncryptedSuffix(_) => "encrypted_suffix",
            Selection::UnencryptedRegex(_) => "unencrypted_regex",
            Selection::EncryptedRegex(_) => "encrypted_regex",
        }
    }

    pub fn pattern(&self) -> &str {
        match self {
            Selection::UnencryptedSuffix(s)
            | Selection::EncryptedSuffix(s)
            | Selection::UnencryptedRegex(s)
            | Selection::EncryptedRegex(s) => s,
        }
    }

    /// Checks a regex rule compiles (Rust's `regex` crate: RE2 syntax, see the crate docs).
    pub fn validate(&self) -> Result<()> {
        self.compiled().map(|_| ())
    }

    pub(crate) fn compiled(&self) -> Result<Matcher> {
        let regex = |p: &str| {
            Regex::new(p).map_err(|e| SopsError::Regex {
                field: self.field().into(),
                reason: e.to_string(),
            })
        };
        Ok(match self {
            Selection::UnencryptedSuffix(s) => Matcher::UnencryptedSuffix(s.clone()),
            Selection::EncryptedSuffix(s) => Matcher::EncryptedSuffix(s.clone()),
            Selection::UnencryptedRegex(p) => Matcher::UnencryptedRegex(regex(p)?),
            Selection::EncryptedRegex(p) => Matcher::EncryptedRegex(regex(p)?),
        })
    }
}

/// How a file decides and authenticates: its selection rule and whether the MAC
/// covers only encrypted values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionRules {
    pub selection: Selection,
    pub mac_only_encrypted: bool,
}

pub(crate) enum Matcher {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
}

impl Matcher {
    /// sops's `shouldBeEncrypted`: any key on the path decides.
    fn encrypts(&self, path: &[String]) -> bool {
        match self {
            Matcher::UnencryptedSuffix(s) => s.is_empty() || !path.iter().any(|k| k.ends_with(s.as_str())),
            Matcher::EncryptedSuffix(s) => path.iter().any(|k| k.ends_with(s.as_str())),
            Matcher::UnencryptedRegex(r) => !path.iter().any(|k| r.is_match(k)),
            Matcher::EncryptedRegex(r) => path.iter().any(|k| r.is_match(k)),
        }
    }
}

/// The additional data of a value: its key path joined with `:` and ended with `:`.
fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

fn display(path: &[PathSegment]) -> String {
    if path.is_empty() {
        return "the top level".into();
    }
    path.iter().map(ToString::to_string).collect()
}

struct Walk<'a> {
    key: &'a DataKey,
    matcher: Matcher,
    mac_only_encrypted: bool,
    hash: Sha512,
    keys: Vec<String>,
    shown: Vec<PathSegment>,
}

impl<'a> Walk<'a> {
    fn new(key: &'a DataKey, rules: &EncryptionRules) -> Result<Self> {
        let mut hash = Sha512::new();
        if rules.mac_only_encrypted {
            hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        Ok(Self {
            key,
            matcher: rules.selection.compiled()?,
            mac_only_encrypted: rules.mac_only_encrypted,
            hash,
            keys: Vec::new(),
            shown: Vec::new(),
        })
    }

    fn encrypted_here(&self) -> bool {
        self.matcher.encrypts(&self.keys)
    }

    fn hash_value(&mut self, encrypted: bool, value: &Value) {
        if (!self.mac_only_encrypted || encrypted)
            && let Some(plain) = Plain::of(value)
        {
            self.hash.update(&plain.bytes[..]);
        }
    }

    fn mac(self) -> String {
        hex::encode_upper(self.hash.finalize())
    }
}

/// Encrypts every document; returns the encrypted documents and the MAC.
pub(crate) fn encrypt(
    docs: &[Vec<Entry>],
    key: &DataKey,
    rules: &EncryptionRules,
    stash: &Stash,
    rng: &mut dyn FnMut(&mut [u8]),
) -> Result<(Vec<Vec<Entry>>, String)> {
    let mut walk = Walk::new(key, rules)?;
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        out.push(enc_map(&mut walk, doc, stash, rng));
    }
    Ok((out, walk.mac()))
}

fn enc_comment(walk: &Walk<'_>, c: &Comment, stash: &Stash, rng: &mut dyn FnMut(&mut [u8])) -> Option<String> {
    walk.encrypted_here()
        .then(|| cipher::encrypt(walk.key, &Plain::comment(&c.text), &aad(&walk.keys), stash, rng))
}

fn enc_map(walk: &mut Walk<'_>, entries: &[Entry], stash: &Stash, rng: &mut dyn FnMut(&mut [u8])) -> Vec<Entry> {
    entries
        .iter()
        .map(|entry| match entry {
            Entry::Comment(c) => Entry::Comment(match enc_comment(walk, c, stash, rng) {
                Some(text) => Comment { text, inline: c.inline },
                None => c.clone(),
            }),
            Entry::Pair(k, v) => {
                walk.keys.push(k.clone());
                let value = enc_value(walk, v, stash, rng);
                walk.keys.pop();
                Entry::Pair(k.clone(), value)
            }
        })
        .collect()
}

fn enc_value(walk: &mut Walk<'_>, value: &Value, stash: &Stash, rng: &mut dyn FnMut(&mut [u8])) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::Map(entries) => Value::Map(enc_map(walk, entries, stash, rng)),
        Value::List(items) => Value::List(
            items
                .iter()
                .map(|item| match item {
                    // sops stores an encrypted comment of a list as a list item.
                    ListItem::Comment(c) => match enc_comment(walk, c, stash, rng) {
                        Some(text) => ListItem::Value(Value::Str(text)),
                        None => ListItem::Comment(c.clone()),
                    },
                    ListItem::Value(v) => ListItem::Value(enc_value(walk, v, stash, rng)),
                })
                .collect(),
        ),
        scalar => {
            let encrypted = walk.encrypted_here();
            walk.hash_value(encrypted, scalar);
            match Plain::of(scalar) {
                Some(plain) if encrypted => Value::Str(cipher::encrypt(walk.key, &plain, &aad(&walk.keys), stash, rng)),
                _ => scalar.clone(),
            }
        }
    }
}

/// Decrypts every document; returns the plaintext documents, the MAC computed over
/// them, and the IVs of their values for a later re-encryption.
pub(crate) fn decrypt(
    docs: &[Vec<Entry>],
    key: &DataKey,
    rules: &EncryptionRules,
) -> Result<(Vec<Vec<Entry>>, String, Stash)> {
    let mut walk = Walk::new(key, rules)?;
    let mut stash = Stash::default();
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        out.push(dec_map(&mut walk, doc, &mut stash)?);
    }
    Ok((out, walk.mac(), stash))
}

/// A comment that sops encrypted, or the comment as it is: sops keeps comments it
/// cannot decrypt (written before sops encrypted comments). Where YAML tools place a
/// comment differs slightly, so every enclosing path is tried as additional data.
fn dec_comment(walk: &Walk<'_>, text: &str, stash: &mut Stash) -> Option<String> {
    if !walk.encrypted_here() || !text.starts_with("ENC[AES256_GCM,") {
        return None;
    }
    (0..=walk.keys.len()).rev().find_map(|n| {
        let aad = aad(&walk.keys[..n]);
        match cipher::decrypt(walk.key, text, &aad) {
            Ok((Decrypted::Comment(c), plain, iv)) => {
                stash.remember(&aad, &plain, iv);
                Some(c)
            }
            _ => None,
        }
    })
}

fn dec_map(walk: &mut Walk<'_>, entries: &[Entry], stash: &mut Stash) -> Result<Vec<Entry>> {
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        out.push(match entry {
            Entry::Comment(c) => Entry::Comment(Comment {
                text: dec_comment(walk, &c.text, stash).unwrap_or_else(|| c.text.clone()),
                inline: c.inline,
            }),
            Entry::Pair(k, v) => {
                walk.keys.push(k.clone());
                walk.shown.push(PathSegment::Key(k.clone()));
                let value = dec_value(walk, v, stash)?;
                walk.keys.pop();
                walk.shown.pop();
                Entry::Pair(k.clone(), value)
            }
        });
    }
    Ok(out)
}

fn dec_value(walk: &mut Walk<'_>, value: &Value, stash: &mut Stash) -> Result<Value> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::Map(entries) => Ok(Value::Map(dec_map(walk, entries, stash)?)),
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut index = 0;
            for item in items {
                match item {
                    ListItem::Comment(c) => out.push(ListItem::Comment(Comment {
                        text: dec_comment(walk, &c.text, stash).unwrap_or_else(|| c.text.clone()),
                        inline: c.inline,
                    })),
                    ListItem::Value(v) => {
                        walk.shown.push(PathSegment::Index(index));
                        let decrypted = dec_leaf_or_value(walk, v, stash)?;
                        walk.shown.pop();
                        match decrypted {
                            Decrypted::Comment(text) => out.push(ListItem::Comment(Comment { text, inline: false })),
                            Decrypted::Value(v) => {
                                index += 1;
                                out.push(ListItem::Value(v));
                            }
                        }
                    }
                }
            }
            Ok(Value::List(out))
        }
        scalar => match dec_leaf_or_value(walk, scalar, stash)? {
            Decrypted::Value(v) => Ok(v),
            // A comment where a map value should be: keep the ciphertext's type honest.
            Decrypted::Comment(_) => Err(SopsError::MalformedValue {
                path: display(&walk.shown),
                reason: "it is a comment where a value belongs".into(),
            }),
        },
    }
}

fn dec_leaf_or_value(walk: &mut Walk<'_>, value: &Value, stash: &mut Stash) -> Result<Decrypted> {
    if matches!(value, Value::Map(_) | Value::List(_) | Value::Null) {
        return dec_value(walk, value, stash).map(Decrypted::Value);
    }
    let encrypted = walk.encrypted_here();
    if !encrypted {
        walk.hash_value(false, value);
        return Ok(Decrypted::Value(value.clone()));
    }
    let Value::Str(text) = value else {
        return Err(SopsError::PlainValue {
            path: display(&walk.shown),
            kind: value.kind(),
        });
    };
    if text.is_empty() {
        return Ok(Decrypted::Value(Value::Str(String::new())));
    }
    let aad = aad(&walk.keys);
    match cipher::decrypt(walk.key, text, &aad) {
        Ok((decrypted, plain, iv)) => {
            stash.remember(&aad, &plain, iv);
            if let Decrypted::Value(v) = &decrypted {
                walk.hash_value(true, v);
            }
            Ok(decrypted)
        }
        Err(DecryptFailure::Tampered) => Err(SopsError::ValueTampered {
            path: display(&walk.shown),
        }),
        Err(DecryptFailure::Malformed(reason)) => Err(SopsError::MalformedValue {
            path: display(&walk.shown),
            reason,
        }),
    }
}
