//! The pure decisions only auto-respond has: following an engagement acceptance task to its
//! end. No I/O: the run reads, lists and commits. The decisions every policy-driven function
//! shares (prechecks, plans, transitions) are the engine's (`shared::policy::engine::decide`).

use chrono::{DateTime, Utc};

use shared::domain::engagement_response::{AcceptanceTask, TaskStatus};
use shared::domain::{AcceptanceRecord, Invitation, InvitationRecord, InvitationStatus};
use shared::policy::engine::{EventKind, Outcome, Write};

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

#[cfg(test)]
mod tests;
