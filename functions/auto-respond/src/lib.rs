//! auto-respond: accepts or rejects the engagement invitations we received that a written
//! policy selects — dry run first, capped, audited, the acceptance task followed to its end.
//!
//! - [`policy`]: the policy document, its validation (errors name the JSON path), its
//!   conditions, exclusions and per-rule action, and client tokens;
//! - [`config`]: environment variables, validated once at start-up;
//! - [`decide`]: the pure decisions (selection, prechecks, what each step records with which
//!   events) and their rendering into contract events;
//! - [`run`]: the run on the shared run skeleton: follow earlier tasks, list, decide, plan or
//!   answer, follow what was started, commit;
//! - [`summary`]: what a run reports (the summary, its metrics, why a match was skipped).

mod config;
mod decide;
mod policy;
#[cfg(test)]
mod properties;
mod run;
mod summary;

pub use config::{Config, StartupError};
pub use run::{AutoRespond, RunError, Settings};
pub use summary::Summary;
