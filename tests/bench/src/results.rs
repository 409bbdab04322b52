//! `bench/results.json` and `bench/results.md`: the figures, kept comparable from run to run.
//!
//! The JSON keeps this shape (keys may be added, these stay):
//! `{"date", "machine", "functions": {"<name>": {"calls_over_lower_bound", "naive_over_calls",
//! "peak_rss_mb", "init_ms", "max_rps_seen", "configured_rps", "binary_mb_arm64"}},
//! "chaos": {"runs", "transitions", "delivered", "duplicates", "duplicates_with_other_id",
//! "lost", "spurious"}}`. `make bench` rewrites everything but `chaos`; `make chaos` rewrites
//! `chaos` only; both regenerate the Markdown from the JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// Where the results live: `<workspace>/bench/`.
pub fn results_dir() -> PathBuf {
    crate::measure::workspace_root().join("bench")
}

/// Calls of one run, and what they are compared with.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunFigures {
    /// 0 = the first (full) run.
    pub run: usize,
    /// Partner Central requests per operation, as the emulator counted them (retries included).
    pub partner_central: BTreeMap<String, u64>,
    pub put_events: u64,
    /// DynamoDB requests per operation (state I/O), as the tap in front of moto counted them.
    pub dynamodb: BTreeMap<String, u64>,
    /// Everything: Partner Central + PutEvents + DynamoDB.
    pub calls: u64,
    /// Partner Central only (the quota the claim is about).
    pub partner_central_calls: u64,
    pub lower_bound: LowerBound,
    /// A naive poller: every page of every listing (Partner Central calls).
    pub naive: u64,
    /// Transitions that happened since this function's previous run (true ones, from the emulator).
    pub transitions: u64,
    /// Invitations that appeared since this function's previous run.
    pub new_invitations: u64,
    pub events_delivered: u64,
    pub wall_ms: u64,
    pub peak_rss_kib: u64,
    /// The function's own bound for the run, when it reports one (list-and-publish's
    /// `lowerBound`: Partner Central calls, by its own formula).
    #[serde(default)]
    pub own_bound: Option<u64>,
    /// Most Partner Central requests the emulator received in one sliding second of this run.
    #[serde(default)]
    pub max_rps_received: u64,
    /// The function's own summary, as returned.
    pub summary: Value,
}

/// The least a run could have done, term by term.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LowerBound {
    /// Listing pages the run needed (see `basis`).
    pub pending_pages: u64,
    /// Kept for comparison with older results (now counted in `pending_pages`).
    pub new_pages: u64,
    /// One call per invitation read or acted on.
    pub per_transition: u64,
    /// ⌈events / 10⌉ PutEvents.
    pub put_events: u64,
    /// The minimum state reads and writes.
    pub state_io: u64,
    /// Partner Central part (pending + new + per transition).
    pub partner_central: u64,
    pub total: u64,
    /// How the terms were derived for this function.
    pub basis: String,
}

/// One function's figures (the stable keys first).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FunctionFigures {
    /// Worst steady-state run: all calls / lower bound.
    pub calls_over_lower_bound: f64,
    /// Worst steady-state run: naive poller's Partner Central calls / ours.
    pub naive_over_calls: f64,
    pub peak_rss_mb: f64,
    pub init_ms: f64,
    /// Most Partner Central requests the emulator received in any one-second window.
    pub max_rps_seen: u64,
    /// `MAX_REQUESTS_PER_SECOND` of the function.
    pub configured_rps: u64,
    pub binary_mb_arm64: f64,
    pub binary_mb_native: f64,
    /// Most requests the emulator *served* in one second (≤ its `--rate-limit`).
    pub max_rps_served: u64,
    /// Slowest cold start measured (`init_ms` is the median).
    pub init_ms_max: f64,
    pub first_run_calls: u64,
    pub first_run_wall_ms: u64,
    /// Init of every cold start measured (ms).
    pub init_samples_ms: Vec<f64>,
    pub runs: Vec<RunFigures>,
}

