//! The test bed's small servers, each run as its own process by `testbed up`
//! (`cargo xtask serve ...`, hidden): a read-only HTTP chart repository, the
//! Service network stand-in, and the apiserver's egress proxy.
//!
//! kwok's pods run no process, so the Services in front of them answer nobody. The
//! apiserver's "cluster" traffic (Service-backed webhooks and APIServices, kubelets)
//! goes through the egress proxy: a dial to a Service IP reaches the stand-in, which
//! plays every Service's TLS server (a certificate for the name the apiserver asks
//! for, signed by the bed CA), allows every AdmissionReview and answers aggregated
//! API discovery with an empty resource list; loopback dials go where they point;
//! anything else fails at once instead of leaving the machine.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, Issuer, KeyPair};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

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

/// The Service network stand-in on `listen`: every AdmissionReview POSTed to any
/// path is allowed, `GET /apis/GROUP/VERSION` answers an empty resource list (what
/// makes an APIService Available), any other GET is 404. Without SNI (a URL webhook
/// on 127.0.0.1) it presents `cert`; for a name it presents a certificate minted
/// for that name by the CA in `ca_cert`/`ca_key`.
pub fn webhook(listen: &str, cert: &Path, key: &Path, ca_cert: &Path, ca_key: &Path) -> Result<()> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let default = Arc::new(CertifiedKey::from_der(certs, key, &provider).context("loading the serving certificate")?);
    let ca_pem = std::fs::read_to_string(ca_cert).with_context(|| format!("reading {}", ca_cert.display()))?;
    let ca_key_pem = std::fs::read_to_string(ca_key).with_context(|| format!("reading {}", ca_key.display()))?;
    let ca_key = KeyPair::from_pem(&ca_key_pem).with_context(|| format!("parsing {}", ca_key.display()))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).with_context(|| format!("parsing {}", ca_cert.display()))?;
    let resolver = ServiceCerts {
        default,
        issuer,
        provider: Arc::clone(&provider),
        minted: Mutex::new(HashMap::new()),
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = Arc::new(config);
    let listener = TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    println!("webhook: the Service network stand-in on https://{listen}");
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

/// Serving certificates by SNI name, minted on first use and kept.
struct ServiceCerts {
    default: Arc<CertifiedKey>,
    issuer: Issuer<'static, KeyPair>,
    provider: Arc<CryptoProvider>,
    minted: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for ServiceCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCerts").finish_non_exhaustive()
    }
}

impl ServiceCerts {
    fn mint(&self, name: &str) -> Result<Arc<CertifiedKey>> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![name.to_string()])?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok(Arc::new(CertifiedKey::from_der(
            vec![cert.der().clone()],
            key,
            &self.provider,
        )?))
    }
}

impl ResolvesServerCert for ServiceCerts {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = hello.server_name() else {
            return Some(Arc::clone(&self.default));
        };
        let mut minted = self.minted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(found) = minted.get(name) {
            return Some(Arc::clone(found));
        }
        match self.mint(name) {
            Ok(certified) => {
                println!("webhook: serving as {name}");
                minted.insert(name.to_string(), Arc::clone(&certified));
                Some(certified)
            }
            Err(err) => {
                println!("webhook: minting a certificate for {name}: {err:#}");
                None
            }
        }
    }
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
        let (status, answer) = if request.method == "GET" {
            match discovery_response(&request.path) {
                Some(answer) => {
                    println!("webhook: GET {}: an empty resource list", request.path);
                    ("200 OK", answer)
                }
                None => ("404 Not Found", "{}".to_string()),
            }
        } else {
            match admission_response(&body) {
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

/// Discovery of one aggregated group version (`/apis/GROUP/VERSION`): no resources.
fn discovery_response(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    let rest = path.strip_prefix("/apis/")?;
    let (group, version) = rest.trim_end_matches('/').split_once('/')?;
    if group.is_empty() || version.is_empty() || version.contains('/') {
        return None;
    }
    Some(
        serde_json::json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": format!("{group}/{version}"),
            "resources": [],
        })
        .to_string(),
    )
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
/// connects loopback targets where they point, targets in `services` (the Service
/// CIDR) to the Service network stand-in at `stand_in`, and refuses everything else
/// at once.
pub fn egress_proxy(socket: &Path, services: &str, stand_in: &str) -> Result<()> {
    let services = Cidr::parse(services)?;
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket).with_context(|| format!("listening on {}", socket.display()))?;
    println!(
        "egress proxy: on {} (loopback, and {services} to {stand_in})",
        socket.display()
    );
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let stand_in = stand_in.to_string();
        std::thread::spawn(move || {
            if let Err(err) = tunnel(stream, services, &stand_in) {
                println!("egress proxy: {err:#}");
            }
        });
    }
    Ok(())
}

