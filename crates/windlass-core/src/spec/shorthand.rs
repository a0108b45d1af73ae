//! Values that may be written short (`health: /healthz`) or in full
//! (`health: {path: /healthz, port: 8081}`), and scalars kept as text.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::types::{EnvSecretRef, HealthSpec, MetricsSpec, SecretKeyRef};

/// A settings struct that can also be written as one string.
pub trait FromShorthand: Sized {
    /// What the short form means, for the schema and error messages.
    const SHORT_FORM: &'static str;
    fn from_shorthand(s: &str) -> Result<Self, String>;
}

/// `T` written either as a string (its short form) or as a mapping.
#[derive(Debug, Clone)]
pub struct Shorthand<T>(pub T);

impl<'de, T: Deserialize<'de> + FromShorthand> Deserialize<'de> for Shorthand<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + FromShorthand> Visitor<'de> for V<T> {
            type Value = Shorthand<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} or a mapping", T::SHORT_FORM)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                T::from_shorthand(s).map(Shorthand).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Shorthand)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<T: JsonSchema + FromShorthand> JsonSchema for Shorthand<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}OrShorthand", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let full = g.subschema_for::<T>();
        json_schema!({
            "anyOf": [
                { "type": "string", "description": T::SHORT_FORM },
                full
            ]
        })
    }
}

impl FromShorthand for HealthSpec {
    const SHORT_FORM: &'static str = "an HTTP path such as `/healthz`";
    fn from_shorthand(s: &str) -> Result<Self, String> {
        Ok(HealthSpec {
            path: Some(s.to_string()),
            ..HealthSpec::default()
        })
    }
}

impl FromShorthand for MetricsSpec {
    const SHORT_FORM: &'static str = "an HTTP path such as `/metrics`";
    fn from_shorthand(s: &str) -> Result<Self, String> {
        Ok(MetricsSpec {
            path: s.to_string(),
            port: None,
        })
    }
}

impl FromShorthand for SecretKeyRef {
    const SHORT_FORM: &'static str = "`secret-name/key`";
    fn from_shorthand(s: &str) -> Result<Self, String> {
        match s.split_once('/') {
            Some((secret, key)) if !secret.is_empty() && !key.is_empty() && !key.contains('/') => Ok(SecretKeyRef {
                secret: secret.to_string(),
                key: key.to_string(),
            }),
            _ => Err(format!(
                "`{s}` is not `secret-name/key`; write e.g. `db-credentials/password` or {{secret: db-credentials, key: password}}"
            )),
        }
    }
}

impl FromShorthand for EnvSecretRef {
    const SHORT_FORM: &'static str = SecretKeyRef::SHORT_FORM;
    fn from_shorthand(s: &str) -> Result<Self, String> {
        SecretKeyRef::from_shorthand(s).map(|r| EnvSecretRef {
            secret: Some(r.secret),
            key: Some(r.key),
            vault: None,
            sops: None,
        })
    }
}

/// A scalar kept as the text the environment variable will hold (`PORT: 3000` is "3000").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E>(self, s: &str) -> Result<Scalar, E> {
                Ok(Scalar(s.to_string()))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Scalar, E> {
                Ok(Scalar(b.to_string()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Scalar, E> {
                Ok(Scalar(n.to_string()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Scalar, E> {
                Ok(Scalar(n.to_string()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Scalar, E> {
                Ok(Scalar(n.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Scalar {
    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}
