//! Checking delivered events against the event contract's checked-in registry schemas.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use invitation_events::DetailType;
use invitation_events::schema::registry_file_name;
use serde_json::{Value, json};

use crate::process::workspace_root;
use crate::{Error, Result};

/// The account id filled in for moto's deliveries (see [`check_events`]).
pub const STAND_IN_ACCOUNT: &str = "123456789012";

/// Validate each event, as the consumer queue received it, with a draft-04 validator against
/// the schema its detail-type has in the stack's EventBridge schema registry
/// (`schemas/registry/<detail-type>.json`, type `JSONSchemaDraft4`). moto leaves the
/// envelope's `account` out of what it delivers (EventBridge always sets it; nothing a
/// function produces), so it is filled in when missing; everything else is checked as
/// delivered. An event whose detail-type is not the contract's fails.
pub fn check_events(events: &[Value]) -> Result<()> {
    let mut validators: BTreeMap<DetailType, jsonschema::Validator> = BTreeMap::new();
    for event in events {
        let named = event["detail-type"].as_str().unwrap_or_default();
        let detail_type = DetailType::parse(named)
            .ok_or_else(|| Error::msg(format!("detail-type {named:?} is not the contract's\n{event}")))?;
        let validator = match validators.entry(detail_type) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => new.insert(registry_validator(detail_type)?),
        };
        let mut event = event.clone();
        if let Some(envelope) = event.as_object_mut() {
            envelope.entry("account").or_insert(json!(STAND_IN_ACCOUNT));
        }
        let errors: Vec<String> =
            validator.iter_errors(&event).map(|e| format!("{}: {e}", e.instance_path())).collect();
        if !errors.is_empty() {
            return Err(Error::msg(format!("event does not match the \"{detail_type}\" schema: {errors:?}\n{event}")));
        }
    }
    Ok(())
}

/// The draft-04 validator of `detail_type`'s registry document.
fn registry_validator(detail_type: DetailType) -> Result<jsonschema::Validator> {
    let path = workspace_root().join("schemas").join("registry").join(registry_file_name(detail_type));
    let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    let schema: Value = serde_json::from_str(&text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    jsonschema::draft4::new(&schema).map_err(|e| Error::msg(format!("{}: {e}", path.display())))
}

/// The strings of a JSON array (e.g. a summary's list of invitation ids); empty otherwise.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// Owned copies, to compare with [`strings`].
pub fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// (detail-type, invitation, cause rule or `-`) of each event, sorted: what a policy run
/// published, in a comparable form.
pub fn digest(events: &[Value]) -> Vec<(String, String, String)> {
    let mut d: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e["detail-type"].as_str().unwrap_or_default().to_owned(),
                e["detail"]["invitationId"].as_str().unwrap_or_default().to_owned(),
                e["detail"]["cause"]["rule"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    d.sort();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(detail_type: DetailType) -> Value {
        let path = workspace_root().join("schemas").join("samples").join(format!("{}.json", detail_type.slug()));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn every_detail_types_sample_passes_and_a_broken_or_foreign_event_fails() {
        let mut events: Vec<Value> = DetailType::ALL.into_iter().map(sample).collect();
        // As moto delivers them: no account.
        for e in &mut events {
            e.as_object_mut().map(|o| o.remove("account"));
        }
        check_events(&events).unwrap_or_else(|e| panic!("{e}"));

        let mut digest_as_warning = sample(DetailType::InvitationsExpiringDigest);
        digest_as_warning["detail-type"] = json!("Engagement Invitation Expiring Soon");
        let err = check_events(&[digest_as_warning]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("\"Engagement Invitation Expiring Soon\" schema"), "{err}");

        let mut foreign = sample(DetailType::EngagementInvitationCreated);
        foreign["detail-type"] = json!("Opportunity Created");
        let err = check_events(&[foreign]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("\"Opportunity Created\" is not the contract's"), "{err}");
    }
}
