//! The handler over the in-memory fakes of every port (`shared::testing`): what a run
//! records, publishes and calls, run after run.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use list_and_publish::{Config, ListAndPublish, RequestedMode, RunError, Summary};
use serde_json::Value;
use shared::PartnerCentralError;
use shared::config::Env;
use shared::domain::{
    Cause, ConnectionDetails, Invitation, InvitationEvent, InvitationKind, InvitationRecord, InvitationStatus,
    OtherParty, OutboundEvent, ParticipantType, RecordChange, SyncMeta,
};
use shared::ports::{Clock, ConnectionInvitationQuery, ConnectionInvitations, Page, StateStore};
use shared::run::{Ports, RunSummary};
use shared::testing::{
    FakePartnerCentral, FixedClock, MemoryStateStore, RacingStateStore, RecordingPublisher, connection_invitation,
    engagement_invitation,
};

use InvitationStatus::{Accepted, Canceled, Expired, Pending, Rejected};
use ParticipantType::{Receiver, Sender};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

fn connection(n: u32, status: InvitationStatus, side: ParticipantType, created: DateTime<Utc>) -> Invitation {
    Invitation {
        status,
        participant_type: side,
        details: Some(ConnectionDetails {
            invitation_message: format!("Let's connect ({n})"),
            inviter_name: "Ana Silva".into(),
            inviter_email: Some("ana@example.com".into()),
        }),
        ..connection_invitation(&format!("pacinv-C{n:012}"), created)
    }
}

fn engagement(n: u32, status: InvitationStatus, side: ParticipantType, created: DateTime<Utc>) -> Invitation {
    Invitation {
        status,
        participant_type: side,
        other_party: OtherParty { sender_aws_account_id: Some("AWS".into()), ..OtherParty::default() },
        payload_type: Some("OpportunityInvitation".into()),
        engagement_id: Some(format!("eng-{n:014}")),
        engagement_title: Some("Opportunity".into()),
        ..engagement_invitation(&format!("engi-{n:013}"), created)
    }
}

/// The account of most tests: pending and finished invitations of both kinds and sides.
fn account() -> Vec<Invitation> {
    vec![
        connection(1, Pending, Receiver, t0() - hours(48)),
        connection(2, Pending, Sender, t0() - hours(30)),
        connection(3, Accepted, Receiver, t0() - Duration::days(60)),
        engagement(1, Pending, Receiver, t0() - hours(72)),
        engagement(2, Pending, Sender, t0() - hours(20)),
        engagement(3, Pending, Receiver, t0() - hours(5)),
        engagement(4, Expired, Receiver, t0() - Duration::days(90)),
        engagement(5, Rejected, Sender, t0() - Duration::days(40)),
    ]
}

fn config(extra: &[(&'static str, &'static str)]) -> Config {
    let mut pairs = vec![("CATALOG", "AWS"), ("EVENT_BUS_NAME", "invitations"), ("STATE_TABLE_NAME", "state")];
    pairs.extend_from_slice(extra);
    Config::from_env(&Env::from_pairs(pairs)).unwrap_or_else(|e| panic!("{e}"))
}

struct World {
    api: FakePartnerCentral,
    store: MemoryStateStore,
    bus: RecordingPublisher,
    clock: FixedClock,
    config: Config,
}

impl World {
    fn new(invitations: Vec<Invitation>, env: &[(&'static str, &'static str)]) -> World {
        World {
            api: FakePartnerCentral::new(invitations),
            store: MemoryStateStore::new(),
            bus: RecordingPublisher::new(),
            clock: FixedClock::at(t0()),
            config: config(env),
        }
    }

    async fn run_with<S: StateStore, C: ConnectionInvitations>(
        &self,
        connections: &C,
        store: &S,
        mode: RequestedMode,
    ) -> Result<Summary, RunError> {
        ListAndPublish {
            config: &self.config,
            ports: Ports {
                connections,
                engagements: &self.api,
                store,
                publisher: &self.bus,
                clock: &self.clock,
                calls: &self.api,
            },
        }
        .run(mode)
        .await
    }

