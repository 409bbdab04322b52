//! `make bench`, auto-respond: its Partner Central calls per run against its own lower bound,
//! and its Selling API write rate, on a realistic account.
//!
//! Scenario: the benchmark's generated account (two years of history; a few hundred PENDING
//! engagement invitations we received), 20 ms added to every Partner Central call, the
//! emulator's quota at the real 10/s; auto-respond at its default `MAX_REQUESTS_PER_SECOND`
//! with a real policy that accepts the opportunity referrals and rejects the lead referrals,
//! at most [`RespondBenchConfig::max_actions_per_run`] a run; a share of the invitations plan
//! a failing acceptance task. Run 0 is a dry run (forced by the payload); then real runs, an
//! hour apart on the emulator's clock (the tasks started by a run end before the next).
//!
//! Calls are counted outside the function, by the emulator (per operation; the most requests,
//! and the most Selling API writes, received in any sliding second of wall-clock time). The
//! actions and the tasks followed are read from the emulator and the delivered events, not
//! from the function's own summary.

use std::collections::{BTreeMap, BTreeSet};

use harness::lambda::Invocation;
use harness::stack::Stack;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::account::{self, Kind, pages};
use crate::chaos::TaskSeen;
use crate::functions::{self, AUTO_RESPOND, Fleet};
use crate::measure::Profile;
use crate::prng::XorShift;
use crate::{Error, Result};

/// Values of `TaskIdentifier` one `ListEngagementByAcceptingInvitationTasks` may filter on
/// (the service model's `TaskIdentifiers` `max`).
pub const TASK_IDS_PER_LISTING: u64 = 10;

/// The Selling API's write quota the issue asks auto-respond to respect: requests per second.
pub const SELLING_WRITES_PER_SECOND: u64 = 1;

const REJECTION_REASON: &str = "Unable to support";
const FAILING_TASK_REASON: &str = "OpportunityValidationFailed";

/// How to run.
#[derive(Debug, Clone)]
pub struct RespondBenchConfig {
    pub engagements: usize,
    pub connections: usize,
    pub latency_ms: u64,
    pub rate_limit: u32,
    /// auto-respond's `MAX_REQUESTS_PER_SECOND` (its default).
    pub max_requests_per_second: u32,
    /// The policy's `maxActionsPerRun`: the N invitations a run acts on.
    pub max_actions_per_run: u32,
    /// Real runs after the dry run.
    pub real_runs: usize,
    /// Share of the PENDING invitations we received whose acceptance task is planned to fail.
    pub failing_task_rate: f64,
    pub seed: u64,
    pub profile: Profile,
}

impl Default for RespondBenchConfig {
    fn default() -> Self {
        RespondBenchConfig {
            engagements: 20_000,
            connections: 2_000,
            latency_ms: 20,
            rate_limit: 10,
            max_requests_per_second: 8,
            max_actions_per_run: 20,
            real_runs: 5,
            failing_task_rate: 0.2,
            seed: 2026,
            profile: Profile::Release,
        }
    }
}

impl RespondBenchConfig {
    pub fn description(&self, received_pending: usize) -> String {
        format!(
            "generated account, two years of history: {} engagement invitations ({} PENDING ones we received) and {} connection invitations; {} ms added to every Partner Central call; emulator rate limit {}/s; auto-respond at MAX_REQUESTS_PER_SECOND={} with a real policy (accept the opportunity referrals, reject the lead referrals with \"{REJECTION_REASON}\"; maxActionsPerRun {}); {:.0} % of the invitations we received plan a failing acceptance task ({FAILING_TASK_REASON}); run 0 a dry run (forced by the payload), then {} real runs one hour apart on the emulator's clock (acceptance tasks take 5 s: each run follows the tasks the previous one started).",
            self.engagements,
            received_pending,
            self.connections,
            self.latency_ms,
            self.rate_limit,
            self.max_requests_per_second,
            self.max_actions_per_run,
            self.failing_task_rate * 100.0,
            self.real_runs
        )
    }
}

/// The policy the benchmark runs auto-respond with.
pub fn respond_policy(max_actions_per_run: u32) -> Value {
    json!({
        "version": 1, "dryRun": false, "maxActionsPerRun": max_actions_per_run, "maxActionsPerDay": 1000,
        "rules": [
            {"name": "referrals", "match": {"payloadTypes": ["OpportunityInvitation"], "senderAwsAccountIds": ["AWS", "210987654321"]}, "action": "accept"},
            {"name": "leads", "match": {"payloadTypes": ["LeadInvitation"]}, "action": "reject", "rejectionReason": REJECTION_REASON}
        ]
    })
}

