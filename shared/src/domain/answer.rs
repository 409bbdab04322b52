//! How fast we answer the invitations we receive (issue 26, "How fast we answer").
//!
//! An answer is the transition of an invitation we RECEIVED from PENDING to ACCEPTED or
//! REJECTED, as recorded with its event: a policy's (cause type `policy`), an approved
//! proposal's (cause type `approval`), or a person's in Partner Central (no cause: seen by
//! polling or native events). The time to answer runs from receipt (the invitation's
//! creation) to the answer's observation (the event's `observedAt`). A received invitation
//! that goes from PENDING to EXPIRED expired unanswered.
//!
//! The facts are read from the transition event committed with a record (so each is counted
//! once, whichever function recorded it): the record keeps them ([`InvitationRecord::answer`],
//! for the digest) and the store reports them at commit (the `AnswerTime` metric).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::envelope::OutboundEvent;
use super::event::DetailType;
use super::invitation::{InvitationKind, ParticipantType};
use super::state::InvitationRecord;

pub use invitation_events::digest::{AnswerTimeFigures, AnswerTimes, AnsweredBy, ExpiredUnanswered};

/// How the wait for our answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Answer {
    /// Accepted or rejected, by whom.
    By(AnsweredBy),
    /// Expired while unanswered.
    Unanswered,
}

/// What a record keeps of its answer (boxed in the record: most records have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedAnswer {
    pub answer: Answer,
    /// When it was observed (the transition event's `observedAt`).
    pub at: DateTime<Utc>,
}

/// One answer (or expiry) of an invitation we received, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerFact {
    pub kind: InvitationKind,
    pub answer: Answer,
    /// The invitation's creation: when we received it.
    pub received_at: DateTime<Utc>,
    /// When the answer (or the expiry) was observed.
    pub at: DateTime<Utc>,
}

impl AnswerFact {
    /// Seconds from receipt to the answer (0 when the clocks disagree).
    pub fn seconds(&self) -> f64 {
        ((self.at - self.received_at).num_milliseconds().max(0) as f64) / 1000.0
    }
}

const TRANSITIONS: [DetailType; 6] = [
    DetailType::ConnectionInvitationAccepted,
    DetailType::ConnectionInvitationRejected,
    DetailType::ConnectionInvitationExpired,
    DetailType::EngagementInvitationAccepted,
    DetailType::EngagementInvitationRejected,
    DetailType::EngagementInvitationExpired,
];

/// Who answered, from the transition's `cause` (`null`: a person in Partner Central).
/// Read by its serialized `type`, so cause types added later map by name.
fn answered_by(cause: &Value) -> AnsweredBy {
    match cause.get("type").and_then(Value::as_str) {
        None => AnsweredBy::Person,
        Some("approval") => AnsweredBy::Approval,
        Some(_) => AnsweredBy::Policy,
    }
}

/// The answer `events` record for `record`, if one of them is the PENDING → ACCEPTED /
/// REJECTED / EXPIRED transition of an invitation we received. An invitation first seen
/// already answered has no such transition (we never saw it wait), so no fact.
pub fn answer_fact(record: &InvitationRecord, events: &[OutboundEvent]) -> Option<AnswerFact> {
    if record.participant_type != ParticipantType::Receiver {
        return None;
    }
    events.iter().find_map(|event| {
        TRANSITIONS.iter().find(|t| t.as_str() == event.detail_type)?;
        let detail: Value = serde_json::from_str(&event.detail).ok()?;
        if detail.get("participantType").and_then(Value::as_str) != Some("RECEIVER")
            || detail.get("previousStatus").and_then(Value::as_str) != Some("PENDING")
        {
            return None;
        }
        let answer = match detail.get("status").and_then(Value::as_str)? {
            "ACCEPTED" | "REJECTED" => Answer::By(answered_by(detail.get("cause").unwrap_or(&Value::Null))),
            "EXPIRED" => Answer::Unanswered,
            _ => return None,
        };
        Some(AnswerFact { kind: record.kind, answer, received_at: record.created_at, at: event.time })
    })
}

/// Window of the digest's answer-time figures.
pub const WINDOW_DAYS: u32 = 7;

/// The nearest-rank `p`-th percentile (0 < p ≤ 1) of sorted `values`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(0.0)
}

fn hours_one_decimal(seconds: f64) -> f64 {
    (seconds / 360.0).round() / 10.0
}

