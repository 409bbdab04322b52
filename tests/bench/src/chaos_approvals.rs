//! Chaos of approvals (issue #26: "approvals given twice and concurrently with the scheduled
//! run: no double action"), against the built `auto-respond`, the Partner Central emulator and
//! moto.
//!
//! 1. Engagement and connection invitations we received, each matched by an `ask` rule of the
//!    asking policy: a first scheduled run publishes one `… Approval Requested` per invitation.
//! 2. Then everything at once, on several warm processes of the function (each under its own
//!    runtime name, one invocation at a time, the same environment), per invitation a scenario
//!    drawn from the seed:
//!    - `twice`: the same approval given two or three times (each its own invocation);
//!    - `dismiss`: approvals racing a dismissal;
//!    - `run`: approvals racing a scheduled run of a policy that acts on the invitation
//!      directly (the same action or the other one: a policy deployed while people approve);
//!    - `edited`: an approval to a process whose policy was edited since it asked (refused)
//!      racing one to a process with the asking policy;
//!    - `edited-only`: only the approval under the edited policy: refused, "policy changed".
//! 3. Then, one at a time, crashes: a process SIGKILLed while the emulator holds its answer
//!    (before it ran, or after it took effect), and the decision invoked again with the same
//!    request id (as Lambda retries an invocation): it resumes with the same ClientToken.
//! 4. The tasks' time passes and a scheduled run follows the acceptance tasks to their end.
//!
//! Checked from the emulator's own log of answering requests (`/_emulator/answers`: which
//! changed state, which were same-token replays, which were refused), its invitations, the
//! events on the bus, the state table and the approval summaries:
//! - at most one answer per invitation changed anything in Partner Central;
//! - exactly one transition event (`Accepted`/`Rejected`, and one `Acceptance Started` per task)
//!   per answered invitation, none for one left PENDING, and its status is Partner Central's;
//! - one `… Approval Requested` per invitation, never asked again;
//! - every summary's outcome is done, started, alreadyDone, refused (with a reason) or
//!   dismissed; per invitation exactly one decision won (one done/started/dismissed, or, where a
//!   run or an edited policy took it, none), and nothing is lost: an invitation whose approval
//!   won is answered with the approved action.
//!
//! Deterministic in what it asserts (no timing): which interleaving happens varies, every
//! assertion holds for all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use harness::lambda::{FunctionProcess, Invocation};
use harness::stack::{Stack, StackOptions};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};

use crate::account::Kind;
use crate::functions::{AUTO_RESPOND, scheduled_event};
use crate::measure::{Profile, function_binary};
use crate::prng::XorShift;
use crate::runtime::MiniRuntime;
use crate::tap::Tap;
use crate::{Error, Result};

/// The test's size.
#[derive(Debug, Clone)]
pub struct ApprovalChaosConfig {
    pub seed: u64,
    pub engagements: usize,
    pub connections: usize,
    /// Warm processes with the asking policy serving the approvals.
    pub processes: usize,
}

impl ApprovalChaosConfig {
    /// The version in `make test`.
    pub fn short(seed: u64) -> Self {
        ApprovalChaosConfig { seed, engagements: 5, connections: 5, processes: 5 }
    }
}

/// What one invitation went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    Twice,
    Dismiss,
    /// Racing a scheduled run of a policy that acts directly; `same`: with the approved action.
    Run {
        same: bool,
    },
    Edited,
    EditedOnly,
    /// Killed while the emulator holds the answer (`after`: it took effect), then retried with
    /// the same request id.
    Crash {
        after: bool,
    },
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Twice => "twice",
            Scenario::Dismiss => "dismiss",
            Scenario::Run { same: true } => "run-same",
            Scenario::Run { same: false } => "run-other",
            Scenario::Edited => "edited",
            Scenario::EditedOnly => "edited-only",
            Scenario::Crash { after: false } => "crash-before",
            Scenario::Crash { after: true } => "crash-after",
        }
    }
}

/// One invitation of the test.
#[derive(Debug, Clone)]
pub struct Subject {
    pub kind: &'static str,
    pub id: String,
    /// The other party (the rule's match).
    pub other: String,
    /// What the asking policy asks to do.
    pub action: &'static str,
    pub scenario: Scenario,
}

/// One decision or run given, and what it answered.
#[derive(Debug, Clone)]
pub struct Given {
    pub invitation: Option<String>,
    /// `approve`, `dismiss`, `approve (edited policy)`, `run`, `approve (retry)`, …
    pub what: String,
    pub process: String,
    pub answer: Option<Value>,
    pub error: Option<String>,
}

