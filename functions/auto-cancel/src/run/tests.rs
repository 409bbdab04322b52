//! Handler tests over the in-memory fakes of `shared::testing`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone};
use futures::stream::BoxStream;
use serde_json::json;

use shared::PartnerCentralError;
use shared::domain::{ConnectionDetails, InvitationEventDetail, OtherParty, OutboundEvent};
use shared::ports::Page;
use shared::run::RunSummary;
use shared::testing::{FakePartnerCentral, FixedClock, MemoryStateStore, RecordingPublisher, connection_invitation};

use super::*;
use crate::input::Invocation;
use shared::domain::{CauseType, CommitOutcome, InvitationRecord, RecordChange};
use shared::policy::engine::SkipReason;

const COLLAB: &str = "OPPORTUNITY_COLLABORATION";
const SUB: &str = "SUBSIDIARY";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn inv(id: &str, participant: ParticipantType, connection_type: &str, age_days: f64, other: &str) -> Invitation {
    let created_at = now() - Duration::seconds((age_days * 86_400.0) as i64);
    Invitation {
        participant_type: participant,
        other_party: OtherParty { participant_identifier: Some(other.to_owned()), ..OtherParty::default() },
        connection_type: Some(connection_type.to_owned()),
        details: Some(ConnectionDetails {
            invitation_message: "Let's collaborate".into(),
            inviter_name: "Ann".into(),
            inviter_email: Some("ann@example.com".into()),
        }),
        ..connection_invitation(id, created_at)
    }
}

fn sent(id: &str, connection_type: &str, age_days: f64, other: &str) -> Invitation {
    inv(id, ParticipantType::Sender, connection_type, age_days, other)
}

const STALE_OLD: &str = "pacinv-Stale00000001";
const STALE_NEW: &str = "pacinv-Stale00000002";
const EXPIRING: &str = "pacinv-Expiring00001";
const BLOCKED: &str = "pacinv-Blocked000001";
const YOUNG: &str = "pacinv-Young00000001";
const RECEIVED: &str = "pacinv-Received00001";
const KEEP_PARTNER: &str = "pacinv-KeepPartner01";
const KEEP_ID: &str = "pacinv-KeepThisOne01";

/// SENDER: two stale collaborations, an expiring subsidiary, one to a blocked partner, a young
/// one (no rule), one excluded by partner, one excluded by id. RECEIVER: one matching every
/// rule.
fn world() -> Vec<Invitation> {
    vec![
        sent(STALE_OLD, COLLAB, 12.0, "111111111111"),
        sent(STALE_NEW, COLLAB, 11.5, "222222222222"),
        sent(EXPIRING, SUB, 14.5, "333333333333"),
        sent(BLOCKED, COLLAB, 1.0, "123456789012"),
        sent(YOUNG, COLLAB, 2.0, "444444444444"),
        sent(KEEP_PARTNER, COLLAB, 13.0, "210987654321"),
        sent(KEEP_ID, COLLAB, 12.5, "555555555555"),
        inv(RECEIVED, ParticipantType::Receiver, COLLAB, 14.5, "123456789012"),
    ]
}

fn policy_json(dry_run: bool, cap: u32) -> String {
    json!({
        "version": 1,
        "dryRun": dry_run,
        "maxCancellationsPerRun": cap,
        // Out of the way of the per-run cap; the daily budget has its own tests.
        "maxCancellationsPerDay": 1000,
        "rules": [
            {"name": "stale-collaboration", "match": {"connectionTypes": [COLLAB], "olderThanDays": 10}},
            {"name": "expiring-unanswered", "match": {"expiresWithinHours": 24}},
            {"name": "blocked-partners", "match": {"otherParticipantIdentifiers": ["123456789012"]}}
        ],
        "exclude": {"otherParticipantIdentifiers": ["210987654321"], "invitationIds": [KEEP_ID]}
    })
    .to_string()
}

fn policy(dry_run: bool, cap: u32) -> Policy {
    crate::policy::parse(&policy_json(dry_run, cap)).unwrap_or_else(|e| panic!("{e}"))
}

/// Oldest first among the SENDER matches.
const MATCH_ORDER: [&str; 4] = [EXPIRING, STALE_OLD, STALE_NEW, BLOCKED];

/// What the function is lent in a test: fakes of its ports, a policy, settings (as `main`
/// lends it the real clients).
struct App<Connections> {
    invitations: Connections,
    /// Shared with test hooks that play the other functions; also the cancellation budget,
    /// as in `main`.
    store: Arc<MemoryStateStore>,
    publisher: RecordingPublisher,
    clock: FixedClock,
    policy: Policy,
    settings: Settings,
}

fn app_with<Connections: Fake>(invitations: Connections, policy: Policy) -> App<Connections> {
    App {
        invitations,
        store: Arc::default(),
        publisher: RecordingPublisher::new(),
        clock: FixedClock::at(now()),
        policy,
        settings: Settings {
            include_contact_details: false,
            catalog: shared::domain::Catalog::Aws,
            requests_per_second: 8,
        },
    }
}

