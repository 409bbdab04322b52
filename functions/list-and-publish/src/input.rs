//! What an invocation can ask for. The payload shapes (EventBridge scheduled-rule event,
//! Scheduler `Input`, manual invoke) are parsed by `shared::invocation`, as for every
//! function; this function's only option is `{"mode": "full"}`, which forces a full
//! reconciliation.

use serde::Deserialize;

/// How much to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestedMode {
    /// Incremental, unless a full reconciliation is due (or this is the first run).
    #[default]
    Auto,
    /// A full reconciliation now.
    Full,
}

/// The options a manual invoke (or a Scheduler `Input`) may carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunOptions {
    #[serde(default)]
    pub(crate) mode: RequestedMode,
}

impl shared::invocation::RunOptions for RunOptions {
    const EXAMPLE: &'static str = "{\"mode\": \"full\"}";
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use shared::invocation::{InputError, parse_invocation};

    use super::*;

    fn parse_request(payload: &Value) -> Result<RequestedMode, InputError> {
        parse_invocation::<RunOptions>(payload).map(|i| i.options.mode)
    }

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
        assert!(e.as_deref().is_some_and(|m| m.contains("`dryRun`") && m.contains("expected `mode`")), "{e:?}");
        let e = parse_request(&json!({"mode": "everything"})).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|m| m.contains("`everything`") && m.contains("`full`")), "{e:?}");
        let e = parse_request(&json!({"mode": 1})).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|m| m.contains("mode") && m.contains('1')), "{e:?}");
        let e = parse_request(&json!(["full"])).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|m| m.contains("an array")), "{e:?}");
        let e = parse_request(&json!({"detail-type": "Scheduled Event"})).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|m| m.contains("not an EventBridge event")), "{e:?}");
    }
}
