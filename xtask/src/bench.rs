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
    let windlass = release_binary(&root)?;
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
    // DESIGN.md / issue 8: 500 apps at least 6x faster than helm template and under 50 MB;
    // 10,000 apps under 3 s and 150 MB (memory bounded by the largest unit, not the platform).
    if opts.apps >= 10_000 {
        let ok = to_stdout.median.as_secs_f64() < 3.0 && mb(to_stdout.max_rss_kb) < 150.0;
        println!("  target: < 3 s and < 150 MB — {}", if ok { "met" } else { "NOT met" });
    } else {
        let ok = mb(to_stdout.max_rss_kb) < 50.0;
        println!("  target: < 50 MB — {}", if ok { "met" } else { "NOT met" });
    }

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
            // The 6x target is the 500-app one; at 10,000 apps the targets are absolute (above).
            if opts.apps >= 10_000 {
                println!("  windlass is {ratio:.1}x faster than helm template");
            } else {
                println!(
                    "  windlass is {ratio:.1}x faster than helm template (target: at least 6x — {})",
                    if ratio >= 6.0 { "met" } else { "NOT met" }
                );
            }
        }
        None => println!("  helm not found (run `cargo xtask testbed build`, or put helm on PATH) — no peer figure"),
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// `windlass check` over the rendered files of the generated platform (objects
/// per second, peak RSS) next to kube-score on the same files, built from its Go
/// module on first use (`[[bench]]` in testbed/versions.toml).
pub fn check(opts: &Options) -> Result<()> {
    let root = crate::repo_root();
    let windlass = release_binary(&root)?;
    let pinned = crate::versions::Pinned::load(&root)?;
    let build_dir = windlass_testbed::paths::build_dir(&pinned.hash);
    let bin_dir = build_dir.join("bench-bin");
    crate::tools::build_modules(&pinned, &pinned.versions.bench, &build_dir, &bin_dir)?;
    let kube_score = bin_dir.join("kube-score");
    let work = std::env::temp_dir().join(format!("windlass-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let spec = work.join("windlass.yaml");
    std::fs::write(&spec, generate_spec(opts.apps))?;
    let out_dir = work.join("rendered");
    let rendered = Command::new(&windlass)
        .args(["render", "-f"])
        .arg(&spec)
        .args(["--env", "production", "--out"])
        .arg(&out_dir)
        .output()?;
    if !rendered.status.success() {
        bail!("windlass render failed:\n{}", String::from_utf8_lossy(&rendered.stderr));
    }
    // The Kubernetes objects only (render also writes each component's values and release files).
    let files: Vec<String> = crate::versions::files_below(&out_dir, |d| !d.ends_with("_components"))?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    let objects = files.len();
    let list = work.join("files");
    std::fs::write(&list, files.join("\n"))?;
    let mut windlass_args: Vec<&str> = vec!["check", "--fail-on", "never", "--output", "json"];
    windlass_args.extend(files.iter().map(String::as_str));
    let ours = measure(&windlass, &windlass_args, opts.runs)?;
    // kube-score exits 1 when it finds a critical problem: run it through sh to time the work, not the verdict.
    let script = format!(
        "xargs {} score --output-format ci < {} > /dev/null || true",
        kube_score.display(),
        list.display()
    );
    let theirs = measure(Path::new("/bin/sh"), &["-c", &script], opts.runs)?;
    let rate = |m: &Measurement| objects as f64 / m.median.as_secs_f64();
    println!();
    println!(
        "{} apps, {objects} objects in {} files, {} runs each (median wall time, peak RSS)",
        opts.apps,
        files.len(),
        opts.runs
    );
    println!(
        "  windlass check   {:>8.1} ms  {:>6.1} MB  {:>9.0} objects/s (target: at least 10,000 — {})",
        ms(ours.median),
        mb(ours.max_rss_kb),
        rate(&ours),
        if rate(&ours) >= 10_000.0 { "met" } else { "NOT met" }
    );
    println!(
        "  kube-score       {:>8.1} ms  {:>6.1} MB  {:>9.0} objects/s",
        ms(theirs.median),
        mb(theirs.max_rss_kb),
        rate(&theirs)
    );
    let ratio = theirs.median.as_secs_f64() / ours.median.as_secs_f64();
    println!(
        "  windlass check is {ratio:.1}x faster than kube-score (target: faster — {})",
        if ratio > 1.0 { "met" } else { "NOT met" }
    );
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// Builds the release `windlass` (the binary users run) and returns its path.
pub(crate) fn release_binary(root: &Path) -> Result<PathBuf> {
    println!("building the release binary ...");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "windlass"])
        .current_dir(root)
        .status()
        .context("cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p windlass failed");
    }
    Ok(root.join("target/release/windlass"))
}

