//! JSON Schemas of event contract v1, derived from the Rust types (schemars) and checked in
//! under `schemas/` for consumers. A test fails when the checked-in files are stale;
//! `make schemas` rewrites them.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::{DetailType, ExpiringDigestDetail, InvitationEventDetail};

/// Anything our source puts on the bus: an invitation event or the expiring digest, told
/// apart by `detail-type` (each variant pins its own detail-types).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(
    title = "InvitationEvent",
    description = "An event as delivered by EventBridge (event contract v1): an invitation event, or the Invitations Expiring Digest"
)]
pub enum ReceivedEvent {
    Invitation(Box<ReceivedInvitationEvent>),
    Digest(Box<ReceivedDigestEvent>),
}

/// An invitation event as a consumer receives it from EventBridge (rule target, SQS, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "InvitationEvent",
    description = "An invitation event as delivered by EventBridge (event contract v1)"
)]
pub struct ReceivedInvitationEvent {
    pub version: String,
    /// EventBridge's own id of this delivery (differs between duplicates; use
    /// `detail.eventId` to de-duplicate).
    pub id: String,
    #[serde(rename = "detail-type")]
    #[schemars(schema_with = "invitation_detail_types")]
    pub detail_type: DetailType,
    /// The configured `EVENT_SOURCE` (default `partnercentral.invitations`).
    pub source: String,
    pub account: String,
    /// Observation time.
    pub time: DateTime<Utc>,
    pub region: String,
    /// `[invitation ARN]`.
    pub resources: Vec<String>,
    pub detail: InvitationEventDetail,
}

/// The expire-sweeper's digest as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "InvitationsExpiringDigestEvent",
    description = "The Invitations Expiring Digest as delivered by EventBridge (event contract v1)"
)]
pub struct ReceivedDigestEvent {
    pub version: String,
    /// EventBridge's own id of this delivery (use `detail.eventId` to de-duplicate).
    pub id: String,
    /// Always `Invitations Expiring Digest`.
    #[serde(rename = "detail-type")]
    #[schemars(schema_with = "digest_detail_type")]
    pub detail_type: DetailType,
    /// The configured `EVENT_SOURCE` (default `partnercentral.invitations`).
    pub source: String,
    pub account: String,
    /// When the digest was made.
    pub time: DateTime<Utc>,
    pub region: String,
    /// Empty: every listed invitation carries its ARN in the detail.
    pub resources: Vec<String>,
    pub detail: ExpiringDigestDetail,
}

/// The detail-types of invitation events (every one but the digest).
fn invitation_detail_types(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = DetailType::invitation_events().map(DetailType::as_str).collect();
    schemars::json_schema!({
        "description": "Detail-type of an invitation event.",
        "type": "string",
        "enum": names,
    })
}

fn digest_detail_type(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "const": DetailType::InvitationsExpiringDigest.as_str(),
    })
}

/// Every checked-in schema: file name under `schemas/` and its content.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "invitation-event-detail.v1.json",
            serde_json::to_value(schemars::schema_for!(InvitationEventDetail)).unwrap_or_default(),
        ),
        (
            "invitations-expiring-digest-detail.v1.json",
            serde_json::to_value(schemars::schema_for!(ExpiringDigestDetail)).unwrap_or_default(),
        ),
        // Every event on the bus, either kind: what consumers and the end-to-end tests validate.
        ("invitation-event.v1.json", serde_json::to_value(schemars::schema_for!(ReceivedEvent)).unwrap_or_default()),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn schemas_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("schemas")
    }

    /// `UPDATE_SCHEMAS=1` rewrites the files (what `make schemas` does); otherwise any
    /// difference fails with the file to regenerate.
    #[test]
    fn checked_in_schemas_are_current() {
        let update = std::env::var("UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
        for (name, schema) in all() {
            let path = schemas_dir().join(name);
            let rendered = serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n";
            if update {
                std::fs::create_dir_all(schemas_dir()).unwrap_or_else(|e| panic!("create schemas/: {e}"));
                std::fs::write(&path, &rendered).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
                continue;
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(on_disk == rendered, "schemas/{name} is stale: run `make schemas` and commit the result");
        }
    }

    #[test]
    fn the_envelope_schema_lists_every_detail_type() {
        let schema = serde_json::to_string(&schemars::schema_for!(ReceivedEvent)).unwrap_or_default();
        for d in DetailType::ALL {
            assert!(schema.contains(d.as_str()), "{d} missing from the schema");
        }
    }

    fn validator() -> jsonschema::Validator {
        let schema = serde_json::to_value(schemars::schema_for!(ReceivedEvent)).unwrap_or_default();
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"))
    }

    fn envelope(detail_type: &str, resources: serde_json::Value, detail: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": detail_type,
            "source": "partnercentral.invitations", "account": "111122223333", "time": "2026-11-20T09:00:00Z",
            "region": "us-east-1", "resources": resources, "detail": detail,
        })
    }

    fn sample_invitation() -> crate::domain::Invitation {
        use chrono::TimeZone;
        let created = Utc.with_ymd_and_hms(2026, 11, 8, 9, 0, 0).single().unwrap_or_default();
        crate::domain::Invitation {
            payload_type: Some("OpportunityInvitation".into()),
            engagement_title: Some("Migration".into()),
            ..crate::testing::engagement_invitation("engi-0000000000001", created)
        }
    }

    #[test]
    fn the_envelope_schema_accepts_each_detail_only_with_its_own_detail_types() {
        use crate::domain::{ExpiringDigest, InvitationEvent};
        let inv = sample_invitation();
        let now = inv.created_at + chrono::Duration::days(13);
        let warning = serde_json::to_value(InvitationEvent::expiring_soon(&inv, 72, now).detail).unwrap_or_default();
        let digest = serde_json::to_value(ExpiringDigest::new(inv.catalog, 72, now, std::slice::from_ref(&inv)).detail)
            .unwrap_or_default();
        let arn = serde_json::json!([inv.arn]);
        let v = validator();
        assert!(v.is_valid(&envelope("Engagement Invitation Expiring Soon", arn.clone(), warning.clone())));
        assert!(v.is_valid(&envelope("Invitations Expiring Digest", serde_json::json!([]), digest.clone())));
        assert!(!v.is_valid(&envelope("Invitations Expiring Digest", serde_json::json!([]), warning)));
        assert!(!v.is_valid(&envelope("Engagement Invitation Expiring Soon", arn, digest.clone())));
        assert!(!v.is_valid(&envelope("Invitations Expiring Someday", serde_json::json!([]), digest)));
    }
}
