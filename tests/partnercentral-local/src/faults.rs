//! Fault injection and the request-rate quota.
//!
//! Decided before an operation runs, so a faulted request has no side effect. Random faults
//! come from a seeded PRNG ([`crate::rng::SplitMix64`]): the same seed and the same request
//! sequence give the same faults.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;

/// The fault knobs (CLI flags, builder, and `/_emulator/faults`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Added to every AWS request.
    #[serde(default)]
    pub latency_ms: u64,
    /// Fraction (0..=1) of requests answered with `ThrottlingException` (HTTP 400).
    #[serde(default)]
    pub throttle_rate: f64,
    /// Fraction (0..=1) of requests answered with `InternalServerException` (HTTP 500).
    #[serde(default)]
    pub error_rate: f64,
    /// At most this many AWS requests are served in any one-second window (wall clock);
    /// the rest get `ThrottlingException`, as the real quota does. `None` = unlimited.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Seed of the fault PRNG.
    #[serde(default)]
    pub fault_seed: u64,
}

impl FaultConfig {
    /// Reject rates outside 0..=1 and a zero rate limit.
    pub fn check(&self) -> Result<(), String> {
        for (name, r) in [("throttle_rate", self.throttle_rate), ("error_rate", self.error_rate)] {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("{name} must be between 0 and 1, got {r}"));
            }
        }
        if self.rate_limit == Some(0) {
            return Err("rate_limit must be at least 1 (omit it for no limit)".into());
        }
        Ok(())
    }
}

/// Partial update of a [`FaultConfig`] (`POST /_emulator/faults`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPatch {
    pub latency_ms: Option<u64>,
    pub throttle_rate: Option<f64>,
    pub error_rate: Option<f64>,
    /// `null` or `0` removes the limit.
    #[serde(default, deserialize_with = "double_option")]
    pub rate_limit: Option<Option<u32>>,
    pub fault_seed: Option<u64>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Ok(Some(Option::<u32>::deserialize(d)?))
}

/// What to do with one AWS request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Serve,
    /// Over the per-second quota.
    RateLimited,
    /// Random `ThrottlingException`.
    Throttle,
    /// Random `InternalServerException`.
    InternalError,
}

/// Runtime fault state.
#[derive(Debug)]
pub struct Faults {
    pub config: FaultConfig,
    rng: SplitMix64,
    /// Instants of requests admitted within the last second.
    admitted: VecDeque<Instant>,
    /// Instants of all requests received within the last second.
    received: VecDeque<Instant>,
    /// Highest number of admitted requests in any one-second window.
    pub max_admitted_per_second: usize,
    /// Highest number of received requests (admitted or rate-limited) in any one-second window.
    pub max_received_per_second: usize,
}

fn slide(q: &mut VecDeque<Instant>, now: Instant) {
    while let Some(front) = q.front() {
        if now.duration_since(*front) >= Duration::from_secs(1) {
            q.pop_front();
        } else {
            break;
        }
    }
}

impl Faults {
    /// Fault state for `config`.
    pub fn new(config: FaultConfig) -> Self {
        Faults {
            rng: SplitMix64::new(config.fault_seed),
            config,
            admitted: VecDeque::new(),
            received: VecDeque::new(),
            max_admitted_per_second: 0,
            max_received_per_second: 0,
        }
    }

    /// Replace the configuration (the PRNG is re-seeded only if the seed changed).
    pub fn set_config(&mut self, config: FaultConfig) {
        if config.fault_seed != self.config.fault_seed {
            self.rng = SplitMix64::new(config.fault_seed);
        }
        self.config = config;
    }

