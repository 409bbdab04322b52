//! JSON Schemas of event contract v1: generated in the contract crate
//! ([`invitation_events::schema`]) from its types, checked in under `schemas/` (draft 2020-12)
//! and `schemas/registry/` (draft-04, one per detail-type, for EventBridge's schema registry).
//! The contract crate's tests fail when a checked-in file is stale; `make schemas` rewrites
//! them.

pub use invitation_events::envelope::{ReceivedDigestEvent, ReceivedEvent, ReceivedInvitationEvent};
pub use invitation_events::schema::*;

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::DetailType;

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
        let digest = serde_json::to_value(
            ExpiringDigest::new(inv.catalog, 72, now, std::slice::from_ref(&inv), Default::default()).detail,
        )
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
