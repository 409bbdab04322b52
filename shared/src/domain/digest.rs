//! The expiring-invitations digest (event contract v1, detail-type
//! `Invitations Expiring Digest`): one event per run listing every pending invitation that
//! expires within the largest warning threshold, soonest first — what a team pastes into
//! chat each morning. It changes no invitation record, so it goes to the outbox with
//! `StateStore::enqueue`.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::answer::AnswerTimes;
use super::event::{DetailType, SCHEMA_VERSION, hours_one_decimal};
use super::invitation::{Catalog, Invitation};

pub use invitation_events::digest::{DigestInvitation, ExpiringDigestDetail};

/// Budget for the digest's `Detail` JSON. PutEvents takes at most 256 KiB per entry, which
/// also counts `Source`, `DetailType`, `Resources` and 14 bytes for `Time`; the rest is
/// headroom for those (a `Source` is at most 256 characters).
pub const MAX_DIGEST_DETAIL_BYTES: usize = 240 * 1024;

/// A digest event: detail-type `Invitations Expiring Digest` plus its detail.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiringDigest {
    pub detail: ExpiringDigestDetail,
}

impl ExpiringDigest {
    pub const DETAIL_TYPE: DetailType = DetailType::InvitationsExpiringDigest;

    /// The digest of `invitations` (the caller chooses which: pending, within the window),
    /// sorted by time left at `observed_at` (ties by kind and id), capped to
    /// [`MAX_DIGEST_DETAIL_BYTES`]. Invitations without an expiry are skipped. `answer_times`:
    /// how fast we answered lately ([`crate::domain::answer::answer_times`]).
    pub fn new(
        catalog: Catalog,
        threshold_hours: u32,
        observed_at: DateTime<Utc>,
        invitations: &[Invitation],
        answer_times: AnswerTimes,
    ) -> Self {
        Self::with_budget(catalog, threshold_hours, observed_at, invitations, answer_times, MAX_DIGEST_DETAIL_BYTES)
    }

    fn with_budget(
        catalog: Catalog,
        threshold_hours: u32,
        observed_at: DateTime<Utc>,
        invitations: &[Invitation],
        answer_times: AnswerTimes,
        budget: usize,
    ) -> Self {
        let mut entries: Vec<DigestInvitation> = invitations
            .iter()
            .filter_map(|i| {
                let expires_at = i.expires_at?;
                Some(DigestInvitation {
                    kind: i.kind,
                    invitation_id: i.id.clone(),
                    arn: i.arn.clone(),
                    status: i.status,
                    participant_type: i.participant_type,
                    expires_at,
                    hours_remaining: hours_one_decimal(expires_at - observed_at),
                    title: i.engagement_title.clone(),
                    payload_type: i.payload_type.clone(),
                    connection_type: i.connection_type.clone(),
                    other_party: i.other_party.clone(),
                })
            })
            .collect();
        entries.sort_by(|a, b| (a.expires_at, a.kind, &a.invitation_id).cmp(&(b.expires_at, b.kind, &b.invitation_id)));
        let count = entries.len();
        let mut detail = ExpiringDigestDetail {
            schema_version: SCHEMA_VERSION.to_owned(),
            event_id: digest_event_id(catalog, observed_at),
            catalog,
            observed_at,
            threshold_hours,
            count,
            // Room for the largest count once entries are left out.
            omitted: count,
            invitations: Vec::new(),
            answer_times,
        };
        let mut size = serde_json::to_string(&detail).map(|s| s.len()).unwrap_or(budget);
        for entry in entries {
            // Each entry adds its JSON and a comma.
            let entry_size = serde_json::to_string(&entry).map(|s| s.len() + 1).unwrap_or(budget);
            if size + entry_size > budget {
                break;
            }
            size += entry_size;
            detail.invitations.push(entry);
        }
        detail.omitted = count - detail.invitations.len();
        ExpiringDigest { detail }
    }
}

