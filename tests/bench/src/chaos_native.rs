//! native-relay in the chaos suite: Partner Central's native events (dropped, duplicated,
//! delayed and reordered by the emulator) reach the relay through the native-events queue, as
//! the event source mapping delivers them — a failed or killed invocation leaves its messages
//! on the queue (they come back; after [`MAX_RECEIVES`] receives they go to the dead-letter
//! queue and only the poller can still publish the change), a batch answer's
//! `batchItemFailures` leave only those.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use harness::proxy::PutEventsFaults;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::account::Truth;
use crate::chaos::{KillPoint, RunEnd, invoke_with_output};
use crate::functions::Fleet;
use crate::{Error, Result};

pub const NATIVE_RELAY: &str = "native-relay";

/// The template's `maxReceiveCount` on the native-events queue's redrive policy.
pub const MAX_RECEIVES: u32 = 5;

/// The native events the relay saw, and what became of them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NativeFigures {
    /// From the emulator: events emitted, dropped (fault), duplicated (fault), sent.
    pub emulator: BTreeMap<String, u64>,
    pub invocations: u64,
    pub messages: u64,
    /// Messages named in `batchItemFailures`, or left by a failed or killed invocation.
    pub redelivered: u64,
    /// Messages past [`MAX_RECEIVES`]: in the dead-letter queue.
    pub dead_lettered: u64,
    /// True transitions whose first event came from native-relay.
    pub transitions_by_fast_path: u64,
    /// Share of the delivered true transitions first published by native-relay.
    pub fast_path_share: f64,
}

/// One relay step: take what the native-events queue holds (up to 10), invoke native-relay
/// with it (killed at `kill` if the run gets there), settle the messages. `None` when the queue
/// had nothing.
pub async fn relay_step(
    fleet: &mut Fleet<'_>,
    kill: Option<KillPoint>,
    proxy_faults: PutEventsFaults,
    figures: &mut NativeFigures,
) -> Result<Option<RunEnd>> {
    let stack = fleet.stack;
    let queue = stack.native_events.as_ref().ok_or_else(|| Error::msg("native events are off"))?.queue_url().to_owned();
    let out = stack
        .sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .visibility_timeout(300)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .map_err(Error::sdk("ReceiveMessage"))?;
    let mut received = out.messages.unwrap_or_default();
    // What is still on its way (the emulator's delay) joins the batch, as the next poll of the
    // event source mapping would take it within the second.
    while !received.is_empty() && received.len() < 10 {
        let more = stack
            .sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10 - received.len() as i32)
            .wait_time_seconds(1)
            .visibility_timeout(300)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(Error::sdk("ReceiveMessage"))?
            .messages
            .unwrap_or_default();
        if more.is_empty() {
            break;
        }
        received.extend(more);
    }
    let (dead, batch): (Vec<Message>, Vec<Message>) = received.into_iter().partition(|m| receives(m) > MAX_RECEIVES);
    for m in &dead {
        delete(stack, &queue, m).await?;
        figures.dead_lettered += 1;
    }
    if batch.is_empty() {
        return Ok(None);
    }
    let records: Vec<Value> = batch
        .iter()
        .map(|m| {
            json!({"messageId": m.message_id().unwrap_or_default(), "receiptHandle": m.receipt_handle().unwrap_or_default(),
                   "body": m.body().unwrap_or_default(), "eventSource": "aws:sqs",
                   "attributes": {"ApproximateReceiveCount": receives(m).to_string()}, "messageAttributes": {}})
        })
        .collect();
    let (end, output) =
        invoke_with_output(fleet, NATIVE_RELAY, &json!({ "Records": records }), kill, proxy_faults).await?;
    let failed: Vec<String> = match (&end, output) {
        (RunEnd::Ok, Some(v)) => v["batchItemFailures"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        _ => batch.iter().filter_map(|m| m.message_id().map(str::to_owned)).collect(),
    };
    figures.invocations += 1;
    figures.messages += batch.len() as u64;
    for m in &batch {
        if failed.iter().any(|id| Some(id.as_str()) == m.message_id()) {
            // Back on the queue at once: the visibility timeout has passed by the next step.
            figures.redelivered += 1;
            if let Some(handle) = m.receipt_handle() {
                stack
                    .sqs
                    .change_message_visibility()
                    .queue_url(&queue)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .map_err(Error::sdk("ChangeMessageVisibility"))?;
            }
        } else {
            delete(stack, &queue, m).await?;
        }
    }
    Ok(Some(end))
}

fn receives(m: &Message) -> u32 {
    m.attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Delete a received message (its invocation succeeded).
pub(crate) async fn delete(stack: &harness::stack::Stack, queue: &str, m: &Message) -> Result<()> {
    if let Some(handle) = m.receipt_handle() {
        stack
            .sqs
            .delete_message()
            .queue_url(queue)
            .receipt_handle(handle)
            .send()
            .await
            .map_err(Error::sdk("DeleteMessage"))?;
    }
    Ok(())
}

/// How many of the true transitions were first delivered by native-relay: `published_by[i]` is
/// the function whose step delivered `events[i]`.
pub fn fast_path_transitions(truth: &Truth, events: &[Value], published_by: &[String]) -> u64 {
    truth
        .transitions
        .iter()
        .filter(|t| {
            let detail_type = t.detail_type();
            events
                .iter()
                .position(|e| e["detail"]["invitationId"] == t.id.as_str() && e["detail-type"] == detail_type.as_str())
                .and_then(|i| published_by.get(i))
                .is_some_and(|f| f == NATIVE_RELAY)
        })
        .count() as u64
}

impl NativeFigures {
    /// One sentence of what the relay saw and delivered.
    pub fn describe(&self) -> String {
        let emulator: Vec<String> = self.emulator.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!(
            "native events (emulator): {}; native-relay: {} invocations, {} messages, {} redelivered, {} dead-lettered; transitions delivered first by the fast path: {} ({:.0} %)",
            emulator.join(", "),
            self.invocations,
            self.messages,
            self.redelivered,
            self.dead_lettered,
            self.transitions_by_fast_path,
            self.fast_path_share * 100.0
        )
    }
}

/// The native-relay lines of the chaos section of `bench/results.md`.
pub fn markdown(n: &NativeFigures) -> String {
    format!("\n{}; the rest by the pollers (reconciliation).\n", n.describe())
}
