//! Service-level objectives: error-ratio recording rules over the SRE
//! workbook's windows and multi-window, multi-burn-rate alerts (page on a
//! fast burn, ticket on a slow one). Burn rates scale with the SLO window.

use std::collections::BTreeMap;

use super::traffic::{Source, app_source, sources};
use super::{Alert, Checked, Target, num};
use crate::content::crds::Rule;
use crate::content::defaults as d;
use crate::content::scenarios::Scenario;
use crate::spec::observability::Severity;
use crate::spec::values::Duration;

pub const ERROR_BUDGET_BURN: &str = "AppErrorBudgetBurn";
pub const LATENCY_BUDGET_BURN: &str = "AppLatencyBudgetBurn";
const RECORD_PREFIX: &str = "windlass:slo_errors:ratio_rate";

/// Every window a burn-rate alert reads, short and long, shortest first.
fn windows() -> Vec<Duration> {
    let mut w: Vec<Duration> = d::BURN_RATE_WINDOWS.iter().flat_map(|(l, s, _, _)| [*s, *l]).collect();
    w.sort();
    w.dedup();
    w
}

/// Burn-rate factor of each (long, short) window pair for an SLO window of `slo_seconds`.
pub fn burn_rates(slo_seconds: f64) -> Vec<(Duration, Duration, f64, Severity)> {
    d::BURN_RATE_WINDOWS
        .iter()
        .map(|(long, short, share, sev)| (*long, *short, share * slo_seconds / long.as_secs_f64(), *sev))
        .collect()
}

pub fn rules(t: &Target<'_>, slo_window: Duration) -> Checked {
    let mut out = Checked::default();
    let Some(slo) = &t.alerts().slo else {
        return out;
    };
    let slo_seconds = slo_window.as_secs_f64();
    let Some(src) = sources(t).into_iter().next() else {
        return out;
    };
    let budget = slo.availability_budget;
    out.extend(objective(t, Kind::Availability, &src, budget, slo_seconds, |w| {
        src.error_ratio(w)
    }));
    if let Some(lat) = &slo.latency
        && t.app.metrics.is_some()
    {
        let th = lat.threshold.as_secs_f64();
        let app = app_source(t);
        let le = num(th);
        let ratio = |w: &str| {
            let inner = app.buckets.trim_start_matches('{').trim_end_matches('}');
            format!(
                "1 - (\n  sum(rate({m}{{{inner}, le=\"{le}\"}}[{w}]))\n  /\n  sum(rate({m}{{{inner}, le=\"+Inf\"}}[{w}]))\n)",
                m = app.bucket_metric
            )
        };
        let mut checked = objective(t, Kind::Latency(th), &app, lat.budget, slo_seconds, ratio);
        // Both objectives' recording rules live in one group; keep them first.
        out.rules.append(&mut checked.rules);
        out.scenarios.append(&mut checked.scenarios);
    }
    // Recording rules before the alerts reading them, so one evaluation sees fresh values.
    out.rules.sort_by_key(|r| r.alert.is_some());
    out
}

#[derive(Clone, Copy)]
enum Kind {
    Availability,
    /// Latency threshold in seconds.
    Latency(f64),
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Availability => "availability",
            Kind::Latency(_) => "latency",
        }
    }
    fn alert(self) -> &'static str {
        match self {
            Kind::Availability => ERROR_BUDGET_BURN,
            Kind::Latency(_) => LATENCY_BUDGET_BURN,
        }
    }
}

