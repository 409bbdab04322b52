//! The HTTP server: awsJson1_0 on `POST /`, the control API under `/_emulator/`, and the
//! [`Emulator`] builder / [`EmulatorHandle`] used by the binary and by in-process tests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::clock::{Ts, VirtualClock};
use crate::error::{ApiError, SERIALIZATION, UNKNOWN_OPERATION};
use crate::faults::{FaultConfig, Faults, Verdict};
use crate::generate::{GenerateConfig, generate};
use crate::hold::{HoldPhase, Holds};
use crate::model::{Api, Direction, ModelError, Models};
use crate::native::{Native, NativeEventsConfig};
use crate::ops;
use crate::seed::{SeedData, SeedDocument, SeedError};
use crate::state::State;
use crate::stats::Stats;

/// The awsJson1_0 content type, in and out.
pub const AMZ_JSON: &str = "application/x-amz-json-1.0";
/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Why the emulator could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error("invalid fault configuration: {0}")]
    Faults(String),
    #[error("invalid native events configuration: {0}")]
    NativeEvents(String),
    #[error("server task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// What the emulator started with; `POST /_emulator/reset` goes back to it.
#[derive(Debug, Clone)]
pub(crate) struct StartConfig {
    pub clock_start: Ts,
    pub frozen: bool,
    pub data: SeedData,
    pub faults: FaultConfig,
    pub id_seed: u64,
    pub task_delay: chrono::Duration,
    pub active_connection_limit: usize,
}

/// State shared by all connections.
#[derive(Debug)]
pub(crate) struct Shared {
    pub models: &'static Models,
    pub state: Mutex<State>,
    pub faults: Mutex<Faults>,
    pub stats: Mutex<Stats>,
    /// The crash-test hook: one request held at a known point (`/_emulator/hold`).
    pub holds: Mutex<Holds>,
    /// Woken whenever a request becomes held.
    pub hold_signal: tokio::sync::Notify,
    pub start: StartConfig,
    pub validate_responses: bool,
    /// Partner Central's native EventBridge events (off unless configured).
    pub native: Native,
    /// Members served as given for chosen invitations (`/_emulator/response-overrides`).
    pub overrides: Mutex<crate::overrides::Overrides>,
    request_ids: AtomicU64,
}

/// Lock a mutex, recovering the data if a previous holder panicked (the state is plain data,
/// always left consistent between statements).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Entry point: `Emulator::builder()`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with defaults: `127.0.0.1:4580`, clock at the real now (running), no data,
    /// no faults, responses validated in debug builds.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Configures and starts an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    listen: SocketAddr,
    clock: Option<Ts>,
    frozen_clock: bool,
    seed: Option<SeedDocument>,
    generate: Option<GenerateConfig>,
    faults: FaultConfig,
    validate_responses: bool,
    native_events: Option<NativeEventsConfig>,
    task_delay: chrono::Duration,
    active_connection_limit: usize,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 4580)),
            clock: None,
            frozen_clock: false,
            seed: None,
            generate: None,
            faults: FaultConfig::default(),
            validate_responses: cfg!(debug_assertions),
            native_events: None,
            task_delay: chrono::Duration::seconds(crate::state::DEFAULT_TASK_DELAY_SECONDS as i64),
            active_connection_limit: crate::state::DEFAULT_ACTIVE_CONNECTION_LIMIT,
        }
    }
}

impl EmulatorBuilder {
    /// Address to listen on; port 0 picks a free port (see [`EmulatorHandle::addr`]).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Start the virtual clock at `start` instead of the real now.
    pub fn clock(mut self, start: Ts) -> Self {
        self.clock = Some(start);
        self
    }

    /// Keep the virtual clock still except when set/advanced through the control API
    /// (deterministic timestamps for tests).
    pub fn frozen_clock(mut self, frozen: bool) -> Self {
        self.frozen_clock = frozen;
        self
    }

    /// Load this seed data (validated against the model at [`spawn`](Self::spawn)).
    pub fn seed(mut self, doc: SeedDocument) -> Self {
        self.seed = Some(doc);
        self
    }

    /// Generate a synthetic account (the seed, if any, is loaded on top of it).
    pub fn generate(mut self, cfg: GenerateConfig) -> Self {
        self.generate = Some(cfg);
        self
    }

