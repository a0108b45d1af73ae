//! App health: crash loops, OOM kills, pods not ready, replicas and rollouts,
//! autoscaler at its ceiling, disruption budgets and failed jobs, all from
//! kube-state-metrics and scoped to the app's own pods and controllers.

use super::{Alert, Checked, Target, num, sel, timing};
use crate::content::scenarios::{Scenario, stepping};
use crate::model::{AlertPolicy, Scaling};
use crate::spec::AppKind;

pub fn rules(t: &Target<'_>) -> Checked {
    let a = t.alerts();
    let mut out = Checked::default();
    let kind = t.app.kind;
    if let Some(c) = &a.crash_loop {
        out.extend(crash_loop(t, c));
    }
    if let Some(c) = &a.oom_killed {
        out.extend(oom_killed(t, c));
    }
    if kind != AppKind::Cron
        && let Some(c) = &a.not_ready
    {
        out.extend(not_ready(t, c));
    }
    match kind {
        AppKind::Web | AppKind::Worker => {
            if let Some(c) = &a.replicas_mismatch {
                out.extend(replicas_mismatch(t, c, Controller::Deployment));
            }
            if let Some(c) = &a.rollout_stuck {
                out.extend(rollout_stuck(t, c));
            }
        }
        AppKind::Statefulset => {
            if let Some(c) = &a.replicas_mismatch {
                out.extend(replicas_mismatch(t, c, Controller::StatefulSet));
            }
        }
        AppKind::Cron => {
            if let Some(c) = &a.job_failed {
                out.extend(job_failed(t, c));
            }
        }
    }
    if matches!(t.app.scaling, Scaling::Auto { .. })
        && kind != AppKind::Cron
        && let Some(c) = &a.hpa_maxed_out
    {
        out.extend(hpa_maxed_out(t, c));
    }
    if kind != AppKind::Cron
        && let Some(c) = &a.pdb_unhealthy
    {
        out.extend(pdb_unhealthy(t, c));
    }
    out
}

fn pods(t: &Target<'_>) -> [(&'static str, &'static str, String); 2] {
    [
        ("namespace", "=", t.namespace().to_string()),
        ("pod", "=~", t.pod_regex()),
    ]
}

fn selector(extra: &[(&str, &str, &str)], base: &[(&'static str, &'static str, String)]) -> String {
    let mut m: Vec<(&str, &str, &str)> = extra.to_vec();
    m.extend(base.iter().map(|(k, op, v)| (*k, *op, v.as_str())));
    sel(&m)
}

fn alert(
    t: &Target<'_>,
    c: &AlertPolicy,
    name: &'static str,
    expr: String,
    summary: String,
    description: &str,
) -> Alert {
    Alert {
        name,
        expr,
        for_: c.for_,
        severity: c.severity,
        summary,
        description: description.to_string(),
        labels: t.labels(),
    }
}

pub const CRASH_LOOPING: &str = "AppCrashLooping";

