//! The `sops:` block: key groups (age and PGP entries read, every other kind of
//! master key kept verbatim), `lastmodified`, the encrypted `mac`, `version`, the
//! selection rule and `mac_only_encrypted`. Written back with its keys sorted by
//! name, as sops writes it.

use crate::error::{Result, SopsError};
use crate::tree::{Entry, ListItem, Value};
use crate::walk::{EncryptionRules, Selection};

/// The sops version whose file format this crate writes (the `version` field).
pub const SOPS_VERSION: &str = "3.13.3";

const MASTER_KEY_KINDS: [&str; 7] = ["age", "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault"];

/// The data key encrypted to one age recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeEntry {
    /// `age1...`
    pub recipient: String,
    /// The armored age file holding the data key.
    pub enc: String,
}

/// The data key encrypted to one OpenPGP key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgpEntry {
    /// The key's fingerprint, as sops records it (upper-case hex).
    pub fingerprint: String,
    pub created_at: String,
    /// The armored OpenPGP message holding the data key.
    pub enc: String,
}

/// Master keys that each hold the whole data key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyGroup {
    pub age: Vec<AgeEntry>,
    pub pgp: Vec<PgpEntry>,
    /// Other kinds (kms, gcp_kms, hckms, azure_kv, hc_vault) by field name: kept as
    /// they are while the data key stays the same.
    pub other: Vec<(String, Value)>,
}

impl KeyGroup {
    /// `kind: id` of each master key, for listings (`age: age1...`, `pgp: FPR`).
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self.age.iter().map(|a| format!("age: {}", a.recipient)).collect();
        out.extend(self.pgp.iter().map(|p| format!("pgp: {}", p.fingerprint)));
        for (kind, value) in &self.other {
            let n = value.list_values().map_or(0, Iterator::count);
            for entry in value.list_values().into_iter().flatten() {
                let id = [
                    "arn",
                    "resource_id",
                    "key_id",
                    "vault_url",
                    "vault_address",
                    "key_name",
                    "name",
                ]
                .iter()
                .find_map(|f| entry.get(f).and_then(Value::as_str));
                out.push(format!("{kind}: {}", id.unwrap_or("?")));
            }
            if n == 0 {
                out.push(format!("{kind}: ?"));
            }
        }
        out
    }
}

/// A file's `sops:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// One group, or several under `key_groups` (Shamir's secret sharing).
    pub key_groups: Vec<KeyGroup>,
    /// Whether the file writes its keys under `key_groups` rather than at the top.
    pub grouped: bool,
    pub shamir_threshold: Option<i64>,
    /// RFC 3339, seconds, UTC: the MAC's additional data.
    pub last_modified: String,
    /// `ENC[...]` of the MAC under the data key.
    pub mac: String,
    pub version: String,
    pub rules: EncryptionRules,
    /// Fields this crate does not know, kept as they are.
    pub unknown: Vec<(String, Value)>,
}

fn bad(field: &str, problem: impl Into<String>) -> SopsError {
    SopsError::Metadata {
        field: field.into(),
        problem: problem.into(),
    }
}

fn text_field(map: &[Entry], field: &str, owner: &str) -> Result<String> {
    match crate::tree::map_get(map, field) {
        Some(Value::Str(s) | Value::Time(s)) => Ok(s.clone()),
        Some(Value::Int(i)) => Ok(i.to_string()),
        Some(Value::Float(f)) => Ok(crate::scalar::go_float(*f)),
        Some(other) => Err(bad(
            &format!("{owner}{field}"),
            format!("expected a string, found a {}", other.kind()),
        )),
        None => Err(bad(&format!("{owner}{field}"), "missing")),
    }
}

