//! The resources the emulator keeps, and how they are rendered into the model's shapes.
//!
//! Enum-valued fields are kept as the model's strings: they were validated against the model
//! on the way in, and the model (not a Rust enum) stays the single source of truth.

use serde_json::{Map, Value, json};

use crate::clock::{Ts, fmt_ts};

/// Status values (shared by both APIs; the Selling API has no `CANCELED`).
pub mod status {
    pub const PENDING: &str = "PENDING";
    pub const ACCEPTED: &str = "ACCEPTED";
    pub const REJECTED: &str = "REJECTED";
    pub const CANCELED: &str = "CANCELED";
    pub const EXPIRED: &str = "EXPIRED";
}

/// `ParticipantType` values.
pub mod participant {
    pub const SENDER: &str = "SENDER";
    pub const RECEIVER: &str = "RECEIVER";
}

/// The seed/control member of an engagement invitation that plans its acceptance task.
pub const TASK_PLAN_MEMBER: &str = "EmulatorTaskOutcome";

/// Default lifetime of an invitation without an explicit expiry (both APIs): 15 days, as the
/// Selling API documents for engagement invitations.
pub const DEFAULT_EXPIRY_DAYS: i64 = 15;

/// A connection invitation (Account API), with every member of `GetConnectionInvitationResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionInvitation {
    pub catalog: String,
    pub id: String,
    pub arn: String,
    pub connection_id: Option<String>,
    pub connection_type: String,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub expires_at: Option<Ts>,
    pub other_participant_identifier: String,
    pub participant_type: String,
    pub status: String,
    pub invitation_message: String,
    pub inviter_email: String,
    pub inviter_name: String,
}

/// `arn:aws:partnercentral:us-east-1::catalog/<Catalog>/connection-invitation/<id>`
pub fn connection_invitation_arn(catalog: &str, id: &str) -> String {
    format!("arn:aws:partnercentral:us-east-1::catalog/{catalog}/connection-invitation/{id}")
}

/// `arn:aws:partnercentral:us-east-1::catalog/<Catalog>/connection/<id>`
pub fn connection_arn(catalog: &str, id: &str) -> String {
    format!("arn:aws:partnercentral:us-east-1::catalog/{catalog}/connection/{id}")
}

/// `arn:aws:partnercentral:us-east-1::catalog/<Catalog>/engagement-invitation/<id>`
pub fn engagement_invitation_arn(catalog: &str, id: &str) -> String {
    format!("arn:aws:partnercentral:us-east-1::catalog/{catalog}/engagement-invitation/{id}")
}

fn put_opt(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v);
    }
}

impl ConnectionInvitation {
    /// `ConnectionInvitationSummary`.
    pub fn summary_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("Catalog".into(), json!(self.catalog));
        m.insert("Id".into(), json!(self.id));
        m.insert("Arn".into(), json!(self.arn));
        put_opt(&mut m, "ConnectionId", self.connection_id.as_ref().map(|c| json!(c)));
        m.insert("ConnectionType".into(), json!(self.connection_type));
        m.insert("CreatedAt".into(), json!(fmt_ts(&self.created_at)));
        m.insert("UpdatedAt".into(), json!(fmt_ts(&self.updated_at)));
        put_opt(&mut m, "ExpiresAt", self.expires_at.as_ref().map(|t| json!(fmt_ts(t))));
        m.insert("OtherParticipantIdentifier".into(), json!(self.other_participant_identifier));
        m.insert("ParticipantType".into(), json!(self.participant_type));
        m.insert("Status".into(), json!(self.status));
        Value::Object(m)
    }

    /// `GetConnectionInvitationResponse` (and the identical Cancel/Reject/Create responses).
    pub fn detail_json(&self) -> Value {
        let mut v = self.summary_json();
        if let Some(m) = v.as_object_mut() {
            m.insert("InvitationMessage".into(), json!(self.invitation_message));
            m.insert("InviterEmail".into(), json!(self.inviter_email));
            m.insert("InviterName".into(), json!(self.inviter_name));
        }
        v
    }
}