fn app(policy: Policy) -> App<FakePartnerCentral> {
    app_with(FakePartnerCentral::new(world()), policy)
}

impl<Connections: Fake> App<Connections> {
    fn function(
        &self,
    ) -> AutoCancel<
        '_,
        Connections,
        MemoryStateStore,
        RecordingPublisher,
        FixedClock,
        FakePartnerCentral,
        MemoryStateStore,
    > {
        AutoCancel {
            ports: Ports {
                connections: &self.invitations,
                engagements: &(),
                store: &self.store,
                publisher: &self.publisher,
                clock: &self.clock,
                // The fake counts every call it answers, as the clients' counter does.
                calls: self.invitations.fake(),
            },
            budget: &self.store,
            policy: &self.policy,
            settings: &self.settings,
        }
    }

    async fn run(&self, invocation: Invocation) -> RunReport<Summary, RunError> {
        self.function().run(invocation, None).await
    }

    async fn handle(&self, payload: serde_json::Value, request_id: &str) -> Result<Summary, RunError> {
        match self.function().handle(payload, request_id, None).await? {
            Answer::Run(summary) => Ok(summary),
            Answer::Approval(approval) => panic!("a run's payload answered as an approval: {approval:?}"),
        }
    }
}

async fn run_ok<Connections: Fake>(app: &App<Connections>, invocation: Invocation) -> Summary {
    let report = app.run(invocation).await;
    assert_eq!(report.error, None, "{:?}", report.summary);
    report.summary
}

fn api_calls(calls: &[(&str, u64)]) -> BTreeMap<String, u64> {
    calls.iter().map(|(op, n)| ((*op).to_owned(), *n)).collect()
}

