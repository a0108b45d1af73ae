//! Connecting to the test bed and handing out per-test namespaces.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use crate::Error;
use crate::paths;

/// Label on every namespace the harness creates, so leftovers can be found.
pub const NAMESPACE_LABEL: &str = "windlass.dev/test-namespace";

/// A connection to the running test bed.
#[derive(Clone)]
pub struct TestBed {
    client: Client,
    kubeconfig: PathBuf,
}

impl TestBed {
    /// Connects to the test bed, or returns `None` (after printing why) so the
    /// calling test can skip. Panics instead when `WINDLASS_REQUIRE_TESTBED=1`.
    pub async fn connect() -> Option<Self> {
        match Self::try_connect().await {
            Ok(bed) => Some(bed),
            Err(err) if paths::testbed_required() => panic!(
                "{}=1 but the windlass test bed is not reachable: {err}\n\
                 Start it with `{}` (stop it with `cargo xtask testbed down`), \
                 or run the whole suite with `cargo xtask ci`.",
                paths::REQUIRE_ENV,
                paths::UP_COMMAND,
            ),
            Err(err) => {
                #[allow(clippy::print_stderr)] // the skip note is the point
                {
                    eprintln!(
                        "note: skipping cluster test: the test bed is not reachable ({err}); \
                         start it with `{}` or run `cargo xtask ci`",
                        paths::UP_COMMAND
                    );
                }
                None
            }
        }
    }

    /// Connects to the test bed and checks its apiserver answers `/readyz`.
    pub async fn try_connect() -> Result<Self, Error> {
        let kubeconfig = paths::kubeconfig();
        let client = client_from(&kubeconfig).await?;
        let request = http::Request::get("/readyz")
            .body(Vec::new())
            .map_err(|e| Error::NotReady(e.to_string()))?;
        match tokio::time::timeout(Duration::from_secs(5), client.request_text(request)).await {
            Ok(Ok(body)) if body.trim() == "ok" => Ok(Self { client, kubeconfig }),
            Ok(Ok(body)) => Err(Error::NotReady(format!("/readyz said {body:?}"))),
            Ok(Err(err)) => Err(Error::NotReady(err.to_string())),
            Err(_) => Err(Error::NotReady("/readyz did not answer within 5s".into())),
        }
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The admin kubeconfig, for tests that run a binary against the test bed.
    pub fn kubeconfig(&self) -> &std::path::Path {
        &self.kubeconfig
    }

    /// Creates a fresh namespace named `<prefix>-<unique suffix>` that enforces
    /// Pod Security `restricted`; it is deleted when the returned value drops.
    pub async fn namespace(&self, prefix: &str) -> Result<TestNamespace, Error> {
        let name = unique_name(prefix);
        let labels = restricted_labels()
            .into_iter()
            .chain([(NAMESPACE_LABEL.to_string(), "true".to_string())])
            .collect();
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(self.client.clone())
            .create(&PostParams::default(), &ns)
            .await?;
        Ok(TestNamespace {
            name,
            kubeconfig: self.kubeconfig.clone(),
        })
    }
}

/// The labels that make a namespace enforce (and warn and audit) Pod Security
/// `restricted` at the apiserver's own version.
pub fn restricted_labels() -> BTreeMap<String, String> {
    ["enforce", "warn", "audit"]
        .iter()
        .flat_map(|mode| {
            [
                (format!("pod-security.kubernetes.io/{mode}"), "restricted".to_string()),
                (
                    format!("pod-security.kubernetes.io/{mode}-version"),
                    "latest".to_string(),
                ),
            ]
        })
        .collect()
}

/// A namespace owned by one test; deleted (in the background) on drop unless
/// `WINDLASS_TESTBED_KEEP=1`.
pub struct TestNamespace {
    name: String,
    kubeconfig: PathBuf,
}

impl TestNamespace {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::env::var("WINDLASS_TESTBED_KEEP").is_ok_and(|v| v == "1") {
            return;
        }
        // Drop cannot await, and the test's runtime may be single-threaded: delete
        // from a thread with its own runtime and client.
        let name = self.name.clone();
        let kubeconfig = self.kubeconfig.clone();
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let client = client_from(&kubeconfig).await.map_err(|e| e.to_string())?;
                Api::<Namespace>::all(client)
                    .delete(&name, &DeleteParams::background())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(err)) = deleted {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("note: could not delete test namespace {}: {err}", self.name);
            }
        }
    }
}

async fn client_from(path: &std::path::Path) -> Result<Client, Error> {
    let kubeconfig = Kubeconfig::read_from(path).map_err(|source| Error::Kubeconfig {
        path: path.to_path_buf(),
        source,
    })?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|source| Error::Kubeconfig {
            path: path.to_path_buf(),
            source,
        })?;
    Client::try_from(config).map_err(|source| Error::ClientConfig {
        path: path.to_path_buf(),
        source: Box::new(source),
    })
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let suffix = format!("{:x}{count:x}{:05x}", std::process::id(), nanos & 0xfffff);
    let prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63 - suffix.len() - 1)
        .collect();
    format!("{}-{suffix}", prefix.trim_matches('-'))
}

/// Polls `check` every 250 ms until it returns `Ok(Some(value))`, giving up after
/// `timeout` with an error naming `what` (and the last error seen, if any).
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Error>>,
{
    let start = Instant::now();
    let mut last_error = None;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(err) => last_error = Some(err.to_string()),
        }
        if start.elapsed() > timeout {
            let what = match last_error {
                Some(err) => format!("{what} (last error: {err})"),
                None => what.to_string(),
            };
            return Err(Error::Timeout { after: timeout, what });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_dns_labels() {
        let long = "A_Very_Long_Prefix_".repeat(10);
        for prefix in ["example", long.as_str()] {
            let name = unique_name(prefix);
            assert!(name.len() <= 63, "{name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name}"
            );
            assert!(!name.starts_with('-') && !name.ends_with('-'), "{name}");
        }
        assert_ne!(unique_name("x"), unique_name("x"));
    }

    #[test]
    fn restricted_labels_enforce_restricted() {
        let labels = restricted_labels();
        assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert_eq!(labels.len(), 6);
    }
}
