//! Answering engagement invitations we received (Partner Central Selling API): accepting one
//! through the asynchronous acceptance task (`StartEngagementByAcceptingInvitationTask`,
//! followed with `ListEngagementByAcceptingInvitationTasks`), or rejecting it with a reason.
//! Part of the event contract: the acceptance events carry the task, Response Planned the
//! rejection reason. No SDK types: the functions' adapter converts into these.
//!
//! Values the API may add later (a new `TaskStatus`, a new `ReasonCode`) are kept as they
//! came, never an error: an acceptance we started must stay followable whatever it reports.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `TaskStatus` of an acceptance task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// `IN_PROGRESS`: accepting, creating the opportunity.
    InProgress,
    /// `COMPLETE`: the invitation is accepted and the opportunity exists.
    Complete,
    /// `FAILED`: see the task's reason code and message.
    Failed,
    /// A value this version does not know, kept as the API sent it. Not finished: a caller
    /// keeps following the task (and reports the value) rather than guessing its outcome.
    Other(String),
}

impl TaskStatus {
    /// The values the API documents.
    pub const KNOWN: [TaskStatus; 3] = [TaskStatus::InProgress, TaskStatus::Complete, TaskStatus::Failed];

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            TaskStatus::InProgress => "IN_PROGRESS",
            TaskStatus::Complete => "COMPLETE",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Other(value) => value,
        }
    }

    /// From the wire value; never fails (unknown values become [`TaskStatus::Other`]).
    pub fn from_wire(value: &str) -> Self {
        TaskStatus::KNOWN
            .into_iter()
            .find(|s| s.as_str() == value)
            .unwrap_or_else(|| TaskStatus::Other(value.to_owned()))
    }

    /// `COMPLETE` or `FAILED`: the task will not change any more.
    pub fn is_finished(&self) -> bool {
        matches!(self, TaskStatus::Complete | TaskStatus::Failed)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Cow::<str>::deserialize(deserializer)?;
        Ok(TaskStatus::from_wire(&value))
    }
}

impl JsonSchema for TaskStatus {
    fn schema_name() -> Cow<'static, str> {
        "TaskStatus".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "TaskStatus of the acceptance task: IN_PROGRESS, COMPLETE or FAILED (a value added by the API later is passed on as it is)",
            "examples": ["IN_PROGRESS", "COMPLETE", "FAILED"],
        })
    }
}

/// `ReasonCode` of a failed acceptance task (e.g. `OpportunityValidationFailed`,
/// `EngagementInvitationConflict`), kept as the API sent it: the API documents 22 values and
/// may add more, and nothing here decides by them — they are reported.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct TaskReasonCode(String);

impl TaskReasonCode {
    pub fn new(value: impl Into<String>) -> Self {
        TaskReasonCode(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One acceptance task (`StartEngagementByAcceptingInvitationTask`), as started or as listed.
/// The API marks every member optional; the adapter refuses a task without an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptanceTask {
    /// `TaskId` (`task-…`).
    pub task_id: String,
    /// `TaskArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_arn: Option<String>,
    /// `EngagementInvitationId`: the invitation being accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<String>,
    pub status: TaskStatus,
    /// `StartTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// `OpportunityId` (`O…`): the opportunity the task created in our pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity_id: Option<String>,
    /// `ResourceSnapshotJobId` (`job-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_snapshot_job_id: Option<String>,
    /// `ReasonCode`, when the task failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<TaskReasonCode>,
    /// `Message`: what went wrong and how to recover, when the task failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Where an acceptance task stands, for deciding what to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome<'a> {
    /// Still `IN_PROGRESS`: follow it again later.
    Running,
    /// `COMPLETE`, with the opportunity it created (if the API named it).
    Completed { opportunity_id: Option<&'a str> },
    /// `FAILED`, with the reason code and message (if the API gave them).
    Failed { reason_code: Option<&'a TaskReasonCode>, message: Option<&'a str> },
    /// A status this version does not know: keep following, report the value.
    Unrecognized { status: &'a str },
}

impl AcceptanceTask {
    pub fn outcome(&self) -> TaskOutcome<'_> {
        match &self.status {
            TaskStatus::InProgress => TaskOutcome::Running,
            TaskStatus::Complete => TaskOutcome::Completed { opportunity_id: self.opportunity_id.as_deref() },
            TaskStatus::Failed => {
                TaskOutcome::Failed { reason_code: self.reason_code.as_ref(), message: self.message.as_deref() }
            }
            TaskStatus::Other(status) => TaskOutcome::Unrecognized { status },
        }
    }
}

/// The `RejectionReason` of `RejectEngagementInvitation`: 1–80 characters from the API's
/// allowed set (printable ASCII and most of Unicode's BMP: `[\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD]`;
/// no control characters such as tab or newline). Checked on construction, so a policy with a
/// bad reason is refused when it is loaded, not when the first rejection is sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RejectionReason(String);

/// Why a text is not a valid [`RejectionReason`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidRejectionReason {
    Empty,
    TooLong { chars: usize },
    Character { character: char, position: usize },
}

impl fmt::Display for InvalidRejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidRejectionReason::Empty => f.write_str("a rejection reason must not be empty (1 to 80 characters)"),
            InvalidRejectionReason::TooLong { chars } => {
                write!(f, "a rejection reason has at most 80 characters, this one has {chars}")
            }
            InvalidRejectionReason::Character { character, position } => write!(
                f,
                "a rejection reason may not contain {character:?} (character {position}): only printable characters (U+0020–U+007E, U+00A0–U+D7FF, U+E000–U+FFFD) are accepted"
            ),
        }
    }
}

