//! The emulator's mutable state: invitations per catalog, connections, idempotency records,
//! the virtual clock, and lazy expiry.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use chrono::Duration;

use crate::clock::{Ts, VirtualClock};
use crate::data::{AcceptanceTask, Connection, ConnectionInvitation, EngagementInvitation, status, task_status};
use crate::rng::{ALNUM, DIGITS, LOWER_ALNUM, SplitMix64};
use crate::seed::SeedData;

/// One catalog's data; catalogs never see each other's.
#[derive(Debug, Clone, Default)]
pub struct CatalogData {
    pub connection_invitations: HashMap<String, ConnectionInvitation>,
    pub engagement_invitations: HashMap<String, EngagementInvitation>,
    /// Connections by other participant's account id.
    pub connections: HashMap<String, Connection>,
    /// `StartEngagementByAcceptingInvitationTask` tasks by task id.
    pub acceptance_tasks: HashMap<String, AcceptanceTask>,
}

impl CatalogData {
    /// The task still running for an engagement invitation, if any.
    pub fn task_in_progress(&self, invitation_id: &str) -> Option<&AcceptanceTask> {
        self.acceptance_tasks
            .values()
            .find(|t| t.invitation_id == invitation_id && t.status == task_status::IN_PROGRESS)
    }
}

/// Default virtual time from a task's start to its end (`--task-delay-seconds`).
pub const DEFAULT_TASK_DELAY_SECONDS: u64 = 5;

/// The `ReasonCode` of a task whose invitation stopped being PENDING (expired, or changed
/// through the control API) before the task ended.
pub const INVITATION_CONFLICT_REASON: &str = "EngagementInvitationConflict";

/// Default limit of active connections per catalog (Partner Central's quota: 1,000 per
/// account); `AcceptConnectionInvitation` beyond it is a `ServiceQuotaExceededException`.
pub const DEFAULT_ACTIVE_CONNECTION_LIMIT: usize = 1000;

/// A successful answer remembered for a `ClientToken`.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    /// Canonical request without the token.
    pub fingerprint: String,
    pub response: Value,
}

/// What became of one answering request (Accept/Reject/Cancel connection invitation,
/// Accept/Reject engagement invitation, `StartEngagementByAcceptingInvitationTask`):
/// `GET /_emulator/answers`, so a test can count the answers that changed something.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AnswerLogEntry {
    pub operation: String,
    pub catalog: String,
    /// The request's `Identifier` (the invitation).
    pub invitation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// `effect`: it changed the invitation (or started a task); `replay`: a repeat of an
    /// earlier request with the same `ClientToken`, answered as before, nothing changed;
    /// `refused`: an error answer, nothing changed.
    pub outcome: AnswerOutcome,
    /// The error's `__type` and message, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// See [`AnswerLogEntry::outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerOutcome {
    Effect,
    Replay,
    Refused,
}

/// Everything the AWS operations read and write.
#[derive(Debug)]
pub struct State {
    pub catalogs: BTreeMap<String, CatalogData>,
    pub clock: VirtualClock,
    /// (catalog, operation, client token) → first successful answer.
    pub idempotency: HashMap<(String, String, String), IdempotencyRecord>,
    ids: SplitMix64,
    /// Earliest expiry among PENDING invitations (a lower bound: `None` = nothing pending).
    next_expiry: Option<Ts>,
    /// Virtual time from a task's start to its end, unless its invitation plans another.
    pub task_delay: Duration,
    /// Earliest end among IN_PROGRESS tasks (a lower bound: `None` = none running).
    next_task_end: Option<Ts>,
    /// Most active connections a catalog may have (see [`State::active_connections`]).
    pub active_connection_limit: usize,
    /// Every answering request served, in order (see [`AnswerLogEntry`]).
    pub answers: Vec<AnswerLogEntry>,
}

impl State {
    /// Empty state.
    pub fn new(clock: VirtualClock, id_seed: u64) -> Self {
        State {
            catalogs: BTreeMap::new(),
            clock,
            idempotency: HashMap::new(),
            ids: SplitMix64::new(id_seed ^ 0x05EE_D1D5),
            next_expiry: None,
            task_delay: Duration::seconds(DEFAULT_TASK_DELAY_SECONDS as i64),
            next_task_end: None,
            active_connection_limit: DEFAULT_ACTIVE_CONNECTION_LIMIT,
            answers: Vec::new(),
        }
    }

