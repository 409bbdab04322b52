//! Every port's real adapter, built once per process in a function's `main` from the SDK's
//! standard configuration (endpoints from `AWS_ENDPOINT_URL_<SERVICE>`, credentials, region).

use std::sync::Arc;

use crate::budget::{RequestBudget, function_name, holder_id};
use crate::config::{CommonConfig, StateConfig};
use crate::run::Ports;

use super::lease_table::DynamoLeaseStore;
use super::{
    ApiCallCounter, DynamoStateStore, EventBridgePublisher, PartnerCentralAccount, PartnerCentralClients,
    PartnerCentralSelling, ServiceClock, dynamodb_client, eventbridge_client, load_sdk_config,
};

/// The adapters of one process: both Partner Central APIs behind the account's request budget
/// (leased through the state table), the state table, the bus, Partner Central's clock and the
/// call counts.
#[derive(Debug, Clone)]
pub struct AwsAdapters {
    pub account: PartnerCentralAccount,
    pub selling: PartnerCentralSelling,
    pub store: DynamoStateStore,
    pub publisher: EventBridgePublisher,
    pub clock: ServiceClock,
    pub calls: ApiCallCounter,
    /// This process's side of the account's request budget (and the run lease).
    pub budget: RequestBudget,
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
    /// Building them makes the process take part in the account's request budget: the run
    /// skeleton ([`crate::entry::serve`]) then takes the share and, for a scheduled or manual
    /// run, the function's run lease around every invocation.
    pub async fn load(common: &CommonConfig, state: &StateConfig) -> Self {
        let sdk = load_sdk_config().await;
        let dynamodb = dynamodb_client(&sdk);
        let leases = Arc::new(DynamoLeaseStore::new(dynamodb.clone(), &state.table_name));
        let budget = RequestBudget::new(leases, common.max_requests_per_second, holder_id(&function_name()));
        budget.take_part();
        let clients = PartnerCentralClients::new(&sdk, common, budget.clone());
        let catalog = common.catalog;
        AwsAdapters {
            account: PartnerCentralAccount::new(clients.account, catalog),
            selling: PartnerCentralSelling::new(clients.selling, catalog),
            store: DynamoStateStore::new(dynamodb, &state.table_name, catalog, state.retention()),
            publisher: EventBridgePublisher::new(
                eventbridge_client(&sdk),
                &common.event_bus_name,
                &common.event_source,
            ),
            clock: clients.clock,
            calls: clients.calls,
            budget,
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
