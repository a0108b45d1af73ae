//! Unit identity: what a group of rendered objects belongs to (the platform, a
//! namespace, an app), written and read back in one place. The text form is also
//! what the cluster stores in its histories, so it never changes for existing units:
//! `platform`, `namespace.NS`, `app.NS.NAME`, and for platform components
//! `crds.COMPONENT` and `component.COMPONENT`.

use std::fmt;
use std::str::FromStr;

/// One unit of the plan. New kinds (platform components, CRDs) get their own
/// variant, prefix and `Layer`; the text form of existing ones stays as it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnitId {
    /// A platform component's CustomResourceDefinitions, from its chart.
    Crds(String),
    /// A platform component: its namespace and its Helm release.
    Component(String),
    /// Cluster-wide and shared objects: issuers, the Gateway, platform content.
    Platform,
    /// An app namespace with its policies.
    Namespace(String),
    App {
        namespace: String,
        name: String,
    },
}

/// Where a unit sits in the apply order: a lower layer goes on before a higher
/// one and comes off after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Crds,
    Component,
    Platform,
    Namespace,
    App,
}

const CRDS: &str = "crds";
const COMPONENT: &str = "component";
const PLATFORM: &str = "platform";
const NAMESPACE: &str = "namespace";
const APP: &str = "app";

