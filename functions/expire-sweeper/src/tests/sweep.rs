//! Whole runs against the in-memory fakes of every port.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::Duration;
use serde_json::{Value, json};
use shared::domain::{
    CommitOutcome, InvitationEvent, InvitationKind, InvitationRecord, InvitationStatus, OutboundEvent, ParticipantType,
    RecordChange,
};
use shared::error::PartnerCentralError;
use shared::ports::StateStore;
use shared::testing::{FakePartnerCentral, FixedClock, MemoryStateStore, RacingStateStore, RecordingPublisher};

use crate::config::SweepSettings;
use crate::input::{RunOptions, invoke, scheduled};
use crate::sweep::{SweepError, sweep};
use crate::tests::testutil::{connection, engagement, settings, t0};
use shared::invocation::Invocation;
use shared::run::{Ports, RunReport, RunSummary};

struct World<S: StateStore = MemoryStateStore> {
    pc: FakePartnerCentral,
    store: S,
    bus: RecordingPublisher,
    clock: FixedClock,
}

impl World<MemoryStateStore> {
    fn new(invitations: Vec<shared::domain::Invitation>) -> Self {
        World::with_store(invitations, MemoryStateStore::new())
    }
}

impl<S: StateStore> World<S> {
    fn with_store(invitations: Vec<shared::domain::Invitation>, store: S) -> Self {
        World {
            pc: FakePartnerCentral::new(invitations),
            store,
            bus: RecordingPublisher::new(),
            clock: FixedClock::at(t0()),
        }
    }

    async fn run_with(
        &self,
        settings: &SweepSettings,
        trigger: Invocation<RunOptions>,
    ) -> RunReport<crate::Summary, SweepError> {
        let ports = Ports {
            connections: &self.pc,
            engagements: &self.pc,
            store: &self.store,
            publisher: &self.bus,
            clock: &self.clock,
            calls: &self.pc,
        };
        sweep(&ports, settings, &trigger).await
    }

    async fn run(&self) -> crate::Summary {
        let report = self.run_with(&settings(), invoke(RunOptions::default())).await;
        if let Some(e) = report.error {
            panic!("run failed: {e}");
        }
        report.summary
    }

    fn advance(&self, hours: i64) {
        self.clock.advance(Duration::hours(hours));
    }

    /// Everything published so far, as (detail-type, invitation id, detail).
    fn published(&self) -> Vec<(String, String, Value)> {
        self.bus
            .published()
            .into_iter()
            .map(|e| {
                let detail: Value = serde_json::from_str(&e.detail).unwrap_or_default();
                let id = detail["invitationId"].as_str().unwrap_or("-").to_owned();
                (e.detail_type, id, detail)
            })
            .collect()
    }

    fn warnings(&self) -> Vec<(String, u64, f64)> {
        self.published()
            .into_iter()
            .filter(|(t, _, _)| t.ends_with("Expiring Soon"))
            .map(|(_, id, d)| {
                (id, d["thresholdHours"].as_u64().unwrap_or(0), d["hoursRemaining"].as_f64().unwrap_or(f64::NAN))
            })
            .collect()
    }

    fn of_type(&self, suffix: &str) -> Vec<String> {
        self.published().into_iter().filter(|(t, _, _)| t.ends_with(suffix)).map(|(_, id, _)| id).collect()
    }
}

fn warning_counts(s: &crate::Summary) -> Vec<(u32, usize)> {
    s.warnings.iter().map(|(t, n)| (*t, *n)).collect()
}