fn details(events: &[OutboundEvent]) -> Vec<InvitationEventDetail> {
    events.iter().map(|e| serde_json::from_str(&e.detail).unwrap_or_else(|err| panic!("{err}: {}", e.detail))).collect()
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn status(fake: &FakePartnerCentral, id: &str) -> Option<InvitationStatus> {
    fake.get(InvitationKind::Connection, id).map(|i| i.status)
}

fn calls(fake: &FakePartnerCentral, op: &str) -> u32 {
    fake.calls().get(op).copied().unwrap_or(0)
}

// -------------------------------------------------------------------------------------
// Dry run

#[tokio::test]
async fn a_dry_run_plans_every_match_once_and_changes_nothing() {
    let app = app(policy(true, 2));
    let s = run_ok(&app, Invocation::scheduled()).await;

    assert!(s.dry_run);
    assert_eq!(s.candidates, 7, "the 7 SENDER invitations; the RECEIVER one is not a candidate");
    assert_eq!(s.planned, ids(&MATCH_ORDER), "every match, oldest first");
    assert_eq!(s.deferred, ids(&[STALE_NEW, BLOCKED]), "beyond the cap of 2, a real run would defer these");
    assert!(s.canceled.is_empty());
    assert_eq!(s.excluded, 2);
    assert_eq!(
        s.matched_per_rule,
        BTreeMap::from([
            ("stale-collaboration".to_owned(), 4),
            ("expiring-unanswered".to_owned(), 1),
            ("blocked-partners".to_owned(), 1)
        ])
    );
    // Nothing touched in Partner Central: no Get, no Cancel.
    assert_eq!(s.end.api_calls, api_calls(&[("ListConnectionInvitations", 1)]));
    for i in world() {
        assert_eq!(status(&app.invitations, &i.id), Some(InvitationStatus::Pending));
    }

    let published = app.publisher.published();
    assert_eq!(s.events_queued, 4);
    assert_eq!(s.end.events_delivered, 4);
    let d = details(&published);
    assert!(published.iter().all(|e| e.detail_type == "Connection Invitation Cancellation Planned"));
    let planned: Vec<(&str, &str)> = d
        .iter()
        .map(|d| (d.invitation_id.as_str(), d.cause.as_ref().map(|c| c.rule.as_str()).unwrap_or_default()))
        .collect();
    let mut planned_sorted = planned.clone();
    planned_sorted.sort_unstable();
    assert_eq!(
        planned_sorted,
        [
            (BLOCKED, "blocked-partners"),
            (EXPIRING, "expiring-unanswered"),
            (STALE_OLD, "stale-collaboration"),
            (STALE_NEW, "stale-collaboration")
        ]
    );
    assert!(d.iter().all(|d| d.cause.as_ref().is_some_and(|c| c.policy_hash == app.policy.hash())));
    assert!(d.iter().all(|d| d.status == InvitationStatus::Pending && d.observed_at == now()));

    // Records: created unannounced (list-and-publish announces), marked planned, still PENDING.
    for id in MATCH_ORDER {
        let r = app.store.record(InvitationKind::Connection, id).unwrap_or_else(|| panic!("no record for {id}"));
        assert_eq!((r.status, r.announced), (InvitationStatus::Pending, false));
        assert_eq!(r.planned_by_policy.as_deref(), Some(app.policy.hash()));
    }
    assert_eq!(app.store.records().len(), 4, "no record for what the policy does not select");

    // The same policy again: nothing new.
    let again = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!(again.planned, s.planned);
    assert_eq!((again.events_queued, again.end.events_delivered), (0, 0));
    assert_eq!(app.publisher.published().len(), 4);
}

#[tokio::test]
async fn a_changed_policy_plans_again_under_its_own_hash() {
    let first = app(policy(true, 10));
    run_ok(&first, Invocation::scheduled()).await;
    let first_ids: Vec<String> = first.publisher.published().into_iter().map(|e| e.event_id).collect();

    let changed = crate::policy::parse(&policy_json(true, 10).replace("\"olderThanDays\":10", "\"olderThanDays\":11"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(changed.hash(), first.policy.hash());
    let second = App { policy: changed, ..first };
    let s = run_ok(&second, Invocation::scheduled()).await;
    // STALE_NEW (11.5 days) still matches 11 days; all four are planned again, new ids.
    assert_eq!(s.planned.len(), 4);
    assert_eq!(s.end.events_delivered, 4);
    let all = second.publisher.published();
    let new_ids: Vec<&String> = all.iter().skip(4).map(|e| &e.event_id).collect();
    assert!(new_ids.iter().all(|id| !first_ids.contains(id)), "a new policy hash is a new fact");
}

#[tokio::test]
async fn the_cap_alone_does_not_change_the_hash_or_re_plan() {
    let first = app(policy(true, 10));
    run_ok(&first, Invocation::scheduled()).await;
    let second = App { policy: policy(true, 3), ..first };
    let s = run_ok(&second, Invocation::scheduled()).await;
    assert_eq!(s.events_queued, 0);
    assert_eq!(s.deferred, ids(&[BLOCKED]));
}

#[tokio::test]
async fn the_payload_can_force_a_dry_run_but_never_a_real_one() {
    let real_policy = app(policy(false, 10));
    let s = run_ok(&real_policy, Invocation::with_dry_run(true)).await;
    assert!(s.dry_run);
    assert!(s.notes.iter().any(|n| n.contains("forced by the payload")), "{:?}", s.notes);
    assert_eq!(calls(&real_policy.invitations, "CancelConnectionInvitation"), 0);
    assert_eq!(s.planned.len(), 4);

    let dry_policy = app(policy(true, 10));
    let s = run_ok(&dry_policy, Invocation::with_dry_run(false)).await;
    assert!(s.dry_run, "dryRun: false in the payload cannot override the policy");
    assert!(s.notes.iter().any(|n| n.contains("dryRun: false ignored")), "{:?}", s.notes);
    assert_eq!(calls(&dry_policy.invitations, "CancelConnectionInvitation"), 0);
    assert!(s.canceled.is_empty());
}

// -------------------------------------------------------------------------------------
// Real run

#[tokio::test]
async fn a_real_run_cancels_matching_sender_invitations_oldest_first_up_to_the_cap() {
    let app = app_with(Hooked::new(world()), policy(false, 3));
    let s = run_ok(&app, Invocation::scheduled()).await;
    let fake = &app.invitations.fake;

    assert!(!s.dry_run);
    assert_eq!(s.canceled, ids(&[EXPIRING, STALE_OLD, STALE_NEW]));
    assert_eq!(s.deferred, ids(&[BLOCKED]));
    assert!(s.skipped.is_empty() && s.planned.is_empty());
    for id in [EXPIRING, STALE_OLD, STALE_NEW] {
        assert_eq!(status(fake, id), Some(InvitationStatus::Canceled), "{id}");
    }
    for id in [BLOCKED, YOUNG, KEEP_PARTNER, KEEP_ID, RECEIVED] {
        assert_eq!(status(fake, id), Some(InvitationStatus::Pending), "{id} must be left alone");
    }
    assert_eq!(
        s.end.api_calls,
        api_calls(&[
            ("ListConnectionInvitations", 1),
            ("GetConnectionInvitation", 3),
            ("CancelConnectionInvitation", 3)
        ]),
        "one listing; one confirmation per cancellation"
    );
    // Deterministic tokens: the policy's token for each invitation, in order.
    let expected: Vec<(String, String)> = s.canceled.iter().map(|id| (id.clone(), client_token(id))).collect();
    assert_eq!(app.invitations.tokens(), expected);

    let published = app.publisher.published();
    assert_eq!(published.len(), 3);
    assert!(published.iter().all(|e| e.detail_type == "Connection Invitation Canceled"));
    for d in details(&published) {
        assert_eq!((d.status, d.previous_status), (InvitationStatus::Canceled, Some(InvitationStatus::Pending)));
        let cause = d.cause.unwrap_or_else(|| panic!("no cause"));
        assert_eq!(cause.policy_hash, app.policy.hash());
        assert_eq!(cause.cause_type, CauseType::Policy);
        let expected_rule = if d.invitation_id == EXPIRING { "expiring-unanswered" } else { "stale-collaboration" };
        assert_eq!(cause.rule, expected_rule);
        // Same id as the plain transition list-and-publish would publish: consumers dedupe.
        let plain = InvitationEvent::transition(&d.invitation, InvitationStatus::Pending, now())
            .map(|e| e.detail.event_id)
            .unwrap_or_default();
        assert_eq!(d.event_id, plain);
        // The inviter and the message are personal data: not published by default.
        assert_eq!(d.invitation.details, None);
    }
    for id in &s.canceled {
        let r = app.store.record(InvitationKind::Connection, id).unwrap_or_else(|| panic!("no record"));
        assert_eq!((r.status, r.terminal_at, r.announced), (InvitationStatus::Canceled, Some(now()), false));
    }
}

#[tokio::test]
async fn repeated_runs_work_through_the_deferred_ones_then_do_nothing() {
    let app = app_with(Hooked::new(world()), policy(false, 3));
    run_ok(&app, Invocation::scheduled()).await;
    let second = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!(second.canceled, ids(&[BLOCKED]));
    assert_eq!(second.candidates, 4, "what was canceled is no longer listed");

    let cancels_before = app.invitations.tokens().len();
    let published_before = app.publisher.published().len();
    let third = run_ok(&app, Invocation::scheduled()).await;
    assert!(third.canceled.is_empty() && third.deferred.is_empty() && third.skipped.is_empty());
    assert_eq!(app.invitations.tokens().len(), cancels_before, "no Cancel call for anything already canceled");
    assert_eq!(app.publisher.published().len(), published_before, "nothing new published");
    assert_eq!(third.events_queued, 0);
}

fn budget_policy(per_run: u32, per_day: u32) -> Policy {
    let mut doc: serde_json::Value = serde_json::from_str(&policy_json(false, per_run)).unwrap_or_default();
    doc["maxCancellationsPerDay"] = json!(per_day);
    crate::policy::parse(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn retries_of_one_scheduled_firing_never_cancel_more_than_its_cap() {
    let app = app_with(Hooked::new(world()), budget_policy(2, 100));
    let firing = || Invocation::scheduled().in_firing("scheduled/2026-11-20T06:00:00Z");
    let first = run_ok(&app, firing()).await;
    assert_eq!(first.canceled, ids(&[EXPIRING, STALE_OLD]));
    // Scheduler (or Lambda) retries the same firing, e.g. after a timeout: nothing more.
    let retry = run_ok(&app, firing()).await;
    assert!(retry.canceled.is_empty(), "{retry:?}");
    assert_eq!(retry.deferred, ids(&[STALE_NEW, BLOCKED]));
    assert!(retry.notes.iter().any(|n| n.contains("auto-cancel/firing/scheduled/2026-11-20T06:00:00Z")), "{retry:?}");
    assert_eq!(calls(&app.invitations.fake, "CancelConnectionInvitation"), 2);
    // The next firing has its own cap.
    let next = run_ok(&app, Invocation::scheduled().in_firing("scheduled/2026-11-21T06:00:00Z")).await;
    assert_eq!(next.canceled, ids(&[STALE_NEW, BLOCKED]));
}

#[tokio::test]
async fn the_daily_budget_holds_across_firings_retries_and_manual_invokes() {
    let app = app_with(Hooked::new(world()), budget_policy(3, 4));
    let first = run_ok(&app, Invocation::scheduled().in_firing("scheduled/2026-11-20T06:00:00Z")).await;
    assert_eq!(first.canceled, ids(&[EXPIRING, STALE_OLD, STALE_NEW]));
    let second = run_ok(&app, Invocation::scheduled().in_firing("scheduled/2026-11-20T07:00:00Z")).await;
    assert_eq!((second.canceled.clone(), second.deferred.clone()), (ids(&[BLOCKED]), vec![]));
    assert_eq!(app.store.allowance_used("auto-cancel/day/2026-11-20"), 4);
    // A manual invoke the same day (its own "firing"): the day's budget is spent.
    app.invitations.fake.upsert(sent("pacinv-Stale00000003", COLLAB, 12.2, "666666666666"));
    let manual = app.handle(json!({}), "request-42").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(manual.canceled.is_empty() && manual.deferred == ids(&["pacinv-Stale00000003"]), "{manual:?}");
    assert!(manual.notes.iter().any(|n| n.contains("auto-cancel/day/2026-11-20")), "{manual:?}");
    assert_eq!(manual.max_actions_per_day, 4);
}

#[tokio::test]
async fn a_match_left_alone_gives_its_allowance_back() {
    let app = app_with(Hooked::new(world()), budget_policy(1, 1));
    // The partner accepts EXPIRING right after our Get: no cancellation, so no allowance used.
    app.invitations
        .after_get(EXPIRING, |fake| fake.set_status(InvitationKind::Connection, EXPIRING, InvitationStatus::Accepted));
    let s = run_ok(&app, Invocation::scheduled().in_firing("scheduled/2026-11-20T06:00:00Z")).await;
    assert_eq!(s.canceled, ids(&[STALE_OLD]));
    assert_eq!(s.skipped.iter().map(|k| k.invitation_id.as_str()).collect::<Vec<_>>(), [EXPIRING]);
    assert_eq!(app.store.allowance_used("auto-cancel/day/2026-11-20"), 1);
}

#[tokio::test]
async fn contact_details_are_published_only_when_configured() {
    let mut app = app_with(Hooked::new(world()), policy(false, 1));
    app.settings.include_contact_details = true;
    run_ok(&app, Invocation::scheduled()).await;
    let d = details(&app.publisher.published());
    let email = d.first().and_then(|d| d.invitation.details.as_ref()).and_then(|x| x.inviter_email.clone());
    assert_eq!(email.as_deref(), Some("ann@example.com"));
}

// -------------------------------------------------------------------------------------
// Races and skips

#[tokio::test]
async fn an_invitation_accepted_between_get_and_cancel_is_skipped_and_its_acceptance_published() {
    let app = app_with(Hooked::new(world()), policy(false, 10));
    // The partner accepts EXPIRING right after our Get confirmed it PENDING.
    app.invitations
        .after_get(EXPIRING, |fake| fake.set_status(InvitationKind::Connection, EXPIRING, InvitationStatus::Accepted));
    let s = run_ok(&app, Invocation::scheduled()).await;

    assert_eq!(s.canceled, ids(&[STALE_OLD, STALE_NEW, BLOCKED]), "the run goes on");
    assert_eq!(s.skipped.len(), 1);
    let skip = &s.skipped[0];
    assert_eq!(skip.invitation_id, EXPIRING);
    assert_eq!(
        skip.reason,
        SkipReason::Conflict {
            operation: "CancelConnectionInvitation",
            reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE".into(),
            now: Some(InvitationStatus::Accepted)
        }
    );
    assert_eq!(status(&app.invitations.fake, EXPIRING), Some(InvitationStatus::Accepted));
    // A transition seen is a transition published: the acceptance, without a policy cause.
    let accepted: Vec<InvitationEventDetail> =
        details(&app.publisher.published()).into_iter().filter(|d| d.invitation_id == EXPIRING).collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].status, InvitationStatus::Accepted);
    assert_eq!(accepted[0].cause, None);
    let r = app.store.record(InvitationKind::Connection, EXPIRING).map(|r| r.status);
    assert_eq!(r, Some(InvitationStatus::Accepted));
}

#[tokio::test]
async fn an_invitation_already_canceled_when_confirmed_is_recorded_and_published_once() {
    // E.g. an earlier run canceled it and crashed before recording it; the listing lagged.
    let app = app_with(Hooked::new(world()), policy(false, 10));
    app.invitations.before_get(STALE_OLD, |fake| {
        fake.set_status(InvitationKind::Connection, STALE_OLD, InvitationStatus::Canceled)
    });
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert!(
        s.skipped.iter().any(
            |k| k.invitation_id == STALE_OLD && k.reason == SkipReason::NoLongerPending(InvitationStatus::Canceled)
        )
    );
    assert!(!app.invitations.tokens().iter().any(|(id, _)| id == STALE_OLD), "no Cancel call");
    let d: Vec<InvitationEventDetail> =
        details(&app.publisher.published()).into_iter().filter(|d| d.invitation_id == STALE_OLD).collect();
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].status, d[0].previous_status), (InvitationStatus::Canceled, Some(InvitationStatus::Pending)));
    assert_eq!(
        app.store.record(InvitationKind::Connection, STALE_OLD).map(|r| r.status),
        Some(InvitationStatus::Canceled)
    );
}

