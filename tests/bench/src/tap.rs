//! A recording HTTP forwarder: put it between a function process and one of its endpoints to
//! see exactly what the process sends, and when. Used in front of moto's DynamoDB endpoint
//! (state I/O calls per operation, through `AWS_ENDPOINT_URL_DYNAMODB`) and in front of the
//! Lambda Runtime API (the instant of the runtime's first `/next` poll = end of init, through
//! `AWS_LAMBDA_RUNTIME_API`). It forwards every request unchanged and the answer unchanged.
//! It can also hold one request of a given operation, before or after forwarding it, so the
//! chaos suite can kill the caller at that exact point, and answer a fraction of DynamoDB
//! requests with a fault instead of forwarding them ([`StateFault`]: throttling, 5xx, a
//! canceled transaction) — the state store failing as DynamoDB does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Notify, oneshot};

use harness::serve::{Loopback, serve_loopback};

use crate::{Error, Result};

/// One request seen by the tap.
#[derive(Debug, Clone)]
pub struct TapRecord {
    /// When the request arrived.
    pub at: Instant,
    pub method: String,
    pub path: String,
    /// `X-Amz-Target`, e.g. `DynamoDB_20120810.TransactWriteItems`.
    pub target: Option<String>,
}

impl TapRecord {
    /// The operation name of an AWS JSON request (`TransactWriteItems`), if any.
    pub fn operation(&self) -> Option<&str> {
        self.target.as_deref().map(|t| t.rsplit_once('.').map_or(t, |(_, op)| op))
    }
}

/// A request to hold: the next one of `operation`, before it is forwarded (it never happens
/// if the caller dies meanwhile) or after (it happened; the caller never learns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapHold {
    pub operation: String,
    pub after_forwarding: bool,
}

/// A DynamoDB failure the tap answers with (the request never reaches moto).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StateFault {
    /// HTTP 400 `ProvisionedThroughputExceededException` (the SDK retries it).
    ProvisionedThroughputExceeded,
    /// HTTP 400 `ThrottlingException` (the SDK retries it).
    Throttling,
    /// HTTP 500 `InternalServerError` (the SDK retries it).
    InternalServerError,
    /// HTTP 400 `TransactionCanceledException` with a `TransactionConflict` reason, on
    /// `TransactWriteItems` only (not retried by the SDK: the caller's conflict handling).
    TransactionCanceled,
}

impl StateFault {
    pub fn name(self) -> &'static str {
        match self {
            StateFault::ProvisionedThroughputExceeded => "ProvisionedThroughputExceededException",
            StateFault::Throttling => "ThrottlingException",
            StateFault::InternalServerError => "InternalServerError",
            StateFault::TransactionCanceled => "TransactionCanceledException",
        }
    }

    /// The answer DynamoDB gives (awsJson1_0); `items`: the transaction's items.
    fn response(self, items: usize) -> Response<Full<Bytes>> {
        let shape = format!("com.amazonaws.dynamodb.v20120810#{}", self.name());
        let (status, body) = match self {
            StateFault::InternalServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"__type": shape, "message": "Internal server error (injected by the tap)"}),
            ),
            StateFault::TransactionCanceled => {
                let reasons: Vec<serde_json::Value> = (0..items.max(1))
                    .map(|i| {
                        if i == 0 {
                            serde_json::json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"})
                        } else {
                            serde_json::json!({"Code": "None"})
                        }
                    })
                    .collect();
                (
                    StatusCode::BAD_REQUEST,
                    serde_json::json!({"__type": shape, "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict] (injected by the tap)", "CancellationReasons": reasons}),
                )
            }
            _ => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"__type": shape, "message": "Rate exceeded (injected by the tap)"}),
            ),
        };
        let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
        *r.status_mut() = status;
        r.headers_mut()
            .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"));
        r
    }
}

