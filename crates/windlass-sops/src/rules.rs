//! `.sops.yaml` creation rules: the first rule whose `path_regex` matches the file's
//! path (relative to the `.sops.yaml` directory) decides its age recipients and
//! which of its values are encrypted, as sops decides it.

use regex::Regex;

use crate::error::{Result, SopsError};
use crate::keys::AgeRecipient;
use crate::tree::{Entry, Value, map_get};
use crate::walk::{EncryptionRules, Selection};
use crate::yaml;

/// A parsed `.sops.yaml`.
#[derive(Debug)]
pub struct SopsConfig {
    rules: Vec<CreationRule>,
}

/// One entry of `creation_rules`.
#[derive(Debug)]
pub struct CreationRule {
    /// The rule's `path_regex` (`None`: matches every path).
    pub path_regex: Option<String>,
    regex: Option<Regex>,
    pub recipients: Vec<AgeRecipient>,
    pub rules: EncryptionRules,
}

fn config_error(problem: impl Into<String>, fix: impl Into<String>) -> SopsError {
    SopsError::Config {
        problem: problem.into(),
        fix: fix.into(),
    }
}

const AGE_FIX: &str =
    "windlass encrypts to age recipients only: list them under `age:` (`age-keygen -y KEYFILE` prints yours)";

impl SopsConfig {
    /// Parses `.sops.yaml`; refuses what windlass cannot honour (PGP or cloud KMS
    /// recipients, several key groups, comment regexes) rather than ignoring it.
    pub fn parse(text: &str) -> Result<Self> {
        let docs = yaml::parse(text)?;
        let root = docs.first().map(Vec::as_slice).unwrap_or_default();
        let rules = match map_get(root, "creation_rules") {
            None | Some(Value::Null) => Vec::new(),
            Some(list @ Value::List(_)) => list
                .list_values()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, rule)| match rule {
                    Value::Map(fields) => CreationRule::parse(i, fields),
                    other => Err(config_error(
                        format!("creation_rules[{i}] is a {}, not a map", other.kind()),
                        "each rule is a map with path_regex, age, ...",
                    )),
                })
                .collect::<Result<_>>()?,
            Some(other) => {
                return Err(config_error(
                    format!("creation_rules is a {}, not a list", other.kind()),
                    "make it a list of rules",
                ));
            }
        };
        Ok(Self { rules })
    }

    /// The first rule matching `path` (relative to the `.sops.yaml` directory, `/`-separated).
    pub fn rule_for(&self, path: &str) -> Result<&CreationRule> {
        if self.rules.is_empty() {
            return Err(config_error(
                "there are no creation_rules",
                "add a rule with `age:` recipients, or pass --age",
            ));
        }
        self.rules
            .iter()
            .find(|r| r.regex.as_ref().is_none_or(|re| re.is_match(path)))
            .ok_or_else(|| {
                config_error(
                    format!("no creation rule matches `{path}`"),
                    "add a rule whose path_regex matches it (or one without path_regex as a fallback), or pass --age",
                )
            })
    }

    pub fn rules(&self) -> &[CreationRule] {
        &self.rules
    }
}

fn string_field(fields: &[Entry], name: &str, at: &str) -> Result<Option<String>> {
    match map_get(fields, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(other) => Err(config_error(
            format!("{at}.{name} is a {}, not a string", other.kind()),
            "quote it",
        )),
    }
}

/// `age:` as sops takes it: one string with commas/newlines, or a list of strings.
fn recipients(value: &Value, at: &str) -> Result<Vec<AgeRecipient>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Str(s) => AgeRecipient::parse_list(s),
        Value::List(_) => {
            let mut out = Vec::new();
            for v in value.list_values().into_iter().flatten() {
                match v {
                    Value::Str(s) => out.extend(AgeRecipient::parse_list(s)?),
                    other => {
                        return Err(config_error(
                            format!("{at} lists a {}, not a recipient string", other.kind()),
                            AGE_FIX,
                        ));
                    }
                }
            }
            Ok(out)
        }
        other => Err(config_error(format!("{at} is a {}", other.kind()), AGE_FIX)),
    }
}

fn refuse_other_keys(fields: &[Entry], at: &str) -> Result<()> {
    for kind in [
        "pgp",
        "kms",
        "gcp_kms",
        "hckms",
        "azure_keyvault",
        "hc_vault_transit_uri",
        "hc_vault",
        "azure_kv",
    ] {
        let set = match map_get(fields, kind) {
            None | Some(Value::Null) => false,
            Some(Value::Str(s)) => !s.trim().is_empty(),
            Some(Value::List(items)) => !items.is_empty(),
            Some(_) => true,
        };
        if set {
            return Err(config_error(
                format!(
                    "{at} encrypts to `{kind}` keys, which windlass cannot encrypt to (it can open PGP-encrypted files, to move them to age)"
                ),
                AGE_FIX,
            ));
        }
    }
    Ok(())
}

