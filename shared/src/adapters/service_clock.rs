//! The service's clock: "now" as Partner Central sees it.
//!
//! Expiry timestamps come from Partner Central, so time left is judged against Partner
//! Central's own clock, read from the `Date` header of its responses. A skew below a few
//! seconds (the header's resolution, ordinary drift) is ignored and local time is used.
//! Against a local emulator whose clock was moved, the functions follow the emulator.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::Format;
use chrono::{DateTime, Duration, Utc};

use crate::ports::Clock;

/// Skews smaller than this are treated as none.
const IGNORED_SKEW_MS: i64 = 5_000;

/// Local time corrected by the skew last observed in Partner Central responses.
#[derive(Debug, Clone, Default)]
pub struct ServiceClock {
    skew_ms: Arc<AtomicI64>,
}

impl ServiceClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Record the service's `Date` as seen now.
    pub fn observe(&self, service_now: DateTime<Utc>) {
        let skew = (service_now - Utc::now()).num_milliseconds();
        let skew = if skew.abs() < IGNORED_SKEW_MS { 0 } else { skew };
        self.skew_ms.store(skew, Ordering::Relaxed);
    }

    /// The interceptor feeding this clock; install it on every Partner Central client.
    pub fn interceptor(&self) -> DateHeaderInterceptor {
        DateHeaderInterceptor { clock: self.clone() }
    }
}

impl Clock for ServiceClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.skew_ms.load(Ordering::Relaxed))
    }
}

/// Reads the `Date` header of each response into a [`ServiceClock`].
#[derive(Debug, Clone)]
pub struct DateHeaderInterceptor {
    clock: ServiceClock,
}

impl Intercept for DateHeaderInterceptor {
    fn name(&self) -> &'static str {
        "DateHeaderInterceptor"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let date = context.response().headers().get("date");
        if let Some(t) = date.and_then(|d| aws_smithy_types::DateTime::from_str(d, Format::HttpDate).ok())
            && let Some(t) = DateTime::from_timestamp(t.secs(), t.subsec_nanos())
        {
            self.clock.observe(t);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_skews_are_ignored_and_large_ones_followed() {
        let clock = ServiceClock::new();
        clock.observe(Utc::now() + Duration::seconds(2));
        assert!((clock.now() - Utc::now()).num_seconds().abs() <= 1);
        clock.observe(Utc::now() + Duration::hours(50));
        let ahead = clock.now() - Utc::now();
        assert!(ahead > Duration::hours(49) && ahead < Duration::hours(51), "{ahead}");
    }
}
