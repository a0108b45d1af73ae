//! The test bed's small servers, each run as its own process by `testbed up`
//! (`cargo xtask serve ...`, hidden): a read-only HTTP chart repository, an HTTPS
//! admission webhook that allows everything, and the apiserver's egress proxy, which
//! lets its "cluster" traffic (Service-backed webhooks and APIServices, kubelets)
//! reach loopback addresses only: the bed has no pod or Service network, and a dial
//! to one must fail at once instead of leaving the machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The largest request head any of these servers reads.
const MAX_HEAD: usize = 16 * 1024;
/// The largest AdmissionReview body the webhook reads (the apiserver caps objects at 3 MiB).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Serves the files directly in `dir` (the chart packages and index.yaml) on `listen`.
pub fn chart_repo(dir: &Path, listen: &str) -> Result<()> {
    let listener = TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    let dir = Arc::new(dir.to_path_buf());
    println!("chart repository: serving {} on http://{listen}", dir.display());
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let dir = Arc::clone(&dir);
        std::thread::spawn(move || {
            if let Err(err) = serve_file(&dir, stream) {
                println!("chart repository: {err:#}");
            }
        });
    }
    Ok(())
}

fn serve_file(dir: &Path, mut stream: TcpStream) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let head = read_head(&mut reader)?;
    let request = Request::parse(&head)?;
    let path = request.path.split(['?', '#']).next().unwrap_or_default();
    let file = path
        .strip_prefix('/')
        .filter(|name| is_plain_file_name(name))
        .map(|name| dir.join(name))
        .filter(|file| file.is_file());
    let (status, content_type, body) = match (request.method.as_str(), file) {
        ("GET" | "HEAD", Some(file)) => {
            let body = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let content_type = if path.ends_with(".tgz") {
                "application/gzip"
            } else if path.ends_with(".yaml") {
                "application/yaml"
            } else {
                "application/octet-stream"
            };
            ("200 OK", content_type, body)
        }
        ("GET" | "HEAD", None) => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        _ => ("405 Method Not Allowed", "text/plain", b"read-only\n".to_vec()),
    };
    println!("chart repository: {} {} -> {status}", request.method, request.path);
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if request.method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()?;
    Ok(())
}

/// Names of files directly in the served directory: no separators, no dot files.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
}

/// Answers every AdmissionReview POSTed to any path with `allowed: true`.
pub fn webhook(listen: &str, cert: &Path, key: &Path) -> Result<()> {
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("building the TLS configuration")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = Arc::new(config);
    let listener = TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    println!("webhook: allowing every AdmissionReview on https://{listen}");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let config = Arc::clone(&config);
        std::thread::spawn(move || {
            if let Err(err) = admit_connection(config, stream) {
                println!("webhook: {err:#}");
            }
        });
    }
    Ok(())
}

fn admit_connection(config: Arc<rustls::ServerConfig>, tcp: TcpStream) -> Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(90)))?;
    let connection = rustls::ServerConnection::new(config)?;
    let mut reader = BufReader::new(rustls::StreamOwned::new(connection, tcp));
    // The apiserver keeps connections open between calls.
    loop {
        let head = match read_head(&mut reader) {
            Ok(head) => head,
            Err(_) if reader.buffer().is_empty() => return Ok(()),
            Err(err) => return Err(err),
        };
        let request = Request::parse(&head)?;
        let length = request.content_length()?;
        if length > MAX_BODY {
            bail!("a {length}-byte body is more than the webhook reads");
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (status, answer) = match admission_response(&body) {
            Ok((answer, what)) => {
                println!("webhook: {} {}: allowed {what}", request.method, request.path);
                ("200 OK", answer)
            }
            Err(err) => {
                println!("webhook: {} {}: bad request: {err:#}", request.method, request.path);
                (
                    "400 Bad Request",
                    format!("{{\"error\":{}}}", serde_json::json!(format!("{err:#}"))),
                )
            }
        };
        let stream = reader.get_mut();
        write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        )?;
        stream.flush()?;
        if request.closes() {
            return Ok(());
        }
    }
}

/// The AdmissionReview answer to `body`, and a short description of the request.
fn admission_response(body: &[u8]) -> Result<(String, String)> {
    let review: serde_json::Value = serde_json::from_slice(body).context("the body is not JSON")?;
    let request = review.get("request").context("no `request` in the AdmissionReview")?;
    let uid = request
        .get("uid")
        .and_then(|u| u.as_str())
        .context("no `request.uid` in the AdmissionReview")?;
    let field = |path: &[&str]| {
        path.iter()
            .try_fold(request, |value, key| value.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let what = format!(
        "{} {} {}/{}",
        field(&["operation"]),
        field(&["kind", "kind"]),
        field(&["namespace"]),
        field(&["name"])
    );
    let answer = serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": uid, "allowed": true},
    });
    Ok((answer.to_string(), what))
}

