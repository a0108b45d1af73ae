//! The spec's source text as a tree of located YAML nodes.
//!
//! Everything downstream of parsing (environment overlays, typed deserialisation,
//! semantic validation) works on this tree so that every error can name the
//! file, line and column it came from, even after overlays were merged.

mod de;
mod fast;
mod node;
mod path;

pub use de::from_node;
pub use node::{Limits, Loc, MAX_NODES, Node, Value, parse_yaml, parse_yaml_with};
pub use path::{FieldPath, Segment};
