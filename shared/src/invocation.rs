//! The invocation payload, parsed the same way for every function. Accepted:
//! - `null` or `{}`: run with the configured settings;
//! - an object of the function's options (a manual invoke, or an EventBridge Scheduler
//!   schedule's `Input`), each function declaring its own [`RunOptions`]; an unknown option
//!   is rejected by name, a bad value with its path;
//! - a classic EventBridge scheduled-rule event (`"detail-type": "Scheduled Event"`): its
//!   content is ignored.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The `detail-type` of EventBridge scheduled-rule events.
pub const SCHEDULED_EVENT: &str = "Scheduled Event";

/// A function's run options: what a payload object may carry. Implementations derive
/// `Deserialize` with `deny_unknown_fields`, so an unknown option is named in the error.
pub trait RunOptions: DeserializeOwned + Default {
    /// The options in the error message, e.g. `{"dryRun": true}`.
    const EXAMPLE: &'static str;
}

/// What started the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A classic EventBridge scheduled rule: its ARN and the event's id (one per firing, the
    /// same on Lambda's retries of it), when given.
    ScheduledRule { rule: Option<String>, event_id: Option<String> },
    /// EventBridge Scheduler, or a manual invoke: `null` or an object of options.
    Payload,
}

/// A parsed invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation<Options> {
    pub trigger: Trigger,
    /// The payload's options (the defaults for a scheduled-rule event).
    pub options: Options,
}

/// A payload that is none of the accepted shapes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid invoke payload: {problem} (accepted: an EventBridge scheduled-rule event, {{}} or {example})")]
pub struct InputError {
    /// What was wrong.
    pub problem: String,
    /// The function's options, as in [`RunOptions::EXAMPLE`].
    pub example: &'static str,
}

/// Parse an invocation payload into the function's options.
pub fn parse_invocation<Options: RunOptions>(payload: &Value) -> Result<Invocation<Options>, InputError> {
    let fail = |problem: String| InputError { problem, example: Options::EXAMPLE };
    match payload {
        Value::Null => Ok(Invocation { trigger: Trigger::Payload, options: Options::default() }),
        Value::Object(map) if map.contains_key("detail-type") => {
            let event: EventBridgeEvent<Value> =
                serde_json::from_value(payload.clone()).map_err(|e| fail(format!("not an EventBridge event: {e}")))?;
            if event.detail_type != SCHEDULED_EVENT {
                return Err(fail(format!(
                    "an EventBridge event with detail-type {:?}, not {SCHEDULED_EVENT:?}",
                    event.detail_type
                )));
            }
            tracing::debug!(source = %event.source, "scheduled invocation");
            let rule = event.resources.unwrap_or_default().into_iter().next();
            let trigger = Trigger::ScheduledRule { rule, event_id: event.id };
            Ok(Invocation { trigger, options: Options::default() })
        }
        Value::Object(_) => {
            let options = serde_path_to_error::deserialize(payload).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                fail(if path == "." { inner } else { format!("{path}: {inner}") })
            })?;
            Ok(Invocation { trigger: Trigger::Payload, options })
        }
        other => Err(fail(format!("expected a JSON object, got {}", json_type(other)))),
    }
}

/// What a JSON value is, for error messages ("an array", "a string", ...).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, PartialEq, Eq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Options {
        #[serde(default)]
        dry_run: Option<bool>,
    }

    impl RunOptions for Options {
        const EXAMPLE: &'static str = "{\"dryRun\": true}";
    }

    fn parse(payload: Value) -> Result<Invocation<Options>, InputError> {
        parse_invocation(&payload)
    }

    fn message(payload: Value) -> String {
        parse(payload).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn scheduled_events_null_and_empty_objects_mean_the_defaults() {
        let scheduled = json!({
            "version": "0", "id": "c0b4", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-20T12:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/x"], "detail": {}
        });
        let rule = Some("arn:aws:events:us-east-1:123456789012:rule/x".to_owned());
        assert_eq!(
            parse(scheduled),
            Ok(Invocation {
                trigger: Trigger::ScheduledRule { rule, event_id: Some("c0b4".to_owned()) },
                options: Options::default()
            })
        );
        for payload in [json!({}), Value::Null] {
            assert_eq!(parse(payload), Ok(Invocation { trigger: Trigger::Payload, options: Options::default() }));
        }
        assert_eq!(parse(json!({"dryRun": true})).map(|i| i.options.dry_run), Ok(Some(true)));
    }

    #[test]
    fn bad_payloads_name_what_was_wrong_and_what_is_accepted() {
        let m = message(json!({"dryrun": true}));
        assert!(m.contains("unknown field `dryrun`") && m.contains("dryRun") && m.contains("scheduled-rule"), "{m}");
        let m = message(json!({"dryRun": "yes"}));
        assert!(m.contains("dryRun: invalid type"), "{m}");
        let m = message(json!([1]));
        assert!(m.contains("expected a JSON object, got an array"), "{m}");
        let m = message(json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}));
        assert!(m.contains("\"Object Created\""), "{m}");
        let m = message(json!({"detail-type": "Scheduled Event"}));
        assert!(m.contains("not an EventBridge event"), "{m}");
    }
}