/// The apiserver's "cluster" egress: an HTTP CONNECT proxy on a Unix socket that
/// connects to loopback addresses and refuses everything else at once.
pub fn egress_proxy(socket: &Path) -> Result<()> {
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket).with_context(|| format!("listening on {}", socket.display()))?;
    println!("egress proxy: on {} (loopback destinations only)", socket.display());
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        std::thread::spawn(move || {
            if let Err(err) = tunnel(stream) {
                println!("egress proxy: {err:#}");
            }
        });
    }
    Ok(())
}

fn tunnel(mut client: UnixStream) -> Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = read_head_unbuffered(&mut client)?;
    let request = Request::parse(&head)?;
    if request.method != "CONNECT" {
        write!(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        bail!("{} {}: only CONNECT is served", request.method, request.path);
    }
    let target = request.path.as_str();
    if !is_loopback(target) {
        println!("egress proxy: refused {target} (the test bed has no pod or Service network)");
        write!(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    }
    let upstream = match TcpStream::connect(target) {
        Ok(upstream) => upstream,
        Err(err) => {
            println!("egress proxy: {target}: {err}");
            write!(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    println!("egress proxy: tunnel to {target}");
    write!(client, "HTTP/1.1 200 Connection established\r\n\r\n")?;
    client.set_read_timeout(None)?;
    let mut client_read = client.try_clone()?;
    let mut upstream_write = upstream.try_clone()?;
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let mut upstream_read = upstream;
    let _ = std::io::copy(&mut upstream_read, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = forward.join();
    Ok(())
}

/// Whether a CONNECT target (`host:port`) is on the loopback network.
fn is_loopback(target: &str) -> bool {
    let Some((host, port)) = target.rsplit_once(':') else {
        return false;
    };
    if port.parse::<u16>().is_err() {
        return false;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Reads a request head one byte at a time, so nothing after it is consumed.
fn read_head_unbuffered(stream: &mut impl Read) -> Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            bail!("the connection closed before the request head ended");
        }
        head.push(byte[0]);
        if head.len() > MAX_HEAD {
            bail!("a request head longer than {MAX_HEAD} bytes");
        }
    }
    String::from_utf8(head).context("a request head that is not UTF-8")
}

/// Reads a request head (up to the blank line).
fn read_head(reader: &mut impl BufRead) -> Result<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line)?;
        if read == 0 {
            bail!("the connection closed before the request head ended");
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" {
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            bail!("a request head longer than {MAX_HEAD} bytes");
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn parse(head: &str) -> Result<Self> {
        let mut lines = head.lines();
        let first = lines.next().unwrap_or_default();
        let mut parts = first.split_whitespace();
        let (Some(method), Some(path), Some(_version)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("not an HTTP request line: {first:?}");
        };
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        Ok(Self {
            method: method.to_string(),
            path: path.to_string(),
            headers,
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Result<usize> {
        if self.header("transfer-encoding").is_some() {
            bail!("chunked request bodies are not supported");
        }
        self.header("content-length")
            .map_or(Ok(0), |v| v.parse().context("a bad Content-Length"))
    }

    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_tunnelled() {
        for target in ["127.0.0.1:443", "127.9.9.9:1", "[::1]:8443", "localhost:80"] {
            assert!(is_loopback(target), "{target}");
        }
        for target in [
            "10.96.0.10:443",
            "10.244.0.1:10250",
            "example.com:443",
            "127.0.0.1",
            "1.2.3.4:x",
        ] {
            assert!(!is_loopback(target), "{target}");
        }
    }

    #[test]
    fn file_names_stay_in_the_served_directory() {
        assert!(is_plain_file_name("index.yaml"));
        assert!(is_plain_file_name("cert-manager-v1.21.2.tgz"));
        assert!(is_plain_file_name("chart-1.0.0+build.1.tgz"));
        for name in ["", ".complete", "../etc/passwd", "a/b.tgz", "%2e%2e"] {
            assert!(!is_plain_file_name(name), "{name}");
        }
    }

    #[test]
    fn admission_reviews_are_allowed_with_their_uid() {
        let body = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"abc","kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","namespace":"ns","name":"cm"}}"#;
        let (answer, what) = admission_response(body).expect("a valid review");
        let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(answer["response"]["uid"], "abc");
        assert_eq!(answer["response"]["allowed"], true);
        assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(what, "CREATE ConfigMap ns/cm");
        assert!(admission_response(b"{}").is_err());
    }
}
