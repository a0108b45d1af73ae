//! `cargo xtask bench render`: renders a generated N-app platform with the
//! release binary and reports wall time and peak memory, next to `helm
//! template` of an equivalent chart (same apps, same object kinds) measured
//! in the same run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::resource::{UsageWho, getrusage};

pub struct Options {
    pub apps: usize,
    pub runs: usize,
}

pub fn render(opts: &Options) -> Result<()> {
    let root = crate::repo_root();
    println!("building the release binary ...");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "windlass"])
        .current_dir(&root)
        .status()
        .context("cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p windlass failed");
    }
    let windlass = root.join("target/release/windlass");
    let work = std::env::temp_dir().join(format!("windlass-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let spec = work.join("windlass.yaml");
    std::fs::write(&spec, generate_spec(opts.apps))?;
    let spec_arg = spec.display().to_string();

    // Objects produced, for the per-object figures.
    let stream = Command::new(&windlass)
        .args(["render", "-f", &spec_arg, "--env", "production", "--stdout"])
        .output()?;
    if !stream.status.success() {
        bail!("windlass render failed:\n{}", String::from_utf8_lossy(&stream.stderr));
    }
    let objects = String::from_utf8_lossy(&stream.stdout)
        .lines()
        .filter(|l| *l == "---")
        .count();

    let out_dir = work.join("rendered").display().to_string();
    let stdout_args = ["render", "-f", &spec_arg, "--env", "production", "--stdout"];
    let files_args = ["render", "-f", &spec_arg, "--env", "production", "--out", &out_dir];
    let to_stdout = measure(&windlass, &stdout_args, opts.runs)?;
    let to_files = measure(&windlass, &files_args, opts.runs)?;

    println!();
    println!(
        "{} apps, {objects} objects, {} runs each (median wall time, peak RSS)",
        opts.apps, opts.runs
    );
    println!(
        "  windlass render --stdout   {:>8.1} ms  {:>6.1} MB",
        ms(to_stdout.median),
        mb(to_stdout.max_rss_kb)
    );
    println!(
        "  windlass render --out DIR  {:>8.1} ms  {:>6.1} MB",
        ms(to_files.median),
        mb(to_files.max_rss_kb)
    );
    println!("  target: < 200 ms and < 100 MB");

    match find_helm() {
        Some(helm) => {
            let chart = work.join("chart");
            write_chart(&chart, opts.apps)?;
            let chart_arg = chart.display().to_string();
            let helm_run = measure(&helm, &["template", "bench", &chart_arg], opts.runs)?;
            let ratio = helm_run.median.as_secs_f64() / to_stdout.median.as_secs_f64();
            println!(
                "  helm template (same apps)  {:>8.1} ms  {:>6.1} MB",
                ms(helm_run.median),
                mb(helm_run.max_rss_kb)
            );
            println!("  windlass is {ratio:.1}x faster than helm template (target: at least 20x)");
        }
        None => println!("  helm not found (run `cargo xtask testbed build`, or put helm on PATH) — no peer figure"),
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

struct Measurement {
    median: Duration,
    max_rss_kb: i64,
}

/// Runs `cmd args` `runs` times (after one warm-up), with output discarded.
/// Each run goes through a fresh `xtask measure-child` process, whose only
/// child is `cmd`, so the peak RSS it reports is `cmd`'s alone.
fn measure(cmd: &Path, args: &[&str], runs: usize) -> Result<Measurement> {
    let me = std::env::current_exe().context("locating xtask")?;
    let mut times = Vec::with_capacity(runs);
    let mut max_rss_kb = 0;
    for i in 0..=runs {
        let out = Command::new(&me)
            .arg("measure-child")
            .arg(cmd)
            .args(args)
            .stderr(Stdio::inherit())
            .output()
            .context("running xtask measure-child")?;
        if !out.status.success() {
            bail!("{} {} failed", cmd.display(), args.join(" "));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text.split_whitespace().map(str::parse::<i64>);
        let (Some(Ok(nanos)), Some(Ok(rss))) = (fields.next(), fields.next()) else {
            bail!("unexpected measure-child output: {text}");
        };
        max_rss_kb = max_rss_kb.max(rss);
        if i > 0 {
            times.push(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)));
        }
    }
    times.sort();
    Ok(Measurement {
        median: times[times.len() / 2],
        max_rss_kb,
    })
}

/// The child side of `measure`: run `cmd` once with output discarded, print
/// "<wall nanoseconds> <peak RSS KiB>".
pub fn measure_child(cmd: &str, args: &[String]) -> Result<()> {
    let start = Instant::now();
    let status = Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("running {cmd}"))?;
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("{cmd} failed");
    }
    // ru_maxrss of RUSAGE_CHILDREN: the largest waited-for child, and there was only one.
    let rss = getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss();
    println!("{} {rss}", elapsed.as_nanos());
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[allow(clippy::cast_precision_loss)]
fn mb(kb: i64) -> f64 {
    kb as f64 / 1024.0
}

fn find_helm() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(bin) = std::env::var_os("WINDLASS_TESTBED_BIN") {
        dirs.push(PathBuf::from(bin));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let cache = PathBuf::from(home).join(".cache/windlass/testbed");
        if let Ok(entries) = std::fs::read_dir(cache) {
            dirs.extend(entries.flatten().map(|e| e.path().join("bin")));
        }
    }
    dirs.into_iter().map(|d| d.join("helm")).find(|p| p.is_file())
}

