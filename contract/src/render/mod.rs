//! One rendering for people of every detail-type: what a chat message or an e-mail says about
//! an event. Pure: [`render`] returns a [`Notification`] (title, facts, next steps, keywords,
//! thread), and the delivery formats are written from it (the notify function's Amazon Q
//! Developer custom notification and e-mail text, through [`Line::markdown`], [`Line::plain`]
//! and [`Line::ascii`]).
//!
//! Every description answers the same questions, in the same order: who sent it, what it is
//! about, its status, the time left, and what happens if nobody acts. Text other companies
//! wrote is kept apart ([`text::Part::Theirs`]) and made harmless for each target.

pub mod text;

use chrono::{DateTime, Utc};

use crate::engagement_response::TaskOutcome;
use crate::event::{
    Approval, ApprovalAction, ApprovalFunction, CauseType, DetailType, InvitationEventDetail, Response,
};
use crate::invitation::{InvitationKind, OtherParty, ParticipantType};
use crate::{Detail, DigestInvitation, ExpiringDigestDetail, HealthCheckDetail};
pub use text::{Line, Part};

/// Caps of partner text in a rendering, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_MESSAGE_CHARS: usize = 300;
/// At most this many invitations of a digest are listed (the rest are counted).
pub const MAX_DIGEST_LINES: usize = 10;

/// Where people act on invitations.
pub const CONSOLE: &str = "Partner Central (https://partnercentral.awspartner.com)";

/// What the rendering needs besides the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The deployed function names of the approval entries (the `--function-name` of the
    /// documented command), e.g. `my-stack-auto-respond`.
    pub auto_respond_function: String,
    pub auto_cancel_function: String,
}

impl Default for Context {
    fn default() -> Self {
        Context { auto_respond_function: "auto-respond".into(), auto_cancel_function: "auto-cancel".into() }
    }
}

impl Context {
    pub fn function_name(&self, function: ApprovalFunction) -> &str {
        match function {
            ApprovalFunction::AutoRespond => &self.auto_respond_function,
            ApprovalFunction::AutoCancel => &self.auto_cancel_function,
        }
    }
}

/// A decision on an approval, as the approval entry takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Dismiss,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Dismiss => "dismiss",
        }
    }
}

/// The invocation payload of a decision: `{"approval": {"approvalId": "…", "decision": "…"}}`.
pub fn decision_payload(approval_id: &str, decision: Decision) -> String {
    serde_json::json!({"approval": {"approvalId": approval_id, "decision": decision.as_str()}}).to_string()
}

/// The one documented command that gives a decision (AWS CLI v2).
pub fn decision_command(function_name: &str, approval_id: &str, decision: Decision) -> String {
    format!(
        "aws lambda invoke --function-name {function_name} --cli-binary-format raw-in-base64-out --payload '{}' decision.json",
        decision_payload(approval_id, decision)
    )
}

/// An approval a notification asks for, when its id fits a chat button's command (printable
/// ASCII without spaces or quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub approval_id: String,
    pub function: ApprovalFunction,
    pub function_name: String,
    pub action: ApprovalAction,
    pub until: DateTime<Utc>,
}

/// What people read about one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub detail_type: DetailType,
    /// The contract's `eventId` (the same fact always has the same one).
    pub event_id: String,
    /// One line.
    pub title: Line,
    /// Labelled facts, in order: who, about what, status, time left, if nobody acts, and the
    /// detail-type's own.
    pub facts: Vec<(&'static str, Line)>,
    pub next_steps: Vec<Line>,
    /// Our own words only.
    pub keywords: Vec<String>,
    /// One thread per invitation (its id); none for the digest and the health check.
    pub thread_id: Option<String>,
    /// The invitation's ARN, when about one invitation.
    pub resource: Option<String>,
    pub approval: Option<ApprovalRequest>,
}

impl Notification {
    /// The description in the chat platforms' Markdown: one `*Label:* value` line per fact.
    pub fn description_markdown(&self) -> String {
        self.facts.iter().map(|(label, line)| format!("*{label}:* {}", line.markdown())).collect::<Vec<_>>().join("\n")
    }

    /// The description in plain text: one `Label: value` line per fact.
    pub fn description_plain(&self) -> String {
        self.facts.iter().map(|(label, line)| format!("{label}: {}", line.plain())).collect::<Vec<_>>().join("\n")
    }
}

/// Why an event could not be rendered.
pub type RenderError = crate::DetailError;

