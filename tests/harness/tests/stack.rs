//! The harness itself: the stand-ins start, talk to each other, and the EventBridge proxy
//! injects exactly the faults asked for.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use harness::proxy::PutEventsFaults;
use harness::stack::{BUS, EVENT_SOURCE, Stack, StackOptions};

fn entry(n: usize) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder()
        .event_bus_name(BUS)
        .source(EVENT_SOURCE)
        .detail_type("Test")
        .detail(format!("{{\"n\":{n}}}"))
        .build()
}

/// A client that publishes through the proxy, as a function would (without retries, so
/// each call is one PutEvents).
async fn through_proxy(stack: &Stack) -> aws_sdk_eventbridge::Client {
    let conf = harness::aws::sdk_config(&stack.proxy.endpoint()).await;
    let conf = aws_sdk_eventbridge::config::Builder::from(&conf)
        .retry_config(aws_sdk_eventbridge::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_eventbridge::Client::from_conf(conf)
}

#[tokio::test]
async fn the_proxy_drops_exactly_the_entries_it_reports_failed() {
    let stack =
        Stack::start(StackOptions { proxy_seed: 42, ..Default::default() }).await.unwrap_or_else(|e| panic!("{e}"));
    let eb = through_proxy(&stack).await;
    stack.proxy.set_faults(PutEventsFaults { fail_entry_rate: 0.5, ..Default::default() });
    let out =
        eb.put_events().set_entries(Some((0..10).map(entry).collect())).send().await.unwrap_or_else(|e| panic!("{e}"));
    let failed: Vec<usize> =
        out.entries().iter().enumerate().filter(|(_, r)| r.error_code().is_some()).map(|(i, _)| i).collect();
    assert_eq!(out.failed_entry_count() as usize, failed.len());
    assert!(!failed.is_empty() && failed.len() < 10, "seeded 50% should fail some, not all: {failed:?}");

    let received = stack.received().await.unwrap_or_else(|e| panic!("{e}"));
    let mut got: Vec<usize> = received.iter().map(|e| e["detail"]["n"].as_u64().unwrap_or(99) as usize).collect();
    got.sort_unstable();
    let expected: Vec<usize> = (0..10).filter(|i| !failed.contains(i)).collect();
    assert_eq!(got, expected, "what was reported delivered arrived, and nothing else");
    assert_eq!(stack.proxy.stats().entries_failed as usize, failed.len());
}

#[tokio::test]
async fn a_held_call_can_be_discarded_so_nothing_is_delivered() {
    let stack = Stack::start(StackOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let eb = through_proxy(&stack).await;
    stack.proxy.set_faults(PutEventsFaults { hold: true, ..Default::default() });
    let call = tokio::spawn(async move { eb.put_events().entries(entry(1)).send().await.map(|_| ()) });
    stack.proxy.wait_until_held().await;
    stack.proxy.release(false);
    assert!(call.await.is_ok_and(|r| r.is_err()), "the discarded call fails");
    assert!(stack.received().await.unwrap_or_else(|e| panic!("{e}")).is_empty());
}

#[tokio::test]
async fn the_emulator_clock_moves_only_when_told_and_dates_its_responses() {
    let stack = Stack::start(StackOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let before = stack.emulator_now().await.unwrap_or_else(|e| panic!("{e}"));
    stack.advance_clock(50.0).await.unwrap_or_else(|e| panic!("{e}"));
    let after = stack.emulator_now().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((after - before).num_hours(), 50);
    let health = stack.emulator_control("GET", "health", None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn with_native_events_the_stack_routes_the_emulators_native_events_to_their_queue() {
    let stack = Stack::start(StackOptions { native_events: Some(Default::default()), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let queue = stack.native_events.clone().unwrap_or_else(|| panic!("no native events queue"));
    assert!(queue.queue_url().ends_with(harness::aws::NATIVE_EVENTS_QUEUE), "{}", queue.queue_url());
    let invitation = serde_json::json!({"Catalog": "AWS", "Id": "pacinv-NATIVE0000001",
        "ConnectionType": "SUBSIDIARY", "CreatedAt": "2026-11-15T00:00:00Z",
        "ExpiresAt": "2099-01-01T00:00:00Z", "OtherParticipantIdentifier": "444455556666",
        "ParticipantType": "RECEIVER", "Status": "PENDING", "InvitationMessage": "Hi",
        "InviterEmail": "ann@example.com", "InviterName": "Ann"});
    // Another catalog's change does not match the rule's `detail.catalog`.
    let mut sandbox = invitation.clone();
    sandbox["Catalog"] = serde_json::json!("Sandbox");
    stack.put_invitation("connection", sandbox).await.unwrap_or_else(|e| panic!("{e}"));
    stack.put_invitation("connection", invitation).await.unwrap_or_else(|e| panic!("{e}"));
    let mut events = queue.receive(1, std::time::Duration::from_secs(20)).await.unwrap_or_else(|e| panic!("{e}"));
    // Both were put (moto routes during PutEvents), so anything else matching is in the queue now.
    loop {
        let status = stack.native_events_status().await.unwrap_or_else(|e| panic!("{e}"));
        if status["counts"]["pending"] == 0 {
            assert_eq!((&status["counts"]["emitted"], &status["counts"]["sent"]), (&2.into(), &2.into()));
            break;
        }
        tokio::task::yield_now().await;
    }
    events.extend(queue.drain().await.unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["detail-type"], "Partner Connection Invitation Received");
    assert_eq!(events[0]["detail"]["connectionInvitation"]["connectionType"], "Subsidiary");
}