#[tokio::test]
async fn not_found_and_conflict_answers_are_skips_not_errors() {
    let app = app_with(Hooked::new(world()), policy(false, 10));
    let gone = |op| PartnerCentralError::NotFound { operation: op, message: "gone".into() };
    app.invitations.fake.fail_next(EXPIRING, gone("GetConnectionInvitation"));
    app.invitations.fail_cancel(STALE_OLD, gone("CancelConnectionInvitation"));
    app.invitations.fail_cancel(
        STALE_NEW,
        PartnerCentralError::Conflict {
            operation: "CancelConnectionInvitation",
            reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE".into(),
            message: "no".into(),
        },
    );
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!(s.canceled, ids(&[BLOCKED]));
    // The reasons as the summary renders them.
    let reasons: Vec<(&str, String)> =
        s.skipped.iter().map(|k| (k.invitation_id.as_str(), k.reason.to_string())).collect();
    assert_eq!(
        reasons,
        [
            (EXPIRING, "GetConnectionInvitation: not found".to_owned()),
            (STALE_OLD, "CancelConnectionInvitation: not found".to_owned()),
            (STALE_NEW, "CancelConnectionInvitation: conflict (INCOMPATIBLE_CONNECTION_INVITATION_STATE)".to_owned()),
        ]
    );
    // STALE_NEW is still PENDING (the conflict was injected): nothing recorded for it.
    assert_eq!(app.store.record(InvitationKind::Connection, STALE_NEW), None);
}