/// The result, and what was wrong.
#[derive(Debug, Clone, Default)]
pub struct ApprovalChaosReport {
    pub seed: u64,
    pub invitations: usize,
    pub scenarios: BTreeMap<String, u64>,
    pub approvals_given: u64,
    pub dismissals_given: u64,
    pub runs: u64,
    pub kills: u64,
    /// Decisions answered `skipped` (by a run lease: approvals take none, so a problem).
    pub skipped: u64,
    /// Approval summaries by outcome.
    pub outcomes: BTreeMap<String, u64>,
    /// Partner Central answering requests: state-changing, same-token replays, refused.
    pub pc_effects: u64,
    pub pc_replays: u64,
    pub pc_refused: u64,
    /// Distinct events on the bus by detail-type.
    pub events: BTreeMap<String, u64>,
    /// Conditional writes that lost (re-read and decided again), by DynamoDB operation.
    pub conflicts: BTreeMap<String, u64>,
    pub given: Vec<Given>,
    pub problems: Vec<String>,
    /// Wall time per phase.
    pub phases: Vec<(&'static str, Duration)>,
    pub wall: Duration,
}

impl ApprovalChaosReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The short table the closing note takes.
    pub fn table(&self) -> String {
        let join = |m: &BTreeMap<String, u64>| m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
        let transitions: u64 = self
            .events
            .iter()
            .filter(|(k, _)| k.ends_with(" Accepted") || k.ends_with(" Rejected") || k.ends_with(" Canceled"))
            .map(|(_, v)| v)
            .sum();
        let rows = [
            ("seed", self.seed.to_string()),
            ("invitations", format!("{} ({})", self.invitations, join(&self.scenarios))),
            (
                "decisions given",
                format!(
                    "{} approvals, {} dismissals, {} scheduled runs alongside, {} kills, {} skipped",
                    self.approvals_given, self.dismissals_given, self.runs, self.kills, self.skipped
                ),
            ),
            ("approval outcomes", join(&self.outcomes)),
            (
                "Partner Central answer calls",
                format!(
                    "{} changed state, {} same-token replays, {} refused",
                    self.pc_effects, self.pc_replays, self.pc_refused
                ),
            ),
            ("transition events", transitions.to_string()),
            ("events by type", join(&self.events)),
            (
                "conflicts retried (lost conditional writes: PutItem = the run lease, others = records)",
                join(&self.conflicts),
            ),
            ("problems", self.problems.len().to_string()),
            (
                "wall",
                format!(
                    "{:.1} s ({})",
                    self.wall.as_secs_f64(),
                    self.phases
                        .iter()
                        .map(|(p, d)| format!("{p} {:.1} s", d.as_secs_f64()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        ];
        let mut out = String::from("| approvals chaos | |\n|---|---|\n");
        for (k, v) in rows {
            out.push_str(&format!("| {k} | {v} |\n"));
        }
        out
    }
}

/// The emulator's (frozen) clock: now, to the second. A process that has not yet heard from
/// Partner Central judges an approval's `until` by its own clock (in AWS the same as the
/// service's), so the emulator must not live in another time than the processes.
fn t0() -> DateTime<Utc> {
    let now = Utc::now();
    Utc.timestamp_opt(now.timestamp(), 0).single().unwrap_or(now)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

const REJECTION_REASON: &str = "Not a fit for us";

/// The invitations, their other parties unique, their scenarios from the seed.
fn subjects(config: &ApprovalChaosConfig, rng: &mut XorShift) -> Vec<Subject> {
    let concurrent = [
        Scenario::Twice,
        Scenario::Dismiss,
        Scenario::Run { same: true },
        Scenario::Run { same: false },
        Scenario::Edited,
        Scenario::EditedOnly,
    ];
    let mut out = Vec::new();
    let mut n = 0u64;
    let mut add = |kind: &'static str, scenario: Scenario, rng: &mut XorShift| {
        n += 1;
        let id = match kind {
            "engagement" => format!("engi-chaosappr{n:04}"),
            _ => format!("pacinv-ChaosAppr{n:04}"),
        };
        let action = if rng.chance(0.6) { "accept" } else { "reject" };
        out.push(Subject { kind, id, other: format!("{:012}", 300_000_000_000u64 + n), action, scenario });
    };
    for (kind, count) in [("engagement", config.engagements), ("connection", config.connections)] {
        // Distinct scenarios per kind first (from an offset the seed draws), then drawn.
        let offset = rng.below(concurrent.len() as u64) as usize;
        for i in 0..count {
            let scenario = if i < concurrent.len() {
                concurrent[(i + offset) % concurrent.len()]
            } else {
                *rng.pick(&concurrent).unwrap_or(&Scenario::Twice)
            };
            add(kind, scenario, rng);
        }
    }
    // One crash (approvals take no run lease: the retry does not wait for the killed
    // process), its kind and point drawn.
    let kind = if rng.chance(0.5) { "engagement" } else { "connection" };
    add(kind, Scenario::Crash { after: rng.chance(0.5) }, rng);
    out
}

fn seed_document(subjects: &[Subject], t0: DateTime<Utc>) -> Result<SeedDocument> {
    let created = rfc3339(t0 - chrono::Duration::hours(30));
    let expires = rfc3339(t0 + chrono::Duration::days(10));
    let mut connections = Vec::new();
    let mut engagements = Vec::new();
    for s in subjects {
        match s.kind {
            "engagement" => engagements.push(json!({
                "Catalog": "AWS", "Id": s.id, "PayloadType": "OpportunityInvitation",
                "EngagementId": format!("eng-{}0", s.id.trim_start_matches("engi-")),
                "EngagementTitle": "Approval chaos", "SenderAwsAccountId": s.other,
                "InvitationDate": created, "ExpirationDate": expires,
                "ParticipantType": "RECEIVER", "Status": "PENDING",
            })),
            _ => connections.push(json!({
                "Catalog": "AWS", "Id": s.id, "ConnectionType": "OPPORTUNITY_COLLABORATION",
                "CreatedAt": created, "UpdatedAt": created, "ExpiresAt": expires,
                "OtherParticipantIdentifier": s.other, "ParticipantType": "RECEIVER", "Status": "PENDING",
                "InvitationMessage": "Let's work together", "InviterEmail": "someone@example.com", "InviterName": "Someone",
            })),
        }
    }
    let doc = json!({"ConnectionInvitations": connections, "EngagementInvitations": engagements});
    SeedDocument::from_json(&doc.to_string()).map_err(|e| Error::msg(format!("seed: {e}")))
}

/// A policy of rules per (kind, action) over `subjects`; `ask` on every rule or none.
fn policy<'a>(subjects: impl Iterator<Item = (&'a Subject, &'static str)>, ask: bool) -> Value {
    let mut groups: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for (s, action) in subjects {
        groups.entry((s.kind, action)).or_default().push(s.other.clone());
    }
    let rules: Vec<Value> = groups
        .into_iter()
        .map(|((kind, action), others)| {
            let field = if kind == "engagement" { "senderAwsAccountIds" } else { "otherParticipantIdentifiers" };
            let mut rule = json!({"name": format!("{kind}-{action}"), "kind": kind, "ask": ask,
                                  "match": {field: others}, "action": action});
            if action == "reject" {
                rule["rejectionReason"] = json!(REJECTION_REASON);
            }
            rule
        })
        .collect();
    json!({"version": 1, "dryRun": false, "maxActionsPerRun": 50, "maxActionsPerDay": 1000, "rules": rules})
}

fn other_action(action: &str) -> &'static str {
    if action == "accept" { "reject" } else { "accept" }
}

/// Warm processes of auto-respond, each under its own runtime name (one invocation at a time
/// each), all reaching DynamoDB through the tap.
struct Processes<'a> {
    stack: &'a Stack,
    bin: PathBuf,
    tap: Tap,
    runtime: MiniRuntime,
    running: BTreeMap<String, FunctionProcess>,
    /// Request ids are drawn from the seed too.
    ids: XorShift,
}

impl<'a> Processes<'a> {
    async fn new(stack: &'a Stack, seed: u64) -> Result<Processes<'a>> {
        Ok(Processes {
            stack,
            bin: function_binary(AUTO_RESPOND, Profile::Debug)?,
            tap: Tap::start(stack.moto.endpoint()).await?,
            runtime: MiniRuntime::start().await?,
            running: BTreeMap::new(),
            ids: XorShift::new(seed),
        })
    }

    /// Start a process named `name` (never a name used before) with `policy`.
    fn start(&mut self, name: &str, policy: &Value) -> Result<()> {
        if self.running.contains_key(name) {
            return Err(Error::msg(format!("process name {name} used twice (a restarted name hangs the runtime)")));
        }
        let dynamodb = self.tap.endpoint();
        let policy = policy.to_string();
        let runtime_api = self.runtime.api_for(name);
        let overrides = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", AUTO_RESPOND),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.as_str()),
            ("RESPOND_POLICY", policy.as_str()),
        ];
        let process = self.stack.start_function(name, &self.bin, &overrides)?;
        self.running.insert(name.to_owned(), process);
        Ok(())
    }

