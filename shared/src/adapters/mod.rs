//! Adapters: the ports implemented on the real AWS SDK clients. SDK errors become domain
//! errors here.

pub mod aws;
pub mod call_counter;
pub mod dynamodb;
pub mod eventbridge;
pub mod health;
pub mod lease_table;
pub mod partner_central;
#[cfg(test)]
mod properties;
pub mod rate_limit;
mod sdk_error;
pub mod service_clock;
pub mod ssm;
mod stack;

pub use aws::{PartnerCentralClients, dynamodb_client, eventbridge_client, load_sdk_config};
pub use call_counter::ApiCallCounter;
pub use dynamodb::DynamoStateStore;
pub use eventbridge::{EventBridgePublisher, PublishSettings};
pub use health::{HealthProbes, Reads};
pub use partner_central::{PartnerCentralAccount, PartnerCentralSelling};
pub use service_clock::ServiceClock;
pub use ssm::SsmParameters;
pub use stack::{AwsAdapters, AwsPorts};
