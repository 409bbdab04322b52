//! Handler tests over the in-memory fakes of `shared::testing`.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone};
use serde_json::json;

use shared::domain::engagement_response::AcceptanceTask;
use shared::domain::{InvitationEventDetail, OtherParty};
use shared::run::RunSummary;
use shared::testing::{FakePartnerCentral, FixedClock, MemoryStateStore, RecordingPublisher, engagement_invitation};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn received(id: &str, payload: &str, age_hours: i64, sender: &str, company: &str) -> Invitation {
    Invitation {
        payload_type: Some(payload.to_owned()),
        engagement_title: Some("Data lake migration".into()),
        other_party: OtherParty {
            sender_aws_account_id: Some(sender.to_owned()),
            sender_company_name: Some(company.to_owned()),
            ..OtherParty::default()
        },
        ..engagement_invitation(id, now() - Duration::hours(age_hours))
    }
}

const REFERRAL_OLD: &str = "engi-referral00001";
const REFERRAL_NEW: &str = "engi-referral00002";
const LEAD: &str = "engi-lead000000001";
const OTHER: &str = "engi-other00000001";
const KEEP: &str = "engi-keepthisone01";
const SENT: &str = "engi-sent000000001";

/// RECEIVER PENDING: two AWS referrals (accept), a lead (reject), one from another company
/// (no rule), one excluded by id. SENDER: a referral matching every rule (never a candidate).
fn world() -> Vec<Invitation> {
    vec![
        received(REFERRAL_OLD, "OpportunityInvitation", 30, "123456789012", "AWS"),
        received(REFERRAL_NEW, "OpportunityInvitation", 20, "123456789012", "AWS"),
        received(LEAD, "LeadInvitation", 25, "123456789012", "AWS"),
        received(OTHER, "OpportunityInvitation", 40, "999988887777", "Acme"),
        received(KEEP, "OpportunityInvitation", 50, "123456789012", "AWS"),
        Invitation {
            participant_type: ParticipantType::Sender,
            ..received(SENT, "OpportunityInvitation", 60, "123456789012", "AWS")
        },
    ]
}

