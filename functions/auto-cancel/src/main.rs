//! The auto-cancel Lambda: configuration and clients once, then one run per invocation.

use auto_cancel::{AutoCancel, Config, Settings};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::adapters::{
    DynamoStateStore, EventBridgePublisher, PartnerCentralAccount, PartnerCentralClients, dynamodb_client,
    eventbridge_client, load_sdk_config,
};
use shared::config::Env;
use shared::run::{Failure, Ports};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init_logging();
    let config = match Config::from_env(&Env::process()) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return Err(e.into());
        }
    };
    tracing::info!(
        policy = %config.policy_source,
        policy_hash = config.policy.hash(),
        dry_run = config.policy.limits.dry_run,
        max_cancellations_per_run = config.policy.limits.max_per_run,
        max_cancellations_per_day = config.policy.limits.max_per_day,
        rules = config.policy.rules.len(),
        "policy loaded"
    );

    let sdk = load_sdk_config().await;
    let partner_central = PartnerCentralClients::new(&sdk, &config.common);
    let catalog = config.common.catalog;
    let account = PartnerCentralAccount::new(partner_central.account.clone(), catalog);
    let store =
        DynamoStateStore::new(dynamodb_client(&sdk), &config.state.table_name, catalog, config.state.retention());
    let publisher =
        EventBridgePublisher::new(eventbridge_client(&sdk), &config.common.event_bus_name, &config.common.event_source);
    let settings = Settings { include_contact_details: config.include_contact_details, catalog };
    let function = AutoCancel {
        ports: Ports {
            connections: &account,
            engagements: &(),
            store: &store,
            publisher: &publisher,
            clock: &partner_central.clock,
            calls: &partner_central.calls,
        },
        // The allowances live in the same state table: the same store, one DynamoDB client.
        budget: &store,
        policy: &config.policy,
        settings: &settings,
    };
    let function = &function;
    // Boxed: the run's future is deep, and its layout would otherwise be computed inline in
    // the runtime's (past the compiler's default recursion limit).
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(async move { function.handle(event.payload, &event.context.request_id).await.map_err(Failure) })
    }))
    .await
}
