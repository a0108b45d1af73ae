//! SLOs and error budgets: for every app with an objective, the error
//! ratio, the burn rate and the budget left over the SLO window.

use super::{Builder, Dashboard, Size};
use crate::content::alerts::num;
use crate::content::defaults as d;
use crate::model::{App, Platform};
use crate::spec::observability::ObservabilitySpec;

pub fn dashboard(platform: &Platform, obs: &ObservabilitySpec, apps: &[&App]) -> Option<Dashboard> {
    let with_slo: Vec<&&App> = apps.iter().filter(|a| a.spec.alerts.slo.is_some()).collect();
    if with_slo.is_empty() {
        return None;
    }
    let window = obs.slo.window.clone().unwrap_or_else(|| d::SLO_WINDOW.to_string());
    let mut b = Builder::new(
        super::uid(&["windlass-slo", &platform.name]),
        format!("{} / SLOs", platform.name),
        &["slo"],
    );
    for app in with_slo {
        let Some(slo) = &app.spec.alerts.slo else {
            continue;
        };
        let mut objectives = vec![("availability", 1.0 - slo.availability / 100.0)];
        if let Some(l) = &slo.latency
            && app.metrics.is_some()
        {
            objectives.push(("latency", 1.0 - l.objective / 100.0));
        }
        for (kind, budget) in objectives {
            let s = format!(
                "{{app=\"{}\", namespace=\"{}\", slo=\"{kind}\"}}",
                app.name, app.namespace
            );
            let budget = num(budget);
            b.stat(
                &format!("{} {kind}: error budget left ({window})", app.name),
                "percentunit",
                Size::Third,
                &[(
                    format!("1 - avg_over_time(windlass:slo_errors:ratio_rate5m{s}[{window}]) / {budget}"),
                    "",
                )],
            )
            .timeseries(
                &format!("{} {kind}: burn rate", app.name),
                "none",
                Size::Third,
                &[
                    (format!("windlass:slo_errors:ratio_rate1h{s} / {budget}"), "1h"),
                    (format!("windlass:slo_errors:ratio_rate6h{s} / {budget}"), "6h"),
                    (format!("windlass:slo_errors:ratio_rate3d{s} / {budget}"), "3d"),
                ],
            )
            .timeseries(
                &format!("{} {kind}: bad request ratio", app.name),
                "percentunit",
                Size::Third,
                &[(format!("windlass:slo_errors:ratio_rate5m{s}"), "5m")],
            );
        }
    }
    Some(b.build())
}
