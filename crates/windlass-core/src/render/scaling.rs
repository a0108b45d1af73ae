//! HorizontalPodAutoscaler and PodDisruptionBudget. The PDB is shaped so it can
//! never block a node drain (validation rejects budgets that would).

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{app_meta, selector};
use super::object::Object;
use crate::model::{App, Disruption, Platform, Scaling};
use crate::spec::AppKind;

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub fn hpa(platform: &Platform, app: &App) -> Option<Object> {
    let Scaling::Auto { min, max, cpu_percent } = app.scaling else {
        return None;
    };
    let kind = match app.kind {
        AppKind::Statefulset => "StatefulSet",
        _ => "Deployment",
    };
    Some(Object::from_typed(&HorizontalPodAutoscaler {
        metadata: app_meta(platform, app, &app.name),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".to_string()),
                kind: kind.to_string(),
                name: app.name.clone(),
            },
            min_replicas: Some(to_i32(min)),
            max_replicas: to_i32(max),
            metrics: Some(vec![MetricSpec {
                type_: "Resource".to_string(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".to_string(),
                    target: MetricTarget {
                        type_: "Utilization".to_string(),
                        average_utilization: Some(to_i32(cpu_percent)),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        status: None,
    }))
}

pub fn pdb(platform: &Platform, app: &App) -> Option<Object> {
    if app.kind == AppKind::Cron {
        return None;
    }
    let (max_unavailable, min_available) = match app.disruption {
        Disruption::MaxUnavailable(n) => (Some(IntOrString::Int(to_i32(n))), None),
        Disruption::MinAvailable(n) => (None, Some(IntOrString::Int(to_i32(n)))),
    };
    Some(Object::from_typed(&PodDisruptionBudget {
        metadata: app_meta(platform, app, &app.name),
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(selector(platform, app)),
            max_unavailable,
            min_available,
            // A crash-looping pod must not hold a drain hostage.
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".to_string()),
        }),
        status: None,
    }))
}