/// The chaos figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChaosFigures {
    pub runs: u64,
    pub transitions: u64,
    pub delivered: u64,
    pub duplicates: u64,
    pub duplicates_with_other_id: u64,
    pub lost: u64,
    pub spurious: u64,
    pub seed: u64,
    pub date: String,
    pub warnings: u64,
    pub warning_duplicates: u64,
    pub warnings_with_other_id: u64,
    pub created_events: u64,
    pub faults: BTreeMap<String, u64>,
    pub invocations_failed: u64,
    pub kills: u64,
    /// Steps invoked twice at once (retried firing / manual invoke), invocations skipped on the
    /// run lease, the account's budget and the busiest second the emulator saw.
    #[serde(default)]
    pub overlaps: u64,
    #[serde(default)]
    pub skipped: u64,
    #[serde(default)]
    pub budget: u64,
    #[serde(default)]
    pub max_requests_per_second: u64,
    /// With native-relay in the mix: its native events and the fast path's share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<crate::chaos_native::NativeFigures>,
    /// With auto-respond in the mix: its actions as the emulator recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_respond: Option<crate::chaos::ActionCheck>,
}

/// The whole file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    pub date: String,
    pub machine: String,
    pub functions: BTreeMap<String, FunctionFigures>,
    #[serde(default)]
    pub chaos: Option<ChaosFigures>,
    /// The fast path (native-relay), measured by `make bench`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_path: Option<crate::fast_path::FastPathFigures>,
    /// auto-respond's calls per run and write rate, measured by `make bench`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_respond: Option<crate::auto_respond::RespondFigures>,
    /// The scenario the functions' figures come from.
    #[serde(default)]
    pub scenario: Value,
    /// What the machine was doing while figures were taken (load average, other builds),
    /// recorded by whoever ran the benchmark: one Markdown paragraph each, kept by every run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Results {
    /// The results in `dir`, or empty ones.
    pub fn load(dir: &Path) -> Results {
        std::fs::read_to_string(dir.join("results.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Write `results.json` and `results.md` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::msg(format!("{}: {e}", dir.display())))?;
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::msg(e.to_string()))?;
        let path = dir.join("results.json");
        std::fs::write(&path, json + "\n").map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        let path = dir.join("results.md");
        std::fs::write(&path, self.markdown()).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        Ok(())
    }

    /// The table a user reads.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Benchmark and chaos results\n");
        let _ = writeln!(
            md,
            "Generated by `make bench` / `make chaos` — do not edit by hand. How each figure is measured: [README](README.md).\n"
        );
        if !self.functions.is_empty() {
            let _ = writeln!(md, "**Benchmark:** {} on {}.\n", self.date, self.machine);
            if let Some(s) = self.scenario.as_object() {
                let _ = writeln!(md, "Scenario: {}\n", s.get("description").and_then(Value::as_str).unwrap_or(""));
            }
            md.push_str(&self.goals_table());
            for name in self.function_names() {
                md.push_str(&runs_table(name, &self.functions[name]));
            }
            md.push_str("\nChart: [`calls-per-run.png`](calls-per-run.png).\n");
        }
        if let Some(f) = &self.auto_respond {
            md.push_str(&crate::auto_respond::markdown(f));
        }
        if let Some(f) = &self.fast_path {
            md.push_str(&crate::fast_path::markdown(f));
        }
        if let Some(c) = &self.chaos {
            md.push_str(&chaos_table(c));
        }
        if !self.notes.is_empty() {
            let _ = writeln!(md, "\n## Notes: the machine while measuring\n");
            for note in &self.notes {
                let _ = writeln!(md, "{note}\n");
            }
        }
        md
    }

    /// Function names in the order they run (list-and-publish, expire-sweeper, auto-cancel).
    pub fn function_names(&self) -> Vec<&String> {
        let mut names: Vec<&String> = self.functions.keys().collect();
        names.sort_by_key(|n| crate::functions::ALL.iter().position(|f| f == n).unwrap_or(usize::MAX));
        names
    }

    fn goals_table(&self) -> String {
        let mut md = String::new();
        let names = self.function_names();
        let _ = writeln!(md, "## Goals\n");
        let _ = write!(md, "| goal |");
        for n in &names {
            let _ = write!(md, " {n} |");
        }
        md.push('\n');
        md.push_str("| --- |");
        for _ in &names {
            md.push_str(" --- |");
        }
        md.push('\n');
        type Row = (&'static str, fn(&FunctionFigures) -> (String, bool));
        let rows: [Row; 7] = [
            ("steady-state calls ≤ 1.1× lower bound (worst run)", |f| {
                (format!("{:.2}×", f.calls_over_lower_bound), f.calls_over_lower_bound <= 1.1)
            }),
            ("(info) Partner Central calls / their part of the bound (worst run)", |f| {
                let worst = f
                    .runs
                    .iter()
                    .filter(|r| r.run > 0)
                    .map(|r| r.partner_central_calls as f64 / r.lower_bound.partner_central.max(1) as f64)
                    .fold(0.0, f64::max);
                (format!("{worst:.2}×"), true)
            }),
            ("≥ 20× fewer Partner Central calls than naive (worst run)", |f| {
                (format!("{:.1}×", f.naive_over_calls), f.naive_over_calls >= 20.0)
            }),
            ("peak RSS ≤ 40 MB", |f| (format!("{:.1} MB", f.peak_rss_mb), f.peak_rss_mb <= 40.0)),
            ("init ≤ 50 ms (median of cold starts; slowest)", |f| {
                (format!("{:.1} ms ({:.1})", f.init_ms, f.init_ms_max), f.init_ms <= 50.0)
            }),
            ("no second above MAX_REQUESTS_PER_SECOND", |f| {
                (format!("{} / {} per s", f.max_rps_seen, f.configured_rps), f.max_rps_seen <= f.configured_rps)
            }),
            ("binary size (arm64 / native)", |f| {
                (format!("{:.1} / {:.1} MB", f.binary_mb_arm64, f.binary_mb_native), true)
            }),
        ];
        for (label, get) in rows {
            let _ = write!(md, "| {label} |");
            for n in &names {
                let (text, ok) = get(&self.functions[*n]);
                let mark = if label.starts_with("binary") || label.starts_with("(info)") {
                    ""
                } else if ok {
                    " ✅"
                } else {
                    " ❌"
                };
                let _ = write!(md, " {text}{mark} |");
            }
            md.push('\n');
        }
        md
    }
}

