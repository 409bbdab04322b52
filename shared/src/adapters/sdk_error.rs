//! SDK errors → domain errors, in one place for every adapter.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::PartnerCentralError;

/// What only the typed error carries: the conflict reason and the invalid fields.
#[derive(Debug, Default)]
pub(crate) struct ErrorExtras {
    pub reason: Option<String>,
    pub fields: Vec<String>,
}

/// Classify an SDK error of a Partner Central operation. The SDK has already retried
/// throttling, 5xx and transient network failures by the time this sees one.
pub(crate) fn classify<E>(
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
    extras: impl FnOnce(&E) -> ErrorExtras,
) -> PartnerCentralError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            let code = e.code().unwrap_or("Unknown").to_owned();
            let message = e.message().map(str::to_owned).unwrap_or_else(|| code.clone());
            let status = ctx.raw().status().as_u16();
            let ErrorExtras { reason, fields } = extras(e);
            match code.as_str() {
                "ValidationException" => PartnerCentralError::Validation { operation, message, fields },
                "AccessDeniedException" => PartnerCentralError::AccessDenied { operation, message },
                "ResourceNotFoundException" => PartnerCentralError::NotFound { operation, message },
                "ConflictException" => PartnerCentralError::Conflict {
                    operation,
                    reason: reason.unwrap_or_else(|| "UNSPECIFIED".to_owned()),
                    message,
                },
                "ServiceQuotaExceededException" => PartnerCentralError::QuotaExceeded {
                    operation,
                    reason: reason.unwrap_or_else(|| "UNSPECIFIED".to_owned()),
                    message,
                },
                "ThrottlingException" => PartnerCentralError::Throttled { operation, message },
                _ => PartnerCentralError::Service { operation, message: format!("{code} (HTTP {status}): {message}") },
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            PartnerCentralError::Transport { operation, message: DisplayErrorContext(&err).to_string() }
        }
        SdkError::ConstructionFailure(_) => PartnerCentralError::Validation {
            operation,
            message: DisplayErrorContext(&err).to_string(),
            fields: Vec::new(),
        },
        _ => PartnerCentralError::UnexpectedResponse { operation, message: DisplayErrorContext(&err).to_string() },
    }
}
