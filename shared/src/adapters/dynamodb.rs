//! The state table on DynamoDB.
//!
//! One table, three item families, all keyed `pk` (partition) / `sk` (sort), so one
//! catalog's records come back with a single Query:
//!
//! | item             | pk               | sk                  | notes                                  |
//! |------------------|------------------|---------------------|----------------------------------------|
//! | invitation record| `INV#<catalog>`  | `<kind>#<id>`       | `ttl` set once terminal (retention)    |
//! | outbox event     | `OUTBOX#<catalog>` | `<eventId>`       | deleted once delivered; `ttl` retention after queued |
//! | sync bookkeeping | `META#<catalog>` | `SYNC`              | list-and-publish's last runs           |
//! | action allowance | `BUDGET#<catalog>` | `<key>`           | `used` of `actionLimit`; `ttl`         |
//!
//! A record change and its events are written in one `TransactWriteItems`, conditional on
//! the record's version, so state and outbox never disagree and two functions never both
//! publish the same transition.
//!
//! An event that cannot be delivered stays in the outbox and is re-sent by every run, but not
//! forever: it expires (table TTL) the retention period after it was queued, so events holding
//! personal data (contact details, when opted in) are not kept indefinitely. The functions'
//! `EventsStuck` metric alarms long before that.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
};
use aws_smithy_types::error::display::DisplayErrorContext;
use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};

use crate::domain::{
    Catalog, CommitOutcome, Expected, InvitationKind, InvitationRecord, OutboundEvent, OutboxEntry, RecordChange,
    SyncMeta,
};
use crate::error::StoreError;
use crate::ports::{ActionBudget, Allowance, OUTBOX_PAGE, OutboxPage, StateStore, Take};

/// Name of the table's TTL attribute (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "ttl";
/// `TransactWriteItems` takes at most this many actions.
const MAX_TRANSACTION_ITEMS: usize = 100;
/// `BatchWriteItem` takes at most this many requests.
const MAX_BATCH_WRITE: usize = 25;
/// Records read per Query page: each page is decoded (and its raw items dropped) before the
/// next is read, so only the decoded records grow with the table, never its raw items.
const RECORD_PAGE: i32 = 200;

/// The state table of one catalog.
#[derive(Debug, Clone)]
pub struct DynamoStateStore {
    client: Client,
    table: String,
    catalog: Catalog,
    retention: chrono::Duration,
    /// Unreadable items set aside so far ([`StateStore::items_set_aside`]).
    set_aside: Arc<AtomicU64>,
    /// Answers committed, until the run reports them ([`StateStore::take_answers`]).
    answers: crate::metrics::AnswerLog,
}

impl DynamoStateStore {
    /// The SDK client, table name and catalog (the health check's calls).
    pub(crate) fn parts(&self) -> (&Client, &str, Catalog) {
        (&self.client, &self.table, self.catalog)
    }

    /// `retention`: how long a finished invitation's record is kept (its TTL).
    pub fn new(client: Client, table: impl Into<String>, catalog: Catalog, retention: chrono::Duration) -> Self {
        DynamoStateStore {
            client,
            table: table.into(),
            catalog,
            retention,
            set_aside: Arc::default(),
            answers: crate::metrics::AnswerLog::default(),
        }
    }

    fn record_pk(&self) -> String {
        format!("INV#{}", self.catalog)
    }

    fn outbox_pk(&self) -> String {
        format!("OUTBOX#{}", self.catalog)
    }

    fn meta_key(&self) -> HashMap<String, AttributeValue> {
        key(format!("META#{}", self.catalog), "SYNC".to_owned())
    }

