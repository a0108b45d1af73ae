//! What only a live cluster shows, from the objects' own status and
//! timestamps (Events expire after an hour; these do not): crash loops and
//! OOM kills with their duration and restarts, Pending pods with the reason,
//! pods never Ready, rollouts past their deadline, Certificates not Ready or
//! expiring, webhooks and APIServices without a backend, objects stuck
//! Terminating, HPAs that cannot scale, budgets that allow no disruption for
//! long, CronJobs that stopped succeeding, nodes NotReady or under pressure.

use crate::check::index::items;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::{Ctx, Out};
use crate::check::Severity;
use crate::render::Object;
use crate::source::FieldPath;

/// How long a running pod may stay unready before it is reported (a start is not a problem).
const NOT_READY_GRACE: i64 = 30;
/// How long a pod may stay Pending before it is an error rather than a warning.
const PENDING_ERROR_AFTER: i64 = 300;
/// How long an object may stay Terminating before it is an error.
const TERMINATING_ERROR_AFTER: i64 = 600;
/// How long a budget may allow no disruption before it is reported.
const PDB_BLOCKED_AFTER: i64 = 3600;
/// A Certificate expiring within this many days is a warning; within 7, an error.
const CERT_WARN_DAYS: i64 = 30;

fn ts(v: Option<&Value>) -> Option<Timestamp> {
    v.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

fn secs(now: Timestamp, since: Timestamp) -> i64 {
    now.duration_since(since).as_secs()
}

/// A duration in the largest unit that fits: "17 days", "3 h", "12 min", "40 s".
pub fn human(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 86_400 => "1 day".to_string(),
        s if s >= 3_600 => format!("{} h", s / 3_600),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

fn restarts_text(n: i64) -> String {
    if n == 1 {
        "1 restart".to_string()
    } else {
        format!("{n} restarts")
    }
}

fn condition<'v>(o: &'v Object, kind: &str) -> Option<&'v Value> {
    o.at(&["status", "conditions"])?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn status_of(c: Option<&Value>) -> &str {
    c.and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        .unwrap_or("Unknown")
}

fn text<'v>(c: Option<&'v Value>, field: &str) -> &'v str {
    c.and_then(|c| c.get(field)).and_then(Value::as_str).unwrap_or("")
}

fn status() -> FieldPath {
    FieldPath::root().key("status")
}

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    pods(cx, out, now);
    pvcs(cx, out);
    rollouts(cx, out, now);
    certificates(cx, out, now);
    webhooks(cx, out);
    terminating(cx, out, now);
    autoscalers(cx, out, now);
    budgets(cx, out, now);
    cronjobs(cx, out, now);
    nodes(cx, out, now);
}

fn memory_limit<'v>(pod: &'v Object, container: &str) -> Option<&'v str> {
    pod.at(&["spec", "containers"])?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(container))?
        .pointer("/resources/limits/memory")?
        .as_str()
}