fn crash_loop(t: &Target<'_>, c: &AlertPolicy) -> Checked {
    let p = pods(t);
    let waiting = selector(&[("reason", "=", "CrashLoopBackOff")], &p);
    let restarts = selector(&[], &p);
    let expr = format!(
        "max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{waiting}[5m])) >= 1\n\
         or\n\
         max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{restarts}[1h])) > {}",
        num(c.threshold)
    );
    let mut out = Checked::default();
    out.alert(alert(
        t,
        c,
        CRASH_LOOPING,
        expr,
        format!("{} is crash-looping", t.name()),
        "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} keeps restarting \
         (CrashLoopBackOff, or more restarts an hour than the threshold). Check `kubectl logs --previous`.",
    ));
    let (at, n) = timing(c.for_);
    let pod = t.sample_pod();
    let ns = t.namespace();
    let labels = [("namespace", ns), ("pod", pod.as_str()), ("container", t.name())];
    let waiting_series = format!(
        "kube_pod_container_status_waiting_reason{{namespace=\"{ns}\", pod=\"{pod}\", container=\"{}\", reason=\"CrashLoopBackOff\"}}",
        t.name()
    );
    let restart_series = format!(
        "kube_pod_container_status_restarts_total{{namespace=\"{ns}\", pod=\"{pod}\", container=\"{}\"}}",
        t.name()
    );
    out.scenarios.push(
        Scenario::new(
            format!("{}: CrashLoopBackOff for {n} minutes fires {CRASH_LOOPING}", t.name()),
            "1m",
        )
        .series(waiting_series.clone(), format!("1x{n}"))
        .series(restart_series.clone(), format!("0+1x{n}"))
        .fires(&at, CRASH_LOOPING, c.severity, &labels),
    );
    out.scenarios.push(
        Scenario::new(format!("{}: one restart in a healthy hour stays quiet", t.name()), "1m")
            .series(waiting_series, "0x90")
            .series(restart_series, stepping(1, 30, 60))
            .quiet("45m", CRASH_LOOPING)
            .quiet("90m", CRASH_LOOPING),
    );
    out
}

pub const OOM_KILLED: &str = "AppOOMKilled";

fn oom_killed(t: &Target<'_>, c: &AlertPolicy) -> Checked {
    let p = pods(t);
    let expr = format!(
        "max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{}[10m])) >= 1\n\
         and on (namespace, pod, container)\n\
         max by (namespace, pod, container) (kube_pod_container_status_last_terminated_reason{}) == 1",
        selector(&[], &p),
        selector(&[("reason", "=", "OOMKilled")], &p),
    );
    let mut out = Checked::default();
    out.alert(alert(
        t,
        c,
        OOM_KILLED,
        expr,
        format!("{} was killed for running out of memory", t.name()),
        "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} was OOMKilled: \
         it used more memory than its limit. Raise `resources.limits.memory` or find the leak.",
    ));
    let pod = t.sample_pod();
    let ns = t.namespace();
    let base = format!("namespace=\"{ns}\", pod=\"{pod}\", container=\"{}\"", t.name());
    out.scenarios.push(
        Scenario::new(
            format!("{}: a restart after an OOM kill fires {OOM_KILLED}", t.name()),
            "1m",
        )
        .series(
            format!("kube_pod_container_status_restarts_total{{{base}}}"),
            "0x5 1x20",
        )
        .series(
            format!("kube_pod_container_status_last_terminated_reason{{{base}, reason=\"OOMKilled\"}}"),
            "0x5 1x20",
        )
        .fires(
            &format!("{}m", 7 + super::minutes(c.for_)),
            OOM_KILLED,
            c.severity,
            &[("namespace", ns), ("pod", &pod), ("container", t.name())],
        )
        .quiet("25m", OOM_KILLED),
    );
    out.scenarios.push(
        Scenario::new(
            format!("{}: a restart after an error exit is not an OOM kill", t.name()),
            "1m",
        )
        .series(
            format!("kube_pod_container_status_restarts_total{{{base}}}"),
            "0x5 1x20",
        )
        .series(
            format!("kube_pod_container_status_last_terminated_reason{{{base}, reason=\"Error\"}}"),
            "0x5 1x20",
        )
        .quiet("8m", OOM_KILLED),
    );
    out
}

pub const NOT_READY: &str = "AppPodNotReady";