    fn record_item(
        &self,
        record: &InvitationRecord,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let stored = InvitationRecord { version, ..record.clone() };
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&stored)
            .map_err(|e| StoreError::Corrupt { key: record_sk(record.kind, &record.id), message: e.to_string() })?;
        item.extend(key(self.record_pk(), record_sk(record.kind, &record.id)));
        if let Some(at) = record.terminal_at {
            let expires = (at + self.retention).timestamp();
            item.insert(TTL_ATTRIBUTE.to_owned(), AttributeValue::N(expires.to_string()));
        }
        Ok(item)
    }

    fn outbox_item(
        &self,
        event: &OutboundEvent,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let json = serde_json::to_string(event)
            .map_err(|e| StoreError::Corrupt { key: event.event_id.clone(), message: e.to_string() })?;
        let mut item = key(self.outbox_pk(), event.event_id.clone());
        item.insert("event".into(), AttributeValue::S(json));
        item.insert("enqueuedAt".into(), AttributeValue::S(now.to_rfc3339()));
        item.insert("attempts".into(), AttributeValue::N("0".into()));
        item.insert(TTL_ATTRIBUTE.to_owned(), AttributeValue::N((now + self.retention).timestamp().to_string()));
        Ok(item)
    }

    fn put(
        &self,
        item: HashMap<String, AttributeValue>,
    ) -> Result<aws_sdk_dynamodb::types::builders::PutBuilder, StoreError> {
        Ok(Put::builder().table_name(&self.table).set_item(Some(item)))
    }

    /// The transaction items of one change: the conditional record put, then its events.
    fn change_items(&self, change: &RecordChange, now: DateTime<Utc>) -> Result<Vec<TransactWriteItem>, StoreError> {
        let (condition, next_version) = match change.expected {
            Expected::Absent => ("attribute_not_exists(pk)", 1),
            Expected::Version(v) => ("version = :expected", v + 1),
        };
        let mut put = self.put(self.record_item(&change.record, next_version)?)?.condition_expression(condition);
        if let Expected::Version(v) = change.expected {
            put = put.expression_attribute_values(":expected", AttributeValue::N(v.to_string()));
        }
        let mut items = vec![TransactWriteItem::builder().put(build(put.build())?).build()];
        for event in &change.events {
            let put = self.put(self.outbox_item(event, now)?)?.build();
            items.push(TransactWriteItem::builder().put(build(put)?).build());
        }
        Ok(items)
    }

    /// One transaction for the given changes. `Ok(false)` when DynamoDB canceled it (a
    /// condition failed or another transaction touched an item).
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) => Ok(false),
            Err(e) => Err(unavailable("TransactWriteItems", &e)),
        }
    }

    async fn batch_write(&self, operation: &'static str, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(MAX_BATCH_WRITE) {
            let mut pending = chunk.to_vec();
            let mut delays = ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(50))
                .with_max_delay(Duration::from_secs(2))
                .with_max_times(8)
                .with_jitter()
                .build();
            loop {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| unavailable(operation, &e))?;
                pending = out.unprocessed_items().and_then(|u| u.get(&self.table)).cloned().unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                match delays.next() {
                    Some(d) => tokio::time::sleep(d).await,
                    None => {
                        return Err(StoreError::Unavailable {
                            operation,
                            message: format!("{} items still unprocessed after retries", pending.len()),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// One consistent Query page of the partition `pk`: its items and where the next starts.
    async fn query_page(
        &self,
        pk: String,
        start: Option<HashMap<String, AttributeValue>>,
        limit: i32,
    ) -> Result<(Vec<HashMap<String, AttributeValue>>, Option<HashMap<String, AttributeValue>>), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .consistent_read(true)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| unavailable("Query", &e))?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
    }

    /// An item that cannot be read: reported (its key and why) and counted, then skipped, so
    /// that one bad item never stops the others. It stays in the table for a person to look
    /// at (an outbox item still expires with its `ttl`).
    fn set_aside(&self, error: &StoreError) {
        self.set_aside.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(error = %error, "state table item set aside: unreadable; the other items go on");
    }
}

/// One outbox item as the drain needs it.
fn outbox_entry(item: &HashMap<String, AttributeValue>) -> Result<OutboxEntry, StoreError> {
    let key = string_attr(item, "sk").unwrap_or("?").to_owned();
    let event: OutboundEvent = serde_json::from_str(string_attr(item, "event").unwrap_or_default())
        .map_err(|e| StoreError::Corrupt { key: format!("OUTBOX {key}"), message: e.to_string() })?;
    let enqueued_at = string_attr(item, "enqueuedAt")
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(event.time);
    let attempts = item.get("attempts").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
    Ok(OutboxEntry { event, enqueued_at, attempts })
}

fn key(pk: String, sk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), AttributeValue::S(pk)), ("sk".to_owned(), AttributeValue::S(sk))])
}

fn record_sk(kind: InvitationKind, id: &str) -> String {
    format!("{kind}#{id}")
}

fn build<T>(r: Result<T, aws_smithy_types::error::operation::BuildError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Unavailable { operation: "build request", message: e.to_string() })
}

fn unavailable<E: std::error::Error + 'static>(operation: &'static str, e: &E) -> StoreError {
    StoreError::Unavailable { operation, message: DisplayErrorContext(e).to_string() }
}

