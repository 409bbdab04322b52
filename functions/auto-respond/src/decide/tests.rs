//! The engine's decisions (`shared::policy::engine::decide`) as auto-respond uses them, and
//! auto-respond's own (following acceptance tasks).

use super::*;
use chrono::TimeZone;
use shared::domain::engagement_response::TaskReasonCode;
use shared::domain::{Cause, DetailType, InvitationEvent, InvitationRecord};
use shared::policy::engine::SkipReason;
use shared::policy::engine::decide::{plan, precheck, render, started};
use shared::testing::engagement_invitation;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn pending() -> Invitation {
    engagement_invitation("engi-0000000000001", now() - chrono::Duration::days(1))
}

fn cause() -> Cause {
    Cause::policy("r", "0123456789abcdef")
}

fn task(status: TaskStatus) -> AcceptanceTask {
    AcceptanceTask {
        task_id: "task-0000000000001".into(),
        task_arn: None,
        invitation_id: Some("engi-0000000000001".into()),
        status,
        started_at: None,
        opportunity_id: None,
        resource_snapshot_job_id: None,
        reason_code: None,
        message: None,
    }
}

fn write(outcome: Outcome) -> Write {
    match outcome {
        Outcome::Write(w) => *w,
        other => panic!("expected a write, got {other:?}"),
    }
}

#[test]
fn a_plan_is_written_once_per_policy_and_never_for_a_terminal_record() {
    let w = write(plan(None, &pending(), "h1", now()));
    assert_eq!(w.record.planned_by_policy.as_deref(), Some("h1"));
    assert!(!w.record.announced, "list-and-publish announces it (rule 3)");
    assert_eq!(w.events, [EventKind::Planned]);
    assert_eq!(plan(Some(w.record.clone()), &pending(), "h1", now()), Outcome::AlreadyRecorded);
    assert!(matches!(plan(Some(w.record.clone()), &pending(), "h2", now()), Outcome::Write(_)));
    let done = InvitationRecord { status: InvitationStatus::Rejected, ..w.record };
    assert_eq!(
        plan(Some(done), &pending(), "h2", now()),
        Outcome::Skip(SkipReason::AlreadyTerminal(InvitationStatus::Rejected))
    );
}

#[test]
fn a_started_task_is_remembered_and_then_blocks_another_answer() {
    let started_task = task(TaskStatus::InProgress);
    let w = write(started(None, &pending(), &started_task, &cause(), now()));
    let acceptance = w.record.acceptance.clone().unwrap_or_else(|| panic!("remembered"));
    assert_eq!((acceptance.task_id.as_str(), acceptance.rule.as_str()), ("task-0000000000001", "r"));
    assert_eq!(w.events, [EventKind::Started(started_task.clone())]);
    assert_eq!(started(Some(w.record.clone()), &pending(), &started_task, &cause(), now()), Outcome::AlreadyRecorded);
    assert_eq!(
        precheck(&pending(), Some(&w.record), now()),
        Some(SkipReason::BeingAccepted { task_id: "task-0000000000001".into() })
    );
    assert_eq!(precheck(&pending(), None, now()), None);
    let overdue = Invitation { expires_at: Some(now()), ..pending() };
    assert_eq!(precheck(&overdue, None, now()), Some(SkipReason::Overdue));
}

#[test]
fn a_followed_task_is_recorded_when_it_ends_with_the_transition_once() {
    let record = write(started(None, &pending(), &task(TaskStatus::InProgress), &cause(), now())).record;
    assert_eq!(
        followed(Some(record.clone()), &task(TaskStatus::InProgress), &pending(), now()),
        Outcome::AlreadyRecorded
    );

    let complete = AcceptanceTask { opportunity_id: Some("O0000000001".into()), ..task(TaskStatus::Complete) };
    let accepted = Invitation { status: InvitationStatus::Accepted, ..pending() };
    let w = write(followed(Some(record.clone()), &complete, &accepted, now()));
    assert_eq!(w.record.status, InvitationStatus::Accepted);
    assert_eq!(w.record.acceptance.as_ref().and_then(|a| a.ended.as_deref()), Some("COMPLETE"));
    assert_eq!(
        w.events,
        [EventKind::Transition { previous: InvitationStatus::Pending }, EventKind::Ended(complete.clone())]
    );
    // Seen again: nothing more.
    assert_eq!(followed(Some(w.record.clone()), &complete, &accepted, now()), Outcome::AlreadyRecorded);
    // list-and-publish recorded the Accepted first: only the task's end.
    let recorded = InvitationRecord { status: InvitationStatus::Accepted, ..record.clone() };
    let w = write(followed(Some(recorded), &complete, &accepted, now()));
    assert_eq!(w.events, [EventKind::Ended(complete)]);

    let failed = AcceptanceTask {
        reason_code: Some(TaskReasonCode::new("OpportunityValidationFailed")),
        message: Some("Missing website".into()),
        ..task(TaskStatus::Failed)
    };
    let w = write(followed(Some(record), &failed, &pending(), now()));
    assert_eq!(w.record.status, InvitationStatus::Pending);
    assert_eq!(w.events, [EventKind::Ended(failed)]);
    assert_eq!(
        precheck(&pending(), Some(&w.record), now()),
        Some(SkipReason::AcceptanceEnded { task_id: "task-0000000000001".into(), status: "FAILED".into() })
    );
}