fn not_ready(t: &Target<'_>, c: &AlertPolicy) -> Checked {
    let expr = format!(
        "max by (namespace, pod) (kube_pod_status_ready{}) == 1",
        selector(&[("condition", "=", "false")], &pods(t))
    );
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(alert(
        t,
        c,
        NOT_READY,
        expr,
        format!("A pod of {} is not ready", t.name()),
        "Pod {{ $labels.namespace }}/{{ $labels.pod }} has not been ready for a while: it gets no traffic. \
         Check its readiness probe and events (`windlass doctor`).",
    ));
    let pod = t.sample_pod();
    let ns = t.namespace();
    // A pod of another app whose name starts with this app's name must not count.
    let other = format!("{}-admin-6c8d9f7b5-m2n4p", t.name());
    out.scenarios.push(
        Scenario::new(
            format!("{}: a pod not ready for {n} minutes fires {NOT_READY}", t.name()),
            "1m",
        )
        .series(
            format!("kube_pod_status_ready{{namespace=\"{ns}\", pod=\"{pod}\", condition=\"false\"}}"),
            format!("1x{n}"),
        )
        .fires(&at, NOT_READY, c.severity, &[("namespace", ns), ("pod", &pod)]),
    );
    out.scenarios.push(
        Scenario::new(
            format!("{}: ready pods (and another app's unready pod) stay quiet", t.name()),
            "1m",
        )
        .series(
            format!("kube_pod_status_ready{{namespace=\"{ns}\", pod=\"{pod}\", condition=\"false\"}}"),
            format!("0x{n}"),
        )
        .series(
            format!("kube_pod_status_ready{{namespace=\"{ns}\", pod=\"{other}\", condition=\"false\"}}"),
            format!("1x{n}"),
        )
        .quiet(&at, NOT_READY),
    );
    out
}

#[derive(Clone, Copy)]
enum Controller {
    Deployment,
    StatefulSet,
}

pub const DEPLOYMENT_MISMATCH: &str = "AppDeploymentReplicasMismatch";
pub const STATEFULSET_MISMATCH: &str = "AppStatefulSetReplicasMismatch";

fn replicas_mismatch(t: &Target<'_>, c: &AlertPolicy, ctl: Controller) -> Checked {
    let (name, label, desired, available, updated, what) = match ctl {
        Controller::Deployment => (
            DEPLOYMENT_MISMATCH,
            "deployment",
            "kube_deployment_spec_replicas",
            "kube_deployment_status_replicas_available",
            "kube_deployment_status_replicas_updated",
            "Deployment",
        ),
        Controller::StatefulSet => (
            STATEFULSET_MISMATCH,
            "statefulset",
            "kube_statefulset_replicas",
            "kube_statefulset_status_replicas_ready",
            "kube_statefulset_status_replicas_updated",
            "StatefulSet",
        ),
    };
    let s = sel(&[("namespace", "=", t.namespace()), (label, "=", t.name())]);
    let by = format!("max by (namespace, {label})");
    let expr = format!(
        "({by} ({desired}{s}) > {by} ({available}{s}))\n\
         and on (namespace, {label})\n\
         ({by} (changes({updated}{s}[10m])) == 0)"
    );
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(alert(
        t,
        c,
        name,
        expr,
        format!("{what} {} has fewer ready replicas than desired", t.name()),
        &format!(
            "{what} {{{{ $labels.namespace }}}}/{{{{ $labels.{label} }}}} has had fewer available replicas than desired \
             for a while, and no rollout is progressing."
        ),
    ));
    let ns = t.namespace();
    let name_label = format!("{label}=\"{}\"", t.name());
    out.scenarios.push(
        Scenario::new(format!("{}: 0 of 2 replicas available fires {name}", t.name()), "1m")
            .series(
                format!("{desired}{{namespace=\"{ns}\", {name_label}}}"),
                format!("2x{n}"),
            )
            .series(
                format!("{available}{{namespace=\"{ns}\", {name_label}}}"),
                format!("0x{n}"),
            )
            .series(
                format!("{updated}{{namespace=\"{ns}\", {name_label}}}"),
                format!("2x{n}"),
            )
            .fires(&at, name, c.severity, &[("namespace", ns), (label, t.name())]),
    );
    out.scenarios.push(
        Scenario::new(format!("{}: all replicas available stays quiet", t.name()), "1m")
            .series(
                format!("{desired}{{namespace=\"{ns}\", {name_label}}}"),
                format!("2x{n}"),
            )
            .series(
                format!("{available}{{namespace=\"{ns}\", {name_label}}}"),
                format!("2x{n}"),
            )
            .series(
                format!("{updated}{{namespace=\"{ns}\", {name_label}}}"),
                format!("2x{n}"),
            )
            .quiet(&at, name),
    );
    out
}

