//! The DynamoDB state store and the outbox drain against moto (real wire protocol).

use chrono::{Duration, Utc};
use harness::aws::{Consumer, create_bus, create_state_table, sdk_config};
use harness::moto::Moto;
use serde_json::json;
use shared::adapters::{DynamoStateStore, EventBridgePublisher, PublishSettings};
use shared::delivery::drain_outbox;
use shared::domain::{
    Catalog, CommitOutcome, Invitation, InvitationEvent, InvitationKind, InvitationRecord, InvitationStatus,
    OtherParty, OutboundEvent, ParticipantType, RecordChange, SyncMeta,
};
use shared::ports::StateStore;

struct Env {
    _moto: Moto,
    ddb: aws_sdk_dynamodb::Client,
    eb: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    store: DynamoStateStore,
}

async fn env() -> Env {
    let moto = Moto::start().await.unwrap_or_else(|e| panic!("{e}"));
    let conf = sdk_config(moto.endpoint()).await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    create_state_table(&ddb, "state").await.unwrap_or_else(|e| panic!("{e}"));
    let store = DynamoStateStore::new(ddb.clone(), "state", Catalog::Aws, Duration::days(30));
    Env { eb: aws_sdk_eventbridge::Client::new(&conf), sqs: aws_sdk_sqs::Client::new(&conf), ddb, store, _moto: moto }
}

