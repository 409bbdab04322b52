//! End to end: the built `list-and-publish` binary under the Lambda runtime emulator, against
//! the Partner Central emulator (virtual clock), moto (DynamoDB state table, EventBridge bus,
//! SQS consumer) and the EventBridge fault proxy. Every assertion is on what reached the
//! consumer queue, the state table or the emulator's request counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, TimeZone, Utc};
use harness::lambda::FunctionProcess;
use harness::proxy::PutEventsFaults;
use harness::stack::{Stack, StackOptions, TABLE};
use partnercentral_local::{CatalogChoice, GenerateConfig, SeedDocument};
use serde_json::{Value, json};
use shared::domain::event::event_id;
use shared::domain::{Catalog, DetailType, InvitationKind};

const NAME: &str = "list-and-publish";

/// This repository's root. (Not the harness's `workspace_root()`: with the target directory
/// shared between worktrees, the harness may have been compiled in another one.)
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// A sample payload from `events/`.
fn event_file(name: &str) -> Result<Value, String> {
    let path = repo().join("events").join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn cid(n: u32) -> String {
    format!("pacinv-A{n:012}")
}

fn eid(c: char) -> String {
    format!("engi-000000000000{c}")
}

fn connection(n: u32, side: &str, status: &str, created: DateTime<Utc>, expires: DateTime<Utc>) -> Value {
    json!({
        "Catalog": "AWS", "Id": cid(n), "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": ts(created), "UpdatedAt": ts(created), "ExpiresAt": ts(expires),
        "OtherParticipantIdentifier": "444455556666", "ParticipantType": side, "Status": status,
        "InvitationMessage": format!("Let's work together ({n})"), "InviterName": "Ana Silva",
        "InviterEmail": "ana@example.com"
    })
}

fn engagement(c: char, side: &str, status: &str, created: DateTime<Utc>, expires: DateTime<Utc>) -> Value {
    json!({
        "Catalog": "AWS", "Id": eid(c), "PayloadType": "OpportunityInvitation",
        "EngagementId": format!("eng-0000000000000{c}"), "EngagementTitle": format!("Opportunity {c}"),
        "SenderAwsAccountId": "444455556666", "SenderCompanyName": "Example Corp",
        "InvitationDate": ts(created), "ExpirationDate": ts(expires), "ParticipantType": side, "Status": status
    })
}

/// The seeded account: pending and finished invitations of both kinds and sides.
fn seed() -> SeedDocument {
    let t = t0();
    let d = Duration::days;
    let h = Duration::hours;
    let doc = json!({
        "ConnectionInvitations": [
            connection(1, "RECEIVER", "PENDING", t - d(2), t + d(13)),   // to be accepted
            connection(2, "SENDER", "PENDING", t - d(1), t + d(14)),     // to be canceled
            connection(3, "RECEIVER", "PENDING", t - d(10), t + h(4)),   // to expire
            connection(4, "RECEIVER", "ACCEPTED", t - d(60), t - d(45)), // history
            connection(5, "SENDER", "PENDING", t - d(3), t + d(12)),     // untouched
        ],
        "EngagementInvitations": [
            engagement('a', "RECEIVER", "PENDING", t - d(3), t + d(12)),  // to be accepted
            engagement('b', "RECEIVER", "PENDING", t - d(2), t + d(13)),  // to be rejected
            engagement('c', "SENDER", "PENDING", t - d(14), t + h(4)),    // to expire
            engagement('d', "RECEIVER", "EXPIRED", t - d(100), t - d(85)), // history
            engagement('e', "SENDER", "PENDING", t - d(5), t + d(10)),    // untouched
        ]
    });
    ok(SeedDocument::from_json(&doc.to_string()))
}

async fn seeded_stack(create_bus: bool) -> Stack {
    ok(Stack::start(StackOptions { clock: Some(t0()), seed: Some(seed()), create_bus, ..Default::default() }).await)
}

fn start(stack: &Stack, env: &[(&str, &str)]) -> FunctionProcess {
    ok(stack.start_function(NAME, Path::new(env!("CARGO_BIN_EXE_list-and-publish")), env))
}

/// Invoke with a sample payload; on a function error, fail with what the function logged.
async fn run(stack: &Stack, f: &FunctionProcess, event: &str) -> Value {
    match ok(stack.invoke(NAME, &ok(event_file(event))).await).output() {
        Ok(out) => out,
        Err(e) => panic!("{e}\nfunction logs:\n{}", f.logs().join("\n")),
    }
}

async fn scheduled(stack: &Stack, f: &FunctionProcess) -> Value {
    run(stack, f, "list-and-publish-scheduled.json").await
}

/// (detail-type, invitation id) of each event, sorted.
fn facts(events: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["detail-type"].as_str().unwrap_or("?").to_owned(),
                e["detail"]["invitationId"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn fact(detail_type: &str, id: &str) -> (String, String) {
    (detail_type.to_owned(), id.to_owned())
}

fn find<'a>(events: &'a [Value], detail_type: &str, id: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["detail-type"] == detail_type && e["detail"]["invitationId"] == id)
        .unwrap_or_else(|| panic!("no {detail_type} for {id} in {events:?}"))
}

/// The contract id of a fact, computed independently of the function.
fn expected_id(kind: InvitationKind, id: &str, detail_type: &str, discriminator: &str) -> String {
    let dt = DetailType::parse(detail_type).unwrap_or_else(|| panic!("{detail_type}"));
    event_id(kind, Catalog::Aws, id, dt, discriminator)
}

fn validate_against_schema(events: &[Value]) {
    ok(harness::contract::check_events(events));
}

#[tokio::test]
async fn baseline_then_every_transition_is_published_exactly_once_with_its_fields_and_id() {
    let stack = seeded_stack(true).await;
    let f = start(&stack, &[]);

    // Baseline: Created for what is PENDING, nothing for history.
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["mode"], "baseline");
    let events = ok(stack.received().await);
    validate_against_schema(&events);
    assert_eq!(
        facts(&events),
        vec![
            fact("Connection Invitation Created", &cid(1)),
            fact("Connection Invitation Created", &cid(2)),
            fact("Connection Invitation Created", &cid(3)),
            fact("Connection Invitation Created", &cid(5)),
            fact("Engagement Invitation Created", &eid('a')),
            fact("Engagement Invitation Created", &eid('b')),
            fact("Engagement Invitation Created", &eid('c')),
            fact("Engagement Invitation Created", &eid('e')),
        ]
    );
    let created = find(&events, "Connection Invitation Created", &cid(1));
    assert_eq!(created["source"], "partnercentral.invitations");
    assert_eq!(
        created["detail"]["eventId"].as_str(),
        Some(expected_id(InvitationKind::Connection, &cid(1), "Connection Invitation Created", "created").as_str())
    );
    assert_eq!(created["resources"][0], created["detail"]["arn"]);
    let invitation = &created["detail"]["invitation"];
    assert!(invitation.get("details").is_none(), "no inviter, message or e-mail by default: {invitation}");
    assert_eq!(created["detail"]["previousStatus"], Value::Null);

    // Nothing changed: nothing published.
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["mode"], "incremental");
    assert_eq!(out["changes"], json!({}));
    assert!(ok(stack.received().await).is_empty());

    // Accept, reject, cancel, expire (clock), and two new invitations.
    ok(stack.advance_clock(5.0).await);
    let now = ok(stack.emulator_now().await);
    ok(stack.patch_invitation("connection", &cid(1), json!({"Status": "ACCEPTED"})).await);
    ok(stack.patch_invitation("connection", &cid(2), json!({"Status": "CANCELED"})).await);
    ok(stack.patch_invitation("engagement", &eid('a'), json!({"Status": "ACCEPTED"})).await);
    ok(stack.patch_invitation("engagement", &eid('b'), json!({"Status": "REJECTED"})).await);
    ok(stack.put_invitation("connection", connection(6, "RECEIVER", "PENDING", now, now + Duration::days(15))).await);
    ok(stack.put_invitation("engagement", engagement('f', "RECEIVER", "PENDING", now, now + Duration::days(15))).await);

    let out = scheduled(&stack, &f).await;
    assert_eq!(out["mode"], "incremental");
    let events = ok(stack.received().await);
    validate_against_schema(&events);
    assert_eq!(
        facts(&events),
        vec![
            fact("Connection Invitation Accepted", &cid(1)),
            fact("Connection Invitation Canceled", &cid(2)),
            fact("Connection Invitation Created", &cid(6)),
            fact("Connection Invitation Expired", &cid(3)),
            fact("Engagement Invitation Accepted", &eid('a')),
            fact("Engagement Invitation Created", &eid('f')),
            fact("Engagement Invitation Expired", &eid('c')),
            fact("Engagement Invitation Rejected", &eid('b')),
        ]
    );
    for (kind, id, detail_type, status) in [
        (InvitationKind::Connection, cid(1), "Connection Invitation Accepted", "ACCEPTED"),
        (InvitationKind::Connection, cid(2), "Connection Invitation Canceled", "CANCELED"),
        (InvitationKind::Connection, cid(3), "Connection Invitation Expired", "EXPIRED"),
        (InvitationKind::Engagement, eid('a'), "Engagement Invitation Accepted", "ACCEPTED"),
        (InvitationKind::Engagement, eid('b'), "Engagement Invitation Rejected", "REJECTED"),
        (InvitationKind::Engagement, eid('c'), "Engagement Invitation Expired", "EXPIRED"),
    ] {
        let e = find(&events, detail_type, &id);
        let d = &e["detail"];
        assert_eq!((d["status"].as_str(), d["previousStatus"].as_str()), (Some(status), Some("PENDING")), "{id}");
        assert_eq!(d["eventId"].as_str(), Some(expected_id(kind, &id, detail_type, status).as_str()), "{id}");
        let observed = d["observedAt"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        let lag = observed.map(|o| (o.with_timezone(&Utc) - now).num_seconds());
        assert!(lag.is_some_and(|s| (0..60).contains(&s)), "observedAt follows the service clock: {lag:?}");
    }
    let accepted = find(&events, "Connection Invitation Accepted", &cid(1));
    assert!(accepted["detail"]["invitation"].get("details").is_none(), "no personal data by default");
    let engagement = &find(&events, "Engagement Invitation Accepted", &eid('a'))["detail"]["invitation"];
    assert_eq!(
        (engagement["engagementTitle"].as_str(), engagement["participantType"].as_str()),
        (Some("Opportunity a"), Some("RECEIVER"))
    );
    assert_eq!(out["changes"]["Engagement Invitation Expired"], 1);
    assert_eq!(out["events"]["delivered"], 8);

    // Two runs in a row: the second finds nothing to publish.
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["changes"], json!({}));
    assert!(ok(stack.received().await).is_empty());
}

