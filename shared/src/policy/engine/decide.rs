//! The pure decisions of the engine: whether a listed match may be acted on, and what each
//! step writes to an invitation's record with which events. No I/O: the engine reads, calls
//! and commits; [`render`] turns the decided events into contract events after.

use chrono::{DateTime, Utc};

use crate::domain::engagement_response::AcceptanceTask;
use crate::domain::{AcceptanceRecord, Cause, Invitation, InvitationEvent, InvitationRecord};

use super::SkipReason;

/// Why a listed PENDING match must be left alone, if it must (from its record and the time).
pub fn precheck(invitation: &Invitation, record: Option<&InvitationRecord>, now: DateTime<Utc>) -> Option<SkipReason> {
    if let Some(r) = record.filter(|r| r.status.is_terminal()) {
        return Some(SkipReason::AlreadyTerminal(r.status));
    }
    if let Some(task) = record.and_then(|r| r.acceptance.as_ref()) {
        return Some(match &task.ended {
            None => SkipReason::BeingAccepted { task_id: task.task_id.clone() },
            Some(status) => SkipReason::AcceptanceEnded { task_id: task.task_id.clone(), status: status.clone() },
        });
    }
    invitation.is_overdue(now).then_some(SkipReason::Overdue)
}

/// An event to publish about the invitation, rendered by [`render`] (or, for `Planned`, by
/// the function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The function's planned event (dry run).
    Planned,
    /// `Acceptance Started`.
    Started(AcceptanceTask),
    /// The transition from `previous` to the invitation's status; with the cause when the
    /// policy brought it about.
    Transition { previous: crate::domain::InvitationStatus },
    /// `Acceptance Completed` / `Acceptance Failed`.
    Ended(AcceptanceTask),
    /// `… Approval Requested` (rendered by the engine, which made the approval).
    Asked,
}

/// A record to write with its (unrendered) events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub record: InvitationRecord,
    pub events: Vec<EventKind>,
}

/// The outcome of a decision before rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Write(Box<Write>),
    AlreadyRecorded,
    Skip(SkipReason),
}

/// The record as stored, or a first sighting (rule 3: list-and-publish announces it).
pub fn stored_or_new(record: Option<InvitationRecord>, listed: &Invitation, now: DateTime<Utc>) -> InvitationRecord {
    record.unwrap_or_else(|| InvitationRecord::first_sighting(listed, false, now))
}

/// Dry run: plan the rule's action for the invitation under the policy `hash`, once per
/// policy.
pub fn plan(record: Option<InvitationRecord>, listed: &Invitation, hash: &str, now: DateTime<Utc>) -> Outcome {
    match &record {
        Some(r) if r.status.is_terminal() => return Outcome::Skip(SkipReason::AlreadyTerminal(r.status)),
        Some(r) if r.planned_by_policy.as_deref() == Some(hash) => return Outcome::AlreadyRecorded,
        _ => {}
    }
    let mut record = stored_or_new(record, listed, now);
    record.planned_by_policy = Some(hash.to_owned());
    Outcome::Write(Box::new(Write { record, events: vec![EventKind::Planned] }))
}

/// An acceptance task was started: remember it to follow it; `Acceptance Started`.
pub fn started(
    record: Option<InvitationRecord>,
    listed: &Invitation,
    task: &AcceptanceTask,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Outcome {
    if record.as_ref().is_some_and(|r| r.acceptance.as_ref().is_some_and(|a| a.task_id == task.task_id)) {
        return Outcome::AlreadyRecorded;
    }
    let mut record = stored_or_new(record, listed, now);
    record.acceptance = Some(Box::new(AcceptanceRecord {
        task_id: task.task_id.clone(),
        rule: cause.rule.clone(),
        policy_hash: cause.policy_hash.clone(),
        started_at: task.started_at.unwrap_or(now),
        ended: None,
        approval_id: cause.approval_id.clone(),
    }));
    Outcome::Write(Box::new(Write { record, events: vec![EventKind::Started(task.clone())] }))
}

/// The API shows the invitation in `current`'s status (our action, or someone else's
/// doing): record the transition with its event; nothing when the record is already
/// terminal (whoever recorded it published it, rule 4).
pub fn observed(
    record: Option<InvitationRecord>,
    listed: &Invitation,
    current: &Invitation,
    now: DateTime<Utc>,
) -> Outcome {
    if record.as_ref().is_some_and(|r| r.status.is_terminal()) || !current.status.is_terminal() {
        return Outcome::AlreadyRecorded;
    }
    let mut record = stored_or_new(record, listed, now);
    let previous = record.status;
    record.observe(current, now);
    Outcome::Write(Box::new(Write { record, events: vec![EventKind::Transition { previous }] }))
}

/// The contract events of `kinds` about `invitation` (`cause`: the policy's, when it acted).
/// `Planned` is the function's to render.
pub fn render(
    invitation: &Invitation,
    kinds: &[EventKind],
    cause: Option<&Cause>,
    now: DateTime<Utc>,
) -> Vec<InvitationEvent> {
    kinds
        .iter()
        .filter_map(|kind| match (kind, cause) {
            (EventKind::Started(task), Some(cause)) => {
                Some(InvitationEvent::acceptance_started(invitation, task, cause.clone(), now))
            }
            (EventKind::Transition { previous }, Some(cause)) => {
                InvitationEvent::answered_by_policy(invitation, *previous, cause.clone(), now)
            }
            (EventKind::Transition { previous }, None) => InvitationEvent::transition(invitation, *previous, now),
            (EventKind::Ended(task), cause) => InvitationEvent::acceptance_ended(invitation, task, cause.cloned(), now),
            (EventKind::Planned | EventKind::Asked | EventKind::Started(_), _) => None,
        })
        .collect()
}
