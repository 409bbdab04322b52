//! The emulator's mutable state: invitations per catalog, connections, idempotency records,
//! the virtual clock, and lazy expiry.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::clock::{Ts, VirtualClock};
use crate::data::{Connection, ConnectionInvitation, EngagementInvitation, status};
use crate::rng::{ALNUM, LOWER_ALNUM, SplitMix64};
use crate::seed::SeedData;

/// One catalog's data; catalogs never see each other's.
#[derive(Debug, Clone, Default)]
pub struct CatalogData {
    pub connection_invitations: HashMap<String, ConnectionInvitation>,
    pub engagement_invitations: HashMap<String, EngagementInvitation>,
    /// Connections by other participant's account id.
    pub connections: HashMap<String, Connection>,
}

/// A successful answer remembered for a `ClientToken`.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    /// Canonical request without the token.
    pub fingerprint: String,
    pub response: Value,
}

/// Everything the AWS operations read and write.
#[derive(Debug)]
pub struct State {
    pub catalogs: BTreeMap<String, CatalogData>,
    pub clock: VirtualClock,
    /// (catalog, operation, client token) → first successful answer.
    pub idempotency: HashMap<(String, String, String), IdempotencyRecord>,
    ids: SplitMix64,
    /// Earliest expiry among PENDING invitations (a lower bound: `None` = nothing pending).
    next_expiry: Option<Ts>,
}

impl State {
    /// Empty state.
    pub fn new(clock: VirtualClock, id_seed: u64) -> Self {
        State {
            catalogs: BTreeMap::new(),
            clock,
            idempotency: HashMap::new(),
            ids: SplitMix64::new(id_seed ^ 0x05EE_D1D5),
            next_expiry: None,
        }
    }

    /// Load seed records (replacing records with the same catalog + id).
    pub fn load(&mut self, data: SeedData) {
        for c in data.connection_invitations {
            self.upsert_connection_invitation(c);
        }
        for e in data.engagement_invitations {
            self.upsert_engagement_invitation(e);
        }
    }

    /// The clock's current reading.
    pub fn now(&self) -> Ts {
        self.clock.now()
    }

    /// A catalog's data (created empty on first use).
    pub fn catalog_mut(&mut self, catalog: &str) -> &mut CatalogData {
        self.catalogs.entry(catalog.to_owned()).or_default()
    }

    /// A catalog's data, if any exists.
    pub fn catalog(&self, catalog: &str) -> Option<&CatalogData> {
        self.catalogs.get(catalog)
    }

    fn note_expiry(&mut self, status: &str, expiry: Option<Ts>) {
        if status == status::PENDING
            && let Some(t) = expiry
        {
            self.next_expiry = Some(self.next_expiry.map_or(t, |n| n.min(t)));
        }
    }

    /// Insert or replace a connection invitation.
    pub fn upsert_connection_invitation(&mut self, c: ConnectionInvitation) {
        self.note_expiry(&c.status, c.expires_at);
        self.catalog_mut(&c.catalog.clone()).connection_invitations.insert(c.id.clone(), c);
    }

    /// Insert or replace an engagement invitation.
    pub fn upsert_engagement_invitation(&mut self, e: EngagementInvitation) {
        self.note_expiry(&e.status, Some(e.expiration_date));
        self.catalog_mut(&e.catalog.clone()).engagement_invitations.insert(e.id.clone(), e);
    }

    /// Turn every PENDING invitation whose expiry has passed into EXPIRED (its `UpdatedAt`
    /// becomes the expiry instant). Cheap when nothing is due. Returns how many expired.
    pub fn expire_due(&mut self) -> usize {
        let now = self.now();
        match self.next_expiry {
            Some(t) if t <= now => {}
            _ => return 0,
        }
        let mut expired = 0;
        let mut next: Option<Ts> = None;
        let mut keep_min = |t: Ts| next = Some(next.map_or(t, |n: Ts| n.min(t)));
        for cat in self.catalogs.values_mut() {
            for c in cat.connection_invitations.values_mut() {
                if c.status != status::PENDING {
                    continue;
                }
                if let Some(exp) = c.expires_at {
                    if exp <= now {
                        c.status = status::EXPIRED.to_owned();
                        c.updated_at = exp.max(c.updated_at);
                        expired += 1;
                    } else {
                        keep_min(exp);
                    }
                }
            }
            for e in cat.engagement_invitations.values_mut() {
                if e.status != status::PENDING {
                    continue;
                }
                if e.expiration_date <= now {
                    e.status = status::EXPIRED.to_owned();
                    expired += 1;
                } else {
                    keep_min(e.expiration_date);
                }
            }
        }
        self.next_expiry = next;
        expired
    }

    /// A fresh `prefix` + `len` random characters, unique among `taken`.
    pub fn new_id(&mut self, prefix: &str, lower: bool, len: usize, taken: impl Fn(&str) -> bool) -> String {
        loop {
            let alphabet = if lower { LOWER_ALNUM } else { ALNUM };
            let id = format!("{prefix}{}", self.ids.string(alphabet, len));
            if !taken(&id) {
                return id;
            }
        }
    }

    /// Total numbers of (connection, engagement) invitations.
    pub fn counts(&self) -> (usize, usize) {
        self.catalogs
            .values()
            .fold((0, 0), |(c, e), cat| (c + cat.connection_invitations.len(), e + cat.engagement_invitations.len()))
    }
}
