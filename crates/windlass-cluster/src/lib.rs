//! The cluster edge of windlass: everything that talks to a Kubernetes apiserver.
//! The pure core plans and renders units; this crate applies them in the plan's
//! order, waits on real readiness gates, records ownership and revisions in the
//! cluster, prunes, and answers `diff` and `status`. Callers go through `Session`.

pub mod apply;
pub mod client;
pub mod diff;
pub mod doctor;
pub mod engine;
pub mod error;
pub mod gates;
pub mod helm;
pub mod history;
pub mod inventory;
pub mod lease;
pub mod retry;
pub mod session;
pub mod status;

pub use client::ClusterTarget;
pub use diff::{Action, Change};
pub use engine::{ApplyUnit, Event, EventSink, UnitResult, UpOptions};
pub use error::ClusterError;
pub use session::{Session, SessionFor};
pub use status::{AppStatus, CertificateStatus, ComponentStatus};

/// The field manager of every server-side apply windlass makes.
pub const FIELD_MANAGER: &str = "windlass";
/// Namespace holding windlass's own state: revision histories (ApplySet parents) and Leases.
pub const STATE_NAMESPACE: &str = "windlass-system";
