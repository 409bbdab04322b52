//! The sweeper's configuration, read and validated once at start-up. A bad value fails
//! start-up with an error naming the variable, the value and what is accepted.

use shared::config::{CommonConfig, ConfigError, Env, StateConfig};
use shared::domain::{Catalog, ParticipantType};

/// Default `EXPIRY_WARNING_HOURS`.
pub const DEFAULT_WARNING_HOURS: [u32; 3] = [72, 24, 4];
/// Largest accepted warning threshold (a year; invitations live days, not years).
pub const MAX_WARNING_HOURS: u32 = 8760;

const WARNING_HOURS_ACCEPTED: &str = "a comma-separated list of whole hours from 1 to 8760, e.g. 72,24,4";

/// Everything the function reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub common: CommonConfig,
    pub state: StateConfig,
    pub sweep: SweepSettings,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_env(env)?;
        let state = StateConfig::from_env(env)?;
        let sweep = SweepSettings::from_env(env, common.catalog, state.retention())?;
        Ok(Config { common, state, sweep })
    }
}

/// What a sweep does; the handler's own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepSettings {
    pub catalog: Catalog,
    /// `EXPIRY_WARNING_HOURS`: thresholds, ascending, no duplicates, never empty.
    pub warning_hours: Vec<u32>,
    /// `EXPIRY_PARTICIPANT_TYPES`: which sides to sweep (SENDER first when both).
    pub participant_types: Vec<ParticipantType>,
    /// `DIGEST`: publish the digest on every run (an invoke payload can override it).
    pub digest: bool,
    /// `INCLUDE_CONTACT_DETAILS`: keep the inviter's e-mail address in published events.
    pub include_contact_details: bool,
    /// `RETENTION_DAYS` (from the state configuration): how long finished invitations'
    /// records are kept. An unknown invitation overdue by more than this is not reported
    /// again as expired (its record may have been removed by the table's TTL).
    pub retention: chrono::Duration,
}

impl SweepSettings {
    pub fn from_env(env: &Env, catalog: Catalog, retention: chrono::Duration) -> Result<Self, ConfigError> {
        let mut warning_hours =
            env.list_or("EXPIRY_WARNING_HOURS", DEFAULT_WARNING_HOURS.to_vec(), WARNING_HOURS_ACCEPTED, parse_hours)?;
        warning_hours.sort_unstable();
        warning_hours.dedup();

        let mut participant_types = env.participant_types("EXPIRY_PARTICIPANT_TYPES")?;
        participant_types.sort_unstable();

        Ok(SweepSettings {
            catalog,
            warning_hours,
            participant_types,
            digest: env.flag("DIGEST", false)?,
            include_contact_details: env.include_contact_details()?,
            retention,
        })
    }

    /// The largest threshold: the digest's window.
    pub fn largest_threshold(&self) -> u32 {
        self.warning_hours.last().copied().unwrap_or(0)
    }

    /// Whether both participant types are swept.
    pub fn both_sides(&self) -> bool {
        ParticipantType::ALL.iter().all(|p| self.participant_types.contains(p))
    }
}

fn parse_hours(item: &str) -> Result<u32, String> {
    let hours: i64 = item.parse().map_err(|_| "not a whole number of hours".to_owned())?;
    if hours < 1 {
        return Err("must be at least 1".to_owned());
    }
    u32::try_from(hours)
        .ok()
        .filter(|h| *h <= MAX_WARNING_HOURS)
        .ok_or_else(|| format!("must be at most {MAX_WARNING_HOURS}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![("CATALOG", "AWS"), ("EVENT_BUS_NAME", "pc-bus"), ("STATE_TABLE_NAME", "pc-state")]
    }

    fn load(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut pairs = base();
        pairs.extend_from_slice(extra);
        Config::from_env(&Env::from_pairs(pairs))
    }

    fn error(extra: &[(&'static str, &'static str)]) -> String {
        load(extra).err().map(|e| e.to_string()).unwrap_or_else(|| panic!("{extra:?} was accepted"))
    }

    #[test]
    fn defaults() {
        let c = load(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.sweep.warning_hours, [4, 24, 72]);
        assert_eq!(c.sweep.participant_types, [ParticipantType::Sender, ParticipantType::Receiver]);
        assert!(!c.sweep.digest && !c.sweep.include_contact_details);
        assert_eq!(c.sweep.retention, chrono::Duration::days(30));
        assert_eq!(c.sweep.largest_threshold(), 72);
        assert!(c.sweep.both_sides());
    }

    #[test]
    fn thresholds_are_sorted_and_deduplicated() {
        let c = load(&[("EXPIRY_WARNING_HOURS", " 24, 168,4,24 ")]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.sweep.warning_hours, [4, 24, 168]);
        assert_eq!(c.sweep.largest_threshold(), 168);
    }

    #[test]
    fn invalid_thresholds_name_the_variable_the_value_and_what_is_accepted() {
        for (value, problem) in [
            ("abc", "\"abc\": not a whole number"),
            ("-1", "\"-1\": must be at least 1"),
            ("0", "\"0\": must be at least 1"),
            ("72,2.5", "\"2.5\": not a whole number"),
            ("9000", "\"9000\": must be at most 8760"),
            ("", "empty list"),
            (" , ", "empty list"),
        ] {
            let m = error(&[("EXPIRY_WARNING_HOURS", value)]);
            assert!(m.starts_with(&format!("EXPIRY_WARNING_HOURS={value:?} is invalid")), "{m}");
            assert!(m.contains(problem), "{value:?}: {m}");
            assert!(m.contains("whole hours from 1 to 8760"), "{m}");
        }
    }

    #[test]
    fn participant_types_narrow_the_sweep() {
        let c = load(&[("EXPIRY_PARTICIPANT_TYPES", "receiver")]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.sweep.participant_types, [ParticipantType::Receiver]);
        assert!(!c.sweep.both_sides());
        let m = error(&[("EXPIRY_PARTICIPANT_TYPES", "RECEIVER,BOTH")]);
        assert!(m.contains("EXPIRY_PARTICIPANT_TYPES=\"RECEIVER,BOTH\"") && m.contains("SENDER, RECEIVER"), "{m}");
        let m = error(&[("EXPIRY_PARTICIPANT_TYPES", "")]);
        assert!(m.contains("EXPIRY_PARTICIPANT_TYPES") && m.contains("empty list"), "{m}");
    }

    #[test]
    fn flags_and_shared_settings_are_validated_too() {
        let c = load(&[("DIGEST", "true"), ("RETENTION_DAYS", "7")]).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.sweep.digest);
        assert_eq!(c.sweep.retention, chrono::Duration::days(7));
        assert!(error(&[("DIGEST", "daily")]).contains("DIGEST=\"daily\""));
        assert!(error(&[("RETENTION_DAYS", "0")]).contains("RETENTION_DAYS=\"0\""));
    }
}
