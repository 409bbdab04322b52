//! The relay over the in-memory fakes of every port (`shared::testing`): what an invocation
//! reads, records, publishes and answers.

use chrono::{DateTime, Duration, TimeZone, Utc};
use native_relay::{Config, NativeRelay, RelayError, Response, Summary};
use serde_json::{Value, json};
use shared::PartnerCentralError;
use shared::config::Env;
use shared::domain::{
    Invitation, InvitationEvent, InvitationKind, InvitationRecord, InvitationStatus, OutboundEvent, RecordChange,
    SyncMeta,
};
use shared::ports::StateStore;
use shared::run::{FunctionError, Ports};
use shared::testing::{FakePartnerCentral, FixedClock, MemoryStateStore, RecordingPublisher, engagement_invitation};

/// The account the stack is deployed in (`OWN_ACCOUNT_ID`); the native events' `account`.
const US: &str = "111122223333";
/// Another Partner Central account whose events reach our default bus (an organisation
/// forwarding its accounts' events).
const THEM: &str = "999988887777";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn config() -> Config {
    let pairs =
        [("CATALOG", "AWS"), ("EVENT_BUS_NAME", "invitations"), ("STATE_TABLE_NAME", "state"), ("OWN_ACCOUNT_ID", US)];
    Config::from_env(&Env::from_pairs(pairs)).unwrap_or_else(|e| panic!("{e}"))
}

fn engagement(n: u32, status: InvitationStatus) -> Invitation {
    Invitation { status, ..engagement_invitation(&format!("engi-{n:013}"), t0() - Duration::days(2)) }
}

/// A native engagement event as the default-bus rule delivers it.
fn native(detail_type: &str, id: &str, side: &str) -> Value {
    json!({"version": "0", "id": format!("native-{id}-{detail_type}"), "detail-type": detail_type,
           "source": "aws.partnercentral-selling", "account": US, "time": "2026-11-20T11:59:59Z",
           "region": "us-east-1", "resources": [],
           "detail": {"catalog": "AWS", "engagementInvitation": {"id": id, "participantType": side}}})
}

fn sqs(bodies: &[Value]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| json!({"messageId": format!("m-{i}"), "eventSource": "aws:sqs", "body": b.to_string()}))
        .collect();
    json!({ "Records": records })
}

struct World {
    config: Config,
    partner_central: FakePartnerCentral,
    store: MemoryStateStore,
    publisher: RecordingPublisher,
    clock: FixedClock,
}

impl World {
    fn new(invitations: Vec<Invitation>) -> World {
        World {
            config: config(),
            partner_central: FakePartnerCentral::new(invitations),
            store: MemoryStateStore::new(),
            publisher: RecordingPublisher::new(),
            clock: FixedClock::at(t0()),
        }
    }

    async fn handle(&self, payload: &Value) -> Result<Response, RelayError> {
        let relay = NativeRelay {
            config: &self.config,
            ports: Ports {
                connections: &self.partner_central,
                engagements: &self.partner_central,
                store: &self.store,
                publisher: &self.publisher,
                clock: &self.clock,
                calls: &self.partner_central,
            },
        };
        relay.handle(payload).await
    }

