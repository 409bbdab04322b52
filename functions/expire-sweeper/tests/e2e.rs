//! End to end: the built expire-sweeper binary under a Lambda runtime, against the Partner
//! Central emulator (its clock moved by the tests), DynamoDB and EventBridge on moto, and a
//! consumer queue behind a rule on the bus.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use harness::demo::engagement_invitation;
use harness::lambda::FunctionProcess;
use harness::proxy::PutEventsFaults;
use harness::stack::{Stack, StackOptions, TABLE, event_file};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};
use shared::adapters::DynamoStateStore;
use shared::domain::{
    Catalog, Invitation, InvitationEvent, InvitationKind, InvitationRecord, InvitationStatus, OtherParty,
    OutboundEvent, ParticipantType, RecordChange,
};
use shared::ports::StateStore;

const NAME: &str = "expire-sweeper";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().unwrap_or_default()
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn engi(n: u32) -> String {
    format!("engi-{n:013}")
}

/// A connection invitation we sent, `hours_left` before its expiry at [`t0`] (seed format).
fn connection_invitation(id: &str, hours_left: i64) -> Value {
    let expires = t0() + chrono::Duration::hours(hours_left);
    let created = expires - chrono::Duration::days(15);
    json!({
        "Catalog": "AWS", "Id": id, "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": created.to_rfc3339(), "ExpiresAt": expires.to_rfc3339(),
        "OtherParticipantIdentifier": "444455556666", "ParticipantType": "SENDER", "Status": "PENDING",
        "InvitationMessage": "Let's co-sell", "InviterName": "Ann", "InviterEmail": "ann@example.com"
    })
}

async fn stack(engagements: &[(u32, i64)], connections: Vec<Value>) -> Stack {
    let seed = SeedDocument {
        engagement_invitations: engagements.iter().map(|(n, h)| engagement_invitation(&engi(*n), t0(), *h)).collect(),
        connection_invitations: connections,
    };
    ok(Stack::start(StackOptions { clock: Some(t0()), seed: Some(seed), ..Default::default() }).await)
}

fn start(stack: &Stack, env: &[(&str, &str)]) -> FunctionProcess {
    ok(stack.start_function(NAME, Path::new(env!("CARGO_BIN_EXE_expire-sweeper")), env))
}

async fn run(stack: &Stack) -> Value {
    let payload = ok(event_file("expire-sweeper-scheduled.json"));
    ok(ok(stack.invoke(NAME, &payload).await).output())
}

/// Every event received, checked against the contract's envelope schema.
async fn received(stack: &Stack) -> Vec<Value> {
    let events = ok(stack.received().await);
    ok(harness::contract::check_events(&events));
    for e in &events {
        assert_eq!(e["source"], "partnercentral.invitations");
    }
    events
}