fn string_attr<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// Split changes into transactions of at most 100 items, never two actions on one item.
fn transaction_chunks(changes: &[(usize, Vec<TransactWriteItem>, Vec<String>)]) -> Vec<Vec<usize>> {
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut items = 0;
    let mut keys: HashSet<&str> = HashSet::new();
    for (i, change_items, change_keys) in changes {
        let clash = change_keys.iter().any(|k| keys.contains(k.as_str()));
        if !current.is_empty() && (clash || items + change_items.len() > MAX_TRANSACTION_ITEMS) {
            chunks.push(std::mem::take(&mut current));
            items = 0;
            keys.clear();
        }
        current.push(*i);
        items += change_items.len();
        keys.extend(change_keys.iter().map(String::as_str));
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

impl StateStore for DynamoStateStore {
    async fn load_records(&self) -> Result<Vec<InvitationRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let (items, next) = self.query_page(self.record_pk(), start, RECORD_PAGE).await?;
            for item in items {
                let key = string_attr(&item, "sk").unwrap_or("?").to_owned();
                match serde_dynamo::from_item(item) {
                    Ok(record) => records.push(record),
                    Err(e) => self.set_aside(&StoreError::Corrupt { key, message: e.to_string() }),
                }
            }
            match next {
                Some(next) => start = Some(next),
                None => return Ok(records),
            }
        }
    }

    async fn load_record(&self, kind: InvitationKind, id: &str) -> Result<Option<InvitationRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(self.record_pk(), record_sk(kind, id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", &e))?;
        out.item
            .map(|item| {
                serde_dynamo::from_item(item)
                    .map_err(|e| StoreError::Corrupt { key: record_sk(kind, id), message: e.to_string() })
            })
            .transpose()
    }

    async fn commit(&self, changes: Vec<RecordChange>) -> Result<Vec<CommitOutcome>, StoreError> {
        let now = Utc::now();
        let mut prepared = Vec::with_capacity(changes.len());
        for (i, change) in changes.iter().enumerate() {
            let items = self.change_items(change, now)?;
            let mut keys = vec![record_sk(change.record.kind, &change.record.id)];
            keys.extend(change.events.iter().map(|e| format!("outbox:{}", e.event_id)));
            prepared.push((i, items, keys));
        }
        let mut outcomes = vec![CommitOutcome::Committed; changes.len()];
        for chunk in transaction_chunks(&prepared) {
            let items: Vec<TransactWriteItem> = chunk.iter().flat_map(|&i| prepared[i].1.clone()).collect();
            if self.transact(items).await? {
                continue;
            }
            // Canceled: some record moved under us. Commit each change alone so only the
            // ones that really conflict are reported as such.
            for &i in &chunk {
                if chunk.len() == 1 || !self.transact(prepared[i].1.clone()).await? {
                    outcomes[i] = CommitOutcome::Conflict;
                }
            }
        }
        for (change, outcome) in changes.iter().zip(&outcomes) {
            if *outcome == CommitOutcome::Committed {
                self.answers.note(change);
            }
        }
        Ok(outcomes)
    }

    async fn enqueue(&self, events: Vec<OutboundEvent>) -> Result<(), StoreError> {
        let now = Utc::now();
        let requests = events
            .iter()
            .map(|e| {
                let put = build(PutRequest::builder().set_item(Some(self.outbox_item(e, now)?)).build())?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write("BatchWriteItem (enqueue)", requests).await
    }

    async fn outbox_page(&self, after: Option<String>) -> Result<OutboxPage, StoreError> {
        let start = after.map(|sk| key(self.outbox_pk(), sk));
        let limit = i32::try_from(OUTBOX_PAGE).unwrap_or(i32::MAX);
        let (items, next) = self.query_page(self.outbox_pk(), start, limit).await?;
        let mut entries = Vec::with_capacity(items.len());
        for item in &items {
            match outbox_entry(item) {
                Ok(entry) => entries.push(entry),
                Err(e) => self.set_aside(&e),
            }
        }
        entries.sort_by_key(|e| (e.enqueued_at, e.event.time));
        let next = next.and_then(|k| k.get("sk").and_then(|v| v.as_s().ok()).cloned());
        Ok(OutboxPage { entries, next })
    }

    fn items_set_aside(&self) -> u64 {
        self.set_aside.load(Ordering::Relaxed)
    }

    fn take_answers(&self) -> Vec<crate::domain::AnswerFact> {
        self.answers.take()
    }

    async fn remove_from_outbox(&self, event_ids: &[String]) -> Result<(), StoreError> {
        let requests = event_ids
            .iter()
            .map(|id| {
                let delete = build(DeleteRequest::builder().set_key(Some(key(self.outbox_pk(), id.clone()))).build())?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write("BatchWriteItem (outbox delete)", requests).await
    }

    async fn note_delivery_failures(&self, failures: &[(String, String)]) -> Result<(), StoreError> {
        for (id, reason) in failures {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(self.outbox_pk(), id.clone())))
                .update_expression("SET attempts = if_not_exists(attempts, :zero) + :one, lastError = :reason")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":reason", AttributeValue::S(reason.chars().take(1000).collect()))
                .send()
                .await;
            match result {
                Ok(_) => {}
                // Delivered and removed by a concurrent run meanwhile: nothing to count.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(unavailable("UpdateItem (outbox attempts)", &e)),
            }
        }
        Ok(())
    }

    async fn load_meta(&self) -> Result<SyncMeta, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.meta_key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem (sync meta)", &e))?;
        match out.item {
            None => Ok(SyncMeta::default()),
            Some(item) => serde_dynamo::from_item(item)
                .map_err(|e| StoreError::Corrupt { key: format!("META#{}", self.catalog), message: e.to_string() }),
        }
    }

    async fn save_meta(&self, meta: &SyncMeta) -> Result<bool, StoreError> {
        let stored = SyncMeta { version: meta.version + 1, ..meta.clone() };
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&stored)
            .map_err(|e| StoreError::Corrupt { key: format!("META#{}", self.catalog), message: e.to_string() })?;
        item.extend(self.meta_key());
        let mut put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        put = if meta.version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(meta.version.to_string()))
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(unavailable("PutItem (sync meta)", &e)),
        }
    }
}

