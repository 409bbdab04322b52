//! The invitation as events carry it, for connection invitations (Partner Central Account
//! API) and engagement invitations (Partner Central Selling API) alike, and the closed sets
//! it uses (kind, catalog, status, participant type).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which API an invitation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationKind {
    /// A connection invitation (Partner Central Account API).
    Connection,
    /// An engagement invitation (Partner Central Selling API).
    Engagement,
}

impl InvitationKind {
    pub const ALL: [InvitationKind; 2] = [InvitationKind::Connection, InvitationKind::Engagement];

    pub fn as_str(self) -> &'static str {
        match self {
            InvitationKind::Connection => "connection",
            InvitationKind::Engagement => "engagement",
        }
    }
}

impl fmt::Display for InvitationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvitationKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "connection" => Ok(InvitationKind::Connection),
            "engagement" => Ok(InvitationKind::Engagement),
            _ => Err(UnknownValue::new("invitation kind", s, "connection, engagement")),
        }
    }
}

/// A Partner Central catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Catalog {
    /// Production data.
    #[serde(rename = "AWS")]
    Aws,
    /// Test data.
    Sandbox,
}

impl Catalog {
    pub fn as_str(self) -> &'static str {
        match self {
            Catalog::Aws => "AWS",
            Catalog::Sandbox => "Sandbox",
        }
    }
}

impl fmt::Display for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Catalog {
    type Err = UnknownValue;
    /// Exact, case-sensitive: the APIs only accept `AWS` and `Sandbox`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "AWS" => Ok(Catalog::Aws),
            "Sandbox" => Ok(Catalog::Sandbox),
            _ => Err(UnknownValue::new("catalog", s, "AWS, Sandbox")),
        }
    }
}

/// Invitation status. Engagement invitations never become `CANCELED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Rejected,
    Canceled,
    Expired,
}

impl InvitationStatus {
    pub const ALL: [InvitationStatus; 5] = [
        InvitationStatus::Pending,
        InvitationStatus::Accepted,
        InvitationStatus::Rejected,
        InvitationStatus::Canceled,
        InvitationStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "PENDING",
            InvitationStatus::Accepted => "ACCEPTED",
            InvitationStatus::Rejected => "REJECTED",
            InvitationStatus::Canceled => "CANCELED",
            InvitationStatus::Expired => "EXPIRED",
        }
    }

    /// Every status but `PENDING` is final: an invitation never leaves it.
    pub fn is_terminal(self) -> bool {
        self != InvitationStatus::Pending
    }
}

impl fmt::Display for InvitationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvitationStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InvitationStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownValue::new("invitation status", s, "PENDING, ACCEPTED, REJECTED, CANCELED, EXPIRED"))
    }
}

/// Which side of the invitation we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParticipantType {
    /// We sent the invitation.
    Sender,
    /// We received the invitation.
    Receiver,
}

impl ParticipantType {
    pub const ALL: [ParticipantType; 2] = [ParticipantType::Sender, ParticipantType::Receiver];

    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantType::Sender => "SENDER",
            ParticipantType::Receiver => "RECEIVER",
        }
    }
}

impl fmt::Display for ParticipantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ParticipantType {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "SENDER" => Ok(ParticipantType::Sender),
            "RECEIVER" => Ok(ParticipantType::Receiver),
            _ => Err(UnknownValue::new("participant type", s, "SENDER, RECEIVER")),
        }
    }
}

/// A value outside a closed set, with what was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub accepted: &'static str,
}

impl UnknownValue {
    pub fn new(what: &'static str, value: &str, accepted: &'static str) -> Self {
        Self { what, value: value.to_owned(), accepted }
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?} (accepted: {})", self.what, self.value, self.accepted)
    }
}

impl std::error::Error for UnknownValue {}

/// Who is on the other side. Connection invitations name the other participant by an
/// identifier; engagement invitations name the sender account and the receiver account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtherParty {
    /// `OtherParticipantIdentifier` of a connection invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_identifier: Option<String>,
    /// `SenderAwsAccountId` of an engagement invitation (account id or alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_aws_account_id: Option<String>,
    /// `SenderCompanyName` of an engagement invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_company_name: Option<String>,
    /// `Receiver.Account.AwsAccountId` of an engagement invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_aws_account_id: Option<String>,
    /// `Receiver.Account.Alias` of an engagement invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_alias: Option<String>,
}

