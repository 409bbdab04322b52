//! The Lambda entry point: configuration and clients once per process, then one relay per
//! invocation (an SQS batch of native events, or one native event).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::adapters::{
    DynamoStateStore, EventBridgePublisher, PartnerCentralAccount, PartnerCentralClients, PartnerCentralSelling,
    dynamodb_client, eventbridge_client, load_sdk_config,
};
use shared::config::Env;
use shared::run::{Failure, Ports};

use native_relay::{Config, NativeRelay};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_logging();
    let config = match Config::from_env(&Env::process()) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return Err(e.into());
        }
    };
    let sdk = load_sdk_config().await;
    let clients = PartnerCentralClients::new(&sdk, &config.common);
    let catalog = config.common.catalog;
    let account = PartnerCentralAccount::new(clients.account.clone(), catalog);
    let selling = PartnerCentralSelling::new(clients.selling.clone(), catalog);
    let store =
        DynamoStateStore::new(dynamodb_client(&sdk), &config.state.table_name, catalog, config.state.retention());
    let publisher =
        EventBridgePublisher::new(eventbridge_client(&sdk), &config.common.event_bus_name, &config.common.event_source);
    let function = NativeRelay {
        config: &config,
        ports: Ports {
            connections: &account,
            engagements: &selling,
            store: &store,
            publisher: &publisher,
            clock: &clients.clock,
            calls: &clients.calls,
        },
    };
    let function = &function;
    // Boxed: the run's future is deep (as in the other functions).
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(async move { function.handle(&event.payload).await.map_err(Failure) })
    }))
    .await
}
