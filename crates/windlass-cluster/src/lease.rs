//! A coordination.k8s.io Lease per platform so two `up`s (or `down`s, or
//! `rollback`s) against one cluster cannot interleave. The holder renews it while
//! it works; a lease not renewed within its duration is stale and taken over.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{DeleteParams, ObjectMeta, PostParams, Preconditions};
use kube::{Api, Client};

use crate::retry::with_retry;
use crate::{ClusterError, STATE_NAMESPACE};

/// How long a lease stays valid without renewal.
pub const DURATION: Duration = Duration::from_secs(30);
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// A held lease; renewed in the background until `release` (or drop).
pub struct HeldLease {
    api: Api<Lease>,
    name: String,
    holder: String,
    renewer: tokio::task::JoinHandle<()>,
}

pub fn lease_name(platform: &str) -> String {
    format!("windlass.{platform}")
}

fn holder_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "unknown-host".into());
    let nanos = Timestamp::now().subsec_nanosecond();
    format!("{host}/pid-{}/{nanos:x}", std::process::id())
}

/// Whether a lease is held by someone who renewed it recently enough.
pub fn is_live(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(holder) = spec.holder_identity.as_deref() else {
        return false;
    };
    if holder.is_empty() {
        return false;
    }
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return false;
    };
    let duration = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(30)));
    renewed.0.saturating_add(duration).is_ok_and(|expiry| expiry > now)
}

/// Takes the platform's lease, waiting up to `wait` for another holder; `on_wait`
/// is told once who holds it.
pub async fn acquire(
    client: Client,
    platform: &str,
    wait: Duration,
    mut on_wait: impl FnMut(&str),
) -> Result<HeldLease, ClusterError> {
    let api: Api<Lease> = Api::namespaced(client, STATE_NAMESPACE);
    let name = lease_name(platform);
    let holder = holder_identity();
    let start = Instant::now();
    let mut told = false;
    let post = PostParams::default();
    let what = format!("Lease/{STATE_NAMESPACE}/{name}");
    loop {
        let now = Timestamp::now();
        let current = with_retry(|| api.get_opt(&name))
            .await
            .map_err(|e| ClusterError::api(&what, e))?;
        let spec = LeaseSpec {
            holder_identity: Some(holder.clone()),
            lease_duration_seconds: Some(DURATION.as_secs() as i32),
            acquire_time: Some(MicroTime(now)),
            renew_time: Some(MicroTime(now)),
            ..LeaseSpec::default()
        };
        let attempt = match current {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        lease_transitions: Some(0),
                        ..spec
                    }),
                };
                with_retry(|| api.create(&post, &lease)).await
            }
            Some(mut lease) => {
                let old = lease.spec.clone().unwrap_or_default();
                if is_live(&old, now) {
                    let other = old.holder_identity.unwrap_or_default();
                    if start.elapsed() > wait {
                        return Err(ClusterError::LeaseHeld {
                            lease: name.clone(),
                            holder: other,
                            waited: wait.as_secs(),
                            expires: DURATION.as_secs(),
                        });
                    }
                    if !told {
                        on_wait(&other);
                        told = true;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                // Free or stale: take it over; the resourceVersion makes a racing taker lose with 409.
                lease.spec = Some(LeaseSpec {
                    lease_transitions: Some(old.lease_transitions.unwrap_or(0) + 1),
                    ..spec
                });
                with_retry(|| api.replace(&name, &post, &lease)).await
            }
        };
        match attempt {
            Ok(_) => break,
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(ClusterError::api(&what, e)),
        }
    }
    let renewer = tokio::spawn(renew(api.clone(), name.clone(), holder.clone()));
    Ok(HeldLease {
        api,
        name,
        holder,
        renewer,
    })
}

async fn renew(api: Api<Lease>, name: String, holder: String) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let Ok(Some(mut lease)) = api.get_opt(&name).await else {
            continue;
        };
        let Some(spec) = lease.spec.as_mut() else { continue };
        if spec.holder_identity.as_deref() != Some(holder.as_str()) {
            return;
        }
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        // A failed renewal is retried at the next tick; the lease lasts three ticks.
        let _ = api.replace(&name, &PostParams::default(), &lease).await;
    }
}

impl HeldLease {
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Gives the lease up (deletes it, only if still ours).
    pub async fn release(self) {
        self.renewer.abort();
        if let Ok(Some(lease)) = self.api.get_opt(&self.name).await
            && lease.spec.as_ref().and_then(|s| s.holder_identity.as_deref()) == Some(self.holder.as_str())
        {
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    resource_version: lease.metadata.resource_version.clone(),
                    uid: None,
                }),
                ..DeleteParams::default()
            };
            let _ = self.api.delete(&self.name, &params).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, renewed_secs_ago: i64) -> LeaseSpec {
        let now = Timestamp::now();
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            lease_duration_seconds: Some(30),
            renew_time: Some(MicroTime(now - SignedDuration::from_secs(renewed_secs_ago))),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_recently_renewed_lease_is_live_and_a_stale_one_is_not() {
        let now = Timestamp::now();
        assert!(is_live(&spec(Some("a"), 5), now));
        assert!(!is_live(&spec(Some("a"), 31), now));
        assert!(!is_live(&spec(None, 0), now));
        assert!(!is_live(&spec(Some(""), 0), now));
    }
}
