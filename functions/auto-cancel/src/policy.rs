//! auto-cancel's cancellation policy: the written document that says which of our pending
//! connection invitations to cancel.
//!
//! The machinery is `shared::policy`: loading (`CANCEL_POLICY` / `CANCEL_POLICY_FILE`, in
//! `config`), errors that name the JSON path, every semantic problem reported at once,
//! evaluation (conditions inside one `match` ANDed, rules ORed, the first rule that matches
//! reported, exclusions always win), the canonical hash. Here: the document's shape,
//! auto-cancel's conditions and exclusions, and their validation.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use shared::domain::Invitation;
use shared::policy::evaluation::{expires_within, older_than, one_of};
use shared::policy::hash::set;
use shared::policy::{self, Canonical, Caps, Condition, Exclusion, PolicyError, Problems, Shape};

/// A validated cancellation policy.
pub type Policy = policy::Policy<Conditions, Exclusions>;
/// One named rule: cancel what matches all its conditions.
#[cfg(test)]
pub(crate) type Rule = policy::Rule<Conditions>;
/// What the policy says about one invitation.
#[cfg(test)]
pub(crate) type Decision<'p> = policy::Decision<'p, Rule, ExclusionReason>;

/// Policy document versions this build understands.
const SUPPORTED_VERSIONS: [i64; 1] = [1];
/// `maxCancellationsPerRun` when the document does not say.
const DEFAULT_MAX_CANCELLATIONS_PER_RUN: u32 = 10;
/// Highest accepted `maxCancellationsPerRun` (and `…PerDay`): Partner Central's limit of
/// open invitations.
const MAX_CANCELLATIONS_LIMIT: u32 = 1000;
/// Highest accepted `olderThanDays` (ten years; anything above is a typo).
const MAX_OLDER_THAN_DAYS: u32 = 3650;
/// Highest accepted `expiresWithinHours` (one year).
const MAX_EXPIRES_WITHIN_HOURS: u32 = 8760;
/// The `ConnectionType` values of the Partner Central Account API.
const CONNECTION_TYPES: [&str; 2] = ["OPPORTUNITY_COLLABORATION", "SUBSIDIARY"];
/// The prefix of auto-cancel's client tokens.
const CLIENT_TOKEN_PREFIX: &str = "ac";

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
    /// Deprecated: `maxActionsPerRun`.
    #[serde(default)]
    max_cancellations_per_run: Option<i64>,
    /// Deprecated: `maxActionsPerDay`.
    #[serde(default)]
    max_cancellations_per_day: Option<i64>,
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
    /// Ask a person to approve the action instead of taking it (`… Approval Requested`).
    #[serde(default)]
    ask: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MatchDocument {
    #[serde(default)]
    connection_types: Option<Vec<String>>,
    #[serde(default)]
    older_than_hours: Option<i64>,
    /// Deprecated: `olderThanHours` (× 24).
    #[serde(default)]
    older_than_days: Option<i64>,
    #[serde(default)]
    expires_within_hours: Option<i64>,
    #[serde(default)]
    other_participant_identifiers: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExcludeDocument {
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

/// The conditions of one rule; every one that is set must hold (AND). At least one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `ConnectionType` is one of these.
    connection_types: Option<BTreeSet<String>>,
    /// Created more than this many hours before now.
    older_than_hours: Option<u32>,
    /// Has an expiry, and it is at most this many hours after now.
    expires_within_hours: Option<u32>,
    /// `OtherParticipantIdentifier` is one of these.
    other_participant_identifiers: Option<BTreeSet<String>>,
}

impl Condition<Invitation> for Conditions {
    fn holds(&self, invitation: &Invitation, now: DateTime<Utc>) -> bool {
        let age = self.older_than_hours.map(|h| Duration::hours(i64::from(h)));
        let hours = self.expires_within_hours.map(|h| Duration::hours(i64::from(h)));
        one_of(self.connection_types.as_ref(), invitation.connection_type.as_ref())
            && one_of(
                self.other_participant_identifiers.as_ref(),
                invitation.other_party.participant_identifier.as_ref(),
            )
            && older_than(age, invitation.created_at, now)
            && expires_within(hours, invitation.expires_at, now)
    }
}

impl Canonical for Conditions {
    fn canonical(&self) -> Value {
        let mut m = serde_json::Map::new();
        if let Some(t) = &self.connection_types {
            m.insert("connectionTypes".into(), set(t));
        }
        // Whole days as they were always written (`olderThanDays`): a policy keeps its hash
        // when renamed to `olderThanHours` (× 24), and hashes of day-based policies never change.
        match self.older_than_hours {
            Some(h) if h % 24 == 0 => {
                m.insert("olderThanDays".into(), json!(h / 24));
            }
            Some(h) => {
                m.insert("olderThanHours".into(), json!(h));
            }
            None => {}
        }
        if let Some(h) = self.expires_within_hours {
            m.insert("expiresWithinHours".into(), json!(h));
        }
        if let Some(o) = &self.other_participant_identifiers {
            m.insert("otherParticipantIdentifiers".into(), set(o));
        }
        Value::Object(m)
    }
}

/// Invitations never canceled, whatever the rules say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    other_participant_identifiers: BTreeSet<String>,
    invitation_ids: BTreeSet<String>,
}

