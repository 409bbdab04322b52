//! The sweeper's run options. The payload shapes (EventBridge scheduled-rule event,
//! Scheduler `Input`, manual invoke) are parsed by `shared::invocation`, as for every
//! function.

use serde::Deserialize;
#[cfg(test)]
use shared::invocation::Invocation;
use shared::invocation::Trigger;

/// Options of one run (a manual invoke, or a Scheduler schedule's `Input`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunOptions {
    /// Publish the digest on this run (`true`) or not (`false`), whatever `DIGEST` says.
    /// E.g. an hourly schedule without it, and a morning schedule with `{"digest": true}`.
    #[serde(default)]
    pub digest: Option<bool>,
}

impl shared::invocation::RunOptions for RunOptions {
    const EXAMPLE: &'static str = "{\"digest\": true|false}";
}

/// A manual invoke (or Scheduler payload) with these options.
#[cfg(test)]
pub(crate) fn invoke(options: RunOptions) -> Invocation<RunOptions> {
    Invocation { trigger: Trigger::Payload, options }
}

/// A classic scheduled-rule event.
#[cfg(test)]
pub(crate) fn scheduled() -> Invocation<RunOptions> {
    Invocation { trigger: Trigger::ScheduledRule { rule: None, event_id: None }, options: RunOptions::default() }
}

/// The summary's `trigger`: `scheduledRule` or `invoke`.
pub(crate) fn trigger_name(trigger: &Trigger) -> &'static str {
    match trigger {
        Trigger::ScheduledRule { .. } => "scheduledRule",
        Trigger::Payload => "invoke",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use shared::invocation::{InputError, parse_invocation};

    use super::*;

    fn parse_trigger(payload: Value) -> Result<Invocation<RunOptions>, InputError> {
        parse_invocation(&payload)
    }

    #[test]
    fn a_scheduled_rule_event_runs_with_the_configured_options() {
        let event = json!({
            "version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "111122223333", "time": "2026-11-20T09:00:00Z",
            "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:111122223333:rule/hourly"], "detail": {}
        });
        let t = parse_trigger(event).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.trigger,
            Trigger::ScheduledRule {
                rule: Some("arn:aws:events:us-east-1:111122223333:rule/hourly".into()),
                event_id: Some("89d1a02d-5ec7-412e-82f5-13505f849b41".into())
            }
        );
        assert_eq!(t.options, RunOptions::default());
    }

    #[test]
    fn scheduler_and_manual_payloads_carry_options() {
        assert_eq!(parse_trigger(json!({})), Ok(invoke(RunOptions::default())));
        assert_eq!(parse_trigger(Value::Null), Ok(invoke(RunOptions::default())));
        assert_eq!(parse_trigger(json!({"digest": true})), Ok(invoke(RunOptions { digest: Some(true) })));
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