pub const ROLLOUT_STUCK: &str = "AppRolloutStuck";

fn rollout_stuck(t: &Target<'_>, c: &AlertPolicy) -> Checked {
    let s = sel(&[
        ("namespace", "=", t.namespace()),
        ("deployment", "=", t.name()),
        ("condition", "=", "Progressing"),
        ("status", "=", "false"),
    ]);
    let expr = format!("max by (namespace, deployment) (kube_deployment_status_condition{s}) == 1");
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(alert(
        t,
        c,
        ROLLOUT_STUCK,
        expr,
        format!("The rollout of {} is stuck", t.name()),
        "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} exceeded its progress deadline: \
         new pods do not become ready. Roll back (`windlass up` does) or fix the new version.",
    ));
    let ns = t.namespace();
    let series = |status: &str| {
        format!(
            "kube_deployment_status_condition{{namespace=\"{ns}\", deployment=\"{}\", condition=\"Progressing\", status=\"{status}\"}}",
            t.name()
        )
    };
    out.scenarios.push(
        Scenario::new(format!("{}: Progressing=False fires {ROLLOUT_STUCK}", t.name()), "1m")
            .series(series("false"), format!("1x{n}"))
            .series(series("true"), format!("0x{n}"))
            .fires(
                &at,
                ROLLOUT_STUCK,
                c.severity,
                &[("namespace", ns), ("deployment", t.name())],
            ),
    );
    out.scenarios.push(
        Scenario::new(format!("{}: a progressing rollout stays quiet", t.name()), "1m")
            .series(series("false"), format!("0x{n}"))
            .series(series("true"), format!("1x{n}"))
            .quiet(&at, ROLLOUT_STUCK),
    );
    out
}

pub const HPA_MAXED_OUT: &str = "AppAutoscalerMaxedOut";

fn hpa_maxed_out(t: &Target<'_>, c: &AlertPolicy) -> Checked {
    let s = sel(&[
        ("namespace", "=", t.namespace()),
        ("horizontalpodautoscaler", "=", t.name()),
    ]);
    let by = "max by (namespace, horizontalpodautoscaler)";
    let expr = format!(
        "{by} (kube_horizontalpodautoscaler_status_current_replicas{s})\n>= {by} (kube_horizontalpodautoscaler_spec_max_replicas{s})"
    );
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(alert(
        t,
        c,
        HPA_MAXED_OUT,
        expr,
        format!("{} runs at its autoscaling maximum", t.name()),
        "HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maximum \
         replicas for a while: more load will not be absorbed. Raise `autoscaling.max` or find the hot path.",
    ));
    let ns = t.namespace();
    let lbl = format!("namespace=\"{ns}\", horizontalpodautoscaler=\"{}\"", t.name());
    out.scenarios.push(
        Scenario::new(
            format!("{}: 10 of max 10 replicas fires {HPA_MAXED_OUT}", t.name()),
            "1m",
        )
        .series(
            format!("kube_horizontalpodautoscaler_status_current_replicas{{{lbl}}}"),
            format!("10x{n}"),
        )
        .series(
            format!("kube_horizontalpodautoscaler_spec_max_replicas{{{lbl}}}"),
            format!("10x{n}"),
        )
        .fires(
            &at,
            HPA_MAXED_OUT,
            c.severity,
            &[("namespace", ns), ("horizontalpodautoscaler", t.name())],
        ),
    );
    out.scenarios.push(
        Scenario::new(format!("{}: 4 of max 10 replicas stays quiet", t.name()), "1m")
            .series(
                format!("kube_horizontalpodautoscaler_status_current_replicas{{{lbl}}}"),
                format!("4x{n}"),
            )
            .series(
                format!("kube_horizontalpodautoscaler_spec_max_replicas{{{lbl}}}"),
                format!("10x{n}"),
            )
            .quiet(&at, HPA_MAXED_OUT),
    );
    out
}

