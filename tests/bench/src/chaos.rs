//! The chaos suite: the functions interleaved under faults while a driver changes the
//! account, then a check that nothing was lost, nothing was made up and nothing was done twice.
//!
//! auto-respond runs for real among them (see [`respond_policy`]): it accepts the opportunity
//! referrals we received and rejects the expiring lead referrals; a share of the invitations
//! plan a failing acceptance task (the emulator's `EmulatorTaskOutcome`). Its actions are
//! checked in the emulator ([`ActionCheck`]): at most one acceptance task per invitation,
//! never a task and a rejection for the same one, one successful rejection per invitation it
//! rejected.
//!
//! Faults, all decided by one seeded PRNG (printed at start, so a failure can be replayed):
//! - Partner Central: the emulator's `throttle_rate` / `error_rate` (its own PRNG, seeded from ours);
//! - EventBridge: the harness's fault proxy fails whole PutEvents calls and single entries;
//! - DynamoDB: the tap in front of moto answers a fraction of the functions' state requests with
//!   `ProvisionedThroughputExceededException`, `ThrottlingException`, `InternalServerError` or
//!   (on `TransactWriteItems`) `TransactionCanceledException` instead of forwarding them;
//! - overlapping invocations: a second invocation of the same function on a second warm process
//!   while the first runs (a retried firing with the same event, or a manual invoke): one runs,
//!   the other skips (the run lease in the state table); never both;
//! - the account's request budget: every function shares `budget` requests a second at run
//!   time (the state table's lease item); the emulator's busiest second must stay within it,
//!   retries, overlaps, killed lease holders and throttled lease writes included;
//! - crashes: the function process is SIGKILLed at a known point — while the emulator holds its
//!   N-th Partner Central request (before it runs, or after it ran and before the answer: e.g.
//!   between a cancellation taking effect and its state write), while the proxy holds a
//!   PutEvents call (nothing delivered), or while a tap in front of DynamoDB holds a state write:
//!   a commit that was applied (its events wait in the outbox), or the outbox delete after a
//!   delivery (the events go out again later — duplicates with the same `eventId`).
//!
//! The truth comes from the emulator (see [`crate::account::Truth`]). Timing inside a function
//! (its concurrent requests) can move which request a random fault hits; the driver's choices,
//! the fault settings and the kill points are fixed by the seed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use harness::lambda::Invocation;
use harness::proxy::PutEventsFaults;
use harness::stack::{Stack, StackOptions};
use partnercentral_local::{CatalogChoice, GenerateConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::account::{Inv, Kind, Transition, Truth, transition_detail_type};
use crate::chaos_native::{self, NATIVE_RELAY, NativeFigures};
use crate::functions::{self, AUTO_CANCEL, AUTO_RESPOND, EXPIRE_SWEEPER, Fleet, LIST_AND_PUBLISH};
use crate::measure::Profile;
use crate::prng::XorShift;
use crate::results::ChaosFigures;
use crate::tap::TapHold;
use crate::{Error, Result};

/// The emulator's clock at the start (fixed, so a seed replays the same dates).
pub const T0: &str = "2026-11-20T10:00:00Z";

/// How to run.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    pub seed: u64,
    /// Function invocations under faults (the drain runs at the end come on top).
    pub runs: usize,
    pub profile: Profile,
    /// Size of the generated account.
    pub engagements: usize,
    pub connections: usize,
    /// Extra PENDING invitations of each kind seeded at start, expiring over the next 2–14 days.
    pub extra_pending: usize,
    pub throttle_rate: f64,
    pub error_rate: f64,
    pub put_events_fail_call_rate: f64,
    pub put_events_fail_entry_rate: f64,
    /// Fraction of the functions' DynamoDB requests answered with a fault (throttling, 5xx,
    /// a canceled transaction) by the tap in front of moto.
    pub dynamodb_fault_rate: f64,
    /// Fraction of runs in which the process is killed at a random point.
    pub kill_rate: f64,
    /// Fraction of (unkilled) scheduled steps invoked twice at once on two processes.
    pub overlap_rate: f64,
    /// `MAX_REQUESTS_PER_SECOND` of every function: the account's budget, never to be exceeded
    /// in any second (the emulator's count).
    pub budget: u32,
    /// Partner Central's native events on, with native-relay in the mix: the fraction the
    /// emulator drops, the fraction it sends twice, and its random delay (reordering), ms.
    pub native: bool,
    pub native_drop_rate: f64,
    pub native_duplicate_rate: f64,
    pub native_delay_ms: u64,
    /// With `native`: the chance that native-relay takes its queue between a step's changes and
    /// its scheduled run (otherwise the events wait for a later step: late, out of order).
    pub relay_step_rate: f64,
    /// Fraction of the PENDING engagement invitations we received (at start, and new ones)
    /// whose acceptance task is planned to fail (`EmulatorTaskOutcome`).
    pub failing_task_rate: f64,
    /// auto-respond's `maxActionsPerRun` (the short run has fewer auto-respond runs: a higher
    /// cap lets them reach both rules).
    pub respond_max_actions_per_run: u32,
    /// Print progress lines.
    pub verbose: bool,
}

impl ChaosConfig {
    /// The full version (`make chaos`).
    pub fn full(seed: u64) -> Self {
        ChaosConfig {
            seed,
            runs: 50,
            profile: Profile::Release,
            engagements: 600,
            connections: 150,
            extra_pending: 24,
            throttle_rate: 0.3,
            error_rate: 0.1,
            put_events_fail_call_rate: 0.2,
            put_events_fail_entry_rate: 0.2,
            dynamodb_fault_rate: 0.1,
            kill_rate: 0.25,
            overlap_rate: 0.3,
            budget: 10,
            native: true,
            native_drop_rate: 0.2,
            native_duplicate_rate: 0.2,
            native_delay_ms: 400,
            relay_step_rate: 0.8,
            failing_task_rate: 0.3,
            respond_max_actions_per_run: 3,
            verbose: true,
        }
    }

    /// The short version inside `make test`.
    pub fn short(seed: u64) -> Self {
        ChaosConfig {
            runs: 8,
            profile: Profile::Debug,
            engagements: 200,
            connections: 60,
            extra_pending: 10,
            kill_rate: 0.35,
            overlap_rate: 0.4,
            respond_max_actions_per_run: 8,
            verbose: false,
            ..ChaosConfig::full(seed)
        }
    }
}

/// The reason auto-respond's policy rejects with in the chaos runs.
pub const REJECTION_REASON: &str = "Unable to support";

/// The reason code of the acceptance tasks planned to fail.
pub const FAILING_TASK_REASON: &str = "OpportunityValidationFailed";

/// Who sends the engagement invitations we receive in the chaos runs (AWS's referrals carry
/// the alias `AWS`): auto-respond's accept rule names it, as every accept rule must.
pub const TRUSTED_SENDER: &str = "AWS";

/// The partner whose connection invitations auto-respond accepts in the chaos runs (half of
/// the connection invitations we receive during a run come from it).
pub const TRUSTED_PARTNER: &str = "210000000001";

/// auto-respond's policy in the chaos runs (real, not a dry run): accept the opportunity
/// referrals we received once they are an hour old, reject the lead referrals that expire
/// within ten days; the other leads stay PENDING (until time brings them under). At most
/// `max_actions_per_run` answers a run.
pub fn respond_policy(max_actions_per_run: u32) -> Value {
    json!({
        "version": 1, "dryRun": false, "maxActionsPerRun": max_actions_per_run, "maxActionsPerDay": 1000,
        "rules": [
            {"name": "referrals", "match": {"payloadTypes": ["OpportunityInvitation"], "senderAwsAccountIds": [TRUSTED_SENDER], "olderThanHours": 1}, "action": "accept"},
            {"name": "expiring-leads", "match": {"payloadTypes": ["LeadInvitation"], "expiresWithinHours": 240},
             "action": "reject", "rejectionReason": REJECTION_REASON},
            {"name": "trusted-partner", "kind": "connection", "match": {"otherParticipantIdentifiers": [TRUSTED_PARTNER]},
             "action": "accept"},
            {"name": "expiring-connections", "kind": "connection", "match": {"expiresWithinHours": 240},
             "action": "reject", "rejectionReason": REJECTION_REASON}
        ]
    })
}

