//! Draining the outbox: publish every queued event, delete the delivered ones, count a
//! failed attempt on the others (they stay queued for the next run). Every function ends
//! its run with this, so events left by a crashed or failed run go out on the next one.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::OutboxEntry;
use crate::error::StoreError;
use crate::ports::{EventPublisher, StateStore};

/// An event that has failed this many deliveries is reported as stuck (it is still kept
/// and retried).
pub const STUCK_AFTER_ATTEMPTS: u32 = 5;

/// Outcome of one drain, for the run summary and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainReport {
    /// Events found queued (this run's and any left over).
    pub queued: usize,
    pub delivered: usize,
    pub failed: usize,
    /// Failed events that have now failed at least [`STUCK_AFTER_ATTEMPTS`] times.
    pub stuck: usize,
    /// PutEvents calls made.
    pub put_events_calls: u32,
    /// Up to ten reasons, for the summary.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failure_reasons: Vec<String>,
}

/// Publish everything in the outbox once, a page at a time ([`crate::ports::OUTBOX_PAGE`]
/// events): a backlog of any size is delivered in bounded memory, and each page's delivered
/// events are deleted before the next page is read.
pub async fn drain_outbox(store: &impl StateStore, publisher: &impl EventPublisher) -> Result<DrainReport, StoreError> {
    let mut report = DrainReport::default();
    let mut after = None;
    loop {
        let page = store.outbox_page(after).await?;
        if !page.entries.is_empty() {
            drain_page(store, publisher, page.entries, &mut report).await?;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(report),
        }
    }
}

async fn drain_page(
    store: &impl StateStore,
    publisher: &impl EventPublisher,
    entries: Vec<OutboxEntry>,
    report: &mut DrainReport,
) -> Result<(), StoreError> {
    let prior_attempts: HashMap<String, u32> = entries.iter().map(|e| (e.event.event_id.clone(), e.attempts)).collect();
    report.queued += entries.len();
    let published = publisher.publish(entries.into_iter().map(|e| e.event).collect()).await;

    let delivered: Vec<String> = published.delivered_ids().map(str::to_owned).collect();
    store.remove_from_outbox(&delivered).await?;

    let failures: Vec<(String, String)> =
        published.failed().map(|(id, reason)| (id.to_owned(), reason.to_owned())).collect();
    if !failures.is_empty() {
        store.note_delivery_failures(&failures).await?;
    }
    report.stuck += failures
        .iter()
        .filter(|(id, _)| prior_attempts.get(id).copied().unwrap_or(0) + 1 >= STUCK_AFTER_ATTEMPTS)
        .count();
    for (id, reason) in &failures {
        tracing::warn!(event_id = %id, %reason, "event not delivered; it stays queued for the next run");
    }
    report.delivered += delivered.len();
    report.failed += failures.len();
    report.put_events_calls += published.calls;
    let room = 10usize.saturating_sub(report.failure_reasons.len());
    report.failure_reasons.extend(failures.iter().take(room).map(|(id, r)| format!("{id}: {r}")));
    Ok(())
}
