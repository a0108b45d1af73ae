//! Kubernetes name and value syntaxes the spec must respect, checked before
//! the apiserver would reject the rendered objects.

/// DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (namespaces).
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// DNS-1035 label: a DNS-1123 label that starts with a letter (Service names).
pub fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// DNS-1123 subdomain: dot-separated labels, at most 253 characters (Secret names, hosts).
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// An environment variable name Kubernetes accepts (C identifier, also `.` and `-`).
pub fn is_env_var_name(s: &str) -> bool {
    !s.is_empty()
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A ConfigMap key: `[-._a-zA-Z0-9]+`, at most 253 characters, not `.` or `..`.
pub fn is_config_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s != "."
        // The kubelet keeps its own `..data` links beside the files: keys never start with `..`.
        && !s.starts_with("..")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A label value: empty, or up to 63 characters of `[A-Za-z0-9._-]` starting and ending alphanumeric.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric())
}

/// A label key: optional DNS-1123 subdomain prefix and `/`, then a name like a label value.
pub fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns1123_subdomain) && !name.is_empty() && is_label_value(name)
}

/// An IPv4 or IPv6 CIDR such as `10.0.0.0/8`.
pub fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// A container image reference split into (name, tag, digest).
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    // A tag is after the last ':' that comes after the last '/', so `host:5000/app` has no tag.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

/// An IPv4 or IPv6 address (hosts must be DNS names: Gateway and Ingress hosts refuse IPs).
pub fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// An e-mail address as an ACME server accepts it: `local@domain`, the local part of
/// RFC 5322 "atext" characters and single dots, the domain a DNS name with a dot.
pub fn is_email(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else {
        return false;
    };
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
    let domain = domain.to_ascii_lowercase();
    e.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| atext(b) || b == b'.')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.contains('.')
        && is_dns1123_subdomain(&domain)
        && !is_ip(&domain)
}