fn policy(dry_run: bool, per_run: u32, per_day: u32) -> Policy {
    let doc = json!({
        "version": 1,
        "dryRun": dry_run,
        "maxActionsPerRun": per_run,
        "maxActionsPerDay": per_day,
        "rules": [
            {"name": "aws-referrals", "match": {"payloadTypes": ["OpportunityInvitation"], "senderAwsAccountIds": ["123456789012"], "senderCompanyNames": ["AWS"]}, "action": "accept"},
            {"name": "leads", "match": {"payloadTypes": ["LeadInvitation"]}, "action": "reject", "rejectionReason": "Unable to support"}
        ],
        "exclude": {"invitationIds": [KEEP]}
    });
    crate::policy::parse(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

struct App {
    partner: FakePartnerCentral,
    store: MemoryStateStore,
    publisher: RecordingPublisher,
    clock: FixedClock,
    policy: Policy,
    settings: Settings,
}

fn app(policy: Policy) -> App {
    App {
        partner: FakePartnerCentral::new(world()),
        store: MemoryStateStore::new(),
        publisher: RecordingPublisher::new(),
        clock: FixedClock::at(now()),
        policy,
        settings: Settings { catalog: Catalog::Aws, requests_per_second: 8 },
    }
}

impl App {
    fn function(
        &self,
    ) -> AutoRespond<
        '_,
        FakePartnerCentral,
        FakePartnerCentral,
        FakePartnerCentral,
        FakePartnerCentral,
        MemoryStateStore,
        RecordingPublisher,
        FixedClock,
        FakePartnerCentral,
        MemoryStateStore,
    > {
        AutoRespond {
            ports: Ports {
                connections: &self.partner,
                engagements: &self.partner,
                store: &self.store,
                publisher: &self.publisher,
                clock: &self.clock,
                calls: &self.partner,
            },
            responses: &self.partner,
            answers: &self.partner,
            budget: &self.store,
            policy: &self.policy,
            settings: &self.settings,
        }
    }

    async fn run(&self, invocation: PolicyInvocation) -> Summary {
        let report = self.function().run(invocation, None).await;
        assert_eq!(report.error, None, "{:?}", report.summary);
        report.summary
    }

    fn published(&self) -> Vec<(String, InvitationEventDetail)> {
        self.publisher
            .published()
            .iter()
            .map(|e| {
                let detail = serde_json::from_str(&e.detail).unwrap_or_else(|err| panic!("{err}: {}", e.detail));
                (e.detail_type.to_string(), detail)
            })
            .collect()
    }

    fn status(&self, id: &str) -> Option<InvitationStatus> {
        self.partner.get(InvitationKind::Engagement, id).map(|i| i.status)
    }

    fn calls(&self, op: &str) -> u32 {
        self.partner.calls().get(op).copied().unwrap_or(0)
    }
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

mod approvals;

const START: &str = "StartEngagementByAcceptingInvitationTask";
const REJECT: &str = "RejectEngagementInvitation";

#[tokio::test]
async fn a_dry_run_plans_every_match_once_and_changes_nothing() {
    let app = app(policy(true, 10, 10));
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert!(s.dry_run);
    assert_eq!(s.candidates, 5, "the SENDER invitation is not a candidate");
    assert_eq!(s.planned, ids(&[REFERRAL_OLD, LEAD, REFERRAL_NEW]), "oldest first");
    assert_eq!(s.excluded, 1);
    assert_eq!(s.matched_per_rule, BTreeMap::from([("aws-referrals".into(), 3), ("leads".into(), 1)]));
    assert_eq!((app.calls(START), app.calls(REJECT)), (0, 0));
    assert!(app.partner.acceptance_tasks().is_empty());
    for id in [REFERRAL_OLD, REFERRAL_NEW, LEAD, OTHER, KEEP] {
        assert_eq!(app.status(id), Some(InvitationStatus::Pending), "{id}");
    }
    let events = app.published();
    assert_eq!(events.len(), 3);
    for (detail_type, detail) in &events {
        assert_eq!(detail_type, "Engagement Invitation Response Planned");
        let cause = detail.cause.as_ref().unwrap_or_else(|| panic!("cause"));
        assert_eq!(cause.policy_hash, app.policy.hash());
    }
    let lead = events.iter().find(|(_, d)| d.invitation_id == LEAD).map(|(_, d)| d.clone());
    let lead = lead.unwrap_or_else(|| panic!("lead planned"));
    assert_eq!(lead.cause.map(|c| c.rule), Some("leads".into()));
    assert_eq!(
        serde_json::to_value(&lead.response).unwrap_or_default(),
        json!({"action": "reject", "rejectionReason": "Unable to support"})
    );

    // Planned once per policy: a second dry run publishes nothing new.
    let again = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(again.events_queued, 0);
    assert_eq!(app.published().len(), 3);
}

#[tokio::test]
async fn a_payload_cannot_turn_a_dry_run_policy_into_real_answers() {
    let app = app(policy(true, 10, 10));
    let s = app.run(PolicyInvocation::with_dry_run(false)).await;
    assert!(s.dry_run && s.notes.iter().any(|n| n.contains("dryRun: false ignored")), "{:?}", s.notes);
    assert_eq!((app.calls(START), app.calls(REJECT)), (0, 0));
    let real = self::app(policy(false, 10, 10));
    let s = real.run(PolicyInvocation::with_dry_run(true)).await;
    assert!(s.dry_run);
    assert_eq!((real.calls(START), real.calls(REJECT)), (0, 0));
}

#[tokio::test]
async fn a_real_run_accepts_and_rejects_exactly_the_matches_and_follows_the_tasks() {
    let app = app(policy(false, 10, 10));
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert!(!s.dry_run);
    let accepting: Vec<&str> = s.accepting.iter().map(|a| a.invitation_id.as_str()).collect();
    assert_eq!(accepting, [REFERRAL_OLD, REFERRAL_NEW]);
    assert_eq!(s.rejected, ids(&[LEAD]));
    assert_eq!(app.calls(START), 2);
    assert_eq!(app.calls(REJECT), 1);
    assert_eq!(app.calls("GetEngagementInvitation"), 3, "one Get per action");
    assert_eq!(app.status(LEAD), Some(InvitationStatus::Rejected));
    assert_eq!(app.partner.rejection_reason(LEAD).map(|r| r.to_string()), Some("Unable to support".into()));
    for id in [OTHER, KEEP, SENT] {
        assert_eq!(app.status(id), Some(InvitationStatus::Pending), "{id} untouched");
    }
    // Tokens: invitation + policy hash.
    let tasks = app.partner.acceptance_tasks();
    assert_eq!(tasks.len(), 2);
    let types: Vec<String> = app.published().into_iter().map(|(t, _)| t).collect();
    assert_eq!(types.iter().filter(|t| *t == "Engagement Invitation Acceptance Started").count(), 2, "{types:?}");
    let rejected: Vec<InvitationEventDetail> =
        app.published().into_iter().filter(|(t, _)| t == "Engagement Invitation Rejected").map(|(_, d)| d).collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].cause.as_ref().map(|c| c.rule.as_str()), Some("leads"));
    assert_eq!(rejected[0].previous_status, Some(InvitationStatus::Pending));
    // The within-run follow-up saw them still running.
    assert_eq!(s.tasks_followed, 2);
    assert!(s.acceptances_completed.is_empty());

    // A repeated run acts on nothing.
    let again = app.run(PolicyInvocation::scheduled()).await;
    assert!(again.accepting.is_empty() && again.rejected.is_empty(), "{again:?}");
    assert_eq!((app.calls(START), app.calls(REJECT)), (2, 1));
    assert!(again.skipped.iter().all(|s| s.reason.to_string().starts_with("being accepted by task-")), "{again:?}");

    // The tasks end; the next run publishes the outcome, with the Accepted transition.
    app.partner.fail_acceptance_of(REFERRAL_NEW, "OpportunityValidationFailed", "Missing customer website");
    assert_eq!(app.partner.end_acceptance_tasks(), 2);
    let before = app.published().len();
    let after = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(after.acceptances_completed.len(), 1);
    assert_eq!(after.acceptances_completed[0].invitation_id, REFERRAL_OLD);
    assert!(after.acceptances_completed[0].opportunity_id.is_some());
    assert_eq!(after.acceptances_failed.len(), 1);
    let failed = &after.acceptances_failed[0];
    assert_eq!(failed.invitation_id, REFERRAL_NEW);
    assert_eq!(failed.reason_code.as_ref().map(|r| r.as_str()), Some("OpportunityValidationFailed"));
    assert_eq!(failed.message.as_deref(), Some("Missing customer website"));
    let new: Vec<(String, InvitationEventDetail)> = app.published().into_iter().skip(before).collect();
    let types: Vec<&str> = new.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types.len(), 3, "{types:?}");
    assert!(types.contains(&"Engagement Invitation Accepted"));
    assert!(types.contains(&"Engagement Invitation Acceptance Completed"));
    assert!(types.contains(&"Engagement Invitation Acceptance Failed"));
    for (_, d) in &new {
        assert_eq!(d.cause.as_ref().map(|c| c.policy_hash.as_str()), Some(app.policy.hash()));
    }
    let record = app.store.record(InvitationKind::Engagement, REFERRAL_OLD);
    assert_eq!(record.map(|r| r.status), Some(InvitationStatus::Accepted));
    // The failed one is not started again under this policy, and nothing is published twice.
    let last = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(app.calls(START), 2);
    assert_eq!(last.events_queued, 0);
    assert!(
        last.skipped.iter().any(|s| s.invitation_id == REFERRAL_NEW && s.reason.to_string().contains("ended FAILED"))
    );
}

