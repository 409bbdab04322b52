//! Counting API calls per operation, every attempt included (retries cost quota too), with
//! an SDK interceptor. Install one counter on the clients of a process; a handler reads the
//! difference over its run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::ports::CallCounts;

/// Attempts sent per operation name (e.g. `ListEngagementInvitations`).
#[derive(Debug, Clone, Default)]
pub struct ApiCallCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl ApiCallCounter {
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, operation: &str) {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()).entry(operation.to_owned()).or_default() += 1;
    }
}

impl CallCounts for ApiCallCounter {
    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Intercept for ApiCallCounter {
    fn name(&self) -> &'static str {
        "ApiCallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.record(meta.name());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reports_only_what_happened_after_the_snapshot() {
        let c = ApiCallCounter::new();
        c.record("A");
        let before = c.snapshot();
        c.record("A");
        c.record("B");
        c.record("B");
        assert_eq!(c.since(&before), BTreeMap::from([("A".to_owned(), 1), ("B".to_owned(), 2)]));
    }
}
