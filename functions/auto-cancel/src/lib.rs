//! auto-cancel: cancels our own pending connection invitations that a written policy
//! selects — dry run first, capped, audited.
//!
//! - [`policy`]: the policy document, its validation (errors name the JSON path), its
//!   evaluation, hash and client tokens;
//! - [`config`]: environment variables, validated once at start-up;
//! - [`input`]: what an invocation may say (`{"dryRun": true}` at most);
//! - [`run`]: the Cancel adapter over our PENDING connection invitations, run by the shared
//!   policy-action engine (`shared::policy::engine`);
//! - [`summary`]: what a run reports (the engine's report, what was canceled, its metrics).

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
