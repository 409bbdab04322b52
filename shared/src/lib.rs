//! Shared library of the Partner Central invitation functions.
//!
//! Layers, from the inside out:
//! - [`domain`]: invitations, the event contract v1 (its types from the contract crate,
//!   [`invitation_events`], re-exported), delivery outcomes — no SDK types;
//! - [`ports`]: the narrow traits the functions are written against;
//! - [`adapters`]: those traits on the real AWS SDK clients (Partner Central, EventBridge).
//!
//! Plus [`config`] (environment, validated once at start-up), [`error`] (domain errors),
//! [`invocation`] (the invocation payload), [`commit`] (commit with conflict retries), [`run`]
//! (the run skeleton every function goes through: ports bundle, run envelope, errors to
//! Lambda) and [`policy`] (the policy engine of the functions that act by a written policy:
//! loading, validation, evaluation, hash).

pub mod adapters;
pub mod budget;
pub mod commit;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod entry;
pub mod error;
pub mod health;
pub mod invocation;
pub mod metrics;
pub mod policy;
pub mod ports;
pub mod run;
pub mod samples;
pub mod schema;
pub mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

pub use error::{PartnerCentralError, StoreError};
/// The event contract crate, whole (its types are also under [`domain`]).
pub use invitation_events;
