//! auto-cancel's configuration: the common and state settings of every function, plus the
//! cancellation policy (inline or from a file), validated once at start-up.

use shared::config::{CommonConfig, Env, StateConfig};
pub use shared::policy::StartupError;
use shared::policy::{PolicySource, PolicyVariables};

use crate::policy::{self, Policy};

/// `CANCEL_POLICY`: the policy document itself (JSON); `CANCEL_POLICY_FILE`: a path to it.
const POLICY_VARIABLES: PolicyVariables =
    PolicyVariables { inline: "CANCEL_POLICY", file: "CANCEL_POLICY_FILE", what: "cancellation policy" };

/// Everything auto-cancel reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub state: StateConfig,
    pub policy: Policy,
    pub policy_source: PolicySource,
    /// Keep `details.inviterEmail` in published events (default false: dropped).
    pub include_contact_details: bool,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, StartupError> {
        let common = CommonConfig::from_env(env)?;
        let state = StateConfig::from_env(env)?;
        let include_contact_details = env.include_contact_details()?;
        let (policy, policy_source) = POLICY_VARIABLES.load(env, policy::parse)?;
        Ok(Config { common, state, policy, policy_source, include_contact_details })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{"version": 1, "rules": [{"name": "old", "match": {"olderThanDays": 10}}]}"#;

    fn env(extra: &[(&'static str, &'static str)]) -> Env {
        let mut pairs = vec![("CATALOG", "AWS"), ("EVENT_BUS_NAME", "bus"), ("STATE_TABLE_NAME", "state")];
        pairs.extend_from_slice(extra);
        Env::from_pairs(pairs)
    }

    fn error(extra: &[(&'static str, &'static str)]) -> String {
        Config::from_env(&env(extra)).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn an_inline_policy_is_loaded_and_dry_run_is_the_default() {
        let c = Config::from_env(&env(&[("CANCEL_POLICY", POLICY)])).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.policy.limits.dry_run);
        assert_eq!(c.policy_source, PolicySource::Inline { variable: "CANCEL_POLICY" });
        assert!(!c.include_contact_details);
    }

    #[test]
    fn a_policy_file_is_read() {
        let path = std::env::temp_dir().join(format!("auto-cancel-policy-{}.json", std::process::id()));
        std::fs::write(&path, POLICY).unwrap_or_else(|e| panic!("{e}"));
        let path_str = path.to_string_lossy().into_owned();
        let pairs = [("CATALOG", "AWS"), ("EVENT_BUS_NAME", "bus"), ("STATE_TABLE_NAME", "state")];
        let mut pairs: Vec<(&str, &str)> = pairs.to_vec();
        pairs.push(("CANCEL_POLICY_FILE", &path_str));
        let c = Config::from_env(&Env::from_pairs(pairs)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.policy_source, PolicySource::File { variable: "CANCEL_POLICY_FILE", path: path_str });
        assert_eq!(c.policy.rules.len(), 1);
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn exactly_one_policy_source_is_required_and_both_variables_are_named() {
        let m = error(&[]);
        assert!(m.contains("CANCEL_POLICY ") && m.contains("CANCEL_POLICY_FILE") && m.contains("neither"), "{m}");
        let m = error(&[("CANCEL_POLICY", POLICY), ("CANCEL_POLICY_FILE", "/p.json")]);
        assert!(m.contains("CANCEL_POLICY ") && m.contains("CANCEL_POLICY_FILE") && m.contains("both"), "{m}");
    }

    #[test]
    fn policy_errors_name_the_variable_and_the_json_path() {
        let m =
            error(&[("CANCEL_POLICY", r#"{"version": 1, "rules": [{"name": "", "match": {"olderThanDays": 1}}]}"#)]);
        assert_eq!(m, "CANCEL_POLICY: invalid cancellation policy: rules[0].name: empty");
        let m = error(&[("CANCEL_POLICY_FILE", "/nonexistent/policy.json")]);
        assert!(m.starts_with("CANCEL_POLICY_FILE=\"/nonexistent/policy.json\": cannot read"), "{m}");
    }

    #[test]
    fn common_settings_are_still_validated() {
        let m = error(&[("CANCEL_POLICY", POLICY), ("INCLUDE_CONTACT_DETAILS", "perhaps")]);
        assert!(m.contains("INCLUDE_CONTACT_DETAILS=\"perhaps\""), "{m}");
        let m = Config::from_env(&Env::from_pairs([("CANCEL_POLICY", POLICY)])).err().map(|e| e.to_string());
        assert!(m.unwrap_or_default().starts_with("CATALOG is required"));
    }
}
