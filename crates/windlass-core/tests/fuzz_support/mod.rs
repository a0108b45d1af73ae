//! Support for the end-to-end fuzz tests: the spec generator, the pipeline driver
//! (shared with the coverage-guided targets in `fuzz/`) and the apiserver's rules.

pub mod apiserver;
pub mod pipeline;
pub mod specgen;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use pipeline::{Defect, Outcome};

/// Where the last panic happened (`file:line:col: message`); the hook records it from any thread.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// `check` calls in flight: their panics are recorded, not printed.
static CHECKING: AtomicUsize = AtomicUsize::new(0);

/// Installs (once) a panic hook that records each panic's place, and prints it as usual
/// unless it happened inside `check`.
fn record_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            record(info);
            if CHECKING.load(Ordering::SeqCst) == 0 {
                default(info);
            }
        }));
    });
}

fn record(info: &std::panic::PanicHookInfo<'_>) {
    let place = info
        .location()
        .map_or_else(|| "unknown place".to_string(), ToString::to_string);
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    if let Ok(mut last) = LAST_PANIC.lock() {
        *last = Some(format!("{place}: {message}"));
    }
}

/// One way a spec text fails the end-to-end property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Some stage panicked: where and with what message.
    Panic(String),
    /// The stages disagree (unlocated error, broken invariant, failed round trip).
    Defect(String),
    /// An accepted spec rendered an object the apiserver would refuse.
    Refused(Vec<apiserver::Violation>),
}

impl Failure {
    /// A short key that groups failures with the same cause (numbers and quoted values dropped).
    pub fn kind(&self) -> String {
        let raw = match self {
            Failure::Panic(p) => format!("panic {}", p.split(": ").next().unwrap_or(p)),
            Failure::Defect(d) => format!("defect {d}"),
            Failure::Refused(v) => {
                let first = &v[0];
                let kind = first.object.split('/').next().unwrap_or("");
                let message = first.message.split(" (environment").next().unwrap_or(&first.message);
                format!("refused {kind} {} {message}", first.field)
            }
        };
        let mut out = String::new();
        let mut quoted = false;
        for c in raw.chars() {
            match c {
                '`' => {
                    quoted = !quoted;
                    out.push('_');
                }
                _ if quoted => {}
                '0'..='9' => {
                    if !out.ends_with('#') {
                        out.push('#');
                    }
                }
                c if c.is_ascii_alphanumeric() || c == '.' || c == ' ' => out.push(c),
                _ => out.push('_'),
            }
        }
        out.split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .chars()
            .take(120)
            .collect()
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Panic(p) => write!(f, "panicked at {p}"),
            Failure::Defect(d) => write!(f, "{d}"),
            Failure::Refused(v) => {
                write!(f, "accepted, but the apiserver would refuse:")?;
                for x in v.iter().take(10) {
                    write!(f, "\n  {x}")?;
                }
                if v.len() > 10 {
                    write!(f, "\n  ... and {} more", v.len() - 10)?;
                }
                Ok(())
            }
        }
    }
}

/// How a spec that passed the property was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Refused with this many located diagnostics.
    Refused(usize),
    /// Accepted, and every rendered object is one the apiserver takes.
    Accepted,
}

/// Runs `text` through the whole pipeline and the apiserver's rules.
pub fn check(text: &str) -> Result<Verdict, Failure> {
    record_panics();
    CHECKING.fetch_add(1, Ordering::SeqCst);
    let outcome = catch_unwind(AssertUnwindSafe(|| pipeline::run(text)));
    CHECKING.fetch_sub(1, Ordering::SeqCst);
    let outcome = outcome.map_err(|payload| {
        let recorded = LAST_PANIC.lock().ok().and_then(|mut l| l.take());
        Failure::Panic(recorded.unwrap_or_else(|| {
            payload
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "a panic with no message".into())
        }))
    })?;
    match outcome {
        Err(Defect(d)) => Err(Failure::Defect(d)),
        Ok(Outcome::Rejected(e)) => Ok(Verdict::Refused(e.diagnostics.len())),
        Ok(Outcome::Accepted(envs)) => {
            let mut violations = Vec::new();
            for (env, objects) in &envs {
                for mut v in apiserver::validate_all(objects.iter().map(|o| &o.0)) {
                    v.message = format!("{} (environment {env})", v.message);
                    violations.push(v);
                }
            }
            if violations.is_empty() {
                Ok(Verdict::Accepted)
            } else {
                Err(Failure::Refused(violations))
            }
        }
    }
}

/// Removes lines (in ever smaller chunks) from `text` while it still fails with the same
/// kind of failure: a minimised input for a regression file.
pub fn minimise(text: &str, kind: &str) -> String {
    let same = |t: &str| check(t).err().is_some_and(|f| f.kind() == kind);
    let mut lines: Vec<&str> = text.lines().collect();
    let mut chunk = lines.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < lines.len() {
            let end = (i + chunk).min(lines.len());
            let candidate: Vec<&str> = lines[..i].iter().chain(&lines[end..]).copied().collect();
            if same(&(candidate.join("\n") + "\n")) {
                lines = candidate;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    lines.join("\n") + "\n"
}
