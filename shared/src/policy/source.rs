//! Where a policy's text comes from, apart from parsing it: the environment (an inline
//! variable or a file variable, see [`PolicyVariables`]) or an SSM parameter, for policies
//! larger than Lambda's 4 KB environment allows.
//!
//! Exactly one of the three variables is set (e.g. `CANCEL_POLICY`, `CANCEL_POLICY_FILE`,
//! `CANCEL_POLICY_PARAMETER`). The parameter is read once, at start-up, through the
//! [`ParameterStore`] port (the SSM adapter: `crate::adapters::ssm`), then parsed and
//! validated by the function's own `parse` exactly like an inline policy. Every error names
//! the variable, its value and what is accepted.

use std::fmt;

use crate::config::{ConfigError, Env};
use crate::policy::document::{LoadError, PolicySource, PolicyVariables};
use crate::policy::run::StartupError;
use crate::policy::validation::PolicyError;
use crate::ports::ParameterStore;

/// What an SSM parameter name may be, in errors.
const ACCEPTED_NAME: &str = "an SSM parameter name such as /invitations/cancel-policy (letters, digits and \
     _ . - /; a hierarchical name starts with /, at most 15 levels; not beginning with aws or ssm), \
     optionally with a :version or :label selector, or a parameter ARN";

/// The variables a policy-driven function reads its policy from.
#[derive(Debug, Clone, Copy)]
pub struct PolicySources {
    /// The inline and file variables.
    pub variables: PolicyVariables,
    /// E.g. `CANCEL_POLICY_PARAMETER`: the name (or ARN) of an SSM parameter holding the policy.
    pub parameter: &'static str,
}

/// Which source the environment selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The inline or the file variable (read by [`PolicyVariables::load`]).
    Environment,
    /// The SSM parameter the parameter variable names.
    Parameter { variable: &'static str, name: String },
}

/// Where a loaded policy came from, for logs and errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyOrigin {
    /// The inline or the file variable.
    Environment(PolicySource),
    /// An SSM parameter, at the version read.
    Parameter { variable: &'static str, name: String, version: i64 },
}

impl From<PolicySource> for PolicyOrigin {
    fn from(source: PolicySource) -> Self {
        PolicyOrigin::Environment(source)
    }
}

/// A policy from the environment is the source it came from (tests compare them).
impl PartialEq<PolicySource> for PolicyOrigin {
    fn eq(&self, other: &PolicySource) -> bool {
        matches!(self, PolicyOrigin::Environment(source) if source == other)
    }
}

impl fmt::Display for PolicyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyOrigin::Environment(source) => source.fmt(f),
            PolicyOrigin::Parameter { variable, name, version } => write!(f, "{variable}={name:?} (version {version})"),
        }
    }
}

/// A parameter's value and version, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub value: String,
    pub version: i64,
}

/// Why a parameter could not be read (the adapter's SDK errors, classified).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    #[error("no such parameter (ParameterNotFound)")]
    NotFound,
    #[error("no such version or label (ParameterVersionNotFound)")]
    VersionNotFound,
    #[error(
        "access denied ({0}): the function's role needs ssm:GetParameter on the parameter (and kms:Decrypt for a \
         SecureString under a customer managed key)"
    )]
    AccessDenied(String),
    #[error("{0}")]
    Other(String),
}

/// Why no policy could be loaded from its source; each names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error(
        "exactly one of {inline} (the policy JSON), {file} (a path to it) and {parameter} (the name of an SSM \
         parameter holding it) must be set, but {found}"
    )]
    Choice { inline: &'static str, file: &'static str, parameter: &'static str, found: String },
    #[error("{variable}={value:?} is invalid: {problem} (accepted: {ACCEPTED_NAME})")]
    Name { variable: &'static str, value: String, problem: &'static str },
    #[error("{variable}={name:?}: cannot read the SSM parameter: {error}")]
    Read { variable: &'static str, name: String, error: ParameterError },
    #[error("{origin}: invalid {what}: {error}")]
    Invalid { origin: PolicyOrigin, what: &'static str, error: PolicyError },
}

/// A start-up error of a function whose policy may come from a parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyStartupError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Source(#[from] SourceError),
}

impl From<ConfigError> for PolicyStartupError {
    fn from(e: ConfigError) -> Self {
        PolicyStartupError::Startup(StartupError::Config(e))
    }
}

impl From<LoadError> for PolicyStartupError {
    fn from(e: LoadError) -> Self {
        PolicyStartupError::Startup(StartupError::Policy(e))
    }
}

/// Check an SSM parameter name (or ARN), with an optional `:version`/`:label` selector, as
/// SSM's `GetParameter` accepts it; `Err` says what is wrong.
pub fn check_parameter_name(value: &str) -> Result<(), &'static str> {
    if value.starts_with("arn:") {
        return match value.split_once(":parameter/") {
            Some((prefix, rest)) if prefix.split(':').count() == 5 && prefix.contains(":ssm:") && !rest.is_empty() => {
                Ok(())
            }
            _ => Err("not an SSM parameter ARN (arn:<partition>:ssm:<region>:<account>:parameter/<name>)"),
        };
    }
    if value.len() > 2048 {
        return Err("longer than 2048 characters");
    }
    let (name, selector) = match value.rsplit_once(':') {
        Some((name, selector)) => (name, Some(selector)),
        None => (value, None),
    };
    if let Some(s) = selector
        && (s.is_empty() || s.len() > 100 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)))
    {
        return Err("the selector after : is not a version number or label");
    }
    if name.is_empty() {
        return Err("the name is empty");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b)) {
        return Err("it has a character other than letters, digits, _ . - /");
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err("a hierarchical name must start with /");
    }
    if name.ends_with('/') || name.contains("//") {
        return Err("it has an empty level");
    }
    if name.matches('/').count() > 15 {
        return Err("deeper than 15 levels");
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err("names beginning with aws or ssm are reserved");
    }
    Ok(())
}

