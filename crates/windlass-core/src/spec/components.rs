//! `platform.components` and `platform.charts`: which platform components
//! windlass installs, at which chart version, with which extra values, and where
//! their charts come from. The components themselves (charts, pinned versions,
//! the values windlass sets) live in `crate::components::catalog`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// One platform component's settings. Every field is optional: the catalog's
/// defaults apply to what is not set.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComponentSpec {
    /// `false` when the cluster already runs this component (windlass then
    /// neither installs nor removes it, and assumes it is there).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Chart version to install instead of the pinned one (an exact version, e.g. `v1.21.3`).
    #[serde(default)]
    pub version: Option<String>,
    /// Chart repository for this component only: `oci://HOST/PATH` or `https://HOST/PATH`.
    /// Overrides `platform.charts.mirror`.
    #[serde(default)]
    pub repository: Option<String>,
    /// Extra chart values, merged over the values windlass sets (mappings key by key,
    /// anything else replaces). Checked against the chart's `values.schema.json`
    /// where it has one. Values the content pack relies on cannot be changed here.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub values: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Where charts come from.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChartsSpec {
    /// One repository that mirrors every chart, for clusters without internet:
    /// an OCI registry path (`oci://registry.internal/charts`, chart `NAME` is
    /// `oci://registry.internal/charts/NAME`) or an HTTP chart repository
    /// (`https://charts.internal`, with an `index.yaml`). Default: each chart's upstream repository.
    #[serde(default)]
    pub mirror: Option<String>,
}

/// The components a spec may name, keyed as in the spec.
pub type ComponentsSpec = IndexMap<String, ComponentSpec>;
