//! Typed spec values, parsed once while the spec is read: durations, latencies,
//! ratios, objectives, resource quantities, ports and log patterns. A bad value
//! fails its `Deserialize`, so the error carries the line, column, field path and
//! the fix; later stages read numbers, never text.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::quantity::parse_milli;

/// Separates a value error's message from its fix; the spec deserializer splits on it.
pub const HELP_SEPARATOR: &str = "\n  help: ";

/// Why a value was refused, and how to write it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub message: String,
    pub help: String,
}

impl ValueError {
    fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: help.into(),
        }
    }

    fn into_de<E: de::Error>(self) -> E {
        E::custom(self)
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{HELP_SEPARATOR}{}", self.message, self.help)
    }
}

/// A decimal number without sign or exponent (`12`, `0.5`, `.5`), as text people write.
fn plain_decimal(s: &str) -> Option<f64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Shortest decimal text of a number (`0.3`, `2`, `1500`).
fn short(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() { "0".to_string() } else { s.to_string() }
}

// --- durations -------------------------------------------------------------

/// A Prometheus duration (`30s`, `5m`, `1h30m`, `14d`), kept in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    millis: u64,
}

const MS_PER_SECOND: u64 = 1000;
const MS_PER_MINUTE: u64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: u64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: u64 = 24 * MS_PER_HOUR;

/// Units in the order Prometheus requires them (largest first, each at most once).
const DURATION_UNITS: [(&str, u64); 7] = [
    ("y", 365 * MS_PER_DAY),
    ("w", 7 * MS_PER_DAY),
    ("d", MS_PER_DAY),
    ("h", MS_PER_HOUR),
    ("m", MS_PER_MINUTE),
    ("s", MS_PER_SECOND),
    ("ms", 1),
];

const DURATION_HELP: &str =
    "write a whole number and a unit (ms, s, m, h, d, w, y), largest unit first, e.g. `30s`, `5m`, `1h30m` or `14d`";

impl Duration {
    pub const ZERO: Duration = Duration { millis: 0 };

    pub const fn seconds(n: u64) -> Self {
        Self {
            millis: n * MS_PER_SECOND,
        }
    }
    pub const fn minutes(n: u64) -> Self {
        Self {
            millis: n * MS_PER_MINUTE,
        }
    }
    pub const fn hours(n: u64) -> Self {
        Self {
            millis: n * MS_PER_HOUR,
        }
    }
    pub const fn days(n: u64) -> Self {
        Self { millis: n * MS_PER_DAY }
    }

    pub fn as_millis(self) -> u64 {
        self.millis
    }

    pub fn as_secs_f64(self) -> f64 {
        self.millis as f64 / 1000.0
    }

    /// Whole minutes, rounded up.
    pub fn whole_minutes_ceil(self) -> u64 {
        self.millis.div_ceil(MS_PER_MINUTE)
    }

    pub fn is_zero(self) -> bool {
        self.millis == 0
    }
}

impl FromStr for Duration {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::new(format!("`{s}` is not a duration"), DURATION_HELP);
        if s == "0" {
            return Ok(Duration::ZERO);
        }
        if plain_decimal(s).is_some() {
            return Err(ValueError::new(format!("duration `{s}` has no unit"), DURATION_HELP));
        }
        if s.is_empty() {
            return Err(bad());
        }
        let mut rest = s;
        let mut next_unit = 0;
        let mut total: u64 = 0;
        while !rest.is_empty() {
            // Both splits fall on ASCII bytes, so they are char boundaries.
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let (number, after) = rest.split_at(digits);
            let letters = after.bytes().take_while(u8::is_ascii_alphabetic).count();
            let (unit, tail) = after.split_at(letters);
            if number.is_empty() {
                return Err(bad());
            }
            let Some(rank) = DURATION_UNITS.iter().position(|(u, _)| *u == unit) else {
                return Err(bad());
            };
            if rank < next_unit {
                return Err(ValueError::new(
                    format!("`{s}` repeats a unit or puts a smaller unit before a larger one"),
                    DURATION_HELP,
                ));
            }
            next_unit = rank + 1;
            let too_long = || ValueError::new(format!("duration `{s}` is too long"), "write a shorter duration");
            let n: u64 = number.parse().map_err(|_| too_long())?;
            let part = n.checked_mul(DURATION_UNITS[rank].1).ok_or_else(too_long)?;
            total = total.checked_add(part).ok_or_else(too_long)?;
            rest = tail;
        }
        Ok(Duration { millis: total })
    }
}

