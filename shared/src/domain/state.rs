//! What the functions remember between runs, shared through the state table: one record
//! per invitation that matters (pending, or recently finished), and the sync bookkeeping.
//!
//! Every change to a record is committed together with the events it produces (the
//! outbox), so a transition seen is a transition published, eventually.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::answer::{RecordedAnswer, answer_fact};
use super::envelope::OutboundEvent;
use super::event::{ApprovalAction, Cause};
use super::invitation::{Invitation, InvitationKind, InvitationStatus, ParticipantType};

/// The remembered state of one invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationRecord {
    pub kind: InvitationKind,
    pub id: String,
    pub arn: String,
    pub participant_type: ParticipantType,
    pub status: InvitationStatus,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Hash of what a change could touch besides the status (expiry, update time).
    pub fingerprint: String,
    /// `Created` was published for it, or deliberately not (baseline). A record made by a
    /// function that does not announce (e.g. the sweeper) stays unannounced until
    /// list-and-publish announces it.
    #[serde(default)]
    pub announced: bool,
    /// Expiry warnings already published, for the expiry in `warned_expires_at`.
    #[serde(default)]
    pub warned_thresholds: Vec<u32>,
    #[serde(default)]
    pub warned_expires_at: Option<DateTime<Utc>>,
    /// Hash of the policy whose "Cancellation Planned" event was published for it.
    #[serde(default)]
    pub planned_by_policy: Option<String>,
    /// The acceptance task auto-respond started for it, followed until it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Box<AcceptanceRecord>>,
    /// The approval a policy rule asked a person for (`ask`), and what became of it: what
    /// makes an approval id genuine, and what stops the policy asking again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Box<ApprovalRecord>>,
    /// When a terminal status was recorded; the record is kept for the retention period
    /// after that, then expires (table TTL).
    #[serde(default)]
    pub terminal_at: Option<DateTime<Utc>>,
    /// For an invitation we received and saw PENDING: who answered it, or that it expired
    /// unanswered, and when (see [`crate::domain::answer`]); kept for the digest's figures.
    /// Set from the transition event the record is committed with ([`RecordChange::update`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Box<RecordedAnswer>>,
    /// Optimistic-concurrency version, maintained by the store (0 = never stored).
    #[serde(default)]
    pub version: u64,
}

/// An acceptance task auto-respond started, as remembered to follow it on later runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptanceRecord {
    pub task_id: String,
    /// The rule and policy that started it (the `cause` of its events).
    pub rule: String,
    pub policy_hash: String,
    pub started_at: DateTime<Utc>,
    /// `TaskStatus` when it ended (`COMPLETE` or `FAILED`) and its outcome was published;
    /// `None` while it is followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// Started because a person approved this approval id (the cause is then `approval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

/// An approval a policy rule asked for (`… Approval Requested` was published with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecord {
    /// The one-time id the request carried.
    pub approval_id: String,
    /// `accept`, `reject`, `cancel`.
    pub action: ApprovalAction,
    /// The rule that said `ask`, and its policy.
    pub rule: String,
    pub policy_hash: String,
    /// Refused after this instant.
    pub until: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    /// What a person decided, once decided: one decision per approval id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<ApprovalDecided>,
}

/// A person's decision on an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalDecided {
    pub decision: ApprovalDecision,
    pub at: DateTime<Utc>,
    /// The Lambda request that decided (its own retries may finish what it started).
    pub request_id: String,
}

/// `approve` or `dismiss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalDecision {
    Approve,
    Dismiss,
}

impl ApprovalDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalDecision::Approve => "approve",
            ApprovalDecision::Dismiss => "dismiss",
        }
    }
}

impl ApprovalRecord {
    /// Whether this is the request for `action` under the policy `policy_hash` (then the
    /// policy does not ask again, whatever became of it).
    pub fn is_for(&self, action: ApprovalAction, policy_hash: &str) -> bool {
        self.action == action && self.policy_hash == policy_hash
    }
}