    /// Initial fault configuration.
    pub fn faults(mut self, cfg: FaultConfig) -> Self {
        self.faults = cfg;
        self
    }

    /// Validate every response against the model before sending it (default: on in debug
    /// builds). A violating response is replaced by an `InternalServerException` and
    /// counted in the stats' `response_violations`.
    pub fn validate_responses(mut self, on: bool) -> Self {
        self.validate_responses = on;
        self
    }

    /// Emit Partner Central's native EventBridge events on every state change (see
    /// [`crate::native`]); default: off.
    pub fn native_events(mut self, cfg: NativeEventsConfig) -> Self {
        self.native_events = Some(cfg);
        self
    }

    /// Virtual time from a `StartEngagementByAcceptingInvitationTask` task's start to its end
    /// (default 5 s; an invitation's `EmulatorTaskOutcome.DelaySeconds` overrides it).
    pub fn task_delay(mut self, delay: chrono::Duration) -> Self {
        self.task_delay = delay;
        self
    }

    /// Most active connections per catalog before `AcceptConnectionInvitation` answers
    /// `ServiceQuotaExceededException` (default 1,000, Partner Central's quota;
    /// `POST /_emulator/quotas` changes it at run time).
    pub fn active_connection_limit(mut self, limit: usize) -> Self {
        self.active_connection_limit = limit;
        self
    }

    /// Bind, load data and start serving in a background task.
    pub async fn spawn(self) -> Result<EmulatorHandle, EmulatorError> {
        let models = Models::shared()?;
        self.faults.check().map_err(EmulatorError::Faults)?;
        if let Some(n) = &self.native_events {
            n.check().map_err(EmulatorError::NativeEvents)?;
        }
        let clock_start = self.clock.unwrap_or_else(chrono::Utc::now);
        let clock = VirtualClock::new(clock_start, self.frozen_clock);
        let clock_start = clock.now();
        let mut data = match &self.generate {
            Some(g) => generate(g, clock_start),
            None => SeedData::default(),
        };
        if let Some(doc) = &self.seed {
            let seeded = doc.load(models, clock_start)?;
            data.connection_invitations.extend(seeded.connection_invitations);
            data.engagement_invitations.extend(seeded.engagement_invitations);
        }
        let id_seed = self.generate.as_ref().map_or(0, |g| g.seed);
        let mut state = State::new(clock, id_seed);
        state.task_delay = self.task_delay;
        state.active_connection_limit = self.active_connection_limit;
        state.load(data.clone());
        let expired = state.expire_due();
        let (c, e) = state.counts();
        info!(
            connection_invitations = c,
            engagement_invitations = e,
            expired_at_start = expired,
            now = %crate::clock::fmt_ts(&clock_start),
            "emulator data loaded"
        );
        let native = self.native_events.map_or_else(Native::off, |cfg| Native::start(cfg, &state));
        let shared = Arc::new(Shared {
            models,
            state: Mutex::new(state),
            faults: Mutex::new(Faults::new(self.faults.clone())),
            stats: Mutex::new(Stats::default()),
            holds: Mutex::new(Holds::default()),
            hold_signal: tokio::sync::Notify::new(),
            start: StartConfig {
                clock_start,
                frozen: self.frozen_clock,
                data,
                faults: self.faults,
                id_seed,
                task_delay: self.task_delay,
                active_connection_limit: self.active_connection_limit,
            },
            validate_responses: self.validate_responses,
            request_ids: AtomicU64::new(0),
            native,
            overrides: Mutex::default(),
        });
        let listener =
            TcpListener::bind(self.listen).await.map_err(|source| EmulatorError::Bind { addr: self.listen, source })?;
        let addr = listener.local_addr().map_err(|source| EmulatorError::Bind { addr: self.listen, source })?;
        let (tx, rx) = watch::channel(false);
        if shared.native.enabled() {
            tokio::spawn(crate::native::expiry_ticker(Arc::clone(&shared), rx.clone()));
        }
        let task = tokio::spawn(serve(listener, shared, rx));
        Ok(EmulatorHandle { addr, shutdown: tx, task: Some(task) })
    }
}