/// The least one run could have done, term by term (Partner Central calls).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespondBound {
    /// Pages of the PENDING RECEIVER listing (⌈pending/100⌉, at least one).
    pub pending_pages: u64,
    /// Per action the confirming Get (required) and the write (Start or Reject).
    pub per_action: u64,
    /// Task follow-ups: one task listing per ten tasks followed (those earlier runs started,
    /// and — bounded, once — those this run started).
    pub follow_ups: u64,
    pub total: u64,
}

/// The lower bound of a run that found `pending_received` PENDING invitations we received,
/// took `actions` actions (of which `started` acceptance tasks) and followed `followed` tasks
/// earlier runs had started.
pub fn lower_bound(pending_received: u64, actions: u64, started: u64, followed: u64) -> RespondBound {
    let pending_pages = pages(pending_received);
    let per_action = 2 * actions;
    let follow_ups = followed.div_ceil(TASK_IDS_PER_LISTING) + started.div_ceil(TASK_IDS_PER_LISTING);
    RespondBound { pending_pages, per_action, follow_ups, total: pending_pages + per_action + follow_ups }
}

/// One run's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RespondRun {
    pub run: usize,
    pub dry_run: bool,
    /// PENDING engagement invitations we received at the start of the run.
    pub pending_received: u64,
    /// Acceptance tasks the run started, invitations it rejected.
    pub started: u64,
    pub rejected: u64,
    /// Tasks earlier runs started whose outcome had not been published yet.
    pub followed: u64,
    /// Tasks whose outcome (`Acceptance Completed` / `Failed`) the run published.
    pub outcomes_published: u64,
    /// Partner Central requests per operation, as the emulator counted them.
    pub partner_central: BTreeMap<String, u64>,
    pub partner_central_calls: u64,
    pub lower_bound: RespondBound,
    /// Calls above the bound that are one `GetEngagementInvitation` per task seen ending (the
    /// run reads what the invitation became before publishing the outcome).
    pub gets_after_task_end: u64,
    pub over_bound: f64,
    /// The most Selling API writes (Start + Reject) the emulator received in any sliding second.
    pub max_writes_per_second: u64,
    /// The most Partner Central requests in any sliding second.
    pub max_requests_per_second: u64,
    pub events_delivered: u64,
    pub wall_ms: u64,
}

/// auto-respond's benchmark figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RespondFigures {
    pub date: String,
    pub description: String,
    pub received_pending: u64,
    pub runs: Vec<RespondRun>,
    /// Worst run: Partner Central calls / lower bound.
    pub worst_over_bound: f64,
    /// Worst run: calls / (lower bound + the Gets after a task ended).
    pub worst_over_bound_with_gets: f64,
    pub max_writes_per_second: u64,
    pub writes_limit_per_second: u64,
    pub max_requests_per_second: u64,
    pub configured_rps: u64,
}

/// Every acceptance task the emulator knows.
async fn tasks(stack: &Stack) -> Result<Vec<TaskSeen>> {
    let listed = stack.emulator_control("GET", "engagement-tasks?catalog=AWS", None).await?;
    listed["Tasks"]
        .as_array()
        .ok_or_else(|| Error::msg(format!("engagement-tasks: no Tasks: {listed}")))?
        .iter()
        .map(TaskSeen::from_json)
        .collect()
}

/// The task ids of the outcome events among `events`.
fn outcome_task_ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e["detail-type"].as_str(),
                Some("Engagement Invitation Acceptance Completed" | "Engagement Invitation Acceptance Failed")
            )
        })
        .filter_map(|e| e["detail"]["task"]["taskId"].as_str().map(str::to_owned))
        .collect()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Run the scenario; `log` gets one line per run.