/// The fields only `GetConnectionInvitation` returns: who invited, and their message. All
/// three are personal data (a person's name and e-mail address, and free text a person wrote
/// to people), so events carry them only when the deployment opted in to contact details
/// (`INCLUDE_CONTACT_DETAILS=true`, see [`redact_contact_details`]); never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionDetails {
    pub invitation_message: String,
    pub inviter_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_email: Option<String>,
}

// Hand-written so that none of the three (a name, an e-mail address, free text) can reach a
// log line or a panic message through `{:?}`: only whether each is there and its length.
impl fmt::Debug for ConnectionDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionDetails")
            .field("invitation_message", &Redacted(&self.invitation_message))
            .field("inviter_name", &Redacted(&self.inviter_name))
            .field("inviter_email", &self.inviter_email.as_deref().map(Redacted))
            .finish()
    }
}

/// Personal data in a `Debug` rendering: its length in characters, never its text.
struct Redacted<'a>(&'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted: {} chars>", self.0.chars().count())
    }
}

/// One invitation of either kind, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub kind: InvitationKind,
    pub id: String,
    pub arn: String,
    pub catalog: Catalog,
    pub status: InvitationStatus,
    pub participant_type: ParticipantType,
    /// `CreatedAt` (connection) or `InvitationDate` (engagement).
    pub created_at: DateTime<Utc>,
    /// `UpdatedAt`; only connection invitations have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// `ExpiresAt` (connection) or `ExpirationDate` (engagement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub other_party: OtherParty,
    /// `ConnectionType` of a connection invitation (e.g. `OPPORTUNITY_COLLABORATION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    /// `ConnectionId` of a connection invitation, once there is a connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// `PayloadType` of an engagement invitation (e.g. `OpportunityInvitation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement_title: Option<String>,
    /// Detail-only fields of `GetConnectionInvitation` (inviter name and e-mail address,
    /// message): personal data, published only with `INCLUDE_CONTACT_DETAILS=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ConnectionDetails>,
}

impl Invitation {
    /// Time left before expiry at `now` (negative once past it); `None` without an expiry.
    pub fn time_left(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.expires_at.map(|e| e - now)
    }

    /// True when the invitation is PENDING but its expiry has passed at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == InvitationStatus::Pending && self.expires_at.is_some_and(|e| e <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_connection_details_shows_no_personal_data() {
        let details = ConnectionDetails {
            invitation_message: "Call me on +1 555 0100, Ana".into(),
            inviter_name: "Ana Silva".into(),
            inviter_email: Some("ana@example.com".into()),
        };
        let rendered = format!("{details:?} {details:#?}");
        for secret in ["+1 555 0100", "Ana", "Silva", "ana@example.com", "example"] {
            assert!(!rendered.contains(secret), "{secret:?} in {rendered}");
        }
        assert_eq!(
            format!("{details:?}"),
            "ConnectionDetails { invitation_message: <redacted: 27 chars>, inviter_name: <redacted: 9 chars>, \
             inviter_email: Some(<redacted: 15 chars>) }"
        );
        let without = ConnectionDetails { inviter_email: None, ..details };
        assert!(format!("{without:?}").ends_with("inviter_email: None }"));
    }

    #[test]
    fn closed_sets_round_trip_through_their_wire_names() {
        for s in InvitationStatus::ALL {
            assert_eq!(s.as_str().parse::<InvitationStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::json!(s.as_str())));
        }
        for p in ParticipantType::ALL {
            assert_eq!(p.as_str().parse::<ParticipantType>(), Ok(p));
        }
        for k in InvitationKind::ALL {
            assert_eq!(k.as_str().parse::<InvitationKind>(), Ok(k));
        }
        assert_eq!(serde_json::to_value(Catalog::Aws).ok(), Some(serde_json::json!("AWS")));
    }

    #[test]
    fn catalog_is_exact_and_names_what_it_accepts() {
        assert_eq!("Sandbox".parse::<Catalog>(), Ok(Catalog::Sandbox));
        let err = "aws".parse::<Catalog>().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("\"aws\"") && err.contains("AWS, Sandbox"), "{err}");
    }

    #[test]
    fn only_pending_is_not_terminal() {
        let terminal: Vec<_> = InvitationStatus::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal.len(), 4);
        assert!(!InvitationStatus::Pending.is_terminal());
    }
}