#[tokio::test]
async fn warns_each_invitation_once_at_the_right_threshold_across_runs() {
    let w = World::new(vec![engagement(1, 100.0), engagement(2, 50.0), engagement(3, 10.0), engagement(4, 2.0)]);
    let first = w.run().await;
    assert_eq!(first.pending_seen.engagement, 4);
    assert_eq!(warning_counts(&first), [(4, 1), (24, 1), (72, 1)]);
    assert_eq!(first.records_created, 4);
    assert_eq!((first.events.delivered, first.events.failed), (3, 0));
    let mut warned = w.warnings();
    warned.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        warned,
        [
            ("engi-0000000000002".to_owned(), 72, 50.0),
            ("engi-0000000000003".to_owned(), 24, 10.0),
            ("engi-0000000000004".to_owned(), 4, 2.0),
        ]
    );

    // Same hour, again: nothing new.
    let again = w.run().await;
    assert_eq!(again.warnings_published(), 0);
    assert_eq!((again.records_created, again.events.queued), (0, 0));

    // 30 hours later: 100h → 70h (72), 50h → 20h (24); 10h and 2h are overdue but still
    // PENDING in this fake: Expired, once.
    w.advance(30);
    let later = w.run().await;
    assert_eq!(warning_counts(&later), [(4, 0), (24, 1), (72, 1)]);
    assert_eq!(later.expired, 2);
    let mut expired = w.of_type("Invitation Expired");
    expired.sort();
    assert_eq!(expired, ["engi-0000000000003", "engi-0000000000004"]);
    let all = w.warnings();
    assert_eq!(all.len(), 5);
    assert!(all.contains(&("engi-0000000000001".to_owned(), 72, 70.0)));
    assert!(all.contains(&("engi-0000000000002".to_owned(), 24, 20.0)));

    w.advance(1);
    let quiet = w.run().await;
    assert_eq!((quiet.warnings_published(), quiet.expired, quiet.events.queued), (0, 0, 0));
    let stored = w.store.record(InvitationKind::Engagement, "engi-0000000000004").unwrap_or_else(|| panic!("record"));
    assert_eq!(stored.status, InvitationStatus::Expired);
    assert!(stored.terminal_at.is_some(), "terminal records carry terminal_at, so the store sets their TTL");
}

#[tokio::test]
async fn lists_only_pending_invitations_with_the_apis_own_filters() {
    let mut history: Vec<_> = (100..400)
        .map(|n| {
            let mut i = engagement(n, -24.0 * 30.0);
            i.status = InvitationStatus::Expired;
            i
        })
        .collect();
    history.push(engagement(1, 50.0));
    history.push(connection(2, 10.0));
    let w = World::new(history);
    let s = w.run().await;
    assert_eq!((s.pending_seen.engagement, s.pending_seen.connection), (1, 1));
    // One listing page per query: connections once (both sides), engagements per side; no
    // Get for the details of the warned connection invitation (not published by default). No
    // history.
    assert_eq!(
        s.api_calls,
        BTreeMap::from([("ListConnectionInvitations".to_owned(), 1), ("ListEngagementInvitations".to_owned(), 2),])
    );
}

#[tokio::test]
async fn participant_types_narrow_what_is_swept() {
    let mut sent = engagement(1, 10.0);
    sent.participant_type = ParticipantType::Sender;
    let received = engagement(2, 10.0);
    let mut received_connection = connection(3, 10.0);
    received_connection.participant_type = ParticipantType::Receiver;
    let w = World::new(vec![sent, received, received_connection, connection(4, 10.0)]);
    let receiver_only = SweepSettings { participant_types: vec![ParticipantType::Receiver], ..settings() };
    let report = w.run_with(&receiver_only, invoke(RunOptions::default())).await;
    assert!(report.error.is_none());
    let mut warned: Vec<String> = w.warnings().into_iter().map(|(id, _, _)| id).collect();
    warned.sort();
    assert_eq!(warned, ["engi-0000000000002", "pacinv-0000000000003"]);
    assert_eq!(report.summary.api_calls.get("ListEngagementInvitations"), Some(&1));
}

#[tokio::test]
async fn connection_warnings_carry_the_inviter_and_message_only_when_opted_in() {
    let w = World::new(vec![connection(1, 3.0)]);
    let s = w.run().await;
    let published = w.published();
    assert_eq!(published.len(), 1);
    let (detail_type, _, d) = &published[0];
    assert_eq!(detail_type, "Connection Invitation Expiring Soon");
    assert!(d["invitation"].get("details").is_none(), "personal data: not published by default: {d}");
    assert!(!w.bus.published()[0].detail.contains("ann@example.com"));
    assert_eq!(s.api_calls.get("GetConnectionInvitation"), None, "nothing to read the details for");

    let opted_in = World::new(vec![connection(1, 3.0)]);
    let with_contact = SweepSettings { include_contact_details: true, ..settings() };
    opted_in.run_with(&with_contact, invoke(RunOptions::default())).await;
    let (_, _, d) = &opted_in.published()[0];
    assert_eq!(d["invitation"]["details"]["inviterName"], "Ann");
    assert_eq!(d["invitation"]["details"]["invitationMessage"], "Let's co-sell");
    assert_eq!(d["invitation"]["details"]["inviterEmail"], "ann@example.com");
}

