//! What every policy-driven run (auto-cancel, auto-respond) shares around its policy: the
//! invocation it accepts (`{"dryRun": true}` at most, plus the schedule's `scheduledTime`),
//! how the mode is decided (a payload can only force a dry run), and the durable allowances
//! an action is counted against (per scheduled firing and per UTC day).
//!
//! Which scheduled firing an invocation is: the template's schedule passes
//! `{"scheduledTime": "<aws.scheduler.scheduled-time>"}`, the same on every retry of a firing
//! (Scheduler's and Lambda's); a scheduled-rule event carries its event `id`; otherwise the
//! Lambda request id (the same on Lambda's own retries of an async invocation).

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::config::ConfigError;
use crate::domain::Catalog;
use crate::domain::{InvitationEvent, OutboundEvent};
use crate::error::{PartnerCentralError, StoreError};
use crate::invocation::{InputError, RunOptions, Trigger, parse_invocation};
use crate::ports::Allowance;
use crate::ports::{CallCounts, EventPublisher, StateStore};
use crate::run::{ErrorKind, FunctionError, Ports, RunEnd, RunReport, RunSummary, envelope};

use super::{Limits, LoadError};

/// A failed policy run (the summary is still produced, and the outbox drained).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("Partner Central: {0}")]
    PartnerCentral(#[from] PartnerCentralError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot render the event of {invitation}: {message}")]
    Event { invitation: String, message: String },
}

impl FunctionError for RunError {
    fn kind(&self) -> ErrorKind {
        match self {
            RunError::Input(_) => ErrorKind::InvalidInput,
            RunError::PartnerCentral(_) => ErrorKind::PartnerCentral,
            RunError::Store(_) => ErrorKind::StateStore,
            RunError::Event { .. } => ErrorKind::Event,
        }
    }
}

/// The event as it goes into the outbox.
pub fn outbound(event: &InvitationEvent) -> Result<OutboundEvent, RunError> {
    OutboundEvent::from_event(event)
        .map_err(|e| RunError::Event { invitation: event.detail.invitation_id.clone(), message: e.to_string() })
}

/// A start-up configuration error of a policy-driven function; each names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Policy(#[from] LoadError),
}

/// The parsed invocation of a policy-driven run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInvocation {
    /// `dryRun` of the payload, when given.
    pub dry_run: Option<bool>,
    /// The scheduled firing this invocation belongs to, when the payload says.
    pub firing: Option<String>,
}

impl PolicyInvocation {
    /// No override: what the policy says.
    pub fn scheduled() -> Self {
        PolicyInvocation { dry_run: None, firing: None }
    }

    pub fn with_dry_run(dry_run: bool) -> Self {
        PolicyInvocation { dry_run: Some(dry_run), firing: None }
    }

    /// The invocation as part of the scheduled firing `firing`.
    pub fn in_firing(self, firing: impl Into<String>) -> Self {
        PolicyInvocation { firing: Some(firing.into()), ..self }
    }