#[tokio::test]
async fn the_full_sync_catches_what_incremental_runs_cannot_see_and_history_never_reappears() {
    let stack = seeded_stack(true).await;
    let f = start(&stack, &[]);
    scheduled(&stack, &f).await;
    ok(stack.received().await);

    // Created and accepted between two runs: the connection listing has no date order, so
    // only the full reconciliation can see it.
    ok(stack.advance_clock(2.0).await);
    let created = t0() + Duration::hours(1);
    let accepted = connection(7, "RECEIVER", "ACCEPTED", created, created + Duration::days(15));
    ok(stack.put_invitation("connection", accepted).await);
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["mode"], "incremental");
    assert!(ok(stack.received().await).is_empty());

    let out = run(&stack, &f, "list-and-publish-full-sync.json").await;
    assert_eq!(out["mode"], "full");
    let events = ok(stack.received().await);
    assert_eq!(
        facts(&events),
        vec![fact("Connection Invitation Accepted", &cid(7)), fact("Connection Invitation Created", &cid(7)),]
    );
    validate_against_schema(&events);

    // A full sync due by FULL_SYNC_HOURS: it sees the two expiries of the day, and the
    // finished history (never recorded) stays quiet.
    ok(stack.advance_clock(25.0).await);
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["mode"], "full");
    assert_eq!(
        facts(&ok(stack.received().await)),
        vec![fact("Connection Invitation Expired", &cid(3)), fact("Engagement Invitation Expired", &eid('c')),]
    );

    // A month later the table's TTL has removed the records of what finished (simulated:
    // deleted): those invitations are history now, never announced again.
    for sk in [format!("connection#{}", cid(7)), format!("connection#{}", cid(3)), format!("engagement#{}", eid('c'))] {
        let deleted = stack
            .dynamodb
            .delete_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S("INV#AWS".into()))
            .key("sk", AttributeValue::S(sk))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        let deleted = ok(deleted.map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()));
        assert!(deleted.attributes().is_some(), "the record existed");
    }
    ok(stack.advance_clock(31.0 * 24.0).await);
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["mode"], "full");
    assert_eq!(
        facts(&ok(stack.received().await)),
        vec![
            fact("Connection Invitation Expired", &cid(1)),
            fact("Connection Invitation Expired", &cid(2)),
            fact("Connection Invitation Expired", &cid(5)),
            fact("Engagement Invitation Expired", &eid('a')),
            fact("Engagement Invitation Expired", &eid('b')),
            fact("Engagement Invitation Expired", &eid('e')),
        ],
        "only the month's expiries"
    );

    // A manual option the function does not know is refused, naming it.
    let refused = ok(stack.invoke(NAME, &json!({"mode": "full", "force": true})).await).output();
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("InvalidInput") && message.contains("unknown field `force`") && message.contains("`mode`"),
        "{message}"
    );
}

