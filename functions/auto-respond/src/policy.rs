//! auto-respond's response policy: the written document that says which invitations we
//! received — engagement invitations (referrals, leads) and connection invitations — to
//! accept, and which to reject with what reason. Each rule names its `kind`.
//!
//! The machinery is `shared::policy` (loading, errors naming the JSON path, every problem at
//! once, evaluation — conditions ANDed, rules ORed, first matching rule reported, exclusions
//! always win — and the canonical hash). Here: the document's shape, auto-respond's
//! conditions, exclusions and per-rule action, and their validation.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use shared::domain::engagement_response::RejectionReason;
use shared::domain::{Invitation, InvitationKind, Response};
use shared::policy::evaluation::{expires_within, older_than, one_of};
use shared::policy::hash::set;
use shared::policy::{self, Canonical, Caps, Condition, Exclusion, PolicyError, Problems, Shape};

/// A validated response policy.
pub type Policy = policy::Policy<Conditions, Exclusions, Response>;
/// One named rule: answer what matches all its conditions with its action.
#[cfg(test)]
pub(crate) type Rule = policy::Rule<Conditions, Response>;
/// What the policy says about one invitation.
#[cfg(test)]
pub(crate) type Decision<'p> = policy::Decision<'p, Rule, ExclusionReason>;

/// Policy document versions this build understands.
const SUPPORTED_VERSIONS: [i64; 1] = [1];
/// `maxActionsPerRun` when the document does not say.
const DEFAULT_MAX_ACTIONS_PER_RUN: u32 = 10;
/// Highest accepted `maxActionsPerRun` (and `…PerDay`).
const MAX_ACTIONS_LIMIT: u32 = 1000;
/// Highest accepted `olderThanHours` / `expiresWithinHours` (one year; anything above is a typo).
const MAX_HOURS: u32 = 8760;
/// The `ConnectionType` values of the Partner Central Account API.
pub(crate) const CONNECTION_TYPES: [&str; 2] = ["OPPORTUNITY_COLLABORATION", "SUBSIDIARY"];
/// The `PayloadType` values of engagement invitations.
pub(crate) const PAYLOAD_TYPES: [&str; 2] = ["OpportunityInvitation", "LeadInvitation"];
/// The prefix of auto-respond's client tokens.
const CLIENT_TOKEN_PREFIX: &str = "ar";
/// The actions a rule may have.
const ACTIONS: &str = "accept, reject";

