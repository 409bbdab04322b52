//! The account as the emulator sees it — the ground truth the suite measures against.
//!
//! Snapshots of what is PENDING come from the emulator's control API (`?status=PENDING`), so
//! they are cheap even on a 22,000-invitation account. Diffing two snapshots gives exactly the
//! transitions that happened in between (driver changes, expiries caused by moving the clock,
//! cancellations made by auto-cancel) and the invitations that appeared.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use harness::stack::Stack;
use serde::Serialize;
use serde_json::Value;

use crate::{Error, Result};

/// Page size of every listing the functions make (the APIs' maximum).
pub const PAGE_SIZE: u64 = 100;

/// Calls needed to page through `n` items: ⌈n/100⌉, and one call even for an empty listing.
pub fn pages(n: u64) -> u64 {
    n.div_ceil(PAGE_SIZE).max(1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Connection,
    Engagement,
}

impl Kind {
    /// The control API's path segment and the events' `detail.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Connection => "connection",
            Kind::Engagement => "engagement",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "connection" => Some(Kind::Connection),
            "engagement" => Some(Kind::Engagement),
            _ => None,
        }
    }

    /// The first word of this kind's detail-types.
    pub fn detail_type_prefix(self) -> &'static str {
        match self {
            Kind::Connection => "Connection Invitation",
            Kind::Engagement => "Engagement Invitation",
        }
    }

    fn collection(self) -> &'static str {
        match self {
            Kind::Connection => "ConnectionInvitations",
            Kind::Engagement => "EngagementInvitations",
        }
    }
}

/// The detail-type announcing that an invitation of `kind` reached `status`.
pub fn transition_detail_type(kind: Kind, status: &str) -> String {
    let word = match status {
        "ACCEPTED" => "Accepted",
        "REJECTED" => "Rejected",
        "CANCELED" => "Canceled",
        "EXPIRED" => "Expired",
        other => other,
    };
    format!("{} {word}", kind.detail_type_prefix())
}

/// One invitation, the fields the suite needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inv {
    pub kind: Kind,
    pub id: String,
    pub status: String,
    pub participant: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn ts(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc))
}

impl Inv {
    fn from_json(kind: Kind, v: &Value) -> Result<Inv> {
        let (created, expires) = match kind {
            Kind::Connection => ("CreatedAt", "ExpiresAt"),
            Kind::Engagement => ("InvitationDate", "ExpirationDate"),
        };
        let text =
            |k: &str| v[k].as_str().map(str::to_owned).ok_or_else(|| Error::msg(format!("{kind:?} without {k}: {v}")));
        Ok(Inv {
            kind,
            id: text("Id")?,
            status: text("Status")?,
            participant: text("ParticipantType")?,
            created_at: ts(&v[created]).ok_or_else(|| Error::msg(format!("{kind:?} without {created}: {v}")))?,
            expires_at: ts(&v[expires]),
        })
    }

    pub fn key(&self) -> (Kind, String) {
        (self.kind, self.id.clone())
    }
}

/// Every invitation of `kind` in catalog AWS (optionally only those with `status`).
pub async fn list(stack: &Stack, kind: Kind, status: Option<&str>) -> Result<Vec<Inv>> {
    let mut path = format!("{}-invitations?catalog=AWS", kind.as_str());
    if let Some(s) = status {
        path.push_str("&status=");
        path.push_str(s);
    }
    let v = stack.emulator_control("GET", &path, None).await?;
    v[kind.collection()]
        .as_array()
        .ok_or_else(|| Error::msg(format!("GET {path}: no {}", kind.collection())))?
        .iter()
        .map(|x| Inv::from_json(kind, x))
        .collect()
}

/// One invitation as stored now.
pub async fn get(stack: &Stack, kind: Kind, id: &str) -> Result<Inv> {
    let v = stack.emulator_control("GET", &format!("{}-invitations/AWS/{id}", kind.as_str()), None).await?;
    Inv::from_json(kind, &v)
}

/// Sizes of the listings a poller pages through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Listings {
    pub connections: u64,
    /// Of which we sent (auto-cancel's listing).
    pub connections_sender: u64,
    pub engagements_receiver: u64,
    pub engagements_sender: u64,
}

