//! JSON Schemas of event contract v1, derived from the Rust types (schemars) and checked in
//! under `schemas/` for consumers. A test fails when the checked-in files are stale;
//! `make schemas` rewrites them.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::{DetailType, InvitationEventDetail};

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

/// Every checked-in schema: file name under `schemas/` and its content.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "invitation-event-detail.v1.json",
            serde_json::to_value(schemars::schema_for!(InvitationEventDetail)).unwrap_or_default(),
        ),
        (
            "invitation-event.v1.json",
            serde_json::to_value(schemars::schema_for!(ReceivedInvitationEvent)).unwrap_or_default(),
        ),
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
        let schema = serde_json::to_string(&schemars::schema_for!(ReceivedInvitationEvent)).unwrap_or_default();
        for d in DetailType::ALL {
            assert!(schema.contains(d.as_str()), "{d} missing from the schema");
        }
    }
}