#[tokio::test]
async fn a_record_the_sweeper_marked_expired_is_left_alone() {
    let app = app_with(Hooked::new(world()), policy(false, 10));
    let mut expired = InvitationRecord::first_sighting(&sent(EXPIRING, SUB, 14.5, "333333333333"), true, now());
    expired.status = InvitationStatus::Expired;
    expired.terminal_at = Some(now());
    commit(&app.store, expired).await;
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!(s.skipped.len(), 1);
    assert_eq!(s.skipped[0].reason, SkipReason::AlreadyTerminal(InvitationStatus::Expired));
    assert!(!app.invitations.tokens().iter().any(|(id, _)| id == EXPIRING));
    assert_eq!(status(&app.invitations.fake, EXPIRING), Some(InvitationStatus::Pending));
}

#[tokio::test]
async fn an_overdue_invitation_is_not_canceled() {
    let mut world = world();
    for i in &mut world {
        if i.id == EXPIRING {
            i.expires_at = Some(now() - Duration::minutes(5));
        }
    }
    let app = app_with(Hooked::new(world), policy(false, 10));
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert!(s.skipped.iter().any(|k| k.invitation_id == EXPIRING && k.reason == SkipReason::Overdue));
    assert!(!app.invitations.tokens().iter().any(|(id, _)| id == EXPIRING));
}

