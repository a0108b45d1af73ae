//! Traffic: 5xx ratio and p99 latency per app, from the app's own
//! `http_requests_total` / `http_request_duration_seconds` (prom-client
//! conventions) and from the gateway or ingress controller in front of it.

use super::{Alert, Checked, Target, num, regex_escape, sel, timing};
use crate::content::defaults as d;
use crate::content::scenarios::Scenario;
use crate::model::AlertPolicy;
use crate::spec::TrafficMode;

pub const APP_ERRORS: &str = "AppErrorRateHigh";
pub const APP_LATENCY: &str = "AppLatencyHigh";
pub const ROUTE_ERRORS: &str = "RouteErrorRateHigh";
pub const ROUTE_LATENCY: &str = "RouteLatencyHigh";

pub fn rules(t: &Target<'_>) -> Checked {
    let a = t.alerts();
    let mut out = Checked::default();
    let errors = &a.error_rate;
    let latency = &a.latency;
    let sources = sources(t);
    for src in &sources {
        if let Some(c) = &errors {
            out.extend(error_rate(t, c, src));
        }
        if let Some(c) = &latency {
            out.extend(p99(t, c, src));
        }
    }
    out
}

/// Where an app's request metrics come from.
#[derive(Debug, Clone)]
pub struct Source {
    pub alert_errors: &'static str,
    pub alert_latency: &'static str,
    /// Selector of all requests.
    pub requests: String,
    pub requests_metric: &'static str,
    /// Matcher of 5xx responses added to `requests`.
    pub error_matcher: (String, String),
    pub bucket_metric: &'static str,
    pub buckets: String,
    /// Histogram unit in seconds (Envoy measures milliseconds).
    pub unit: f64,
    /// Labels of a sample series, for scenarios.
    pub sample: Vec<(String, String)>,
    /// (label, value) of a success and an error response, for scenarios.
    pub ok: (String, String),
    pub err: (String, String),
    pub what: &'static str,
}

/// The app's own metrics (when scraped) and its public routes (when it has hosts).
pub fn sources(t: &Target<'_>) -> Vec<Source> {
    let mut out = Vec::new();
    if t.app.metrics.is_some() {
        out.push(app_source(t));
    }
    if let Some(r) = route_source(t) {
        out.push(r);
    }
    out
}

pub fn app_source(t: &Target<'_>) -> Source {
    let status = t.alerts().status_label.clone();
    let base = sel(&[("namespace", "=", t.namespace()), ("job", "=", t.name())]);
    Source {
        alert_errors: APP_ERRORS,
        alert_latency: APP_LATENCY,
        requests: base.clone(),
        requests_metric: "http_requests_total",
        error_matcher: (status.clone(), "5..".to_string()),
        bucket_metric: "http_request_duration_seconds_bucket",
        buckets: base,
        unit: 1.0,
        sample: vec![
            ("namespace".into(), t.namespace().into()),
            ("job".into(), t.name().into()),
        ],
        ok: (status.clone(), "200".into()),
        err: (status, "500".into()),
        what: "the app's own metrics",
    }
}

/// The names of the app's HTTPRoutes / Ingresses: the app name for open routes, and
/// `<app>-<path slug>` for each route restricted by `allowFrom` (as `render::traffic` names them).
pub fn route_names(t: &Target<'_>) -> Vec<String> {
    crate::render::route_names(t.app)
}

fn route_source(t: &Target<'_>) -> Option<Source> {
    if t.app.hosts.is_empty() || t.app.port.is_none() {
        return None;
    }
    let names = route_names(t);
    let first = names.first()?.clone();
    let alternatives = names.iter().map(|n| regex_escape(n)).collect::<Vec<_>>().join("|");
    Some(match t.platform.traffic.mode {
        TrafficMode::Gateway => {
            // Envoy Gateway names the upstream cluster of an HTTPRoute rule `httproute/NS/NAME/rule/N`.
            let cluster = format!("httproute/{}/({alternatives})/rule/[0-9]+", regex_escape(t.namespace()));
            let s = sel(&[("envoy_cluster_name", "=~", &cluster)]);
            Source {
                alert_errors: ROUTE_ERRORS,
                alert_latency: ROUTE_LATENCY,
                requests: s.clone(),
                requests_metric: "envoy_cluster_upstream_rq_xx",
                error_matcher: ("envoy_response_code_class".into(), "5".into()),
                bucket_metric: "envoy_cluster_upstream_rq_time_bucket",
                buckets: s,
                unit: 0.001,
                sample: vec![(
                    "envoy_cluster_name".into(),
                    format!("httproute/{}/{first}/rule/0", t.namespace()),
                )],
                ok: ("envoy_response_code_class".into(), "2".into()),
                err: ("envoy_response_code_class".into(), "5".into()),
                what: "the gateway (Envoy)",
            }
        }
        TrafficMode::Ingress => {
            // Scraped through the controller's ServiceMonitor, the Ingress namespace becomes `exported_namespace`.
            let s = sel(&[
                ("exported_namespace", "=", t.namespace()),
                ("ingress", "=~", &alternatives),
            ]);
            Source {
                alert_errors: ROUTE_ERRORS,
                alert_latency: ROUTE_LATENCY,
                requests: s.clone(),
                requests_metric: "nginx_ingress_controller_requests",
                error_matcher: ("status".into(), "5..".into()),
                bucket_metric: "nginx_ingress_controller_request_duration_seconds_bucket",
                buckets: s,
                unit: 1.0,
                sample: vec![
                    ("exported_namespace".into(), t.namespace().into()),
                    ("ingress".into(), first),
                ],
                ok: ("status".into(), "200".into()),
                err: ("status".into(), "503".into()),
                what: "the ingress controller",
            }
        }
    })
}