/// The functions' settings in the chaos runs: auto-cancel really cancels (our invitations to a
/// blocked partner, and ours that expire within 48 hours; at most 3 a run), so its
/// cancellations race the driver, the sweeper's expiries and list-and-publish; auto-respond
/// really answers ([`respond_policy`]), so its acceptances and rejections race them too.
pub fn function_env(config: &ChaosConfig) -> BTreeMap<String, Vec<(String, String)>> {
    let policy = json!({
        "version": 1, "dryRun": false, "maxCancellationsPerRun": 3, "maxCancellationsPerDay": 1000,
        "rules": [
            {"name": "blocked-partner", "match": {"otherParticipantIdentifiers": [crate::benchmark::BLOCKED_PARTNER]}},
            {"name": "expiring-unanswered", "match": {"expiresWithinHours": 48}}
        ]
    });
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
    let budget = config.budget.to_string();
    let budget = budget.as_str();
    BTreeMap::from([
        (LIST_AND_PUBLISH.to_owned(), pairs(&[("MAX_REQUESTS_PER_SECOND", budget)])),
        (EXPIRE_SWEEPER.to_owned(), pairs(&[("MAX_REQUESTS_PER_SECOND", budget)])),
        (AUTO_CANCEL.to_owned(), pairs(&[("MAX_REQUESTS_PER_SECOND", budget), ("CANCEL_POLICY", &policy.to_string())])),
        (
            AUTO_RESPOND.to_owned(),
            pairs(&[
                ("MAX_REQUESTS_PER_SECOND", budget),
                ("RESPOND_POLICY", &respond_policy(config.respond_max_actions_per_run).to_string()),
            ]),
        ),
        (NATIVE_RELAY.to_owned(), pairs(&[("MAX_REQUESTS_PER_SECOND", budget)])),
    ])
}

/// Where a run is crashed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum KillPoint {
    /// While the emulator holds the `nth` Partner Central request (of `operation`, if given)
    /// `before` it runs or `after` it ran.
    PartnerCentral { nth: u64, operation: Option<String>, phase: &'static str },
    /// While the proxy holds a PutEvents call (nothing of it is delivered).
    PutEvents,
    /// While the tap in front of DynamoDB holds the next `operation` request, before it reaches
    /// the table (e.g. the outbox delete after a delivery: the events go out again later, with
    /// the same ids) or after it was applied (e.g. a commit: its events wait in the outbox).
    State { operation: &'static str, after_forwarding: bool },
}

/// How one invocation ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum RunEnd {
    Ok,
    FunctionError(String),
    Killed(KillPoint),
}

/// One step of the scenario, for the log.
#[derive(Debug, Clone, Serialize)]
pub struct StepLog {
    pub step: usize,
    pub mutations: Vec<String>,
    pub function: String,
    pub kill: Option<KillPoint>,
    pub end: RunEnd,
    pub transitions: usize,
    pub events: usize,
    pub ms: u64,
}

/// The sweeper's default warning thresholds (`EXPIRY_WARNING_HOURS`), hours.
pub const WARNING_HOURS: [i64; 3] = [4, 24, 72];

/// An expiry warning some successful sweeper run owed: the invitation was PENDING with less
/// than `smallest_crossed` hours left (the smallest threshold it was under). A warning for this
/// expiry with that threshold (or a smaller one, from a later run) must reach the consumer: the
/// sweeper warns the smallest threshold crossed, once per expiry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarningDuty {
    pub kind: Kind,
    pub id: String,
    pub expires_at: DateTime<Utc>,
    pub smallest_crossed: i64,
    pub step: usize,
}

/// The warnings owed by a sweeper run that starts now.
pub fn warning_duties(truth: &Truth, now: DateTime<Utc>, step: usize) -> Vec<WarningDuty> {
    truth
        .pending
        .values()
        .filter_map(|inv| {
            let expires_at = inv.expires_at?;
            let left = expires_at - now;
            if left <= chrono::Duration::zero() {
                return None;
            }
            let smallest_crossed =
                WARNING_HOURS.iter().copied().filter(|h| left < chrono::Duration::hours(*h)).min()?;
            Some(WarningDuty { kind: inv.kind, id: inv.id.clone(), expires_at, smallest_crossed, step })
        })
        .collect()
}

/// What the verifier found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdict {
    pub transitions: usize,
    /// True transitions delivered at least once.
    pub delivered: usize,
    /// Extra copies of any fact's event (transitions, warnings, created, planned).
    pub duplicates: usize,
    /// Facts delivered under more than one `eventId` (count of extra ids).
    pub duplicates_with_other_id: usize,
    pub lost: Vec<Transition>,
    /// Transition events for transitions that did not happen (or with a wrong detail-type).
    pub spurious: Vec<String>,
    pub warnings: usize,
    pub warning_duplicates: usize,
    pub warnings_with_other_id: usize,
    /// Warnings for invitations that were not pending with that expiry, or above the threshold.
    pub spurious_warnings: Vec<String>,
    /// Warnings a successful sweeper run owed that never arrived.
    pub missing_warnings: Vec<WarningDuty>,
    pub created: usize,
    pub spurious_created: Vec<String>,
    /// Events of any other detail-type (e.g. digests, planned cancellations), by type.
    pub other: BTreeMap<String, usize>,
    /// auto-respond's actions, as the emulator recorded them.
    pub actions: ActionCheck,
    /// The account's budget (requests per second) and the most requests the emulator received
    /// in any second of the run (0, 0: not measured).
    pub budget: u64,
    pub max_requests_per_second: u64,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.lost.is_empty()
            && self.spurious.is_empty()
            && self.duplicates_with_other_id == 0
            && self.warnings_with_other_id == 0
            && self.spurious_warnings.is_empty()
            && self.missing_warnings.is_empty()
            && self.spurious_created.is_empty()
            && self.actions.ok()
            && (self.budget == 0 || self.max_requests_per_second <= self.budget)
    }

    /// A readable account of what failed.
    pub fn problems(&self) -> String {
        let mut out = Vec::new();
        for t in &self.lost {
            out.push(format!("LOST: {:?} {} {} → {} (step {}, {})", t.kind, t.id, t.from, t.to, t.step, t.cause));
        }
        out.extend(self.spurious.iter().map(|s| format!("SPURIOUS: {s}")));
        out.extend(self.spurious_warnings.iter().map(|s| format!("SPURIOUS WARNING: {s}")));
        for w in &self.missing_warnings {
            out.push(format!(
                "MISSING WARNING: {:?} {} expiring {} (under {} h at step {})",
                w.kind, w.id, w.expires_at, w.smallest_crossed, w.step
            ));
        }
        out.extend(self.spurious_created.iter().map(|s| format!("SPURIOUS CREATED: {s}")));
        out.extend(self.actions.double_actions.iter().map(|s| format!("DOUBLE ACTION: {s}")));
        out.extend(self.actions.wrong_outcomes.iter().map(|s| format!("WRONG ACCEPTANCE OUTCOME: {s}")));
        if self.budget > 0 && self.max_requests_per_second > self.budget {
            out.push(format!(
                "BUDGET EXCEEDED: {} Partner Central requests in one second, budget {}/s",
                self.max_requests_per_second, self.budget
            ));
        }
        if self.duplicates_with_other_id > 0 || self.warnings_with_other_id > 0 {
            out.push(format!(
                "DUPLICATES WITH ANOTHER eventId: {} (warnings {})",
                self.duplicates_with_other_id, self.warnings_with_other_id
            ));
        }
        out.join("\n")
    }
}

/// One acceptance task as the emulator lists it (`GET /_emulator/engagement-tasks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSeen {
    pub task_id: String,
    pub invitation_id: String,
    /// `IN_PROGRESS`, `COMPLETE` or `FAILED`.
    pub status: String,
    pub reason_code: Option<String>,
}

impl TaskSeen {
    pub(crate) fn from_json(v: &Value) -> Result<TaskSeen> {
        let text =
            |k: &str| v[k].as_str().map(str::to_owned).ok_or_else(|| Error::msg(format!("task without {k}: {v}")));
        Ok(TaskSeen {
            task_id: text("TaskId")?,
            invitation_id: text("EngagementInvitationId")?,
            status: text("TaskStatus")?,
            reason_code: v["ReasonCode"].as_str().map(str::to_owned),
        })
    }
}

