//! The emulator's virtual clock.
//!
//! It runs at wall-clock speed from wherever it was last set (unless frozen), and can be set or
//! advanced at any time through the control API. Invitation expiry is evaluated against it.
//! All instants are truncated to milliseconds, the precision the emulator stores and emits.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use std::time::Instant;

/// Instants as the emulator stores them.
pub type Ts = DateTime<Utc>;

/// A settable clock.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    base: Ts,
    base_wall: Instant,
    frozen: bool,
}

impl VirtualClock {
    /// A clock reading `start` now.
    pub fn new(start: Ts, frozen: bool) -> Self {
        VirtualClock { base: start.trunc_subsecs(3), base_wall: Instant::now(), frozen }
    }

    /// The current virtual time.
    pub fn now(&self) -> Ts {
        if self.frozen {
            return self.base;
        }
        let elapsed = Duration::from_std(self.base_wall.elapsed()).unwrap_or(Duration::zero());
        (self.base + elapsed).trunc_subsecs(3)
    }

    /// Jump to `t` (forwards or backwards).
    pub fn set(&mut self, t: Ts) {
        self.base = t.trunc_subsecs(3);
        self.base_wall = Instant::now();
    }

    /// Move forwards (or backwards, for a negative duration) by `d`.
    pub fn advance(&mut self, d: Duration) {
        let now = self.now();
        self.set(now + d);
    }

    /// Whether the clock stands still between explicit changes.
    pub fn frozen(&self) -> bool {
        self.frozen
    }

    /// Freeze at the current reading, or let it run again from there.
    pub fn set_frozen(&mut self, frozen: bool) {
        let now = self.now();
        self.frozen = frozen;
        self.set(now);
    }
}

/// RFC 3339 / ISO-8601 in UTC with `Z`, fractional seconds only when not zero
/// (e.g. `2026-11-20T10:00:00Z`, `2026-11-20T10:00:00.250Z`): the model's `iso8601` format.
pub fn fmt_ts(t: &Ts) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Parse an RFC 3339 timestamp (any offset) into UTC, truncated to milliseconds.
pub fn parse_ts(s: &str) -> Result<Ts, chrono::ParseError> {
    Ok(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc).trunc_subsecs(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let start = parse_ts("2026-11-20T10:00:00Z").expect("ts");
        let mut c = VirtualClock::new(start, true);
        assert_eq!(c.now(), start);
        c.advance(Duration::hours(2));
        assert_eq!(fmt_ts(&c.now()), "2026-11-20T12:00:00Z");
        c.set(parse_ts("2027-01-01T00:00:00.250+01:00").expect("ts"));
        assert_eq!(fmt_ts(&c.now()), "2026-12-31T23:00:00.250Z");
    }

    #[test]
    fn running_clock_never_goes_backwards_on_its_own() {
        let start = parse_ts("2026-11-20T10:00:00Z").expect("ts");
        let c = VirtualClock::new(start, false);
        let a = c.now();
        let b = c.now();
        assert!(a >= start && b >= a);
    }
}