#[tokio::test]
async fn a_recorded_invitation_that_left_the_pending_listing_is_read_and_its_transition_published() {
    let w = World::new(vec![engagement(1, 50.0), connection(2, 50.0), engagement(3, 60.0)]);
    w.run().await;
    w.pc.set_status(InvitationKind::Engagement, "engi-0000000000001", InvitationStatus::Accepted);
    w.pc.set_status(InvitationKind::Connection, "pacinv-0000000000002", InvitationStatus::Expired);
    let s = w.run().await;
    assert_eq!((s.other_transitions, s.expired), (1, 1));
    assert_eq!(w.of_type("Engagement Invitation Accepted"), ["engi-0000000000001"]);
    assert_eq!(w.of_type("Connection Invitation Expired"), ["pacinv-0000000000002"]);
    // Exactly one Get each for the two that left the listing, none for the one still pending.
    assert_eq!(s.api_calls.get("GetEngagementInvitation"), Some(&1));
    assert_eq!(s.api_calls.get("GetConnectionInvitation"), Some(&1));
    // Recorded as terminal: never read again.
    let again = w.run().await;
    assert_eq!(again.api_calls.get("GetEngagementInvitation"), None);
    assert_eq!(w.of_type("Accepted").len() + w.of_type("Expired").len(), 2);
}

#[tokio::test]
async fn a_recorded_invitation_partner_central_no_longer_knows_is_retired_not_failed() {
    let w = World::new(vec![engagement(1, 50.0)]);
    w.run().await;
    let gone = World::with_store(vec![], w.store);
    let s = gone.run().await;
    assert_eq!(s.not_found, 1);
    assert!(gone.published().is_empty());
    // Retired like list-and-publish does it: still PENDING, with a TTL, no longer read.
    let record = gone.store.record(InvitationKind::Engagement, "engi-0000000000001").unwrap_or_else(|| panic!("kept"));
    assert_eq!((record.status, record.terminal_at), (InvitationStatus::Pending, Some(t0())));
    let again = gone.run().await;
    assert_eq!((again.not_found, again.api_calls.get("GetEngagementInvitation")), (0, None));
}

#[tokio::test]
async fn a_failed_read_fails_the_run_after_delivering_what_was_committed() {
    let w = World::new(vec![engagement(1, 50.0), engagement(2, 60.0)]);
    w.run().await;
    w.pc.set_status(InvitationKind::Engagement, "engi-0000000000001", InvitationStatus::Rejected);
    w.pc.fail_next(
        "engi-0000000000001",
        PartnerCentralError::Throttled { operation: "GetEngagementInvitation", message: "slow down".into() },
    );
    w.advance(37); // engi-2: 60h → 23h, a 24h warning
    let report = w.run_with(&settings(), invoke(RunOptions::default())).await;
    let error = report.error.map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("1 Partner Central call(s) failed") && error.contains("throttled"), "{error}");
    assert_eq!(report.summary.events.delivered, 1, "the warning committed before the failure went out");
    assert!(w.warnings().iter().any(|(id, t, _)| id == "engi-0000000000002" && *t == 24));
    // Next run: the transition is seen and published.
    let s = w.run().await;
    assert_eq!(s.other_transitions, 1);
    assert_eq!(w.of_type("Engagement Invitation Rejected"), ["engi-0000000000001"]);
}

#[tokio::test]
async fn undelivered_events_stay_queued_and_go_out_on_the_next_run() {
    let w = World::new(vec![engagement(1, 10.0), engagement(2, 3.0)]);
    w.bus.down.store(true, Ordering::SeqCst);
    let s = w.run().await;
    assert_eq!((s.warnings_published(), s.events.delivered, s.events.failed), (2, 0, 2));
    assert!(w.published().is_empty());
    w.bus.heal();
    let s = w.run().await;
    assert_eq!((s.warnings_published(), s.events.delivered, s.events.failed), (0, 2, 0));
    assert_eq!(w.warnings().len(), 2);
}