    /// Name the firing after the Lambda request when the payload did not.
    pub fn or_request(mut self, request_id: &str) -> Self {
        if self.firing.is_none() {
            self.firing = Some(format!("invoke/{request_id}"));
        }
        self
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Options {
    #[serde(default)]
    dry_run: Option<bool>,
    /// EventBridge Scheduler's `<aws.scheduler.scheduled-time>` of the firing.
    #[serde(default)]
    scheduled_time: Option<String>,
}

impl RunOptions for Options {
    const EXAMPLE: &'static str = "{\"dryRun\": true} (and \"scheduledTime\", which the schedule passes)";
}

/// Parse the invocation payload of a policy-driven run (the shapes every function accepts,
/// [`crate::invocation`]).
pub fn parse_policy_invocation(payload: &Value) -> Result<PolicyInvocation, InputError> {
    let invocation = parse_invocation::<Options>(payload)?;
    let event_id = match invocation.trigger {
        Trigger::ScheduledRule { event_id, .. } => event_id,
        Trigger::Payload => None,
    };
    let scheduled_time = match invocation.options.scheduled_time.map(|t| t.trim().to_owned()) {
        Some(t) if t.is_empty() => {
            return Err(InputError {
                problem: "scheduledTime: empty (accepted: the firing's scheduled time)".into(),
                example: Options::EXAMPLE,
            });
        }
        other => other,
    };
    let firing = scheduled_time.map(|t| format!("scheduled/{t}")).or_else(|| event_id.map(|id| format!("event/{id}")));
    Ok(PolicyInvocation { dry_run: invocation.options.dry_run, firing })
}

/// What a policy-driven function's summary lets [`run_policy`] do with it.
pub trait PolicySummary: RunSummary {
    /// Add a note (what decided the mode, ...).
    fn note(&mut self, note: String);
    /// The summary with what the run envelope adds at the end.
    fn ended(self, end: RunEnd, error: Option<String>) -> Self;
}

/// One policy-driven run in the shared envelope: decide the mode (`actions`: what real
/// actions would be, for the note), start the summary (`summary(dry_run)`), do the `work`
/// (with the mode and the firing), drain the outbox and report.
#[allow(clippy::too_many_arguments)]
pub async fn run_policy<Connections, Engagements, Store, Publisher, Clock, Calls, Summary>(
    ports: Ports<'_, Connections, Engagements, Store, Publisher, Clock, Calls>,
    function: &str,
    catalog: Catalog,
    limits: &Limits,
    actions: &str,
    invocation: PolicyInvocation,
    summary: impl FnOnce(bool) -> Summary,
    work: impl AsyncFnOnce(bool, Option<&str>, &mut Summary) -> Result<(), RunError>,
) -> RunReport<Summary, RunError>
where
    Store: StateStore,
    Publisher: EventPublisher,
    Calls: CallCounts,
    Summary: PolicySummary,
{
    let (dry_run, note) = limits.mode(invocation.dry_run, actions);
    let mut found = summary(dry_run);
    found.note(note);
    let work = async {
        let worked = work(dry_run, invocation.firing.as_deref(), &mut found).await;
        (found, worked)
    };
    envelope(ports, function, catalog, work, |found, end, error| found.ended(end, error.map(ToString::to_string))).await
}

/// Allowances are forgotten this long after they were last counted (well after their day).
const ALLOWANCE_KEPT: Duration = Duration::days(3);

impl Limits {
    /// Whether this run is a dry run, and the note that says why: the policy's `dryRun`, or
    /// the payload forcing one; a payload can never turn a dry-run policy into real actions
    /// (`actions`: what those would be, e.g. "cancellations").
    pub fn mode(&self, payload_dry_run: Option<bool>, actions: &str) -> (bool, String) {
        let dry_run = self.dry_run || payload_dry_run == Some(true);
        let note = match (self.dry_run, payload_dry_run) {
            (true, Some(false)) => format!(
                "dry run: the policy says dryRun; a payload cannot turn that into real {actions} (dryRun: false ignored)"
            ),
            (true, _) => "dry run: the policy says dryRun".to_owned(),
            (false, Some(true)) => "dry run: forced by the payload (dryRun: true)".to_owned(),
            (false, _) => "real run: the policy says dryRun: false".to_owned(),
        };
        (dry_run, note)
    }

    /// Whether one more action is allowed after `done` in this run (`max_per_run`).
    pub fn within_run_cap(&self, done: usize) -> bool {
        done < self.max_per_run as usize
    }

    /// The durable allowances one real action of `function` is counted against: the
    /// scheduled firing's (when the invocation names one; `max_per_run`) and the UTC day's
    /// (`max_per_day`).
    pub fn allowances(&self, function: &str, firing: Option<&str>, now: DateTime<Utc>) -> Vec<Allowance> {
        let expires_at = now + ALLOWANCE_KEPT;
        let mut allowances = Vec::with_capacity(2);
        if let Some(firing) = firing {
            allowances.push(Allowance {
                key: format!("{function}/firing/{firing}"),
                limit: self.max_per_run,
                expires_at,
            });
        }
        allowances.push(Allowance {
            key: format!("{function}/day/{}", now.format("%Y-%m-%d")),
            limit: self.max_per_day,
            expires_at,
        });
        allowances
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn scheduler_payloads_and_empty_input_mean_no_override() {
        for payload in [json!({}), Value::Null] {
            assert_eq!(parse_policy_invocation(&payload).map(|i| i.dry_run), Ok(None), "{payload}");
        }
        assert_eq!(parse_policy_invocation(&json!({"dryRun": false})).map(|i| i.dry_run), Ok(Some(false)));
    }

    #[test]
    fn the_scheduler_names_the_firing_with_its_scheduled_time() {
        let parsed = parse_policy_invocation(&json!({"scheduledTime": "2026-11-30T06:00:00Z"}));
        assert_eq!(parsed.map(|i| i.firing), Ok(Some("scheduled/2026-11-30T06:00:00Z".to_owned())));
        let m = parse_policy_invocation(&json!({"scheduledTime": " "})).err().map(|e| e.to_string());
        assert!(m.unwrap_or_default().contains("scheduledTime: empty"));
        let unnamed = PolicyInvocation::scheduled().or_request("req-1");
        assert_eq!(unnamed.firing.as_deref(), Some("invoke/req-1"));
        let named = PolicyInvocation::scheduled().in_firing("scheduled/x").or_request("req-1");
        assert_eq!(named.firing.as_deref(), Some("scheduled/x"));
    }

    #[test]
    fn a_payload_can_only_force_a_dry_run() {
        let limits = |dry_run| Limits { dry_run, max_per_run: 2, max_per_day: 5 };
        assert!(limits(true).mode(Some(false), "answers").0);
        assert!(limits(true).mode(Some(false), "answers").1.contains("real answers (dryRun: false ignored)"));
        assert!(limits(false).mode(Some(true), "answers").0);
        assert!(!limits(false).mode(None, "answers").0);
        assert!(limits(false).within_run_cap(1) && !limits(false).within_run_cap(2));
    }

    #[test]
    fn allowances_count_per_firing_and_per_day() {
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default();
        let limits = Limits { dry_run: false, max_per_run: 2, max_per_day: 5 };
        let keys: Vec<(String, u32)> =
            limits.allowances("f", Some("scheduled/t"), now).into_iter().map(|a| (a.key, a.limit)).collect();
        assert_eq!(keys, [("f/firing/scheduled/t".to_owned(), 2), ("f/day/2026-11-20".to_owned(), 5)]);
        assert_eq!(limits.allowances("f", None, now).len(), 1);
    }
}
