//! Domain errors of the Partner Central ports. Adapters turn SDK errors into these; nothing
//! above the adapters sees an SDK error type.

use crate::domain::UnreadableInvitation;

/// A failed Partner Central call, classified so callers can decide: a `Conflict` or
/// `NotFound` on cancel is a skip, a `Validation` is a bug or bad input, `Throttled` and
/// `Service` are what remained after the SDK's retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartnerCentralError {
    #[error("{operation}: request rejected as invalid{}: {message}", fields_suffix(.fields))]
    Validation { operation: &'static str, message: String, fields: Vec<String> },
    #[error("{operation}: access denied: {message}")]
    AccessDenied { operation: &'static str, message: String },
    #[error("{operation}: not found: {message}")]
    NotFound { operation: &'static str, message: String },
    #[error("{operation}: conflict ({reason}): {message}")]
    Conflict { operation: &'static str, reason: String, message: String },
    /// A service quota would be exceeded (`reason`: e.g.
    /// `LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION`).
    #[error("{operation}: service quota exceeded ({reason}): {message}")]
    QuotaExceeded { operation: &'static str, reason: String, message: String },
    #[error("{operation}: still throttled after retries: {message}")]
    Throttled { operation: &'static str, message: String },
    #[error("{operation}: service error: {message}")]
    Service { operation: &'static str, message: String },
    #[error("{operation}: could not reach Partner Central: {message}")]
    Transport { operation: &'static str, message: String },
    #[error("{operation}: unexpected response: {message}")]
    UnexpectedResponse { operation: &'static str, message: String },
    /// The invitation the call returned cannot be represented (see [`UnreadableInvitation`]):
    /// the caller reports and skips it, it is not a failure of the run.
    #[error("{operation}: cannot read {invitation}")]
    Unreadable { operation: &'static str, invitation: UnreadableInvitation },
}

impl PartnerCentralError {
    /// The invitation the call returned unreadable, if that is what this error is.
    pub fn unreadable(&self) -> Option<&UnreadableInvitation> {
        match self {
            PartnerCentralError::Unreadable { invitation, .. } => Some(invitation),
            _ => None,
        }
    }
}

fn fields_suffix(fields: &[String]) -> String {
    if fields.is_empty() { String::new() } else { format!(" (fields: {})", fields.join(", ")) }
}

/// A failed state-table operation (after the SDK's retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("state table {operation} failed: {message}")]
    Unavailable { operation: &'static str, message: String },
    #[error("state table item {key} is unreadable: {message}")]
    Corrupt { key: String, message: String },
}
