//! `windlass init`: a commented starter spec that renders as it is.

use super::ExitStatus;
use std::io::Write;

use crate::cli::InitArgs;
use crate::error::CliError;
use crate::output::print;

pub fn run(args: &InitArgs) -> Result<ExitStatus, CliError> {
    let name = match &args.name {
        Some(n) => n.clone(),
        None => args.domain.split('.').next().unwrap_or("platform").to_string(),
    };
    let text = starter(&name, &args.domain, &args.email, args.chart_mirror.as_deref());
    // The starter must itself be a valid spec; a bad --domain or --email is reported against it.
    windlass_core::spec::load(&args.file.display().to_string(), &text).map_err(|e| {
        CliError::Usage(format!(
            "the values given do not make a valid spec:\n{e}\n  help: check --domain, --email, --name and --chart-mirror"
        ))
    })?;
    // create_new: never overwrite, even if the file appears between a check and the write.
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.file)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(CliError::SpecExists {
                path: args.file.clone(),
            });
        }
        Err(source) => {
            return Err(CliError::Write {
                path: args.file.clone(),
                source,
            });
        }
    };
    file.write_all(text.as_bytes()).map_err(|source| CliError::Write {
        path: args.file.clone(),
        source,
    })?;
    print(&format!(
        "wrote {}\n  next: edit the apps, then `windlass render --env development` to see what it makes,\n        or `windlass up` to install it on the current kubectl context\n",
        args.file.display()
    ))?;
    Ok(ExitStatus::Success)
}

/// A line of YAML with its comment aligned to one column.
fn commented(code: &str, comment: &str) -> String {
    const COLUMN: usize = 31;
    let pad = COLUMN.saturating_sub(code.chars().count()).max(2);
    format!("{code}{:pad$}# {comment}\n", "")
}

fn starter(name: &str, domain: &str, email: &str, mirror: Option<&str>) -> String {
    let identity = [
        commented(&format!("  name: {name}"), "default namespace and part-of label"),
        commented(
            &format!("  domain: {domain}"),
            &format!("a host without a dot (`www`) means www.{domain}"),
        ),
        commented(&format!("  email: {email}"), "ACME account for Let's Encrypt"),
        commented("  tls: letsencrypt-prod", "or letsencrypt-staging, self-signed"),
        "  traffic:\n".into(),
        commented(
            "    mode: gateway",
            "Gateway API HTTPRoutes; `ingress` for Ingress objects",
        ),
    ]
    .concat();
    let charts = match mirror {
        // JSON quoting is valid YAML and keeps any URL one scalar.
        Some(url) => format!(
            "  charts:\n{}",
            commented(
                &format!("    mirror: {}", serde_json::json!(url)),
                "every chart from this mirror"
            )
        ),
        None => {
            "  # charts:\n  #   mirror: oci://registry.internal/charts   # no internet: every chart from a mirror\n"
                .into()
        }
    };
    format!(
        r#"# windlass platform spec. Editors: `windlass schema > windlass.schema.json` and add
# `# yaml-language-server: $schema=windlass.schema.json` at the top for completion.
apiVersion: windlass.dev/v1alpha1
kind: Platform

platform:
{identity}  # `up` installs cert-manager, Envoy Gateway, kube-prometheus-stack, Loki, Alloy, the
  # blackbox exporter, metrics-server and Reloader from their pinned upstream charts.
  # components:
  #   cert-manager: {{ enabled: false }}     # the cluster already runs one
{charts}
apps:
  web:
    image: ghcr.io/example/web:1.0.0   # a tag or digest is required
    port: 3000
    hosts: [www]
    health: {{ path: /healthz, liveness: /livez }}   # readiness and startup probes; liveness on a shallow path
    metrics: /metrics                  # scraped by the monitoring stack
    autoscaling: {{ min: 2, max: 10, cpu: 70 }}
    resources: {{ cpu: 100m, memory: 256Mi }}

# Overlays merged over the base: maps merge, lists replace, null removes.
defaultEnvironment: development
environments:
  development:
    platform:
      tls: self-signed
      namespace: {name}-dev
    apps:
      web:
        autoscaling: null
        replicas: 1
  production: {{}}
"#
    )
}
