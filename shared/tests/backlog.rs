//! A large backlog with unreadable items in it, against the DynamoDB state store on moto
//! (real wire protocol): the bus down for a day with `BASELINE_EVENTS=all` leaves thousands
//! of events in the outbox, and one item that no longer decodes must neither stop their
//! delivery nor the run.
//!
//! Memory: nextest runs each test in its own process, so the process's peak resident set
//! (`VmHWM`, reset through `/proc/self/clear_refs` before the drain) is the drain's own.

use std::collections::HashSet;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use harness::aws::{create_state_table, sdk_config};
use harness::moto::Moto;
use shared::adapters::DynamoStateStore;
use shared::delivery::drain_outbox;
use shared::domain::{
    Catalog, Delivery, DeliveryReport, Invitation, InvitationEvent, InvitationKind, InvitationRecord, InvitationStatus,
    OtherParty, OutboundEvent, ParticipantType, RecordChange,
};
use shared::ports::{EventPublisher, OUTBOX_PAGE, StateStore};

const BACKLOG: u32 = 10_000;
const TABLE: &str = "state";

fn invitation(n: u32) -> Invitation {
    let now = Utc::now();
    Invitation {
        kind: InvitationKind::Connection,
        id: format!("pacinv-{n:013}"),
        arn: format!("arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/pacinv-{n:013}"),
        catalog: Catalog::Aws,
        status: InvitationStatus::Pending,
        participant_type: ParticipantType::Sender,
        created_at: now - Duration::days(1),
        updated_at: Some(now),
        expires_at: Some(now + Duration::days(14)),
        other_party: OtherParty { participant_identifier: Some("partner".into()), ..Default::default() },
        connection_type: Some("OPPORTUNITY_COLLABORATION".into()),
        connection_id: None,
        payload_type: None,
        engagement_id: None,
        engagement_title: None,
        details: None,
    }
}

fn created(n: u32) -> OutboundEvent {
    OutboundEvent::from_event(&InvitationEvent::created(&invitation(n), Utc::now())).unwrap_or_else(|e| panic!("{e}"))
}

async fn ok<T, E: std::fmt::Display>(f: impl std::future::Future<Output = Result<T, E>>) -> T {
    f.await.unwrap_or_else(|e| panic!("{e}"))
}

/// A bus that takes everything, remembering each event id and the largest batch it was given.
#[derive(Default)]
struct Bus {
    delivered: Mutex<Vec<String>>,
    largest_batch: Mutex<usize>,
}

impl EventPublisher for Bus {
    async fn publish(&self, events: Vec<OutboundEvent>) -> DeliveryReport {
        let mut largest = self.largest_batch.lock().unwrap_or_else(|e| e.into_inner());
        *largest = (*largest).max(events.len());
        let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        self.delivered.lock().unwrap_or_else(|e| e.into_inner()).extend(ids.iter().cloned());
        DeliveryReport {
            calls: events.len().div_ceil(10) as u32,
            outcomes: ids.into_iter().map(|id| (id, Delivery::Delivered)).collect(),
        }
    }
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Reset `VmHWM` to the current resident set (Linux: `5` in `clear_refs`).
fn reset_peak() {
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        panic!("cannot reset the peak resident set: {e}");
    }
}

async fn raw_put(ddb: &aws_sdk_dynamodb::Client, item: &[(&str, &str)]) {
    let mut put = ddb.put_item().table_name(TABLE);
    for (name, value) in item {
        put = put.item(*name, AttributeValue::S((*value).to_owned()));
    }
    ok(put.send()).await;
}

