//! The app's workload: Deployment, StatefulSet or CronJob, and the pod it runs.
//! Probes, security context, resources, volumes and rollout policy are decided
//! here from the model (timings and limits come from `defaults`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment, RollingUpdateStatefulSetStrategy,
    StatefulSet, StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapProjection, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, ExecAction, HTTPGetAction, KeyToPath, Lifecycle, LifecycleHandler, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ProjectedVolumeSource, ResourceRequirements, SeccompProfile, SecretKeySelector, SecretProjection, SecurityContext,
    SleepAction, TCPSocketAction, TopologySpreadConstraint, Volume, VolumeMount, VolumeProjection,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::config::config_checksum;
use super::labels::{app_labels, app_meta, app_port_meta, selector, selector_labels};
use super::object::Object;
use crate::defaults as d;
use crate::model::{App, AppPort, EnvSecret, Platform, ProbeCheck, ProbeTiming, Scaling};
use crate::spec::AppKind;

/// Annotation carrying a hash of the app's config files, so a change rolls the pods.
pub const CONFIG_CHECKSUM_ANNOTATION: &str = "windlass.dev/config-checksum";
/// Reloader restarts the workload when a referenced Secret or ConfigMap changes.
pub const RELOADER_ANNOTATION: &str = "reloader.stakater.com/auto";
/// Reloader restarts the workload when one of these Secrets (comma-separated) changes.
pub const RELOADER_SECRETS_ANNOTATION: &str = "secret.reloader.stakater.com/reload";

pub fn workload(platform: &Platform, app: &App) -> Object {
    let template = pod_template(platform, app);
    let mut meta = app_port_meta(platform, app, &app.name);
    // Reloader restarts the app for the Secrets others create; the Vault Secrets Operator
    // restarts it for the Secrets it syncs; windlass's own Secrets (from the SOPS file)
    // roll it through the pod template's checksum, so Reloader is told to leave those alone.
    let external: Vec<&str> = app
        .secret_env
        .iter()
        .filter_map(|(_, s)| match s {
            EnvSecret::Secret(r) => Some(r.secret.as_str()),
            _ => None,
        })
        .collect();
    if !external.is_empty() {
        let annotations = meta.annotations.get_or_insert_with(BTreeMap::new);
        if app.secret_env.iter().any(|(_, s)| matches!(s, EnvSecret::Sops(_))) {
            let mut names = external;
            names.sort_unstable();
            names.dedup();
            annotations.insert(RELOADER_SECRETS_ANNOTATION.to_string(), names.join(","));
        } else {
            annotations.insert(RELOADER_ANNOTATION.to_string(), "true".to_string());
        }
    }
    // The spec refuses a `latest` image unless the app says `allowLatest: true`: the user chose it.
    if let (_, Some("latest"), None) = crate::spec::names::split_image(&app.image) {
        meta.annotations.get_or_insert_with(BTreeMap::new).insert(
            format!("{}image-tag-latest", crate::check::SUPPRESS_PREFIX),
            format!("allowLatest: true in windlass.yaml (apps.{})", app.name),
        );
    }
    match app.kind {
        AppKind::Web | AppKind::Worker => Object::from_typed(&Deployment {
            metadata: meta,
            spec: Some(DeploymentSpec {
                // The HPA owns the count when autoscaling: setting it here would reset it on every deploy.
                replicas: fixed_replicas(app),
                selector: selector(platform, app),
                template,
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".to_string()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_unavailable: Some(IntOrString::Int(0)),
                        max_surge: Some(IntOrString::String(d::MAX_SURGE.to_string())),
                    }),
                }),
                min_ready_seconds: Some(d::MIN_READY_SECONDS),
                revision_history_limit: Some(d::REVISION_HISTORY),
                progress_deadline_seconds: Some(d::PROGRESS_DEADLINE_SECONDS),
                ..DeploymentSpec::default()
            }),
            status: None,
        }),
        AppKind::Statefulset => Object::from_typed(&StatefulSet {
            metadata: meta,
            spec: Some(StatefulSetSpec {
                replicas: fixed_replicas(app),
                selector: selector(platform, app),
                service_name: Some(headless_service_name(app)),
                template,
                update_strategy: Some(StatefulSetUpdateStrategy {
                    type_: Some("RollingUpdate".to_string()),
                    rolling_update: Some(RollingUpdateStatefulSetStrategy {
                        partition: Some(0),
                        ..RollingUpdateStatefulSetStrategy::default()
                    }),
                }),
                pod_management_policy: Some("OrderedReady".to_string()),
                min_ready_seconds: Some(d::MIN_READY_SECONDS),
                revision_history_limit: Some(d::REVISION_HISTORY),
                volume_claim_templates: app.persistence.as_ref().map(|p| {
                    vec![PersistentVolumeClaim {
                        metadata: ObjectMeta {
                            name: Some(DATA_VOLUME.to_string()),
                            labels: Some(selector_labels(platform, app)),
                            ..ObjectMeta::default()
                        },
                        spec: Some(pvc_spec(p)),
                        status: None,
                    }]
                }),
                ..StatefulSetSpec::default()
            }),
            status: None,
        }),
        AppKind::Cron => Object::from_typed(&CronJob {
            metadata: meta,
            spec: Some(CronJobSpec {
                schedule: app.schedule.clone().unwrap_or_default(),
                concurrency_policy: Some("Forbid".to_string()),
                starting_deadline_seconds: Some(d::CRON_STARTING_DEADLINE_SECONDS),
                successful_jobs_history_limit: Some(d::CRON_SUCCESS_HISTORY),
                failed_jobs_history_limit: Some(d::CRON_FAILED_HISTORY),
                job_template: JobTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(app_labels(platform, app)),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(JobSpec {
                        backoff_limit: Some(d::CRON_BACKOFF_LIMIT),
                        template,
                        ..JobSpec::default()
                    }),
                },
                ..CronJobSpec::default()
            }),
            status: None,
        }),
    }
}