#[tokio::test]
async fn the_cap_and_the_daily_budget_hold_under_retries() {
    let app = app(policy(false, 1, 2));
    let firing = || PolicyInvocation::scheduled().in_firing("scheduled/2026-11-20T06:00:00Z");
    let first = app.run(firing()).await;
    assert_eq!(first.actions(), 1);
    assert_eq!(first.deferred, ids(&[LEAD, REFERRAL_NEW]));
    // A retry of the same firing: its allowance is used up.
    let retry = app.run(firing()).await;
    assert_eq!(retry.actions(), 0, "{retry:?}");
    // Another firing the same day: one more, then the day's budget of 2 is used up.
    let second = app.run(PolicyInvocation::scheduled().in_firing("scheduled/2026-11-20T07:00:00Z")).await;
    assert_eq!(second.actions(), 1);
    let third = app.run(PolicyInvocation::scheduled().in_firing("scheduled/2026-11-20T08:00:00Z")).await;
    assert_eq!(third.actions(), 0);
    assert!(third.notes.iter().any(|n| n.contains("auto-respond/day/2026-11-20 used up")), "{:?}", third.notes);
    assert_eq!(app.calls(START) + app.calls(REJECT), 2);
}

#[tokio::test]
async fn races_are_skipped_with_a_reason_and_give_the_allowance_back() {
    let app = app(policy(false, 10, 10));
    // Refused for its state (answered by someone else after the listing), and gone.
    app.partner.fail_next(
        REFERRAL_OLD,
        PartnerCentralError::Conflict {
            operation: START,
            reason: "UNSPECIFIED".into(),
            message: "no longer pending".into(),
        },
    );
    app.partner.fail_next(
        LEAD,
        PartnerCentralError::NotFound { operation: "GetEngagementInvitation", message: "gone".into() },
    );
    let s = app.run(PolicyInvocation::scheduled()).await;
    let reasons: BTreeMap<String, String> =
        s.skipped.iter().map(|k| (k.invitation_id.clone(), k.reason.to_string())).collect();
    assert_eq!(reasons.get(LEAD).map(String::as_str), Some("GetEngagementInvitation: not found"), "{reasons:?}");
    assert!(reasons.get(REFERRAL_OLD).is_some_and(|r| r.starts_with(&format!("{START}: conflict"))), "{reasons:?}");
    assert_eq!(s.accepting.len(), 1);
    assert_eq!(app.store.allowance_used("auto-respond/day/2026-11-20"), 1, "skips give their allowance back");
}

