//! Cluster overview: nodes, pods, resource use against requests, restarts,
//! volumes and firing alerts, by namespace.

use super::{Builder, Dashboard, Size};
use crate::model::Platform;

pub fn dashboard(platform: &Platform) -> Dashboard {
    let r = "$__rate_interval";
    Builder::new(super::uid(&["windlass-cluster", &platform.name]), format!("{} / cluster", platform.name), &["cluster"])
        .stat("Nodes ready", "none", Size::Third, &[(
            "sum(kube_node_status_condition{condition=\"Ready\", status=\"true\"})".to_string(),
            "ready",
        ), ("count(kube_node_info)".to_string(), "total")])
        .stat("Pods not ready", "none", Size::Third, &[(
            "sum(kube_pod_status_ready{condition=\"false\"}) or vector(0)".to_string(),
            "",
        )])
        .stat("Firing alerts", "none", Size::Third, &[(
            "sum by (severity) (ALERTS{alertstate=\"firing\", alertname!=\"Watchdog\"})".to_string(),
            "{{severity}}",
        )])
        .timeseries("CPU used vs requested by namespace", "none", Size::Half, &[
            (format!("sum by (namespace) (rate(container_cpu_usage_seconds_total{{container!=\"\"}}[{r}]))"), "{{namespace}} used"),
            ("sum by (namespace) (kube_pod_container_resource_requests{resource=\"cpu\"})".to_string(), "{{namespace}} requested"),
        ])
        .timeseries("Memory used vs requested by namespace", "bytes", Size::Half, &[
            ("sum by (namespace) (container_memory_working_set_bytes{container!=\"\"})".to_string(), "{{namespace}} used"),
            ("sum by (namespace) (kube_pod_container_resource_requests{resource=\"memory\"})".to_string(), "{{namespace}} requested"),
        ])
        .timeseries("Container restarts (1h) by namespace", "none", Size::Half, &[(
            "sum by (namespace) (increase(kube_pod_container_status_restarts_total[1h]))".to_string(),
            "{{namespace}}",
        )])
        .timeseries("Volume free space", "percentunit", Size::Half, &[(
            "min by (namespace, persistentvolumeclaim) (kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes)"
                .to_string(),
            "{{namespace}}/{{persistentvolumeclaim}}",
        )])
        .timeseries("Node CPU utilisation", "percentunit", Size::Half, &[(
            format!("1 - avg by (instance) (rate(node_cpu_seconds_total{{mode=\"idle\"}}[{r}]))"),
            "{{instance}}",
        )])
        .timeseries("Node memory available", "percentunit", Size::Half, &[(
            "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes".to_string(),
            "{{instance}}",
        )])
        .build()
}
