//! What an invocation may say: nothing (an EventBridge scheduled-rule event, or an
//! EventBridge Scheduler payload such as `{}`), or `{"dryRun": true}` to force a dry run.
//! No payload can turn a dry-run policy into real cancellations.
//!
//! Which scheduled firing this is: the template's schedule passes
//! `{"scheduledTime": "<aws.scheduler.scheduled-time>"}`, the same on every retry of a firing
//! (Scheduler's and Lambda's); a scheduled-rule event carries its event `id`. The per-firing
//! cap of cancellations is counted under it.

use serde::Deserialize;
use serde_json::Value;
use shared::invocation::{InputError, RunOptions, Trigger, parse_invocation};

/// The parsed invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// `dryRun` of the payload, when given.
    pub(crate) dry_run: Option<bool>,
    /// The scheduled firing this invocation belongs to, when the payload says.
    pub(crate) firing: Option<String>,
}

#[cfg(test)]
impl Invocation {
    /// No override: what the policy says.
    pub(crate) fn scheduled() -> Self {
        Invocation { dry_run: None, firing: None }
    }

    pub(crate) fn with_dry_run(dry_run: bool) -> Self {
        Invocation { dry_run: Some(dry_run), firing: None }
    }

    /// The invocation as part of the scheduled firing `firing`.
    pub(crate) fn in_firing(self, firing: impl Into<String>) -> Self {
        Invocation { firing: Some(firing.into()), ..self }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Options {
    #[serde(default)]
    dry_run: Option<bool>,
    /// EventBridge Scheduler's `<aws.scheduler.scheduled-time>` of the firing.
    #[serde(default)]
    scheduled_time: Option<String>,
}

impl RunOptions for Options {
    const EXAMPLE: &'static str = "{\"dryRun\": true} (and \"scheduledTime\", which the schedule passes)";
}

/// Parse an invocation payload (the shapes every function accepts, `shared::invocation`).
pub(crate) fn parse_input(payload: &Value) -> Result<Invocation, InputError> {
    let invocation = parse_invocation::<Options>(payload)?;
    let event_id = match invocation.trigger {
        Trigger::ScheduledRule { event_id, .. } => event_id,
        Trigger::Payload => None,
    };
    let scheduled_time = match invocation.options.scheduled_time.map(|t| t.trim().to_owned()) {
        Some(t) if t.is_empty() => {
            return Err(InputError {
                problem: "scheduledTime: empty (accepted: the firing's scheduled time)".into(),
                example: Options::EXAMPLE,
            });
        }
        other => other,
    };
    let firing = scheduled_time.map(|t| format!("scheduled/{t}")).or_else(|| event_id.map(|id| format!("event/{id}")));
    Ok(Invocation { dry_run: invocation.options.dry_run, firing })
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
        let scheduled = parse_input(&event_file("auto-cancel-scheduled.json")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scheduled.dry_run, None);
        assert!(scheduled.firing.is_some_and(|f| f.starts_with("event/")), "the event id names the firing");
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
    fn the_scheduler_names_the_firing_with_its_scheduled_time() {
        let parsed = parse_input(&json!({"scheduledTime": "2026-11-30T06:00:00Z"}));
        assert_eq!(parsed.map(|i| i.firing), Ok(Some("scheduled/2026-11-30T06:00:00Z".to_owned())));
        assert_eq!(parse_input(&json!({})).map(|i| i.firing), Ok(None));
        let m = parse_input(&json!({"scheduledTime": " "})).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("scheduledTime: empty"), "{m}");
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