#[tokio::test]
async fn an_unavailable_state_table_fails_the_run() {
    let w = World::new(vec![engagement(1, 10.0)]);
    w.store.unavailable.store(true, Ordering::SeqCst);
    let report = w.run_with(&settings(), invoke(RunOptions::default())).await;
    assert!(matches!(report.error, Some(SweepError::Store(_))), "{:?}", report.error);
    assert!(w.published().is_empty());
}

#[tokio::test]
async fn expired_is_published_once_when_list_and_publish_records_it_first() {
    // Both functions know the invitation as PENDING; it is now past its expiry.
    let inv = engagement(1, 2.0);
    let w = World::new(vec![inv.clone()]);
    w.run().await;
    let known = w.store.record(InvitationKind::Engagement, &inv.id).unwrap_or_else(|| panic!("record"));
    w.advance(3);

    // list-and-publish sees EXPIRED and commits the transition between the sweeper's read
    // and its commit (conditional on the version both read).
    let mut expired = inv.clone();
    expired.status = InvitationStatus::Expired;
    let mut theirs = known.clone();
    theirs.observe(&expired, t0() + Duration::hours(3));
    let their_event = InvitationEvent::transition(&expired, InvitationStatus::Pending, t0() + Duration::hours(3))
        .map(|e| OutboundEvent::from_event(&e))
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("an Expired event"));
    let store = RacingStateStore::default();
    store.before_next_commit(vec![RecordChange::update(theirs, vec![their_event.clone()])]);
    // Same table content as before the race.
    let seeded = store.inner.commit(vec![RecordChange::update(InvitationRecord { version: 0, ..known }, vec![])]).await;
    assert_eq!(seeded.ok(), Some(vec![CommitOutcome::Committed]));
    let w = World::with_store(vec![inv], store);
    w.advance(3);

    let s = w.run().await;
    assert_eq!((s.conflicts, s.expired), (1, 0), "the sweeper lost the race and published nothing itself");
    let expired_events: Vec<_> = w.bus.published().into_iter().filter(|e| e.detail_type.ends_with("Expired")).collect();
    assert_eq!(expired_events, [their_event], "exactly one Expired: the one list-and-publish committed");
    let again = w.run().await;
    assert_eq!((again.expired, again.events.queued), (0, 0));
}

#[tokio::test]
async fn a_warning_survives_a_conflict_with_an_unrelated_change() {
    // list-and-publish announces the invitation (same record, new version) meanwhile.
    let inv = engagement(1, 10.0);
    let seed = MemoryStateStore::new();
    let mut record = InvitationRecord::first_sighting(&inv, false, t0());
    let committed = seed.commit(vec![RecordChange::update(record.clone(), vec![])]).await;
    assert_eq!(committed.ok(), Some(vec![CommitOutcome::Committed]));
    record.version = 1;
    record.announced = true;
    let created = InvitationEvent::created(&inv, t0());
    let created = OutboundEvent::from_event(&created).unwrap_or_else(|e| panic!("{e}"));
    let store = RacingStateStore::new(seed);
    store.before_next_commit(vec![RecordChange::update(record, vec![created])]);
    let w = World::with_store(vec![inv.clone()], store);
    let s = w.run().await;
    assert_eq!((s.conflicts, warning_counts(&s)), (1, vec![(4, 0), (24, 1), (72, 0)]));
    let stored = w.store.inner.record(InvitationKind::Engagement, &inv.id).unwrap_or_else(|| panic!("record"));
    assert!(stored.announced, "the other writer's change is kept");
    assert_eq!(stored.warned_thresholds, [24, 72]);
    assert_eq!(w.of_type("Expiring Soon").len(), 1);
}

