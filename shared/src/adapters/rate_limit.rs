//! One client-side rate limiter for every Partner Central request of the process.
//!
//! It sits in the HTTP connector, below the SDK's retry loop, so every attempt — first
//! tries, paginator pages and retries alike — waits for a permit. The quota has no burst:
//! permits are spaced `1/N` seconds apart, so no one-second window ever sees more than `N`
//! requests, which is how the service counts its own quota.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Permits are this many seconds over `N` apart (see the module documentation).
const JITTER_HEADROOM: f64 = 1.1;

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

/// An [`HttpClient`] that takes a permit from the shared limiter before each request.
#[derive(Debug, Clone)]
pub struct RateLimitedHttpClient {
    inner: SharedHttpClient,
    limiter: SharedRateLimiter,
}

impl RateLimitedHttpClient {
    pub fn new(inner: SharedHttpClient, limiter: SharedRateLimiter) -> Self {
        RateLimitedHttpClient { inner, limiter }
    }
}

impl HttpClient for RateLimitedHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(RateLimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }
}

#[derive(Debug)]
struct RateLimitedConnector {
    inner: SharedHttpConnector,
    limiter: SharedRateLimiter,
}

impl HttpConnector for RateLimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limiter = self.limiter.clone();
        HttpConnectorFuture::new(async move {
            limiter.acquire().await;
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
}
