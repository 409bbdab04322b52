//! Approvals under chaos (issue #26), inside `make test`: the same approval given two or three
//! times at once, approvals racing a dismissal, racing a scheduled run of a policy that acts
//! directly, an approval under an edited policy, processes killed mid-approval and retried with
//! the same request id — on several warm processes of the built auto-respond, against the
//! Partner Central emulator and moto. Then: at most one answer per invitation changed Partner
//! Central (the emulator's own log), one transition event per answered invitation, every
//! outcome one of five, with a reason when refused, nothing lost.
//! Fixed seed (override with `APPROVAL_CHAOS_SEED`; `CHAOS_SEED` is chaos_short's), printed with the result table.

use bench::chaos_approvals::{self, ApprovalChaosConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_given_twice_and_racing_runs_act_at_most_once() {
    let seed = std::env::var("APPROVAL_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(31);
    eprintln!("approvals chaos: seed {seed} — replay with APPROVAL_CHAOS_SEED={seed}");
    let report =
        chaos_approvals::run(&ApprovalChaosConfig::short(seed)).await.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    eprintln!("{}", report.table());
    for g in &report.given {
        let answer = g.answer.as_ref().map(|a| {
            format!("{} {}", a["outcome"].as_str().unwrap_or_default(), a["reason"].as_str().unwrap_or_default())
        });
        eprintln!(
            "  {:?} {} on {}: {}",
            g.invitation,
            g.what,
            g.process,
            answer.or(g.error.clone()).unwrap_or_default()
        );
    }
    assert!(report.ok(), "seed {seed}:\n{}", report.problems.join("\n"));
    assert_eq!(report.skipped, 0, "a decision was skipped: approvals take no run lease");
    // The scenario did what it is for.
    assert!(report.pc_effects > 0, "no answer reached Partner Central");
    assert!(
        report.outcomes.get("alreadyDone").copied().unwrap_or(0) > 0,
        "no approval was given twice: {:?}",
        report.outcomes
    );
    assert!(report.outcomes.get("refused").copied().unwrap_or(0) > 0, "nothing was refused: {:?}", report.outcomes);
    assert_eq!(report.kills, 1, "the crash point was reached");
}

/// A person's approval while a scheduled run of the function is busy (held by the emulator in
/// its answer) must still be decided: the approval entry acts on one invitation and takes no
/// run lease (`shared::entry::takes_run_lease`). When it took one, it waited `RUN_WAIT_MS`
/// (16 s) for the run, then answered `skipped`: the decision was dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_during_a_scheduled_run_is_decided_not_skipped() {
    let (approved, run) = chaos_approvals::approval_during_a_run().await.unwrap_or_else(|e| panic!("{e}"));
    eprintln!("approval: {approved}\nrun: {run}");
    assert_eq!(approved["outcome"], "done", "{approved}");
    assert_ne!(approved["skipped"], true, "{approved}");
}
