//! windlass-core: the pure part of windlass.
//!
//! Data flows one way: `source` (located YAML) -> `spec` (typed, validated,
//! environment resolved) -> `model` (defaults decided) -> `plan` (selection and
//! order) -> `render` (typed Kubernetes objects) -> `check` (invariants) -> `output`
//! (deterministic YAML files). Nothing here touches the network, the clock, the
//! environment or the file system.

pub mod check;
pub mod components;
pub mod content;
pub mod defaults;
pub mod diagnostics;
pub mod model;
pub mod plan;
pub mod render;
pub mod secrets;
pub mod source;
pub mod spec;
pub mod unit;