fn fixed_replicas(app: &App) -> Option<i32> {
    match app.scaling {
        Scaling::Fixed(n) => Some(i32::try_from(n).unwrap_or(i32::MAX)),
        Scaling::Auto { .. } => None,
    }
}

pub fn headless_service_name(app: &App) -> String {
    format!("{}-headless", app.name)
}

const DATA_VOLUME: &str = "data";
const TMP_VOLUME: &str = "tmp";
const CONFIG_VOLUME: &str = "config";

fn pvc_spec(p: &crate::model::Persistence) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec![p.access_mode.as_str().to_string()]),
        storage_class_name: p.storage_class.clone(),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([("storage".to_string(), Quantity(p.size.clone()))])),
            ..VolumeResourceRequirements::default()
        }),
        ..PersistentVolumeClaimSpec::default()
    }
}

/// The PVC of a Deployment with persistence (a StatefulSet gets one per replica from its template).
pub fn deployment_pvc(platform: &Platform, app: &App) -> Option<Object> {
    let p = app.persistence.as_ref()?;
    if app.kind == AppKind::Statefulset {
        return None;
    }
    Some(Object::from_typed(&PersistentVolumeClaim {
        metadata: app_meta(platform, app, format!("{}-data", app.name)),
        spec: Some(pvc_spec(p)),
        status: None,
    }))
}

fn pod_template(platform: &Platform, app: &App) -> PodTemplateSpec {
    let mut annotations = BTreeMap::new();
    if let Some(c) = app.config.as_ref().filter(|c| !c.files.is_empty()) {
        annotations.insert(CONFIG_CHECKSUM_ANNOTATION.to_string(), config_checksum(&c.files));
    }
    if let Some(sum) = super::sops::checksum(platform, app) {
        annotations.insert(super::sops::CHECKSUM_ANNOTATION.to_string(), sum);
    }
    let labels = app_labels(platform, app);
    let (volumes, mounts) = volumes(app);
    let is_job = app.kind == AppKind::Cron;
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(app.name.clone()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            restart_policy: is_job.then(|| "OnFailure".to_string()),
            termination_grace_period_seconds: Some(d::TERMINATION_GRACE_SECONDS),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(app.run_as_user),
                run_as_group: Some(app.run_as_user),
                fs_group: Some(app.run_as_user),
                seccomp_profile: Some(runtime_default()),
                ..PodSecurityContext::default()
            }),
            topology_spread_constraints: (!is_job && app.scaling.floor() > 1
                || matches!(app.scaling, Scaling::Auto { .. }))
            .then(|| spread(platform, app)),
            containers: vec![container(app, mounts)],
            volumes: Some(volumes),
            ..PodSpec::default()
        }),
    }
}

