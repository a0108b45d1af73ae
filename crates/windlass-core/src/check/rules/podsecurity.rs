//! Pod Security `restricted`: every control of the profile (Kubernetes Pod
//! Security Standards), at the field that breaks it. An error where a
//! Namespace among the objects enforces `restricted` (the apiserver rejects
//! the pod), a warning elsewhere.

use crate::check::index::items;
use serde_json::Value;

use super::{Ctx, Out, containers};
use crate::check::Severity;
use crate::source::FieldPath;

const VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

const SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for w in cx.index.workloads.iter().filter(|w| !w.owned) {
        let enforced = cx
            .index
            .find("Namespace", "", w.namespace)
            .and_then(|(_, n)| n.at(&["metadata", "labels", "pod-security.kubernetes.io/enforce"]))
            .and_then(Value::as_str)
            == Some("restricted");
        let severity = if enforced { Severity::Error } else { Severity::Warning };
        let mut problems: Vec<(FieldPath, String)> = Vec::new();
        let pod = w.pod;
        let p = &w.pod_path;
        for host in ["hostNetwork", "hostPID", "hostIPC"] {
            if pod.get(host).and_then(Value::as_bool) == Some(true) {
                problems.push((p.key(host), format!("`{host}: true` shares the node's namespace")));
            }
        }
        for (v, vol) in items(pod, "volumes").enumerate() {
            let name = vol.get("name").and_then(Value::as_str).unwrap_or("?");
            for key in vol
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .filter(|k| *k != "name")
            {
                if !VOLUME_TYPES.contains(&key) {
                    problems.push((
                        p.key("volumes").index(v).key(key),
                        format!("volume `{name}` is a {key} volume"),
                    ));
                }
            }
        }
        let pod_sc = pod.get("securityContext");
        let pod_get = |ptr: &str| pod_sc.and_then(|s| s.pointer(ptr));
        for (s, sysctl) in pod_get("/sysctls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let name = sysctl.get("name").and_then(Value::as_str).unwrap_or("?");
            if !SAFE_SYSCTLS.contains(&name) {
                problems.push((
                    p.key("securityContext").key("sysctls").index(s),
                    format!("sysctl `{name}` is not in the safe set"),
                ));
            }
        }
        for c in containers(w) {
            let sc = c.spec.get("securityContext");
            let get = |ptr: &str| sc.and_then(|s| s.pointer(ptr)).filter(|v| !v.is_null());
            let at = c.path.key("securityContext");
            let name = c.name;
            if get("/privileged").and_then(Value::as_bool) == Some(true) {
                problems.push((at.key("privileged"), format!("container `{name}` is privileged")));
            }
            if get("/allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false) {
                problems.push((
                    at.key("allowPrivilegeEscalation"),
                    format!("container `{name}` must set allowPrivilegeEscalation: false"),
                ));
            }
            let caps = get("/capabilities/drop").and_then(Value::as_array);
            if !caps.is_some_and(|d| d.iter().any(|c| c == "ALL")) {
                problems.push((
                    at.key("capabilities").key("drop"),
                    format!("container `{name}` must drop ALL capabilities"),
                ));
            }
            for (k, cap) in get("/capabilities/add")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if cap != "NET_BIND_SERVICE" {
                    problems.push((
                        at.key("capabilities").key("add").index(k),
                        format!("container `{name}` adds capability {cap}"),
                    ));
                }
            }
            let non_root = get("/runAsNonRoot")
                .or_else(|| pod_get("/runAsNonRoot"))
                .and_then(Value::as_bool);
            if non_root != Some(true) {
                problems.push((
                    at.key("runAsNonRoot"),
                    format!("container `{name}` may run as root (set runAsNonRoot: true)"),
                ));
            }
            if get("/runAsUser")
                .or_else(|| pod_get("/runAsUser"))
                .and_then(Value::as_i64)
                == Some(0)
            {
                problems.push((at.key("runAsUser"), format!("container `{name}` runs as user 0")));
            }
            let seccomp = get("/seccompProfile/type")
                .or_else(|| pod_get("/seccompProfile/type"))
                .and_then(Value::as_str);
            if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
                problems.push((
                    at.key("seccompProfile"),
                    format!("container `{name}` needs seccompProfile RuntimeDefault"),
                ));
            }
            if get("/procMount")
                .and_then(Value::as_str)
                .is_some_and(|m| m != "Default")
            {
                problems.push((at.key("procMount"), format!("container `{name}` unmasks /proc")));
            }
            if get("/appArmorProfile/type")
                .or_else(|| pod_get("/appArmorProfile/type"))
                .and_then(Value::as_str)
                == Some("Unconfined")
            {
                problems.push((
                    at.key("appArmorProfile"),
                    format!("container `{name}` runs without AppArmor"),
                ));
            }
            let selinux = get("/seLinuxOptions").or_else(|| pod_get("/seLinuxOptions"));
            if let Some(t) = selinux.and_then(|s| s.get("type")).and_then(Value::as_str)
                && !SELINUX_TYPES.contains(&t)
            {
                problems.push((
                    at.key("seLinuxOptions"),
                    format!("container `{name}` sets SELinux type {t}"),
                ));
            }
            if get("/windowsOptions/hostProcess").and_then(Value::as_bool) == Some(true) {
                problems.push((
                    at.key("windowsOptions"),
                    format!("container `{name}` is a Windows host process"),
                ));
            }
            for (k, port) in items(c.spec, "ports").enumerate() {
                if port.get("hostPort").and_then(Value::as_i64).is_some_and(|h| h != 0) {
                    problems.push((
                        c.path.key("ports").index(k).key("hostPort"),
                        format!("container `{name}` uses a hostPort"),
                    ));
                }
            }
        }
        for (path, message) in problems {
            out.report_as(w.index, "pod-security-restricted", severity, path, message);
        }
    }
}