#[tokio::test]
async fn what_it_cannot_read_it_never_answers_and_the_rest_goes_on() {
    let app = app(policy(false, 10, 10));
    // Unreadable in the listing (a payload type is an open string; a status is not).
    app.partner.make_unreadable(InvitationKind::Engagement, REFERRAL_OLD, "Status", Some("WITHDRAWN"));
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(s.unreadable.len(), 1);
    assert_eq!(s.candidates, 4, "the unreadable one is no candidate");
    assert_eq!(app.status(REFERRAL_OLD), Some(InvitationStatus::Pending), "never answered");
    assert_eq!((app.calls(START), app.calls(REJECT)), (1, 1), "REFERRAL_NEW accepted, LEAD rejected");
    assert_eq!(serde_json::to_value(&s).unwrap_or_default()["unreadableInvitations"], 1);

    // Readable again: answered by the next run.
    app.partner.heal(InvitationKind::Engagement, REFERRAL_OLD);
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(s.unreadable.len(), 0);
    assert_eq!(app.calls(START), 2);
}

#[tokio::test]
async fn a_task_the_listing_never_returns_is_followed_for_a_day_then_reported_failed() {
    let app = app(policy(false, 10, 10));
    app.run(PolicyInvocation::scheduled()).await;
    let task_id = app.partner.unlist_acceptance_task_of(REFERRAL_OLD).unwrap_or_else(|| panic!("a task was started"));
    let before = app.published().len();

    // Within the day: still followed, nothing published about it.
    app.clock.advance(Duration::hours(23));
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(s.tasks_followed, 2, "both tasks still followed: {s:?}");
    assert!(s.acceptances_failed.is_empty() && s.acceptances_completed.is_empty(), "{s:?}");
    assert_eq!(app.published().len(), before);

    // A day after its start: given up, reported as Acceptance Failed with why.
    app.clock.advance(Duration::hours(1));
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(s.acceptances_failed.len(), 1, "{s:?}");
    let failed = &s.acceptances_failed[0];
    assert_eq!((failed.invitation_id.as_str(), failed.task_id.as_str()), (REFERRAL_OLD, task_id.as_str()));
    assert_eq!(failed.reason_code, None);
    assert!(failed.message.as_deref().is_some_and(|m| m.contains("not listed")), "{failed:?}");
    let new: Vec<(String, InvitationEventDetail)> = app.published().into_iter().skip(before).collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].0, "Engagement Invitation Acceptance Failed");
    assert_eq!(new[0].1.cause.as_ref().map(|c| c.rule.as_str()), Some("aws-referrals"));
    let record = app.store.record(InvitationKind::Engagement, REFERRAL_OLD);
    assert_eq!(record.and_then(|r| r.acceptance).and_then(|a| a.ended).as_deref(), Some("FAILED"));

    // No longer followed, not started again under this policy.
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(s.tasks_followed, 1, "only REFERRAL_NEW's task: {s:?}");
    assert_eq!(app.calls(START), 2);
    assert!(s.skipped.iter().any(|k| k.invitation_id == REFERRAL_OLD && k.reason.to_string().contains("ended FAILED")));
}

// --- one answer per invitation, and the run's time -------------------------------------

