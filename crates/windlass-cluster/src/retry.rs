//! Transient API failures (429, 5xx, refused connections, timeouts) are retried
//! with exponential backoff, long enough to ride out an apiserver restart.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a single request keeps being retried before its error is returned.
pub const RETRY_BUDGET: Duration = Duration::from_secs(60);

/// Whether an error is worth retrying: the same request may succeed later.
pub fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(status) => match status.code {
            429 | 502 | 503 | 504 => true,
            // Most 500s are deterministic (a schema mismatch, a webhook's refusal); etcd hiccups are not.
            500 => !is_admission(status) && is_flaky_500(&status.message),
            _ => false,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        kube::Error::HttpError(_) => true,
        other => {
            let text = other.to_string().to_ascii_lowercase();
            text.contains("connection refused") || text.contains("timed out") || text.contains("connection reset")
        }
    }
}

fn is_flaky_500(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "etcdserver",
        "timeout",
        "try again",
        "connection refused",
        "unable to handle",
    ]
    .iter()
    .any(|s| m.contains(s))
}

/// A webhook that refuses an object answers 500 with this message; retrying cannot help.
fn is_admission(status: &kube::core::Status) -> bool {
    status.message.contains("admission webhook") && status.message.contains("denied")
}

pub async fn with_retry<T, F, Fut>(mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if is_transient(&e) && start.elapsed() + delay < RETRY_BUDGET => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure(message, "").with_code(code)))
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        assert!(is_transient(&api(429, "too many requests")));
        assert!(is_transient(&api(503, "unavailable")));
        assert!(!is_transient(&api(409, "conflict")));
        assert!(!is_transient(&api(422, "invalid")));
        assert!(!is_transient(&api(500, "admission webhook \"x\" denied the request")));
        assert!(!is_transient(&api(
            500,
            "failed to create typed patch object: .spec.isCa: field not declared in schema"
        )));
        assert!(is_transient(&api(500, "etcdserver: request timed out")));
    }

    #[tokio::test]
    async fn retries_until_success() {
        let mut calls = 0;
        let out = with_retry(|| {
            calls += 1;
            let n = calls;
            async move { if n < 3 { Err(api(503, "down")) } else { Ok(n) } }
        })
        .await;
        assert_eq!(out.ok(), Some(3));
    }
}