/// The rendering of an event of `detail_type` with this `detail` (as EventBridge delivers it).
pub fn render_event(
    detail_type: &str,
    detail: serde_json::Value,
    context: &Context,
) -> Result<Notification, RenderError> {
    let parsed = Detail::parse(detail_type, detail)?;
    let known = DetailType::parse(detail_type).ok_or_else(|| RenderError::UnknownDetailType(detail_type.into()))?;
    Ok(render(known, &parsed, context))
}

/// The rendering of a parsed detail.
pub fn render(detail_type: DetailType, detail: &Detail, context: &Context) -> Notification {
    match detail {
        Detail::Invitation(d) => invitation(detail_type, d, context),
        Detail::Digest(d) => digest(d),
        Detail::Health(d) => health(d),
    }
}

fn kind_word(kind: InvitationKind) -> &'static str {
    match kind {
        InvitationKind::Connection => "Connection",
        InvitationKind::Engagement => "Engagement",
    }
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `3 d 4 h`, `5 h 12 min`, `40 min`; `none` once past.
pub fn duration_words(d: chrono::Duration) -> String {
    let minutes = d.num_minutes();
    if minutes <= 0 {
        return "none".into();
    }
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// Who is on the other side, as partner text.
fn other_party(party: &OtherParty, kind: InvitationKind, side: ParticipantType) -> Line {
    let line = Line::new();
    match (kind, side) {
        (InvitationKind::Engagement, ParticipantType::Receiver) => {
            match (party.sender_company_name.as_deref(), party.sender_aws_account_id.as_deref()) {
                (Some(name), Some(account)) => {
                    line.theirs(name, MAX_NAME_CHARS).and(" (account ").code(account).and(")")
                }
                (Some(name), None) => line.theirs(name, MAX_NAME_CHARS),
                (None, Some(account)) => line.and("account ").code(account),
                (None, None) => line.and("an unnamed sender"),
            }
        }
        (InvitationKind::Engagement, ParticipantType::Sender) => {
            match (party.receiver_alias.as_deref(), party.receiver_aws_account_id.as_deref()) {
                (Some(alias), Some(account)) => {
                    line.theirs(alias, MAX_NAME_CHARS).and(" (account ").code(account).and(")")
                }
                (Some(alias), None) => line.theirs(alias, MAX_NAME_CHARS),
                (None, Some(account)) => line.and("account ").code(account),
                (None, None) => line.and("an unnamed receiver"),
            }
        }
        (InvitationKind::Connection, _) => match party.participant_identifier.as_deref() {
            Some(id) => line.and("partner ").code(id),
            None => line.and("an unnamed partner"),
        },
    }
}

/// A short name of the other side for a title or subject.
fn other_short(d: &InvitationEventDetail) -> Line {
    let party = &d.invitation.other_party;
    let name = match (d.kind, d.participant_type) {
        (InvitationKind::Engagement, ParticipantType::Receiver) => {
            party.sender_company_name.as_deref().or(party.sender_aws_account_id.as_deref())
        }
        (InvitationKind::Engagement, ParticipantType::Sender) => {
            party.receiver_alias.as_deref().or(party.receiver_aws_account_id.as_deref())
        }
        (InvitationKind::Connection, _) => party.participant_identifier.as_deref(),
    };
    Line::new().theirs(name.unwrap_or("an unnamed partner"), 40)
}

fn about(d: &InvitationEventDetail) -> Line {
    let inv = &d.invitation;
    let mut line = Line::new();
    if let Some(title) = inv.engagement_title.as_deref() {
        line = line.and("“").theirs(title, MAX_TITLE_CHARS).and("”");
    } else {
        line = line.and(format!("a {} invitation", d.kind));
    }
    if let Some(payload) = inv.payload_type.as_deref() {
        line = line.and(" (").theirs(payload, 40).and(")");
    }
    if let Some(ct) = inv.connection_type.as_deref() {
        line = line.and(" (").theirs(ct, 40).and(")");
    }
    line = line.and(", invitation ").code(&d.invitation_id).and(format!(" in the {} catalog", d.catalog));
    if let Some(details) = &inv.details {
        line = line
            .and(". Message from ")
            .theirs(&details.inviter_name, MAX_NAME_CHARS)
            .and(": “")
            .theirs(&details.invitation_message, MAX_MESSAGE_CHARS);
        line = line.and("”");
    }
    line
}

fn time_left(d: &InvitationEventDetail) -> Line {
    if d.status.is_terminal() {
        return Line::ours("none: the invitation is final");
    }
    match d.expires_at {
        Some(expiry) => Line::ours(format!("{} (expires {})", duration_words(expiry - d.observed_at), date(expiry))),
        None => Line::ours("no expiry given"),
    }
}

fn status_line(d: &InvitationEventDetail) -> Line {
    let mut line = Line::ours(d.status.as_str());
    if let Some(previous) = d.previous_status {
        line = line.and(format!(" (was {previous})"));
    }
    if let Some(cause) = &d.cause {
        let by = match (cause.cause_type, d.approval.is_some()) {
            (CauseType::Policy, false) => "by policy rule",
            // Nothing was done: the rule asks.
            (CauseType::Policy, true) => "asked by policy rule",
            // A person approved what the rule asked.
            (CauseType::Approval, _) => "approved by a person, asked by policy rule",
        };
        line = line.and(format!(", {by} ")).code(&cause.rule);
    }
    line
}

fn if_nobody_acts(d: &InvitationEventDetail) -> Line {
    if d.status.is_terminal() {
        return Line::ours("nothing changes: the invitation is final");
    }
    let when = d.expires_at.map(date).unwrap_or_else(|| "at its expiry".into());
    match (d.kind, d.participant_type) {
        (InvitationKind::Engagement, ParticipantType::Receiver) => {
            Line::ours(format!("it expires on {when} and the opportunity is lost to us"))
        }
        (InvitationKind::Connection, ParticipantType::Receiver) => {
            Line::ours(format!("it expires on {when} unanswered; no connection is made"))
        }
        (_, ParticipantType::Sender) => Line::ours(format!("it expires on {when} if the other side does not answer")),
    }
}

fn keywords(d: &InvitationEventDetail, extra: &[&str]) -> Vec<String> {
    let mut k = vec![d.kind.as_str().to_owned(), d.catalog.as_str().to_owned(), d.status.as_str().to_lowercase()];
    k.push(match d.participant_type {
        ParticipantType::Receiver => "received".into(),
        ParticipantType::Sender => "sent".into(),
    });
    k.extend(extra.iter().map(|s| (*s).to_owned()));
    k
}

fn answer_step(d: &InvitationEventDetail) -> Line {
    match d.participant_type {
        ParticipantType::Receiver => {
            Line::ours(format!("Accept or reject the invitation in {CONSOLE} before it expires"))
        }
        ParticipantType::Sender => Line::ours(format!("Follow up with the partner, or cancel it in {CONSOLE}")),
    }
}

fn invitation(detail_type: DetailType, d: &InvitationEventDetail, context: &Context) -> Notification {
    use DetailType::*;
    let kind = kind_word(d.kind);
    let who = other_short(d);
    let received = d.participant_type == ParticipantType::Receiver;
    let mut facts: Vec<(&'static str, Line)> = vec![
        (if received { "From" } else { "To" }, other_party(&d.invitation.other_party, d.kind, d.participant_type)),
        ("About", about(d)),
        ("Status", status_line(d)),
        ("Time left", time_left(d)),
        ("If nobody acts", if_nobody_acts(d)),
    ];
    let mut steps = Vec::new();
    let mut extra: Vec<&str> = Vec::new();
    let mut approval = None;
    let title = match detail_type {
        ConnectionInvitationCreated | EngagementInvitationCreated => {
            steps.push(answer_step(d));
            if received {
                Line::ours(format!("📨 New {} invitation from ", d.kind)).push_line(who)
            } else {
                Line::ours(format!("📤 {kind} invitation sent to ")).push_line(who)
            }
        }
        ConnectionInvitationAccepted | EngagementInvitationAccepted => {
            Line::ours(format!("✅ {kind} invitation accepted: ")).push_line(who)
        }
        ConnectionInvitationRejected | EngagementInvitationRejected => {
            Line::ours(format!("🚫 {kind} invitation rejected: ")).push_line(who)
        }
        ConnectionInvitationCanceled => Line::ours(format!("🗑️ {kind} invitation canceled: ")).push_line(who),
        ConnectionInvitationExpired | EngagementInvitationExpired => {
            if received {
                steps.push(Line::ours(format!(
                    "Ask the sender to invite again if the opportunity still matters ({CONSOLE})"
                )));
                Line::ours(format!("⌛ {kind} invitation expired unanswered: ")).push_line(who)
            } else {
                Line::ours(format!("⌛ {kind} invitation expired: ")).push_line(who)
            }
        }
        ConnectionInvitationExpiringSoon | EngagementInvitationExpiringSoon => {
            steps.push(answer_step(d));
            let hours = d.hours_remaining.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "hours".into());
            if let Some(threshold) = d.threshold_hours {
                facts.push(("Warning", Line::ours(format!("less than {threshold} h left"))));
            }
            Line::ours(format!("⏳ {kind} invitation expires in {hours}: ")).push_line(who)
        }
        ConnectionInvitationCancellationPlanned => {
            steps.push(Line::ours(
                "Nothing was canceled (dry run): switch auto-cancel's policy to act, or change the rule",
            ));
            Line::ours(format!("📝 {kind} invitation would be canceled (dry run): ")).push_line(who)
        }
        EngagementInvitationResponsePlanned | ConnectionInvitationResponsePlanned => {
            let what = match &d.response {
                Some(Response::Accept) => Line::ours("accept"),
                Some(Response::Reject { rejection_reason }) => {
                    Line::ours("reject, reason “").theirs(rejection_reason.as_str(), 80).and("”")
                }
                None => Line::ours("answer"),
            };
            facts.push(("Would", what));
            steps.push(Line::ours(
                "Nothing was answered (dry run): switch auto-respond's policy to act, or answer it yourself",
            ));
            Line::ours(format!("📝 {kind} invitation would be answered (dry run): ")).push_line(who)
        }
        EngagementInvitationAcceptanceStarted => {
            if let Some(task) = &d.task {
                facts.push(("Task", Line::new().code(&task.task_id).and(format!(" {}", task.status))));
            }
            steps.push(Line::ours("Nothing to do yet: auto-respond follows the task; Completed or Failed follows"));
            Line::ours(format!("⚙️ Accepting {} invitation: ", d.kind)).push_line(who)
        }
        EngagementInvitationAcceptanceCompleted => {
            if let Some(TaskOutcome::Completed { opportunity_id: Some(opp) }) = d.task.as_ref().map(|t| t.outcome()) {
                facts.push(("Opportunity", Line::new().code(opp)));
                steps.push(Line::ours(format!("Work the opportunity in {CONSOLE}")));
            }
            Line::ours(format!("✅ {kind} invitation accepted, opportunity created: ")).push_line(who)
        }
        EngagementInvitationAcceptanceFailed => {
            if let Some(TaskOutcome::Failed { reason_code, message }) = d.task.as_ref().map(|t| t.outcome()) {
                let mut line = Line::new();
                if let Some(code) = reason_code {
                    line = line.code(code.as_str());
                }
                if let Some(message) = message {
                    line = line.and(": ").theirs(message, MAX_MESSAGE_CHARS);
                }
                facts.push(("Failure", line));
            }
            extra.push("failed");
            steps.push(Line::ours(format!(
                "Fix what the failure names, then accept the invitation in {CONSOLE} before it expires"
            )));
            Line::ours(format!("❗ Accepting {} invitation failed: ", d.kind)).push_line(who)
        }
        EngagementInvitationApprovalRequested | ConnectionInvitationApprovalRequested => {
            extra.push("approval");
            approval_facts(d, context, &mut facts, &mut steps, &mut approval);
            let action = d.approval.as_ref().map(|a| a.action.as_str()).unwrap_or("act on");
            Line::ours(format!("✋ Approval needed: {action} {} invitation of ", d.kind)).push_line(who)
        }
        InvitationsExpiringDigest | HealthCheck => Line::ours(format!("{kind} invitation: ")).push_line(who),
    };
    Notification {
        detail_type,
        event_id: d.event_id.clone(),
        title,
        facts,
        next_steps: steps,
        keywords: keywords(d, &extra),
        thread_id: Some(d.invitation_id.clone()),
        resource: Some(d.arn.clone()),
        approval,
    }
}