pub async fn run(config: &RespondBenchConfig, log: &dyn Fn(String)) -> Result<RespondFigures> {
    let mut rng = XorShift::new(config.seed);
    log(format!("auto-respond: starting the stack: {} + {} invitations …", config.engagements, config.connections));
    let stack = crate::benchmark::generated_account(
        crate::chaos::t0(),
        config.seed,
        config.engagements,
        config.connections,
        config.latency_ms,
        config.rate_limit,
    )
    .await?;
    let received = |invs: Vec<account::Inv>| -> Vec<account::Inv> {
        invs.into_iter().filter(|i| i.participant == "RECEIVER").collect()
    };
    let pending = received(account::list(&stack, Kind::Engagement, Some("PENDING")).await?);
    let received_pending = pending.len() as u64;
    for inv in &pending {
        // Referrals from AWS (alias `AWS`): the accept rule names its sender, as it must.
        stack.patch_invitation("engagement", &inv.id, json!({"SenderAwsAccountId": "AWS"})).await?;
        if rng.chance(config.failing_task_rate) {
            let plan = json!({"ReasonCode": FAILING_TASK_REASON, "Message": "Customer website is missing"});
            stack.patch_invitation("engagement", &inv.id, json!({"EmulatorTaskOutcome": plan})).await?;
        }
    }
    let env = BTreeMap::from([(
        AUTO_RESPOND.to_owned(),
        vec![
            ("MAX_REQUESTS_PER_SECOND".to_owned(), config.max_requests_per_second.to_string()),
            ("RESPOND_POLICY".to_owned(), respond_policy(config.max_actions_per_run).to_string()),
        ],
    )]);
    let mut fleet = Fleet::new(&stack, config.profile, env).await?;
    let mut runs = Vec::new();
    let mut published: BTreeSet<String> = BTreeSet::new();
    for run in 0..=config.real_runs {
        let dry_run = run == 0;
        if run > 1 {
            // An hour later: the tasks the previous run started have ended.
            stack.advance_clock(1.0).await?;
        }
        let pending_received = received(account::list(&stack, Kind::Engagement, Some("PENDING")).await?).len() as u64;
        let tasks_before: BTreeSet<String> = tasks(&stack).await?.into_iter().map(|t| t.task_id).collect();
        let followed = tasks_before.difference(&published).count() as u64;
        stack.reset_emulator_stats().await?;
        let payload = if dry_run { json!({"dryRun": true}) } else { functions::scheduled_event(AUTO_RESPOND) };
        let served = fleet.invoke(AUTO_RESPOND, &payload).await?;
        if let Invocation::FunctionError { error_type, message } = served.outcome {
            return Err(Error::msg(format!(
                "auto-respond failed in run {run}: {error_type}: {message}\n{}",
                fleet.logs(AUTO_RESPOND).join("\n")
            )));
        }
        let stats = stack.emulator_stats().await?;
        let delivered = stack.received().await?;
        let outcomes = outcome_task_ids(&delivered);
        let outcomes_published = outcomes.difference(&published).count() as u64;
        published.extend(outcomes);
        let started = tasks(&stack).await?.into_iter().filter(|t| !tasks_before.contains(&t.task_id)).count() as u64;
        let op = |name: &str, field: &str| stats["operations"][name][field].as_u64().unwrap_or(0);
        let rejected = op("RejectEngagementInvitation", "ok");
        let partner_central: BTreeMap<String, u64> = stats["operations"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v["requests"].as_u64().unwrap_or(0))).collect())
            .unwrap_or_default();
        let calls: u64 = partner_central.values().sum();
        let bound = lower_bound(pending_received, started + rejected, started, followed);
        let figures = RespondRun {
            run,
            dry_run,
            pending_received,
            started,
            rejected,
            followed,
            outcomes_published,
            partner_central_calls: calls,
            gets_after_task_end: outcomes_published,
            over_bound: round2(calls as f64 / bound.total.max(1) as f64),
            lower_bound: bound,
            partner_central,
            max_writes_per_second: stats["max_writes_per_second"]["Selling"].as_u64().unwrap_or(0),
            max_requests_per_second: stats["max_received_per_second"].as_u64().unwrap_or(0),
            events_delivered: delivered.len() as u64,
            wall_ms: served.wall.as_millis() as u64,
        };
        log(format!(
            "  auto-respond run {run}{}: {} PENDING received, {} started, {} rejected, {} followed, {} outcomes; {} Partner Central calls, bound {} (+{} Gets after a task ended), max {} writes/s, max {} req/s, {:.1} s",
            if dry_run { " (dry run)" } else { "" },
            figures.pending_received,
            figures.started,
            figures.rejected,
            figures.followed,
            figures.outcomes_published,
            figures.partner_central_calls,
            figures.lower_bound.total,
            figures.gets_after_task_end,
            figures.max_writes_per_second,
            figures.max_requests_per_second,
            served.wall.as_secs_f64()
        ));
        runs.push(figures);
    }
    fleet.stop_all().await?;
    stack.shutdown().await;
    let worst = |f: &dyn Fn(&RespondRun) -> f64| round2(runs.iter().map(f).fold(0.0, f64::max));
    Ok(RespondFigures {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        description: config.description(received_pending as usize),
        received_pending,
        worst_over_bound: worst(&|r| r.over_bound),
        worst_over_bound_with_gets: worst(&|r| {
            r.partner_central_calls as f64 / (r.lower_bound.total + r.gets_after_task_end).max(1) as f64
        }),
        max_writes_per_second: runs.iter().map(|r| r.max_writes_per_second).max().unwrap_or(0),
        writes_limit_per_second: SELLING_WRITES_PER_SECOND,
        max_requests_per_second: runs.iter().map(|r| r.max_requests_per_second).max().unwrap_or(0),
        configured_rps: u64::from(config.max_requests_per_second),
        runs,
    })
}

