//! End to end, approvals: the built `auto-respond` binary under a Lambda runtime against the
//! Partner Central emulator and moto. A policy whose rules say `"ask": true` publishes
//! `Connection Invitation Approval Requested` and answers nothing; the approval entry (the
//! payload the chat buttons and the documented `aws lambda invoke` send) then refuses a forged
//! id, accepts on an approval, answers a replay with `alreadyDone` (one AcceptConnectionInvitation
//! in the emulator), rejects on another approval, and refuses an approval whose time is past.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use harness::stack::{Stack, StackOptions};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};

const FUNCTION: &str = "auto-respond";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

/// A PENDING connection invitation we received, in the emulator's seed format (15-day expiry).
fn received(id: &str, age_hours: i64, other: &str) -> Value {
    json!({
        "Catalog": "AWS", "Id": id, "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": (t0() - Duration::hours(age_hours)).to_rfc3339(),
        "OtherParticipantIdentifier": other, "ParticipantType": "RECEIVER", "Status": "PENDING",
        "InvitationMessage": "Let's build together", "InviterEmail": "ann@example.com", "InviterName": "Ann"
    })
}

const PARTNER: &str = "pacinv-Partner000001";
const STRANGER: &str = "pacinv-Stranger00001";
const LATE: &str = "pacinv-LatePartner01";

fn seed() -> SeedDocument {
    let invitations = vec![
        received(PARTNER, 30, "111122223333"),
        received(STRANGER, 72, "999988887777"),
        // Created just now: it expires last, so it is the one still PENDING once its approval's
        // time has passed.
        received(LATE, 0, "444455556666"),
    ];
    SeedDocument::from_json(&json!({"ConnectionInvitations": invitations}).to_string())
        .unwrap_or_else(|e| panic!("seed: {e}"))
}

fn policy() -> String {
    json!({
        "version": 1, "dryRun": false, "maxActionsPerRun": 10, "maxActionsPerDay": 10,
        "rules": [
            {"name": "known-partners", "kind": "connection", "ask": true,
             "match": {"otherParticipantIdentifiers": ["111122223333", "444455556666"]}, "action": "accept"},
            {"name": "strangers", "kind": "connection", "ask": true, "match": {"olderThanHours": 48},
             "action": "reject", "rejectionReason": "Not a partner we work with"}
        ]
    })
    .to_string()
}

async fn invoke(stack: &Stack, payload: &Value) -> Value {
    stack.invoke(FUNCTION, payload).await.and_then(|i| i.output()).unwrap_or_else(|e| panic!("invoke: {e}"))
}

fn decision(approval_id: &str, decision: &str) -> Value {
    json!({"approval": {"approvalId": approval_id, "decision": decision}})
}

