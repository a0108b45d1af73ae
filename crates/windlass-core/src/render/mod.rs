//! Rendering: the model becomes typed Kubernetes objects, grouped in units
//! (the platform, each namespace, each app) that sinks write or apply in order.

mod object;
mod yaml;

pub use object::Object;
pub use yaml::{to_yaml, to_yaml_stream};
