//! auto-respond's response policy: the written document that says which engagement
//! invitations we received to accept, and which to reject with what reason.
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
use shared::domain::{Invitation, Response};
use shared::policy::evaluation::{expires_within, older_than, one_of};
use shared::policy::hash::set;
use shared::policy::{self, Canonical, Caps, Condition, Exclusion, PolicyError, Problems, Shape};

/// A validated response policy.
pub type Policy = policy::Policy<Conditions, Exclusions, Response>;
/// One named rule: answer what matches all its conditions with its action.
pub(crate) type Rule = policy::Rule<Conditions, Response>;
/// What the policy says about one invitation.
pub(crate) type Decision<'p> = policy::Decision<'p, Rule, ExclusionReason>;

/// Policy document versions this build understands.
const SUPPORTED_VERSIONS: [i64; 1] = [1];
/// `maxActionsPerRun` when the document does not say.
const DEFAULT_MAX_ACTIONS_PER_RUN: u32 = 10;
/// Highest accepted `maxActionsPerRun` (and `…PerDay`).
const MAX_ACTIONS_LIMIT: u32 = 1000;
/// Highest accepted `olderThanHours` / `expiresWithinHours` (one year; anything above is a typo).
const MAX_HOURS: u32 = 8760;
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
    #[serde(rename = "match")]
    conditions: MatchDocument,
    action: String,
    #[serde(default)]
    rejection_reason: Option<String>,
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
    invitation_ids: Vec<String>,
}

/// Where the document must have objects.
const SHAPE: Shape = Shape::Object(&[
    ("rules", Shape::Each(&Shape::Object(&[("match", Shape::Object(&[]))]))),
    ("exclude", Shape::Object(&[])),
]);

// ---------------------------------------------------------------------------------------
// Conditions and exclusions

/// The conditions of one rule; every one that is set must hold (AND). At least one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `PayloadType` is one of these.
    payload_types: Option<BTreeSet<String>>,
    /// `SenderAwsAccountId` is one of these.
    sender_aws_account_ids: Option<BTreeSet<String>>,
    /// `SenderCompanyName` is one of these (ignoring case).
    sender_company_names: Option<BTreeSet<String>>,
    /// The engagement title contains this text (ignoring case).
    title_contains: Option<String>,
    /// Has an expiry, and it is at most this many hours after now.
    expires_within_hours: Option<u32>,
    /// Invited more than this many hours before now.
    older_than_hours: Option<u32>,
}

impl Condition<Invitation> for Conditions {
    fn holds(&self, invitation: &Invitation, now: DateTime<Utc>) -> bool {
        let hours = |h: Option<u32>| h.map(|h| Duration::hours(i64::from(h)));
        let sender = &invitation.other_party;
        let company = sender.sender_company_name.as_deref().map(str::to_lowercase);
        let title = invitation.engagement_title.as_deref().map(str::to_lowercase);
        one_of(self.payload_types.as_ref(), invitation.payload_type.as_ref())
            && one_of(self.sender_aws_account_ids.as_ref(), sender.sender_aws_account_id.as_ref())
            && one_of(self.sender_company_names.as_ref(), company.as_ref())
            && self.title_contains.as_deref().is_none_or(|t| title.is_some_and(|title| title.contains(t)))
            && older_than(hours(self.older_than_hours), invitation.created_at, now)
            && expires_within(hours(self.expires_within_hours), invitation.expires_at, now)
    }
}

impl Canonical for Conditions {
    fn canonical(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                m.insert(key.into(), v);
            }
        };
        put("payloadTypes", self.payload_types.as_ref().map(set));
        put("senderAwsAccountIds", self.sender_aws_account_ids.as_ref().map(set));
        put("senderCompanyNames", self.sender_company_names.as_ref().map(set));
        put("titleContains", self.title_contains.as_ref().map(|t| json!(t)));
        put("expiresWithinHours", self.expires_within_hours.map(|h| json!(h)));
        put("olderThanHours", self.older_than_hours.map(|h| json!(h)));
        Value::Object(m)
    }
}

