//! The pure decisions of auto-respond: which candidates the policy selects, whether a match
//! may be answered, and what each step writes to an invitation's record with which events.
//! No I/O: the run reads, calls and commits; [`render`] turns the decided events into
//! contract events after.

use chrono::{DateTime, Utc};

use shared::domain::engagement_response::{AcceptanceTask, TaskStatus};
use shared::domain::{
    AcceptanceRecord, Cause, CauseType, Invitation, InvitationEvent, InvitationRecord, InvitationStatus, Response,
};

use crate::policy::{Decision, Policy, Rule};
use crate::summary::SkipReason;

/// What the policy selected among the candidates.
#[derive(Debug, Default)]
pub(crate) struct Selection<'p> {
    /// The matches, oldest first (the id breaks ties: the same order on every run).
    pub(crate) matches: Vec<(Invitation, &'p Rule)>,
    /// Matched by a rule, protected by an exclusion: (invitation id, rule name).
    pub(crate) excluded: Vec<(String, String)>,
}

/// Apply the policy to every candidate at `now`.
pub(crate) fn select(policy: &Policy, candidates: Vec<Invitation>, now: DateTime<Utc>) -> Selection<'_> {
    let mut selection = Selection::default();
    for invitation in candidates {
        match policy.evaluate(&invitation, now) {
            Decision::NoMatch => {}
            Decision::Excluded { rule, reason } => {
                tracing::info!(invitation_id = %invitation.id, rule = %rule.name, ?reason, "excluded");
                selection.excluded.push((invitation.id.clone(), rule.name.clone()));
            }
            Decision::Matched { rule } => selection.matches.push((invitation, rule)),
        }
    }
    selection.matches.sort_by(|(a, _), (b, _)| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    selection
}

/// Why a listed PENDING match must be left alone, if it must (from its record and the time).
pub(crate) fn precheck(
    invitation: &Invitation,
    record: Option<&InvitationRecord>,
    now: DateTime<Utc>,
) -> Option<SkipReason> {
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

/// An event to publish about the invitation, rendered by [`render`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// `Response Planned` (dry run).
    Planned(Response),
    /// `Acceptance Started`.
    Started(AcceptanceTask),
    /// The transition from `previous` to the invitation's status (`Accepted`, `Rejected`);
    /// with the cause when the policy brought it about.
    Transition { previous: InvitationStatus },
    /// `Acceptance Completed` / `Acceptance Failed`.
    Ended(AcceptanceTask),
}

/// A record to write with its (unrendered) events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Write {
    pub(crate) record: InvitationRecord,
    pub(crate) events: Vec<EventKind>,
}

/// The outcome of a decision before rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Write(Box<Write>),
    AlreadyRecorded,
    Skip(SkipReason),
}

/// The record as stored, or a first sighting (rule 3: list-and-publish announces it).
fn stored_or_new(record: Option<InvitationRecord>, listed: &Invitation, now: DateTime<Utc>) -> InvitationRecord {
    record.unwrap_or_else(|| InvitationRecord::first_sighting(listed, false, now))
}

/// Dry run: plan `response` for the invitation under the policy `hash`, once per policy.
pub(crate) fn plan(
    record: Option<InvitationRecord>,
    listed: &Invitation,
    response: &Response,
    hash: &str,
    now: DateTime<Utc>,
) -> Outcome {
    match &record {
        Some(r) if r.status.is_terminal() => return Outcome::Skip(SkipReason::AlreadyTerminal(r.status)),
        Some(r) if r.planned_by_policy.as_deref() == Some(hash) => return Outcome::AlreadyRecorded,
        _ => {}
    }
    let mut record = stored_or_new(record, listed, now);
    record.planned_by_policy = Some(hash.to_owned());
    Outcome::Write(Box::new(Write { record, events: vec![EventKind::Planned(response.clone())] }))
}