async fn outbox_items(stack: &Stack) -> usize {
    let out = stack
        .dynamodb
        .query()
        .table_name(TABLE)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("OUTBOX#AWS".into()))
        .send()
        .await;
    ok(out.map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())).items().len()
}

#[tokio::test]
async fn killed_after_its_state_writes_the_next_run_delivers_what_was_missing() {
    let stack = seeded_stack(true).await;
    let mut f = start(&stack, &[]);
    scheduled(&stack, &f).await;
    ok(stack.received().await);

    ok(stack.patch_invitation("engagement", &eid('a'), json!({"Status": "ACCEPTED"})).await);
    ok(stack.patch_invitation("connection", &cid(1), json!({"Status": "REJECTED"})).await);
    stack.proxy.set_faults(PutEventsFaults { hold: true, ..Default::default() });
    // The run commits its changes, then its PutEvents call is held: kill it right there.
    let run = async { stack.invoke(NAME, &ok(event_file("list-and-publish-scheduled.json"))).await };
    tokio::select! {
        _ = run => panic!("the run finished although its PutEvents call was held"),
        () = stack.proxy.wait_until_held() => {}
    }
    ok(f.kill().await);
    stack.proxy.release(false);
    assert!(ok(stack.received().await).is_empty(), "nothing was delivered");
    assert_eq!(outbox_items(&stack).await, 2, "both events were committed to the outbox before the crash");

    let f = start(&stack, &[]);
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["changes"], json!({}), "the state already holds the transitions: nothing detected twice");
    assert_eq!(out["events"]["delivered"], 2);
    let events = ok(stack.received().await);
    assert_eq!(
        facts(&events),
        vec![fact("Connection Invitation Rejected", &cid(1)), fact("Engagement Invitation Accepted", &eid('a')),]
    );
    let accepted = find(&events, "Engagement Invitation Accepted", &eid('a'));
    let id = expected_id(InvitationKind::Engagement, &eid('a'), "Engagement Invitation Accepted", "ACCEPTED");
    assert_eq!(accepted["detail"]["eventId"].as_str(), Some(id.as_str()));
    assert_eq!(outbox_items(&stack).await, 0);

    scheduled(&stack, &f).await;
    assert!(ok(stack.received().await).is_empty(), "delivered once");
}