impl Listings {
    pub fn of(invs: &[Inv]) -> Listings {
        let mut l = Listings::default();
        for i in invs {
            match (i.kind, i.participant.as_str()) {
                (Kind::Connection, p) => {
                    l.connections += 1;
                    if p == "SENDER" {
                        l.connections_sender += 1;
                    }
                }
                (Kind::Engagement, "SENDER") => l.engagements_sender += 1,
                (Kind::Engagement, _) => l.engagements_receiver += 1,
            }
        }
        l
    }

    /// Calls to page through each of the three listings once.
    pub fn pages(&self) -> u64 {
        pages(self.connections) + pages(self.engagements_receiver) + pages(self.engagements_sender)
    }

    pub fn total(&self) -> u64 {
        self.connections + self.engagements_receiver + self.engagements_sender
    }
}

/// A true status change, as the emulator recorded it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub kind: Kind,
    pub id: String,
    pub from: String,
    pub to: String,
    pub participant: String,
    /// Which step of the scenario it happened in, and what caused it.
    pub step: usize,
    pub cause: String,
}

impl Transition {
    pub fn detail_type(&self) -> String {
        transition_detail_type(self.kind, &self.to)
    }
}

/// What changed since the previous observation.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub transitions: Vec<Transition>,
    pub appeared: Vec<Inv>,
}

/// The ground truth: what is pending now, and every transition and new invitation so far.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    pub pending: BTreeMap<(Kind, String), Inv>,
    pub transitions: Vec<Transition>,
    pub appeared: Vec<Inv>,
    /// Every expiry instant each invitation had while pending (warnings are per expiry).
    pub expiries: BTreeMap<(Kind, String), Vec<DateTime<Utc>>>,
}

impl Truth {
    /// Start from what is pending now.
    pub async fn start(stack: &Stack) -> Result<Truth> {
        let mut t = Truth::default();
        for inv in pending(stack).await? {
            t.note_expiry(&inv);
            t.pending.insert(inv.key(), inv);
        }
        Ok(t)
    }

    fn note_expiry(&mut self, inv: &Inv) {
        if let Some(e) = inv.expires_at {
            let list = self.expiries.entry(inv.key()).or_default();
            if !list.contains(&e) {
                list.push(e);
            }
        }
    }

    /// Look again: what left PENDING (and for which status), and what appeared.
    pub async fn observe(&mut self, stack: &Stack, step: usize, cause: &str) -> Result<Changes> {
        let now: BTreeMap<(Kind, String), Inv> = pending(stack).await?.into_iter().map(|i| (i.key(), i)).collect();
        let mut changes = Changes::default();
        for (key, before) in &self.pending {
            if now.contains_key(key) {
                continue;
            }
            let after = get(stack, key.0, &key.1).await?;
            changes.transitions.push(Transition {
                kind: key.0,
                id: key.1.clone(),
                from: before.status.clone(),
                to: after.status,
                participant: before.participant.clone(),
                step,
                cause: cause.to_owned(),
            });
        }
        for (key, inv) in &now {
            if !self.pending.contains_key(key) {
                changes.appeared.push(inv.clone());
            }
        }
        for inv in now.values() {
            self.note_expiry(inv);
        }
        self.pending = now;
        self.transitions.extend(changes.transitions.iter().cloned());
        self.appeared.extend(changes.appeared.iter().cloned());
        Ok(changes)
    }

    pub fn pending_listings(&self) -> Listings {
        Listings::of(&self.pending.values().cloned().collect::<Vec<_>>())
    }
}

/// Everything PENDING now, both kinds.
pub async fn pending(stack: &Stack) -> Result<Vec<Inv>> {
    let mut all = list(stack, Kind::Connection, Some("PENDING")).await?;
    all.extend(list(stack, Kind::Engagement, Some("PENDING")).await?);
    Ok(all)
}

/// The emulator's clock.
pub async fn now(stack: &Stack) -> Result<DateTime<Utc>> {
    stack.emulator_now().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_up_and_an_empty_listing_still_costs_a_call() {
        assert_eq!(pages(0), 1);
        assert_eq!(pages(1), 1);
        assert_eq!(pages(100), 1);
        assert_eq!(pages(101), 2);
        assert_eq!(pages(20_000), 200);
    }

    #[test]
    fn detail_types_follow_the_contract() {
        assert_eq!(transition_detail_type(Kind::Connection, "CANCELED"), "Connection Invitation Canceled");
        assert_eq!(transition_detail_type(Kind::Engagement, "EXPIRED"), "Engagement Invitation Expired");
    }
}
