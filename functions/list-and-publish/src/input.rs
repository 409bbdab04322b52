//! What an invocation can ask for. Three shapes arrive:
//! - an EventBridge scheduled-rule event (`"detail-type": "Scheduled Event"`): its content is
//!   ignored;
//! - an EventBridge Scheduler payload: the schedule's `Input`, `{}` by default;
//! - a manual invoke with options: `{"mode": "full"}` forces a full reconciliation.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde_json::Value;

/// The options a manual invoke (or a Scheduler `Input`) may carry.
pub const ACCEPTED_OPTIONS: &str = "mode";
const ACCEPTED_MODES: &str = "\"auto\", \"full\"";

/// How much to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestedMode {
    /// Incremental, unless a full reconciliation is due (or this is the first run).
    #[default]
    Auto,
    /// A full reconciliation now.
    Full,
}

/// A payload this function cannot act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("unknown option {field:?} in the invoke payload (accepted: {ACCEPTED_OPTIONS})")]
    UnknownOption { field: String },
    #[error("option \"mode\" is {value} (accepted: {ACCEPTED_MODES})")]
    BadMode { value: String },
    #[error(
        "the invoke payload is {found}, not a JSON object (accepted: a scheduled event, {{}} or {{\"mode\": \"full\"}})"
    )]
    NotAnObject { found: &'static str },
    #[error("the payload looks like an EventBridge event but is not one: {message}")]
    BadEvent { message: String },
}

/// Read the invocation payload.
pub fn parse_request(payload: &Value) -> Result<RequestedMode, InputError> {
    let object = match payload {
        Value::Null => return Ok(RequestedMode::Auto),
        Value::Object(o) => o,
        Value::Bool(_) => return Err(InputError::NotAnObject { found: "a boolean" }),
        Value::Number(_) => return Err(InputError::NotAnObject { found: "a number" }),
        Value::String(_) => return Err(InputError::NotAnObject { found: "a string" }),
        Value::Array(_) => return Err(InputError::NotAnObject { found: "an array" }),
    };
    if object.contains_key("detail-type") {
        // A scheduled-rule event: typed to be sure it is one; the detail is ignored.
        let event: EventBridgeEvent<Value> =
            serde_json::from_value(payload.clone()).map_err(|e| InputError::BadEvent { message: e.to_string() })?;
        tracing::debug!(detail_type = %event.detail_type, source = %event.source, "scheduled invocation");
        return Ok(RequestedMode::Auto);
    }
    let mut mode = RequestedMode::Auto;
    for (field, value) in object {
        match field.as_str() {
            "mode" => {
                mode = match value.as_str() {
                    Some("auto") => RequestedMode::Auto,
                    Some("full") => RequestedMode::Full,
                    _ => return Err(InputError::BadMode { value: value.to_string() }),
                }
            }
            _ => return Err(InputError::UnknownOption { field: field.clone() }),
        }
    }
    Ok(mode)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scheduled_events_and_empty_payloads_run_in_auto_mode() {
        let scheduled = json!({
            "version": "0", "id": "c0b4", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-20T12:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/x"], "detail": {}
        });
        assert_eq!(parse_request(&scheduled), Ok(RequestedMode::Auto));
        assert_eq!(parse_request(&json!({})), Ok(RequestedMode::Auto));
        assert_eq!(parse_request(&Value::Null), Ok(RequestedMode::Auto));
        assert_eq!(parse_request(&json!({"mode": "auto"})), Ok(RequestedMode::Auto));
    }

    #[test]
    fn mode_full_forces_a_full_reconciliation() {
        assert_eq!(parse_request(&json!({"mode": "full"})), Ok(RequestedMode::Full));
    }

    #[test]
    fn bad_payloads_name_what_was_wrong() {
        let e = parse_request(&json!({"mode": "full", "dryRun": true})).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|m| m.contains("\"dryRun\"") && m.contains("accepted: mode")), "{e:?}");
        let e = parse_request(&json!({"mode": "everything"})).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|m| m.contains("\"everything\"") && m.contains("\"full\"")), "{e:?}");
        let e = parse_request(&json!({"mode": 1})).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|m| m.contains("mode") && m.contains('1')), "{e:?}");
        let e = parse_request(&json!(["full"])).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|m| m.contains("an array")), "{e:?}");
        let e = parse_request(&json!({"detail-type": "Scheduled Event"})).err();
        assert!(matches!(e, Some(InputError::BadEvent { .. })), "{e:?}");
    }
}