#[tokio::test]
async fn events_refused_by_eventbridge_stay_queued_are_reported_and_go_out_once_the_bus_exists() {
    let mut stack = seeded_stack(false).await;
    let f = start(&stack, &[]);
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["mode"], "baseline");
    assert_eq!((out["events"]["queued"].as_u64(), out["events"]["delivered"].as_u64()), (Some(8), Some(0)));
    assert_eq!(out["events"]["failed"], 8, "the run succeeds and reports the failures");
    let reason = out["events"]["failureReasons"][0].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("PutEvents") || reason.contains("NotFound"), "{reason}");
    let metrics = f.logs().into_iter().find(|l| l.contains("\"EventsFailed\"")).unwrap_or_default();
    let metrics: Value = serde_json::from_str(&metrics).unwrap_or_default();
    assert_eq!(metrics["EventsFailed"], 8.0, "EMF metric for the alarm");
    assert_eq!(metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"], "PartnerCentralInvitations");

    ok(stack.create_bus().await);
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["changes"], json!({}));
    assert_eq!((out["events"]["delivered"].as_u64(), out["events"]["failed"].as_u64()), (Some(8), Some(0)));
    let events = ok(stack.received().await);
    assert_eq!(events.len(), 8);
    assert!(facts(&events).iter().all(|(t, _)| t.ends_with("Created")));
    validate_against_schema(&events);
}

#[tokio::test]
async fn a_bad_setting_stops_the_function_at_start_up_naming_it() {
    let stack = ok(Stack::start(StackOptions { clock: Some(t0()), ..Default::default() }).await);
    let mut f = start(&stack, &[("BASELINE_EVENTS", "sometimes")]);
    let status = ok(f.wait_exit(StdDuration::from_secs(30)).await);
    assert!(!status.success());
    let logs = f.logs().join("\n");
    assert!(
        logs.contains("BASELINE_EVENTS") && logs.contains("sometimes") && logs.contains("pending, all, none"),
        "{logs}"
    );
}