    /// A record as list-and-publish (or the sweeper) would have left it.
    async fn recorded(&self, invitation: &Invitation, announced: bool) {
        let change = RecordChange::update(InvitationRecord::first_sighting(invitation, announced, t0()), vec![]);
        self.store.commit(vec![change]).await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// The summary a directly invoked native event answers with.
    async fn summary_of(&self, event: &Value) -> Summary {
        match self.handle(event).await {
            Ok(Response::Summary(summary)) => *summary,
            other => panic!("expected a summary, got {other:?}"),
        }
    }

    /// The `detail` of every event published so far.
    fn published_details(&self) -> Vec<Value> {
        self.publisher.published().iter().map(|e| serde_json::from_str(&e.detail).unwrap_or_default()).collect()
    }

    async fn full_sync_done(&self) {
        let meta = SyncMeta { last_run_at: Some(t0()), last_full_sync_at: Some(t0() - Duration::hours(1)), version: 0 };
        assert!(self.store.save_meta(&meta).await.unwrap_or_else(|e| panic!("{e}")));
    }
}

/// Two invitations (`n`, `n + 1`) recorded PENDING after a full sync, `status` in Partner
/// Central now.
async fn two_recorded_pending(n: u32, status: InvitationStatus) -> (World, Invitation, Invitation) {
    let (a, b) = (engagement(n, status), engagement(n + 1, status));
    let world = World::new(vec![a.clone(), b.clone()]);
    world.full_sync_done().await;
    for invitation in [&a, &b] {
        world.recorded(&Invitation { status: InvitationStatus::Pending, ..invitation.clone() }, true).await;
    }
    (world, a, b)
}

fn failures(response: &Response) -> Vec<String> {
    match response {
        Response::Batch(batch) => batch.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect(),
        Response::Summary(_) => panic!("an SQS batch answers with batchItemFailures"),
    }
}

fn event_ids(events: &[OutboundEvent]) -> Vec<String> {
    events.iter().map(|e| e.event_id.clone()).collect()
}

#[tokio::test]
async fn an_accepted_invitation_is_published_once_with_the_pollers_event_id_for_one_get() {
    let pending = engagement(1, InvitationStatus::Pending);
    let accepted = Invitation { status: InvitationStatus::Accepted, ..pending.clone() };
    let world = World::new(vec![accepted.clone()]);
    world.full_sync_done().await;
    world.recorded(&pending, true).await;

    // The native event twice (best-effort delivery duplicates), out of order with a stale
    // Created: one Get, one event.
    let batch = sqs(&[
        native("Engagement Invitation Accepted", &accepted.id, "Receiver"),
        native("Engagement Invitation Created", &accepted.id, "Receiver"),
        native("Engagement Invitation Accepted", &accepted.id, "Receiver"),
    ]);
    let response = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&response), Vec::<String>::new());
    assert_eq!(world.partner_central.calls().get("GetEngagementInvitation"), Some(&1));
    let published = world.publisher.published();
    let expected = InvitationEvent::transition(&accepted, InvitationStatus::Pending, t0())
        .unwrap_or_else(|| panic!("accepted has an event"));
    assert_eq!(event_ids(&published), std::slice::from_ref(&expected.detail.event_id), "the same fact, the same id");
    assert_eq!(published[0].detail_type, "Engagement Invitation Accepted");
    let record = world.store.record(InvitationKind::Engagement, &accepted.id);
    assert_eq!(record.map(|r| r.status), Some(InvitationStatus::Accepted));

    // Delivered again later (SQS at least once): nothing new.
    let again = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&again), Vec::<String>::new());
    assert_eq!(world.publisher.published().len(), 1);
}

#[tokio::test]
async fn a_new_invitation_is_announced_and_recorded_as_the_poller_would() {
    let new = engagement(2, InvitationStatus::Pending);
    let world = World::new(vec![new.clone()]);
    world.full_sync_done().await;
    let event = native("Engagement Invitation Created", &new.id, "Receiver");
    let response = world.handle(&event).await.unwrap_or_else(|e| panic!("{e}"));
    let Response::Summary(summary) = response else { panic!("a direct event answers with its summary") };
    assert_eq!(summary.changes.get("Engagement Invitation Created"), Some(&1));
    assert_eq!(summary.events.delivered, 1);
    assert!(summary.latency_ms_max.is_some(), "{summary:?}");
    let record = world.store.record(InvitationKind::Engagement, &new.id).unwrap_or_else(|| panic!("recorded"));
    assert!(record.announced && record.status == InvitationStatus::Pending);
    let created = InvitationEvent::created(&new, t0());
    assert_eq!(event_ids(&world.publisher.published()), [created.detail.event_id]);
}

#[tokio::test]
async fn a_failed_get_is_left_to_sqs_and_does_not_hold_back_its_siblings() {
    let (world, a, b) = two_recorded_pending(3, InvitationStatus::Rejected).await;
    world.partner_central.fail_next(
        &a.id,
        PartnerCentralError::Throttled { operation: "GetEngagementInvitation", message: "slow down".into() },
    );
    let batch = sqs(&[
        native("Engagement Invitation Rejected", &a.id, "Receiver"),
        native("Engagement Invitation Rejected", &b.id, "Receiver"),
    ]);
    let response = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&response), ["m-0"], "only the failed one is delivered again");
    assert_eq!(world.publisher.detail_types(), ["Engagement Invitation Rejected"]);
    // SQS redelivers it: now it goes through.
    let redelivered = sqs(&[native("Engagement Invitation Rejected", &a.id, "Receiver")]);
    assert_eq!(failures(&world.handle(&redelivered).await.unwrap_or_else(|e| panic!("{e}"))), Vec::<String>::new());
    assert_eq!(world.publisher.published().len(), 2);
}

