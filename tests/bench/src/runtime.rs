//! A Lambda Runtime API of our own for the approvals chaos: the same protocol the functions'
//! `lambda_runtime` speaks to Lambda (`GET …/runtime/invocation/next`, `POST
//! …/invocation/<id>/response|error`), with what `cargo lambda watch` does not offer:
//! - an execution environment per name, whatever the name (`cargo lambda watch` serves only
//!   the workspace's binary names): processes of one function with different settings side
//!   by side, each addressed on its own (`AWS_LAMBDA_RUNTIME_API=<addr>/<name>`);
//! - the invocation's request id chosen by the caller: Lambda retries an invocation with the
//!   same request id, which the approval entry resumes by.
//!
//! One process per name, one invocation at a time (as Lambda gives an execution environment);
//! a name whose process was killed is not used again (its invocation is never answered).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use harness::lambda::Invocation;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use harness::serve::{Loopback, serve_loopback};

use crate::{Error, Result};

/// What an invocation's caller waits for.
type Reply = oneshot::Sender<Invocation>;

struct Queued {
    request_id: String,
    payload: Value,
    reply: Reply,
}

/// The queue of one name: the runtime's `next` takes from it.
struct Environment {
    tx: mpsc::UnboundedSender<Queued>,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>>,
}

#[derive(Default)]
struct State {
    environments: Mutex<HashMap<String, Environment>>,
    /// Invocations handed to a process, by request id, until it answers.
    in_flight: Mutex<HashMap<String, Reply>>,
}

impl State {
    fn environment(
        &self,
        name: &str,
    ) -> (mpsc::UnboundedSender<Queued>, Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>>) {
        let mut all = self.environments.lock().unwrap_or_else(|e| e.into_inner());
        let env = all.entry(name.to_owned()).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            Environment { tx, rx: Arc::new(tokio::sync::Mutex::new(rx)) }
        });
        (env.tx.clone(), env.rx.clone())
    }
}

/// The running Runtime API (clones share it); stops when the last clone is dropped.
#[derive(Clone)]
pub struct MiniRuntime {
    state: Arc<State>,
    server: Arc<Loopback>,
}

/// How long an invocation may run (`Lambda-Runtime-Deadline-Ms`): the template's timeout.
const TIMEOUT: Duration = Duration::from_secs(60);

fn respond(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r
}

async fn serve(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>> {
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [name, "2018-06-01", "runtime", "invocation", "next"] => {
            let (_, rx) = state.environment(name);
            let queued = rx.lock().await.recv().await;
            let Some(q) = queued else { return Ok(respond(StatusCode::GONE, Bytes::new())) };
            let deadline = SystemTime::now().checked_add(TIMEOUT).unwrap_or(SystemTime::now());
            let deadline_ms = deadline.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
            state.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(q.request_id.clone(), q.reply);
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-runtime-aws-request-id", q.request_id.as_str())
                .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
                .header(
                    "lambda-runtime-invoked-function-arn",
                    format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
                )
                .header("lambda-runtime-trace-id", format!("Root=1-00000000-{:024}", 0))
                .body(Full::new(Bytes::from(q.payload.to_string())))
                .map_err(|e| Error::msg(e.to_string()))
        }
        [_name, "2018-06-01", "runtime", "invocation", request_id, outcome @ ("response" | "error")] => {
            let body = request.into_body().collect().await.map_err(|e| Error::msg(e.to_string()))?.to_bytes();
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let answer = if *outcome == "response" {
                Invocation::Ok(value)
            } else {
                Invocation::FunctionError {
                    error_type: value["errorType"].as_str().unwrap_or_default().to_owned(),
                    message: value["errorMessage"].as_str().unwrap_or_default().to_owned(),
                }
            };
            let reply = state.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(*request_id);
            if let Some(reply) = reply
                && reply.send(answer).is_err()
            {
                tracing::debug!(request_id, "the caller no longer waits");
            }
            Ok(respond(StatusCode::ACCEPTED, Bytes::from_static(b"{}")))
        }
        [_name, "2018-06-01", "runtime", "init", "error"] => {
            tracing::warn!("a function process reported an init error");
            Ok(respond(StatusCode::ACCEPTED, Bytes::from_static(b"{}")))
        }
        _ => Ok(respond(StatusCode::NOT_FOUND, Bytes::from(format!("no such runtime path: {path}")))),
    }
}

impl MiniRuntime {
    /// Listen on a free loopback port.
    pub async fn start() -> Result<MiniRuntime> {
        let state = Arc::new(State::default());
        let server = serve_loopback("runtime", state.clone(), |state, req| async move {
            serve(state, req)
                .await
                .unwrap_or_else(|e| respond(StatusCode::INTERNAL_SERVER_ERROR, Bytes::from(e.to_string())))
        })
        .await?;
        Ok(MiniRuntime { state, server: Arc::new(server) })
    }

    /// `AWS_LAMBDA_RUNTIME_API` of the process serving `name`.
    pub fn api_for(&self, name: &str) -> String {
        format!("http://{}/{name}", self.server.addr)
    }

    /// Invoke `name` with `payload` as request `request_id`, and wait for its answer (at most
    /// [`TIMEOUT`]: a guard against a hang, as Lambda's timeout).
    pub async fn invoke(&self, name: &str, payload: &Value, request_id: &str) -> Result<Invocation> {
        let (tx, _) = self.state.environment(name);
        let (reply, answer) = oneshot::channel();
        tx.send(Queued { request_id: request_id.to_owned(), payload: payload.clone(), reply })
            .map_err(|_| Error::msg(format!("runtime: {name} is gone")))?;
        match tokio::time::timeout(TIMEOUT, answer).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(Error::msg(format!("runtime: {name} never answered request {request_id}"))),
            Err(_) => {
                Err(Error::msg(format!("runtime: {name} did not answer request {request_id} within {TIMEOUT:?}")))
            }
        }
    }
}
