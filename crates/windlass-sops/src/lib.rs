//! SOPS files that the real `sops` CLI (v3.13) reads and writes, both directions:
//! YAML (multi-document streams, comments encrypted as sops encrypts them) and JSON;
//! values as `ENC[AES256_GCM,...]` under a 32-byte data key with sops's 32-byte IV and
//! key path as additional data; the data key encrypted to age X25519 recipients
//! (opened from OpenPGP entries too, to migrate GPG setups to age); sops's MAC;
//! `.sops.yaml` creation rules.
//!
//! The crate is pure: no files, environment, clock or network. The caller passes
//! the text, the time (`lastmodified`) and a CSPRNG (data keys, IVs); age draws the
//! randomness of its own envelope from the OS. Plaintext trees are zeroed on drop and
//! never shown by `Debug`; no error carries a plaintext value.
//!
//! ```no_run
//! use windlass_sops::{encrypt, EncryptOptions, EncryptedFile, Format, Keyring, PlainDocument, AgeRecipient};
//! # fn demo(rng: &mut impl rand_core::CryptoRng) -> Result<(), windlass_sops::SopsError> {
//! let plain = PlainDocument::parse(Format::Yaml, "password: hunter2\n")?;
//! let options = EncryptOptions {
//!     recipients: AgeRecipient::parse_list("age1...")?,
//!     rules: Default::default(),
//! };
//! let file = encrypt(&plain, &options, jiff::Timestamp::UNIX_EPOCH, rng)?;
//! let text = file.to_text(); // what `sops -d` opens
//!
//! let mut keys = Keyring::new();
//! keys.add_age_identities("SOPS_AGE_KEY", "AGE-SECRET-KEY-1...")?;
//! let opened = EncryptedFile::parse(Format::Yaml, &text)?.open(&keys)?;
//! let edited = PlainDocument::parse(Format::Yaml, "password: hunter3\n")?;
//! let again = opened.reencrypt(&edited, jiff::Timestamp::UNIX_EPOCH, rng)?; // unchanged values keep their ciphertext
//! # let _ = again; Ok(()) }
//! ```
//!
//! Why a tree of our own and not `serde_yaml`/`serde-saphyr` values: sops's MAC and
//! additional data depend on key order, on the exact type of each scalar as go-yaml
//! v3 resolves it (`0x1F` is the int 31, `2024-01-01` a timestamp, `on` a string) and
//! on comments being entries of the map or list they sit in. [`tree::Value`] keeps
//! exactly that; YAML is read from `granit-parser` events (the parser serde-saphyr
//! uses), which carry comments and positions.
//!
//! Not supported (each refused with an error saying so): dotenv, INI and binary
//! files; Shamir key groups (more than one group); encrypting to OpenPGP or cloud
//! KMS (their entries are kept while the data key stays, and dropped — reported — on
//! rotate); age SSH and plugin recipients; `encrypted_comment_regex` and
//! `unencrypted_comment_regex`. Regexes are compiled by Rust's `regex` crate, which
//! follows RE2 syntax like Go's `regexp` except that `\d`, `\w`, `\s` and `\b` are
//! Unicode-aware (ASCII in Go) and `\Q...\E` is not supported.

mod cipher;
mod error;
mod file;
mod json;
mod keys;
mod metadata;
mod rules;
mod scalar;
pub mod tree;
mod walk;
mod yaml;

pub use error::{Result, SopsError};
pub use file::{EncryptOptions, EncryptedFile, Format, Opened, PlainDocument, Rotated, Rotation, encrypt};
pub use keys::{AgeRecipient, Keyring};
pub use metadata::{AgeEntry, KeyGroup, Metadata, PgpEntry, SOPS_VERSION};
pub use rules::{CreationRule, SopsConfig};
pub use tree::{Comment, Entry, ListItem, PathSegment, Value};
pub use walk::{EncryptionRules, Selection};