/// A platform of `n` web apps: autoscaled, public (ingress mode, so any number
/// of hosts), with metrics and a dependency on the previous app.
pub fn generate_spec(n: usize) -> String {
    let mut s = String::from(
        "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform:\n  name: bench\n  domain: bench.example.com\n  \
         email: ops@example.com\n  traffic: {mode: ingress}\ndefaultEnvironment: production\napps:\n",
    );
    for i in 0..n {
        let _ = write!(
            s,
            "  app{i}:\n    image: registry.example.com/team/app{i}:1.{i}.0\n    port: 8080\n    hosts: [app{i}]\n    \
             health: /healthz\n    metrics: /metrics\n    autoscaling: {{min: 2, max: 6, cpu: 70}}\n    \
             resources: {{cpu: 100m, memory: 256Mi}}\n    env: {{APP_INDEX: \"{i}\", LOG_LEVEL: info}}\n    labels: {{tier: t{}}}\n",
            i % 5
        );
        if i > 0 {
            let _ = writeln!(s, "    needs: [app{}]", i - 1);
        }
    }
    s.push_str("environments:\n  production: {}\n");
    s
}

/// The Helm peer: one chart whose templates make, per app, the same kinds
/// windlass renders for the spec above (ServiceAccount, Service, Deployment,
/// HPA, PDB, NetworkPolicy, ServiceMonitor, Ingress), from a values list.
fn write_chart(dir: &Path, n: usize) -> Result<()> {
    std::fs::create_dir_all(dir.join("templates"))?;
    std::fs::write(dir.join("Chart.yaml"), "apiVersion: v2\nname: bench\nversion: 0.1.0\n")?;
    let mut values = String::from("domain: bench.example.com\napps:\n");
    for i in 0..n {
        let _ = write!(
            values,
            "  - name: app{i}\n    image: registry.example.com/team/app{i}:1.{i}.0\n    port: 8080\n    host: app{i}\n    \
             health: /healthz\n    metrics: /metrics\n    min: 2\n    max: 6\n    cpu: 70\n    \
             env: {{APP_INDEX: \"{i}\", LOG_LEVEL: info}}\n    tier: t{}\n",
            i % 5
        );
        if i > 0 {
            let _ = writeln!(values, "    needs: app{}", i - 1);
        }
    }
    std::fs::write(dir.join("values.yaml"), values)?;
    std::fs::write(dir.join("templates/_helpers.tpl"), HELPERS)?;
    std::fs::write(dir.join("templates/apps.yaml"), APPS_TEMPLATE)?;
    Ok(())
}

