//! Partner Central's native invitation events (the shapes, sources and quirks are in the
//! crate's README): which invitation an event is about, or why it is ignored. Pure, no I/O.
//!
//! The payload is thin and may be stale, duplicated or out of order: only *which*
//! invitation it names is used; what became of it is read with a Get.

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::domain::{Catalog, Invitation, InvitationKind, ParticipantType};

/// `source` of the Selling API's native events (engagement invitations).
pub const SELLING_SOURCE: &str = "aws.partnercentral-selling";
/// `source` of the Account API's native events (connection invitations).
pub const ACCOUNT_SOURCE: &str = "aws.partnercentral-account";

/// The native detail-types about engagement invitations (both sides receive all four).
pub const ENGAGEMENT_DETAIL_TYPES: [&str; 4] = [
    "Engagement Invitation Created",
    "Engagement Invitation Accepted",
    "Engagement Invitation Rejected",
    "Engagement Invitation Expired",
];
/// The native detail-types about connection invitations (each side receives some).
pub const CONNECTION_DETAIL_TYPES: [&str; 5] = [
    "Partner Connection Invitation Received",
    "Partner Connection Invitation Accepted",
    "Partner Connection Invitation Rejected",
    "Partner Connection Invitation Cancelled",
    "Partner Connection Invitation Expired",
];

/// A native event about one of our invitations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub kind: InvitationKind,
    pub id: String,
    /// The side the event claims for an engagement invitation (`participantType`, else the
    /// event's account matched against the sender and receiver): only a hint that spares the
    /// Get of a side that is not followed; the side stamped on the invitation comes from the
    /// Get ([`our_side_in`]). `None` for connection invitations (their Get says it) and when
    /// the event does not say.
    pub participant_type: Option<ParticipantType>,
    pub detail_type: String,
    /// The event's `time`: when Partner Central says the change happened.
    pub time: Option<DateTime<Utc>>,
}

/// Which native events are ours to relay: the catalog, the engagement sides followed, and our
/// own AWS account (the one the stack is deployed in).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub catalog: Catalog,
    pub followed: &'a [ParticipantType],
    pub account: &'a str,
}

/// Why a well-formed event is not relayed (counted per reason in the summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ignored {
    /// From another AWS account than ours: the default bus also receives what its policy
    /// admits from other accounts (an organisation forwarding its accounts' events), with
    /// their `source` and `account` kept. Not our invitation: never read, never published.
    OtherAccount,
    /// Not from Partner Central (a rule that matches too much).
    OtherSource,
    /// From Partner Central but not about an invitation (opportunity events, `Partner
    /// Connection Cancelled`, detail-types added after this was written).
    NotAnInvitation,
    /// About another catalog than `CATALOG`.
    OtherCatalog,
    /// An engagement invitation of a side `ENGAGEMENT_PARTICIPANT_TYPES` does not follow.
    SideNotFollowed,
}

impl Ignored {
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::OtherAccount => "otherAccount",
            Ignored::OtherSource => "otherSource",
            Ignored::NotAnInvitation => "notAnInvitation",
            Ignored::OtherCatalog => "otherCatalog",
            Ignored::SideNotFollowed => "sideNotFollowed",
        }
    }
}

/// An event that cannot be read: names the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("native event {field}: {problem}")]
pub struct Malformed {
    pub field: String,
    pub problem: String,
}

fn malformed(field: &str, problem: impl Into<String>) -> Malformed {
    Malformed { field: field.to_owned(), problem: problem.into() }
}

/// What one native event means to the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Sighting(Sighting),
    Ignored(Ignored),
}

