//! Lambda entry point: configuration and clients once, then one sweep per invocation.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use expire_sweeper::{Config, handle};
use shared::adapters::{
    DynamoStateStore, EventBridgePublisher, PartnerCentralAccount, PartnerCentralClients, PartnerCentralSelling,
    dynamodb_client, eventbridge_client, load_sdk_config,
};
use shared::config::Env;
use shared::run::{Failure, Ports};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init_logging();
    let config = match Config::from_env(&Env::process()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return Err(e.into());
        }
    };
    tracing::info!(
        warning_hours = ?config.sweep.warning_hours,
        participant_types = ?config.sweep.participant_types,
        digest = config.sweep.digest,
        catalog = %config.common.catalog,
        "expire-sweeper starting"
    );

    let sdk = load_sdk_config().await;
    let pc = PartnerCentralClients::new(&sdk, &config.common);
    let account = PartnerCentralAccount::new(pc.account.clone(), config.common.catalog);
    let selling = PartnerCentralSelling::new(pc.selling.clone(), config.common.catalog);
    let store = DynamoStateStore::new(
        dynamodb_client(&sdk),
        config.state.table_name.clone(),
        config.common.catalog,
        config.state.retention(),
    );
    let publisher = EventBridgePublisher::new(
        eventbridge_client(&sdk),
        config.common.event_bus_name.clone(),
        config.common.event_source.clone(),
    );
    let ports = Ports {
        connections: &account,
        engagements: &selling,
        store: &store,
        publisher: &publisher,
        clock: &pc.clock,
        calls: &pc.calls,
    };
    let settings = &config.sweep;
    let ports = &ports;
    // Boxed: the run's future is deep, and its layout would otherwise be computed inline in
    // the runtime's (past the compiler's default recursion limit).
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(async move { handle(ports, settings, event.payload).await.map_err(Failure) })
    }))
    .await
}
