//! End to end: the built `auto-cancel` binary under a Lambda runtime, against the Partner
//! Central emulator, moto (DynamoDB state table, EventBridge bus) and an SQS consumer behind a
//! rule on the bus.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use harness::contract::{digest, ids, strings};
use harness::lambda::FunctionProcess;
use harness::stack::{Stack, StackOptions, TABLE, event_file};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use partnercentral_local::{FaultConfig, SeedDocument};
use serde_json::{Value, json};

const FUNCTION: &str = "auto-cancel";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn days_ago(days: f64) -> String {
    (t0() - chrono::Duration::seconds((days * 86_400.0) as i64)).to_rfc3339()
}

/// A PENDING connection invitation in the emulator's seed format (15-day expiry).
fn connection(id: &str, participant: &str, connection_type: &str, age_days: f64, other: &str) -> Value {
    json!({
        "Catalog": "AWS", "Id": id, "ConnectionType": connection_type, "CreatedAt": days_ago(age_days),
        "OtherParticipantIdentifier": other, "ParticipantType": participant, "Status": "PENDING",
        "InvitationMessage": "Let's build together", "InviterEmail": "ann@example.com", "InviterName": "Ann"
    })
}

fn seed(invitations: Vec<Value>) -> SeedDocument {
    SeedDocument::from_json(&json!({"ConnectionInvitations": invitations}).to_string())
        .unwrap_or_else(|e| panic!("seed: {e}"))
}

fn policy(dry_run: bool, cap: u32) -> String {
    policy_with_daily_budget(dry_run, cap, 1000)
}

fn policy_with_daily_budget(dry_run: bool, cap: u32, per_day: u32) -> String {
    json!({
        "version": 1,
        "dryRun": dry_run,
        "maxCancellationsPerRun": cap,
        "maxCancellationsPerDay": per_day,
        "rules": [
            {"name": "stale-collaboration", "match": {"connectionTypes": ["OPPORTUNITY_COLLABORATION"], "olderThanDays": 10}},
            {"name": "expiring-unanswered", "match": {"expiresWithinHours": 24}},
            {"name": "blocked-partners", "match": {"otherParticipantIdentifiers": ["123456789012"]}}
        ],
        "exclude": {"otherParticipantIdentifiers": ["210987654321"], "invitationIds": ["pacinv-KeepThisOne01"]}
    })
    .to_string()
}

async fn stack(options: StackOptions) -> Stack {
    Stack::start(options).await.unwrap_or_else(|e| panic!("stack: {e}"))
}

fn start(stack: &Stack, env: &[(&str, &str)]) -> FunctionProcess {
    stack
        .start_function(FUNCTION, Path::new(env!("CARGO_BIN_EXE_auto-cancel")), env)
        .unwrap_or_else(|e| panic!("start: {e}"))
}

async fn invoke(stack: &Stack, payload: &Value) -> Value {
    stack.invoke(FUNCTION, payload).await.and_then(|i| i.output()).unwrap_or_else(|e| panic!("invoke: {e}"))
}

async fn received(stack: &Stack) -> Vec<Value> {
    stack.received().await.unwrap_or_else(|e| panic!("received: {e}"))
}

async fn status(stack: &Stack, id: &str) -> String {
    let record = stack
        .emulator_control("GET", &format!("connection-invitations/AWS/{id}"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    record["Status"].as_str().unwrap_or_default().to_owned()
}

async fn stats(stack: &Stack) -> Value {
    stack.emulator_stats().await.unwrap_or_else(|e| panic!("{e}"))
}

fn requests(stats: &Value, operation: &str) -> u64 {
    stats["operations"][operation]["requests"].as_u64().unwrap_or(0)
}

/// The invitation's record in the state table, as DynamoDB has it.
async fn record_status(stack: &Stack, id: &str) -> Option<String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let out = stack
        .dynamodb
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("INV#AWS".into()))
        .key("sk", AttributeValue::S(format!("connection#{id}")))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetItem: {e}"));
    out.item().and_then(|i| i.get("status")).and_then(|s| s.as_s().ok()).cloned()
}

fn assert_schema_valid(events: &[Value]) {
    harness::contract::check_events(events).unwrap_or_else(|e| panic!("{e}"));
    for e in events {
        assert!(!e.to_string().contains("ann@example.com"), "the inviter's e-mail must not be published");
    }
}

