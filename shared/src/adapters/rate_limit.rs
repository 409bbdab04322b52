//! Every Partner Central request of the process takes a slot of the account's request budget
//! shared at run time ([`crate::budget::RequestBudget`]: this process's leased share of
//! `MAX_REQUESTS_PER_SECOND`, renewed while it works, at most its units in any window of
//! [`WINDOW`]).
//!
//! It sits in the HTTP connector, below the SDK's retry loop, so every attempt — first
//! tries, paginator pages and retries alike — waits for a slot. Nothing is spaced out: a run
//! making fewer calls than its share goes at network speed.
//!
//! Writes have a quota of their own: the Selling API takes one write (Accept, Reject, Start…
//! — every operation that is not a `List…`/`Get…`) per second. A client built
//! [`with_write_pacing`](RateLimitedHttpClient::with_write_pacing) also sends its writes one
//! at a time through a [`WritePacer`], each at least `1.25/W` seconds after the previous
//! write *went out* (retries included, since this is below the retry loop), taking the budget
//! slot last, right before sending. Only auto-respond writes to the Selling API, one run at a
//! time (its run lease), so the pacing of its process is the account's.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::budget::{BudgetError, RequestBudget};

/// The window no more than a process's units of the budget fall in.
pub const WINDOW: Duration = Duration::from_millis(crate::domain::lease::WINDOW_MS.unsigned_abs());

/// Writes are this many seconds over `W` apart: writes are few (one per action), so a wider
/// margin against arrival jitter costs little and keeps the service's count at `W`.
const WRITE_HEADROOM: f64 = 1.25;

/// Spaces the write requests of the clients that share it (see the module documentation).
#[derive(Debug, Clone)]
pub struct WritePacer {
    spacing: Duration,
    /// When the last write went out; held while a write waits for its turn.
    last_sent: Arc<Mutex<Option<Instant>>>,
}

impl WritePacer {
    pub fn per_second(writes: NonZeroU32) -> Self {
        WritePacer {
            spacing: Duration::from_secs_f64(WRITE_HEADROOM / f64::from(writes.get())),
            last_sent: Arc::default(),
        }
    }

    /// Wait for this write's turn, then for a slot of `budget`; the caller sends at once.
    async fn turn(&self, budget: &RequestBudget) -> Result<(), BudgetError> {
        let mut last_sent = self.last_sent.lock().await;
        if let Some(previous) = *last_sent {
            tokio::time::sleep_until(previous + self.spacing).await;
        }
        budget.permit().await?;
        *last_sent = Some(Instant::now());
        Ok(())
    }
}

/// Whether an awsJson request (`X-Amz-Target: <Service>.<Operation>`) is a write: every
/// operation but `List…` and `Get…` (how the Partner Central APIs name their reads).
pub fn is_write(target: Option<&str>) -> bool {
    let Some(operation) = target.and_then(|t| t.rsplit('.').next()) else {
        return false;
    };
    !(operation.starts_with("List") || operation.starts_with("Get"))
}

/// An [`HttpClient`] that takes a slot of the request budget before each request (and, with
/// write pacing, spaces its writes).
#[derive(Debug, Clone)]
pub struct RateLimitedHttpClient {
    inner: SharedHttpClient,
    budget: RequestBudget,
    writes: Option<WritePacer>,
}

impl RateLimitedHttpClient {
    pub fn new(inner: SharedHttpClient, budget: RequestBudget) -> Self {
        RateLimitedHttpClient { inner, budget, writes: None }
    }

    /// Also send writes one at a time, spaced by `pacer`.
    pub fn with_write_pacing(mut self, pacer: WritePacer) -> Self {
        self.writes = Some(pacer);
        self
    }
}

impl HttpClient for RateLimitedHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(RateLimitedConnector {
            inner: self.inner.http_connector(settings, components),
            budget: self.budget.clone(),
            writes: self.writes.clone(),
        })
    }
}

#[derive(Debug)]
struct RateLimitedConnector {
    inner: SharedHttpConnector,
    budget: RequestBudget,
    writes: Option<WritePacer>,
}

impl HttpConnector for RateLimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let budget = self.budget.clone();
        let pacer = self.writes.clone().filter(|_| is_write(request.headers().get("x-amz-target")));
        HttpConnectorFuture::new(async move {
            let slot = match pacer {
                Some(pacer) => pacer.turn(&budget).await,
                None => budget.permit().await,
            };
            // Not sent: the SDK sees a failed attempt (and may retry it, through the budget again).
            slot.map_err(|e| ConnectorError::other(Box::new(e), None))?;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn writes_are_spaced_and_take_a_budget_slot_each() {
        let budget = RequestBudget::alone(NonZeroU32::new(8).unwrap_or(NonZeroU32::MIN));
        let pacer = WritePacer::per_second(NonZeroU32::MIN);
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..3 {
            pacer.turn(&budget).await.unwrap_or_else(|e| panic!("{e}"));
            at.push(start.elapsed().as_millis());
        }
        assert_eq!(at, [0, 1250, 2500], "one write per 1.25 s");
    }

    #[test]
    fn writes_are_every_operation_but_list_and_get() {
        for write in [
            "AWSPartnerCentralSelling.StartEngagementByAcceptingInvitationTask",
            "AWSPartnerCentralSelling.RejectEngagementInvitation",
            "AWSPartnerCentralSelling.AcceptEngagementInvitation",
            "PartnerCentralAccount.CancelConnectionInvitation",
        ] {
            assert!(is_write(Some(write)), "{write}");
        }
        for read in [
            "AWSPartnerCentralSelling.ListEngagementByAcceptingInvitationTasks",
            "AWSPartnerCentralSelling.GetEngagementInvitation",
        ] {
            assert!(!is_write(Some(read)), "{read}");
        }
        assert!(!is_write(None), "no target: not paced as a write");
    }
}
