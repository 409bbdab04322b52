//! The auto-respond Lambda: configuration and clients once, then one run per invocation.

use auto_respond::{AutoRespond, Config, Settings};
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
        function: "auto-respond",
        account: Some((&adapters.account, Reads::List)),
        selling: Some((&adapters.selling, Reads::List)),
        store: &adapters.store,
        publisher: &adapters.publisher,
    };
    let settings =
        Settings { catalog: config.common.catalog, requests_per_second: config.common.max_requests_per_second.get() };
    let function = AutoRespond {
        // Engagement invitations and connection invitations we received.
        ports: Ports {
            connections: &adapters.account,
            engagements: &adapters.selling,
            store: &adapters.store,
            publisher: &adapters.publisher,
            clock: &adapters.clock,
            calls: &adapters.calls,
        },
        // Accepting and rejecting go through the same Selling client (its writes paced).
        responses: &adapters.selling,
        // Answering connection invitations: the same Account client (its calls paced).
        answers: &adapters.account,
        // The allowances live in the same state table: the same store, one DynamoDB client.
        budget: &adapters.store,
        policy: &config.policy,
        settings: &settings,
    };
    let function = &function;
    // Boxed: the run's future is deep (see auto-cancel).
    shared::entry::serve(health, move |event: LambdaEvent<Value>| {
        Box::pin(async move {
            let deadline = shared::policy::engine::lambda_deadline(event.context.deadline);
            function.handle(event.payload, &event.context.request_id, deadline).await.map_err(Failure)
        })
    })
    .await
}
