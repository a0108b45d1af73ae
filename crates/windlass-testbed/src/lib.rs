//! The windlass test bed harness: cluster tests get a `kube::Client` for the local
//! control plane started by `cargo xtask testbed up`, and a fresh namespace each
//! that enforces Pod Security `restricted` and is deleted afterwards.
//!
//! ```no_run
//! # async fn example() {
//! let Some(bed) = windlass_testbed::TestBed::connect().await else { return };
//! let ns = bed.namespace("my-test").await.expect("namespace");
//! # let _ = ns.name();
//! # }
//! ```
//!
//! Without a running test bed, [`TestBed::connect`] prints a note and returns `None`
//! (the test skips); with `WINDLASS_REQUIRE_TESTBED=1` (as `cargo xtask ci` sets)
//! it panics instead, saying how to start the test bed.

pub mod paths;
pub mod process;

#[cfg(feature = "client")]
mod apply;
#[cfg(feature = "client")]
mod bed;
#[cfg(feature = "client")]
mod error;
#[cfg(feature = "client")]
mod restart;

#[cfg(feature = "client")]
pub use apply::{ObjectApplier, parse_yaml_stream};
#[cfg(feature = "client")]
pub use bed::{TestBed, TestNamespace, wait_until};
#[cfg(feature = "client")]
pub use error::Error;
#[cfg(feature = "client")]
pub use restart::restart_apiserver;
