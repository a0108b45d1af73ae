//! One value under the data key: AES-256-GCM with a 32-byte IV and the value's key
//! path as additional data, written as
//! `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<str|int|float|bool|time|bytes|comment>]`.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use regex::Regex;
use zeroize::{Zeroize, Zeroizing};

use crate::scalar::{go_float, parse_go_bool, parse_go_float};
use crate::tree::Value;

type Aes256Gcm32 = AesGcm<Aes256, U32>;

/// The size of sops's AES-GCM IV (not GCM's usual 12 bytes).
pub const IV_LEN: usize = 32;

static ENC: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]").unwrap()
});

/// A file's 32-byte data key: every value is encrypted under it. Zeroed on drop;
/// `Debug` does not show it.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh key from the caller's CSPRNG.
    pub fn generate(rng: &mut dyn FnMut(&mut [u8])) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rng(&mut key[..]);
        Self(key)
    }

    /// The key from its bytes; `None` unless exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(array)))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// A plaintext ready for the cipher: its sops type tag and its bytes.
pub struct Plain {
    pub kind: &'static str,
    pub bytes: Zeroizing<Vec<u8>>,
}

impl Plain {
    /// The bytes sops encrypts (and hashes into the MAC) for a scalar.
    pub fn of(value: &Value) -> Option<Plain> {
        let (kind, text) = match value {
            Value::Str(s) => ("str", s.clone()),
            Value::Int(i) => ("int", i.to_string()),
            Value::Float(f) => ("float", go_float(*f)),
            Value::Bool(b) => ("bool", if *b { "True" } else { "False" }.to_string()),
            Value::Time(t) => ("time", t.clone()),
            Value::Null | Value::Map(_) | Value::List(_) => return None,
        };
        Some(Plain {
            kind,
            bytes: Zeroizing::new(text.into_bytes()),
        })
    }

    pub fn comment(text: &str) -> Plain {
        Plain {
            kind: "comment",
            bytes: Zeroizing::new(text.as_bytes().to_vec()),
        }
    }
}

/// What a decrypted value turned out to be.
pub enum Decrypted {
    Value(Value),
    Comment(String),
}

/// Why a value did not decrypt; the caller adds the path.
pub enum DecryptFailure {
    /// Not in the `ENC[...]` form, or with an unknown type or a malformed plaintext.
    Malformed(String),
    /// The authentication tag did not verify: changed data, wrong key or wrong path.
    Tampered,
}

