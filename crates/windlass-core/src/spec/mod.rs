//! The platform spec (`windlass.yaml`): parse with locations, resolve the
//! environment overlays, type it, and validate every environment before
//! anything is rendered.

pub mod components;
mod load;
pub mod names;
pub mod observability;
pub mod quantity;
mod re2;
mod schema;
mod shorthand;
mod types;
mod validate;
pub mod values;

pub use components::{ChartsSpec, ComponentSpec, ComponentsSpec};
pub use load::{MAX_SPEC_BYTES, Spec, load, load_bytes};
pub use schema::json_schema;
pub use shorthand::{FromShorthand, Scalar, Shorthand};
pub use types::*;
pub use validate::{default_replicas, qualify_host};
