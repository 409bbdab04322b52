//! The `ask` rules and the approval entry, over the in-memory fakes: each rule of the entry
//! (genuine, replay, expired, forged, mismatched, policy changed, not PENDING, dismiss) and
//! approvals given twice concurrently with a scheduled run.

use shared::domain::{ApprovalAction, CauseType};
use shared::policy::engine::{ApprovalOutcome, ApprovalSummary};

use super::*;

const DAY: &str = "auto-respond/day/2026-11-20";

/// The connection rules of `connection_policy`, each asking a person instead of acting;
/// `stranger_hours`: the strangers' age condition (another value, another policy hash).
fn asking_policy(stranger_hours: u32) -> Policy {
    let doc = json!({
        "version": 1, "dryRun": false, "maxActionsPerRun": 10, "maxActionsPerDay": 10,
        "rules": [
            {"name": "known-partners", "kind": "connection",
             "match": {"otherParticipantIdentifiers": ["111122223333"]}, "action": "accept", "ask": true},
            {"name": "strangers", "kind": "connection", "match": {"olderThanHours": stranger_hours},
             "action": "reject", "rejectionReason": "Not a partner we work with", "ask": true},
            {"name": "aws-referrals", "match": {"payloadTypes": ["OpportunityInvitation"], "senderAwsAccountIds": ["123456789012"]},
             "action": "accept", "ask": true}
        ],
        "exclude": {"invitationIds": [KEEP]}
    });
    crate::policy::parse(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

async fn decide(app: &App, approval_id: &str, decision: &str, request_id: &str) -> ApprovalSummary {
    let payload = json!({"approval": {"approvalId": approval_id, "decision": decision}});
    match app.function().handle(payload, request_id, None).await {
        Ok(Answer::Approval(summary)) => *summary,
        other => panic!("not an approval's answer: {other:?}"),
    }
}

/// The approvals asked, by invitation id.
fn asked(app: &App) -> BTreeMap<String, (String, shared::domain::Approval)> {
    app.published()
        .into_iter()
        .filter(|(t, _)| t.ends_with("Approval Requested"))
        .map(|(t, d)| (d.invitation_id.clone(), (t, d.approval.unwrap_or_else(|| panic!("approval")))))
        .collect()
}

fn approval_id(app: &App, invitation_id: &str) -> String {
    asked(app).get(invitation_id).map(|(_, a)| a.approval_id.clone()).unwrap_or_else(|| panic!("{invitation_id} asked"))
}

#[tokio::test]
async fn an_ask_rule_asks_once_takes_no_action_and_spends_no_allowance() {
    let app = connection_app(asking_policy(48));
    let s = app.run(PolicyInvocation::scheduled()).await;
    let requested: Vec<&str> = s.approvals_requested.iter().map(|a| a.invitation_id.as_str()).collect();
    assert_eq!(requested, [REFERRAL_OLD, REFERRAL_NEW, STRANGER, PARTNER, FULL], "oldest first, per kind");
    assert!(s.accepting.is_empty() && s.accepted.is_empty() && s.rejected.is_empty());
    assert!(app.partner.connection_answers().is_empty() && app.partner.acceptance_tasks().is_empty());
    assert_eq!(app.store.allowance_used(DAY), 0, "asking spends no allowance");

    let asked = asked(&app);
    let (detail_type, partner) = &asked[PARTNER];
    assert_eq!(detail_type, "Connection Invitation Approval Requested");
    assert_eq!((partner.action, partner.rule.as_str()), (ApprovalAction::Accept, "known-partners"));
    assert_eq!(partner.policy_hash, app.policy.hash());
    assert_eq!(partner.function.as_str(), "auto-respond");
    let invitation = app.partner.get(InvitationKind::Connection, PARTNER).unwrap_or_else(|| panic!("known"));
    assert_eq!(
        Some(partner.until),
        invitation.expires_at.map(|e| e - Duration::hours(1)),
        "its expiry, minus the margin"
    );
    assert!(shared::domain::Approval::is_valid_id(&partner.approval_id));
    assert_eq!(asked[STRANGER].1.action, ApprovalAction::Reject);
    assert_eq!(asked[REFERRAL_OLD].0, "Engagement Invitation Approval Requested");
    // Recorded on the invitation's state record: what makes the id genuine.
    let record = app.store.record(InvitationKind::Connection, PARTNER).and_then(|r| r.approval);
    assert_eq!(record.map(|a| a.approval_id), Some(partner.approval_id.clone()));

    // Not again on the next run: it awaits the person.
    let again = app.run(PolicyInvocation::scheduled()).await;
    assert!(again.approvals_requested.is_empty() && again.events_queued == 0, "{again:?}");
    assert!(
        again
            .skipped
            .iter()
            .any(|s| s.invitation_id == PARTNER && s.reason.to_string().starts_with("awaiting approval"))
    );
    assert_eq!(app.published().len(), 5);
}

#[tokio::test]
async fn an_approval_acts_once_with_the_same_token_and_the_approval_cause() {
    let app = connection_app(asking_policy(48));
    app.run(PolicyInvocation::scheduled()).await;
    let id = approval_id(&app, PARTNER);

    let s = decide(&app, &id, "approve", "req-1").await;
    assert_eq!(s.outcome, ApprovalOutcome::Done, "{s:?}");
    assert_eq!(s.status, Some(InvitationStatus::Accepted));
    assert_eq!(app.store.allowance_used(DAY), 1, "an approved action takes an allowance");
    let answers = app.partner.connection_answers();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].1, crate::policy::client_token(&Response::Accept, PARTNER), "the policy's own token");
    let accepted: Vec<InvitationEventDetail> =
        app.published().into_iter().filter(|(t, _)| t == "Connection Invitation Accepted").map(|(_, d)| d).collect();
    assert_eq!(accepted.len(), 1);
    let cause = accepted[0].cause.clone().unwrap_or_else(|| panic!("cause"));
    assert_eq!(cause.cause_type, CauseType::Approval);
    assert_eq!((cause.rule.as_str(), cause.approval_id.as_deref()), ("known-partners", Some(id.as_str())));
    assert_eq!(cause.policy_hash, app.policy.hash());
    assert_eq!(s.cause, Some(cause));

    // The same approval again: already done, nothing done again.
    let replay = decide(&app, &id, "approve", "req-2").await;
    assert_eq!(replay.outcome, ApprovalOutcome::AlreadyDone, "{replay:?}");
    assert!(replay.reason.is_some_and(|r| r.starts_with("already done: approved at")));
    assert_eq!(app.partner.connection_answers().len(), 1);
    assert_eq!(app.store.allowance_used(DAY), 1);
}

