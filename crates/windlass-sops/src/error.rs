//! What can go wrong reading, opening and writing a SOPS file. Every message says what
//! failed and how to fix it; none carries a plaintext value (paths and key names are
//! in the clear in a SOPS file already, values never are).

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    #[error("{what} is not supported: {fix}")]
    Unsupported { what: String, fix: String },

    #[error("not valid {format} at line {line}, column {column}: {reason}")]
    Syntax {
        format: &'static str,
        line: usize,
        column: usize,
        reason: String,
    },

    #[error("{problem}\n  help: {fix}")]
    Shape { problem: String, fix: String },

    #[error(
        "the file has no `sops` metadata: it is not encrypted\n  help: encrypt it first (`windlass secrets encrypt`)"
    )]
    NotEncrypted,

    #[error(
        "the file already has `sops` metadata: it is encrypted already\n  help: to change its recipients use `windlass secrets rotate`"
    )]
    AlreadyEncrypted,

    #[error(
        "the `sops` metadata is invalid at `{field}`: {problem}\n  help: restore the metadata from version control; it is written by sops or windlass, never by hand"
    )]
    Metadata { field: String, problem: String },

    #[error(
        "none of the local keys opens this file (it is encrypted to {recipients})\n  tried: {tried}\n  help: {fix}"
    )]
    NoKeyOpens {
        recipients: String,
        tried: String,
        fix: String,
    },

    #[error(
        "the value at {path} does not decrypt with this file's data key: it was changed or copied from another file\n  help: restore it from version control, or set it again with `windlass secrets edit`"
    )]
    ValueTampered { path: String },

    #[error(
        "the value at {path} is not in sops's `ENC[AES256_GCM,...]` form ({reason})\n  help: restore it from version control, or set it again with `windlass secrets edit`"
    )]
    MalformedValue { path: String, reason: String },

    #[error(
        "the value at {path} should be encrypted but is a plain {kind}\n  help: values are added with `windlass secrets edit` (or `sops edit`), never written into the encrypted file by hand"
    )]
    PlainValue { path: String, kind: &'static str },

    #[error(
        "the MAC does not decrypt with this file's data key: the `sops.mac` or `sops.lastmodified` field was changed\n  help: restore the file from version control"
    )]
    MacTampered,

    #[error(
        "MAC mismatch: the file's values are not the ones its MAC was computed over (a value was changed, added, removed or reordered outside sops/windlass)\n  help: restore the file from version control"
    )]
    MacMismatch,

    #[error(
        "invalid age recipient `{recipient}`: {reason}\n  help: an age recipient looks like `age1...` (from `age-keygen -y KEYFILE`)"
    )]
    Recipient { recipient: String, reason: String },

    #[error(
        "invalid age identity in {source_name} (line {line}): {reason}\n  help: an age identity line looks like `AGE-SECRET-KEY-1...` (from `age-keygen`)"
    )]
    Identity {
        source_name: String,
        line: usize,
        reason: String,
    },

    #[error("age failed to {action}: {reason}")]
    Age { action: &'static str, reason: String },

    #[error("OpenPGP: {problem}\n  help: {fix}")]
    Pgp { problem: String, fix: String },

    #[error(
        "a file needs at least one recipient\n  help: pass an age recipient, or add a creation rule with `age:` to .sops.yaml"
    )]
    NoRecipients,

    #[error(".sops.yaml: {problem}\n  help: {fix}")]
    Config { problem: String, fix: String },

    #[error("invalid regular expression in `{field}`: {reason}")]
    Regex { field: String, reason: String },

    #[error("the data key could not be used: {0}")]
    DataKey(String),
}

pub type Result<T, E = SopsError> = std::result::Result<T, E>;