/// A running emulator. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`: the endpoint URL for the SDKs and the control API's base.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting, let in-flight requests finish, and wait for the server to end.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            task.await?;
        }
        Ok(())
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let shared = Arc::clone(&shared);
                let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
                let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await.is_err() {
        warn!("connections still open 5 s after shutdown began; closing them");
    }
    info!("emulator stopped");
}

/// A JSON response.
pub(crate) fn json_response(status: u16, content_type: &str, body: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

/// Read a request body (at most [`MAX_BODY_BYTES`]).
pub(crate) async fn read_body(body: Incoming) -> Result<Bytes, String> {
    Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| format!("cannot read request body: {e}"))
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Ok(crate::control::handle(&shared, req).await);
    }
    Ok(aws_request(&shared, req).await)
}

struct Outcome {
    api: Option<Api>,
    operation: String,
    result: Result<Value, ApiError>,
}

async fn aws_request(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let request_id = {
        let n = shared.request_ids.fetch_add(1, Ordering::Relaxed);
        let r = crate::rng::SplitMix64::new(n ^ 0xA5A5_5A5A).next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            r >> 32,
            (r >> 16) & 0xffff,
            r & 0xfff,
            (n >> 48) & 0xfff,
            n & 0xffff_ffff_ffff
        )
    };
    let outcome = process(shared, req).await;
    let op = outcome.operation.clone();
    let (status, body) = match &outcome.result {
        Ok(v) => (200u16, v.clone()),
        Err(e) => (e.status, e.body()),
    };
    let err_type = outcome.result.as_ref().err().map(|e| e.type_name.clone());
    lock(&shared.stats).record(&op, err_type.as_deref());
    let latency_ms = started.elapsed().as_millis() as u64;
    info!(
        api = outcome.api.map(|a| format!("{a:?}")).unwrap_or_else(|| "-".into()),
        operation = %op,
        status,
        error = err_type.as_deref().unwrap_or("-"),
        latency_ms,
        request_id = %request_id,
        "aws request"
    );
    let mut resp = json_response(status, AMZ_JSON, &body);
    // Like AWS, every response is dated; here by the virtual clock, so clients that judge
    // expiry by the service's clock (as our functions do) follow it when it is advanced.
    let service_now = lock(&shared.state).now();
    if let Ok(v) = header::HeaderValue::from_str(&service_now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        resp.headers_mut().insert(header::DATE, v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    if let Some(t) = err_type
        && let Ok(v) = header::HeaderValue::from_str(&t)
    {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

async fn process(shared: &Shared, req: Request<Incoming>) -> Outcome {
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (prefix, operation) = target.split_once('.').unwrap_or(("", target.as_str()));
    let api = shared.models.api_for_prefix(prefix);
    let op_label = if operation.is_empty() { "<none>".to_owned() } else { operation.to_owned() };
    let mut out = Outcome { api, operation: op_label, result: Ok(Value::Null) };
    if let Some(a) = api
        && shared.models.api(a).operation(operation).is_some_and(|o| !o.readonly)
    {
        lock(&shared.stats).write_arrived(&format!("{a:?}"), Instant::now());
    }
    if req.method() != Method::POST || req.uri().path() != "/" {
        out.result = Err(ApiError::protocol(
            UNKNOWN_OPERATION,
            format!(
                "No operation at {} {} (AWS JSON APIs take POST / with an X-Amz-Target header)",
                req.method(),
                req.uri().path()
            ),
            404,
        ));
        return out;
    }
    // Faults first, as the real front end does: a faulted request never reaches the service.
    let (latency, verdict) = {
        let mut f = lock(&shared.faults);
        (f.config.latency_ms, f.decide(Instant::now()))
    };
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let model = api.map(|a| shared.models.api(a));
    let fault = match verdict {
        Verdict::Serve => None,
        Verdict::RateLimited => Some(("rate_limit", "Rate exceeded", "ThrottlingException")),
        Verdict::Throttle => Some(("throttle", "Rate exceeded (injected)", "ThrottlingException")),
        Verdict::InternalError => Some(("error", "An internal error occurred (injected)", "InternalServerException")),
    };
    if let Some((kind, message, shape)) = fault {
        lock(&shared.stats).fault(kind);
        out.result = Err(match model {
            Some(m) => ApiError::modeled(m, shape, message),
            None => ApiError::protocol(shape, message, if shape == "InternalServerException" { 500 } else { 400 }),
        });
        return out;
    }
    let (Some(api), Some(model)) = (api, model) else {
        out.result = Err(ApiError::protocol(UNKNOWN_OPERATION, format!("Unknown X-Amz-Target {target:?}"), 400));
        return out;
    };
    let Some(op) = model.operation(operation).filter(|_| ops::is_emulated(api, operation)) else {
        out.result = Err(ApiError::protocol(
            UNKNOWN_OPERATION,
            format!("Operation {target} is not supported by this emulator"),
            400,
        ));
        return out;
    };
    let body = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(e) => {
            out.result = Err(ApiError::protocol(SERIALIZATION, e, 400));
            return out;
        }
    };
    let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                out.result = Err(ApiError::protocol(SERIALIZATION, "Request body must be a JSON object", 400));
                return out;
            }
            Err(e) => {
                out.result =
                    Err(ApiError::protocol(SERIALIZATION, format!("Request body is not valid JSON: {e}"), 400));
                return out;
            }
        }
    };
    if let Some(input_shape) = &op.input {
        let violations = model.validate(input_shape, &input, Direction::Input);
        if !violations.is_empty() {
            out.result = Err(ApiError::validation(model, &violations));
            return out;
        }
    }
    hold_point(shared, operation, HoldPhase::Before).await;
    let result = {
        let mut state = lock(&shared.state);
        let result = ops::dispatch(shared.models, &mut state, api, operation, &input);
        shared.native.observe(&state);
        result
    };
    hold_point(shared, operation, HoldPhase::After).await;
    out.result = if shared.validate_responses { check_response(shared, api, op, result) } else { result };
    // After validation: an override serves what the model would not allow, on purpose.
    if let Ok(v) = &mut out.result {
        let changed = lock(&shared.overrides).apply(v);
        if changed > 0 {
            info!(operation, changed, "response overridden");
        }
    }
    out
}

