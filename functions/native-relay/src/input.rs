//! The invocation payload: an SQS batch (the queue behind the default-bus rule; each body is
//! one native event), or one native event invoked directly (a rule → Lambda target, or
//! `sam local invoke` with a sample).

use serde_json::Value;
use shared::invocation::json_type;

use crate::native::Malformed;

/// How the events arrived, which decides the response: an SQS batch answers with its
/// `batchItemFailures`, a direct event with the summary or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Sqs,
    Event,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Sqs => "sqs",
            Trigger::Event => "event",
        }
    }
}

/// One native event of the invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The SQS `messageId` (what `batchItemFailures` names); `None` for a direct event.
    pub message_id: Option<String>,
    /// The native event, or why its record could not be read.
    pub event: Result<Value, Malformed>,
}

/// A payload that is neither shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid invoke payload: {0} (accepted: an SQS event whose records carry native Partner Central events, or one native Partner Central EventBridge event)"
)]
pub struct InputError(pub String);

/// Split the payload into its native events.
pub fn parse_payload(payload: &Value) -> Result<(Trigger, Vec<Message>), InputError> {
    let Some(object) = payload.as_object() else {
        return Err(InputError(format!("expected a JSON object, got {}", json_type(payload))));
    };
    if object.contains_key("detail-type") {
        return Ok((Trigger::Event, vec![Message { message_id: None, event: Ok(payload.clone()) }]));
    }
    match object.get("Records") {
        Some(Value::Array(records)) => Ok((Trigger::Sqs, records.iter().enumerate().map(sqs_message).collect())),
        Some(other) => Err(InputError(format!("Records: expected an array, got {}", json_type(other)))),
        None => Err(InputError("neither an EventBridge event (no detail-type) nor an SQS event (no Records)".into())),
    }
}

fn sqs_message((index, record): (usize, &Value)) -> Message {
    let message_id = record.get("messageId").and_then(Value::as_str).map(str::to_owned);
    let field = |name: &str| format!("Records[{index}].{name}");
    let event = match (message_id.as_deref(), record.get("body")) {
        (None, _) => Err(Malformed { field: field("messageId"), problem: "missing or not a string".into() }),
        (Some(_), Some(Value::String(body))) => serde_json::from_str::<Value>(body)
            .map_err(|e| Malformed { field: field("body"), problem: format!("not JSON: {e}") }),
        (Some(_), _) => Err(Malformed { field: field("body"), problem: "missing or not a string".into() }),
    };
    Message { message_id, event }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_sqs_batch_is_split_into_its_bodies_and_a_bad_record_does_not_spoil_the_others() {
        let payload = json!({"Records": [
            {"messageId": "m-1", "eventSource": "aws:sqs", "body": "{\"detail-type\": \"x\"}"},
            {"messageId": "m-2", "eventSource": "aws:sqs", "body": "not json"},
            {"eventSource": "aws:sqs", "body": "{}"},
        ]});
        let (trigger, messages) = parse_payload(&payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(trigger, Trigger::Sqs);
        assert_eq!(messages[0].event, Ok(json!({"detail-type": "x"})));
        let problems: Vec<String> =
            messages[1..].iter().map(|m| m.event.as_ref().err().map(ToString::to_string).unwrap_or_default()).collect();
        assert!(problems[0].starts_with("native event Records[1].body: not JSON"), "{problems:?}");
        assert_eq!(problems[1], "native event Records[2].messageId: missing or not a string");
    }

    #[test]
    fn one_eventbridge_event_is_a_batch_of_one() {
        let event = json!({"detail-type": "Engagement Invitation Accepted", "source": "aws.partnercentral-selling"});
        let (trigger, messages) = parse_payload(&event).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((trigger, messages.len(), messages[0].message_id.clone()), (Trigger::Event, 1, None));
    }

    #[test]
    fn anything_else_is_rejected_saying_what_is_accepted() {
        let e = parse_payload(&json!({"mode": "full"})).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with("invalid invoke payload: neither an EventBridge event"), "{e}");
        assert!(e.contains("accepted: an SQS event"), "{e}");
        let e = parse_payload(&json!(null)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("expected a JSON object, got null"), "{e}");
    }
}