fn spread(platform: &Platform, app: &App) -> Vec<TopologySpreadConstraint> {
    ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
        .into_iter()
        .map(|key| TopologySpreadConstraint {
            max_skew: 1,
            topology_key: key.to_string(),
            // ScheduleAnyway: a small cluster must still run the app; spreading is best effort.
            when_unsatisfiable: "ScheduleAnyway".to_string(),
            label_selector: Some(LabelSelector {
                match_labels: Some(selector_labels(platform, app)),
                ..LabelSelector::default()
            }),
            ..TopologySpreadConstraint::default()
        })
        .collect()
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_string(),
        ..SeccompProfile::default()
    }
}

fn bounded_empty_dir() -> EmptyDirVolumeSource {
    EmptyDirVolumeSource {
        size_limit: Some(Quantity(d::EMPTY_DIR_SIZE_LIMIT.to_string())),
        ..EmptyDirVolumeSource::default()
    }
}

/// The config files in one directory: the ConfigMap's, and (projected beside them)
/// each `secretFiles` entry from the Secret windlass makes from the SOPS file.
fn config_volume(app: &App, c: &crate::model::ConfigFiles) -> Volume {
    if c.secret_files.is_empty() {
        return Volume {
            name: CONFIG_VOLUME.to_string(),
            config_map: Some(ConfigMapVolumeSource {
                name: super::config::config_map_name(app),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        };
    }
    let mut sources = Vec::new();
    if !c.files.is_empty() {
        sources.push(VolumeProjection {
            config_map: Some(ConfigMapProjection {
                name: super::config::config_map_name(app),
                ..ConfigMapProjection::default()
            }),
            ..VolumeProjection::default()
        });
    }
    let mut by_secret: BTreeMap<String, Vec<KeyToPath>> = BTreeMap::new();
    for (file, r) in &c.secret_files {
        by_secret
            .entry(super::sops::destination(app, r))
            .or_default()
            .push(KeyToPath {
                key: r.key.clone(),
                path: file.clone(),
                mode: None,
            });
    }
    for (name, items) in by_secret {
        sources.push(VolumeProjection {
            secret: Some(SecretProjection {
                name,
                items: Some(items),
                optional: Some(false),
            }),
            ..VolumeProjection::default()
        });
    }
    Volume {
        name: CONFIG_VOLUME.to_string(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(sources),
            ..ProjectedVolumeSource::default()
        }),
        ..Volume::default()
    }
}

fn volumes(app: &App) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes = vec![Volume {
        name: TMP_VOLUME.to_string(),
        empty_dir: Some(bounded_empty_dir()),
        ..Volume::default()
    }];
    let mut mounts = vec![VolumeMount {
        name: TMP_VOLUME.to_string(),
        mount_path: d::TMP_MOUNT_PATH.to_string(),
        ..VolumeMount::default()
    }];
    for (i, path) in app.writable_paths.iter().enumerate() {
        let name = format!("writable-{i}");
        volumes.push(Volume {
            name: name.clone(),
            empty_dir: Some(bounded_empty_dir()),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name,
            mount_path: path.clone(),
            ..VolumeMount::default()
        });
    }
    if let Some(c) = &app.config {
        volumes.push(config_volume(app, c));
        mounts.push(VolumeMount {
            name: CONFIG_VOLUME.to_string(),
            mount_path: c.mount_path.clone(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    if let Some(p) = &app.persistence {
        if app.kind != AppKind::Statefulset {
            volumes.push(Volume {
                name: DATA_VOLUME.to_string(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: format!("{}-data", app.name),
                    ..PersistentVolumeClaimVolumeSource::default()
                }),
                ..Volume::default()
            });
        }
        mounts.push(VolumeMount {
            name: DATA_VOLUME.to_string(),
            mount_path: p.mount_path.clone(),
            ..VolumeMount::default()
        });
    }
    (volumes, mounts)
}

fn container(app: &App, mounts: Vec<VolumeMount>) -> Container {
    let ports: Vec<ContainerPort> = app.ports().iter().map(container_port).collect();
    let mut env: Vec<EnvVar> = app
        .env
        .iter()
        .map(|(k, v)| EnvVar {
            name: k.clone(),
            value: Some(v.clone()),
            ..EnvVar::default()
        })
        .collect();
    env.extend(app.secret_env.iter().map(|(k, source)| {
        let (name, key) = match source {
            EnvSecret::Secret(r) => (r.secret.clone(), r.key.clone()),
            EnvSecret::Vault(v) => (super::vault::destination(app, v), v.key.clone()),
            EnvSecret::Sops(r) => (super::sops::destination(app, r), r.key.clone()),
        };
        EnvVar {
            name: k.clone(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name,
                    key,
                    optional: Some(false),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        }
    }));
    let probes = app.probes.as_ref();
    let quantity = |s: &str| Quantity(s.to_string());
    let r = &app.resources;
    Container {
        name: app.name.clone(),
        image: Some(app.image.clone()),
        image_pull_policy: Some(
            if app.image.ends_with(":latest") {
                "Always"
            } else {
                "IfNotPresent"
            }
            .to_string(),
        ),
        command: app.command.clone(),
        args: app.args.clone(),
        ports: (!ports.is_empty()).then_some(ports),
        env: (!env.is_empty()).then_some(env),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_string(), quantity(&r.cpu_request)),
                ("memory".to_string(), quantity(&r.memory_request)),
            ])),
            limits: Some(BTreeMap::from([
                ("cpu".to_string(), quantity(&r.cpu_limit)),
                ("memory".to_string(), quantity(&r.memory_limit)),
                ("ephemeral-storage".to_string(), quantity(d::EPHEMERAL_STORAGE_LIMIT)),
            ])),
            ..ResourceRequirements::default()
        }),
        startup_probe: probes.map(|p| probe(&p.check, p.startup)),
        readiness_probe: probes.map(|p| probe(&p.check, p.readiness)),
        liveness_probe: probes.map(|p| probe(p.liveness_check.as_ref().unwrap_or(&p.check), p.liveness)),
        lifecycle: (app.port.is_some() && app.kind != AppKind::Cron).then(|| Lifecycle {
            // Keep serving while the endpoint removal propagates to the proxies.
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: d::PRESTOP_SLEEP_SECONDS,
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_string()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(mounts),
        termination_message_policy: Some("FallbackToLogsOnError".to_string()),
        ..Container::default()
    }
}

