//! notify: our invitation events as notifications people read. A rule on our bus sends the
//! chosen detail-types here (`NotifyDetailTypes`); each is rendered once for people
//! (`invitation_events::render`: who, what, status, time left, what happens if nobody acts,
//! next steps; partner text made harmless) and published to one SNS topic as an Amazon Q
//! Developer in chat applications custom notification (Slack, Microsoft Teams), with a plain
//! text body and an ASCII subject for e-mail subscribers (`MessageStructure: json`). Approval
//! requests carry what the Approve and Dismiss buttons need.
//!
//! - `config`: environment variables, validated once at start-up;
//! - `format`: the custom notification, the e-mail subject and body, the SNS message (pure);
//! - `port`: the narrow publisher trait; `sns`: it on the real SNS client, and the health check;
//! - `handler`: one invocation.

pub mod config;
pub mod format;
pub mod handler;
pub mod port;
pub mod sns;

pub use config::Config;
pub use handler::{Notify, NotifyError, Summary};
pub use sns::{NotifyHealth, SnsPublisher};
