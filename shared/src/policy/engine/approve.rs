//! Approvals: a rule that says `ask` publishes `… Approval Requested` instead of acting, and
//! a person's decision comes back as an invocation of the function with
//! `{"approval": {"approvalId": "…", "decision": "approve"|"dismiss"}}`.
//!
//! Here, without I/O: the approval id (its text, and what it names), the decision payload,
//! the pure decisions on the invitation's record (ask once per invitation, action and
//! policy; one decision per approval id) and the summary the approval entry returns. The
//! engine ([`super::Engine::ask`], [`super::Engine::approve`]) reads, acts and commits.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::SystemTime;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::Catalog;
use crate::domain::{
    Approval, ApprovalAction, ApprovalDecided, ApprovalDecision, ApprovalFunction, ApprovalRecord, Cause, Invitation,
    InvitationKind, InvitationRecord, InvitationStatus,
};
use crate::invocation::InputError;
use crate::metrics::RunMetrics;
use crate::ports::{CallCounts, EventPublisher, StateStore};
use crate::run::{EndReport, Ports, RunReport, RunSummary, envelope};

use super::super::run::{PolicyInvocation, RunError, parse_policy_invocation};

use super::SkipReason;
use super::decide::{EventKind, Outcome, Write, stored_or_new};

/// How long before the invitation's expiry an approval stops being accepted: the action
/// must still have time to happen before Partner Central expires the invitation.
pub const SAFETY_MARGIN: Duration = Duration::hours(1);
/// How long an approval of an invitation without an expiry is accepted.
pub const WITHOUT_EXPIRY: Duration = Duration::days(14);

/// What an approval id names. Its text is
/// `<ar|ac>:<e|c>:<action>:<policyHash>:<nonce>:<invitationId>`: the function, the kind, the
/// action, the policy, 24 unguessable hex characters, and the invitation (last: whatever
/// characters it holds). Printable ASCII without spaces, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalId {
    pub function: ApprovalFunction,
    pub kind: InvitationKind,
    pub action: ApprovalAction,
    pub policy_hash: String,
    pub nonce: String,
    pub invitation_id: String,
}

impl ApprovalId {
    /// A new, unguessable approval id of `action` on `invitation_id` under `policy_hash`.
    pub fn new(
        function: ApprovalFunction,
        kind: InvitationKind,
        action: ApprovalAction,
        policy_hash: &str,
        invitation_id: &str,
    ) -> Self {
        ApprovalId {
            function,
            kind,
            action,
            policy_hash: policy_hash.to_owned(),
            nonce: nonce(invitation_id),
            invitation_id: invitation_id.to_owned(),
        }
    }

    /// What `text` names, or why it is not an approval id this project issues.
    pub fn parse(text: &str) -> Result<ApprovalId, String> {
        if !Approval::is_valid_id(text) {
            return Err(format!(
                "approvalId: not an approval id (1-{} printable ASCII characters without spaces)",
                Approval::MAX_ID_CHARS
            ));
        }
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let malformed = || "approvalId: not an approval id this project issues (forged or damaged)".to_owned();
        let [function, kind, action, hash, nonce, invitation_id] = parts[..] else { return Err(malformed()) };
        let function = match function {
            "ar" => ApprovalFunction::AutoRespond,
            "ac" => ApprovalFunction::AutoCancel,
            _ => return Err(malformed()),
        };
        let kind = match kind {
            "e" => InvitationKind::Engagement,
            "c" => InvitationKind::Connection,
            _ => return Err(malformed()),
        };
        let action = match action {
            "accept" => ApprovalAction::Accept,
            "reject" => ApprovalAction::Reject,
            "cancel" => ApprovalAction::Cancel,
            _ => return Err(malformed()),
        };
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex(hash, 16) || !hex(nonce, 24) || invitation_id.is_empty() {
            return Err(malformed());
        }
        Ok(ApprovalId {
            function,
            kind,
            action,
            policy_hash: hash.to_owned(),
            nonce: nonce.to_owned(),
            invitation_id: invitation_id.to_owned(),
        })
    }
}

