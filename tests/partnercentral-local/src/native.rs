//! Partner Central's native EventBridge events (`aws.partnercentral-selling`,
//! `aws.partnercentral-account`), emitted on every state change the way the real service
//! emits them to the default bus of the account linked to Partner Central.
//!
//! How it works:
//! - [`Native::observe`] compares the state with what it saw last (status per invitation) and
//!   turns every difference into the native events *our* account would receive (the table in
//!   `NATIVE-EVENTS.md`: no event for our own sending, cancelling or rejecting of connection
//!   invitations; engagement invitations: all four to both sides). The server calls it after
//!   every AWS operation and every control request, with the state lock still held, and a
//!   background ticker calls it when the running clock makes an invitation expire. Start-up data
//!   and `reset` are the baseline, not changes.
//! - Rendering is pure ([`connection_event`], [`engagement_event`]).
//! - Delivery never blocks or fails the request that caused it: events go onto an unbounded
//!   queue; a background task sends them with `PutEvents` (the AWS SDK, awsJson1_1, static test
//!   credentials, us-east-1) and counts what was sent and what failed.
//! - Faults ([`NativeFaults`]): drop a fraction, duplicate a fraction, delay each by a random
//!   0..=`delay_ms` (which reorders them); decided when the change is observed, from a seeded
//!   PRNG, so the same seed and the same changes give the same faults.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::clock::{Ts, fmt_ts};
use crate::data::{ConnectionInvitation, EngagementInvitation, connection_arn, participant, status};
use crate::generate::OWN_ACCOUNT_ID;
use crate::ops::account_id_for;
use crate::rng::SplitMix64;
use crate::server::{Shared, lock};
use crate::state::State;

/// `source` of engagement invitation events.
pub const SELLING_SOURCE: &str = "aws.partnercentral-selling";
/// `source` of connection invitation events.
pub const ACCOUNT_SOURCE: &str = "aws.partnercentral-account";

/// Engagement invitation detail-types (both participants receive all four).
pub mod engagement {
    pub const CREATED: &str = "Engagement Invitation Created";
    pub const ACCEPTED: &str = "Engagement Invitation Accepted";
    pub const REJECTED: &str = "Engagement Invitation Rejected";
    pub const EXPIRED: &str = "Engagement Invitation Expired";
}

/// Connection invitation detail-types.
pub mod connection {
    pub const RECEIVED: &str = "Partner Connection Invitation Received";
    pub const ACCEPTED: &str = "Partner Connection Invitation Accepted";
    pub const REJECTED: &str = "Partner Connection Invitation Rejected";
    pub const CANCELLED: &str = "Partner Connection Invitation Cancelled";
    pub const EXPIRED: &str = "Partner Connection Invitation Expired";
}

/// Every invitation detail-type, as a rule on the default bus would list them.
pub const INVITATION_DETAIL_TYPES: [&str; 9] = [
    engagement::CREATED,
    engagement::ACCEPTED,
    engagement::REJECTED,
    engagement::EXPIRED,
    connection::RECEIVED,
    connection::ACCEPTED,
    connection::REJECTED,
    connection::CANCELLED,
    connection::EXPIRED,
];

/// Region the events are put in (Partner Central emits only in us-east-1).
pub const REGION: &str = "us-east-1";

/// Fault knobs of native event delivery (CLI flags, builder, `/_emulator/native-events`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeFaults {
    /// Fraction (0..=1) of native events never sent.
    #[serde(default)]
    pub drop_rate: f64,
    /// Fraction (0..=1) of native events sent twice.
    #[serde(default)]
    pub duplicate_rate: f64,
    /// Each event (and each duplicate) waits a random 0..=`delay_ms` ms before it is sent, so
    /// events close together arrive out of order. 0: sent as soon as possible, in order.
    #[serde(default)]
    pub delay_ms: u64,
    /// Seed of the native-fault PRNG.
    #[serde(default)]
    pub seed: u64,
}

impl NativeFaults {
    /// Reject rates outside 0..=1.
    pub fn check(&self) -> Result<(), String> {
        for (name, r) in [("drop_rate", self.drop_rate), ("duplicate_rate", self.duplicate_rate)] {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("native events: {name} must be between 0 and 1, got {r}"));
            }
        }
        Ok(())
    }
}

/// Partial update of [`NativeFaults`] (`POST /_emulator/native-events`); a new `seed` reseeds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeFaultsPatch {
    pub drop_rate: Option<f64>,
    pub duplicate_rate: Option<f64>,
    pub delay_ms: Option<u64>,
    pub seed: Option<u64>,
}

/// Where native events go, and who "we" are.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeEventsConfig {
    /// EventBridge endpoint URL (e.g. moto's `http://127.0.0.1:5000`).
    pub endpoint: String,
    /// Event bus name or ARN; Partner Central uses the account's `default` bus.
    pub bus: String,
    /// The account linked to Partner Central — the "us" of every invitation's `ParticipantType`.
    pub account_id: String,
    pub faults: NativeFaults,
}