/// Prometheus syntax in days and smaller units (`30d`, not `4w2d`), `0s` for zero.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millis == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.millis;
        for (unit, size) in &DURATION_UNITS[2..] {
            if rest >= *size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `5m`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
                s.parse().map_err(ValueError::into_de)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Duration, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Duration, E> {
                if n < 0 {
                    return Err(ValueError::new(format!("duration `{n}` is negative"), DURATION_HELP).into_de());
                }
                self.visit_str(&n.to_string())
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Duration, E> {
                Err(ValueError::new(format!("duration `{n}` has no unit"), DURATION_HELP).into_de())
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration: whole numbers with units ms, s, m, h, d, w, y, largest first, e.g. `30s`, `5m`, `1h30m`, `14d`.",
            "pattern": "^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$"
        })
    }
}

// --- latencies -------------------------------------------------------------

/// A response time with its unit (`300ms`, `0.3s`, `2s`), in seconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Latency {
    seconds: f64,
}

const LATENCY_HELP: &str = "write a number with the unit `ms` or `s`, e.g. `300ms` or `1.5s`";

impl Latency {
    /// A latency of `seconds` (positive).
    pub const fn from_secs(seconds: f64) -> Self {
        Self { seconds }
    }
    pub fn as_secs_f64(self) -> f64 {
        self.seconds
    }
}