// -------------------------------------------------------------------------------------
// Shared state with the other functions

#[tokio::test]
async fn a_cancel_list_and_publish_recorded_first_is_not_published_again() {
    let app = app_with(Hooked::new(world()), policy(false, 1));
    // list-and-publish sees the cancellation and records it between our Cancel and commit.
    let store = app.store.clone();
    app.invitations.after_cancel(EXPIRING, move |fake| {
        let current = fake.get(InvitationKind::Connection, EXPIRING).unwrap_or_else(|| panic!("gone"));
        let mut record = store.record(InvitationKind::Connection, EXPIRING).unwrap_or_else(|| {
            InvitationRecord::first_sighting(&sent(EXPIRING, SUB, 14.5, "333333333333"), true, now())
        });
        record.observe(&current, now());
        let event = InvitationEvent::transition(&current, InvitationStatus::Pending, now())
            .and_then(|e| OutboundEvent::from_event(&e).ok())
            .unwrap_or_else(|| panic!("no event"));
        commit_blocking(&store, RecordChange::update(record, vec![event]));
    });
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!(s.canceled, ids(&[EXPIRING]));
    assert_eq!(s.events_queued, 0, "the transition was already recorded, with its event");
    let published = app.publisher.published();
    assert_eq!(published.len(), 1, "exactly one Canceled event: list-and-publish's");
    assert_eq!(details(&published)[0].cause, None);
}

#[tokio::test]
async fn a_record_changed_concurrently_is_re_read_and_the_change_kept() {
    let app = app_with(Hooked::new(world()), policy(false, 1));
    let pending = sent(EXPIRING, SUB, 14.5, "333333333333");
    commit(&app.store, InvitationRecord::first_sighting(&pending, false, now())).await;
    // list-and-publish announces it while we cancel: the record's version moves.
    let store = app.store.clone();
    app.invitations.after_cancel(EXPIRING, move |_| {
        let mut record = store.record(InvitationKind::Connection, EXPIRING).unwrap_or_else(|| panic!("none"));
        record.announced = true;
        commit_blocking(&store, RecordChange::update(record, vec![]));
    });
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!(s.events_queued, 1);
    let r = app.store.record(InvitationKind::Connection, EXPIRING).unwrap_or_else(|| panic!("none"));
    assert_eq!((r.status, r.announced, r.version), (InvitationStatus::Canceled, true, 3));
    assert_eq!(app.publisher.detail_types(), ["Connection Invitation Canceled"]);
}

// -------------------------------------------------------------------------------------
// Failures

#[tokio::test]
async fn a_partner_central_failure_fails_the_run_after_publishing_what_was_committed() {
    let app = app_with(Hooked::new(world()), policy(false, 10));
    app.invitations.fake.fail_next(
        STALE_OLD,
        PartnerCentralError::Service {
            operation: "GetConnectionInvitation",
            message: "InternalServerException".into(),
        },
    );
    let RunReport { summary: s, error } = app.run(Invocation::scheduled()).await;
    assert!(matches!(error, Some(RunError::PartnerCentral(PartnerCentralError::Service { .. }))), "{error:?}");
    assert_eq!(s.canceled, ids(&[EXPIRING]), "what came before the failure stands");
    assert_eq!(s.end.events_delivered, 1, "and its event is delivered before the run reports the failure");
    assert_eq!(app.publisher.detail_types(), ["Connection Invitation Canceled"]);
    assert!(s.end.error.as_deref().is_some_and(|e| e.contains("InternalServerException")));
    assert_eq!(status(&app.invitations.fake, STALE_NEW), Some(InvitationStatus::Pending), "stopped there");
}