impl std::error::Error for InvalidRejectionReason {}

impl RejectionReason {
    /// Most characters the API accepts.
    pub const MAX_CHARS: usize = 80;

    /// The reasons the API documents (any other text within the rules is accepted too).
    pub const DOCUMENTED: [&'static str; 5] = [
        "Customer problem unclear",
        "Next steps unclear",
        "Unable to support",
        "Duplicate of partner referral",
        "Other",
    ];

    pub fn new(text: impl Into<String>) -> Result<Self, InvalidRejectionReason> {
        let text = text.into();
        if text.is_empty() {
            return Err(InvalidRejectionReason::Empty);
        }
        if let Some((position, character)) = text.chars().enumerate().find(|(_, c)| !Self::allowed(*c)) {
            return Err(InvalidRejectionReason::Character { character, position: position + 1 });
        }
        let chars = text.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(InvalidRejectionReason::TooLong { chars });
        }
        Ok(RejectionReason(text))
    }

    fn allowed(c: char) -> bool {
        // U+D800–U+DFFF (surrogates) cannot occur in a Rust `char`.
        matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RejectionReason {
    type Error = InvalidRejectionReason;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        RejectionReason::new(text)
    }
}

impl From<RejectionReason> for String {
    fn from(reason: RejectionReason) -> Self {
        reason.0
    }
}

impl JsonSchema for RejectionReason {
    fn schema_name() -> Cow<'static, str> {
        "RejectionReason".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": RejectionReason::MAX_CHARS,
            "pattern": "^[\\u0020-\\u007E\\u00A0-\\uD7FF\\uE000-\\uFFFD]+$",
            "description": "RejectionReason sent with RejectEngagementInvitation",
            "examples": RejectionReason::DOCUMENTED,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_statuses_round_trip_and_unknown_values_are_kept() {
        for s in TaskStatus::KNOWN {
            assert_eq!(TaskStatus::from_wire(s.as_str()), s);
            assert_eq!(serde_json::to_value(&s).ok(), Some(serde_json::json!(s.as_str())));
        }
        let new = TaskStatus::from_wire("CANCELLING");
        assert_eq!(new, TaskStatus::Other("CANCELLING".into()));
        assert!(!new.is_finished(), "an unknown status is followed further, not taken as an end");
        assert_eq!(serde_json::from_str::<TaskStatus>("\"CANCELLING\"").ok(), Some(new.clone()));
        assert_eq!(new.to_string(), "CANCELLING");
        assert!(TaskStatus::Complete.is_finished() && TaskStatus::Failed.is_finished());
        assert!(!TaskStatus::InProgress.is_finished());
    }

    #[test]
    fn the_outcome_names_what_to_report() {
        let task = AcceptanceTask {
            task_id: "task-0000000000001".into(),
            task_arn: None,
            invitation_id: Some("engi-0000000000001".into()),
            status: TaskStatus::Failed,
            started_at: None,
            opportunity_id: None,
            resource_snapshot_job_id: None,
            reason_code: Some(TaskReasonCode::new("OpportunityValidationFailed")),
            message: Some("Missing customer website".into()),
        };
        assert_eq!(
            task.outcome(),
            TaskOutcome::Failed {
                reason_code: Some(&TaskReasonCode::new("OpportunityValidationFailed")),
                message: Some("Missing customer website")
            }
        );
        let done =
            AcceptanceTask { status: TaskStatus::Complete, opportunity_id: Some("O1234".into()), ..task.clone() };
        assert_eq!(done.outcome(), TaskOutcome::Completed { opportunity_id: Some("O1234") });
        let odd = AcceptanceTask { status: TaskStatus::Other("PAUSED".into()), ..task };
        assert_eq!(odd.outcome(), TaskOutcome::Unrecognized { status: "PAUSED" });
        let json = serde_json::to_value(&done).unwrap_or_default();
        assert_eq!(json["status"], "COMPLETE");
        assert_eq!(json["opportunityId"], "O1234");
        assert_eq!(serde_json::from_value::<AcceptanceTask>(json).ok(), Some(done));
    }

    #[test]
    fn rejection_reasons_follow_the_api_rules_and_name_what_is_wrong() {
        for documented in RejectionReason::DOCUMENTED {
            assert!(RejectionReason::new(documented).is_ok(), "{documented}");
        }
        assert!(RejectionReason::new("Kein Bedarf — Kunde hat bereits einen Partner").is_ok());
        assert_eq!(RejectionReason::new("x".repeat(80)).map(|r| r.as_str().len()), Ok(80));
        assert_eq!(RejectionReason::new(""), Err(InvalidRejectionReason::Empty));
        assert_eq!(RejectionReason::new("é".repeat(81)), Err(InvalidRejectionReason::TooLong { chars: 81 }));
        let tab = RejectionReason::new("Not\ta fit");
        assert_eq!(tab, Err(InvalidRejectionReason::Character { character: '\t', position: 4 }));
        let shown = tab.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(shown.contains("'\\t'") && shown.contains("character 4"), "{shown}");
        assert!(RejectionReason::new("emoji 🙂").is_err(), "outside the BMP range the API accepts");
        let parsed: Result<RejectionReason, _> = serde_json::from_str("\"\"");
        assert!(parsed.err().is_some_and(|e| e.to_string().contains("must not be empty")));
        let reason = RejectionReason::new("Other").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::to_value(&reason).ok(), Some(serde_json::json!("Other")));
    }
}
