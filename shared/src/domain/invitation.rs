//! The invitation model shared by connection invitations (Partner Central Account API) and
//! engagement invitations (Partner Central Selling API). No SDK types here: the adapters
//! convert into these, and everything above the adapters speaks only this model.
//!
//! The model itself is part of the event contract (every invitation event carries it) and
//! lives in the contract crate, [`invitation_events::invitation`]; what only the functions
//! need (an invitation they could not read, the contact-details redaction) is here.

pub use invitation_events::invitation::*;

/// An invitation Partner Central returned that this version cannot represent: a closed-set
/// member with a value we do not know (the API may add one tomorrow; the SDK keeps it as it
/// came), a member we need that is missing, a timestamp out of range. It is reported (which
/// invitation, which member, the raw value) and skipped: no event is published with invented
/// facts and its state record stays as it was, so once it reads again (code updated, or the
/// value changed) the run that reads it publishes what changed. Every other invitation of the
/// same page and run is processed normally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} invitation {id}: {member}: {problem}")]
pub struct UnreadableInvitation {
    pub kind: InvitationKind,
    /// The id as the API returned it.
    pub id: String,
    /// The API member that could not be read, e.g. `Status`.
    pub member: &'static str,
    /// Its value as the API sent it; `None` when the member was missing.
    pub raw_value: Option<String>,
    /// What is wrong with it.
    pub problem: String,
}

/// The invitation as published events carry it: its [`ConnectionDetails`] (inviter name,
/// e-mail address, message — personal data) only when the deployment opted in
/// (`INCLUDE_CONTACT_DETAILS`). The one place that decides what personal data leaves the
/// account, for every function.
pub fn redact_contact_details(mut invitation: Invitation, include_contact_details: bool) -> Invitation {
    if !include_contact_details {
        invitation.details = None;
    }
    invitation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_opted_in_deployments_publish_contact_details() {
        let d = ConnectionDetails {
            invitation_message: "hi".into(),
            inviter_name: "Jane".into(),
            inviter_email: Some("jane@example.com".into()),
        };
        let invitation = Invitation {
            details: Some(d),
            ..crate::testing::connection_invitation("pacinv-ABCDEFGHIJKLM", chrono::Utc::now())
        };
        assert_eq!(redact_contact_details(invitation.clone(), false).details, None, "no personal data by default");
        assert_eq!(redact_contact_details(invitation.clone(), true), invitation);
    }
}