/// A connection (Account API), created when a received connection invitation is accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub catalog: String,
    pub id: String,
    pub other_participant_account_id: String,
    pub updated_at: Ts,
    /// `ConnectionTypeDetailMap`: connection type → `ConnectionTypeDetail` (JSON).
    pub connection_types: Map<String, Value>,
}

impl Connection {
    /// `Connection`.
    pub fn to_json(&self) -> Value {
        json!({
            "Catalog": self.catalog,
            "Id": self.id,
            "Arn": connection_arn(&self.catalog, &self.id),
            "OtherParticipantAccountId": self.other_participant_account_id,
            "UpdatedAt": fmt_ts(&self.updated_at),
            "ConnectionTypes": Value::Object(self.connection_types.clone()),
        })
    }
}

/// An engagement invitation (Selling API): every member of `EngagementInvitationSummary`
/// plus the extra members of `GetEngagementInvitationResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct EngagementInvitation {
    pub catalog: String,
    pub id: String,
    pub arn: String,
    pub payload_type: Option<String>,
    pub engagement_id: Option<String>,
    pub engagement_title: Option<String>,
    pub status: String,
    pub invitation_date: Ts,
    pub expiration_date: Ts,
    pub sender_aws_account_id: Option<String>,
    pub sender_company_name: Option<String>,
    /// `Receiver` union, as JSON.
    pub receiver: Option<Value>,
    pub participant_type: String,
    pub rejection_reason: Option<String>,
    /// `Payload` union, as JSON.
    pub payload: Option<Value>,
    pub invitation_message: Option<String>,
    pub engagement_description: Option<String>,
    pub existing_members: Option<Value>,
    pub enrichment_context: Option<Value>,
    /// How its acceptance task ends (emulator-only, see [`TaskPlan`]).
    pub task_plan: Option<TaskPlan>,
}

impl EngagementInvitation {
    fn common(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("Arn".into(), json!(self.arn));
        put_opt(&mut m, "PayloadType", self.payload_type.as_ref().map(|x| json!(x)));
        m.insert("Id".into(), json!(self.id));
        put_opt(&mut m, "EngagementId", self.engagement_id.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "EngagementTitle", self.engagement_title.as_ref().map(|x| json!(x)));
        m.insert("Status".into(), json!(self.status));
        m.insert("InvitationDate".into(), json!(fmt_ts(&self.invitation_date)));
        m.insert("ExpirationDate".into(), json!(fmt_ts(&self.expiration_date)));
        put_opt(&mut m, "SenderAwsAccountId", self.sender_aws_account_id.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "SenderCompanyName", self.sender_company_name.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "Receiver", self.receiver.clone());
        m.insert("Catalog".into(), json!(self.catalog));
        m
    }

    /// `EngagementInvitationSummary`.
    pub fn summary_json(&self) -> Value {
        let mut m = self.common();
        m.insert("ParticipantType".into(), json!(self.participant_type));
        Value::Object(m)
    }

    /// `GetEngagementInvitationResponse` (which has no `ParticipantType`).
    pub fn detail_json(&self) -> Value {
        let mut m = self.common();
        put_opt(&mut m, "RejectionReason", self.rejection_reason.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "Payload", self.payload.clone());
        put_opt(&mut m, "InvitationMessage", self.invitation_message.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "EngagementDescription", self.engagement_description.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "ExistingMembers", self.existing_members.clone());
        put_opt(&mut m, "EnrichmentContext", self.enrichment_context.clone());
        Value::Object(m)
    }

    /// The full record as a seed entry (summary members plus the Get-only extras, and
    /// `EmulatorTaskOutcome` when set), which is what the control API returns and accepts.
    pub fn seed_json(&self) -> Value {
        let mut v = self.detail_json();
        if let Some(m) = v.as_object_mut() {
            m.insert("ParticipantType".into(), json!(self.participant_type));
            put_opt(m, TASK_PLAN_MEMBER, self.task_plan.as_ref().map(TaskPlan::to_json));
        }
        v
    }
}