impl FromStr for Latency {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let (number, scale) = if let Some(ms) = s.strip_suffix("ms") {
            (ms, 0.001)
        } else if let Some(sec) = s.strip_suffix('s') {
            (sec, 1.0)
        } else if plain_decimal(s).is_some() {
            return Err(ValueError::new(
                format!("latency `{s}` has no unit"),
                format!("write `{s}ms` or `{s}s`"),
            ));
        } else {
            return Err(ValueError::new(format!("`{s}` is not a latency"), LATENCY_HELP));
        };
        match plain_decimal(number) {
            Some(v) if v > 0.0 => Ok(Latency { seconds: v * scale }),
            Some(_) => Err(ValueError::new(
                format!("latency `{s}` is zero"),
                "write a latency above zero, e.g. `300ms`",
            )),
            None => Err(ValueError::new(format!("`{s}` is not a latency"), LATENCY_HELP)),
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds < 1.0 {
            write!(f, "{}ms", short(self.seconds * 1000.0))
        } else {
            write!(f, "{}s", short(self.seconds))
        }
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Latency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a latency such as `300ms`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Latency, E> {
                s.parse().map_err(ValueError::into_de)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Latency, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Latency, E> {
                if n < 0 {
                    return Err(ValueError::new(format!("latency `{n}` is negative"), LATENCY_HELP).into_de());
                }
                self.visit_str(&n.to_string())
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Latency, E> {
                self.visit_str(&n.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Latency {
    fn schema_name() -> Cow<'static, str> {
        "Latency".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A latency with its unit, `ms` or `s`, e.g. `300ms` or `1.5s`.",
            "pattern": "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ms|s)$"
        })
    }
}

// --- ratios and objectives -------------------------------------------------

/// A share strictly between 0 and 1, written `5%` or `0.05`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Ratio(f64);

const RATIO_HELP: &str = "write a percentage such as `5%`, or a fraction such as `0.05`";

impl Ratio {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl FromStr for Ratio {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let v = match s.strip_suffix('%') {
            Some(p) => plain_decimal(p.trim_end()).map(|v| v / 100.0),
            None => plain_decimal(s),
        };
        match v {
            Some(v) if v > 0.0 && v < 1.0 => Ok(Ratio(v)),
            Some(_) => Err(ValueError::new(
                format!("`{s}` is not a ratio between 0 and 1 (0% and 100%)"),
                RATIO_HELP,
            )),
            None => Err(ValueError::new(format!("`{s}` is not a ratio"), RATIO_HELP)),
        }
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Ratio;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a ratio such as `5%`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Ratio, E> {
                s.parse().map_err(ValueError::into_de)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Ratio, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Ratio, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Ratio, E> {
                self.visit_str(&n.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Ratio {
    fn schema_name() -> Cow<'static, str> {
        "Ratio".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A ratio between 0 and 1: a percentage such as `5%` or a fraction such as `0.05`.",
            "anyOf": [
                { "type": "string", "pattern": "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+) ?%$" },
                { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1 }
            ]
        })
    }
}

/// An objective in percent strictly between 0 and 100, written `99.9` or `99.9%`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Objective(f64);

impl Objective {
    /// The objective in percent.
    pub fn percent(self) -> f64 {
        self.0
    }
    /// The error budget: the share of requests allowed to miss the objective.
    pub fn budget(self) -> f64 {
        1.0 - self.0 / 100.0
    }
}

impl FromStr for Objective {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let help = "write the percentage of good requests, e.g. `99.9` or `99.9%` (100 leaves no error budget)";
        match plain_decimal(s.strip_suffix('%').map_or(s, str::trim_end)) {
            Some(v) if v > 0.0 && v < 100.0 => Ok(Objective(v)),
            Some(_) => Err(ValueError::new(
                format!("objective `{s}` is not a percentage between 0 and 100"),
                help,
            )),
            None => Err(ValueError::new(format!("`{s}` is not a percentage"), help)),
        }
    }
}

impl<'de> Deserialize<'de> for Objective {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Objective;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage such as `99.9`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Objective, E> {
                s.parse().map_err(ValueError::into_de)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Objective, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Objective, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Objective, E> {
                self.visit_str(&n.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Objective {
    fn schema_name() -> Cow<'static, str> {
        "Objective".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A percentage between 0 and 100, e.g. `99.9` or `99.9%`.",
            "anyOf": [
                { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100 },
                { "type": "string", "pattern": "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+) ?%?$" }
            ]
        })
    }
}

// --- resource quantities ---------------------------------------------------

/// A Kubernetes resource quantity (`250m`, `0.5`, `256Mi`, `10Gi`), kept as
/// written (it is rendered as is) and as thousandths of a unit (to compare).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity {
    text: String,
    milli: u128,
}

const QUANTITY_HELP: &str = "write CPU as cores or millicores (`0.5`, `250m`) and sizes with a unit (`256Mi`, `10Gi`)";

impl Quantity {
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The value in thousandths of a unit (millicores, or bytes x 1000).
    pub fn milli(&self) -> u128 {
        self.milli
    }
}

impl FromStr for Quantity {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        match parse_milli(s) {
            Some(milli) => Ok(Quantity {
                text: s.to_string(),
                milli,
            }),
            None => Err(ValueError::new(format!("`{s}` is not a quantity"), QUANTITY_HELP)),
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as `250m` or `256Mi`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Quantity, E> {
                s.parse().map_err(ValueError::into_de)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Quantity, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Quantity, E> {
                if n < 0 {
                    return Err(ValueError::new(format!("quantity `{n}` is negative"), QUANTITY_HELP).into_de());
                }
                self.visit_str(&n.to_string())
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Quantity, E> {
                // `{}` writes a float without an exponent, which the quantity grammar reads.
                self.visit_str(&n.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Kubernetes quantity: CPU as cores or millicores (`0.5`, `250m`), sizes with a unit (`256Mi`, `10Gi`).",
            "anyOf": [
                { "type": "string", "pattern": "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([munkMGTPE]|[KMGTPE]i|[eE][0-9]+)?$" },
                { "type": "number", "minimum": 0 }
            ]
        })
    }
}

// --- ports -----------------------------------------------------------------

/// A TCP port, 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port(u16);

impl Port {
    /// A port from a number known to be valid; `None` for 0.
    pub fn new(n: u16) -> Option<Port> {
        (n != 0).then_some(Port(n))
    }
    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn port_from(n: i128) -> Result<Port, ValueError> {
    match u16::try_from(n) {
        Ok(p) if p != 0 => Ok(Port(p)),
        _ => Err(ValueError::new(
            format!("port {n} is not a valid port"),
            "use a port between 1 and 65535",
        )),
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number from 1 to 65535")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Port, E> {
                port_from(i128::from(n)).map_err(ValueError::into_de)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Port, E> {
                port_from(i128::from(n)).map_err(ValueError::into_de)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Port {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": 65535 })
    }
}

// --- log patterns ----------------------------------------------------------

/// A regular expression in the RE2 syntax Loki's line filters (`|~`) accept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogPattern(String);

impl LogPattern {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LogPattern {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        if s.is_empty() {
            return Err(ValueError::new(
                "the pattern is empty: every line would match",
                "write the pattern of the lines to alert on, e.g. `PHP Fatal error`",
            ));
        }
        match super::re2::check(s) {
            Ok(()) => Ok(LogPattern(s.to_string())),
            Err(why) => Err(ValueError::new(
                format!("`{s}` is not an RE2 regular expression: {why}"),
                "Loki reads RE2: no look-around, no backreferences; escape special characters with `\\`",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for LogPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LogPattern;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a regular expression such as `PHP Fatal error`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<LogPattern, E> {
                s.parse().map_err(ValueError::into_de)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for LogPattern {
    fn schema_name() -> Cow<'static, str> {
        "LogPattern".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "regex",
            "minLength": 1,
            "description": "An RE2 regular expression (Loki's line filter syntax)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: FromStr<Err = ValueError> + fmt::Debug>(s: &str) -> String {
        match s.parse::<T>() {
            Ok(v) => panic!("`{s}` parsed as {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn durations_parse_like_prometheus() {
        let ms = |s: &str| s.parse::<Duration>().map(Duration::as_millis);
        assert_eq!(ms("30s"), Ok(30_000));
        assert_eq!(ms("5m"), Ok(300_000));
        assert_eq!(ms("1h30m"), Ok(5_400_000));
        assert_eq!(ms("14d"), Ok(14 * 86_400_000));
        assert_eq!(ms("1w"), Ok(7 * 86_400_000));
        assert_eq!(ms("1y"), Ok(365 * 86_400_000));
        assert_eq!(ms("1s500ms"), Ok(1500));
        assert_eq!(ms("0"), Ok(0));
        assert_eq!(ms("0m"), Ok(0));
    }

    #[test]
    fn bad_durations_say_why_and_how() {
        assert_eq!(
            err::<Duration>("5"),
            format!("duration `5` has no unit{HELP_SEPARATOR}{DURATION_HELP}")
        );
        assert_eq!(
            err::<Duration>("5 minutes"),
            format!("`5 minutes` is not a duration{HELP_SEPARATOR}{DURATION_HELP}")
        );
        assert_eq!(
            err::<Duration>("30m1h"),
            format!("`30m1h` repeats a unit or puts a smaller unit before a larger one{HELP_SEPARATOR}{DURATION_HELP}")
        );
        assert_eq!(
            err::<Duration>("99999999999999999999d"),
            format!("duration `99999999999999999999d` is too long{HELP_SEPARATOR}write a shorter duration")
        );
        for bad in ["", "m", "1.5h", "-5m", "5M", "1h1h", "5m\u{e9}", "\u{665}m"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_print_in_prometheus_syntax() {
        let show = |s: &str| s.parse::<Duration>().map(|d| d.to_string());
        assert_eq!(show("90m"), Ok("1h30m".to_string()));
        assert_eq!(show("30d"), Ok("30d".to_string()));
        assert_eq!(show("2w"), Ok("14d".to_string()));
        assert_eq!(show("0m"), Ok("0s".to_string()));
        assert_eq!(show("1500ms"), Ok("1s500ms".to_string()));
        assert_eq!(Duration::minutes(15).whole_minutes_ceil(), 15);
        assert_eq!(Duration::seconds(61).whole_minutes_ceil(), 2);
    }

    #[test]
    fn latencies_need_a_unit() {
        let secs = |s: &str| s.parse::<Latency>().map(Latency::as_secs_f64);
        assert_eq!(secs("300ms"), Ok(0.3));
        assert_eq!(secs("1.5s"), Ok(1.5));
        assert_eq!(secs("2s"), Ok(2.0));
        assert_eq!(
            err::<Latency>("800"),
            format!("latency `800` has no unit{HELP_SEPARATOR}write `800ms` or `800s`")
        );
        assert_eq!(
            err::<Latency>("0ms"),
            format!("latency `0ms` is zero{HELP_SEPARATOR}write a latency above zero, e.g. `300ms`")
        );
        assert_eq!(
            err::<Latency>("fast"),
            format!("`fast` is not a latency{HELP_SEPARATOR}{LATENCY_HELP}")
        );
        for bad in ["", "s", "ms", "-1s", "1e3ms", "1 s", "inf s", "NaNs"] {
            assert!(bad.parse::<Latency>().is_err(), "{bad}");
        }
        assert_eq!(Latency::from_secs(0.3).to_string(), "300ms");
        assert_eq!(Latency::from_secs(1.5).to_string(), "1.5s");
    }

    #[test]
    fn ratios_are_shares_below_one() {
        let r = |s: &str| s.parse::<Ratio>().map(Ratio::get);
        assert_eq!(r("5%"), Ok(0.05));
        assert_eq!(r("0.02"), Ok(0.02));
        assert_eq!(r("2.5 %"), Ok(0.025));
        assert_eq!(
            err::<Ratio>("5"),
            format!("`5` is not a ratio between 0 and 1 (0% and 100%){HELP_SEPARATOR}{RATIO_HELP}")
        );
        assert_eq!(
            err::<Ratio>("100%"),
            format!("`100%` is not a ratio between 0 and 1 (0% and 100%){HELP_SEPARATOR}{RATIO_HELP}")
        );
        assert_eq!(
            err::<Ratio>("five"),
            format!("`five` is not a ratio{HELP_SEPARATOR}{RATIO_HELP}")
        );
    }

    #[test]
    fn objectives_are_percentages() {
        let o = |s: &str| s.parse::<Objective>().map(Objective::percent);
        assert_eq!(o("99.9"), Ok(99.9));
        assert_eq!(o("99.9%"), Ok(99.9));
        assert!((Objective(99.9).budget() - 0.001).abs() < 1e-12);
        assert_eq!(
            err::<Objective>("100"),
            format!(
                "objective `100` is not a percentage between 0 and 100{HELP_SEPARATOR}write the percentage of good requests, e.g. `99.9` or `99.9%` (100 leaves no error budget)"
            )
        );
        assert!("0".parse::<Objective>().is_err());
        assert!("high".parse::<Objective>().is_err());
    }

    #[test]
    fn quantities_keep_their_text() {
        let q: Quantity = "250m".parse().expect("quantity");
        assert_eq!((q.as_str(), q.milli()), ("250m", 250));
        let q: Quantity = "256Mi".parse().expect("quantity");
        assert_eq!(q.milli(), (256u128 << 20) * 1000);
        assert_eq!(
            err::<Quantity>("10 Gi"),
            format!("`10 Gi` is not a quantity{HELP_SEPARATOR}{QUANTITY_HELP}")
        );
    }

    #[test]
    fn ports_exclude_zero() {
        assert_eq!(port_from(8080).map(Port::get), Ok(8080));
        assert_eq!(
            port_from(0).map_err(|e| e.to_string()),
            Err(format!(
                "port 0 is not a valid port{HELP_SEPARATOR}use a port between 1 and 65535"
            ))
        );
        assert!(port_from(65536).is_err());
        assert!(port_from(-1).is_err());
    }

    #[test]
    fn log_patterns_must_be_re2() {
        assert!("PHP Fatal error|Out of memory".parse::<LogPattern>().is_ok());
        assert_eq!(
            err::<LogPattern>(""),
            format!(
                "the pattern is empty: every line would match{HELP_SEPARATOR}write the pattern of the lines to alert on, e.g. `PHP Fatal error`"
            )
        );
        let help = "Loki reads RE2: no look-around, no backreferences; escape special characters with `\\`";
        assert_eq!(
            err::<LogPattern>("error(?!: retrying)"),
            format!(
                "`error(?!: retrying)` is not an RE2 regular expression: look-around, including look-ahead and look-behind, is not supported{HELP_SEPARATOR}{help}"
            )
        );
    }
}
