//! The one progress reporter of the cluster commands, driven by the engine's
//! typed events: live spinners on a terminal, one plain line per event
//! otherwise, one JSON event per line with `--output json`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use windlass_cluster::{Event, EventSink};
use windlass_core::unit::UnitId;

use crate::cli::OutputFormat;
use crate::output::print;

#[derive(Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

enum Inner {
    Json,
    Plain,
    Live {
        bars: MultiProgress,
        units: Mutex<HashMap<String, ProgressBar>>,
    },
}

/// What an event says, apart from how it is shown.
#[derive(Debug, PartialEq)]
struct Line {
    /// The unit's title; `None` for events about the whole run.
    unit: Option<String>,
    /// `✓` ready, `↺` rolled back, `✗` failed, `-` skipped, none while in progress.
    mark: Option<char>,
    message: String,
    /// The unit is done: its live bar stops.
    finished: bool,
    /// Indented lines under the event (why a unit failed).
    details: Vec<String>,
}

/// Width of the unit column in plain lines.
const UNIT_COLUMN: usize = 24;

impl Progress {
    pub fn new(format: OutputFormat) -> Progress {
        let inner = match format {
            OutputFormat::Json => Inner::Json,
            OutputFormat::Text if std::io::stderr().is_terminal() && std::io::stdout().is_terminal() => Inner::Live {
                bars: MultiProgress::new(),
                units: Mutex::new(HashMap::new()),
            },
            OutputFormat::Text => Inner::Plain,
        };
        Progress { inner: Arc::new(inner) }
    }

    /// Where the engine sends its events.
    pub fn sink(&self) -> EventSink {
        let me = self.clone();
        Arc::new(move |e| me.event(&e))
    }

    /// A line that belongs to no unit (a command's summary).
    pub fn note(&self, text: &str) {
        match &*self.inner {
            Inner::Json => line(&serde_json::json!({"event": "note", "message": text}).to_string()),
            Inner::Plain => line(text),
            Inner::Live { bars, .. } => {
                let _ = bars.println(text);
            }
        }
    }

    fn event(&self, e: &Event) {
        match &*self.inner {
            Inner::Json => line(&serde_json::to_string(e).unwrap_or_default()),
            Inner::Plain => {
                let l = describe(e);
                line(&plain(&l));
                for d in &l.details {
                    line(&format!("    {d}"));
                }
            }
            Inner::Live { bars, units } => {
                let l = describe(e);
                let Some(unit) = l.unit else {
                    let _ = bars.println(&l.message);
                    return;
                };
                let message = match l.mark {
                    Some(mark) => format!("{mark} {}", l.message),
                    None => l.message,
                };
                let mut units = units.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let bar = units.entry(unit.clone()).or_insert_with(|| {
                    let bar = bars.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<24} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(unit);
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                if l.finished {
                    bar.finish_with_message(message);
                } else {
                    bar.set_message(message);
                }
                for d in &l.details {
                    let _ = bars.println(format!("    {d}"));
                }
            }
        }
    }
}

fn line(text: &str) {
    // A closed stdout ends the process in `print`; other errors cannot be reported better here.
    let _ = print(&format!("{text}\n"));
}

/// `✓ app web                  ready, revision 2 (1.2s)`
fn plain(l: &Line) -> String {
    match &l.unit {
        Some(unit) => format!("{} {unit:<UNIT_COLUMN$} {}", l.mark.unwrap_or(' '), l.message),
        None => l.message.clone(),
    }
}

fn describe(e: &Event) -> Line {
    let unit_line = |unit: &UnitId, mark: Option<char>, message: String, finished: bool| Line {
        unit: Some(unit.title()),
        mark,
        message,
        finished,
        details: Vec::new(),
    };
    match e {
        Event::WaitingForLease { holder } => Line {
            unit: None,
            mark: None,
            message: format!("waiting for the Lease held by {holder}"),
            finished: false,
            details: Vec::new(),
        },
        Event::Applying {
            unit,
            objects,
            revision,
        } => unit_line(
            unit,
            None,
            format!("applying {objects} objects (revision {revision})"),
            false,
        ),
        Event::Waiting { unit, message } => unit_line(unit, None, format!("waiting: {message}"), false),
        Event::Ready {
            unit,
            revision,
            changed,
            seconds,
        } => {
            let what = if *changed { "ready" } else { "unchanged" };
            unit_line(
                unit,
                Some('✓'),
                format!("{what}, revision {revision} ({seconds:.1}s)"),
                true,
            )
        }
        Event::Pruned { unit, object } => unit_line(unit, None, format!("pruned {object}"), false),
        Event::Deleted { unit, object } => unit_line(unit, None, format!("deleted {object}"), false),
        Event::Kept { unit, object, reason } => unit_line(unit, None, format!("kept {object}: {reason}"), false),
        Event::RolledBack {
            unit,
            failed_revision,
            to_revision,
        } => unit_line(
            unit,
            Some('↺'),
            format!("rolled back: revision {failed_revision} failed, back to revision {to_revision}"),
            true,
        ),
        Event::Failed { unit, reason, details } => Line {
            details: details.clone(),
            ..unit_line(unit, Some('✗'), format!("failed: {reason}"), true)
        },
        Event::Skipped { unit, reason } => unit_line(unit, Some('-'), format!("skipped: {reason}"), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_have_a_mark_a_unit_column_and_the_message() {
        let ready = describe(&Event::Ready {
            unit: UnitId::app("shop", "web"),
            revision: 2,
            changed: true,
            seconds: 1.25,
        });
        assert_eq!(plain(&ready), "✓ app web                  ready, revision 2 (1.2s)");
        assert!(ready.finished);
        let waiting = describe(&Event::Waiting {
            unit: UnitId::namespace("shop"),
            message: "Deployment web: 1/2 ready".into(),
        });
        assert_eq!(
            plain(&waiting),
            "  namespace shop           waiting: Deployment web: 1/2 ready"
        );
        assert!(!waiting.finished);
        let lease = describe(&Event::WaitingForLease {
            holder: "h/pid-1/a".into(),
        });
        assert_eq!(plain(&lease), "waiting for the Lease held by h/pid-1/a");
    }

    #[test]
    fn a_failure_carries_its_details() {
        let failed = describe(&Event::Failed {
            unit: UnitId::Platform,
            reason: "boom".into(),
            details: vec!["pod x: Pending".into()],
        });
        assert_eq!(plain(&failed), "✗ platform                 failed: boom");
        assert_eq!(failed.details, ["pod x: Pending"]);
    }

    #[test]
    fn json_events_name_the_unit_by_its_id() {
        let e = Event::Skipped {
            unit: UnitId::app("shop", "api"),
            reason: "app web failed".into(),
        };
        assert_eq!(
            serde_json::to_string(&e).expect("json"),
            r#"{"event":"skipped","unit":"app.shop.api","reason":"app web failed"}"#
        );
    }
}