fn pods(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    for (i, pod) in cx.index.of_kind("Pod") {
        if pod.at(&["metadata", "deletionTimestamp"]).is_some() {
            continue;
        }
        let phase = pod.at(&["status", "phase"]).and_then(Value::as_str).unwrap_or("");
        let started = ts(pod.at(&["status", "startTime"])).or(ts(pod.at(&["metadata", "creationTimestamp"])));
        let mut looping = false;
        for (k, cs) in pod.list(&["status", "containerStatuses"]).enumerate() {
            let name = cs.get("name").and_then(Value::as_str).unwrap_or("?");
            let restarts = cs.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            let waiting = cs
                .pointer("/state/waiting/reason")
                .and_then(Value::as_str)
                .unwrap_or("");
            let last = cs.pointer("/lastState/terminated");
            let at = status().key("containerStatuses").index(k);
            let last_reason = last.and_then(|t| t.get("reason")).and_then(Value::as_str).unwrap_or("");
            // A container that crashed once while a dependency started is not a loop yet.
            if (waiting == "CrashLoopBackOff" && restarts >= 3) || restarts >= 5 {
                looping = true;
                let since = started.map_or(String::new(), |s| format!(" for {}", human(secs(now, s))));
                let exit = last.map_or(String::new(), |t| {
                    format!(
                        "; last exit: {} (code {})",
                        if last_reason.is_empty() { "Error" } else { last_reason },
                        t.get("exitCode").and_then(Value::as_i64).unwrap_or(0)
                    )
                });
                out.report(
                    i,
                    "crash-loop",
                    at.clone(),
                    format!(
                        "container `{name}` is crash-looping{since}, {}{exit}",
                        restarts_text(restarts)
                    ),
                );
            }
            if last_reason == "OOMKilled"
                || cs.pointer("/state/terminated/reason").and_then(Value::as_str) == Some("OOMKilled")
            {
                let limit =
                    memory_limit(pod, name).map_or("no memory limit".to_string(), |l| format!("its memory limit {l}"));
                let when = ts(last.and_then(|t| t.get("finishedAt")))
                    .map_or(String::new(), |t| format!(" {} ago", human(secs(now, t))));
                out.report(
                    i,
                    "oom-killed",
                    at.key("lastState"),
                    format!(
                        "container `{name}` was OOMKilled{when}, over {limit} ({})",
                        restarts_text(restarts)
                    ),
                );
            }
            let rule = match waiting {
                "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" => Some("image-pull-failing"),
                "CreateContainerConfigError" | "CreateContainerError" => Some("container-cannot-start"),
                _ => None,
            };
            if let Some(rule) = rule {
                let message = cs
                    .pointer("/state/waiting/message")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let since = started.map_or(String::new(), |s| format!(" for {}", human(secs(now, s))));
                out.report(
                    i,
                    rule,
                    at.key("state"),
                    format!("container `{name}` cannot start{since}: {waiting} {message}")
                        .trim_end()
                        .to_string(),
                );
            }
        }
        if phase == "Pending" {
            let created = ts(pod.at(&["metadata", "creationTimestamp"]));
            let age = created.map_or(0, |c| secs(now, c));
            let severity = if age >= PENDING_ERROR_AFTER {
                Severity::Error
            } else {
                Severity::Warning
            };
            let scheduled = condition(pod, "PodScheduled");
            if status_of(scheduled) == "False" {
                let mut why = format!("{}: {}", text(scheduled, "reason"), text(scheduled, "message"));
                for claim in unbound_claims(cx, pod) {
                    why.push_str(&format!("; {claim}"));
                }
                out.report_as(
                    i,
                    "pod-pending",
                    severity,
                    status().key("conditions"),
                    format!("Pending for {}: {why}", human(age)),
                );
            }
        }
        if phase == "Running" && !looping {
            let ready = condition(pod, "Ready");
            if status_of(ready) == "False"
                && let Some(since) = ts(ready.and_then(|c| c.get("lastTransitionTime")))
                && secs(now, since) >= NOT_READY_GRACE
            {
                out.report(
                    i,
                    "pod-not-ready",
                    status().key("conditions"),
                    format!(
                        "Running but not Ready for {} ({})",
                        human(secs(now, since)),
                        text(ready, "reason")
                    ),
                );
            }
        }
    }
}

/// Why each of a pod's claims is unbound: missing, or Pending with the StorageClass problem.
fn unbound_claims(cx: &Ctx<'_>, pod: &Object) -> Vec<String> {
    let mut out = Vec::new();
    for v in pod.list(&["spec", "volumes"]) {
        let Some(claim) = v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) else {
            continue;
        };
        match cx.index.find("PersistentVolumeClaim", pod.namespace(), claim) {
            None => out.push(format!("PersistentVolumeClaim {claim} does not exist")),
            Some((_, pvc)) if pvc.at(&["status", "phase"]).and_then(Value::as_str) != Some("Bound") => {
                out.push(format!(
                    "PersistentVolumeClaim {claim} is unbound: {}",
                    storage_class_problem(cx, pvc).0
                ));
            }
            Some(_) => {}
        }
    }
    out
}

fn default_storage_class(cx: &Ctx<'_>) -> Option<String> {
    cx.index
        .of_kind("StorageClass")
        .find(|(_, sc)| {
            sc.at(&["metadata", "annotations", "storageclass.kubernetes.io/is-default-class"])
                .and_then(Value::as_str)
                == Some("true")
        })
        .map(|(_, sc)| sc.name().to_string())
}

/// Why a claim is unbound, and whether it can ever bind without a change (a
/// missing StorageClass, or none named and no default, never provisions).
fn storage_class_problem(cx: &Ctx<'_>, pvc: &Object) -> (String, bool) {
    let static_volume = pvc.at(&["spec", "volumeName"]).is_some();
    match pvc.at(&["spec", "storageClassName"]).and_then(Value::as_str) {
        Some("") => (
            "it asks for no StorageClass and no PersistentVolume matches it".to_string(),
            true,
        ),
        Some(sc) if cx.index.find("StorageClass", "", sc).is_none() => {
            (format!("StorageClass {sc} does not exist"), static_volume)
        }
        Some(sc) => (format!("StorageClass {sc} has not provisioned a volume"), true),
        None => match default_storage_class(cx) {
            None => (
                "it names no StorageClass and the cluster has no default StorageClass".to_string(),
                static_volume,
            ),
            Some(d) => (
                format!("the default StorageClass {d} has not provisioned a volume"),
                true,
            ),
        },
    }
}