const STALE: &str = "pacinv-Stale00000001";
const EXPIRING: &str = "pacinv-Expiring00001";
const BLOCKED: &str = "pacinv-Blocked000001";
const YOUNG: &str = "pacinv-Young00000001";
const KEEP_PARTNER: &str = "pacinv-KeepPartner01";
const KEEP_ID: &str = "pacinv-KeepThisOne01";
const RECEIVED: &str = "pacinv-Received00001";

#[tokio::test]
async fn a_dry_run_changes_nothing_then_a_real_run_cancels_exactly_the_matching_sender_invitations() {
    let stack = stack(StackOptions {
        clock: Some(t0()),
        seed: Some(seed(vec![
            connection(STALE, "SENDER", "OPPORTUNITY_COLLABORATION", 12.0, "111111111111"),
            connection(EXPIRING, "SENDER", "SUBSIDIARY", 14.5, "333333333333"),
            connection(BLOCKED, "SENDER", "OPPORTUNITY_COLLABORATION", 1.0, "123456789012"),
            connection(YOUNG, "SENDER", "OPPORTUNITY_COLLABORATION", 2.0, "444444444444"),
            connection(KEEP_PARTNER, "SENDER", "OPPORTUNITY_COLLABORATION", 13.0, "210987654321"),
            connection(KEEP_ID, "SENDER", "OPPORTUNITY_COLLABORATION", 12.5, "555555555555"),
            // We received this one; it matches every rule and must never be touched.
            connection(RECEIVED, "RECEIVER", "OPPORTUNITY_COLLABORATION", 14.5, "123456789012"),
        ])),
        ..Default::default()
    })
    .await;
    // A policy for real cancellations; the payload forces the first runs to be dry.
    let policy = policy(false, 10);
    let _f = start(&stack, &[("CANCEL_POLICY", &policy)]);
    let dry_run = event_file("auto-cancel-dry-run.json").unwrap_or_else(|e| panic!("{e}"));
    let scheduled = event_file("auto-cancel-scheduled.json").unwrap_or_else(|e| panic!("{e}"));
    let everyone = [STALE, EXPIRING, BLOCKED, YOUNG, KEEP_PARTNER, KEEP_ID, RECEIVED];

    // 1. Dry run: plans the three matches, changes nothing in Partner Central.
    let s = invoke(&stack, &dry_run).await;
    assert_eq!(s["dryRun"], true, "{s}");
    assert_eq!(s["candidates"], 6);
    assert_eq!(strings(&s["planned"]), ids(&[EXPIRING, STALE, BLOCKED]), "oldest first: {s}");
    assert_eq!(s["excluded"], 2);
    assert!(strings(&s["canceled"]).is_empty());
    let stats_after_dry = stats(&stack).await;
    assert_eq!(requests(&stats_after_dry, "CancelConnectionInvitation"), 0);
    assert_eq!(requests(&stats_after_dry, "GetConnectionInvitation"), 0);
    for id in everyone {
        assert_eq!(status(&stack, id).await, "PENDING", "{id}");
    }
    let planned = received(&stack).await;
    assert_schema_valid(&planned);
    let planned_hash = s["policyHash"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        digest(&planned),
        [
            ("Connection Invitation Cancellation Planned".into(), BLOCKED.into(), "blocked-partners".into()),
            ("Connection Invitation Cancellation Planned".into(), EXPIRING.into(), "expiring-unanswered".into()),
            ("Connection Invitation Cancellation Planned".into(), STALE.into(), "stale-collaboration".into()),
        ]
    );
    assert!(planned.iter().all(|e| e["detail"]["cause"]["policyHash"] == planned_hash.as_str()));
    // "Now" is the service's (the emulator's frozen t0, days away from this machine's clock).
    for e in &planned {
        let observed = e["detail"]["observedAt"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        let off = observed.map(|t| (t.with_timezone(&Utc) - t0()).num_seconds().abs());
        assert!(off.is_some_and(|s| s < 60), "observedAt follows the service clock: {e}");
    }

    // 2. The same dry run again: nothing new.
    let s = invoke(&stack, &dry_run).await;
    assert_eq!((s["eventsQueued"].as_u64(), s["eventsDelivered"].as_u64()), (Some(0), Some(0)), "{s}");
    assert!(received(&stack).await.is_empty());

    // 3. The scheduled run follows the policy: real cancellations of exactly the matches.
    let s = invoke(&stack, &scheduled).await;
    assert_eq!(s["dryRun"], false, "{s}");
    assert_eq!(strings(&s["canceled"]), ids(&[EXPIRING, STALE, BLOCKED]), "{s}");
    assert_eq!(s["policyHash"], planned_hash.as_str(), "same policy, same hash as in the dry run");
    assert_eq!(s["apiCalls"]["CancelConnectionInvitation"], 3);
    for id in [STALE, EXPIRING, BLOCKED] {
        assert_eq!(status(&stack, id).await, "CANCELED", "{id}");
        assert_eq!(record_status(&stack, id).await.as_deref(), Some("CANCELED"), "{id} recorded in the state table");
    }
    for id in [YOUNG, KEEP_PARTNER, KEEP_ID, RECEIVED] {
        assert_eq!(status(&stack, id).await, "PENDING", "{id} must be left alone");
    }
    let canceled = received(&stack).await;
    assert_schema_valid(&canceled);
    assert_eq!(
        digest(&canceled),
        [
            ("Connection Invitation Canceled".into(), BLOCKED.into(), "blocked-partners".into()),
            ("Connection Invitation Canceled".into(), EXPIRING.into(), "expiring-unanswered".into()),
            ("Connection Invitation Canceled".into(), STALE.into(), "stale-collaboration".into()),
        ]
    );
    for e in &canceled {
        assert_eq!(e["detail"]["previousStatus"], "PENDING");
        assert_eq!(
            e["detail"]["cause"],
            json!({"type": "policy", "rule": e["detail"]["cause"]["rule"], "policyHash": planned_hash})
        );
        assert!(e["detail"]["invitation"].get("details").is_none(), "no personal data by default: {e}");
    }

    // 4. Again: nothing to cancel, nothing published, no Cancel call.
    stack.reset_emulator_stats().await.unwrap_or_else(|e| panic!("{e}"));
    let s = invoke(&stack, &scheduled).await;
    assert!(strings(&s["canceled"]).is_empty() && s["skipped"] == json!([]), "{s}");
    let st = stats(&stack).await;
    assert_eq!(requests(&st, "CancelConnectionInvitation"), 0);
    assert_eq!(requests(&st, "GetConnectionInvitation"), 0);
    assert!(received(&stack).await.is_empty());
}

#[tokio::test]
async fn under_throttling_the_cap_is_honoured_oldest_first_across_runs() {
    let stack = stack(StackOptions {
        clock: Some(t0()),
        seed: Some(seed(vec![
            connection("pacinv-Oldest0000001", "SENDER", "OPPORTUNITY_COLLABORATION", 13.0, "111111111111"),
            connection("pacinv-Middle0000001", "SENDER", "OPPORTUNITY_COLLABORATION", 12.0, "111111111111"),
            connection("pacinv-Newest0000001", "SENDER", "OPPORTUNITY_COLLABORATION", 11.0, "111111111111"),
            connection(RECEIVED, "RECEIVER", "OPPORTUNITY_COLLABORATION", 14.0, "111111111111"),
        ])),
        emulator_faults: FaultConfig { throttle_rate: 0.3, fault_seed: 7, ..FaultConfig::default() },
        ..Default::default()
    })
    .await;
    let policy = policy(false, 2);
    let _f = start(&stack, &[("CANCEL_POLICY", &policy)]);
    // Two firings of the schedule (a retry of one firing would not get a fresh cap).
    let first_firing = json!({"scheduledTime": "2026-11-20T06:00:00Z"});
    let second_firing = json!({"scheduledTime": "2026-11-20T07:00:00Z"});

    let first = invoke(&stack, &first_firing).await;
    assert_eq!(strings(&first["canceled"]), ids(&["pacinv-Oldest0000001", "pacinv-Middle0000001"]), "{first}");
    assert_eq!(strings(&first["deferred"]), ids(&["pacinv-Newest0000001"]));
    assert_eq!(status(&stack, "pacinv-Newest0000001").await, "PENDING");

    let second = invoke(&stack, &second_firing).await;
    assert_eq!(strings(&second["canceled"]), ids(&["pacinv-Newest0000001"]), "{second}");
    assert!(strings(&second["deferred"]).is_empty());
    assert_eq!(status(&stack, RECEIVED).await, "PENDING");

    let st = stats(&stack).await;
    let throttled = st["faults"]["throttle"].as_u64().unwrap_or(0);
    assert!(throttled > 0, "the emulator throttled nothing: {st}");
    // Every attempt, throttled ones included, is in the summaries' API call counts.
    let attempts: u64 = [&first, &second]
        .iter()
        .flat_map(|s| s["apiCalls"].as_object().cloned().unwrap_or_default().into_values())
        .filter_map(|n| n.as_u64())
        .sum();
    assert_eq!(attempts, st["requests_total"].as_u64().unwrap_or(0), "{st}");
    let events = received(&stack).await;
    let canceled: BTreeSet<String> =
        events.iter().filter_map(|e| e["detail"]["invitationId"].as_str().map(str::to_owned)).collect();
    assert_eq!(events.len(), 3, "one Canceled event per cancellation, no more");
    assert_eq!(canceled.len(), 3);
}

#[tokio::test]
async fn no_mix_of_retries_firings_and_manual_invokes_cancels_more_than_the_policy_allows() {
    let stale: Vec<String> = (1..=6).map(|n| format!("pacinv-Stale0000000{n}")).collect();
    let stack = stack(StackOptions {
        clock: Some(t0()),
        seed: Some(seed(
            stale
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    connection(id, "SENDER", "OPPORTUNITY_COLLABORATION", 13.0 - i as f64 * 0.1, "111111111111")
                })
                .collect(),
        )),
        ..Default::default()
    })
    .await;
    // At most 2 per firing, 3 per day.
    let policy = policy_with_daily_budget(false, 2, 3);
    let _f = start(&stack, &[("CANCEL_POLICY", &policy)]);
    let firing = json!({"scheduledTime": "2026-11-20T06:00:00Z"});

    let first = invoke(&stack, &firing).await;
    assert_eq!(strings(&first["canceled"]), stale[..2].to_vec(), "{first}");
    // The same firing again (Scheduler's retry after a timeout, or Lambda's): nothing more.
    let retry = invoke(&stack, &firing).await;
    assert!(strings(&retry["canceled"]).is_empty(), "{retry}");
    assert_eq!(strings(&retry["deferred"]), stale[2..].to_vec());
    // The next firing the same day: one more, then the day's budget is spent.
    let next = invoke(&stack, &json!({"scheduledTime": "2026-11-20T12:00:00Z"})).await;
    assert_eq!(strings(&next["canceled"]), stale[2..3].to_vec(), "{next}");
    // A manual invoke (no scheduled time: its Lambda request id names it): nothing.
    let manual = invoke(&stack, &json!({})).await;
    assert!(strings(&manual["canceled"]).is_empty(), "{manual}");
    assert!(manual["notes"].to_string().contains("auto-cancel/day/2026-11-20"), "{manual}");

    let mut canceled = 0;
    for id in &stale {
        canceled += usize::from(status(&stack, id).await == "CANCELED");
    }
    assert_eq!(canceled, 3, "the day's budget");
    assert_eq!(requests(&stats(&stack).await, "CancelConnectionInvitation"), 3);
}

