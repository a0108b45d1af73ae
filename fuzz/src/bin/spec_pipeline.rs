//! Fuzz target: spec text through load (every environment), model, plan, render,
//! invariants and the k8s-openapi round trip. A panic, an unlocated diagnostic or
//! an accepted spec whose objects break the invariants is a crash.

// The fuzz target reads only what decides a crash; the tests read the rest.
#[allow(dead_code)]
#[path = "../../../crates/windlass-core/tests/fuzz_support/pipeline.rs"]
mod pipeline;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        // The CLI refuses non-UTF-8 files before the core sees them.
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Err(pipeline::Defect(what)) = pipeline::run(text) {
            panic!("{what}");
        }
    });
}