/// The digest's id: catalog and the hour of `observed_at`.
pub fn digest_event_id(catalog: Catalog, observed_at: DateTime<Utc>) -> String {
    let hour = observed_at.format("%Y-%m-%dT%H").to_string();
    let mut h = Sha256::new();
    for part in ["v1", "digest", catalog.as_str(), DetailType::InvitationsExpiringDigest.as_str(), &hour] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{InvitationKind, InvitationStatus, OtherParty, ParticipantType};
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 15, 0).single().unwrap_or_default()
    }

    fn engagement(n: usize, hours_left: i64) -> Invitation {
        Invitation {
            kind: InvitationKind::Engagement,
            id: format!("engi-{n:013}"),
            arn: format!("arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/engi-{n:013}"),
            catalog: Catalog::Aws,
            status: InvitationStatus::Pending,
            participant_type: ParticipantType::Receiver,
            created_at: now() - Duration::days(10),
            updated_at: None,
            expires_at: Some(now() + Duration::hours(hours_left)),
            other_party: OtherParty {
                sender_aws_account_id: Some("AWS".into()),
                sender_company_name: Some("Amazon Web Services".into()),
                ..Default::default()
            },
            connection_type: None,
            connection_id: None,
            payload_type: Some("OpportunityInvitation".into()),
            engagement_id: Some(format!("eng-{n:014}")),
            engagement_title: Some("A fairly long opportunity title, as real ones tend to be".into()),
            details: None,
        }
    }

    #[test]
    fn lists_soonest_first_with_hours_left() {
        let digest = ExpiringDigest::new(
            Catalog::Aws,
            72,
            now(),
            &[engagement(1, 50), engagement(2, 3), engagement(3, 20)],
            AnswerTimes::default(),
        );
        let d = &digest.detail;
        let order: Vec<(&str, f64)> =
            d.invitations.iter().map(|i| (i.invitation_id.as_str(), i.hours_remaining)).collect();
        assert_eq!(order, [("engi-0000000000002", 3.0), ("engi-0000000000003", 20.0), ("engi-0000000000001", 50.0)]);
        assert_eq!((d.count, d.omitted, d.threshold_hours), (3, 0, 72));
        let v = serde_json::to_value(d).unwrap_or_default();
        assert_eq!(v["schemaVersion"], "1");
        assert_eq!(v["invitations"][0]["title"], "A fairly long opportunity title, as real ones tend to be");
        assert_eq!(v["invitations"][0]["otherParty"]["senderCompanyName"], "Amazon Web Services");
    }

    #[test]
    fn the_id_is_the_same_within_an_hour_and_differs_across_hours_and_catalogs() {
        let a = digest_event_id(Catalog::Aws, now());
        assert_eq!(a, digest_event_id(Catalog::Aws, now() + Duration::minutes(44)));
        assert_ne!(a, digest_event_id(Catalog::Aws, now() + Duration::minutes(45)));
        assert_ne!(a, digest_event_id(Catalog::Sandbox, now()));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn a_large_digest_stays_under_the_put_events_limit_and_says_how_many_were_left_out() {
        let many: Vec<Invitation> = (0..5000).map(|n| engagement(n, (n % 70) as i64 + 1)).collect();
        let digest = ExpiringDigest::new(Catalog::Aws, 72, now(), &many, AnswerTimes::default());
        let d = &digest.detail;
        let size = serde_json::to_string(d).map(|s| s.len()).unwrap_or(usize::MAX);
        assert!(size <= MAX_DIGEST_DETAIL_BYTES, "{size} bytes");
        assert!(d.omitted > 0 && d.invitations.len() + d.omitted == 5000, "{} + {}", d.invitations.len(), d.omitted);
        assert_eq!(d.count, 5000);
        // What is left out expires last.
        let listed: std::collections::HashSet<&str> = d.invitations.iter().map(|i| i.invitation_id.as_str()).collect();
        let last_listed = d.invitations.last().map(|i| i.expires_at);
        assert!(many.iter().filter(|i| !listed.contains(i.id.as_str())).all(|i| i.expires_at >= last_listed));
    }

    #[test]
    fn the_budget_is_never_overshot() {
        let few: Vec<Invitation> = (0..10).map(|n| engagement(n, 5)).collect();
        let full = ExpiringDigest::new(Catalog::Aws, 72, now(), &few, AnswerTimes::default());
        let size = serde_json::to_string(&full.detail).map(|s| s.len()).unwrap_or(0);
        let capped = ExpiringDigest::with_budget(Catalog::Aws, 72, now(), &few, AnswerTimes::default(), size - 1);
        assert_eq!((capped.detail.invitations.len(), capped.detail.omitted), (9, 1));
        assert!(serde_json::to_string(&capped.detail).map(|s| s.len()).unwrap_or(usize::MAX) < size);
    }
}