pub(crate) struct Measurement {
    pub median: Duration,
    pub max_rss_kb: i64,
}

/// Runs `cmd args` `runs` times (after one warm-up), with output discarded.
/// Each run goes through a fresh `xtask measure-child` process, whose only
/// child is `cmd`, so the peak RSS it reports is `cmd`'s alone.
pub(crate) fn measure(cmd: &Path, args: &[&str], runs: usize) -> Result<Measurement> {
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

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn mb(kb: i64) -> f64 {
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
             health: {{path: /healthz, liveness: /livez}}\n    metrics: /metrics\n    autoscaling: {{min: 2, max: 6, cpu: 70}}\n    \
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

/// Options of `cargo xtask bench apply`.
pub struct ApplyOptions {
    pub apps: usize,
    /// Passed to `windlass up --concurrency` when set (else windlass's default).
    pub concurrency: Option<usize>,
    /// Seconds each side may take to become ready.
    pub timeout: u64,
    /// Timed no-op re-runs of `windlass up`.
    pub noop_runs: usize,
}

/// `cargo xtask bench apply`: a generated platform onto the test bed, timed for
/// `windlass up` (first apply to ready, then no-op re-runs) against `windlass
/// render --stdout | kubectl apply --server-side -f -` plus `kubectl wait` for
/// every Deployment to be Available, each side on fresh namespaces.
pub fn apply(opts: &ApplyOptions) -> Result<()> {
    let root = crate::repo_root();
    // Idempotent: "already running" in well under a second when it is.
    let kubeconfig = crate::bed::up().context("starting the test bed")?;
    let bin_dir = match std::env::var_os(windlass_testbed::paths::BIN_ENV) {
        Some(dir) if Path::new(&dir).join("kubectl").is_file() => PathBuf::from(dir),
        _ => crate::bed::build()?.bin_dir,
    };
    let kubectl = Kube {
        binary: bin_dir.join("kubectl"),
        kubeconfig: kubeconfig.clone(),
    };
    let windlass = release_binary(&root)?;
    let work = std::env::temp_dir().join(format!("windlass-bench-apply-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let id = format!("{:x}", std::process::id());
    let kc = kubeconfig.display().to_string();
    let timeout = opts.timeout.to_string();

    // windlass: first apply, no-op re-runs, down.
    let w = Names::new("wb", &id);
    let spec = work.join("windlass.yaml");
    std::fs::write(&spec, generate_apply_spec(opts.apps, &w))?;
    let spec_arg = spec.display().to_string();
    let objects = count_objects(&windlass, &spec_arg)?;
    println!(
        "{} apps, {objects} objects; test bed kubeconfig {}",
        opts.apps,
        kubeconfig.display()
    );
    kubectl.create_namespaces(&[&w.gateway, &w.monitoring])?;
    let mut up_args = vec!["up", "-f", &spec_arg, "--kubeconfig", &kc, "--timeout", &timeout];
    let concurrency = opts.concurrency.map(|c| c.to_string());
    if let Some(c) = &concurrency {
        up_args.extend(["--concurrency", c.as_str()]);
    }
    println!("windlass up (first apply to ready) ...");
    let first = timed(&windlass, &up_args, &work.join("up-first.log"))?;
    let mut noops = Vec::with_capacity(opts.noop_runs);
    for i in 0..opts.noop_runs.max(1) {
        noops.push(timed(&windlass, &up_args, &work.join(format!("up-noop-{i}.log")))?);
    }
    let noop_log = std::fs::read_to_string(work.join("up-noop-0.log")).unwrap_or_default();
    if !noop_log.contains(" 0 changed") {
        println!("  warning: the re-run changed something:\n{}", tail(&noop_log, 5));
    }
    println!("windlass down ...");
    let down = timed(
        &windlass,
        &["down", "-f", &spec_arg, "--kubeconfig", &kc, "--yes"],
        &work.join("down.log"),
    )?;
    kubectl.delete_namespaces(&[&w.apps, &w.gateway, &w.monitoring])?;

    // kubectl: the same rendered objects, server-side applied, then waited for.
    let k = Names::new("kb", &id);
    let kspec = work.join("kubectl.yaml");
    std::fs::write(&kspec, generate_apply_spec(opts.apps, &k))?;
    let kspec_arg = kspec.display().to_string();
    kubectl.create_namespaces(&[&k.gateway, &k.monitoring])?;
    let cluster_scoped_before = kubectl.output(&["get", "clusterissuers", "-o", "name"])?;
    println!("windlass render --stdout | kubectl apply --server-side -f - && kubectl wait ...");
    let start = Instant::now();
    let rendered = Command::new(&windlass)
        .args(["render", "-f", &kspec_arg, "--stdout"])
        .output()
        .context("windlass render")?;
    if !rendered.status.success() {
        bail!("windlass render failed:\n{}", String::from_utf8_lossy(&rendered.stderr));
    }
    let rendered_at = start.elapsed();
    kubectl.apply_stdin(&rendered.stdout, &work.join("kubectl-apply.log"))?;
    let applied_at = start.elapsed();
    kubectl.run(
        &[
            "wait",
            "--for=condition=Available",
            "deployment",
            "--all",
            "-n",
            &k.apps,
            &format!("--timeout={}s", opts.timeout),
        ],
        &work.join("kubectl-wait.log"),
    )?;
    let kubectl_total = start.elapsed();
    // Clean up what this phase created: its namespaces, and cluster-scoped
    // objects only when they did not exist before it.
    let cluster_scoped_after = kubectl.output(&["get", "clusterissuers", "-o", "name"])?;
    for name in cluster_scoped_after.lines() {
        if !cluster_scoped_before.lines().any(|l| l == name) {
            let _ = kubectl.output(&["delete", name, "--wait=true"]);
        }
    }
    kubectl.delete_namespaces(&[&k.apps, &k.gateway, &k.monitoring])?;

    let ratio = first.as_secs_f64() / kubectl_total.as_secs_f64();
    let noop_median = {
        let mut sorted = noops.clone();
        sorted.sort();
        sorted[sorted.len() / 2]
    };
    println!();
    println!(
        "{} apps, {objects} objects, fresh namespaces per side (wall time; windlass up --concurrency {})",
        opts.apps,
        concurrency.as_deref().unwrap_or("default")
    );
    println!(
        "  windlass up, first apply to ready          {:>8.1} s",
        first.as_secs_f64()
    );
    println!(
        "  render | kubectl apply --server-side       {:>8.1} s  (render {:.2} s)",
        applied_at.as_secs_f64(),
        rendered_at.as_secs_f64()
    );
    println!(
        "    + kubectl wait Available (total)         {:>8.1} s",
        kubectl_total.as_secs_f64()
    );
    println!("  ratio windlass / kubectl (first apply)     {ratio:>8.2}x  (target: <= 1.0)");
    println!(
        "  windlass up, no-op re-run (median of {})    {:>8.2} s  runs: {}  (target: < 2 s)",
        noops.len(),
        noop_median.as_secs_f64(),
        noops
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  windlass down --yes                        {:>8.1} s",
        down.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// The namespaces of one side of `bench apply`.
struct Names {
    platform: String,
    apps: String,
    gateway: String,
    monitoring: String,
}

impl Names {
    fn new(side: &str, id: &str) -> Self {
        Self {
            platform: format!("{side}{id}"),
            apps: format!("{side}-apps-{id}"),
            gateway: format!("{side}-gw-{id}"),
            monitoring: format!("{side}-mon-{id}"),
        }
    }
}

/// A platform of `n` small web apps in one namespace: one replica each, a port
/// and a health check, no hosts, no workers; traffic and monitoring in the
/// namespaces the bench creates first.
fn generate_apply_spec(n: usize, names: &Names) -> String {
    let mut s = format!(
        "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform:\n  name: {}\n  domain: {}.example.com\n  \
         email: ops@example.com\n  namespace: {}\n  traffic: {{mode: gateway, namespace: {}}}\n  \
         monitoring: {{namespace: {}}}\napps:\n",
        names.platform, names.platform, names.apps, names.gateway, names.monitoring
    );
    for i in 0..n {
        let _ = write!(
            s,
            "  app{i}:\n    image: registry.example.com/team/app{i}:1.0.0\n    port: 8080\n    health: {{path: /healthz, liveness: /livez}}\n    \
             replicas: 1\n    resources: {{cpu: 10m, memory: 32Mi}}\n"
        );
    }
    s
}

fn count_objects(windlass: &Path, spec: &str) -> Result<usize> {
    let out = Command::new(windlass)
        .args(["render", "-f", spec, "--stdout"])
        .output()?;
    if !out.status.success() {
        bail!("windlass render failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| *l == "---")
        .count())
}

/// Runs `cmd args` once with its output in `log`; fails (with the log's end) unless it succeeds.
fn timed(cmd: &Path, args: &[&str], log: &Path) -> Result<Duration> {
    timed_with(cmd, args, &[], log)
}

/// [`timed`] with `env` added to the command's environment.
pub(crate) fn timed_with(cmd: &Path, args: &[&str], env: &[(&str, &str)], log: &Path) -> Result<Duration> {
    let file = std::fs::File::create(log)?;
    let start = Instant::now();
    let status = Command::new(cmd)
        .args(args)
        .envs(env.iter().copied())
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("running {}", cmd.display()))?;
    let elapsed = start.elapsed();
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        bail!(
            "{} {} failed ({status}) after {:.1} s:\n{}",
            cmd.display(),
            args.join(" "),
            elapsed.as_secs_f64(),
            tail(&text, 30)
        );
    }
    Ok(elapsed)
}

pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// kubectl against the test bed.
struct Kube {
    binary: PathBuf,
    kubeconfig: PathBuf,
}

impl Kube {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--kubeconfig").arg(&self.kubeconfig);
        cmd
    }

    fn output(&self, args: &[&str]) -> Result<String> {
        let out = self.command().args(args).output().context("running kubectl")?;
        if !out.status.success() {
            bail!(
                "kubectl {} failed:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn run(&self, args: &[&str], log: &Path) -> Result<()> {
        timed_kubectl(self.command().args(args), log, &args.join(" "))
    }

    fn apply_stdin(&self, stream: &[u8], log: &Path) -> Result<()> {
        use std::io::Write as _;
        let file = std::fs::File::create(log)?;
        let mut child = self
            .command()
            .args(["apply", "--server-side", "--field-manager=bench-kubectl", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .context("running kubectl apply")?;
        child
            .stdin
            .take()
            .context("kubectl stdin")?
            .write_all(stream)
            .context("writing to kubectl apply")?;
        let status = child.wait()?;
        if !status.success() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            bail!("kubectl apply --server-side failed ({status}):\n{}", tail(&text, 30));
        }
        Ok(())
    }

    fn create_namespaces(&self, names: &[&str]) -> Result<()> {
        for name in names {
            self.output(&["create", "namespace", name])?;
        }
        Ok(())
    }

    fn delete_namespaces(&self, names: &[&str]) -> Result<()> {
        let mut args = vec![
            "delete",
            "namespace",
            "--ignore-not-found",
            "--wait=true",
            "--timeout=300s",
        ];
        args.extend(names);
        self.output(&args).map(|_| ())
    }
}

fn timed_kubectl(cmd: &mut Command, log: &Path, what: &str) -> Result<()> {
    let file = std::fs::File::create(log)?;
    let status = cmd
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .context("running kubectl")?;
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        bail!("kubectl {what} failed ({status}):\n{}", tail(&text, 30));
    }
    Ok(())
}