#[tokio::test]
async fn an_invitation_accepted_between_get_and_cancel_is_skipped_without_failing_the_run() {
    let stack = stack(StackOptions {
        clock: Some(t0()),
        seed: Some(seed(vec![
            connection("pacinv-Accepted00001", "SENDER", "OPPORTUNITY_COLLABORATION", 13.0, "111111111111"),
            connection("pacinv-Canceled00001", "SENDER", "OPPORTUNITY_COLLABORATION", 12.0, "222222222222"),
        ])),
        ..Default::default()
    })
    .await;
    // The partner accepts right after our Get saw the invitation PENDING, before our Cancel:
    // the Account API goes through a proxy that makes exactly that happen.
    let race = RaceProxy::start(stack.emulator.url(), "pacinv-Accepted00001").await;
    let policy = policy(false, 10);
    let _f = start(&stack, &[("CANCEL_POLICY", &policy), ("AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT", &race.url())]);

    let s = invoke(&stack, &event_file("auto-cancel-scheduled.json").unwrap_or_else(|e| panic!("{e}"))).await;
    assert!(race.fired(), "the race was staged");
    assert_eq!(strings(&s["canceled"]), ids(&["pacinv-Canceled00001"]), "{s}");
    let skipped = s["skipped"].as_array().cloned().unwrap_or_default();
    assert_eq!(skipped.len(), 1, "{s}");
    assert_eq!(skipped[0]["invitationId"], "pacinv-Accepted00001");
    let reason = skipped[0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("conflict (INCOMPATIBLE_CONNECTION_INVITATION_STATE)") && reason.ends_with("now ACCEPTED"),
        "{reason}"
    );
    assert_eq!(status(&stack, "pacinv-Accepted00001").await, "ACCEPTED");
    let st = stats(&stack).await;
    assert_eq!(st["operations"]["CancelConnectionInvitation"]["errors"]["ConflictException"], 1, "{st}");

    // The acceptance is a transition we saw: recorded and published (no policy cause).
    let events = received(&stack).await;
    assert_schema_valid(&events);
    assert_eq!(
        digest(&events),
        [
            ("Connection Invitation Accepted".into(), "pacinv-Accepted00001".into(), "-".into()),
            ("Connection Invitation Canceled".into(), "pacinv-Canceled00001".into(), "stale-collaboration".into()),
        ]
    );
    assert_eq!(record_status(&stack, "pacinv-Accepted00001").await.as_deref(), Some("ACCEPTED"));
}

