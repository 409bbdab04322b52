//! Archive and replay, end to end against moto: the built `list-and-publish` binary publishes
//! real events on the bus, which has the template's archive (every event of our source); the
//! consumer drains its queue (it "missed" them), a replay of the window to the consumer's rule
//! brings the same events back — same `detail.eventId`, same detail — marked with the replay's
//! name, and the replayed events are not archived a second time.
//!
//! What moto (5.2.5) does not do, so this test cannot check it: it replays the whole archive
//! whatever the window (EventStartTime/EventEndTime are only validated), it delivers to every
//! rule on the bus whatever `Destination.FilterArns` names, and it replays synchronously
//! (EventBridge replays asynchronously; the test waits for `COMPLETED` either way).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration as StdDuration;

use aws_sdk_eventbridge::primitives::DateTime as SdkDateTime;
use aws_sdk_eventbridge::types::{ReplayDestination, ReplayState};
use chrono::{DateTime, Duration, TimeZone, Utc};
use harness::stack::{BUS, EVENT_SOURCE, Stack, StackOptions};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};

const NAME: &str = "list-and-publish";
const ARCHIVE: &str = "invitations-archive";
const REPLAY: &str = "consumer-missed-window";

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Two pending invitations of each kind: the baseline run publishes a `Created` for each.
fn seed() -> SeedDocument {
    let t = t0();
    let connection = |n: u32| {
        json!({
            "Catalog": "AWS", "Id": format!("pacinv-R{n:012}"), "ConnectionType": "OPPORTUNITY_COLLABORATION",
            "CreatedAt": ts(t - Duration::days(1)), "UpdatedAt": ts(t - Duration::days(1)),
            "ExpiresAt": ts(t + Duration::days(14)), "OtherParticipantIdentifier": "444455556666",
            "ParticipantType": "RECEIVER", "Status": "PENDING", "InvitationMessage": "Let's work together",
            "InviterName": "Ana Silva", "InviterEmail": "ana@example.com"
        })
    };
    let engagement = |c: char| {
        json!({
            "Catalog": "AWS", "Id": format!("engi-00000000000r{c}"), "PayloadType": "OpportunityInvitation",
            "EngagementId": format!("eng-000000000000r{c}"), "EngagementTitle": format!("Replay {c}"),
            "SenderAwsAccountId": "444455556666", "SenderCompanyName": "Example Corp",
            "InvitationDate": ts(t - Duration::days(1)), "ExpirationDate": ts(t + Duration::days(14)),
            "ParticipantType": "RECEIVER", "Status": "PENDING"
        })
    };
    let doc = json!({
        "ConnectionInvitations": [connection(1), connection(2)],
        "EngagementInvitations": [engagement('a'), engagement('b')],
    });
    ok(SeedDocument::from_json(&doc.to_string()))
}

/// The sample payload of a scheduled run (`events/`).
fn scheduled_payload() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/list-and-publish-scheduled.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// eventId -> detail of each event.
fn by_event_id(events: &[Value]) -> BTreeMap<String, Value> {
    events
        .iter()
        .map(|e| {
            (
                e["detail"]["eventId"].as_str().unwrap_or_else(|| panic!("no detail.eventId: {e}")).to_owned(),
                e["detail"].clone(),
            )
        })
        .collect()
}

async fn archived_count(stack: &Stack) -> i64 {
    let out = ok(stack.eventbridge.describe_archive().archive_name(ARCHIVE).send().await);
    out.event_count()
}

#[tokio::test]
async fn a_replay_of_the_window_brings_the_missed_events_back_to_the_consumers_rule_with_the_same_event_ids() {
    let stack = ok(Stack::start(StackOptions { clock: Some(t0()), seed: Some(seed()), ..Default::default() }).await);
    let eb = &stack.eventbridge;
    let bus_arn = ok(eb.describe_event_bus().name(BUS).send().await).arn().unwrap_or_default().to_owned();
    // The template's EventArchive: every event of our source on the bus.
    let archive_arn = ok(eb
        .create_archive()
        .archive_name(ARCHIVE)
        .event_source_arn(&bus_arn)
        .event_pattern(json!({"source": [EVENT_SOURCE]}).to_string())
        .retention_days(30)
        .send()
        .await)
    .archive_arn()
    .unwrap_or_default()
    .to_owned();
    let consumer_rule = ok(eb.describe_rule().name("consumer").event_bus_name(BUS).send().await);
    let consumer_rule_arn = consumer_rule.arn().unwrap_or_default().to_owned();

    let f = ok(stack.start_function(NAME, Path::new(env!("CARGO_BIN_EXE_list-and-publish")), &[]));
    if let Err(e) = ok(stack.invoke(NAME, &scheduled_payload()).await).output() {
        panic!("{e}\nfunction logs:\n{}", f.logs().join("\n"));
    }

    // Published and delivered, then drained: the consumer has "missed" them.
    let delivered = ok(stack.received().await);
    let published = by_event_id(&delivered);
    assert_eq!(published.len(), 4, "a Created per pending invitation: {delivered:?}");
    assert_eq!(archived_count(&stack).await, 4);
    assert!(ok(stack.received().await).is_empty());

    // The bus owner replays the window to the consumer's rule. The window holds both the events'
    // `time` (Partner Central's clock: the emulator's, frozen at t0) and when they were published.
    let window_start = t0().min(Utc::now()) - Duration::hours(1);
    let window_end = t0().max(Utc::now()) + Duration::hours(1);
    let destination = ok(ReplayDestination::builder().arn(&bus_arn).filter_arns(&consumer_rule_arn).build());
    ok(eb
        .start_replay()
        .replay_name(REPLAY)
        .event_source_arn(&archive_arn)
        .event_start_time(SdkDateTime::from_millis(window_start.timestamp_millis()))
        .event_end_time(SdkDateTime::from_millis(window_end.timestamp_millis()))
        .destination(destination)
        .send()
        .await);
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(30);
    loop {
        let state = ok(eb.describe_replay().replay_name(REPLAY).send().await).state().cloned();
        match state {
            Some(ReplayState::Completed) => break,
            Some(ReplayState::Failed | ReplayState::Cancelled) => panic!("replay ended {state:?}"),
            _ if tokio::time::Instant::now() > deadline => panic!("replay not completed within 30 s: {state:?}"),
            _ => tokio::time::sleep(StdDuration::from_millis(200)).await,
        }
    }

    let consumer = stack.consumer.as_ref().unwrap_or_else(|| panic!("the stack has a consumer"));
    let replayed = ok(consumer.receive(published.len(), StdDuration::from_secs(10)).await);
    assert_eq!(by_event_id(&replayed), published, "the same events, same ids and details, once each");
    assert_eq!(replayed.len(), published.len());
    // Still our contract: the envelope schema admits the `replay-name` EventBridge adds.
    ok(harness::contract::check_events(&replayed));
    for event in &replayed {
        assert_eq!(event["replay-name"], REPLAY, "a replayed event says so: {event}");
        assert_eq!(event["source"], EVENT_SOURCE);
    }
    assert!(ok(stack.received().await).is_empty(), "nothing more");
    assert_eq!(archived_count(&stack).await, 4, "replayed events are not archived again");
    stack.shutdown().await;
}