impl fmt::Display for ApprovalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let function = match self.function {
            ApprovalFunction::AutoRespond => "ar",
            ApprovalFunction::AutoCancel => "ac",
        };
        let kind = match self.kind {
            InvitationKind::Engagement => "e",
            InvitationKind::Connection => "c",
        };
        write!(
            f,
            "{function}:{kind}:{}:{}:{}:{}",
            self.action.as_str(),
            self.policy_hash,
            self.nonce,
            self.invitation_id
        )
    }
}

/// 24 hex characters no one can predict: SipHash under the process's random keys (std's
/// `RandomState`, seeded from the operating system) of the invitation and the time.
fn nonce(seed: &str) -> String {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let mut out = String::with_capacity(32);
    for part in 0u8..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write(seed.as_bytes());
        h.write_u8(part);
        h.write_u128(nanos);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(24);
    out
}

/// Until when an approval of `invitation`, asked at `now`, can be given: its expiry minus the
/// [`SAFETY_MARGIN`] (or [`WITHOUT_EXPIRY`] after `now` when it has none).
pub fn until(invitation: &Invitation, now: DateTime<Utc>) -> DateTime<Utc> {
    invitation.expires_at.map_or(now + WITHOUT_EXPIRY, |e| e - SAFETY_MARGIN)
}

/// Ask: record `approval` on the invitation's record with its `… Approval Requested` — once
/// per invitation, action and policy, whatever became of the earlier request (a dismissed
/// one is never asked again).
pub fn ask(record: Option<InvitationRecord>, listed: &Invitation, approval: &Approval, now: DateTime<Utc>) -> Outcome {
    if let Some(r) = record.as_ref() {
        if r.status.is_terminal() {
            return Outcome::Skip(SkipReason::AlreadyTerminal(r.status));
        }
        if let Some(asked) = r.approval.as_ref().filter(|a| a.is_for(approval.action, &approval.policy_hash)) {
            return Outcome::Skip(match &asked.decided {
                Some(ApprovalDecided { decision: ApprovalDecision::Dismiss, .. }) => {
                    SkipReason::Dismissed { approval_id: asked.approval_id.clone() }
                }
                _ => SkipReason::AwaitingApproval { approval_id: asked.approval_id.clone(), until: asked.until },
            });
        }
    }
    let mut record = stored_or_new(record, listed, now);
    record.approval = Some(Box::new(ApprovalRecord {
        approval_id: approval.approval_id.clone(),
        action: approval.action,
        rule: approval.rule.clone(),
        policy_hash: approval.policy_hash.clone(),
        until: approval.until,
        requested_at: now,
        decided: None,
    }));
    Outcome::Write(Box::new(Write { record, events: vec![EventKind::Asked] }))
}

/// Why an approval is refused (the summary's `reason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not an approval id at all, or not one this project issues.
    Malformed(String),
    /// For another function.
    OtherFunction(ApprovalFunction),
    /// No such request was recorded for the invitation it names.
    Unknown { invitation_id: String },
    /// A request was recorded for the invitation, but the id names another action or policy.
    Mismatched { invitation_id: String, recorded: ApprovalAction, given: ApprovalAction },
    /// Past `until`.
    Expired { until: DateTime<Utc> },
    /// The policy in force is not the one that asked.
    PolicyChanged { asked: String, now: String },
    /// The invitation is no longer PENDING.
    NotPending(InvitationStatus),
    /// The action's allowance (per UTC day) is used up.
    AllowanceUsedUp { key: String },
    /// Acting was not possible (the action's own reason); the approval was not spent.
    NotDone(SkipReason),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed(m) => f.write_str(m),
            Refusal::OtherFunction(function) => {
                write!(f, "approvalId: an approval for {}: invoke that function with it", function.as_str())
            }
            Refusal::Unknown { invitation_id } => write!(
                f,
                "approvalId: no such approval was requested for invitation {invitation_id} (forged, or replaced by a newer request)"
            ),
            Refusal::Mismatched { invitation_id, recorded, given } => write!(
                f,
                "approvalId: does not match the approval requested for invitation {invitation_id} (it asks to {}, this id says {})",
                recorded.as_str(),
                given.as_str()
            ),
            Refusal::Expired { until } => {
                write!(f, "expired: the approval could be given until {}", until.to_rfc3339())
            }
            Refusal::PolicyChanged { asked, now } => write!(
                f,
                "the policy changed since it asked (policy {asked}, now {now}): the policy in force decides again on its next run"
            ),
            Refusal::NotPending(status) => write!(f, "the invitation is no longer PENDING: {status}"),
            Refusal::AllowanceUsedUp { key } => {
                write!(f, "allowance {key} used up: approve again once it allows another action")
            }
            Refusal::NotDone(reason) => {
                write!(f, "not done: {reason} (the approval was not spent: it can be given again)")
            }
        }
    }
}