/// Why `image` is not a valid image reference (message, fix), following the
/// registry reference grammar: `[host[:port]/]path[:tag][@algorithm:hex]`.
pub fn image_problem(image: &str) -> Option<(String, String)> {
    const EXAMPLE: &str = "write e.g. `ghcr.io/acme/web:1.4.2` or `ghcr.io/acme/web@sha256:<64 hex digits>`";
    let bad = |m: String| Some((m, EXAMPLE.to_string()));
    if image.is_empty() || image.contains(char::is_whitespace) {
        return bad(format!("`{image}` is not an image reference"));
    }
    if !image.is_ascii() {
        return Some((
            format!("image `{image}` contains characters outside ASCII"),
            "image references are plain ASCII: a lowercase repository, a tag of letters, digits, `_`, `.` and `-`, and a hex digest".to_string(),
        ));
    }
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let (name, tag, _) = split_image(rest);
    if name.is_empty() {
        return bad(format!("`{image}` is not an image reference"));
    }
    if name.len() > 255 {
        return bad(format!("image name `{name}` is longer than 255 characters"));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let first = parts[0];
    if parts.len() > 1 && (first.contains(['.', ':']) || first == "localhost") {
        if !is_registry_host(first) {
            return bad(format!("`{first}` is not a registry host"));
        }
        parts.remove(0);
    }
    for part in parts {
        if part.bytes().any(|b| b.is_ascii_uppercase()) {
            return Some((
                format!("repository `{name}` has upper-case letters"),
                format!(
                    "repository names are lowercase: write `{}`",
                    image.replacen(name, &lowercase_path(name), 1)
                ),
            ));
        }
        if !is_path_component(part) {
            return bad(format!("`{part}` is not a valid part of a repository name"));
        }
    }
    if let Some(t) = tag {
        let ok_first = t.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok_first
            || t.len() > 128
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Some((
                format!("`{t}` is not a valid image tag"),
                "a tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`".to_string(),
            ));
        }
    }
    if let Some(d) = digest {
        let hex_len = match d.split_once(':') {
            Some(("sha256", hex)) => Some((64, hex)),
            Some(("sha512", hex)) => Some((128, hex)),
            _ => None,
        };
        let fix = "write the digest as `sha256:` and 64 lowercase hex digits (or `sha512:` and 128)".to_string();
        match hex_len {
            None => return Some((format!("`{d}` is not an image digest"), fix)),
            Some((len, hex))
                if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                return Some((
                    format!("`{d}` is not a valid digest: expected {len} lowercase hex digits"),
                    fix,
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// `Acme/Web` -> `acme/web`, keeping a registry host as written.
fn lowercase_path(name: &str) -> String {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            format!("{first}/{}", rest.to_ascii_lowercase())
        }
        _ => name.to_ascii_lowercase(),
    }
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            i += 1;
            continue;
        }
        let sep_len = match c {
            b'.' => 1,
            b'_' if b.get(i + 1) == Some(&b'_') => 2,
            b'_' => 1,
            b'-' => b[i..].iter().take_while(|x| **x == b'-').count(),
            _ => return false,
        };
        i += sep_len;
        if !b.get(i).is_some_and(|x| x.is_ascii_lowercase() || x.is_ascii_digit()) {
            return false;
        }
    }
    true
}

/// `host[:port]`, the host DNS-like labels (any case) or `localhost`.
fn is_registry_host(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
        && host.split('.').all(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_dns1123_label("web-1"));
        assert!(!is_dns1123_label("Web"));
        assert!(!is_dns1123_label("-web"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1035_label("web"));
        assert!(!is_dns1035_label("1web"));
        assert!(is_dns1123_subdomain("www.example.com"));
        assert!(!is_dns1123_subdomain("www..example.com"));
        assert!(is_env_var_name("DATABASE_URL"));
        assert!(!is_env_var_name("1X"));
        assert!(is_label_key("tier"));
        assert!(is_label_key("example.com/tier"));
        assert!(!is_label_key("bad key"));
        assert!(is_cidr("10.0.0.0/8"));
        assert!(is_cidr("2001:db8::/32"));
        assert!(!is_cidr("10.0.0.0/33"));
        assert!(!is_cidr("10.0.0.0"));
    }

    #[test]
    fn emails() {
        for ok in ["ops@example.com", "a.b+c@Example.COM", "x@a.b"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "ops",
            "@example.com",
            "ops@",
            "ops@example",
            "a..b@x.io",
            ".a@x.io",
            "a b@x.io",
            "a@1.2.3.4",
            "é@x.io",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn image_references() {
        for ok in [
            "nginx:1.27",
            "reg:5000/app:v1",
            "localhost/a/b:1",
            "ghcr.io/acme/web__x.y-z:1",
            "Registry.Example.com/a:1",
        ] {
            assert_eq!(image_problem(ok), None, "{ok}");
        }
        let digest = format!("a@sha256:{}", "0".repeat(64));
        assert_eq!(image_problem(&digest), None);
        let msg = |i: &str| image_problem(i).map(|(m, _)| m).unwrap_or_default();
        assert_eq!(msg("Acme/Web:1"), "repository `Acme/Web` has upper-case letters");
        assert_eq!(
            msg("a@sha256:abc"),
            "`sha256:abc` is not a valid digest: expected 64 lowercase hex digits"
        );
        assert_eq!(msg("a@md5:abc"), "`md5:abc` is not an image digest");
        assert_eq!(
            msg("a@sha256:é"),
            "image `a@sha256:é` contains characters outside ASCII"
        );
        assert_eq!(msg("a:-x"), "`-x` is not a valid image tag");
        assert_eq!(msg("a--/b:1"), "`a--` is not a valid part of a repository name");
        assert_eq!(msg("bad_host.io:x/b:1"), "`bad_host.io:x` is not a registry host");
    }

    #[test]
    fn images() {
        assert_eq!(split_image("nginx:1.27"), ("nginx", Some("1.27"), None));
        assert_eq!(split_image("reg:5000/app"), ("reg:5000/app", None, None));
        assert_eq!(split_image("reg:5000/app:v1"), ("reg:5000/app", Some("v1"), None));
        assert_eq!(
            split_image("ghcr.io/a/b@sha256:abc"),
            ("ghcr.io/a/b", None, Some("sha256:abc"))
        );
    }
}
