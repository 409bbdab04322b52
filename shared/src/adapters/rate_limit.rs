//! One client-side rate limiter for every Partner Central request of the process.
//!
//! It sits in the HTTP connector, below the SDK's retry loop, so every attempt — first
//! tries, paginator pages and retries alike — waits for a permit. The quota has no burst:
//! permits are spaced `1/N` seconds apart, so no one-second window ever sees more than `N`
//! requests, which is how the service counts its own quota.
//!
//! Writes have a quota of their own: the Selling API takes one write (Accept, Reject, Start…
//! — every operation that is not a `List…`/`Get…`) per second. A client built
//! [`with_write_pacing`](RateLimitedHttpClient::with_write_pacing) also sends its writes one
//! at a time through a [`WritePacer`], each at least `1.25/W` seconds after the previous
//! write *went out* (retries included, since this is below the retry loop), taking the shared
//! permit last, right before sending: the shared limit holds exactly, and reads are never
//! held up by a waiting write.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Permits are this many seconds over `N` apart (see the module documentation).
const JITTER_HEADROOM: f64 = 1.1;

/// Writes are this many seconds over `W` apart: writes are few (one per action), so a wider
/// margin against arrival jitter costs little and keeps the service's count at `W`.
const WRITE_HEADROOM: f64 = 1.25;

/// A limiter shared by clones; hand the same one to every Partner Central client.
#[derive(Debug, Clone)]
pub struct SharedRateLimiter(Arc<DefaultDirectRateLimiter>);

impl SharedRateLimiter {
    pub fn per_second(requests: NonZeroU32) -> Self {
        let spacing = Duration::from_secs_f64(JITTER_HEADROOM / f64::from(requests.get()));
        let quota = Quota::with_period(spacing).unwrap_or_else(|| Quota::per_second(requests));
        SharedRateLimiter(Arc::new(RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN))))
    }

    /// Wait until one more request may go out.
    pub async fn acquire(&self) {
        self.0.until_ready().await;
    }
}

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

    /// Wait for this write's turn, then for a permit of `limiter`; the caller sends at once.
    async fn turn(&self, limiter: &SharedRateLimiter) {
        let mut last_sent = self.last_sent.lock().await;
        if let Some(previous) = *last_sent {
            tokio::time::sleep_until(previous + self.spacing).await;
        }
        limiter.acquire().await;
        *last_sent = Some(Instant::now());
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

/// An [`HttpClient`] that takes a permit from the shared limiter before each request (and,
/// with write pacing, spaces its writes).
#[derive(Debug, Clone)]
pub struct RateLimitedHttpClient {
    inner: SharedHttpClient,
    limiter: SharedRateLimiter,
    writes: Option<WritePacer>,
}

impl RateLimitedHttpClient {
    pub fn new(inner: SharedHttpClient, limiter: SharedRateLimiter) -> Self {
        RateLimitedHttpClient { inner, limiter, writes: None }
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
            limiter: self.limiter.clone(),
            writes: self.writes.clone(),
        })
    }
}

#[derive(Debug)]
struct RateLimitedConnector {
    inner: SharedHttpConnector,
    limiter: SharedRateLimiter,
    writes: Option<WritePacer>,
}

impl HttpConnector for RateLimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limiter = self.limiter.clone();
        let pacer = self.writes.clone().filter(|_| is_write(request.headers().get("x-amz-target")));
        HttpConnectorFuture::new(async move {
            match pacer {
                Some(pacer) => pacer.turn(&limiter).await,
                None => limiter.acquire().await,
            }
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn permits_have_no_burst_beyond_one() {
        let limiter = SharedRateLimiter::per_second(NonZeroU32::MIN.saturating_add(9));
        // The first permit is immediate; a second one is not available at once.
        limiter.acquire().await;
        assert!(limiter.0.check().is_err(), "a second request in the same instant must wait");
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