impl NativeEventsConfig {
    /// Events to `endpoint` on the `default` bus, for account [`OWN_ACCOUNT_ID`], no faults.
    pub fn new(endpoint: impl Into<String>) -> Self {
        NativeEventsConfig {
            endpoint: endpoint.into(),
            bus: "default".to_owned(),
            account_id: OWN_ACCOUNT_ID.to_owned(),
            faults: NativeFaults::default(),
        }
    }

    /// Check every field; the error names the one that is wrong.
    pub fn check(&self) -> Result<(), String> {
        let uri: http::Uri =
            self.endpoint.parse().map_err(|e| format!("native events endpoint {:?}: {e}", self.endpoint))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(format!("native events endpoint {:?} must be an http(s) URL with a host", self.endpoint));
        }
        if self.bus.is_empty() {
            return Err("native events bus must not be empty".into());
        }
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("account id {:?} must be 12 digits", self.account_id));
        }
        self.faults.check()
    }
}

/// One native event, as it is put on the bus (EventBridge adds `version`, `id`, `account`,
/// `region`).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeEvent {
    pub source: &'static str,
    pub detail_type: &'static str,
    pub time: Ts,
    pub resources: Vec<String>,
    pub detail: Value,
}

impl NativeEvent {
    /// The event as EventBridge delivers it to a rule target, with the given envelope values
    /// (for documentation and tests; `PutEvents` cannot set them).
    pub fn envelope(&self, id: &str, account: &str) -> Value {
        json!({
            "version": "0", "id": id, "detail-type": self.detail_type, "source": self.source,
            "account": account, "time": fmt_ts(&self.time), "region": REGION,
            "resources": self.resources, "detail": self.detail,
        })
    }
}

/// What happened to an invitation since it was last observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It appeared, PENDING.
    Appeared,
    /// Its status changed to the one it has now.
    Status,
}

