use super::*;
use chrono::TimeZone;
use shared::domain::OtherParty;
use shared::testing::engagement_invitation;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

/// A PENDING engagement invitation we received `age_hours` ago (15-day expiry).
fn inv(id: &str, payload: &str, age_hours: i64, sender: &str, company: &str, title: &str) -> Invitation {
    Invitation {
        payload_type: Some(payload.to_owned()),
        engagement_title: Some(title.to_owned()),
        other_party: OtherParty {
            sender_aws_account_id: Some(sender.to_owned()),
            sender_company_name: Some(company.to_owned()),
            ..OtherParty::default()
        },
        ..engagement_invitation(id, now() - Duration::hours(age_hours))
    }
}

fn referral(id: &str, age_hours: i64) -> Invitation {
    inv(id, "OpportunityInvitation", age_hours, "123456789012", "AWS", "Data lake migration")
}

fn policy(json: &str) -> Policy {
    parse(json).unwrap_or_else(|e| panic!("{e}"))
}

/// One rule with these conditions (a reject rule: an accept rule must name the sender).
fn one_rule(conditions: &str) -> Policy {
    policy(&format!(
        r#"{{"version": 1, "rules": [{{"name": "r", "match": {conditions}, "action": "reject", "rejectionReason": "Other"}}]}}"#
    ))
}