#[tokio::test]
async fn a_reject_and_an_engagement_acceptance_are_approved_like_the_policy_would_do_them() {
    let app = connection_app(asking_policy(48));
    app.run(PolicyInvocation::scheduled()).await;
    let s = decide(&app, &approval_id(&app, STRANGER), "approve", "req-1").await;
    assert_eq!((s.outcome, s.status), (ApprovalOutcome::Done, Some(InvitationStatus::Rejected)), "{s:?}");
    let answers = app.partner.connection_answers();
    assert_eq!(answers.len(), 1);
    assert_eq!((answers[0].0.as_str(), answers[0].2), (STRANGER, InvitationStatus::Rejected));
    assert!(answers[0].1.starts_with("ar-reject-"), "the policy's own token: {}", answers[0].1);

    let s = decide(&app, &approval_id(&app, REFERRAL_OLD), "approve", "req-2").await;
    assert_eq!(s.outcome, ApprovalOutcome::Started, "{s:?}");
    assert_eq!(app.partner.acceptance_tasks().len(), 1);
    let started = app.published().into_iter().find(|(t, _)| t == "Engagement Invitation Acceptance Started");
    let cause = started.and_then(|(_, d)| d.cause).unwrap_or_else(|| panic!("Acceptance Started with its cause"));
    assert_eq!(cause.cause_type, CauseType::Approval);
    // The task's end keeps the approval cause (recorded with the task).
    let record = app.store.record(InvitationKind::Engagement, REFERRAL_OLD).and_then(|r| r.acceptance);
    assert_eq!(record.map(|a| a.cause().cause_type), Some(CauseType::Approval));
}

