//! Configuration of native-relay, read and validated once at start-up: the common
//! variables, the state table, and the same followed sides and personal-data switch as
//! list-and-publish (the relay publishes the same events as it does).

use shared::config::{CommonConfig, ConfigError, Env, StateConfig};
use shared::domain::ParticipantType;

use crate::native::Scope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub common: CommonConfig,
    pub state: StateConfig,
    /// `ENGAGEMENT_PARTICIPANT_TYPES`: which sides of engagement invitations are followed.
    pub engagement_participant_types: Vec<ParticipantType>,
    /// `INCLUDE_CONTACT_DETAILS`: keep the inviter's e-mail address and message in events.
    pub include_contact_details: bool,
    /// `OWN_ACCOUNT_ID`: the AWS account the stack is deployed in (the template sets it to
    /// `AWS::AccountId`). Native events of other accounts are ignored, and our side of an
    /// engagement invitation is read from its Get against it. From the environment, once:
    /// no STS call per invocation.
    pub own_account_id: String,
}

/// What `OWN_ACCOUNT_ID` accepts.
const ACCOUNT_ACCEPTED: &str = "a 12-digit AWS account id (the template sets AWS::AccountId)";

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Config {
            common: CommonConfig::from_env(env)?,
            state: StateConfig::from_env(env)?,
            engagement_participant_types: env.participant_types("ENGAGEMENT_PARTICIPANT_TYPES")?,
            include_contact_details: env.include_contact_details()?,
            own_account_id: account_id(env)?,
        })
    }

    /// Which native events are ours to relay.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            catalog: self.common.catalog,
            followed: &self.engagement_participant_types,
            account: &self.own_account_id,
        }
    }
}

fn account_id(env: &Env) -> Result<String, ConfigError> {
    const VARIABLE: &str = "OWN_ACCOUNT_ID";
    let raw = env.required(VARIABLE, ACCOUNT_ACCEPTED)?;
    let id = raw.trim();
    match id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        true => Ok(id.to_owned()),
        false => Err(ConfigError::invalid(VARIABLE, &raw, "not 12 digits", ACCOUNT_ACCEPTED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_account(account: Option<&str>) -> Result<Config, String> {
        let mut pairs = vec![("CATALOG", "AWS"), ("EVENT_BUS_NAME", "invitations"), ("STATE_TABLE_NAME", "state")];
        pairs.extend(account.map(|a| ("OWN_ACCOUNT_ID", a)));
        Config::from_env(&Env::from_pairs(pairs)).map_err(|e| e.to_string())
    }

    #[test]
    fn our_account_is_required_and_must_be_an_account_id() {
        assert_eq!(with_account(Some(" 111122223333 ")).map(|c| c.own_account_id), Ok("111122223333".to_owned()));
        assert_eq!(
            with_account(None).err(),
            Some(format!("OWN_ACCOUNT_ID is required but not set (accepted: {ACCOUNT_ACCEPTED})"))
        );
        assert_eq!(
            with_account(Some("1111-2222-3333")).err(),
            Some(format!("OWN_ACCOUNT_ID=\"1111-2222-3333\" is invalid: not 12 digits (accepted: {ACCOUNT_ACCEPTED})"))
        );
    }
}