impl PolicySources {
    /// The source the environment selects: exactly one of the three variables.
    pub fn source(&self, env: &Env) -> Result<Source, SourceError> {
        let PolicyVariables { inline, file, .. } = self.variables;
        let set: Vec<&'static str> =
            [inline, file, self.parameter].into_iter().filter(|v| env.get(v).is_some()).collect();
        let Some(name) = env.get(self.parameter) else {
            if set.is_empty() {
                return Err(self.choice_error("none is set".to_owned()));
            }
            // The inline or the file variable (both set: PolicyVariables names them).
            return Ok(Source::Environment);
        };
        if set.len() > 1 {
            return Err(self.choice_error(format!("{} are set", set.join(" and "))));
        }
        let name = name.trim().to_owned();
        check_parameter_name(&name).map_err(|problem| SourceError::Name {
            variable: self.parameter,
            value: name.clone(),
            problem,
        })?;
        Ok(Source::Parameter { variable: self.parameter, name })
    }

    /// Read the policy text from its source and `parse` it (the function's parser and
    /// validator): the environment's, or the SSM parameter's through `store`.
    pub async fn load<Policy>(
        &self,
        env: &Env,
        store: &impl ParameterStore,
        parse: impl FnOnce(&str) -> Result<Policy, PolicyError>,
    ) -> Result<(Policy, PolicyOrigin), PolicyStartupError> {
        match self.source(env)? {
            Source::Environment => {
                let (policy, source) = self.variables.load(env, parse)?;
                Ok((policy, source.into()))
            }
            Source::Parameter { variable, name } => {
                let parameter = store.get_parameter(&name).await.map_err(|error| SourceError::Read {
                    variable,
                    name: name.clone(),
                    error,
                })?;
                let origin = PolicyOrigin::Parameter { variable, name, version: parameter.version };
                match parse(&parameter.value) {
                    Ok(policy) => Ok((policy, origin)),
                    Err(error) => Err(SourceError::Invalid { origin, what: self.variables.what, error }.into()),
                }
            }
        }
    }

    fn choice_error(&self, found: String) -> SourceError {
        SourceError::Choice {
            inline: self.variables.inline,
            file: self.variables.file,
            parameter: self.parameter,
            found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FixedParameters;

    const SOURCES: PolicySources = PolicySources {
        variables: PolicyVariables { inline: "P", file: "P_FILE", what: "test policy" },
        parameter: "P_PARAMETER",
    };

    /// A "policy" that is valid when it is a JSON object with `"ok": true`.
    fn parse(text: &str) -> Result<usize, PolicyError> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| PolicyError::Syntax { path: "(document)".into(), message: e.to_string() })?;
        if v["ok"] == serde_json::json!(true) {
            Ok(text.len())
        } else {
            Err(PolicyError::Syntax { path: "ok".into(), message: "must be true".into() })
        }
    }