impl CreationRule {
    fn parse(i: usize, fields: &[Entry]) -> Result<Self> {
        let at = format!("creation_rules[{i}]");
        refuse_other_keys(fields, &at)?;
        let path_regex = string_field(fields, "path_regex", &at)?.filter(|p| !p.is_empty());
        let regex = path_regex
            .as_deref()
            .map(|p| {
                Regex::new(p).map_err(|e| SopsError::Regex {
                    field: format!("{at}.path_regex"),
                    reason: e.to_string(),
                })
            })
            .transpose()?;
        let mut recipients_found = match map_get(fields, "age") {
            Some(v) => recipients(v, &format!("{at}.age"))?,
            None => Vec::new(),
        };
        if let Some(groups) = map_get(fields, "key_groups") {
            let groups: Vec<&Value> = groups.list_values().into_iter().flatten().collect();
            if groups.len() > 1 {
                return Err(config_error(
                    format!(
                        "{at} splits the data key over {} key_groups (Shamir's secret sharing), which windlass does not support",
                        groups.len()
                    ),
                    "use one key group (or `age:` directly); every recipient then opens the file alone",
                ));
            }
            for (g, group) in groups.into_iter().enumerate() {
                let Value::Map(group) = group else {
                    return Err(config_error(format!("{at}.key_groups[{g}] is not a map"), AGE_FIX));
                };
                refuse_other_keys(group, &format!("{at}.key_groups[{g}]"))?;
                if let Some(v) = map_get(group, "age") {
                    recipients_found.extend(recipients(v, &format!("{at}.key_groups[{g}].age"))?);
                }
            }
        }
        if let Some(Value::Int(t)) = map_get(fields, "shamir_threshold")
            && *t > 1
        {
            return Err(config_error(
                format!("{at}.shamir_threshold is {t}: windlass does not split data keys (Shamir's secret sharing)"),
                "remove shamir_threshold and use one key group",
            ));
        }
        for name in ["encrypted_comment_regex", "unencrypted_comment_regex"] {
            if string_field(fields, name, &at)?.is_some() {
                return Err(config_error(
                    format!("{at}.{name} is not supported by windlass"),
                    "use encrypted_regex or unencrypted_regex",
                ));
            }
        }
        let mut selection = None;
        for (name, make) in [
            (
                "unencrypted_suffix",
                Selection::UnencryptedSuffix as fn(String) -> Selection,
            ),
            ("encrypted_suffix", Selection::EncryptedSuffix),
            ("unencrypted_regex", Selection::UnencryptedRegex),
            ("encrypted_regex", Selection::EncryptedRegex),
        ] {
            if let Some(p) = string_field(fields, name, &at)?.filter(|p| !p.is_empty()) {
                if selection.is_some() {
                    return Err(config_error(
                        format!(
                            "{at} sets more than one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex"
                        ),
                        "keep one",
                    ));
                }
                let s = make(p);
                s.validate()?;
                selection = Some(s);
            }
        }
        let mac_only_encrypted = match map_get(fields, "mac_only_encrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(config_error(
                    format!("{at}.mac_only_encrypted is a {}, not a boolean", other.kind()),
                    "write true or false",
                ));
            }
        };
        Ok(Self {
            path_regex,
            regex,
            recipients: recipients_found,
            rules: EncryptionRules {
                selection: selection.unwrap_or_default(),
                mac_only_encrypted,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "age1vzr92a6uw5vtkhlfv75dpe94pvfa2g0chw73774pavsen4w27dpswv9d98";
    const B: &str = "age1dvk6vxsd3cs2krrzm05gwyjz204j3u0gj0vv9n3a8xnds6z3qu8q5a7hla";

    #[test]
    fn the_first_matching_rule_wins() {
        let config = SopsConfig::parse(&format!(
            "creation_rules:\n  - path_regex: prod/.*\\.yaml$\n    age: {A}, {B}\n    encrypted_regex: ^(data|stringData)$\n  - path_regex: \\.yaml$\n    age: >-\n      {B}\n  - age: [{A}]\n    mac_only_encrypted: true\n"
        ))
        .expect("parses");
        let prod = config.rule_for("prod/db.yaml").expect("matches");
        assert_eq!(
            prod.recipients.iter().map(AgeRecipient::as_str).collect::<Vec<_>>(),
            [A, B]
        );
        assert_eq!(
            prod.rules.selection,
            Selection::EncryptedRegex("^(data|stringData)$".into())
        );
        let dev = config.rule_for("dev/db.yaml").expect("matches");
        assert_eq!(dev.recipients.iter().map(AgeRecipient::as_str).collect::<Vec<_>>(), [B]);
        let other = config.rule_for("x.json").expect("fallback");
        assert!(other.rules.mac_only_encrypted);
        assert_eq!(other.rules.selection, Selection::default());
    }

    #[test]
    fn key_groups_with_one_group_are_read_and_shamir_is_refused() {
        let one = SopsConfig::parse(&format!(
            "creation_rules:\n  - key_groups:\n      - age:\n          - {A}\n"
        ))
        .expect("one group");
        assert_eq!(one.rule_for("a.yaml").expect("rule").recipients.len(), 1);
        let two = SopsConfig::parse(&format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{A}]\n      - age: [{B}]\n"
        ));
        assert!(two.expect_err("shamir").to_string().contains("Shamir"));
    }

    #[test]
    fn what_windlass_cannot_honour_is_refused() {
        let pgp =
            SopsConfig::parse("creation_rules:\n  - pgp: 85D77543B3D624B63CEA9E6DBC17301B491B3F21\n").expect_err("pgp");
        assert!(pgp.to_string().contains("age recipients only"), "{pgp}");
        let bad =
            SopsConfig::parse(&format!("creation_rules:\n  - path_regex: '('\n    age: {A}\n")).expect_err("regex");
        assert!(matches!(bad, SopsError::Regex { .. }), "{bad}");
        let none =
            SopsConfig::parse(&format!("creation_rules:\n  - path_regex: ^prod/\n    age: {A}\n")).expect("parses");
        assert!(
            none.rule_for("dev/x.yaml")
                .expect_err("no match")
                .to_string()
                .contains("no creation rule")
        );
        let two = SopsConfig::parse(&format!(
            "creation_rules:\n  - age: {A}\n    encrypted_regex: a\n    unencrypted_suffix: _x\n"
        ));
        assert!(two.is_err());
    }
}
