//! End to end, connection invitations we received: the built `auto-respond` binary under a
//! Lambda runtime against the Partner Central emulator (AcceptConnectionInvitation and
//! RejectConnectionInvitation with their ClientToken) and moto (state table, bus, an SQS
//! consumer). A dry run plans (`Connection Invitation Response Planned`), a real run accepts
//! and rejects exactly the matches, once; what we sent is never answered.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use harness::contract::{ids, strings};
use harness::stack::{Stack, StackOptions};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};

const FUNCTION: &str = "auto-respond";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

/// A PENDING connection invitation in the emulator's seed format (15-day expiry).
fn connection(id: &str, participant: &str, age_hours: i64, other: &str) -> Value {
    json!({
        "Catalog": "AWS", "Id": id, "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": (t0() - Duration::hours(age_hours)).to_rfc3339(),
        "OtherParticipantIdentifier": other, "ParticipantType": participant, "Status": "PENDING",
        "InvitationMessage": "Let's build together", "InviterEmail": "ann@example.com", "InviterName": "Ann"
    })
}

const PARTNER: &str = "pacinv-Partner000001";
const STRANGER: &str = "pacinv-Stranger00001";
const KEEP: &str = "pacinv-KeepThisOne01";
const OURS: &str = "pacinv-Ours000000001";

fn seed() -> SeedDocument {
    let invitations = vec![
        connection(PARTNER, "RECEIVER", 30, "111122223333"),
        connection(STRANGER, "RECEIVER", 72, "999988887777"),
        connection(KEEP, "RECEIVER", 80, "111122223333"),
        // We sent this one; it matches every rule and must never be answered.
        connection(OURS, "SENDER", 100, "111122223333"),
    ];
    SeedDocument::from_json(&json!({"ConnectionInvitations": invitations}).to_string())
        .unwrap_or_else(|e| panic!("seed: {e}"))
}

fn policy(dry_run: bool) -> String {
    json!({
        "version": 1, "dryRun": dry_run, "maxActionsPerRun": 10, "maxActionsPerDay": 10,
        "rules": [
            {"name": "known-partners", "kind": "connection",
             "match": {"otherParticipantIdentifiers": ["111122223333"], "connectionTypes": ["OPPORTUNITY_COLLABORATION"]},
             "action": "accept"},
            {"name": "strangers", "kind": "connection", "match": {"olderThanHours": 48},
             "action": "reject", "rejectionReason": "Not a partner we work with"}
        ],
        "exclude": {"invitationIds": [KEEP]}
    })
    .to_string()
}

async fn invoke(stack: &Stack, payload: &Value) -> Value {
    stack.invoke(FUNCTION, payload).await.and_then(|i| i.output()).unwrap_or_else(|e| panic!("invoke: {e}"))
}

async fn status(stack: &Stack, id: &str) -> String {
    let record = stack
        .emulator_control("GET", &format!("connection-invitations/AWS/{id}"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    record["Status"].as_str().unwrap_or_default().to_owned()
}

async fn answers(stack: &Stack) -> (u64, u64) {
    let stats = stack.emulator_stats().await.unwrap_or_else(|e| panic!("{e}"));
    let requests = |op: &str| stats["operations"][op]["requests"].as_u64().unwrap_or(0);
    (requests("AcceptConnectionInvitation"), requests("RejectConnectionInvitation"))
}

/// (detail-type, invitation, rule) of each received event.
fn facts(events: &[Value]) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            let d = &e["detail"];
            (
                e["detail-type"].as_str().unwrap_or_default().to_owned(),
                d["invitationId"].as_str().unwrap_or_default().to_owned(),
                d["cause"]["rule"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_connection_policy_plans_in_a_dry_run_then_answers_each_match_once() {
    let stack = Stack::start(StackOptions { clock: Some(t0()), seed: Some(seed()), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("stack: {e}"));
    // One process for both runs: the payload forces the dry run (a payload can only force
    // one). Stopping a process and starting another under the same name could hand the next
    // invocation to the stopped one's pending runtime request, and hang.
    let _function = stack
        .start_function(FUNCTION, Path::new(env!("CARGO_BIN_EXE_auto-respond")), &[("RESPOND_POLICY", &policy(false))])
        .unwrap_or_else(|e| panic!("start: {e}"));
    let s = invoke(&stack, &json!({"dryRun": true})).await;
    println!("DRY RUN SUMMARY: {s}");
    assert_eq!(s["dryRun"], true, "{s}");
    assert_eq!(strings(&s["planned"]), ids(&[STRANGER, PARTNER]), "oldest first: {s}");
    assert_eq!(answers(&stack).await, (0, 0));
    let events = stack.received().await.unwrap_or_else(|e| panic!("received: {e}"));
    harness::contract::check_events(&events).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        facts(&events),
        [
            ("Connection Invitation Response Planned".into(), PARTNER.into(), "known-partners".into()),
            ("Connection Invitation Response Planned".into(), STRANGER.into(), "strangers".into()),
        ]
    );

    let s = invoke(&stack, &json!({})).await;
    println!("REAL RUN SUMMARY: {s}");
    assert_eq!(strings(&s["accepted"]), ids(&[PARTNER]), "{s}");
    assert_eq!(strings(&s["rejected"]), ids(&[STRANGER]), "{s}");
    assert_eq!(answers(&stack).await, (1, 1));
    assert_eq!(status(&stack, PARTNER).await, "ACCEPTED");
    assert_eq!(status(&stack, STRANGER).await, "REJECTED");
    assert_eq!((status(&stack, KEEP).await, status(&stack, OURS).await), ("PENDING".into(), "PENDING".into()));
    let events = stack.received().await.unwrap_or_else(|e| panic!("received: {e}"));
    harness::contract::check_events(&events).unwrap_or_else(|e| panic!("{e}"));
    let answered: Vec<&Value> =
        events.iter().filter(|e| !e["detail-type"].as_str().unwrap_or_default().ends_with("Planned")).collect();
    let answered: Vec<Value> = answered.into_iter().cloned().collect();
    assert_eq!(
        facts(&answered),
        [
            ("Connection Invitation Accepted".into(), PARTNER.into(), "known-partners".into()),
            ("Connection Invitation Rejected".into(), STRANGER.into(), "strangers".into()),
        ]
    );
    for e in &answered {
        assert_eq!(e["detail"]["cause"]["policyHash"], s["policyHash"], "{e}");
        assert_eq!(e["detail"]["previousStatus"], "PENDING", "{e}");
    }

    // Again: nothing answered twice.
    let again = invoke(&stack, &json!({})).await;
    assert!(strings(&again["accepted"]).is_empty() && strings(&again["rejected"]).is_empty(), "{again}");
    assert_eq!(answers(&stack).await, (1, 1));
}