    async fn kill(&mut self, name: &str) -> Result<()> {
        match self.running.get_mut(name) {
            Some(p) => p.kill().await,
            None => Ok(()),
        }
    }

    /// Invoke the process `name`, as request `request_id` (a Lambda retry keeps its request
    /// id), or a new one.
    async fn invoke(&mut self, name: &str, payload: &Value, request_id: Option<&str>) -> Result<Invocation> {
        let id = request_id.map_or_else(|| request_id_from(&mut self.ids), str::to_owned);
        self.runtime.invoke(name, payload, &id).await
    }

    /// The last lines `name` logged.
    fn logs(&self, name: &str) -> String {
        let lines = self.running.get(name).map(FunctionProcess::logs).unwrap_or_default();
        lines.iter().rev().take(20).rev().cloned().collect::<Vec<_>>().join("\n")
    }

    async fn stop_all(&mut self) -> Result<()> {
        for p in self.running.values_mut() {
            p.kill().await?;
        }
        Ok(())
    }
}

/// An answer `skipped`: another invocation held the function's run lease.
fn is_skipped(outcome: &Result<Invocation>) -> bool {
    matches!(outcome, Ok(Invocation::Ok(v)) if v["skipped"] == json!(true))
}

fn decision(approval_id: &str, decision: &str) -> Value {
    json!({"approval": {"approvalId": approval_id, "decision": decision}})
}

/// A request id as Lambda gives them (a UUID), from the seed.
fn request_id_from(rng: &mut XorShift) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// One planned invocation of the concurrent phase.
#[derive(Debug, Clone)]
struct Planned {
    invitation: Option<String>,
    what: &'static str,
    process: String,
    payload: Value,
}

fn given(p: &Planned, outcome: Result<Invocation>) -> Given {
    let (answer, error) = match outcome {
        Ok(Invocation::Ok(v)) => (Some(v), None),
        Ok(Invocation::FunctionError { error_type, message }) => (None, Some(format!("{error_type}: {message}"))),
        Err(e) => (None, Some(e.to_string())),
    };
    Given { invitation: p.invitation.clone(), what: p.what.to_owned(), process: p.process.clone(), answer, error }
}

/// Hold the first `operation` request at `phase`, invoke, and once it is held kill the
/// process and let the request go. Returns false if the invocation ended before being held.
async fn crash_at(
    processes: &mut Processes<'_>,
    name: &str,
    payload: &Value,
    request_id: &str,
    operation: &str,
    phase: &str,
) -> Result<bool> {
    let stack = processes.stack;
    stack.emulator_control("POST", "hold", Some(json!({"nth": 1, "operation": operation, "phase": phase}))).await?;
    let outcome = {
        let run = processes.invoke(name, payload, Some(request_id));
        tokio::pin!(run);
        let held = async {
            loop {
                let v = stack.emulator_control("POST", "hold/wait", Some(json!({"timeout_ms": 5_000}))).await?;
                if !v["held"].is_null() {
                    return Ok::<(), Error>(());
                }
            }
        };
        tokio::select! {
            biased;
            r = &mut run => Some(r),
            h = held => { h?; None }
        }
    };
    match outcome {
        Some(result) => {
            stack.emulator_control("DELETE", "hold", None).await?;
            result?;
            Ok(false)
        }
        None => {
            processes.kill(name).await?;
            stack.emulator_control("POST", "hold/release", None).await?;
            Ok(true)
        }
    }
}

/// The answering operation of `action` on an invitation of `kind`.
fn answer_operation(kind: &str, action: &str) -> &'static str {
    match (kind, action) {
        ("engagement", "accept") => "StartEngagementByAcceptingInvitationTask",
        ("engagement", _) => "RejectEngagementInvitation",
        (_, "accept") => "AcceptConnectionInvitation",
        _ => "RejectConnectionInvitation",
    }
}