/// Why an exclusion protected an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExclusionReason {
    InvitationId,
    OtherParticipant,
}

impl Exclusion<Invitation> for Exclusions {
    type Reason = ExclusionReason;

    fn protects(&self, invitation: &Invitation) -> Option<ExclusionReason> {
        if self.invitation_ids.contains(&invitation.id) {
            return Some(ExclusionReason::InvitationId);
        }
        let other = invitation.other_party.participant_identifier.as_ref();
        other
            .is_some_and(|o| self.other_participant_identifiers.contains(o))
            .then_some(ExclusionReason::OtherParticipant)
    }
}

impl Canonical for Exclusions {
    fn canonical(&self) -> Value {
        json!({
            "otherParticipantIdentifiers": set(&self.other_participant_identifiers),
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

/// The deterministic `ClientToken` of the cancellation of `invitation_id`: keyed on the
/// invitation alone (not the policy), so a retried or repeated run — under an edited policy
/// too — never cancels twice. `ac-cancel-<32 hex of sha256(id)>`, 42 characters of
/// `[A-Za-z0-9-]` (the API accepts up to 64 of `[A-Za-z0-9-_]`).
pub(crate) fn client_token(invitation_id: &str) -> String {
    policy::hash::action_token(CLIENT_TOKEN_PREFIX, "cancel", invitation_id)
}

/// auto-cancel's caps (the names every policy uses).
const CAPS: Caps = Caps {
    per_run: "maxActionsPerRun",
    per_day: "maxActionsPerDay",
    default_per_run: DEFAULT_MAX_CANCELLATIONS_PER_RUN,
    max: MAX_CANCELLATIONS_LIMIT,
    hint: "to cancel nothing, set dryRun to true",
};

/// A value written under its name or its old one (still accepted, with a warning); both is
/// a problem.
fn renamed(
    path: &str,
    new: (&str, Option<i64>),
    old: (&str, Option<i64>),
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) -> Option<i64> {
    match (new.1, old.1) {
        (Some(_), Some(_)) => {
            problems.add(format!("{path}{}", old.0), format!("give only {} (its new name)", new.0));
            new.1
        }
        (None, Some(v)) => {
            warnings.push(format!("{path}{}: deprecated, write {}", old.0, new.0));
            Some(v)
        }
        (value, None) => value,
    }
}

fn validate(doc: PolicyDocument) -> Result<Policy, PolicyError> {
    let mut problems = Problems::default();
    let mut warnings = Vec::new();
    problems.version(doc.version, &SUPPORTED_VERSIONS);
    let per_run = renamed(
        "",
        ("maxActionsPerRun", doc.max_actions_per_run),
        ("maxCancellationsPerRun", doc.max_cancellations_per_run),
        &mut problems,
        &mut warnings,
    );
    let per_day = renamed(
        "",
        ("maxActionsPerDay", doc.max_actions_per_day),
        ("maxCancellationsPerDay", doc.max_cancellations_per_day),
        &mut problems,
        &mut warnings,
    );
    // Problems name the field as written.
    let caps = Caps {
        per_run: if doc.max_actions_per_run.is_none() && doc.max_cancellations_per_run.is_some() {
            "maxCancellationsPerRun"
        } else {
            CAPS.per_run
        },
        per_day: if doc.max_actions_per_day.is_none() && doc.max_cancellations_per_day.is_some() {
            "maxCancellationsPerDay"
        } else {
            CAPS.per_day
        },
        ..CAPS
    };
    let limits = problems.limits(&caps, doc.dry_run, per_run, per_day);
    let rules = problems.rules(
        doc.rules,
        |rule| &rule.name,
        |rule| rule.ask,
        |i, rule, problems| {
            (validate_conditions(&format!("rules[{i}].match"), rule.conditions, problems, &mut warnings), ())
        },
    );

    let exclude = Exclusions {
        other_participant_identifiers: problems.set(
            "exclude.otherParticipantIdentifiers",
            doc.exclude.other_participant_identifiers,
            None,
            participant_identifier_problem,
        ),
        invitation_ids: problems.set("exclude.invitationIds", doc.exclude.invitation_ids, None, |id| {
            (!is_invitation_id(id))
                .then(|| format!("{id:?} is not a connection invitation id (pacinv-[A-Za-z0-9]{{13}})"))
        }),
    };
    problems.into_result(|| Policy::new(doc.version, limits, rules, exclude).with_warnings(warnings))
}

fn validate_conditions(
    base: &str,
    m: MatchDocument,
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) -> Conditions {
    let connection_types = m.connection_types.map(|types| {
        let empty = "empty list (omit it to match any connection type)";
        problems.set(&format!("{base}.connectionTypes"), types, Some(empty), |t| {
            (!CONNECTION_TYPES.contains(&t))
                .then(|| format!("unknown connection type {t:?} (accepted: {})", CONNECTION_TYPES.join(", ")))
        })
    });
    let older_than_hours = match (m.older_than_hours, m.older_than_days) {
        (Some(_), Some(_)) => {
            problems.add(format!("{base}.olderThanDays"), "give only olderThanHours (its new name, in hours)");
            None
        }
        (Some(h), None) => problems.bounded(&format!("{base}.olderThanHours"), h, 0..=MAX_OLDER_THAN_DAYS * 24, None),
        (None, Some(d)) => {
            warnings.push(format!("{base}.olderThanDays: deprecated, write olderThanHours ({} × 24)", d));
            problems.bounded(&format!("{base}.olderThanDays"), d, 0..=MAX_OLDER_THAN_DAYS, None).map(|d| d * 24)
        }
        (None, None) => None,
    };
    let expires_within_hours = m.expires_within_hours.and_then(|h| {
        let why = "a pending invitation always has time left";
        problems.bounded(&format!("{base}.expiresWithinHours"), h, 1..=MAX_EXPIRES_WITHIN_HOURS, Some(why))
    });
    let other_participant_identifiers = m.other_participant_identifiers.map(|ids| {
        let empty = "empty list (omit it to match any participant)";
        problems.set(&format!("{base}.otherParticipantIdentifiers"), ids, Some(empty), participant_identifier_problem)
    });
    let conditions =
        Conditions { connection_types, older_than_hours, expires_within_hours, other_participant_identifiers };
    // A condition that failed validation is None here but was written: only complain about
    // a missing condition when the document really had none.
    let written = m.older_than_days.is_some() || m.older_than_hours.is_some() || m.expires_within_hours.is_some();
    if conditions == Conditions::default() && !written {
        problems.add(
            base,
            "no condition (a rule matching every pending invitation is almost certainly a mistake; \
             accepted: connectionTypes, olderThanHours, expiresWithinHours, otherParticipantIdentifiers)",
        );
    }
    conditions
}

/// `ParticipantIdentifier` of the Account API: 1-100 characters of `[a-zA-Z0-9-]`.
fn participant_identifier_problem(s: &str) -> Option<String> {
    let valid = (1..=100).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (!valid).then(|| format!("{s:?} is not a participant identifier (1-100 of [a-zA-Z0-9-])"))
}

/// `ConnectionInvitationId`: `pacinv-` and 13 characters of `[A-Za-z0-9]`.
fn is_invitation_id(s: &str) -> bool {
    s.strip_prefix("pacinv-").is_some_and(|rest| rest.len() == 13 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use shared::domain::OtherParty;
    use shared::testing::connection_invitation;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
    }

    /// A SENDER PENDING invitation created `age_days` ago (15-day expiry), to `other`.
    fn inv(id: &str, connection_type: &str, age_days: f64, other: &str) -> Invitation {
        let created_at = now() - Duration::seconds((age_days * 86_400.0) as i64);
        Invitation {
            other_party: OtherParty { participant_identifier: Some(other.to_owned()), ..OtherParty::default() },
            connection_type: Some(connection_type.to_owned()),
            ..connection_invitation(id, created_at)
        }
    }

    const COLLAB: &str = "OPPORTUNITY_COLLABORATION";
    const SUB: &str = "SUBSIDIARY";

    fn policy(json: &str) -> Policy {
        parse(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn one_rule(conditions: &str) -> Policy {
        policy(&format!(r#"{{"version": 1, "rules": [{{"name": "r", "match": {conditions}}}]}}"#))
    }

    fn error(json: &str) -> String {
        match parse(json) {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn rule_of(p: &Policy, i: &Invitation) -> Option<String> {
        match p.evaluate(i, now()) {
            Decision::Matched { rule } => Some(rule.name.clone()),
            _ => None,
        }
    }

    // --- every condition ------------------------------------------------------------

    #[test]
    fn connection_types_match_listed_types_only() {
        let p = one_rule(r#"{"connectionTypes": ["SUBSIDIARY"]}"#);
        assert!(rule_of(&p, &inv("pacinv-A000000000001", SUB, 1.0, "p1")).is_some());
        assert!(rule_of(&p, &inv("pacinv-A000000000002", COLLAB, 1.0, "p1")).is_none());
        let mut untyped = inv("pacinv-A000000000003", SUB, 1.0, "p1");
        untyped.connection_type = None;
        assert!(rule_of(&p, &untyped).is_none());
    }

    #[test]
    fn older_than_days_is_strictly_older() {
        let p = one_rule(r#"{"olderThanDays": 10}"#);
        assert!(rule_of(&p, &inv("pacinv-A000000000001", COLLAB, 10.01, "p1")).is_some());
        assert!(rule_of(&p, &inv("pacinv-A000000000002", COLLAB, 10.0, "p1")).is_none(), "exactly 10 days");
        assert!(rule_of(&p, &inv("pacinv-A000000000003", COLLAB, 9.0, "p1")).is_none());
        let zero = one_rule(r#"{"olderThanDays": 0}"#);
        assert!(rule_of(&zero, &inv("pacinv-A000000000004", COLLAB, 0.001, "p1")).is_some());
    }

    #[test]
    fn expires_within_hours_needs_an_expiry_that_close() {
        let p = one_rule(r#"{"expiresWithinHours": 24}"#);
        // 15-day expiry: 14 days old → 24 h left (inclusive); 13.9 days old → 26.4 h left.
        assert!(rule_of(&p, &inv("pacinv-A000000000001", COLLAB, 14.0, "p1")).is_some());
        assert!(rule_of(&p, &inv("pacinv-A000000000002", COLLAB, 14.5, "p1")).is_some());
        assert!(rule_of(&p, &inv("pacinv-A000000000003", COLLAB, 13.9, "p1")).is_none());
        let mut no_expiry = inv("pacinv-A000000000004", COLLAB, 14.5, "p1");
        no_expiry.expires_at = None;
        assert!(rule_of(&p, &no_expiry).is_none());
    }

    #[test]
    fn other_participant_identifiers_match_exactly() {
        let p = one_rule(r#"{"otherParticipantIdentifiers": ["123456789012", "partner-x"]}"#);
        assert!(rule_of(&p, &inv("pacinv-A000000000001", COLLAB, 1.0, "partner-x")).is_some());
        assert!(rule_of(&p, &inv("pacinv-A000000000002", COLLAB, 1.0, "123456789012")).is_some());
        assert!(rule_of(&p, &inv("pacinv-A000000000003", COLLAB, 1.0, "Partner-X")).is_none());
        let mut anonymous = inv("pacinv-A000000000004", COLLAB, 1.0, "x");
        anonymous.other_party.participant_identifier = None;
        assert!(rule_of(&p, &anonymous).is_none());
    }

    // --- AND / OR / first rule / exclusions -------------------------------------------

    #[test]
    fn conditions_of_one_rule_are_anded() {
        let p = one_rule(r#"{"connectionTypes": ["OPPORTUNITY_COLLABORATION"], "olderThanDays": 10}"#);
        assert!(rule_of(&p, &inv("pacinv-A000000000001", COLLAB, 11.0, "p1")).is_some(), "both hold");
        assert!(rule_of(&p, &inv("pacinv-A000000000002", SUB, 11.0, "p1")).is_none(), "type fails");
        assert!(rule_of(&p, &inv("pacinv-A000000000003", COLLAB, 5.0, "p1")).is_none(), "age fails");
    }

    #[test]
    fn rules_are_ored_and_the_first_matching_rule_is_reported() {
        let p = policy(
            r#"{"version": 1, "rules": [
                {"name": "stale", "match": {"olderThanDays": 10}},
                {"name": "subsidiary", "match": {"connectionTypes": ["SUBSIDIARY"]}},
                {"name": "blocked", "match": {"otherParticipantIdentifiers": ["bad"]}}
            ]}"#,
        );
        assert_eq!(rule_of(&p, &inv("pacinv-A000000000001", COLLAB, 11.0, "p1")).as_deref(), Some("stale"));
        assert_eq!(rule_of(&p, &inv("pacinv-A000000000002", SUB, 1.0, "p1")).as_deref(), Some("subsidiary"));
        assert_eq!(rule_of(&p, &inv("pacinv-A000000000003", COLLAB, 1.0, "bad")).as_deref(), Some("blocked"));
        // Matches all three: the first one in the document wins.
        assert_eq!(rule_of(&p, &inv("pacinv-A000000000004", SUB, 11.0, "bad")).as_deref(), Some("stale"));
        assert_eq!(p.evaluate(&inv("pacinv-A000000000005", COLLAB, 1.0, "p1"), now()), Decision::NoMatch);
    }

    #[test]
    fn exclusions_always_win() {
        let p = policy(
            r#"{"version": 1,
                "rules": [{"name": "all-old", "match": {"olderThanDays": 1}},
                          {"name": "blocked", "match": {"otherParticipantIdentifiers": ["keep-partner"]}}],
                "exclude": {"otherParticipantIdentifiers": ["keep-partner"], "invitationIds": ["pacinv-KeepThisOne01"]}}"#,
        );
        let by_partner = p.evaluate(&inv("pacinv-A000000000001", COLLAB, 5.0, "keep-partner"), now());
        assert!(
            matches!(by_partner, Decision::Excluded { rule, reason: ExclusionReason::OtherParticipant } if rule.name == "all-old"),
            "{by_partner:?}"
        );
        let by_id = p.evaluate(&inv("pacinv-KeepThisOne01", COLLAB, 5.0, "p1"), now());
        assert!(matches!(by_id, Decision::Excluded { reason: ExclusionReason::InvitationId, .. }), "{by_id:?}");
        // An exclusion does not turn a non-match into anything.
        assert_eq!(p.evaluate(&inv("pacinv-KeepThisOne01", COLLAB, 0.5, "p1"), now()), Decision::NoMatch);
        assert_eq!(rule_of(&p, &inv("pacinv-A000000000002", COLLAB, 5.0, "p1")).as_deref(), Some("all-old"));
    }

    #[test]
    fn a_policy_without_rules_cancels_nothing_and_defaults_are_safe() {
        let p = policy(r#"{"version": 1}"#);
        assert!(p.limits.dry_run, "dryRun defaults to true");
        assert_eq!(p.limits.max_per_run, DEFAULT_MAX_CANCELLATIONS_PER_RUN);
        assert_eq!(p.evaluate(&inv("pacinv-A000000000001", COLLAB, 14.9, "p1"), now()), Decision::NoMatch);
        let p = policy(r#"{"version": 1, "dryRun": false, "maxCancellationsPerRun": 3, "rules": []}"#);
        assert!(!p.limits.dry_run);
        assert_eq!(p.limits.max_per_run, 3);
        assert_eq!(p.limits.max_per_day, 3, "the daily budget defaults to the per-run cap");
        let p = policy(r#"{"version": 1, "maxCancellationsPerRun": 3, "maxCancellationsPerDay": 12}"#);
        assert_eq!((p.limits.max_per_run, p.limits.max_per_day), (3, 12));
        let hash = |doc: &str| policy(doc).hash().to_owned();
        assert_eq!(
            hash(r#"{"version": 1, "maxCancellationsPerDay": 12}"#),
            hash(r#"{"version": 1}"#),
            "the budget selects nothing: not part of the hash"
        );
    }

    #[test]
    fn the_example_policy_file_is_valid() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/auto-cancel-policy.example.json");
        let p = policy(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(
            p.rule_names().collect::<Vec<_>>(),
            ["stale-collaboration", "expiring-unanswered", "blocked-partners"]
        );
        assert!(p.limits.dry_run);
    }

    // --- validation errors ------------------------------------------------------------

    #[test]
    fn unknown_fields_are_rejected_with_their_path() {
        let m = error(r#"{"version": 1, "dryrun": false}"#);
        assert!(m.starts_with("dryrun: unknown field `dryrun`, expected one of"), "{m}");
        let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThan": 3}}]}"#);
        assert!(m.starts_with("rules[0].match.olderThan: unknown field `olderThan`"), "{m}");
        let m = error(r#"{"version": 1, "exclude": {"invitations": []}}"#);
        assert!(m.starts_with("exclude.invitations: unknown field"), "{m}");
        let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanDays": 1}, "when": 2}]}"#);
        assert!(m.starts_with("rules[0].when: unknown field"), "{m}");
    }

    #[test]
    fn bad_types_are_rejected_with_their_path() {
        let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanDays": "ten"}}]}"#);
        assert!(m.starts_with("rules[0].match.olderThanDays: invalid type: string \"ten\""), "{m}");
        let m = error(r#"{"version": 1, "dryRun": "false"}"#);
        assert!(m.starts_with("dryRun: invalid type: string"), "{m}");
        let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"connectionTypes": "SUBSIDIARY"}}]}"#);
        assert!(m.starts_with("rules[0].match.connectionTypes: invalid type"), "{m}");
        let m = error(r#"{"version": 1, "rules": {}}"#);
        assert!(m.starts_with("rules: invalid type: map"), "{m}");
        let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanDays": 1.5}}]}"#);
        assert!(m.starts_with("rules[0].match.olderThanDays: invalid type: floating point"), "{m}");
    }

    #[test]
    fn missing_fields_and_broken_json_are_reported() {
        let m = error(r#"{"dryRun": true}"#);
        assert!(m.starts_with("(document): missing field `version`"), "{m}");
        let m = error(r#"{"version": 1, "rules": [{"match": {"olderThanDays": 1}}]}"#);
        assert!(m.starts_with("rules[0]: missing field `name`"), "{m}");
        let m = error(r#"{"version": 1, "rules": [{"name": "a"}]}"#);
        assert!(m.starts_with("rules[0]: missing field `match`"), "{m}");
        let m = error(r#"{"version": 1,"#);
        assert!(m.contains("EOF while parsing") && m.contains("line 1"), "{m}");
        let m = error(r#"{"version": 1} {"#);
        assert!(m.starts_with("(document): trailing characters"), "{m}");
        // serde alone would take a struct written as an array of its values.
        assert_eq!(error(r#"[1, true, 5, [], {}]"#), "(document): expected an object, got an array");
        let m = error(r#"{"version": 1, "rules": [["a", {"olderThanDays": 1}]]}"#);
        assert_eq!(m, "rules[0]: expected an object, got an array");
        let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": [["SUBSIDIARY"]]}]}"#);
        assert_eq!(m, "rules[0].match: expected an object, got an array");
        assert_eq!(error(r#"{"version": 1, "exclude": [[], []]}"#), "exclude: expected an object, got an array");
        assert_eq!(error(r#"{"version": 1, "exclude": null}"#), "exclude: expected an object, got null");
    }

    #[test]
    fn negative_or_out_of_range_numbers_are_rejected() {
        let m = error(
            r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanDays": 1}},
                                                   {"name": "b", "match": {"olderThanDays": -1}}]}"#,
        );
        assert_eq!(m, "rules[1].match.olderThanDays: must be >= 0 (got -1)");
        let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"expiresWithinHours": 0}}]}"#);
        assert!(m.starts_with("rules[0].match.expiresWithinHours: must be >= 1"), "{m}");
        let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanDays": 99999}}]}"#);
        assert!(m.starts_with("rules[0].match.olderThanDays: must be <= 3650"), "{m}");
        let m = error(r#"{"version": 1, "maxCancellationsPerRun": 0}"#);
        assert!(m.starts_with("maxCancellationsPerRun: 0 is out of range (accepted: 1 to 1000"), "{m}");
        let m = error(r#"{"version": 1, "maxCancellationsPerRun": -5}"#);
        assert!(m.starts_with("maxCancellationsPerRun: -5 is out of range"), "{m}");
        let m = error(r#"{"version": 1, "maxCancellationsPerDay": 1001}"#);
        assert!(m.starts_with("maxCancellationsPerDay: 1001 is out of range (accepted: 1 to 1000"), "{m}");
    }

    #[test]
    fn empty_and_duplicate_rule_names_are_rejected() {
        let m = error(
            r#"{"version": 1, "rules": [
                {"name": "stale", "match": {"olderThanDays": 1}},
                {"name": "other", "match": {"olderThanDays": 2}},
                {"name": "  ", "match": {"olderThanDays": 3}},
                {"name": "stale", "match": {"olderThanDays": 4}}
            ]}"#,
        );
        assert_eq!(m, "rules[2].name: empty; rules[3].name: duplicate of rules[0]");
        let long = "x".repeat(65);
        let m =
            error(&format!(r#"{{"version": 1, "rules": [{{"name": "{long}", "match": {{"olderThanDays": 1}}}}]}}"#));
        assert_eq!(m, "rules[0].name: longer than 64 characters");
    }

    #[test]
    fn unsupported_versions_are_rejected() {
        assert_eq!(error(r#"{"version": 2}"#), "version: unsupported 2 (accepted: 1)");
    }

    #[test]
    fn a_rule_without_conditions_is_rejected() {
        let m = error(r#"{"version": 1, "rules": [{"name": "everything", "match": {}}]}"#);
        assert!(m.starts_with("rules[0].match: no condition"), "{m}");
    }

    #[test]
    fn list_values_are_checked_item_by_item() {
        let m = error(
            r#"{"version": 1, "rules": [{"name": "a", "match": {"connectionTypes": ["RESELLER"]}},
                                          {"name": "b", "match": {"connectionTypes": []}},
                                          {"name": "c", "match": {"otherParticipantIdentifiers": ["ok-1", "not ok"]}},
                                          {"name": "d", "match": {"otherParticipantIdentifiers": []}}],
                "exclude": {"invitationIds": ["pacinv-short", "pacinv-A000000000001"],
                            "otherParticipantIdentifiers": ["a/b"]}}"#,
        );
        let problems: Vec<&str> = m.split("; ").collect();
        assert_eq!(problems.len(), 6, "{m}");
        assert!(problems[0].starts_with("rules[0].match.connectionTypes[0]: unknown connection type \"RESELLER\" (accepted: OPPORTUNITY_COLLABORATION, SUBSIDIARY)"), "{m}");
        assert!(problems[1].starts_with("rules[1].match.connectionTypes: empty list"), "{m}");
        assert!(problems[2].starts_with("rules[2].match.otherParticipantIdentifiers[1]: \"not ok\""), "{m}");
        assert!(problems[3].starts_with("rules[3].match.otherParticipantIdentifiers: empty list"), "{m}");
        assert!(problems[4].starts_with("exclude.otherParticipantIdentifiers[0]: \"a/b\""), "{m}");
        assert!(
            problems[5].starts_with("exclude.invitationIds[0]: \"pacinv-short\" is not a connection invitation id"),
            "{m}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = parse(
            r#"{"version": 3, "maxCancellationsPerRun": 0,
                "rules": [{"name": "", "match": {"olderThanDays": -2}}]}"#,
        )
        .err();
        assert!(matches!(&err, Some(PolicyError::Invalid(problems)) if problems.len() == 4), "{err:?}");
    }

    // --- hash and client token --------------------------------------------------------

    #[test]
    fn the_hash_ignores_formatting_key_order_list_order_mode_and_cap() {
        let a = policy(
            r#"{"version": 1, "dryRun": true, "maxCancellationsPerRun": 5,
                "rules": [{"name": "r", "match": {"connectionTypes": ["SUBSIDIARY", "OPPORTUNITY_COLLABORATION"], "olderThanDays": 3}}],
                "exclude": {"invitationIds": ["pacinv-B000000000001", "pacinv-A000000000001"]}}"#,
        );
        let b = policy(
            r#"{"rules":[{"match":{"olderThanDays":3,"connectionTypes":["OPPORTUNITY_COLLABORATION","SUBSIDIARY"]},"name":"r"}],
                "exclude":{"invitationIds":["pacinv-A000000000001","pacinv-B000000000001"]},"dryRun":false,"version":1}"#,
        );
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 16);
        assert!(a.hash().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.canonical_json(), b.canonical_json());
    }

    #[test]
    fn the_hash_changes_with_what_the_policy_selects() {
        let base = r#"{"version": 1, "rules": [{"name": "r", "match": {"olderThanDays": 3}}, {"name": "s", "match": {"expiresWithinHours": 4}}]}"#;
        let variants = [
            r#"{"version": 1, "rules": [{"name": "r", "match": {"olderThanDays": 4}}, {"name": "s", "match": {"expiresWithinHours": 4}}]}"#,
            r#"{"version": 1, "rules": [{"name": "r2", "match": {"olderThanDays": 3}}, {"name": "s", "match": {"expiresWithinHours": 4}}]}"#,
            // Rule order decides which rule is reported.
            r#"{"version": 1, "rules": [{"name": "s", "match": {"expiresWithinHours": 4}}, {"name": "r", "match": {"olderThanDays": 3}}]}"#,
            r#"{"version": 1, "rules": [{"name": "r", "match": {"olderThanDays": 3}}, {"name": "s", "match": {"expiresWithinHours": 4}}], "exclude": {"otherParticipantIdentifiers": ["x"]}}"#,
        ];
        let base_hash = policy(base).hash().to_owned();
        let mut hashes: std::collections::HashSet<String> =
            variants.iter().map(|v| policy(v).hash().to_owned()).collect();
        hashes.insert(base_hash);
        assert_eq!(hashes.len(), 5);
    }

    #[test]
    fn client_tokens_are_deterministic_short_and_in_the_allowed_alphabet() {
        let t = client_token("pacinv-A000000000001");
        assert_eq!(t, client_token("pacinv-A000000000001"), "same invitation → same token, whatever the policy");
        assert_ne!(t, client_token("pacinv-A000000000002"));
        assert!(t.len() <= 64 && !t.is_empty(), "{t}");
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{t}");
        assert!(t.starts_with("ac-cancel-"), "{t}");
    }

    /// Hashes of known policies, and the client tokens: a policy's hash is in every event's
    /// `cause.policyHash`, the `ClientToken` keeps a repeated cancellation idempotent, so no
    /// refactoring may change one. If this test fails, the contract changed. (The tokens are
    /// keyed on the invitation alone since issue 27: `ac-cancel-<32 hex>`; before, they held
    /// the policy hash, which let an edited policy act twice.)
    #[test]
    fn hashes_and_client_tokens_of_known_policies_never_change() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/auto-cancel-policy.example.json");
        let example = policy(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}")));
        // The benchmark's policy (tests/bench): its hash is in bench/results.json.
        let bench = policy(
            r#"{"version": 1, "dryRun": false, "maxCancellationsPerRun": 10, "maxCancellationsPerDay": 1000,
                "rules": [{"name": "blocked-partner", "match": {"otherParticipantIdentifiers": ["123456789012"]}}]}"#,
        );
        let empty = policy(r#"{"version": 1}"#);
        let pinned = [("example", example.hash()), ("bench", bench.hash()), ("empty", empty.hash())];
        assert_eq!(
            pinned,
            [("example", "d3fe395ed492f000"), ("bench", "c01147270b00640a"), ("empty", "17879b3f0113cea4")]
        );
        assert_eq!(client_token("pacinv-A000000000001"), "ac-cancel-3e153cbb3844d6c4bec8f277e6e1cb04");
    }

    #[test]
    fn the_old_names_are_accepted_with_a_warning_and_keep_the_hash() {
        let old = policy(
            r#"{"version": 1, "maxCancellationsPerRun": 5, "maxCancellationsPerDay": 7,
                "rules": [{"name": "r", "match": {"olderThanDays": 3}}]}"#,
        );
        let new = policy(
            r#"{"version": 1, "maxActionsPerRun": 5, "maxActionsPerDay": 7,
                "rules": [{"name": "r", "match": {"olderThanHours": 72}}]}"#,
        );
        assert_eq!(old.hash(), new.hash(), "a policy keeps its hash across the rename");
        assert_eq!(old.limits, new.limits);
        assert_eq!(old.rules, new.rules);
        assert_eq!(
            old.warnings(),
            [
                "maxCancellationsPerRun: deprecated, write maxActionsPerRun",
                "maxCancellationsPerDay: deprecated, write maxActionsPerDay",
                "rules[0].match.olderThanDays: deprecated, write olderThanHours (3 × 24)",
            ]
        );
        assert!(new.warnings().is_empty());
        // Hours that are not whole days: their own canonical form, another hash.
        let hours = policy(r#"{"version": 1, "rules": [{"name": "r", "match": {"olderThanHours": 73}}]}"#);
        assert_ne!(hours.hash(), new.hash());
        assert!(hours.canonical_json().contains("\"olderThanHours\":73"), "{}", hours.canonical_json());
        let inv = |h: i64| inv("pacinv-A000000000001", COLLAB, h as f64 / 24.0, "p1");
        assert!(rule_of(&hours, &inv(74)).is_some() && rule_of(&hours, &inv(73)).is_none(), "strictly older");
        // Both names at once: refused, naming the old one.
        let m = error(r#"{"version": 1, "maxActionsPerRun": 5, "maxCancellationsPerRun": 5}"#);
        assert_eq!(m, "maxCancellationsPerRun: give only maxActionsPerRun (its new name)");
        let m =
            error(r#"{"version": 1, "rules": [{"name": "r", "match": {"olderThanHours": 72, "olderThanDays": 3}}]}"#);
        assert_eq!(m, "rules[0].match.olderThanDays: give only olderThanHours (its new name, in hours)");
    }

    #[test]
    fn invitation_ids_follow_the_api_pattern() {
        assert!(is_invitation_id("pacinv-A000000000001"));
        assert!(!is_invitation_id("pacinv-A00000000001"));
        assert!(!is_invitation_id("pacinv-A0000000000_1"));
        assert!(!is_invitation_id("engi-A000000000001"));
    }
}
