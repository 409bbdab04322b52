//! Property tests of native-relay's parsers of outside input: the invocation payload (an SQS
//! batch or one EventBridge event) and each native event in it. Every record is read or
//! reported with the field that was wrong — never a panic, never a lost sibling.

use proptest::prelude::*;
use serde_json::Value;
use shared::domain::{Catalog, ParticipantType};
use shared::testing::fuzz;

use crate::input::parse_payload;
use crate::native::{Scope, read};

const BATCH: &str = include_str!("../../../events/native-relay-sqs-batch.json");
const EVENT: &str = include_str!("../../../events/native-relay-event.json");

/// The batch with its records' bodies as JSON (so mutations reach inside them), and back.
fn opened(batch: Value) -> Value {
    let mut batch = batch;
    if let Some(records) = batch.get_mut("Records").and_then(Value::as_array_mut) {
        for r in records {
            if let Some(body) = r.get("body").and_then(Value::as_str).and_then(|b| serde_json::from_str(b).ok()) {
                r["body"] = body;
            }
        }
    }
    batch
}

fn closed(batch: Value) -> Value {
    let mut batch = batch;
    if let Some(records) = batch.get_mut("Records").and_then(Value::as_array_mut) {
        for r in records {
            if let Some(body) = r.get("body").filter(|b| !b.is_string()).map(Value::to_string) {
                r["body"] = Value::String(body);
            }
        }
    }
    batch
}

fn check(payload: &Value) -> Result<(), TestCaseError> {
    let Ok((_, messages)) = parse_payload(payload) else {
        return Ok(());
    };
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        prop_assert_eq!(messages.len(), records.len(), "one message per record, none lost");
    }
    for message in messages {
        let event = match message.event {
            Ok(event) => event,
            Err(m) => {
                prop_assert!(!m.field.is_empty() && !m.problem.is_empty(), "{m:?}");
                continue;
            }
        };
        for catalog in [Catalog::Aws, Catalog::Sandbox] {
            let scope = Scope { catalog, followed: &ParticipantType::ALL, account: "111122223333" };
            if let Err(m) = read(&event, scope) {
                prop_assert!(!m.field.is_empty() && !m.problem.is_empty(), "{m:?}");
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn prop_sqs_batches_are_read_record_by_record(doc in fuzz::input_like(opened(fuzz::sample(BATCH)))) {
        check(&closed(doc))?;
    }

    #[test]
    fn prop_direct_native_events_are_read_or_name_the_field(doc in fuzz::input_like(fuzz::sample(EVENT))) {
        check(&doc)?;
    }
}