    /// Load seed records (replacing records with the same catalog + id).
    pub fn load(&mut self, data: SeedData) {
        for c in data.connection_invitations {
            self.upsert_connection_invitation(c);
        }
        for e in data.engagement_invitations {
            self.upsert_engagement_invitation(e);
        }
    }

    /// The clock's current reading.
    pub fn now(&self) -> Ts {
        self.clock.now()
    }

    /// A catalog's data (created empty on first use).
    pub fn catalog_mut(&mut self, catalog: &str) -> &mut CatalogData {
        self.catalogs.entry(catalog.to_owned()).or_default()
    }

    /// A catalog's data, if any exists.
    pub fn catalog(&self, catalog: &str) -> Option<&CatalogData> {
        self.catalogs.get(catalog)
    }

    fn note_expiry(&mut self, status: &str, expiry: Option<Ts>) {
        if status == status::PENDING
            && let Some(t) = expiry
        {
            self.next_expiry = Some(self.next_expiry.map_or(t, |n| n.min(t)));
        }
    }

    /// Insert or replace a connection invitation.
    pub fn upsert_connection_invitation(&mut self, c: ConnectionInvitation) {
        self.note_expiry(&c.status, c.expires_at);
        self.catalog_mut(&c.catalog.clone()).connection_invitations.insert(c.id.clone(), c);
    }

    /// Insert or replace an engagement invitation.
    pub fn upsert_engagement_invitation(&mut self, e: EngagementInvitation) {
        self.note_expiry(&e.status, Some(e.expiration_date));
        self.catalog_mut(&e.catalog.clone()).engagement_invitations.insert(e.id.clone(), e);
    }

    /// Bring everything the clock decides up to now: end the tasks that are due (in the order
    /// they end), then expire invitations. Returns (tasks ended, invitations expired).
    pub fn catch_up(&mut self) -> (usize, usize) {
        let ended = self.end_due_tasks();
        (ended, self.expire_due())
    }

    /// Store a new task (its end is then watched for).
    pub fn insert_task(&mut self, task: AcceptanceTask) {
        self.next_task_end = Some(self.next_task_end.map_or(task.ends_at, |n| n.min(task.ends_at)));
        self.catalog_mut(&task.catalog.clone()).acceptance_tasks.insert(task.id.clone(), task);
    }

    /// End every IN_PROGRESS task whose end has come: it FAILS with its invitation's planned
    /// `ReasonCode`, or with `EngagementInvitationConflict` when the invitation is gone or
    /// stopped being PENDING (or expired) before the task's end; otherwise it COMPLETES
    /// with a new opportunity and resource snapshot job, and the invitation is ACCEPTED.
    /// Cheap when nothing is due. Returns how many ended.
    pub fn end_due_tasks(&mut self) -> usize {
        let now = self.now();
        match self.next_task_end {
            Some(t) if t <= now => {}
            _ => return 0,
        }
        let mut ended = 0;
        let mut next: Option<Ts> = None;
        let ids = &mut self.ids;
        for cat in self.catalogs.values_mut() {
            let CatalogData { engagement_invitations, acceptance_tasks, .. } = cat;
            let mut running: Vec<&mut AcceptanceTask> =
                acceptance_tasks.values_mut().filter(|t| t.status == task_status::IN_PROGRESS).collect();
            running.sort_by(|a, b| (a.ends_at, &a.id).cmp(&(b.ends_at, &b.id)));
            for task in running {
                if task.ends_at > now {
                    next = Some(next.map_or(task.ends_at, |n: Ts| n.min(task.ends_at)));
                    continue;
                }
                ended += 1;
                let invitation = engagement_invitations.get_mut(&task.invitation_id);
                let conflict = match &invitation {
                    None => Some("was deleted".to_owned()),
                    Some(i) if i.status != status::PENDING => Some(format!("is {}", i.status)),
                    Some(i) if i.expiration_date <= task.ends_at => Some("expired".to_owned()),
                    Some(_) => None,
                };
                let plan = invitation.as_ref().and_then(|i| i.task_plan.clone()).unwrap_or_default();
                let failure = match (conflict, plan.reason_code) {
                    (Some(why), _) => Some((
                        INVITATION_CONFLICT_REASON.to_owned(),
                        format!("Engagement invitation {} {why} before it could be accepted", task.invitation_id),
                    )),
                    (None, Some(code)) => {
                        let message = plan.message.unwrap_or_else(|| format!("The task failed: {code}"));
                        Some((code, message))
                    }
                    (None, None) => None,
                };
                match (failure, invitation) {
                    (Some((code, message)), _) => {
                        task.status = task_status::FAILED.to_owned();
                        task.reason_code = Some(code);
                        task.message = Some(message);
                    }
                    (None, Some(inv)) => {
                        inv.status = status::ACCEPTED.to_owned();
                        task.status = task_status::COMPLETE.to_owned();
                        task.opportunity_id = Some(format!("O{}", ids.string(DIGITS, 10)));
                        task.resource_snapshot_job_id = Some(format!("job-{}", ids.string(LOWER_ALNUM, 13)));
                    }
                    (None, None) => {}
                }
            }
        }
        self.next_task_end = next;
        ended
    }

