//! A fault-injecting proxy in front of moto's EventBridge endpoint, selected by the function
//! through `AWS_ENDPOINT_URL_EVENTBRIDGE`. PutEvents calls can fail whole, lose some entries
//! (which are then really not delivered), or be held until the test releases them (to kill
//! a function at a known point). Faults are deterministic from a seed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

use crate::serve::{Loopback, serve_loopback};
use crate::{Error, Result};

/// What to do to PutEvents calls.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PutEventsFaults {
    /// Fraction of calls answered with HTTP 500 `InternalException` (nothing delivered).
    pub fail_call_rate: f64,
    /// Fraction of entries (of calls not failed whole) reported failed with
    /// `InternalFailure` and not delivered.
    pub fail_entry_rate: f64,
    /// Hold every PutEvents call until [`EventBridgeProxy::release`].
    pub hold: bool,
}

/// What the proxy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    pub put_events_calls: u64,
    pub calls_failed: u64,
    pub entries_failed: u64,
    pub entries_forwarded: u64,
}

struct State {
    upstream: String,
    faults: Mutex<PutEventsFaults>,
    rng: Mutex<u64>,
    held: Notify,
    /// Held calls wait here for the test's decision: forward (true) or fail (false).
    held_calls: Mutex<Vec<oneshot::Sender<bool>>>,
    calls: AtomicU64,
    calls_failed: AtomicU64,
    entries_failed: AtomicU64,
    entries_forwarded: AtomicU64,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl State {
    /// xorshift64*: deterministic from the seed, no dependency.
    fn roll(&self) -> f64 {
        let mut s = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        let v = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The running proxy; stops when dropped.
pub struct EventBridgeProxy {
    state: Arc<State>,
    server: Loopback,
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"));
    r
}

async fn forward(state: &State, parts: &hyper::http::request::Parts, body: Bytes) -> Result<(StatusCode, Bytes)> {
    let mut builder = Request::builder().method(parts.method.clone()).uri(format!("{}{}", state.upstream, parts.uri));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            builder = builder.header(name, value);
        }
    }
    let request = builder.body(Full::new(body)).map_err(|e| Error::msg(e.to_string()))?;
    let response = state.http.request(request).await.map_err(|e| Error::msg(format!("upstream: {e}")))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| Error::msg(e.to_string()))?.to_bytes();
    Ok((status, body))
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|e| Error::msg(e.to_string()))?.to_bytes();
    let is_put_events =
        parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).is_some_and(|t| t.ends_with(".PutEvents"));
    if !is_put_events {
        let (status, body) = forward(&state, &parts, body).await?;
        let mut r = Response::new(Full::new(body));
        *r.status_mut() = status;
        return Ok(r);
    }

    state.calls.fetch_add(1, Ordering::SeqCst);
    let faults = *state.faults.lock().unwrap_or_else(|e| e.into_inner());
    if faults.hold {
        let (decide, decision) = oneshot::channel();
        state.held_calls.lock().unwrap_or_else(|e| e.into_inner()).push(decide);
        state.held.notify_one();
        if !decision.await.unwrap_or(false) {
            state.calls_failed.fetch_add(1, Ordering::SeqCst);
            let err = json!({"__type": "InternalException", "message": "held call discarded by the test"});
            return Ok(json_response(StatusCode::INTERNAL_SERVER_ERROR, &err));
        }
    }
    if faults.fail_call_rate > 0.0 && state.roll() < faults.fail_call_rate {
        state.calls_failed.fetch_add(1, Ordering::SeqCst);
        let err = json!({"__type": "InternalException", "message": "injected by the test proxy"});
        return Ok(json_response(StatusCode::INTERNAL_SERVER_ERROR, &err));
    }

    let mut request: Value = serde_json::from_slice(&body).map_err(|e| Error::msg(format!("PutEvents body: {e}")))?;
    let entries = request["Entries"].as_array().cloned().unwrap_or_default();
    let failed: Vec<bool> =
        entries.iter().map(|_| faults.fail_entry_rate > 0.0 && state.roll() < faults.fail_entry_rate).collect();
    let kept: Vec<Value> = entries.iter().zip(&failed).filter(|(_, f)| !**f).map(|(e, _)| e.clone()).collect();
    let n_failed = failed.iter().filter(|f| **f).count() as u64;
    state.entries_failed.fetch_add(n_failed, Ordering::SeqCst);
    state.entries_forwarded.fetch_add(kept.len() as u64, Ordering::SeqCst);

    let mut upstream_results = Vec::new().into_iter();
    if !kept.is_empty() {
        request["Entries"] = Value::Array(kept);
        let (status, body) = forward(&state, &parts, Bytes::from(request.to_string())).await?;
        if !status.is_success() {
            let mut r = Response::new(Full::new(body));
            *r.status_mut() = status;
            return Ok(r);
        }
        let upstream: Value = serde_json::from_slice(&body).map_err(|e| Error::msg(format!("moto answer: {e}")))?;
        upstream_results = upstream["Entries"].as_array().cloned().unwrap_or_default().into_iter();
    }
    let mut failed_count = 0;
    let results: Vec<Value> = failed
        .iter()
        .map(|f| {
            if *f {
                failed_count += 1;
                json!({"ErrorCode": "InternalFailure", "ErrorMessage": "injected by the test proxy"})
            } else {
                let r = upstream_results.next().unwrap_or(Value::Null);
                if r.get("ErrorCode").is_some() {
                    failed_count += 1;
                }
                r
            }
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({"FailedEntryCount": failed_count, "Entries": results})))
}

impl EventBridgeProxy {
    /// Listen on a free loopback port, forwarding to `upstream` (moto's endpoint).
    pub async fn start(upstream: &str, seed: u64) -> Result<EventBridgeProxy> {
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            faults: Mutex::new(PutEventsFaults::default()),
            rng: Mutex::new(seed.max(1)),
            held: Notify::new(),
            held_calls: Mutex::new(Vec::new()),
            calls: AtomicU64::new(0),
            calls_failed: AtomicU64::new(0),
            entries_failed: AtomicU64::new(0),
            entries_forwarded: AtomicU64::new(0),
            http: Client::builder(TokioExecutor::new()).build_http(),
        });
        let server = serve_loopback("proxy", state.clone(), |state, req| async move {
            handle(state, req).await.unwrap_or_else(|e| {
                json_response(StatusCode::BAD_GATEWAY, &json!({"__type": "ProxyError", "message": e.to_string()}))
            })
        })
        .await?;
        Ok(EventBridgeProxy { state, server })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    pub fn set_faults(&self, faults: PutEventsFaults) {
        *self.state.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Resolves once a PutEvents call is being held.
    pub async fn wait_until_held(&self) {
        self.state.held.notified().await;
    }

    /// Stop holding; held calls go through (`forward`) or fail without delivering anything
    /// (e.g. their caller was killed meanwhile).
    pub fn release(&self, forward: bool) {
        self.state.faults.lock().unwrap_or_else(|e| e.into_inner()).hold = false;
        for decide in self.state.held_calls.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            // The call may be gone already (connection closed): nothing to decide then.
            if decide.send(forward).is_err() {
                continue;
            }
        }
    }

    pub fn stats(&self) -> ProxyStats {
        ProxyStats {
            put_events_calls: self.state.calls.load(Ordering::SeqCst),
            calls_failed: self.state.calls_failed.load(Ordering::SeqCst),
            entries_failed: self.state.entries_failed.load(Ordering::SeqCst),
            entries_forwarded: self.state.entries_forwarded.load(Ordering::SeqCst),
        }
    }
}