/// One invitation of the emulator's control listing.
#[derive(Debug, Clone)]
struct Listed {
    id: String,
    side: String,
    status: String,
    created: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
}

fn listed(v: &Value, created: &str, expires: &str) -> Listed {
    let time =
        |k: &str| v[k].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc));
    Listed {
        id: v["Id"].as_str().unwrap_or_default().to_owned(),
        side: v["ParticipantType"].as_str().unwrap_or_default().to_owned(),
        status: v["Status"].as_str().unwrap_or_default().to_owned(),
        created: time(created).unwrap_or_default(),
        expires: time(expires),
    }
}

async fn control_list(stack: &Stack, kind: &str) -> Vec<Listed> {
    let (member, created, expires) = match kind {
        "connection" => ("ConnectionInvitations", "CreatedAt", "ExpiresAt"),
        _ => ("EngagementInvitations", "InvitationDate", "ExpirationDate"),
    };
    let v = ok(stack.emulator_control("GET", &format!("{kind}-invitations?catalog=AWS"), None).await);
    v[member].as_array().map(|a| a.iter().map(|i| listed(i, created, expires)).collect()).unwrap_or_default()
}

fn pages(n: usize) -> u64 {
    (n as u64).div_ceil(100).max(1)
}

#[tokio::test]
async fn a_steady_state_run_on_a_large_account_costs_the_lower_bound() {
    let stack = ok(Stack::start(StackOptions {
        clock: Some(t0()),
        generate: Some(GenerateConfig { seed: 11, engagements: 5_000, connections: 500, catalogs: CatalogChoice::Aws }),
        ..Default::default()
    })
    .await);
    let f = start(&stack, &[("MAX_REQUESTS_PER_SECOND", "100")]);
    let baseline = scheduled(&stack, &f).await;
    assert_eq!(baseline["mode"], "baseline");
    ok(stack.received().await);

    let engagements = control_list(&stack, "engagement").await;
    let connections = control_list(&stack, "connection").await;
    assert_eq!((engagements.len(), connections.len()), (5_000, 500));
    let hours = 3;
    let later = t0() + Duration::hours(hours);
    let pending = |l: &Listed| l.status == "PENDING";
    let will_expire = |l: &Listed| pending(l) && l.expires.is_some_and(|e| e <= later);
    // Pick a few PENDING invitations (created well before the listing window) to answer.
    let pick = |all: &[Listed], side: &str, n: usize, skip: &[String]| -> Vec<String> {
        all.iter()
            .filter(|l| pending(l) && !will_expire(l) && l.side == side && l.created < t0() - Duration::hours(1))
            .filter(|l| !skip.contains(&l.id))
            .take(n)
            .map(|l| l.id.clone())
            .collect()
    };
    let accept_e = pick(&engagements, "RECEIVER", 3, &[]);
    let reject_e = pick(&engagements, "RECEIVER", 2, &accept_e);
    let accept_c = pick(&connections, "RECEIVER", 2, &[]);
    let cancel_c = pick(&connections, "SENDER", 1, &[]);
    assert_eq!((accept_e.len(), reject_e.len(), accept_c.len(), cancel_c.len()), (3, 2, 2, 1), "generated data");

    ok(stack.advance_clock(hours as f64).await);
    let now = ok(stack.emulator_now().await);
    for id in &accept_e {
        ok(stack.patch_invitation("engagement", id, json!({"Status": "ACCEPTED"})).await);
    }
    for id in &reject_e {
        ok(stack.patch_invitation("engagement", id, json!({"Status": "REJECTED"})).await);
    }
    for id in &accept_c {
        ok(stack.patch_invitation("connection", id, json!({"Status": "ACCEPTED"})).await);
    }
    for id in &cancel_c {
        ok(stack.patch_invitation("connection", id, json!({"Status": "CANCELED"})).await);
    }
    let new_e = [
        engagement('x', "RECEIVER", "PENDING", now, now + Duration::days(15)),
        engagement('y', "SENDER", "PENDING", now, now + Duration::days(15)),
    ];
    for e in new_e {
        ok(stack.put_invitation("engagement", e).await);
    }
    ok(stack.put_invitation("connection", connection(9, "RECEIVER", "PENDING", now, now + Duration::days(15))).await);

    // What the formula allows, from what changed.
    let expired_e: Vec<&Listed> = engagements.iter().filter(|l| will_expire(l)).collect();
    let expired_c: Vec<&Listed> = connections.iter().filter(|l| will_expire(l)).collect();
    let answered =
        |id: &String| accept_e.contains(id) || reject_e.contains(id) || accept_c.contains(id) || cancel_c.contains(id);
    let still_pending = |all: &[Listed], side: Option<&str>| {
        all.iter()
            .filter(|l| pending(l) && !will_expire(l) && !answered(&l.id) && side.is_none_or(|s| l.side == s))
            .count()
    };
    // Per engagement side, one newest-first listing down to its window start: the oldest
    // recorded PENDING invitation of the side, or the last run's start (the service's clock
    // minus the 1-minute margin) if older, minus the 10-minute overlap. Its pages: the
    // invitations created since, plus the page where the first older one appears. Every
    // generated PENDING invitation is younger than 15 days, so no side falls back.
    let window_pages = |last_run_start: DateTime<Utc>, followed: &dyn Fn(&Listed) -> bool| -> u64 {
        ["SENDER", "RECEIVER"]
            .iter()
            .map(|side| {
                let oldest = engagements.iter().filter(|l| l.side == *side && followed(l)).map(|l| l.created).min();
                let start = oldest.map_or(last_run_start, |o| o.min(last_run_start)) - Duration::minutes(10);
                assert!(start > now - Duration::days(16), "generated data: a {side} side would fall back");
                let created_since = engagements.iter().filter(|l| l.side == *side && l.created >= start).count() + 1;
                created_since as u64 / 100 + 1
            })
            .sum()
    };
    let list_connections = pages(still_pending(&connections, None) + 1);
    // This run follows what the baseline recorded PENDING (the ones answered or expired since
    // included: the window shows what became of them).
    let list_engagements = window_pages(t0() - Duration::minutes(1), &pending);
    let get_engagements = 0;
    // One Get per connection invitation that left PENDING; none for the new one (its details
    // are not published by default).
    let get_connections = (accept_c.len() + cancel_c.len() + expired_c.len()) as u64;
    let bound = list_connections + list_engagements + get_engagements + get_connections;

    ok(stack.reset_emulator_stats().await);
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["mode"], "incremental");
    let stats = ok(stack.emulator_stats().await);
    let count = |op: &str| stats["operations"][op]["requests"].as_u64().unwrap_or(0);
    let measured = BTreeMap::from([
        ("GetConnectionInvitation", count("GetConnectionInvitation")),
        ("GetEngagementInvitation", count("GetEngagementInvitation")),
        ("ListConnectionInvitations", count("ListConnectionInvitations")),
        ("ListEngagementInvitations", count("ListEngagementInvitations")),
    ]);
    assert_eq!(
        measured,
        BTreeMap::from([
            ("GetConnectionInvitation", get_connections),
            ("GetEngagementInvitation", get_engagements),
            ("ListConnectionInvitations", list_connections),
            ("ListEngagementInvitations", list_engagements),
        ])
    );
    let total = stats["requests_total"].as_u64().unwrap_or(0);
    assert_eq!(total, bound, "the lower-bound formula, exactly");
    assert_eq!(out["apiCallsTotal"].as_u64(), Some(total), "the summary counts what the service saw");
    assert_eq!(out["lowerBound"].as_u64(), Some(bound), "the summary's bound is the formula");

    // A naive poller lists every page of every listing on every run.
    let naive = pages(connections.len() + 1)
        + ["SENDER", "RECEIVER"]
            .iter()
            .map(|s| pages(engagements.iter().filter(|l| l.side == *s).count() + 1))
            .sum::<u64>();
    eprintln!(
        "steady-state run: {total} Partner Central calls ({measured:?}), lower-bound formula {bound}, \
         naive full listing {naive} calls"
    );
    assert!(total * 5 <= naive, "{total} calls (with every change of this run) vs naive {naive}");

    // And the events are exactly the changes.
    let events = ok(stack.received().await);
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    for (t, _) in facts(&events) {
        *by_type.entry(t).or_default() += 1;
    }
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    let mut add = |t: &str, n: usize| {
        if n > 0 {
            *expected.entry(t.to_owned()).or_default() += n;
        }
    };
    add("Engagement Invitation Accepted", accept_e.len());
    add("Engagement Invitation Rejected", reject_e.len());
    add("Engagement Invitation Expired", expired_e.len());
    add("Engagement Invitation Created", 2);
    add("Connection Invitation Accepted", accept_c.len());
    add("Connection Invitation Canceled", cancel_c.len());
    add("Connection Invitation Expired", expired_c.len());
    add("Connection Invitation Created", 1);
    assert_eq!(by_type, expected);

    // The next run, with nothing changed: the listing pages alone. Its windows start at the
    // oldest invitation still PENDING (the answered and expired ones are no longer followed).
    ok(stack.reset_emulator_stats().await);
    let quiet = scheduled(&stack, &f).await;
    assert_eq!(quiet["changes"], json!({}));
    let quiet_total = ok(stack.emulator_stats().await)["requests_total"].as_u64().unwrap_or(0);
    let still = |l: &Listed| pending(l) && !will_expire(l) && !answered(&l.id);
    let quiet_engagements = window_pages(now - Duration::minutes(1), &still);
    assert_eq!(quiet_total, list_connections + quiet_engagements, "no Get when nothing left PENDING");
    assert_eq!(quiet["lowerBound"].as_u64(), Some(quiet_total));
    assert!(quiet_total * 15 <= naive, "{quiet_total} calls vs naive {naive}");
    eprintln!(
        "baseline run: {} calls; run without changes: {quiet_total} calls",
        baseline["apiCallsTotal"].as_u64().unwrap_or(0)
    );
}