fn list_of_maps<'a>(value: &'a Value, field: &str) -> Result<Vec<&'a [Entry]>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::List(_) => value
            .list_values()
            .into_iter()
            .flatten()
            .map(|v| match v {
                Value::Map(m) => Ok(m.as_slice()),
                other => Err(bad(field, format!("expected a list of maps, found a {}", other.kind()))),
            })
            .collect(),
        other => Err(bad(field, format!("expected a list, found a {}", other.kind()))),
    }
}

fn group_from(fields: &[Entry], owner: &str) -> Result<KeyGroup> {
    let mut group = KeyGroup::default();
    for entry in fields {
        let Entry::Pair(kind, value) = entry else { continue };
        match kind.as_str() {
            "age" => {
                for (i, m) in list_of_maps(value, &format!("{owner}age"))?.into_iter().enumerate() {
                    let at = format!("{owner}age[{i}].");
                    group.age.push(AgeEntry {
                        recipient: text_field(m, "recipient", &at)?,
                        enc: text_field(m, "enc", &at)?,
                    });
                }
            }
            "pgp" => {
                for (i, m) in list_of_maps(value, &format!("{owner}pgp"))?.into_iter().enumerate() {
                    let at = format!("{owner}pgp[{i}].");
                    group.pgp.push(PgpEntry {
                        fingerprint: text_field(m, "fp", &at)?,
                        created_at: text_field(m, "created_at", &at).unwrap_or_default(),
                        enc: text_field(m, "enc", &at)?,
                    });
                }
            }
            k if MASTER_KEY_KINDS.contains(&k) && value.list_values().is_some_and(|mut v| v.next().is_some()) => {
                group.other.push((k.to_string(), value.clone()));
            }
            _ => {}
        }
    }
    Ok(group)
}

