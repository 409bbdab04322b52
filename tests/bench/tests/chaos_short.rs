//! The short chaos run inside `make test`: 8 runs of the four scheduled (debug) functions (auto-respond with a
//! real policy, some of its acceptance tasks planned to fail), native-relay between them, under
//! Partner Central faults, PutEvents faults, DynamoDB faults (throttling, 5xx, canceled
//! transactions) and kills, with Partner Central's native events
//! dropped (20 %), duplicated and reordered on their way to native-relay, then the check that
//! no transition was lost, duplicates carry the same `eventId`, and nothing was published that
//! did not happen, and that auto-respond never acted twice on one invitation (one acceptance task
//! or one rejection, counted in the emulator); with overlapping invocations of the same function
//! (one runs, the other skips on the run lease) and the account's budget of 10/s never exceeded
//! in any second (the emulator's count).
//! Fixed seed (override with `CHAOS_SEED`), printed, so a failure can be replayed with
//! `cargo run -p bench --bin chaos -- --profile debug --runs 8 --seed <seed>`... or this test.

use bench::chaos::{self, ChaosConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_chaos_run_loses_nothing_and_invents_nothing() {
    let seed = std::env::var("CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(31);
    eprintln!("chaos (short): seed {seed} — replay with CHAOS_SEED={seed}");
    let report = chaos::run(&ChaosConfig::short(seed)).await.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    eprintln!("{}", report.summary());
    for s in &report.steps {
        eprintln!("  step {} {} {:?} kill={:?}: {:?}", s.step, s.function, s.end, s.kill, s.mutations);
    }
    assert!(report.verdict.transitions > 0, "the scenario produced no transition to check");
    assert!(
        report.faults.get("partner_central_throttle").copied().unwrap_or(0) > 0,
        "Partner Central faults were not injected: {:?}",
        report.faults
    );
    let state_faults: u64 = report.faults.iter().filter(|(k, _)| k.starts_with("dynamodb_")).map(|(_, n)| n).sum();
    assert!(state_faults > 0, "no DynamoDB fault was injected: {:?}", report.faults);
    let native = report.native.as_ref().unwrap_or_else(|| panic!("native events were off"));
    assert!(
        native.emulator.get("dropped").copied().unwrap_or(0) > 0,
        "no native event was dropped: {:?}",
        native.emulator
    );
    assert!(native.invocations > 0, "native-relay was never invoked");
    let actions = &report.verdict.actions;
    eprintln!(
        "auto-respond: {} acceptance tasks, {} engagement rejections, {} connections accepted, {} connections rejected, double actions {:?}",
        actions.tasks,
        actions.rejected,
        actions.connections_accepted,
        actions.connections_rejected,
        actions.double_actions
    );
    assert!(actions.tasks > 0 && actions.rejected > 0, "auto-respond neither accepted nor rejected: {actions:?}");
    assert!(
        actions.connections_accepted + actions.connections_rejected > 0,
        "auto-respond answered no connection invitation: {actions:?}"
    );
    assert!(report.overlaps > 0, "no overlapping invocation: {}", report.summary());
    assert!(report.verdict.budget > 0, "the budget was not checked");
    assert!(report.verdict.ok(), "seed {seed}:\n{}", report.verdict.problems());
    assert_eq!(report.verdict.delivered, report.verdict.transitions);
}