impl AcceptanceRecord {
    /// Still to be followed: started, its end not yet published.
    pub fn is_followed(&self) -> bool {
        self.ended.is_none()
    }

    /// The policy that started the task: the `cause` of its events and of the `Accepted`
    /// transition, whoever records that.
    pub fn cause(&self) -> Cause {
        match &self.approval_id {
            Some(id) => Cause::approval(self.rule.clone(), self.policy_hash.clone(), id.clone()),
            None => Cause::policy(self.rule.clone(), self.policy_hash.clone()),
        }
    }
}

impl InvitationRecord {
    /// A record for an invitation seen for the first time at `now`.
    pub fn first_sighting(invitation: &Invitation, announced: bool, now: DateTime<Utc>) -> Self {
        InvitationRecord {
            kind: invitation.kind,
            id: invitation.id.clone(),
            arn: invitation.arn.clone(),
            participant_type: invitation.participant_type,
            status: invitation.status,
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
            fingerprint: fingerprint(invitation),
            announced,
            warned_thresholds: Vec::new(),
            warned_expires_at: None,
            planned_by_policy: None,
            acceptance: None,
            approval: None,
            terminal_at: invitation.status.is_terminal().then_some(now),
            answer: None,
            version: 0,
        }
    }

    /// Apply what the API now says; the status only moves away from PENDING. Returns
    /// whether anything stored changed.
    pub fn observe(&mut self, invitation: &Invitation, now: DateTime<Utc>) -> bool {
        let fp = fingerprint(invitation);
        let mut changed = false;
        if invitation.status != self.status && !self.status.is_terminal() {
            self.status = invitation.status;
            if invitation.status.is_terminal() {
                self.terminal_at = Some(now);
            }
            changed = true;
        }
        if fp != self.fingerprint {
            self.fingerprint = fp;
            self.expires_at = invitation.expires_at;
            changed = true;
        }
        changed
    }

    /// Expiry warnings re-arm when the expiry moved: thresholds already warned only count
    /// for the expiry they were warned for.
    pub fn warned_for_current_expiry(&self) -> &[u32] {
        if self.warned_expires_at == self.expires_at { &self.warned_thresholds } else { &[] }
    }

    /// Retired: Partner Central no longer knows the invitation (a Get answered NotFound). The
    /// record keeps its PENDING status (nothing is known about what became of it, so no
    /// event), stops being followed, and expires like a finished one.
    pub fn is_retired(&self) -> bool {
        self.status == InvitationStatus::Pending && self.terminal_at.is_some()
    }

    /// This record, retired at `now` (see [`InvitationRecord::is_retired`]).
    pub fn retired(&self, now: DateTime<Utc>) -> InvitationRecord {
        InvitationRecord { terminal_at: Some(now), ..self.clone() }
    }

    /// Still followed: PENDING and not retired.
    pub fn is_followed(&self) -> bool {
        self.status == InvitationStatus::Pending && !self.is_retired()
    }
}

/// Fingerprint of the parts of an invitation a run compares besides its status.
pub fn fingerprint(invitation: &Invitation) -> String {
    let mut h = Sha256::new();
    h.update(invitation.status.as_str());
    h.update([0x1f]);
    h.update(invitation.expires_at.map(|e| e.timestamp()).unwrap_or(0).to_be_bytes());
    h.update([0x1f]);
    h.update(invitation.updated_at.map(|e| e.timestamp()).unwrap_or(0).to_be_bytes());
    hex::encode(&h.finalize()[..8])
}

/// What a commit expects to find in the table for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// No record yet.
    Absent,
    /// The record at this version (what was read).
    Version(u64),
}

/// One atomic change: the record's new state and the events it produces, written together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    pub record: InvitationRecord,
    pub expected: Expected,
    pub events: Vec<OutboundEvent>,
}

