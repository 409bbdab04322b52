//! Answering engagement invitations we received (Partner Central Selling API): the
//! acceptance task and the rejection reason. Part of the event contract (the acceptance events
//! carry the task, Response Planned the reason), so they live in the contract crate,
//! [`invitation_events::engagement_response`].

pub use invitation_events::engagement_response::*;
