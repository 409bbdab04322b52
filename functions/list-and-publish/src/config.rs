//! Configuration of list-and-publish: the common variables, the state table, and this
//! function's own, parsed and validated once at start-up.

use shared::config::{CommonConfig, ConfigError, Env, StateConfig};
use shared::domain::ParticipantType;
pub use shared::domain::decision::BaselineEvents;

/// Default and bounds of `FULL_SYNC_HOURS`.
pub const DEFAULT_FULL_SYNC_HOURS: u32 = 24;
pub const MAX_FULL_SYNC_HOURS: u32 = 168;

/// Everything list-and-publish is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub common: CommonConfig,
    pub state: StateConfig,
    /// `ENGAGEMENT_PARTICIPANT_TYPES`: which sides of engagement invitations are followed
    /// (non-empty, no duplicates, in the order given).
    pub engagement_participant_types: Vec<ParticipantType>,
    /// `BASELINE_EVENTS`.
    pub baseline_events: BaselineEvents,
    /// `FULL_SYNC_HOURS`: hours between full reconciliations.
    pub full_sync_hours: u32,
    /// `INCLUDE_CONTACT_DETAILS`: keep `inviterEmail` in connection invitation events.
    pub include_contact_details: bool,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let common = CommonConfig::from_env(env)?;
        let state = StateConfig::from_env(env)?;

        let engagement_participant_types = env.participant_types("ENGAGEMENT_PARTICIPANT_TYPES")?;

        let baseline_events = env.parse_or("BASELINE_EVENTS", BaselineEvents::Pending, "pending, all, none")?;

        let days = match state.retention_days {
            1 => "1 day".to_owned(),
            n => format!("{n} days"),
        };
        let hours_accepted = format!(
            "an integer from 1 to {MAX_FULL_SYNC_HOURS}, shorter than RETENTION_DAYS ({days} = {} hours)",
            state.retention_days * 24
        );
        let full_sync_hours: u32 = env.parse_or("FULL_SYNC_HOURS", DEFAULT_FULL_SYNC_HOURS, &hours_accepted)?;
        if !(1..=MAX_FULL_SYNC_HOURS).contains(&full_sync_hours) {
            return Err(ConfigError::invalid(
                "FULL_SYNC_HOURS",
                &full_sync_hours.to_string(),
                "out of range",
                &hours_accepted,
            ));
        }
        // A finished invitation's record must outlive the gap between full syncs, or a full
        // sync could no longer tell "never seen" from "seen, record expired".
        if full_sync_hours >= state.retention_days * 24 {
            return Err(ConfigError::invalid(
                "FULL_SYNC_HOURS",
                &full_sync_hours.to_string(),
                "not shorter than the retention of finished invitations' records (RETENTION_DAYS)",
                &hours_accepted,
            ));
        }

        let include_contact_details = env.include_contact_details()?;

        Ok(Config {
            common,
            state,
            engagement_participant_types,
            baseline_events,
            full_sync_hours,
            include_contact_details,
        })
    }

    pub fn full_sync_interval(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.full_sync_hours))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut pairs = vec![("CATALOG", "AWS"), ("EVENT_BUS_NAME", "invitations"), ("STATE_TABLE_NAME", "state")];
        pairs.extend_from_slice(extra);
        Config::from_env(&Env::from_pairs(pairs))
    }

    fn message(r: Result<Config, ConfigError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn defaults() {
        let c = with(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engagement_participant_types, vec![ParticipantType::Sender, ParticipantType::Receiver]);
        assert_eq!(c.baseline_events, BaselineEvents::Pending);
        assert_eq!(c.full_sync_hours, 24);
        assert!(!c.include_contact_details);
        assert_eq!(c.state.retention_days, 30);
    }

    #[test]
    fn own_variables_are_parsed() {
        let c = with(&[
            ("ENGAGEMENT_PARTICIPANT_TYPES", "receiver, RECEIVER"),
            ("BASELINE_EVENTS", "ALL"),
            ("FULL_SYNC_HOURS", "6"),
            ("INCLUDE_CONTACT_DETAILS", "true"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engagement_participant_types, vec![ParticipantType::Receiver], "deduplicated");
        assert_eq!(c.baseline_events, BaselineEvents::All);
        assert_eq!(c.full_sync_interval(), chrono::Duration::hours(6));
        assert!(c.include_contact_details);
    }

    #[test]
    fn bad_values_name_variable_value_and_what_is_accepted() {
        let m = message(with(&[("ENGAGEMENT_PARTICIPANT_TYPES", "SENDER,BOTH")]));
        assert!(m.contains("ENGAGEMENT_PARTICIPANT_TYPES=\"SENDER,BOTH\"") && m.contains("\"BOTH\""), "{m}");
        assert!(m.contains("SENDER, RECEIVER"), "{m}");
        let m = message(with(&[("ENGAGEMENT_PARTICIPANT_TYPES", " , ")]));
        assert!(m.contains("ENGAGEMENT_PARTICIPANT_TYPES") && m.contains("empty list"), "{m}");
        let m = message(with(&[("BASELINE_EVENTS", "some")]));
        assert!(m.contains("BASELINE_EVENTS=\"some\"") && m.contains("pending, all, none"), "{m}");
        let m = message(with(&[("FULL_SYNC_HOURS", "0")]));
        assert!(m.contains("FULL_SYNC_HOURS=\"0\"") && m.contains("1 to 168"), "{m}");
        let m = message(with(&[("FULL_SYNC_HOURS", "169")]));
        assert!(m.contains("FULL_SYNC_HOURS=\"169\""), "{m}");
        let m = message(with(&[("FULL_SYNC_HOURS", "daily")]));
        assert!(m.contains("FULL_SYNC_HOURS=\"daily\""), "{m}");
        let m = message(with(&[("INCLUDE_CONTACT_DETAILS", "sometimes")]));
        assert!(m.contains("INCLUDE_CONTACT_DETAILS=\"sometimes\"") && m.contains("true, false"), "{m}");
        // Common variables keep their own errors.
        let m = message(with(&[("CATALOG", "aws")]));
        assert!(m.contains("CATALOG=\"aws\""), "{m}");
    }

    #[test]
    fn full_sync_interval_must_be_shorter_than_the_record_retention() {
        let m = message(with(&[("RETENTION_DAYS", "1"), ("FULL_SYNC_HOURS", "24")]));
        assert!(m.contains("FULL_SYNC_HOURS=\"24\"") && m.contains("RETENTION_DAYS (1 day = 24 hours)"), "{m}");
        assert!(with(&[("RETENTION_DAYS", "2"), ("FULL_SYNC_HOURS", "24")]).is_ok());
    }
}
