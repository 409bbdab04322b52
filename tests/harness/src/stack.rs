//! The whole local world of an end-to-end test or the demo: Partner Central emulator,
//! moto (EventBridge, SQS, DynamoDB), the EventBridge fault proxy in front of moto, the
//! custom bus, the state table, a consumer queue behind a rule matching our source, and the
//! Lambda runtime the function binaries run under.

use std::path::Path;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use partnercentral_local::{
    Emulator, EmulatorHandle, FaultConfig, GenerateConfig, NativeEventsConfig, NativeFaults, SeedDocument,
};
use serde_json::{Value, json};

use crate::aws::{
    ACCESS_KEY, Consumer, REGION, SECRET_KEY, create_bus, create_state_table, native_events_queue, notification_topic,
    sdk_config,
};
use crate::lambda::{FunctionProcess, Invocation, RuntimeApi};
use crate::moto::Moto;
use crate::process::workspace_root;
use crate::proxy::EventBridgeProxy;
use crate::{Error, Result};

/// The `EVENT_SOURCE` the functions publish with (the default).
pub const EVENT_SOURCE: &str = "partnercentral.invitations";
pub const BUS: &str = "partnercentral-invitations";
pub const TABLE: &str = "partnercentral-invitations-state";
/// notify's topic (moto's SNS), with an SQS queue subscribed to it ([`Stack::notifications`]).
pub const NOTIFICATION_TOPIC: &str = "partnercentral-invitations-notifications";

/// How to set the world up.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The emulator's (frozen) clock; default: now.
    pub clock: Option<DateTime<Utc>>,
    pub seed: Option<SeedDocument>,
    pub generate: Option<GenerateConfig>,
    pub emulator_faults: FaultConfig,
    /// Seed of the EventBridge proxy's fault decisions.
    pub proxy_seed: u64,
    /// Create the custom bus (false: a test creates it later, to see delivery recover).
    pub create_bus: bool,
    /// Let the emulator emit Partner Central's native events to moto's default bus, with these
    /// faults, routed by a rule (catalog `AWS`) to [`Stack::native_events`]. `None`: off.
    pub native_events: Option<NativeFaults>,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            clock: None,
            seed: None,
            generate: None,
            emulator_faults: FaultConfig::default(),
            proxy_seed: 1,
            create_bus: true,
            native_events: None,
        }
    }
}

