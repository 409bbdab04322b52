//! Fault injection as the SDK sees it: retried throttles and server errors, the per-second
//! quota, runtime changes, and no side effects of faulted requests. Counts, never times.

use aws_sdk_partnercentralaccount::operation::cancel_connection_invitation::CancelConnectionInvitationError;
use aws_sdk_partnercentralaccount::operation::get_connection_invitation::GetConnectionInvitationError;
use aws_sdk_partnercentralaccount::types::InvitationStatus;
use aws_sdk_partnercentralselling::types::ParticipantType;
use partnercentral_local::FaultConfig;
use serde_json::json;

use crate::common::*;

const ID: &str = "pacinv-A000000000000";

#[tokio::test]
async fn sdk_retries_through_injected_throttling() {
    let (doc, _, _) = fixture();
    let emu = start_with(builder().seed(doc).faults(FaultConfig {
        throttle_rate: 0.5,
        fault_seed: 7,
        ..FaultConfig::default()
    }))
    .await;
    let client = emu.account_with(fast_retries(12)).await;
    for _ in 0..20 {
        let out = client
            .get_connection_invitation()
            .catalog("AWS")
            .identifier(ID)
            .send()
            .await
            .expect("the SDK's standard retry gets through");
        assert_eq!(out.id(), ID);
    }
    let stats = emu.stats().await;
    let throttles = stats["faults"]["throttle"].as_u64().unwrap_or(0);
    assert!(throttles > 0, "{stats}");
    assert_eq!(stats["errors"]["ThrottlingException"].as_u64(), Some(throttles));
    assert_eq!(stats["operations"]["GetConnectionInvitation"]["ok"], 20);
    assert_eq!(stats["requests_total"].as_u64(), Some(20 + throttles));
    emu.finish().await;
}

#[tokio::test]
async fn sdk_retries_through_injected_server_errors_and_selling_too() {
    let (doc, _, _) = fixture();
    let emu = start_with(builder().seed(doc).faults(FaultConfig {
        error_rate: 0.4,
        fault_seed: 11,
        ..FaultConfig::default()
    }))
    .await;
    let account = emu.account_with(fast_retries(12)).await;
    let selling = emu.selling_with(fast_retries(12)).await;
    for _ in 0..10 {
        account.get_connection_invitation().catalog("AWS").identifier(ID).send().await.expect("retried past 500s");
        selling
            .list_engagement_invitations()
            .catalog("AWS")
            .participant_type(ParticipantType::Receiver)
            .send()
            .await
            .expect("retried past 500s");
    }
    let stats = emu.stats().await;
    let errors = stats["faults"]["error"].as_u64().unwrap_or(0);
    assert!(errors > 0, "{stats}");
    assert_eq!(stats["errors"]["InternalServerException"].as_u64(), Some(errors));
    assert_eq!(stats["requests_total"].as_u64(), Some(20 + errors));
    emu.finish().await;
}

#[tokio::test]
async fn faults_set_at_runtime_surface_as_typed_errors_without_side_effects() {
    let (emu, _, _) = start().await;
    let client = emu.account().await; // no retries: the first answer counts
    let f = emu.ok("POST", "/_emulator/faults", Some(json!({"throttle_rate": 1.0}))).await;
    assert_eq!(f["throttle_rate"], 1.0);
    let err = client.get_connection_invitation().catalog("AWS").identifier(ID).send().await.expect_err("throttled");
    match err.as_service_error() {
        Some(GetConnectionInvitationError::ThrottlingException(e)) => {
            assert!(e.message().contains("Rate exceeded"))
        }
        other => panic!("expected ThrottlingException, got {other:?}"),
    }
    emu.ok("POST", "/_emulator/faults", Some(json!({"throttle_rate": 0.0, "error_rate": 1.0}))).await;
    let sender_pending = "pacinv-A000000000005";
    let err = client
        .cancel_connection_invitation()
        .catalog("AWS")
        .identifier(sender_pending)
        .client_token("tok-fault")
        .send()
        .await
        .expect_err("server error");
    assert!(matches!(err.as_service_error(), Some(CancelConnectionInvitationError::InternalServerException(_))));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    let cfg = emu.ok("POST", "/_emulator/faults", Some(json!({"error_rate": 0}))).await;
    assert_eq!(serde_json::from_value::<FaultConfig>(cfg).expect("config"), FaultConfig::default());
    let got = client.get_connection_invitation().catalog("AWS").identifier(sender_pending).send().await.expect("get");
    assert_eq!(got.status(), &InvitationStatus::Pending, "the faulted cancel changed nothing");
    // The token was not consumed by the failed attempt either.
    let out = client
        .cancel_connection_invitation()
        .catalog("AWS")
        .identifier(sender_pending)
        .client_token("tok-fault")
        .send()
        .await
        .expect("cancel");
    assert_eq!(out.status(), &InvitationStatus::Canceled);
    let stats = emu.stats().await;
    assert_eq!(stats["faults"]["throttle"], 1);
    assert_eq!(stats["faults"]["error"], 1);
    let (s, v) = emu.control("POST", "/_emulator/faults", Some(json!({"throttle_rate": 2}))).await;
    assert_eq!(s, 400, "{v}");
    emu.finish().await;
}

#[tokio::test]
async fn rate_limit_caps_requests_per_second_and_counts_throttles() {
    const LIMIT: u64 = 3;
    const BURST: usize = 40;
    let (doc, _, _) = fixture();
    let emu = start_with(
        builder().seed(doc).faults(FaultConfig { rate_limit: Some(LIMIT as u32), ..FaultConfig::default() }),
    )
    .await;
    let client = emu.account().await;
    let calls = (0..BURST).map(|_| {
        let c = client.clone();
        async move { c.get_connection_invitation().catalog("AWS").identifier(ID).send().await }
    });
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.is_ok()).count() as u64;
    let throttled = results
        .iter()
        .filter(|r| {
            matches!(
                r.as_ref().err().and_then(|e| e.as_service_error()),
                Some(GetConnectionInvitationError::ThrottlingException(_))
            )
        })
        .count() as u64;
    assert_eq!(ok + throttled, BURST as u64, "every request either served or throttled");
    assert!(throttled > 0, "a burst of {BURST} cannot all fit under {LIMIT}/s");
    let stats = emu.stats().await;
    let max = stats["max_requests_per_second"].as_u64().expect("max");
    assert!((1..=LIMIT).contains(&max), "{stats}");
    assert!(stats["max_received_per_second"].as_u64().unwrap_or(0) > LIMIT);
    assert_eq!(stats["faults"]["rate_limit"].as_u64(), Some(throttled));
    assert_eq!(stats["operations"]["GetConnectionInvitation"]["ok"].as_u64(), Some(ok));
    let reset = emu.ok("POST", "/_emulator/stats/reset", None).await;
    assert_eq!(reset["requests_total"], 0);
    assert_eq!(reset["max_requests_per_second"], 0);
    emu.finish().await;
}