#[tokio::test]
async fn the_digest_lists_what_expires_within_the_largest_threshold_soonest_first() {
    let mut answered = engagement(5, 20.0);
    answered.status = InvitationStatus::Pending;
    let w = World::new(vec![
        engagement(1, 100.0),
        engagement(2, 50.0),
        connection(3, 10.0),
        engagement(4, 2.0),
        answered.clone(),
    ]);
    // engi-5 is already recorded as ACCEPTED (the listing lags): not in the digest.
    let mut done = InvitationRecord::first_sighting(&answered, true, t0());
    done.status = InvitationStatus::Accepted;
    done.terminal_at = Some(t0());
    let seeded = w.store.commit(vec![RecordChange::update(done, vec![])]).await;
    assert!(seeded.is_ok());

    let report = w.run_with(&settings(), invoke(RunOptions { digest: Some(true) })).await;
    assert!(report.error.is_none());
    assert_eq!(report.summary.digest, Some(3));
    let digests: Vec<Value> = w
        .bus
        .published()
        .into_iter()
        .filter(|e| e.detail_type == "Invitations Expiring Digest")
        .map(|e| {
            assert!(e.resources.is_empty());
            serde_json::from_str(&e.detail).unwrap_or_default()
        })
        .collect();
    assert_eq!(digests.len(), 1);
    let d = &digests[0];
    assert_eq!(
        (d["count"].as_u64(), d["omitted"].as_u64(), d["thresholdHours"].as_u64()),
        (Some(3), Some(0), Some(72))
    );
    let listed: Vec<(&str, f64)> = d["invitations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| (i["invitationId"].as_str().unwrap_or("?"), i["hoursRemaining"].as_f64().unwrap_or(0.0)))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(listed, [("engi-0000000000004", 2.0), ("pacinv-0000000000003", 10.0), ("engi-0000000000002", 50.0)]);
    assert_eq!(d["invitations"][0]["title"], "Opportunity 4");
    assert!(!w.bus.published().iter().any(|e| e.detail.contains("ann@example.com")));

    // DIGEST=false and no override: no digest; DIGEST=true: one per run.
    assert_eq!(w.run().await.digest, None);
    let daily = SweepSettings { digest: true, ..settings() };
    let s = w.run_with(&daily, scheduled()).await.summary;
    assert_eq!(s.digest, Some(3));
    let s = w.run_with(&daily, invoke(RunOptions { digest: Some(false) })).await.summary;
    assert_eq!(s.digest, None);
}

#[tokio::test]
async fn a_retried_run_in_the_same_hour_repeats_the_digest_id() {
    let w = World::new(vec![engagement(1, 10.0)]);
    let daily = SweepSettings { digest: true, ..settings() };
    w.run_with(&daily, scheduled()).await;
    w.clock.advance(Duration::minutes(20));
    w.run_with(&daily, scheduled()).await;
    w.advance(1);
    w.run_with(&daily, scheduled()).await;
    let ids: Vec<String> =
        w.bus.published().into_iter().filter(|e| e.detail_type.ends_with("Digest")).map(|e| e.event_id).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[1], "same hour, same digest id");
    assert_ne!(ids[1], ids[2]);
}

#[tokio::test]
async fn the_summary_is_camel_case_json_with_every_threshold() {
    let w = World::new(vec![engagement(1, 10.0)]);
    let s = w.run().await;
    let v = serde_json::to_value(&s).unwrap_or_default();
    assert_eq!(v["pendingSeen"], json!({"connection": 0, "engagement": 1}));
    assert_eq!(v["warnings"], json!({"4": 0, "24": 1, "72": 0}));
    assert_eq!(v["expired"], 0);
    assert!(v["digest"].is_null());
    assert_eq!(v["events"]["delivered"], 1);
    assert_eq!(v["apiCalls"]["ListEngagementInvitations"], 2);
    assert_eq!(v["observedAt"], "2026-11-20T09:00:00Z");
    assert!(v.get("durationMs").is_some() && v.get("error").is_none());
    let emf = s.metrics().to_emf(crate::FUNCTION_NAME, "AWS", 0);
    for name in [
        "WarningsPublished",
        "ExpiredPublished",
        "EventsDelivered",
        "EventsFailed",
        "EventsStuck",
        "ApiCalls",
        "DurationMs",
    ] {
        assert!(emf.get(name).is_some(), "{name} missing");
    }
    assert_eq!(emf["WarningsPublished"], 1.0);
}

#[tokio::test]
async fn handle_rejects_unknown_options_before_touching_anything() {
    let w = World::new(vec![engagement(1, 10.0)]);
    let ports = Ports {
        connections: &w.pc,
        engagements: &w.pc,
        store: &w.store,
        publisher: &w.bus,
        clock: &w.clock,
        calls: &w.pc,
    };
    let err = crate::handle(&ports, &settings(), json!({"dryRun": true})).await.err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("unknown field `dryRun`"), "{message}");
    assert_eq!(w.pc.total_calls(), 0);
}

/// Connection invitations that cannot be listed (Partner Central Account API down).
struct AccountDown<'a>(&'a FakePartnerCentral);