#[tokio::test]
async fn forged_mismatched_malformed_and_other_functions_approvals_are_refused_with_the_reason() {
    let app = connection_app(asking_policy(48));
    app.run(PolicyInvocation::scheduled()).await;
    let genuine = approval_id(&app, PARTNER);
    let parts: Vec<&str> = genuine.splitn(6, ':').collect();
    let forged = format!("{}:{}:{}:{}:{}:{}", parts[0], parts[1], parts[2], parts[3], "0".repeat(24), parts[5]);
    let mismatched = format!("{}:{}:reject:{}:{}:{}", parts[0], parts[1], parts[3], parts[4], parts[5]);
    let other_function = format!("ac:{}", &genuine[3..]);
    let cases = [
        (forged.as_str(), "no such approval was requested for invitation pacinv-Partner000001"),
        (
            mismatched.as_str(),
            "does not match the approval requested for invitation pacinv-Partner000001 (it asks to accept, this id says reject)",
        ),
        ("not-an-approval", "not an approval id this project issues"),
        ("has a space", "printable ASCII"),
        (other_function.as_str(), "an approval for auto-cancel"),
    ];
    for (id, reason) in cases {
        let s = decide(&app, id, "approve", "req-1").await;
        assert_eq!(s.outcome, ApprovalOutcome::Refused, "{id}");
        assert!(s.reason.as_deref().is_some_and(|r| r.contains(reason)), "{id}: {:?}", s.reason);
    }
    assert!(app.partner.connection_answers().is_empty(), "nothing done");
    assert_eq!(app.store.allowance_used(DAY), 0);
    // The genuine one still works.
    assert_eq!(decide(&app, &genuine, "approve", "req-2").await.outcome, ApprovalOutcome::Done);
}

#[tokio::test]
async fn expired_changed_policy_and_answered_invitations_are_refused_and_the_approval_stays_usable() {
    let app = connection_app(asking_policy(48));
    app.run(PolicyInvocation::scheduled()).await;
    let partner = approval_id(&app, PARTNER);
    let full = approval_id(&app, FULL);
    let until = asked(&app)[PARTNER].1.until;

    // The policy changed since it asked.
    let app = App { policy: asking_policy(47), ..app };
    let s = decide(&app, &partner, "approve", "req-1").await;
    assert_eq!(s.outcome, ApprovalOutcome::Refused);
    assert!(s.reason.as_deref().is_some_and(|r| r.starts_with("the policy changed since it asked")), "{s:?}");
    let app = App { policy: asking_policy(48), ..app };

    // Answered in the console meanwhile: refused, and the transition recorded.
    app.partner.set_status(InvitationKind::Connection, FULL, InvitationStatus::Accepted);
    let s = decide(&app, &full, "approve", "req-2").await;
    assert_eq!((s.outcome, s.status), (ApprovalOutcome::Refused, Some(InvitationStatus::Accepted)), "{s:?}");
    assert!(s.reason.as_deref().is_some_and(|r| r.contains("no longer PENDING: ACCEPTED")));
    assert!(
        app.published()
            .iter()
            .any(|(t, d)| t == "Connection Invitation Accepted" && d.invitation_id == FULL && d.cause.is_none())
    );

    // Past `until`.
    app.clock.set(until + Duration::seconds(1));
    let s = decide(&app, &partner, "approve", "req-3").await;
    assert_eq!(s.outcome, ApprovalOutcome::Refused);
    assert!(s.reason.as_deref().is_some_and(|r| r.starts_with("expired: the approval could be given until")), "{s:?}");
    assert!(app.partner.connection_answers().is_empty());
    assert_eq!(app.store.allowance_used(DAY), 0, "refused approvals give their allowance back");

    // Before `until` it is still usable (refusals did not spend it).
    app.clock.set(now());
    assert_eq!(decide(&app, &partner, "approve", "req-4").await.outcome, ApprovalOutcome::Done);
}

