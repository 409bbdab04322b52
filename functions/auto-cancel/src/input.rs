//! What an invocation may say: nothing (an EventBridge scheduled-rule event, or an
//! EventBridge Scheduler payload such as `{}`), or `{"dryRun": true}` to force a dry run.
//! No payload can turn a dry-run policy into real cancellations. The parsing is every
//! policy-driven function's (`shared::policy::run`); the per-firing cap of cancellations is
//! counted under the firing it names.

pub(crate) use shared::policy::PolicyInvocation as Invocation;
#[cfg(test)]
pub(crate) use shared::policy::parse_policy_invocation as parse_input;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

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
