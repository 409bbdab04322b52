//! AWS resources on moto: the custom bus, the state table, and a consumer queue behind a
//! rule (standing in for a consumer in another account).

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde_json::Value;

use crate::{Error, Result};

/// Fake credentials every stand-in accepts.
pub const ACCESS_KEY: &str = "test";
pub const SECRET_KEY: &str = "test";
pub const REGION: &str = "us-east-1";

/// SDK configuration pointing every service at `endpoint`.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "harness"))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// Create an event bus; returns its ARN.
pub async fn create_bus(eb: &aws_sdk_eventbridge::Client, name: &str) -> Result<String> {
    let out = eb.create_event_bus().name(name).send().await.map_err(Error::sdk("CreateEventBus"))?;
    Ok(out.event_bus_arn().unwrap_or_default().to_owned())
}

pub async fn delete_bus(eb: &aws_sdk_eventbridge::Client, name: &str) -> Result<()> {
    eb.delete_event_bus().name(name).send().await.map_err(Error::sdk("DeleteEventBus"))?;
    Ok(())
}

/// The state table as the SAM template defines it: `pk`/`sk` strings, on-demand, TTL on
/// `ttl`.
pub async fn create_state_table(ddb: &aws_sdk_dynamodb::Client, name: &str) -> Result<()> {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(Error::build)
    };
    let key =
        |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().map_err(Error::build);
    ddb.create_table()
        .table_name(name)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(Error::sdk("CreateTable"))?;
    ddb.update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().enabled(true).attribute_name("ttl").build().map_err(Error::build)?,
        )
        .send()
        .await
        .map_err(Error::sdk("UpdateTimeToLive"))?;
    Ok(())
}

/// An SQS queue receiving everything a rule on the bus matches.
#[derive(Debug, Clone)]
pub struct Consumer {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl Consumer {
    /// Queue `<name>` behind rule `<name>` on `bus`, matching `pattern`.
    pub async fn create(
        eb: &aws_sdk_eventbridge::Client,
        sqs: &aws_sdk_sqs::Client,
        bus: &str,
        name: &str,
        pattern: &Value,
    ) -> Result<Consumer> {
        let (queue_url, queue_arn) = create_queue(sqs, name).await?;
        eb.put_rule()
            .name(name)
            .event_bus_name(bus)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .map_err(Error::sdk("PutRule"))?;
        eb.put_targets()
            .rule(name)
            .event_bus_name(bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .map_err(Error::build)?,
            )
            .send()
            .await
            .map_err(Error::sdk("PutTargets"))?;
        Ok(Consumer { sqs: sqs.clone(), queue_url })
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Receive (and delete) messages until `count` have arrived or `wait` has passed, long
    /// polling (at most 1 s per receive), so it returns as soon as the last one is in.
    pub async fn receive(&self, count: usize, wait: std::time::Duration) -> Result<Vec<Value>> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut events = Vec::new();
        while events.len() < count {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            events.extend(self.receive_once(1).await?);
        }
        Ok(events)
    }

    /// One `ReceiveMessage` (up to 10, waiting up to `wait_secs`); what came is deleted.
    async fn receive_once(&self, wait_secs: i32) -> Result<Vec<Value>> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_secs)
            .send()
            .await
            .map_err(Error::sdk("ReceiveMessage"))?;
        let mut events = Vec::new();
        for m in out.messages() {
            let body = m.body().unwrap_or_default();
            events.push(serde_json::from_str(body).map_err(|e| Error::msg(format!("queue message is not JSON: {e}")))?);
            if let Some(handle) = m.receipt_handle() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(Error::sdk("DeleteMessage"))?;
            }
        }
        Ok(events)
    }

    /// Every event waiting in the queue (then deleted), in arrival order. moto delivers
    /// rule targets during PutEvents, so once a function has returned its events are here.
    pub async fn drain(&self) -> Result<Vec<Value>> {
        let mut events = Vec::new();
        loop {
            let batch = self.receive_once(0).await?;
            if batch.is_empty() {
                return Ok(events);
            }
            events.extend(batch);
        }
    }
}

/// Queue `name`: its URL and ARN.
async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<(String, String)> {
    let created = sqs.create_queue().queue_name(name).send().await.map_err(Error::sdk("CreateQueue"))?;
    let queue_url = created.queue_url().unwrap_or_default().to_owned();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(Error::sdk("GetQueueAttributes"))?;
    let queue_arn = attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default();
    Ok((queue_url, queue_arn))
}

/// Topic `name` (moto's SNS) with queue `<name>-subscriber` subscribed to it: its ARN and the
/// queue, which receives SNS's envelopes.
pub async fn notification_topic(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> Result<(String, Consumer)> {
    let topic = sns.create_topic().name(name).send().await.map_err(Error::sdk("CreateTopic"))?;
    let topic_arn = topic.topic_arn().unwrap_or_default().to_owned();
    let (queue_url, queue_arn) = create_queue(sqs, &format!("{name}-subscriber")).await?;
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .map_err(Error::sdk("Subscribe"))?;
    Ok((topic_arn, Consumer { sqs: sqs.clone(), queue_url }))
}

/// Name of the queue (and of its rule) that receives Partner Central's native events.
pub const NATIVE_EVENTS_QUEUE: &str = "partnercentral-native-events";

/// The rule pattern the fast path uses on the default bus: both native sources, the invitation
/// detail-types, and the catalog in `detail.catalog`.
pub fn native_events_pattern(catalog: &str) -> Value {
    serde_json::json!({
        "source": [partnercentral_local::native::SELLING_SOURCE, partnercentral_local::native::ACCOUNT_SOURCE],
        "detail-type": partnercentral_local::native::INVITATION_DETAIL_TYPES,
        "detail": {"catalog": [catalog]},
    })
}

/// Queue [`NATIVE_EVENTS_QUEUE`] behind a rule on the `default` bus matching
/// [`native_events_pattern`] for `catalog`: where the emulator's native events arrive.
pub async fn native_events_queue(
    eb: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    catalog: &str,
) -> Result<Consumer> {
    Consumer::create(eb, sqs, "default", NATIVE_EVENTS_QUEUE, &native_events_pattern(catalog)).await
}
