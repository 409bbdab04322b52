//! The publisher on the real SNS client (`sns:Publish`, `MessageStructure: json`), and the
//! health check of notify's wiring. SDK errors become [`PublishError`]s here.

use aws_sdk_sns::operation::publish::PublishError as SdkPublishError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::Utc;
use invitation_events::render::{Context, render};
use invitation_events::{Detail, DetailType, HealthCheckDetail, SCHEMA_VERSION};
use shared::domain::Catalog;
use shared::entry::HealthCheck;
use shared::health::{Check, HealthReport};

use crate::format::Publication;
use crate::port::{NotificationPublisher, PublishError};

/// Publishes to one topic.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsPublisher { client, topic_arn: topic_arn.into() }
    }
}

/// An SDK error of Publish as a domain error.
pub fn classify(err: SdkError<SdkPublishError, HttpResponse>) -> PublishError {
    let message = err.message().map(str::to_owned).unwrap_or_else(|| DisplayErrorContext(&err).to_string());
    match err.code() {
        Some("AuthorizationError" | "AccessDenied" | "AccessDeniedException") => {
            PublishError::Denied { action: "sns:Publish".into(), message }
        }
        Some(code) if code.starts_with("KMS") => PublishError::Denied {
            action: "kms:GenerateDataKey and kms:Decrypt on the topic's key".into(),
            message: format!("{code}: {message}"),
        },
        Some(code @ ("InvalidParameter" | "InvalidParameterValue" | "NotFound")) => {
            PublishError::Rejected { code: code.to_owned(), message }
        }
        _ => PublishError::Failed { message: DisplayErrorContext(&err).to_string() },
    }
}

impl NotificationPublisher for SnsPublisher {
    async fn publish(&self, publication: &Publication) -> Result<String, PublishError> {
        let out = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&publication.subject)
            .message(&publication.message)
            .message_structure("json")
            .send()
            .await
            .map_err(classify)?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }
}

/// notify's check payload: a `Health Check` notification published to the topic — the one
/// call notify makes in real runs; people in the channel see that `make smoke` reached them.
pub struct NotifyHealth<'a> {
    pub publisher: &'a SnsPublisher,
    pub catalog: Catalog,
    pub context: &'a Context,
}

/// The name of the function in health reports.
pub const FUNCTION: &str = "notify";

impl NotifyHealth<'_> {
    pub async fn check(&self, request_id: &str) -> HealthReport {
        const CHECK: &str = "notification topic";
        const ACTION: &str = "sns:Publish";
        let detail = HealthCheckDetail {
            schema_version: SCHEMA_VERSION.to_owned(),
            event_id: format!("health-{request_id}"),
            catalog: self.catalog,
            function: FUNCTION.to_owned(),
            checked_at: Utc::now(),
        };
        let notification = render(DetailType::HealthCheck, &Detail::Health(Box::new(detail)), self.context);
        let check = match self.publisher.publish(&Publication::of(&notification)).await {
            Ok(id) => Check::ok(CHECK, ACTION, format!("published message {id} to {}", self.publisher.topic_arn)),
            Err(PublishError::Denied { message, .. }) => Check::denied(CHECK, ACTION, message),
            Err(e) => Check::failed(CHECK, ACTION, e.to_string()),
        };
        let report = HealthReport::new(FUNCTION, self.catalog, vec![check]);
        let rendered = serde_json::to_string(&report).unwrap_or_default();
        match report.healthy {
            true => tracing::info!(report = %rendered, "health check: every check ok"),
            false => tracing::error!(report = %rendered, "health check: not every check ok"),
        }
        report
    }
}

impl HealthCheck for NotifyHealth<'_> {
    fn run(&self, request_id: &str) -> impl std::future::Future<Output = HealthReport> {
        self.check(request_id)
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sns::operation::publish::{PublishError as SdkError, PublishOutput};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::format::Publication;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:s-notifications";

    fn publication() -> Publication {
        Publication {
            subject: "Subject".into(),
            message: r#"{"default":"{}","email":"body"}"#.into(),
            chat: serde_json::json!({}),
        }
    }

    fn service_error(code: &str, message: &str) -> SdkError {
        SdkError::generic(ErrorMetadata::builder().code(code).message(message).build())
    }

    #[tokio::test]
    async fn publishes_the_json_structured_message_with_its_subject_to_the_topic() {
        let rule = mock!(aws_sdk_sns::Client::publish)
            .match_requests(|r| {
                r.topic_arn() == Some(TOPIC)
                    && r.subject() == Some("Subject")
                    && r.message_structure() == Some("json")
                    && r.message() == Some(r#"{"default":"{}","email":"body"}"#)
            })
            .then_output(|| PublishOutput::builder().message_id("m-1").build());
        let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]);
        let id = SnsPublisher::new(client, TOPIC).publish(&publication()).await;
        assert_eq!(id, Ok("m-1".to_owned()));
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn sdk_errors_become_domain_errors_naming_what_to_allow() {
        for (code, expected) in [
            ("AuthorizationError", "sns:Publish denied: not allowed"),
            (
                "KMSAccessDenied",
                "kms:GenerateDataKey and kms:Decrypt on the topic's key denied: KMSAccessDenied: not allowed",
            ),
            ("InvalidParameter", "SNS rejected the message (InvalidParameter): not allowed"),
        ] {
            let code = code.to_owned();
            let rule = mock!(aws_sdk_sns::Client::publish).then_error(move || service_error(&code, "not allowed"));
            let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]);
            let e = SnsPublisher::new(client, TOPIC).publish(&publication()).await.err().map(|e| e.to_string());
            assert_eq!(e.as_deref(), Some(expected));
        }
    }

    #[tokio::test]
    async fn the_health_check_publishes_a_health_notification_and_reports_a_denial() {
        let rule = mock!(aws_sdk_sns::Client::publish)
            .match_requests(|r| r.subject().is_some_and(|s| s.starts_with("Health check")))
            .then_output(|| PublishOutput::builder().message_id("m-2").build());
        let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]);
        let publisher = SnsPublisher::new(client, TOPIC);
        let context = Context::default();
        let report =
            NotifyHealth { publisher: &publisher, catalog: Catalog::Sandbox, context: &context }.check("r-1").await;
        assert!(report.healthy, "{report:?}");
        let denied = mock!(aws_sdk_sns::Client::publish).then_error(|| {
            service_error(
                "AuthorizationError",
                "User: arn:aws:sts::1:assumed-role/x is not authorized to perform: SNS:Publish on resource: t",
            )
        });
        let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&denied]);
        let publisher = SnsPublisher::new(client, TOPIC);
        let report =
            NotifyHealth { publisher: &publisher, catalog: Catalog::Sandbox, context: &context }.check("r-2").await;
        assert!(!report.healthy);
        let json = serde_json::to_value(&report).unwrap_or_default();
        assert_eq!(json["checks"][0]["result"], "denied");
        assert_eq!(json["checks"][0]["action"], "SNS:Publish");
    }
}