#[tokio::test]
async fn a_backlog_of_10000_with_a_corrupt_item_is_delivered_whole_in_bounded_pages() {
    let moto = Moto::start().await.unwrap_or_else(|e| panic!("{e}"));
    let conf = sdk_config(moto.endpoint()).await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    create_state_table(&ddb, TABLE).await.unwrap_or_else(|e| panic!("{e}"));
    let store = DynamoStateStore::new(ddb.clone(), TABLE, Catalog::Aws, Duration::days(30));

    // The backlog, written in slices (this test never holds it whole either), and one item
    // in the middle of it that no longer decodes.
    let mut expected = HashSet::new();
    for start in (0..BACKLOG).step_by(500) {
        let events: Vec<OutboundEvent> = (start..start + 500).map(created).collect();
        expected.extend(events.iter().map(|e| e.event_id.clone()));
        ok(store.enqueue(events)).await;
    }
    let corrupt_id = "evt-5000-corrupt";
    raw_put(&ddb, &[("pk", "OUTBOX#AWS"), ("sk", corrupt_id), ("event", "{\"eventId\": 12, truncated")]).await;

    let bus = Bus::default();
    let (rss_before, _) = memory_kib();
    reset_peak();
    let report = ok(drain_outbox(&store, &bus)).await;
    let (_, peak) = memory_kib();
    let growth_kib = peak.saturating_sub(rss_before);
    println!("drain of {BACKLOG} events: resident set {rss_before} KiB before, peak {peak} KiB (+{growth_kib} KiB)");

    // 0 lost, none twice, the corrupt one set aside (and counted), nothing else left.
    let delivered = bus.delivered.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(delivered.len(), BACKLOG as usize, "each event delivered exactly once");
    assert_eq!(delivered.iter().cloned().collect::<HashSet<_>>(), expected, "0 lost");
    assert_eq!((report.queued, report.delivered, report.failed), (BACKLOG as usize, BACKLOG as usize, 0));
    assert_eq!(store.items_set_aside(), 1, "the corrupt item is counted");
    let left = ok(store.outbox()).await;
    assert!(left.is_empty(), "only the unreadable item stays, and it is not readable: {left:?}");
    let raw = ok(ddb
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("OUTBOX#AWS".into()))
        .key("sk", AttributeValue::S(corrupt_id.into()))
        .send())
    .await;
    assert!(raw.item.is_some(), "set aside, not deleted: a person can look at it");
    assert_eq!(store.items_set_aside(), 2, "and counted again whenever it is met");

    // Bounded: the drain never holds more than a page of the backlog at once.
    assert!(*bus.largest_batch.lock().unwrap_or_else(|e| e.into_inner()) <= OUTBOX_PAGE);
    // Measured on this backlog: reading it whole (`outbox()`) grew the resident set by ~12 MB,
    // the paged drain by ~0.6 MB. The bound sits between the two.
    assert!(growth_kib < 4 * 1024, "the drain grew the resident set by {growth_kib} KiB");
}

#[tokio::test]
async fn a_corrupt_record_is_set_aside_and_every_other_record_loads() {
    let moto = Moto::start().await.unwrap_or_else(|e| panic!("{e}"));
    let conf = sdk_config(moto.endpoint()).await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    create_state_table(&ddb, TABLE).await.unwrap_or_else(|e| panic!("{e}"));
    let store = DynamoStateStore::new(ddb.clone(), TABLE, Catalog::Aws, Duration::days(30));
    // More records than one Query page, a corrupt one among them.
    let changes: Vec<RecordChange> = (0..450)
        .map(|n| RecordChange::update(InvitationRecord::first_sighting(&invitation(n), true, Utc::now()), vec![]))
        .collect();
    for chunk in changes.chunks(50) {
        ok(store.commit(chunk.to_vec())).await;
    }
    raw_put(&ddb, &[("pk", "INV#AWS"), ("sk", "connection#pacinv-corrupt"), ("status", "NOT A STATUS")]).await;

    let records = ok(store.load_records()).await;
    assert_eq!(records.len(), 450, "every readable record, across pages");
    assert_eq!(store.items_set_aside(), 1);
    // Reading it alone still says what is wrong with it (the callers set it aside).
    let error = store.load_record(InvitationKind::Connection, "pacinv-corrupt").await.err().map(|e| e.to_string());
    assert!(
        error.as_deref().is_some_and(|e| e.starts_with("state table item connection#pacinv-corrupt is unreadable")),
        "{error:?}"
    );
}