// ---------------------------------------------------------------------------------------
// The document as written

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicyDocument {
    version: i64,
    #[serde(default = "policy::default_dry_run")]
    dry_run: bool,
    #[serde(default)]
    max_actions_per_run: Option<i64>,
    #[serde(default)]
    max_actions_per_day: Option<i64>,
    #[serde(default)]
    rules: Vec<RuleDocument>,
    #[serde(default)]
    exclude: ExcludeDocument,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleDocument {
    name: String,
    /// `engagement` (the default) or `connection`.
    #[serde(default)]
    kind: Option<String>,
    #[serde(rename = "match")]
    conditions: MatchDocument,
    action: String,
    #[serde(default)]
    rejection_reason: Option<String>,
    /// Ask a person to approve the action instead of taking it (`… Approval Requested`).
    #[serde(default)]
    ask: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MatchDocument {
    #[serde(default)]
    payload_types: Option<Vec<String>>,
    #[serde(default)]
    sender_aws_account_ids: Option<Vec<String>>,
    #[serde(default)]
    sender_company_names: Option<Vec<String>>,
    #[serde(default)]
    title_contains: Option<String>,
    #[serde(default)]
    connection_types: Option<Vec<String>>,
    #[serde(default)]
    other_participant_identifiers: Option<Vec<String>>,
    #[serde(default)]
    expires_within_hours: Option<i64>,
    #[serde(default)]
    older_than_hours: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExcludeDocument {
    #[serde(default)]
    sender_aws_account_ids: Vec<String>,
    #[serde(default)]
    other_participant_identifiers: Vec<String>,
    #[serde(default)]
    invitation_ids: Vec<String>,
}

/// Where the document must have objects.
const SHAPE: Shape = Shape::Object(&[
    ("rules", Shape::Each(&Shape::Object(&[("match", Shape::Object(&[]))]))),
    ("exclude", Shape::Object(&[])),
]);

// ---------------------------------------------------------------------------------------
// Conditions and exclusions

/// The conditions of one rule: its kind, and every condition that is set must hold (AND).
/// At least one is set; only the kind's own conditions can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    /// The kind of invitation the rule answers.
    kind: InvitationKind,
    /// `PayloadType` is one of these (engagement).
    payload_types: Option<BTreeSet<String>>,
    /// `SenderAwsAccountId` is one of these (engagement).
    sender_aws_account_ids: Option<BTreeSet<String>>,
    /// `SenderCompanyName` is one of these (ignoring case; engagement).
    sender_company_names: Option<BTreeSet<String>>,
    /// The engagement title contains this text (ignoring case; engagement).
    title_contains: Option<String>,
    /// `ConnectionType` is one of these (connection).
    connection_types: Option<BTreeSet<String>>,
    /// `OtherParticipantIdentifier` — who invited us — is one of these (connection).
    other_participant_identifiers: Option<BTreeSet<String>>,
    /// Has an expiry, and it is at most this many hours after now.
    expires_within_hours: Option<u32>,
    /// Invited more than this many hours before now.
    older_than_hours: Option<u32>,
}

impl Default for Conditions {
    fn default() -> Self {
        Conditions {
            kind: InvitationKind::Engagement,
            payload_types: None,
            sender_aws_account_ids: None,
            sender_company_names: None,
            title_contains: None,
            connection_types: None,
            other_participant_identifiers: None,
            expires_within_hours: None,
            older_than_hours: None,
        }
    }
}

impl Conditions {
    /// The kind of invitation the rule answers.
    pub(crate) fn kind(&self) -> InvitationKind {
        self.kind
    }

    /// Whether the rule names who sent the invitation by something the sender cannot choose
    /// (an account id, an other-participant id).
    fn names_the_sender(&self) -> bool {
        self.sender_aws_account_ids.is_some() || self.other_participant_identifiers.is_some()
    }
}

impl Condition<Invitation> for Conditions {
    fn holds(&self, invitation: &Invitation, now: DateTime<Utc>) -> bool {
        let hours = |h: Option<u32>| h.map(|h| Duration::hours(i64::from(h)));
        let sender = &invitation.other_party;
        let company = sender.sender_company_name.as_deref().map(str::to_lowercase);
        let title = invitation.engagement_title.as_deref().map(str::to_lowercase);
        invitation.kind == self.kind
            && one_of(self.payload_types.as_ref(), invitation.payload_type.as_ref())
            && one_of(self.sender_aws_account_ids.as_ref(), sender.sender_aws_account_id.as_ref())
            && one_of(self.sender_company_names.as_ref(), company.as_ref())
            && self.title_contains.as_deref().is_none_or(|t| title.is_some_and(|title| title.contains(t)))
            && one_of(self.connection_types.as_ref(), invitation.connection_type.as_ref())
            && one_of(self.other_participant_identifiers.as_ref(), sender.participant_identifier.as_ref())
            && older_than(hours(self.older_than_hours), invitation.created_at, now)
            && expires_within(hours(self.expires_within_hours), invitation.expires_at, now)
    }
}

impl Canonical for Conditions {
    /// Engagement rules as they always were (their hashes do not change); a connection rule
    /// adds `"kind": "connection"`.
    fn canonical(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                m.insert(key.into(), v);
            }
        };
        put("kind", (self.kind == InvitationKind::Connection).then(|| json!("connection")));
        put("payloadTypes", self.payload_types.as_ref().map(set));
        put("senderAwsAccountIds", self.sender_aws_account_ids.as_ref().map(set));
        put("senderCompanyNames", self.sender_company_names.as_ref().map(set));
        put("titleContains", self.title_contains.as_ref().map(|t| json!(t)));
        put("connectionTypes", self.connection_types.as_ref().map(set));
        put("otherParticipantIdentifiers", self.other_participant_identifiers.as_ref().map(set));
        put("expiresWithinHours", self.expires_within_hours.map(|h| json!(h)));
        put("olderThanHours", self.older_than_hours.map(|h| json!(h)));
        Value::Object(m)
    }
}

