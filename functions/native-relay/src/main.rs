//! The Lambda entry point: configuration and clients once per process, then one relay per
//! invocation (an SQS batch of native events, or one native event).

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::adapters::{AwsAdapters, HealthProbes, Reads};
use shared::config::Env;
use shared::run::Failure;

use native_relay::{Config, NativeRelay};

#[tokio::main]
async fn main() {
    shared::telemetry::init_logging();
    let config = shared::entry::or_exit(Config::from_env(&Env::process()), "invalid configuration");
    let adapters = AwsAdapters::load(&config.common, &config.state).await;
    // native-relay only gets invitations by id.
    let health = HealthProbes {
        function: "native-relay",
        account: Some((&adapters.account, Reads::Get)),
        selling: Some((&adapters.selling, Reads::Get)),
        store: &adapters.store,
        publisher: &adapters.publisher,
    };
    let function = NativeRelay { config: &config, ports: adapters.ports() };
    let function = &function;
    // Boxed: the run's future is deep (as in the other functions).
    shared::entry::serve(health, move |event: LambdaEvent<Value>| {
        Box::pin(async move { function.handle(&event.payload).await.map_err(Failure) })
    })
    .await
}
