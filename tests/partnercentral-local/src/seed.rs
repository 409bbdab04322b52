//! Seed data: `{"ConnectionInvitations": [...], "EngagementInvitations": [...]}`.
//!
//! Entries use the APIs' own member names and are validated against the model:
//! - a connection invitation is a `GetConnectionInvitationResponse`; `Arn` (derived from
//!   `Catalog` + `Id`), `UpdatedAt` (= `CreatedAt`) and `ExpiresAt` (= `CreatedAt` + 15 days)
//!   may be omitted;
//! - an engagement invitation is an `EngagementInvitationSummary`, optionally with the extra
//!   members of `GetEngagementInvitationResponse` (`Payload`, `InvitationMessage`,
//!   `RejectionReason`, …); `Id` must be an `engi-…` id; defaults: `Arn` derived,
//!   `Status` `PENDING`, `ParticipantType` `RECEIVER`, `InvitationDate` = the clock's now,
//!   `ExpirationDate` = `InvitationDate` + 15 days.
//!
//! Timestamps are RFC 3339 strings. Errors name the entry (`ConnectionInvitations[3]`) and the
//! member (`InviterEmail`).

use std::path::Path;

use chrono::Duration;
use serde_json::{Map, Value, json};

use crate::clock::{Ts, parse_ts};
use crate::data::{
    ConnectionInvitation, DEFAULT_EXPIRY_DAYS, EngagementInvitation, TASK_PLAN_MEMBER, TaskPlan,
    connection_invitation_arn, engagement_invitation_arn, participant, status,
};
use crate::model::{Direction, Models, Violation, ViolationKind};

/// A seed file's content.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeedDocument {
    #[serde(rename = "ConnectionInvitations", default)]
    pub connection_invitations: Vec<Value>,
    #[serde(rename = "EngagementInvitations", default)]
    pub engagement_invitations: Vec<Value>,
}

/// Why seed data was refused.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("seed is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("seed data does not match the model:\n  {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Invalid(Vec<Violation>),
}

/// Seed entries turned into the emulator's records.
#[derive(Debug, Clone, Default)]
pub struct SeedData {
    pub connection_invitations: Vec<ConnectionInvitation>,
    pub engagement_invitations: Vec<EngagementInvitation>,
}

impl SeedDocument {
    /// Parse a seed document.
    pub fn from_json(json: &str) -> Result<Self, SeedError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Read and parse a seed file.
    pub fn from_file(path: &Path) -> Result<Self, SeedError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SeedError::Io { path: path.display().to_string(), source })?;
        SeedDocument::from_json(&text)
    }

    /// Validate every entry against the model and convert; all problems are reported at once.
    pub fn load(&self, models: &Models, now: Ts) -> Result<SeedData, SeedError> {
        let mut errors = Vec::new();
        let mut out = SeedData::default();
        for (i, e) in self.connection_invitations.iter().enumerate() {
            match parse_connection_invitation(models, e, &format!("ConnectionInvitations[{i}]")) {
                Ok(c) => out.connection_invitations.push(c),
                Err(v) => errors.extend(v),
            }
        }
        for (i, e) in self.engagement_invitations.iter().enumerate() {
            match parse_engagement_invitation(models, e, &format!("EngagementInvitations[{i}]"), now) {
                Ok(c) => out.engagement_invitations.push(c),
                Err(v) => errors.extend(v),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(SeedError::Invalid(errors)) }
    }
}

fn prefixed(prefix: &str, violations: Vec<Violation>) -> Vec<Violation> {
    violations
        .into_iter()
        .map(|mut v| {
            v.path = if v.path == "(root)" { prefix.to_owned() } else { format!("{prefix}.{}", v.path) };
            v
        })
        .collect()
}

fn one(prefix: &str, member: &str, kind: ViolationKind, message: impl Into<String>) -> Vec<Violation> {
    vec![Violation { path: format!("{prefix}.{member}"), kind, message: message.into() }]
}

