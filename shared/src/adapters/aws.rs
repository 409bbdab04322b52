//! Building the AWS SDK clients once per process.
//!
//! Endpoints, credentials and region come only from the SDK's standard configuration
//! chain (`AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, ...). The one thing
//! set here is what the product needs: Partner Central lives only in us-east-1, its calls
//! take slots of the account's request budget shared at run time ([`RequestBudget`]), and
//! retries are standard-with-jitter with configurable attempts.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use super::call_counter::ApiCallCounter;
use super::rate_limit::{RateLimitedHttpClient, WritePacer};
use super::service_clock::ServiceClock;
use crate::budget::RequestBudget;
use crate::config::CommonConfig;

/// The Selling API's write quota: one write request per second (Accept, Reject, Start…).
pub const SELLING_WRITES_PER_SECOND: std::num::NonZeroU32 = std::num::NonZeroU32::MIN;

/// Both Partner Central APIs are served only from this region.
pub const PARTNER_CENTRAL_REGION: &str = "us-east-1";

/// The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`,
/// `aws-iso-e`, `aws-iso-f`, `aws-eusc`), by the regions' documented prefixes.
pub fn partition_of(region: &str) -> &'static str {
    const PARTITIONS: [(&str, &str); 7] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-isof-", "aws-iso-f"),
        ("eusc-", "aws-eusc"),
    ];
    PARTITIONS.iter().find(|(prefix, _)| region.starts_with(prefix)).map_or("aws", |(_, partition)| partition)
}

/// Load the SDK's standard configuration (environment, profile, container credentials).
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// Retry policy for Partner Central calls: the SDK's standard mode (exponential backoff
/// with full jitter; retries ThrottlingException, 5xx and transient network errors).
pub fn partner_central_retry_config(max_attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10))
}

/// Upload stall protection off for Partner Central: the rate limiter and the write pacing hold
/// a request in the HTTP connector — past the SDK's point where it starts timing the upload —
/// for as long as its turn takes (several seconds for the sixth of six concurrent writes at
/// one per second), which the protection would abort as a stalled upload after its 5 s grace
/// period and retry. The bodies are small JSON documents; download protection stays on.
fn partner_central_stall_protection() -> StalledStreamProtectionConfig {
    StalledStreamProtectionConfig::enabled().upload_enabled(false).build()
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(120))
        .build()
}

/// The Partner Central clients of one process, sharing the process's side of the account's
/// request budget (the Selling client's writes also paced to the Selling API's write quota),
/// and the service's clock read from their responses.
#[derive(Debug, Clone)]
pub struct PartnerCentralClients {
    pub account: aws_sdk_partnercentralaccount::Client,
    pub selling: aws_sdk_partnercentralselling::Client,
    pub clock: ServiceClock,
    /// Attempts per Partner Central operation (retries included) since start-up.
    pub calls: ApiCallCounter,
}

impl PartnerCentralClients {
    /// `budget`: the process's side of the account's request budget (see
    /// [`crate::budget`]; [`RequestBudget::alone`] for a tool that runs alone).
    pub fn new(sdk: &SdkConfig, config: &CommonConfig, budget: RequestBudget) -> Self {
        let https =
            aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc)).build_https();
        let http = RateLimitedHttpClient::new(https, budget);
        let retry = partner_central_retry_config(config.max_attempts);
        let region = Region::from_static(PARTNER_CENTRAL_REGION);
        let clock = ServiceClock::new();
        let calls = ApiCallCounter::new();

        let account = aws_sdk_partnercentralaccount::config::Builder::from(sdk)
            .region(region.clone())
            .retry_config(retry.clone())
            .timeout_config(timeouts())
            .http_client(http.clone())
            .stalled_stream_protection(partner_central_stall_protection())
            .interceptor(clock.interceptor())
            .interceptor(calls.clone())
            .build();
        // Selling writes also go one at a time, at most SELLING_WRITES_PER_SECOND.
        let selling_http = http.with_write_pacing(WritePacer::per_second(SELLING_WRITES_PER_SECOND));
        let selling = aws_sdk_partnercentralselling::config::Builder::from(sdk)
            .region(region)
            .retry_config(retry)
            .timeout_config(timeouts())
            .http_client(selling_http)
            .stalled_stream_protection(partner_central_stall_protection())
            .interceptor(clock.interceptor())
            .interceptor(calls.clone())
            .build();
        PartnerCentralClients {
            account: aws_sdk_partnercentralaccount::Client::from_conf(account),
            selling: aws_sdk_partnercentralselling::Client::from_conf(selling),
            clock,
            calls,
        }
    }
}

/// EventBridge client in the function's own region, standard retries.
pub fn eventbridge_client(sdk: &SdkConfig) -> aws_sdk_eventbridge::Client {
    let conf = aws_sdk_eventbridge::config::Builder::from(sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(timeouts())
        .build();
    aws_sdk_eventbridge::Client::from_conf(conf)
}

/// DynamoDB client in the function's own region, standard retries.
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .timeout_config(timeouts())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition_of(PARTNER_CENTRAL_REGION), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition_of("us-iso-east-1"), "aws-iso");
    }
}