#[tokio::test]
async fn undelivered_events_stay_queued_and_the_run_still_succeeds() {
    let app = app(policy(true, 10));
    app.publisher.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!((s.events_queued, s.end.events_delivered, s.end.events_failed), (4, 0, 4));
    assert_eq!(app.store.outbox_events().len(), 4);
    app.publisher.heal();
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!((s.events_queued, s.end.events_delivered, s.end.events_failed), (0, 4, 0));
    assert!(app.store.outbox_events().is_empty());
}

#[tokio::test]
async fn a_state_table_outage_fails_the_run() {
    let app = app(policy(false, 10));
    app.store.unavailable.store(true, std::sync::atomic::Ordering::SeqCst);
    let RunReport { summary: s, error } = app.run(Invocation::scheduled()).await;
    assert!(matches!(error, Some(RunError::Store(_))), "{error:?}");
    assert!(s.canceled.is_empty(), "no cancellation without a state table to record it in");
    assert_eq!(s.end.api_calls, api_calls(&[("ListConnectionInvitations", 1)]), "no Get, no Cancel");
}

#[tokio::test]
async fn a_bad_payload_is_rejected_before_anything_happens() {
    let app = app(policy(false, 10));
    let err = app.handle(json!({"dryRun": true, "force": true}), "request-1").await.err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("unknown field `force`"), "{message}");
    assert_eq!(app.invitations.total_calls(), 0);
}