fn pvcs(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, pvc) in cx.index.of_kind("PersistentVolumeClaim") {
        if pvc.at(&["status", "phase"]).and_then(Value::as_str) == Some("Pending") {
            let (why, may_bind) = storage_class_problem(cx, pvc);
            let rule = if may_bind { "pvc-pending" } else { "pvc-unbound" };
            out.report(i, rule, status().key("phase"), format!("unbound: {why}"));
        }
    }
}

fn rollouts(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    for (i, d) in cx.index.of_kind("Deployment") {
        let p = condition(d, "Progressing");
        if status_of(p) == "False" && text(p, "reason") == "ProgressDeadlineExceeded" {
            let since = ts(p.and_then(|c| c.get("lastTransitionTime")))
                .map_or(String::new(), |t| format!(" for {}", human(secs(now, t))));
            out.report(
                i,
                "rollout-stuck",
                status().key("conditions"),
                format!("rollout past its progress deadline{since}: {}", text(p, "message")),
            );
        }
    }
}

fn certificates(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    for (i, c) in cx.index.of_kind("Certificate") {
        let ready = condition(c, "Ready");
        if status_of(ready) != "True" {
            let since = ts(ready.and_then(|c| c.get("lastTransitionTime")))
                .or(ts(c.at(&["metadata", "creationTimestamp"])))
                .map_or(String::new(), |t| format!(" for {}", human(secs(now, t))));
            out.report(
                i,
                "certificate-not-ready",
                status().key("conditions"),
                format!("not Ready{since}: {} {}", text(ready, "reason"), text(ready, "message"))
                    .trim_end()
                    .to_string(),
            );
        }
        if let Some(not_after) = ts(c.at(&["status", "notAfter"])) {
            let left = not_after.duration_since(now);
            let days = left.as_secs() / 86_400;
            let (severity, what) = if left <= SignedDuration::ZERO {
                (Severity::Error, format!("expired {} ago", human(-left.as_secs())))
            } else if days < 7 {
                (Severity::Error, format!("expires in {}", human(left.as_secs())))
            } else if days < CERT_WARN_DAYS {
                (Severity::Warning, format!("expires in {days} days"))
            } else {
                continue;
            };
            let renewal = c
                .at(&["status", "renewalTime"])
                .and_then(Value::as_str)
                .map_or(String::new(), |r| format!(" (renewal was due {r})"));
            out.report_as(
                i,
                "certificate-expiring",
                severity,
                status().key("notAfter"),
                format!("{what}, at {not_after}{renewal}"),
            );
        }
    }
}

fn ready_endpoints(cx: &Ctx<'_>, namespace: &str, service: &str) -> usize {
    cx.index
        .of_kind("EndpointSlice")
        .filter(|(_, s)| {
            s.namespace() == namespace
                && s.at(&["metadata", "labels", "kubernetes.io/service-name"])
                    .and_then(Value::as_str)
                    == Some(service)
        })
        .flat_map(|(_, s)| s.list(&["endpoints"]))
        .filter(|e| e.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false))
        .count()
}

