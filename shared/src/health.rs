//! The health check: what a deployed function proves about its own wiring when invoked with
//! the check payload `{"healthCheck": true}` (`make smoke`), handled once, before any
//! function's own payload parsing ([`crate::entry::serve`]).
//!
//! Each check is one call the function makes in real runs — a page of each Partner Central
//! API it uses, a conditional write that changes nothing and a read of a health item in its
//! table, one `Health Check` event on its bus — and ends ok, denied (the IAM action named
//! from the AccessDenied message, and what to fix) or failed. Nothing a user cares about
//! changes: the write's condition never holds, and consumers' patterns leave `Health Check`
//! out.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::{Catalog, DetailType, OutboundEvent, SCHEMA_VERSION};
pub use invitation_events::HealthCheckDetail;

/// The payload member that asks for the health check.
pub const HEALTH_CHECK_KEY: &str = "healthCheck";

/// Whether `payload` is the check payload: an object with `"healthCheck": true`.
pub fn is_health_check(payload: &Value) -> bool {
    payload.get(HEALTH_CHECK_KEY) == Some(&Value::Bool(true))
}

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Outcome {
    /// The call was allowed and answered as expected.
    Ok { detail: String },
    /// AWS refused the call: `action` is the IAM action the message names (or the one the
    /// call needs), `fix` what to do.
    Denied { action: String, message: String, fix: String },
    /// Anything else (unreachable endpoint, missing table or bus, validation).
    Failed { message: String },
}

/// One check of one function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// What was checked, e.g. `Partner Central Account API`, `state table write`.
    pub check: String,
    /// The IAM action the call needs, e.g. `partnercentral:ListConnectionInvitations`.
    pub action: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Check {
    pub fn ok(check: &str, action: &str, detail: impl Into<String>) -> Self {
        Check { check: check.into(), action: action.into(), outcome: Outcome::Ok { detail: detail.into() } }
    }

    pub fn failed(check: &str, action: &str, message: impl Into<String>) -> Self {
        Check { check: check.into(), action: action.into(), outcome: Outcome::Failed { message: message.into() } }
    }

    /// Denied: the action named in `message` (AWS's "… is not authorized to perform: <action>
    /// on resource …"), else the call's own.
    pub fn denied(check: &str, action: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let named = denied_action(&message).unwrap_or_else(|| action.to_owned());
        let fix = format!(
            "allow {named} to the function's role: redeploy the stack from this template (its policies grant it), \
             and check the account's permissions boundaries and SCPs for a deny of {named}"
        );
        Check { check: check.into(), action: action.into(), outcome: Outcome::Denied { action: named, message, fix } }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self.outcome, Outcome::Ok { .. })
    }
}

/// The IAM action an AccessDenied message names: AWS writes "User: <arn> is not authorized
/// to perform: <service>:<Action> on resource: …".
pub fn denied_action(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("perform: ")?;
    let action: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-').collect();
    action.contains(':').then_some(action)
}

/// What a function returns for the check payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    pub function: String,
    pub catalog: Catalog,
    /// Every check ok.
    pub healthy: bool,
    pub checks: Vec<Check>,
}

impl HealthReport {
    pub fn new(function: &str, catalog: Catalog, checks: Vec<Check>) -> Self {
        HealthReport { function: function.into(), catalog, healthy: checks.iter().all(Check::is_ok), checks }
    }
}

/// The `Health Check` event `function` puts on its bus for the invocation `request_id`.
pub fn health_check_event(
    function: &str,
    catalog: Catalog,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<OutboundEvent, serde_json::Error> {
    let mut h = Sha256::new();
    for part in ["v1", "health", catalog.as_str(), function, request_id] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    let detail = HealthCheckDetail {
        schema_version: SCHEMA_VERSION.to_owned(),
        event_id: hex::encode(&h.finalize()[..16]),
        catalog,
        function: function.to_owned(),
        checked_at: now,
    };
    Ok(OutboundEvent {
        event_id: detail.event_id.clone(),
        detail_type: DetailType::HealthCheck.as_str().to_owned(),
        detail: serde_json::to_string(&detail)?,
        resources: Vec::new(),
        time: now,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_check_payload_is_a_health_check() {
        assert!(is_health_check(&json!({"healthCheck": true})));
        for other in [json!({}), json!(null), json!({"healthCheck": "yes"}), json!({"dryRun": true}), json!([true])] {
            assert!(!is_health_check(&other), "{other}");
        }
    }

    #[test]
    fn a_denial_names_the_action_from_aws_message() {
        let message = "User: arn:aws:sts::111122223333:assumed-role/s-ListAndPublishRole/s-list-and-publish is not \
                       authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:111122223333:table/s-state \
                       because no identity-based policy allows the dynamodb:UpdateItem action";
        let check = Check::denied("state table write", "dynamodb:UpdateItem", message);
        let Outcome::Denied { action, fix, .. } = &check.outcome else { panic!("{check:?}") };
        assert_eq!(action, "dynamodb:UpdateItem");
        assert!(fix.contains("dynamodb:UpdateItem"), "{fix}");
        // A message without the form: the call's own action.
        let check = Check::denied("bus", "events:PutEvents", "Access denied");
        assert!(matches!(&check.outcome, Outcome::Denied { action, .. } if action == "events:PutEvents"));
        assert!(!HealthReport::new("f", Catalog::Sandbox, vec![check]).healthy);
    }

    #[test]
    fn the_health_check_event_is_a_health_check_of_the_contract() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        let event = health_check_event("auto-cancel", Catalog::Sandbox, "req-1", now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(event.detail_type, "Health Check");
        let detail = invitation_events::Detail::parse(
            &event.detail_type,
            serde_json::from_str(&event.detail).unwrap_or_default(),
        );
        assert!(matches!(detail, Ok(invitation_events::Detail::Health(d)) if d.function == "auto-cancel"));
        let again = health_check_event("auto-cancel", Catalog::Sandbox, "req-2", now).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(event.event_id, again.event_id, "one per check");
    }
}