fn invitation(n: u32, status: InvitationStatus) -> Invitation {
    let now = Utc::now();
    Invitation {
        kind: InvitationKind::Connection,
        id: format!("pacinv-{n:013}"),
        arn: format!("arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/pacinv-{n:013}"),
        catalog: Catalog::Aws,
        status,
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

fn created(inv: &Invitation) -> OutboundEvent {
    OutboundEvent::from_event(&InvitationEvent::created(inv, Utc::now())).unwrap_or_else(|e| panic!("{e}"))
}

async fn ok<T, E: std::fmt::Display>(f: impl std::future::Future<Output = Result<T, E>>) -> T {
    f.await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_change_and_its_events_are_written_together_and_read_back() {
    let env = env().await;
    let inv = invitation(1, InvitationStatus::Pending);
    let record = InvitationRecord::first_sighting(&inv, true, Utc::now());
    let event = created(&inv);
    let outcomes = ok(env.store.commit(vec![RecordChange::update(record.clone(), vec![event.clone()])])).await;
    assert_eq!(outcomes, [CommitOutcome::Committed]);

    let records = ok(env.store.load_records()).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].version, 1);
    assert_eq!(InvitationRecord { version: 0, ..records[0].clone() }, record);
    let outbox = ok(env.store.outbox()).await;
    assert_eq!(outbox.iter().map(|e| e.event.clone()).collect::<Vec<_>>(), [event]);
    assert_eq!(ok(env.store.load_record(InvitationKind::Connection, &inv.id)).await.map(|r| r.version), Some(1));
}

#[tokio::test]
async fn a_stale_change_conflicts_and_writes_nothing_while_the_others_commit() {
    let env = env().await;
    let a = invitation(1, InvitationStatus::Pending);
    let b = invitation(2, InvitationStatus::Pending);
    let ra = InvitationRecord::first_sighting(&a, true, Utc::now());
    ok(env.store.commit(vec![RecordChange::update(ra.clone(), vec![])])).await;

    // Another function moves `a` first.
    let mut theirs =
        ok(env.store.load_record(InvitationKind::Connection, &a.id)).await.unwrap_or_else(|| panic!("record"));
    theirs.observe(&invitation(1, InvitationStatus::Expired), Utc::now());
    ok(env.store.commit(vec![RecordChange::update(theirs, vec![])])).await;

    // Our change of `a` was read at version 1: it must lose; `b` is unaffected.
    let mut ours = InvitationRecord { version: 1, ..ra };
    ours.observe(&invitation(1, InvitationStatus::Accepted), Utc::now());
    let accepted = OutboundEvent::from_event(
        &InvitationEvent::transition(&invitation(1, InvitationStatus::Accepted), InvitationStatus::Pending, Utc::now())
            .unwrap_or_else(|| panic!("transition")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let rb = InvitationRecord::first_sighting(&b, true, Utc::now());
    let b_created = created(&b);
    let outcomes = ok(env
        .store
        .commit(vec![RecordChange::update(ours, vec![accepted]), RecordChange::update(rb, vec![b_created.clone()])]))
    .await;
    assert_eq!(outcomes, [CommitOutcome::Conflict, CommitOutcome::Committed]);
    let stored = ok(env.store.load_record(InvitationKind::Connection, &a.id)).await.map(|r| r.status);
    assert_eq!(stored, Some(InvitationStatus::Expired));
    let outbox: Vec<String> = ok(env.store.outbox()).await.into_iter().map(|e| e.event.event_id).collect();
    assert_eq!(outbox, [b_created.event_id], "the conflicting change's event was not queued");
}

#[tokio::test]
async fn finished_invitations_get_a_ttl_and_pending_ones_do_not() {
    let env = env().await;
    let pending = InvitationRecord::first_sighting(&invitation(1, InvitationStatus::Pending), true, Utc::now());
    let done = InvitationRecord::first_sighting(&invitation(2, InvitationStatus::Rejected), true, Utc::now());
    ok(env.store.commit(vec![RecordChange::update(pending, vec![]), RecordChange::update(done.clone(), vec![])])).await;
    let items = env.ddb.scan().table_name("state").send().await.unwrap_or_else(|e| panic!("{e}"));
    let ttl_of = |id: &str| {
        items
            .items()
            .iter()
            .find(|i| i.get("id").and_then(|v| v.as_s().ok()).is_some_and(|s| s == id))
            .and_then(|i| i.get("ttl").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()))
    };
    assert_eq!(ttl_of("pacinv-0000000000001"), None);
    let expected = done.terminal_at.map(|t| (t + Duration::days(30)).timestamp());
    assert_eq!(ttl_of("pacinv-0000000000002"), expected);
}

#[tokio::test]
async fn queued_events_expire_the_retention_period_after_they_were_queued() {
    let env = env().await;
    let before = Utc::now();
    let committed = created(&invitation(1, InvitationStatus::Pending));
    let change = RecordChange::update(
        InvitationRecord::first_sighting(&invitation(1, InvitationStatus::Pending), true, before),
        vec![committed.clone()],
    );
    ok(env.store.commit(vec![change])).await;
    let enqueued = created(&invitation(2, InvitationStatus::Pending));
    ok(env.store.enqueue(vec![enqueued.clone()])).await;
    let after = Utc::now();
    let items = env.ddb.scan().table_name("state").send().await.unwrap_or_else(|e| panic!("{e}"));
    for event in [committed, enqueued] {
        let ttl = items
            .items()
            .iter()
            .find(|i| i.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|s| *s == event.event_id))
            .and_then(|i| i.get("ttl").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()));
        let window = (before + Duration::days(30)).timestamp()..=(after + Duration::days(30)).timestamp();
        assert!(ttl.is_some_and(|t| window.contains(&t)), "{}: ttl {ttl:?} not in {window:?}", event.event_id);
    }
}

#[tokio::test]
async fn sync_meta_saves_only_over_the_version_it_read() {
    let env = env().await;
    let meta = ok(env.store.load_meta()).await;
    assert_eq!(meta, SyncMeta::default());
    let now = Utc::now();
    let mine = SyncMeta { last_run_at: Some(now), ..meta.clone() };
    assert!(ok(env.store.save_meta(&mine)).await);
    assert!(!ok(env.store.save_meta(&mine)).await, "a second save over version 0 is a conflict");
    let stored = ok(env.store.load_meta()).await;
    assert_eq!((stored.last_run_at.map(|t| t.timestamp_millis()), stored.version), (Some(now.timestamp_millis()), 1));
}

