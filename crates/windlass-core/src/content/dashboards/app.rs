//! One dashboard per app: requests, errors and latency (from the app's own
//! metrics and its routes), pods and restarts, CPU and memory against
//! requests and limits, runtime (Node.js / Python) process metrics, and logs.

use super::{Builder, Dashboard, Size};
use crate::content::alerts::Target;
use crate::content::alerts::traffic::sources;
use crate::content::defaults as d;
use crate::model::{App, Platform};

pub fn dashboard(platform: &Platform, app: &App) -> Dashboard {
    let t = Target { app, platform };
    let r = "$__rate_interval";
    let ns = &app.namespace;
    let pods = format!("namespace=\"{ns}\", pod=~\"{}\"", t.pod_regex());
    let mut b = Builder::new(
        super::uid(&["windlass-app", ns, &app.name]),
        format!("{} / {}", platform.name, app.name),
        &["app", &app.name],
    );
    for src in sources(&t) {
        let m = src.requests_metric;
        b.timeseries(
            &format!("Requests per second ({})", src.what),
            "reqps",
            Size::Third,
            &[(format!("sum(rate({m}{}[{r}]))", src.requests), "requests")],
        )
        .timeseries(
            &format!("5xx ratio ({})", src.what),
            "percentunit",
            Size::Third,
            &[(src.error_ratio(r), "5xx")],
        )
        .timeseries(
            &format!("Latency ({})", src.what),
            "s",
            Size::Third,
            &[(src.quantile(0.5, r), "p50"), (src.quantile(0.99, r), "p99")],
        );
    }
    b.stat(
        "Pods ready",
        "none",
        Size::Third,
        &[(
            format!("sum(kube_pod_status_ready{{{pods}, condition=\"true\"}}) or vector(0)"),
            "",
        )],
    )
    .timeseries(
        "Restarts (1h)",
        "none",
        Size::Third,
        &[(
            format!("sum by (pod) (increase(kube_pod_container_status_restarts_total{{{pods}}}[1h]))"),
            "{{pod}}",
        )],
    )
    .timeseries(
        "Last termination reason",
        "none",
        Size::Third,
        &[(
            format!("max by (pod, reason) (kube_pod_container_status_last_terminated_reason{{{pods}}}) == 1"),
            "{{pod}} {{reason}}",
        )],
    )
    .timeseries(
        "CPU (cores) vs request and limit",
        "none",
        Size::Half,
        &[
            (
                format!("sum by (pod) (rate(container_cpu_usage_seconds_total{{{pods}, container!=\"\"}}[{r}]))"),
                "{{pod}}",
            ),
            (
                format!("max(kube_pod_container_resource_requests{{{pods}, resource=\"cpu\"}})"),
                "request",
            ),
            (
                format!("max(kube_pod_container_resource_limits{{{pods}, resource=\"cpu\"}})"),
                "limit",
            ),
        ],
    )
    .timeseries(
        "Memory vs request and limit",
        "bytes",
        Size::Half,
        &[
            (
                format!("sum by (pod) (container_memory_working_set_bytes{{{pods}, container!=\"\"}})"),
                "{{pod}}",
            ),
            (
                format!("max(kube_pod_container_resource_requests{{{pods}, resource=\"memory\"}})"),
                "request",
            ),
            (
                format!("max(kube_pod_container_resource_limits{{{pods}, resource=\"memory\"}})"),
                "limit",
            ),
        ],
    );
    if app.metrics.is_some() {
        let job = format!("namespace=\"{ns}\", job=\"{}\"", app.name);
        b.timeseries(
            "Process CPU and resident memory",
            "none",
            Size::Third,
            &[(
                format!("sum by (pod) (rate(process_cpu_seconds_total{{{job}}}[{r}]))"),
                "{{pod}} cpu",
            )],
        )
        .timeseries(
            "Process resident memory",
            "bytes",
            Size::Third,
            &[(
                format!("sum by (pod) (process_resident_memory_bytes{{{job}}})"),
                "{{pod}}",
            )],
        )
        .timeseries(
            "Runtime: Node.js event loop lag p99 / Python GC",
            "s",
            Size::Third,
            &[
                (
                    format!("max by (pod) (nodejs_eventloop_lag_p99_seconds{{{job}}})"),
                    "{{pod}} event loop p99",
                ),
                (
                    format!("sum by (pod) (rate(python_gc_collections_total{{{job}}}[{r}]))"),
                    "{{pod}} gc/s",
                ),
            ],
        );
    }
    let logs = format!(
        "{{{}=\"{ns}\", {}=\"{}\"}}",
        d::LOG_LABEL_NAMESPACE,
        d::LOG_LABEL_APP,
        app.name
    );
    b.log_rate(
        "Error lines per minute",
        Size::Full,
        format!("sum by (pod) (count_over_time({logs} |~ `(?i)(error|fatal|panic|exception)` [1m]))"),
        "{{pod}}",
    )
    .logs("Logs", logs)
    .build()
}