fn ops(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "–".to_owned();
    }
    map.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

fn runs_table(name: &str, f: &FunctionFigures) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "\n## {name}\n");
    let _ = writeln!(
        md,
        "First run: {} calls in {:.1} s. Init (cold starts): {}. Most Partner Central requests in one second: {} received, {} served (limit {}/s).\n",
        f.first_run_calls,
        f.first_run_wall_ms as f64 / 1000.0,
        f.init_samples_ms.iter().map(|x| format!("{x:.1} ms")).collect::<Vec<_>>().join(", "),
        f.max_rps_seen,
        f.max_rps_served,
        f.configured_rps
    );
    md.push_str(
        "| run | transitions / new | Partner Central calls (own bound) | PutEvents | DynamoDB | calls | lower bound (PC part) | calls / bound | naive | naive / ours (PC) | max req/s | wall | peak RSS |\n",
    );
    md.push_str("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for r in &f.runs {
        let ratio = if r.lower_bound.total > 0 { r.calls as f64 / r.lower_bound.total as f64 } else { 0.0 };
        let naive_ratio =
            if r.partner_central_calls > 0 { r.naive as f64 / r.partner_central_calls as f64 } else { f64::INFINITY };
        let _ = writeln!(
            md,
            "| {} | {} / {} | {}{} ({}) | {} | {} ({}) | {} | {} ({}) | {:.2} | {} | {:.1}× | {} | {:.2} s | {:.1} MB |",
            if r.run == 0 { "0 (first)".to_owned() } else { r.run.to_string() },
            r.transitions,
            r.new_invitations,
            r.partner_central_calls,
            r.own_bound.map(|b| format!(" ({b})")).unwrap_or_default(),
            ops(&r.partner_central),
            r.put_events,
            r.dynamodb.values().sum::<u64>(),
            ops(&r.dynamodb),
            r.calls,
            r.lower_bound.total,
            r.lower_bound.partner_central,
            ratio,
            r.naive,
            naive_ratio,
            r.max_rps_received,
            r.wall_ms as f64 / 1000.0,
            r.peak_rss_kib as f64 / 1024.0,
        );
    }
    if let Some(basis) = f.runs.last().map(|r| r.lower_bound.basis.clone()).filter(|b| !b.is_empty()) {
        let _ = writeln!(md, "\nLower bound: {basis}");
    }
    md
}