fn webhooks(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for kind in ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"] {
        for (i, cfg) in cx.index.of_kind(kind) {
            for (w, hook) in cfg.list(&["webhooks"]).enumerate() {
                let Some(svc) = hook.pointer("/clientConfig/service") else {
                    continue;
                };
                let ns = svc.get("namespace").and_then(Value::as_str).unwrap_or("");
                let name = svc.get("name").and_then(Value::as_str).unwrap_or("");
                let missing = cx.index.find("Service", ns, name).is_none();
                if !missing && ready_endpoints(cx, ns, name) > 0 {
                    continue;
                }
                let fail = hook.get("failurePolicy").and_then(Value::as_str).unwrap_or("Fail") == "Fail";
                let hook_name = hook.get("name").and_then(Value::as_str).unwrap_or("?");
                let scope = blast_radius(hook);
                let (severity, effect) = if fail {
                    (
                        Severity::Error,
                        format!("failurePolicy Fail: every {scope} is refused until it has one"),
                    )
                } else {
                    (
                        Severity::Warning,
                        format!("failurePolicy Ignore: {scope} goes through unchecked"),
                    )
                };
                let backend = if missing {
                    format!("Service {ns}/{name} does not exist")
                } else {
                    format!("Service {ns}/{name} has no ready endpoints")
                };
                out.report_as(
                    i,
                    "webhook-no-endpoints",
                    severity,
                    FieldPath::root().key("webhooks").index(w).key("clientConfig"),
                    format!("webhook {hook_name}: {backend}; {effect}"),
                );
            }
        }
    }
    for (i, a) in cx.index.of_kind("APIService") {
        if a.at(&["spec", "service"]).is_none() {
            continue;
        }
        let c = condition(a, "Available");
        if status_of(c) == "False" {
            out.report(
                i,
                "apiservice-unavailable",
                status().key("conditions"),
                format!(
                    "{} {}: every request for {} fails",
                    text(c, "reason"),
                    text(c, "message"),
                    a.name()
                ),
            );
        }
    }
}

/// What a webhook's rules cover: "CREATE, UPDATE of configmaps in namespaces matching ...".
fn blast_radius(hook: &Value) -> String {
    let words = |v: Option<&Value>| -> String {
        v.and_then(Value::as_array).map_or("*".into(), |a| {
            a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
        })
    };
    let rules: Vec<String> = items(hook, "rules")
        .map(|r| format!("{} of {}", words(r.get("operations")), words(r.get("resources"))))
        .collect();
    let mut scope = if rules.is_empty() {
        "request".to_string()
    } else {
        rules.join("; ")
    };
    match hook
        .get("namespaceSelector")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
    {
        Some(sel) => scope.push_str(&format!(" in namespaces matching {sel}")),
        None => scope.push_str(" in every namespace"),
    }
    scope
}

fn terminating(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    for (i, o) in cx.objects.iter().enumerate() {
        let Some(deleted) = ts(o.at(&["metadata", "deletionTimestamp"])) else {
            continue;
        };
        let finalizers: Vec<&str> = o
            .at(&["metadata", "finalizers"])
            .or_else(|| o.at(&["spec", "finalizers"]))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let age = secs(now, deleted);
        let severity = if age >= TERMINATING_ERROR_AFTER {
            Severity::Error
        } else {
            Severity::Warning
        };
        // A namespace says what it waits for in its conditions (its own `kubernetes`
        // finalizer only means "my contents"): the resources left and their finalizers.
        let remaining: Vec<&str> = ["NamespaceContentRemaining", "NamespaceFinalizersRemaining"]
            .iter()
            .filter_map(|k| condition(o, k))
            .filter(|c| status_of(Some(c)) == "True")
            .map(|c| text(Some(c), "message"))
            .filter(|m| !m.is_empty())
            .collect();
        let waiting = if !remaining.is_empty() {
            remaining.join("; ")
        } else if finalizers.is_empty() {
            "its contents".to_string()
        } else {
            format!("finalizers {}", finalizers.join(", "))
        };
        out.report_as(
            i,
            "stuck-terminating",
            severity,
            FieldPath::root().key("metadata").key("deletionTimestamp"),
            format!("Terminating for {}, waiting on {waiting}", human(age)),
        );
    }
}

fn autoscalers(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    for (i, h) in cx.index.of_kind("HorizontalPodAutoscaler") {
        for kind in ["AbleToScale", "ScalingActive"] {
            let c = condition(h, kind);
            if status_of(c) == "False" {
                let since = ts(c.and_then(|c| c.get("lastTransitionTime")))
                    .map_or(String::new(), |t| format!(" for {}", human(secs(now, t))));
                out.report(
                    i,
                    "hpa-cannot-scale",
                    status().key("conditions"),
                    format!("{kind} False{since}: {} {}", text(c, "reason"), text(c, "message")),
                );
                break;
            }
        }
    }
}

fn budgets(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    for (i, p) in cx.index.of_kind("PodDisruptionBudget") {
        let allowed = p.at(&["status", "disruptionsAllowed"]).and_then(Value::as_i64);
        let expected = p.at(&["status", "expectedPods"]).and_then(Value::as_i64).unwrap_or(0);
        if allowed != Some(0) || expected == 0 {
            continue;
        }
        let c = condition(p, "DisruptionAllowed");
        let Some(since) = ts(c.and_then(|c| c.get("lastTransitionTime"))) else {
            continue;
        };
        if secs(now, since) >= PDB_BLOCKED_AFTER {
            out.report(
                i,
                "pdb-no-disruptions",
                status().key("disruptionsAllowed"),
                format!("has allowed no disruption for {} ({expected} pods expected, {} healthy): every drain of their nodes blocks", human(secs(now, since)), p.at(&["status", "currentHealthy"]).and_then(Value::as_i64).unwrap_or(0)),
            );
        }
    }
}

