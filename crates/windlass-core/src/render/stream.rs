//! Unit-by-unit rendering: units are built, checked and serialised on every
//! core and handed to a sink in plan order while the next ones are built.
//! Memory stays bounded by the window (a few dozen units), never by the platform.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, PoisonError};

use super::{Outline, Unit, UnitId, to_yaml};
use crate::check::{Finding, invariants};

/// How far builders may run ahead of the sink: enough to keep every core busy,
/// few enough that a window of the largest units stays small.
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

/// Checks a unit's objects and serialises them, dropping the objects. A sealed
/// Secret (from the SOPS file, without its values) is checked but not written:
/// only `up` makes it, from the encrypted file.
pub fn documents(unit: Unit) -> UnitDocuments {
    let findings = invariants(&unit.objects);
    let documents = unit
        .objects
        .iter()
        .filter(|o| !super::sops::is_sealed(&o.0))
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

/// Builds the units of the outline, maps each with `f` on all cores, and feeds
/// the results to `sink` in plan order on the caller's thread. Workers run at
/// most a window ahead of the sink, so writing and building overlap while
/// memory stays bounded. The first sink error stops the run.
pub fn for_each_unit<T: Send, E>(
    outline: &Outline<'_>,
    f: impl Fn(Unit) -> T + Sync,
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let units = outline.units();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    if threads < 2 || units.len() < 2 {
        for kind in units {
            sink(f(outline.unit(kind)))?;
        }
        return Ok(());
    }
    let pipe = Pipe {
        state: Mutex::new(PipeState {
            next: 0,
            sunk: 0,
            stop: false,
            done: BTreeMap::new(),
        }),
        changed: Condvar::new(),
    };
    std::thread::scope(|s| {
        for _ in 0..threads.min(units.len()) {
            s.spawn(|| {
                let _stop_on_panic = StopOnPanic(&pipe);
                while let Some(i) = pipe.take(units.len()) {
                    let Some(kind) = units.get(i) else { break };
                    let value = f(outline.unit(kind));
                    pipe.put(i, value);
                }
            });
        }
        let mut result = Ok(());
        for i in 0..units.len() {
            let Some(value) = pipe.wait_for(i) else { break };
            if let Err(e) = sink(value) {
                result = Err(e);
                break;
            }
        }
        pipe.stop();
        result
    })
}

/// Stops the run when a builder panics, so the sink does not wait for its unit
/// (the scope then re-raises the panic).
struct StopOnPanic<'a, T>(&'a Pipe<T>);

impl<T> Drop for StopOnPanic<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

/// The hand-off between unit builders and the sink.
struct Pipe<T> {
    state: Mutex<PipeState<T>>,
    changed: Condvar,
}

struct PipeState<T> {
    /// The next unit a builder takes.
    next: usize,
    /// Units the sink has taken.
    sunk: usize,
    stop: bool,
    /// Built units the sink has not taken yet, by position.
    done: BTreeMap<usize, T>,
}

impl<T> Pipe<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, PipeState<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next unit to build, once it is within a window of the sink; `None` when all are taken or the run stopped.
    fn take(&self, total: usize) -> Option<usize> {
        let mut st = self.lock();
        loop {
            if st.stop || st.next >= total {
                return None;
            }
            if st.next < st.sunk + WINDOW {
                st.next += 1;
                return Some(st.next - 1);
            }
            st = self.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn put(&self, i: usize, value: T) {
        self.lock().done.insert(i, value);
        self.changed.notify_all();
    }

    /// Unit `i` once built; `None` if the builders stopped without it (a builder panicked).
    fn wait_for(&self, i: usize) -> Option<T> {
        let mut st = self.lock();
        loop {
            if let Some(value) = st.done.remove(&i) {
                st.sunk = i + 1;
                drop(st);
                self.changed.notify_all();
                return Some(value);
            }
            if st.stop {
                return None;
            }
            st = self.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }
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
        // components (with their CRDs) + platform + 3 namespaces + every app
        assert_eq!(seen.len(), plan_components(&plan) + 1 + 3 + WINDOW * 2 + 5);
    }

    fn plan_components(plan: &Plan) -> usize {
        plan.up()
            .iter()
            .filter(|u| u.id.layer() < crate::unit::Layer::Platform)
            .count()
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

    #[test]
    fn a_builder_panic_reaches_the_caller_instead_of_hanging() {
        let platform = platform(WINDOW * 2);
        let plan = Plan::new(&platform, &[]).expect("plan");
        let outline = Outline::new(&platform, &plan);
        let built = std::sync::atomic::AtomicUsize::new(0);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for_each_unit(
                &outline,
                |u| {
                    assert!(
                        built.fetch_add(1, std::sync::atomic::Ordering::Relaxed) != 10,
                        "builder failed"
                    );
                    u.dir
                },
                |_| Ok::<(), ()>(()),
            )
        }));
        assert!(run.is_err());
    }
}