/// `OPPORTUNITY_COLLABORATION` → `OpportunityCollaboration`: the events spell connection types
/// in PascalCase, the API in SCREAMING_SNAKE_CASE.
pub fn event_connection_type(api_value: &str) -> String {
    api_value
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// `SENDER` → `Sender`, `RECEIVER` → `Receiver` (the events' casing).
pub fn event_participant_type(api_value: &str) -> String {
    event_connection_type(api_value)
}

/// A stable Partner Central profile id for an account (`pprofile-` + 13 lowercase hex).
pub fn profile_id(account_id: &str) -> String {
    let digest = hex::encode(Sha256::digest(format!("profile/{account_id}").as_bytes()));
    format!("pprofile-{}", &digest[..13])
}

/// The id of the connection an accepted connection invitation created: the stored one, else
/// one derived from catalog and other participant (as the generator derives it).
fn connection_id(inv: &ConnectionInvitation, other_account: &str) -> String {
    inv.connection_id.clone().unwrap_or_else(|| {
        let h = account_id_for(&format!("{}/{other_account}", inv.catalog));
        format!("pac-{}", &format!("{h}{h}")[..13])
    })
}

/// The native event our account receives for `change` of connection invitation `inv` (in its
/// current state) at `now`, or `None` when Partner Central sends us none (our own actions: sending,
/// cancelling what we sent, rejecting what we received).
pub fn connection_event(inv: &ConnectionInvitation, change: Change, own_account: &str, now: Ts) -> Option<NativeEvent> {
    let we_sent = inv.participant_type == participant::SENDER;
    let detail_type = match (change, inv.status.as_str()) {
        (Change::Appeared, status::PENDING) if !we_sent => connection::RECEIVED,
        (Change::Status, status::ACCEPTED) => connection::ACCEPTED,
        (Change::Status, status::REJECTED) if we_sent => connection::REJECTED,
        (Change::Status, status::CANCELED) if !we_sent => connection::CANCELLED,
        (Change::Status, status::EXPIRED) => connection::EXPIRED,
        _ => return None,
    };
    let other = account_id_for(&inv.other_participant_identifier);
    let (sender, receiver) = if we_sent { (own_account, other.as_str()) } else { (other.as_str(), own_account) };
    let mut d = Map::new();
    d.insert("arn".into(), json!(inv.arn));
    d.insert("id".into(), json!(inv.id));
    d.insert("connectionType".into(), json!(event_connection_type(&inv.connection_type)));
    match detail_type {
        connection::RECEIVED => {
            d.insert("inviterEmail".into(), json!(inv.inviter_email));
            d.insert("invitationMessage".into(), json!(inv.invitation_message));
            d.insert("senderCompanyName".into(), json!(inv.inviter_name));
            d.insert("senderProfileId".into(), json!(profile_id(sender)));
            if let Some(t) = &inv.expires_at {
                d.insert("expiresAt".into(), json!(fmt_ts(t)));
            }
        }
        connection::ACCEPTED => {
            let id = connection_id(inv, &other);
            d.insert(
                "connection".into(),
                json!({
                    "arn": connection_arn(&inv.catalog, &id), "id": id,
                    "Participant1AccountId": sender, "Participant2AccountId": receiver,
                    "status": "ACTIVE",
                }),
            );
        }
        connection::REJECTED => {
            d.insert("receiverProfileId".into(), json!(profile_id(receiver)));
        }
        connection::CANCELLED => {
            d.insert("senderProfileId".into(), json!(profile_id(sender)));
        }
        _ => {
            d.insert("senderProfileId".into(), json!(profile_id(sender)));
            d.insert("receiverProfileId".into(), json!(profile_id(receiver)));
        }
    }
    // Expired: at the expiry instant (the clock may have jumped past it); otherwise now.
    let time = if detail_type == connection::EXPIRED { inv.expires_at.map_or(now, |t| t.min(now)) } else { now };
    Some(NativeEvent {
        source: ACCOUNT_SOURCE,
        detail_type,
        time,
        resources: vec![inv.arn.clone()],
        detail: json!({"catalog": inv.catalog, "connectionInvitation": Value::Object(d)}),
    })
}

/// The native event both participants receive for `change` of engagement invitation `inv`
/// (in its current state) at `now`; `None` for a change with no event (e.g. back to PENDING).
pub fn engagement_event(inv: &EngagementInvitation, change: Change, own_account: &str, now: Ts) -> Option<NativeEvent> {
    let detail_type = match (change, inv.status.as_str()) {
        (Change::Appeared, status::PENDING) => engagement::CREATED,
        (Change::Status, status::ACCEPTED) => engagement::ACCEPTED,
        (Change::Status, status::REJECTED) => engagement::REJECTED,
        (Change::Status, status::EXPIRED) => engagement::EXPIRED,
        _ => return None,
    };
    let we_sent = inv.participant_type == participant::SENDER;
    let sender = if we_sent { Some(own_account.to_owned()) } else { inv.sender_aws_account_id.clone() };
    let receiver = if we_sent {
        inv.receiver
            .as_ref()
            .and_then(|r| r.pointer("/Account/AwsAccountId"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    } else {
        Some(own_account.to_owned())
    };
    let mut d = Map::new();
    d.insert("arn".into(), json!(inv.arn));
    d.insert("id".into(), json!(inv.id));
    if let Some(e) = &inv.engagement_id {
        d.insert("engagementId".into(), json!(e));
    }
    if let Some(s) = sender {
        d.insert("senderAccountId".into(), json!(s));
    }
    if let Some(r) = receiver {
        d.insert("receiverAccountId".into(), json!(r));
    }
    d.insert("participantType".into(), json!(event_participant_type(&inv.participant_type)));
    if let Some(p) = &inv.payload_type {
        d.insert("payloadType".into(), json!(p));
    }
    if detail_type == engagement::CREATED {
        if let Some(c) = &inv.sender_company_name {
            d.insert("senderCompanyName".into(), json!(c));
        }
        d.insert("expirationDate".into(), json!(fmt_ts(&inv.expiration_date)));
    }
    let time = if detail_type == engagement::EXPIRED { inv.expiration_date.min(now) } else { now };
    Some(NativeEvent {
        source: SELLING_SOURCE,
        detail_type,
        time,
        resources: vec![inv.arn.clone()],
        detail: json!({"catalog": inv.catalog, "engagementInvitation": Value::Object(d)}),
    })
}

/// Status per invitation id per catalog, as last observed.
#[derive(Debug, Default)]
struct Snapshot {
    connections: HashMap<String, HashMap<String, String>>,
    engagements: HashMap<String, HashMap<String, String>>,
}

/// Compare one invitation with the snapshot, update it, and say what changed.
fn note(seen: &mut HashMap<String, String>, id: &str, current: &str) -> Option<Change> {
    match seen.get_mut(id) {
        Some(previous) if previous == current => None,
        Some(previous) => {
            current.clone_into(previous);
            (current != status::PENDING).then_some(Change::Status)
        }
        None => {
            seen.insert(id.to_owned(), current.to_owned());
            (current == status::PENDING).then_some(Change::Appeared)
        }
    }
}

/// One kind of invitation of one catalog: compare each with `seen`, update it, and add the
/// events of what changed to `out` (deleted ids are forgotten).
fn diff_invitations<Invitation>(
    seen: &mut HashMap<String, String>,
    invitations: &HashMap<String, Invitation>,
    status_of: impl Fn(&Invitation) -> &str,
    render: impl Fn(&Invitation, Change) -> Option<NativeEvent>,
    out: &mut Vec<NativeEvent>,
) {
    if seen.len() > invitations.len() {
        seen.retain(|id, _| invitations.contains_key(id));
    }
    for (id, inv) in invitations {
        if let Some(change) = note(seen, id, status_of(inv)) {
            out.extend(render(inv, change));
        }
    }
}

impl Snapshot {
    fn of(state: &State) -> Snapshot {
        let mut s = Snapshot::default();
        s.diff(state, "");
        s
    }

    /// The events for every change since the last call (ordered by time, then id), and the
    /// snapshot brought up to date.
    fn diff(&mut self, state: &State, own_account: &str) -> Vec<NativeEvent> {
        let now = state.now();
        let mut out = Vec::new();
        for (catalog, data) in &state.catalogs {
            diff_invitations(
                self.connections.entry(catalog.clone()).or_default(),
                &data.connection_invitations,
                |inv| &inv.status,
                |inv, change| connection_event(inv, change, own_account, now),
                &mut out,
            );
            diff_invitations(
                self.engagements.entry(catalog.clone()).or_default(),
                &data.engagement_invitations,
                |inv| &inv.status,
                |inv, change| engagement_event(inv, change, own_account, now),
                &mut out,
            );
        }
        self.connections.retain(|c, _| state.catalogs.contains_key(c));
        self.engagements.retain(|c, _| state.catalogs.contains_key(c));
        out.sort_by(|a, b| (a.time, &a.resources).cmp(&(b.time, &b.resources)));
        out
    }
}

/// Counters of native event delivery (`GET /_emulator/native-events`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Events produced by state changes (before faults).
    pub emitted: AtomicU64,
    /// Dropped by the `drop_rate` fault.
    pub dropped: AtomicU64,
    /// Extra copies made by the `duplicate_rate` fault.
    pub duplicated: AtomicU64,
    /// Entries EventBridge accepted.
    pub sent: AtomicU64,
    /// Entries that could not be put (after the SDK's retries), or that EventBridge refused.
    pub failed: AtomicU64,
    /// Queued or delayed, not yet attempted.
    pub pending: AtomicU64,
}

impl Counters {
    fn json(&self) -> Value {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "emitted": n(&self.emitted), "dropped": n(&self.dropped), "duplicated": n(&self.duplicated),
            "sent": n(&self.sent), "failed": n(&self.failed), "pending": n(&self.pending),
        })
    }

    fn reset(&self) {
        for c in [&self.emitted, &self.dropped, &self.duplicated, &self.sent, &self.failed] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// An event on its way, with the delay the faults gave it.
#[derive(Debug)]
struct Outgoing {
    event: NativeEvent,
    delay: Duration,
}

#[derive(Debug)]
struct Observer {
    faults: NativeFaults,
    rng: SplitMix64,
    snapshot: Snapshot,
}

#[derive(Debug)]
struct Emitter {
    config: NativeEventsConfig,
    observer: std::sync::Mutex<Observer>,
    counters: Arc<Counters>,
    queue: mpsc::UnboundedSender<Outgoing>,
}

/// Native event emission: off, or an emitter with its observer and sender task.
#[derive(Debug, Default)]
pub struct Native {
    emitter: Option<Emitter>,
}

impl Native {
    /// Emission off: every call is a no-op.
    pub fn off() -> Native {
        Native { emitter: None }
    }

    /// Start emitting per `config` (checked by the caller), with `state` as the baseline; spawns
    /// the sender task, which ends when this value is dropped.
    pub fn start(config: NativeEventsConfig, state: &State) -> Native {
        let counters = Arc::new(Counters::default());
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_loop(client(&config.endpoint), config.bus.clone(), rx, Arc::clone(&counters)));
        let observer = Observer {
            rng: SplitMix64::new(config.faults.seed),
            faults: config.faults.clone(),
            snapshot: Snapshot::of(state),
        };
        Native { emitter: Some(Emitter { config, observer: std::sync::Mutex::new(observer), counters, queue }) }
    }

    /// Whether native events are on.
    pub fn enabled(&self) -> bool {
        self.emitter.is_some()
    }

    /// Emit the native events for every change in `state` since the last observation. Call it
    /// with the state lock held, after changing the state; never blocks on delivery.
    pub fn observe(&self, state: &State) {
        let Some(em) = &self.emitter else { return };
        let mut ob = lock(&em.observer);
        let events = ob.snapshot.diff(state, &em.config.account_id);
        for event in events {
            em.counters.emitted.fetch_add(1, Ordering::Relaxed);
            let Observer { faults, rng, .. } = &mut *ob;
            if faults.drop_rate > 0.0 && rng.chance(faults.drop_rate) {
                em.counters.dropped.fetch_add(1, Ordering::Relaxed);
                debug!(detail_type = event.detail_type, "native event dropped (fault)");
                continue;
            }
            let copies = if faults.duplicate_rate > 0.0 && rng.chance(faults.duplicate_rate) {
                em.counters.duplicated.fetch_add(1, Ordering::Relaxed);
                2
            } else {
                1
            };
            for _ in 0..copies {
                let delay = if faults.delay_ms > 0 {
                    Duration::from_millis(rng.below(faults.delay_ms + 1))
                } else {
                    Duration::ZERO
                };
                em.counters.pending.fetch_add(1, Ordering::Relaxed);
                if em.queue.send(Outgoing { event: event.clone(), delay }).is_err() {
                    em.counters.pending.fetch_sub(1, Ordering::Relaxed);
                    em.counters.failed.fetch_add(1, Ordering::Relaxed);
                    warn!(detail_type = event.detail_type, "native event sender has stopped; event lost");
                }
            }
        }
    }

    /// Take `state` as the new baseline without emitting (after `reset`), and go back to the
    /// start-up faults with zeroed counters.
    pub fn rebaseline(&self, state: &State) {
        let Some(em) = &self.emitter else { return };
        let mut ob = lock(&em.observer);
        ob.snapshot = Snapshot::of(state);
        ob.faults = em.config.faults.clone();
        ob.rng = SplitMix64::new(ob.faults.seed);
        em.counters.reset();
    }

    /// `GET /_emulator/native-events`.
    pub fn status_json(&self) -> Value {
        match &self.emitter {
            None => json!({"enabled": false}),
            Some(em) => json!({
                "enabled": true,
                "endpoint": em.config.endpoint,
                "bus": em.config.bus,
                "account_id": em.config.account_id,
                "faults": lock(&em.observer).faults,
                "counts": em.counters.json(),
            }),
        }
    }

    /// `POST /_emulator/native-events`: change the faults at run time.
    pub fn patch_faults(&self, patch: NativeFaultsPatch) -> Result<Value, String> {
        let Some(em) = &self.emitter else {
            return Err("native events are off (start the emulator with --native-events-endpoint)".into());
        };
        {
            let mut ob = lock(&em.observer);
            let mut f = ob.faults.clone();
            if let Some(v) = patch.drop_rate {
                f.drop_rate = v;
            }
            if let Some(v) = patch.duplicate_rate {
                f.duplicate_rate = v;
            }
            if let Some(v) = patch.delay_ms {
                f.delay_ms = v;
            }
            if let Some(v) = patch.seed {
                f.seed = v;
                ob.rng = SplitMix64::new(v);
            }
            f.check()?;
            ob.faults = f;
        }
        Ok(self.status_json())
    }
}

/// After any change outside the AWS operations and the control API (e.g. an asynchronous task
/// completing later): emit the native events for it. Takes the state lock; do not call it while
/// holding it — call `shared.native.observe(&state)` then.
pub(crate) fn state_changed(shared: &Shared) {
    if shared.native.enabled() {
        shared.native.observe(&lock(&shared.state));
    }
}

/// `PutEvents` client for the endpoint: static test credentials, us-east-1.
fn client(endpoint: &str) -> aws_sdk_eventbridge::Client {
    let conf = aws_sdk_eventbridge::Config::builder()
        .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
        .region(aws_sdk_eventbridge::config::Region::new(REGION))
        .credentials_provider(aws_sdk_eventbridge::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "partnercentral-local",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_eventbridge::Client::from_conf(conf)
}

/// Send what arrives on the queue: events without delay in batches of up to 10 (the
/// `PutEvents` limit) as soon as they arrive, delayed ones each on its own timer.
async fn send_loop(
    client: aws_sdk_eventbridge::Client,
    bus: String,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    counters: Arc<Counters>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::with_capacity(10);
        let mut next = Some(first);
        while let Some(item) = next.take() {
            if item.delay.is_zero() {
                batch.push(item.event);
            } else {
                let (client, bus, counters) = (client.clone(), bus.clone(), Arc::clone(&counters));
                tokio::spawn(async move {
                    tokio::time::sleep(item.delay).await;
                    put(&client, &bus, vec![item.event], &counters).await;
                });
            }
            if batch.len() < 10 {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            put(&client, &bus, batch, &counters).await;
        }
    }
}

/// One `PutEvents` call; counts each entry as sent or failed.
async fn put(client: &aws_sdk_eventbridge::Client, bus: &str, events: Vec<NativeEvent>, counters: &Counters) {
    let n = events.len() as u64;
    let mut entries = Vec::with_capacity(events.len());
    for e in &events {
        entries.push(
            PutEventsRequestEntry::builder()
                .event_bus_name(bus)
                .source(e.source)
                .detail_type(e.detail_type)
                .detail(e.detail.to_string())
                .set_resources(Some(e.resources.clone()))
                .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(e.time.timestamp_millis()))
                .build(),
        );
    }
    let (sent, failed) = match client.put_events().set_entries(Some(entries)).send().await {
        Ok(out) => {
            let refused: Vec<String> = out
                .entries()
                .iter()
                .filter_map(|r| r.error_code().map(|c| format!("{c}: {}", r.error_message().unwrap_or_default())))
                .collect();
            if !refused.is_empty() {
                warn!(bus, refused = ?refused, "EventBridge refused native events");
            }
            let failed = (refused.len() as u64).max(out.failed_entry_count().max(0) as u64).min(n);
            (n - failed, failed)
        }
        Err(e) => {
            warn!(bus, events = n, error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e), "PutEvents of native events failed");
            (0, n)
        }
    };
    counters.sent.fetch_add(sent, Ordering::Relaxed);
    counters.failed.fetch_add(failed, Ordering::Relaxed);
    counters.pending.fetch_sub(n, Ordering::Relaxed);
    for e in &events {
        debug!(detail_type = e.detail_type, resource = ?e.resources, "native event put");
    }
}