#[tokio::test]
async fn a_run_killed_after_start_and_an_edited_policy_still_give_one_task() {
    let app = app(policy(false, 10, 10));
    // A run started accepting REFERRAL_OLD and was killed before recording it.
    let token = client_token(&Response::Accept, REFERRAL_OLD);
    let first = app.partner.start_accepting_engagement_invitation(REFERRAL_OLD, &token).await;
    let first = first.unwrap_or_else(|e| panic!("{e}"));
    // The policy is edited (another hash) before the next run.
    let mut edited = policy(false, 10, 10);
    edited.rules.reverse();
    let edited = Policy::new(1, edited.limits, edited.rules, edited.exclude.clone());
    assert_ne!(edited.hash(), app.policy.hash());
    let app = App { policy: edited, ..app };
    let s = app.run(PolicyInvocation::scheduled()).await;
    let tasks: Vec<AcceptanceTask> = app
        .partner
        .acceptance_tasks()
        .into_iter()
        .filter(|t| t.invitation_id.as_deref() == Some(REFERRAL_OLD))
        .collect();
    assert_eq!(tasks.len(), 1, "one task for the invitation: {tasks:?}");
    assert_eq!(tasks[0].task_id, first.task_id);
    assert!(s.accepting.iter().any(|a| a.invitation_id == REFERRAL_OLD && a.task_id == first.task_id), "{s:?}");
}

#[tokio::test]
async fn an_invitation_being_accepted_is_never_rejected_by_an_edited_policy() {
    let app = app(policy(false, 10, 10));
    let token = client_token(&Response::Accept, LEAD);
    app.partner.start_accepting_engagement_invitation(LEAD, &token).await.unwrap_or_else(|e| panic!("{e}"));
    // The policy rejects leads; the killed run had started accepting this one.
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(app.calls(REJECT), 0, "{s:?}");
    assert!(s.skipped.iter().any(|k| k.invitation_id == LEAD && k.reason.to_string().starts_with("being accepted by")));
    assert_eq!(app.store.allowance_used("auto-respond/day/2026-11-20"), 2, "the skip gave its allowance back");
}

#[tokio::test]
async fn no_answer_is_started_that_the_time_left_cannot_finish() {
    let app = app(policy(false, 10, 10));
    let report = app.function().run(PolicyInvocation::scheduled(), Some(std::time::SystemTime::UNIX_EPOCH)).await;
    let s = report.summary;
    assert_eq!((app.calls(START), app.calls(REJECT), app.calls("GetEngagementInvitation")), (0, 0, 0));
    assert_eq!(s.deferred, ids(&[REFERRAL_OLD, LEAD, REFERRAL_NEW]));
    assert!(s.notes.iter().any(|n| n.contains("cannot finish another action") && n.contains("3 match(es) wait")));
    assert_eq!(app.store.allowance_used("auto-respond/day/2026-11-20"), 0);
}

// --- connection invitations we received -----------------------------------------------

const PARTNER: &str = "pacinv-Partner000001";
const STRANGER: &str = "pacinv-Stranger00001";
const FULL: &str = "pacinv-Partner000002";
const OURS: &str = "pacinv-Ours000000001";

fn connection(id: &str, age_hours: i64, from: &str, side: ParticipantType) -> Invitation {
    Invitation {
        participant_type: side,
        connection_type: Some("OPPORTUNITY_COLLABORATION".into()),
        other_party: OtherParty { participant_identifier: Some(from.to_owned()), ..OtherParty::default() },
        ..shared::testing::connection_invitation(id, now() - Duration::hours(age_hours))
    }
}

