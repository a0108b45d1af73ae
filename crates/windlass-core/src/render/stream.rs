//! Unit-by-unit rendering: units are built, checked and serialised on every
//! core, a window at a time, and handed to a sink in plan order. Memory stays
//! bounded by the window (a few dozen units), never by the platform.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Outline, Unit, UnitId, to_yaml};
use crate::check::{Finding, invariants};

/// Units built at once: enough to keep every core busy, few enough that a
/// window of the largest units stays small.
const WINDOW: usize = 32;

/// One rendered object as a file of its unit.
#[derive(Debug, Clone)]
pub struct Document {
    /// `<NN>-<kind>-<name>.yaml`; NN keeps the apply order visible in `ls`.
    pub file: String,
    pub kind: String,
    /// One YAML document, ending in a newline, without a leading `---`.
    pub yaml: String,
}

/// A unit as text: its documents and what the invariants found in its objects.
#[derive(Debug, Clone)]
pub struct UnitDocuments {
    pub kind: UnitId,
    /// Directory (relative, `/`-separated) the unit's files go in.
    pub dir: String,
    pub documents: Vec<Document>,
    pub findings: Vec<Finding>,
}

impl UnitDocuments {
    /// Object count per kind, for summaries.
    pub fn kinds(&self) -> BTreeMap<&str, usize> {
        let mut kinds = BTreeMap::new();
        for d in &self.documents {
            *kinds.entry(d.kind.as_str()).or_default() += 1;
        }
        kinds
    }
}

/// Checks a unit's objects and serialises them, dropping the objects.
pub fn documents(unit: Unit) -> UnitDocuments {
    let findings = invariants(&unit.objects);
    let documents = unit
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| Document {
            file: format!("{i:02}-{}-{}.yaml", o.kind().to_lowercase(), o.name()),
            kind: o.kind().to_string(),
            yaml: to_yaml(o),
        })
        .collect();
    UnitDocuments {
        kind: unit.kind,
        dir: unit.dir,
        documents,
        findings,
    }
}

/// Builds every unit of the outline, maps it with `f` on all cores, and returns the results in plan order.
pub fn map_units<T: Send>(outline: &Outline<'_>, f: impl Fn(Unit) -> T + Sync) -> Vec<T> {
    let mut out = Vec::with_capacity(outline.units().len());
    let sunk: Result<(), std::convert::Infallible> = for_each_unit(outline, f, |t| {
        out.push(t);
        Ok(())
    });
    match sunk {
        Ok(()) => out,
        Err(never) => match never {},
    }
}

/// Builds the units of the outline a window at a time, maps each with `f` on all cores,
/// and feeds the results to `sink` in plan order. The first sink error stops the run.
pub fn for_each_unit<T: Send, E>(
    outline: &Outline<'_>,
    f: impl Fn(Unit) -> T + Sync,
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    for window in outline.units().chunks(WINDOW) {
        let results = if threads < 2 || window.len() < 2 {
            window.iter().map(|k| f(outline.unit(k))).collect()
        } else {
            build_window(outline, window, threads, &f)
        };
        for r in results {
            sink(r)?;
        }
    }
    Ok(())
}

fn build_window<T: Send>(
    outline: &Outline<'_>,
    window: &[UnitId],
    threads: usize,
    f: &(impl Fn(Unit) -> T + Sync),
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = window.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads.min(window.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(kind) = window.get(i) else { break };
                    let value = f(outline.unit(kind));
                    if let Some(slot) = slots.get(i) {
                        *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(value);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;
    use crate::plan::Plan;

    fn platform(apps: usize) -> Platform {
        let mut text = String::from(
            "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform:\n  name: p\n  domain: example.com\n  \
             email: ops@example.com\ndefaultEnvironment: dev\napps:\n",
        );
        for i in 0..apps {
            text.push_str(&format!(
                "  app{i}:\n    image: ghcr.io/example/app:1.0.0\n    port: 8080\n    health: /healthz\n    namespace: ns{}\n",
                i % 3
            ));
        }
        text.push_str("environments:\n  dev: {}\n");
        let spec = crate::spec::load("windlass.yaml", &text).expect("valid spec");
        let (name, file) = spec.environment(None).expect("environment");
        Platform::build(file, name)
    }

    #[test]
    fn units_arrive_in_plan_order_across_windows() {
        let platform = platform(WINDOW * 2 + 5);
        let plan = Plan::new(&platform, &[]).expect("plan");
        let outline = Outline::new(&platform, &plan);
        let mut seen = Vec::new();
        let done: Result<(), ()> = for_each_unit(
            &outline,
            |u| u.kind,
            |k| {
                seen.push(k);
                Ok(())
            },
        );
        assert_eq!(done, Ok(()));
        assert_eq!(seen, outline.units());
        // platform + 3 namespaces + every app
        assert_eq!(seen.len(), 1 + 3 + WINDOW * 2 + 5);
    }

    #[test]
    fn a_sink_error_stops_the_run() {
        let platform = platform(WINDOW * 3);
        let plan = Plan::new(&platform, &[]).expect("plan");
        let mut taken = 0;
        let done = for_each_unit(
            &Outline::new(&platform, &plan),
            |u| u.dir,
            |_| {
                taken += 1;
                if taken == 3 { Err("full") } else { Ok(()) }
            },
        );
        assert_eq!(done, Err("full"));
        assert_eq!(taken, 3);
    }
}
