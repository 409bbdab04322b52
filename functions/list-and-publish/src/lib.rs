//! list-and-publish: finds what changed among the catalog's connection invitations (Partner
//! Central Account API) and engagement invitations (Partner Central Selling API) and publishes
//! one contract-v1 event per change on the custom bus, at least once, within the API budget.
//!
//! - `config`: environment variables, validated once at start-up;
//! - `input`: the run options (`{"mode": "full"}`; the payload shapes are `shared::invocation`'s);
//! - `run`: one run in the shared run envelope (mode, bookkeeping, summary);
//! - `listing`: what an incremental run lists of each engagement participant type (pure);
//! - `listings`: the listings and what they return that matters;
//! - `process`: reads, the shared decision per invitation (`shared::domain::decision`),
//!   commits with the shared conflict retries;
//! - `summary`: the JSON summary, the lower bound and the EMF metrics.
//!
//! The strategy (what is listed when, and why that is close to the lower bound of API calls)
//! is described in the crate's README.

mod config;
mod input;
mod listing;
mod listings;
mod process;
#[cfg(test)]
mod properties;
mod run;
mod summary;

pub use config::{BaselineEvents, Config};
pub use input::RequestedMode;
pub use run::{ListAndPublish, RunError};
pub use summary::{PerKind, Summary};

/// The `Function` dimension of the metrics.
pub const FUNCTION_NAME: &str = "list-and-publish";