/// What became of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ApprovalOutcome {
    /// Approved and done (`status`: what the invitation became).
    Done,
    /// Approved; an acceptance task was started (engagement invitations).
    Started,
    /// A person declined: the policy does not ask again.
    Dismissed,
    /// This approval was decided before (a replay): nothing done again.
    AlreadyDone,
    /// Refused, for `reason`.
    Refused,
}

/// The approval entry's summary (the Lambda response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSummary {
    pub approval_id: String,
    pub decision: ApprovalDecision,
    pub outcome: ApprovalOutcome,
    /// Why it was refused, or what the earlier decision was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<ApprovalAction>,
    /// The invitation's status as last seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<InvitationStatus>,
    /// Started: the acceptance task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Done or started: the cause recorded with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    pub policy_hash: String,
    pub events_queued: usize,
    #[serde(flatten)]
    pub end: EndReport,
}

impl ApprovalSummary {
    pub fn new(input: &ApprovalInput, policy_hash: &str) -> Self {
        ApprovalSummary {
            approval_id: input.approval_id.clone(),
            decision: input.decision,
            outcome: ApprovalOutcome::Refused,
            reason: None,
            invitation_id: None,
            action: None,
            status: None,
            task_id: None,
            cause: None,
            policy_hash: policy_hash.to_owned(),
            events_queued: 0,
            end: EndReport::default(),
        }
    }

    /// Refused for `refusal` (logged: a refused approval is an answer, not a failure).
    pub fn refuse(&mut self, refusal: Refusal) {
        tracing::warn!(approval_id = %self.approval_id, reason = %refusal, "approval refused");
        self.outcome = ApprovalOutcome::Refused;
        self.reason = Some(refusal.to_string());
    }
}

impl RunSummary for ApprovalSummary {
    fn metrics(&self) -> RunMetrics {
        let is = |o: ApprovalOutcome| if self.outcome == o { 1.0 } else { 0.0 };
        let metrics = RunMetrics::new()
            .count("ApprovalsDone", is(ApprovalOutcome::Done) + is(ApprovalOutcome::Started))
            .count("ApprovalsDismissed", is(ApprovalOutcome::Dismissed))
            .count("ApprovalsReplayed", is(ApprovalOutcome::AlreadyDone))
            .count("ApprovalsRefused", is(ApprovalOutcome::Refused));
        self.end.metrics(metrics)
    }
}

/// A person's decision: the payload `{"approval": {"approvalId": "…", "decision": "…"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalInput {
    pub approval_id: String,
    pub decision: ApprovalDecision,
}

const APPROVAL_EXAMPLE: &str = r#"{"approval": {"approvalId": "<from the Approval Requested event>", "decision": "approve"}} ("dismiss" to decline)"#;