/// Read one native EventBridge event (as a rule delivers it: the whole envelope) in `scope`.
pub fn read(event: &Value, scope: Scope<'_>) -> Result<Reading, Malformed> {
    let Scope { catalog, followed, account: ours } = scope;
    let Some(envelope) = event.as_object() else {
        return Err(malformed(
            "(event)",
            format!("expected a JSON object, got {}", shared::invocation::json_type(event)),
        ));
    };
    let text = |field: &str| -> Result<&str, Malformed> {
        match envelope.get(field) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => {
                Err(malformed(field, format!("expected a string, got {}", shared::invocation::json_type(other))))
            }
            None => Err(malformed(field, "missing")),
        }
    };
    // EventBridge stamps `account` on every event it accepts (the sender cannot choose it);
    // only a directly invoked event may lack it (the documented Expired sample does).
    match envelope.get("account") {
        Some(Value::String(account)) if account == ours => {}
        Some(Value::String(_)) => return Ok(Reading::Ignored(Ignored::OtherAccount)),
        Some(other) => {
            return Err(malformed(
                "account",
                format!("expected a string, got {}", shared::invocation::json_type(other)),
            ));
        }
        None => {}
    }
    let source = text("source")?;
    let detail_type = text("detail-type")?;
    let kind = match source {
        SELLING_SOURCE if ENGAGEMENT_DETAIL_TYPES.contains(&detail_type) => InvitationKind::Engagement,
        ACCOUNT_SOURCE if CONNECTION_DETAIL_TYPES.contains(&detail_type) => InvitationKind::Connection,
        SELLING_SOURCE | ACCOUNT_SOURCE => return Ok(Reading::Ignored(Ignored::NotAnInvitation)),
        _ => return Ok(Reading::Ignored(Ignored::OtherSource)),
    };
    let time = match envelope.get("time") {
        Some(Value::String(s)) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|e| malformed("time", format!("{s:?} is not an ISO 8601 timestamp: {e}")))?
                .with_timezone(&Utc),
        ),
        _ => None,
    };
    let Some(detail) = envelope.get("detail").and_then(Value::as_object) else {
        return Err(malformed("detail", "missing or not an object"));
    };
    match detail.get("catalog") {
        Some(Value::String(c)) if c == catalog.as_str() => {}
        Some(Value::String(_)) => return Ok(Reading::Ignored(Ignored::OtherCatalog)),
        Some(other) => {
            return Err(malformed(
                "detail.catalog",
                format!("expected a string, got {}", shared::invocation::json_type(other)),
            ));
        }
        None => return Err(malformed("detail.catalog", "missing")),
    }
    let member = match kind {
        InvitationKind::Engagement => "engagementInvitation",
        InvitationKind::Connection => "connectionInvitation",
    };
    let Some(invitation) = detail.get(member).and_then(Value::as_object) else {
        return Err(malformed(&format!("detail.{member}"), "missing or not an object"));
    };
    let id = match invitation.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
        Some(Value::String(_)) => return Err(malformed(&format!("detail.{member}.id"), "empty")),
        _ => match invitation.get("arn").and_then(Value::as_str).and_then(|arn| arn.rsplit('/').next()) {
            // The id is the ARN's last segment (`…/engagement-invitation/engi-…`).
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => return Err(malformed(&format!("detail.{member}.id"), "missing (and no arn to take it from)")),
        },
    };
    let participant_type = match kind {
        InvitationKind::Connection => None,
        InvitationKind::Engagement => {
            let side = claimed_side(ours, invitation)?;
            if side.is_some_and(|side| !followed.contains(&side)) {
                return Ok(Reading::Ignored(Ignored::SideNotFollowed));
            }
            side
        }
    };
    Ok(Reading::Sighting(Sighting { kind, id, participant_type, detail_type: detail_type.to_owned(), time }))
}

/// The side an engagement event claims: its `participantType` (`Sender`/`Receiver` in
/// native events, `SENDER`/`RECEIVER` in the API: both accepted), else our account matched
/// against the sender and receiver account ids, else `None` (the Get decides).
fn claimed_side(ours: &str, invitation: &serde_json::Map<String, Value>) -> Result<Option<ParticipantType>, Malformed> {
    const FIELD: &str = "detail.engagementInvitation.participantType";
    if let Some(value) = invitation.get("participantType") {
        let Some(text) = value.as_str() else {
            return Err(malformed(FIELD, format!("expected a string, got {}", shared::invocation::json_type(value))));
        };
        return text
            .to_ascii_uppercase()
            .parse::<ParticipantType>()
            .map(Some)
            .map_err(|_| malformed(FIELD, format!("{text:?} is neither Sender nor Receiver")));
    }
    let is = |member: &str| invitation.get(member).and_then(Value::as_str) == Some(ours);
    Ok(match (is("senderAccountId"), is("receiverAccountId")) {
        (true, false) => Some(ParticipantType::Sender),
        (false, true) => Some(ParticipantType::Receiver),
        _ => None,
    })
}

