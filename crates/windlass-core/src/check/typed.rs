//! Round trip through the k8s-openapi types: an object that loses or changes a
//! field on the way is one the apiserver would read differently than we wrote.

use k8s_openapi::api::{apps, autoscaling, batch, core, networking, policy};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::render::Object;

fn through<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

/// `Ok(true)` if the object survives the round trip unchanged, `Ok(false)` if
/// its kind has no k8s-openapi type (a CRD), `Err` with the reason otherwise.
pub fn round_trips(o: &Object) -> Result<bool, String> {
    let v = &o.0;
    let back = match (o.api_version(), o.kind()) {
        ("v1", "Namespace") => through::<core::v1::Namespace>(v),
        ("v1", "LimitRange") => through::<core::v1::LimitRange>(v),
        ("v1", "ServiceAccount") => through::<core::v1::ServiceAccount>(v),
        ("v1", "ConfigMap") => through::<core::v1::ConfigMap>(v),
        ("v1", "Secret") => through::<core::v1::Secret>(v),
        ("v1", "Service") => through::<core::v1::Service>(v),
        ("v1", "PersistentVolumeClaim") => through::<core::v1::PersistentVolumeClaim>(v),
        ("apps/v1", "Deployment") => through::<apps::v1::Deployment>(v),
        ("apps/v1", "StatefulSet") => through::<apps::v1::StatefulSet>(v),
        ("batch/v1", "CronJob") => through::<batch::v1::CronJob>(v),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => through::<autoscaling::v2::HorizontalPodAutoscaler>(v),
        ("policy/v1", "PodDisruptionBudget") => through::<policy::v1::PodDisruptionBudget>(v),
        ("networking.k8s.io/v1", "NetworkPolicy") => through::<networking::v1::NetworkPolicy>(v),
        ("networking.k8s.io/v1", "Ingress") => through::<networking::v1::Ingress>(v),
        _ => return Ok(false),
    }?;
    if back == *v {
        Ok(true)
    } else {
        Err(format!(
            "{} changed in a round trip through its k8s-openapi type",
            o.id()
        ))
    }
}