/// The decision in `payload`, when it is one (it has `approval`); `None`: a scheduled run.
pub fn parse_approval(payload: &Value) -> Option<Result<ApprovalInput, InputError>> {
    let approval = payload.as_object()?.get("approval")?;
    let problem = |problem: String| InputError { problem, example: APPROVAL_EXAMPLE };
    Some((|| {
        let Some(members) = approval.as_object() else {
            return Err(problem("approval: expected an object".into()));
        };
        if let Some(extra) = payload.as_object().and_then(|p| p.keys().find(|k| *k != "approval")) {
            return Err(problem(format!("{extra}: not accepted with approval")));
        }
        if let Some(extra) = members.keys().find(|k| *k != "approvalId" && *k != "decision") {
            return Err(problem(format!("approval.{extra}: unknown field (accepted: approvalId, decision)")));
        }
        let approval_id = match members.get("approvalId") {
            Some(Value::String(id)) => id.clone(),
            Some(_) => return Err(problem("approval.approvalId: expected a string".into())),
            None => return Err(problem("approval.approvalId: missing".into())),
        };
        let decision = match members.get("decision").and_then(Value::as_str) {
            Some("approve") => ApprovalDecision::Approve,
            Some("dismiss") => ApprovalDecision::Dismiss,
            Some(other) => {
                return Err(problem(format!("approval.decision: {other:?} (accepted: approve, dismiss)")));
            }
            None => return Err(problem("approval.decision: missing (accepted: approve, dismiss)".into())),
        };
        Ok(ApprovalInput { approval_id, decision })
    })())
}

/// What a decision on `id` comes to, from the invitation's record and the policy in force
/// (`policy_hash`), at `now`, in the invocation `request_id`: a refusal, a replay (already
/// decided), or the record to commit with the decision (then act when it approves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    Refused(Refusal),
    /// Decided before: what it was.
    AlreadyDecided(ApprovalDecided),
    /// The decision recorded on the record (commit it; then act when it approves). `resume`:
    /// this invocation decided it before (a retry of it): act again, with the same token.
    Decide {
        record: Box<InvitationRecord>,
        approval: Box<ApprovalRecord>,
        resume: bool,
    },
}

/// Judge a decision on `id` (already parsed and for this function).
pub fn judge(
    record: Option<InvitationRecord>,
    id: &ApprovalId,
    text: &str,
    decision: ApprovalDecision,
    policy_hash: &str,
    request_id: &str,
    now: DateTime<Utc>,
) -> Judged {
    let unknown = || Judged::Refused(Refusal::Unknown { invitation_id: id.invitation_id.clone() });
    let Some(mut record) = record else { return unknown() };
    let Some(asked) = record.approval.as_deref().cloned() else { return unknown() };
    if asked.approval_id != text {
        if ApprovalId::parse(&asked.approval_id).is_ok_and(|a| a.nonce == id.nonce) {
            return Judged::Refused(Refusal::Mismatched {
                invitation_id: id.invitation_id.clone(),
                recorded: asked.action,
                given: id.action,
            });
        }
        return unknown();
    }
    let mut resume = false;
    if let Some(decided) = &asked.decided {
        if decided.decision == ApprovalDecision::Approve
            && decided.request_id == request_id
            && !record.status.is_terminal()
        {
            resume = true;
        } else {
            return Judged::AlreadyDecided(decided.clone());
        }
    }
    if record.status.is_terminal() {
        return Judged::Refused(Refusal::NotPending(record.status));
    }
    if now > asked.until {
        return Judged::Refused(Refusal::Expired { until: asked.until });
    }
    if asked.policy_hash != policy_hash {
        return Judged::Refused(Refusal::PolicyChanged {
            asked: asked.policy_hash.clone(),
            now: policy_hash.to_owned(),
        });
    }
    let mut approval = asked;
    if !resume {
        approval.decided = Some(ApprovalDecided { decision, at: now, request_id: request_id.to_owned() });
    }
    record.approval = Some(Box::new(approval.clone()));
    Judged::Decide { record: Box::new(record), approval: Box::new(approval), resume }
}

/// What a policy-driven function answers: a run's summary, or a decision's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer<Summary> {
    Run(Summary),
    /// Boxed: the run's summary is the usual answer.
    Approval(Box<ApprovalSummary>),
}