#[test]
fn rendering_carries_the_cause_and_the_task_and_shares_the_transition_id() {
    let accepted = Invitation { status: InvitationStatus::Accepted, ..pending() };
    let complete = AcceptanceTask { opportunity_id: Some("O0000000001".into()), ..task(TaskStatus::Complete) };
    let kinds = [EventKind::Transition { previous: InvitationStatus::Pending }, EventKind::Ended(complete)];
    let events = render(&accepted, &kinds, Some(&cause()), now());
    let types: Vec<DetailType> = events.iter().map(|e| e.detail_type).collect();
    assert_eq!(types, [DetailType::EngagementInvitationAccepted, DetailType::EngagementInvitationAcceptanceCompleted]);
    assert_eq!(events[0].detail.cause, Some(cause()));
    assert_eq!(events[1].detail.task.as_ref().and_then(|t| t.opportunity_id.as_deref()), Some("O0000000001"));
    // Same fact as the plain transition list-and-publish would publish: the same eventId.
    let plain = InvitationEvent::transition(&accepted, InvitationStatus::Pending, now());
    assert_eq!(plain.map(|e| e.detail.event_id), Some(events[0].detail.event_id.clone()));
    // A plan or a start without a cause renders nothing (never happens in a run).
    assert!(render(&pending(), &[EventKind::Planned], None, now()).is_empty());
}

#[test]
fn an_unlisted_task_is_given_up_a_day_after_its_start_with_its_end_from_the_invitation() {
    let acceptance = AcceptanceRecord {
        task_id: "task-0000000000001".into(),
        rule: "r".into(),
        policy_hash: "0123456789abcdef".into(),
        started_at: now(),
        ended: None,
        approval_id: None,
    };
    let limit = chrono::Duration::hours(UNLISTED_TASK_LIMIT_HOURS);
    assert!(!give_up_on(&acceptance, now() + limit - chrono::Duration::seconds(1)));
    assert!(give_up_on(&acceptance, now() + limit));

    let failed = unlisted_task_end(&acceptance, &pending());
    assert_eq!(failed.status, TaskStatus::Failed);
    assert_eq!((&failed.reason_code, &failed.opportunity_id), (&None, &None), "nothing the API did not say");
    assert_eq!(
        failed.message.as_deref(),
        Some(
            "task task-0000000000001 not listed by ListEngagementByAcceptingInvitationTasks 24 h after it started: no longer followed; the invitation is PENDING"
        )
    );
    let accepted = Invitation { status: InvitationStatus::Accepted, ..pending() };
    let completed = unlisted_task_end(&acceptance, &accepted);
    assert_eq!(completed.status, TaskStatus::Complete, "the invitation was accepted: the acceptance happened");
    assert!(completed.message.is_some_and(|m| m.ends_with("the invitation is ACCEPTED")));

    // Recorded like a listed end: the record stops being followed, Acceptance Failed is published.
    let record = InvitationRecord {
        acceptance: Some(Box::new(acceptance)),
        ..InvitationRecord::first_sighting(&pending(), true, now())
    };
    let w = write(followed(Some(record), &failed, &pending(), now() + limit));
    assert_eq!(w.record.acceptance.and_then(|a| a.ended).as_deref(), Some("FAILED"));
    assert_eq!(w.events, [EventKind::Ended(failed)]);
}