impl Metadata {
    /// Reads the `sops` block.
    pub fn from_value(value: &Value) -> Result<Self> {
        let Value::Map(map) = value else {
            return Err(bad("sops", format!("expected a map, found a {}", value.kind())));
        };
        let has_top_keys = map
            .iter()
            .any(|e| matches!(e, Entry::Pair(k, v) if MASTER_KEY_KINDS.contains(&k.as_str()) && v.list_values().is_some_and(|mut l| l.next().is_some())));
        let (key_groups, grouped) = if has_top_keys {
            (vec![group_from(map, "")?], false)
        } else if let Some(groups) = crate::tree::map_get(map, "key_groups") {
            let groups = list_of_maps(groups, "key_groups")?
                .into_iter()
                .enumerate()
                .map(|(i, g)| group_from(g, &format!("key_groups[{i}].")))
                .collect::<Result<Vec<_>>>()?;
            (groups, true)
        } else {
            return Err(bad("sops", "no master keys (age, pgp, kms, ...) are listed"));
        };
        let mut selection = None;
        let mut unknown = Vec::new();
        for entry in map {
            let Entry::Pair(k, v) = entry else { continue };
            let rule = match k.as_str() {
                "unencrypted_suffix" => Some(Selection::UnencryptedSuffix(text_field(map, k, "")?)),
                "encrypted_suffix" => Some(Selection::EncryptedSuffix(text_field(map, k, "")?)),
                "unencrypted_regex" => Some(Selection::UnencryptedRegex(text_field(map, k, "")?)),
                "encrypted_regex" => Some(Selection::EncryptedRegex(text_field(map, k, "")?)),
                "unencrypted_comment_regex" | "encrypted_comment_regex" => {
                    return Err(SopsError::Unsupported {
                        what: format!("a file with `{k}`"),
                        fix: "windlass does not select values by comment; open it with `sops`, or re-create it with encrypted_regex".into(),
                    });
                }
                "key_groups" | "shamir_threshold" | "lastmodified" | "mac" | "version" | "mac_only_encrypted" => None,
                kind if MASTER_KEY_KINDS.contains(&kind) => None,
                _ => {
                    unknown.push((k.clone(), v.clone()));
                    None
                }
            };
            if let Some(rule) = rule {
                if rule.pattern().is_empty() {
                    continue;
                }
                if selection.is_some() {
                    return Err(bad(
                        k,
                        "only one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex may be set",
                    ));
                }
                rule.validate()?;
                selection = Some(rule);
            }
        }
        let mac_only_encrypted = match crate::tree::map_get(map, "mac_only_encrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(bad(
                    "mac_only_encrypted",
                    format!("expected a boolean, found a {}", other.kind()),
                ));
            }
        };
        let shamir_threshold = match crate::tree::map_get(map, "shamir_threshold") {
            None | Some(Value::Null) => None,
            Some(Value::Int(i)) => Some(*i),
            Some(other) => {
                return Err(bad(
                    "shamir_threshold",
                    format!("expected an integer, found a {}", other.kind()),
                ));
            }
        };
        Ok(Metadata {
            key_groups,
            grouped,
            shamir_threshold,
            last_modified: text_field(map, "lastmodified", "")?,
            mac: text_field(map, "mac", "")?,
            version: text_field(map, "version", "").unwrap_or_default(),
            rules: EncryptionRules {
                selection: selection.unwrap_or_default(),
                mac_only_encrypted,
            },
            unknown,
        })
    }

    /// The `sops` block as a value, keys sorted by name as sops writes them.
    pub fn to_value(&self) -> Value {
        let mut fields: Vec<(String, Value)> = Vec::new();
        if self.grouped {
            let groups = self
                .key_groups
                .iter()
                .map(|g| ListItem::Value(Value::Map(sorted(group_fields(g)))))
                .collect();
            fields.push(("key_groups".into(), Value::List(groups)));
        } else if let Some(g) = self.key_groups.first() {
            fields.extend(group_fields(g));
        }
        if let Some(t) = self.shamir_threshold.filter(|t| *t != 0) {
            fields.push(("shamir_threshold".into(), Value::Int(t)));
        }
        fields.push(("lastmodified".into(), Value::Str(self.last_modified.clone())));
        fields.push(("mac".into(), Value::Str(self.mac.clone())));
        fields.push(("version".into(), Value::Str(self.version.clone())));
        let selection = &self.rules.selection;
        fields.push((selection.field().into(), Value::Str(selection.pattern().into())));
        if self.rules.mac_only_encrypted {
            fields.push(("mac_only_encrypted".into(), Value::Bool(true)));
        }
        fields.extend(self.unknown.iter().cloned());
        Value::Map(sorted(fields))
    }

    /// Every master key of the file, as `kind: id`.
    pub fn describe_keys(&self) -> Vec<String> {
        self.key_groups.iter().flat_map(KeyGroup::describe).collect()
    }
}

fn group_fields(g: &KeyGroup) -> Vec<(String, Value)> {
    let mut fields = Vec::new();
    if !g.age.is_empty() {
        let entries = g
            .age
            .iter()
            .map(|a| {
                ListItem::Value(Value::Map(vec![
                    Entry::Pair("enc".into(), Value::Str(a.enc.clone())),
                    Entry::Pair("recipient".into(), Value::Str(a.recipient.clone())),
                ]))
            })
            .collect();
        fields.push(("age".into(), Value::List(entries)));
    }
    if !g.pgp.is_empty() {
        let entries = g
            .pgp
            .iter()
            .map(|p| {
                ListItem::Value(Value::Map(vec![
                    Entry::Pair("created_at".into(), Value::Str(p.created_at.clone())),
                    Entry::Pair("enc".into(), Value::Str(p.enc.clone())),
                    Entry::Pair("fp".into(), Value::Str(p.fingerprint.clone())),
                ]))
            })
            .collect();
        fields.push(("pgp".into(), Value::List(entries)));
    }
    fields.extend(g.other.iter().cloned());
    fields
}

fn sorted(mut fields: Vec<(String, Value)>) -> Vec<Entry> {
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.into_iter().map(|(k, v)| Entry::Pair(k, v)).collect()
}
