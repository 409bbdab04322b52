//! expire-sweeper: warns before Partner Central invitations expire (once per threshold,
//! across runs) and reports the ones that expired, sharing the state table with the other
//! functions so that each fact is published once.
//!
//! - [`config`]: environment variables, validated at start-up;
//! - [`input`]: the invocation payload (scheduled rule, Scheduler, manual);
//! - [`decide`]: the per-invitation decision (pure);
//! - [`sweep`]: one run over the ports (listing, Gets, commits, digest, outbox drain);
//! - [`summary`]: the output and the EMF metrics.

pub mod config;
pub mod decide;
pub mod input;
pub mod summary;
pub mod sweep;
#[cfg(test)]
mod tests;

use serde_json::Value;
use shared::ports::{CallCounts, Clock, ConnectionInvitations, EngagementInvitations, EventPublisher, StateStore};

pub use config::{Config, SweepSettings};
pub use summary::Summary;
pub use sweep::{Ports, RunReport, SweepError, sweep};

/// The `Function` dimension of the metrics.
pub const FUNCTION_NAME: &str = "expire-sweeper";

/// One invocation: read the payload, sweep, log the summary, emit the metrics. Returns the
/// summary, or the run's error once the outbox was drained.
pub async fn handle<A, B, S, P, K, N>(
    ports: &Ports<'_, A, B, S, P, K, N>,
    settings: &SweepSettings,
    payload: Value,
) -> Result<Summary, SweepError>
where
    A: ConnectionInvitations,
    B: EngagementInvitations,
    S: StateStore,
    P: EventPublisher,
    K: Clock,
    N: CallCounts,
{
    let trigger = match input::parse_trigger(payload) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "rejected the invocation");
            return Err(e.into());
        }
    };
    let RunReport { summary, error } = sweep(ports, settings, &trigger).await;
    summary.metrics().emit(FUNCTION_NAME, settings.catalog.as_str());
    let rendered = serde_json::to_string(&summary).unwrap_or_default();
    match error {
        None => {
            tracing::info!(summary = %rendered, "sweep done");
            Ok(summary)
        }
        Some(e) => {
            tracing::error!(error = %e, summary = %rendered, "sweep failed");
            Err(e)
        }
    }
}
