//! Fuzz target: spec text through load (every environment), model, plan, render,
//! invariants and the k8s-openapi round trip. A panic, an unlocated diagnostic or
//! an accepted spec whose objects break the invariants is a crash.

// The fuzz target reads only what decides a crash; the tests read the rest.
#[allow(dead_code)]
#[path = "../../../crates/windlass-core/tests/fuzz_support/pipeline.rs"]
mod pipeline;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        // The CLI refuses non-UTF-8 files; a byte the mutator broke becomes U+FFFD instead, so a
        // flipped byte turns into a non-ASCII character rather than a wasted run.
        let text = String::from_utf8_lossy(data);
        if let Err(pipeline::Defect(what)) = pipeline::run(&text) {
            panic!("{what}");
        }
    });
}
