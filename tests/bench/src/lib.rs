//! The benchmark and chaos suite of the built functions.
//!
//! - `bench` (`make bench`): a realistic account on the emulator (two years of history, the
//!   real quota, 20 ms per call); each function's first (full) run and ten steady-state runs;
//!   API calls per operation against the run's lower bound and a naive poller, peak RSS,
//!   init time, binary sizes; `bench/results.{md,json}` and a chart. auto-respond on its own
//!   scenario: calls per run against its lower bound, its Selling API write rate.
//! - `chaos` (`make chaos`, and an 8-run version in `make test`): the functions (auto-respond
//!   with a real policy among them) interleaved under Partner Central faults, EventBridge
//!   PutEvents faults and SIGKILLs at known points, while a driver changes the account; then
//!   a check that every true transition reached the consumer at least once, duplicates only
//!   with the same `eventId`, nothing was published that did not happen, and no invitation
//!   was answered twice. Deterministic from one seed.
//!
//! Everything runs the real binaries through `harness` (emulator, moto, the EventBridge fault
//! proxy, the Lambda Runtime API emulator).

pub mod account;
pub mod auto_respond;
pub mod benchmark;
pub mod chaos;
pub mod chaos_approvals;
pub mod chaos_native;
pub mod chart;
pub mod fast_path;
pub mod functions;
pub mod measure;
pub mod prng;
pub mod results;
pub mod runtime;
pub mod state;
pub mod tap;

pub use harness::{Error, Result};
