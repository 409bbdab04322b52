//! Request counters (`GET /_emulator/stats`).

use std::collections::BTreeMap;

use serde::Serialize;

/// Counts for one operation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OperationStats {
    pub requests: u64,
    pub ok: u64,
    /// Error responses by `__type`.
    pub errors: BTreeMap<String, u64>,
}

/// Counters since start or the last reset.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// All AWS-API requests (anything not under `/_emulator/`).
    pub requests_total: u64,
    /// By operation name (`ListConnectionInvitations`, …; `<none>` when the target could
    /// not be read).
    pub operations: BTreeMap<String, OperationStats>,
    /// Error responses by `__type`, all operations together.
    pub errors: BTreeMap<String, u64>,
    /// Injected faults by kind: `throttle`, `error`, `rate_limit`.
    pub faults: BTreeMap<String, u64>,
    /// Responses that failed validation against the model (always 0 unless the emulator has
    /// a bug; such responses are replaced by an `InternalServerException`).
    pub response_violations: u64,
}

impl Stats {
    /// Count one finished request.
    pub fn record(&mut self, operation: &str, error: Option<&str>) {
        self.requests_total += 1;
        let op = self.operations.entry(operation.to_owned()).or_default();
        op.requests += 1;
        match error {
            None => op.ok += 1,
            Some(e) => {
                *op.errors.entry(e.to_owned()).or_default() += 1;
                *self.errors.entry(e.to_owned()).or_default() += 1;
            }
        }
    }

    /// Count one injected fault.
    pub fn fault(&mut self, kind: &str) {
        *self.faults.entry(kind.to_owned()).or_default() += 1;
    }
}
