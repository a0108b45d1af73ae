//! The cluster edge of windlass: everything that talks to a Kubernetes apiserver.
//! The pure core renders objects; this crate applies them in order, waits on real
//! readiness gates, records ownership and revisions in the cluster, and prunes.

pub mod apply;
pub mod client;
pub mod engine;
pub mod error;
pub mod gates;
pub mod history;
pub mod inventory;
pub mod lease;
pub mod retry;

pub use error::ClusterError;

/// The field manager of every server-side apply windlass makes.
pub const FIELD_MANAGER: &str = "windlass";
/// Namespace holding windlass's own state: revision histories (ApplySet parents) and Leases.
pub const STATE_NAMESPACE: &str = "windlass-system";