#[tokio::test]
async fn a_dismissed_approval_is_recorded_and_the_policy_does_not_ask_again() {
    let app = connection_app(asking_policy(48));
    app.run(PolicyInvocation::scheduled()).await;
    let id = approval_id(&app, STRANGER);
    let s = decide(&app, &id, "dismiss", "req-1").await;
    assert_eq!(s.outcome, ApprovalOutcome::Dismissed, "{s:?}");
    let events = app.published().len();
    let again = app.run(PolicyInvocation::scheduled()).await;
    assert!(again.approvals_requested.is_empty());
    assert!(again.skipped.iter().any(|s| s.invitation_id == STRANGER && s.reason.to_string().contains("dismissed")));
    assert_eq!(app.published().len(), events, "not asked again");
    let approve_after = decide(&app, &id, "approve", "req-2").await;
    assert_eq!(approve_after.outcome, ApprovalOutcome::AlreadyDone);
    assert!(approve_after.reason.is_some_and(|r| r.starts_with("already done: dismissed")));
    assert!(app.partner.connection_answers().is_empty());
    // Another policy asks again: a new decision for a new policy.
    let app = App { policy: asking_policy(47), ..app };
    assert_eq!(app.run(PolicyInvocation::scheduled()).await.approvals_requested.len(), 5);
}

#[tokio::test]
async fn the_same_approval_twice_concurrently_with_a_scheduled_run_acts_once() {
    let app = connection_app(asking_policy(48));
    app.run(PolicyInvocation::scheduled()).await;
    let id = approval_id(&app, PARTNER);
    let function = app.function();
    let (a, b, run) = tokio::join!(
        decide(&app, &id, "approve", "req-a"),
        decide(&app, &id, "approve", "req-b"),
        function.run(PolicyInvocation::scheduled(), None),
    );
    assert_eq!(run.error, None);
    let mut outcomes = [a.outcome, b.outcome];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [ApprovalOutcome::AlreadyDone, ApprovalOutcome::Done], "{a:?} {b:?}");
    let answers = app.partner.connection_answers();
    assert_eq!(answers.iter().filter(|(i, _, _)| i == PARTNER).count(), 1, "{answers:?}");
    assert_eq!(answers.len(), 1, "the scheduled run answered nothing");
    let accepted = app.published().into_iter().filter(|(t, _)| t == "Connection Invitation Accepted").count();
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn an_approval_refused_for_a_full_quota_is_not_spent_and_accepts_once_when_given_again() {
    let app = connection_app(asking_policy(48));
    app.run(PolicyInvocation::scheduled()).await;
    let id = approval_id(&app, PARTNER);
    app.partner.set_connections_full(true);
    let s = decide(&app, &id, "approve", "req-1").await;
    assert_eq!(s.outcome, ApprovalOutcome::Refused, "{s:?}");
    let reason = s.reason.unwrap_or_default();
    assert!(reason.starts_with("not done:") && reason.ends_with("it can be given again)"), "{reason}");
    assert_eq!(app.store.allowance_used(DAY), 0, "the allowance went back");
    assert_eq!(app.partner.get(InvitationKind::Connection, PARTNER).map(|i| i.status), Some(InvitationStatus::Pending));

    app.partner.set_connections_full(false);
    let again = decide(&app, &id, "approve", "req-2").await;
    assert_eq!((again.outcome, again.status), (ApprovalOutcome::Done, Some(InvitationStatus::Accepted)), "{again:?}");
    assert_eq!(app.partner.connection_answers().len(), 1);
    assert_eq!(decide(&app, &id, "approve", "req-3").await.outcome, ApprovalOutcome::AlreadyDone);
}