#[tokio::test]
async fn not_found_right_after_created_is_retried_not_retired() {
    let pending = engagement(5, InvitationStatus::Pending);
    let world = World::new(vec![pending.clone()]);
    world.full_sync_done().await;
    world.recorded(&pending, true).await;
    world.partner_central.fail_next(
        &pending.id,
        PartnerCentralError::NotFound { operation: "GetEngagementInvitation", message: "no such invitation".into() },
    );
    let batch = sqs(&[native("Engagement Invitation Created", &pending.id, "Receiver")]);
    assert_eq!(failures(&world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"))), ["m-0"]);
    let record = world.store.record(InvitationKind::Engagement, &pending.id).unwrap_or_else(|| panic!("kept"));
    assert!(record.is_followed(), "a NotFound here may be the API catching up: nothing retired");
}

#[tokio::test]
async fn ignored_and_malformed_events_are_counted_and_never_retried() {
    let world = World::new(vec![]);
    let mut sandbox = native("Engagement Invitation Created", "engi-0000000000009", "Receiver");
    sandbox["detail"]["catalog"] = json!("Sandbox");
    let opportunity =
        json!({"detail-type": "Opportunity Updated", "source": "aws.partnercentral-selling", "detail": {}});
    let no_id = json!({"detail-type": "Engagement Invitation Created", "source": "aws.partnercentral-selling",
                       "detail": {"catalog": "AWS", "engagementInvitation": {"participantType": "Receiver"}}});
    let batch = sqs(&[sandbox, opportunity, no_id]);
    let response = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&response), Vec::<String>::new());
    assert_eq!(world.partner_central.total_calls(), 0);
    assert!(world.publisher.published().is_empty());

    // Invoked directly, a malformed event is an error naming the field.
    let direct = json!({"detail-type": "Engagement Invitation Created", "source": "aws.partnercentral-selling",
                        "detail": {"engagementInvitation": {"id": "engi-1", "participantType": "Receiver"}}});
    let error = world.handle(&direct).await.err().unwrap_or_else(|| panic!("an error"));
    assert_eq!(error.kind().error_type(), "InvalidInput");
    assert_eq!(error.to_string(), "native event detail.catalog: missing");
}

#[tokio::test]
async fn the_summary_counts_what_happened_to_each_native_event() {
    let pending = engagement(6, InvitationStatus::Pending);
    let world = World::new(vec![pending.clone()]);
    world.full_sync_done().await;
    world.recorded(&pending, true).await;
    // A late Created for an invitation we already announced: unchanged.
    let direct = native("Engagement Invitation Created", &pending.id, "Receiver");
    let summary = world.summary_of(&direct).await;
    assert_eq!((summary.received, summary.invitations, summary.unchanged, summary.relayed()), (1, 1, 1, 0));
    assert_eq!(summary.api_calls.get("GetEngagementInvitation"), Some(&1));
}

#[tokio::test]
async fn an_unreadable_invitation_is_ignored_with_its_reason_not_retried_and_its_siblings_go_through() {
    let (world, a, b) = two_recorded_pending(7, InvitationStatus::Accepted).await;
    world.partner_central.make_unreadable(InvitationKind::Engagement, &a.id, "Status", Some("WITHDRAWN"));
    let batch = sqs(&[
        native("Engagement Invitation Accepted", &a.id, "Receiver"),
        native("Engagement Invitation Accepted", &b.id, "Receiver"),
    ]);
    let response = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&response), Vec::<String>::new(), "another delivery would not make it readable");
    assert_eq!(event_ids(&world.publisher.published()).len(), 1);
    assert_eq!(world.publisher.detail_types(), ["Engagement Invitation Accepted"]);
    let record = world.store.record(InvitationKind::Engagement, &a.id).unwrap_or_else(|| panic!("kept"));
    assert_eq!(record.status, InvitationStatus::Pending, "left as it was for the poller");

    // As a direct event, the summary says why.
    let summary = world.summary_of(&native("Engagement Invitation Accepted", &a.id, "Receiver")).await;
    assert_eq!((summary.unreadable_invitations, summary.ignored.get("unreadable")), (1, Some(&1)));
}