/// The results section.
pub fn markdown(f: &RespondFigures) -> String {
    use std::fmt::Write as _;
    let mut md = String::new();
    let _ = writeln!(md, "\n## auto-respond\n");
    let _ = writeln!(md, "{} — {}\n", f.date, f.description);
    let _ = writeln!(
        md,
        "| goal | measured |\n| --- | --- |\n| Partner Central calls ≤ its lower bound + one Get per task seen ending (worst run) | {:.2}× {} |\n| (info) Partner Central calls / lower bound (worst run) | {:.2}× |\n| Selling API writes never above {}/s (most in any sliding second, all runs) | {} {} |\n| no second above MAX_REQUESTS_PER_SECOND | {} / {} per s {} |\n",
        f.worst_over_bound_with_gets,
        mark(f.worst_over_bound_with_gets <= 1.0),
        f.worst_over_bound,
        f.writes_limit_per_second,
        f.max_writes_per_second,
        mark(f.max_writes_per_second <= f.writes_limit_per_second),
        f.max_requests_per_second,
        f.configured_rps,
        mark(f.max_requests_per_second <= f.configured_rps),
    );
    md.push_str("| run | PENDING received | started / rejected | followed / outcomes | Partner Central calls | lower bound (pages + per action + follow-ups) | + Gets after a task ended | calls / bound | max writes/s | max req/s | wall |\n");
    md.push_str("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for r in &f.runs {
        let ops: Vec<String> = r.partner_central.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let b = &r.lower_bound;
        let _ = writeln!(
            md,
            "| {}{} | {} | {} / {} | {} / {} | {} ({}) | {} ({} + {} + {}) | {} | {:.2} | {} | {} | {:.1} s |",
            r.run,
            if r.dry_run { " (dry run)" } else { "" },
            r.pending_received,
            r.started,
            r.rejected,
            r.followed,
            r.outcomes_published,
            r.partner_central_calls,
            if ops.is_empty() { "–".to_owned() } else { ops.join(", ") },
            b.total,
            b.pending_pages,
            b.per_action,
            b.follow_ups,
            r.gets_after_task_end,
            r.over_bound,
            r.max_writes_per_second,
            r.max_requests_per_second,
            r.wall_ms as f64 / 1000.0,
        );
    }
    let _ = writeln!(
        md,
        "\nLower bound: pages of the PENDING RECEIVER listing (⌈pending/100⌉) + per action the confirming Get (required) and the write (`StartEngagementByAcceptingInvitationTask` or `RejectEngagementInvitation`) + one `ListEngagementByAcceptingInvitationTasks` per {TASK_IDS_PER_LISTING} tasks followed (those earlier runs started, and once those this run started). Above it by design: one `GetEngagementInvitation` per task seen ending, to publish what the invitation became (ACCEPTED, or what a conflict left it)."
    );
    md
}

fn mark(ok: bool) -> &'static str {
    if ok { "✅" } else { "❌" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_the_listing_pages_two_calls_per_action_and_a_listing_per_ten_tasks() {
        // A dry run: the listing only.
        assert_eq!(
            lower_bound(330, 0, 0, 0),
            RespondBound { pending_pages: 4, per_action: 0, follow_ups: 0, total: 4 }
        );
        // 20 actions (14 accepts), following the 15 tasks of the run before.
        let b = lower_bound(310, 20, 14, 15);
        assert_eq!((b.pending_pages, b.per_action, b.follow_ups), (4, 40, 2 + 2));
        assert_eq!(b.total, 48);
        // Nothing pending still costs a page.
        assert_eq!(lower_bound(0, 0, 0, 0).total, 1);
    }

    #[test]
    fn outcomes_are_counted_by_task() {
        let e = |t: &str, task: &str| json!({"detail-type": t, "detail": {"task": {"taskId": task}}});
        let events = [
            e("Engagement Invitation Acceptance Completed", "task-1"),
            e("Engagement Invitation Acceptance Completed", "task-1"),
            e("Engagement Invitation Acceptance Failed", "task-2"),
            e("Engagement Invitation Acceptance Started", "task-3"),
        ];
        assert_eq!(outcome_task_ids(&events), BTreeSet::from(["task-1".to_owned(), "task-2".to_owned()]));
    }
}