#[tokio::test]
async fn a_bad_policy_stops_the_function_at_start_up_with_the_path_of_the_problem() {
    let stack = stack(StackOptions::default()).await;
    let bad = r#"{"version": 1, "rules": [{"name": "stale", "match": {"olderThanDays": -1}}]}"#;
    let mut f = start(&stack, &[("CANCEL_POLICY", bad)]);
    let exit = f.wait_exit(Duration::from_secs(20)).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!exit.success());
    let logs = f.logs().join("\n");
    assert!(
        logs.contains(
            "CANCEL_POLICY: invalid cancellation policy: rules[0].match.olderThanDays: must be >= 0 (got -1)"
        ),
        "{logs}"
    );
    // One JSON line, nothing else: in Lambda's JSON log format a Rust debug dump after it
    // (`Error: Policy(Invalid { … })`) would be a stray non-JSON line.
    let lines = f.logs();
    assert_eq!(lines.len(), 1, "{logs}");
    let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap_or_else(|e| panic!("not JSON ({e}): {logs}"));
    assert_eq!(line["level"], "ERROR", "{logs}");
    assert_eq!(exit.code(), Some(1));

    let mut f = start(&stack, &[("CANCEL_POLICY", bad), ("CANCEL_POLICY_FILE", "/etc/policy.json")]);
    assert!(!f.wait_exit(Duration::from_secs(20)).await.unwrap_or_else(|e| panic!("{e}")).success());
    let logs = f.logs().join("\n");
    assert!(logs.contains("exactly one of CANCEL_POLICY") && logs.contains("both are set"), "{logs}");
}

