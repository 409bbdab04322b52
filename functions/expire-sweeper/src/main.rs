//! Lambda entry point: configuration and clients once, then one sweep per invocation.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

use expire_sweeper::{Config, Ports, SweepError, handle};
use shared::adapters::{
    DynamoStateStore, EventBridgePublisher, PartnerCentralAccount, PartnerCentralClients, PartnerCentralSelling,
    dynamodb_client, eventbridge_client, load_sdk_config,
};
use shared::config::Env;

/// The function's error as Lambda reports it (`errorType`, `errorMessage`).
struct Failure(SweepError);

impl From<Failure> for Diagnostic {
    fn from(Failure(e): Failure) -> Diagnostic {
        let error_type = match &e {
            SweepError::Input(_) => "InvalidInput",
            SweepError::Store(_) => "StateTableError",
            SweepError::PartnerCentral(_) => "PartnerCentralError",
            SweepError::Render(_) => "RenderError",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: e.to_string() }
    }
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

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
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let ports = &ports;
        async move { handle(ports, settings, event.payload).await.map_err(Failure) }
    }))
    .await
}
