//! One invocation: the event an EventBridge rule on our bus delivers, rendered for people
//! (`invitation_events::render`), formatted ([`crate::format`]) and published to the topic.

use invitation_events::render::{Context, render_event};
use serde::Serialize;
use serde_json::Value;

use crate::format::{MAX_SNS_MESSAGE_BYTES, Publication, event_type};
use crate::port::{NotificationPublisher, PublishError};

/// What an invocation did (the function's result, and one log line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub detail_type: String,
    pub event_id: String,
    /// `metadata.eventType` of the custom notification.
    pub event_type: String,
    /// SNS's message id.
    pub message_id: String,
    /// Bytes of the SNS message (subject included).
    pub bytes: usize,
    /// Whether the notification carries an approval (the Approve / Dismiss buttons).
    pub approval: bool,
}

/// Why an invocation failed. Lambda's asynchronous invocation retries it, then puts the event
/// in the dead-letter queue (the NotifyDeadLettersAlarm fires): nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The payload is not one of our events (names what was wrong).
    #[error("invalid event: {0}")]
    Input(String),
    /// The rendering would exceed SNS's message size (never expected: every field is capped).
    #[error("the notification of {event_id} is {bytes} bytes, above SNS's {MAX_SNS_MESSAGE_BYTES}")]
    TooLarge { event_id: String, bytes: usize },
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// The function's logic over its publisher.
pub struct Notify<'a, P> {
    pub context: &'a Context,
    pub publisher: P,
}

impl<P: NotificationPublisher> Notify<'_, P> {
    /// Render and publish the event in `payload` (an EventBridge event as a rule delivers it).
    pub async fn handle(&self, payload: &Value) -> Result<Summary, NotifyError> {
        let detail_type = payload
            .get("detail-type")
            .and_then(Value::as_str)
            .ok_or_else(|| NotifyError::Input("no \"detail-type\" string: not an EventBridge event".into()))?;
        let detail = payload
            .get("detail")
            .cloned()
            .ok_or_else(|| NotifyError::Input(format!("a \"{detail_type}\" event without \"detail\"")))?;
        let notification =
            render_event(detail_type, detail, self.context).map_err(|e| NotifyError::Input(e.to_string()))?;
        let publication = Publication::of(&notification);
        if publication.size() > MAX_SNS_MESSAGE_BYTES {
            return Err(NotifyError::TooLarge { event_id: notification.event_id, bytes: publication.size() });
        }
        let message_id = self.publisher.publish(&publication).await?;
        let summary = Summary {
            detail_type: detail_type.to_owned(),
            event_id: notification.event_id.clone(),
            event_type: event_type(&notification),
            message_id,
            bytes: publication.size(),
            approval: notification.approval.is_some(),
        };
        tracing::info!(
            detail_type = %summary.detail_type,
            event_id = %summary.event_id,
            message_id = %summary.message_id,
            bytes = summary.bytes,
            "notification published"
        );
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;

    #[derive(Default)]
    struct Recorder {
        published: Mutex<Vec<Publication>>,
        fail: Option<PublishError>,
    }

    impl NotificationPublisher for Recorder {
        async fn publish(&self, publication: &Publication) -> Result<String, PublishError> {
            if let Some(e) = &self.fail {
                return Err(e.clone());
            }
            let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
            published.push(publication.clone());
            Ok(format!("msg-{}", published.len()))
        }
    }

    fn sample(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/samples").join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default()).unwrap_or_default()
    }

    #[tokio::test]
    async fn an_event_becomes_one_publication() {
        let recorder = Recorder::default();
        let context = Context::default();
        let notify = Notify { context: &context, publisher: &recorder };
        let summary = notify.handle(&sample("engagement-invitation-approval-requested.json")).await;
        let summary = summary.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.detail_type, "Engagement Invitation Approval Requested");
        assert_eq!((summary.message_id.as_str(), summary.approval), ("msg-1", true));
        let published = recorder.published.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(published.len(), 1);
        assert!(
            published[0].subject.starts_with("Approval needed: accept engagement invitation"),
            "{}",
            published[0].subject
        );
    }

    #[tokio::test]
    async fn what_is_not_our_event_is_refused_by_name_and_nothing_is_published() {
        let recorder = Recorder::default();
        let context = Context::default();
        let notify = Notify { context: &context, publisher: &recorder };
        for (payload, wanted) in [
            (json!({"detail": {}}), "no \"detail-type\""),
            (json!({"detail-type": "Object Created", "detail": {}}), "\"Object Created\" is not one of the contract's"),
            (json!({"detail-type": "Engagement Invitation Created"}), "without \"detail\""),
            (
                json!({"detail-type": "Engagement Invitation Created", "detail": {"kind": 1}}),
                "does not fit the contract",
            ),
        ] {
            let e = notify.handle(&payload).await.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(wanted), "{e}");
        }
        assert!(recorder.published.lock().unwrap_or_else(|e| e.into_inner()).is_empty());
    }

    #[tokio::test]
    async fn a_failed_publish_fails_the_invocation() {
        let recorder = Recorder {
            fail: Some(PublishError::Denied { action: "sns:Publish".into(), message: "no".into() }),
            ..Default::default()
        };
        let context = Context::default();
        let notify = Notify { context: &context, publisher: &recorder };
        let e = notify.handle(&sample("engagement-invitation-created.json")).await.err();
        assert_eq!(e.map(|e| e.to_string()), Some("sns:Publish denied: no".to_owned()));
    }
}
