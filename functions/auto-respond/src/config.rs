//! auto-respond's configuration: the common and state settings of every function, plus the
//! response policy (inline, from a file or from an SSM parameter), validated once at start-up.

use shared::config::{CommonConfig, Env, StateConfig};
pub use shared::policy::StartupError;
use shared::policy::source::Source;
use shared::policy::{PolicyOrigin, PolicySources, PolicyStartupError, PolicyVariables};
use shared::ports::ParameterStore;

use crate::policy::{self, Policy};

/// `RESPOND_POLICY`: the policy document itself (JSON); `RESPOND_POLICY_FILE`: a path to it.
const POLICY_VARIABLES: PolicyVariables =
    PolicyVariables { inline: "RESPOND_POLICY", file: "RESPOND_POLICY_FILE", what: "response policy" };

/// …or `RESPOND_POLICY_PARAMETER`: the name of an SSM parameter holding it (a policy larger
/// than Lambda's 4 KB environment allows).
pub const POLICY_SOURCES: PolicySources =
    PolicySources { variables: POLICY_VARIABLES, parameter: "RESPOND_POLICY_PARAMETER" };

/// Everything auto-respond reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub state: StateConfig,
    pub policy: Policy,
    pub policy_source: PolicyOrigin,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, StartupError> {
        let common = CommonConfig::from_env(env)?;
        let state = StateConfig::from_env(env)?;
        let (policy, policy_source) = POLICY_VARIABLES.load(env, policy::parse)?;
        Ok(Config { common, state, policy, policy_source: policy_source.into() })
    }

    /// As [`Config::from_env`], but when `RESPOND_POLICY_PARAMETER` is set the policy is read
    /// from that SSM parameter (once, at start-up) and validated the same way.
    pub async fn load(env: &Env, parameters: &impl ParameterStore) -> Result<Config, PolicyStartupError> {
        if POLICY_SOURCES.source(env)? == Source::Environment {
            return Ok(Config::from_env(env)?);
        }
        let common = CommonConfig::from_env(env)?;
        let state = StateConfig::from_env(env)?;
        let (policy, policy_source) = POLICY_SOURCES.load(env, parameters, policy::parse).await?;
        Ok(Config { common, state, policy, policy_source })
    }
}

#[cfg(test)]
mod tests {
    use shared::testing::FixedParameters;

    use super::*;

    fn error(policy: &'static str) -> String {
        let env = Env::from_pairs([
            ("CATALOG", "Sandbox"),
            ("EVENT_BUS_NAME", "bus"),
            ("STATE_TABLE_NAME", "state"),
            ("RESPOND_POLICY", policy),
        ]);
        Config::from_env(&env).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn the_policy_is_read_from_respond_policy_and_errors_name_variable_and_path() {
        assert_eq!(error(r#"{"version": 1}"#), "");
        let m =
            error(r#"{"version": 1, "rules": [{"name": "a", "match": {"olderThanHours": 1}, "action": "decline"}]}"#);
        assert_eq!(
            m,
            "RESPOND_POLICY: invalid response policy: rules[0].action: unknown action \"decline\" (accepted: accept, reject)"
        );
        let none = Config::from_env(&Env::from_pairs([
            ("CATALOG", "AWS"),
            ("EVENT_BUS_NAME", "bus"),
            ("STATE_TABLE_NAME", "state"),
        ]));
        let m = none.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("RESPOND_POLICY ") && m.contains("RESPOND_POLICY_FILE") && m.contains("neither"), "{m}");
    }

    #[tokio::test]
    async fn the_policy_may_come_from_the_ssm_parameter_respond_policy_parameter() {
        let env = Env::from_pairs([
            ("CATALOG", "Sandbox"),
            ("EVENT_BUS_NAME", "bus"),
            ("STATE_TABLE_NAME", "state"),
            ("RESPOND_POLICY_PARAMETER", "/invitations/respond-policy:3"),
        ]);
        let store = FixedParameters::default().with("/invitations/respond-policy:3", r#"{"version": 1}"#, 3);
        let c = Config::load(&env, &store).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.policy_source.to_string(),
            r#"RESPOND_POLICY_PARAMETER="/invitations/respond-policy:3" (version 3)"#
        );
        let m = Config::load(&env, &FixedParameters::default()).await.err().map(|e| e.to_string());
        assert_eq!(
            m.as_deref(),
            Some(
                r#"RESPOND_POLICY_PARAMETER="/invitations/respond-policy:3": cannot read the SSM parameter: no such parameter (ParameterNotFound)"#
            )
        );
    }
}