/// Let the running clock expire invitations on time, not only when the next request comes:
/// every 100 ms, expire what is due and emit the events for it (until `stop`).
pub(crate) async fn expiry_ticker(shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let mut state = lock(&shared.state);
                if state.expire_due() > 0 {
                    shared.native.observe(&state);
                }
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{VirtualClock, parse_ts};
    use crate::data::{connection_invitation_arn, engagement_invitation_arn};
    use crate::seed::SeedData;

    const US: &str = "111122223333";
    const THEM: &str = "444455556666";

    fn t(s: &str) -> Ts {
        parse_ts(s).expect("timestamp")
    }

    fn conn(participant: &str, st: &str) -> ConnectionInvitation {
        ConnectionInvitation {
            catalog: "AWS".into(),
            id: "pacinv-A000000000001".into(),
            arn: connection_invitation_arn("AWS", "pacinv-A000000000001"),
            connection_id: None,
            connection_type: "OPPORTUNITY_COLLABORATION".into(),
            created_at: t("2026-11-01T09:00:00Z"),
            updated_at: t("2026-11-02T09:00:00Z"),
            expires_at: Some(t("2026-11-16T09:00:00Z")),
            other_participant_identifier: THEM.into(),
            participant_type: participant.into(),
            status: st.into(),
            invitation_message: "Hello".into(),
            inviter_email: "ann@example.com".into(),
            inviter_name: "Ann".into(),
        }
    }

    fn eng(participant: &str, st: &str) -> EngagementInvitation {
        EngagementInvitation {
            catalog: "AWS".into(),
            id: "engi-0123456789abc".into(),
            arn: engagement_invitation_arn("AWS", "engi-0123456789abc"),
            payload_type: Some("OpportunityInvitation".into()),
            engagement_id: Some("eng-0123456789abcd".into()),
            engagement_title: None,
            status: st.into(),
            invitation_date: t("2026-11-10T00:00:00Z"),
            expiration_date: t("2026-11-25T00:00:00Z"),
            sender_aws_account_id: Some(THEM.into()),
            sender_company_name: Some("Them Inc".into()),
            receiver: Some(json!({"Account": {"AwsAccountId": THEM, "Alias": "them"}})),
            participant_type: participant.into(),
            rejection_reason: None,
            payload: None,
            invitation_message: None,
            engagement_description: None,
            existing_members: None,
            enrichment_context: None,
            task_plan: None,
        }
    }

    fn detail_type(e: Option<NativeEvent>) -> Option<&'static str> {
        e.map(|e| e.detail_type)
    }

    #[test]
    fn connection_events_follow_the_receivers_table_and_skip_our_own_actions() {
        use participant::{RECEIVER, SENDER};
        let cases = [
            (SENDER, Change::Appeared, status::PENDING, None),
            (RECEIVER, Change::Appeared, status::PENDING, Some(connection::RECEIVED)),
            (SENDER, Change::Status, status::ACCEPTED, Some(connection::ACCEPTED)),
            (RECEIVER, Change::Status, status::ACCEPTED, Some(connection::ACCEPTED)),
            (SENDER, Change::Status, status::REJECTED, Some(connection::REJECTED)),
            (RECEIVER, Change::Status, status::REJECTED, None),
            (SENDER, Change::Status, status::CANCELED, None),
            (RECEIVER, Change::Status, status::CANCELED, Some(connection::CANCELLED)),
            (SENDER, Change::Status, status::EXPIRED, Some(connection::EXPIRED)),
            (RECEIVER, Change::Status, status::EXPIRED, Some(connection::EXPIRED)),
            (RECEIVER, Change::Appeared, status::ACCEPTED, None),
        ];
        for (p, change, st, want) in cases {
            assert_eq!(
                detail_type(connection_event(&conn(p, st), change, US, t("2026-11-12T00:00:00Z"))),
                want,
                "{p} {change:?} {st}"
            );
        }
    }

    #[test]
    fn engagement_events_go_to_both_sides() {
        for p in [participant::SENDER, participant::RECEIVER] {
            assert_eq!(
                detail_type(engagement_event(&eng(p, "PENDING"), Change::Appeared, US, t("2026-11-10T00:00:00Z"))),
                Some(engagement::CREATED)
            );
            for (st, want) in [
                ("ACCEPTED", engagement::ACCEPTED),
                ("REJECTED", engagement::REJECTED),
                ("EXPIRED", engagement::EXPIRED),
            ] {
                assert_eq!(
                    detail_type(engagement_event(&eng(p, st), Change::Status, US, t("2026-11-26T00:00:00Z"))),
                    Some(want)
                );
            }
        }
    }

    #[test]
    fn received_connection_event_has_the_documented_shape_and_quirks() {
        let e =
            connection_event(&conn(participant::RECEIVER, "PENDING"), Change::Appeared, US, t("2026-11-12T00:00:00Z"))
                .expect("event");
        assert_eq!(e.source, "aws.partnercentral-account");
        assert_eq!(
            e.resources,
            vec!["arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/pacinv-A000000000001"]
        );
        assert_eq!(
            e.detail,
            json!({"catalog": "AWS", "connectionInvitation": {
                "arn": "arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/pacinv-A000000000001",
                "id": "pacinv-A000000000001", "connectionType": "OpportunityCollaboration",
                "inviterEmail": "ann@example.com", "invitationMessage": "Hello", "senderCompanyName": "Ann",
                "senderProfileId": profile_id(THEM), "expiresAt": "2026-11-16T09:00:00Z"}})
        );
        assert!(profile_id(THEM).starts_with("pprofile-") && profile_id(THEM).len() == 22);
        assert_ne!(profile_id(THEM), profile_id(US));
    }

    #[test]
    fn accepted_rejected_cancelled_expired_carry_their_extra_members() {
        let mut sent = conn(participant::SENDER, "ACCEPTED");
        sent.connection_id = Some("pac-0000000000001".into());
        let e = connection_event(&sent, Change::Status, US, t("2026-11-20T00:00:00Z")).expect("accepted");
        assert_eq!(
            e.detail["connectionInvitation"]["connection"],
            json!({"arn": "arn:aws:partnercentral:us-east-1::catalog/AWS/connection/pac-0000000000001",
                   "id": "pac-0000000000001", "Participant1AccountId": US, "Participant2AccountId": THEM,
                   "status": "ACTIVE"})
        );
        assert!(e.detail["connectionInvitation"].get("inviterEmail").is_none());
        let rejected =
            connection_event(&conn(participant::SENDER, "REJECTED"), Change::Status, US, t("2026-11-20T00:00:00Z"))
                .expect("rejected");
        assert_eq!(rejected.detail["connectionInvitation"]["receiverProfileId"], json!(profile_id(THEM)));
        let cancelled =
            connection_event(&conn(participant::RECEIVER, "CANCELED"), Change::Status, US, t("2026-11-20T00:00:00Z"))
                .expect("cancelled");
        assert_eq!(cancelled.detail["connectionInvitation"]["senderProfileId"], json!(profile_id(THEM)));
        let expired =
            connection_event(&conn(participant::RECEIVER, "EXPIRED"), Change::Status, US, t("2026-11-20T00:00:00Z"))
                .expect("expired");
        assert_eq!(expired.detail["connectionInvitation"]["senderProfileId"], json!(profile_id(THEM)));
        assert_eq!(expired.detail["connectionInvitation"]["receiverProfileId"], json!(profile_id(US)));
        assert_eq!(expired.time, t("2026-11-16T09:00:00Z"));
    }

    #[test]
    fn engagement_created_carries_company_and_expiry_and_event_casing() {
        let now = t("2026-11-10T00:00:00Z");
        let e = engagement_event(&eng(participant::RECEIVER, "PENDING"), Change::Appeared, US, now).expect("created");
        assert_eq!(e.source, "aws.partnercentral-selling");
        assert_eq!(
            e.detail,
            json!({"catalog": "AWS", "engagementInvitation": {
                "arn": "arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/engi-0123456789abc",
                "id": "engi-0123456789abc", "engagementId": "eng-0123456789abcd",
                "senderAccountId": THEM, "receiverAccountId": US, "participantType": "Receiver",
                "payloadType": "OpportunityInvitation", "senderCompanyName": "Them Inc",
                "expirationDate": "2026-11-25T00:00:00Z"}})
        );
        let a = engagement_event(&eng(participant::SENDER, "ACCEPTED"), Change::Status, US, now).expect("accepted");
        let d = &a.detail["engagementInvitation"];
        assert_eq!((d["participantType"].as_str(), d["senderAccountId"].as_str()), (Some("Sender"), Some(US)));
        assert_eq!(d["receiverAccountId"], json!(THEM));
        assert!(d.get("senderCompanyName").is_none() && d.get("expirationDate").is_none());
    }

    #[test]
    fn connection_types_and_participants_are_pascal_cased() {
        assert_eq!(event_connection_type("OPPORTUNITY_COLLABORATION"), "OpportunityCollaboration");
        assert_eq!(event_connection_type("SUBSIDIARY"), "Subsidiary");
        assert_eq!(event_participant_type("SENDER"), "Sender");
        assert_eq!(event_participant_type("RECEIVER"), "Receiver");
    }

    fn state_with(c: Vec<ConnectionInvitation>, e: Vec<EngagementInvitation>) -> State {
        let mut s = State::new(VirtualClock::new(t("2026-11-12T00:00:00Z"), true), 0);
        s.load(SeedData { connection_invitations: c, engagement_invitations: e });
        s
    }

    #[test]
    fn the_snapshot_reports_only_what_changed_since_the_last_look() {
        let mut state =
            state_with(vec![conn(participant::RECEIVER, "PENDING")], vec![eng(participant::RECEIVER, "PENDING")]);
        let mut snap = Snapshot::of(&state);
        assert!(snap.diff(&state, US).is_empty(), "the baseline is not a change");
        let mut other = conn(participant::RECEIVER, "PENDING");
        other.id = "pacinv-B000000000002".into();
        other.arn = connection_invitation_arn("AWS", &other.id);
        state.upsert_connection_invitation(other);
        let types: Vec<_> = snap.diff(&state, US).iter().map(|e| e.detail_type).collect();
        assert_eq!(types, [connection::RECEIVED]);
        if let Some(c) = state.catalog_mut("AWS").connection_invitations.get_mut("pacinv-A000000000001") {
            c.status = "ACCEPTED".into();
        }
        let types: Vec<_> = snap.diff(&state, US).iter().map(|e| e.detail_type).collect();
        assert_eq!(types, [connection::ACCEPTED]);
        assert!(snap.diff(&state, US).is_empty(), "reported once");
        state.clock.advance(chrono::Duration::days(30));
        assert_eq!(state.expire_due(), 2);
        let mut types: Vec<_> = snap.diff(&state, US).iter().map(|e| e.detail_type).collect();
        types.sort_unstable();
        assert_eq!(types, [engagement::EXPIRED, connection::EXPIRED]);
        state.catalog_mut("AWS").connection_invitations.clear();
        assert!(snap.diff(&state, US).is_empty(), "a deletion is not an event");
    }

    #[tokio::test]
    async fn faults_drop_and_duplicate_deterministically_and_delivery_failures_are_counted() {
        let mut state = state_with(vec![], vec![]);
        let cfg = |drop_rate, duplicate_rate| NativeEventsConfig {
            // Nothing listens there: every put fails fast and is counted, none blocks observe().
            endpoint: "http://127.0.0.1:9".into(),
            faults: NativeFaults { drop_rate, duplicate_rate, delay_ms: 0, seed: 7 },
            ..NativeEventsConfig::new("http://127.0.0.1:9")
        };
        let add = |state: &mut State, n: usize| {
            for i in 0..n {
                let mut e = eng(participant::RECEIVER, "PENDING");
                e.id = format!("engi-{i:013}");
                e.arn = engagement_invitation_arn("AWS", &e.id);
                state.upsert_engagement_invitation(e);
            }
        };
        let native = Native::start(cfg(1.0, 0.0), &state);
        add(&mut state, 5);
        native.observe(&state);
        let c = native.status_json()["counts"].clone();
        assert_eq!((c["emitted"].as_u64(), c["dropped"].as_u64(), c["pending"].as_u64()), (Some(5), Some(5), Some(0)));

        let run = |dup| {
            let mut state = state_with(vec![], vec![]);
            let native = Native::start(cfg(0.0, dup), &state);
            add(&mut state, 40);
            native.observe(&state);
            native.status_json()["counts"]["duplicated"].as_u64()
        };
        assert_eq!(run(1.0), Some(40));
        let half = run(0.5);
        assert_eq!(half, run(0.5), "same seed, same faults");
        assert!(half.is_some_and(|n| (10..=30).contains(&n)), "{half:?}");

        let native = Native::start(NativeEventsConfig::new("http://127.0.0.1:9"), &state);
        add(&mut state, 45);
        native.observe(&state);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let c = native.status_json()["counts"].clone();
            if c["pending"].as_u64() == Some(0) {
                assert_eq!((c["sent"].as_u64(), c["failed"].as_u64()), (Some(0), Some(40)));
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "puts never finished: {c}");
            tokio::task::yield_now().await;
        }
    }

    #[test]
    fn config_errors_name_the_field() {
        let mut c = NativeEventsConfig::new("not a url");
        assert!(c.check().is_err_and(|e| e.contains("endpoint")));
        c.endpoint = "http://127.0.0.1:5000".into();
        assert_eq!(c.check(), Ok(()));
        c.account_id = "12".into();
        assert!(c.check().is_err_and(|e| e.contains("account id")));
        c.account_id = US.into();
        c.faults.duplicate_rate = 2.0;
        assert!(c.check().is_err_and(|e| e.contains("duplicate_rate")));
        let p: NativeFaultsPatch = serde_json::from_str(r#"{"drop_rate": 0.2, "seed": 3}"#).expect("patch");
        assert_eq!((p.drop_rate, p.seed, p.delay_ms), (Some(0.2), Some(3), None));
        assert!(serde_json::from_str::<NativeFaultsPatch>(r#"{"drop": 1}"#).is_err());
    }
}