    async fn run(&self) -> Summary {
        self.run_with(&self.api, &self.store, RequestedMode::Auto).await.unwrap_or_else(|e| panic!("run: {e}"))
    }

    async fn full(&self) -> Summary {
        self.run_with(&self.api, &self.store, RequestedMode::Full).await.unwrap_or_else(|e| panic!("run: {e}"))
    }

    /// Events delivered since the last call: (detail-type, invitation id), sorted.
    fn take_events(&self, from: &mut usize) -> Vec<(String, String)> {
        let published = self.bus.published();
        let mut out: Vec<(String, String)> =
            published[*from..].iter().map(|e| (e.detail_type.clone(), invitation_id(e))).collect();
        *from = published.len();
        out.sort();
        out
    }

    fn calls(&self) -> BTreeMap<&'static str, u32> {
        self.api.calls()
    }
}

fn detail(e: &OutboundEvent) -> Value {
    serde_json::from_str(&e.detail).unwrap_or_default()
}

fn invitation_id(e: &OutboundEvent) -> String {
    detail(e)["invitationId"].as_str().unwrap_or_default().to_owned()
}

fn ev(detail_type: &str, id: &str) -> (String, String) {
    (detail_type.to_owned(), id.to_owned())
}

/// Calls per operation since `before`.
fn since(w: &World, before: &BTreeMap<&'static str, u32>) -> BTreeMap<&'static str, u32> {
    w.calls()
        .into_iter()
        .map(|(op, n)| (op, n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn cid(n: u32) -> String {
    format!("pacinv-C{n:012}")
}

fn eid(n: u32) -> String {
    format!("engi-{n:013}")
}

#[tokio::test]
async fn baseline_records_pending_invitations_and_publishes_created_only_for_them() {
    let w = World::new(account(), &[]);
    let s = w.run().await;
    assert_eq!(s.mode, "baseline");
    let mut seen = 0;
    assert_eq!(
        w.take_events(&mut seen),
        vec![
            ev("Connection Invitation Created", &cid(1)),
            ev("Connection Invitation Created", &cid(2)),
            ev("Engagement Invitation Created", &eid(1)),
            ev("Engagement Invitation Created", &eid(2)),
            ev("Engagement Invitation Created", &eid(3)),
        ]
    );
    let ids: Vec<String> = w.store.records().into_iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 5, "only pending invitations are recorded: {ids:?}");
    assert!(w.store.records().iter().all(|r| r.announced && r.status == Pending));
    assert_eq!(w.store.meta().last_full_sync_at, Some(t0() - Duration::minutes(1)));
    assert_eq!((s.invitations_seen.connection, s.invitations_seen.engagement), (3, 5));
    assert_eq!((s.events.delivered, s.events.failed), (5, 0));
    assert!(w.store.outbox_events().is_empty(), "delivered events leave the outbox");

    // Nothing changed: nothing published, nothing written.
    w.clock.advance(Duration::minutes(5));
    let s = w.run().await;
    assert_eq!(s.mode, "incremental");
    assert!(w.take_events(&mut seen).is_empty());
    assert_eq!((s.records_written, s.events.queued), (0, 0));
}

#[tokio::test]
async fn baseline_all_backfills_history_without_recording_it_and_none_publishes_nothing() {
    let w = World::new(account(), &[("BASELINE_EVENTS", "all")]);
    w.run().await;
    let mut seen = 0;
    assert_eq!(w.take_events(&mut seen).len(), 8, "a Created event for every invitation");
    assert_eq!(w.store.records().len(), 5, "history is still not recorded");
    let finished = w.bus.published().into_iter().find(|e| invitation_id(e) == cid(3));
    let finished = finished.map(|e| detail(&e)).unwrap_or_default();
    assert_eq!(finished["status"], "ACCEPTED");
    assert!(finished["invitation"].get("details").is_none(), "no personal data by default");
    // The backfill is not repeated.
    w.clock.advance(Duration::minutes(5));
    w.run().await;
    assert!(w.take_events(&mut seen).is_empty());

    let w = World::new(account(), &[("BASELINE_EVENTS", "none")]);
    let s = w.run().await;
    assert!(w.bus.published().is_empty());
    assert_eq!((s.records_written, w.store.records().len()), (5, 5));
    assert_eq!(w.calls().get("GetConnectionInvitation"), None, "no event, no detail read");
}

#[tokio::test]
async fn changes_are_published_once_at_the_cost_of_the_lower_bound() {
    let w = World::new(account(), &[]);
    w.run().await;
    let mut seen = 0;
    w.take_events(&mut seen);

    w.clock.advance(hours(1));
    let now = w.clock.now();
    w.api.set_status(InvitationKind::Connection, &cid(1), Accepted);
    w.api.set_status(InvitationKind::Connection, &cid(2), Canceled);
    w.api.set_status(InvitationKind::Engagement, &eid(1), Rejected);
    w.api.set_status(InvitationKind::Engagement, &eid(2), Expired);
    w.api.set_status(InvitationKind::Engagement, &eid(3), Accepted);
    w.api.upsert(connection(10, Pending, Receiver, now - Duration::minutes(20)));
    w.api.upsert(engagement(10, Pending, Sender, now - Duration::minutes(30)));
    let before = w.calls();
    let s = w.run().await;

    assert_eq!(s.mode, "incremental");
    assert_eq!(
        w.take_events(&mut seen),
        vec![
            ev("Connection Invitation Accepted", &cid(1)),
            ev("Connection Invitation Canceled", &cid(2)),
            ev("Connection Invitation Created", &cid(10)),
            ev("Engagement Invitation Accepted", &eid(3)),
            ev("Engagement Invitation Created", &eid(10)),
            ev("Engagement Invitation Expired", &eid(2)),
            ev("Engagement Invitation Rejected", &eid(1)),
        ]
    );
    let transition = w.bus.published().into_iter().rev().find(|e| invitation_id(e) == cid(1)).map(|e| detail(&e));
    let transition = transition.unwrap_or_default();
    assert_eq!(
        (transition["status"].as_str(), transition["previousStatus"].as_str()),
        (Some("ACCEPTED"), Some("PENDING"))
    );
    let expected_id = InvitationEvent::transition(&connection(1, Accepted, Receiver, t0() - hours(48)), Pending, now)
        .map(|e| e.detail.event_id);
    assert_eq!(transition["eventId"].as_str(), expected_id.as_deref(), "deterministic id of the fact");

    // Calls: 1 connection listing page (PENDING) + one newest-first page per engagement side
    // (down to its oldest recorded PENDING invitation: it shows what became of all three) +
    // one Get per connection invitation that left PENDING. No engagement Get, and none for the
    // new one (its details are not published by default).
    assert_eq!(
        since(&w, &before),
        BTreeMap::from([
            ("GetConnectionInvitation", 2),
            ("ListConnectionInvitations", 1),
            ("ListEngagementInvitations", 2),
        ])
    );
    assert_eq!(s.api_calls_total, 5);
    assert_eq!(s.lower_bound, Some(1 + 2 + 2), "listings + connections left PENDING (no details by default)");

    // Again: nothing new.
    w.clock.advance(Duration::minutes(5));
    let s = w.run().await;
    assert!(w.take_events(&mut seen).is_empty());
    assert_eq!(s.records_written, 0);
    let finished = w.store.record(InvitationKind::Engagement, &eid(1)).map(|r| (r.status, r.terminal_at));
    assert_eq!(finished, Some((Rejected, Some(now))), "finished records carry terminal_at (TTL)");
}

#[tokio::test]
async fn an_invitation_created_in_the_listing_window_needs_no_get_when_it_finishes() {
    let w = World::new(account(), &[]);
    w.run().await;
    w.clock.advance(Duration::minutes(5));
    let created = w.clock.now();
    w.api.upsert(engagement(20, Pending, Receiver, created));
    w.run().await;
    w.clock.advance(Duration::minutes(5));
    w.api.set_status(InvitationKind::Engagement, &eid(20), Accepted);
    let before = w.calls();
    w.run().await;
    let gets = w.calls().get("GetEngagementInvitation").copied().unwrap_or(0)
        - before.get("GetEngagementInvitation").copied().unwrap_or(0);
    assert_eq!(gets, 0, "the newest-first listing already shows its status");
    let last = w.bus.published().last().map(|e| (e.detail_type.clone(), invitation_id(e)));
    assert_eq!(last, Some(ev("Engagement Invitation Accepted", &eid(20))));
}

#[tokio::test]
async fn created_and_answered_between_runs_is_caught_by_the_full_sync_and_history_never_reappears() {
    let w = World::new(account(), &[]);
    w.run().await;
    let mut seen = 0;
    w.take_events(&mut seen);

    w.clock.advance(hours(2));
    // A connection invitation created and accepted between two runs: the incremental
    // listing (PENDING only; the API has no date sort) cannot see it.
    w.api.upsert(connection(30, Accepted, Receiver, t0() + hours(1)));
    // An engagement invitation created and rejected between two runs: the newest-first
    // listing sees it at once.
    w.api.upsert(engagement(30, Rejected, Receiver, t0() + hours(1)));
    let s = w.run().await;
    assert_eq!(s.mode, "incremental");
    assert_eq!(
        w.take_events(&mut seen),
        vec![ev("Engagement Invitation Created", &eid(30)), ev("Engagement Invitation Rejected", &eid(30)),]
    );

    // The full sync (forced here; due every FULL_SYNC_HOURS) finds the connection one.
    let s = w.full().await;
    assert_eq!(s.mode, "full");
    assert_eq!(
        w.take_events(&mut seen),
        vec![ev("Connection Invitation Accepted", &cid(30)), ev("Connection Invitation Created", &cid(30)),]
    );
    // History (accepted 60 days ago, expired 90 days ago, never recorded) stays history, in
    // every later full sync too, and so do the ones recorded now once their record expires.
    w.clock.advance(hours(25));
    let s = w.run().await;
    assert_eq!(s.mode, "full", "due after FULL_SYNC_HOURS");
    assert!(w.take_events(&mut seen).is_empty());
    assert!(w.store.record(InvitationKind::Connection, &cid(3)).is_none());
}

#[tokio::test]
async fn a_finished_invitation_whose_record_expired_is_not_created_again() {
    let w = World::new(account(), &[]);
    w.run().await;
    w.clock.advance(hours(1));
    w.api.set_status(InvitationKind::Engagement, &eid(1), Rejected);
    w.api.upsert(engagement(50, Pending, Receiver, t0() + Duration::minutes(30)));
    w.run().await;
    w.clock.advance(hours(1));
    w.api.set_status(InvitationKind::Engagement, &eid(50), Accepted);
    w.run().await;
    let published = w.bus.published().len();

    // A month of daily runs (each a full sync), then the table's TTL removes the records of
    // the invitations that finished more than RETENTION_DAYS ago.
    for _ in 0..31 {
        w.clock.advance(hours(24));
        w.run().await;
    }
    let now = w.clock.now();
    let kept = MemoryStateStore::new();
    let alive: Vec<RecordChange> = w
        .store
        .records()
        .into_iter()
        .filter(|r| r.terminal_at.is_none_or(|at| at + Duration::days(30) > now))
        .map(|r| RecordChange::update(InvitationRecord { version: 0, ..r }, vec![]))
        .collect();
    kept.commit(alive).await.unwrap_or_else(|e| panic!("{e}"));
    let meta = SyncMeta { version: 0, ..w.store.meta() };
    assert!(kept.save_meta(&meta).await.unwrap_or_else(|e| panic!("{e}")));
    assert!(kept.record(InvitationKind::Engagement, &eid(50)).is_none(), "expired by TTL");

    let w = World { store: kept, ..w };
    w.clock.advance(hours(24));
    let s = w.run().await;
    assert_eq!(s.mode, "full");
    let late: Vec<(String, String)> =
        w.bus.published()[published..].iter().map(|e| (e.detail_type.clone(), invitation_id(e))).collect();
    assert!(!late.iter().any(|(t, _)| t.ends_with("Created")), "history re-announced: {late:?}");
}

#[tokio::test]
async fn a_transition_another_function_commits_first_is_not_published_again() {
    let w = World::new(account(), &[]);
    let racing = RacingStateStore::default();
    w.run_with(&w.api, &racing, RequestedMode::Auto).await.unwrap_or_else(|e| panic!("{e}"));
    let mut seen = 0;
    w.take_events(&mut seen);

    // auto-cancel cancels pacinv-2 and commits CANCELED (with its policy event) between our
    // read of the records and our commit.
    w.clock.advance(hours(1));
    let now = w.clock.now();
    w.api.set_status(InvitationKind::Connection, &cid(2), Canceled);
    let canceled = w.api.get(InvitationKind::Connection, &cid(2)).unwrap_or_else(|| panic!("seeded"));
    let mut theirs = racing.inner.record(InvitationKind::Connection, &cid(2)).unwrap_or_else(|| panic!("recorded"));
    theirs.observe(&canceled, now);
    let cause = Cause::policy("stale", "abc");
    let event = InvitationEvent::canceled_by_policy(&canceled, Pending, cause, now).unwrap_or_else(|| panic!("event"));
    let event = OutboundEvent::from_event(&event).unwrap_or_else(|e| panic!("{e}"));
    racing.before_next_commit(vec![RecordChange::update(theirs, vec![event])]);

    let s = w.run_with(&w.api, &racing, RequestedMode::Auto).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.conflicts, 1);
    let events = w.take_events(&mut seen);
    assert_eq!(events, vec![ev("Connection Invitation Canceled", &cid(2))], "one event for the fact");
    let published = w.bus.published();
    let canceled_event = published.last().map(detail).unwrap_or_default();
    assert_eq!(canceled_event["cause"]["rule"], "stale", "auto-cancel's event went out, ours was not added");
    assert!(s.changes.is_empty(), "{:?}", s.changes);
}

#[tokio::test]
async fn records_made_by_other_functions_are_announced_never_after_their_transition() {
    let w = World::new(account(), &[]);
    // Before our first run: the sweeper recorded (and published) engi-1's expiry, and
    // recorded engi-2 for a warning. Neither was announced.
    let expired = engagement(1, Expired, Receiver, t0() - hours(72));
    let pending = engagement(2, Pending, Sender, t0() - hours(20));
    let changes = vec![
        RecordChange::update(InvitationRecord::first_sighting(&expired, false, t0() - hours(3)), vec![]),
        RecordChange::update(InvitationRecord::first_sighting(&pending, false, t0() - hours(3)), vec![]),
    ];
    w.store.commit(changes).await.unwrap_or_else(|e| panic!("{e}"));
    w.run().await;
    w.clock.advance(Duration::minutes(5));
    // After the baseline: another unannounced record (auto-cancel canceled one we never saw).
    let unseen = connection(40, Canceled, Sender, t0() - hours(2));
    w.api.upsert(unseen.clone());
    let record = InvitationRecord::first_sighting(&unseen, false, t0());
    w.store.commit(vec![RecordChange::update(record, vec![])]).await.unwrap_or_else(|e| panic!("{e}"));
    w.run().await;

    let events: Vec<(String, String)> =
        w.bus.published().iter().map(|e| (e.detail_type.clone(), invitation_id(e))).collect();
    assert!(events.contains(&ev("Engagement Invitation Created", &eid(2))), "pending: announced in the baseline");
    assert!(!events.iter().any(|(_, id)| *id == eid(1)), "finished before the baseline: history, {events:?}");
    // auto-cancel published its Canceled: no Created after it (the event contract, "Created
    // after a terminal event").
    assert!(!events.iter().any(|(_, id)| *id == cid(40)), "announced by auto-cancel's Canceled: {events:?}");
    assert!(w.store.records().iter().all(|r| r.announced));
}

#[tokio::test]
async fn contact_details_are_published_only_when_opted_in() {
    for (flag, email) in [("false", None), ("true", Some("ana@example.com"))] {
        let w = World::new(account(), &[("INCLUDE_CONTACT_DETAILS", flag)]);
        w.run().await;
        let created = w.bus.published().into_iter().find(|e| invitation_id(e) == cid(1)).map(|e| detail(&e));
        let details = created.map(|d| d["invitation"]["details"].clone()).unwrap_or_default();
        let opted_in = email.is_some();
        // The inviter's name and e-mail address and the message: all personal data.
        assert_eq!(details["invitationMessage"].as_str(), opted_in.then_some("Let's connect (1)"), "{flag}");
        assert_eq!(details["inviterName"].as_str(), opted_in.then_some("Ana Silva"), "{flag}");
        assert_eq!(details["inviterEmail"].as_str(), email, "INCLUDE_CONTACT_DETAILS={flag}");
    }
}

#[tokio::test]
async fn undelivered_events_stay_queued_are_reported_and_go_out_on_a_later_run() {
    let w = World::new(account(), &[]);
    w.bus.down.store(true, Ordering::SeqCst);
    let s = w.run().await;
    assert_eq!((s.events.queued, s.events.delivered, s.events.failed), (5, 0, 5), "the run itself succeeds");
    assert_eq!(s.changes.values().sum::<usize>(), 5);
    let emf = s.metrics().to_emf("list-and-publish", "AWS", 0);
    assert_eq!(emf["EventsFailed"], 5.0);

    w.bus.heal();
    w.clock.advance(Duration::minutes(5));
    let s = w.run().await;
    assert_eq!((s.events.queued, s.events.delivered, s.events.failed), (5, 5, 0));
    assert!(s.changes.is_empty(), "nothing new: only the queued events");
    assert_eq!(w.bus.published().len(), 5);
}

/// Connection invitations whose listing always fails.
struct Unavailable;

impl ConnectionInvitations for Unavailable {
    fn list_connection_invitations(
        &self,
        _: ConnectionInvitationQuery,
    ) -> BoxStream<'_, Result<Page, PartnerCentralError>> {
        let e = PartnerCentralError::Service { operation: "ListConnectionInvitations", message: "down".into() };
        stream::iter([Err(e)]).boxed()
    }
    async fn get_connection_invitation(&self, _: &str) -> Result<Invitation, PartnerCentralError> {
        Err(PartnerCentralError::Service { operation: "GetConnectionInvitation", message: "down".into() })
    }
    async fn cancel_connection_invitation(&self, _: &str, _: &str) -> Result<Invitation, PartnerCentralError> {
        Err(PartnerCentralError::Service { operation: "CancelConnectionInvitation", message: "down".into() })
    }
}

#[tokio::test]
async fn a_failed_listing_fails_the_run_after_publishing_the_other_kind_and_keeps_the_bookkeeping() {
    let w = World::new(account(), &[]);
    let err = w.run_with(&Unavailable, &w.store, RequestedMode::Auto).await.err().map(|e| e.to_string());
    assert!(
        err.as_deref().is_some_and(|m| m.contains("listing connection invitations") && m.contains("down")),
        "{err:?}"
    );
    assert_eq!(w.bus.published().len(), 3, "engagement changes committed and delivered anyway");
    assert_eq!(w.store.meta(), SyncMeta::default(), "bookkeeping untouched: the next run is a baseline again");

    let s = w.run().await;
    assert_eq!(s.mode, "baseline");
    let mut seen = 3;
    assert_eq!(
        w.take_events(&mut seen),
        vec![ev("Connection Invitation Created", &cid(1)), ev("Connection Invitation Created", &cid(2)),],
        "engagements are not announced twice"
    );
}

#[tokio::test]
async fn a_failed_read_fails_the_run_and_the_transition_goes_out_on_the_next_one() {
    let w = World::new(account(), &[]);
    w.run().await;
    let last_run = w.store.meta().last_run_at;
    w.clock.advance(hours(1));
    w.api.set_status(InvitationKind::Connection, &cid(1), Accepted);
    w.api.fail_next(
        &cid(1),
        PartnerCentralError::Throttled { operation: "GetConnectionInvitation", message: "slow down".into() },
    );
    let err = w.run_with(&w.api, &w.store, RequestedMode::Auto).await.err().map(|e| e.to_string());
    assert!(err.as_deref().is_some_and(|m| m.contains(&cid(1)) && m.contains("throttled")), "{err:?}");
    assert_eq!(w.store.meta().last_run_at, last_run, "the window does not move past what was not read");

    let s = w.run().await;
    assert_eq!(s.changes.get("Connection Invitation Accepted"), Some(&1));
}

#[tokio::test]
async fn a_vanished_invitation_retires_its_record_without_an_event_and_costs_nothing_later() {
    let w = World::new(account(), &[]);
    w.run().await;
    // engi-1 disappears from the API.
    let remaining: Vec<Invitation> = account().into_iter().filter(|i| i.id != eid(1)).collect();
    let w = World { api: FakePartnerCentral::new(remaining), ..w };
    w.clock.advance(hours(1));
    let before = w.bus.published().len();
    let s = w.run().await;
    assert_eq!((s.retired, w.bus.published().len()), (1, before));
    let record = w.store.record(InvitationKind::Engagement, &eid(1));
    assert!(record.is_some_and(|r| r.status == Pending && r.terminal_at.is_some()), "kept until its TTL");

    w.clock.advance(Duration::minutes(5));
    let before = w.calls();
    w.run().await;
    assert_eq!(w.calls().get("GetEngagementInvitation"), before.get("GetEngagementInvitation"), "not read again");
}

#[tokio::test]
async fn a_side_with_a_pending_invitation_older_than_the_window_lists_pending_ones_and_reads_what_left() {
    // engi-60 was sent 20 days ago with a longer expiry than the service's 15 days: a window
    // down to it would cover 20 days of the SENDER side, so that side falls back to the
    // PENDING listing plus newest first down to the last run. RECEIVER keeps its window.
    let mut old = engagement(60, Pending, Sender, t0() - Duration::days(20));
    old.expires_at = Some(t0() + Duration::days(10));
    let mut invitations = account();
    invitations.push(old);
    let w = World::new(invitations, &[]);
    w.run().await;
    let mut seen = 0;
    w.take_events(&mut seen);

    w.clock.advance(hours(1));
    w.api.set_status(InvitationKind::Engagement, &eid(1), Rejected);
    w.api.set_status(InvitationKind::Engagement, &eid(2), Accepted);
    let before = w.calls();
    let s = w.run().await;
    assert_eq!(
        w.take_events(&mut seen),
        vec![ev("Engagement Invitation Accepted", &eid(2)), ev("Engagement Invitation Rejected", &eid(1))]
    );
    // RECEIVER: 1 window page (engi-1's status included). SENDER: 1 PENDING page + 1
    // newest-first page, and a Get for engi-2 (it left PENDING and was created before the
    // last run). Connections: 1 PENDING page.
    assert_eq!(
        since(&w, &before),
        BTreeMap::from([
            ("GetEngagementInvitation", 1),
            ("ListConnectionInvitations", 1),
            ("ListEngagementInvitations", 3)
        ])
    );
    assert_eq!(s.lower_bound, Some(1 + 1 + 2 + 1));

    // Once the old one leaves PENDING, the SENDER side is back to its window.
    w.clock.advance(Duration::minutes(5));
    w.api.set_status(InvitationKind::Engagement, &eid(60), Accepted);
    let before = w.calls();
    w.run().await;
    assert_eq!(w.take_events(&mut seen), vec![ev("Engagement Invitation Accepted", &eid(60))]);
    assert_eq!(since(&w, &before).get("GetEngagementInvitation"), Some(&1), "still the fallback: read");
    w.clock.advance(Duration::minutes(5));
    let before = w.calls();
    let s = w.run().await;
    assert_eq!(
        since(&w, &before),
        BTreeMap::from([("ListConnectionInvitations", 1), ("ListEngagementInvitations", 2)])
    );
    assert_eq!(s.lower_bound, Some(3));
}

#[tokio::test]
async fn a_recorded_pending_invitation_the_window_does_not_show_is_read() {
    let w = World::new(account(), &[]);
    w.run().await;
    let mut seen = 0;
    w.take_events(&mut seen);

    // engi-3's date moved 30 days back (before the RECEIVER window, which starts at the
    // oldest recorded PENDING invitation, engi-1, 72 hours back) and it was accepted.
    w.clock.advance(hours(1));
    let moved = engagement(3, Accepted, Receiver, t0() - Duration::days(30));
    w.api.upsert(moved);
    let before = w.calls();
    let s = w.run().await;
    assert_eq!(w.take_events(&mut seen), vec![ev("Engagement Invitation Accepted", &eid(3))]);
    assert_eq!(
        since(&w, &before),
        BTreeMap::from([
            ("GetEngagementInvitation", 1),
            ("ListConnectionInvitations", 1),
            ("ListEngagementInvitations", 2)
        ])
    );
    assert_eq!(s.lower_bound, Some(1 + 2 + 1), "listing pages + the read of the absent record");
}

#[tokio::test]
async fn a_moved_expiry_updates_the_record_silently() {
    let w = World::new(account(), &[]);
    w.run().await;
    w.clock.advance(hours(1));
    let mut extended = engagement(3, Pending, Receiver, t0() - hours(5));
    extended.expires_at = Some(t0() + Duration::days(30));
    w.api.upsert(extended);
    let before = w.bus.published().len();
    let s = w.run().await;
    assert_eq!((s.silent_updates, s.changes.len(), w.bus.published().len()), (1, 0, before));
    let record = w.store.record(InvitationKind::Engagement, &eid(3));
    assert_eq!(record.and_then(|r| r.expires_at), Some(t0() + Duration::days(30)));
}

#[tokio::test]
async fn only_the_configured_engagement_side_is_followed() {
    let w = World::new(account(), &[("ENGAGEMENT_PARTICIPANT_TYPES", "RECEIVER")]);
    w.run().await;
    let ids: Vec<String> = w.bus.published().iter().map(invitation_id).collect();
    assert!(ids.contains(&eid(1)) && ids.contains(&eid(3)) && !ids.contains(&eid(2)), "{ids:?}");
    assert_eq!(w.calls().get("ListEngagementInvitations"), Some(&1), "one listing: RECEIVER, every page");
}

#[tokio::test]
async fn bad_manual_options_fail_with_the_field_named() {
    let w = World::new(account(), &[]);
    let f = ListAndPublish {
        config: &w.config,
        ports: Ports {
            connections: &w.api,
            engagements: &w.api,
            store: &w.store,
            publisher: &w.bus,
            clock: &w.clock,
            calls: &w.api,
        },
    };
    let err = f.handle(&serde_json::json!({"mode": "full", "force": true})).await.err().map(|e| e.to_string());
    assert!(err.as_deref().is_some_and(|m| m.contains("unknown field `force`")), "{err:?}");
    assert_eq!(w.api.total_calls(), 0, "rejected before any work");
}