fn approval_facts(
    d: &InvitationEventDetail,
    context: &Context,
    facts: &mut Vec<(&'static str, Line)>,
    steps: &mut Vec<Line>,
    request: &mut Option<ApprovalRequest>,
) {
    let Some(a) = &d.approval else {
        facts.push(("Approval", Line::ours("missing from the event: nothing can be approved")));
        return;
    };
    let Approval { approval_id, action, rule, until, function, .. } = a;
    facts.push(("Would", Line::ours(format!("{} the invitation", action.as_str()))));
    facts.push(("Rule", Line::new().code(rule)));
    facts.push(("Approve until", Line::ours(date(*until))));
    facts[4] = ("If nobody acts", Line::ours(format!("nothing is done; {}", if_nobody_acts(d).plain())));
    let function_name = context.function_name(*function);
    // A chat button's variable and the shell command carry the id: printable ASCII, no
    // spaces, no quotes.
    let fits = Approval::is_valid_id(approval_id) && !approval_id.contains(['\'', '"', '\\', '`']);
    if !fits {
        facts.push(("Approval id", Line::ours("not printable ASCII: approve in the function's logs' terms only")));
        return;
    }
    steps.push(Line::ours("Press Approve or Dismiss, or run (who may invoke the function may decide):"));
    steps.push(Line::new().code_block(decision_command(function_name, approval_id, Decision::Approve)));
    steps.push(Line::ours("To decline, the same with \"decision\": \"dismiss\"; the policy will not ask again"));
    *request = Some(ApprovalRequest {
        approval_id: approval_id.clone(),
        function: *function,
        function_name: function_name.to_owned(),
        action: *action,
        until: *until,
    });
}

fn digest(d: &ExpiringDigestDetail) -> Notification {
    let mut facts: Vec<(&'static str, Line)> = vec![
        ("Catalog", Line::ours(d.catalog.as_str())),
        ("Status", Line::ours(format!("{} pending invitation(s) expire within {} h", d.count, d.threshold_hours))),
        ("If nobody acts", Line::ours("each expires at the time shown")),
    ];
    for (i, inv) in d.invitations.iter().take(MAX_DIGEST_LINES).enumerate() {
        facts.push((DIGEST_LABELS[i], digest_line(inv)));
    }
    let unlisted = d.count.saturating_sub(d.invitations.len().min(MAX_DIGEST_LINES));
    if unlisted > 0 {
        facts.push(("Not listed", Line::ours(format!("{unlisted} more"))));
    }
    Notification {
        detail_type: DetailType::InvitationsExpiringDigest,
        event_id: d.event_id.clone(),
        title: Line::ours(format!("🗓️ {} invitation(s) expiring within {} h", d.count, d.threshold_hours)),
        facts,
        next_steps: vec![Line::ours(format!("Answer them in {CONSOLE}, soonest first"))],
        keywords: vec!["digest".into(), d.catalog.as_str().to_owned(), "expiring".into()],
        thread_id: None,
        resource: None,
        approval: None,
    }
}

const DIGEST_LABELS: [&str; MAX_DIGEST_LINES] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

fn digest_line(inv: &DigestInvitation) -> Line {
    let mut line = Line::ours(format!("{} h left, {} ", inv.hours_remaining, inv.kind));
    line = line.code(&inv.invitation_id);
    if let Some(title) = inv.title.as_deref() {
        line = line.and(" “").theirs(title, 60).and("”");
    }
    let from = match inv.participant_type {
        ParticipantType::Receiver => inv.other_party.sender_company_name.as_deref(),
        ParticipantType::Sender => inv.other_party.receiver_alias.as_deref(),
    }
    .or(inv.other_party.participant_identifier.as_deref());
    if let Some(from) = from {
        line = line.and(if inv.participant_type == ParticipantType::Receiver { " from " } else { " to " });
        line = line.theirs(from, 40);
    }
    line
}

fn health(d: &HealthCheckDetail) -> Notification {
    Notification {
        detail_type: DetailType::HealthCheck,
        event_id: d.event_id.clone(),
        title: Line::ours("🩺 Health check: notifications reach this channel"),
        facts: vec![
            ("Function", Line::new().code(&d.function)),
            ("Catalog", Line::ours(d.catalog.as_str())),
            ("Status", Line::ours(format!("checked at {}", date(d.checked_at)))),
            ("If nobody acts", Line::ours("nothing: this is a test message of make smoke")),
        ],
        next_steps: Vec::new(),
        keywords: vec!["health-check".into()],
        thread_id: None,
        resource: None,
        approval: None,
    }
}

impl Line {
    /// Append another line's parts.
    pub fn push_line(mut self, other: Line) -> Line {
        self.0.extend(other.0);
        self
    }

    /// A command to copy, as code (never partner text: built from our values and an id that
    /// passed [`Approval::is_valid_id`]).
    pub fn code_block(self, command: String) -> Line {
        self.push(Part::Ours(format!("`{}`", command.replace('`', ""))))
    }
}

#[cfg(test)]
mod tests;