/// Invitations never answered, whatever the rules say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    sender_aws_account_ids: BTreeSet<String>,
    other_participant_identifiers: BTreeSet<String>,
    invitation_ids: BTreeSet<String>,
}

/// Why an exclusion protected an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExclusionReason {
    InvitationId,
    SenderAwsAccountId,
    OtherParticipant,
}

impl Exclusion<Invitation> for Exclusions {
    type Reason = ExclusionReason;

    fn protects(&self, invitation: &Invitation) -> Option<ExclusionReason> {
        if self.invitation_ids.contains(&invitation.id) {
            return Some(ExclusionReason::InvitationId);
        }
        let sender = &invitation.other_party;
        if sender.sender_aws_account_id.as_ref().is_some_and(|s| self.sender_aws_account_ids.contains(s)) {
            return Some(ExclusionReason::SenderAwsAccountId);
        }
        let other = sender.participant_identifier.as_ref();
        other
            .is_some_and(|o| self.other_participant_identifiers.contains(o))
            .then_some(ExclusionReason::OtherParticipant)
    }
}

impl Canonical for Exclusions {
    fn canonical(&self) -> Value {
        let mut exclude = json!({
            "senderAwsAccountIds": set(&self.sender_aws_account_ids),
            "invitationIds": set(&self.invitation_ids),
        });
        // Only when used: the policies written before connection rules keep their hashes.
        if !self.other_participant_identifiers.is_empty() {
            exclude["otherParticipantIdentifiers"] = set(&self.other_participant_identifiers);
        }
        exclude
    }
}

// ---------------------------------------------------------------------------------------
// Parsing and validation

/// Parse and validate a policy document (JSON text).
pub(crate) fn parse(text: &str) -> Result<Policy, PolicyError> {
    validate(policy::parse(text, &SHAPE)?)
}

/// The deterministic `ClientToken` of answering `invitation_id` so: keyed on the invitation
/// and the answer, not on the policy, so a run killed after answering and an edited policy
/// can never answer it twice (the same answer returns the same result; another finds it no
/// longer PENDING). `ar-accept-<32 hex>` / `ar-reject-<32 hex>`.
pub(crate) fn client_token(response: &Response, invitation_id: &str) -> String {
    let action = match response {
        Response::Accept => "accept",
        Response::Reject { .. } => "reject",
    };
    policy::hash::action_token(CLIENT_TOKEN_PREFIX, action, invitation_id)
}

/// auto-respond's caps.
const CAPS: Caps = Caps {
    per_run: "maxActionsPerRun",
    per_day: "maxActionsPerDay",
    default_per_run: DEFAULT_MAX_ACTIONS_PER_RUN,
    max: MAX_ACTIONS_LIMIT,
    hint: "to answer nothing, set dryRun to true",
};

fn validate(doc: PolicyDocument) -> Result<Policy, PolicyError> {
    let mut problems = Problems::default();
    problems.version(doc.version, &SUPPORTED_VERSIONS);
    let limits = problems.limits(&CAPS, doc.dry_run, doc.max_actions_per_run, doc.max_actions_per_day);
    let rules = problems.rules(
        doc.rules,
        |rule| &rule.name,
        |rule| rule.ask,
        |i, rule, problems| {
            let kind = validate_kind(i, rule.kind.as_deref(), problems);
            let conditions = validate_conditions(&format!("rules[{i}].match"), kind, rule.conditions, problems);
            let accept = rule.action == "accept";
            let action = validate_action(i, &rule.action, rule.rejection_reason, problems);
            if accept && !conditions.names_the_sender() {
                let who = match kind {
                    InvitationKind::Engagement => "senderAwsAccountIds",
                    InvitationKind::Connection => "otherParticipantIdentifiers",
                };
                problems.add(
                    format!("rules[{i}]"),
                    format!(
                        "an accept rule must name who sent the invitation with match.{who} (titles, company names \
                         and messages are written by the sender: anyone could have them accepted)"
                    ),
                );
            }
            (conditions, action)
        },
    );

    let exclude = Exclusions {
        sender_aws_account_ids: problems.set(
            "exclude.senderAwsAccountIds",
            doc.exclude.sender_aws_account_ids,
            None,
            sender_account_problem,
        ),
        other_participant_identifiers: problems.set(
            "exclude.otherParticipantIdentifiers",
            doc.exclude.other_participant_identifiers,
            None,
            participant_identifier_problem,
        ),
        invitation_ids: problems.set("exclude.invitationIds", doc.exclude.invitation_ids, None, |id| {
            (!is_invitation_id(id) && !is_connection_invitation_id(id)).then(|| {
                format!(
                    "{id:?} is not an engagement invitation id (engi-[0-9a-z]{{13}}) nor a connection invitation id \
                     (pacinv-[A-Za-z0-9]{{13}})"
                )
            })
        }),
    };
    problems.into_result(|| Policy::new(doc.version, limits, rules, exclude))
}

