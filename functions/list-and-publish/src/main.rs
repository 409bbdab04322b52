//! The Lambda entry point: configuration and clients once per process, then one run per
//! invocation.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::adapters::AwsAdapters;
use shared::config::Env;
use shared::run::Failure;

use list_and_publish::{Config, ListAndPublish};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_logging();
    let config =
        Config::from_env(&Env::process()).inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let adapters = AwsAdapters::load(&config.common, &config.state).await;
    let function = ListAndPublish { config: &config, ports: adapters.ports() };
    let function = &function;
    // Boxed: the run's future is deep, and its layout would otherwise be computed inline in
    // the runtime's (past the compiler's default recursion limit).
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(async move { function.handle(&event.payload).await.map_err(Failure) })
    }))
    .await
}