const HELPERS: &str = r#"{{- define "bench.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: bench
app.kubernetes.io/part-of: bench
app.kubernetes.io/managed-by: Helm
tier: {{ .tier }}
{{- end -}}
{{- define "bench.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: bench
{{- end -}}
{{- define "bench.probe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
periodSeconds: {{ .period }}
timeoutSeconds: {{ .timeout }}
failureThreshold: {{ .failures }}
{{- end -}}
"#;

const APPS_TEMPLATE: &str = r#"{{- range $app := .Values.apps }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $app.name }}
  labels: {{- include "bench.labels" $app | nindent 4 }}
automountServiceAccountToken: false
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $app.name }}
  labels: {{- include "bench.labels" $app | nindent 4 }}
spec:
  selector: {{- include "bench.selector" $app | nindent 4 }}
  ports:
    - name: http
      port: {{ $app.port }}
      targetPort: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $app.name }}
  labels: {{- include "bench.labels" $app | nindent 4 }}
spec:
  selector:
    matchLabels: {{- include "bench.selector" $app | nindent 6 }}
  strategy:
    rollingUpdate: {maxUnavailable: 0, maxSurge: 25%}
  template:
    metadata:
      labels: {{- include "bench.labels" $app | nindent 8 }}
    spec:
      serviceAccountName: {{ $app.name }}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: {{ $app.name }}
          image: {{ $app.image }}
          ports:
            - name: http
              containerPort: {{ $app.port }}
          env:
          {{- range $k, $v := $app.env }}
            - name: {{ $k }}
              value: {{ $v | quote }}
          {{- end }}
          resources:
            requests: {cpu: 100m, memory: 256Mi}
            limits: {cpu: "1", memory: 512Mi}
          startupProbe: {{- include "bench.probe" (dict "path" $app.health "port" $app.port "period" 5 "timeout" 3 "failures" 60) | nindent 12 }}
          readinessProbe: {{- include "bench.probe" (dict "path" $app.health "port" $app.port "period" 10 "timeout" 3 "failures" 3) | nindent 12 }}
          livenessProbe: {{- include "bench.probe" (dict "path" $app.health "port" $app.port "period" 20 "timeout" 10 "failures" 6) | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
      volumes:
        - {name: tmp, emptyDir: {}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $app.name }}
  labels: {{- include "bench.labels" $app | nindent 4 }}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: {{ $app.name }}}
  minReplicas: {{ $app.min }}
  maxReplicas: {{ $app.max }}
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: {{ $app.cpu }}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $app.name }}
  labels: {{- include "bench.labels" $app | nindent 4 }}
spec:
  maxUnavailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels: {{- include "bench.selector" $app | nindent 6 }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $app.name }}
  labels: {{- include "bench.labels" $app | nindent 4 }}
spec:
  podSelector:
    matchLabels: {{- include "bench.selector" $app | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]
      ports: [{port: {{ $app.port }}, protocol: TCP}]
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
      ports: [{port: {{ $app.port }}, protocol: TCP}]
  {{- if $app.needs }}
  egress:
    - to: [{podSelector: {matchLabels: {app.kubernetes.io/name: {{ $app.needs }}}}}]
      ports: [{port: 8080, protocol: TCP}]
  {{- end }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $app.name }}
  labels: {{- include "bench.labels" $app | nindent 4 }}
    release: kube-prometheus-stack
spec:
  selector:
    matchLabels: {{- include "bench.selector" $app | nindent 6 }}
  endpoints:
    - {port: http, path: {{ $app.metrics }}, interval: 30s}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $app.name }}
  labels: {{- include "bench.labels" $app | nindent 4 }}
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt-prod
spec:
  ingressClassName: nginx
  tls:
    - hosts: [{{ printf "%s.%s" $app.host $.Values.domain }}]
      secretName: {{ $app.name }}-tls
  rules:
    - host: {{ printf "%s.%s" $app.host $.Values.domain }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: {{ $app.name }}, port: {name: http}}}
{{- end }}
"#;
