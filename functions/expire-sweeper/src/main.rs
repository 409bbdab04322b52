//! Lambda entry point: configuration and clients once, then one sweep per invocation.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use expire_sweeper::{Config, handle};
use shared::adapters::AwsAdapters;
use shared::config::Env;
use shared::run::Failure;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init_logging();
    let config =
        Config::from_env(&Env::process()).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    tracing::info!(
        warning_hours = ?config.sweep.warning_hours,
        participant_types = ?config.sweep.participant_types,
        digest = config.sweep.digest,
        catalog = %config.common.catalog,
        "expire-sweeper starting"
    );
    let adapters = AwsAdapters::load(&config.common, &config.state).await;
    let ports = adapters.ports();
    let settings = &config.sweep;
    let ports = &ports;
    // Boxed: the run's future is deep, and its layout would otherwise be computed inline in
    // the runtime's (past the compiler's default recursion limit).
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(async move { handle(ports, settings, event.payload).await.map_err(Failure) })
    }))
    .await
}
