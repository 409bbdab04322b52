//! `EngagementResponses` over the real wire protocol, against the local emulator, through the
//! clients every function builds (`PartnerCentralClients`): acceptance tasks started, followed
//! to their end and repeated idempotently, rejections with their reason, error mapping, and the
//! Selling API's one-write-per-second pacing under concurrent writes.

use chrono::{TimeZone, Utc};
use partnercentral_local::{Emulator, EmulatorHandle, SeedDocument};
use serde_json::json;
use shared::PartnerCentralError;
use shared::adapters::{PartnerCentralClients, PartnerCentralSelling};
use shared::config::{CommonConfig, Env};
use shared::domain::Catalog;
use shared::domain::engagement_response::{RejectionReason, TaskOutcome, TaskStatus};
use shared::ports::{CallCounts, EngagementResponses};

fn id(n: usize) -> String {
    format!("engi-w{n:012}")
}

/// `n` PENDING engagement invitations we received; acceptance tasks end at once (virtual
/// time), so the next request sees them ended.
async fn emulator(n: usize) -> EmulatorHandle {
    let entries = (0..n)
        .map(|i| json!({"Catalog": "AWS", "Id": id(i), "PayloadType": "OpportunityInvitation", "SenderAwsAccountId": "AWS"}))
        .collect();
    Emulator::builder()
        .listen(([127, 0, 0, 1], 0).into())
        .clock(Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default())
        .frozen_clock(true)
        .task_delay(chrono::Duration::zero())
        .seed(SeedDocument { connection_invitations: vec![], engagement_invitations: entries })
        .spawn()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The clients as a function builds them, with room for 100 requests a second (only the
/// write pacing holds writes back) and one attempt per call: a request held several seconds
/// for its turn must go out, not be aborted as a stalled upload and retried.
async fn clients(emu: &EmulatorHandle) -> PartnerCentralClients {
    let sdk = harness::aws::sdk_config(&emu.url()).await;
    let config = CommonConfig::from_env(&Env::from_pairs([
        ("CATALOG", "AWS"),
        ("EVENT_BUS_NAME", "bus"),
        ("MAX_REQUESTS_PER_SECOND", "100"),
        ("MAX_ATTEMPTS", "1"),
    ]))
    .unwrap_or_else(|e| panic!("{e}"));
    PartnerCentralClients::new(&sdk, &config, shared::budget::RequestBudget::alone(config.max_requests_per_second))
}

#[tokio::test]
async fn concurrent_writes_go_out_one_per_second_and_tasks_are_followed_to_their_end() {
    let emu = emulator(6).await;
    let pc = clients(&emu).await;
    let selling = PartnerCentralSelling::new(pc.selling.clone(), Catalog::Aws);
    let reason = RejectionReason::new("Unable to support").unwrap_or_else(|e| panic!("{e}"));

    // Three acceptances and three rejections at once, with reads in between.
    let tokens: Vec<String> = (0..3).map(|n| format!("respond-{}", id(n))).collect();
    let starts = futures::future::join_all((0..3).map(|n| {
        let (selling, token) = (&selling, &tokens[n]);
        async move { selling.start_accepting_engagement_invitation(&id(n), token).await }
    }));
    let rejects = futures::future::join_all((3..6).map(|n| {
        let reason = reason.clone();
        let selling = &selling;
        async move { selling.reject_engagement_invitation(&id(n), &reason).await }
    }));
    let reads = futures::future::join_all((0..6).map(|n| {
        let selling = &selling;
        async move { selling.acceptance_tasks_of(&id(n)).await }
    }));
    let (started, rejected, read) = tokio::join!(starts, rejects, reads);
    let started: Vec<_> = started.into_iter().map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect();
    assert!(rejected.iter().all(Result::is_ok), "{rejected:?}");
    assert!(read.iter().all(Result::is_ok), "{read:?}");
    assert!(started.iter().all(|t| t.status == TaskStatus::InProgress));

    let stats = harness::get_json(&format!("{}/_emulator/stats", emu.url())).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stats["operations"]["StartEngagementByAcceptingInvitationTask"]["ok"], 3, "{stats}");
    assert_eq!(stats["operations"]["RejectEngagementInvitation"]["ok"], 3, "{stats}");
    assert_eq!(stats["max_writes_per_second"]["Selling"], 1, "six concurrent writes, never two in one second: {stats}");

    // Followed: the tasks ended (COMPLETE, with the opportunity created).
    for (n, first) in started.iter().enumerate() {
        let tasks = selling.acceptance_tasks_of(&id(n)).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].task_id, first.task_id);
        assert!(
            matches!(tasks[0].outcome(), TaskOutcome::Completed { opportunity_id: Some(o) } if o.starts_with('O')),
            "{:?}",
            tasks[0]
        );
        let by_id = selling.acceptance_task(&first.task_id).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(by_id.as_ref(), Some(&tasks[0]));
    }
    // A repeated start with the same token is the same task, as it is now.
    let again =
        selling.start_accepting_engagement_invitation(&id(0), &tokens[0]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.task_id.as_str(), &again.status), (started[0].task_id.as_str(), &TaskStatus::Complete));
    // Answering what is no longer PENDING conflicts; an unknown invitation is not found.
    let err = selling.start_accepting_engagement_invitation(&id(3), "respond-rejected").await.err();
    assert!(matches!(err, Some(PartnerCentralError::Conflict { .. })), "{err:?}");
    let err = selling.reject_engagement_invitation(&id(0), &reason).await.err();
    assert!(matches!(err, Some(PartnerCentralError::Conflict { .. })), "{err:?}");
    let err = selling.reject_engagement_invitation("engi-zzzzzzzzzzzzz", &reason).await.err();
    assert!(matches!(err, Some(PartnerCentralError::NotFound { .. })), "{err:?}");

    let stored = harness::get_json(&format!("{}/_emulator/engagement-invitations/AWS/{}", emu.url(), id(4)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored["Status"], "REJECTED");
    assert_eq!(stored["RejectionReason"], "Unable to support");
    let calls = pc.calls.snapshot();
    assert_eq!(calls.get("StartEngagementByAcceptingInvitationTask"), Some(&5), "{calls:?}");
    let stats = harness::get_json(&format!("{}/_emulator/stats", emu.url())).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(calls.get("RejectEngagementInvitation"), Some(&5), "{calls:?} {stats}");
}
