//! The guarantee two functions keep together: list-and-publish and expire-sweeper share the
//! state table, so an invitation that expires gets exactly one `… Invitation Expired` event,
//! whichever function sees it first and however often both run. The real (debug) binaries,
//! against the emulator and moto.

use bench::measure::{Profile, function_binary};
use chrono::{TimeZone, Utc};
use harness::demo::engagement_invitation;
use harness::stack::{Stack, StackOptions, event_file};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

async fn run(stack: &Stack, function: &str) -> Value {
    let event = ok(event_file(&format!("{function}-scheduled.json")));
    ok(ok(stack.invoke(function, &event).await).output())
}

fn of_type<'a>(events: &'a [Value], detail_type: &str) -> Vec<&'a str> {
    let mut ids: Vec<&str> = events
        .iter()
        .filter(|e| e["detail-type"] == detail_type)
        .filter_map(|e| e["detail"]["invitationId"].as_str())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_is_published_once_when_both_functions_run() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().unwrap_or_default();
    // Two engagement invitations expiring within 2 hours, one more well ahead.
    let seed = json!({"EngagementInvitations": [
        engagement_invitation("engi-both000000001", t0, 1),
        engagement_invitation("engi-both000000002", t0, 2),
        engagement_invitation("engi-both000000003", t0, 200),
    ]});
    let stack = ok(Stack::start(StackOptions {
        clock: Some(t0),
        seed: Some(ok(SeedDocument::from_json(&seed.to_string()))),
        ..Default::default()
    })
    .await);
    let _processes: Vec<_> = ["list-and-publish", "expire-sweeper"]
        .into_iter()
        .map(|name| ok(stack.start_function(name, &ok(function_binary(name, Profile::Debug)), &[])))
        .collect();

    // Baseline and a first sweep: both invitations recorded and announced, warnings out.
    run(&stack, "list-and-publish").await;
    run(&stack, "expire-sweeper").await;
    let before = ok(stack.received().await);
    assert_eq!(of_type(&before, "Engagement Invitation Created").len(), 3);
    assert!(of_type(&before, "Engagement Invitation Expired").is_empty());

    // Three hours later both have expired at Partner Central. The sweeper and list-and-publish
    // each run twice, in both orders.
    ok(stack.advance_clock(3.0).await);
    run(&stack, "expire-sweeper").await;
    run(&stack, "list-and-publish").await;
    run(&stack, "list-and-publish").await;
    run(&stack, "expire-sweeper").await;
    let after = ok(stack.received().await);
    ok(harness::contract::check_events(&after));
    assert_eq!(
        of_type(&after, "Engagement Invitation Expired"),
        ["engi-both000000001", "engi-both000000002"],
        "exactly one Expired per invitation: {after:#?}"
    );
    assert!(of_type(&after, "Engagement Invitation Created").is_empty(), "nothing announced twice");
}

