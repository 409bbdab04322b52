//! End to end: the built `auto-respond` binary under a Lambda runtime, against the Partner
//! Central emulator (engagement invitations, acceptance tasks on its virtual clock), moto
//! (DynamoDB state table, EventBridge bus) and an SQS consumer behind a rule on the bus.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use harness::contract::{digest, ids, strings};
use harness::lambda::FunctionProcess;
use harness::stack::{Stack, StackOptions};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};

const FUNCTION: &str = "auto-respond";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// An engagement invitation in the emulator's seed format, invited `age_hours` ago (15-day
/// expiry).
fn engagement(id: &str, side: &str, payload: &str, age_hours: i64, company: &str) -> Value {
    let invited = t0() - Duration::hours(age_hours);
    json!({
        "Catalog": "AWS", "Id": id, "PayloadType": payload,
        "EngagementId": format!("eng-0{}", &id[5..]), "EngagementTitle": "Data lake migration",
        "SenderAwsAccountId": "123456789012", "SenderCompanyName": company,
        "InvitationDate": ts(invited), "ExpirationDate": ts(invited + Duration::days(15)),
        "ParticipantType": side, "Status": "PENDING"
    })
}

const REFERRAL: &str = "engi-referral00001";
const DOOMED: &str = "engi-referral00002";
const LEAD: &str = "engi-lead000000001";
const OTHER: &str = "engi-other00000001";
const KEEP: &str = "engi-keepthisone01";
const SENT: &str = "engi-sent000000001";

fn seed() -> SeedDocument {
    let mut doomed = engagement(DOOMED, "RECEIVER", "OpportunityInvitation", 20, "AWS");
    doomed["EmulatorTaskOutcome"] =
        json!({"ReasonCode": "OpportunityValidationFailed", "Message": "Customer website is missing"});
    let invitations = vec![
        engagement(REFERRAL, "RECEIVER", "OpportunityInvitation", 30, "AWS"),
        doomed,
        engagement(LEAD, "RECEIVER", "LeadInvitation", 25, "AWS"),
        engagement(OTHER, "RECEIVER", "OpportunityInvitation", 40, "Acme"),
        engagement(KEEP, "RECEIVER", "OpportunityInvitation", 50, "AWS"),
        // We sent this one; it matches every rule and must never be touched.
        engagement(SENT, "SENDER", "OpportunityInvitation", 60, "AWS"),
    ];
    SeedDocument::from_json(&json!({"EngagementInvitations": invitations}).to_string())
        .unwrap_or_else(|e| panic!("seed: {e}"))
}

fn policy(dry_run: bool, per_run: u32, per_day: u32) -> String {
    json!({
        "version": 1,
        "dryRun": dry_run,
        "maxActionsPerRun": per_run,
        "maxActionsPerDay": per_day,
        "rules": [
            {"name": "aws-referrals", "match": {"payloadTypes": ["OpportunityInvitation"], "senderAwsAccountIds": ["123456789012"], "senderCompanyNames": ["AWS"]}, "action": "accept"},
            {"name": "leads", "match": {"payloadTypes": ["LeadInvitation"]}, "action": "reject", "rejectionReason": "Unable to support"}
        ],
        "exclude": {"invitationIds": [KEEP]}
    })
    .to_string()
}

