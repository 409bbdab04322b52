//! Lambda entry point: configuration and clients once, then one sweep per invocation.

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use expire_sweeper::{Config, handle};
use shared::adapters::{AwsAdapters, HealthProbes, Reads};
use shared::config::Env;
use shared::run::Failure;

#[tokio::main]
async fn main() {
    shared::telemetry::init_logging();
    let config = shared::entry::or_exit(Config::from_env(&Env::process()), "invalid configuration");
    tracing::info!(
        warning_hours = ?config.sweep.warning_hours,
        participant_types = ?config.sweep.participant_types,
        digest = config.sweep.digest,
        catalog = %config.common.catalog,
        "expire-sweeper starting"
    );
    let adapters = AwsAdapters::load(&config.common, &config.state).await;
    let health = HealthProbes {
        function: "expire-sweeper",
        account: Some((&adapters.account, Reads::List)),
        selling: Some((&adapters.selling, Reads::List)),
        store: &adapters.store,
        publisher: &adapters.publisher,
    };
    let ports = adapters.ports();
    let settings = &config.sweep;
    let ports = &ports;
    // Boxed: the run's future is deep, and its layout would otherwise be computed inline in
    // the runtime's (past the compiler's default recursion limit).
    shared::entry::serve(health, move |event: LambdaEvent<Value>| {
        Box::pin(async move { handle(ports, settings, event.payload).await.map_err(Failure) })
    })
    .await
}
