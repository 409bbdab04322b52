//! expire-sweeper: warns before Partner Central invitations expire (once per threshold,
//! across runs) and reports the ones that expired, sharing the state table with the other
//! functions so that each fact is published once.
//!
//! - `config`: environment variables, validated at start-up;
//! - `input`: the invocation payload (scheduled rule, Scheduler, manual);
//! - `sweep`: one run over the ports (listing, Gets, the shared decision per invitation
//!   `shared::domain::decision::sweep`, commits with the shared conflict retries, digest,
//!   outbox drain);
//! - `summary`: the output and the EMF metrics.

mod config;
mod input;
#[cfg(test)]
mod properties;
mod summary;
mod sweep;
#[cfg(test)]
mod tests;

use serde_json::Value;
use shared::invocation::parse_invocation;
use shared::ports::{CallCounts, ConnectionInvitations, EngagementInvitations, EventPublisher, StateStore};
use shared::run::Ports;

pub use config::{Config, SweepSettings};
pub use summary::Summary;
pub use sweep::{SweepError, sweep};

/// The `Function` dimension of the metrics.
pub const FUNCTION_NAME: &str = "expire-sweeper";

/// One invocation: read the payload, then one sweep in the shared run envelope. Returns the
/// summary, or the run's error once the outbox was drained.
pub async fn handle<Connections, Engagements, Store, Publisher, Clock, Calls>(
    ports: &Ports<'_, Connections, Engagements, Store, Publisher, Clock, Calls>,
    settings: &SweepSettings,
    payload: Value,
) -> Result<Summary, SweepError>
where
    Connections: ConnectionInvitations,
    Engagements: EngagementInvitations,
    Store: StateStore,
    Publisher: EventPublisher,
    Clock: shared::ports::Clock,
    Calls: CallCounts,
{
    let invocation = parse_invocation::<input::RunOptions>(&payload)
        .inspect_err(|e| tracing::error!(error = %e, "rejected the invocation"))?;
    sweep(ports, settings, &invocation).await.into_result()
}