impl DynamoStateStore {
    fn allowance_key(&self, allowance: &Allowance) -> HashMap<String, AttributeValue> {
        key(format!("BUDGET#{}", self.catalog), allowance.key.clone())
    }

    /// Count one action against `allowance`, only while it stays within its limit.
    fn allowance_take(&self, allowance: &Allowance) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.allowance_key(allowance)))
            .update_expression("ADD used :one SET actionLimit = :limit, #ttl = :ttl")
            .condition_expression("attribute_not_exists(used) OR used < :limit")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":limit", AttributeValue::N(allowance.limit.to_string()))
            .expression_attribute_values(":ttl", AttributeValue::N(allowance.expires_at.timestamp().to_string()));
        Ok(TransactWriteItem::builder().update(build(update.build())?).build())
    }
}

impl ActionBudget for DynamoStateStore {
    async fn take(&self, allowances: &[Allowance]) -> Result<Take, StoreError> {
        let items = allowances.iter().map(|a| self.allowance_take(a)).collect::<Result<Vec<_>, _>>()?;
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Take::Taken),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
                    canceled,
                )) => {
                    // The allowance whose condition failed. Canceled for another reason (a
                    // concurrent transaction on the item): not used up, a failure to retry.
                    let used_up = canceled
                        .cancellation_reasons()
                        .iter()
                        .position(|r| r.code() == Some("ConditionalCheckFailed"));
                    match used_up {
                        Some(i) => {
                            let key = allowances.get(i).map(|a| a.key.clone()).unwrap_or_default();
                            Ok(Take::UsedUp { key })
                        }
                        None => Err(unavailable("TransactWriteItems (allowance)", &e)),
                    }
                }
                _ => Err(unavailable("TransactWriteItems (allowance)", &e)),
            },
        }
    }

    async fn give_back(&self, allowances: &[Allowance]) -> Result<(), StoreError> {
        for allowance in allowances {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(self.allowance_key(allowance)))
                .update_expression("ADD used :minus_one")
                .condition_expression("used > :zero")
                .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send()
                .await;
            match result {
                Ok(_) => {}
                // Nothing counted (expired meanwhile): nothing to give back.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(unavailable("UpdateItem (allowance)", &e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(i: usize, items: usize, keys: &[&str]) -> (usize, Vec<TransactWriteItem>, Vec<String>) {
        (i, vec![TransactWriteItem::builder().build(); items], keys.iter().map(|k| k.to_string()).collect())
    }

    #[test]
    fn transactions_hold_at_most_100_items() {
        let changes: Vec<_> = (0..60).map(|i| change(i, 2, &[&format!("r{i}")])).collect();
        let chunks = transaction_chunks(&changes);
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [50, 10]);
    }

    #[test]
    fn two_actions_on_one_item_never_share_a_transaction() {
        let changes = vec![
            change(0, 2, &["r1", "outbox:e1"]),
            change(1, 2, &["r2", "outbox:e2"]),
            change(2, 2, &["r1", "outbox:e3"]),
        ];
        assert_eq!(transaction_chunks(&changes), vec![vec![0, 1], vec![2]]);
    }
}
