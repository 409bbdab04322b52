//! The Lambda entry point: configuration and the SNS client once per process, then one
//! notification per invocation (an event an EventBridge rule on our bus delivers).

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use shared::config::Env;

use notify::{Config, Notify, NotifyHealth, SnsPublisher};

#[tokio::main]
async fn main() {
    shared::telemetry::init_logging();
    let config = shared::entry::or_exit(Config::from_env(&Env::process()), "invalid configuration");
    let sdk = shared::adapters::load_sdk_config().await;
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), &config.topic_arn);
    let health = NotifyHealth { publisher: &publisher, catalog: config.catalog, context: &config.context };
    let notify = Notify { context: &config.context, publisher: &publisher };
    let notify = &notify;
    shared::entry::serve(health, move |event: LambdaEvent<Value>| async move {
        notify
            .handle(&event.payload)
            .await
            .map_err(|e| Diagnostic { error_type: "NotifyError".into(), error_message: e.to_string() })
    })
    .await
}