/// What a policy-driven function (auto-cancel, auto-respond) is asked: a person's decision,
/// or a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `{"approval": {…}}`: the approval entry.
    Approval(ApprovalInput),
    /// Anything else a run accepts: the scheduled event, `{}`, `{"dryRun": …}`; its firing
    /// named by the Lambda request when the payload does not name one.
    Run(PolicyInvocation),
}

/// The request in `payload`, or what is wrong with it (logged, and answered as the
/// invocation's error). `request_id`: the Lambda request id, the same on Lambda's own retries.
pub fn parse_request(payload: &Value, request_id: &str) -> Result<Request, RunError> {
    let parsed = match parse_approval(payload) {
        Some(approval) => approval.map(Request::Approval),
        None => parse_policy_invocation(payload).map(|run| Request::Run(run.or_request(request_id))),
    };
    parsed.inspect_err(|e| tracing::error!(error = %e, "rejected")).map_err(RunError::Input)
}

impl<Summary> Answer<Summary> {
    /// The answer to an invocation, from the report of what it did: its summary, or its
    /// error once everything committed was drained.
    pub fn of_run(report: RunReport<Summary, RunError>) -> Result<Self, RunError> {
        report.into_result().map(Answer::Run)
    }

    pub fn of_approval(report: RunReport<ApprovalSummary, RunError>) -> Result<Self, RunError> {
        report.into_result().map(|s| Answer::Approval(Box::new(s)))
    }
}

/// The approval entry of `function` in the shared envelope: the decision's id is read (one
/// that is malformed or for another function is refused with the reason), `approve` judges
/// and acts on it (the summary says what became of it), then the outbox is drained and the
/// summary reported.
pub async fn run_approval<Connections, Engagements, Store, Publisher, Clock, Calls>(
    ports: Ports<'_, Connections, Engagements, Store, Publisher, Clock, Calls>,
    function: ApprovalFunction,
    catalog: Catalog,
    policy_hash: &str,
    input: ApprovalInput,
    approve: impl AsyncFnOnce(&ApprovalId, &ApprovalInput, &mut ApprovalSummary) -> Result<(), RunError>,
) -> RunReport<ApprovalSummary, RunError>
where
    Store: StateStore,
    Publisher: EventPublisher,
    Calls: CallCounts,
{
    let mut summary = ApprovalSummary::new(&input, policy_hash);
    let work = async {
        let worked = match ApprovalId::parse(&input.approval_id) {
            Err(problem) => {
                summary.refuse(Refusal::Malformed(problem));
                Ok(())
            }
            Ok(id) => {
                summary.invitation_id = Some(id.invitation_id.clone());
                summary.action = Some(id.action);
                if id.function == function {
                    approve(&id, &input, &mut summary).await
                } else {
                    summary.refuse(Refusal::OtherFunction(id.function));
                    Ok(())
                }
            }
        };
        (summary, worked)
    };
    envelope(ports, function.as_str(), catalog, work, |found, end, error| ApprovalSummary {
        end: EndReport::new(end, error.map(ToString::to_string)),
        ..found
    })
    .await
}

