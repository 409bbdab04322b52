//! What an invocation may say: nothing (an EventBridge scheduled-rule event, or an
//! EventBridge Scheduler payload such as `{}`), or `{"dryRun": true}` to force a dry run.
//! No payload can turn a dry-run policy into real cancellations.

use serde::Deserialize;
use serde_json::Value;
use shared::invocation::{InputError, RunOptions, parse_invocation};

/// What started the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An EventBridge scheduled rule.
    ScheduledRule,
    /// EventBridge Scheduler or a manual invoke (a JSON object of options).
    Payload,
}

/// The parsed invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    pub trigger: Trigger,
    /// `dryRun` of the payload, when given.
    pub dry_run: Option<bool>,
}

impl Invocation {
    /// No override: what the policy says.
    pub fn scheduled() -> Self {
        Invocation { trigger: Trigger::ScheduledRule, dry_run: None }
    }

    pub fn with_dry_run(dry_run: bool) -> Self {
        Invocation { trigger: Trigger::Payload, dry_run: Some(dry_run) }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Options {
    #[serde(default)]
    dry_run: Option<bool>,
}

impl RunOptions for Options {
    const EXAMPLE: &'static str = "{\"dryRun\": true}";
}

/// Parse an invocation payload (the shapes every function accepts, `shared::invocation`).
pub fn parse_input(payload: &Value) -> Result<Invocation, InputError> {
    let invocation = parse_invocation::<Options>(payload)?;
    let trigger = match invocation.trigger {
        shared::invocation::Trigger::ScheduledRule { .. } => Trigger::ScheduledRule,
        shared::invocation::Trigger::Payload => Trigger::Payload,
    };
    Ok(Invocation { trigger, dry_run: invocation.options.dry_run })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn events_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events")
    }

    fn event_file(name: &str) -> Value {
        let text = std::fs::read_to_string(events_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn the_sample_events_parse() {
        assert_eq!(parse_input(&event_file("auto-cancel-scheduled.json")), Ok(Invocation::scheduled()));
        assert_eq!(parse_input(&event_file("auto-cancel-dry-run.json")), Ok(Invocation::with_dry_run(true)));
    }

    #[test]
    fn scheduler_payloads_and_empty_input_mean_no_override() {
        for payload in [json!({}), Value::Null] {
            assert_eq!(parse_input(&payload).map(|i| i.dry_run), Ok(None), "{payload}");
        }
        assert_eq!(parse_input(&json!({"dryRun": false})).map(|i| i.dry_run), Ok(Some(false)));
    }

    #[test]
    fn unknown_options_are_named() {
        let m = parse_input(&json!({"dryrun": true})).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("unknown field `dryrun`") && m.contains("dryRun"), "{m}");
        let m = parse_input(&json!({"dryRun": "yes"})).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("dryRun: invalid type"), "{m}");
        let m = parse_input(&json!([1])).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("expected a JSON object, got an array"), "{m}");
    }

    #[test]
    fn only_scheduled_events_are_accepted_from_eventbridge() {
        let mut event = event_file("auto-cancel-scheduled.json");
        event["detail-type"] = json!("Connection Invitation Created");
        let m = parse_input(&event).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("\"Connection Invitation Created\""), "{m}");
    }
}