/// The status an answer gives.
fn status_of(action: &str) -> &'static str {
    if action == "accept" { "ACCEPTED" } else { "REJECTED" }
}

fn title(kind: &str) -> &'static str {
    if kind == "engagement" { "Engagement Invitation" } else { "Connection Invitation" }
}

/// Run the scenario and check it.
pub async fn run(config: &ApprovalChaosConfig) -> Result<ApprovalChaosReport> {
    let started = Instant::now();
    let mut rng = XorShift::new(config.seed);
    let subjects = subjects(config, &mut rng);
    let t0 = t0();
    let stack = Stack::start(StackOptions {
        clock: Some(t0),
        seed: Some(seed_document(&subjects, t0)?),
        ..StackOptions::default()
    })
    .await?;
    let stack_started = started.elapsed();
    let mut processes = Processes::new(&stack, rng.fork()).await?;
    let result = drive(config, &subjects, &mut rng, &mut processes).await;
    let stopped = processes.stop_all().await;
    let tap = processes.tap.clone();
    drop(processes);
    stack.shutdown().await;
    let mut report = result?;
    stopped?;
    report.conflicts = tap.lost_conditions();
    report.phases.insert(0, ("stack", stack_started));
    report.wall = started.elapsed();
    Ok(report)
}

async fn drive(
    config: &ApprovalChaosConfig,
    subjects: &[Subject],
    rng: &mut XorShift,
    processes: &mut Processes<'_>,
) -> Result<ApprovalChaosReport> {
    let stack = processes.stack;
    let mut phase = Instant::now();
    let mut report = ApprovalChaosReport { seed: config.seed, invitations: subjects.len(), ..Default::default() };
    for s in subjects {
        *report.scenarios.entry(s.scenario.name().to_owned()).or_default() += 1;
    }
    let asking = policy(subjects.iter().map(|s| (s, s.action)), true);
    // Edited since it asked: one more rule (another policy hash; a cap alone is no edit of
    // what the policy decides, and keeps its hash).
    let mut edited = asking.clone();
    if let Some(rules) = edited["rules"].as_array_mut() {
        rules.push(json!({"name": "added-later", "kind": "connection", "ask": true,
                          "match": {"otherParticipantIdentifiers": ["999999999999"]}, "action": "accept"}));
    }
    // Deployed while people approve: acts directly on the `run` subjects.
    let direct = policy(
        subjects.iter().filter_map(|s| match s.scenario {
            Scenario::Run { same } => Some((s, if same { s.action } else { other_action(s.action) })),
            _ => None,
        }),
        false,
    );
    let ask_names: Vec<String> = (0..config.processes.max(1)).map(|i| format!("ar-ask-{i}")).collect();
    for name in &ask_names {
        processes.start(name, &asking)?;
    }
    processes.start("ar-edited", &edited)?;
    let runs_alongside = subjects.iter().any(|s| matches!(s.scenario, Scenario::Run { .. }));
    if runs_alongside {
        processes.start("ar-direct-0", &direct)?;
        processes.start("ar-direct-1", &direct)?;
    }

    report.phases.push(("start", phase.elapsed()));
    phase = Instant::now();
    // 1. The asking run.
    let asked_run = match processes.invoke(&ask_names[0], &scheduled_event(AUTO_RESPOND), None).await?.output() {
        Ok(v) => v,
        Err(e) => return Err(Error::msg(format!("the asking run: {e}; its logs:\n{}", processes.logs(&ask_names[0])))),
    };
    report.runs += 1;
    let mut events = received(stack).await?;
    let mut approval_ids: BTreeMap<String, String> = BTreeMap::new();
    for e in &events {
        if e["detail-type"].as_str().is_some_and(|t| t.ends_with("Approval Requested")) {
            let id = e["detail"]["invitationId"].as_str().unwrap_or_default().to_owned();
            let approval = e["detail"]["approval"]["approvalId"].as_str().unwrap_or_default().to_owned();
            approval_ids.insert(id, approval);
        }
    }
    for s in subjects {
        if !approval_ids.contains_key(&s.id) {
            return Err(Error::msg(format!(
                "the asking run asked no approval for {} {} (run: {asked_run})",
                s.kind, s.id
            )));
        }
    }

    report.phases.push(("ask", phase.elapsed()));
    phase = Instant::now();
    // 2. Everything at once.
    let mut planned: Vec<Planned> = Vec::new();
    for s in subjects {
        let id = approval_ids.get(&s.id).cloned().unwrap_or_default();
        let approve = || Planned {
            invitation: Some(s.id.clone()),
            what: "approve",
            process: String::new(),
            payload: decision(&id, "approve"),
        };
        match s.scenario {
            Scenario::Twice => {
                for _ in 0..rng.range(2, 3) {
                    planned.push(approve());
                }
            }
            Scenario::Dismiss => {
                for _ in 0..rng.range(1, 2) {
                    planned.push(approve());
                }
                planned.push(Planned { what: "dismiss", payload: decision(&id, "dismiss"), ..approve() });
            }
            Scenario::Run { .. } => {
                for _ in 0..rng.range(1, 2) {
                    planned.push(approve());
                }
            }
            Scenario::Edited => {
                planned.push(approve());
                planned.push(Planned { what: "approve (edited policy)", process: "ar-edited".into(), ..approve() });
            }
            Scenario::EditedOnly => {
                planned.push(Planned { what: "approve (edited policy)", process: "ar-edited".into(), ..approve() });
            }
            Scenario::Crash { .. } => {}
        }
    }
    // Shuffle (Fisher-Yates from the seed), then spread over the processes.
    for i in (1..planned.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        planned.swap(i, j);
    }
    for (next, p) in planned.iter_mut().filter(|p| p.process.is_empty()).enumerate() {
        p.process = ask_names[next % ask_names.len()].clone();
    }
    if runs_alongside {
        // Two firings at once (one holds the run lease), somewhere among the decisions.
        for name in ["ar-direct-0", "ar-direct-1"] {
            let at = rng.below(planned.len() as u64 + 1) as usize;
            planned.insert(
                at,
                Planned { invitation: None, what: "run", process: name.into(), payload: scheduled_event(AUTO_RESPOND) },
            );
        }
    }
    let mut all = tokio::task::JoinSet::new();
    for (i, p) in planned.iter().enumerate() {
        let (runtime, p, id) = (processes.runtime.clone(), p.clone(), request_id_from(&mut processes.ids));
        all.spawn(async move { (i, runtime.invoke(&p.process, &p.payload, &id).await) });
    }
    let mut outcomes: BTreeMap<usize, Result<Invocation>> = BTreeMap::new();
    while let Some(joined) = all.join_next().await {
        let (i, outcome) = joined.map_err(|e| Error::msg(format!("an invocation task failed: {e}")))?;
        outcomes.insert(i, outcome);
    }
    for (i, outcome) in outcomes {
        let Some(p) = planned.get(i) else { continue };
        // Approvals take no run lease: none waits for a run, none is skipped.
        if is_skipped(&outcome) {
            report.skipped += 1;
        }
        report.given.push(given(p, outcome));
    }

    report.phases.push(("concurrent", phase.elapsed()));
    phase = Instant::now();
    // 3. Crashes, one at a time: killed while the emulator holds the answer, then the same
    // invocation again (the same request id) on another process.
    for (n, s) in subjects.iter().enumerate() {
        let Scenario::Crash { after } = s.scenario else { continue };
        let id = approval_ids.get(&s.id).cloned().unwrap_or_default();
        let payload = decision(&id, "approve");
        let request = request_id_from(rng);
        let victim = format!("ar-crash-{n}");
        processes.start(&victim, &asking)?;
        let operation = answer_operation(s.kind, s.action);
        let phase = if after { "after" } else { "before" };
        let killed = crash_at(processes, &victim, &payload, &request, operation, phase).await?;
        if killed {
            report.kills += 1;
        } else {
            report.problems.push(format!("{} {}: the approval never reached {operation}", s.kind, s.id));
        }
        report.given.push(Given {
            invitation: Some(s.id.clone()),
            what: format!("approve (killed {phase} {operation})"),
            process: victim,
            answer: None,
            error: Some("killed".into()),
        });
        let retry = format!("ar-retry-{n}");
        processes.start(&retry, &asking)?;
        let p = Planned {
            invitation: Some(s.id.clone()),
            what: "approve (retry, same request id)",
            process: retry,
            payload,
        };
        let outcome = processes.invoke(&p.process, &p.payload, Some(&request)).await;
        if is_skipped(&outcome) {
            report.skipped += 1;
        }
        report.given.push(given(&p, outcome));
    }

    report.phases.push(("crashes", phase.elapsed()));
    phase = Instant::now();
    // 4. The acceptance tasks end (virtual time), and a scheduled run follows them.
    stack.advance_clock(0.5).await?;
    let follow = processes.invoke(&ask_names[0], &scheduled_event(AUTO_RESPOND), None).await?;
    report.runs += 1;
    report.given.push(given(
        &Planned { invitation: None, what: "run (follow)", process: ask_names[0].clone(), payload: Value::Null },
        Ok(follow),
    ));
    events.extend(received(stack).await?);

    report.phases.push(("follow", phase.elapsed()));
    phase = Instant::now();
    check(stack, subjects, &approval_ids, &events, &mut report).await?;
    report.phases.push(("check", phase.elapsed()));
    Ok(report)
}