/// Everything running; dropping it stops every process and server it started.
pub struct Stack {
    pub emulator: EmulatorHandle,
    pub moto: Moto,
    pub proxy: EventBridgeProxy,
    pub runtime: RuntimeApi,
    pub eventbridge: aws_sdk_eventbridge::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    /// notify's topic, and the queue subscribed to it (SNS's envelope kept).
    pub notification_topic_arn: String,
    notification_queue: Option<Consumer>,
    /// The consumer queue, behind a rule on the bus matching our `EVENT_SOURCE`.
    pub consumer: Option<Consumer>,
    /// With [`StackOptions::native_events`]: the queue behind the default bus rule matching
    /// Partner Central's native invitation events (`queue_url()` for a function's trigger).
    pub native_events: Option<Consumer>,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl Stack {
    pub async fn start(options: StackOptions) -> Result<Stack> {
        let moto = Moto::start().await?;
        let mut emulator = Emulator::builder()
            .listen(([127, 0, 0, 1], 0).into())
            .clock(options.clock.unwrap_or_else(Utc::now))
            .frozen_clock(true)
            .faults(options.emulator_faults.clone());
        if let Some(seed) = options.seed.clone() {
            emulator = emulator.seed(seed);
        }
        if let Some(generate) = options.generate.clone() {
            emulator = emulator.generate(generate);
        }
        if let Some(faults) = options.native_events.clone() {
            emulator =
                emulator.native_events(NativeEventsConfig { faults, ..NativeEventsConfig::new(moto.endpoint()) });
        }
        let emulator = emulator.spawn().await.map_err(|e| Error::msg(format!("emulator: {e}")))?;
        let proxy = EventBridgeProxy::start(moto.endpoint(), options.proxy_seed).await?;
        let runtime = RuntimeApi::start().await?;
        let conf = sdk_config(moto.endpoint()).await;
        let mut stack = Stack {
            eventbridge: aws_sdk_eventbridge::Client::new(&conf),
            dynamodb: aws_sdk_dynamodb::Client::new(&conf),
            sqs: aws_sdk_sqs::Client::new(&conf),
            sns: aws_sdk_sns::Client::new(&conf),
            notification_topic_arn: String::new(),
            notification_queue: None,
            emulator,
            moto,
            proxy,
            runtime,
            consumer: None,
            native_events: None,
            http: Client::builder(TokioExecutor::new()).build_http(),
        };
        create_state_table(&stack.dynamodb, TABLE).await?;
        let (topic_arn, queue) = notification_topic(&stack.sns, &stack.sqs, NOTIFICATION_TOPIC).await?;
        stack.notification_topic_arn = topic_arn;
        stack.notification_queue = Some(queue);
        if options.create_bus {
            stack.create_bus().await?;
        }
        if options.native_events.is_some() {
            stack.native_events = Some(native_events_queue(&stack.eventbridge, &stack.sqs, "AWS").await?);
        }
        Ok(stack)
    }

    /// Stop moto and the Lambda runtime and wait until they are gone (dropping the stack
    /// only sends the kill). A process that cannot be reaped is reported, not fatal.
    pub async fn shutdown(mut self) {
        for (name, stopped) in
            [("cargo lambda watch", self.runtime.stop().await), ("moto_server", self.moto.stop().await)]
        {
            if let Err(e) = stopped {
                tracing::warn!(process = name, error = %e, "could not stop");
            }
        }
    }

    /// Create the custom bus and the consumer behind it (if not done at start).
    pub async fn create_bus(&mut self) -> Result<()> {
        create_bus(&self.eventbridge, BUS).await?;
        let pattern = json!({"source": [EVENT_SOURCE]});
        self.consumer = Some(Consumer::create(&self.eventbridge, &self.sqs, BUS, "consumer", &pattern).await?);
        Ok(())
    }

    /// The environment of a deployed function, pointed at the stand-ins through the SDK's
    /// standard endpoint variables.
    pub fn function_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT", self.emulator.url()),
            ("AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING", self.emulator.url()),
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", self.proxy.endpoint()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.moto.endpoint().to_owned()),
            ("AWS_ENDPOINT_URL_SQS", self.moto.endpoint().to_owned()),
            ("AWS_ENDPOINT_URL_SNS", self.moto.endpoint().to_owned()),
            ("NOTIFICATION_TOPIC_ARN", self.notification_topic_arn.clone()),
            ("CATALOG", "AWS".to_owned()),
            ("EVENT_BUS_NAME", BUS.to_owned()),
            ("STATE_TABLE_NAME", TABLE.to_owned()),
            // The account the emulator's invitations and native events are of (the template
            // sets AWS::AccountId; native-relay ignores other accounts' events).
            ("OWN_ACCOUNT_ID", partnercentral_local::generate::OWN_ACCOUNT_ID.to_owned()),
            ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Start a function process from `bin` with [`Stack::function_env`] plus `overrides`.
    pub fn start_function(&self, name: &str, bin: &Path, overrides: &[(&str, &str)]) -> Result<FunctionProcess> {
        let mut env = self.function_env();
        for (k, v) in overrides {
            env.retain(|(key, _)| key != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        self.runtime.start_function(name, bin, &env)
    }

    pub async fn invoke(&self, name: &str, payload: &Value) -> Result<Invocation> {
        self.runtime.invoke(name, payload).await
    }

    /// Events that reached the consumer since the last call.
    pub async fn received(&self) -> Result<Vec<Value>> {
        match &self.consumer {
            Some(c) => c.drain().await,
            None => Ok(Vec::new()),
        }
    }

    /// What reached notify's topic since the last call: SNS envelopes (`Subject`, `Message`:
    /// the `default` of the per-protocol message, the custom notification).
    pub async fn notifications(&self) -> Result<Vec<Value>> {
        match &self.notification_queue {
            Some(q) => q.drain().await,
            None => Ok(Vec::new()),
        }
    }

    /// Call the emulator's control API (`/_emulator/<path>`).
    pub async fn emulator_control(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let uri = format!("{}/_emulator/{}", self.emulator.url(), path.trim_start_matches('/'));
        let request = hyper::Request::builder()
            .method(method)
            .uri(&uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default())))
            .map_err(|e| Error::msg(e.to_string()))?;
        let response = self.http.request(request).await.map_err(|e| Error::msg(format!("{method} {uri}: {e}")))?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(|e| Error::msg(e.to_string()))?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(Error::msg(format!("{method} {uri}: HTTP {status}: {value}")));
        }
        Ok(value)
    }

    /// Move the emulator's clock forward.
    pub async fn advance_clock(&self, hours: f64) -> Result<Value> {
        self.emulator_control("POST", "clock/advance", Some(json!({"seconds": (hours * 3600.0).round() as i64}))).await
    }

    /// The emulator's current time.
    pub async fn emulator_now(&self) -> Result<DateTime<Utc>> {
        let v = self.emulator_control("GET", "clock", None).await?;
        v["now"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| Error::msg(format!("clock answer without `now`: {v}")))
    }

    /// Patch one invitation (`kind`: `connection` or `engagement`), e.g. `{"Status": "ACCEPTED"}`.
    pub async fn patch_invitation(&self, kind: &str, id: &str, patch: Value) -> Result<Value> {
        self.emulator_control("PATCH", &format!("{kind}-invitations/AWS/{id}"), Some(patch)).await
    }

    /// Upsert one invitation in the seed format (`kind`: `connection` or `engagement`).
    pub async fn put_invitation(&self, kind: &str, invitation: Value) -> Result<Value> {
        self.emulator_control("POST", &format!("{kind}-invitations"), Some(invitation)).await
    }

    /// The emulator's native-event delivery: faults and counts (`emitted`, `dropped`,
    /// `duplicated`, `sent`, `failed`, `pending`).
    pub async fn native_events_status(&self) -> Result<Value> {
        self.emulator_control("GET", "native-events", None).await
    }

    /// Request counts per operation and the highest rate seen.
    pub async fn emulator_stats(&self) -> Result<Value> {
        self.emulator_control("GET", "stats", None).await
    }

    pub async fn reset_emulator_stats(&self) -> Result<()> {
        self.emulator_control("POST", "stats/reset", None).await.map(|_| ())
    }
}

/// An event file from `events/`, parsed.
pub fn event_file(name: &str) -> Result<Value> {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))
}