/// The digest's figures from the state `records`: answers and expiries recorded in the
/// [`WINDOW_DAYS`] before `now`.
pub fn answer_times<'a>(records: impl IntoIterator<Item = &'a InvitationRecord>, now: DateTime<Utc>) -> AnswerTimes {
    let since = now - chrono::Duration::days(i64::from(WINDOW_DAYS));
    let mut times: std::collections::BTreeMap<(InvitationKind, AnsweredBy), Vec<f64>> = Default::default();
    let mut expired = ExpiredUnanswered::default();
    for r in records {
        let Some(RecordedAnswer { answer, at }) = r.answer.as_deref().copied() else { continue };
        if at <= since || at > now {
            continue;
        }
        let fact = AnswerFact { kind: r.kind, answer, received_at: r.created_at, at };
        match answer {
            Answer::By(by) => times.entry((r.kind, by)).or_default().push(fact.seconds()),
            Answer::Unanswered => match r.kind {
                InvitationKind::Connection => expired.connection += 1,
                InvitationKind::Engagement => expired.engagement += 1,
            },
        }
    }
    let answered = times
        .into_iter()
        .map(|((kind, answered_by), mut seconds)| {
            seconds.sort_by(f64::total_cmp);
            AnswerTimeFigures {
                kind,
                answered_by,
                count: seconds.len(),
                p50_hours: hours_one_decimal(percentile(&seconds, 0.5)),
                p90_hours: hours_one_decimal(percentile(&seconds, 0.9)),
            }
        })
        .collect();
    AnswerTimes { window_days: WINDOW_DAYS, answered, expired_unanswered: expired }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use serde_json::json;

    use super::*;
    use crate::domain::InvitationStatus;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
    }

    fn record(kind: InvitationKind, participant: ParticipantType, created_hours_ago: i64) -> InvitationRecord {
        let id = format!("{kind}-{created_hours_ago}");
        InvitationRecord {
            kind,
            id: id.clone(),
            arn: format!("arn:{id}"),
            participant_type: participant,
            status: InvitationStatus::Pending,
            created_at: now() - Duration::hours(created_hours_ago),
            expires_at: None,
            fingerprint: String::new(),
            announced: true,
            warned_thresholds: vec![],
            warned_expires_at: None,
            planned_by_policy: None,
            acceptance: None,
            terminal_at: None,
            approval: None,
            answer: None,
            version: 1,
        }
    }

    fn event(
        detail_type: &str,
        status: &str,
        previous: Option<&str>,
        participant: &str,
        cause: Value,
    ) -> OutboundEvent {
        OutboundEvent {
            event_id: "e".into(),
            detail_type: detail_type.into(),
            detail:
                json!({"status": status, "previousStatus": previous, "participantType": participant, "cause": cause})
                    .to_string(),
            resources: vec![],
            time: now(),
        }
    }

    #[test]
    fn who_answered_comes_from_the_transitions_cause() {
        let r = record(InvitationKind::Engagement, ParticipantType::Receiver, 30);
        let policy = json!({"type": "policy", "rule": "r", "policyHash": "h"});
        let approval = json!({"type": "approval", "rule": "r", "policyHash": "h", "approvalId": "a"});
        for (cause, by) in
            [(policy, AnsweredBy::Policy), (approval, AnsweredBy::Approval), (Value::Null, AnsweredBy::Person)]
        {
            let e = event("Engagement Invitation Accepted", "ACCEPTED", Some("PENDING"), "RECEIVER", cause);
            let fact = answer_fact(&r, &[e]);
            assert_eq!(fact.as_ref().map(|f| f.answer), Some(Answer::By(by)));
            assert_eq!(fact.map(|f| f.seconds()), Some(30.0 * 3600.0));
        }
        let rejected = event("Engagement Invitation Rejected", "REJECTED", Some("PENDING"), "RECEIVER", Value::Null);
        assert_eq!(answer_fact(&r, &[rejected]).map(|f| f.answer), Some(Answer::By(AnsweredBy::Person)));
        let expired = event("Engagement Invitation Expired", "EXPIRED", Some("PENDING"), "RECEIVER", Value::Null);
        assert_eq!(answer_fact(&r, &[expired]).map(|f| f.answer), Some(Answer::Unanswered));
    }

    #[test]
    fn only_a_seen_transition_of_an_invitation_we_received_is_an_answer() {
        let received = record(InvitationKind::Connection, ParticipantType::Receiver, 5);
        let sent = record(InvitationKind::Connection, ParticipantType::Sender, 5);
        let accepted = |previous, participant| {
            event("Connection Invitation Accepted", "ACCEPTED", previous, participant, Value::Null)
        };
        assert!(answer_fact(&sent, &[accepted(Some("PENDING"), "SENDER")]).is_none(), "the other side answered");
        assert!(answer_fact(&received, &[accepted(None, "RECEIVER")]).is_none(), "first seen already answered");
        let planned =
            event("Engagement Invitation Response Planned", "PENDING", None, "RECEIVER", json!({"type": "policy"}));
        let created = event("Connection Invitation Created", "PENDING", None, "RECEIVER", Value::Null);
        assert!(answer_fact(&received, &[planned, created]).is_none());
        assert!(answer_fact(&received, &[accepted(Some("PENDING"), "RECEIVER")]).is_some());
    }

    #[test]
    fn the_digest_figures_are_percentiles_per_kind_and_answerer_within_the_window() {
        let answered = |kind, by, created_hours_ago: i64, answered_hours_ago: i64| InvitationRecord {
            answer: Some(Box::new(RecordedAnswer { answer: by, at: now() - Duration::hours(answered_hours_ago) })),
            ..record(kind, ParticipantType::Receiver, created_hours_ago)
        };
        let policy = Answer::By(AnsweredBy::Policy);
        let person = Answer::By(AnsweredBy::Person);
        let mut records: Vec<InvitationRecord> =
            (1..=10).map(|h| answered(InvitationKind::Engagement, policy, h + 1, 1)).collect();
        records.push(answered(InvitationKind::Engagement, person, 49, 1));
        records.push(answered(InvitationKind::Connection, Answer::Unanswered, 400, 2));
        // Outside the window, and a record without a recorded answer: not counted.
        records.push(answered(InvitationKind::Engagement, person, 500, 24 * 8));
        records.push(record(InvitationKind::Engagement, ParticipantType::Receiver, 3));
        let t = answer_times(&records, now());
        assert_eq!(t.window_days, 7);
        assert_eq!(
            serde_json::to_value(&t.answered).unwrap_or_default(),
            json!([
                {"kind": "engagement", "answeredBy": "policy", "count": 10, "p50Hours": 5.0, "p90Hours": 9.0},
                {"kind": "engagement", "answeredBy": "person", "count": 1, "p50Hours": 48.0, "p90Hours": 48.0},
            ])
        );
        assert_eq!(t.expired_unanswered, ExpiredUnanswered { connection: 1, engagement: 0 });
    }
}