/// Lambda filters JSON logs by their `level` (a line without an RFC 3339 `timestamp` counts as
/// INFO): at every level the function can be set to, its metric line must pass, and no
/// personal data may be logged — even at TRACE, with contact details on, where the AWS SDK
/// would print the Get responses (the inviter's e-mail address) and the outbox writes.
#[tokio::test]
async fn at_every_log_level_metrics_survive_lambda_filtering_and_no_personal_data_is_logged() {
    for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] {
        let stack = seeded_stack(true).await;
        let f = start(
            &stack,
            &[("AWS_LAMBDA_LOG_FORMAT", "JSON"), ("AWS_LAMBDA_LOG_LEVEL", level), ("INCLUDE_CONTACT_DETAILS", "true")],
        );
        let out = run(&stack, &f, "list-and-publish-scheduled.json").await;
        assert_eq!(out["mode"], "baseline", "{level}");
        let published = ok(stack.received().await);
        assert!(published.iter().any(|e| e.to_string().contains("ana@example.com")), "{level}: opted in, so published");
        let logs = f.logs();
        assert!(logs.iter().all(|l| !l.contains("ana@example.com")), "{level}: an e-mail address was logged");
        assert!(logs.iter().all(|l| !l.contains("Ana Silva")), "{level}: an inviter name was logged");
        let metrics: Vec<&String> = logs.iter().filter(|l| l.contains("\"_aws\"")).collect();
        assert_eq!(metrics.len(), 1, "{level}: {logs:?}");
        assert!(shared::telemetry::lambda_keeps(metrics[0], level), "{level}: Lambda would drop {}", metrics[0]);
        // Our own lines carry their level: the INFO summary passes at INFO and below only.
        let finished = logs.iter().find(|l| l.contains("run finished")).cloned().unwrap_or_default();
        let info_kept = matches!(level, "TRACE" | "DEBUG" | "INFO");
        assert_eq!(shared::telemetry::lambda_keeps(&finished, level), info_kept, "{level}: {finished}");
    }
}

