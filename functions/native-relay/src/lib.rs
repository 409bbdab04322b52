//! native-relay: the fast path. Partner Central pushes thin native events to the account's
//! default bus within seconds; a rule sends the invitation ones (through an SQS queue) here,
//! and each becomes our enriched contract-v1 event — the same event, with the same `eventId`,
//! that list-and-publish would publish minutes later, which then publishes nothing new for
//! it (the poller becomes reconciliation).
//!
//! - `config`: environment variables, validated once at start-up;
//! - `input`: the payload (an SQS batch, or one native event invoked directly);
//! - `native`: what a native event names (pure), or why it is ignored;
//! - `relay`: one invocation in the shared run envelope: one Get per invitation, the shared
//!   decision (`shared::domain::decision::observe`), the shared conditional commit, the drain;
//! - `summary`: the JSON summary and the EMF metrics.

mod config;
mod input;
mod native;
#[cfg(test)]
mod properties;
mod relay;
mod summary;

pub use config::Config;
pub use input::Trigger;
pub use native::{ACCOUNT_SOURCE, CONNECTION_DETAIL_TYPES, ENGAGEMENT_DETAIL_TYPES, SELLING_SOURCE};
pub use relay::{NativeRelay, RelayError, Response};
pub use summary::Summary;

/// The `Function` dimension of the metrics.
pub const FUNCTION_NAME: &str = "native-relay";
