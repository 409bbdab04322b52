//! What every function's `main` does around its handler, once: a start-up error is one JSON
//! error line and exit code 1 (no Rust debug dump after it, which Lambda's JSON log format
//! would show as a stray non-JSON line), and the check payload (`{"healthCheck": true}`) runs
//! the health check ([`crate::health`]) instead of the function's own work.
//!
//! A process that takes part in the account's request budget ([`crate::budget::participant`]:
//! it built its Partner Central clients through `AwsAdapters::load`) takes its share around
//! every invocation and gives it back at the end. A scheduled or manual run also takes the
//! function's run lease: while another process runs the function, the invocation waits for it
//! (up to [`crate::budget::RUN_WAIT_MS`]: a killed run's lease lapses within it), then runs; if
//! the other run is still going, it does nothing and says so ([`skipped`]). A batch of queue messages (native-relay's event source mapping,
//! up to `MaximumConcurrency` at once) and a person's decision on an approval (one invitation,
//! judged and acted on with conditional writes, alongside a run) take no run lease.

use std::fmt::Display;
use std::future::Future;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

use crate::adapters::health::HealthProbes;
use crate::budget::{Begun, RequestBudget};
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
/// else `handler`, each inside the process's share of the request budget (see the module
/// documentation). Never returns an error to `main`: a runtime failure is logged and ends
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
    let budget = crate::budget::participant();
    let function = &crate::budget::function_name();
    let ran = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let rendered = if is_health_check(&event.payload) {
            // The check changes nothing, the lease item included: its few reads go at one a
            // second without a share.
            if let Some(budget) = budget {
                budget.probing(true);
            }
            let report = health.run(&event.context.request_id).await;
            if let Some(budget) = budget {
                budget.probing(false);
            }
            serde_json::to_value(report)
        } else {
            let run = takes_run_lease(&event.payload).then_some(function.as_str());
            let writes_before = budget.map_or(0, RequestBudget::writes);
            if let Some(budget) = budget {
                // A second invocation waits for a run in progress (a killed one's lease lapses
                // within the wait), then runs; a run that outlasts the wait is left alone.
                match budget.begin_or_wait(run, crate::budget::RUN_WAIT_MS).await {
                    Ok(Begun::Started) => {}
                    Ok(Begun::Busy { holder, until }) => {
                        let summary = skipped(function, &holder, until);
                        tracing::warn!(summary = %summary, "another run of the function is in progress; skipped");
                        return Ok(summary);
                    }
                    Err(e) if run.is_some() => {
                        tracing::error!(error = %e, "cannot take the run lease; the run did nothing");
                        return Err(Diagnostic { error_type: "StateStoreError".into(), error_message: e.to_string() });
                    }
                    // A batch goes on: its requests take the share when they can.
                    Err(e) => tracing::warn!(error = %e, "cannot take the request budget share yet"),
                }
            }
            let work = handler(event);
            let result = match (budget, run) {
                // A scheduled run keeps its run lease while it works.
                (Some(budget), Some(_)) => {
                    tokio::pin!(work);
                    tokio::select! {
                        r = &mut work => r,
                        () = budget.keep_alive() => work.await,
                    }
                }
                _ => work.await,
            }
            .map_err(Into::into);
            give_back(budget).await;
            let mut value = serde_json::to_value(result?);
            if let (Some(budget), Ok(Value::Object(summary)), Some(_)) = (budget, &mut value, run) {
                let writes = budget.writes().saturating_sub(writes_before);
                tracing::info!(budget_writes = writes, "request budget: lease writes of the run");
                summary.insert("budgetWrites".to_owned(), Value::from(writes));
            }
            value
        };
        rendered.map_err(|e| Diagnostic { error_type: "SerializationError".into(), error_message: e.to_string() })
    }))
    .await;
    or_exit(ran, "the Lambda runtime stopped")
}

/// Give the share (and run lease) back; a failure only delays others until the lease lapses.
async fn give_back(budget: Option<&RequestBudget>) {
    if let Some(budget) = budget
        && let Err(e) = budget.end().await
    {
        tracing::warn!(error = %e, "cannot give the request budget lease back; it lapses by itself");
    }
}

/// Whether the payload is a batch of queue messages (an SQS event source mapping's).
pub fn is_batch(payload: &Value) -> bool {
    payload.get("Records").is_some_and(Value::is_array)
}

/// Whether the invocation is a run of the function (one at a time: the run lease). Not a
/// batch of queue messages, nor a person's decision on an approval (`{"approval": …}`): a
/// decision waiting behind a run of several minutes would be skipped, and the person's
/// command would wait for nothing.
pub fn takes_run_lease(payload: &Value) -> bool {
    !is_batch(payload) && payload.get("approval").is_none()
}

/// The summary of an invocation skipped because another process runs the function.
pub fn skipped(function: &str, holder: &str, until: chrono::DateTime<chrono::Utc>) -> Value {
    serde_json::json!({
        "skipped": true,
        "reason": format!(
            "another run of {function} is in progress (run lease held by {holder} until {}, unless it gives it back or renews it); this invocation did nothing: the running one does the work",
            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        "runLease": { "holder": holder, "until": until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) },
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[test]
    fn only_queue_batches_and_approval_decisions_go_without_a_run_lease() {
        assert!(is_batch(&json!({"Records": [{"messageId": "m"}]})));
        assert!(!is_batch(&json!({"detail-type": "Scheduled Event"})));
        assert!(!is_batch(&json!({})));
        assert!(!is_batch(&Value::Null));
        assert!(!takes_run_lease(&json!({"Records": [{"messageId": "m"}]})));
        assert!(!takes_run_lease(&json!({"approval": {"approvalId": "x", "decision": "approve"}})));
        for run in [json!({"detail-type": "Scheduled Event"}), json!({}), json!({"dryRun": true}), Value::Null] {
            assert!(takes_run_lease(&run), "{run}");
        }
    }

    #[test]
    fn a_skipped_invocation_says_who_runs_the_function_until_when() {
        let until = chrono::Utc.with_ymd_and_hms(2026, 12, 7, 11, 0, 0).single().unwrap_or_default();
        let summary = skipped("expire-sweeper", "expire-sweeper#1a", until);
        assert_eq!(summary["skipped"], true);
        let reason = summary["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("another run of expire-sweeper") && reason.contains("expire-sweeper#1a"), "{reason}");
        assert_eq!(summary["runLease"]["until"], "2026-12-07T11:00:00Z");
    }
}