#[tokio::test]
async fn the_summary_serializes_camel_case_with_metrics_to_match() {
    let app = app_with(Hooked::new(world()), policy(false, 3));
    let s = app.handle(json!({}), "request-1").await.unwrap_or_else(|e| panic!("{e}"));
    let v = serde_json::to_value(&s).unwrap_or_default();
    for key in [
        "dryRun",
        "policyHash",
        "maxActionsPerRun",
        "candidates",
        "matchedPerRule",
        "excluded",
        "matches",
        "planned",
        "canceled",
        "skipped",
        "deferred",
        "eventsQueued",
        "eventsDelivered",
        "eventsFailed",
        "eventsStuck",
        "apiCalls",
        "durationMs",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(
        v["matches"][0],
        json!({
            "invitationId": EXPIRING, "rule": "expiring-unanswered", "otherParticipantIdentifier": "333333333333",
            "createdAt": (now() - Duration::hours(348)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        })
    );
    assert_eq!(
        v["apiCalls"],
        json!({"ListConnectionInvitations": 1, "GetConnectionInvitation": 3, "CancelConnectionInvitation": 3})
    );
    let emf = s.metrics().to_emf("auto-cancel", "AWS", 0);
    assert_eq!(emf["ApiCalls"], 7.0);
    assert_eq!(emf["Cancellations"], 3.0);
    assert_eq!(emf["Deferred"], 1.0);
    assert_eq!(emf["CancellationsPlanned"], 0.0);
    let names: Vec<&str> = emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["Name"].as_str()).collect())
        .unwrap_or_default();
    for name in [
        "Cancellations",
        "CancellationsPlanned",
        "Skipped",
        "Deferred",
        "EventsDelivered",
        "EventsFailed",
        "EventsStuck",
        "ApiCalls",
        "DurationMs",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
}

#[tokio::test]
async fn ties_in_age_are_broken_by_id_so_the_order_is_stable() {
    let world = vec![
        sent("pacinv-B000000000001", COLLAB, 12.0, "1"),
        sent("pacinv-A000000000001", COLLAB, 12.0, "1"),
        sent("pacinv-C000000000001", COLLAB, 12.0, "1"),
    ];
    let app = app_with(FakePartnerCentral::new(world).with_page_size(1), policy(false, 2));
    let s = run_ok(&app, Invocation::scheduled()).await;
    assert_eq!(s.canceled, ids(&["pacinv-A000000000001", "pacinv-B000000000001"]));
    assert_eq!(s.deferred, ids(&["pacinv-C000000000001"]));
    assert_eq!(s.end.api_calls["ListConnectionInvitations"], 3, "every page");
}

// -------------------------------------------------------------------------------------
// Test doubles

async fn commit(store: &MemoryStateStore, record: InvitationRecord) {
    let outcome = store.commit(vec![RecordChange::update(record, vec![])]).await;
    assert_eq!(outcome, Ok(vec![CommitOutcome::Committed]));
}

/// Commit from a synchronous hook (the memory store never waits).
fn commit_blocking(store: &MemoryStateStore, change: RecordChange) {
    let outcome = futures::executor::block_on(store.commit(vec![change]));
    assert_eq!(outcome, Ok(vec![CommitOutcome::Committed]));
}

/// A fake Partner Central: the fake of `shared::testing` itself, or wrapped in hooks.
trait Fake: ConnectionInvitations {
    /// The fake answering (and counting) the calls.
    fn fake(&self) -> &FakePartnerCentral;
}

impl Fake for FakePartnerCentral {
    fn fake(&self) -> &FakePartnerCentral {
        self
    }
}

impl Fake for Hooked {
    fn fake(&self) -> &FakePartnerCentral {
        &self.fake
    }
}

type Hook = Box<dyn FnOnce(&FakePartnerCentral) + Send>;

/// The fake Partner Central with hooks around Get and Cancel (to make races happen at an
/// exact point) and a log of the client tokens sent.
struct Hooked {
    fake: FakePartnerCentral,
    before_get: Mutex<HashMap<String, Hook>>,
    after_get: Mutex<HashMap<String, Hook>>,
    after_cancel: Mutex<HashMap<String, Hook>>,
    cancel_errors: Mutex<HashMap<String, PartnerCentralError>>,
    tokens: Mutex<Vec<(String, String)>>,
}

impl Hooked {
    fn new(invitations: Vec<Invitation>) -> Self {
        Hooked {
            fake: FakePartnerCentral::new(invitations),
            before_get: Mutex::default(),
            after_get: Mutex::default(),
            after_cancel: Mutex::default(),
            cancel_errors: Mutex::default(),
            tokens: Mutex::default(),
        }
    }

    fn before_get(&self, id: &str, hook: impl FnOnce(&FakePartnerCentral) + Send + 'static) {
        lock(&self.before_get).insert(id.to_owned(), Box::new(hook));
    }

    fn after_get(&self, id: &str, hook: impl FnOnce(&FakePartnerCentral) + Send + 'static) {
        lock(&self.after_get).insert(id.to_owned(), Box::new(hook));
    }

    fn after_cancel(&self, id: &str, hook: impl FnOnce(&FakePartnerCentral) + Send + 'static) {
        lock(&self.after_cancel).insert(id.to_owned(), Box::new(hook));
    }

    fn fail_cancel(&self, id: &str, error: PartnerCentralError) {
        lock(&self.cancel_errors).insert(id.to_owned(), error);
    }

    /// (invitation, ClientToken) of every Cancel call, in order.
    fn tokens(&self) -> Vec<(String, String)> {
        lock(&self.tokens).clone()
    }

    fn fire(&self, hooks: &Mutex<HashMap<String, Hook>>, id: &str) {
        let hook = lock(hooks).remove(id);
        if let Some(hook) = hook {
            hook(&self.fake);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ConnectionInvitations for Hooked {
    fn list_connection_invitations(
        &self,
        query: ConnectionInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        self.fake.list_connection_invitations(query)
    }

    async fn get_connection_invitation(&self, id: &str) -> Result<Invitation, PartnerCentralError> {
        self.fire(&self.before_get, id);
        let result = self.fake.get_connection_invitation(id).await;
        self.fire(&self.after_get, id);
        result
    }

    async fn cancel_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
    ) -> Result<Invitation, PartnerCentralError> {
        lock(&self.tokens).push((id.to_owned(), client_token.to_owned()));
        let injected = lock(&self.cancel_errors).remove(id);
        if let Some(e) = injected {
            return Err(e);
        }
        let result = self.fake.cancel_connection_invitation(id, client_token).await;
        self.fire(&self.after_cancel, id);
        result
    }
}

#[tokio::test]
async fn what_it_cannot_read_it_never_cancels_and_the_rest_goes_on() {
    let app = app_with(Hooked::new(world()), policy(false, 10));
    let fake = &app.invitations.fake;
    // Unreadable in the listing, and readable in the listing but not at the confirming Get.
    fake.make_unreadable(InvitationKind::Connection, STALE_OLD, "Status", Some("SUSPENDED"));
    app.invitations.before_get(EXPIRING, |fake| {
        fake.make_unreadable(InvitationKind::Connection, EXPIRING, "ParticipantType", None);
    });
    let s = run_ok(&app, Invocation::scheduled()).await;

    assert_eq!(s.canceled, ids(&[STALE_NEW, BLOCKED]), "the readable matches are canceled");
    for id in [STALE_OLD, EXPIRING] {
        assert_eq!(status(fake, id), Some(InvitationStatus::Pending), "{id} must be left alone");
    }
    assert_eq!(s.unreadable.len(), 2);
    assert_eq!(s.candidates, 6, "the unreadable one is no candidate");
    let skipped: Vec<(String, String)> =
        s.skipped.iter().map(|k| (k.invitation_id.clone(), k.reason.to_string())).collect();
    assert_eq!(
        skipped,
        [(
            EXPIRING.to_owned(),
            "GetConnectionInvitation returned it unreadable (ParticipantType); left alone".to_owned()
        )]
    );
    assert_eq!(calls(fake, "CancelConnectionInvitation"), 2);
}

#[path = "tests/approvals.rs"]
mod approvals;
