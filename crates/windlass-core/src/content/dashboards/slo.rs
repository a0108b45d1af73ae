//! SLOs and error budgets: for every app with an objective, the error
//! ratio, the burn rate and the budget left over the SLO window.

use super::{Builder, Dashboard, Size};
use crate::content::alerts::num;
use crate::model::{App, Platform};

pub fn dashboard(platform: &Platform, apps: &[&App]) -> Option<Dashboard> {
    let with_slo: Vec<&&App> = apps.iter().filter(|a| a.alerts.slo.is_some()).collect();
    if with_slo.is_empty() {
        return None;
    }
    let window = platform.observability.slo_window;
    let mut b = Builder::new(
        super::uid(&["windlass-slo", &platform.name]),
        format!("{} / SLOs", platform.name),
        &["slo"],
    );
    for app in with_slo {
        let Some(slo) = &app.alerts.slo else {
            continue;
        };
        let mut objectives = vec![("availability", slo.availability_budget)];
        if let Some(l) = &slo.latency
            && app.metrics.is_some()
        {
            objectives.push(("latency", l.budget));
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
