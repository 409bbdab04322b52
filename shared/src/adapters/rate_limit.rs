//! One client-side rate limiter for every Partner Central request of the process.
//!
//! It sits in the HTTP connector, below the SDK's retry loop, so every attempt — first
//! tries, paginator pages and retries alike — waits for a permit. It is a sliding-window log:
//! at most `N` permits in any window of [`WINDOW`] (1.1 s: a second plus headroom for arrival
//! jitter), so no one-second window ever sees more than `N` requests, which is how the service
//! counts its own quota — and nothing is spaced out: a run making fewer calls than `N` goes at
//! network speed (a token bucket refilling at `N`/s would let almost `2N` through in the
//! second after a burst; spacing every call `1/N` s apart would bill the wait on every run).
//!
//! Writes have a quota of their own: the Selling API takes one write (Accept, Reject, Start…
//! — every operation that is not a `List…`/`Get…`) per second. A client built
//! [`with_write_pacing`](RateLimitedHttpClient::with_write_pacing) also sends its writes one
//! at a time through a [`WritePacer`], each at least `1.25/W` seconds after the previous
//! write *went out* (retries included, since this is below the retry loop), taking the shared
//! permit last, right before sending: the shared limit holds exactly, and reads are never
//! held up by a waiting write.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The window no more than `N` permits fall in (see the module documentation).
pub const WINDOW: Duration = Duration::from_millis(1100);

/// Writes are this many seconds over `W` apart: writes are few (one per action), so a wider
/// margin against arrival jitter costs little and keeps the service's count at `W`.
const WRITE_HEADROOM: f64 = 1.25;

/// A limiter shared by clones; hand the same one to every Partner Central client.
#[derive(Debug, Clone)]
pub struct SharedRateLimiter(Arc<Window>);

#[derive(Debug)]
struct Window {
    limit: usize,
    /// When the last (up to) `limit` permits were given, oldest first. Waiters queue on the
    /// lock in order (tokio's mutex is fair), so permits go out first come, first served.
    given: Mutex<VecDeque<Instant>>,
}

impl SharedRateLimiter {
    pub fn per_second(requests: NonZeroU32) -> Self {
        let limit = usize::try_from(requests.get()).unwrap_or(usize::MAX);
        SharedRateLimiter(Arc::new(Window { limit, given: Mutex::new(VecDeque::with_capacity(limit)) }))
    }

    /// Wait until one more request may go out: at once while fewer than `N` went out in the
    /// last [`WINDOW`], else until the oldest of them leaves it.
    pub async fn acquire(&self) {
        let mut given = self.0.given.lock().await;
        if given.len() >= self.0.limit
            && let Some(&oldest) = given.front()
        {
            tokio::time::sleep_until(oldest + WINDOW).await;
        }
        while given.len() >= self.0.limit {
            given.pop_front();
        }
        given.push_back(Instant::now());
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

    fn limiter(n: u32) -> SharedRateLimiter {
        SharedRateLimiter::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
    }

    // Paused tokio time: sleeps advance the clock instantly and exactly, so the permit times
    // below are what the limiter decided, not how busy the machine was.

    #[tokio::test(start_paused = true)]
    async fn fewer_calls_than_the_budget_are_not_spaced_out() {
        let limiter = limiter(8);
        let start = Instant::now();
        for _ in 0..8 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "8 permits at 8/s: no wait at all");
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_holds_more_than_the_budget() {
        let limiter = limiter(4);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..10 {
            limiter.acquire().await;
            times.push(start.elapsed());
        }
        let ms: Vec<u128> = times.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 0, 0, 0, 1100, 1100, 1100, 1100, 2200, 2200]);
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| **u - *t < WINDOW).count();
            assert!(in_window <= 4, "{in_window} permits within {WINDOW:?} from {t:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_budget() {
        let limiter = limiter(3);
        let start = Instant::now();
        let waits = futures::future::join_all((0..7).map(|_| {
            let limiter = limiter.clone();
            async move {
                limiter.acquire().await;
                start.elapsed().as_millis()
            }
        }))
        .await;
        let mut waits = waits;
        waits.sort_unstable();
        assert_eq!(waits, [0, 0, 0, 1100, 1100, 1100, 2200]);
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