#[tokio::test]
async fn draining_delivers_removes_and_keeps_what_failed_until_the_bus_exists() {
    let env = env().await;
    let events: Vec<OutboundEvent> = (1..=12).map(|n| created(&invitation(n, InvitationStatus::Pending))).collect();
    ok(env.store.enqueue(events.clone())).await;
    let publisher = EventBridgePublisher::new(env.eb.clone(), "invitations", "partnercentral.invitations")
        .with_settings(PublishSettings { max_resend_rounds: 1, ..PublishSettings::default() });

    // No bus yet: nothing delivered, everything still queued with one failed attempt.
    let report = ok(drain_outbox(&env.store, &publisher)).await;
    assert_eq!((report.queued, report.delivered, report.failed), (12, 0, 12));
    let outbox = ok(env.store.outbox()).await;
    assert_eq!(outbox.len(), 12);
    assert!(outbox.iter().all(|e| e.attempts == 1));

    ok(create_bus(&env.eb, "invitations")).await;
    let pattern = json!({"source": ["partnercentral.invitations"]});
    let consumer = ok(Consumer::create(&env.eb, &env.sqs, "invitations", "consumer", &pattern)).await;
    let report = ok(drain_outbox(&env.store, &publisher)).await;
    assert_eq!((report.queued, report.delivered, report.failed, report.put_events_calls), (12, 12, 0, 2));
    assert!(ok(env.store.outbox()).await.is_empty());

    let received = ok(consumer.drain()).await;
    let mut ids: Vec<String> =
        received.iter().map(|e| e["detail"]["eventId"].as_str().unwrap_or_default().to_owned()).collect();
    ids.sort();
    let mut expected: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert!(received.iter().all(|e| e["detail-type"] == "Connection Invitation Created"));

    // Nothing left: a further drain publishes nothing.
    assert_eq!(ok(drain_outbox(&env.store, &publisher)).await.queued, 0);
}

#[tokio::test]
async fn allowances_count_durably_all_or_nothing_and_can_be_given_back() {
    use shared::ports::{ActionBudget, Allowance, Take};
    let env = env().await;
    let expires_at = Utc::now() + Duration::days(2);
    let firing = Allowance { key: "auto-cancel/firing/2026-11-30T06:00:00Z".into(), limit: 2, expires_at };
    let day = Allowance { key: "auto-cancel/day/2026-11-30".into(), limit: 3, expires_at };
    let both = [firing.clone(), day.clone()];
    assert_eq!(ok(env.store.take(&both)).await, Take::Taken);
    assert_eq!(ok(env.store.take(&both)).await, Take::Taken);
    // The firing's limit is reached: nothing is counted, and the day keeps its count.
    assert_eq!(ok(env.store.take(&both)).await, Take::UsedUp { key: firing.key.clone() });
    // Another firing the same day gets one more: the day's limit.
    let next = Allowance { key: "auto-cancel/firing/2026-11-30T07:00:00Z".into(), ..firing.clone() };
    assert_eq!(ok(env.store.take(&[next.clone(), day.clone()])).await, Take::Taken);
    assert_eq!(ok(env.store.take(&[next.clone(), day.clone()])).await, Take::UsedUp { key: day.key.clone() });
    // A cancellation that did not happen is given back, and can be taken again.
    ok(env.store.give_back(&[next.clone(), day.clone()])).await;
    assert_eq!(ok(env.store.take(&[next, day.clone()])).await, Take::Taken);
    let item = env
        .ddb
        .get_item()
        .table_name("state")
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("BUDGET#AWS".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(day.key.clone()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let number = |name: &str| item.item().and_then(|i| i.get(name)).and_then(|v| v.as_n().ok()).cloned();
    assert_eq!(number("used").as_deref(), Some("3"));
    assert_eq!(number("ttl"), Some(expires_at.timestamp().to_string()), "counters expire");
    // Giving back what was never counted changes nothing.
    let unknown = Allowance { key: "never".into(), limit: 1, expires_at };
    ok(env.store.give_back(&[unknown])).await;
}
