//! list-and-publish: finds what changed among the catalog's connection invitations (Partner
//! Central Account API) and engagement invitations (Partner Central Selling API) and publishes
//! one contract-v1 event per change on the custom bus, at least once, within the API budget.
//!
//! - [`config`]: environment variables, validated once at start-up;
//! - [`input`]: the run options (`{"mode": "full"}`; the payload shapes are `shared::invocation`'s);
//! - [`listing`]: what an incremental run lists of each engagement participant type;
//! - [`plan`]: the pure decision per invitation (record + events);
//! - [`handler`]: one run over the ports: listings, reads, commits, outbox drain;
//! - [`summary`]: the JSON summary and the EMF metrics.
//!
//! The strategy (what is listed when, and why that is close to the lower bound of API calls)
//! is described in the crate's README.

pub mod config;
pub mod handler;
pub mod input;
pub mod listing;
pub mod plan;
pub mod summary;

pub use config::{BaselineEvents, Config};
pub use handler::{ListAndPublish, RunError};
pub use input::RequestedMode;
pub use summary::Summary;

/// The `Function` dimension of the metrics.
pub const FUNCTION_NAME: &str = "list-and-publish";