#[tokio::test]
async fn another_accounts_event_is_counted_and_dropped_never_read_retried_or_published() {
    let ours = engagement(10, InvitationStatus::Accepted);
    let world = World::new(vec![ours.clone()]);
    world.full_sync_done().await;
    world.recorded(&Invitation { status: InvitationStatus::Pending, ..ours.clone() }, true).await;
    // The other account's invitation, as its own native event says it: its sender (so a
    // relay that believed the payload would publish it as one we sent).
    let mut theirs = native("Engagement Invitation Accepted", "engi-0000000000099", "Sender");
    theirs["account"] = json!(THEM);
    theirs["detail"]["engagementInvitation"]["senderAccountId"] = json!(THEM);
    let batch = sqs(&[theirs.clone(), native("Engagement Invitation Accepted", &ours.id, "Receiver")]);
    let Response::Batch(_) = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}")) else { panic!("batch") };
    let response = world.handle(&sqs(&[theirs.clone()])).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&response), Vec::<String>::new(), "not delivered again, not dead-lettered");
    assert_eq!(world.partner_central.calls().get("GetEngagementInvitation").copied(), Some(1), "only ours was read");
    assert_eq!(event_ids(&world.publisher.published()).len(), 1);
    assert_eq!(world.publisher.detail_types(), ["Engagement Invitation Accepted"]);
    assert!(world.store.record(InvitationKind::Engagement, "engi-0000000000099").is_none());
    // Invoked directly, the summary counts it.
    let summary = world.summary_of(&theirs).await;
    assert_eq!(summary.ignored.get("otherAccount"), Some(&1), "{summary:?}");
    assert_eq!((summary.failed, summary.malformed), (0, 0));
}

#[tokio::test]
async fn our_side_is_read_from_the_get_not_from_the_native_event() {
    // We sent it (the Get says so), the event claims we received it.
    let sent = Invitation {
        other_party: shared::domain::OtherParty {
            sender_aws_account_id: Some(US.into()),
            receiver_aws_account_id: Some("444455556666".into()),
            ..Default::default()
        },
        ..engagement(11, InvitationStatus::Pending)
    };
    // Neither side of this one is us: not ours, whatever the event says.
    let foreign = Invitation {
        other_party: shared::domain::OtherParty {
            sender_aws_account_id: Some("444455556666".into()),
            receiver_aws_account_id: Some(THEM.into()),
            ..Default::default()
        },
        ..engagement(12, InvitationStatus::Pending)
    };
    let world = World::new(vec![sent.clone(), foreign.clone()]);
    world.full_sync_done().await;
    let batch = sqs(&[
        native("Engagement Invitation Created", &sent.id, "Receiver"),
        native("Engagement Invitation Created", &foreign.id, "Receiver"),
    ]);
    let response = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&response), Vec::<String>::new());
    let record = world.store.record(InvitationKind::Engagement, &sent.id).unwrap_or_else(|| panic!("recorded"));
    assert_eq!(record.participant_type, shared::domain::ParticipantType::Sender);
    let published = world.published_details();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["invitation"]["participantType"], json!("SENDER"), "{}", published[0]);
    assert!(world.store.record(InvitationKind::Engagement, &foreign.id).is_none());
}

#[tokio::test]
async fn a_get_rejected_as_invalid_is_malformed_not_retried() {
    let pending = engagement(13, InvitationStatus::Pending);
    let world = World::new(vec![pending.clone()]);
    world.full_sync_done().await;
    world.partner_central.fail_next(
        &pending.id,
        PartnerCentralError::Validation {
            operation: "GetEngagementInvitation",
            message: "Identifier is invalid".into(),
            fields: vec!["Identifier".into()],
        },
    );
    let batch = sqs(&[native("Engagement Invitation Created", &pending.id, "Receiver")]);
    let response = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&response), Vec::<String>::new(), "another delivery would be rejected again");
    assert!(world.publisher.published().is_empty());
    world.partner_central.fail_next(
        &pending.id,
        PartnerCentralError::Validation { operation: "GetEngagementInvitation", message: "bad".into(), fields: vec![] },
    );
    let error = world
        .handle(&native("Engagement Invitation Created", &pending.id, "Receiver"))
        .await
        .err()
        .unwrap_or_else(|| panic!("a direct event the Get rejects is an error"));
    assert_eq!(error.kind().error_type(), "InvalidInput");
    assert!(
        error.to_string().starts_with(
            "native event detail.engagementInvitation.id: GetEngagementInvitation: request rejected as invalid"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreadable_stored_record_sets_its_invitation_aside_and_the_others_go_through() {
    let (world, a, b) = two_recorded_pending(14, InvitationStatus::Accepted).await;
    world.store.corrupt(InvitationKind::Engagement, &a.id);
    let batch = sqs(&[
        native("Engagement Invitation Accepted", &a.id, "Receiver"),
        native("Engagement Invitation Accepted", &b.id, "Receiver"),
    ]);
    let response = world.handle(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failures(&response), Vec::<String>::new(), "another delivery would not make it readable");
    assert_eq!(world.publisher.detail_types(), ["Engagement Invitation Accepted"]);
    let published = world.published_details();
    assert_eq!(published[0]["invitationId"], json!(b.id));
    let summary = world.summary_of(&native("Engagement Invitation Accepted", &a.id, "Receiver")).await;
    assert_eq!(summary.ignored.get("unreadableRecord"), Some(&1), "{summary:?}");
}