fn connection_policy(dry_run: bool) -> Policy {
    let doc = json!({
        "version": 1, "dryRun": dry_run, "maxActionsPerRun": 10, "maxActionsPerDay": 10,
        "rules": [
            {"name": "known-partners", "kind": "connection",
             "match": {"otherParticipantIdentifiers": ["111122223333"], "connectionTypes": ["OPPORTUNITY_COLLABORATION"]},
             "action": "accept"},
            {"name": "strangers", "kind": "connection", "match": {"olderThanHours": 48},
             "action": "reject", "rejectionReason": "Not a partner we work with"}
        ]
    });
    crate::policy::parse(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn connection_app(policy: Policy) -> App {
    let mut invitations = world();
    invitations.extend([
        connection(PARTNER, 30, "111122223333", ParticipantType::Receiver),
        connection(FULL, 20, "111122223333", ParticipantType::Receiver),
        connection(STRANGER, 72, "999988887777", ParticipantType::Receiver),
        // We sent it: never answered, whatever matches.
        connection(OURS, 100, "111122223333", ParticipantType::Sender),
    ]);
    App { partner: FakePartnerCentral::new(invitations), ..app(policy) }
}

#[tokio::test]
async fn a_connection_policy_plans_in_a_dry_run_then_accepts_and_rejects() {
    let app = connection_app(connection_policy(true));
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(s.candidates, 3, "connection invitations we received only (engagement rules: none)");
    assert_eq!(s.planned, ids(&[STRANGER, PARTNER, FULL]), "oldest first");
    assert_eq!(app.calls("ListEngagementInvitations"), 0, "no engagement rule, no engagement listing");
    let planned = app.published();
    assert!(planned.iter().all(|(t, _)| t == "Connection Invitation Response Planned"), "{planned:?}");
    let stranger = planned.iter().find(|(_, d)| d.invitation_id == STRANGER).map(|(_, d)| d.clone());
    let stranger = stranger.unwrap_or_else(|| panic!("planned"));
    assert_eq!(
        serde_json::to_value(&stranger.response).unwrap_or_default(),
        json!({"action": "reject", "rejectionReason": "Not a partner we work with"})
    );
    assert!(app.partner.connection_answers().is_empty());

    let app = App { policy: connection_policy(false), ..app };
    app.partner.set_connections_full(false);
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert_eq!(s.accepted, ids(&[PARTNER, FULL]));
    assert_eq!(s.rejected, ids(&[STRANGER]));
    let answers = app.partner.connection_answers();
    assert_eq!(answers.len(), 3);
    for (id, token, status) in &answers {
        let action = if *status == InvitationStatus::Accepted { "accept" } else { "reject" };
        assert!(token.starts_with(&format!("ar-{action}-")), "{id}: {token}");
    }
    assert_eq!(app.partner.get(InvitationKind::Connection, OURS).map(|i| i.status), Some(InvitationStatus::Pending));
    let answered: Vec<(String, InvitationEventDetail)> =
        app.published().into_iter().filter(|(t, _)| !t.ends_with("Response Planned")).collect();
    assert_eq!(answered.len(), 3, "{answered:?}");
    for (t, d) in &answered {
        let cause = d.cause.as_ref().unwrap_or_else(|| panic!("cause"));
        assert_eq!(cause.policy_hash, app.policy.hash());
        let expected = if d.invitation_id == STRANGER {
            "Connection Invitation Rejected"
        } else {
            "Connection Invitation Accepted"
        };
        assert_eq!(t, expected);
        // The same eventId list-and-publish would give the transition.
        let current = app.partner.get(InvitationKind::Connection, &d.invitation_id).unwrap_or_else(|| panic!("known"));
        let plain = InvitationEvent::transition(&current, InvitationStatus::Pending, now());
        assert_eq!(plain.map(|e| e.detail.event_id), Some(d.event_id.clone()));
    }
    // Nothing answered twice.
    let again = app.run(PolicyInvocation::scheduled()).await;
    assert!(again.accepted.is_empty() && again.rejected.is_empty(), "{again:?}");
    assert_eq!(app.partner.connection_answers().len(), 3);
}

#[tokio::test]
async fn a_full_account_is_a_skip_with_its_reason_and_an_alarm_worthy_metric() {
    let app = connection_app(connection_policy(false));
    app.partner.set_connections_full(true);
    let s = app.run(PolicyInvocation::scheduled()).await;
    assert!(s.accepted.is_empty());
    assert_eq!(s.rejected, ids(&[STRANGER]));
    let reasons: BTreeMap<String, String> =
        s.skipped.iter().map(|k| (k.invitation_id.clone(), k.reason.to_string())).collect();
    assert_eq!(
        reasons.get(PARTNER).map(String::as_str),
        Some(
            "AcceptConnectionInvitation: service quota exceeded (LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION); left PENDING"
        )
    );
    let emf = s.metrics().to_emf("auto-respond", "AWS", 0);
    assert_eq!(emf["QuotaExceeded"], 2.0);
    assert_eq!(app.store.allowance_used("auto-respond/day/2026-11-20"), 1, "skips give their allowance back");
    assert_eq!(app.partner.get(InvitationKind::Connection, PARTNER).map(|i| i.status), Some(InvitationStatus::Pending));
}