/// What an approval answers while a scheduled run of the function is in progress (the run
/// held by the emulator in its answer, as a long run is busy): `(approval's answer, the run's
/// answer)`. Invitation 1 is asked (then approved), invitation 2 answered directly by the run.
pub async fn approval_during_a_run() -> Result<(Value, Value)> {
    let mut rng = XorShift::new(1);
    let subjects: Vec<Subject> = (1..=2)
        .map(|n| Subject {
            kind: "connection",
            id: format!("pacinv-ChaosAppr{n:04}"),
            other: format!("{:012}", 300_000_000_000u64 + n),
            action: "accept",
            scenario: Scenario::Twice,
        })
        .collect();
    let t0 = t0();
    let stack =
        Stack::start(StackOptions { clock: Some(t0), seed: Some(seed_document(&subjects, t0)?), ..Default::default() })
            .await?;
    let mut processes = Processes::new(&stack, rng.fork()).await?;
    let result = async {
        let asking = policy(subjects[..1].iter().map(|s| (s, s.action)), true);
        let direct = policy(subjects[1..].iter().map(|s| (s, s.action)), false);
        processes.start("ar-ask", &asking)?;
        processes.start("ar-approve", &asking)?;
        processes.start("ar-run", &direct)?;
        processes.invoke("ar-ask", &scheduled_event(AUTO_RESPOND), None).await?.output()?;
        let asked = received(&stack).await?;
        let approval_id = asked
            .iter()
            .find_map(|e| e["detail"]["approval"]["approvalId"].as_str())
            .ok_or_else(|| Error::msg("nothing asked"))?
            .to_owned();
        // The run, held in its answer (as long as the test says).
        stack
            .emulator_control(
                "POST",
                "hold",
                Some(json!({"nth": 1, "operation": "AcceptConnectionInvitation", "phase": "before"})),
            )
            .await?;
        let (runtime, run_id) = (processes.runtime.clone(), request_id_from(&mut rng));
        let run = tokio::spawn(async move { runtime.invoke("ar-run", &scheduled_event(AUTO_RESPOND), &run_id).await });
        loop {
            let v = stack.emulator_control("POST", "hold/wait", Some(json!({"timeout_ms": 5_000}))).await?;
            if !v["held"].is_null() {
                break;
            }
        }
        let approved = processes.invoke("ar-approve", &decision(&approval_id, "approve"), None).await?.output();
        stack.emulator_control("POST", "hold/release", None).await?;
        let run = run.await.map_err(|e| Error::msg(e.to_string()))??.output()?;
        Ok::<_, Error>((approved?, run))
    }
    .await;
    let stopped = processes.stop_all().await;
    drop(processes);
    stack.shutdown().await;
    stopped?;
    result
}