/// An acceptance task was started: remember it to follow it; `Acceptance Started`.
pub(crate) fn started(
    record: Option<InvitationRecord>,
    listed: &Invitation,
    task: &AcceptanceTask,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Outcome {
    match &record {
        Some(r) if r.acceptance.as_ref().is_some_and(|a| a.task_id == task.task_id) => {
            return Outcome::AlreadyRecorded;
        }
        _ => {}
    }
    let mut record = stored_or_new(record, listed, now);
    record.acceptance = Some(Box::new(AcceptanceRecord {
        task_id: task.task_id.clone(),
        rule: cause.rule.clone(),
        policy_hash: cause.policy_hash.clone(),
        started_at: task.started_at.unwrap_or(now),
        ended: None,
    }));
    Outcome::Write(Box::new(Write { record, events: vec![EventKind::Started(task.clone())] }))
}

/// The API shows the invitation in `current`'s status (our rejection, or someone else's
/// doing): record the transition with its event; nothing when the record is already
/// terminal (whoever recorded it published it, rule 4).
pub(crate) fn observed(
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

/// A followed acceptance task, as listed now; `current`: the invitation as a Get shows it
/// after the task ended. Ended: record its end (and, once COMPLETE, the transition to
/// ACCEPTED unless recorded already) with `Acceptance Completed`/`Failed`.
pub(crate) fn followed(
    record: Option<InvitationRecord>,
    task: &AcceptanceTask,
    current: &Invitation,
    now: DateTime<Utc>,
) -> Outcome {
    let Some(mut record) = record else { return Outcome::AlreadyRecorded };
    let Some(acceptance) = record.acceptance.as_mut().filter(|a| a.task_id == task.task_id && a.is_followed()) else {
        return Outcome::AlreadyRecorded;
    };
    if !task.status.is_finished() {
        return Outcome::AlreadyRecorded;
    }
    acceptance.ended = Some(task.status.as_str().to_owned());
    let mut events = Vec::with_capacity(2);
    let previous = record.status;
    if !previous.is_terminal() && current.status.is_terminal() {
        record.observe(current, now);
        events.push(EventKind::Transition { previous });
    }
    events.push(EventKind::Ended(task.clone()));
    Outcome::Write(Box::new(Write { record, events }))
}

/// How long a followed acceptance task may go unlisted by
/// `ListEngagementByAcceptingInvitationTasks` before auto-respond stops following it. A task
/// takes seconds to minutes; one missing for a day is not late, it is gone (e.g. past the
/// listing's retention), and following it would cost a listing on every run forever.
pub(crate) const UNLISTED_TASK_LIMIT_HOURS: i64 = 24;

/// Whether a followed task the listing did not return has been missing long enough (counted
/// from its start) to stop following it.
pub(crate) fn give_up_on(acceptance: &AcceptanceRecord, now: DateTime<Utc>) -> bool {
    now - acceptance.started_at >= chrono::Duration::hours(UNLISTED_TASK_LIMIT_HOURS)
}

/// The end to record for a task given up on ([`give_up_on`]), from what the invitation
/// became (`current`, as a Get shows it): ACCEPTED means the acceptance happened — COMPLETE,
/// without the opportunity id only the task would have named; anything else — FAILED. No
/// reason code (the API gave none); the message says what happened.
pub(crate) fn unlisted_task_end(acceptance: &AcceptanceRecord, current: &Invitation) -> AcceptanceTask {
    let status = if current.status == InvitationStatus::Accepted { TaskStatus::Complete } else { TaskStatus::Failed };
    AcceptanceTask {
        task_id: acceptance.task_id.clone(),
        task_arn: None,
        invitation_id: Some(current.id.clone()),
        status,
        started_at: Some(acceptance.started_at),
        opportunity_id: None,
        resource_snapshot_job_id: None,
        reason_code: None,
        message: Some(format!(
            "task {} not listed by ListEngagementByAcceptingInvitationTasks {UNLISTED_TASK_LIMIT_HOURS} h after it started: no longer followed; the invitation is {}",
            acceptance.task_id, current.status
        )),
    }
}

/// The cause of what `rule` of `policy` did.
pub(crate) fn cause(policy: &Policy, rule: &Rule) -> Cause {
    Cause { cause_type: CauseType::Policy, rule: rule.name.clone(), policy_hash: policy.hash().to_owned() }
}

/// The contract events of `kinds` about `invitation` (`cause`: the policy's, when it acted).
pub(crate) fn render(
    invitation: &Invitation,
    kinds: &[EventKind],
    cause: Option<&Cause>,
    now: DateTime<Utc>,
) -> Vec<InvitationEvent> {
    kinds
        .iter()
        .filter_map(|kind| match (kind, cause) {
            (EventKind::Planned(response), Some(cause)) => {
                Some(InvitationEvent::response_planned(invitation, response.clone(), cause.clone(), now))
            }
            (EventKind::Started(task), Some(cause)) => {
                Some(InvitationEvent::acceptance_started(invitation, task, cause.clone(), now))
            }
            (EventKind::Transition { previous }, Some(cause)) => {
                InvitationEvent::answered_by_policy(invitation, *previous, cause.clone(), now)
            }
            (EventKind::Transition { previous }, None) => InvitationEvent::transition(invitation, *previous, now),
            (EventKind::Ended(task), cause) => InvitationEvent::acceptance_ended(invitation, task, cause.cloned(), now),
            (EventKind::Planned(_) | EventKind::Started(_), None) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