/// The SQS event Lambda hands native-relay for these native events (bodies as the rule put
/// them on the queue).
fn sqs_batch(native: &[Value]) -> Value {
    let records: Vec<Value> = native
        .iter()
        .enumerate()
        .map(|(i, event)| json!({"messageId": format!("m-{i}"), "eventSource": "aws:sqs", "body": event.to_string()}))
        .collect();
    json!({ "Records": records })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_path_publishes_a_change_once_with_the_pollers_event_and_the_poller_stays_quiet() {
    use std::time::Duration;

    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().unwrap_or_default();
    let seed = json!({"EngagementInvitations": [
        engagement_invitation("engi-fast000000001", t0, 200),
        engagement_invitation("engi-fast000000002", t0, 200),
    ]});
    let stack = ok(Stack::start(StackOptions {
        clock: Some(t0),
        seed: Some(ok(SeedDocument::from_json(&seed.to_string()))),
        native_events: Some(Default::default()),
        ..Default::default()
    })
    .await);
    let _processes: Vec<_> = ["list-and-publish", "native-relay"]
        .into_iter()
        .map(|name| ok(stack.start_function(name, &ok(function_binary(name, Profile::Debug)), &[])))
        .collect();
    run(&stack, "list-and-publish").await;
    assert_eq!(of_type(&ok(stack.received().await), "Engagement Invitation Created").len(), 2);

    // We accept one in Partner Central: the emulator emits the native event to the default
    // bus, whose rule puts it on native-relay's queue.
    ok(stack.patch_invitation("engagement", "engi-fast000000001", json!({"Status": "ACCEPTED"})).await);
    let queue = stack.native_events.as_ref().unwrap_or_else(|| panic!("native events are on"));
    let native = ok(queue.receive(1, Duration::from_secs(20)).await);
    assert_eq!(native.len(), 1, "{native:?}");
    assert_eq!(native[0]["detail-type"], "Engagement Invitation Accepted");

    // Delivered twice (SQS is at least once): one event, the same the poller would publish.
    let batch = sqs_batch(&[native[0].clone(), native[0].clone()]);
    let answer = ok(ok(stack.invoke("native-relay", &batch).await).output());
    assert_eq!(answer, json!({"batchItemFailures": []}));
    let relayed = ok(stack.received().await);
    ok(harness::contract::check_events(&relayed));
    assert_eq!(of_type(&relayed, "Engagement Invitation Accepted"), ["engi-fast000000001"], "{relayed:#?}");
    assert_eq!(relayed.len(), 1, "{relayed:#?}");

    // Reconciliation finds the fact recorded: nothing new.
    let summary = run(&stack, "list-and-publish").await;
    assert_eq!(summary["changes"], json!({}), "{summary}");
    assert!(ok(stack.received().await).is_empty());

    // Another account's native event about the other invitation (accepted meanwhile), as an
    // organisation forwarding its accounts' events would put it on our default bus: dropped,
    // not retried, nothing published. (moto's rule delivery drops `account`, so the event is
    // made here as EventBridge delivers it.)
    ok(stack.patch_invitation("engagement", "engi-fast000000002", json!({"Status": "ACCEPTED"})).await);
    let mut theirs: Value =
        ok(serde_json::from_str(&native[0].to_string().replace("engi-fast000000001", "engi-fast000000002")));
    theirs["account"] = json!("999988887777");
    let answer = ok(ok(stack.invoke("native-relay", &sqs_batch(&[theirs.clone()])).await).output());
    assert_eq!(answer, json!({"batchItemFailures": []}), "not delivered again");
    assert!(ok(stack.received().await).is_empty(), "nothing of another account is published");
    // The same event from our own account is relayed: the account is what held it back.
    theirs["account"] = json!(partnercentral_local::generate::OWN_ACCOUNT_ID);
    let answer = ok(ok(stack.invoke("native-relay", &sqs_batch(&[theirs])).await).output());
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(of_type(&ok(stack.received().await), "Engagement Invitation Accepted"), ["engi-fast000000002"]);
}

/// The account's request budget, shared at run time through the state table's lease item:
/// every function at once (and a second invocation of each on a process of its own) never makes
/// more Partner Central requests in any second than the budget, a run alone uses all of it, and
/// a second invocation of a function whose run is in progress does nothing and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_holds_with_every_function_at_once_and_a_run_alone_uses_all_of_it() {
    use bench::benchmark::{BenchConfig, function_env};
    use partnercentral_local::GenerateConfig;

    const BUDGET: u32 = 3;
    let stack = ok(Stack::start(StackOptions {
        clock: Some(Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().unwrap_or_default()),
        generate: Some(GenerateConfig { seed: 30, engagements: 300, connections: 60, ..Default::default() }),
        ..Default::default()
    })
    .await);
    let mut env = function_env(&BenchConfig { max_requests_per_second: BUDGET, ..BenchConfig::default() });
    env.insert(
        "auto-respond".to_owned(),
        vec![
            ("MAX_REQUESTS_PER_SECOND".to_owned(), BUDGET.to_string()),
            (
                "RESPOND_POLICY".to_owned(),
                json!({"version": 1, "dryRun": true, "maxActionsPerRun": 10, "maxActionsPerDay": 10, "rules": []})
                    .to_string(),
            ),
        ],
    );
    let scheduled = ["list-and-publish", "expire-sweeper", "auto-cancel", "auto-respond"];
    // Two processes of each (two warm execution environments): a second invocation can overlap.
    let _processes: Vec<_> = scheduled
        .iter()
        .flat_map(|name| [name, name])
        .map(|name| {
            let overrides: Vec<(&str, &str)> =
                env.get(*name).map(|e| e.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()).unwrap_or_default();
            ok(stack.start_function(name, &ok(function_binary(name, Profile::Debug)), &overrides))
        })
        .collect();

    // A run alone takes the whole budget: the full listing goes at 3 requests a second, not at
    // a fixed share of it.
    ok(stack.reset_emulator_stats().await);
    let alone = ok(ok(stack.invoke("list-and-publish", &json!({"mode": "full"})).await).output());
    let stats = ok(stack.emulator_stats().await);
    assert_eq!(stats["max_received_per_second"], json!(BUDGET), "alone: {stats}\n{alone}");
    let writes = alone["budgetWrites"].as_u64().unwrap_or_else(|| panic!("no budgetWrites: {alone}"));
    assert!(writes >= 2, "taken and given back: {alone}");

    // A run in progress (held inside its first Partner Central request) and a second
    // invocation of the same function: the second skips, naming the run lease.
    ok(stack.emulator_control("POST", "hold", Some(json!({"nth": 1, "phase": "before"}))).await);
    let empty = json!({});
    let first = stack.invoke("expire-sweeper", &empty);
    let second = async {
        loop {
            let v = ok(stack.emulator_control("POST", "hold/wait", Some(json!({"timeout_ms": 5_000}))).await);
            if !v["held"].is_null() {
                break;
            }
        }
        let skipped = ok(ok(stack.invoke("expire-sweeper", &json!({})).await).output());
        ok(stack.emulator_control("POST", "hold/release", None).await);
        skipped
    };
    let (first, skipped) = tokio::join!(first, second);
    let first = ok(ok(first).output());
    assert_eq!(skipped["skipped"], json!(true), "{skipped}");
    assert!(skipped["reason"].as_str().unwrap_or_default().contains("another run of expire-sweeper"), "{skipped}");
    assert_ne!(first["skipped"], json!(true), "the first run ran: {first}");

    // Everything at once, twice each (a retried firing or a manual invoke next to each run):
    // never above the budget in any second.
    ok(stack.advance_clock(2.0).await);
    ok(stack.reset_emulator_stats().await);
    let stack = &stack;
    let invoke = |name: &'static str, payload: Value| async move { (name, ok(stack.invoke(name, &payload).await)) };
    let (a, b, c, d, e, f, g, h) = tokio::join!(
        invoke("list-and-publish", json!({"mode": "full"})),
        invoke("list-and-publish", json!({})),
        invoke("expire-sweeper", json!({})),
        invoke("expire-sweeper", json!({})),
        invoke("auto-cancel", json!({})),
        invoke("auto-cancel", json!({})),
        invoke("auto-respond", json!({})),
        invoke("auto-respond", json!({})),
    );
    let outcomes = [a, b, c, d, e, f, g, h];
    let stats = ok(stack.emulator_stats().await);
    assert!(
        stats["max_received_per_second"].as_u64().unwrap_or(u64::MAX) <= u64::from(BUDGET),
        "above the budget of {BUDGET}/s: {stats}\n{outcomes:#?}"
    );
    let mut ran = 0;
    for (name, outcome) in &outcomes {
        let summary = ok(outcome.clone().output());
        if summary["skipped"] != json!(true) {
            ran += 1;
        } else {
            assert!(summary["reason"].as_str().unwrap_or_default().contains(name), "{summary}");
        }
    }
    assert!(ran >= scheduled.len(), "every function ran at least once: {outcomes:#?}");
}
