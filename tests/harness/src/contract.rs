//! Checking delivered events against the event contract's checked-in JSON Schema.

use serde_json::{Value, json};

use crate::process::workspace_root;
use crate::{Error, Result};

/// The account id filled in for moto's deliveries (see [`check_events`]).
pub const STAND_IN_ACCOUNT: &str = "123456789012";

/// Validate each event, as the consumer queue received it, against
/// `schemas/invitation-event.v1.json`. moto leaves the envelope's `account` out of what it
/// delivers (EventBridge always sets it; nothing a function produces), so it is filled in
/// when missing; everything else is checked as delivered.
pub fn check_events(events: &[Value]) -> Result<()> {
    let path = workspace_root().join("schemas").join("invitation-event.v1.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    let schema: Value = serde_json::from_str(&text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| Error::msg(format!("schema: {e}")))?;
    for event in events {
        let mut event = event.clone();
        if let Some(envelope) = event.as_object_mut() {
            envelope.entry("account").or_insert(json!(STAND_IN_ACCOUNT));
        }
        let errors: Vec<String> = validator.iter_errors(&event).map(|e| e.to_string()).collect();
        if !errors.is_empty() {
            return Err(Error::msg(format!("event does not match the contract: {errors:?}\n{event}")));
        }
    }
    Ok(())
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
