//! What an invocation can carry: an EventBridge scheduled-rule event, an EventBridge
//! Scheduler payload (the schedule's `Input`; `{}` by default), or a manual invoke with the
//! options below. Unknown options are rejected by name.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

/// Options of one run (a manual invoke, or a Scheduler schedule's `Input`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunOptions {
    /// Publish the digest on this run (`true`) or not (`false`), whatever `DIGEST` says.
    /// E.g. an hourly schedule without it, and a morning schedule with `{"digest": true}`.
    #[serde(default)]
    pub digest: Option<bool>,
}

/// What triggered the run.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// An EventBridge scheduled rule (`"detail-type": "Scheduled Event"`).
    ScheduledRule { rule: Option<String> },
    /// A Scheduler payload or a manual invoke.
    Invoke(RunOptions),
}

impl Trigger {
    pub fn options(&self) -> RunOptions {
        match self {
            Trigger::ScheduledRule { .. } => RunOptions::default(),
            Trigger::Invoke(options) => options.clone(),
        }
    }
}

/// The payload was not one of the accepted shapes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid invoke payload: {problem} (accepted: an EventBridge scheduled-rule event, {{}}, or {{\"digest\": true|false}})"
)]
pub struct InputError {
    pub problem: String,
}

/// Read the invocation payload.
pub fn parse_trigger(payload: Value) -> Result<Trigger, InputError> {
    if payload.is_null() {
        return Ok(Trigger::Invoke(RunOptions::default()));
    }
    if payload.get("detail-type").is_some() {
        let event: EventBridgeEvent<Value> =
            serde_json::from_value(payload).map_err(|e| InputError { problem: e.to_string() })?;
        if event.detail_type != "Scheduled Event" {
            return Err(InputError {
                problem: format!(
                    "an EventBridge event with detail-type {:?}, not \"Scheduled Event\"",
                    event.detail_type
                ),
            });
        }
        let rule = event.resources.unwrap_or_default().into_iter().next();
        return Ok(Trigger::ScheduledRule { rule });
    }
    if !payload.is_object() {
        return Err(InputError { problem: format!("expected a JSON object, got {payload}") });
    }
    serde_json::from_value(payload).map(Trigger::Invoke).map_err(|e| InputError { problem: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_scheduled_rule_event_runs_with_the_configured_options() {
        let event = json!({
            "version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "111122223333", "time": "2026-11-20T09:00:00Z",
            "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:111122223333:rule/hourly"], "detail": {}
        });
        let t = parse_trigger(event).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t,
            Trigger::ScheduledRule { rule: Some("arn:aws:events:us-east-1:111122223333:rule/hourly".into()) }
        );
        assert_eq!(t.options(), RunOptions::default());
    }

    #[test]
    fn scheduler_and_manual_payloads_carry_options() {
        assert_eq!(parse_trigger(json!({})), Ok(Trigger::Invoke(RunOptions::default())));
        assert_eq!(parse_trigger(Value::Null), Ok(Trigger::Invoke(RunOptions::default())));
        assert_eq!(parse_trigger(json!({"digest": true})), Ok(Trigger::Invoke(RunOptions { digest: Some(true) })));
    }

    #[test]
    fn unknown_options_and_other_shapes_are_rejected_by_name() {
        let m = parse_trigger(json!({"digets": true})).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("unknown field `digets`") && m.contains("digest"), "{m}");
        let m = parse_trigger(json!({"digest": "yes"})).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("invalid type") && m.contains("boolean"), "{m}");
        let m = parse_trigger(json!([1])).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("expected a JSON object"), "{m}");
        let other = json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}});
        let m = parse_trigger(other).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("\"Object Created\""), "{m}");
    }
}
