//! Test data shared by the unit tests.

use chrono::{DateTime, Duration, TimeZone, Utc};
use shared::domain::{Catalog, ConnectionDetails, Invitation, OtherParty, ParticipantType};

use crate::config::SweepSettings;
use shared::testing::{connection_invitation, engagement_invitation};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().unwrap_or_default()
}

pub fn settings() -> SweepSettings {
    SweepSettings {
        catalog: Catalog::Aws,
        warning_hours: vec![4, 24, 72],
        participant_types: ParticipantType::ALL.to_vec(),
        digest: false,
        include_contact_details: false,
        retention: Duration::days(30),
    }
}

fn expiring(hours_left: f64) -> DateTime<Utc> {
    t0() + Duration::seconds((hours_left * 3600.0) as i64)
}

/// An engagement invitation AWS sent us, `hours_left` before expiry at [`t0`].
pub fn engagement(n: u32, hours_left: f64) -> Invitation {
    Invitation {
        other_party: OtherParty {
            sender_aws_account_id: Some("AWS".into()),
            sender_company_name: Some("Amazon Web Services".into()),
            ..Default::default()
        },
        payload_type: Some("OpportunityInvitation".into()),
        engagement_id: Some(format!("eng-{n:014}")),
        engagement_title: Some(format!("Opportunity {n}")),
        ..engagement_invitation(&format!("engi-{n:013}"), expiring(hours_left) - Duration::days(15))
    }
}

/// A connection invitation we sent, `hours_left` before expiry at [`t0`], with the
/// detail-only fields Get returns.
pub fn connection(n: u32, hours_left: f64) -> Invitation {
    Invitation {
        details: Some(ConnectionDetails {
            invitation_message: "Let's co-sell".into(),
            inviter_name: "Ann".into(),
            inviter_email: Some("ann@example.com".into()),
        }),
        ..connection_invitation(&format!("pacinv-{n:013}"), expiring(hours_left) - Duration::days(15))
    }
}
