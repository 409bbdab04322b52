//! Holding one AWS request at a known point, for crash tests: "hold the N-th request (of an
//! operation) before it runs, or after it ran but before its answer is sent, tell me, and let
//! it go when I say so". A test arms a hold, waits until a request is held, kills the client
//! process (so the crash happens exactly between, say, a cancellation taking effect and the
//! client recording it), then releases the request.
//!
//! Only requests that are about to be served count: a request the fault injection rejects
//! or that fails validation never reaches the hold points. Control API: see the README
//! (`/_emulator/hold`).

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, oneshot};

/// Where a request is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldPhase {
    /// Before the operation runs: nothing has happened yet.
    #[default]
    Before,
    /// After the operation ran (its effect is stored), before the answer is sent.
    After,
}

/// What to hold (`POST /_emulator/hold`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldSpec {
    /// Hold the N-th matching request counted from when the hold was armed (1 = the next).
    pub nth: u64,
    /// Only count requests of this operation (e.g. `CancelConnectionInvitation`); any if absent.
    #[serde(default)]
    pub operation: Option<String>,
    #[serde(default)]
    pub phase: HoldPhase,
}

impl HoldSpec {
    pub fn check(&self) -> Result<(), String> {
        if self.nth == 0 {
            return Err("nth must be at least 1 (1 = the next matching request)".into());
        }
        Ok(())
    }
}

/// A request being held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldRequest {
    pub operation: String,
    pub phase: HoldPhase,
    /// Its number among the matching requests (= the spec's `nth`).
    pub nth: u64,
}

/// The hold state (`GET /_emulator/hold`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct HoldStatus {
    /// The armed spec, until a request matches it.
    pub armed: Option<HoldSpec>,
    /// Matching requests seen since the hold was armed.
    pub seen: u64,
    /// The request being held now.
    pub held: Option<HeldRequest>,
    /// Requests held and released so far (since start or reset).
    pub released: u64,
}

/// Runtime hold state, shared by all connections.
#[derive(Debug, Default)]
pub struct Holds {
    status: HoldStatus,
    release: Option<oneshot::Sender<()>>,
}

/// Signals "a request is now held" to waiters.
#[derive(Debug, Default)]
pub struct HoldSignal(pub Notify);

impl Holds {
    pub fn status(&self) -> HoldStatus {
        self.status.clone()
    }

    /// Arm a hold (replacing one still armed). A request already held stays held.
    pub fn arm(&mut self, spec: HoldSpec) -> Result<(), String> {
        spec.check()?;
        self.status.armed = Some(spec);
        self.status.seen = 0;
        Ok(())
    }

    /// Disarm and let a held request go. Returns whether one was held.
    pub fn release(&mut self) -> bool {
        self.status.armed = None;
        self.status.seen = 0;
        let was_held = self.status.held.take().is_some();
        if let Some(tx) = self.release.take() {
            // The held request may have been dropped (its connection closed): nothing to do.
            if tx.send(()).is_err() {
                tracing::debug!("held request was already gone when released");
            }
        }
        if was_held {
            self.status.released += 1;
        }
        was_held
    }

    /// A request of `operation` reached `phase`. When it is the armed one, returns the
    /// receiver it must wait on before going on.
    pub fn reach(&mut self, operation: &str, phase: HoldPhase) -> Option<oneshot::Receiver<()>> {
        let spec = self.status.armed.as_ref()?;
        if spec.phase != phase || spec.operation.as_deref().is_some_and(|o| o != operation) {
            return None;
        }
        self.status.seen += 1;
        if self.status.seen < spec.nth {
            return None;
        }
        let nth = spec.nth;
        self.status.armed = None;
        self.status.held = Some(HeldRequest { operation: operation.to_owned(), phase, nth });
        let (tx, rx) = oneshot::channel();
        self.release = Some(tx);
        Some(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_nth_matching_request_at_its_phase() {
        let mut h = Holds::default();
        h.arm(HoldSpec { nth: 2, operation: Some("Cancel".into()), phase: HoldPhase::After }).expect("valid");
        assert!(h.reach("Cancel", HoldPhase::Before).is_none(), "other phase");
        assert!(h.reach("List", HoldPhase::After).is_none(), "other operation");
        assert!(h.reach("Cancel", HoldPhase::After).is_none(), "first match");
        let rx = h.reach("Cancel", HoldPhase::After);
        assert!(rx.is_some(), "second match is held");
        assert_eq!(h.status().held.map(|r| r.nth), Some(2));
        assert!(h.status().armed.is_none(), "a hold fires once");
        assert!(h.reach("Cancel", HoldPhase::After).is_none());
        assert!(h.release());
        assert_eq!(h.status().released, 1);
        assert!(h.status().held.is_none());
        assert!(!h.release(), "nothing held any more");
    }

    #[test]
    fn zero_is_not_a_request_number() {
        let mut h = Holds::default();
        assert!(h.arm(HoldSpec { nth: 0, operation: None, phase: HoldPhase::Before }).is_err());
    }
}
