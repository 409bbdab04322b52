//! Every port's real adapter, built once per process in a function's `main` from the SDK's
//! standard configuration (endpoints from `AWS_ENDPOINT_URL_<SERVICE>`, credentials, region).

use crate::config::{CommonConfig, StateConfig};
use crate::run::Ports;

use super::{
    ApiCallCounter, DynamoStateStore, EventBridgePublisher, PartnerCentralAccount, PartnerCentralClients,
    PartnerCentralSelling, ServiceClock, dynamodb_client, eventbridge_client, load_sdk_config,
};

/// The adapters of one process: both Partner Central APIs behind one rate limiter, the state
/// table, the bus, Partner Central's clock and the call counts.
#[derive(Debug, Clone)]
pub struct AwsAdapters {
    pub account: PartnerCentralAccount,
    pub selling: PartnerCentralSelling,
    pub store: DynamoStateStore,
    pub publisher: EventBridgePublisher,
    pub clock: ServiceClock,
    pub calls: ApiCallCounter,
}

/// The ports bundle over the real adapters.
pub type AwsPorts<'a> = Ports<
    'a,
    PartnerCentralAccount,
    PartnerCentralSelling,
    DynamoStateStore,
    EventBridgePublisher,
    ServiceClock,
    ApiCallCounter,
>;

impl AwsAdapters {
    pub async fn load(common: &CommonConfig, state: &StateConfig) -> Self {
        let sdk = load_sdk_config().await;
        let clients = PartnerCentralClients::new(&sdk, common);
        let catalog = common.catalog;
        AwsAdapters {
            account: PartnerCentralAccount::new(clients.account, catalog),
            selling: PartnerCentralSelling::new(clients.selling, catalog),
            store: DynamoStateStore::new(dynamodb_client(&sdk), &state.table_name, catalog, state.retention()),
            publisher: EventBridgePublisher::new(
                eventbridge_client(&sdk),
                &common.event_bus_name,
                &common.event_source,
            ),
            clock: clients.clock,
            calls: clients.calls,
        }
    }

    /// The bundle a function's run borrows.
    pub fn ports(&self) -> AwsPorts<'_> {
        Ports {
            connections: &self.account,
            engagements: &self.selling,
            store: &self.store,
            publisher: &self.publisher,
            clock: &self.clock,
            calls: &self.calls,
        }
    }
}