async fn status(stack: &Stack, id: &str) -> String {
    let record = stack
        .emulator_control("GET", &format!("connection-invitations/AWS/{id}"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    record["Status"].as_str().unwrap_or_default().to_owned()
}

/// (AcceptConnectionInvitation, RejectConnectionInvitation) requests the emulator served.
async fn answers(stack: &Stack) -> (u64, u64) {
    let stats = stack.emulator_stats().await.unwrap_or_else(|e| panic!("{e}"));
    let requests = |op: &str| stats["operations"][op]["requests"].as_u64().unwrap_or(0);
    (requests("AcceptConnectionInvitation"), requests("RejectConnectionInvitation"))
}

async fn received_events(stack: &Stack) -> Vec<Value> {
    let events = stack.received().await.unwrap_or_else(|e| panic!("received: {e}"));
    harness::contract::check_events(&events).unwrap_or_else(|e| panic!("{e}"));
    events
}

#[tokio::test]
async fn ask_then_approve_acts_once_and_refuses_forged_replayed_and_late_approvals() {
    let stack = Stack::start(StackOptions { clock: Some(t0()), seed: Some(seed()), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("stack: {e}"));
    let _function = stack
        .start_function(FUNCTION, Path::new(env!("CARGO_BIN_EXE_auto-respond")), &[("RESPOND_POLICY", &policy())])
        .unwrap_or_else(|e| panic!("start: {e}"));

    // The scheduled run asks and answers nothing.
    let run = invoke(&stack, &json!({})).await;
    println!("ASKING RUN SUMMARY: {run}");
    assert_eq!(answers(&stack).await, (0, 0), "{run}");
    let events = received_events(&stack).await;
    let asked: Vec<&Value> =
        events.iter().filter(|e| e["detail-type"] == "Connection Invitation Approval Requested").collect();
    assert_eq!(asked.len(), 3, "one request per match: {events:?}");
    let approval_of = |id: &str| -> Value {
        asked
            .iter()
            .find(|e| e["detail"]["invitationId"] == id)
            .map(|e| e["detail"]["approval"].clone())
            .unwrap_or_else(|| panic!("no approval requested for {id}: {asked:?}"))
    };
    let (partner, stranger, late) = (approval_of(PARTNER), approval_of(STRANGER), approval_of(LATE));
    println!("APPROVAL REQUESTED (partner): {partner}");
    assert_eq!((partner["action"].as_str(), partner["function"].as_str()), (Some("accept"), Some(FUNCTION)));
    assert_eq!(stranger["action"], "reject");
    let partner_id = partner["approvalId"].as_str().unwrap_or_default().to_owned();
    let stranger_id = stranger["approvalId"].as_str().unwrap_or_default().to_owned();
    let late_id = late["approvalId"].as_str().unwrap_or_default().to_owned();

    // Asked once: the next run does not ask again.
    invoke(&stack, &json!({})).await;
    let again = received_events(&stack).await;
    assert!(
        again.iter().all(|e| e["detail-type"] != "Connection Invitation Approval Requested"),
        "asked twice: {again:?}"
    );

    // A forged id (the recorded one with another nonce) is refused, and nothing is answered.
    let mut parts: Vec<String> = partner_id.split(':').map(str::to_owned).collect();
    if let Some(nonce) = parts.get_mut(4) {
        *nonce = "0".repeat(nonce.len());
    }
    let forged = invoke(&stack, &decision(&parts.join(":"), "approve")).await;
    println!("FORGED: {forged}");
    assert_eq!(forged["outcome"], "refused", "{forged}");
    assert!(forged["reason"].as_str().unwrap_or_default().starts_with("approvalId:"), "{forged}");
    assert_eq!(answers(&stack).await, (0, 0));

    // The genuine approval accepts, with the approval as the cause.
    let approved = invoke(&stack, &decision(&partner_id, "approve")).await;
    println!("APPROVED: {approved}");
    assert_eq!(approved["outcome"], "done", "{approved}");
    assert_eq!(status(&stack, PARTNER).await, "ACCEPTED");
    assert_eq!(answers(&stack).await, (1, 0));
    let events = received_events(&stack).await;
    let accepted: Vec<&Value> =
        events.iter().filter(|e| e["detail-type"] == "Connection Invitation Accepted").collect();
    assert_eq!(accepted.len(), 1, "{events:?}");
    let cause = &accepted[0]["detail"]["cause"];
    println!("ACCEPTED CAUSE: {cause}");
    assert_eq!(cause["type"], "approval", "{cause}");
    assert_eq!(cause["approvalId"], partner_id.as_str(), "{cause}");
    assert_eq!(cause["rule"], "known-partners", "{cause}");

    // The same approval again (a second press of the button): acts once.
    let replay = invoke(&stack, &decision(&partner_id, "approve")).await;
    println!("REPLAY: {replay}");
    assert_eq!(replay["outcome"], "alreadyDone", "{replay}");
    assert_eq!(answers(&stack).await, (1, 0));

    // An approved reject.
    let rejected = invoke(&stack, &decision(&stranger_id, "approve")).await;
    assert_eq!(rejected["outcome"], "done", "{rejected}");
    assert_eq!(status(&stack, STRANGER).await, "REJECTED");
    assert_eq!(answers(&stack).await, (1, 1));

    // Past its `until` (the invitation's expiry less a margin) the approval is refused, though
    // the invitation is still PENDING.
    let until =
        late["until"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc));
    let until = until.unwrap_or_else(|| panic!("no until: {late}"));
    let now = stack.emulator_now().await.unwrap_or_else(|e| panic!("{e}"));
    stack.advance_clock(((until - now).num_minutes() + 10) as f64 / 60.0).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status(&stack, LATE).await, "PENDING");
    let late_answer = invoke(&stack, &decision(&late_id, "approve")).await;
    println!("EXPIRED: {late_answer}");
    assert_eq!(late_answer["outcome"], "refused", "{late_answer}");
    assert_eq!(answers(&stack).await, (1, 1));
    assert_eq!(status(&stack, LATE).await, "PENDING");
}