async fn received(stack: &Stack) -> Result<Vec<Value>> {
    let events = stack.received().await?;
    harness::contract::check_events(&events)?;
    Ok(events)
}

/// The checks, from the emulator's records, the bus, the state table and the summaries.
async fn check(
    stack: &Stack,
    subjects: &[Subject],
    approval_ids: &BTreeMap<String, String>,
    events: &[Value],
    report: &mut ApprovalChaosReport,
) -> Result<()> {
    let log = stack.emulator_control("GET", "answers", None).await?;
    let log = log["answers"].as_array().cloned().unwrap_or_default();
    let mut effects: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for entry in &log {
        let id = entry["invitation_id"].as_str().unwrap_or_default().to_owned();
        match entry["outcome"].as_str() {
            Some("effect") => {
                report.pc_effects += 1;
                effects.entry(id).or_default().push(entry.clone());
            }
            Some("replay") => report.pc_replays += 1,
            _ => report.pc_refused += 1,
        }
    }
    // Distinct events (a redelivery carries the same eventId).
    let mut seen = BTreeSet::new();
    let mut by_invitation: BTreeMap<(String, String), u64> = BTreeMap::new();
    // The cause the transition event carries (`policy`, `approval`, or `none`).
    let mut causes: BTreeMap<String, String> = BTreeMap::new();
    for e in events {
        let event_id = e["detail"]["eventId"].as_str().unwrap_or_default().to_owned();
        if !seen.insert(event_id) {
            continue;
        }
        let kind = e["detail-type"].as_str().unwrap_or_default().to_owned();
        *report.events.entry(kind.clone()).or_default() += 1;
        let id = e["detail"]["invitationId"].as_str().unwrap_or_default().to_owned();
        if kind.ends_with(" Accepted") || kind.ends_with(" Rejected") {
            let cause = e["detail"]["cause"]["type"].as_str().unwrap_or("none").to_owned();
            causes.insert(id.clone(), cause);
        }
        *by_invitation.entry((id, kind)).or_default() += 1;
    }
    for g in &report.given {
        if g.what.starts_with("approve") {
            report.approvals_given += 1;
        } else if g.what == "dismiss" {
            report.dismissals_given += 1;
        } else if g.what.starts_with("run") && !g.what.contains("follow") {
            report.runs += 1;
        }
        if let Some(e) = g.error.as_ref().filter(|e| *e != "killed") {
            report.problems.push(format!("{} on {} for {:?} failed: {e}", g.what, g.process, g.invitation));
        }
        if g.what == "run" || g.what.starts_with("run ") {
            continue;
        }
        let Some(answer) = &g.answer else { continue };
        let outcome = answer["outcome"].as_str().unwrap_or("(none)").to_owned();
        *report.outcomes.entry(outcome.clone()).or_default() += 1;
        match outcome.as_str() {
            "done" | "started" | "alreadyDone" | "dismissed" => {}
            "refused" => {
                if answer["reason"].as_str().is_none_or(str::is_empty) {
                    report.problems.push(format!("{} refused without a reason: {answer}", g.what));
                }
            }
            other => report.problems.push(format!("{}: outcome {other:?} is none of the five: {answer}", g.what)),
        }
        if g.what.contains("edited") && matches!(outcome.as_str(), "done" | "started" | "dismissed") {
            report.problems.push(format!("an approval under the edited policy acted: {answer}"));
        }
    }

    let records = crate::state::snapshot(stack).await?;
    for s in subjects {
        let current = stack.emulator_control("GET", &format!("{}-invitations/AWS/{}", s.kind, s.id), None).await?;
        let mut status = current["Status"].as_str().unwrap_or_default().to_owned();
        let answers = effects.get(&s.id).map(Vec::as_slice).unwrap_or_default();
        let name = format!("{} {} ({}, asked to {})", s.kind, s.id, s.scenario.name(), s.action);
        if answers.len() > 1 {
            report.problems.push(format!("{name}: {} answers changed Partner Central: {answers:?}", answers.len()));
        }
        // An acceptance task still running (it should have ended) counts as accepted here.
        if s.kind == "engagement"
            && status == "PENDING"
            && answers.iter().any(|a| a["operation"] == "StartEngagementByAcceptingInvitationTask")
        {
            report.problems.push(format!("{name}: its acceptance task never ended"));
            status = "ACCEPTED".into();
        }
        let mine: Vec<&Given> =
            report.given.iter().filter(|g| g.invitation.as_deref() == Some(s.id.as_str())).collect();
        let outcome_of = |g: &Given| g.answer.as_ref().and_then(|a| a["outcome"].as_str().map(str::to_owned));
        let winners: Vec<&Given> = mine
            .iter()
            .copied()
            .filter(|g| matches!(outcome_of(g).as_deref(), Some("done" | "started" | "dismissed")))
            .collect();
        let asked_status = status_of(s.action);
        // Per scenario: who may win, and what Partner Central must show.
        match s.scenario {
            Scenario::Twice | Scenario::Edited | Scenario::Crash { .. } => {
                if winners.len() != 1 || winners.iter().any(|g| outcome_of(g).as_deref() == Some("dismissed")) {
                    report
                        .problems
                        .push(format!("{name}: expected exactly one approval to act, got {}", describe(&mine)));
                }
                if status != asked_status {
                    report
                        .problems
                        .push(format!("{name}: approved, but Partner Central shows {status}: {}", describe(&mine)));
                }
            }
            Scenario::Dismiss => {
                let dismissed = winners.iter().any(|g| outcome_of(g).as_deref() == Some("dismissed"));
                let expected = if dismissed { "PENDING" } else { asked_status };
                if winners.len() != 1 || status != expected {
                    report.problems.push(format!(
                        "{name}: expected one decision to win (dismissed → PENDING, approved → {asked_status}), got {} with Partner Central {status}",
                        describe(&mine)
                    ));
                }
            }
            Scenario::Run { same } => {
                // The run acts unless the approval came first; either way one answer.
                if winners.len() > 1 || status == "PENDING" {
                    report
                        .problems
                        .push(format!("{name}: racing the run, got {} with Partner Central {status}", describe(&mine)));
                }
                if same && status != asked_status {
                    report.problems.push(format!("{name}: both asked to {}, Partner Central shows {status}", s.action));
                }
                if !winners.is_empty() && status != asked_status {
                    report.problems.push(format!(
                        "{name}: the approval acted but Partner Central shows {status}: {}",
                        describe(&mine)
                    ));
                }
            }
            Scenario::EditedOnly => {
                let refused = mine.iter().all(|g| {
                    g.answer.as_ref().is_some_and(|a| {
                        a["outcome"] == "refused" && a["reason"].as_str().is_some_and(|r| r.contains("policy changed"))
                    })
                });
                if !refused || status != "PENDING" || !answers.is_empty() {
                    report.problems.push(format!(
                        "{name}: expected refused (policy changed) and PENDING, got {} with Partner Central {status}",
                        describe(&mine)
                    ));
                }
            }
        }
        // Events: one transition per answered invitation (its status), none otherwise; one
        // Acceptance Started per task; one Approval Requested.
        let count = |suffix: &str| {
            by_invitation.get(&(s.id.clone(), format!("{} {suffix}", title(s.kind)))).copied().unwrap_or(0)
        };
        let expected_transitions = |st: &str| u64::from(status == st);
        for (suffix, st) in [("Accepted", "ACCEPTED"), ("Rejected", "REJECTED")] {
            if count(suffix) != expected_transitions(st) {
                report.problems.push(format!(
                    "{name}: {} `{suffix}` event(s) on the bus, Partner Central shows {status}",
                    count(suffix)
                ));
            }
        }
        if s.kind == "engagement" {
            let tasks = u64::from(answers.iter().any(|a| a["operation"] == "StartEngagementByAcceptingInvitationTask"));
            if count("Acceptance Started") != tasks {
                report.problems.push(format!(
                    "{name}: {} `Acceptance Started` events for {tasks} task(s)",
                    count("Acceptance Started")
                ));
            }
        }
        if count("Approval Requested") != 1 {
            report.problems.push(format!("{name}: asked {} times", count("Approval Requested")));
        }
        // The state table agrees with Partner Central.
        let kind = if s.kind == "engagement" { Kind::Engagement } else { Kind::Connection };
        if let Some(recorded) = records.records.get(&(kind, s.id.clone())).filter(|r| r.status != status) {
            report.problems.push(format!("{name}: recorded {}, Partner Central shows {status}", recorded.status));
        }
        if !approval_ids.contains_key(&s.id) {
            report.problems.push(format!("{name}: never asked"));
        }
    }
    Ok(())
}