fn tunnel(mut client: UnixStream, services: Cidr, stand_in: &str) -> Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = read_head_unbuffered(&mut client)?;
    let request = Request::parse(&head)?;
    if request.method != "CONNECT" {
        write!(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        bail!("{} {}: only CONNECT is served", request.method, request.path);
    }
    let target = request.path.as_str();
    let dial = match route(target, services) {
        Route::Direct => target,
        Route::StandIn => stand_in,
        Route::Refused => {
            println!("egress proxy: refused {target} (the test bed has no pod network)");
            write!(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    let upstream = match TcpStream::connect(dial) {
        Ok(upstream) => upstream,
        Err(err) => {
            println!("egress proxy: {target} ({dial}): {err}");
            write!(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    println!("egress proxy: tunnel to {target} ({dial})");
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

#[derive(Debug, PartialEq)]
enum Route {
    Direct,
    StandIn,
    Refused,
}

/// Where a CONNECT target (`host:port`) goes.
fn route(target: &str, services: Cidr) -> Route {
    if is_loopback(target) {
        return Route::Direct;
    }
    let host = target.rsplit_once(':').map_or("", |(host, _)| host);
    match host.parse::<Ipv4Addr>() {
        Ok(ip) if services.contains(ip) => Route::StandIn,
        _ => Route::Refused,
    }
}

/// An IPv4 network, `a.b.c.d/len`.
#[derive(Clone, Copy, Debug)]
struct Cidr {
    network: u32,
    mask: u32,
}

impl Cidr {
    fn parse(text: &str) -> Result<Self> {
        let (ip, len) = text
            .split_once('/')
            .with_context(|| format!("{text:?} is not a CIDR"))?;
        let ip: Ipv4Addr = ip.parse().with_context(|| format!("{text:?} is not an IPv4 CIDR"))?;
        let len: u32 = len
            .parse()
            .with_context(|| format!("{text:?} has a bad prefix length"))?;
        if len > 32 {
            bail!("{text:?} has a prefix longer than 32");
        }
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        Ok(Self {
            network: u32::from(ip) & mask,
            mask,
        })
    }

    fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask == self.network
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.mask.count_ones())
    }
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
    fn loopback_goes_direct_services_to_the_stand_in_the_rest_is_refused() {
        let services = Cidr::parse("10.96.0.0/16").expect("a CIDR");
        for target in ["127.0.0.1:443", "127.9.9.9:1", "[::1]:8443", "localhost:80"] {
            assert_eq!(route(target, services), Route::Direct, "{target}");
        }
        for target in ["10.96.0.10:443", "10.96.255.1:8443"] {
            assert_eq!(route(target, services), Route::StandIn, "{target}");
        }
        for target in [
            "10.97.0.1:443",
            "10.244.0.1:10250",
            "example.com:443",
            "127.0.0.1",
            "1.2.3.4:x",
        ] {
            assert_eq!(route(target, services), Route::Refused, "{target}");
        }
        assert_eq!(services.to_string(), "10.96.0.0/16");
        assert!(Cidr::parse("10.96.0.0").is_err());
        assert!(Cidr::parse("10.96.0.0/33").is_err());
    }

    #[test]
    fn aggregated_discovery_is_an_empty_resource_list() {
        let answer = discovery_response("/apis/metrics.k8s.io/v1beta1?timeout=5s").expect("a group version");
        let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(answer["kind"], "APIResourceList");
        assert_eq!(answer["groupVersion"], "metrics.k8s.io/v1beta1");
        for path in ["/apis", "/apis/metrics.k8s.io", "/api/v1", "/apis/a/b/c", "/healthz"] {
            assert!(discovery_response(path).is_none(), "{path}");
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