/// Our side of an engagement invitation as its Get returned it (GetEngagementInvitation
/// returns no participant type): the sender if `SenderAwsAccountId` is our account, else the
/// receiver — unless the receiver is named and is another account too, then the invitation
/// is not ours (`None`).
pub fn our_side_in(invitation: &Invitation, ours: &str) -> Option<ParticipantType> {
    let party = &invitation.other_party;
    if party.sender_aws_account_id.as_deref() == Some(ours) {
        return Some(ParticipantType::Sender);
    }
    match party.receiver_aws_account_id.as_deref() {
        Some(receiver) if receiver != ours => None,
        _ => Some(ParticipantType::Receiver),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const BOTH: [ParticipantType; 2] = [ParticipantType::Sender, ParticipantType::Receiver];
    const US: &str = "111122223333";

    fn aws(followed: &[ParticipantType]) -> Scope<'_> {
        Scope { catalog: Catalog::Aws, followed, account: US }
    }

    fn engagement(detail_type: &str, invitation: Value) -> Value {
        json!({"version": "0", "id": "7d4c1b1e-0000-0000-0000-000000000001", "detail-type": detail_type,
               "source": SELLING_SOURCE, "account": "111122223333", "time": "2026-11-30T10:00:00Z",
               "region": "us-east-1", "resources": [],
               "detail": {"catalog": "AWS", "engagementInvitation": invitation}})
    }

    fn connection(detail_type: &str) -> Value {
        // The documented Expired sample has no `account`.
        json!({"version": "1", "id": "e-1", "detail-type": detail_type, "source": ACCOUNT_SOURCE,
               "time": "2026-11-30T10:00:00Z", "region": "us-east-1", "resources": [],
               "detail": {"catalog": "AWS", "connectionInvitation": {
                   "arn": "arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/pacinv-1",
                   "id": "pacinv-1", "connectionType": "OpportunityCollaboration"}}})
    }

    fn sighting(reading: Result<Reading, Malformed>) -> Sighting {
        match reading {
            Ok(Reading::Sighting(s)) => s,
            other => panic!("expected a sighting, got {other:?}"),
        }
    }

    #[test]
    fn every_engagement_detail_type_names_the_invitation_and_our_side() {
        for detail_type in ENGAGEMENT_DETAIL_TYPES {
            let event = engagement(detail_type, json!({"id": "engi-1", "participantType": "Receiver"}));
            let s = sighting(read(&event, aws(&BOTH)));
            assert_eq!((s.kind, s.id.as_str()), (InvitationKind::Engagement, "engi-1"));
            assert_eq!(s.participant_type, Some(ParticipantType::Receiver));
            assert_eq!(s.time.map(|t| t.to_rfc3339()), Some("2026-11-30T10:00:00+00:00".to_owned()));
        }
    }

    #[test]
    fn every_connection_invitation_detail_type_is_read_also_without_account() {
        for detail_type in CONNECTION_DETAIL_TYPES {
            let s = sighting(read(&connection(detail_type), aws(&BOTH)));
            assert_eq!((s.kind, s.id.as_str(), s.participant_type), (InvitationKind::Connection, "pacinv-1", None));
        }
    }

    #[test]
    fn our_side_comes_from_the_account_when_the_event_does_not_say_it() {
        let invitation =
            json!({"id": "engi-1", "senderAccountId": "444455556666", "receiverAccountId": "111122223333"});
        let s = sighting(read(&engagement("Engagement Invitation Accepted", invitation), aws(&BOTH)));
        assert_eq!(s.participant_type, Some(ParticipantType::Receiver));
        // API casing is accepted too.
        let s = sighting(read(
            &engagement("Engagement Invitation Created", json!({"id": "engi-1", "participantType": "SENDER"})),
            aws(&BOTH),
        ));
        assert_eq!(s.participant_type, Some(ParticipantType::Sender));
        // Neither says: no claim, and no error either (the Get decides).
        let s = sighting(read(&engagement("Engagement Invitation Created", json!({"id": "engi-1"})), aws(&BOTH)));
        assert_eq!(s.participant_type, None);
    }

    #[test]
    fn another_accounts_event_is_ignored_before_anything_of_it_is_read() {
        for mut event in [
            engagement("Engagement Invitation Created", json!({"id": "engi-1", "participantType": "Receiver"})),
            connection("Partner Connection Invitation Received"),
            // Even one that is malformed otherwise: nothing of another account is looked at.
            json!({"source": SELLING_SOURCE, "detail": "not an object"}),
        ] {
            event["account"] = json!("999988887777");
            assert_eq!(read(&event, aws(&BOTH)), Ok(Reading::Ignored(Ignored::OtherAccount)), "{event}");
        }
        let mut numeric = connection("Partner Connection Invitation Received");
        numeric["account"] = json!(111122223333_u64);
        assert_eq!(
            read(&numeric, aws(&BOTH)).map_err(|e| e.to_string()),
            Err("native event account: expected a string, got a number".to_owned())
        );
    }

    #[test]
    fn our_side_is_what_the_get_says_about_our_account() {
        let with = |sender: Option<&str>, receiver: Option<&str>| {
            let mut invitation = shared::testing::engagement_invitation("engi-1", Utc::now());
            invitation.participant_type = ParticipantType::Receiver;
            invitation.other_party.sender_aws_account_id = sender.map(str::to_owned);
            invitation.other_party.receiver_aws_account_id = receiver.map(str::to_owned);
            our_side_in(&invitation, US)
        };
        assert_eq!(with(Some(US), Some("444455556666")), Some(ParticipantType::Sender));
        assert_eq!(with(Some(US), None), Some(ParticipantType::Sender));
        assert_eq!(with(Some("444455556666"), Some(US)), Some(ParticipantType::Receiver));
        assert_eq!(with(Some("AWS"), None), Some(ParticipantType::Receiver));
        assert_eq!(with(Some("444455556666"), Some("999988887777")), None, "another account's invitation");
    }

    #[test]
    fn the_id_falls_back_to_the_arn() {
        let invitation = json!({"arn": "arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/engi-9", "participantType": "Sender"});
        let s = sighting(read(&engagement("Engagement Invitation Expired", invitation), aws(&BOTH)));
        assert_eq!(s.id, "engi-9");
    }

    #[test]
    fn what_is_not_ours_to_relay_is_ignored_with_its_reason() {
        let ignored = |event: &Value, followed: &[ParticipantType]| match read(event, aws(followed)) {
            Ok(Reading::Ignored(reason)) => reason,
            other => panic!("expected ignored, got {other:?}"),
        };
        let receiver =
            engagement("Engagement Invitation Created", json!({"id": "engi-1", "participantType": "Receiver"}));
        assert_eq!(ignored(&receiver, &[ParticipantType::Sender]), Ignored::SideNotFollowed);
        let mut sandbox = receiver.clone();
        sandbox["detail"]["catalog"] = json!("Sandbox");
        assert_eq!(ignored(&sandbox, &BOTH), Ignored::OtherCatalog);
        let opportunity = json!({"detail-type": "Opportunity Updated", "source": SELLING_SOURCE, "detail": {}});
        assert_eq!(ignored(&opportunity, &BOTH), Ignored::NotAnInvitation);
        assert_eq!(ignored(&connection("Partner Connection Cancelled"), &BOTH), Ignored::NotAnInvitation);
        let other = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert_eq!(ignored(&other, &BOTH), Ignored::OtherSource);
    }

    #[test]
    fn a_malformed_event_names_the_field() {
        let error = |event: Value| match read(&event, aws(&BOTH)) {
            Err(e) => e.to_string(),
            other => panic!("expected an error, got {other:?}"),
        };
        let mut no_catalog = connection("Partner Connection Invitation Accepted");
        no_catalog["detail"].as_object_mut().map(|d| d.remove("catalog"));
        assert_eq!(error(no_catalog), "native event detail.catalog: missing");
        assert_eq!(
            error(engagement("Engagement Invitation Created", json!({"participantType": "Receiver"}))),
            "native event detail.engagementInvitation.id: missing (and no arn to take it from)"
        );
        assert_eq!(
            error(engagement("Engagement Invitation Created", json!({"id": "engi-1", "participantType": "Owner"}))),
            "native event detail.engagementInvitation.participantType: \"Owner\" is neither Sender nor Receiver"
        );
        let mut bad_time = connection("Partner Connection Invitation Accepted");
        bad_time["time"] = json!("yesterday");
        assert!(error(bad_time).starts_with("native event time: \"yesterday\" is not an ISO 8601 timestamp"));
        assert_eq!(error(json!(["not", "an", "object"])), "native event (event): expected a JSON object, got an array");
        assert_eq!(error(json!({"source": SELLING_SOURCE})), "native event detail-type: missing");
    }
}
