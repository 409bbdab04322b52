//! The auto-cancel Lambda: configuration and clients once, then one run per invocation.

use auto_cancel::{AutoCancel, Config, Settings};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::adapters::{AwsAdapters, HealthProbes, Reads, SsmParameters};
use shared::config::Env;
use shared::run::{Failure, Ports};

#[tokio::main]
async fn main() {
    shared::telemetry::init_logging();
    // The policy from its variable, or from the SSM parameter its `…_POLICY_PARAMETER` names.
    let parameters = SsmParameters::load().await;
    let config = shared::entry::or_exit(Config::load(&Env::process(), &parameters).await, "invalid configuration");
    config.policy.log_loaded(&config.policy_source);

    let adapters = AwsAdapters::load(&config.common, &config.state).await;
    let health = HealthProbes {
        function: "auto-cancel",
        account: Some((&adapters.account, Reads::List)),
        selling: None,
        store: &adapters.store,
        publisher: &adapters.publisher,
    };
    let catalog = config.common.catalog;
    let settings = Settings {
        include_contact_details: config.include_contact_details,
        catalog,
        requests_per_second: config.common.max_requests_per_second.get(),
    };
    let function = AutoCancel {
        // No engagement invitations: auto-cancel cancels connection invitations we sent.
        ports: Ports {
            connections: &adapters.account,
            engagements: &(),
            store: &adapters.store,
            publisher: &adapters.publisher,
            clock: &adapters.clock,
            calls: &adapters.calls,
        },
        // The allowances live in the same state table: the same store, one DynamoDB client.
        budget: &adapters.store,
        policy: &config.policy,
        settings: &settings,
    };
    let function = &function;
    // Boxed: the run's future is deep, and its layout would otherwise be computed inline in
    // the runtime's (past the compiler's default recursion limit).
    shared::entry::serve(health, move |event: LambdaEvent<Value>| {
        Box::pin(async move {
            let deadline = shared::policy::engine::lambda_deadline(event.context.deadline);
            function.handle(event.payload, &event.context.request_id, deadline).await.map_err(Failure)
        })
    })
    .await
}
