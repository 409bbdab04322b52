//! auto-respond's configuration: the common and state settings of every function, plus the
//! response policy (inline or from a file), validated once at start-up.

use shared::config::{CommonConfig, Env, StateConfig};
pub use shared::policy::StartupError;
use shared::policy::{PolicySource, PolicyVariables};

use crate::policy::{self, Policy};

/// `RESPOND_POLICY`: the policy document itself (JSON); `RESPOND_POLICY_FILE`: a path to it.
const POLICY_VARIABLES: PolicyVariables =
    PolicyVariables { inline: "RESPOND_POLICY", file: "RESPOND_POLICY_FILE", what: "response policy" };

/// Everything auto-respond reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub state: StateConfig,
    pub policy: Policy,
    pub policy_source: PolicySource,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, StartupError> {
        let common = CommonConfig::from_env(env)?;
        let state = StateConfig::from_env(env)?;
        let (policy, policy_source) = POLICY_VARIABLES.load(env, policy::parse)?;
        Ok(Config { common, state, policy, policy_source })
    }
}

#[cfg(test)]
mod tests {
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
}