impl Source {
    fn with(&self, extra: &(String, String), op: &str) -> String {
        let inner = self.requests.trim_start_matches('{').trim_end_matches('}');
        let m = sel(&[(extra.0.as_str(), op, extra.1.as_str())]);
        format!("{{{inner}, {}}}", m.trim_start_matches('{').trim_end_matches('}'))
    }
    /// PromQL of the 5xx ratio over `window`.
    pub fn error_ratio(&self, window: &str) -> String {
        format!(
            "sum(rate({m}{e}[{window}]))\n/\nsum(rate({m}{a}[{window}]))",
            m = self.requests_metric,
            e = self.with(&self.error_matcher, "=~"),
            a = self.requests,
        )
    }
    /// PromQL of a latency quantile over `window`, in seconds.
    pub fn quantile(&self, q: f64, window: &str) -> String {
        let base = format!(
            "histogram_quantile({}, sum by (le) (rate({}{}[{window}])))",
            num(q),
            self.bucket_metric,
            self.buckets
        );
        if (self.unit - 1.0).abs() < f64::EPSILON {
            base
        } else {
            format!("{base} * {}", num(self.unit))
        }
    }
    pub fn series(&self, metric: &str, extra: &[(&str, &str)]) -> String {
        let mut labels: Vec<String> = self.sample.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        labels.extend(extra.iter().map(|(k, v)| format!("{k}=\"{v}\"")));
        format!("{metric}{{{}}}", labels.join(", "))
    }
}

fn error_rate(t: &Target<'_>, c: &AlertPolicy, src: &Source) -> Checked {
    let expr = format!("(\n{}\n) > {}", src.error_ratio(d::TRAFFIC_WINDOW), num(c.threshold));
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(Alert {
        name: src.alert_errors,
        expr,
        for_: c.for_,
        severity: c.severity,
        summary: format!("{} answers too many requests with 5xx", t.name()),
        description: format!(
            "More than {}% of the requests to {}/{} fail with a 5xx status, measured by {}.",
            num(c.threshold * 100.0),
            t.namespace(),
            t.name(),
            src.what
        ),
        labels: t.labels(),
    });
    let total = 1000.0;
    let fire = (c.threshold * 2.0).min(0.9);
    let calm = c.threshold / 5.0;
    let scenario = |name: String, ratio: f64| {
        Scenario::new(name, "1m")
            .series(
                src.series(src.requests_metric, &[(&src.err.0, &src.err.1)]),
                format!("0+{}x{n}", num(total * ratio)),
            )
            .series(
                src.series(src.requests_metric, &[(&src.ok.0, &src.ok.1)]),
                format!("0+{}x{n}", num(total * (1.0 - ratio))),
            )
    };
    let labels: Vec<(&str, &str)> = Vec::new();
    out.scenarios.push(
        scenario(
            format!(
                "{}: {}% errors from {} fires {}",
                t.name(),
                num(fire * 100.0),
                src.what,
                src.alert_errors
            ),
            fire,
        )
        .fires(&at, src.alert_errors, c.severity, &labels),
    );
    out.scenarios.push(
        scenario(
            format!(
                "{}: {}% errors from {} stays quiet",
                t.name(),
                num(calm * 100.0),
                src.what
            ),
            calm,
        )
        .quiet(&at, src.alert_errors),
    );
    out
}

fn p99(t: &Target<'_>, c: &AlertPolicy, src: &Source) -> Checked {
    let expr = format!(
        "{} > {}",
        src.quantile(d::LATENCY_QUANTILE, d::TRAFFIC_WINDOW),
        num(c.threshold)
    );
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(Alert {
        name: src.alert_latency,
        expr,
        for_: c.for_,
        severity: c.severity,
        summary: format!("{} responds slowly", t.name()),
        description: format!(
            "The p{} response time of {}/{} is above {}s, measured by {}.",
            num(d::LATENCY_QUANTILE * 100.0),
            t.namespace(),
            t.name(),
            num(c.threshold),
            src.what
        ),
        labels: t.labels(),
    });
    // Buckets around the threshold, in the histogram's unit.
    let low = num(c.threshold / 2.0 / src.unit);
    let high = num(c.threshold * 4.0 / src.unit);
    let scenario = |name: String, fast_per_min: u32| {
        Scenario::new(name, "1m")
            .series(
                src.series(src.bucket_metric, &[("le", &low)]),
                format!("0+{fast_per_min}x{n}"),
            )
            .series(src.series(src.bucket_metric, &[("le", &high)]), format!("0+100x{n}"))
            .series(src.series(src.bucket_metric, &[("le", "+Inf")]), format!("0+100x{n}"))
    };
    let labels: Vec<(&str, &str)> = Vec::new();
    out.scenarios.push(
        scenario(
            format!(
                "{}: 90% of requests slower than {}s fires {}",
                t.name(),
                num(c.threshold / 2.0),
                src.alert_latency
            ),
            10,
        )
        .fires(&at, src.alert_latency, c.severity, &labels),
    );
    out.scenarios.push(
        scenario(
            format!(
                "{}: all requests under {}s stay quiet",
                t.name(),
                num(c.threshold / 2.0)
            ),
            100,
        )
        .quiet(&at, src.alert_latency),
    );
    out
}