/// Serve `member` of invitation `id` as `value` (`null`: left out), past the emulator's model.
async fn serve_unreadable(stack: &Stack, id: &str, member: &str, value: Value) {
    ok(stack
        .emulator_control("POST", "response-overrides", Some(json!({"Id": id, "Member": member, "Value": value})))
        .await);
}

#[tokio::test]
async fn an_unreadable_invitation_is_skipped_and_named_the_rest_is_published_and_once_healed_its_change_goes_out() {
    let stack = seeded_stack(true).await;
    let f = start(&stack, &[]);
    scheduled(&stack, &f).await;
    assert_eq!(ok(stack.received().await).len(), 8, "baseline");

    // One invitation of each kind with a status the API may add tomorrow, one of each kind
    // without a member we need; two of them change meanwhile, as do two readable ones.
    serve_unreadable(&stack, &cid(5), "Status", json!("SUSPENDED")).await;
    serve_unreadable(&stack, &cid(2), "Status", Value::Null).await;
    serve_unreadable(&stack, &eid('e'), "Status", json!("WITHDRAWN")).await;
    serve_unreadable(&stack, &eid('b'), "InvitationDate", Value::Null).await;
    ok(stack.patch_invitation("connection", &cid(1), json!({"Status": "ACCEPTED"})).await);
    ok(stack.patch_invitation("connection", &cid(2), json!({"Status": "CANCELED"})).await);
    ok(stack.patch_invitation("engagement", &eid('a'), json!({"Status": "ACCEPTED"})).await);
    ok(stack.patch_invitation("engagement", &eid('b'), json!({"Status": "REJECTED"})).await);

    let out = scheduled(&stack, &f).await;
    assert_eq!(out["unreadableInvitations"], 4, "{out}");
    assert_eq!(out.get("errors"), None, "unreadable is not a failure: {out}");
    let events = ok(stack.received().await);
    assert_eq!(
        facts(&events),
        vec![fact("Connection Invitation Accepted", &cid(1)), fact("Engagement Invitation Accepted", &eid('a'))],
        "the readable changes go out; nothing with invented facts for the unreadable ones"
    );
    let logs = f.logs().join("\n");
    for (id, field, raw) in [
        (cid(5), "Status", "SUSPENDED"),
        (cid(2), "Status", "<missing>"),
        (eid('e'), "Status", "WITHDRAWN"),
        (eid('b'), "InvitationDate", "<missing>"),
    ] {
        let named = logs.lines().any(|l| {
            l.contains("cannot read")
                && l.contains(&id)
                && l.contains(&format!("\"field\":\"{field}\""))
                && l.contains(raw)
        });
        assert!(named, "a warning names {id}, {field} and {raw}:\n{logs}");
    }
    // Their records are as they were: still PENDING in the table.
    for (kind, id) in [("connection", cid(2)), ("engagement", eid('b'))] {
        let item = stack
            .dynamodb
            .get_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S("INV#AWS".into()))
            .key("sk", AttributeValue::S(format!("{kind}#{id}")))
            .consistent_read(true)
            .send()
            .await;
        let item = ok(item.map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()));
        let status = item.item().and_then(|i| i.get("status")).and_then(|v| v.as_s().ok()).cloned();
        assert_eq!(status.as_deref(), Some("PENDING"), "{id}: {item:?}");
    }

    // Readable again (a release that knows the value, or the value changed): the missed
    // transitions are published, once; the unchanged ones publish nothing.
    ok(stack.emulator_control("DELETE", "response-overrides", None).await);
    let out = scheduled(&stack, &f).await;
    assert_eq!(out["unreadableInvitations"], 0, "{out}");
    let events = ok(stack.received().await);
    assert_eq!(
        facts(&events),
        vec![fact("Connection Invitation Canceled", &cid(2)), fact("Engagement Invitation Rejected", &eid('b'))]
    );
    let canceled = find(&events, "Connection Invitation Canceled", &cid(2));
    assert_eq!(
        canceled["detail"]["eventId"].as_str(),
        Some(expected_id(InvitationKind::Connection, &cid(2), "Connection Invitation Canceled", "CANCELED").as_str())
    );
    scheduled(&stack, &f).await;
    assert!(ok(stack.received().await).is_empty(), "published once");
}