fn describe(given: &[&Given]) -> String {
    given
        .iter()
        .map(|g| {
            let what = match (&g.answer, &g.error) {
                (Some(a), _) => format!(
                    "{}{}",
                    a["outcome"].as_str().unwrap_or("?"),
                    a["reason"].as_str().map(|r| format!(" ({r})")).unwrap_or_default()
                ),
                (None, Some(e)) => e.clone(),
                (None, None) => "?".into(),
            };
            format!("[{} on {}: {what}]", g.what, g.process)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_draws_every_concurrent_scenario_for_each_kind_and_the_crashes() {
        let subjects = subjects(&ApprovalChaosConfig::short(31), &mut XorShift::new(31));
        for kind in ["engagement", "connection"] {
            let drawn: BTreeSet<Scenario> = subjects.iter().filter(|s| s.kind == kind).map(|s| s.scenario).collect();
            assert!(drawn.len() >= 5, "{kind}: {drawn:?}");
        }
        assert_eq!(subjects.iter().filter(|s| matches!(s.scenario, Scenario::Crash { .. })).count(), 1);
        let ids: BTreeSet<&str> = subjects.iter().map(|s| s.other.as_str()).collect();
        assert_eq!(ids.len(), subjects.len(), "one other party each: one rule matches one invitation");
    }

    #[test]
    fn request_ids_look_like_lambdas() {
        let id = request_id_from(&mut XorShift::new(1));
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(id.matches('-').count(), 4, "{id}");
    }
}