/// (invitation id, threshold, hours remaining) of the warnings among `events`.
fn warnings(events: &[Value]) -> Vec<(String, u64, f64)> {
    let mut w: Vec<_> = events
        .iter()
        .filter(|e| e["detail-type"].as_str().is_some_and(|t| t.ends_with("Invitation Expiring Soon")))
        .map(|e| {
            let d = &e["detail"];
            (
                d["invitationId"].as_str().unwrap_or("?").to_owned(),
                d["thresholdHours"].as_u64().unwrap_or(0),
                d["hoursRemaining"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect();
    w.sort_by(|a, b| a.0.cmp(&b.0));
    w
}

fn expired(events: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .filter(|e| e["detail-type"].as_str().is_some_and(|t| t.ends_with("Invitation Expired")))
        .map(|e| e["detail"]["invitationId"].as_str().unwrap_or("?").to_owned())
        .collect();
    ids.sort();
    ids
}

fn warning_counts(summary: &Value) -> BTreeMap<String, u64> {
    summary["warnings"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default()
}

fn store(stack: &Stack) -> DynamoStateStore {
    DynamoStateStore::new(stack.dynamodb.clone(), TABLE, Catalog::Aws, chrono::Duration::days(30))
}

/// The engagement invitation [`engagement_invitation`] seeds, as the domain model.
fn engagement_model(n: u32, hours_left: i64, status: InvitationStatus) -> Invitation {
    let expires = t0() + chrono::Duration::hours(hours_left);
    Invitation {
        kind: InvitationKind::Engagement,
        id: engi(n),
        arn: format!("arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/{}", engi(n)),
        catalog: Catalog::Aws,
        status,
        participant_type: ParticipantType::Receiver,
        created_at: expires - chrono::Duration::days(15),
        updated_at: None,
        expires_at: Some(expires),
        other_party: OtherParty::default(),
        connection_type: None,
        connection_id: None,
        payload_type: Some("OpportunityInvitation".into()),
        engagement_id: None,
        engagement_title: Some("Demo opportunity".into()),
        details: None,
    }
}

#[tokio::test]
async fn warns_once_per_threshold_and_reports_each_expiry_once_as_the_clock_advances() {
    // 100h, 50h, 10h, 2h left; one already past its expiry (EXPIRED in Partner Central) that
    // list-and-publish recorded as PENDING earlier; one list-and-publish will record as
    // expired itself; and a connection invitation we sent, 30h left.
    let stack = stack(
        &[(1, 100), (2, 50), (3, 10), (4, 2), (5, -5), (6, 1)],
        vec![connection_invitation("pacinv-P000000000001", 30)],
    )
    .await;
    let table = store(&stack);
    let earlier = t0() - chrono::Duration::days(1);
    for (n, h) in [(5, -5), (6, 1)] {
        let record =
            InvitationRecord::first_sighting(&engagement_model(n, h, InvitationStatus::Pending), true, earlier);
        assert_eq!(ok(table.commit(vec![RecordChange::update(record, vec![])]).await).len(), 1);
    }
    let _f = start(&stack, &[]);

    let first = run(&stack).await;
    let events = received(&stack).await;
    assert_eq!(
        warnings(&events),
        [
            (engi(2), 72, 50.0),
            (engi(3), 24, 10.0),
            (engi(4), 4, 2.0),
            (engi(6), 4, 1.0),
            ("pacinv-P000000000001".to_owned(), 72, 30.0),
        ]
    );
    assert_eq!(expired(&events), [engi(5)], "PENDING in the table, EXPIRED in Partner Central");
    assert_eq!(events.len(), 6);
    assert_eq!(first["pendingSeen"], json!({"connection": 1, "engagement": 5}));
    assert_eq!(first["expired"], 1);
    assert_eq!(first["events"]["delivered"], 6);
    let observed = first["observedAt"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let skew = observed.map(|o| (o.with_timezone(&Utc) - t0()).num_seconds().abs());
    assert!(skew.is_some_and(|s| s < 10), "now is the emulator's clock, not the machine's: {observed:?}");
    let connection_warning = events.iter().find(|e| e["detail"]["kind"] == "connection").cloned().unwrap_or_default();
    assert!(connection_warning["detail"]["invitation"].get("details").is_none(), "no personal data unless opted in");
    assert!(!connection_warning.to_string().contains("ann@example.com"), "no e-mail unless opted in");

    // Same time, again: nothing new; only the two PENDING listings (engagements per side)
    // and the connection listing are called.
    let quiet = run(&stack).await;
    assert!(received(&stack).await.is_empty());
    assert_eq!(
        quiet["apiCalls"],
        json!({"ListConnectionInvitations": 1, "ListEngagementInvitations": 2}),
        "no history listing, no Gets"
    );

    // +3h: engi-4 (2h) and engi-6 (1h) expired in Partner Central. list-and-publish records
    // engi-6's expiry first (its commit carries its own Expired event); the sweeper sees it
    // recorded and leaves it, and reports engi-4.
    ok(stack.advance_clock(3.0).await);
    let known = ok(table.load_record(InvitationKind::Engagement, &engi(6)).await).unwrap_or_else(|| panic!("record"));
    let seen_expired = engagement_model(6, 1, InvitationStatus::Expired);
    let mut theirs = known.clone();
    theirs.observe(&seen_expired, t0() + chrono::Duration::hours(3));
    let their_event =
        InvitationEvent::transition(&seen_expired, InvitationStatus::Pending, t0() + chrono::Duration::hours(3))
            .map(|e| ok(OutboundEvent::from_event(&e)))
            .unwrap_or_else(|| panic!("Expired"));
    let outcome = ok(table.commit(vec![RecordChange::update(theirs, vec![their_event])]).await);
    assert_eq!(outcome, [shared::domain::CommitOutcome::Committed]);

    let after_expiry = run(&stack).await;
    let events = received(&stack).await;
    assert_eq!(expired(&events), [engi(4), engi(6)], "engi-6's event is list-and-publish's, drained by the sweeper");
    assert!(warnings(&events).is_empty());
    assert_eq!(after_expiry["expired"], 1);
    run(&stack).await;
    assert!(received(&stack).await.is_empty(), "an expiry is reported once");

    // +30h in all: 100h → 70h (72), 50h → 20h (24), 10h expired, the connection expired.
    ok(stack.advance_clock(27.0).await);
    let later = run(&stack).await;
    let events = received(&stack).await;
    assert_eq!(warnings(&events), [(engi(1), 72, 70.0), (engi(2), 24, 20.0)]);
    assert_eq!(expired(&events), [engi(3), "pacinv-P000000000001".to_owned()]);
    assert_eq!(warning_counts(&later), BTreeMap::from([("4".into(), 0), ("24".into(), 1), ("72".into(), 1)]));
    run(&stack).await;
    assert!(received(&stack).await.is_empty());

    // Terminal records carry a TTL (RETENTION_DAYS after they became terminal).
    let item = ok(stack
        .dynamodb
        .get_item()
        .table_name(TABLE)
        .key("pk", aws_attr("INV#AWS"))
        .key("sk", aws_attr(&format!("engagement#{}", engi(4))))
        .send()
        .await);
    let ttl = item.item().and_then(|i| i.get("ttl")).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok());
    let expected = (t0() + chrono::Duration::hours(3) + chrono::Duration::days(30)).timestamp();
    assert!(ttl.is_some_and(|t| (t - expected).abs() < 60), "ttl {ttl:?}, expected about {expected}");
}

fn aws_attr(s: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(s.to_owned())
}

#[tokio::test]
async fn an_extended_expiry_rearms_the_warnings() {
    let stack = stack(&[(1, 10)], vec![]).await;
    let _f = start(&stack, &[]);
    run(&stack).await;
    let first = received(&stack).await;
    assert_eq!(warnings(&first), [(engi(1), 24, 10.0)]);

    // Extended by two days: 58h left, under 72h for the new expiry.
    let extended = t0() + chrono::Duration::hours(58);
    ok(stack.patch_invitation("engagement", &engi(1), json!({"ExpirationDate": extended.to_rfc3339()})).await);
    run(&stack).await;
    let rearmed = received(&stack).await;
    assert_eq!(warnings(&rearmed), [(engi(1), 72, 58.0)]);
    assert_eq!(rearmed[0]["detail"]["expiresAt"], "2026-11-22T19:00:00Z");
    run(&stack).await;
    assert!(received(&stack).await.is_empty());

    ok(stack.advance_clock(36.0).await);
    run(&stack).await;
    let again = received(&stack).await;
    assert_eq!(warnings(&again), [(engi(1), 24, 22.0)]);
    let ids: std::collections::HashSet<&str> =
        [&first[0], &rearmed[0], &again[0]].iter().filter_map(|e| e["detail"]["eventId"].as_str()).collect();
    assert_eq!(ids.len(), 3, "a re-armed warning is a new fact with its own id");
}

#[tokio::test]
async fn invalid_warning_hours_stop_start_up_naming_the_variable() {
    let stack = stack(&[], vec![]).await;
    for value in ["abc", "-1", ""] {
        let mut f = start(&stack, &[("EXPIRY_WARNING_HOURS", value)]);
        let status = ok(f.wait_exit(Duration::from_secs(30)).await);
        assert!(!status.success(), "{value:?}: started anyway");
        let logs = f.logs().join("\n");
        assert!(logs.contains("EXPIRY_WARNING_HOURS"), "{value:?}: {logs}");
        assert!(logs.contains("whole hours from 1 to 8760"), "{value:?}: {logs}");
        let problem = if value.is_empty() { "empty list" } else { value };
        assert!(logs.contains(problem), "{value:?}: {logs}");
    }
}

#[tokio::test]
async fn a_run_killed_mid_delivery_loses_no_warning_and_sends_exactly_the_committed_event_ids() {
    let stack = Arc::new(stack(&[(1, 50), (2, 10), (3, 2)], vec![]).await);
    let table = store(&stack);

    // Run 1 commits its warnings, then dies while PutEvents is in flight: nothing delivered.
    let mut f = start(&stack, &[]);
    stack.proxy.set_faults(PutEventsFaults { hold: true, ..Default::default() });
    let invoke = {
        let stack = stack.clone();
        tokio::spawn(async move {
            let payload = event_file("expire-sweeper-scheduled.json")?;
            stack.invoke(NAME, &payload).await
        })
    };
    let held = tokio::time::timeout(Duration::from_secs(60), stack.proxy.wait_until_held()).await;
    assert!(held.is_ok(), "the run never reached PutEvents");
    ok(f.kill().await);
    stack.proxy.release(false);
    invoke.abort();
    assert!(ok(stack.received().await).is_empty());
    let queued: Vec<String> = ok(table.outbox().await).into_iter().map(|e| e.event.event_id).collect();
    assert_eq!(queued.len(), 3, "the warnings were committed before the crash");

    // Run 2, fresh process: nothing decided again, the queued warnings go out.
    let _f = start(&stack, &[]);
    let second = run(&stack).await;
    assert_eq!(warning_counts(&second).values().sum::<u64>(), 0, "already recorded as warned");
    assert_eq!(second["events"]["delivered"], 3);
    let events = received(&stack).await;
    assert_eq!(warnings(&events), [(engi(1), 72, 50.0), (engi(2), 24, 10.0), (engi(3), 4, 2.0)]);
    let mut delivered: Vec<String> =
        events.iter().filter_map(|e| e["detail"]["eventId"].as_str().map(str::to_owned)).collect();
    delivered.sort();
    let mut queued = queued;
    queued.sort();
    assert_eq!(delivered, queued, "exactly what was committed, with the ids it was committed with");
    // The ids belong to the facts (invitation, threshold, expiry), not to a run: a run that
    // died before committing would decide the same warnings again under the same ids, so
    // any duplicate a crash can cause carries the id of the first.
    let mut facts: Vec<String> = [(1, 50, 72), (2, 10, 24), (3, 2, 4)]
        .into_iter()
        .map(|(n, h, t)| {
            let inv = engagement_model(n, h, InvitationStatus::Pending);
            InvitationEvent::expiring_soon(&inv, t, t0() + chrono::Duration::minutes(17)).detail.event_id
        })
        .collect();
    facts.sort();
    assert_eq!(delivered, facts);
    assert!(ok(table.outbox().await).is_empty());
    run(&stack).await;
    assert!(received(&stack).await.is_empty());
}

#[tokio::test]
async fn the_digest_lists_what_expires_within_the_largest_threshold_soonest_first() {
    let stack = stack(&[(1, 100), (2, 50), (3, 10)], vec![connection_invitation("pacinv-P000000000001", 30)]).await;
    let _f = start(&stack, &[("DIGEST", "true")]);
    let summary = run(&stack).await;
    assert_eq!(summary["digest"], 3);
    let events = received(&stack).await;
    let digests: Vec<&Value> = events.iter().filter(|e| e["detail-type"] == "Invitations Expiring Digest").collect();
    assert_eq!(digests.len(), 1);
    let d = &digests[0]["detail"];
    assert_eq!(
        (d["count"].as_u64(), d["omitted"].as_u64(), d["thresholdHours"].as_u64()),
        (Some(3), Some(0), Some(72))
    );
    let listed: Vec<(String, f64)> = d["invitations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (i["invitationId"].as_str().unwrap_or("?").to_owned(), i["hoursRemaining"].as_f64().unwrap_or(0.0))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(listed, [(engi(3), 10.0), ("pacinv-P000000000001".to_owned(), 30.0), (engi(2), 50.0)]);
    assert_eq!(digests[0]["resources"], json!([]));

    // A manual invoke can turn it off for one run.
    let off = ok(ok(stack.invoke(NAME, &json!({"digest": false})).await).output());
    assert!(off["digest"].is_null());
    // Unknown options are refused by name.
    let refused = ok(stack.invoke(NAME, &json!({"digests": true})).await);
    let message = format!("{refused:?}");
    assert!(message.contains("unknown field `digests`"), "{message}");
}

/// How fast we answer, in the digest and as metrics: a referral a person accepts in Partner
/// Central and one that expires unanswered, both seen PENDING first.
#[tokio::test]
async fn the_digest_and_the_metrics_say_how_fast_received_invitations_were_answered() {
    // engi 1: expires in 100 h (received 260 h before t0); engi 2: expires in 5 h.
    let stack = stack(&[(1, 100), (2, 5)], vec![]).await;
    let mut f = start(&stack, &[]);
    // 1. The sweeper records both as PENDING.
    let first = ok(ok(stack.invoke(NAME, &json!({"digest": false})).await).output());
    assert!(first["digest"].is_null(), "{first}");
    // 2. Someone accepts engi 1 in Partner Central; engi 2 expires unanswered 6 h later.
    ok(stack
        .emulator_control(
            "PATCH",
            &format!("engagement-invitations/AWS/{}", engi(1)),
            Some(json!({"Status": "ACCEPTED"})),
        )
        .await);
    ok(stack.emulator_control("POST", "clock/advance", Some(json!({"hours": 6}))).await);
    // 3. The next run records both transitions, then the digest reads the records.
    let second = ok(ok(stack.invoke(NAME, &json!({"digest": true})).await).output());
    assert_eq!(second["digest"], 0, "{second}");
    let events = received(&stack).await;
    let digest = events.iter().find(|e| e["detail-type"] == "Invitations Expiring Digest");
    let times = digest.map(|d| d["detail"]["answerTimes"].clone()).unwrap_or_default();
    // Received at t0 - 260 h, the answer seen at t0 + 6 h (the emulator's clock).
    assert_eq!(
        times,
        json!({"windowDays": 7,
               "answered": [{"kind": "engagement", "answeredBy": "person", "count": 1, "p50Hours": 266.0, "p90Hours": 266.0}],
               "expiredUnanswered": {"connection": 0, "engagement": 1}}),
        "{events:#?}"
    );
    // A third run records nothing new.
    ok(ok(stack.invoke(NAME, &json!({"digest": false})).await).output());
    // The same facts went out as EMF metrics when the sweeper recorded them, once.
    ok(f.kill().await);
    let metrics: Vec<Value> = f
        .logs()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l.get("_aws").is_some())
        .collect();
    let answers: Vec<&Value> = metrics.iter().filter(|m| m.get("AnswerTime").is_some()).collect();
    assert_eq!(answers.len(), 1, "no answer is counted twice: {metrics:#?}");
    let answer = answers[0];
    assert_eq!(
        (&answer["Kind"], &answer["AnsweredBy"], &answer["Catalog"]),
        (&json!("engagement"), &json!("person"), &json!("AWS"))
    );
    // Seconds; the emulator's clock runs on from t0 + 6 h while the test goes on.
    let seconds: Vec<f64> =
        answer["AnswerTime"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    assert!(seconds.len() == 1 && (seconds[0] - 266.0 * 3600.0).abs() < 60.0, "{answer}");
    assert_eq!(answer["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Catalog", "Kind", "AnsweredBy"]]));
    let expired: Vec<&Value> = metrics.iter().filter(|m| m.get("ExpiredUnanswered").is_some()).collect();
    assert_eq!(expired.len(), 1, "{metrics:#?}");
    assert_eq!((&expired[0]["Kind"], &expired[0]["ExpiredUnanswered"]), (&json!("engagement"), &json!(1)));
}