/// The check payload (`make smoke`): every check ok against the stand-ins, one Health Check
/// event on the bus, and nothing a user cares about changed (no record, no invitation event,
/// the state table as it was).
#[tokio::test]
async fn the_health_check_proves_every_call_and_changes_nothing() {
    let stack = ok(Stack::start(StackOptions { clock: Some(t0()), seed: Some(seed()), ..Default::default() }).await);
    let _f = start(&stack, &[]);
    let out = ok(ok(stack.invoke(NAME, &json!({"healthCheck": true})).await).output());
    assert_eq!(out["healthy"], true, "{out:#}");
    let checks: Vec<(&str, &str, &str)> = out["checks"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| {
                    (
                        c["check"].as_str().unwrap_or_default(),
                        c["action"].as_str().unwrap_or_default(),
                        c["result"].as_str().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        checks,
        [
            ("Partner Central Account API", "partnercentral:ListConnectionInvitations", "ok"),
            ("Partner Central Selling API", "partnercentral:ListEngagementInvitations", "ok"),
            ("state table write", "dynamodb:UpdateItem", "ok"),
            ("state table read", "dynamodb:GetItem", "ok"),
            ("event bus", "events:PutEvents", "ok"),
        ]
    );
    let received = ok(stack.received().await);
    let types: Vec<&str> = received.iter().filter_map(|e| e["detail-type"].as_str()).collect();
    assert_eq!(types, ["Health Check"], "the consumer queue's rule takes every event of our source");
    assert_eq!(received[0]["detail"]["function"], NAME);
    // No record, no outbox entry, no sync bookkeeping: the table is still empty.
    let items = ok(stack.dynamodb.scan().table_name(TABLE).send().await.map_err(|e| format!("{e:?}")));
    assert_eq!(items.count(), 0, "{:?}", items.items());
}
