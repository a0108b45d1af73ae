//! A proptest generator of valid-looking `windlass.yaml` specs: every field of the
//! spec (platform, apps, environments with overlays and `null` removals,
//! observability), mostly with plausible values, sometimes with any unicode, any
//! number (negative, huge, floats where integers belong) or a near miss of a rule.
//! Specs are built as JSON values and emitted as YAML text.

use proptest::collection::{btree_map, vec};
use proptest::option::weighted;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

type S = BoxedStrategy<Value>;

thread_local! {
    /// Weight of the odd choices (a near miss, any unicode, any number) in the strategies built now.
    static WILD: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

fn wild() -> u32 {
    WILD.with(std::cell::Cell::get)
}

/// An object from the present fields (absent ones are left out, as a person would).
fn obj(fields: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn strs(values: &'static [&'static str]) -> S {
    proptest::sample::select(values).prop_map(s).boxed()
}

/// Any text: printable ASCII, any unicode scalar, or YAML-significant words.
fn text() -> S {
    prop_oneof![
        3 => "[ -~]{0,24}".prop_map(Value::String),
        3 => "\\PC{0,16}".prop_map(Value::String),
        1 => any::<String>().prop_map(Value::String),
        1 => strs(&["", "null", "~", "yes", "no", "true", "0x1F", "1e3", "-", "---", "#x", "{}", "[]", ": x", "&a", "*a",
            "!!str", "\u{202e}rtl", "é", "😀", "\t", "a\nb", "%", "\\", "\"", "'"]),
    ]
    .boxed()
}

/// Any number: small, edge, negative, huge, or a float.
fn number() -> S {
    prop_oneof![
        3 => (0i64..100).prop_map(|n| json!(n)),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<u64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        1 => proptest::sample::select(&[-1i64, 0, 1, 65535, 65536, 2_147_483_647, 2_147_483_648, 4_294_967_296][..])
            .prop_map(|n| json!(n)),
        1 => proptest::sample::select(&[0.5f64, 1.5, -0.0, 1e300, 99.999, 8080.5][..]).prop_map(|f| json!(f)),
    ]
    .boxed()
}

/// A value meant to be a name: mostly a DNS-1123 label, sometimes near (long, upper case, dots) or anything.
fn name_like() -> S {
    let w = wild();
    prop_oneof![
        40 => "[a-z]([a-z0-9-]{0,10}[a-z0-9])?".prop_map(Value::String),
        w => "[a-z][a-z0-9]{50,66}".prop_map(Value::String),
        w => "[A-Za-z0-9._-]{1,12}".prop_map(Value::String),
        w => "\\PC{1,10}".prop_map(Value::String),
        w => number(),
    ]
    .boxed()
}

/// A namespace: a label, one that Kubernetes or the platform itself owns, or anything.
fn namespace_like() -> S {
    let w = wild();
    prop_oneof![
        6 => "[a-z]([a-z0-9-]{0,8}[a-z0-9])?".prop_map(Value::String),
        2 * w => strs(&["kube-system", "default", "kube-public", "kube-node-lease", "monitoring", "cert-manager",
            "envoy-gateway-system", "ingress-nginx"]),
        w => name_like(),
    ]
    .boxed()
}

fn domain_like() -> S {
    let w = wild();
    prop_oneof![
        30 => "[a-z]{1,8}\\.(com|org|example|dev)".prop_map(Value::String),
        w => "[a-z]{1,63}(\\.[a-z]{1,63}){3,5}".prop_map(Value::String),
        w => strs(&["localhost", "10.0.0.1", "Example.COM", "例え.jp", "a..b", ".a.b", "*.example.com", "xn--bcher-kva.example"]),
        w => text(),
    ]
    .boxed()
}

fn host_like() -> S {
    let w = wild();
    prop_oneof![
        24 => "[a-z]([a-z0-9-]{0,6}[a-z0-9])?".prop_map(Value::String),
        8 => "[a-z]{1,6}\\.[a-z]{1,6}\\.(com|net)".prop_map(Value::String),
        w => strs(&["10.0.0.1", "2001:db8::1", "WWW", "*.example.com", "ü", "a_b", "-a", "a.", "localhost"]),
        w => "[a-z]{60,70}".prop_map(Value::String),
        w => text(),
    ]
    .boxed()
}

fn port_like() -> S {
    let w = wild();
    prop_oneof![
        40 => (1024i64..65535).prop_map(|n| json!(n)),
        w => strs(&["8080", "http", "0x50"]),
        w => number(),
    ]
    .boxed()
}

fn path_like() -> S {
    let w = wild();
    prop_oneof![
        24 => "/[a-z0-9_-]{0,10}(/[a-z0-9_-]{1,8}){0,2}".prop_map(Value::String),
        2 * w => strs(&["/", "//x", "/a?b", "/a#b", "/%2F", "/%2f", "/%zz", "/é", "/./a", "/a/..", "/a/.", "/../x",
            "/a b", "relative", "", "/tmp", "/data", "/etc", "/var/run", "/a:b", "http://x/y", "/-", "/~user", "/@x"]),
        w => "/[a-z]{1030,1040}".prop_map(Value::String),
        w => "/\\PC{0,12}".prop_map(Value::String),
        w => text(),
    ]
    .boxed()
}

fn cidr_like() -> S {
    let w = wild();
    prop_oneof![
        24 => strs(&["10.0.0.0/8", "0.0.0.0/0", "203.0.113.7/32", "2001:db8::/32", "192.168.0.0/16", "::/0"]),
        w => strs(&["10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "10.0.0.1/8", "fe80::1%eth0/64", "10.0.0.0/-1", "/8"]),
        w => text(),
    ]
    .boxed()
}

fn quantity_like(kind: &'static str) -> S {
    let w = wild();
    let typical: &'static [&'static str] = if kind == "cpu" {
        &["100m", "250m", "0.5", "1", "2", "1500m", "0.001"]
    } else {
        &["64Mi", "128Mi", "512Mi", "1Gi", "5Gi", "1e9", "1000M"]
    };
    prop_oneof![
        30 => strs(typical),
        w => strs(&["0", "-1", "-100m", "1.5.5", "1e400", "Mi", "1Ki", "1u", "1n", "1E", "9Ei", "999999999999999999999Gi", "0.0001m"]),
        w => number(),
        w => text(),
    ]
    .boxed()
}

fn duration_like() -> S {
    let w = wild();
    prop_oneof![
        24 => strs(&["30s", "1m", "5m", "15m", "1h", "1h30m", "14d", "2w", "0m", "28d", "30d"]),
        w => strs(&["5", "5x", "-5m", "m5", "1.5h", "99999999999999999999d", "1y", "500ms", ""]),
        w => number(),
        w => text(),
    ]
    .boxed()
}

/// A threshold: ratio, latency, time left or count, as the alert's documentation says; or not.
fn threshold_like() -> S {
    let w = wild();
    prop_oneof![
        24 => strs(&["5%", "0.05", "800ms", "1s", "2s", "0.3s", "14d", "3", "100%", "0%"]),
        2 * w => number(),
        w => strs(&["800", "-5%", "150%", "1e-400s", "NaNs", "infms", "5 %", "%"]),
        w => text(),
    ]
    .boxed()
}

fn severity_like() -> S {
    let w = wild();
    prop_oneof![30 => strs(&["critical", "warning", "info"]), w => text()].boxed()
}

fn secret_ref_like() -> S {
    let w = wild();
    prop_oneof![
        24 => ("[a-z]([a-z0-9-]{0,7}[a-z0-9])?", "[a-z][a-z0-9_]{0,6}").prop_map(|(a, b)| s(&format!("{a}/{b}"))),
        2 * w => (name_like(), text()).prop_map(|(secret, key)| json!({"secret": secret, "key": key})),
        w => strs(&["noslash", "a/b/c", "/k", "s/", "UPPER/key", "s/..", "s/."]),
        w => text(),
    ]
    .boxed()
}

/// `secretEnv` values: everything `secret_ref_like` makes, and Vault references.
fn env_secret_like() -> S {
    let w = wild();
    prop_oneof![
        6 => secret_ref_like(),
        2 => ("[a-z]{1,6}", "[a-z]{1,6}(/[a-z0-9-]{1,6}){0,2}", "[a-z][a-z0-9_]{0,6}")
            .prop_map(|(m, p, k)| json!({"vault": format!("{m}/{p}#{k}")})),
        w => prop_oneof![
            strs(&["kv#k", "kv/#k", "kv/a#", "/a#k", "kv/a//b#k", "kv/a#b c", "#"]),
            text()
        ]
        .prop_map(|v| json!({"vault": v})),
        w => (name_like(), text()).prop_map(|(secret, v)| json!({"secret": secret, "vault": v})),
        2 => ("[a-z]([a-z0-9-]{0,5}[a-z0-9])?", "[a-zA-Z][a-zA-Z0-9_.-]{0,6}")
            .prop_map(|(secret, key)| json!({"sops": format!("{secret}/{key}")})),
        w => prop_oneof![strs(&["nokey", "Upper/k", "s/", "/k", "s/a b", "s/a/b"]), text()].prop_map(|v| json!({"sops": v})),
        w => (name_like(), text()).prop_map(|(v, s)| json!({"vault": v, "sops": s})),
    ]
    .boxed()
}

fn tuning() -> S {
    let w = wild();
    (
        weighted(0.2, any::<bool>()),
        // Which threshold an alert takes depends on the alert: tame specs leave it out.
        weighted(if w == 0 { 0.005 } else { 0.5 }, threshold_like()),
        weighted(0.3, duration_like()),
        weighted(0.3, severity_like()),
    )
        .prop_map(|(enabled, threshold, for_, severity)| {
            obj(vec![
                ("enabled", enabled.map(Value::Bool)),
                ("threshold", threshold),
                ("for", for_),
                ("severity", severity),
            ])
        })
        .boxed()
}

fn alert_name() -> BoxedStrategy<String> {
    let w = wild();
    prop_oneof![8 => "[a-z]([a-z0-9-]{0,6}[a-z0-9])?", w => "[a-z0-9-]{1,8}", w => "\\PC{1,6}"].boxed()
}

fn log_alert(in_app: bool) -> S {
    let w = wild();
    (
        weighted(
            if in_app { 0.2 } else { 0.8 },
            prop_oneof![
                4 => strs(&["{namespace=\"shop\"}", "{app=\"x\", container=\"db\"}", "{namespace=~\"a|b\"}"]),
                w => text(),
            ],
        ),
        // Tame alerts set `match` only: exactly one of `match` and `preset` is required.
        weighted(
            if w == 0 { 0.995 } else { 0.6 },
            prop_oneof![
                4 => strs(&["PHP Fatal error", "panic|fatal", "(?i)error", "timeout after \\d+s"]),
                w => strs(&["(", "a{2,1}", "(?<name>x)", "\\", "[z-a]", "x**", "(?=ahead)", "\\p{Greek}", "`", "\""]),
                w => text(),
            ],
        ),
        weighted(
            if w == 0 { 0.005 } else { 0.4 },
            prop_oneof![20 => strs(&["mariadb-innodb-io", "php-fatal"]), w => text()],
        ),
        weighted(0.3, duration_like()),
        weighted(0.3, prop_oneof![4 => (0i64..10).prop_map(|n| json!(n)), w => number()]),
        weighted(0.3, duration_like()),
        weighted(0.3, severity_like()),
        weighted(0.3, text()),
    )
        .prop_map(
            |(selector, pattern, preset, window, threshold, for_, severity, summary)| {
                obj(vec![
                    ("selector", selector),
                    ("match", pattern),
                    ("preset", preset),
                    ("window", window),
                    ("threshold", threshold),
                    ("for", for_),
                    ("severity", severity),
                    ("summary", summary),
                ])
            },
        )
        .boxed()
}

fn app_alerts() -> S {
    let w = wild();
    let tunings = proptest::sample::subsequence(
        &[
            "crashLoop",
            "oomKilled",
            "notReady",
            "replicasMismatch",
            "rolloutStuck",
            "hpaMaxedOut",
            "pdbUnhealthy",
            "jobFailed",
            "errorRate",
            "latency",
        ][..],
        0..4,
    );
    (
        tunings,
        vec(tuning(), 4),
        weighted(
            0.3,
            (
                prop_oneof![4 => strs(&["99.9", "99", "95"]).prop_map(|v| json!(v.as_str().and_then(|s| s.parse::<f64>().ok()))), w => number(), w => text()],
                weighted(0.5, (prop_oneof![8 => strs(&["300ms", "0.25", "1s"]), w => threshold_like()], prop_oneof![3 => Just(json!(99)), w => number()])),
            ),
        ),
        btree_map(alert_name(), log_alert(true), 0..2),
        weighted(0.2, prop_oneof![2 => strs(&["code", "status_code"]), w => text()]),
    )
        .prop_map(|(names, tunings, slo, logs, status_label)| {
            let mut m = Map::new();
            for (n, t) in names.iter().zip(tunings) {
                m.insert((*n).to_string(), t);
            }
            if let Some((availability, latency)) = slo {
                m.insert(
                    "slo".into(),
                    obj(vec![
                        ("availability", Some(availability)),
                        ("latency", latency.map(|(t, o)| json!({"threshold": t, "objective": o}))),
                    ]),
                );
            }
            if !logs.is_empty() {
                m.insert("logs".into(), Value::Object(logs.into_iter().collect()));
            }
            if let Some(l) = status_label {
                m.insert("statusLabel".into(), l);
            }
            Value::Object(m)
        })
        .boxed()
}

fn env_name() -> BoxedStrategy<String> {
    let w = wild();
    prop_oneof![30 => "[A-Z_][A-Z0-9_]{0,10}", w => "[a-z.-][a-z0-9.-]{0,6}", w => "\\PC{1,6}", w => "[0-9][A-Z]{0,3}"]
        .boxed()
}

fn image_like() -> S {
    let w = wild();
    prop_oneof![
        40 => ("[a-z]{2,8}\\.(io|example)/[a-z]{1,6}/[a-z][a-z0-9-]{0,8}", "[0-9]\\.[0-9]{1,2}\\.[0-9]")
            .prop_map(|(r, t)| s(&format!("{r}:{t}"))),
        2 => ("[a-z]{1,6}(/[a-z]{1,6})?", "[0-9a-f]{64}").prop_map(|(r, d)| s(&format!("{r}@sha256:{d}"))),
        w => ("[a-z]{1,6}", "\\PC{1,8}").prop_map(|(r, d)| s(&format!("{r}@sha256:{d}"))),
        w => ("[a-z]{1,6}", "\\PC{1,8}").prop_map(|(r, t)| s(&format!("{r}:{t}"))),
        w => strs(&["Registry/App:1", "app", "app:latest", "app@sha256:", "app@", ":1", "a:b:c", "localhost:5000/app:1",
            "app@sha256:zz", "app@md5:0123", "a//b:1", "-a:1"]),
        w => text(),
    ]
    .boxed()
}

/// The generated parts of an app before it is made coherent with its kind.
#[derive(Debug, Clone)]
struct AppParts {
    kind: Value,
    coherent: bool,
    core: Vec<(&'static str, Option<Value>)>,
    scaling: Vec<(&'static str, Option<Value>)>,
    extra: Vec<(&'static str, Option<Value>)>,
    needs_mask: u8,
}

fn app() -> BoxedStrategy<AppParts> {
    let w = wild();
    let kind = prop_oneof![
        40 => strs(&["web", "worker", "cron", "statefulset"]),
        w => strs(&["Web", "job", ""]),
        w => text(),
    ];
    let health = prop_oneof![
        24 => strs(&["/healthz", "/api/health", "/"]),
        2 => (weighted(0.7, path_like()), weighted(0.4, port_like()))
            .prop_map(|(p, port)| obj(vec![("path", p), ("port", port)])),
        1 => Just(json!({"tcp": true})),
        1 => vec(text(), 0..3).prop_map(|c| json!({"command": c})),
        w => strs(&["healthz", "http://localhost/healthz", "/h?x=1"]),
        w => text(),
    ];
    let metrics = prop_oneof![
        4 => strs(&["/metrics"]),
        2 => (path_like(), weighted(0.6, port_like())).prop_map(|(p, port)| obj(vec![("path", Some(p)), ("port", port)])),
        w => text(),
    ];
    let core = (
        image_like(),
        weighted(0.1, any::<bool>()),
        weighted(0.9, port_like()),
        weighted(0.15, vec(text(), 0..3)),
        weighted(0.15, vec(text(), 0..3)),
        weighted(0.5, vec(host_like(), 0..3)),
        weighted(0.3, vec((path_like(), weighted(0.3, vec(cidr_like(), 0..3))), 0..4)),
        weighted(0.85, health),
        weighted(0.4, metrics),
        weighted(
            0.05,
            (1usize..70).prop_map(|n| (0..n).map(|i| format!("/r{i}")).collect::<Vec<_>>()),
        ),
    );
    let scaling = (
        weighted(0.4, prop_oneof![6 => (1i64..6).prop_map(|n| json!(n)), w => number()]),
        weighted(
            0.3,
            (
                prop_oneof![6 => (1i64..4).prop_map(|n| json!(n)), w => number()],
                prop_oneof![6 => (4i64..12).prop_map(|n| json!(n)), w => number()],
                weighted(0.5, prop_oneof![4 => (30i64..90).prop_map(|n| json!(n)), w => number()]),
            ),
        ),
        weighted(
            0.3,
            prop_oneof![
                3 => (1i64..3).prop_map(|n| json!({"maxUnavailable": n})),
                2 => (0i64..3).prop_map(|n| json!({"minAvailable": n})),
                w => (number(), number()).prop_map(|(a, b)| json!({"maxUnavailable": a, "minAvailable": b})),
            ],
        ),
        weighted(
            0.5,
            (
                weighted(0.8, quantity_like("cpu")),
                weighted(0.8, quantity_like("memory")),
                weighted(
                    0.3,
                    (
                        weighted(0.7, quantity_like("cpu")),
                        weighted(0.7, quantity_like("memory")),
                    ),
                ),
            ),
        ),
    );
    let scalar =
        prop_oneof![4 => text(), w => number(), w => any::<bool>().prop_map(Value::Bool), w => Just(Value::Null)];
    let files = btree_map(
        prop_oneof![6 => "[a-z]{1,8}\\.(yaml|conf|json)", w => strs(&[".", "..", "..a", "a/b", "a b"]).prop_map(|v| v.as_str().unwrap_or("").to_string()), w => "\\PC{1,8}", w => "[a-z]{250,256}"],
        prop_oneof![
            8 => text(),
            w => ("[ -~]{1,16}", 30_000usize..70_000).prop_map(|(chunk, n)| s(&chunk.repeat(n))),
        ],
        0..3,
    );
    let extra = (
        weighted(0.4, btree_map(env_name(), scalar, 0..4)),
        weighted(0.2, btree_map(env_name(), env_secret_like(), 0..3)),
        weighted(
            0.25,
            (
                weighted(0.4, path_like()),
                files,
                weighted(
                    0.3,
                    btree_map(
                        prop_oneof![6 => "[a-z]{1,8}\\.(pem|key)", w => strs(&["a/b", ".."]).prop_map(|v| v.as_str().unwrap_or("").to_string())],
                        prop_oneof![4 => "[a-z]{1,6}/[a-z]{1,6}".prop_map(|r| json!({"sops": r})), w => text().prop_map(|t| json!({"sops": t})), w => text()],
                        0..3,
                    ),
                ),
            ),
        ),
        weighted(0.2, vec((cidr_like(), vec(port_like(), 0..3)), 0..3)),
        weighted(
            0.2,
            (
                quantity_like("memory"),
                weighted(0.3, path_like()),
                weighted(0.3, name_like()),
                weighted(
                    0.3,
                    prop_oneof![4 => strs(&["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"]), w => text()],
                ),
            ),
        ),
        weighted(
            0.1,
            prop_oneof![6 => strs(&["*/5 * * * *", "@daily", "0 3 * * *", "@hourly"]),
            w => strs(&["61 * * * *", "* * * *", "@never", "*/0 * * * *", "0 0 31 2 *"]), w => text()],
        ),
        weighted(0.2, vec(path_like(), 0..4)),
        weighted(
            0.15,
            prop_oneof![4 => (1000i64..70000).prop_map(|n| json!(n)), 2 * w => number()],
        ),
        weighted(0.25, namespace_like()),
        weighted(
            0.25,
            btree_map(
                prop_oneof![6 => "[a-z]{1,8}", 2 => "[a-z]{1,5}\\.[a-z]{2,3}/[a-z]{1,8}", 1 => strs(&["app.kubernetes.io/name", "a/b/c", "/x", "-x"]).prop_map(|v| v.as_str().unwrap_or("").to_string()), 1 => "\\PC{1,8}"],
                prop_oneof![6 => "[a-z0-9]{0,10}".prop_map(Value::String), w => name_like(), w => text()],
                0..3,
            ),
        ),
        weighted(0.3, app_alerts()),
    );
    (kind, 0u8..10, core, scaling, extra, any::<u8>())
        .prop_map(move |(kind, coherent, core, scaling, extra, needs_mask)| {
            let (image, allow_latest, port, command, args, hosts, routes, health, metrics, many_routes) = core;
            let routes = routes
                .map(|rs| {
                    Value::Array(
                        rs.into_iter()
                            .map(|(p, allow)| obj(vec![("path", Some(p)), ("allowFrom", allow.map(Value::Array))]))
                            .collect(),
                    )
                })
                .or_else(|| many_routes.map(|rs| Value::Array(rs.iter().map(|p| json!({"path": p})).collect())));
            let (replicas, autoscaling, disruption, resources) = scaling;
            let (env, secret_env, config, egress, persistence, schedule, writable, uid, namespace, labels, alerts) =
                extra;
            AppParts {
                kind,
                coherent: coherent < 8 || w == 0,
                core: vec![
                    ("image", Some(image)),
                    ("allowLatest", allow_latest.map(Value::Bool)),
                    ("port", port),
                    ("command", command.map(Value::Array)),
                    ("args", args.map(Value::Array)),
                    ("hosts", hosts.map(Value::Array)),
                    ("routes", routes),
                    ("health", health),
                    ("metrics", metrics),
                ],
                scaling: vec![
                    ("replicas", replicas),
                    (
                        "autoscaling",
                        autoscaling
                            .map(|(min, max, cpu)| obj(vec![("min", Some(min)), ("max", Some(max)), ("cpu", cpu)])),
                    ),
                    ("disruption", disruption),
                    (
                        "resources",
                        resources.map(|(cpu, memory, limits)| {
                            obj(vec![
                                ("cpu", cpu),
                                ("memory", memory),
                                ("limits", limits.map(|(c, m)| obj(vec![("cpu", c), ("memory", m)]))),
                            ])
                        }),
                    ),
                ],
                extra: vec![
                    ("env", env.map(|m| Value::Object(m.into_iter().collect()))),
                    ("secretEnv", secret_env.map(|m| Value::Object(m.into_iter().collect()))),
                    (
                        "config",
                        config.map(|(mount, files, secret_files)| {
                            obj(vec![
                                ("mountPath", mount),
                                ("files", Some(Value::Object(files.into_iter().collect()))),
                                (
                                    "secretFiles",
                                    secret_files.map(|m| Value::Object(m.into_iter().collect())),
                                ),
                            ])
                        }),
                    ),
                    (
                        "egress",
                        egress.map(|rules| {
                            Value::Array(rules.into_iter().map(|(c, p)| json!({"cidr": c, "ports": p})).collect())
                        }),
                    ),
                    (
                        "persistence",
                        persistence.map(|(size, mount, class, mode)| {
                            obj(vec![
                                ("size", Some(size)),
                                ("mountPath", mount),
                                ("storageClass", class),
                                ("accessMode", mode),
                            ])
                        }),
                    ),
                    ("schedule", schedule),
                    ("writablePaths", writable.map(Value::Array)),
                    ("runAsUser", uid),
                    ("namespace", namespace),
                    ("labels", labels.map(|m| Value::Object(m.into_iter().collect()))),
                    ("alerts", alerts),
                ],
                needs_mask,
            }
        })
        .boxed()
}

/// Builds the app mapping, making most apps coherent with their kind so that they
/// get past the kind rules and on to the interesting values.
fn app_value(parts: &AppParts, names: &[String], index: usize) -> Value {
    let mut m = Map::new();
    let kind = parts.kind.as_str().unwrap_or("");
    if kind != "web" || !parts.coherent {
        m.insert("kind".into(), parts.kind.clone());
    }
    let fields = parts.core.iter().chain(&parts.scaling).chain(&parts.extra);
    for (k, v) in fields {
        if let Some(v) = v {
            m.insert((*k).to_string(), v.clone());
        }
    }
    let needs: Vec<Value> = names
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != index && parts.needs_mask & (1 << (j % 8)) != 0)
        .filter(|(j, _)| !parts.coherent || (*j < index && index != usize::MAX))
        .map(|(_, n)| s(n))
        .collect();
    if !needs.is_empty() {
        m.insert("needs".into(), Value::Array(needs));
    }
    if parts.coherent {
        match kind {
            "cron" => {
                for k in [
                    "port",
                    "health",
                    "replicas",
                    "autoscaling",
                    "disruption",
                    "hosts",
                    "routes",
                    "persistence",
                    "metrics",
                ] {
                    m.remove(k);
                }
                m.entry("schedule").or_insert_with(|| s("*/5 * * * *"));
            }
            _ => {
                m.remove("schedule");
                if kind == "web" {
                    m.entry("port").or_insert_with(|| json!(8080));
                    m.entry("health").or_insert_with(|| s("/healthz"));
                } else {
                    m.remove("hosts");
                    m.remove("routes");
                }
                if m.contains_key("autoscaling") {
                    m.remove("replicas");
                }
                if kind != "statefulset" {
                    m.remove("persistence");
                }
            }
        }
        if !m.contains_key("hosts") {
            m.remove("routes");
        }
    }
    Value::Object(m)
}

fn platform() -> S {
    let w = wild();
    (
        name_like(),
        domain_like(),
        weighted(if w == 0 { 0.995 } else { 0.8 }, prop_oneof![30 => strs(&["ops@example.com", "a@b.co"]), w => strs(&["a@b", "@b.c", "a@@b.c", "a b@c.d", "ä@ö.de", "a@b.c,d@e.f"]), w => text()]),
        weighted(0.7, prop_oneof![30 => strs(&["letsencrypt-prod", "letsencrypt-staging", "self-signed"]), w => text()]),
        weighted(0.4, (
            weighted(0.6, prop_oneof![30 => strs(&["gateway", "ingress"]), w => text()]),
            weighted(0.4, prop_oneof![4 => strs(&["eg", "nginx", "traefik"]), w => "[a-z]{250,256}".prop_map(Value::String), w => name_like()]),
            weighted(0.4, namespace_like()),
        )),
        weighted(0.3, namespace_like()),
        weighted(0.3, (weighted(0.6, namespace_like()), weighted(0.5, prop_oneof![4 => strs(&["kube-prometheus-stack", "kps"]), w => name_like(), w => text()]))),
        // Vault: the operator (and Vault, or an address) switched on or not.
        weighted(0.3, (
            prop_oneof![Just(json!({"vault-secrets-operator": {"enabled": true}})), Just(json!({"vault": {"enabled": true}, "vault-secrets-operator": {"enabled": true}}))],
            weighted(0.5, prop_oneof![4 => strs(&["https://vault.example.com:8200", "http://10.0.0.9:8200"]), w => text()]),
            weighted(0.3, prop_oneof![4 => strs(&["30s", "1.5m", "2h"]), w => strs(&["1d", "s", "1.m", ""]), w => text()]),
        )),
        // The environment's SOPS file, which apps' `{sops: ...}` references need.
        weighted(0.6, prop_oneof![6 => strs(&["secrets/{env}.sops.yaml", "s.yaml"]), w => strs(&["", "a/{x}.yaml", "dir/"]), w => text()]),
    )
        .prop_map(|(name, domain, email, tls, traffic, namespace, monitoring, vault, secrets)| {
            let (components, vault) = match vault {
                Some((c, address, refresh)) => (Some(c), Some(obj(vec![("address", address), ("refreshAfter", refresh)]))),
                None => (None, None),
            };
            obj(vec![
                ("name", Some(name)),
                ("domain", Some(domain)),
                ("email", email),
                ("tls", tls),
                ("traffic", traffic.map(|(mode, class, ns)| obj(vec![("mode", mode), ("class", class), ("namespace", ns)]))),
                ("namespace", namespace),
                ("monitoring", monitoring.map(|(ns, release)| obj(vec![("namespace", ns), ("release", release)]))),
                ("components", components),
                ("vault", vault),
                ("secrets", secrets.map(|f| json!({"file": f}))),
            ])
        })
        .boxed()
}

fn receiver() -> S {
    let w = wild();
    prop_oneof![
        3 => (secret_ref_like(), weighted(0.5, prop_oneof![3 => strs(&["#alerts", "#ops"]), w => text()]))
            .prop_map(|(url, channel)| json!({"slack": obj(vec![("webhookUrl", Some(url)), ("channel", channel)])})),
        2 => secret_ref_like().prop_map(|k| json!({"pagerduty": {"routingKey": k}})),
        2 => (
            prop_oneof![3 => strs(&["a@b.c", "a@b.c, d@e.f"]), w => text()],
            prop_oneof![3 => strs(&["alerts@b.c"]), w => text()],
            prop_oneof![3 => strs(&["smtp.b.c:587", "smtp.b.c:25"]), w => strs(&["smtp", "smtp:0", "smtp:99999", ":25", "[::1]:25"]), w => text()],
            weighted(0.4, text()),
            weighted(0.4, secret_ref_like()),
        )
            .prop_map(|(to, from, smarthost, username, password)| {
                json!({"email": obj(vec![("to", Some(to)), ("from", Some(from)), ("smarthost", Some(smarthost)), ("username", username), ("password", password)])})
            }),
        2 => (prop_oneof![3 => strs(&["https://hooks.example/x", "http://10.0.0.1:9000/"]), 1 => strs(&["ftp://x", "https://user:pw@x/", "not a url", "https://é.example/"]), 1 => text()], weighted(0.4, secret_ref_like()))
            .prop_map(|(url, token)| json!({"webhook": obj(vec![("url", Some(url)), ("token", token)])})),
        w => Just(json!({})),
        w => (secret_ref_like(), secret_ref_like()).prop_map(|(a, b)| json!({"slack": {"webhookUrl": a}, "pagerduty": {"routingKey": b}})),
    ]
    .boxed()
}

fn observability() -> S {
    let w = wild();
    let receiver_name =
        prop_oneof![6 => "[a-z]([a-z0-9-]{0,6}[a-z0-9])?", w => Just("null".to_string()), w => "\\PC{1,8}"];
    (
        btree_map(receiver_name, receiver(), 0..3),
        vec(
            (
                weighted(0.5, severity_like()),
                weighted(0.4, vec(namespace_like(), 0..3)),
                weighted(0.9, text()),
            ),
            0..3,
        ),
        weighted(0.3, text()),
        weighted(0.2, text()),
        btree_map(alert_name(), log_alert(false), 0..2),
        weighted(
            0.3,
            (
                weighted(0.3, any::<bool>()),
                weighted(
                    0.5,
                    vec(
                        prop_oneof![3 => strs(&["https://status.example.com/", "http://x.y/z"]), w => text()],
                        0..3,
                    ),
                ),
                weighted(0.3, duration_like()),
                weighted(0.3, threshold_like()),
            ),
        ),
        weighted(0.2, prop_oneof![8 => strs(&["7d", "28d", "30d"]), w => duration_like()]),
        proptest::sample::subsequence(
            &[
                "certificateExpiry",
                "volumeSpace",
                "targetDown",
                "nodeNotReady",
                "uptimeFailing",
            ][..],
            0..3,
        ),
        vec(tuning(), 3),
        weighted(
            0.2,
            (
                weighted(0.7, prop_oneof![8 => Just(json!(0.05)), w => number()]),
                weighted(0.7, prop_oneof![8 => Just(json!(0.004)), w => number()]),
            ),
        ),
    )
        .prop_map(
            move |(receivers, routes, default, heartbeat, log_alerts, uptime, slo, tuned, tunings, cost)| {
                let mut alerting = Map::new();
                let receiver_names: Vec<String> = receivers.keys().cloned().collect();
                if !receivers.is_empty() {
                    alerting.insert("receivers".into(), Value::Object(receivers.into_iter().collect()));
                }
                // A route's receiver is mostly one of the declared ones.
                let pick = |t: Option<Value>, i: usize| match (t, receiver_names.get(i % receiver_names.len().max(1))) {
                    (Some(Value::String(x)), Some(name)) if w == 0 || x.len() % 4 != 0 => s(name),
                    (Some(v), _) => v,
                    (None, Some(name)) => s(name),
                    (None, None) => s("null"),
                };
                // Tame specs route only to declared receivers.
                let routes = if w == 0 && receiver_names.is_empty() {
                    Vec::new()
                } else {
                    routes
                };
                let (default, heartbeat) = if w == 0 && receiver_names.is_empty() {
                    (None, None)
                } else {
                    (default, heartbeat)
                };
                if !routes.is_empty() {
                    let rs: Vec<Value> = routes
                        .into_iter()
                        .enumerate()
                        .map(|(i, (sev, ns, r))| {
                            obj(vec![
                                ("severity", sev),
                                ("namespaces", ns.map(Value::Array)),
                                ("receiver", Some(pick(r, i))),
                            ])
                        })
                        .collect();
                    alerting.insert("routes".into(), Value::Array(rs));
                }
                if let Some(d) = default {
                    alerting.insert("default".into(), pick(Some(d), 0));
                }
                if let Some(h) = heartbeat {
                    alerting.insert("heartbeat".into(), pick(Some(h), 1));
                }
                let mut alerts = Map::new();
                for (n, t) in tuned.iter().zip(tunings) {
                    alerts.insert((*n).to_string(), t);
                }
                obj(vec![
                    ("alerting", (!alerting.is_empty()).then_some(Value::Object(alerting))),
                    (
                        "logAlerts",
                        (!log_alerts.is_empty()).then(|| Value::Object(log_alerts.into_iter().collect())),
                    ),
                    (
                        "uptime",
                        uptime.map(|(enabled, urls, interval, slow)| {
                            obj(vec![
                                ("enabled", enabled.map(Value::Bool)),
                                ("urls", urls.map(Value::Array)),
                                ("interval", interval),
                                ("slow", slow),
                            ])
                        }),
                    ),
                    ("slo", slo.map(|w| json!({"window": w}))),
                    ("alerts", (!alerts.is_empty()).then_some(Value::Object(alerts))),
                    (
                        "cost",
                        cost.map(|(c, m)| obj(vec![("cpuCoreHour", c), ("memoryGibHour", m)])),
                    ),
                ])
            },
        )
        .boxed()
}

/// Keeps a subset of an object's keys (by `mask`), turning some into `null` removals.
fn partial(v: &Value, mask: u32, nulls: u32) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << (i % 32)) != 0)
                .map(|(i, (k, v))| {
                    (
                        k.clone(),
                        if nulls & (1 << (i % 32)) != 0 {
                            Value::Null
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A whole spec as a JSON value: half of them tame (only plausible values, coherent apps, so
/// most reach the renderer), half wild (odd values anywhere).
pub fn spec() -> S {
    let build = |weight| {
        WILD.with(|c| c.set(weight));
        let strategy = spec_with();
        WILD.with(|c| c.set(1));
        strategy
    };
    let tame = build(0);
    let wild = build(1);
    prop_oneof![tame, wild].boxed()
}

fn spec_with() -> S {
    let w = wild();
    let env_name = prop_oneof![30 => "[a-z]([a-z0-9-]{0,9}[a-z0-9])?", w => strs(&["Prod", "a_b", "default", ""]).prop_map(|v| v.as_str().unwrap_or("").to_string()), w => "\\PC{1,6}"];
    let app_name = prop_oneof![12 => "[a-z][a-z0-9-]{0,10}[a-z0-9]", w => "[a-z][a-z0-9]{48,56}", w => "[0-9][a-z]{0,4}", w => "\\PC{1,8}"];
    (
        platform(),
        prop_oneof![20 => Just(s("windlass.dev/v1alpha1")), w => strs(&["v1", "", "windlass.dev/v1"])],
        vec((app_name, app()), 0..5),
        weighted(
            0.5,
            vec(
                (
                    env_name,
                    platform(),
                    any::<u32>(),
                    any::<u32>(),
                    any::<u32>(),
                    weighted(0.2, app()),
                    weighted(0.3, observability()),
                ),
                1..4,
            ),
        ),
        weighted(0.4, observability()),
        weighted(0.15, 0usize..4),
    )
        .prop_map(
            move |(platform, api_version, apps, environments, observability, default_env)| {
                let names: Vec<String> = apps.iter().map(|(n, _)| n.clone()).collect();
                let mut app_map = Map::new();
                for (i, (n, parts)) in apps.iter().enumerate() {
                    app_map.insert(n.clone(), app_value(parts, &names, i));
                }
                let mut root = Map::new();
                root.insert("apiVersion".into(), api_version);
                root.insert("kind".into(), s("Platform"));
                root.insert("platform".into(), platform);
                if let Some(envs) = &environments
                    && let Some(i) = default_env
                {
                    let i = if w == 0 { i % envs.len().max(1) } else { i };
                    let name = envs.get(i).map_or("missing", |e| e.0.as_str());
                    root.insert("defaultEnvironment".into(), s(name));
                }
                if let Some(envs) = environments {
                    let mut overlays = Map::new();
                    for (name, p, mask, nulls, app_mask, new_app, obs) in envs {
                        let mut overlay = Map::new();
                        let p = partial(&p, mask & 0x55, nulls & mask & 0x0c);
                        if p.as_object().is_some_and(|m| !m.is_empty()) {
                            overlay.insert("platform".into(), p);
                        }
                        let mut apps_overlay = Map::new();
                        for (i, (n, v)) in app_map.iter().enumerate() {
                            let bits = app_mask.rotate_right(u32::try_from(i * 5).unwrap_or(0));
                            match bits & 3 {
                                0 => {}
                                1 => {
                                    apps_overlay.insert(n.clone(), Value::Null);
                                }
                                _ => {
                                    apps_overlay
                                        .insert(n.clone(), partial(v, bits >> 2, (bits >> 7) & (bits >> 2) & 0x0441));
                                }
                            }
                        }
                        if let Some(parts) = new_app {
                            apps_overlay.insert(format!("{name}-only"), app_value(&parts, &names, usize::MAX));
                        }
                        if !apps_overlay.is_empty() {
                            overlay.insert("apps".into(), Value::Object(apps_overlay));
                        }
                        if let Some(o) = obs {
                            overlay.insert("observability".into(), o);
                        }
                        overlays.insert(name, Value::Object(overlay));
                    }
                    root.insert("environments".into(), Value::Object(overlays));
                }
                root.insert("apps".into(), Value::Object(app_map));
                if let Some(o) = observability {
                    root.insert("observability".into(), o);
                }
                Value::Object(root)
            },
        )
        .boxed()
}

/// The spec as YAML text, the way a person's file reaches windlass.
pub fn to_yaml(spec: &Value) -> String {
    serde_saphyr::to_string(spec).unwrap_or_else(|e| panic!("the generator made a value YAML cannot hold: {e}"))
}