fn error(json: &str) -> String {
    match parse(json) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn matches(p: &Policy, i: &Invitation) -> bool {
    matches!(p.evaluate(i, now()), Decision::Matched { .. })
}

// --- every condition ------------------------------------------------------------

#[test]
fn payload_types_match_listed_types_only() {
    let p = one_rule(r#"{"payloadTypes": ["LeadInvitation"]}"#);
    assert!(matches(&p, &inv("engi-0000000000001", "LeadInvitation", 1, "123456789012", "AWS", "t")));
    assert!(!matches(&p, &referral("engi-0000000000002", 1)));
    let untyped = Invitation { payload_type: None, ..referral("engi-0000000000003", 1) };
    assert!(!matches(&p, &untyped));
}

#[test]
fn sender_accounts_and_company_names_match_exactly_names_ignoring_case() {
    let p = one_rule(r#"{"senderAwsAccountIds": ["123456789012"]}"#);
    assert!(matches(&p, &referral("engi-0000000000001", 1)));
    assert!(!matches(&p, &inv("engi-0000000000002", "OpportunityInvitation", 1, "999999999999", "AWS", "t")));
    let p = one_rule(r#"{"senderCompanyNames": ["Amazon Web Services", " aws "]}"#);
    assert!(matches(&p, &referral("engi-0000000000001", 1)));
    assert!(matches(&p, &inv("engi-0000000000002", "LeadInvitation", 1, "x", "AMAZON WEB SERVICES", "t")));
    assert!(!matches(&p, &inv("engi-0000000000003", "LeadInvitation", 1, "x", "Someone Else", "t")));
}

#[test]
fn title_contains_ignores_case_and_needs_a_title() {
    let p = one_rule(r#"{"titleContains": "LAKE"}"#);
    assert!(matches(&p, &referral("engi-0000000000001", 1)));
    assert!(!matches(&p, &inv("engi-0000000000002", "LeadInvitation", 1, "x", "y", "Web shop")));
    let untitled = Invitation { engagement_title: None, ..referral("engi-0000000000003", 1) };
    assert!(!matches(&p, &untitled));
}

#[test]
fn age_and_expiry_are_measured_in_hours() {
    let p = one_rule(r#"{"olderThanHours": 48}"#);
    assert!(matches(&p, &referral("engi-0000000000001", 49)));
    assert!(!matches(&p, &referral("engi-0000000000002", 48)), "exactly 48 hours is not older");
    let p = one_rule(r#"{"expiresWithinHours": 24}"#);
    // 15-day expiry: 14 days old → 24 h left (inclusive).
    assert!(matches(&p, &referral("engi-0000000000003", 14 * 24)));
    assert!(!matches(&p, &referral("engi-0000000000004", 14 * 24 - 1)));
    let no_expiry = Invitation { expires_at: None, ..referral("engi-0000000000005", 14 * 24) };
    assert!(!matches(&p, &no_expiry));
}

#[test]
fn conditions_are_anded_rules_ored_the_first_rule_reported_and_exclusions_win() {
    let p = policy(
        r#"{"version": 1, "rules": [
            {"name": "aws-referrals", "match": {"payloadTypes": ["OpportunityInvitation"], "senderAwsAccountIds": ["123456789012", "111122223333"], "senderCompanyNames": ["AWS"]}, "action": "accept"},
            {"name": "leads", "match": {"payloadTypes": ["LeadInvitation"]}, "action": "reject", "rejectionReason": "Unable to support"},
            {"name": "any-old", "match": {"olderThanHours": 1}, "action": "reject", "rejectionReason": "Other"}
        ], "exclude": {"senderAwsAccountIds": ["111122223333"], "invitationIds": ["engi-keepthisone01"]}}"#,
    );
    let rule = |i: &Invitation| match p.evaluate(i, now()) {
        Decision::Matched { rule } => Some((rule.name.clone(), rule.action.clone())),
        _ => None,
    };
    assert_eq!(rule(&referral("engi-0000000000001", 5)), Some(("aws-referrals".into(), Response::Accept)));
    let lead = inv("engi-0000000000002", "LeadInvitation", 5, "123456789012", "AWS", "t");
    let unable = RejectionReason::new("Unable to support").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rule(&lead), Some(("leads".into(), Response::Reject { rejection_reason: unable })));
    // Not from AWS (the first rule's second condition fails): the third rule.
    let other = inv("engi-0000000000003", "OpportunityInvitation", 5, "123456789012", "Acme", "t");
    assert_eq!(rule(&other).map(|r| r.0), Some("any-old".into()));
    assert_eq!(rule(&inv("engi-0000000000004", "OpportunityInvitation", 0, "1", "Acme", "t")), None);
    let by_sender = inv("engi-0000000000005", "OpportunityInvitation", 5, "111122223333", "AWS", "t");
    assert!(matches!(
        p.evaluate(&by_sender, now()),
        Decision::Excluded { reason: ExclusionReason::SenderAwsAccountId, rule } if rule.name == "aws-referrals"
    ));
    let by_id = referral("engi-keepthisone01", 5);
    assert!(matches!(p.evaluate(&by_id, now()), Decision::Excluded { reason: ExclusionReason::InvitationId, .. }));
}

#[test]
fn a_policy_without_rules_answers_nothing_and_defaults_are_safe() {
    let p = policy(r#"{"version": 1}"#);
    assert!(p.limits.dry_run, "dryRun defaults to true");
    assert_eq!(
        (p.limits.max_per_run, p.limits.max_per_day),
        (DEFAULT_MAX_ACTIONS_PER_RUN, DEFAULT_MAX_ACTIONS_PER_RUN)
    );
    assert_eq!(p.evaluate(&referral("engi-0000000000001", 100), now()), Decision::NoMatch);
    let p = policy(r#"{"version": 1, "dryRun": false, "maxActionsPerRun": 3, "maxActionsPerDay": 12}"#);
    assert!(!p.limits.dry_run);
    assert_eq!((p.limits.max_per_run, p.limits.max_per_day), (3, 12));
}

#[test]
fn the_example_policy_file_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/auto-respond-policy.example.json");
    let p = policy(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}")));
    assert!(p.limits.dry_run);
    assert!(p.rules.len() >= 2);
}

// --- validation errors ------------------------------------------------------------

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    let m = error(r#"{"version": 1, "maxCancellationsPerRun": 3}"#);
    assert!(m.starts_with("maxCancellationsPerRun: unknown field `maxCancellationsPerRun`, expected one of"), "{m}");
    let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanDays": 3}, "action": "accept"}]}"#);
    assert!(m.starts_with("rules[0].match.olderThanDays: unknown field `olderThanDays`"), "{m}");
    let m = error(
        r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanHours": 3}, "action": "accept", "reason": "x"}]}"#,
    );
    assert!(m.starts_with("rules[0].reason: unknown field `reason`"), "{m}");
    let m = error(r#"{"version": 1, "exclude": {"connectionTypes": []}}"#);
    assert!(m.starts_with("exclude.connectionTypes: unknown field"), "{m}");
}

#[test]
fn bad_types_and_missing_fields_are_rejected_with_their_path() {
    let m =
        error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanHours": "ten"}, "action": "accept"}]}"#);
    assert!(m.starts_with("rules[0].match.olderThanHours: invalid type: string \"ten\""), "{m}");
    let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"titleContains": ["x"]}, "action": "accept"}]}"#);
    assert!(m.starts_with("rules[0].match.titleContains: invalid type"), "{m}");
    let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanHours": 1}}]}"#);
    assert!(m.starts_with("rules[0]: missing field `action`"), "{m}");
    let m = error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanHours": 1}, "action": 1}]}"#);
    assert!(m.starts_with("rules[0].action: invalid type: integer"), "{m}");
    assert_eq!(
        error(r#"{"version": 1, "rules": [{"name": "a", "match": []}]}"#),
        "rules[0].match: expected an object, got an array"
    );
    let m = error(r#"{"dryRun": true}"#);
    assert!(m.starts_with("(document): missing field `version`"), "{m}");
}

#[test]
fn actions_and_rejection_reasons_are_checked() {
    let rule = |action: &str| {
        error(&format!(r#"{{"version": 1, "rules": [{{"name": "a", "match": {{"olderThanHours": 1}}, {action}}}]}}"#))
    };
    assert_eq!(rule(r#""action": "ignore""#), "rules[0].action: unknown action \"ignore\" (accepted: accept, reject)");
    let m = rule(r#""action": "reject""#);
    assert!(m.starts_with("rules[0]: missing field `rejectionReason`") && m.contains("\"Unable to support\""), "{m}");
    let m = rule(r#""action": "accept", "rejectionReason": "Other""#);
    assert!(m.starts_with("rules[0].rejectionReason: only a reject rule has a rejection reason"), "{m}");
    let m = rule(r#""action": "reject", "rejectionReason": """#);
    assert!(m.starts_with("rules[0].rejectionReason: a rejection reason must not be empty"), "{m}");
    let long = "x".repeat(81);
    let m = rule(&format!(r#""action": "reject", "rejectionReason": "{long}""#));
    assert!(
        m.starts_with("rules[0].rejectionReason: a rejection reason has at most 80 characters, this one has 81"),
        "{m}"
    );
    let m = rule(r#""action": "reject", "rejectionReason": "No\tthanks""#);
    assert!(m.starts_with("rules[0].rejectionReason: a rejection reason may not contain '\\t'"), "{m}");
}

#[test]
fn values_are_checked_item_by_item() {
    let problems = parse(
        r#"{"version": 1, "rules": [
            {"name": "a", "rejectionReason": "Other", "match": {"payloadTypes": ["Referral"]}, "action": "reject"},
            {"name": "b", "rejectionReason": "Other", "match": {"payloadTypes": []}, "action": "reject"},
            {"name": "c", "match": {"senderAwsAccountIds": ["123456789012", "not an account"]}, "action": "accept"},
            {"name": "d", "rejectionReason": "Other", "match": {"senderCompanyNames": [" "]}, "action": "reject"},
            {"name": "e", "rejectionReason": "Other", "match": {"titleContains": "  "}, "action": "reject"},
            {"name": "f", "rejectionReason": "Other", "match": {"expiresWithinHours": 0}, "action": "reject"},
            {"name": "g", "rejectionReason": "Other", "match": {"olderThanHours": 99999}, "action": "reject"},
            {"name": "h", "rejectionReason": "Other", "match": {}, "action": "reject"}
        ], "exclude": {"invitationIds": ["pacinv-short"], "senderAwsAccountIds": ["a/b"]},
        "maxActionsPerRun": 0, "maxActionsPerDay": 1001, "version": 1}"#,
    );
    let problems: Vec<String> = match problems {
        Err(PolicyError::Invalid(problems)) => problems.iter().map(ToString::to_string).collect(),
        other => panic!("expected every problem, got {other:?}"),
    };
    let m = problems.join("\n");
    let expected = [
        "maxActionsPerRun: 0 is out of range (accepted: 1 to 1000",
        "maxActionsPerDay: 1001 is out of range",
        "rules[0].match.payloadTypes[0]: unknown payload type \"Referral\" (accepted: OpportunityInvitation, LeadInvitation)",
        "rules[1].match.payloadTypes: empty list",
        "rules[2].match.senderAwsAccountIds[1]: \"not an account\" is not an AWS account id or alias",
        "rules[3].match.senderCompanyNames[0]: empty company name",
        "rules[4].match.titleContains: empty text",
        "rules[5].match.expiresWithinHours: must be >= 1",
        "rules[6].match.olderThanHours: must be <= 8760",
        "rules[7].match: no condition",
        "exclude.senderAwsAccountIds[0]: \"a/b\" is not an AWS account id or alias",
        "exclude.invitationIds[0]: \"pacinv-short\" is not an engagement invitation id",
    ];
    assert_eq!(problems.len(), expected.len(), "{m}");
    for (problem, start) in problems.iter().zip(expected) {
        assert!(problem.starts_with(start), "{problem:?} should start with {start:?}");
    }
}

#[test]
fn rule_names_and_versions_are_checked() {
    let m = error(
        r#"{"version": 2, "rules": [{"name": "x", "match": {"olderThanHours": 1}, "action": "reject", "rejectionReason": "Other"},
                                   {"name": "x", "match": {"olderThanHours": 2}, "action": "reject", "rejectionReason": "Other"}]}"#,
    );
    assert_eq!(m, "version: unsupported 2 (accepted: 1); rules[1].name: duplicate of rules[0]");
}

// --- hash and client token --------------------------------------------------------

#[test]
fn the_hash_covers_actions_but_not_limits_or_formatting() {
    let hash = |doc: &str| policy(doc).hash().to_owned();
    let accept = r#"{"version": 1, "rules": [{"name": "r", "match": {"payloadTypes": ["LeadInvitation", "OpportunityInvitation"], "senderAwsAccountIds": ["123456789012"]}, "action": "accept"}]}"#;
    let reordered = r#"{"rules": [{"action": "accept", "match": {"senderAwsAccountIds": ["123456789012"], "payloadTypes": ["OpportunityInvitation", "LeadInvitation"]}, "name": "r"}], "version": 1, "dryRun": false, "maxActionsPerRun": 4}"#;
    let reject = r#"{"version": 1, "rules": [{"name": "r", "match": {"payloadTypes": ["LeadInvitation", "OpportunityInvitation"], "senderAwsAccountIds": ["123456789012"]}, "action": "reject", "rejectionReason": "Other"}]}"#;
    let other_reason = r#"{"version": 1, "rules": [{"name": "r", "match": {"payloadTypes": ["LeadInvitation", "OpportunityInvitation"], "senderAwsAccountIds": ["123456789012"]}, "action": "reject", "rejectionReason": "Next steps unclear"}]}"#;
    assert_eq!(hash(accept), hash(reordered));
    let hashes: BTreeSet<String> = [accept, reject, other_reason].iter().map(|d| hash(d)).collect();
    assert_eq!(hashes.len(), 3, "the action is part of what the policy decides");
}

#[test]
fn client_tokens_are_keyed_on_the_invitation_and_the_answer_not_the_policy() {
    let reject = Response::Reject { rejection_reason: RejectionReason::new("Other").unwrap_or_else(|e| panic!("{e}")) };
    let t = client_token(&Response::Accept, "engi-0000000000001");
    assert_eq!(t, client_token(&Response::Accept, "engi-0000000000001"));
    assert_ne!(t, client_token(&Response::Accept, "engi-0000000000002"));
    assert_ne!(t, client_token(&reject, "engi-0000000000001"));
    assert!(t.starts_with("ar-accept-") && t.len() == 42, "{t}");
    assert!(client_token(&reject, "pacinv-A000000000001").starts_with("ar-reject-"));
    assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{t}");
}

#[test]
fn invitation_ids_follow_the_api_pattern() {
    assert!(is_invitation_id("engi-0123456789abc"));
    assert!(!is_invitation_id("engi-0123456789AB"));
    assert!(!is_invitation_id("pacinv-A000000000001"));
}

// --- safe by construction, and connection rules -----------------------------------

#[test]
fn an_accept_rule_must_name_the_sender_by_what_the_sender_cannot_choose() {
    // Title and company name are written by the sender: alone, they are refused, naming the rule.
    let m = error(
        r#"{"version": 1, "rules": [{"name": "trusting", "match": {"titleContains": "aws", "senderCompanyNames": ["AWS"]}, "action": "accept"}]}"#,
    );
    assert!(
        m.starts_with("rules[0]: an accept rule must name who sent the invitation with match.senderAwsAccountIds"),
        "{m}"
    );
    let m = error(
        r#"{"version": 1, "rules": [{"name": "any-collab", "kind": "connection", "match": {"connectionTypes": ["OPPORTUNITY_COLLABORATION"]}, "action": "accept"}]}"#,
    );
    assert!(
        m.starts_with(
            "rules[0]: an accept rule must name who sent the invitation with match.otherParticipantIdentifiers"
        ),
        "{m}"
    );
    // Named by account: accepted; a reject rule needs no sender.
    policy(
        r#"{"version": 1, "rules": [{"name": "ok", "match": {"senderAwsAccountIds": ["123456789012"], "titleContains": "aws"}, "action": "accept"}]}"#,
    );
    policy(
        r#"{"version": 1, "rules": [{"name": "ok", "match": {"titleContains": "spam"}, "action": "reject", "rejectionReason": "Other"}]}"#,
    );
}

/// A PENDING connection invitation we received `age_hours` ago from `from` (15-day expiry).
fn connection(id: &str, connection_type: &str, age_hours: i64, from: &str) -> Invitation {
    Invitation {
        participant_type: shared::domain::ParticipantType::Receiver,
        connection_type: Some(connection_type.to_owned()),
        other_party: OtherParty { participant_identifier: Some(from.to_owned()), ..OtherParty::default() },
        ..shared::testing::connection_invitation(id, now() - Duration::hours(age_hours))
    }
}

#[test]
fn connection_rules_answer_connection_invitations_only_with_their_own_conditions() {
    let p = policy(
        r#"{"version": 1, "rules": [
            {"name": "partners", "kind": "connection", "match": {"otherParticipantIdentifiers": ["111122223333"], "connectionTypes": ["OPPORTUNITY_COLLABORATION"]}, "action": "accept"},
            {"name": "stale", "kind": "connection", "match": {"olderThanHours": 72}, "action": "reject", "rejectionReason": "Not a partner we work with"},
            {"name": "old-referrals", "match": {"olderThanHours": 72}, "action": "reject", "rejectionReason": "Other"}
        ], "exclude": {"otherParticipantIdentifiers": ["999988887777"], "invitationIds": ["pacinv-KeepThisOne01"]}}"#,
    );
    let rule = |i: &Invitation| match p.evaluate(i, now()) {
        Decision::Matched { rule } => Some(rule.name.clone()),
        _ => None,
    };
    const COLLAB: &str = "OPPORTUNITY_COLLABORATION";
    assert_eq!(rule(&connection("pacinv-A000000000001", COLLAB, 1, "111122223333")).as_deref(), Some("partners"));
    assert_eq!(rule(&connection("pacinv-A000000000002", "SUBSIDIARY", 1, "111122223333")), None);
    assert_eq!(rule(&connection("pacinv-A000000000003", "SUBSIDIARY", 73, "444455556666")).as_deref(), Some("stale"));
    // An engagement invitation is answered by engagement rules only (and the reverse).
    assert_eq!(rule(&referral("engi-0000000000001", 73)).as_deref(), Some("old-referrals"));
    let kept = connection("pacinv-A000000000004", COLLAB, 80, "999988887777");
    assert!(matches!(p.evaluate(&kept, now()), Decision::Excluded { reason: ExclusionReason::OtherParticipant, .. }));
    let kept = connection("pacinv-KeepThisOne01", COLLAB, 80, "111122223333");
    assert!(matches!(p.evaluate(&kept, now()), Decision::Excluded { reason: ExclusionReason::InvitationId, .. }));

    // The other kind's conditions are named and refused; an unknown kind too.
    let m = error(
        r#"{"version": 1, "rules": [{"name": "x", "kind": "connection", "match": {"payloadTypes": ["LeadInvitation"], "otherParticipantIdentifiers": ["p-1"]}, "action": "accept"},
                                   {"name": "y", "match": {"connectionTypes": ["SUBSIDIARY"]}, "action": "reject", "rejectionReason": "Other"},
                                   {"name": "z", "kind": "partner", "match": {"olderThanHours": 1}, "action": "reject", "rejectionReason": "Other"}]}"#,
    );
    assert!(m.contains("rules[0].match.payloadTypes: not a condition of connection invitations"), "{m}");
    assert!(m.contains("rules[1].match.connectionTypes: not a condition of engagement invitations"), "{m}");
    assert!(m.contains("rules[2].kind: unknown kind \"partner\" (accepted: engagement, connection)"), "{m}");
}

#[test]
fn engagement_policies_keep_their_hash_and_connection_rules_hash_their_kind() {
    // Connection rules must not change the hashes of engagement-only policies.
    let engagement = r#"{"version": 1, "rules": [{"name": "r", "match": {"olderThanHours": 3}, "action": "reject", "rejectionReason": "Other"}]}"#;
    let connection = r#"{"version": 1, "rules": [{"name": "r", "kind": "connection", "match": {"olderThanHours": 3}, "action": "reject", "rejectionReason": "Other"}]}"#;
    assert_ne!(policy(engagement).hash(), policy(connection).hash(), "the kind is part of what a rule selects");
    assert_eq!(
        policy(engagement).canonical_json(),
        policy(&engagement.replace("\"match\"", "\"kind\": \"engagement\", \"match\"")).canonical_json()
    );
    assert!(!policy(engagement).canonical_json().contains("kind"));
    assert!(!policy(engagement).canonical_json().contains("otherParticipantIdentifiers"));
}