/// A pass-through proxy in front of the emulator (the function's Account API endpoint) that,
/// right after forwarding the first GetConnectionInvitation of one invitation, sets that
/// invitation ACCEPTED through the emulator's control API — deterministically between our
/// Get and our Cancel.
struct RaceProxy {
    addr: SocketAddr,
    fired: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RaceProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Http = Client<HttpConnector, Full<Bytes>>;

impl RaceProxy {
    async fn start(upstream: String, invitation_id: &str) -> RaceProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let fired = Arc::new(AtomicBool::new(false));
        let http: Http = Client::builder(TokioExecutor::new()).build_http();
        let (flag, id) = (fired.clone(), invitation_id.to_owned());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (upstream, http, flag, id) = (upstream.clone(), http.clone(), flag.clone(), id.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (upstream, http, flag, id) = (upstream.clone(), http.clone(), flag.clone(), id.clone());
                        async move { relay(&upstream, &http, &flag, &id, req).await }
                    });
                    let io = TokioIo::new(stream);
                    if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                        tracing::debug!(error = %e, "race proxy connection ended");
                    }
                });
            }
        });
        RaceProxy { addr, fired, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

async fn relay(
    upstream: &str,
    http: &Http,
    fired: &AtomicBool,
    id: &str,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, String> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut forward = Request::builder().method(parts.method.clone()).uri(format!("{upstream}{}", parts.uri));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            forward = forward.header(name, value);
        }
    }
    let request = forward.body(Full::new(body.clone())).map_err(|e| e.to_string())?;
    let response = http.request(request).await.map_err(|e| e.to_string())?;
    let (mut head, response_body) = response.into_parts();
    let response_body = response_body.collect().await.map_err(|e| e.to_string())?.to_bytes();

    let is_get_of_target = target.ends_with(".GetConnectionInvitation")
        && serde_json::from_slice::<Value>(&body).is_ok_and(|b| b["Identifier"] == id);
    if is_get_of_target && !fired.swap(true, Ordering::SeqCst) {
        let patch = Request::builder()
            .method("PATCH")
            .uri(format!("{upstream}/_emulator/connection-invitations/AWS/{id}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json!({"Status": "ACCEPTED"}).to_string())))
            .map_err(|e| e.to_string())?;
        let answer = http.request(patch).await.map_err(|e| e.to_string())?;
        if !answer.status().is_success() {
            return Err(format!("control API PATCH: HTTP {}", answer.status()));
        }
    }
    head.headers.remove(hyper::header::CONTENT_LENGTH);
    Ok(Response::from_parts(head, Full::new(response_body)))
}
