//! Request counters (`GET /_emulator/stats`).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

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
    /// Per API (`Account`, `Selling`): the most write requests (operations the model does not
    /// mark `readonly`) received in any sliding one-second window of wall-clock time.
    pub max_writes_per_second: BTreeMap<String, usize>,
    /// Arrival instants of each API's writes within the last second.
    #[serde(skip)]
    write_windows: BTreeMap<String, VecDeque<Instant>>,
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

    /// Note a write request of `api` arriving at `now`.
    pub fn write_arrived(&mut self, api: &str, now: Instant) {
        let window = self.write_windows.entry(api.to_owned()).or_default();
        while window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            window.pop_front();
        }
        window.push_back(now);
        let max = self.max_writes_per_second.entry(api.to_owned()).or_default();
        *max = (*max).max(window.len());
    }

    /// Count one injected fault.
    pub fn fault(&mut self, kind: &str) {
        *self.faults.entry(kind.to_owned()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_counted_per_api_over_a_sliding_second() {
        let mut s = Stats::default();
        let t0 = Instant::now();
        for ms in [0, 400, 999] {
            s.write_arrived("Selling", t0 + Duration::from_millis(ms));
        }
        s.write_arrived("Selling", t0 + Duration::from_millis(2500));
        s.write_arrived("Account", t0);
        assert_eq!(s.max_writes_per_second.get("Selling"), Some(&3));
        assert_eq!(s.max_writes_per_second.get("Account"), Some(&1));
        let mut spaced = Stats::default();
        for ms in [0, 1000, 2000] {
            spaced.write_arrived("Selling", t0 + Duration::from_millis(ms));
        }
        assert_eq!(spaced.max_writes_per_second.get("Selling"), Some(&1), "a second apart is one per window");
    }
}
