//! End to end: our events on our bus (moto) reach a rule's target as EventBridge delivers them,
//! the built notify binary under a Lambda runtime renders and publishes each to an SNS topic
//! (moto), and an SQS queue subscribed to the topic captures what a subscriber receives.

use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// The topic, and a queue subscribed to it (SNS's envelope kept: `Subject` and `Message`).
async fn topic_with_queue(stack: &Stack) -> (String, String) {
    let conf = harness::aws::sdk_config(stack.moto.endpoint()).await;
    let sns = aws_sdk_sns::Client::new(&conf);
    let topic = ok(sns.create_topic().name("notifications").send().await);
    let topic_arn = topic.topic_arn().unwrap_or_default().to_owned();
    let queue = ok(stack.sqs.create_queue().queue_name("notifications-subscriber").send().await);
    let queue_url = queue.queue_url().unwrap_or_default().to_owned();
    let attrs = ok(stack
        .sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await);
    let queue_arn = attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default();
    ok(sns.subscribe().topic_arn(&topic_arn).protocol("sqs").endpoint(queue_arn).send().await);
    (topic_arn, queue_url)
}

/// Every message the subscribed queue holds (SNS envelopes), waiting until `count` arrived.
async fn subscriber_messages(stack: &Stack, queue_url: &str, count: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while out.len() < count && tokio::time::Instant::now() < deadline {
        let received = ok(stack
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await);
        for m in received.messages() {
            out.push(ok(serde_json::from_str::<Value>(m.body().unwrap_or_default())));
            if let Some(handle) = m.receipt_handle() {
                ok(stack.sqs.delete_message().queue_url(queue_url).receipt_handle(handle).send().await);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn our_events_reach_the_topics_subscribers_as_custom_notifications() {
    let stack = ok(Stack::start(StackOptions::default()).await);
    let (topic_arn, queue_url) = topic_with_queue(&stack).await;
    let moto = stack.moto.endpoint().to_owned();
    let _notify = ok(stack.start_function(
        NAME,
        Path::new(env!("CARGO_BIN_EXE_notify")),
        &[
            ("NOTIFICATION_TOPIC_ARN", &topic_arn),
            ("AWS_ENDPOINT_URL_SNS", &moto),
            ("AUTO_RESPOND_FUNCTION_NAME", "s-auto-respond"),
        ],
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

    let messages = subscriber_messages(&stack, &queue_url, delivered.len()).await;
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
    let (topic_arn, queue_url) = topic_with_queue(&stack).await;
    let moto = stack.moto.endpoint().to_owned();
    let _notify = ok(stack.start_function(
        NAME,
        Path::new(env!("CARGO_BIN_EXE_notify")),
        &[("NOTIFICATION_TOPIC_ARN", &topic_arn), ("AWS_ENDPOINT_URL_SNS", &moto)],
    ));
    let report = ok(ok(stack.invoke(NAME, &serde_json::json!({"healthCheck": true})).await).output());
    assert_eq!(report["function"], "notify");
    assert_eq!(report["healthy"], true, "{report}");
    let messages = subscriber_messages(&stack, &queue_url, 1).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0]["Subject"].as_str().unwrap_or_default().starts_with("Health check"), "{:?}", messages[0]);

    // An event that is not ours is refused with its reason (Lambda would retry, then DLQ).
    let refused = ok(stack.invoke(NAME, &serde_json::json!({"detail-type": "Object Created", "detail": {}})).await);
    let error = refused.output().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("\"Object Created\" is not one of the contract's"), "{error}");
    stack.shutdown().await;
}