fn objective(
    t: &Target<'_>,
    kind: Kind,
    src: &Source,
    budget: f64,
    slo_seconds: f64,
    ratio: impl Fn(&str) -> String,
) -> Checked {
    let mut out = Checked::default();
    let mut labels = t.labels();
    labels.insert("slo".to_string(), kind.label().to_string());
    for w in windows() {
        out.rules.push(Rule {
            alert: None,
            record: Some(format!("{RECORD_PREFIX}{w}")),
            expr: ratio(&w.to_string()),
            for_: None,
            labels: labels.clone(),
            annotations: BTreeMap::new(),
        });
    }
    let s = format!(
        "{{app=\"{}\", namespace=\"{}\", slo=\"{}\"}}",
        t.name(),
        t.namespace(),
        kind.label()
    );
    let rates = burn_rates(slo_seconds);
    for (i, sev) in [Severity::Critical, Severity::Warning].into_iter().enumerate() {
        let pairs: Vec<String> = rates
            .iter()
            .filter(|r| r.3 == sev)
            .map(|(long, short, factor, _)| {
                let limit = num(factor * budget);
                format!("(\n  {RECORD_PREFIX}{long}{s} > {limit}\n  and\n  {RECORD_PREFIX}{short}{s} > {limit}\n)")
            })
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let (what, pace) = match sev {
            Severity::Critical => ("page", "fast"),
            _ => ("ticket", "slowly but steadily"),
        };
        let objective = match kind {
            Kind::Availability => {
                format!("{}% of requests without a 5xx", num((1.0 - budget) * 100.0))
            }
            Kind::Latency(th) => format!("{}% of requests faster than {}s", num((1.0 - budget) * 100.0), num(th)),
        };
        let mut alert_labels = labels.clone();
        alert_labels.remove("slo");
        alert_labels.insert("slo".to_string(), kind.label().to_string());
        out.alert(Alert {
            name: kind.alert(),
            expr: pairs.join("\nor\n"),
            for_: d::BURN_RATE_FOR[i.min(1)],
            severity: sev,
            summary: format!("{} burns its {} error budget {pace} ({what})", t.name(), kind.label()),
            description: format!(
                "{}/{} is spending the error budget of its objective ({objective} over {}) {pace}: \
                 at this rate it is gone before the window ends.",
                t.namespace(),
                t.name(),
                num(slo_seconds / 86400.0) + "d"
            ),
            labels: alert_labels,
        });
    }
    // Scenarios: a burn faster than the fastest paging rate pages and tickets; half the slowest
    // ticketing rate stays quiet.
    let fastest = rates.iter().map(|r| r.2).fold(0.0, f64::max);
    let slowest = rates.iter().map(|r| r.2).fold(f64::INFINITY, f64::min);
    let bad = (budget * fastest * 1.4).min(0.9);
    let calm = budget * slowest / 2.0;
    let name = kind.alert();
    let scenario = |title: String, bad_ratio: f64| {
        let total = 1000.0;
        match kind {
            Kind::Availability => Scenario::new(title, "1m")
                .series(
                    src.series(src.requests_metric, &[(&src.err.0, &src.err.1)]),
                    format!("0+{}x60", num(total * bad_ratio)),
                )
                .series(
                    src.series(src.requests_metric, &[(&src.ok.0, &src.ok.1)]),
                    format!("0+{}x60", num(total * (1.0 - bad_ratio))),
                ),
            Kind::Latency(th) => Scenario::new(title, "1m")
                .series(
                    src.series(src.bucket_metric, &[("le", &num(th))]),
                    format!("0+{}x60", num(total * (1.0 - bad_ratio))),
                )
                .series(
                    src.series(src.bucket_metric, &[("le", "+Inf")]),
                    format!("0+{}x60", num(total)),
                ),
        }
    };
    let no_labels: Vec<(&str, &str)> = Vec::new();
    out.scenarios.push(
        scenario(
            format!(
                "{}: {}% bad requests burn the {} budget: page and ticket",
                t.name(),
                num(bad * 100.0),
                kind.label()
            ),
            bad,
        )
        .fires("30m", name, Severity::Critical, &no_labels)
        .fires("30m", name, Severity::Warning, &no_labels),
    );
    out.scenarios.push(
        scenario(
            format!(
                "{}: {}% bad requests stay within the {} budget",
                t.name(),
                num(calm * 100.0),
                kind.label()
            ),
            calm,
        )
        .quiet("30m", name)
        .quiet("60m", name),
    );
    out
}
