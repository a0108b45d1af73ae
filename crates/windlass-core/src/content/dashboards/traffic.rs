//! Traffic through the gateway or ingress controller, per route: request
//! rate, 5xx ratio and latency; and the uptime probes' view from outside.

use super::{Builder, Dashboard, Size};
use crate::content::defaults as d;
use crate::model::Platform;
use crate::spec::TrafficMode;

pub fn dashboard(platform: &Platform) -> Dashboard {
    let r = "$__rate_interval";
    let mut b = Builder::new(
        super::uid(&["windlass-traffic", &platform.name]),
        format!("{} / traffic", platform.name),
        &["traffic"],
    );
    match platform.traffic.mode {
        TrafficMode::Gateway => {
            let s = "envoy_cluster_name=~\"httproute/.+\"";
            b.timeseries("Requests per second by route", "reqps", Size::Third, &[(
                format!("sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{{{s}}}[{r}]))"),
                "{{envoy_cluster_name}}",
            )])
            .timeseries("5xx ratio by route", "percentunit", Size::Third, &[(
                format!(
                    "sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{{{s}, envoy_response_code_class=\"5\"}}[{r}]))\n/\n\
                     sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{{{s}}}[{r}]))"
                ),
                "{{envoy_cluster_name}}",
            )])
            .timeseries("p99 latency by route", "s", Size::Third, &[(
                format!(
                    "histogram_quantile(0.99, sum by (le, envoy_cluster_name) (rate(envoy_cluster_upstream_rq_time_bucket{{{s}}}[{r}]))) / 1000"
                ),
                "{{envoy_cluster_name}}",
            )]);
        }
        TrafficMode::Ingress => {
            b.timeseries("Requests per second by ingress", "reqps", Size::Third, &[(
                format!("sum by (exported_namespace, ingress) (rate(nginx_ingress_controller_requests[{r}]))"),
                "{{exported_namespace}}/{{ingress}}",
            )])
            .timeseries("5xx ratio by ingress", "percentunit", Size::Third, &[(
                format!(
                    "sum by (exported_namespace, ingress) (rate(nginx_ingress_controller_requests{{status=~\"5..\"}}[{r}]))\n/\n\
                     sum by (exported_namespace, ingress) (rate(nginx_ingress_controller_requests[{r}]))"
                ),
                "{{exported_namespace}}/{{ingress}}",
            )])
            .timeseries("p99 latency by ingress", "s", Size::Third, &[(
                format!(
                    "histogram_quantile(0.99, sum by (le, exported_namespace, ingress) (rate(nginx_ingress_controller_request_duration_seconds_bucket[{r}])))"
                ),
                "{{exported_namespace}}/{{ingress}}",
            )]);
        }
    }
    let job = format!("job=\"{}\"", d::UPTIME_JOB);
    b.timeseries(
        "Uptime probes up",
        "none",
        Size::Third,
        &[(format!("probe_success{{{job}}}"), "{{instance}}")],
    )
    .timeseries(
        "Uptime probe duration",
        "s",
        Size::Third,
        &[(format!("probe_duration_seconds{{{job}}}"), "{{instance}}")],
    )
    .timeseries(
        "Days until the served certificate expires",
        "d",
        Size::Third,
        &[(
            format!("(probe_ssl_earliest_cert_expiry{{{job}}} - time()) / 86400"),
            "{{instance}}",
        )],
    )
    .build()
}