pub const PDB_UNHEALTHY: &str = "AppDisruptionBudgetUnhealthy";

fn pdb_unhealthy(t: &Target<'_>, c: &AlertPolicy) -> Checked {
    let s = sel(&[
        ("namespace", "=", t.namespace()),
        ("poddisruptionbudget", "=", t.name()),
    ]);
    let by = "max by (namespace, poddisruptionbudget)";
    let expr = format!(
        "{by} (kube_poddisruptionbudget_status_current_healthy{s})\n< {by} (kube_poddisruptionbudget_status_desired_healthy{s})"
    );
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(alert(
        t,
        c,
        PDB_UNHEALTHY,
        expr,
        format!("{} has fewer healthy pods than its disruption budget needs", t.name()),
        "PodDisruptionBudget {{ $labels.namespace }}/{{ $labels.poddisruptionbudget }} has fewer healthy pods than it \
         requires: a node drain would take the app down or be refused.",
    ));
    let ns = t.namespace();
    let lbl = format!("namespace=\"{ns}\", poddisruptionbudget=\"{}\"", t.name());
    out.scenarios.push(
        Scenario::new(
            format!("{}: 1 healthy of 2 required fires {PDB_UNHEALTHY}", t.name()),
            "1m",
        )
        .series(
            format!("kube_poddisruptionbudget_status_current_healthy{{{lbl}}}"),
            format!("1x{n}"),
        )
        .series(
            format!("kube_poddisruptionbudget_status_desired_healthy{{{lbl}}}"),
            format!("2x{n}"),
        )
        .fires(
            &at,
            PDB_UNHEALTHY,
            c.severity,
            &[("namespace", ns), ("poddisruptionbudget", t.name())],
        ),
    );
    out.scenarios.push(
        Scenario::new(format!("{}: a healthy budget stays quiet", t.name()), "1m")
            .series(
                format!("kube_poddisruptionbudget_status_current_healthy{{{lbl}}}"),
                format!("3x{n}"),
            )
            .series(
                format!("kube_poddisruptionbudget_status_desired_healthy{{{lbl}}}"),
                format!("2x{n}"),
            )
            .quiet(&at, PDB_UNHEALTHY),
    );
    out
}

pub const JOB_FAILED: &str = "AppJobFailed";

fn job_failed(t: &Target<'_>, c: &AlertPolicy) -> Checked {
    let s = sel(&[
        ("namespace", "=", t.namespace()),
        ("job_name", "=~", &format!("{}-[0-9]+", super::regex_escape(t.name()))),
        ("condition", "=", "true"),
    ]);
    let expr = format!("max by (namespace, job_name) (kube_job_failed{s}) == 1");
    let (at, n) = timing(c.for_);
    let mut out = Checked::default();
    out.alert(alert(
        t,
        c,
        JOB_FAILED,
        expr,
        format!("A run of {} failed", t.name()),
        "Job {{ $labels.namespace }}/{{ $labels.job_name }} failed after its retries. \
         Check `kubectl logs job/{{ $labels.job_name }}`.",
    ));
    let ns = t.namespace();
    let job = format!("{}-29130000", t.name());
    let series =
        |cond: &str| format!("kube_job_failed{{namespace=\"{ns}\", job_name=\"{job}\", condition=\"{cond}\"}}");
    out.scenarios.push(
        Scenario::new(format!("{}: a failed run fires {JOB_FAILED}", t.name()), "1m")
            .series(series("true"), format!("1x{n}"))
            .series(series("false"), format!("0x{n}"))
            .fires(&at, JOB_FAILED, c.severity, &[("namespace", ns), ("job_name", &job)]),
    );
    out.scenarios.push(
        Scenario::new(format!("{}: a successful run stays quiet", t.name()), "1m")
            .series(series("true"), format!("0x{n}"))
            .series(series("false"), format!("1x{n}"))
            .quiet(&at, JOB_FAILED),
    );
    out
}