    async fn load(pairs: &[(&str, &str)], store: &FixedParameters) -> Result<(usize, PolicyOrigin), String> {
        SOURCES.load(&Env::from_pairs(pairs.iter().copied()), store, parse).await.map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn a_policy_larger_than_the_environment_allows_is_read_from_its_parameter_and_validated() {
        let big = format!(r#"{{"ok": true, "pad": "{}"}}"#, "x".repeat(6000));
        let store = FixedParameters::default().with("/team/policy", &big, 3);
        let (size, origin) = load(&[("P_PARAMETER", " /team/policy ")], &store).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(size, big.len());
        assert_eq!(
            origin,
            PolicyOrigin::Parameter { variable: "P_PARAMETER", name: "/team/policy".into(), version: 3 }
        );
        assert_eq!(origin.to_string(), r#"P_PARAMETER="/team/policy" (version 3)"#);
        assert_eq!(store.reads(), vec!["/team/policy"]);
    }

    #[tokio::test]
    async fn the_environment_still_works_and_reads_no_parameter() {
        let store = FixedParameters::default();
        let (_, origin) =
            load(&[("P", r#"{"ok": true}"#), ("P_PARAMETER", "  ")], &store).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(origin.to_string(), "P");
        assert_eq!(origin, PolicyOrigin::Environment(PolicySource::Inline { variable: "P" }));
        assert!(store.reads().is_empty());
    }

    #[tokio::test]
    async fn an_invalid_parameter_policy_names_the_variable_the_parameter_and_the_json_path() {
        let store = FixedParameters::default().with("/p", r#"{"ok": false}"#, 7);
        let e = load(&[("P_PARAMETER", "/p")], &store).await.err().unwrap_or_default();
        assert_eq!(e, r#"P_PARAMETER="/p" (version 7): invalid test policy: ok: must be true"#);
    }

    #[tokio::test]
    async fn read_failures_name_the_variable_and_the_parameter() {
        let store =
            FixedParameters::default().failing("/denied", ParameterError::AccessDenied("AccessDeniedException".into()));
        let e = load(&[("P_PARAMETER", "/denied")], &store).await.err().unwrap_or_default();
        assert!(e.starts_with(r#"P_PARAMETER="/denied": cannot read the SSM parameter: access denied"#), "{e}");
        assert!(e.contains("ssm:GetParameter"), "{e}");
        let e = load(&[("P_PARAMETER", "/missing")], &FixedParameters::default()).await.err().unwrap_or_default();
        assert_eq!(
            e,
            r#"P_PARAMETER="/missing": cannot read the SSM parameter: no such parameter (ParameterNotFound)"#
        );
    }

    #[tokio::test]
    async fn exactly_one_source_is_required_and_all_three_variables_are_named() {
        let store = FixedParameters::default().with("/p", r#"{"ok": true}"#, 1);
        let e = load(&[], &store).await.err().unwrap_or_default();
        assert!(e.contains("P (the policy JSON), P_FILE (a path to it) and P_PARAMETER") && e.ends_with("none is set"));
        let e = load(&[("P", r#"{"ok": true}"#), ("P_PARAMETER", "/p")], &store).await.err().unwrap_or_default();
        assert!(e.ends_with("but P and P_PARAMETER are set"), "{e}");
        let e = load(&[("P_FILE", "/x.json"), ("P_PARAMETER", "/p")], &store).await.err().unwrap_or_default();
        assert!(e.ends_with("but P_FILE and P_PARAMETER are set"), "{e}");
        assert!(store.reads().is_empty(), "nothing is read when the choice is wrong");
    }

    #[tokio::test]
    async fn a_bad_parameter_name_is_refused_before_any_read_naming_value_and_what_is_accepted() {
        let store = FixedParameters::default();
        let e = load(&[("P_PARAMETER", "team/policy")], &store).await.err().unwrap_or_default();
        assert!(e.starts_with(r#"P_PARAMETER="team/policy" is invalid: a hierarchical name must start with /"#), "{e}");
        assert!(e.contains("(accepted: an SSM parameter name such as"), "{e}");
        assert!(store.reads().is_empty());
    }

    #[test]
    fn parameter_names_follow_ssm_rules() {
        for ok in [
            "policy",
            "/invitations/cancel-policy",
            "/a/b_c.d-e",
            "/invitations/cancel-policy:3",
            "/invitations/cancel-policy:prod",
            "arn:aws:ssm:us-east-1:111122223333:parameter/invitations/cancel-policy",
        ] {
            assert_eq!(check_parameter_name(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("a/b", "must start with /"),
            ("/a b", "character"),
            ("/a/", "empty level"),
            ("/a//b", "empty level"),
            ("/aws/x", "reserved"),
            ("/SSM-x", "reserved"),
            ("/a:", "selector"),
            ("/a:b:c d", "selector"),
            (":3", "empty"),
            ("arn:aws:s3:::bucket/x", "ARN"),
        ] {
            let e = check_parameter_name(bad).err().unwrap_or_default();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(check_parameter_name(&format!("/{}", "a/".repeat(15).trim_end_matches('/'))).is_ok());
        assert!(check_parameter_name(&format!("/{}", "a/".repeat(16).trim_end_matches('/'))).is_err());
    }
}