/// The rough interval of a cron schedule, in seconds (enough to count missed runs).
pub fn cron_interval(schedule: &str) -> Option<i64> {
    let s = schedule.trim();
    let macro_interval = match s {
        "@yearly" | "@annually" => Some(365 * 86_400),
        "@monthly" => Some(31 * 86_400),
        "@weekly" => Some(7 * 86_400),
        "@daily" | "@midnight" => Some(86_400),
        "@hourly" => Some(3_600),
        _ => None,
    };
    if macro_interval.is_some() {
        return macro_interval;
    }
    let f: Vec<&str> = s.split_whitespace().collect();
    let [min, hour, dom, month, dow] = f.as_slice() else {
        return None;
    };
    let step = |field: &str, unit: i64| {
        field
            .strip_prefix("*/")
            .and_then(|n| n.parse::<i64>().ok())
            .map(|n| n * unit)
    };
    Some(if *month != "*" {
        365 * 86_400
    } else if *dom != "*" {
        31 * 86_400
    } else if *dow != "*" {
        7 * 86_400
    } else if let Some(h) = step(hour, 3_600) {
        h
    } else if *hour != "*" {
        86_400
    } else if let Some(m) = step(min, 60) {
        m
    } else if *min == "*" {
        60
    } else {
        3_600
    })
}

fn cronjobs(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    for (i, c) in cx.index.of_kind("CronJob") {
        if c.at(&["spec", "suspend"]).and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let Some(interval) = c
            .at(&["spec", "schedule"])
            .and_then(Value::as_str)
            .and_then(cron_interval)
        else {
            continue;
        };
        let Some(scheduled) = ts(c.at(&["status", "lastScheduleTime"])) else {
            continue;
        };
        let success = ts(c.at(&["status", "lastSuccessfulTime"]));
        let since = success.or(ts(c.at(&["metadata", "creationTimestamp"])));
        let Some(since) = since else { continue };
        if success.is_some_and(|s| s >= scheduled) {
            continue;
        }
        let missed = secs(now, since) / interval;
        if missed >= 3 {
            let last = success.map_or("never succeeded".to_string(), |s| {
                format!("last success {} ago", human(secs(now, s)))
            });
            out.report(
                i,
                "cronjob-not-succeeding",
                status(),
                format!("{last}: about {missed} schedules without a success"),
            );
        }
    }
}

fn nodes(cx: &Ctx<'_>, out: &mut Out<'_>, now: Timestamp) {
    for (i, n) in cx.index.of_kind("Node") {
        let ready = condition(n, "Ready");
        let since = |c: Option<&Value>| {
            ts(c.and_then(|c| c.get("lastTransitionTime")))
                .map_or(String::new(), |t| format!(" for {}", human(secs(now, t))))
        };
        if status_of(ready) != "True" {
            out.report(
                i,
                "node-not-ready",
                status().key("conditions"),
                format!(
                    "NotReady{}: {} {}",
                    since(ready),
                    text(ready, "reason"),
                    text(ready, "message")
                )
                .trim_end()
                .to_string(),
            );
        }
        for p in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
            let c = condition(n, p);
            if status_of(c) == "True" {
                out.report(
                    i,
                    "node-pressure",
                    status().key("conditions"),
                    format!("{p}{}: {}", since(c), text(c, "message")),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_intervals() {
        assert_eq!(cron_interval("*/5 * * * *"), Some(300));
        assert_eq!(cron_interval("0 3 * * *"), Some(86_400));
        assert_eq!(cron_interval("15 * * * *"), Some(3_600));
        assert_eq!(cron_interval("0 */6 * * *"), Some(6 * 3_600));
        assert_eq!(cron_interval("0 0 * * 1"), Some(7 * 86_400));
        assert_eq!(cron_interval("@daily"), Some(86_400));
        assert_eq!(cron_interval("nonsense"), None);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(17 * 86_400 + 5), "17 days");
        assert_eq!(human(90_000), "1 day");
        assert_eq!(human(7_300), "2 h");
        assert_eq!(human(125), "2 min");
        assert_eq!(human(-3), "0 s");
    }
}