/// Invitations never answered, whatever the rules say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    sender_aws_account_ids: BTreeSet<String>,
    invitation_ids: BTreeSet<String>,
}

/// Why an exclusion protected an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExclusionReason {
    InvitationId,
    SenderAwsAccountId,
}

impl Exclusion<Invitation> for Exclusions {
    type Reason = ExclusionReason;

    fn protects(&self, invitation: &Invitation) -> Option<ExclusionReason> {
        if self.invitation_ids.contains(&invitation.id) {
            return Some(ExclusionReason::InvitationId);
        }
        let sender = invitation.other_party.sender_aws_account_id.as_ref();
        sender.is_some_and(|s| self.sender_aws_account_ids.contains(s)).then_some(ExclusionReason::SenderAwsAccountId)
    }
}

impl Canonical for Exclusions {
    fn canonical(&self) -> Value {
        json!({
            "senderAwsAccountIds": set(&self.sender_aws_account_ids),
            "invitationIds": set(&self.invitation_ids),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Parsing and validation

/// Parse and validate a policy document (JSON text).
pub(crate) fn parse(text: &str) -> Result<Policy, PolicyError> {
    validate(policy::parse(text, &SHAPE)?)
}

/// The deterministic `ClientToken` of accepting `invitation_id` under `policy`: the same
/// invitation and policy always give the same token, so a retried or repeated run never
/// starts a second acceptance task. `ar-<policyHash>-<20 hex>`, 40 characters.
pub(crate) fn client_token(policy: &Policy, invitation_id: &str) -> String {
    policy.client_token(CLIENT_TOKEN_PREFIX, invitation_id)
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
        |i, rule, problems| {
            let conditions = validate_conditions(&format!("rules[{i}].match"), rule.conditions, problems);
            (conditions, validate_action(i, &rule.action, rule.rejection_reason, problems))
        },
    );

    let exclude = Exclusions {
        sender_aws_account_ids: problems.set(
            "exclude.senderAwsAccountIds",
            doc.exclude.sender_aws_account_ids,
            None,
            sender_account_problem,
        ),
        invitation_ids: problems.set("exclude.invitationIds", doc.exclude.invitation_ids, None, |id| {
            (!is_invitation_id(id)).then(|| format!("{id:?} is not an engagement invitation id (engi-[0-9a-z]{{13}})"))
        }),
    };
    problems.into_result(|| Policy::new(doc.version, limits, rules, exclude))
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

fn validate_conditions(base: &str, m: MatchDocument, problems: &mut Problems) -> Conditions {
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
    let expires_within_hours = m.expires_within_hours.and_then(|h| {
        let why = "a pending invitation always has time left";
        problems.bounded(&format!("{base}.expiresWithinHours"), h, 1..=MAX_HOURS, Some(why))
    });
    let older_than_hours =
        m.older_than_hours.and_then(|h| problems.bounded(&format!("{base}.olderThanHours"), h, 0..=MAX_HOURS, None));
    let conditions = Conditions {
        payload_types,
        sender_aws_account_ids,
        sender_company_names,
        title_contains,
        expires_within_hours,
        older_than_hours,
    };
    // A condition that failed validation is None here but was written: only complain about
    // a missing condition when the document really had none.
    let written = m.expires_within_hours.is_some() || m.older_than_hours.is_some() || m.title_contains.is_some();
    if conditions == Conditions::default() && !written {
        problems.add(
            base,
            "no condition (a rule matching every pending invitation is almost certainly a mistake; accepted: \
             payloadTypes, senderAwsAccountIds, senderCompanyNames, titleContains, expiresWithinHours, olderThanHours)",
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

/// An engagement invitation id: `engi-` and 13 characters of `[0-9a-z]`.
fn is_invitation_id(s: &str) -> bool {
    s.strip_prefix("engi-")
        .is_some_and(|rest| rest.len() == 13 && rest.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests;
