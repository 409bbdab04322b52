//! auto-cancel's configuration: the common and state settings of every function, plus the
//! cancellation policy (inline, from a file or from an SSM parameter), validated once at start-up.

use shared::config::{CommonConfig, Env, StateConfig};
pub use shared::policy::StartupError;
use shared::policy::source::Source;
use shared::policy::{PolicyOrigin, PolicySources, PolicyStartupError, PolicyVariables};
use shared::ports::ParameterStore;

use crate::policy::{self, Policy};

/// `CANCEL_POLICY`: the policy document itself (JSON); `CANCEL_POLICY_FILE`: a path to it.
const POLICY_VARIABLES: PolicyVariables =
    PolicyVariables { inline: "CANCEL_POLICY", file: "CANCEL_POLICY_FILE", what: "cancellation policy" };

/// …or `CANCEL_POLICY_PARAMETER`: the name of an SSM parameter holding it (a policy larger
/// than Lambda's 4 KB environment allows).
pub const POLICY_SOURCES: PolicySources =
    PolicySources { variables: POLICY_VARIABLES, parameter: "CANCEL_POLICY_PARAMETER" };

/// Everything auto-cancel reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub state: StateConfig,
    pub policy: Policy,
    pub policy_source: PolicyOrigin,
    /// Keep `details.inviterEmail` in published events (default false: dropped).
    pub include_contact_details: bool,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, StartupError> {
        let common = CommonConfig::from_env(env)?;
        let state = StateConfig::from_env(env)?;
        let include_contact_details = env.include_contact_details()?;
        let (policy, policy_source) = POLICY_VARIABLES.load(env, policy::parse)?;
        Ok(Config { common, state, policy, policy_source: policy_source.into(), include_contact_details })
    }

    /// As [`Config::from_env`], but when `CANCEL_POLICY_PARAMETER` is set the policy is read
    /// from that SSM parameter (once, at start-up) and validated the same way.
    pub async fn load(env: &Env, parameters: &impl ParameterStore) -> Result<Config, PolicyStartupError> {
        if POLICY_SOURCES.source(env)? == Source::Environment {
            return Ok(Config::from_env(env)?);
        }
        let common = CommonConfig::from_env(env)?;
        let state = StateConfig::from_env(env)?;
        let include_contact_details = env.include_contact_details()?;
        let (policy, policy_source) = POLICY_SOURCES.load(env, parameters, policy::parse).await?;
        Ok(Config { common, state, policy, policy_source, include_contact_details })
    }
}

#[cfg(test)]
mod tests {
    use shared::policy::PolicySource;
    use shared::testing::FixedParameters;

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

    #[tokio::test]
    async fn a_policy_larger_than_the_environment_allows_comes_from_its_ssm_parameter() {
        // 60 rules with long names: well over Lambda's 4 KB for all variables together.
        let rules: Vec<String> = (0..60)
            .map(|i| {
                format!(r#"{{"name": "rule-{i:02}-{}", "match": {{"olderThanDays": {}}}}}"#, "n".repeat(40), i + 1)
            })
            .collect();
        let big = format!(r#"{{"version": 1, "rules": [{}]}}"#, rules.join(", "));
        assert!(big.len() > 4096, "{}", big.len());
        let store = FixedParameters::default().with("/invitations/cancel-policy", &big, 4);
        let c = Config::load(&env(&[("CANCEL_POLICY_PARAMETER", "/invitations/cancel-policy")]), &store).await;
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.policy.rules.len(), 60);
        assert_eq!(c.policy_source.to_string(), r#"CANCEL_POLICY_PARAMETER="/invitations/cancel-policy" (version 4)"#);
        // The same document inline gives the same policy (and hash): only the source differs.
        let pairs = [("CATALOG", "AWS"), ("EVENT_BUS_NAME", "bus"), ("STATE_TABLE_NAME", "state")];
        let inline = Config::from_env(&Env::from_pairs(pairs.into_iter().chain([("CANCEL_POLICY", big.as_str())])));
        assert_eq!(inline.map(|i| i.policy).ok(), Some(c.policy));
        assert_eq!(store.reads(), vec!["/invitations/cancel-policy"]);
    }

    #[tokio::test]
    async fn without_a_parameter_the_environment_is_read_and_ssm_is_not() {
        let store = FixedParameters::default();
        let c = Config::load(&env(&[("CANCEL_POLICY", POLICY)]), &store).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.policy_source, PolicySource::Inline { variable: "CANCEL_POLICY" });
        assert!(store.reads().is_empty());
        let bad = r#"{"version": 1, "rules": [{"name": "", "match": {"olderThanDays": 1}}]}"#;
        let store = FixedParameters::default().with("/p", bad, 2);
        let m = Config::load(&env(&[("CANCEL_POLICY_PARAMETER", "/p")]), &store).await.err().map(|e| e.to_string());
        assert_eq!(
            m.as_deref(),
            Some(r#"CANCEL_POLICY_PARAMETER="/p" (version 2): invalid cancellation policy: rules[0].name: empty"#)
        );
        let m = Config::load(&env(&[("CANCEL_POLICY", POLICY), ("CANCEL_POLICY_PARAMETER", "/p")]), &store).await;
        let m = m.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.ends_with("but CANCEL_POLICY and CANCEL_POLICY_PARAMETER are set"), "{m}");
    }
}