fn chaos_table(c: &ChaosFigures) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "\n## Chaos\n");
    let _ = writeln!(md, "{} — seed {} (replay: `make chaos SEED={}`).\n", c.date, c.seed, c.seed);
    md.push_str("| runs | transitions | delivered | duplicates | duplicates with another id | lost | spurious | warnings (dup. / other id) | kills | failed invocations |\n");
    md.push_str("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} | **{}** | {} | {} ({} / {}) | {} | {} |",
        c.runs,
        c.transitions,
        c.delivered,
        c.duplicates,
        c.duplicates_with_other_id,
        c.lost,
        c.spurious,
        c.warnings,
        c.warning_duplicates,
        c.warnings_with_other_id,
        c.kills,
        c.invocations_failed
    );
    let _ = writeln!(md, "\nFaults injected: {}.", ops(&c.faults));
    if c.budget > 0 {
        let _ = writeln!(
            md,
            "\nRequest budget shared at run time: {} overlapping invocations (a retried firing or a manual invoke next to a run) and {} invocations skipped on a held run lease; busiest second **{} Partner Central requests** at a budget of {}/s {}.",
            c.overlaps,
            c.skipped,
            c.max_requests_per_second,
            c.budget,
            if c.max_requests_per_second <= c.budget { "✅" } else { "❌" }
        );
    }
    if let Some(a) = &c.auto_respond {
        let _ = writeln!(
            md,
            "\nauto-respond (a real policy: accept the opportunity referrals we received, reject the lead referrals expiring within 10 days; some acceptance tasks planned to fail with `{}`): {} acceptance tasks started ({} completed, {} failed), {} invitations rejected ({} successful `RejectEngagementInvitation` calls), {} write requests in all (retries, idempotent repeats, faults and conflicts included). **Double actions: {}** (an invitation with a second task, a task and a rejection, or a second successful rejection). Acceptance outcomes published: {} of {} ended tasks{}; contradicting the task: {}.",
            crate::chaos::FAILING_TASK_REASON,
            a.tasks,
            a.tasks_completed,
            a.tasks_failed,
            a.rejected,
            a.reject_calls_ok,
            a.write_requests,
            a.double_actions.len(),
            a.outcomes_published,
            a.tasks_completed + a.tasks_failed,
            if a.outcomes_unpublished.is_empty() {
                String::new()
            } else {
                format!(
                    " (not published: {} — a run killed between starting the task and recording it, the task ended before the next run; the `Accepted` transition itself was published)",
                    a.outcomes_unpublished.join(", ")
                )
            },
            a.wrong_outcomes.len()
        );
    }
    if let Some(n) = &c.native {
        md.push_str(&crate::chaos_native::markdown(n));
    }
    md
}
