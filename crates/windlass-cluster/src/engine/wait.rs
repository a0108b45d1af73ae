//! Readiness gates: a unit is ready when each of its workloads passes its gate
//! (`gates`: rollout complete, Job succeeded) and each GatewayClass and
//! self-signed Certificate among its objects is Accepted or Ready; a gate that fails or a timeout
//! ends the wait with the reason and a diagnosis.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use serde_json::Value;
use windlass_core::defaults as d;
use windlass_core::unit::UnitId;

use super::{Ctx, Event, diagnose};
use crate::ClusterError;
use crate::gates::{self, Rollout};
use crate::inventory::ObjectRef;
use crate::retry::with_retry;

/// Why a unit did not become ready.
pub(crate) struct Failure {
    pub reason: String,
    pub details: Vec<String>,
}

/// The kinds that run pods, with a rollout gate.
pub(crate) fn is_workload(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job")
}

/// The objects with a readiness gate: workloads; a GatewayClass (its controller
/// must accept it); a Certificate of the self-signed chain (cert-manager issues
/// it on its own). An ACME Certificate is not waited for: its HTTP-01 challenge
/// needs the host's DNS to point at the Gateway, which a first run cannot have
/// arranged; `status` and `doctor` report it until it is issued.
fn has_gate(o: &Value) -> bool {
    let r = ObjectRef::of(o);
    let issuer = o.pointer("/spec/issuerRef/name").and_then(Value::as_str);
    is_workload(&r.kind)
        || (r.kind == "GatewayClass" && r.group() == "gateway.networking.k8s.io")
        || (r.kind == "Certificate"
            && r.group() == "cert-manager.io"
            && matches!(issuer, Some(d::SELF_SIGNED_CA_ISSUER | d::SELF_SIGNED_BOOTSTRAP_ISSUER)))
}

/// How often a gate looks at the live objects: a quarter second is a few cheap
/// GETs per waiting unit, and what a chain of `needs` waits on top of the rollouts.
const POLL: Duration = Duration::from_millis(250);

/// Gate polls between two looks at the pods for a reason the unit can never become ready (3 s).
const FATAL_EVERY: u32 = 12;

/// Waits until every workload among `objects` passes its readiness gate; fails
/// at once when a gate fails or the pods show the unit can never become ready
/// (a crash loop, an image that cannot be pulled, a claim nothing can bind).
pub(super) async fn wait_ready(ctx: &Ctx, unit: &UnitId, objects: &[Value], timeout: Duration) -> Result<(), Failure> {
    let workloads: Vec<ObjectRef> = objects.iter().filter(|o| has_gate(o)).map(ObjectRef::of).collect();
    let start = Instant::now();
    let mut last_message = String::new();
    let mut polls = 0u32;
    loop {
        let mut progress = Vec::new();
        for w in &workloads {
            match gate(ctx, w).await {
                Ok(Rollout::Ready) => {}
                Ok(Rollout::Progressing(m)) => progress.push(format!("{} {}: {m}", w.kind, w.name)),
                Ok(Rollout::Failed(m)) => {
                    return Err(Failure {
                        reason: format!("{} {}: {m}", w.kind, w.name),
                        details: diagnose::diagnose(ctx, objects).await,
                    });
                }
                Err(e) => progress.push(format!("{} {}: {e}", w.kind, w.name)),
            }
        }
        if progress.is_empty() {
            return Ok(());
        }
        let message = progress.join("; ");
        // Every few seconds: does a pod or claim say this can never become ready?
        polls += 1;
        if polls.is_multiple_of(FATAL_EVERY)
            && let Some(reason) = diagnose::never_ready(ctx, objects).await
        {
            return Err(Failure {
                reason,
                details: diagnose::diagnose(ctx, objects).await,
            });
        }
        if start.elapsed() > timeout {
            return Err(Failure {
                reason: format!("rollout did not complete within {}s: {message}", timeout.as_secs()),
                details: diagnose::diagnose(ctx, objects).await,
            });
        }
        if message != last_message {
            ctx.emit(Event::Waiting {
                unit: unit.clone(),
                message: message.clone(),
            });
            last_message = message;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The rollout state of one live workload (retried reads).
async fn gate(ctx: &Ctx, w: &ObjectRef) -> Result<Rollout, ClusterError> {
    let client = ctx.applier.client();
    let what = w.to_string();
    macro_rules! typed {
        ($t:ty, $f:path) => {{
            let api: Api<$t> = Api::namespaced(client.clone(), &w.namespace);
            match with_retry(|| api.get_opt(&w.name))
                .await
                .map_err(|e| ClusterError::api(&what, e))?
            {
                Some(o) => $f(&o),
                None => Rollout::Progressing("not found".into()),
            }
        }};
    }
    Ok(match w.kind.as_str() {
        "Deployment" => typed!(Deployment, gates::deployment),
        "StatefulSet" => typed!(StatefulSet, gates::stateful_set),
        "DaemonSet" => typed!(DaemonSet, gates::daemon_set),
        "Job" => typed!(Job, gates::job),
        "GatewayClass" | "Certificate" => match ctx.applier.get(w).await? {
            Some(o) => {
                let v = serde_json::to_value(&o).unwrap_or_default();
                if w.kind == "GatewayClass" {
                    gates::gateway_class(&v)
                } else {
                    gates::certificate(&v)
                }
            }
            None => Rollout::Progressing("not found".into()),
        },
        _ => Rollout::Ready,
    })
}
