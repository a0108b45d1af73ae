//! Probes: timeouts too tight for the workload, probes aimed at a Service or
//! another host instead of the pod, liveness identical to readiness or
//! checking what readiness checks.

use crate::check::index::items;
use serde_json::Value;

use super::images::split_image;
use super::{Ctx, Out, containers};
use crate::check::index::Workload;

/// Image names (the last path segment) of servers whose probes routinely take over a second.
const DATABASES: &[&str] = &[
    "postgres",
    "postgresql",
    "postgis",
    "timescaledb",
    "mysql",
    "mariadb",
    "percona-server",
    "mongo",
    "mongodb",
    "redis",
    "valkey",
    "keydb",
    "elasticsearch",
    "opensearch",
    "cassandra",
    "scylla",
    "clickhouse",
    "clickhouse-server",
    "cockroach",
    "etcd",
    "zookeeper",
    "kafka",
    "rabbitmq",
    "memcached",
    "neo4j",
    "influxdb",
    "couchdb",
    "mssql-server",
];

/// Ports of those servers, for images with other names.
pub(super) const DATABASE_PORTS: &[i64] = &[
    5432, 3306, 27017, 6379, 9200, 9042, 8123, 9000, 26257, 2379, 2181, 9092, 5672, 11211, 7687, 8086, 5984, 1433, 1521,
];

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for w in &cx.index.workloads {
        for c in containers(w) {
            let database = is_database(c.spec);
            let probe = |k: &str| c.spec.get(k).filter(|p| p.is_object());
            for kind in ["livenessProbe", "readinessProbe", "startupProbe"] {
                let Some(p) = probe(kind) else { continue };
                let path = c.path.key(kind);
                for (field, host) in [
                    ("httpGet", p.pointer("/httpGet/host")),
                    ("tcpSocket", p.pointer("/tcpSocket/host")),
                ] {
                    if let Some(h) = host.and_then(Value::as_str)
                        && !is_local(h)
                    {
                        out.report(
                            w.index,
                            "probe-not-local",
                            path.key(field).key("host"),
                            format!("container `{}`: {kind} calls `{h}` instead of the pod itself", c.name),
                        );
                    }
                }
                if let Some(cmd) = p.pointer("/exec/command").and_then(Value::as_array) {
                    for (i, host) in exec_hosts(cmd) {
                        if let Some(what) = remote(cx, w, &host) {
                            out.report(
                                w.index,
                                "probe-not-local",
                                path.key("exec").key("command").index(i),
                                format!(
                                    "container `{}`: {kind} runs against `{host}`, {what}, not the pod itself",
                                    c.name
                                ),
                            );
                        }
                    }
                }
                let timeout = p.get("timeoutSeconds").and_then(Value::as_i64).unwrap_or(1);
                let exec = p.get("exec").is_some();
                if timeout <= 1 && (database || exec) {
                    let image = c.spec.get("image").and_then(Value::as_str).unwrap_or("?");
                    let what = if database {
                        format!("a database ({image})")
                    } else {
                        "an exec probe (a process started on every check)".to_string()
                    };
                    out.report(
                        w.index,
                        "probe-timeout-default",
                        path.key("timeoutSeconds"),
                        format!("container `{}`: {kind} times out after {timeout} s on {what}", c.name),
                    );
                } else if kind == "livenessProbe" {
                    let failures = p.get("failureThreshold").and_then(Value::as_i64).unwrap_or(3);
                    if timeout < 5 || failures < 3 {
                        let field = if timeout < 5 {
                            "timeoutSeconds"
                        } else {
                            "failureThreshold"
                        };
                        out.report(
                            w.index,
                            "liveness-too-eager",
                            path.key(field),
                            format!(
                                "container `{}`: liveness timeout {timeout} s x {failures} failures restarts a slow-but-alive process",
                                c.name
                            ),
                        );
                    }
                }
            }
            if let (Some(l), Some(r)) = (probe("livenessProbe"), probe("readinessProbe")) {
                let lpath = c.path.key("livenessProbe");
                if l == r && probe("startupProbe").is_none() {
                    out.report(
                        w.index,
                        "probes-identical",
                        lpath,
                        format!(
                            "container `{}`: liveness and readiness are identical and there is no startupProbe",
                            c.name
                        ),
                    );
                } else if l != r
                    && let Some(lp) = l.pointer("/httpGet/path").and_then(Value::as_str)
                {
                    let same = r.pointer("/httpGet/path").and_then(Value::as_str) == Some(lp)
                        && l.pointer("/httpGet/port") == r.pointer("/httpGet/port");
                    let lower = lp.to_ascii_lowercase();
                    if same || lower.contains("ready") {
                        out.report(
                            w.index,
                            "liveness-checks-dependencies",
                            lpath.key("httpGet").key("path"),
                            format!("container `{}`: liveness checks `{lp}`, the readiness endpoint", c.name),
                        );
                    }
                }
            }
        }
    }
}