/// IVs of the values a file held when it was opened, by path and plaintext, so an
/// edit re-encrypts unchanged values to the same ciphertext (as sops's stash does).
#[derive(Default)]
pub struct Stash(HashMap<(String, &'static str, Vec<u8>), [u8; IV_LEN]>);

impl Stash {
    pub fn remember(&mut self, aad: &str, plain: &Plain, iv: [u8; IV_LEN]) {
        self.0.insert((aad.to_string(), plain.kind, plain.bytes.to_vec()), iv);
    }

    fn iv_for(&self, aad: &str, plain: &Plain) -> Option<[u8; IV_LEN]> {
        self.0
            .get(&(aad.to_string(), plain.kind, plain.bytes.to_vec()))
            .copied()
    }
}

impl Drop for Stash {
    fn drop(&mut self) {
        for ((mut aad, _, mut bytes), _) in self.0.drain() {
            aad.zeroize();
            bytes.zeroize();
        }
    }
}

/// Encrypts one plaintext; an empty plaintext stays empty, as in sops. The IV is the
/// stashed one when this path held this plaintext before, else fresh from `rng`.
pub fn encrypt(key: &DataKey, plain: &Plain, aad: &str, stash: &Stash, rng: &mut dyn FnMut(&mut [u8])) -> String {
    if plain.bytes.is_empty() {
        return String::new();
    }
    let iv = stash.iv_for(aad, plain).unwrap_or_else(|| {
        let mut iv = [0u8; IV_LEN];
        rng(&mut iv);
        iv
    });
    seal(key, plain, aad, &iv)
}

/// Encrypts with a given IV.
pub fn seal(key: &DataKey, plain: &Plain, aad: &str, iv: &[u8; IV_LEN]) -> String {
    let cipher = Aes256Gcm32::new(key.as_bytes().into());
    let nonce = Nonce::<U32>::from_slice(iv);
    // Encryption with a valid key and nonce size cannot fail.
    let sealed = cipher
        .encrypt(
            nonce,
            Payload {
                msg: &plain.bytes,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default();
    let (data, tag) = sealed.split_at(sealed.len().saturating_sub(16));
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        B64.encode(data),
        B64.encode(iv),
        B64.encode(tag),
        plain.kind
    )
}

/// Decrypts one value; returns what it is, its plaintext and the IV used.
pub fn decrypt(key: &DataKey, text: &str, aad: &str) -> Result<(Decrypted, Plain, [u8; IV_LEN]), DecryptFailure> {
    let caps = ENC
        .captures(text)
        .ok_or_else(|| DecryptFailure::Malformed("not an ENC[AES256_GCM,...] value".into()))?;
    let part = |i: usize, name: &str| {
        B64.decode(caps.get(i).map_or("", |m| m.as_str()))
            .map_err(|_| DecryptFailure::Malformed(format!("its {name} is not base64")))
    };
    let (data, iv, tag) = (part(1, "data")?, part(2, "iv")?, part(3, "tag")?);
    let kind = caps.get(4).map_or("", |m| m.as_str());
    let iv: [u8; IV_LEN] = iv
        .as_slice()
        .try_into()
        .map_err(|_| DecryptFailure::Malformed(format!("its IV has {} bytes, not {IV_LEN}", iv.len())))?;
    if tag.len() != 16 {
        return Err(DecryptFailure::Malformed(format!(
            "its tag has {} bytes, not 16",
            tag.len()
        )));
    }
    let cipher = Aes256Gcm32::new(key.as_bytes().into());
    let mut sealed = data;
    sealed.extend_from_slice(&tag);
    let bytes = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::<U32>::from_slice(&iv),
                Payload {
                    msg: &sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| DecryptFailure::Tampered)?,
    );
    let text = || {
        std::str::from_utf8(&bytes)
            .map(str::to_string)
            .map_err(|_| DecryptFailure::Malformed(format!("its {kind} plaintext is not UTF-8")))
    };
    let bad = |what: &str| DecryptFailure::Malformed(format!("its plaintext is not a valid {what}"));
    let (decrypted, kind) = match kind {
        "str" => (Decrypted::Value(Value::Str(text()?)), "str"),
        "int" => (
            Decrypted::Value(Value::Int(text()?.parse().map_err(|_| bad("int"))?)),
            "int",
        ),
        "float" => (
            Decrypted::Value(Value::Float(parse_go_float(&text()?).ok_or_else(|| bad("float"))?)),
            "float",
        ),
        "bool" => (
            Decrypted::Value(Value::Bool(parse_go_bool(&text()?).ok_or_else(|| bad("bool"))?)),
            "bool",
        ),
        "time" => (Decrypted::Value(Value::Time(text()?)), "time"),
        "bytes" => (
            Decrypted::Value(Value::Str(String::from_utf8_lossy(&bytes).into_owned())),
            "bytes",
        ),
        "comment" => (Decrypted::Comment(text()?), "comment"),
        other => return Err(DecryptFailure::Malformed(format!("its type `{other}` is unknown"))),
    };
    Ok((decrypted, Plain { kind, bytes }, iv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_round_trips_and_is_bound_to_its_path() {
        let key = DataKey::from_bytes(&[7u8; 32]).expect("32 bytes");
        let plain = Plain::of(&Value::Int(8080)).expect("scalar");
        let enc = seal(&key, &plain, "a:port:", &[1u8; 32]);
        assert!(
            enc.starts_with("ENC[AES256_GCM,data:") && enc.ends_with(",type:int]"),
            "{enc}"
        );
        let Ok((Decrypted::Value(v), _, iv)) = decrypt(&key, &enc, "a:port:") else {
            panic!("decrypts")
        };
        assert_eq!(v, Value::Int(8080));
        assert_eq!(iv, [1u8; 32]);
        assert!(matches!(decrypt(&key, &enc, "b:port:"), Err(DecryptFailure::Tampered)));
        let other = DataKey::from_bytes(&[8u8; 32]).expect("32 bytes");
        assert!(matches!(
            decrypt(&other, &enc, "a:port:"),
            Err(DecryptFailure::Tampered)
        ));
    }

    #[test]
    fn type_tags_carry_the_type() {
        let key = DataKey::from_bytes(&[3u8; 32]).expect("32 bytes");
        for v in [
            Value::Str("x".into()),
            Value::Int(-3),
            Value::Float(1.5),
            Value::Bool(false),
            Value::Time("2024-01-01T00:00:00Z".into()),
        ] {
            let enc = seal(&key, &Plain::of(&v).expect("scalar"), ":", &[0u8; 32]);
            let Ok((Decrypted::Value(back), _, _)) = decrypt(&key, &enc, ":") else {
                panic!("decrypts")
            };
            assert_eq!(back, v);
        }
        let enc = seal(&key, &Plain::comment(" note"), ":", &[0u8; 32]);
        assert!(matches!(decrypt(&key, &enc, ":"), Ok((Decrypted::Comment(c), _, _)) if c == " note"));
    }
}