/// auto-respond's actions as the emulator recorded them, against what was published.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActionCheck {
    /// Acceptance tasks the emulator started (every `StartEngagementByAcceptingInvitationTask`
    /// that was not an idempotent repeat), and how they ended.
    pub tasks: usize,
    pub tasks_completed: usize,
    pub tasks_failed: usize,
    /// Invitations that went PENDING → REJECTED during the run with the policy's reason.
    pub rejected: usize,
    /// `RejectEngagementInvitation` calls the emulator answered with success.
    pub reject_calls_ok: u64,
    /// `StartEngagementByAcceptingInvitationTask` + `RejectEngagementInvitation` requests
    /// received (retries, idempotent repeats, faults and conflicts included).
    pub write_requests: u64,
    /// Ended tasks whose outcome (`Acceptance Completed` / `Failed`) was published.
    pub outcomes_published: usize,
    /// Ended tasks whose outcome was never published (reported, not a failure: a run killed
    /// between starting a task and recording it whose task completes before the next run no
    /// longer sees the invitation PENDING; its `Accepted` transition is still published).
    pub outcomes_unpublished: Vec<String>,
    /// The failures: an invitation with more than one acceptance task, with a task and a
    /// rejection, or more successful rejections than invitations rejected.
    pub double_actions: Vec<String>,
    /// Outcome events that contradict the task: Completed for a task that did not complete,
    /// Failed with another reason code, an outcome of a task the emulator does not know.
    pub wrong_outcomes: Vec<String>,
    /// Connection invitations auto-respond answered (accepted, rejected), by their events with
    /// the policy's cause.
    pub connections_accepted: usize,
    pub connections_rejected: usize,
}

impl ActionCheck {
    pub fn ok(&self) -> bool {
        self.double_actions.is_empty() && self.wrong_outcomes.is_empty()
    }

    /// One line for the summary.
    pub fn describe(&self) -> String {
        format!(
            "auto-respond: {} acceptance tasks ({} completed, {} failed), {} rejected ({} successful Reject calls), {} write requests; double actions {}; outcomes published {} of {} ended ({} unpublished: {:?}), wrong {}",
            self.tasks,
            self.tasks_completed,
            self.tasks_failed,
            self.rejected,
            self.reject_calls_ok,
            self.write_requests,
            self.double_actions.len(),
            self.outcomes_published,
            self.tasks_completed + self.tasks_failed,
            self.outcomes_unpublished.len(),
            self.outcomes_unpublished,
            self.wrong_outcomes.len(),
        )
    }
}

/// Check auto-respond's actions: `tasks` (the emulator's), `rejected` (invitations rejected
/// with the policy's reason during the run), the successful `RejectEngagementInvitation`
/// calls, and the events delivered.
pub fn check_actions(
    tasks: &[TaskSeen],
    rejected: &BTreeSet<String>,
    reject_calls_ok: u64,
    events: &[Value],
) -> ActionCheck {
    let mut c = ActionCheck {
        tasks: tasks.len(),
        tasks_completed: tasks.iter().filter(|t| t.status == "COMPLETE").count(),
        tasks_failed: tasks.iter().filter(|t| t.status == "FAILED").count(),
        rejected: rejected.len(),
        reject_calls_ok,
        ..ActionCheck::default()
    };
    let mut per_invitation: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in tasks {
        per_invitation.entry(t.invitation_id.as_str()).or_default().push(t.task_id.as_str());
    }
    for (invitation, ids) in &per_invitation {
        if ids.len() > 1 {
            c.double_actions.push(format!("{invitation}: {} acceptance tasks ({})", ids.len(), ids.join(", ")));
        }
        if rejected.contains(*invitation) {
            c.double_actions.push(format!("{invitation}: an acceptance task ({}) and a rejection", ids.join(", ")));
        }
    }
    if reject_calls_ok > rejected.len() as u64 {
        c.double_actions.push(format!(
            "{reject_calls_ok} successful RejectEngagementInvitation calls for {} invitations rejected by the policy",
            rejected.len()
        ));
    }
    // Connection answers: one answer per invitation, never accepted and rejected both (copies
    // of one event count once: they carry one eventId).
    let mut answers: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for e in events {
        let detail_type = text(&e["detail-type"]);
        let answer = detail_type == "Connection Invitation Accepted" || detail_type == "Connection Invitation Rejected";
        if answer && e["detail"]["cause"]["type"] == "policy" {
            let id = (text(&e["detail"]["eventId"]), detail_type);
            answers.entry(text(&e["detail"]["invitationId"])).or_default().insert(id);
        }
    }
    for (invitation, ids) in &answers {
        let accepted = ids.iter().any(|(_, t)| t.ends_with("Accepted"));
        if accepted {
            c.connections_accepted += 1;
        } else {
            c.connections_rejected += 1;
        }
        if ids.len() > 1 {
            let all: Vec<String> = ids.iter().map(|(id, t)| format!("{t} {id}")).collect();
            c.double_actions.push(format!("{invitation}: answered {} times ({})", ids.len(), all.join(", ")));
        }
    }
    // Outcome events by task id (copies of one event count once).
    let mut outcomes: BTreeMap<String, BTreeSet<(String, Option<String>)>> = BTreeMap::new();
    for e in events {
        let detail_type = text(&e["detail-type"]);
        let outcome = match detail_type.as_str() {
            "Engagement Invitation Acceptance Completed" => "COMPLETE",
            "Engagement Invitation Acceptance Failed" => "FAILED",
            _ => continue,
        };
        let task = &e["detail"]["task"];
        outcomes
            .entry(text(&task["taskId"]))
            .or_default()
            .insert((outcome.to_owned(), task["reasonCode"].as_str().map(str::to_owned)));
    }
    let by_id: BTreeMap<&str, &TaskSeen> = tasks.iter().map(|t| (t.task_id.as_str(), t)).collect();
    for (task_id, seen) in &outcomes {
        let Some(task) = by_id.get(task_id.as_str()) else {
            c.wrong_outcomes.push(format!("outcome of an unknown task {task_id}: {seen:?}"));
            continue;
        };
        for (status, reason) in seen {
            let reason_ok = status != "FAILED" || *reason == task.reason_code;
            if *status != task.status || !reason_ok {
                c.wrong_outcomes.push(format!(
                    "{task_id} of {}: published {status} {reason:?}, the task is {} {:?}",
                    task.invitation_id, task.status, task.reason_code
                ));
            }
        }
    }
    for t in tasks.iter().filter(|t| t.status != "IN_PROGRESS") {
        if outcomes.contains_key(&t.task_id) {
            c.outcomes_published += 1;
        } else {
            c.outcomes_unpublished.push(format!("{} ({} {})", t.invitation_id, t.task_id, t.status));
        }
    }
    c
}

/// Read auto-respond's actions from the emulator and check them against `events`.
async fn actions_of(stack: &Stack, truth: &Truth, events: &[Value]) -> Result<ActionCheck> {
    let listed = stack.emulator_control("GET", "engagement-tasks?catalog=AWS", None).await?;
    let tasks = listed["Tasks"]
        .as_array()
        .ok_or_else(|| Error::msg(format!("engagement-tasks: no Tasks: {listed}")))?
        .iter()
        .map(TaskSeen::from_json)
        .collect::<Result<Vec<_>>>()?;
    let mut rejected = BTreeSet::new();
    for t in truth.transitions.iter().filter(|t| t.kind == Kind::Engagement && t.to == "REJECTED") {
        let now = stack.emulator_control("GET", &format!("engagement-invitations/AWS/{}", t.id), None).await?;
        if now["RejectionReason"].as_str() == Some(REJECTION_REASON) {
            rejected.insert(t.id.clone());
        }
    }
    let stats = stack.emulator_stats().await?;
    let op = |name: &str, field: &str| stats["operations"][name][field].as_u64().unwrap_or(0);
    let mut check = check_actions(&tasks, &rejected, op("RejectEngagementInvitation", "ok"), events);
    check.write_requests =
        op("StartEngagementByAcceptingInvitationTask", "requests") + op("RejectEngagementInvitation", "requests");
    Ok(check)
}

/// Everything a chaos run produced.
#[derive(Debug, Clone, Serialize)]
pub struct ChaosReport {
    pub seed: u64,
    pub runs: usize,
    pub drain_runs: usize,
    pub verdict: Verdict,
    pub faults: BTreeMap<String, u64>,
    pub kills: usize,
    pub invocations_failed: usize,
    /// Steps invoked twice at once, and invocations that skipped because another process held
    /// the function's run lease (overlaps, and runs right after a killed one).
    pub overlaps: usize,
    pub skipped: usize,
    pub steps: Vec<StepLog>,
    pub events_received: usize,
    pub elapsed_s: f64,
    /// With native events: what the relay saw and the share it delivered first.
    pub native: Option<NativeFigures>,
}

