//! [`ParameterStore`] on SSM Parameter Store: `GetParameter` with decryption, its errors
//! classified into [`ParameterError`]. The endpoint comes from the SDK's standard
//! configuration (`AWS_ENDPOINT_URL_SSM` selects a local stand-in such as moto).

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::policy::source::{Parameter, ParameterError};
use crate::ports::ParameterStore;

/// SSM parameters, read through one client.
#[derive(Debug, Clone)]
pub struct SsmParameters {
    client: aws_sdk_ssm::Client,
}

impl SsmParameters {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        SsmParameters { client }
    }

    /// A client in the function's own region, standard retries. Building it calls nothing:
    /// a function whose policy is not in a parameter never reaches SSM.
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        let conf =
            aws_sdk_ssm::config::Builder::from(sdk).retry_config(RetryConfig::standard().with_max_attempts(3)).build();
        SsmParameters::new(aws_sdk_ssm::Client::from_conf(conf))
    }
}

impl SsmParameters {
    /// From the SDK's standard configuration (see [`super::load_sdk_config`]).
    pub async fn load() -> Self {
        SsmParameters::from_sdk_config(&super::load_sdk_config().await)
    }
}

impl ParameterStore for SsmParameters {
    async fn get_parameter(&self, name: &str) -> Result<Parameter, ParameterError> {
        let out = self.client.get_parameter().name(name).with_decryption(true).send().await.map_err(classify)?;
        let parameter =
            out.parameter.ok_or_else(|| ParameterError::Other("GetParameter answered no Parameter".into()))?;
        let value = parameter.value.ok_or_else(|| ParameterError::Other("the parameter has no value".into()))?;
        Ok(Parameter { value, version: parameter.version })
    }
}

fn classify<R>(err: SdkError<GetParameterError, R>) -> ParameterError
where
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(ctx) => match ctx.err() {
            GetParameterError::ParameterNotFound(_) => ParameterError::NotFound,
            GetParameterError::ParameterVersionNotFound(_) => ParameterError::VersionNotFound,
            e if e.code().is_some_and(|c| c.contains("AccessDenied")) => ParameterError::AccessDenied(format!(
                "{}: {}",
                e.code().unwrap_or_default(),
                e.message().unwrap_or_default()
            )),
            e => ParameterError::Other(format!(
                "{}: {}",
                e.code().unwrap_or("Unknown"),
                e.message().map_or_else(|| DisplayErrorContext(&err).to_string(), str::to_owned)
            )),
        },
        _ => ParameterError::Other(DisplayErrorContext(&err).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
    use aws_sdk_ssm::types::error::{ParameterNotFound, ParameterVersionNotFound};
    use aws_sdk_ssm::types::{Parameter as SsmParameter, ParameterType};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    fn store(rules: &[&aws_smithy_mocks::Rule]) -> SsmParameters {
        SsmParameters::new(mock_client!(aws_sdk_ssm, RuleMode::MatchAny, rules))
    }

    #[tokio::test]
    async fn the_value_and_version_are_read_with_decryption() {
        let big = "p".repeat(6000);
        let value = big.clone();
        let rule = mock!(aws_sdk_ssm::Client::get_parameter)
            .match_requests(|r| r.name() == Some("/team/policy:2") && r.with_decryption() == Some(true))
            .then_output(move || {
                GetParameterOutput::builder()
                    .parameter(
                        SsmParameter::builder()
                            .name("/team/policy")
                            .r#type(ParameterType::SecureString)
                            .value(value.clone())
                            .version(2)
                            .build(),
                    )
                    .build()
            });
        let got = store(&[&rule]).get_parameter("/team/policy:2").await;
        assert_eq!(got, Ok(Parameter { value: big, version: 2 }));
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn sdk_errors_become_parameter_errors() {
        let missing = mock!(aws_sdk_ssm::Client::get_parameter)
            .match_requests(|r| r.name() == Some("/missing"))
            .then_error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()));
        let version = mock!(aws_sdk_ssm::Client::get_parameter)
            .match_requests(|r| r.name() == Some("/p:9"))
            .then_error(|| GetParameterError::ParameterVersionNotFound(ParameterVersionNotFound::builder().build()));
        let denied = mock!(aws_sdk_ssm::Client::get_parameter)
            .match_requests(|r| r.name() == Some("/denied"))
            .then_error(|| {
                GetParameterError::generic(
                    ErrorMetadata::builder()
                        .code("AccessDeniedException")
                        .message("User is not authorized to perform: ssm:GetParameter")
                        .build(),
                )
            });
        let empty = mock!(aws_sdk_ssm::Client::get_parameter)
            .match_requests(|r| r.name() == Some("/empty"))
            .then_output(|| GetParameterOutput::builder().build());
        let s = store(&[&missing, &version, &denied, &empty]);
        assert_eq!(s.get_parameter("/missing").await, Err(ParameterError::NotFound));
        assert_eq!(s.get_parameter("/p:9").await, Err(ParameterError::VersionNotFound));
        assert_eq!(
            s.get_parameter("/denied").await,
            Err(ParameterError::AccessDenied(
                "AccessDeniedException: User is not authorized to perform: ssm:GetParameter".into()
            ))
        );
        let e = s.get_parameter("/empty").await.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(e, "GetParameter answered no Parameter");
    }
}
