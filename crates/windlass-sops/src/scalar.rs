//! Scalars as sops (Go, go-yaml v3) types and prints them: which plain YAML scalar is
//! an int, a float, a bool, a timestamp or a string; the bytes the MAC and the cipher
//! see for each type; and when a string must be quoted so it reads back as a string.

use std::sync::LazyLock;

use regex::Regex;

use crate::tree::Value;

static YAML_FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$").unwrap()
});
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(
        r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))|(?: ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(\.[0-9]+)?))?$",
    )
    .unwrap()
});

/// The value go-yaml v3 decodes an untagged plain scalar to (as sops reads YAML).
/// Integers beyond i64 are floats (go-yaml makes those up to u64 a uint64, which
/// sops itself cannot encrypt).
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        if let Ok(f) = s.parse::<f64>()
            && YAML_FLOAT.is_match(s)
        {
            return Value::Float(f);
        }
        return Value::Str(s.to_string());
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Value::Str(s.to_string());
    }
    if let Some(t) = timestamp(s) {
        return Value::Time(t);
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_go_int(&plain) {
        return Value::Int(i);
    }
    if YAML_FLOAT.is_match(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(s.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b` or a
/// leading `0` (octal) prefix.
fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(b) = lower.strip_prefix("0x") {
        (16, b.to_string())
    } else if let Some(b) = lower.strip_prefix("0o") {
        (8, b.to_string())
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower)
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(&body, radix).ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// A YAML timestamp as Go's `time.Time.MarshalText` writes it (RFC 3339, fraction
/// without trailing zeros, `Z` for a zero offset), or `None` when `s` is not one
/// of the forms go-yaml reads as a timestamp.
fn timestamp(s: &str) -> Option<String> {
    let c = TIMESTAMP.captures(s)?;
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let (year, month, day) = (num(1)?, num(2)?, num(3)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    let (h, m, sec, frac, zone) = if c.get(4).is_some() {
        (num(4)?, num(5)?, num(6)?, c.get(7), c.get(8).map(|m| m.as_str()))
    } else if c.get(9).is_some() {
        (num(9)?, num(10)?, num(11)?, c.get(12), None)
    } else {
        (0, 0, 0, None, None)
    };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let mut fraction = frac.map(|f| f.as_str()[1..].to_string()).unwrap_or_default();
    fraction.truncate(9);
    let fraction = fraction.trim_end_matches('0');
    let zone = match zone {
        None | Some("Z") | Some("+00:00") | Some("-00:00") => "Z",
        Some(z) => z,
    };
    let dot = if fraction.is_empty() { "" } else { "." };
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{sec:02}{dot}{fraction}{zone}"
    ))
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest decimal that reads back
/// as `f`, never in exponent form.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{f}")
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the texts sops writes.
pub fn parse_go_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A float as a YAML plain scalar that reads back as a float.
pub fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    let s = format!("{f}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Whether a string must be quoted in YAML to read back as the same string
/// (by go-yaml v3, and by YAML 1.1 readers for `yes`/`no`/`on`/`off`).
pub fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || !matches!(resolve_plain(s), Value::Str(_)) {
        return true;
    }
    if matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | "<<"
            | "="
    ) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if matches!(
        first,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
            | ' '
    ) && (first != '-' || s.len() <= 1 || s.starts_with("- ") || s.starts_with("---"))
    {
        return true;
    }
    s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || s.contains(['\t', '\n', '\r'])
        || s.chars().any(|c| c.is_control() || c == '\u{feff}')
        || (s.starts_with('-') && s[1..].starts_with(['[', '{', ']', '}']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_go_yaml_does() {
        assert_eq!(resolve_plain("8080"), Value::Int(8080));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("0o17"), Value::Int(15));
        assert_eq!(resolve_plain("017"), Value::Int(15));
        assert_eq!(resolve_plain("-0b101"), Value::Int(-5));
        assert_eq!(resolve_plain("1_000"), Value::Int(1000));
        assert_eq!(resolve_plain("08"), Value::Float(8.0));
        assert_eq!(resolve_plain("1.50"), Value::Float(1.5));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain(".5"), Value::Float(0.5));
        assert_eq!(resolve_plain("yes"), Value::Str("yes".into()));
        assert_eq!(resolve_plain("on"), Value::Str("on".into()));
        assert_eq!(resolve_plain("True"), Value::Bool(true));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("2024-01-01"), Value::Time("2024-01-01T00:00:00Z".into()));
        assert_eq!(
            resolve_plain("2024-1-2t3:04:05.500+02:00"),
            Value::Time("2024-01-02T03:04:05.5+02:00".into())
        );
        assert_eq!(resolve_plain("2024-02-30"), Value::Str("2024-02-30".into()));
        assert_eq!(resolve_plain("99999999999999999999"), Value::Float(1e20));
        assert_eq!(resolve_plain("1.2.3"), Value::Str("1.2.3".into()));
    }

    #[test]
    fn floats_print_as_go_and_as_yaml() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(1e21), "1000000000000000000000");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
        assert_eq!(yaml_float(1.0), "1.0");
        assert_eq!(yaml_float(f64::NEG_INFINITY), "-.inf");
        assert!(matches!(resolve_plain(&yaml_float(3.0)), Value::Float(f) if f == 3.0));
    }

    #[test]
    fn strings_that_would_read_back_as_something_else_are_quoted() {
        for s in [
            "",
            "123",
            "true",
            "null",
            "on",
            "no",
            "1.5",
            "2024-01-01",
            "a: b",
            "x #y",
            "- a",
            "#c",
            " lead",
            "trail ",
        ] {
            assert!(needs_quotes(s), "{s:?}");
        }
        for s in [
            "web",
            "ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]",
            "-foo",
            "a-b",
            "1.2.3",
            "http://x",
        ] {
            assert!(!needs_quotes(s), "{s:?}");
        }
    }
}
