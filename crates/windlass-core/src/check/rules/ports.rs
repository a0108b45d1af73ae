//! Ports: a port named or marked as HTTP that serves a protocol which is not HTTP.

use crate::check::index::items;
use serde_json::Value;

use super::{Ctx, Out, containers};
use crate::source::FieldPath;

/// Well-known ports of servers that do not speak HTTP, with the protocol.
const NOT_HTTP: &[(i64, &str)] = &[
    (5432, "PostgreSQL"),
    (3306, "MySQL"),
    (27017, "MongoDB"),
    (6379, "Redis"),
    (9042, "Cassandra CQL"),
    (26257, "CockroachDB SQL"),
    (2181, "ZooKeeper"),
    (9092, "Kafka"),
    (5672, "AMQP"),
    (11211, "memcached"),
    (7687, "Neo4j Bolt"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (4222, "NATS"),
    (25, "SMTP"),
    (22, "SSH"),
    (53, "DNS"),
    (389, "LDAP"),
];

fn http_named(name: Option<&str>) -> bool {
    name.is_some_and(|n| {
        n == "http" || n == "https" || n == "http2" || n.starts_with("http-") || n.starts_with("https-")
    })
}

fn http_protocol(p: Option<&str>) -> bool {
    matches!(
        p,
        Some("http" | "https" | "h2c" | "kubernetes.io/h2c" | "kubernetes.io/ws" | "kubernetes.io/wss")
    )
}

fn protocol_of(port: Option<i64>) -> Option<&'static str> {
    port.and_then(non_http_protocol)
}

/// The protocol a well-known port serves when it is not HTTP (5432: PostgreSQL).
pub fn non_http_protocol(port: i64) -> Option<&'static str> {
    NOT_HTTP.iter().find(|(n, _)| *n == port).map(|(_, what)| *what)
}

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for (i, s) in cx.index.of_kind("Service") {
        for (k, p) in s.list(&["spec", "ports"]).enumerate() {
            let number = p
                .get("targetPort")
                .and_then(Value::as_i64)
                .or_else(|| p.get("port").and_then(Value::as_i64));
            let Some(what) = protocol_of(number) else { continue };
            let name = p.get("name").and_then(Value::as_str);
            let app = p.get("appProtocol").and_then(Value::as_str);
            let at = FieldPath::root().key("spec").key("ports").index(k);
            if http_protocol(app) {
                out.report(
                    i,
                    "port-protocol-mismatch",
                    at.key("appProtocol"),
                    format!(
                        "port {} has appProtocol `{}` but {} is {what}",
                        number.unwrap_or(0),
                        app.unwrap_or(""),
                        number.unwrap_or(0)
                    ),
                );
            } else if http_named(name) {
                out.report(
                    i,
                    "port-protocol-mismatch",
                    at.key("name"),
                    format!(
                        "port {} is named `{}` but {} is {what}",
                        number.unwrap_or(0),
                        name.unwrap_or(""),
                        number.unwrap_or(0)
                    ),
                );
            }
        }
    }
    for w in &cx.index.workloads {
        for c in containers(w) {
            for (k, p) in items(c.spec, "ports").enumerate() {
                let number = p.get("containerPort").and_then(Value::as_i64);
                let name = p.get("name").and_then(Value::as_str);
                if let Some(what) = protocol_of(number)
                    && http_named(name)
                {
                    out.report(
                        w.index,
                        "port-protocol-mismatch",
                        c.path.key("ports").index(k).key("name"),
                        format!(
                            "container `{}`: port {} is named `{}` but {} is {what}",
                            c.name,
                            number.unwrap_or(0),
                            name.unwrap_or(""),
                            number.unwrap_or(0)
                        ),
                    );
                }
            }
        }
    }
}