impl ChaosReport {
    pub fn figures(&self, date: String) -> ChaosFigures {
        let v = &self.verdict;
        ChaosFigures {
            runs: self.runs as u64,
            transitions: v.transitions as u64,
            delivered: v.delivered as u64,
            duplicates: v.duplicates as u64,
            duplicates_with_other_id: (v.duplicates_with_other_id + v.warnings_with_other_id) as u64,
            lost: v.lost.len() as u64,
            spurious: (v.spurious.len() + v.spurious_warnings.len() + v.spurious_created.len()) as u64,
            seed: self.seed,
            date,
            warnings: v.warnings as u64,
            warning_duplicates: v.warning_duplicates as u64,
            warnings_with_other_id: v.warnings_with_other_id as u64,
            created_events: v.created as u64,
            faults: self.faults.clone(),
            invocations_failed: self.invocations_failed as u64,
            kills: self.kills as u64,
            overlaps: self.overlaps as u64,
            skipped: self.skipped as u64,
            budget: v.budget,
            max_requests_per_second: v.max_requests_per_second,
            native: self.native.clone(),
            auto_respond: Some(v.actions.clone()),
        }
    }

    /// The figures the issue asks to print.
    pub fn summary(&self) -> String {
        let v = &self.verdict;
        let faults: Vec<String> = self.faults.iter().map(|(k, n)| format!("{k}={n}")).collect();
        format!(
            "chaos seed {}: {} runs (+{} drain runs) in {:.0} s\n  transitions {}  delivered {}  duplicates {}  duplicates with another id {}  lost {}  spurious {}\n  expiry warnings {} (duplicates {}, with another id {}, spurious {})  created {} (spurious {})  other {:?}\n  faults injected: {}\n  kills {}  failed invocations {}  events received {}\n  overlapping invocations {}  skipped (run lease held) {}  busiest second {} requests (budget {}/s)",
            self.seed,
            self.runs,
            self.drain_runs,
            self.elapsed_s,
            v.transitions,
            v.delivered,
            v.duplicates,
            v.duplicates_with_other_id,
            v.lost.len(),
            v.spurious.len(),
            v.warnings,
            v.warning_duplicates,
            v.warnings_with_other_id,
            v.spurious_warnings.len(),
            v.created,
            v.spurious_created.len(),
            v.other,
            faults.join(" "),
            self.kills,
            self.invocations_failed,
            self.events_received,
            self.overlaps,
            self.skipped,
            v.max_requests_per_second,
            v.budget,
        ) + &format!("\n  {}", v.actions.describe())
            + &self.native.as_ref().map(|n| format!("\n  {}", n.describe())).unwrap_or_default()
    }
}

pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(T0).map(|d| d.with_timezone(&Utc)).unwrap_or_else(|_| Utc::now())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn random_id(rng: &mut XorShift, prefix: &str, alphabet: &[u8], len: usize) -> String {
    let mut s = String::from(prefix);
    for _ in 0..len {
        s.push(alphabet[rng.below(alphabet.len() as u64) as usize] as char);
    }
    s
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A new PENDING invitation in the emulator's seed format, created "now".
pub fn new_invitation(rng: &mut XorShift, kind: Kind, now: DateTime<Utc>, expires_in_hours: i64) -> Value {
    let sender = rng.chance(0.5);
    let created = rfc3339(now);
    let expires = rfc3339(now + chrono::Duration::hours(expires_in_hours));
    let mut other = format!("{:012}", 200_000_000_000u64 + rng.below(1000));
    if kind == Kind::Connection && !sender && rng.chance(0.5) {
        other = TRUSTED_PARTNER.to_owned();
    }
    match kind {
        Kind::Connection => json!({
            "Catalog": "AWS",
            "Id": random_id(rng, "pacinv-", ALNUM, 13),
            "ConnectionType": if rng.chance(0.7) { "OPPORTUNITY_COLLABORATION" } else { "SUBSIDIARY" },
            "CreatedAt": created, "UpdatedAt": created, "ExpiresAt": expires,
            "OtherParticipantIdentifier": other,
            "ParticipantType": if sender { "SENDER" } else { "RECEIVER" },
            "Status": "PENDING",
            "InvitationMessage": "Let's work together", "InviterEmail": "someone@example.com", "InviterName": "Someone",
        }),
        Kind::Engagement => json!({
            "Catalog": "AWS",
            "Id": random_id(rng, "engi-", LOWER, 13),
            "PayloadType": if rng.chance(0.7) { "OpportunityInvitation" } else { "LeadInvitation" },
            "EngagementId": random_id(rng, "eng-", LOWER, 14),
            "EngagementTitle": "Chaos engagement",
            // What we received comes from AWS (referrals): an accept rule must name its sender.
            "SenderAwsAccountId": if sender { "111122223333".to_owned() } else { TRUSTED_SENDER.to_owned() },
            "InvitationDate": created, "ExpirationDate": expires,
            "ParticipantType": if sender { "SENDER" } else { "RECEIVER" },
            "Status": "PENDING",
        }),
    }
}

/// The emulator's plan for an acceptance task that fails with [`FAILING_TASK_REASON`].
fn failing_task() -> Value {
    json!({"ReasonCode": FAILING_TASK_REASON, "Message": "Customer website is missing (planned by the chaos driver)"})
}

/// Plan a failing acceptance task on a `rate` share of the PENDING engagement invitations we
/// received (those auto-respond does not accept keep the plan unused). Returns how many.
async fn plan_failing_tasks(stack: &Stack, rng: &mut XorShift, truth: &Truth, rate: f64) -> Result<usize> {
    let mut planned = 0;
    for inv in truth.pending.values().filter(|i| i.kind == Kind::Engagement && i.participant == "RECEIVER") {
        if rng.chance(rate) {
            stack.patch_invitation("engagement", &inv.id, json!({"EmulatorTaskOutcome": failing_task()})).await?;
            planned += 1;
        }
    }
    Ok(planned)
}

/// The driver's changes before one run; returns what it did (for the log).
async fn mutate(stack: &Stack, rng: &mut XorShift, truth: &Truth, failing_task_rate: f64) -> Result<Vec<String>> {
    let mut done = Vec::new();
    let mut touched: BTreeSet<(Kind, String)> = BTreeSet::new();
    let pending: Vec<&Inv> = truth.pending.values().collect();
    for _ in 0..rng.range(1, 3) {
        match rng.below(6) {
            // Accept or reject a pending invitation (the other party, or us in the console).
            0 | 1 => {
                let Some(inv) = rng.pick(&pending).copied() else { continue };
                if !touched.insert(inv.key()) {
                    continue;
                }
                let status = if rng.chance(0.6) { "ACCEPTED" } else { "REJECTED" };
                stack.patch_invitation(inv.kind.as_str(), &inv.id, json!({"Status": status})).await?;
                done.push(format!("{} {} → {status}", inv.kind.as_str(), inv.id));
            }
            // We cancel one of our connection invitations by hand.
            2 => {
                let ours: Vec<&Inv> = pending
                    .iter()
                    .copied()
                    .filter(|i| i.kind == Kind::Connection && i.participant == "SENDER")
                    .collect();
                let Some(inv) = rng.pick(&ours).copied() else { continue };
                if !touched.insert(inv.key()) {
                    continue;
                }
                stack.patch_invitation("connection", &inv.id, json!({"Status": "CANCELED"})).await?;
                done.push(format!("connection {} → CANCELED (by hand)", inv.id));
            }
            // A new invitation.
            3 | 4 => {
                let kind = if rng.chance(0.5) { Kind::Connection } else { Kind::Engagement };
                let now = stack.emulator_now().await?;
                let hours = rng.range(20, 15 * 24) as i64;
                let mut inv = new_invitation(rng, kind, now, hours);
                if kind == Kind::Connection && rng.chance(0.4) {
                    // Sent to the blocked partner: auto-cancel's next run cancels it.
                    inv["ParticipantType"] = json!("SENDER");
                    inv["OtherParticipantIdentifier"] = json!(crate::benchmark::BLOCKED_PARTNER);
                }
                let mut failing = "";
                if kind == Kind::Engagement && inv["ParticipantType"] == "RECEIVER" && rng.chance(failing_task_rate) {
                    inv["EmulatorTaskOutcome"] = failing_task();
                    failing = ", its acceptance task will fail";
                }
                let id = inv["Id"].as_str().unwrap_or_default().to_owned();
                stack.put_invitation(kind.as_str(), inv).await?;
                touched.insert((kind, id.clone()));
                done.push(format!("new {} {id} (expires in {hours} h{failing})", kind.as_str()));
            }
            // Time passes: expiries, warning thresholds crossed.
            _ => {
                let hours = rng.range(1, 14) as f64;
                stack.advance_clock(hours).await?;
                done.push(format!("clock +{hours} h"));
            }
        }
    }
    Ok(done)
}

/// Switch the faults on (with fresh seeds from ours) or off.
async fn set_faults(fleet: &Fleet<'_>, config: &ChaosConfig, rng: &mut XorShift, on: bool) -> Result<()> {
    let stack = fleet.stack;
    let (throttle, error) = if on { (config.throttle_rate, config.error_rate) } else { (0.0, 0.0) };
    fleet.dynamodb_tap.set_state_faults(if on { config.dynamodb_fault_rate } else { 0.0 }, rng.fork());
    stack
        .emulator_control(
            "POST",
            "faults",
            Some(json!({"throttle_rate": throttle, "error_rate": error, "fault_seed": rng.fork()})),
        )
        .await?;
    stack.proxy.set_faults(proxy_faults(config, on));
    Ok(())
}

fn proxy_faults(config: &ChaosConfig, on: bool) -> PutEventsFaults {
    if !on {
        return PutEventsFaults::default();
    }
    PutEventsFaults {
        fail_call_rate: config.put_events_fail_call_rate,
        fail_entry_rate: config.put_events_fail_entry_rate,
        hold: false,
    }
}

fn choose_kill(rng: &mut XorShift, function: &str) -> KillPoint {
    // auto-cancel: half its crashes right after a cancellation took effect, before its state
    // write — the window its design must survive.
    if function == AUTO_CANCEL && rng.chance(0.5) {
        return KillPoint::PartnerCentral {
            nth: 1,
            operation: Some("CancelConnectionInvitation".into()),
            phase: "after",
        };
    }
    // auto-respond likewise: right after an acceptance task started (the retry must find the
    // same task through the client token, not start a second) or a rejection took effect.
    if function == AUTO_RESPOND && rng.chance(0.5) {
        let operation = match rng.below(10) {
            0..=3 => "StartEngagementByAcceptingInvitationTask",
            4..=5 => "RejectEngagementInvitation",
            6..=7 => "AcceptConnectionInvitation",
            _ => "RejectConnectionInvitation",
        };
        return KillPoint::PartnerCentral { nth: rng.range(1, 2), operation: Some(operation.into()), phase: "after" };
    }
    match rng.below(7) {
        0 => KillPoint::PutEvents,
        // Right after a conditional PutItem went through (the run's lease write at its start,
        // or a renewal): the killed process holds a share and the run lease until they lapse.
        6 => KillPoint::State { operation: "PutItem", after_forwarding: true },
        // Delivered, then killed before the outbox delete: a duplicate with the same id later.
        4 => KillPoint::State { operation: "BatchWriteItem", after_forwarding: false },
        // Committed (record + events), then killed before delivering.
        5 => KillPoint::State { operation: "TransactWriteItems", after_forwarding: true },
        1 if function == AUTO_CANCEL => {
            KillPoint::PartnerCentral { nth: 1, operation: Some("CancelConnectionInvitation".into()), phase: "after" }
        }
        1 => KillPoint::PartnerCentral { nth: rng.range(1, 3), operation: None, phase: "after" },
        _ => KillPoint::PartnerCentral {
            nth: rng.range(1, 6),
            operation: None,
            phase: if rng.chance(0.5) { "before" } else { "after" },
        },
    }
}

/// Wait until the emulator holds a request (long-polls the control API).
async fn emulator_held(stack: &Stack) -> Result<()> {
    loop {
        let v = stack.emulator_control("POST", "hold/wait", Some(json!({"timeout_ms": 5_000}))).await?;
        if !v["held"].is_null() {
            return Ok(());
        }
    }
}

/// Invoke `name`, crashing it at `kill` if the run gets there.
async fn invoke(
    fleet: &mut Fleet<'_>,
    name: &str,
    payload: &Value,
    kill: Option<KillPoint>,
    proxy_faults: PutEventsFaults,
) -> Result<RunEnd> {
    Ok(invoke_with_output(fleet, name, payload, kill, proxy_faults).await?.0)
}

/// [`invoke`], with the function's answer when it gave one.
pub(crate) async fn invoke_with_output(
    fleet: &mut Fleet<'_>,
    name: &str,
    payload: &Value,
    kill: Option<KillPoint>,
    proxy_faults: PutEventsFaults,
) -> Result<(RunEnd, Option<Value>)> {
    let stack = fleet.stack;
    let tap = fleet.dynamodb_tap.clone();
    let Some(point) = kill else {
        return Ok(answer(fleet.invoke(name, payload).await?.outcome));
    };
    fleet.ensure_started(name)?;
    match &point {
        KillPoint::PartnerCentral { nth, operation, phase } => {
            stack
                .emulator_control("POST", "hold", Some(json!({"nth": nth, "operation": operation, "phase": phase})))
                .await?;
        }
        KillPoint::PutEvents => stack.proxy.set_faults(PutEventsFaults { hold: true, ..proxy_faults }),
        KillPoint::State { operation, after_forwarding } => fleet
            .dynamodb_tap
            .arm_hold(TapHold { operation: (*operation).to_owned(), after_forwarding: *after_forwarding }),
    }
    let run = stack.invoke(name, payload);
    tokio::pin!(run);
    let held = async {
        match &point {
            KillPoint::PartnerCentral { .. } => emulator_held(stack).await,
            KillPoint::PutEvents => {
                stack.proxy.wait_until_held().await;
                Ok(())
            }
            KillPoint::State { .. } => {
                tap.wait_until_held().await;
                Ok(())
            }
        }
    };
    let outcome = tokio::select! {
        biased;
        r = &mut run => Some(r),
        h = held => { h?; None }
    };
    match outcome {
        Some(result) => {
            // The run finished before reaching the kill point: disarm.
            match &point {
                KillPoint::PartnerCentral { .. } => {
                    stack.emulator_control("DELETE", "hold", None).await?;
                }
                KillPoint::PutEvents => stack.proxy.release(true),
                KillPoint::State { .. } => tap.release(),
            }
            Ok(answer(result?))
        }
        None => {
            fleet.kill(name).await?;
            match &point {
                KillPoint::PartnerCentral { .. } => {
                    stack.emulator_control("POST", "hold/release", None).await?;
                }
                KillPoint::PutEvents => stack.proxy.release(false),
                KillPoint::State { .. } => tap.release(),
            }
            Ok((RunEnd::Killed(point), None))
        }
    }
}

/// Whether a function's answer says it skipped: another process held its run lease.
fn is_skipped(output: &Value) -> bool {
    output["skipped"] == json!(true)
}

fn answer(outcome: Invocation) -> (RunEnd, Option<Value>) {
    let output = match &outcome {
        Invocation::Ok(v) => Some(v.clone()),
        Invocation::FunctionError { .. } => None,
    };
    (end_of(outcome), output)
}

fn end_of(outcome: Invocation) -> RunEnd {
    match outcome {
        Invocation::Ok(_) => RunEnd::Ok,
        Invocation::FunctionError { error_type, message } => {
            RunEnd::FunctionError(format!("{error_type}: {}", message.chars().take(200).collect::<String>()))
        }
    }
}

/// Seed extra PENDING invitations of both kinds and both sides, expiring over the next days.
async fn seed_pending(stack: &Stack, rng: &mut XorShift, n: usize) -> Result<()> {
    let now = stack.emulator_now().await?;
    for i in 0..n {
        for kind in [Kind::Connection, Kind::Engagement] {
            let hours = 30 + (i as i64 * 13) % (13 * 24);
            let mut inv = new_invitation(rng, kind, now - chrono::Duration::hours(2), hours);
            // Half of ours, half of theirs, deterministically.
            inv["ParticipantType"] = json!(if i % 2 == 0 { "SENDER" } else { "RECEIVER" });
            if kind == Kind::Engagement && i % 2 == 0 {
                inv["SenderAwsAccountId"] = json!("111122223333");
            }
            stack.put_invitation(kind.as_str(), inv).await?;
        }
    }
    Ok(())
}

/// Run the whole scenario and verify it.
pub async fn run(config: &ChaosConfig) -> Result<ChaosReport> {
    let started = Instant::now();
    let mut rng = XorShift::new(config.seed);
    let stack = Stack::start(StackOptions {
        clock: Some(t0()),
        generate: Some(GenerateConfig {
            seed: rng.fork() % 1_000_000,
            engagements: config.engagements,
            connections: config.connections,
            catalogs: CatalogChoice::Aws,
        }),
        proxy_seed: rng.fork(),
        native_events: config.native.then_some(partnercentral_local::NativeFaults {
            drop_rate: config.native_drop_rate,
            duplicate_rate: config.native_duplicate_rate,
            delay_ms: config.native_delay_ms,
            seed: config.seed,
        }),
        ..StackOptions::default()
    })
    .await?;
    seed_pending(&stack, &mut rng, config.extra_pending).await?;
    let mut fleet = Fleet::new(&stack, config.profile, function_env(config)).await?;
    let mut truth = Truth::start(&stack).await?;
    let failing = plan_failing_tasks(&stack, &mut rng, &truth, config.failing_task_rate).await?;
    let mut events: Vec<Value> = Vec::new();
    // Which function's step delivered each event (for the fast path's share).
    let mut published_by: Vec<String> = Vec::new();
    let mut native = NativeFigures::default();
    let mut steps = Vec::new();
    let mut duties: Vec<WarningDuty> = Vec::new();
    let mut kills = 0;
    let mut failed = 0;
    let mut overlaps = 0;
    let mut skipped = 0;
    let log = |line: String| {
        if config.verbose {
            eprintln!("{line}");
        }
    };
    log(format!("{failing} PENDING invitations we received plan a failing acceptance task"));

    // Onboarding: the first list-and-publish run (the baseline) without faults.
    let baseline = functions::scheduled_event(LIST_AND_PUBLISH);
    let first = invoke(&mut fleet, LIST_AND_PUBLISH, &baseline, None, PutEventsFaults::default()).await?;
    if first != RunEnd::Ok {
        return Err(Error::msg(format!(
            "the baseline run of list-and-publish failed without faults: {first:?}\n{}",
            fleet.logs(LIST_AND_PUBLISH).join("\n")
        )));
    }
    let got = stack.received().await?;
    published_by.extend(got.iter().map(|_| LIST_AND_PUBLISH.to_owned()));
    events.extend(got);
    truth.observe(&stack, 0, LIST_AND_PUBLISH).await?;

    for step in 1..=config.runs {
        set_faults(&fleet, config, &mut rng, false).await?;
        let mutations = mutate(&stack, &mut rng, &truth, config.failing_task_rate).await?;
        truth.observe(&stack, step, "driver").await?;
        // The native events of these changes reach native-relay within seconds, before the
        // next scheduled run (mostly: a run can land right after a change).
        if config.native && rng.chance(config.relay_step_rate) {
            let kill = rng.chance(config.kill_rate).then(|| choose_kill(&mut rng, NATIVE_RELAY));
            set_faults(&fleet, config, &mut rng, true).await?;
            let t = Instant::now();
            let end = chaos_native::relay_step(&mut fleet, kill.clone(), proxy_faults(config, true), &mut native)
                .await?
                .unwrap_or(RunEnd::Ok);
            match &end {
                RunEnd::Killed(_) => kills += 1,
                RunEnd::FunctionError(_) => failed += 1,
                RunEnd::Ok => {}
            }
            let got = stack.received().await?;
            truth.observe(&stack, step, NATIVE_RELAY).await?;
            log(format!("step {step:>3} {NATIVE_RELAY:<16} {:<40} +{} events", format!("{end:?}"), got.len()));
            steps.push(StepLog {
                step,
                mutations: Vec::new(),
                function: NATIVE_RELAY.to_owned(),
                kill,
                end,
                transitions: 0,
                events: got.len(),
                ms: t.elapsed().as_millis() as u64,
            });
            published_by.extend(got.iter().map(|_| NATIVE_RELAY.to_owned()));
            events.extend(got);
            set_faults(&fleet, config, &mut rng, false).await?;
        }
        let function = match rng.below(12) {
            0..=4 => LIST_AND_PUBLISH,
            5..=7 => EXPIRE_SWEEPER,
            8..=9 => AUTO_CANCEL,
            _ => AUTO_RESPOND,
        };
        let kill = rng.chance(config.kill_rate).then(|| choose_kill(&mut rng, function));
        set_faults(&fleet, config, &mut rng, true).await?;
        let owed = if function == EXPIRE_SWEEPER {
            warning_duties(&truth, stack.emulator_now().await?, step)
        } else {
            Vec::new()
        };
        let t = Instant::now();
        let firing = functions::scheduled_event(function);
        let (end, ran) = if kill.is_none() && rng.chance(config.overlap_rate) {
            // A second invocation while the first runs: a retried firing (the same event) or a
            // manual invoke. The run lease lets one of them run; the other skips.
            let second = if rng.chance(0.5) { firing.clone() } else { json!({}) };
            overlaps += 1;
            let outcomes = fleet.invoke_overlapping(function, [&firing, &second]).await?;
            let mut ran = 0;
            let mut end = RunEnd::Ok;
            for outcome in outcomes {
                let (e, output) = answer(outcome);
                match (&e, output.as_ref().is_some_and(is_skipped)) {
                    (RunEnd::Ok, true) => skipped += 1,
                    (RunEnd::Ok, false) => ran += 1,
                    _ => end = e,
                }
            }
            if ran > 1 {
                // Both ran at once: one run at a time did not hold (unless the first ended
                // before the second began, which the run's duration makes rare; logged).
                log(format!("step {step}: both overlapping invocations of {function} ran"));
            }
            (end, ran > 0)
        } else {
            let (end, output) =
                invoke_with_output(&mut fleet, function, &firing, kill.clone(), proxy_faults(config, true)).await?;
            let was_skipped = output.as_ref().is_some_and(is_skipped);
            skipped += usize::from(was_skipped);
            (end, !was_skipped)
        };
        match &end {
            RunEnd::Killed(_) => kills += 1,
            RunEnd::FunctionError(_) => failed += 1,
            // A skipped invocation owes nothing: the run that held the lease does the work.
            RunEnd::Ok if ran => duties.extend(owed),
            RunEnd::Ok => {}
        }
        let got = stack.received().await?;
        let changes = truth.observe(&stack, step, function).await?;
        log(format!(
            "step {step:>3} {function:<16} {:<40} +{} events, {} transitions by the function  [{}]",
            format!("{end:?}").chars().take(40).collect::<String>(),
            got.len(),
            changes.transitions.len(),
            mutations.join("; ")
        ));
        steps.push(StepLog {
            step,
            mutations,
            function: function.to_owned(),
            kill,
            end,
            transitions: changes.transitions.len(),
            events: got.len(),
            ms: t.elapsed().as_millis() as u64,
        });
        published_by.extend(got.iter().map(|_| function.to_owned()));
        events.extend(got);
    }

    // Faults off; drain: every function once more, then list-and-publish again (it finds what
    // the last runs changed, and the outbox empties on every run).
    set_faults(&fleet, config, &mut rng, false).await?;
    // A minute passes: the acceptance tasks still running end (a task takes 5 s).
    stack.advance_clock(1.0 / 60.0).await?;
    truth.observe(&stack, config.runs + 1, "driver").await?;
    // The relay takes what is still on its queue (late, redelivered), until it is empty.
    while config.native
        && chaos_native::relay_step(&mut fleet, None, PutEventsFaults::default(), &mut native).await?.is_some()
    {
        let got = stack.received().await?;
        published_by.extend(got.iter().map(|_| NATIVE_RELAY.to_owned()));
        events.extend(got);
    }
    truth.observe(&stack, config.runs + 1, NATIVE_RELAY).await?;
    let drain = [LIST_AND_PUBLISH, EXPIRE_SWEEPER, AUTO_CANCEL, AUTO_RESPOND, LIST_AND_PUBLISH];
    for (i, function) in drain.iter().enumerate() {
        // The last one is a full reconciliation (what the daily full sync does), so invitations
        // created and finished between two incremental runs are found too. auto-respond's is
        // a dry run: it follows the tasks started before (all ended by now) and starts none.
        let payload = if i == drain.len() - 1 {
            json!({"mode": "full"})
        } else if *function == AUTO_RESPOND {
            json!({"dryRun": true})
        } else {
            functions::scheduled_event(function)
        };
        let owed = if *function == EXPIRE_SWEEPER {
            warning_duties(&truth, stack.emulator_now().await?, config.runs + 1 + i)
        } else {
            Vec::new()
        };
        // A run killed in the last steps may still hold the function's run lease: the next
        // firing skips until it lapses (15 s), as a schedule's would.
        let mut end;
        let mut attempts = 0;
        loop {
            let (e, output) =
                invoke_with_output(&mut fleet, function, &payload, None, PutEventsFaults::default()).await?;
            end = e;
            attempts += 1;
            if !output.as_ref().is_some_and(is_skipped) || attempts > 30 {
                break;
            }
            skipped += 1;
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        if end == RunEnd::Ok {
            duties.extend(owed);
        } else {
            log(format!("drain run {function} did not succeed: {end:?}"));
            failed += 1;
        }
        let got = stack.received().await?;
        published_by.extend(got.iter().map(|_| (*function).to_owned()));
        events.extend(got);
        truth.observe(&stack, config.runs + 1 + i, function).await?;
    }

    let stats = stack.emulator_stats().await?;
    let proxy = stack.proxy.stats();
    let mut faults: BTreeMap<String, u64> = BTreeMap::new();
    if let Some(f) = stats["faults"].as_object() {
        for (k, v) in f {
            faults.insert(format!("partner_central_{k}"), v.as_u64().unwrap_or(0));
        }
    }
    faults.insert("put_events_calls_failed".into(), proxy.calls_failed);
    faults.insert("put_events_entries_failed".into(), proxy.entries_failed);
    for (fault, n) in fleet.dynamodb_tap.state_faults_injected() {
        faults.insert(format!("dynamodb_{}", fault.name()), n);
    }
    faults.insert("kills".into(), kills as u64);
    for s in &steps {
        if let RunEnd::Killed(p) = &s.end {
            let key = match p {
                KillPoint::PartnerCentral { phase, operation: Some(op), .. } => format!("kill_{phase}_{op}"),
                KillPoint::PartnerCentral { phase, .. } => format!("kill_{phase}_partner_central_request"),
                KillPoint::PutEvents => "kill_during_put_events".to_owned(),
                KillPoint::State { operation, after_forwarding: true } => format!("kill_after_{operation}"),
                KillPoint::State { operation, after_forwarding: false } => format!("kill_before_{operation}"),
            };
            *faults.entry(key).or_default() += 1;
        }
    }
    fleet.stop_all().await?;
    let mut verdict = verify(&truth, &duties, &events);
    verdict.budget = u64::from(config.budget);
    verdict.max_requests_per_second = stats["max_received_per_second"].as_u64().unwrap_or(u64::MAX);
    verdict.actions = actions_of(&stack, &truth, &events).await?;
    let native = if config.native {
        let status = stack.native_events_status().await?;
        native.emulator = status["counts"]
            .as_object()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect())
            .unwrap_or_default();
        native.transitions_by_fast_path = chaos_native::fast_path_transitions(&truth, &events, &published_by);
        native.fast_path_share = native.transitions_by_fast_path as f64 / verdict.delivered.max(1) as f64;
        Some(native)
    } else {
        None
    };
    Ok(ChaosReport {
        seed: config.seed,
        runs: config.runs,
        drain_runs: drain.len(),
        verdict,
        faults,
        kills,
        invocations_failed: failed,
        overlaps,
        skipped,
        steps,
        events_received: events.len(),
        elapsed_s: started.elapsed().as_secs_f64(),
        native,
    })
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Check the delivered events against the truth.
pub fn verify(truth: &Truth, duties: &[WarningDuty], events: &[Value]) -> Verdict {
    let mut v = Verdict { transitions: truth.transitions.len(), ..Verdict::default() };
    // Facts → event ids delivered (with multiplicity).
    let mut transition_events: BTreeMap<(Kind, String, String), Vec<(String, String)>> = BTreeMap::new();
    let mut warnings: BTreeMap<(Kind, String, u64, String), Vec<String>> = BTreeMap::new();
    let mut created: BTreeMap<(Kind, String), Vec<String>> = BTreeMap::new();
    let mut others: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let known: BTreeSet<(Kind, String)> = truth
        .expiries
        .keys()
        .cloned()
        .chain(truth.transitions.iter().map(|t| (t.kind, t.id.clone())))
        .chain(truth.appeared.iter().map(Inv::key))
        .collect();
    for e in events {
        let detail_type = text(&e["detail-type"]);
        let d = &e["detail"];
        let id = text(&d["eventId"]);
        let Some(kind) = Kind::parse(d["kind"].as_str().unwrap_or_default()) else {
            // Not about one invitation (e.g. a digest): only exact copies can be duplicates.
            *v.other.entry(detail_type.clone()).or_default() += 1;
            others.entry((detail_type, id.clone())).or_default().push(id);
            continue;
        };
        let inv = text(&d["invitationId"]);
        if detail_type.ends_with("Expiring Soon") {
            let threshold = d["thresholdHours"].as_u64().unwrap_or(0);
            let expires = text(&d["expiresAt"]);
            let expiry_known = truth.expiries.get(&(kind, inv.clone())).is_some_and(|list| {
                DateTime::parse_from_rfc3339(&expires).is_ok_and(|t| list.contains(&t.with_timezone(&Utc)))
            });
            let hours_left = d["hoursRemaining"].as_f64().unwrap_or(f64::MAX);
            if !expiry_known || hours_left > threshold as f64 {
                v.spurious_warnings.push(format!(
                    "{detail_type} {inv} threshold {threshold} h, {hours_left} h left, expiresAt {expires}"
                ));
            }
            warnings.entry((kind, inv, threshold, expires)).or_default().push(id);
        } else if detail_type.ends_with("Created") {
            if !known.contains(&(kind, inv.clone())) {
                v.spurious_created.push(format!("{detail_type} {inv}"));
            }
            created.entry((kind, inv)).or_default().push(id);
        } else if !d["previousStatus"].is_null() {
            let status = text(&d["status"]);
            if transition_detail_type(kind, &status) != detail_type {
                v.spurious.push(format!("{detail_type} {inv} with status {status}"));
            }
            transition_events.entry((kind, inv, status)).or_default().push((id, detail_type));
        } else {
            *v.other.entry(detail_type.clone()).or_default() += 1;
            others.entry((detail_type, inv)).or_default().push(id);
        }
    }
    let mut truly: BTreeSet<(Kind, String, String)> = BTreeSet::new();
    for t in &truth.transitions {
        let key = (t.kind, t.id.clone(), t.to.clone());
        truly.insert(key.clone());
        if transition_events.contains_key(&key) {
            v.delivered += 1;
        } else {
            v.lost.push(t.clone());
        }
    }
    for (key, ids) in &transition_events {
        if !truly.contains(key) {
            v.spurious.push(format!("{:?} {} → {} ({} event(s)) did not happen", key.0, key.1, key.2, ids.len()));
        }
        let distinct: BTreeSet<&String> = ids.iter().map(|(id, _)| id).collect();
        v.duplicates += ids.len() - 1;
        v.duplicates_with_other_id += distinct.len() - 1;
    }
    for ids in warnings.values() {
        let distinct: BTreeSet<&String> = ids.iter().collect();
        v.warnings += 1;
        v.warning_duplicates += ids.len() - 1;
        v.duplicates += ids.len() - 1;
        v.warnings_with_other_id += distinct.len() - 1;
    }
    for ids in created.values().chain(others.values()) {
        let distinct: BTreeSet<&String> = ids.iter().collect();
        v.duplicates += ids.len() - 1;
        v.duplicates_with_other_id += distinct.len() - 1;
    }
    v.created = created.len();
    for duty in duties {
        let met = warnings.keys().any(|(kind, id, threshold, expires)| {
            *kind == duty.kind
                && *id == duty.id
                && (*threshold as i64) <= duty.smallest_crossed
                && DateTime::parse_from_rfc3339(expires).is_ok_and(|t| t.with_timezone(&Utc) == duty.expires_at)
        });
        if !met && !v.missing_warnings.iter().any(|w| w.kind == duty.kind && w.id == duty.id) {
            v.missing_warnings.push(duty.clone());
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transition(id: &str, to: &str) -> Transition {
        Transition {
            kind: Kind::Engagement,
            id: id.into(),
            from: "PENDING".into(),
            to: to.into(),
            participant: "RECEIVER".into(),
            step: 1,
            cause: "driver".into(),
        }
    }

    fn event(detail_type: &str, inv: &str, status: &str, previous: Option<&str>, id: &str) -> Value {
        json!({"detail-type": detail_type, "detail": {
            "eventId": id, "kind": "engagement", "invitationId": inv, "status": status, "previousStatus": previous,
        }})
    }

    fn base_events() -> Vec<Value> {
        vec![
            event("Engagement Invitation Accepted", "engi-a", "ACCEPTED", Some("PENDING"), "id-a"),
            event("Engagement Invitation Expired", "engi-b", "EXPIRED", Some("PENDING"), "id-b"),
        ]
    }

    #[test]
    fn duties_are_the_pending_invitations_under_a_threshold() {
        let now = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").map(|d| d.with_timezone(&Utc)).expect("ts");
        let mut t = Truth::default();
        for (id, hours) in [("engi-1", 100), ("engi-2", 30), ("engi-3", 3), ("engi-4", -1)] {
            let inv = Inv {
                kind: Kind::Engagement,
                id: id.into(),
                status: "PENDING".into(),
                participant: "RECEIVER".into(),
                created_at: now,
                expires_at: Some(now + chrono::Duration::hours(hours)),
            };
            t.pending.insert(inv.key(), inv);
        }
        let d: Vec<(String, i64)> =
            warning_duties(&t, now, 1).into_iter().map(|d| (d.id, d.smallest_crossed)).collect();
        assert_eq!(d, [("engi-2".to_owned(), 72), ("engi-3".to_owned(), 4)]);
    }

    fn truth() -> Truth {
        let mut t = Truth {
            transitions: vec![transition("engi-a", "ACCEPTED"), transition("engi-b", "EXPIRED")],
            ..Truth::default()
        };
        let exp = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z").map(|d| d.with_timezone(&Utc)).expect("ts");
        t.expiries.insert((Kind::Engagement, "engi-c".into()), vec![exp]);
        t
    }

    #[test]
    fn everything_delivered_once_or_with_the_same_id_passes() {
        let events = vec![
            event("Engagement Invitation Accepted", "engi-a", "ACCEPTED", Some("PENDING"), "id-a"),
            event("Engagement Invitation Accepted", "engi-a", "ACCEPTED", Some("PENDING"), "id-a"),
            event("Engagement Invitation Expired", "engi-b", "EXPIRED", Some("PENDING"), "id-b"),
        ];
        let v = verify(&truth(), &[], &events);
        assert!(v.ok(), "{}", v.problems());
        assert_eq!((v.transitions, v.delivered, v.duplicates), (2, 2, 1));
    }

    #[test]
    fn a_missing_transition_is_lost_and_an_invented_one_is_spurious() {
        let events = vec![
            event("Engagement Invitation Accepted", "engi-a", "ACCEPTED", Some("PENDING"), "id-a"),
            event("Engagement Invitation Rejected", "engi-z", "REJECTED", Some("PENDING"), "id-z"),
        ];
        let v = verify(&truth(), &[], &events);
        assert!(!v.ok());
        assert_eq!(v.lost.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["engi-b"]);
        assert_eq!(v.spurious.len(), 1, "{:?}", v.spurious);
    }

    #[test]
    fn a_duplicate_under_another_id_or_a_wrong_detail_type_fails() {
        let events = vec![
            event("Engagement Invitation Accepted", "engi-a", "ACCEPTED", Some("PENDING"), "id-a"),
            event("Engagement Invitation Accepted", "engi-a", "ACCEPTED", Some("PENDING"), "id-other"),
            event("Engagement Invitation Rejected", "engi-b", "EXPIRED", Some("PENDING"), "id-b"),
        ];
        let v = verify(&truth(), &[], &events);
        assert_eq!(v.duplicates_with_other_id, 1);
        assert_eq!(v.spurious.len(), 1, "wrong detail-type for the status: {:?}", v.spurious);
        assert!(!v.ok());
    }

    #[test]
    fn warnings_are_one_id_per_threshold_and_expiry_of_a_pending_invitation() {
        let warning = |inv: &str, threshold: u64, left: f64, id: &str| {
            json!({"detail-type": "Engagement Invitation Expiring Soon", "detail": {
                "eventId": id, "kind": "engagement", "invitationId": inv, "status": "PENDING",
                "previousStatus": null, "thresholdHours": threshold, "hoursRemaining": left,
                "expiresAt": "2026-11-21T10:00:00Z",
            }})
        };
        let base = base_events();
        let mut ok = base.clone();
        ok.extend([
            warning("engi-c", 24, 20.0, "w1"),
            warning("engi-c", 24, 19.0, "w1"),
            warning("engi-c", 4, 3.5, "w2"),
        ]);
        let v = verify(&truth(), &[], &ok);
        assert!(v.ok(), "{}", v.problems());
        assert_eq!((v.warnings, v.warning_duplicates), (2, 1));

        let mut bad = base;
        bad.extend([
            warning("engi-c", 24, 20.0, "w1"),
            warning("engi-c", 24, 20.0, "w9"),
            warning("engi-c", 4, 10.0, "w3"),
            warning("engi-x", 24, 2.0, "w4"),
        ]);
        let v = verify(&truth(), &[], &bad);
        assert_eq!(v.warnings_with_other_id, 1);
        assert_eq!(
            v.spurious_warnings.len(),
            2,
            "above its threshold, and not a pending invitation: {:?}",
            v.spurious_warnings
        );
    }

    fn task(id: &str, inv: &str, status: &str, reason: Option<&str>) -> TaskSeen {
        TaskSeen {
            task_id: id.into(),
            invitation_id: inv.into(),
            status: status.into(),
            reason_code: reason.map(str::to_owned),
        }
    }

    fn outcome(detail_type: &str, inv: &str, task: &str, reason: Option<&str>) -> Value {
        json!({"detail-type": detail_type, "detail": {
            "eventId": format!("{detail_type}-{task}"), "kind": "engagement", "invitationId": inv,
            "status": "PENDING", "previousStatus": null,
            "task": {"taskId": task, "status": "COMPLETE", "reasonCode": reason},
        }})
    }

    const COMPLETED: &str = "Engagement Invitation Acceptance Completed";
    const FAILED: &str = "Engagement Invitation Acceptance Failed";

    #[test]
    fn one_task_or_one_rejection_per_invitation_and_outcomes_as_the_tasks_ended() {
        let tasks = [
            task("task-1", "engi-a", "COMPLETE", None),
            task("task-2", "engi-b", "FAILED", Some(FAILING_TASK_REASON)),
            task("task-3", "engi-c", "COMPLETE", None),
            task("task-4", "engi-d", "IN_PROGRESS", None),
        ];
        let rejected = BTreeSet::from(["engi-r".to_owned()]);
        let events = [
            outcome(COMPLETED, "engi-a", "task-1", None),
            outcome(COMPLETED, "engi-a", "task-1", None),
            outcome(FAILED, "engi-b", "task-2", Some(FAILING_TASK_REASON)),
        ];
        let c = check_actions(&tasks, &rejected, 1, &events);
        assert!(c.ok(), "{c:?}");
        assert_eq!((c.tasks, c.tasks_completed, c.tasks_failed, c.rejected), (4, 2, 1, 1));
        assert_eq!(c.outcomes_published, 2, "a copy of an outcome counts once");
        assert_eq!(c.outcomes_unpublished, ["engi-c (task-3 COMPLETE)"], "reported, not a failure");
    }

    #[test]
    fn a_second_task_a_task_and_a_rejection_or_a_second_rejection_is_a_double_action() {
        let tasks = [
            task("task-1", "engi-a", "FAILED", Some(FAILING_TASK_REASON)),
            task("task-2", "engi-a", "IN_PROGRESS", None),
            task("task-3", "engi-r", "FAILED", Some("EngagementInvitationConflict")),
        ];
        let rejected = BTreeSet::from(["engi-r".to_owned()]);
        let c = check_actions(&tasks, &rejected, 2, &[]);
        assert!(!c.ok());
        assert_eq!(c.double_actions.len(), 3, "{:?}", c.double_actions);
        assert!(c.double_actions[0].starts_with("engi-a: 2 acceptance tasks"), "{:?}", c.double_actions);
        assert!(c.double_actions[1].starts_with("engi-r: an acceptance task"), "{:?}", c.double_actions);
        assert!(c.double_actions[2].starts_with("2 successful RejectEngagementInvitation calls for 1"));
    }

    #[test]
    fn an_outcome_contradicting_its_task_is_wrong() {
        let tasks = [
            task("task-1", "engi-a", "FAILED", Some(FAILING_TASK_REASON)),
            task("task-2", "engi-b", "FAILED", Some(FAILING_TASK_REASON)),
        ];
        let events = [
            outcome(COMPLETED, "engi-a", "task-1", None),
            outcome(FAILED, "engi-b", "task-2", Some("InternalError")),
            outcome(COMPLETED, "engi-z", "task-9", None),
        ];
        let c = check_actions(&tasks, &BTreeSet::new(), 0, &events);
        assert_eq!(c.wrong_outcomes.len(), 3, "{:?}", c.wrong_outcomes);
        assert!(!c.ok());
    }
}