async fn stack() -> Stack {
    Stack::start(StackOptions { clock: Some(t0()), seed: Some(seed()), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("stack: {e}"))
}

fn start(stack: &Stack, policy: &str) -> FunctionProcess {
    stack
        .start_function(FUNCTION, Path::new(env!("CARGO_BIN_EXE_auto-respond")), &[("RESPOND_POLICY", policy)])
        .unwrap_or_else(|e| panic!("start: {e}"))
}

async fn invoke(stack: &Stack, payload: &Value) -> Value {
    stack.invoke(FUNCTION, payload).await.and_then(|i| i.output()).unwrap_or_else(|e| panic!("invoke: {e}"))
}

async fn received(stack: &Stack) -> Vec<Value> {
    let events = stack.received().await.unwrap_or_else(|e| panic!("received: {e}"));
    harness::contract::check_events(&events).unwrap_or_else(|e| panic!("{e}"));
    events
}

async fn status(stack: &Stack, id: &str) -> String {
    let record = stack
        .emulator_control("GET", &format!("engagement-invitations/AWS/{id}"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    record["Status"].as_str().unwrap_or_default().to_owned()
}

async fn writes(stack: &Stack) -> (u64, u64) {
    let stats = stack.emulator_stats().await.unwrap_or_else(|e| panic!("{e}"));
    let requests = |op: &str| stats["operations"][op]["requests"].as_u64().unwrap_or(0);
    (requests("StartEngagementByAcceptingInvitationTask"), requests("RejectEngagementInvitation"))
}

fn triple(detail_type: &str, id: &str, rule: &str) -> (String, String, String) {
    (detail_type.to_owned(), id.to_owned(), rule.to_owned())
}

fn sorted(mut v: Vec<(String, String, String)>) -> Vec<(String, String, String)> {
    v.sort();
    v
}

#[tokio::test]
async fn a_dry_run_plans_then_a_real_run_answers_exactly_the_matches_and_follows_the_tasks() {
    let stack = stack().await;
    let _f = start(&stack, &policy(false, 10, 10));
    // The sample events (the sam local tier invokes the built function with the same two).
    let sample = |name: &str| harness::stack::event_file(name).unwrap_or_else(|e| panic!("{e}"));
    let dry_run = sample("auto-respond-dry-run.json");
    let scheduled = sample("auto-respond-scheduled.json");
    let everyone = [REFERRAL, DOOMED, LEAD, OTHER, KEEP, SENT];

    // 1. Dry run: plans the three matches, answers nothing.
    let s = invoke(&stack, &dry_run).await;
    assert_eq!(s["dryRun"], true, "{s}");
    assert_eq!(s["candidates"], 5, "{s}");
    assert_eq!(strings(&s["planned"]), ids(&[REFERRAL, LEAD, DOOMED]), "oldest first: {s}");
    assert_eq!(writes(&stack).await, (0, 0));
    for id in everyone {
        assert_eq!(status(&stack, id).await, "PENDING", "{id}");
    }
    let hash = s["policyHash"].as_str().unwrap_or_default().to_owned();
    let planned = received(&stack).await;
    assert_eq!(
        digest(&planned),
        sorted(vec![
            triple("Engagement Invitation Response Planned", LEAD, "leads"),
            triple("Engagement Invitation Response Planned", DOOMED, "aws-referrals"),
            triple("Engagement Invitation Response Planned", REFERRAL, "aws-referrals"),
        ])
    );
    assert!(planned.iter().all(|e| e["detail"]["cause"]["policyHash"] == hash.as_str()));
    let lead = planned.iter().find(|e| e["detail"]["invitationId"] == LEAD).cloned().unwrap_or_default();
    assert_eq!(lead["detail"]["response"], json!({"action": "reject", "rejectionReason": "Unable to support"}));

    // 2. The scheduled run follows the policy: two acceptances started, one rejection.
    let s = invoke(&stack, &scheduled).await;
    assert_eq!(s["dryRun"], false, "{s}");
    let accepting: Vec<String> = s["accepting"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["invitationId"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    assert_eq!(accepting, ids(&[REFERRAL, DOOMED]), "{s}");
    assert_eq!(strings(&s["rejected"]), ids(&[LEAD]), "{s}");
    assert_eq!(writes(&stack).await, (2, 1));
    assert_eq!(s["apiCalls"]["GetEngagementInvitation"], 3, "one Get per action: {s}");
    assert_eq!(status(&stack, LEAD).await, "REJECTED");
    for id in [OTHER, KEEP, SENT] {
        assert_eq!(status(&stack, id).await, "PENDING", "{id} must be left alone");
    }
    let answered = received(&stack).await;
    assert_eq!(
        digest(&answered),
        sorted(vec![
            triple("Engagement Invitation Acceptance Started", DOOMED, "aws-referrals"),
            triple("Engagement Invitation Acceptance Started", REFERRAL, "aws-referrals"),
            triple("Engagement Invitation Rejected", LEAD, "leads"),
        ])
    );
    for e in &answered {
        assert_eq!(e["detail"]["cause"]["type"], "policy");
        assert_eq!(e["detail"]["cause"]["policyHash"], hash.as_str());
    }

    // 3. Again (the tasks still running on the frozen clock): nothing is answered twice.
    let s = invoke(&stack, &scheduled).await;
    assert!(s["accepting"] == json!([]) && s["rejected"] == json!([]), "{s}");
    assert_eq!(writes(&stack).await, (2, 1), "no second task, no second rejection");
    assert!(received(&stack).await.is_empty());

    // 4. The tasks end (virtual time passes): the next run publishes both outcomes.
    stack.advance_clock(1.0).await.unwrap_or_else(|e| panic!("{e}"));
    let s = invoke(&stack, &scheduled).await;
    assert_eq!(s["acceptancesCompleted"][0]["invitationId"], REFERRAL, "{s}");
    assert!(s["acceptancesCompleted"][0]["opportunityId"].as_str().is_some_and(|o| o.starts_with('O')), "{s}");
    assert_eq!(s["acceptancesFailed"][0]["invitationId"], DOOMED, "{s}");
    assert_eq!(s["acceptancesFailed"][0]["reasonCode"], "OpportunityValidationFailed", "{s}");
    assert_eq!(s["acceptancesFailed"][0]["message"], "Customer website is missing", "{s}");
    assert_eq!(status(&stack, REFERRAL).await, "ACCEPTED");
    assert_eq!(status(&stack, DOOMED).await, "PENDING");
    let ended = received(&stack).await;
    assert_eq!(
        digest(&ended),
        sorted(vec![
            triple("Engagement Invitation Acceptance Completed", REFERRAL, "aws-referrals"),
            triple("Engagement Invitation Acceptance Failed", DOOMED, "aws-referrals"),
            triple("Engagement Invitation Accepted", REFERRAL, "aws-referrals"),
        ])
    );
    let failed = ended.iter().find(|e| e["detail"]["invitationId"] == DOOMED).cloned().unwrap_or_default();
    assert_eq!(failed["detail"]["task"]["reasonCode"], "OpportunityValidationFailed");

    // 5. Once more: nothing new, no write.
    let s = invoke(&stack, &scheduled).await;
    assert_eq!(s["eventsQueued"], 0, "{s}");
    assert_eq!(writes(&stack).await, (2, 1));
    assert!(received(&stack).await.is_empty());
}

#[tokio::test]
async fn the_cap_and_the_daily_budget_hold_under_retries() {
    let stack = stack().await;
    let _f = start(&stack, &policy(false, 1, 2));
    let firing = |t: &str| json!({"scheduledTime": t});

    // The same firing twice (a retry): one answer.
    let first = invoke(&stack, &firing("2026-11-20T06:00:00Z")).await;
    let retry = invoke(&stack, &firing("2026-11-20T06:00:00Z")).await;
    assert_eq!(writes(&stack).await, (1, 0), "{first}\n{retry}");
    assert_eq!(strings(&retry["deferred"]).len(), 2, "{retry}");
    // Another firing: one more; a third: the day's budget of 2 is used up.
    invoke(&stack, &firing("2026-11-20T07:00:00Z")).await;
    let third = invoke(&stack, &firing("2026-11-20T08:00:00Z")).await;
    let (started, rejected) = writes(&stack).await;
    assert_eq!(started + rejected, 2, "{third}");
    assert!(strings(&third["notes"]).iter().any(|n| n.contains("auto-respond/day/")), "{third}");
}
