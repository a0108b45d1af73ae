//! Per-namespace objects: the Namespace (Pod Security `restricted` enforced),
//! its LimitRange, and the default NetworkPolicies.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{LimitRange, LimitRangeItem, LimitRangeSpec, Namespace};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::labels::platform_meta;
use super::network::namespace_policies;
use super::object::Object;
use crate::defaults as d;
use crate::model::Platform;

pub fn namespace_objects(platform: &Platform, ns: &str) -> Vec<Object> {
    let mut meta = platform_meta(platform, ns, None);
    if let Some(labels) = meta.labels.as_mut() {
        for mode in ["enforce", "audit", "warn"] {
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}"),
                d::POD_SECURITY_LEVEL.to_string(),
            );
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}-version"),
                "latest".to_string(),
            );
        }
    }
    let q = |s: &str| Quantity(s.to_string());
    let limit_range = LimitRange {
        metadata: platform_meta(platform, "defaults", Some(ns)),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".to_string(),
                default_request: Some(BTreeMap::from([
                    ("cpu".to_string(), q(d::LIMITRANGE_CPU_REQUEST)),
                    ("memory".to_string(), q(d::LIMITRANGE_MEMORY_REQUEST)),
                ])),
                default: Some(BTreeMap::from([
                    ("cpu".to_string(), q(d::LIMITRANGE_CPU_LIMIT)),
                    ("memory".to_string(), q(d::LIMITRANGE_MEMORY_LIMIT)),
                    ("ephemeral-storage".to_string(), q(d::EPHEMERAL_STORAGE_LIMIT)),
                ])),
                ..LimitRangeItem::default()
            }],
        }),
    };
    let mut out = vec![
        Object::from_typed(&Namespace {
            metadata: meta,
            ..Namespace::default()
        }),
        Object::from_typed(&limit_range),
    ];
    out.extend(namespace_policies(platform, ns));
    out
}