/// Wait here if this request is the one an armed hold is waiting for, until it is released.
async fn hold_point(shared: &Shared, operation: &str, phase: HoldPhase) {
    let Some(release) = lock(&shared.holds).reach(operation, phase) else {
        return;
    };
    info!(operation, ?phase, "request held");
    shared.hold_signal.notify_waiters();
    if release.await.is_err() {
        // The hold state was replaced (reset): go on.
        debug!(operation, "hold dropped without a release");
    }
    info!(operation, ?phase, "held request released");
}

/// Validate what the emulator is about to send against the model; a violation is an emulator
/// bug, reported loudly and turned into an `InternalServerException`.
fn check_response(
    shared: &Shared,
    api: Api,
    op: &crate::model::Operation,
    result: Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    let model = shared.models.api(api);
    let violations = match &result {
        Ok(v) => match &op.output {
            Some(shape) => model.validate(shape, v, Direction::Output),
            None if v.as_object().is_some_and(|o| o.is_empty()) => vec![],
            None => vec![crate::model::Violation {
                path: "(root)".into(),
                kind: crate::model::ViolationKind::UnknownMember,
                message: format!("{} has no output; the body must be {{}}", op.name),
            }],
        },
        Err(e) if e.type_name == UNKNOWN_OPERATION || e.type_name == SERIALIZATION => vec![],
        Err(e) => {
            let mut v = model.validate_except(&e.type_name, &e.body(), Direction::Output, &["__type", "message"]);
            if !op.errors.contains(&e.type_name) {
                v.push(crate::model::Violation {
                    path: "__type".into(),
                    kind: crate::model::ViolationKind::InvalidEnum,
                    message: format!("{} is not an error of {}", e.type_name, op.name),
                });
            }
            v
        }
    };
    if violations.is_empty() {
        return result;
    }
    lock(&shared.stats).response_violations += violations.len() as u64;
    let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
    error!(operation = %op.name, violations = ?text, "emulator response violates the model");
    Err(ApiError::internal(
        model,
        format!("emulator bug: response of {} violates the model: {}", op.name, text.join("; ")),
    ))
}
