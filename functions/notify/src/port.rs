//! The one port notify needs: publish a notification to the topic.

use std::future::Future;

use crate::format::Publication;

/// Why a publish failed (the adapter turns SDK errors into these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// IAM or the topic's key refused (`action` is what to allow).
    #[error("{action} denied: {message}")]
    Denied { action: String, message: String },
    /// SNS refused the message (e.g. InvalidParameter): retrying the same message fails again.
    #[error("SNS rejected the message ({code}): {message}")]
    Rejected { code: String, message: String },
    /// Anything else (after the SDK's retries): throttling, 5xx, network.
    #[error("SNS Publish failed: {message}")]
    Failed { message: String },
}

/// Publishes one notification; returns SNS's message id.
pub trait NotificationPublisher: Send + Sync {
    fn publish(&self, publication: &Publication) -> impl Future<Output = Result<String, PublishError>> + Send;
}

impl<T: NotificationPublisher> NotificationPublisher for &T {
    fn publish(&self, publication: &Publication) -> impl Future<Output = Result<String, PublishError>> + Send {
        (**self).publish(publication)
    }
}