fn str_of(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn ts_of(m: &Map<String, Value>, k: &str) -> Option<Ts> {
    m.get(k).and_then(Value::as_str).and_then(|s| parse_ts(s).ok())
}

/// Validate and convert one connection invitation entry (`GetConnectionInvitationResponse`).
pub fn parse_connection_invitation(
    models: &Models,
    entry: &Value,
    prefix: &str,
) -> Result<ConnectionInvitation, Vec<Violation>> {
    let Some(obj) = entry.as_object() else {
        return Err(vec![Violation {
            path: prefix.to_owned(),
            kind: ViolationKind::InvalidType,
            message: "expected a JSON object".into(),
        }]);
    };
    let mut m = obj.clone();
    m.retain(|_, v| !v.is_null());
    if let (Some(cat), Some(id)) = (str_of(&m, "Catalog"), str_of(&m, "Id")) {
        m.entry("Arn").or_insert_with(|| json!(connection_invitation_arn(&cat, &id)));
    }
    if let Some(created) = m.get("CreatedAt").cloned() {
        m.entry("UpdatedAt").or_insert(created.clone());
        if let Some(c) = created.as_str().and_then(|s| parse_ts(s).ok()) {
            m.entry("ExpiresAt")
                .or_insert_with(|| json!(crate::clock::fmt_ts(&(c + Duration::days(DEFAULT_EXPIRY_DAYS)))));
        }
    }
    let value = Value::Object(m);
    let violations = models.account.validate("GetConnectionInvitationResponse", &value, Direction::Output);
    if !violations.is_empty() {
        return Err(prefixed(prefix, violations));
    }
    let m = value.as_object().cloned().unwrap_or_default();
    let req = |k: &str| str_of(&m, k).unwrap_or_default();
    let (Some(created_at), Some(updated_at)) = (ts_of(&m, "CreatedAt"), ts_of(&m, "UpdatedAt")) else {
        return Err(one(prefix, "CreatedAt", ViolationKind::InvalidFormat, "bad timestamp"));
    };
    Ok(ConnectionInvitation {
        catalog: req("Catalog"),
        id: req("Id"),
        arn: req("Arn"),
        connection_id: str_of(&m, "ConnectionId"),
        connection_type: req("ConnectionType"),
        created_at,
        updated_at,
        expires_at: ts_of(&m, "ExpiresAt"),
        other_participant_identifier: req("OtherParticipantIdentifier"),
        participant_type: req("ParticipantType"),
        status: req("Status"),
        invitation_message: req("InvitationMessage"),
        inviter_email: req("InviterEmail"),
        inviter_name: req("InviterName"),
    })
}

/// Validate and convert one engagement invitation entry (`EngagementInvitationSummary`
/// members, plus `GetEngagementInvitationResponse`-only members).
pub fn parse_engagement_invitation(
    models: &Models,
    entry: &Value,
    prefix: &str,
    now: Ts,
) -> Result<EngagementInvitation, Vec<Violation>> {
    let Some(obj) = entry.as_object() else {
        return Err(vec![Violation {
            path: prefix.to_owned(),
            kind: ViolationKind::InvalidType,
            message: "expected a JSON object".into(),
        }]);
    };
    let selling = &models.selling;
    let Some(summary_shape) = selling.shape("EngagementInvitationSummary") else {
        return Err(one(prefix, "(model)", ViolationKind::InvalidType, "model lacks EngagementInvitationSummary"));
    };
    let Some(detail_shape) = selling.shape("GetEngagementInvitationResponse") else {
        return Err(one(prefix, "(model)", ViolationKind::InvalidType, "model lacks GetEngagementInvitationResponse"));
    };
    let mut m = obj.clone();
    m.retain(|_, v| !v.is_null());
    let (task_plan, plan_violations) = match m.remove(TASK_PLAN_MEMBER).map(|p| parse_task_plan(models, &p)) {
        None => (None, Vec::new()),
        Some(Ok(plan)) => (Some(plan), Vec::new()),
        Some(Err(v)) => (None, v),
    };
    if let (Some(cat), Some(id)) = (str_of(&m, "Catalog"), str_of(&m, "Id")) {
        if !id.starts_with("engi-") {
            return Err(one(
                prefix,
                "Id",
                ViolationKind::InvalidFormat,
                "seed entries need an engi-[0-9a-z]{13} id (ARNs are derived)",
            ));
        }
        m.entry("Arn").or_insert_with(|| json!(engagement_invitation_arn(&cat, &id)));
    }
    m.entry("Status").or_insert_with(|| json!(status::PENDING));
    m.entry("ParticipantType").or_insert_with(|| json!(participant::RECEIVER));
    m.entry("InvitationDate").or_insert_with(|| json!(crate::clock::fmt_ts(&now)));
    if let Some(d) = ts_of(&m, "InvitationDate") {
        m.entry("ExpirationDate")
            .or_insert_with(|| json!(crate::clock::fmt_ts(&(d + Duration::days(DEFAULT_EXPIRY_DAYS)))));
    }
    // Split into the summary's members and the detail-only ones; validate each part strictly.
    let mut summary = Map::new();
    let mut extra = Map::new();
    let mut violations = plan_violations;
    for (k, v) in &m {
        if summary_shape.has_member(k) {
            summary.insert(k.clone(), v.clone());
        } else if detail_shape.has_member(k) {
            extra.insert(k.clone(), v.clone());
        } else {
            violations.push(Violation {
                path: k.clone(),
                kind: ViolationKind::UnknownMember,
                message: "member is in neither EngagementInvitationSummary nor GetEngagementInvitationResponse".into(),
            });
        }
    }
    violations.extend(selling.validate("EngagementInvitationSummary", &Value::Object(summary), Direction::Output));
    for (k, v) in &extra {
        if let Some(shape) = selling.member_shape("GetEngagementInvitationResponse", k) {
            let mut vs = selling.validate(shape, v, Direction::Output);
            for x in &mut vs {
                x.path = if x.path == "(root)" { k.clone() } else { format!("{k}.{}", x.path) };
            }
            violations.extend(vs);
        }
    }
    if !violations.is_empty() {
        return Err(prefixed(prefix, violations));
    }
    let (Some(invitation_date), Some(expiration_date)) = (ts_of(&m, "InvitationDate"), ts_of(&m, "ExpirationDate"))
    else {
        return Err(one(prefix, "InvitationDate", ViolationKind::InvalidFormat, "bad timestamp"));
    };
    Ok(EngagementInvitation {
        catalog: str_of(&m, "Catalog").unwrap_or_default(),
        id: str_of(&m, "Id").unwrap_or_default(),
        arn: str_of(&m, "Arn").unwrap_or_default(),
        payload_type: str_of(&m, "PayloadType"),
        engagement_id: str_of(&m, "EngagementId"),
        engagement_title: str_of(&m, "EngagementTitle"),
        status: str_of(&m, "Status").unwrap_or_else(|| status::PENDING.to_owned()),
        invitation_date,
        expiration_date,
        sender_aws_account_id: str_of(&m, "SenderAwsAccountId"),
        sender_company_name: str_of(&m, "SenderCompanyName"),
        receiver: m.get("Receiver").cloned(),
        participant_type: str_of(&m, "ParticipantType").unwrap_or_else(|| participant::RECEIVER.to_owned()),
        rejection_reason: str_of(&m, "RejectionReason"),
        payload: m.get("Payload").cloned(),
        invitation_message: str_of(&m, "InvitationMessage"),
        engagement_description: str_of(&m, "EngagementDescription"),
        existing_members: m.get("ExistingMembers").cloned(),
        enrichment_context: m.get("EnrichmentContext").cloned(),
        task_plan,
    })
}

/// Validate and convert an `EmulatorTaskOutcome` member:
/// `{"ReasonCode"?: <model ReasonCode>, "Message"?: string, "DelaySeconds"?: whole number ≥ 0}`.
pub fn parse_task_plan(models: &Models, plan: &Value) -> Result<TaskPlan, Vec<Violation>> {
    let path = |k: &str| format!("{TASK_PLAN_MEMBER}.{k}");
    let Some(obj) = plan.as_object() else {
        return Err(vec![Violation {
            path: TASK_PLAN_MEMBER.to_owned(),
            kind: ViolationKind::InvalidType,
            message: "expected a JSON object {\"ReasonCode\"?, \"Message\"?, \"DelaySeconds\"?}".into(),
        }]);
    };
    let mut violations = Vec::new();
    let mut out = TaskPlan::default();
    for (k, v) in obj {
        match k.as_str() {
            _ if v.is_null() => {}
            "ReasonCode" => {
                let mut vs = models.selling.validate("ReasonCode", v, Direction::Output);
                for x in &mut vs {
                    x.path = path(k);
                }
                violations.extend(vs);
                out.reason_code = v.as_str().map(str::to_owned);
            }
            "Message" => match v.as_str() {
                Some(s) => out.message = Some(s.to_owned()),
                None => violations.push(Violation {
                    path: path(k),
                    kind: ViolationKind::InvalidType,
                    message: "expected a JSON string".into(),
                }),
            },
            "DelaySeconds" => match v.as_u64() {
                Some(n) => out.delay_seconds = Some(n),
                None => violations.push(Violation {
                    path: path(k),
                    kind: ViolationKind::InvalidType,
                    message: "expected a whole number of seconds (0 or more)".into(),
                }),
            },
            _ => violations.push(Violation {
                path: path(k),
                kind: ViolationKind::UnknownMember,
                message: "not one of ReasonCode, Message, DelaySeconds".into(),
            }),
        }
    }
    if violations.is_empty() { Ok(out) } else { Err(violations) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Ts {
        parse_ts("2026-11-20T10:00:00Z").expect("ts")
    }

    #[test]
    fn minimal_entries_get_documented_defaults() {
        let models = Models::shared().expect("models");
        let doc = SeedDocument::from_json(
            r#"{"ConnectionInvitations": [{
                "Catalog": "AWS", "Id": "pacinv-0000000000001", "ConnectionType": "SUBSIDIARY",
                "CreatedAt": "2026-11-01T00:00:00Z", "OtherParticipantIdentifier": "123456789012",
                "ParticipantType": "RECEIVER", "Status": "PENDING", "InvitationMessage": "Hello",
                "InviterEmail": "ann@example.com", "InviterName": "Ann"}],
               "EngagementInvitations": [{"Catalog": "Sandbox", "Id": "engi-0000000000001"}]}"#,
        )
        .expect("json");
        let data = doc.load(models, now()).expect("valid");
        let c = &data.connection_invitations[0];
        assert_eq!(c.updated_at, c.created_at);
        assert_eq!(c.expires_at.map(|t| crate::clock::fmt_ts(&t)).as_deref(), Some("2026-11-16T00:00:00Z"));
        assert!(c.arn.ends_with("::catalog/AWS/connection-invitation/pacinv-0000000000001"), "{}", c.arn);
        let e = &data.engagement_invitations[0];
        assert_eq!(e.status, "PENDING");
        assert_eq!(e.participant_type, "RECEIVER");
        assert_eq!(e.invitation_date, now());
        assert_eq!(e.expiration_date, now() + Duration::days(15));
        assert_eq!(e.arn, "arn:aws:partnercentral:us-east-1::catalog/Sandbox/engagement-invitation/engi-0000000000001");
    }

    #[test]
    fn errors_name_entry_and_member() {
        let models = Models::shared().expect("models");
        let doc = SeedDocument::from_json(
            r#"{"ConnectionInvitations": [{
                "Catalog": "AWS", "Id": "pacinv-0000000000001", "ConnectionType": "SUBSIDIARY",
                "CreatedAt": "2026-11-01T00:00:00Z", "OtherParticipantIdentifier": "123456789012",
                "ParticipantType": "RECEIVER", "Status": "PENDING", "InvitationMessage": "Hello",
                "InviterEmail": "not-an-email", "InviterName": "Ann"}],
               "EngagementInvitations": [{"Catalog": "AWS", "Id": "engi-0000000000001"},
                                         {"Catalog": "AWS", "Id": "engi-0000000000002", "Status": "CANCELED", "Bogus": 1}]}"#,
        )
        .expect("json");
        let Err(SeedError::Invalid(v)) = doc.load(models, now()) else {
            panic!("seed must be refused");
        };
        let paths: Vec<&str> = v.iter().map(|x| x.path.as_str()).collect();
        assert!(paths.contains(&"ConnectionInvitations[0].InviterEmail"), "{paths:?}");
        assert!(paths.contains(&"EngagementInvitations[1].Status"), "{paths:?}");
        assert!(paths.contains(&"EngagementInvitations[1].Bogus"), "{paths:?}");
        assert_eq!(v.len(), 3, "{v:?}");
    }
}