impl shared::ports::ConnectionInvitations for AccountDown<'_> {
    fn list_connection_invitations(
        &self,
        _query: shared::ports::ConnectionInvitationQuery,
    ) -> futures::stream::BoxStream<'_, Result<shared::ports::Page, PartnerCentralError>> {
        let error = PartnerCentralError::Service { operation: "ListConnectionInvitations", message: "down".into() };
        Box::pin(futures::stream::iter([Err(error)]))
    }
    async fn get_connection_invitation(&self, id: &str) -> Result<shared::domain::Invitation, PartnerCentralError> {
        self.0.get_connection_invitation(id).await
    }
    async fn cancel_connection_invitation(
        &self,
        id: &str,
        client_token: &str,
    ) -> Result<shared::domain::Invitation, PartnerCentralError> {
        self.0.cancel_connection_invitation(id, client_token).await
    }
}

#[tokio::test]
async fn a_failed_listing_still_warns_from_the_other_listings_but_reads_nothing_it_cannot_tell_and_makes_no_digest() {
    let w = World::new(vec![engagement(1, 10.0), connection(2, 50.0)]);
    w.run().await;
    let warned_before = w.warnings().len();
    w.advance(37); // engagement expired (overdue in this fake), connection at 13h
    let down = AccountDown(&w.pc);
    let ports = Ports {
        connections: &down,
        engagements: &w.pc,
        store: &w.store,
        publisher: &w.bus,
        clock: &w.clock,
        calls: &w.pc,
    };
    let daily = SweepSettings { digest: true, ..settings() };
    let report = sweep(&ports, &daily, &scheduled()).await;
    let error = report.error.map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("ListConnectionInvitations") && error.contains("down"), "{error}");
    assert_eq!(report.summary.expired, 1, "the engagement listing worked");
    assert_eq!(report.summary.digest, None);
    // The connection invitation's record is PENDING and it was not listed, but the listing
    // failed: that says nothing about it, so it is not read.
    assert_eq!(report.summary.api_calls.get("GetConnectionInvitation"), None);
    assert_eq!(w.warnings().len(), warned_before);
    assert_eq!(w.of_type("Engagement Invitation Expired"), ["engi-0000000000001"]);
}

#[tokio::test]
async fn an_unreadable_invitation_is_neither_warned_nor_failed_and_is_swept_once_it_reads_again() {
    let w = World::new(vec![engagement(1, 50.0), engagement(2, 10.0), connection(3, 10.0)]);
    w.run().await;
    assert_eq!(w.warnings().len(), 3);
    // engi-1 (recorded PENDING) is accepted and comes back unreadable; engi-2 stays PENDING
    // but unreadable; the connection invitation passes its next threshold.
    w.pc.set_status(InvitationKind::Engagement, "engi-0000000000001", InvitationStatus::Accepted);
    w.pc.make_unreadable(InvitationKind::Engagement, "engi-0000000000001", "Status", Some("WITHDRAWN"));
    w.pc.make_unreadable(InvitationKind::Engagement, "engi-0000000000002", "ExpirationDate", None);
    w.advance(7);
    let s = w.run().await;
    assert_eq!(s.unreadable_invitations, 2, "{s:?}");
    assert_eq!(w.of_type("Engagement Invitation Accepted"), Vec::<String>::new(), "nothing invented");
    assert_eq!(
        w.warnings().iter().filter(|(id, _, _)| id.starts_with("pacinv")).count(),
        2,
        "the readable one goes on"
    );
    let emf = s.metrics().to_emf("expire-sweeper", "AWS", 0);
    assert_eq!(emf["UnreadableInvitations"], 2.0);

    w.pc.heal(InvitationKind::Engagement, "engi-0000000000001");
    w.pc.heal(InvitationKind::Engagement, "engi-0000000000002");
    let healed = w.run().await;
    assert_eq!(healed.unreadable_invitations, 0);
    assert_eq!(w.of_type("Engagement Invitation Accepted"), ["engi-0000000000001"]);
    assert_eq!(
        w.warnings().iter().filter(|(id, _, _)| id == "engi-0000000000002").map(|(_, t, _)| *t).collect::<Vec<_>>(),
        [24, 4],
        "the warning it missed while unreadable goes out once it reads again"
    );
}