/// Take back the approval `approval_id` decided by `request_id` on `record` when its action
/// did not happen (a throttled or failed call): a person can give it again. `None`: nothing
/// to take back (another decision, another request, or the invitation ended).
pub fn release(mut record: InvitationRecord, approval_id: &str, request_id: &str) -> Option<InvitationRecord> {
    if record.status.is_terminal() {
        return None;
    }
    let approval = record.approval.as_mut().filter(|a| a.approval_id == approval_id)?;
    let ours = |d: &ApprovalDecided| d.decision == ApprovalDecision::Approve && d.request_id == request_id;
    if !approval.decided.as_ref().is_some_and(ours) {
        return None;
    }
    approval.decided = None;
    Some(record)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::testing::engagement_invitation;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
    }

    fn id() -> ApprovalId {
        ApprovalId::new(
            ApprovalFunction::AutoRespond,
            InvitationKind::Engagement,
            ApprovalAction::Accept,
            "0123456789abcdef",
            "engi-0000000000001",
        )
    }

    #[test]
    fn approval_ids_are_unguessable_well_formed_and_name_what_they_approve() {
        let a = id();
        let b = id();
        assert_ne!(a.nonce, b.nonce, "one-time: two requests never share an id");
        let text = a.to_string();
        assert!(Approval::is_valid_id(&text), "{text}");
        assert!(text.starts_with("ar:e:accept:0123456789abcdef:") && text.ends_with(":engi-0000000000001"), "{text}");
        assert_eq!(ApprovalId::parse(&text), Ok(a));
        for bad in ["", "has space", "xx:e:accept:0123456789abcdef:0123456789abcdef01234567:i", "ar:e:accept:short:n:i"]
        {
            assert!(ApprovalId::parse(bad).is_err(), "{bad}");
        }
        let too_long = format!("ar:e:accept:0123456789abcdef:0123456789abcdef01234567:{}", "x".repeat(200));
        assert!(ApprovalId::parse(&too_long).is_err_and(|e| e.contains("printable ASCII")));
    }

    #[test]
    fn the_decision_payload_is_parsed_with_errors_that_name_the_field() {
        let ok = parse_approval(&json!({"approval": {"approvalId": "x", "decision": "dismiss"}}));
        assert_eq!(ok, Some(Ok(ApprovalInput { approval_id: "x".into(), decision: ApprovalDecision::Dismiss })));
        assert_eq!(parse_approval(&json!({"dryRun": true})), None, "not a decision: a run");
        let m = |v: Value| parse_approval(&v).and_then(Result::err).map(|e| e.to_string()).unwrap_or_default();
        assert!(m(json!({"approval": {"approvalId": "x", "decision": "yes"}})).contains("approval.decision: \"yes\""));
        assert!(m(json!({"approval": {"decision": "approve"}})).contains("approval.approvalId: missing"));
        assert!(m(json!({"approval": {"approvalId": "x", "decision": "approve"}, "dryRun": true})).contains("dryRun"));
    }

    fn asked(record: &mut InvitationRecord, text: &str, until: DateTime<Utc>) {
        record.approval = Some(Box::new(ApprovalRecord {
            approval_id: text.to_owned(),
            action: ApprovalAction::Accept,
            rule: "r".into(),
            policy_hash: "0123456789abcdef".into(),
            until,
            requested_at: now(),
            decided: None,
        }));
    }

    #[test]
    fn each_rule_of_the_entry_refuses_with_its_reason() {
        let invitation = engagement_invitation("engi-0000000000001", now());
        let genuine = id();
        let text = genuine.to_string();
        let mut record = InvitationRecord::first_sighting(&invitation, true, now());
        asked(&mut record, &text, now() + Duration::hours(5));
        let judge = |record: Option<InvitationRecord>, text: &str, hash: &str, at: DateTime<Utc>| {
            let id = ApprovalId::parse(text).unwrap_or_else(|e| panic!("{e}"));
            judge(record, &id, text, ApprovalDecision::Approve, hash, "req-1", at)
        };
        assert!(matches!(
            judge(Some(record.clone()), &text, "0123456789abcdef", now()),
            Judged::Decide { resume: false, .. }
        ));
        let forged = ApprovalId { nonce: "ffffffffffffffffffffffff".into(), ..genuine.clone() }.to_string();
        assert!(matches!(
            judge(Some(record.clone()), &forged, "0123456789abcdef", now()),
            Judged::Refused(Refusal::Unknown { .. })
        ));
        assert!(matches!(judge(None, &text, "0123456789abcdef", now()), Judged::Refused(Refusal::Unknown { .. })));
        let mismatched = ApprovalId { action: ApprovalAction::Reject, ..genuine.clone() }.to_string();
        assert!(matches!(
            judge(Some(record.clone()), &mismatched, "0123456789abcdef", now()),
            Judged::Refused(Refusal::Mismatched {
                recorded: ApprovalAction::Accept,
                given: ApprovalAction::Reject,
                ..
            })
        ));
        assert!(matches!(
            judge(Some(record.clone()), &text, "0123456789abcdef", now() + Duration::hours(6)),
            Judged::Refused(Refusal::Expired { .. })
        ));
        assert!(matches!(
            judge(Some(record.clone()), &text, "fedcba9876543210", now()),
            Judged::Refused(Refusal::PolicyChanged { .. })
        ));
        let done = InvitationRecord { status: InvitationStatus::Accepted, ..record.clone() };
        assert!(matches!(
            judge(Some(done), &text, "0123456789abcdef", now()),
            Judged::Refused(Refusal::NotPending(InvitationStatus::Accepted))
        ));
        // Decided once: a replay is "already done"; the same invocation's retry resumes.
        let Judged::Decide { record: decided, .. } = judge(Some(record.clone()), &text, "0123456789abcdef", now())
        else {
            panic!("genuine")
        };
        assert!(matches!(
            judge(Some((*decided).clone()), &text, "0123456789abcdef", now()),
            Judged::Decide { resume: true, .. }
        ));
        let id = ApprovalId::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let replay =
            super::judge(Some(*decided), &id, &text, ApprovalDecision::Approve, "0123456789abcdef", "req-2", now());
        assert!(matches!(replay, Judged::AlreadyDecided(ApprovalDecided { decision: ApprovalDecision::Approve, .. })));
    }

    #[test]
    fn only_this_requests_undone_approval_of_a_pending_invitation_is_released() {
        let invitation = engagement_invitation("engi-0000000000001", now());
        let text = id().to_string();
        let mut record = InvitationRecord::first_sighting(&invitation, true, now());
        asked(&mut record, &text, now() + Duration::hours(5));
        let decided = |mut r: InvitationRecord, decision: ApprovalDecision, request: &str| {
            if let Some(a) = r.approval.as_mut() {
                a.decided = Some(ApprovalDecided { decision, at: now(), request_id: request.into() });
            }
            r
        };
        let approved = decided(record.clone(), ApprovalDecision::Approve, "req-1");
        let released = release(approved.clone(), &text, "req-1").and_then(|r| r.approval);
        assert_eq!(released.map(|a| a.decided), Some(None), "approvable again");
        assert_eq!(release(approved.clone(), &text, "req-2"), None, "another request's decision stays");
        assert_eq!(release(approved.clone(), "ar:other", "req-1"), None, "another approval");
        assert_eq!(release(decided(record.clone(), ApprovalDecision::Dismiss, "req-1"), &text, "req-1"), None);
        let ended = InvitationRecord { status: InvitationStatus::Accepted, ..approved };
        assert_eq!(release(ended, &text, "req-1"), None, "the invitation ended: nothing to give again");
        assert_eq!(release(record, &text, "req-1"), None, "not decided");
    }

    #[test]
    fn a_rule_asks_once_per_invitation_action_and_policy_and_never_again_once_dismissed() {
        let invitation = engagement_invitation("engi-0000000000001", now());
        let approval = Approval {
            approval_id: id().to_string(),
            action: ApprovalAction::Accept,
            rule: "r".into(),
            policy_hash: "0123456789abcdef".into(),
            until: now() + Duration::hours(5),
            function: ApprovalFunction::AutoRespond,
        };
        let Outcome::Write(w) = ask(None, &invitation, &approval, now()) else { panic!("first ask writes") };
        assert_eq!(w.events, [EventKind::Asked]);
        let mut record = w.record;
        assert!(matches!(
            ask(Some(record.clone()), &invitation, &approval, now()),
            Outcome::Skip(SkipReason::AwaitingApproval { .. })
        ));
        if let Some(a) = record.approval.as_mut() {
            a.decided =
                Some(ApprovalDecided { decision: ApprovalDecision::Dismiss, at: now(), request_id: "r".into() });
        }
        assert!(matches!(
            ask(Some(record.clone()), &invitation, &approval, now()),
            Outcome::Skip(SkipReason::Dismissed { .. })
        ));
        let edited = Approval { policy_hash: "fedcba9876543210".into(), ..approval };
        assert!(matches!(ask(Some(record), &invitation, &edited, now()), Outcome::Write(_)), "a new policy asks again");
    }
}
