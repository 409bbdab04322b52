//! Configuration of native-relay, read and validated once at start-up: the common
//! variables, the state table, and the same followed sides and personal-data switch as
//! list-and-publish (the relay publishes the same events as it does).

use shared::config::{CommonConfig, ConfigError, Env, StateConfig};
use shared::domain::ParticipantType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub common: CommonConfig,
    pub state: StateConfig,
    /// `ENGAGEMENT_PARTICIPANT_TYPES`: which sides of engagement invitations are followed.
    pub engagement_participant_types: Vec<ParticipantType>,
    /// `INCLUDE_CONTACT_DETAILS`: keep the inviter's e-mail address and message in events.
    pub include_contact_details: bool,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Config {
            common: CommonConfig::from_env(env)?,
            state: StateConfig::from_env(env)?,
            engagement_participant_types: env.participant_types("ENGAGEMENT_PARTICIPANT_TYPES")?,
            include_contact_details: env.include_contact_details()?,
        })
    }
}
