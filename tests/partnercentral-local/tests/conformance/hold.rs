//! The crash-test hook: hold the N-th request before or after it runs, wait for it, release.

use serde_json::json;

use crate::common::*;

/// A PENDING connection invitation we sent (fixture index 5).
const SENT_PENDING: &str = "pacinv-A000000000005";

#[tokio::test]
async fn a_request_held_after_it_ran_has_taken_effect_before_its_answer_is_sent() {
    let (emu, _, _) = start().await;
    let armed = emu
        .ok(
            "POST",
            "/_emulator/hold",
            Some(json!({"nth": 1, "operation": "CancelConnectionInvitation", "phase": "after"})),
        )
        .await;
    assert_eq!(armed["armed"]["phase"], "after");
    let client = emu.account().await;
    let call = tokio::spawn(async move {
        client.cancel_connection_invitation().catalog("AWS").identifier(SENT_PENDING).client_token("t-1").send().await
    });
    let held = emu.ok("POST", "/_emulator/hold/wait", Some(json!({"timeout_ms": 30_000}))).await;
    assert_eq!(held["held"]["operation"], "CancelConnectionInvitation", "{held}");
    // The cancellation is stored although the caller has no answer yet.
    let record = emu.ok("GET", &format!("/_emulator/connection-invitations/AWS/{SENT_PENDING}"), None).await;
    assert_eq!(record["Status"], "CANCELED");
    assert!(!call.is_finished(), "the answer is held");
    let released = emu.ok("POST", "/_emulator/hold/release", None).await;
    assert_eq!(released["was_held"], true);
    let out = call.await.expect("task").expect("the held call completes once released");
    assert_eq!(out.status().as_str(), "CANCELED");
    assert_eq!(emu.ok("GET", "/_emulator/hold", None).await["released"], 1);
    emu.finish().await;
}

#[tokio::test]
async fn a_request_held_before_it_runs_has_no_effect_until_released() {
    let (emu, _, _) = start().await;
    // The second Cancel is held; the first one goes through untouched.
    emu.ok("POST", "/_emulator/hold", Some(json!({"nth": 2, "operation": "CancelConnectionInvitation"}))).await;
    let client = emu.account().await;
    let first = client.cancel_connection_invitation().catalog("AWS").identifier("pacinv-A000000000015");
    first.client_token("t-0").send().await.expect("first cancel is not held");
    let c = client.clone();
    let call = tokio::spawn(async move {
        c.cancel_connection_invitation().catalog("AWS").identifier(SENT_PENDING).client_token("t-1").send().await
    });
    let held = emu.ok("POST", "/_emulator/hold/wait", Some(json!({"timeout_ms": 30_000}))).await;
    assert_eq!(held["held"]["nth"], 2, "{held}");
    assert_eq!(held["held"]["phase"], "before");
    let record = emu.ok("GET", &format!("/_emulator/connection-invitations/AWS/{SENT_PENDING}"), None).await;
    assert_eq!(record["Status"], "PENDING", "nothing happened yet");
    emu.ok("DELETE", "/_emulator/hold", None).await;
    call.await.expect("task").expect("completes after release");
    let record = emu.ok("GET", &format!("/_emulator/connection-invitations/AWS/{SENT_PENDING}"), None).await;
    assert_eq!(record["Status"], "CANCELED");
    emu.finish().await;
}

#[tokio::test]
async fn waiting_without_a_match_times_out_and_bad_specs_are_named() {
    let (emu, _, _) = start().await;
    emu.ok("POST", "/_emulator/hold", Some(json!({"nth": 1, "operation": "GetConnectionInvitation"}))).await;
    let waited = emu.ok("POST", "/_emulator/hold/wait", Some(json!({"timeout_ms": 50}))).await;
    assert!(waited["held"].is_null(), "{waited}");
    assert_eq!(waited["armed"]["operation"], "GetConnectionInvitation", "still armed");
    let (s, v) = emu.control("POST", "/_emulator/hold", Some(json!({"nth": 0}))).await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap_or_default().contains("nth"), "{v}");
    let (s, v) = emu.control("POST", "/_emulator/hold", Some(json!({"nth": 1, "phase": "during"}))).await;
    assert_eq!(s, 400, "{v}");
    emu.ok("POST", "/_emulator/reset", None).await;
    assert!(emu.ok("GET", "/_emulator/hold", None).await["armed"].is_null(), "reset disarms");
    emu.finish().await;
}