fn is_database(c: &Value) -> bool {
    let image = c.get("image").and_then(Value::as_str).unwrap_or("");
    let (repo, _, _) = split_image(image);
    let last = repo.rsplit('/').next().unwrap_or("");
    DATABASES.contains(&last)
        || items(c, "ports")
            .filter_map(|p| p.get("containerPort").and_then(Value::as_i64))
            .any(|p| DATABASE_PORTS.contains(&p))
}

/// A host that is the pod itself, or that cannot be known from the manifest.
fn is_local(host: &str) -> bool {
    let h = host.trim_matches(|c| c == '[' || c == ']');
    h.is_empty()
        || h == "localhost"
        || h == "::1"
        || h == "0.0.0.0"
        || h.starts_with("127.")
        || h.starts_with('$')
        || h.starts_with('/')
}

/// Hosts an exec probe's command line connects to, with the argument they are in:
/// `-h X`, `--host X`, `--host=X`, `host=X` (libpq), `scheme://[user@]X[:port]`.
fn exec_hosts(cmd: &[Value]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, arg) in cmd.iter().enumerate() {
        let Some(arg) = arg.as_str() else { continue };
        let words: Vec<&str> = arg
            .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|' || c == '\'' || c == '"')
            .filter(|w| !w.is_empty())
            .collect();
        // A flag at the end of one argument takes the next argument as its value.
        let next = cmd.get(i + 1).and_then(Value::as_str);
        for (j, w) in words.iter().enumerate() {
            let following = words
                .get(j + 1)
                .copied()
                .or(if j + 1 == words.len() { next } else { None });
            let host = match *w {
                "-h" | "--host" | "-H" => following.map(str::to_string),
                _ => w
                    .strip_prefix("--host=")
                    .or_else(|| w.strip_prefix("host="))
                    .map(str::to_string)
                    .or_else(|| url_host(w)),
            };
            if let Some(h) = host {
                let h = h
                    .rsplit_once(':')
                    .filter(|(_, p)| p.parse::<u16>().is_ok())
                    .map_or(h.as_str(), |(h, _)| h);
                if !h.is_empty() {
                    let at = if words.get(j + 1).is_none() && matches!(*w, "-h" | "--host" | "-H") {
                        i + 1
                    } else {
                        i
                    };
                    out.push((at, h.to_string()));
                }
            }
        }
    }
    out
}

fn url_host(w: &str) -> Option<String> {
    let (_, rest) = w.split_once("://")?;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host.to_string())
}

/// Why `host` is not the pod: a Service of the namespace, a cluster DNS name, a
/// Service's ClusterIP, another IP. `None` for the pod itself or an unknown name.
fn remote(cx: &Ctx<'_>, w: &Workload<'_>, host: &str) -> Option<String> {
    if is_local(host) {
        return None;
    }
    let first = host.split('.').next().unwrap_or(host);
    for (_, s) in cx.index.of_kind("Service") {
        let ns = s.namespace();
        if (ns == w.namespace && host == s.name())
            || (first == s.name()
                && host
                    .strip_prefix(first)
                    .is_some_and(|r| r.starts_with(&format!(".{ns}"))))
        {
            return Some(format!("the Service {ns}/{}", s.name()));
        }
        if s.at(&["spec", "clusterIP"]).and_then(Value::as_str) == Some(host) {
            return Some(format!("the ClusterIP of Service {ns}/{}", s.name()));
        }
    }
    if host.ends_with(".svc") || host.contains(".svc.") {
        return Some("a Service's cluster DNS name".to_string());
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Some("another address".to_string());
    }
    None
}
