//! What every function's `main` does around its handler, once: a start-up error is one JSON
//! error line and exit code 1 (no Rust debug dump after it, which Lambda's JSON log format
//! would show as a stray non-JSON line), and the check payload (`{"healthCheck": true}`) runs
//! the health check ([`crate::health`]) instead of the function's own work.

use std::fmt::Display;
use std::future::Future;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

use crate::adapters::health::HealthProbes;
use crate::health::{HealthReport, is_health_check};

/// What a function's check payload runs: [`HealthProbes`] for the functions that read
/// Partner Central and publish to the bus; a function with other wiring (notify: an SNS
/// topic) brings its own.
pub trait HealthCheck {
    /// Every check; `request_id` is the invocation's.
    fn run(&self, request_id: &str) -> impl Future<Output = HealthReport>;
}

impl HealthCheck for HealthProbes<'_> {
    fn run(&self, request_id: &str) -> impl Future<Output = HealthReport> {
        HealthProbes::run(self, request_id)
    }
}

/// `result`'s value, or: log `what` with the error as one JSON line and exit with code 1.
pub fn or_exit<T, E: Display>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => {
            tracing::error!(error = %e, "{what}");
            std::process::exit(1)
        }
    }
}

/// Serve invocations until the runtime stops: the check payload runs `health`, anything
/// else `handler`. Never returns an error to `main`: a runtime failure is logged and ends
/// the process with code 1.
pub async fn serve<Health, Handler, Fut, Summary, Error>(health: Health, handler: Handler)
where
    Health: HealthCheck,
    Handler: Fn(LambdaEvent<Value>) -> Fut,
    Fut: Future<Output = Result<Summary, Error>>,
    Summary: Serialize,
    Error: Into<Diagnostic>,
{
    let health = &health;
    let handler = &handler;
    let ran = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let rendered = if is_health_check(&event.payload) {
            serde_json::to_value(health.run(&event.context.request_id).await)
        } else {
            serde_json::to_value(handler(event).await.map_err(Into::into)?)
        };
        rendered.map_err(|e| Diagnostic { error_type: "SerializationError".into(), error_message: e.to_string() })
    }))
    .await;
    or_exit(ran, "the Lambda runtime stopped")
}
