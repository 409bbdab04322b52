//! `make bench`, fast path (#13): how fast a change in Partner Central reaches a consumer
//! through native-relay, at what cost, and whether the account's request budget holds with
//! every function running at once.
//!
//! The path measured is the deployed one, locally: the emulator's state change → its native
//! event (PutEvents to moto's `default` bus) → the rule → the native-events SQS queue → a
//! poller that behaves like the template's event source mapping (batch size, batching window,
//! `MaximumConcurrency` pollers, `ReportBatchItemFailures`: only the failed messages stay) →
//! the native-relay binary (one process per poller, each with its share of the budget) → our
//! bus → the consumer queue. Each change is timed from the moment the driver asks the emulator
//! for it to the moment its enriched event is received from the consumer queue.
//!
//! The budget split, the process caps and the event source mapping are read from
//! `template.yaml` ([`TemplateFacts`], through `tests/bench/template_facts.py`), not copied.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use harness::stack::{Stack, StackOptions};
use partnercentral_local::{FaultConfig, GenerateConfig, NativeFaults, SeedDocument};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::account::Kind;
use crate::benchmark::{BenchConfig, function_env};
use crate::chaos::new_invitation;
use crate::functions::{AUTO_CANCEL, AUTO_RESPOND, EXPIRE_SWEEPER, LIST_AND_PUBLISH, scheduled_event};
use crate::measure::{Profile, function_binary};
use crate::prng::XorShift;
use crate::{Error, Result};

pub const NATIVE_RELAY: &str = "native-relay";

/// Changes of each kind per stack. moto's TransactWriteItems deep-copies the whole table
/// without a lock, so a concurrent write fails with a 500 ("dictionary changed size during
/// iteration") — the bigger the table, the likelier: with ~900 invitations the baseline run's
/// parallel commits failed every retry. Each round starts from a fresh stack.
pub const ROUND_PER_KIND: usize = 100;

// ---------------------------------------------------------------------------------------------
// What the template deploys

/// One function's place in the budget.
#[derive(Debug, Clone, Deserialize)]
pub struct FunctionFacts {
    /// How many of its processes may run at once (1 for a scheduled function, its run lease;
    /// the event source mapping's `MaximumConcurrency` for native-relay).
    pub processes: u32,
}

/// native-relay's event source mapping.
#[derive(Debug, Clone, Deserialize)]
pub struct EventSource {
    pub function: String,
    pub batch_size: usize,
    pub batching_window_s: f64,
    pub max_concurrency: u32,
}

/// The deployment facts of `template.yaml` the benchmark runs with.
#[derive(Debug, Clone, Deserialize)]
pub struct TemplateFacts {
    /// `MaxRequestsPerSecond`'s default: the account budget, which every function gets whole
    /// and shares with the others at run time (the state table's lease item).
    pub default_budget: u32,
    /// Per function (binary name).
    pub functions: BTreeMap<String, FunctionFacts>,
    pub event_source: EventSource,
}

