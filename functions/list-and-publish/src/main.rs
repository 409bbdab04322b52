//! The Lambda entry point: configuration and clients once per process, then one run per
//! invocation.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::adapters::{AwsAdapters, HealthProbes, Reads};
use shared::config::Env;
use shared::run::Failure;

use list_and_publish::{Config, ListAndPublish};

#[tokio::main]
async fn main() {
    shared::telemetry::init_logging();
    let config = shared::entry::or_exit(Config::from_env(&Env::process()), "invalid configuration");
    let adapters = AwsAdapters::load(&config.common, &config.state).await;
    let health = HealthProbes {
        function: "list-and-publish",
        account: Some((&adapters.account, Reads::List)),
        selling: Some((&adapters.selling, Reads::List)),
        store: &adapters.store,
        publisher: &adapters.publisher,
    };
    let function = ListAndPublish { config: &config, ports: adapters.ports() };
    let function = &function;
    // Boxed: the run's future is deep, and its layout would otherwise be computed inline in
    // the runtime's (past the compiler's default recursion limit).
    shared::entry::serve(health, move |event: LambdaEvent<Value>| {
        Box::pin(async move { function.handle(&event.payload).await.map_err(Failure) })
    })
    .await
}
