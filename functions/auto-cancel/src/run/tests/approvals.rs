//! auto-cancel's `ask` rules and its approval entry, over the in-memory fakes: the engine's
//! approval entry with auto-cancel's subjects (our SENT connection invitations, Cancel with
//! the policy's own token).

use shared::domain::{Approval, ApprovalAction};
use shared::policy::engine::{ApprovalOutcome, ApprovalSummary};

use super::*;

const DAY: &str = "auto-cancel/day/2026-11-20";

/// The policy of [`policy`], its first two rules asking a person instead of cancelling.
fn asking_policy() -> Policy {
    let doc = json!({
        "version": 1, "dryRun": false, "maxActionsPerRun": 10, "maxActionsPerDay": 10,
        "rules": [
            {"name": "stale-collaboration", "match": {"connectionTypes": [COLLAB], "olderThanHours": 240}, "ask": true},
            {"name": "expiring-unanswered", "match": {"expiresWithinHours": 24}, "ask": true},
            {"name": "blocked-partners", "match": {"otherParticipantIdentifiers": ["123456789012"]}}
        ],
        "exclude": {"otherParticipantIdentifiers": ["210987654321"], "invitationIds": [KEEP_ID]}
    });
    crate::policy::parse(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

async fn decide<Connections: Fake>(
    app: &App<Connections>,
    approval_id: &str,
    decision: &str,
    request_id: &str,
) -> ApprovalSummary {
    let payload = json!({"approval": {"approvalId": approval_id, "decision": decision}});
    match app.function().handle(payload, request_id, None).await {
        Ok(Answer::Approval(summary)) => *summary,
        other => panic!("not an approval's answer: {other:?}"),
    }
}

/// The approvals asked, by invitation id: (detail-type, approval).
fn asked<Connections>(app: &App<Connections>) -> BTreeMap<String, (String, Approval)> {
    let events = app.publisher.published();
    let asked: Vec<OutboundEvent> =
        events.into_iter().filter(|e| e.detail_type.to_string().ends_with("Approval Requested")).collect();
    asked
        .iter()
        .zip(details(&asked))
        .map(|(e, d)| (d.invitation_id, (e.detail_type.to_string(), d.approval.unwrap_or_else(|| panic!("approval")))))
        .collect()
}

fn approval_id<Connections>(app: &App<Connections>, invitation_id: &str) -> String {
    asked(app).get(invitation_id).map(|(_, a)| a.approval_id.clone()).unwrap_or_else(|| panic!("{invitation_id} asked"))
}

fn canceled_events<Connections>(app: &App<Connections>, id: &str) -> Vec<InvitationEventDetail> {
    let events: Vec<OutboundEvent> =
        app.publisher.published().into_iter().filter(|e| e.detail_type == "Connection Invitation Canceled").collect();
    details(&events).into_iter().filter(|d| d.invitation_id == id).collect()
}

#[tokio::test]
async fn an_ask_rule_asks_once_and_an_approval_cancels_once_with_the_policy_token_and_the_approval_cause() {
    let app = app(asking_policy());
    let s = run_ok(&app, Invocation::scheduled()).await;
    let requested: Vec<&str> = s.approvals_requested.iter().map(|a| a.invitation_id.as_str()).collect();
    assert_eq!(requested, [EXPIRING, STALE_OLD, STALE_NEW], "oldest first; the blocked partner is canceled outright");
    assert_eq!(s.canceled, ids(&[BLOCKED]));
    assert_eq!(calls(&app.invitations, "CancelConnectionInvitation"), 1, "asking cancels nothing");
    assert_eq!(app.store.allowance_used(DAY), 1, "only the outright cancellation took an allowance");
    let (detail_type, approval) = &asked(&app)[STALE_OLD];
    assert_eq!(detail_type, "Connection Invitation Approval Requested");
    assert_eq!((approval.action, approval.rule.as_str()), (ApprovalAction::Cancel, "stale-collaboration"));
    assert_eq!(approval.function.as_str(), "auto-cancel");
    assert!(approval.approval_id.starts_with("ac:c:cancel:"), "{}", approval.approval_id);
    // Not asked again while it waits.
    let again = run_ok(&app, Invocation::scheduled()).await;
    assert!(again.approvals_requested.is_empty(), "{again:?}");
    assert_eq!(asked(&app).len(), 3);

    let id = approval_id(&app, STALE_OLD);
    let s = decide(&app, &id, "approve", "req-1").await;
    assert_eq!((s.outcome, s.status), (ApprovalOutcome::Done, Some(InvitationStatus::Canceled)), "{s:?}");
    assert_eq!(status(&app.invitations, STALE_OLD), Some(InvitationStatus::Canceled));
    assert_eq!(app.store.allowance_used(DAY), 2);
    let canceled = canceled_events(&app, STALE_OLD);
    assert_eq!(canceled.len(), 1);
    let cause = canceled[0].cause.clone().unwrap_or_else(|| panic!("cause"));
    assert_eq!(cause.cause_type, CauseType::Approval);
    assert_eq!((cause.rule.as_str(), cause.approval_id.as_deref()), ("stale-collaboration", Some(id.as_str())));
    assert_eq!(s.cause, Some(cause));

    // Replayed: already done, not canceled again.
    let replay = decide(&app, &id, "approve", "req-2").await;
    assert_eq!(replay.outcome, ApprovalOutcome::AlreadyDone, "{replay:?}");
    assert_eq!(calls(&app.invitations, "CancelConnectionInvitation"), 2);
    assert_eq!(app.store.allowance_used(DAY), 2);
}

#[tokio::test]
async fn auto_cancel_refuses_forged_and_other_functions_approvals_and_a_dismissal_is_never_asked_again() {
    let app = app(asking_policy());
    run_ok(&app, Invocation::scheduled()).await;
    let genuine = approval_id(&app, STALE_NEW);
    let parts: Vec<&str> = genuine.splitn(6, ':').collect();
    let forged = format!("{}:{}:{}:{}:{}:{}", parts[0], parts[1], parts[2], parts[3], "0".repeat(24), parts[5]);
    let for_auto_respond = format!("ar:c:accept:{}", &genuine["ac:c:cancel:".len()..]);
    for (id, reason) in [
        (forged.as_str(), "no such approval was requested for invitation pacinv-Stale00000002"),
        (for_auto_respond.as_str(), "an approval for auto-respond"),
        ("ac:c:cancel:nothex", "not an approval id this project issues"),
    ] {
        let s = decide(&app, id, "approve", "req-1").await;
        assert_eq!(s.outcome, ApprovalOutcome::Refused, "{id}");
        assert!(s.reason.as_deref().is_some_and(|r| r.contains(reason)), "{id}: {:?}", s.reason);
    }
    assert_eq!(status(&app.invitations, STALE_NEW), Some(InvitationStatus::Pending));

    let s = decide(&app, &genuine, "dismiss", "req-2").await;
    assert_eq!(s.outcome, ApprovalOutcome::Dismissed, "{s:?}");
    let again = run_ok(&app, Invocation::scheduled()).await;
    assert!(again.approvals_requested.is_empty());
    assert!(again.skipped.iter().any(|k| k.invitation_id == STALE_NEW && k.reason.to_string().contains("dismissed")));
    let approve_after = decide(&app, &genuine, "approve", "req-3").await;
    assert_eq!(approve_after.outcome, ApprovalOutcome::AlreadyDone);
    assert_eq!(status(&app.invitations, STALE_NEW), Some(InvitationStatus::Pending), "a person declined");
}

#[tokio::test]
async fn an_approval_whose_cancel_fails_is_not_spent_and_cancels_once_when_given_again() {
    let app = app(asking_policy());
    run_ok(&app, Invocation::scheduled()).await;
    let id = approval_id(&app, EXPIRING);
    app.invitations.fail_next_action(
        EXPIRING,
        PartnerCentralError::Throttled { operation: "CancelConnectionInvitation", message: "injected".into() },
    );
    // A throttled Cancel is the invocation's error (the person sees it), and spends nothing.
    let payload = json!({"approval": {"approvalId": id, "decision": "approve"}});
    let failed = app.function().handle(payload, "req-1", None).await;
    assert!(matches!(failed, Err(RunError::PartnerCentral(PartnerCentralError::Throttled { .. }))), "{failed:?}");
    assert_eq!(status(&app.invitations, EXPIRING), Some(InvitationStatus::Pending));
    assert_eq!(app.store.allowance_used(DAY), 1, "the failed cancellation gave its allowance back");
    let record = app.store.record(InvitationKind::Connection, EXPIRING).and_then(|r| r.approval);
    assert_eq!(record.map(|a| a.decided), Some(None), "the decision was taken back");

    let again = decide(&app, &id, "approve", "req-2").await;
    assert_eq!((again.outcome, again.status), (ApprovalOutcome::Done, Some(InvitationStatus::Canceled)), "{again:?}");
    assert_eq!(canceled_events(&app, EXPIRING).len(), 1);
    assert_eq!(
        calls(&app.invitations, "CancelConnectionInvitation"),
        3,
        "the blocked one, the failed try, the approval"
    );
}

#[tokio::test]
async fn one_approval_given_twice_concurrently_with_a_run_cancels_once() {
    let app = app(asking_policy());
    run_ok(&app, Invocation::scheduled()).await;
    let id = approval_id(&app, STALE_OLD);
    let function = app.function();
    let (a, b, run) = tokio::join!(
        decide(&app, &id, "approve", "req-a"),
        decide(&app, &id, "approve", "req-b"),
        function.run(Invocation::scheduled(), None),
    );
    assert_eq!(run.error, None);
    let mut outcomes = [a.outcome, b.outcome];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [ApprovalOutcome::AlreadyDone, ApprovalOutcome::Done], "{a:?} {b:?}");
    assert_eq!(canceled_events(&app, STALE_OLD).len(), 1);
    assert_eq!(calls(&app.invitations, "CancelConnectionInvitation"), 2, "the blocked one, and this one once");
}

#[tokio::test]
async fn a_retry_of_an_approval_that_canceled_then_stopped_records_it_done_with_the_approval_cause() {
    use shared::domain::{ApprovalDecided, ApprovalDecision};
    let app = app(asking_policy());
    run_ok(&app, Invocation::scheduled()).await;
    let id = approval_id(&app, STALE_OLD);
    // The invocation req-1 recorded its decision and canceled, then stopped before recording
    // the transition (killed, timed out).
    let mut record = app.store.record(InvitationKind::Connection, STALE_OLD).unwrap_or_else(|| panic!("record"));
    if let Some(approval) = record.approval.as_mut() {
        approval.decided =
            Some(ApprovalDecided { decision: ApprovalDecision::Approve, at: now(), request_id: "req-1".into() });
    }
    let committed = app.store.commit(vec![RecordChange::update(record, Vec::new())]).await;
    assert!(matches!(committed.as_deref(), Ok([CommitOutcome::Committed])), "{committed:?}");
    app.invitations.set_status(InvitationKind::Connection, STALE_OLD, InvitationStatus::Canceled);

    // Another request: that approval was decided.
    assert_eq!(decide(&app, &id, "approve", "req-2").await.outcome, ApprovalOutcome::AlreadyDone);
    // Lambda's retry of req-1 finds it done: done, recorded with the approval's cause.
    let retry = decide(&app, &id, "approve", "req-1").await;
    assert_eq!((retry.outcome, retry.status), (ApprovalOutcome::Done, Some(InvitationStatus::Canceled)), "{retry:?}");
    let canceled = canceled_events(&app, STALE_OLD);
    assert_eq!(canceled.len(), 1);
    let cause = canceled[0].cause.clone().unwrap_or_else(|| panic!("the approval's cause"));
    assert_eq!((cause.cause_type, cause.approval_id.as_deref()), (CauseType::Approval, Some(id.as_str())));
    assert_eq!(calls(&app.invitations, "CancelConnectionInvitation"), 1, "only the outright one: none again");
}
