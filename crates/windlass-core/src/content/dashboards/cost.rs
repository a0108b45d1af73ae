//! Cost per namespace, OpenCost-style: resource requests times a list price
//! per core-hour and GiB-hour (requests are what the scheduler reserves).

use super::{Builder, Dashboard, Size};
use crate::content::alerts::num;
use crate::model::Platform;

/// Hours in an average month.
const HOURS_PER_MONTH: f64 = 730.0;

pub fn dashboard(platform: &Platform) -> Dashboard {
    let cost = platform.observability.cost;
    let cpu = num(cost.cpu_core_hour);
    let mem = num(cost.memory_gib_hour);
    let hourly = format!(
        "sum by (namespace) (kube_pod_container_resource_requests{{resource=\"cpu\"}}) * {cpu}\n\
         + sum by (namespace) (kube_pod_container_resource_requests{{resource=\"memory\"}}) / 1073741824 * {mem}"
    );
    Builder::new(super::uid(&["windlass-cost", &platform.name]), format!("{} / cost", platform.name), &["cost"])
        .stat("Estimated monthly cost", "currencyUSD", Size::Third, &[(
            format!("sum(\n{hourly}\n) * {}", num(HOURS_PER_MONTH)),
            "",
        )])
        .timeseries("Monthly cost by namespace", "currencyUSD", Size::Full, &[(
            format!("(\n{hourly}\n) * {}", num(HOURS_PER_MONTH)),
            "{{namespace}}",
        )])
        .timeseries("CPU requested vs used by namespace", "none", Size::Half, &[
            ("sum by (namespace) (kube_pod_container_resource_requests{resource=\"cpu\"})".to_string(), "{{namespace}} requested"),
            (
                "sum by (namespace) (rate(container_cpu_usage_seconds_total{container!=\"\"}[$__rate_interval]))".to_string(),
                "{{namespace}} used",
            ),
        ])
        .timeseries("Idle requested CPU by namespace (paid, unused)", "none", Size::Half, &[(
            "sum by (namespace) (kube_pod_container_resource_requests{resource=\"cpu\"})\n- sum by (namespace) (rate(container_cpu_usage_seconds_total{container!=\"\"}[$__rate_interval]))"
                .to_string(),
            "{{namespace}}",
        )])
        .build()
}
