//! End to end: our events on our bus (moto) reach a rule's target as EventBridge delivers them,
//! the built notify binary under a Lambda runtime renders and publishes each to an SNS topic
//! (moto), and an SQS queue subscribed to the topic captures what a subscriber receives.

use std::path::{Path, PathBuf};

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use harness::stack::{BUS, EVENT_SOURCE, Stack, StackOptions};
use serde_json::Value;

const NAME: &str = "notify";

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_json(path: &Path) -> Value {
    ok(serde_json::from_str(&ok(std::fs::read_to_string(path))))
}

#[tokio::test(flavor = "multi_thread")]
async fn our_events_reach_the_topics_subscribers_as_custom_notifications() {
    // The stack's topic has a queue subscribed to it (Stack::notifications); the function's
    // environment names the topic and SNS's endpoint.
    let stack = ok(Stack::start(StackOptions::default()).await);
    let topic_arn = stack.notification_topic_arn.clone();
    let _notify = ok(stack.start_function(
        NAME,
        Path::new(env!("CARGO_BIN_EXE_notify")),
        &[("AUTO_RESPOND_FUNCTION_NAME", "s-auto-respond")],
    ));

    // Our functions' events, put on our bus as they would (the samples' detail-types and
    // details; Health Check left out as consumers' patterns do).
    let samples: Vec<Value> = [
        "engagement-invitation-created.json",
        "engagement-invitation-approval-requested.json",
        "invitations-expiring-digest.json",
    ]
    .iter()
    .map(|f| read_json(&root().join("schemas/samples").join(f)))
    .collect();
    for sample in &samples {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(BUS)
            .source(EVENT_SOURCE)
            .detail_type(sample["detail-type"].as_str().unwrap_or_default())
            .detail(sample["detail"].to_string())
            .resources(sample["resources"][0].as_str().unwrap_or("none"))
            .build();
        let out = ok(stack.eventbridge.put_events().entries(entry).send().await);
        assert_eq!(out.failed_entry_count(), 0);
    }
    // What a rule on the bus delivers to its target: the whole EventBridge event.
    let delivered = ok(stack.received().await);
    assert_eq!(delivered.len(), samples.len(), "{delivered:?}");
    for event in &delivered {
        let result = ok(ok(stack.invoke(NAME, event).await).output());
        assert!(result["messageId"].as_str().is_some_and(|id| !id.is_empty()), "{result}");
    }

    // moto delivers to the subscribed queue within Publish: once notify answered, it is there.
    let messages = ok(stack.notifications().await);
    assert_eq!(messages.len(), delivered.len(), "{messages:?}");
    let schema = read_json(&root().join("tests/notify/custom-notification.schema.json"));
    let validator = ok(jsonschema::validator_for(&schema));
    let mut titles = Vec::new();
    for envelope in &messages {
        assert_eq!(envelope["TopicArn"], topic_arn.as_str());
        let subject = envelope["Subject"].as_str().unwrap_or_default();
        assert!(!subject.is_empty() && subject.is_ascii() && subject.len() < 100, "{subject:?}");
        // A subscriber other than e-mail gets the `default` of the per-protocol message: the
        // custom notification.
        let chat: Value = ok(serde_json::from_str(envelope["Message"].as_str().unwrap_or_default()));
        let errors: Vec<String> = validator.iter_errors(&chat).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}: {chat}");
        assert_eq!((chat["version"].as_str(), chat["source"].as_str()), (Some("1.0"), Some("custom")));
        titles.push(chat["content"]["title"].as_str().unwrap_or_default().to_owned());
        if chat["metadata"]["eventType"] == "approval-requested" {
            assert_eq!(chat["metadata"]["additionalContext"]["approvalFunction"], "s-auto-respond");
            let steps = chat["content"]["nextSteps"].to_string();
            assert!(steps.contains("aws lambda invoke --function-name s-auto-respond"), "{steps}");
        }
    }
    titles.sort();
    assert_eq!(
        titles,
        [
            "✋ Approval needed: accept engagement invitation of Amazon Web Services",
            "📨 New engagement invitation from Amazon Web Services",
            "🗓️ 3 invitation(s) expiring within 72 h",
        ]
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_check_payload_publishes_a_health_notification_and_an_unknown_topic_fails() {
    let stack = ok(Stack::start(StackOptions::default()).await);
    let _notify = ok(stack.start_function(NAME, Path::new(env!("CARGO_BIN_EXE_notify")), &[]));
    let report = ok(ok(stack.invoke(NAME, &serde_json::json!({"healthCheck": true})).await).output());
    assert_eq!(report["function"], "notify");
    assert_eq!(report["healthy"], true, "{report}");
    let messages = ok(stack.notifications().await);
    assert_eq!(messages.len(), 1);
    assert!(messages[0]["Subject"].as_str().unwrap_or_default().starts_with("Health check"), "{:?}", messages[0]);

    // An event that is not ours is refused with its reason (Lambda would retry, then DLQ).
    let refused = ok(stack.invoke(NAME, &serde_json::json!({"detail-type": "Object Created", "detail": {}})).await);
    let error = refused.output().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("\"Object Created\" is not one of the contract's"), "{error}");
    stack.shutdown().await;
}
