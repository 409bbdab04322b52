//! The listings of a run: what each returns that matters to the run, and how many pages the
//! lower-bound formula allows for it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt};
use shared::domain::decision::{Context, Plan, observe};
use shared::domain::{
    Invitation, InvitationKind, InvitationRecord, InvitationStatus, ParticipantType, UnreadableInvitation,
};
use shared::error::PartnerCentralError;
use shared::ports::{
    ConnectionInvitationQuery, ConnectionInvitations, EngagementInvitationQuery, EngagementInvitations,
    EngagementOrder, Page,
};

use crate::listing::EngagementListing;

/// Page size of every listing (the APIs' maximum), for the lower-bound formula.
pub(crate) const PAGE_SIZE: u64 = 100;

pub(crate) type Key = (InvitationKind, String);

pub(crate) fn key(kind: InvitationKind, id: &str) -> Key {
    (kind, id.to_owned())
}

/// Invitations of one kind that matter to this run, from its listings.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    /// Invitations with a record, PENDING ones, and terminal ones the plan acts on.
    pub(crate) kept: HashMap<String, Invitation>,
    /// Distinct invitations returned.
    pub(crate) seen: usize,
    /// Pages the lower-bound formula allows for these listings.
    pub(crate) bound_pages: u64,
    /// Invitations listed that this version cannot read: skipped, left as they are.
    pub(crate) unreadable: Vec<UnreadableInvitation>,
}

impl Listed {
    fn absorb(&mut self, other: Listed) {
        self.seen += other.seen;
        self.bound_pages += other.bound_pages;
        self.unreadable.extend(other.unreadable);
        for (id, inv) in other.kept {
            if self.kept.insert(id, inv).is_some() {
                self.seen -= 1; // listed twice (pending listing and newest-first window)
            }
        }
    }
}

fn pages(items: usize) -> u64 {
    (items as u64).div_ceil(PAGE_SIZE).max(1)
}

/// Pages of a newest-first listing cut off at a date: the page where the first older
/// invitation appears is read too.
fn pages_to_cutoff(items: usize) -> u64 {
    items as u64 / PAGE_SIZE + 1
}

/// Connection invitations: PENDING ones (both participant types in one listing) in an
/// incremental run, every one otherwise.
pub(crate) async fn list_connections(
    connections: &impl ConnectionInvitations,
    ctx: &Context,
    records: &HashMap<Key, InvitationRecord>,
) -> Result<Listed, String> {
    let status = (!ctx.mode.lists_everything()).then_some(InvitationStatus::Pending);
    let query = ConnectionInvitationQuery { status, ..ConnectionInvitationQuery::default() };
    let stream = connections.list_connection_invitations(query);
    let (mut listed, n) =
        collect(stream, None, ctx, records).await.map_err(|e| format!("listing connection invitations: {e}"))?;
    listed.bound_pages = pages(n);
    Ok(listed)
}

/// Engagement invitations of every followed participant type, each listed as
/// [`EngagementListing`] chose. Participant types are listed concurrently. The primer (the
/// first side's newest-first listing, already started) is reused for the first side.
pub(crate) async fn list_engagements(
    engagements: &impl EngagementInvitations,
    ctx: &Context,
    records: &HashMap<Key, InvitationRecord>,
    sides: &[(ParticipantType, EngagementListing)],
    primer: BoxStream<'_, Result<Page, PartnerCentralError>>,
) -> Result<Listed, String> {
    let mut primer = Some(primer);
    let listings = sides.iter().map(|&(participant_type, listing)| {
        let cutoff = listing.newest_first_cutoff();
        let newest_first = primer.take().unwrap_or_else(|| {
            engagements.list_engagement_invitations(EngagementInvitationQuery {
                order: EngagementOrder::NewestFirst { stop_before: cutoff },
                ..EngagementInvitationQuery::new(participant_type)
            })
        });
        async move {
            let fail = |e: PartnerCentralError| format!("listing {participant_type} engagement invitations: {e}");
            let (mut listed, recent) = collect(newest_first, cutoff, ctx, records).await.map_err(fail)?;
            listed.bound_pages = pages_to_cutoff(recent);
            if !matches!(listing, EngagementListing::PendingAndRecent { .. }) {
                return Ok(listed);
            }
            let pending = engagements.list_engagement_invitations(EngagementInvitationQuery {
                statuses: vec![InvitationStatus::Pending],
                ..EngagementInvitationQuery::new(participant_type)
            });
            let (mut pending, n) = collect(pending, None, ctx, records).await.map_err(fail)?;
            pending.bound_pages = pages(n);
            listed.absorb(pending);
            Ok::<Listed, String>(listed)
        }
    });
    let results = futures::future::join_all(listings.collect::<Vec<_>>()).await;
    let mut all = Listed::default();
    for r in results {
        all.absorb(r?);
    }
    Ok(all)
}

/// Read a listing into what matters to the run: invitations with a record, PENDING ones and
/// terminal ones the plan acts on (the rest is history: counted, not kept). With a cut-off,
/// stop at the first invitation created before it (newest-first listings). Returns the
/// invitations read (within the cut-off).
async fn collect(
    mut pages: BoxStream<'_, Result<Page, PartnerCentralError>>,
    cutoff: Option<DateTime<Utc>>,
    ctx: &Context,
    records: &HashMap<Key, InvitationRecord>,
) -> Result<(Listed, usize), PartnerCentralError> {
    let mut listed = Listed::default();
    let mut read = 0usize;
    'pages: while let Some(page) = pages.next().await {
        let page = page?;
        read += page.unreadable.len();
        listed.unreadable.extend(page.unreadable);
        for invitation in page.invitations {
            if cutoff.is_some_and(|c| invitation.created_at < c) {
                break 'pages;
            }
            read += 1;
            let record = records.get(&key(invitation.kind, &invitation.id));
            if record.is_some() || observe(ctx, None, &invitation) != Plan::Nothing {
                if listed.kept.insert(invitation.id.clone(), invitation).is_none() {
                    listed.seen += 1;
                }
            } else {
                listed.seen += 1;
            }
        }
    }
    Ok((listed, read))
}