impl TemplateFacts {
    /// Read them with the venv's python (`$BENCH_PYTHON` overrides), which has cfn-lint's
    /// decoder for the CloudFormation tags.
    pub fn read() -> Result<TemplateFacts> {
        let python = harness::process::venv_tool("BENCH_PYTHON", "python");
        let script = harness::process::workspace_root().join("tests/bench/template_facts.py");
        let out = std::process::Command::new(&python)
            .arg(&script)
            .output()
            .map_err(|e| Error::msg(format!("{} {}: {e} (run `make venv`)", python.display(), script.display())))?;
        if !out.status.success() {
            return Err(Error::msg(format!(
                "{}: {}\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| Error::msg(format!("{}: output: {e}", script.display())))
    }

    /// What `function` is configured with at `budget`: all of it (`MAX_REQUESTS_PER_SECOND` is
    /// the account's budget; the share a process gets is decided at run time).
    pub fn share(&self, budget: u32, function: &str) -> Result<u32> {
        self.functions
            .get(function)
            .map(|_| budget)
            .ok_or_else(|| Error::msg(format!("template.yaml has no function {function} in the budget")))
    }

    /// The scheduled functions the template deploys, in the order a round runs them:
    /// list-and-publish, the sweeper and auto-cancel always; auto-respond when the template has
    /// it.
    pub fn scheduled(&self) -> Vec<&'static str> {
        let mut names = vec![LIST_AND_PUBLISH, EXPIRE_SWEEPER, AUTO_CANCEL];
        if self.functions.contains_key(AUTO_RESPOND) {
            names.push(AUTO_RESPOND);
        }
        names
    }

    pub fn processes(&self, function: &str) -> u32 {
        self.functions.get(function).map_or(1, |f| f.processes)
    }

    /// The most requests per second all functions together may make at `budget`: the budget
    /// itself, however many processes run (the leased shares never sum above it).
    pub fn account_total(&self, budget: u32) -> Result<u32> {
        Ok(budget)
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration and figures

#[derive(Debug, Clone)]
pub struct FastPathConfig {
    /// Timed changes of every kind.
    pub changes_per_kind: usize,
    /// One change every this often (open loop; below the relay's capacity).
    pub change_interval: Duration,
    /// Changes in the burst.
    pub burst: usize,
    /// The account budget (`MaxRequestsPerSecond`); default: the template's.
    pub budget: Option<u32>,
    /// Milliseconds added to every Partner Central call.
    pub latency_ms: u64,
    /// The emulator's quota.
    pub rate_limit: u32,
    /// Engagement invitations in the account of the whole-account run.
    pub account_engagements: usize,
    /// Quiet runs measured per function.
    pub quiet_runs: usize,
    /// Changes per day assumed for the daily-call figures.
    pub changes_per_day: u64,
    /// The reconciliation intervals (minutes) the daily-call figures are given for.
    pub reconcile_minutes: Vec<u64>,
    pub seed: u64,
    pub profile: Profile,
}

impl Default for FastPathConfig {
    fn default() -> Self {
        FastPathConfig {
            changes_per_kind: 200,
            change_interval: Duration::from_millis(1_100),
            burst: 100,
            budget: None,
            latency_ms: 20,
            rate_limit: 10,
            account_engagements: 3_000,
            quiet_runs: 5,
            changes_per_day: 500,
            reconcile_minutes: vec![30, 60],
            seed: 13,
            profile: Profile::Release,
        }
    }
}

/// Latency figures of one kind of change (or of all).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LatencyFigures {
    pub changes: u64,
    /// Changes whose enriched event arrived.
    pub relayed: u64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    /// Partner Central requests the relay made, per change (retries included).
    pub partner_central_calls_per_change: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BurstFigures {
    pub changes: u64,
    pub relayed: u64,
    /// From the first change to the last enriched event.
    pub wall_s: f64,
    /// The changes' Gets at native-relay's configured rate (share × processes).
    pub budget_bound_s: f64,
    pub configured_rps: u32,
    /// The most Partner Central requests in any one-second window during the burst.
    pub max_rps_seen: u64,
    pub partner_central_calls: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountRateFigures {
    /// `MaxRequestsPerSecond`.
    pub configured_total_rps: u32,
    /// Per function: (share per process, processes).
    pub split: BTreeMap<String, (u32, u32)>,
    /// The most Partner Central requests the emulator received in any one second (throttled
    /// ones included) while every function ran.
    pub max_total_rps_seen: u64,
    pub partner_central_calls: u64,
    pub wall_s: f64,
    /// Runs of each scheduled function, and native-relay invocations, during the window.
    pub runs: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QuietRun {
    pub wall_ms_median: f64,
    pub wall_ms_max: f64,
    pub partner_central_calls: u64,
    pub runs: u64,
    /// The most state-table writes a run made for the request budget (its summary's
    /// `budgetWrites`: take, renewals, give back, races lost); native-relay's batch answer
    /// carries none.
    #[serde(default)]
    pub budget_writes_max: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DailyCalls {
    pub poll_interval_min: u64,
    pub poll_only: u64,
    /// Reconciliation interval (minutes) → list-and-publish runs + fast-path Gets per day.
    pub fast_path_plus_reconcile: BTreeMap<String, u64>,
    pub changes_per_day: u64,
    pub list_and_publish_calls_per_quiet_run: u64,
    pub fast_path_calls_per_change: f64,
    pub assumptions: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FastPathFigures {
    pub date: String,
    pub description: String,
    pub budget: u32,
    pub native_relay_rps: u32,
    pub batching_window_s: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    pub changes: u64,
    pub relayed: u64,
    pub partner_central_calls_per_change: f64,
    pub per_kind: BTreeMap<String, LatencyFigures>,
    /// Events list-and-publish published at its reconciliation run after the timed changes
    /// (0: the fast path had published everything).
    pub reconcile_new_events: u64,
    pub burst: BurstFigures,
    pub account_rate: AccountRateFigures,
    pub quiet_run: BTreeMap<String, QuietRun>,
    pub daily_calls: DailyCalls,
}

// ---------------------------------------------------------------------------------------------
// The event source mapping, imitated

/// What the pollers did.
#[derive(Debug, Default)]
struct PumpStats {
    invocations: u64,
    messages: u64,
    failed_items: u64,
    function_errors: u64,
}

/// One poller of the event source mapping, feeding one native-relay process (`function`):
/// long-polls the queue, gathers a batch until it is full or the batching window has passed
/// since its first message, invokes, and deletes the messages not named in
/// `batchItemFailures` (all stay after a function error): they come back after the
/// visibility timeout, as with Lambda.
async fn poller(
    stack: &Stack,
    function: &str,
    source: &EventSource,
    visibility: Duration,
    stop: &AtomicBool,
    stats: &Mutex<PumpStats>,
) -> Result<()> {
    let queue =
        stack.native_events.as_ref().ok_or_else(|| Error::msg("the stack has no native events queue"))?.queue_url();
    let window = Duration::from_secs_f64(source.batching_window_s);
    while !stop.load(Ordering::Relaxed) {
        let mut batch = receive(stack, queue, source.batch_size, 1, visibility).await?;
        if batch.is_empty() {
            continue;
        }
        let first = Instant::now();
        while batch.len() < source.batch_size && first.elapsed() < window {
            let more = receive(stack, queue, source.batch_size - batch.len(), 0, visibility).await?;
            if more.is_empty() {
                // The mapping polls the queue again while its window is open.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            batch.extend(more);
        }
        let records: Vec<Value> = batch
            .iter()
            .map(|m| {
                json!({"messageId": m.message_id().unwrap_or_default(), "receiptHandle": m.receipt_handle().unwrap_or_default(),
                       "body": m.body().unwrap_or_default(), "eventSource": "aws:sqs",
                       "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:partnercentral-native-events",
                       "awsRegion": "us-east-1", "attributes": {}, "messageAttributes": {}})
            })
            .collect();
        let outcome = stack.invoke(function, &json!({ "Records": records })).await?;
        let keep: Vec<String> = match &outcome {
            harness::lambda::Invocation::Ok(v) => v["batchItemFailures"]
                .as_array()
                .map(|a| a.iter().filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            harness::lambda::Invocation::FunctionError { .. } => {
                batch.iter().filter_map(|m| m.message_id().map(str::to_owned)).collect()
            }
        };
        {
            let mut s = stats.lock().map_err(|_| Error::msg("poller stats poisoned"))?;
            s.invocations += 1;
            s.messages += batch.len() as u64;
            s.failed_items += keep.len() as u64;
            s.function_errors += u64::from(matches!(outcome, harness::lambda::Invocation::FunctionError { .. }));
        }
        for m in batch.iter().filter(|m| !keep.iter().any(|k| Some(k.as_str()) == m.message_id())) {
            crate::chaos_native::delete(stack, queue, m).await?;
        }
    }
    Ok(())
}

async fn receive(
    stack: &Stack,
    queue: &str,
    max: usize,
    wait_secs: i32,
    visibility: Duration,
) -> Result<Vec<aws_sdk_sqs::types::Message>> {
    let out = stack
        .sqs
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(max.clamp(1, 10) as i32)
        .wait_time_seconds(wait_secs)
        .visibility_timeout(visibility.as_secs() as i32)
        .send()
        .await
        .map_err(Error::sdk("ReceiveMessage"))?;
    Ok(out.messages.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// The consumer side

/// An enriched event as received.
#[derive(Debug, Clone)]
struct Arrival {
    at: Instant,
    invitation: String,
    detail_type: String,
}

/// Everything the consumer queue delivers, with its arrival instant.
#[derive(Default)]
struct Arrivals {
    seen: Mutex<Vec<Arrival>>,
    notify: tokio::sync::Notify,
}

impl Arrivals {
    async fn collect(&self, stack: &Stack, stop: &AtomicBool) -> Result<()> {
        let consumer = stack.consumer.as_ref().ok_or_else(|| Error::msg("the stack has no consumer queue"))?;
        while !stop.load(Ordering::Relaxed) {
            let events = consumer.receive(1, Duration::from_secs(1)).await?;
            let at = Instant::now();
            if events.is_empty() {
                continue;
            }
            let mut seen = self.seen.lock().map_err(|_| Error::msg("arrivals poisoned"))?;
            seen.extend(events.iter().map(|e| Arrival {
                at,
                invitation: e["detail"]["invitationId"].as_str().unwrap_or_default().to_owned(),
                detail_type: e["detail-type"].as_str().unwrap_or_default().to_owned(),
            }));
            drop(seen);
            self.notify.notify_waiters();
        }
        Ok(())
    }

    /// When the event `detail_type` about `invitation` first arrived.
    fn arrival(&self, invitation: &str, detail_type: &str) -> Option<Instant> {
        let seen = self.seen.lock().ok()?;
        seen.iter().find(|a| a.invitation == invitation && a.detail_type == detail_type).map(|a| a.at)
    }

    fn count(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Wait (at most `timeout`) until every `(invitation, detail-type)` of `expected` arrived.
    async fn wait_for(&self, expected: &[(String, String)], timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            if expected.iter().all(|(i, d)| self.arrival(i, d).is_some()) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The changes

/// The six kinds of change a consumer hears about through the fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// The other side accepts (engagement and connection invitations, alternately).
    Accept,
    /// The other side rejects (alternately).
    Reject,
    /// The sender cancels a connection invitation we received.
    CancelByOtherSide,
    /// An invitation's expiry passes (alternately), the emulator's clock moving on.
    Expire,
    NewEngagementInvitation,
    NewConnectionInvitationReceived,
}

pub const CHANGE_KINDS: [ChangeKind; 6] = [
    ChangeKind::Accept,
    ChangeKind::Reject,
    ChangeKind::CancelByOtherSide,
    ChangeKind::Expire,
    ChangeKind::NewEngagementInvitation,
    ChangeKind::NewConnectionInvitationReceived,
];

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Accept => "accept",
            ChangeKind::Reject => "reject",
            ChangeKind::CancelByOtherSide => "cancel_by_other_side",
            ChangeKind::Expire => "expire",
            ChangeKind::NewEngagementInvitation => "new_engagement_invitation",
            ChangeKind::NewConnectionInvitationReceived => "new_connection_invitation_received",
        }
    }
}

/// One planned change: what to do, and the enriched event it must produce.
#[derive(Debug, Clone)]
struct Planned {
    kind: ChangeKind,
    invitation: Kind,
    id: String,
    /// For the new-invitation kinds: the invitation to create.
    create: Option<Value>,
    detail_type: String,
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T09:00:00Z").map(|d| d.with_timezone(&Utc)).unwrap_or_else(|_| Utc::now())
}

fn with_side(mut inv: Value, kind: Kind, side: &str) -> Value {
    inv["ParticipantType"] = json!(side);
    if kind == Kind::Engagement {
        inv["SenderAwsAccountId"] = json!(if side == "SENDER" { "111122223333" } else { "210987654321" });
    }
    inv
}

/// The seed (pending invitations the changes act on) and the changes, interleaved by kind.
/// The invitation that expires at change `n` of the expire kind expires `n` minutes and 30 s
/// after t0; the driver moves the clock one minute per expiry.
fn plan(rng: &mut XorShift, per_kind: usize, now: DateTime<Utc>) -> (Value, Vec<Planned>) {
    let mut engagements = Vec::new();
    let mut connections = Vec::new();
    let mut by_kind: Vec<Vec<Planned>> = Vec::new();
    for kind in CHANGE_KINDS {
        let mut changes = Vec::new();
        for n in 0..per_kind {
            let alternate = if n % 2 == 0 { Kind::Engagement } else { Kind::Connection };
            let (invitation, side, status) = match kind {
                ChangeKind::Accept => (alternate, "SENDER", "Accepted"),
                ChangeKind::Reject => (alternate, "SENDER", "Rejected"),
                ChangeKind::CancelByOtherSide => (Kind::Connection, "RECEIVER", "Canceled"),
                ChangeKind::Expire => (alternate, "RECEIVER", "Expired"),
                ChangeKind::NewEngagementInvitation => (Kind::Engagement, "RECEIVER", "Created"),
                ChangeKind::NewConnectionInvitationReceived => (Kind::Connection, "RECEIVER", "Created"),
            };
            let mut inv = with_side(new_invitation(rng, invitation, now, 24 * 30), invitation, side);
            if kind == ChangeKind::Expire {
                let at = now + chrono::Duration::seconds(n as i64 * 60 + 30);
                let field = if invitation == Kind::Engagement { "ExpirationDate" } else { "ExpiresAt" };
                inv[field] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
            let id = inv["Id"].as_str().unwrap_or_default().to_owned();
            let create =
                matches!(kind, ChangeKind::NewEngagementInvitation | ChangeKind::NewConnectionInvitationReceived);
            if !create {
                match invitation {
                    Kind::Engagement => engagements.push(inv.clone()),
                    Kind::Connection => connections.push(inv.clone()),
                }
            }
            changes.push(Planned {
                kind,
                invitation,
                id,
                create: create.then_some(inv),
                detail_type: format!("{} {status}", invitation.detail_type_prefix()),
            });
        }
        by_kind.push(changes);
    }
    let mut interleaved = Vec::new();
    for n in 0..per_kind {
        interleaved.extend(by_kind.iter().map(|k| k[n].clone()));
    }
    (json!({"EngagementInvitations": engagements, "ConnectionInvitations": connections}), interleaved)
}

/// Ask the emulator for `change`.
async fn apply(stack: &Stack, change: &Planned) -> Result<()> {
    let kind = change.invitation.as_str();
    match (change.kind, &change.create) {
        (_, Some(inv)) => stack.put_invitation(kind, inv.clone()).await.map(|_| ()),
        (ChangeKind::Expire, _) => {
            stack.emulator_control("POST", "clock/advance", Some(json!({"seconds": 60}))).await.map(|_| ())
        }
        (ChangeKind::Accept, _) => {
            stack.patch_invitation(kind, &change.id, json!({"Status": "ACCEPTED"})).await.map(|_| ())
        }
        (ChangeKind::Reject, _) => {
            stack.patch_invitation(kind, &change.id, json!({"Status": "REJECTED"})).await.map(|_| ())
        }
        (_, None) => stack.patch_invitation(kind, &change.id, json!({"Status": "CANCELED"})).await.map(|_| ()),
    }
}

/// Partner Central requests counted by the emulator since its last reset.
async fn partner_central_calls(stack: &Stack) -> Result<u64> {
    let stats = stack.emulator_stats().await?;
    stats["requests_total"]
        .as_u64()
        .ok_or_else(|| Error::msg(format!("emulator stats without requests_total: {stats}")))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn latency_figures(latencies: &mut [f64], changes: u64, calls: u64) -> LatencyFigures {
    latencies.sort_by(|a, b| a.total_cmp(b));
    LatencyFigures {
        changes,
        relayed: latencies.len() as u64,
        latency_ms_p50: round1(percentile(latencies, 50.0)),
        latency_ms_p99: round1(percentile(latencies, 99.0)),
        latency_ms_max: round1(latencies.last().copied().unwrap_or(0.0)),
        partner_central_calls_per_change: round2(calls as f64 / changes.max(1) as f64),
    }
}

// ---------------------------------------------------------------------------------------------
// The run

/// The function processes of the fast-path stack: a native-relay process per poller of the
/// event source mapping, and the scheduled functions, each with its
/// share of the budget.
struct Processes {
    running: Vec<harness::lambda::FunctionProcess>,
    relays: Vec<String>,
}

impl Processes {
    /// What process `name` logged (for an error message).
    fn logs(&self, name: &str) -> Vec<String> {
        self.running.iter().filter(|p| p.name() == name).flat_map(|p| p.logs()).collect()
    }
}

fn start_processes(stack: &Stack, facts: &TemplateFacts, budget: u32, profile: Profile) -> Result<Processes> {
    let mut env = function_env(&BenchConfig { max_requests_per_second: budget, ..BenchConfig::default() });
    // auto-respond answers for real (10 a run, its writes paced to 1/s), as it would on a
    // schedule that fires while the rest runs.
    env.insert(
        AUTO_RESPOND.to_owned(),
        vec![("RESPOND_POLICY".to_owned(), crate::auto_respond::respond_policy(10).to_string())],
    );
    let mut running = Vec::new();
    let mut relays = Vec::new();
    let mut start = |name: &str, instance: String| -> Result<()> {
        let share = facts.share(budget, name)?.to_string();
        let mut overrides: Vec<(&str, &str)> =
            env.get(name).map(|e| e.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()).unwrap_or_default();
        overrides.push(("MAX_REQUESTS_PER_SECOND", share.as_str()));
        running.push(stack.start_function(&instance, &function_binary(name, profile)?, &overrides)?);
        Ok(())
    };
    for name in facts.scheduled() {
        start(name, name.to_owned())?;
    }
    // One process per poller, all serving `native-relay` (Lambda's execution environments of
    // one function): each invocation goes to whichever is free.
    for _ in 0..facts.event_source.max_concurrency.max(1) {
        start(NATIVE_RELAY, NATIVE_RELAY.to_owned())?;
        relays.push(NATIVE_RELAY.to_owned());
    }
    Ok(Processes { running, relays })
}

async fn invoke_scheduled(stack: &Stack, name: &str) -> Result<(Value, Duration)> {
    let started = Instant::now();
    let out = stack.invoke(name, &scheduled_event(name)).await?.output()?;
    Ok((out, started.elapsed()))
}

/// All the relay's pollers until `stop`.
async fn pollers(
    stack: &Stack,
    relays: &[String],
    source: &EventSource,
    stop: &AtomicBool,
    stats: &Mutex<PumpStats>,
) -> Result<()> {
    let visibility = Duration::from_secs(60);
    let mut all = Vec::new();
    for relay in relays {
        all.push(poller(stack, relay, source, visibility, stop, stats));
    }
    for r in join_all(all).await {
        r?;
    }
    Ok(())
}

/// Run `driver` while the relay's pollers and the consumer's collector run, until the driver
/// says `stop`; the first error of any of them.
async fn with_the_fast_path<D: std::future::Future<Output = Result<()>>>(
    stack: &Stack,
    relays: &[String],
    source: &EventSource,
    stop: &AtomicBool,
    stats: &Mutex<PumpStats>,
    arrivals: &Arrivals,
    driver: D,
) -> Result<()> {
    let (d, p, c) = tokio::join!(driver, pollers(stack, relays, source, stop, stats), arrivals.collect(stack, stop));
    d.and(p).and(c)
}

/// Run futures of one type concurrently (in this task) and collect their results.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut set = Vec::with_capacity(futures.len());
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().flatten().collect()
}

pub async fn run(config: &FastPathConfig, log: &dyn Fn(String)) -> Result<FastPathFigures> {
    let facts = TemplateFacts::read()?;
    let budget = config.budget.unwrap_or(facts.default_budget);
    // The pollers together may take the whole budget when nothing else runs (the burst).
    let relay_share = facts.share(budget, NATIVE_RELAY)?;
    let relay_rps = budget;
    let mut rng = XorShift::new(config.seed);
    let mut figures = FastPathFigures {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        budget,
        native_relay_rps: relay_rps,
        batching_window_s: facts.event_source.batching_window_s,
        ..FastPathFigures::default()
    };

    // 1. Latency of every kind of change, in rounds of at most ROUND_PER_KIND changes of each
    //    kind, each on a fresh stack (see ROUND_PER_KIND); after each round a reconciliation
    //    run; after the last, the quiet runs and the burst.
    let rounds = config.changes_per_kind.div_ceil(ROUND_PER_KIND).max(1);
    let mut latencies: BTreeMap<ChangeKind, Vec<f64>> = BTreeMap::new();
    let mut changes_made: BTreeMap<ChangeKind, u64> = BTreeMap::new();
    let mut calls = 0;
    for round in 0..rounds {
        let per_kind = (config.changes_per_kind - round * ROUND_PER_KIND).min(ROUND_PER_KIND);
        let last = round + 1 == rounds;
        let (seed, changes) = plan(&mut rng, per_kind, t0());
        let burst_seed: Vec<Value> = if last {
            (0..config.burst)
                .map(|_| {
                    with_side(new_invitation(&mut rng, Kind::Engagement, t0(), 24 * 30), Kind::Engagement, "SENDER")
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut seed = seed;
        if let Some(list) = seed["EngagementInvitations"].as_array_mut() {
            list.extend(burst_seed.iter().cloned());
        }
        let stack = Stack::start(StackOptions {
            clock: Some(t0()),
            seed: Some(SeedDocument::from_json(&seed.to_string()).map_err(|e| Error::msg(format!("seed: {e}")))?),
            emulator_faults: FaultConfig {
                latency_ms: config.latency_ms,
                rate_limit: Some(config.rate_limit),
                ..FaultConfig::default()
            },
            native_events: Some(NativeFaults::default()),
            ..StackOptions::default()
        })
        .await?;
        let processes = start_processes(&stack, &facts, budget, config.profile)?;
        // The baseline: every pending invitation recorded (and announced) before the changes.
        invoke_scheduled(&stack, LIST_AND_PUBLISH).await.map_err(|e| {
            Error::msg(format!("baseline run of list-and-publish: {e}\nmoto:\n{}", stack.moto.logs().join("\n")))
        })?;
        stack.received().await?;
        stack.reset_emulator_stats().await?;
        log(format!(
            "fast path, round {}/{rounds}: {} changes ({per_kind} of each of {} kinds), one every {} ms; native-relay {} pollers sharing {}/s at run time, batching window {} s",
            round + 1,
            changes.len(),
            CHANGE_KINDS.len(),
            config.change_interval.as_millis(),
            facts.event_source.max_concurrency,
            relay_share,
            facts.event_source.batching_window_s
        ));

        let arrivals = Arrivals::default();
        let stats = Mutex::new(PumpStats::default());
        let stop = AtomicBool::new(false);
        let mut started: HashMap<String, Instant> = HashMap::new();
        let driver = async {
            let mut next = tokio::time::Instant::now();
            for (n, change) in changes.iter().enumerate() {
                tokio::time::sleep_until(next).await;
                next += config.change_interval;
                started.insert(format!("{}|{}", change.id, change.detail_type), Instant::now());
                apply(&stack, change).await?;
                if (n + 1) % 120 == 0 {
                    log(format!("  {} changes made, {} events received", n + 1, arrivals.count()));
                }
            }
            let expected: Vec<(String, String)> =
                changes.iter().map(|c| (c.id.clone(), c.detail_type.clone())).collect();
            arrivals.wait_for(&expected, Duration::from_secs(60)).await;
            stop.store(true, Ordering::Relaxed);
            Ok::<(), Error>(())
        };
        with_the_fast_path(&stack, &processes.relays, &facts.event_source, &stop, &stats, &arrivals, driver).await?;
        calls += partner_central_calls(&stack).await?;
        for change in &changes {
            *changes_made.entry(change.kind).or_default() += 1;
            let key = format!("{}|{}", change.id, change.detail_type);
            if let (Some(t), Some(at)) = (started.get(&key), arrivals.arrival(&change.id, &change.detail_type)) {
                latencies.entry(change.kind).or_default().push(at.duration_since(*t).as_secs_f64() * 1000.0);
            }
        }
        {
            let s = stats.lock().map_err(|_| Error::msg("poller stats poisoned"))?;
            log(format!(
                "  {} of {} relayed; {} native-relay invocations, {} messages, {} failed items, {} function errors",
                changes.iter().filter(|c| arrivals.arrival(&c.id, &c.detail_type).is_some()).count(),
                changes.len(),
                s.invocations,
                s.messages,
                s.failed_items,
                s.function_errors
            ));
        }

        // Reconciliation: the poller finds everything already published.
        stack.received().await?;
        invoke_scheduled(&stack, LIST_AND_PUBLISH).await?;
        let new_events = stack.received().await?.len() as u64;
        figures.reconcile_new_events += new_events;
        log(format!("  reconciliation run of list-and-publish afterwards: {new_events} new events"));

        if last {
            // 2. Quiet runs: nothing to do.
            for name in [LIST_AND_PUBLISH, EXPIRE_SWEEPER, AUTO_CANCEL] {
                invoke_scheduled(&stack, name).await?;
                let mut walls = Vec::new();
                let mut pc = 0;
                let mut writes = 0;
                for _ in 0..config.quiet_runs {
                    past_the_window().await;
                    stack.reset_emulator_stats().await?;
                    let (summary, wall) = invoke_scheduled(&stack, name).await?;
                    walls.push(wall.as_secs_f64() * 1000.0);
                    pc = partner_central_calls(&stack).await?;
                    writes = summary["budgetWrites"].as_u64().map_or(writes, |w| writes.max(w));
                }
                let mut q = quiet(walls, pc);
                q.budget_writes_max = Some(writes);
                figures.quiet_run.insert(name.to_owned(), q);
            }
            // native-relay's quiet run: a native event about a change already published (a duplicate).
            if let Some(relay) = processes.relays.first() {
                let seen = changes.first().ok_or_else(|| Error::msg("no changes"))?;
                let native = json!({"version": "0", "id": "quiet-1", "detail-type": "Engagement Invitation Accepted",
                    "source": "aws.partnercentral-selling", "account": "111122223333", "time": "2026-11-20T09:00:01Z",
                    "region": "us-east-1", "resources": [], "detail": {"catalog": "AWS", "engagementInvitation": {"id": seen.id, "participantType": "Sender"}}});
                let mut walls = Vec::new();
                let mut pc = 0;
                for _ in 0..config.quiet_runs {
                    past_the_window().await;
                    stack.reset_emulator_stats().await?;
                    let started = Instant::now();
                    stack.invoke(relay, &native).await?.output().map_err(|e| {
                        Error::msg(format!(
                            "{relay}: {e}\n{}\nruntime:\n{}",
                            processes.logs(relay).join("\n"),
                            stack.runtime.logs().join("\n")
                        ))
                    })?;
                    walls.push(started.elapsed().as_secs_f64() * 1000.0);
                    pc = partner_central_calls(&stack).await?;
                }
                figures.quiet_run.insert(NATIVE_RELAY.to_owned(), quiet(walls, pc));
            }
            for (name, q) in &figures.quiet_run {
                log(format!(
                    "  quiet run {name:<16} median {:.0} ms, max {:.0} ms, {} Partner Central calls, budget writes {:?}",
                    q.wall_ms_median, q.wall_ms_max, q.partner_central_calls, q.budget_writes_max
                ));
            }

            // 3. A burst of simultaneous changes: published within the budget-bound time, no second
            //    over the relay's rate.
            stack.received().await?;
            stack.reset_emulator_stats().await?;
            let arrivals = Arrivals::default();
            let stop = AtomicBool::new(false);
            let stats = Mutex::new(PumpStats::default());
            let burst_ids: Vec<String> =
                burst_seed.iter().filter_map(|i| i["Id"].as_str().map(str::to_owned)).collect();
            let burst_started = Instant::now();
            let driver = async {
                for id in &burst_ids {
                    stack.patch_invitation("engagement", id, json!({"Status": "ACCEPTED"})).await?;
                }
                let expected: Vec<(String, String)> =
                    burst_ids.iter().map(|id| (id.clone(), "Engagement Invitation Accepted".to_owned())).collect();
                let bound = Duration::from_secs_f64(burst_ids.len() as f64 / f64::from(relay_rps.max(1)));
                arrivals.wait_for(&expected, bound * 3 + Duration::from_secs(30)).await;
                stop.store(true, Ordering::Relaxed);
                Ok::<(), Error>(())
            };
            with_the_fast_path(&stack, &processes.relays, &facts.event_source, &stop, &stats, &arrivals, driver)
                .await?;
            let last = burst_ids.iter().filter_map(|id| arrivals.arrival(id, "Engagement Invitation Accepted")).max();
            let stats_after = stack.emulator_stats().await?;
            figures.burst = BurstFigures {
                changes: burst_ids.len() as u64,
                relayed: burst_ids
                    .iter()
                    .filter(|id| arrivals.arrival(id, "Engagement Invitation Accepted").is_some())
                    .count() as u64,
                wall_s: round2(last.map_or(0.0, |t| t.duration_since(burst_started).as_secs_f64())),
                budget_bound_s: round2(burst_ids.len() as f64 / f64::from(relay_rps.max(1))),
                configured_rps: relay_rps,
                max_rps_seen: stats_after["max_received_per_second"].as_u64().unwrap_or(0),
                partner_central_calls: partner_central_calls(&stack).await?,
            };
            log(format!(
                "  burst of {}: {} relayed in {:.1} s (budget bound {:.1} s at {}/s), max {} requests in any second, {} calls",
                figures.burst.changes,
                figures.burst.relayed,
                figures.burst.wall_s,
                figures.burst.budget_bound_s,
                relay_rps,
                figures.burst.max_rps_seen,
                figures.burst.partner_central_calls
            ));
        }
        drop(processes);
        stack.shutdown().await;
    }
    let mut all = Vec::new();
    for kind in CHANGE_KINDS {
        let mut of_kind = latencies.remove(&kind).unwrap_or_default();
        all.extend(of_kind.iter().copied());
        // Per kind, the calls per change are the overall figure (one Get per change when
        // changes are spread out; the emulator counts requests, not who asked for which change).
        let f = latency_figures(&mut of_kind, changes_made.get(&kind).copied().unwrap_or(0), 0);
        log(format!(
            "  {:<36} {} of {} relayed, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            kind.name(),
            f.relayed,
            f.changes,
            f.latency_ms_p50,
            f.latency_ms_p99,
            f.latency_ms_max
        ));
        figures.per_kind.insert(kind.name().to_owned(), f);
    }
    let overall = latency_figures(&mut all, changes_made.values().sum(), calls);
    for f in figures.per_kind.values_mut() {
        f.partner_central_calls_per_change = overall.partner_central_calls_per_change;
    }
    figures.latency_ms_p50 = overall.latency_ms_p50;
    figures.latency_ms_p99 = overall.latency_ms_p99;
    figures.latency_ms_max = overall.latency_ms_max;
    figures.changes = overall.changes;
    figures.relayed = overall.relayed;
    figures.partner_central_calls_per_change = overall.partner_central_calls_per_change;
    log(format!(
        "  overall: {} of {} relayed, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; {calls} Partner Central calls ({:.2}/change)",
        overall.relayed,
        overall.changes,
        overall.latency_ms_p50,
        overall.latency_ms_p99,
        overall.latency_ms_max,
        overall.partner_central_calls_per_change
    ));

    // 4. The whole account: every function at once.
    figures.account_rate = account_rate(config, &facts, budget, &mut rng, log).await?;

    // 5. Daily calls.
    figures.daily_calls = daily_calls(config, &figures);
    figures.description = format!(
        "{} changes of each of {} kinds, one every {} ms, timed from the emulator request to the enriched event in the consumer queue (emulator → moto default bus → rule → SQS → {} poller(s) as the event source mapping: batch ≤ {}, window {} s → native-relay (its pollers sharing up to {}/s at run time) → our bus → consumer queue); {} ms added to every Partner Central call, emulator quota {}/s; account budget {}/s shared at run time through the state table's lease item (no static split, no reserved concurrency); {} binaries.",
        config.changes_per_kind,
        CHANGE_KINDS.len(),
        config.change_interval.as_millis(),
        facts.event_source.max_concurrency,
        facts.event_source.batch_size,
        facts.event_source.batching_window_s,
        relay_share,
        config.latency_ms,
        config.rate_limit,
        budget,
        if config.profile == Profile::Release { "release" } else { "debug" }
    );
    Ok(figures)
}

/// Only the whole account's rate (every function at once, the split read from `template.yaml`),
/// into `figures` (the other fast-path figures are kept as they were measured).
pub async fn account_rate_only(
    config: &FastPathConfig,
    mut figures: FastPathFigures,
    log: &dyn Fn(String),
) -> Result<FastPathFigures> {
    let facts = TemplateFacts::read()?;
    let budget = config.budget.unwrap_or(facts.default_budget);
    let mut rng = XorShift::new(config.seed);
    figures.account_rate = account_rate(config, &facts, budget, &mut rng, log).await?;
    let remeasured = " The whole account's rate re-measured alone";
    let kept = figures.description.split(remeasured).next().unwrap_or_default().to_owned();
    figures.description = format!(
        "{kept}{remeasured} on {} (`bench --account-rate-only`: {}).",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        facts.functions.keys().cloned().collect::<Vec<_>>().join(", ")
    );
    Ok(figures)
}

/// Runs of a schedule are minutes apart, so a run never finds the previous run's calls in its
/// limiter's window: let the window (1.1 s, `shared::rate_limit`) pass between measured runs.
async fn past_the_window() {
    tokio::time::sleep(LIMITER_WINDOW).await;
}

/// The rate limiter's window (`shared/src/rate_limit.rs`: at most N calls per 1.1 s), plus a
/// margin.
const LIMITER_WINDOW: Duration = Duration::from_millis(1_200);

fn quiet(mut walls: Vec<f64>, calls: u64) -> QuietRun {
    walls.sort_by(|a, b| a.total_cmp(b));
    QuietRun {
        wall_ms_median: round1(percentile(&walls, 50.0)),
        wall_ms_max: round1(walls.last().copied().unwrap_or(0.0)),
        partner_central_calls: calls,
        runs: walls.len() as u64,
        budget_writes_max: None,
    }
}

/// Every function at once on one account: the scheduled ones run back to back (first a full
/// run, then steady runs) while the relay's pollers take a burst of new invitations.
async fn account_rate(
    config: &FastPathConfig,
    facts: &TemplateFacts,
    budget: u32,
    rng: &mut XorShift,
    log: &dyn Fn(String),
) -> Result<AccountRateFigures> {
    let stack = Stack::start(StackOptions {
        clock: Some(t0()),
        generate: Some(GenerateConfig {
            seed: config.seed,
            engagements: config.account_engagements,
            connections: config.account_engagements / 10,
            ..GenerateConfig::default()
        }),
        // No quota in the emulator: every request is counted as it comes, none is refused.
        emulator_faults: FaultConfig { latency_ms: config.latency_ms, ..FaultConfig::default() },
        native_events: Some(NativeFaults::default()),
        ..StackOptions::default()
    })
    .await?;
    let processes = start_processes(&stack, facts, budget, config.profile)?;
    let now = stack.emulator_now().await?;
    let new: Vec<Value> = (0..config.burst)
        .map(|_| with_side(new_invitation(rng, Kind::Engagement, now, 24 * 30), Kind::Engagement, "RECEIVER"))
        .collect();
    stack.reset_emulator_stats().await?;
    let stop = AtomicBool::new(false);
    let stats = Mutex::new(PumpStats::default());
    let arrivals = Arrivals::default();
    let runs: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());
    let started = Instant::now();
    let scheduled = |name: &'static str| {
        let stop = &stop;
        let runs = &runs;
        let stack = &stack;
        async move {
            while !stop.load(Ordering::Relaxed) {
                invoke_scheduled(stack, name).await?;
                *runs.lock().map_err(|_| Error::msg("runs poisoned"))?.entry(name.to_owned()).or_default() += 1;
            }
            Ok::<(), Error>(())
        }
    };
    let driver = async {
        for inv in &new {
            stack.put_invitation("engagement", inv.clone()).await?;
        }
        let expected: Vec<(String, String)> = new
            .iter()
            .filter_map(|i| i["Id"].as_str().map(|id| (id.to_owned(), "Engagement Invitation Created".to_owned())))
            .collect();
        arrivals.wait_for(&expected, Duration::from_secs(180)).await;
        stop.store(true, Ordering::Relaxed);
        Ok::<(), Error>(())
    };
    let (d, p, c, s) = tokio::join!(
        driver,
        pollers(&stack, &processes.relays, &facts.event_source, &stop, &stats),
        arrivals.collect(&stack, &stop),
        join_all(facts.scheduled().into_iter().map(scheduled).collect())
    );
    d?;
    p?;
    c?;
    for r in s {
        r?;
    }
    let wall = started.elapsed();
    let emulator = stack.emulator_stats().await?;
    let mut split = BTreeMap::new();
    for name in facts.functions.keys() {
        split.insert(name.clone(), (facts.share(budget, name)?, facts.processes(name)));
    }
    let mut runs = runs.into_inner().map_err(|_| Error::msg("runs poisoned"))?;
    runs.insert(
        format!("{NATIVE_RELAY} (invocations)"),
        stats.lock().map_err(|_| Error::msg("poller stats poisoned"))?.invocations,
    );
    let figures = AccountRateFigures {
        configured_total_rps: budget,
        split,
        max_total_rps_seen: emulator["max_received_per_second"].as_u64().unwrap_or(0),
        partner_central_calls: partner_central_calls(&stack).await?,
        wall_s: round2(wall.as_secs_f64()),
        runs,
    };
    log(format!(
        "whole account ({} engagement invitations): {} Partner Central calls in {:.1} s, max {} in any second (configured {}/s, all processes together at most {}), runs {:?}",
        config.account_engagements,
        figures.partner_central_calls,
        figures.wall_s,
        figures.max_total_rps_seen,
        budget,
        facts.account_total(budget)?,
        figures.runs
    ));
    drop(processes);
    stack.shutdown().await;
    Ok(figures)
}

/// Daily Partner Central calls of the polling (list-and-publish) and of the fast path, from the
/// measured quiet-run calls and calls per change. expire-sweeper and auto-cancel keep their
/// schedules either way and are left out of both.
fn daily_calls(config: &FastPathConfig, figures: &FastPathFigures) -> DailyCalls {
    let per_run = figures.quiet_run.get(LIST_AND_PUBLISH).map_or(0, |q| q.partner_central_calls);
    let per_change = figures.partner_central_calls_per_change;
    let poll_interval = 5;
    let runs = |minutes: u64| (24 * 60) / minutes;
    let fast: BTreeMap<String, u64> = config
        .reconcile_minutes
        .iter()
        .map(|m| (format!("{m}min"), runs(*m) * per_run + (config.changes_per_day as f64 * per_change).ceil() as u64))
        .collect();
    DailyCalls {
        poll_interval_min: poll_interval,
        poll_only: runs(poll_interval) * per_run,
        fast_path_plus_reconcile: fast,
        changes_per_day: config.changes_per_day,
        list_and_publish_calls_per_quiet_run: per_run,
        fast_path_calls_per_change: per_change,
        assumptions: format!(
            "list-and-publish every 5 min (poll only) vs every {:?} min plus native-relay; {} calls per list-and-publish run (measured quiet run on the latency account; a run with changes adds a page or a Get now and then); {:.2} calls per change (measured); {} changes a day; the sweeper and auto-cancel schedules are the same in both and not counted",
            config.reconcile_minutes, per_run, per_change, config.changes_per_day
        ),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The fast-path section of `bench/results.md`.
pub fn markdown(f: &FastPathFigures) -> String {
    let goal = |ok: bool| if ok { "✅" } else { "❌" };
    let mut md = String::from("\n## Fast path (native-relay)\n\n");
    md.push_str(&format!("**{}** — {}\n\n", f.date, f.description));
    md.push_str("| goal | measured | |\n| --- | --- | --- |\n");
    md.push_str(&format!("| p99 ≤ 2 s | {:.0} ms | {} |\n", f.latency_ms_p99, goal(f.latency_ms_p99 <= 2000.0)));
    md.push_str(&format!("| p50 ≤ 0.5 s | {:.0} ms | {} |\n", f.latency_ms_p50, goal(f.latency_ms_p50 <= 500.0)));
    md.push_str(&format!(
        "| ≤ 1 Partner Central call per change | {:.2} | {} |\n",
        f.partner_central_calls_per_change,
        goal(f.partner_central_calls_per_change <= 1.0)
    ));
    md.push_str(&format!(
        "| every change relayed | {} of {} | {} |\n",
        f.relayed,
        f.changes,
        goal(f.relayed == f.changes)
    ));
    md.push_str(&format!(
        "| burst of {} within the budget-bound time ({:.0} s at {}/s) | {:.1} s, {} relayed | {} |\n",
        f.burst.changes,
        f.burst.budget_bound_s,
        f.burst.configured_rps,
        f.burst.wall_s,
        f.burst.relayed,
        goal(f.burst.relayed == f.burst.changes && f.burst.wall_s <= f.burst.budget_bound_s * 1.1 + 2.0)
    ));
    md.push_str(&format!(
        "| burst: no second over native-relay's {}/s | max {} in any second | {} |\n",
        f.burst.configured_rps,
        f.burst.max_rps_seen,
        goal(f.burst.max_rps_seen <= u64::from(f.burst.configured_rps))
    ));
    md.push_str(&format!(
        "| all {} functions at once: no second over the account's {}/s | max {} in any second | {} |\n",
        f.account_rate.split.len(),
        f.account_rate.configured_total_rps,
        f.account_rate.max_total_rps_seen,
        goal(f.account_rate.max_total_rps_seen <= u64::from(f.account_rate.configured_total_rps))
    ));
    md.push_str(&format!(
        "| the poller then publishes nothing new | {} new events | {} |\n",
        f.reconcile_new_events,
        goal(f.reconcile_new_events == 0)
    ));
    md.push_str("\n| change | changes | relayed | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- | --- |\n");
    for (kind, k) in &f.per_kind {
        md.push_str(&format!(
            "| {kind} | {} | {} | {:.0} | {:.0} | {:.0} |\n",
            k.changes, k.relayed, k.latency_ms_p50, k.latency_ms_p99, k.latency_ms_max
        ));
    }
    md.push_str(&format!(
        "| **all** | {} | {} | {:.0} | {:.0} | {:.0} |\n",
        f.changes, f.relayed, f.latency_ms_p50, f.latency_ms_p99, f.latency_ms_max
    ));
    let split: Vec<String> =
        f.account_rate.split.iter().map(|(name, (share, n))| format!("{name} ≤ {share}/s × {n} process(es)")).collect();
    md.push_str(&format!(
        "\nWhole account, one budget shared at run time: {} ({} Partner Central calls in {:.1} s; runs {:?}).\n",
        split.join(", "),
        f.account_rate.partner_central_calls,
        f.account_rate.wall_s,
        f.account_rate.runs
    ));
    md.push_str("\n| quiet run (nothing to do) | wall median ms | wall max ms | Partner Central calls | budget lease writes (max) |\n| --- | --- | --- | --- | --- |\n");
    for (name, q) in &f.quiet_run {
        md.push_str(&format!(
            "| {name} | {:.0} | {:.0} | {} | {} |\n",
            q.wall_ms_median,
            q.wall_ms_max,
            q.partner_central_calls,
            q.budget_writes_max.map_or_else(|| "2 (by design)".to_owned(), |w| w.to_string())
        ));
    }
    let d = &f.daily_calls;
    let fast: Vec<String> =
        d.fast_path_plus_reconcile.iter().map(|(i, n)| format!("{n} (reconciling every {i})")).collect();
    md.push_str(&format!(
        "\nDaily Partner Central calls: poll only every {} min: **{}**; fast path + reconciliation: **{}**. Assumptions: {}.\n",
        d.poll_interval_min,
        d.poll_only,
        fast.join(", "),
        d.assumptions
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v[..3], 99.0), 3.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn the_plan_interleaves_every_kind_and_seeds_only_what_is_changed_in_place() {
        let (seed, changes) = plan(&mut XorShift::new(1), 4, t0());
        assert_eq!(changes.len(), 24);
        assert_eq!(changes[..6].iter().map(|c| c.kind).collect::<Vec<_>>(), CHANGE_KINDS);
        let seeded = seed["EngagementInvitations"].as_array().map_or(0, Vec::len)
            + seed["ConnectionInvitations"].as_array().map_or(0, Vec::len);
        assert_eq!(seeded, 16, "accept, reject, cancel and expire act on seeded invitations");
        assert!(changes.iter().filter(|c| c.create.is_some()).all(|c| c.detail_type.ends_with("Created")));
        assert!(
            changes
                .iter()
                .filter(|c| c.kind == ChangeKind::CancelByOtherSide)
                .all(|c| c.detail_type == "Connection Invitation Canceled")
        );
    }

    #[test]
    fn daily_calls_compare_polling_with_the_fast_path() {
        let mut figures = FastPathFigures { partner_central_calls_per_change: 1.0, ..FastPathFigures::default() };
        figures
            .quiet_run
            .insert(LIST_AND_PUBLISH.to_owned(), QuietRun { partner_central_calls: 3, ..QuietRun::default() });
        let config = FastPathConfig { changes_per_day: 100, reconcile_minutes: vec![60], ..FastPathConfig::default() };
        let d = daily_calls(&config, &figures);
        assert_eq!(d.poll_only, 288 * 3);
        assert_eq!(d.fast_path_plus_reconcile["60min"], 24 * 3 + 100);
    }
}