    /// Turn every PENDING invitation whose expiry has passed into EXPIRED (its `UpdatedAt`
    /// becomes the expiry instant). Cheap when nothing is due. Returns how many expired.
    pub fn expire_due(&mut self) -> usize {
        let now = self.now();
        match self.next_expiry {
            Some(t) if t <= now => {}
            _ => return 0,
        }
        let mut expired = 0;
        let mut next: Option<Ts> = None;
        let mut keep_min = |t: Ts| next = Some(next.map_or(t, |n: Ts| n.min(t)));
        for cat in self.catalogs.values_mut() {
            for c in cat.connection_invitations.values_mut() {
                if c.status != status::PENDING {
                    continue;
                }
                if let Some(exp) = c.expires_at {
                    if exp <= now {
                        c.status = status::EXPIRED.to_owned();
                        c.updated_at = exp.max(c.updated_at);
                        expired += 1;
                    } else {
                        keep_min(exp);
                    }
                }
            }
            for e in cat.engagement_invitations.values_mut() {
                if e.status != status::PENDING {
                    continue;
                }
                if e.expiration_date <= now {
                    e.status = status::EXPIRED.to_owned();
                    expired += 1;
                } else {
                    keep_min(e.expiration_date);
                }
            }
        }
        self.next_expiry = next;
        expired
    }

    /// A fresh `prefix` + `len` random characters, unique among `taken`.
    pub fn new_id(&mut self, prefix: &str, lower: bool, len: usize, taken: impl Fn(&str) -> bool) -> String {
        loop {
            let alphabet = if lower { LOWER_ALNUM } else { ALNUM };
            let id = format!("{prefix}{}", self.ids.string(alphabet, len));
            if !taken(&id) {
                return id;
            }
        }
    }

    /// Every acceptance task, of every catalog.
    pub fn tasks(&self) -> impl Iterator<Item = &AcceptanceTask> {
        self.catalogs.values().flat_map(|c| c.acceptance_tasks.values())
    }

    /// The other participants (12-digit account ids) we have an active connection with in
    /// `catalog`: those of the connections `AcceptConnectionInvitation` created, and of every
    /// ACCEPTED connection invitation (seeded or generated data, control changes), one
    /// connection per participant whatever its connection types.
    pub fn active_connections(&self, catalog: &str) -> std::collections::BTreeSet<String> {
        let Some(c) = self.catalog(catalog) else {
            return std::collections::BTreeSet::new();
        };
        c.connections
            .keys()
            .cloned()
            .chain(
                c.connection_invitations
                    .values()
                    .filter(|i| i.status == status::ACCEPTED)
                    .map(|i| crate::ops::account_id_for(&i.other_participant_identifier)),
            )
            .collect()
    }

    /// Total numbers of (connection, engagement) invitations.
    pub fn counts(&self) -> (usize, usize) {
        self.catalogs
            .values()
            .fold((0, 0), |(c, e), cat| (c + cat.connection_invitations.len(), e + cat.engagement_invitations.len()))
    }
}
