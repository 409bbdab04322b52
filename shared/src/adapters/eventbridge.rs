//! EventBridge publisher: PutEvents in batches of at most 10 entries and 256 KiB, batches
//! sent concurrently with a bound, failed entries (and only those) re-sent with exponential
//! backoff and jitter up to a bound. Reports per event: delivered, or failed with a reason.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use backon::{BackoffBuilder, ExponentialBuilder};
use futures::StreamExt;
use futures::stream;

use crate::domain::{Delivery, DeliveryReport, OutboundEvent};
use crate::ports::EventPublisher;

/// PutEvents accepts at most this many entries per call.
pub const MAX_ENTRIES_PER_CALL: usize = 10;
/// PutEvents accepts at most this many bytes per call (entry sizes summed as EventBridge
/// computes them, see [`entry_size`]).
pub const MAX_BYTES_PER_CALL: usize = 256 * 1024;

/// How hard to try within one publish.
#[derive(Debug, Clone)]
pub struct PublishSettings {
    /// PutEvents calls in flight at once.
    pub max_concurrent_calls: usize,
    /// Rounds of re-sending failed entries after the first attempt.
    pub max_resend_rounds: usize,
    /// First backoff delay; doubles each round, with jitter.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for PublishSettings {
    fn default() -> Self {
        PublishSettings {
            max_concurrent_calls: 4,
            max_resend_rounds: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// Publishes contract events to one bus with one `Source`.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
    source: String,
    settings: PublishSettings,
}

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>, source: impl Into<String>) -> Self {
        EventBridgePublisher {
            client,
            bus_name: bus_name.into(),
            source: source.into(),
            settings: PublishSettings::default(),
        }
    }

    /// The SDK client, bus name and source (the health check's call).
    pub(crate) fn parts(&self) -> (&aws_sdk_eventbridge::Client, &str, &str) {
        (&self.client, &self.bus_name, &self.source)
    }

    pub fn with_settings(mut self, settings: PublishSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Size of an entry as EventBridge counts it: 14 bytes for `Time`, plus the UTF-8 bytes
    /// of `Source`, `DetailType`, `Detail` and each of `Resources`.
    pub fn entry_size(&self, event: &OutboundEvent) -> usize {
        entry_size(&self.source, event)
    }

    fn entry(&self, event: &OutboundEvent) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(&self.source)
            .detail_type(&event.detail_type)
            .detail(&event.detail)
            .set_resources(Some(event.resources.clone()))
            .time(aws_smithy_types::DateTime::from_millis(event.time.timestamp_millis()))
            .build()
    }

    /// One PutEvents call for the entries at `batch` (indices into `events`). Returns, per
    /// index, the outcome or `None` when it should be re-sent.
    async fn send_batch(&self, events: &[OutboundEvent], batch: Vec<usize>) -> Vec<(usize, Attempt)> {
        let entries = batch.iter().map(|&i| self.entry(&events[i])).collect::<Vec<_>>();
        match self.client.put_events().set_entries(Some(entries)).send().await {
            Ok(out) => {
                let results = out.entries();
                batch
                    .into_iter()
                    .enumerate()
                    .map(|(pos, i)| {
                        let attempt = match results.get(pos) {
                            Some(r) => match r.error_code() {
                                None => Attempt::Delivered,
                                Some(code) => {
                                    let reason = format!("{code}: {}", r.error_message().unwrap_or("no message"));
                                    if entry_error_is_retryable(code) {
                                        Attempt::Retry(reason)
                                    } else {
                                        Attempt::Failed(reason)
                                    }
                                }
                            },
                            // Fewer results than entries: cannot tell, so send it again
                            // (a duplicate carries the same eventId).
                            None => Attempt::Retry("no result entry returned for this event".into()),
                        };
                        (i, attempt)
                    })
                    .collect()
            }
            Err(err) => {
                let retryable = call_error_is_retryable(&err);
                let reason =
                    format!("PutEvents failed: {}", aws_smithy_types::error::display::DisplayErrorContext(&err));
                batch
                    .into_iter()
                    .map(|i| {
                        (i, if retryable { Attempt::Retry(reason.clone()) } else { Attempt::Failed(reason.clone()) })
                    })
                    .collect()
            }
        }
    }
}

enum Attempt {
    Delivered,
    Retry(String),
    Failed(String),
}

/// Size of one entry as EventBridge computes it for the 256 KiB limit.
pub fn entry_size(source: &str, event: &OutboundEvent) -> usize {
    14 + source.len()
        + event.detail_type.len()
        + event.detail.len()
        + event.resources.iter().map(String::len).sum::<usize>()
}

/// Split entries (by index, in order) into batches of at most 10 entries and
/// [`MAX_BYTES_PER_CALL`] bytes. Entries too big to ever be sent are returned apart.
pub fn batches(sizes: &[(usize, usize)]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut too_big = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0usize;
    for &(index, size) in sizes {
        if size > MAX_BYTES_PER_CALL {
            too_big.push(index);
            continue;
        }
        if current.len() == MAX_ENTRIES_PER_CALL || current_bytes + size > MAX_BYTES_PER_CALL {
            out.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(index);
        current_bytes += size;
    }
    if !current.is_empty() {
        out.push(current);
    }
    (out, too_big)
}

/// Entry-level error codes worth re-sending (throttling and EventBridge-side failures).
fn entry_error_is_retryable(code: &str) -> bool {
    matches!(code, "ThrottlingException" | "InternalFailure" | "InternalException" | "ServiceUnavailable")
        || code.contains("Throttl")
        || code.contains("Internal")
}

/// Whole-call failures worth another round: transport errors, throttling, 5xx. A missing bus
/// or a permissions error will not heal within a run: those events stay undelivered (and the
/// outbox re-sends them on a later run).
fn call_error_is_retryable<E>(
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(ctx) => {
            ctx.raw().status().is_server_error() || ctx.err().code().is_some_and(|c| c.contains("Throttl"))
        }
        _ => false,
    }
}

impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: Vec<OutboundEvent>) -> DeliveryReport {
        let mut outcomes: HashMap<usize, Delivery> = HashMap::with_capacity(events.len());
        let mut pending: Vec<usize> = (0..events.len()).collect();
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.settings.initial_backoff)
            .with_max_delay(self.settings.max_backoff)
            .with_max_times(self.settings.max_resend_rounds)
            .with_jitter()
            .build();
        let mut calls = 0u32;
        let mut last_reason: HashMap<usize, String> = HashMap::new();

        loop {
            let sizes: Vec<(usize, usize)> = pending.iter().map(|&i| (i, self.entry_size(&events[i]))).collect();
            let (batches, too_big) = batches(&sizes);
            for i in too_big {
                let reason = format!(
                    "entry is {} bytes, above the {MAX_BYTES_PER_CALL}-byte PutEvents limit",
                    sizes.iter().find(|(j, _)| *j == i).map(|(_, s)| *s).unwrap_or(0)
                );
                outcomes.insert(i, Delivery::Failed { reason });
            }
            calls += u32::try_from(batches.len()).unwrap_or(u32::MAX);
            let results: Vec<Vec<(usize, Attempt)>> = stream::iter(batches)
                .map(|batch| self.send_batch(&events, batch))
                .buffer_unordered(self.settings.max_concurrent_calls.max(1))
                .collect()
                .await;

            let mut retry = Vec::new();
            for (i, attempt) in results.into_iter().flatten() {
                match attempt {
                    Attempt::Delivered => {
                        outcomes.insert(i, Delivery::Delivered);
                    }
                    Attempt::Failed(reason) => {
                        outcomes.insert(i, Delivery::Failed { reason });
                    }
                    Attempt::Retry(reason) => {
                        last_reason.insert(i, reason);
                        retry.push(i);
                    }
                }
            }
            if retry.is_empty() {
                break;
            }
            retry.sort_unstable();
            match delays.next() {
                Some(delay) => {
                    tracing::warn!(
                        entries = retry.len(),
                        delay_ms = delay.as_millis() as u64,
                        "re-sending events EventBridge did not accept"
                    );
                    tokio::time::sleep(delay).await;
                    pending = retry;
                }
                None => {
                    for i in retry {
                        let reason = last_reason.remove(&i).unwrap_or_default();
                        let rounds = self.settings.max_resend_rounds + 1;
                        outcomes.insert(
                            i,
                            Delivery::Failed { reason: format!("gave up after {rounds} attempts: {reason}") },
                        );
                    }
                    break;
                }
            }
        }

        let outcomes = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let outcome =
                    outcomes.remove(&i).unwrap_or_else(|| Delivery::Failed { reason: "not attempted".into() });
                (e.event_id.clone(), outcome)
            })
            .collect();
        DeliveryReport { outcomes, calls }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_split_by_count() {
        let sizes: Vec<(usize, usize)> = (0..25).map(|i| (i, 100)).collect();
        let (b, too_big) = batches(&sizes);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
        assert!(too_big.is_empty());
        assert_eq!(b.concat(), (0..25).collect::<Vec<_>>(), "order kept, nothing lost");
    }

    #[test]
    fn batches_split_by_size_at_exactly_the_limit() {
        let quarter = MAX_BYTES_PER_CALL / 4;
        // Four quarters fill a call exactly; the fifth starts a new one.
        let sizes: Vec<(usize, usize)> = (0..5).map(|i| (i, quarter)).collect();
        let (b, _) = batches(&sizes);
        assert_eq!(b, vec![vec![0, 1, 2, 3], vec![4]]);
        let sizes = vec![(0, quarter + 1), (1, quarter), (2, quarter), (3, quarter)];
        let (b, _) = batches(&sizes);
        assert_eq!(b, vec![vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn an_entry_above_the_limit_is_set_apart() {
        let (b, too_big) = batches(&[(0, 10), (1, MAX_BYTES_PER_CALL + 1), (2, 10)]);
        assert_eq!(b, vec![vec![0, 2]]);
        assert_eq!(too_big, vec![1]);
    }

    #[test]
    fn entry_size_counts_like_eventbridge() {
        let e = OutboundEvent {
            event_id: "x".into(),
            detail_type: "Connection Invitation Created".into(), // 29 bytes
            detail: "{\"a\":\"é\"}".into(),                      // 10 bytes (é is 2)
            resources: vec!["arn:1".into(), "arn:22".into()],    // 5 + 6
            time: chrono::DateTime::UNIX_EPOCH,
        };
        assert_eq!(entry_size("src", &e), 14 + 3 + 29 + 10 + 11);
    }
}