    /// Apply a partial update.
    pub fn patch(&mut self, p: FaultPatch) -> Result<(), String> {
        let mut c = self.config.clone();
        if let Some(v) = p.latency_ms {
            c.latency_ms = v;
        }
        if let Some(v) = p.throttle_rate {
            c.throttle_rate = v;
        }
        if let Some(v) = p.error_rate {
            c.error_rate = v;
        }
        if let Some(v) = p.rate_limit {
            c.rate_limit = v.filter(|n| *n > 0);
        }
        let reseed = p.fault_seed.is_some();
        if let Some(v) = p.fault_seed {
            c.fault_seed = v;
        }
        c.check()?;
        self.set_config(c);
        if reseed {
            self.rng = SplitMix64::new(self.config.fault_seed);
        }
        Ok(())
    }

    /// Forget the per-second windows and their maxima.
    pub fn reset_windows(&mut self) {
        self.admitted.clear();
        self.received.clear();
        self.max_admitted_per_second = 0;
        self.max_received_per_second = 0;
    }

    /// Decide one request's fate at wall-clock instant `now`.
    pub fn decide(&mut self, now: Instant) -> Verdict {
        slide(&mut self.received, now);
        slide(&mut self.admitted, now);
        self.received.push_back(now);
        self.max_received_per_second = self.max_received_per_second.max(self.received.len());
        if let Some(limit) = self.config.rate_limit
            && self.admitted.len() >= limit as usize
        {
            return Verdict::RateLimited;
        }
        self.admitted.push_back(now);
        self.max_admitted_per_second = self.max_admitted_per_second.max(self.admitted.len());
        if self.config.throttle_rate > 0.0 && self.rng.chance(self.config.throttle_rate) {
            return Verdict::Throttle;
        }
        if self.config.error_rate > 0.0 && self.rng.chance(self.config.error_rate) {
            return Verdict::InternalError;
        }
        Verdict::Serve
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_counts_a_sliding_second() {
        let mut f = Faults::new(FaultConfig { rate_limit: Some(3), ..FaultConfig::default() });
        let t0 = Instant::now();
        let v: Vec<Verdict> = (0..5).map(|i| f.decide(t0 + Duration::from_millis(i * 10))).collect();
        assert_eq!(&v[..3], &[Verdict::Serve; 3]);
        assert_eq!(&v[3..], &[Verdict::RateLimited; 2]);
        // One second after the first admitted request, one slot frees up.
        assert_eq!(f.decide(t0 + Duration::from_millis(1000)), Verdict::Serve);
        assert_eq!(f.decide(t0 + Duration::from_millis(1001)), Verdict::RateLimited);
        assert_eq!(f.max_admitted_per_second, 3);
        assert_eq!(f.max_received_per_second, 6);
    }

    #[test]
    fn random_faults_are_deterministic_per_seed() {
        let run = |seed| {
            let mut f = Faults::new(FaultConfig {
                throttle_rate: 0.3,
                error_rate: 0.2,
                fault_seed: seed,
                ..FaultConfig::default()
            });
            let t = Instant::now();
            (0..200).map(|_| f.decide(t)).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        let v = run(1);
        let throttled = v.iter().filter(|x| **x == Verdict::Throttle).count();
        let errors = v.iter().filter(|x| **x == Verdict::InternalError).count();
        assert!((30..=90).contains(&throttled), "{throttled}");
        assert!((10..=60).contains(&errors), "{errors}");
    }

    #[test]
    fn config_checks_and_patches() {
        assert!(FaultConfig { throttle_rate: 1.5, ..Default::default() }.check().is_err());
        let mut f = Faults::new(FaultConfig::default());
        let p: FaultPatch = serde_json::from_str(r#"{"rate_limit": 5, "latency_ms": 3}"#).expect("json");
        f.patch(p).expect("valid");
        assert_eq!(f.config.rate_limit, Some(5));
        assert_eq!(f.config.latency_ms, 3);
        let p: FaultPatch = serde_json::from_str(r#"{"rate_limit": null}"#).expect("json");
        f.patch(p).expect("valid");
        assert_eq!(f.config.rate_limit, None);
        assert_eq!(f.config.latency_ms, 3);
        assert!(serde_json::from_str::<FaultPatch>(r#"{"bogus": 1}"#).is_err());
    }
}