fn validate_kind(i: usize, kind: Option<&str>, problems: &mut Problems) -> InvitationKind {
    match kind {
        None | Some("engagement") => InvitationKind::Engagement,
        Some("connection") => InvitationKind::Connection,
        Some(other) => {
            problems
                .add(format!("rules[{i}].kind"), format!("unknown kind {other:?} (accepted: engagement, connection)"));
            InvitationKind::Engagement
        }
    }
}

fn validate_action(i: usize, action: &str, reason: Option<String>, problems: &mut Problems) -> Response {
    match (action, reason) {
        ("accept", None) => Response::Accept,
        ("accept", Some(_)) => {
            problems.add(format!("rules[{i}].rejectionReason"), "only a reject rule has a rejection reason");
            Response::Accept
        }
        ("reject", Some(text)) => match RejectionReason::new(text) {
            Ok(rejection_reason) => Response::Reject { rejection_reason },
            Err(e) => {
                problems.add(format!("rules[{i}].rejectionReason"), e.to_string());
                Response::Accept
            }
        },
        ("reject", None) => {
            problems.add(
                format!("rules[{i}]"),
                format!(
                    "missing field `rejectionReason` (a reject rule says why, 1 to 80 characters, e.g. {})",
                    RejectionReason::DOCUMENTED.map(|r| format!("{r:?}")).join(", ")
                ),
            );
            Response::Accept
        }
        (other, _) => {
            problems.add(format!("rules[{i}].action"), format!("unknown action {other:?} (accepted: {ACTIONS})"));
            Response::Accept
        }
    }
}