/// `TaskStatus` values of the engagement tasks.
pub mod task_status {
    pub const IN_PROGRESS: &str = "IN_PROGRESS";
    pub const COMPLETE: &str = "COMPLETE";
    pub const FAILED: &str = "FAILED";
}

/// How the acceptance task of one engagement invitation ends: the seed/control member
/// `EmulatorTaskOutcome` of an engagement invitation (not an API member; never sent on the
/// wire). Absent: the task completes after the emulator's default task delay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskPlan {
    /// Fail with this `ReasonCode` (a value of the model's `ReasonCode` enum) instead of
    /// completing.
    pub reason_code: Option<String>,
    /// The failure's `Message` (a default one names the reason code).
    pub message: Option<String>,
    /// Seconds of virtual time from start to end, instead of the emulator's default.
    pub delay_seconds: Option<u64>,
}

impl TaskPlan {
    /// The `EmulatorTaskOutcome` member as the control API shows it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_opt(&mut m, "ReasonCode", self.reason_code.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "Message", self.message.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "DelaySeconds", self.delay_seconds.map(|x| json!(x)));
        Value::Object(m)
    }
}

/// A `StartEngagementByAcceptingInvitationTask` task (Selling API).
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptanceTask {
    pub catalog: String,
    /// `task-[0-9a-z]{13}`.
    pub id: String,
    pub arn: String,
    pub start_time: Ts,
    /// When the task ends (evaluated lazily against the virtual clock, like expiry).
    pub ends_at: Ts,
    /// The invitation's `engi-…` id.
    pub invitation_id: String,
    /// `TaskStatus`.
    pub status: String,
    pub message: Option<String>,
    pub reason_code: Option<String>,
    /// `O[0-9]{1,19}`, once the task completed.
    pub opportunity_id: Option<String>,
    /// `job-[0-9a-z]{13}`, once the task completed.
    pub resource_snapshot_job_id: Option<String>,
}

/// `arn:aws:partnercentral:us-east-1::catalog/<Catalog>/engagement-by-accepting-invitation-task/<task-…>`
pub fn acceptance_task_arn(catalog: &str, id: &str) -> String {
    format!("arn:aws:partnercentral:us-east-1::catalog/{catalog}/engagement-by-accepting-invitation-task/{id}")
}

impl AcceptanceTask {
    /// `StartEngagementByAcceptingInvitationTaskResponse` and
    /// `ListEngagementByAcceptingInvitationTaskSummary` (the same members).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("TaskId".into(), json!(self.id));
        m.insert("TaskArn".into(), json!(self.arn));
        m.insert("StartTime".into(), json!(fmt_ts(&self.start_time)));
        m.insert("TaskStatus".into(), json!(self.status));
        put_opt(&mut m, "Message", self.message.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "ReasonCode", self.reason_code.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "OpportunityId", self.opportunity_id.as_ref().map(|x| json!(x)));
        put_opt(&mut m, "ResourceSnapshotJobId", self.resource_snapshot_job_id.as_ref().map(|x| json!(x)));
        m.insert("EngagementInvitationId".into(), json!(self.invitation_id));
        Value::Object(m)
    }

    /// The control API's view: the API members plus `Catalog` and `EndsAt`.
    pub fn control_json(&self) -> Value {
        let mut v = self.to_json();
        if let Some(m) = v.as_object_mut() {
            m.insert("Catalog".into(), json!(self.catalog));
            m.insert("EndsAt".into(), json!(fmt_ts(&self.ends_at)));
        }
        v
    }
}

/// Sort JSON object keys recursively, so equal values serialise identically whatever map
/// implementation `serde_json` was built with.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                if let Some(x) = m.get(k)
                    && !x.is_null()
                {
                    out.insert(k.clone(), canonical(x));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}
