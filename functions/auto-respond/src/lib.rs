//! auto-respond: accepts or rejects the engagement and connection invitations we received
//! that a written policy selects — dry run first, capped, audited, the engagement acceptance
//! task followed to its end. The run is the shared policy-action engine
//! (`shared::policy::engine`).
//!
//! - [`policy`]: the policy document (rules of a kind), its validation (errors name the JSON
//!   path), its conditions, exclusions and per-rule action, and client tokens;
//! - [`config`]: environment variables, validated once at start-up;
//! - [`decide`]: the pure decisions of following an acceptance task to its end;
//! - [`run`]: the action adapters (engagement and connection answers) and the run: follow
//!   earlier tasks, the engine per kind, follow what was started;
//! - [`summary`]: what a run reports (the engine's report, the answers, the tasks followed).

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
