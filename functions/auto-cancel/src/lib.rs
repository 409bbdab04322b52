//! auto-cancel: cancels our own pending connection invitations that a written policy
//! selects — dry run first, capped, audited.
//!
//! - [`policy`]: the policy document, its validation (errors name the JSON path), its
//!   evaluation, hash and client tokens;
//! - [`config`]: environment variables, validated once at start-up;
//! - [`input`]: what an invocation may say (`{"dryRun": true}` at most);
//! - [`run`]: the run, on the shared run skeleton (`shared::run`): the ports it borrows, the
//!   listing, the policy's decisions, plans and cancellations, commits;
//! - [`summary`]: what a run reports (the summary, its metrics, why a match was skipped).

mod config;
mod input;
mod policy;
#[cfg(test)]
mod properties;
mod run;
mod summary;

pub use config::{Config, StartupError};
pub use run::{AutoCancel, RunError, Settings};
pub use summary::Summary;