impl RecordChange {
    /// A change to `record`, expecting it as it was read (its `version`). When `events` hold
    /// the answer (or expiry) of an invitation we received, the record keeps it.
    pub fn update(mut record: InvitationRecord, events: Vec<OutboundEvent>) -> Self {
        if record.answer.is_none()
            && let Some(fact) = answer_fact(&record, &events)
        {
            record.answer = Some(Box::new(RecordedAnswer { answer: fact.answer, at: fact.at }));
        }
        let expected = if record.version == 0 { Expected::Absent } else { Expected::Version(record.version) };
        RecordChange { record, expected, events }
    }
}

/// Result of committing one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed,
    /// Someone else changed the record first (another function or run); re-read and decide
    /// again.
    Conflict,
}

/// An event waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub event: OutboundEvent,
    pub enqueued_at: DateTime<Utc>,
    /// Failed delivery attempts so far.
    pub attempts: u32,
}

/// Sync bookkeeping of one catalog (list-and-publish).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncMeta {
    /// Start of the last run whose listings all completed.
    #[serde(default)]
    pub last_run_at: Option<DateTime<Utc>>,
    /// Start of the last completed full reconciliation.
    #[serde(default)]
    pub last_full_sync_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::engagement_invitation;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, h, 0, 0).single().unwrap_or_default()
    }

    fn inv(status: InvitationStatus, expires_h: u32) -> Invitation {
        Invitation { status, expires_at: Some(t(expires_h)), ..engagement_invitation("engi-0000000000001", t(0)) }
    }

    #[test]
    fn observing_a_transition_records_when_it_became_terminal() {
        let mut r = InvitationRecord::first_sighting(&inv(InvitationStatus::Pending, 20), true, t(1));
        assert_eq!(r.terminal_at, None);
        assert!(!r.observe(&inv(InvitationStatus::Pending, 20), t(2)), "nothing changed");
        assert!(r.observe(&inv(InvitationStatus::Accepted, 20), t(3)));
        assert_eq!((r.status, r.terminal_at), (InvitationStatus::Accepted, Some(t(3))));
    }

    #[test]
    fn a_terminal_status_never_changes_again() {
        let mut r = InvitationRecord::first_sighting(&inv(InvitationStatus::Expired, 20), true, t(1));
        r.observe(&inv(InvitationStatus::Accepted, 20), t(2));
        assert_eq!(r.status, InvitationStatus::Expired);
    }

    #[test]
    fn warnings_rearm_when_the_expiry_moves() {
        let mut r = InvitationRecord::first_sighting(&inv(InvitationStatus::Pending, 20), true, t(1));
        r.warned_thresholds = vec![24];
        r.warned_expires_at = r.expires_at;
        assert_eq!(r.warned_for_current_expiry(), [24]);
        assert!(r.observe(&inv(InvitationStatus::Pending, 23), t(2)), "expiry change is a change");
        assert!(r.warned_for_current_expiry().is_empty());
    }

    #[test]
    fn a_retired_record_is_no_longer_followed_and_expires_like_a_finished_one() {
        let r = InvitationRecord::first_sighting(&inv(InvitationStatus::Pending, 20), true, t(1));
        assert!(r.is_followed() && !r.is_retired());
        let retired = r.retired(t(2));
        assert!(retired.is_retired() && !retired.is_followed());
        assert_eq!((retired.status, retired.terminal_at), (InvitationStatus::Pending, Some(t(2))));
        let done = InvitationRecord::first_sighting(&inv(InvitationStatus::Accepted, 20), true, t(1));
        assert!(!done.is_retired() && !done.is_followed());
    }

    #[test]
    fn a_new_record_expects_to_be_absent() {
        let r = InvitationRecord::first_sighting(&inv(InvitationStatus::Pending, 20), true, t(1));
        assert_eq!(RecordChange::update(r.clone(), vec![]).expected, Expected::Absent);
        let stored = InvitationRecord { version: 4, ..r };
        assert_eq!(RecordChange::update(stored, vec![]).expected, Expected::Version(4));
    }
}
