//! The app's configuration files as a ConfigMap, and the checksum that rolls
//! the pods when they change.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::labels::app_meta;
use super::object::Object;
use crate::model::{App, Platform};

pub fn config_map_name(app: &App) -> String {
    format!("{}-config", app.name)
}

pub fn config_map(platform: &Platform, app: &App) -> Option<Object> {
    let c = app.config.as_ref().filter(|c| !c.files.is_empty())?;
    Some(Object::from_typed(&ConfigMap {
        metadata: app_meta(platform, app, config_map_name(app)),
        data: Some(c.files.clone()),
        ..ConfigMap::default()
    }))
}

/// FNV-1a over names and contents: stable across runs and platforms, no clock or randomness.
pub fn config_checksum(files: &BTreeMap<String, String>) -> String {
    format!(
        "{:016x}",
        fnv1a(files.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
    )
}

/// FNV-1a (64 bit) over `parts`, each followed by a zero byte so that
/// ["ab", "c"] and ["a", "bc"] differ.
pub fn fnv1a<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