/// Fault injection on DynamoDB requests: the fraction answered with a [`StateFault`], from a
/// seeded, deterministic stream.
struct Faults {
    rate: f64,
    rng: u64,
    injected: BTreeMap<StateFault, u64>,
}

impl Faults {
    fn roll(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The fault for this request, if it gets one.
    fn decide(&mut self, operation: &str) -> Option<StateFault> {
        if self.rate <= 0.0 || self.roll() >= self.rate {
            return None;
        }
        let kinds: &[StateFault] = if operation == "TransactWriteItems" {
            &[
                StateFault::ProvisionedThroughputExceeded,
                StateFault::Throttling,
                StateFault::InternalServerError,
                StateFault::TransactionCanceled,
            ]
        } else {
            &[StateFault::ProvisionedThroughputExceeded, StateFault::Throttling, StateFault::InternalServerError]
        };
        let fault = kinds[((self.roll() * kinds.len() as f64) as usize).min(kinds.len() - 1)];
        *self.injected.entry(fault).or_default() += 1;
        Some(fault)
    }
}

struct TapState {
    upstream: String,
    faults: Mutex<Faults>,
    records: Mutex<Vec<TapRecord>>,
    http: Client<HttpConnector, Full<Bytes>>,
    hold: Mutex<Option<TapHold>>,
    held: Notify,
    release: Mutex<Vec<oneshot::Sender<()>>>,
    /// Upstream answers that were a lost conditional write (`ConditionalCheckFailedException`,
    /// or a `TransactionCanceledException` with a `ConditionalCheckFailed` reason), by operation.
    lost_conditions: Mutex<BTreeMap<String, u64>>,
}

impl TapState {
    /// If `operation` is the armed hold at this point, disarm it and wait for the release.
    async fn hold_point(&self, operation: Option<&str>, after_forwarding: bool) {
        let rx = {
            let mut hold = self.hold.lock().unwrap_or_else(|e| e.into_inner());
            let matches = hold
                .as_ref()
                .is_some_and(|h| Some(h.operation.as_str()) == operation && h.after_forwarding == after_forwarding);
            if !matches {
                return;
            }
            *hold = None;
            let (tx, rx) = oneshot::channel();
            self.release.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
            rx
        };
        self.held.notify_one();
        if rx.await.is_err() {
            tracing::debug!("tap hold dropped");
        }
    }
}

/// The running tap (clones share it); stops when the last clone is dropped.
#[derive(Clone)]
pub struct Tap {
    state: Arc<TapState>,
    server: Arc<Loopback>,
}

async fn forward(state: Arc<TapState>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>> {
    let (parts, body) = request.into_parts();
    let record = TapRecord {
        at: Instant::now(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        target: parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned),
    };
    let operation = record.operation().map(str::to_owned);
    let dynamodb = record.target.as_deref().is_some_and(|t| t.starts_with("DynamoDB_"));
    state.records.lock().unwrap_or_else(|e| e.into_inner()).push(record);
    state.hold_point(operation.as_deref(), false).await;
    let body = body.collect().await.map_err(|e| Error::msg(format!("tap: request body: {e}")))?.to_bytes();
    if dynamodb {
        let op = operation.as_deref().unwrap_or_default();
        let fault = state.faults.lock().unwrap_or_else(|e| e.into_inner()).decide(op);
        if let Some(fault) = fault {
            let items = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("TransactItems").and_then(serde_json::Value::as_array).map(Vec::len))
                .unwrap_or(1);
            return Ok(fault.response(items));
        }
    }
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut builder =
        Request::builder().method(parts.method.clone()).uri(format!("{}{path_and_query}", state.upstream));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            builder = builder.header(name, value);
        }
    }
    let request = builder.body(Full::new(body)).map_err(|e| Error::msg(e.to_string()))?;
    let response = state.http.request(request).await.map_err(|e| Error::msg(format!("tap: upstream: {e}")))?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| Error::msg(format!("tap: response body: {e}")))?.to_bytes();
    if dynamodb && parts.status == StatusCode::BAD_REQUEST && contains(&body, b"ConditionalCheckFailed") {
        let op = operation.clone().unwrap_or_default();
        *state.lost_conditions.lock().unwrap_or_else(|e| e.into_inner()).entry(op).or_default() += 1;
    }
    state.hold_point(operation.as_deref(), true).await;
    let mut out = Response::new(Full::new(body));
    *out.status_mut() = parts.status;
    for (name, value) in &parts.headers {
        if name != hyper::header::CONTENT_LENGTH && name != hyper::header::TRANSFER_ENCODING {
            out.headers_mut().append(name, value.clone());
        }
    }
    Ok(out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Tap {
    /// Listen on a free loopback port, forwarding to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Result<Tap> {
        let state = Arc::new(TapState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            faults: Mutex::new(Faults { rate: 0.0, rng: 1, injected: BTreeMap::new() }),
            records: Mutex::new(Vec::new()),
            http: Client::builder(TokioExecutor::new()).build_http(),
            hold: Mutex::new(None),
            held: Notify::new(),
            release: Mutex::new(Vec::new()),
            lost_conditions: Mutex::new(BTreeMap::new()),
        });
        let server = serve_loopback("tap", state.clone(), |state, req| async move {
            forward(state, req).await.unwrap_or_else(|e| {
                let mut r = Response::new(Full::new(Bytes::from(e.to_string())));
                *r.status_mut() = StatusCode::BAD_GATEWAY;
                r
            })
        })
        .await?;
        Ok(Tap { state, server: Arc::new(server) })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Everything seen so far.
    pub fn records(&self) -> Vec<TapRecord> {
        self.state.records.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forget what was seen.
    pub fn clear(&self) {
        self.state.records.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Requests per AWS operation (requests without a target are left out).
    pub fn operations(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for r in self.records() {
            if let Some(op) = r.operation() {
                *out.entry(op.to_owned()).or_default() += 1;
            }
        }
        out
    }

    /// DynamoDB's answers that were a lost conditional write (another writer came first), by
    /// operation: what the callers had to re-read and decide again (or give up on).
    pub fn lost_conditions(&self) -> BTreeMap<String, u64> {
        self.state.lost_conditions.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Answer `rate` of the DynamoDB requests from now on with a fault (0: none); `seed`
    /// reseeds the decisions.
    pub fn set_state_faults(&self, rate: f64, seed: u64) {
        let mut f = self.state.faults.lock().unwrap_or_else(|e| e.into_inner());
        f.rate = rate;
        f.rng = seed.max(1);
    }

    /// The faults injected so far, per kind.
    pub fn state_faults_injected(&self) -> BTreeMap<StateFault, u64> {
        self.state.faults.lock().unwrap_or_else(|e| e.into_inner()).injected.clone()
    }

    /// Hold the next request of `hold.operation` (replacing a hold still armed).
    pub fn arm_hold(&self, hold: TapHold) {
        *self.state.hold.lock().unwrap_or_else(|e| e.into_inner()) = Some(hold);
    }

    /// Resolves once a request is held (at once if one was held since the last wait).
    pub async fn wait_until_held(&self) {
        self.state.held.notified().await;
    }

    /// Disarm, and let any held request go on (it completes only if its caller is still there).
    pub fn release(&self) {
        *self.state.hold.lock().unwrap_or_else(|e| e.into_inner()) = None;
        for tx in self.state.release.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            if tx.send(()).is_err() {
                tracing::debug!("held request already gone");
            }
        }
    }

    /// When the first request whose path ends with `suffix` arrived after `since`.
    pub fn first_path_suffix(&self, suffix: &str, since: Instant) -> Option<Instant> {
        self.records().into_iter().filter(|r| r.at >= since && r.path.ends_with(suffix)).map(|r| r.at).min()
    }
}