fn validate_conditions(base: &str, kind: InvitationKind, m: MatchDocument, problems: &mut Problems) -> Conditions {
    // Conditions of the other kind: named, refused.
    let foreign: &[(&str, bool)] = match kind {
        InvitationKind::Engagement => &[
            ("connectionTypes", m.connection_types.is_some()),
            ("otherParticipantIdentifiers", m.other_participant_identifiers.is_some()),
        ],
        InvitationKind::Connection => &[
            ("payloadTypes", m.payload_types.is_some()),
            ("senderAwsAccountIds", m.sender_aws_account_ids.is_some()),
            ("senderCompanyNames", m.sender_company_names.is_some()),
            ("titleContains", m.title_contains.is_some()),
        ],
    };
    for (name, _) in foreign.iter().filter(|(_, written)| *written) {
        problems.add(format!("{base}.{name}"), format!("not a condition of {kind} invitations (the rule's kind)"));
    }
    let payload_types = m.payload_types.map(|types| {
        let empty = "empty list (omit it to match any payload type)";
        problems.set(&format!("{base}.payloadTypes"), types, Some(empty), |t| {
            (!PAYLOAD_TYPES.contains(&t))
                .then(|| format!("unknown payload type {t:?} (accepted: {})", PAYLOAD_TYPES.join(", ")))
        })
    });
    let sender_aws_account_ids = m.sender_aws_account_ids.map(|ids| {
        let empty = "empty list (omit it to match any sender)";
        problems.set(&format!("{base}.senderAwsAccountIds"), ids, Some(empty), sender_account_problem)
    });
    let sender_company_names = m.sender_company_names.map(|names| {
        let empty = "empty list (omit it to match any sender)";
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_lowercase()).collect();
        problems.set(&format!("{base}.senderCompanyNames"), names, Some(empty), |n| {
            n.is_empty().then(|| "empty company name".to_owned())
        })
    });
    let title_contains = m.title_contains.clone().and_then(|t| {
        let t = t.trim().to_lowercase();
        if t.is_empty() {
            problems.add(format!("{base}.titleContains"), "empty text (omit it to match any title)");
            return None;
        }
        Some(t)
    });
    let connection_types = m.connection_types.map(|types| {
        let empty = "empty list (omit it to match any connection type)";
        problems.set(&format!("{base}.connectionTypes"), types, Some(empty), |t| {
            (!CONNECTION_TYPES.contains(&t))
                .then(|| format!("unknown connection type {t:?} (accepted: {})", CONNECTION_TYPES.join(", ")))
        })
    });
    let other_participant_identifiers = m.other_participant_identifiers.map(|ids| {
        let empty = "empty list (omit it to match any participant)";
        problems.set(&format!("{base}.otherParticipantIdentifiers"), ids, Some(empty), participant_identifier_problem)
    });
    let expires_within_hours = m.expires_within_hours.and_then(|h| {
        let why = "a pending invitation always has time left";
        problems.bounded(&format!("{base}.expiresWithinHours"), h, 1..=MAX_HOURS, Some(why))
    });
    let older_than_hours =
        m.older_than_hours.and_then(|h| problems.bounded(&format!("{base}.olderThanHours"), h, 0..=MAX_HOURS, None));
    let conditions = Conditions {
        kind,
        payload_types,
        sender_aws_account_ids,
        sender_company_names,
        title_contains,
        connection_types,
        other_participant_identifiers,
        expires_within_hours,
        older_than_hours,
    };
    // A condition that failed validation is None here but was written: only complain about
    // a missing condition when the document really had none.
    let written = m.expires_within_hours.is_some() || m.older_than_hours.is_some() || m.title_contains.is_some();
    if conditions == (Conditions { kind, ..Conditions::default() }) && !written {
        let accepted = match kind {
            InvitationKind::Engagement => {
                "payloadTypes, senderAwsAccountIds, senderCompanyNames, titleContains, expiresWithinHours, olderThanHours"
            }
            InvitationKind::Connection => {
                "connectionTypes, otherParticipantIdentifiers, expiresWithinHours, olderThanHours"
            }
        };
        problems.add(
            base,
            format!(
                "no condition (a rule matching every pending invitation is almost certainly a mistake; accepted: \
                 {accepted})"
            ),
        );
    }
    conditions
}

/// `SenderAwsAccountId` (the API's `AwsAccount`): a 12-digit account id or an alias of 1-12
/// word characters.
fn sender_account_problem(s: &str) -> Option<String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let valid = (s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()))
        || ((1..=12).contains(&s.len()) && s.chars().all(word));
    (!valid).then(|| format!("{s:?} is not an AWS account id or alias (12 digits, or 1-12 of [A-Za-z0-9_])"))
}

/// `ParticipantIdentifier` of the Account API: 1-100 characters of `[a-zA-Z0-9-]`.
fn participant_identifier_problem(s: &str) -> Option<String> {
    let valid = (1..=100).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (!valid).then(|| format!("{s:?} is not a participant identifier (1-100 of [a-zA-Z0-9-])"))
}

/// An engagement invitation id: `engi-` and 13 characters of `[0-9a-z]`.
fn is_invitation_id(s: &str) -> bool {
    s.strip_prefix("engi-")
        .is_some_and(|rest| rest.len() == 13 && rest.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()))
}

/// A connection invitation id: `pacinv-` and 13 characters of `[A-Za-z0-9]`.
fn is_connection_invitation_id(s: &str) -> bool {
    s.strip_prefix("pacinv-").is_some_and(|rest| rest.len() == 13 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests;