impl UnitId {
    pub fn app(namespace: impl Into<String>, name: impl Into<String>) -> UnitId {
        UnitId::App {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub fn namespace(namespace: impl Into<String>) -> UnitId {
        UnitId::Namespace(namespace.into())
    }

    pub fn layer(&self) -> Layer {
        match self {
            UnitId::Crds(_) => Layer::Crds,
            UnitId::Component(_) => Layer::Component,
            UnitId::Platform => Layer::Platform,
            UnitId::Namespace(_) => Layer::Namespace,
            UnitId::App { .. } => Layer::App,
        }
    }

    /// For people, as the spec names it: `platform`, `namespace shop`, `app backend`.
    pub fn title(&self) -> String {
        match self {
            UnitId::Crds(c) => format!("CRDs of {c}"),
            UnitId::Component(c) => c.clone(),
            UnitId::Platform => PLATFORM.to_string(),
            UnitId::Namespace(ns) => format!("{NAMESPACE} {ns}"),
            UnitId::App { name, .. } => format!("{APP} {name}"),
        }
    }

    /// The app's name, for app units.
    pub fn app_name(&self) -> Option<&str> {
        match self {
            UnitId::App { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// Units in the order they come off a cluster when nothing better is known
/// (units the spec no longer has): higher layers first, then by id for stable output.
pub fn removal_order(units: &mut [UnitId]) {
    units.sort_by(|a, b| b.layer().cmp(&a.layer()).then_with(|| a.cmp(b)));
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitId::Crds(c) => write!(f, "{CRDS}.{c}"),
            UnitId::Component(c) => write!(f, "{COMPONENT}.{c}"),
            UnitId::Platform => f.write_str(PLATFORM),
            UnitId::Namespace(ns) => write!(f, "{NAMESPACE}.{ns}"),
            UnitId::App { namespace, name } => write!(f, "{APP}.{namespace}.{name}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitIdError {
    #[error(
        "`{0}` is not a unit: units are `platform`, `namespace.NAMESPACE`, `app.NAMESPACE.NAME`, `crds.COMPONENT` and `component.COMPONENT`"
    )]
    Unknown(String),
    #[error("`{given}` is not a unit: `{kind}` needs {expected}, each non-empty and without dots")]
    Parts {
        given: String,
        kind: &'static str,
        expected: &'static str,
    },
}

impl FromStr for UnitId {
    type Err = UnitIdError;

    fn from_str(s: &str) -> Result<UnitId, UnitIdError> {
        // Every part is a DNS label, so a dot only ever separates parts.
        let mut parts = s.split('.');
        let kind = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let valid = |n: usize| rest.len() == n && rest.iter().all(|p| !p.is_empty());
        let parts_error = |kind, expected| UnitIdError::Parts {
            given: s.to_string(),
            kind,
            expected,
        };
        match kind {
            PLATFORM if rest.is_empty() => Ok(UnitId::Platform),
            CRDS if valid(1) => Ok(UnitId::Crds(rest[0].to_string())),
            CRDS => Err(parts_error(CRDS, "a component")),
            COMPONENT if valid(1) => Ok(UnitId::Component(rest[0].to_string())),
            COMPONENT => Err(parts_error(COMPONENT, "a component")),
            NAMESPACE if valid(1) => Ok(UnitId::Namespace(rest[0].to_string())),
            NAMESPACE => Err(parts_error(NAMESPACE, "a namespace")),
            APP if valid(2) => Ok(UnitId::app(rest[0], rest[1])),
            APP => Err(parts_error(APP, "a namespace and an app name")),
            _ => Err(UnitIdError::Unknown(s.to_string())),
        }
    }
}

impl serde::Serialize for UnitId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for UnitId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<UnitId, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_form_is_what_the_cluster_already_stores() {
        assert_eq!(UnitId::Platform.to_string(), "platform");
        assert_eq!(UnitId::namespace("shop").to_string(), "namespace.shop");
        assert_eq!(UnitId::app("shop", "backend").to_string(), "app.shop.backend");
        assert_eq!("platform".parse::<UnitId>(), Ok(UnitId::Platform));
        assert_eq!("namespace.shop".parse::<UnitId>(), Ok(UnitId::namespace("shop")));
        assert_eq!("app.shop.backend".parse::<UnitId>(), Ok(UnitId::app("shop", "backend")));
        assert_eq!(UnitId::Crds("cert-manager".into()).to_string(), "crds.cert-manager");
        assert_eq!("component.loki".parse::<UnitId>(), Ok(UnitId::Component("loki".into())));
    }

    #[test]
    fn malformed_ids_are_refused_with_the_expected_shape() {
        assert_eq!(
            "app.shop".parse::<UnitId>().map_err(|e| e.to_string()),
            Err(
                "`app.shop` is not a unit: `app` needs a namespace and an app name, each non-empty and without dots"
                    .to_string()
            )
        );
        assert_eq!(
            "namespace.".parse::<UnitId>().map_err(|e| e.to_string()),
            Err(
                "`namespace.` is not a unit: `namespace` needs a namespace, each non-empty and without dots"
                    .to_string()
            )
        );
        assert_eq!(
            "chart.x".parse::<UnitId>().map_err(|e| e.to_string()),
            Err(
                "`chart.x` is not a unit: units are `platform`, `namespace.NAMESPACE`, `app.NAMESPACE.NAME`, `crds.COMPONENT` and `component.COMPONENT`"
                    .to_string()
            )
        );
        assert!("platform.x".parse::<UnitId>().is_err());
        assert!("app.a.b.c".parse::<UnitId>().is_err());
        assert!("".parse::<UnitId>().is_err());
    }

    #[test]
    fn titles_read_like_the_spec() {
        assert_eq!(UnitId::Platform.title(), "platform");
        assert_eq!(UnitId::namespace("shop").title(), "namespace shop");
        assert_eq!(UnitId::app("shop", "backend").title(), "app backend");
    }

    #[test]
    fn removal_order_is_apps_then_namespaces_then_the_platform_then_components() {
        let mut units = vec![
            UnitId::Crds("loki".into()),
            UnitId::Component("loki".into()),
            UnitId::Platform,
            UnitId::namespace("a"),
            UnitId::app("b", "y"),
            UnitId::app("a", "x"),
        ];
        removal_order(&mut units);
        assert_eq!(
            units,
            vec![
                UnitId::app("a", "x"),
                UnitId::app("b", "y"),
                UnitId::namespace("a"),
                UnitId::Platform,
                UnitId::Component("loki".into()),
                UnitId::Crds("loki".into())
            ]
        );
    }

    #[test]
    fn serde_uses_the_text_form() {
        let id = UnitId::app("shop", "web");
        let json = serde_json::to_string(&id).expect("serialize");
        assert_eq!(json, "\"app.shop.web\"");
        assert_eq!(serde_json::from_str::<UnitId>(&json).expect("deserialize"), id);
        assert!(serde_json::from_str::<UnitId>("\"app.shop\"").is_err());
    }

    const LABEL: &str = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";

    fn unit_ids() -> impl Strategy<Value = UnitId> {
        prop_oneof![
            Just(UnitId::Platform),
            LABEL.prop_map(UnitId::Crds),
            LABEL.prop_map(UnitId::Component),
            LABEL.prop_map(UnitId::Namespace),
            (LABEL, LABEL).prop_map(|(ns, name)| UnitId::app(ns, name)),
        ]
    }

    proptest! {
        #[test]
        fn display_and_from_str_round_trip(id in unit_ids()) {
            prop_assert_eq!(id.to_string().parse::<UnitId>(), Ok(id));
        }

        /// Whatever parses is written back byte for byte: one text per unit.
        #[test]
        fn any_text_that_parses_is_canonical(text in "\\PC{0,40}") {
            if let Ok(id) = text.parse::<UnitId>() {
                prop_assert_eq!(id.to_string(), text);
            }
        }

        #[test]
        fn dotted_texts_near_the_format_are_canonical(text in "(platform|namespace|app|crds|component)(\\.[a-z.-]{0,6}){0,3}") {
            if let Ok(id) = text.parse::<UnitId>() {
                prop_assert_eq!(id.to_string(), text);
            }
        }
    }
}