fn container_port(port: &AppPort) -> ContainerPort {
    ContainerPort {
        name: Some(port.name.to_string()),
        container_port: i32::from(port.number),
        protocol: Some("TCP".to_string()),
        ..ContainerPort::default()
    }
}

/// A probe on the pod itself: the HTTP/TCP check targets the container port, never a Service.
fn probe(check: &ProbeCheck, t: ProbeTiming) -> Probe {
    let mut p = Probe {
        initial_delay_seconds: (t.initial_delay_seconds > 0).then_some(t.initial_delay_seconds),
        period_seconds: Some(t.period_seconds),
        timeout_seconds: Some(t.timeout_seconds),
        failure_threshold: Some(t.failure_threshold),
        success_threshold: Some(1),
        ..Probe::default()
    };
    match check {
        ProbeCheck::Http { path, port } => {
            p.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::Int(i32::from(*port)),
                scheme: Some("HTTP".to_string()),
                ..HTTPGetAction::default()
            });
        }
        ProbeCheck::Tcp { port } => {
            p.tcp_socket = Some(TCPSocketAction {
                port: IntOrString::Int(i32::from(*port)),
                ..TCPSocketAction::default()
            });
        }
        ProbeCheck::Exec { command } => {
            p.exec = Some(ExecAction {
                command: Some(command.clone()),
            });
        }
    }
    p
}
