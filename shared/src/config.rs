//! Configuration from environment variables, parsed and validated once at start-up.
//! A bad value fails start-up with an error naming the variable, the value and what is
//! accepted.

use std::collections::HashMap;
use std::fmt::Display;
use std::num::NonZeroU32;
use std::str::FromStr;

use crate::domain::{Catalog, ParticipantType};

/// A configuration error: which variable, what was wrong, what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable} is required but not set (accepted: {accepted})")]
    Missing { variable: &'static str, accepted: String },
    #[error("{variable}={value:?} is invalid: {problem} (accepted: {accepted})")]
    Invalid { variable: &'static str, value: String, problem: String, accepted: String },
}

impl ConfigError {
    pub fn invalid(variable: &'static str, value: &str, problem: impl Display, accepted: impl Display) -> Self {
        ConfigError::Invalid {
            variable,
            value: value.to_owned(),
            problem: problem.to_string(),
            accepted: accepted.to_string(),
        }
    }
}

/// Reads variables from a source (the process environment, or a map in tests).
pub struct Env {
    /// `None`: the process environment.
    fixed: Option<HashMap<String, String>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Env { fixed: None }
    }

    /// A fixed set of variables.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env { fixed: Some(pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()) }
    }

    fn raw(&self, variable: &str) -> Option<String> {
        match &self.fixed {
            Some(map) => map.get(variable).cloned(),
            None => std::env::var(variable).ok(),
        }
    }

    /// The value; an empty value counts as unset.
    pub fn get(&self, variable: &str) -> Option<String> {
        self.raw(variable).filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, variable: &'static str, accepted: &str) -> Result<String, ConfigError> {
        self.get(variable).ok_or_else(|| ConfigError::Missing { variable, accepted: accepted.to_owned() })
    }

    /// Parse with `FromStr`, falling back to `default` when unset.
    pub fn parse_or<T>(&self, variable: &'static str, default: T, accepted: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(variable) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|e| ConfigError::invalid(variable, &raw, e, accepted)),
        }
    }

    /// Every spelling [`Env::flag`] accepts.
    pub const FLAG_ACCEPTED: &'static str = "true, false, 1, 0, yes, no (any case)";

    /// `true`/`false` (also `1`/`0`, `yes`/`no`), case-insensitive.
    pub fn flag(&self, variable: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(variable) {
            None => Ok(default),
            Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(ConfigError::invalid(variable, &raw, "not a boolean", Self::FLAG_ACCEPTED)),
            },
        }
    }

    /// A comma-separated list, each item parsed with `parse`; an explicitly set but empty
    /// list (e.g. `" , "`) is an error, unset gives `default`. An empty item (`72,,4`) and
    /// every item that does not parse are reported together, each by its position.
    pub fn list_or<T>(
        &self,
        variable: &'static str,
        default: Vec<T>,
        accepted: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ConfigError> {
        let Some(raw) = self.raw(variable) else {
            return Ok(default);
        };
        let items: Vec<&str> = raw.split(',').map(str::trim).collect();
        if items.iter().all(|item| item.is_empty()) {
            return Err(ConfigError::invalid(variable, &raw, "empty list", accepted));
        }
        let mut values = Vec::with_capacity(items.len());
        let mut problems = Vec::new();
        for (position, item) in (1..).zip(items) {
            match item {
                "" => problems.push(format!("item {position} is empty")),
                _ => match parse(item) {
                    Ok(value) => values.push(value),
                    Err(problem) => problems.push(format!("item {position} {item:?}: {problem}")),
                },
            }
        }
        match problems.is_empty() {
            true => Ok(values),
            false => Err(ConfigError::invalid(variable, &raw, problems.join("; "), accepted)),
        }
    }

    /// `INCLUDE_CONTACT_DETAILS` (every function): keep the inviter's contact details in
    /// published events; off by default (see `domain::redact_contact_details`).
    pub fn include_contact_details(&self) -> Result<bool, ConfigError> {
        self.flag("INCLUDE_CONTACT_DETAILS", false)
    }

    /// A comma-separated list of participant types (`SENDER`, `RECEIVER`, any case), in the
    /// order given without repeats; unset gives both.
    pub fn participant_types(&self, variable: &'static str) -> Result<Vec<ParticipantType>, ConfigError> {
        let listed =
            self.list_or(variable, ParticipantType::ALL.to_vec(), "a comma-separated list of SENDER, RECEIVER", |s| {
                s.to_ascii_uppercase().parse::<ParticipantType>().map_err(|e| format!("unknown {}", e.what))
            })?;
        let mut types = Vec::with_capacity(listed.len());
        for t in listed {
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Ok(types)
    }
}

/// Default `EVENT_SOURCE`.
pub const DEFAULT_EVENT_SOURCE: &str = "partnercentral.invitations";
/// Default client-side limit on Partner Central requests per second (the Selling API
/// allows 10 per second per account; we keep headroom for other tools).
pub const DEFAULT_MAX_REQUESTS_PER_SECOND: u32 = 8;
/// Default attempts per Partner Central call (first try included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Settings every function shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonConfig {
    /// `CATALOG`: `AWS` or `Sandbox`.
    pub catalog: Catalog,
    /// `EVENT_BUS_NAME`: the custom bus events go to (name or ARN).
    pub event_bus_name: String,
    /// `EVENT_SOURCE`: the EventBridge `Source` of our events; never `aws.*`.
    pub event_source: String,
    /// `MAX_REQUESTS_PER_SECOND`: one limiter shared by all Partner Central calls.
    pub max_requests_per_second: NonZeroU32,
    /// `MAX_ATTEMPTS`: SDK attempts per Partner Central call, retries included (1..=10).
    pub max_attempts: u32,
}

impl CommonConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let catalog_raw = env.required("CATALOG", "AWS, Sandbox")?;
        let catalog = catalog_raw
            .trim()
            .parse::<Catalog>()
            .map_err(|e| ConfigError::invalid("CATALOG", &catalog_raw, format!("unknown {}", e.what), e.accepted))?;

        let event_bus_name = env.required("EVENT_BUS_NAME", "an event bus name or ARN")?.trim().to_owned();
        validate_bus_name(&event_bus_name)?;

        let event_source = env.get("EVENT_SOURCE").map(|s| s.trim().to_owned());
        let event_source = event_source.unwrap_or_else(|| DEFAULT_EVENT_SOURCE.to_owned());
        validate_event_source(&event_source)?;

        const RPS_ACCEPTED: &str = "an integer from 1 to 100";
        let rps: u32 = env.parse_or("MAX_REQUESTS_PER_SECOND", DEFAULT_MAX_REQUESTS_PER_SECOND, RPS_ACCEPTED)?;
        let max_requests_per_second = NonZeroU32::new(rps).filter(|n| n.get() <= 100).ok_or_else(|| {
            ConfigError::invalid("MAX_REQUESTS_PER_SECOND", &rps.to_string(), "out of range", RPS_ACCEPTED)
        })?;

        let max_attempts = env.parse_or("MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, "an integer from 1 to 10")?;
        if !(1..=10).contains(&max_attempts) {
            return Err(ConfigError::invalid(
                "MAX_ATTEMPTS",
                &max_attempts.to_string(),
                "out of range",
                "an integer from 1 to 10",
            ));
        }

        Ok(CommonConfig { catalog, event_bus_name, event_source, max_requests_per_second, max_attempts })
    }
}

/// Default `RETENTION_DAYS`.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// The shared state table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateConfig {
    /// `STATE_TABLE_NAME`.
    pub table_name: String,
    /// `RETENTION_DAYS`: how long a finished invitation's record is kept (1..=365).
    pub retention_days: u32,
}

impl StateConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        const TABLE_ACCEPTED: &str = "a DynamoDB table name of 3-255 characters [A-Za-z0-9_.-]";
        let table_name = env.required("STATE_TABLE_NAME", TABLE_ACCEPTED)?.trim().to_owned();
        let valid = (3..=255).contains(&table_name.len())
            && table_name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid {
            return Err(ConfigError::invalid(
                "STATE_TABLE_NAME",
                &table_name,
                "not a valid table name",
                TABLE_ACCEPTED,
            ));
        }
        const DAYS_ACCEPTED: &str = "an integer from 1 to 365";
        let retention_days = env.parse_or("RETENTION_DAYS", DEFAULT_RETENTION_DAYS, DAYS_ACCEPTED)?;
        if !(1..=365).contains(&retention_days) {
            return Err(ConfigError::invalid(
                "RETENTION_DAYS",
                &retention_days.to_string(),
                "out of range",
                DAYS_ACCEPTED,
            ));
        }
        Ok(StateConfig { table_name, retention_days })
    }

    pub fn retention(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.retention_days))
    }
}

fn validate_bus_name(name: &str) -> Result<(), ConfigError> {
    const ACCEPTED: &str = "a bus name of 1-256 characters [A-Za-z0-9._-/] or an event bus ARN";
    let ok = name.starts_with("arn:")
        || (name.len() <= 256 && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c)));
    if !ok {
        return Err(ConfigError::invalid("EVENT_BUS_NAME", name, "not a valid event bus name", ACCEPTED));
    }
    if name == "default" {
        return Err(ConfigError::invalid(
            "EVENT_BUS_NAME",
            name,
            "the default bus is reserved for AWS's own events; use the custom bus",
            ACCEPTED,
        ));
    }
    Ok(())
}

fn validate_event_source(source: &str) -> Result<(), ConfigError> {
    const ACCEPTED: &str = "1-256 printable characters not starting with \"aws.\"";
    if source.to_ascii_lowercase().starts_with("aws.") {
        return Err(ConfigError::invalid(
            "EVENT_SOURCE",
            source,
            "the aws. prefix is reserved for AWS services",
            ACCEPTED,
        ));
    }
    if source.len() > 256 || source.chars().any(|c| c.is_control()) {
        return Err(ConfigError::invalid("EVENT_SOURCE", source, "not a valid event source", ACCEPTED));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![("CATALOG", "Sandbox"), ("EVENT_BUS_NAME", "invitations")]
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Result<CommonConfig, ConfigError> {
        let mut pairs = base();
        pairs.extend_from_slice(extra);
        CommonConfig::from_env(&Env::from_pairs(pairs))
    }

    fn message(r: Result<CommonConfig, ConfigError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn defaults_apply_when_optional_variables_are_unset() {
        let c = with(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.catalog, Catalog::Sandbox);
        assert_eq!(c.event_source, "partnercentral.invitations");
        assert_eq!(c.max_requests_per_second.get(), 8);
        assert_eq!(c.max_attempts, 5);
    }

    #[test]
    fn missing_required_variables_are_named() {
        let m = message(CommonConfig::from_env(&Env::from_pairs([("EVENT_BUS_NAME", "b")])));
        assert!(m.starts_with("CATALOG is required") && m.contains("AWS, Sandbox"), "{m}");
        let m = message(CommonConfig::from_env(&Env::from_pairs([("CATALOG", "AWS")])));
        assert!(m.starts_with("EVENT_BUS_NAME is required"), "{m}");
    }

    #[test]
    fn bad_values_name_variable_value_and_what_is_accepted() {
        let m = message(with(&[("CATALOG", "prod")]));
        assert_eq!(m, "CATALOG=\"prod\" is invalid: unknown catalog (accepted: AWS, Sandbox)");
        let m = message(with(&[("EVENT_SOURCE", "aws.partnercentral-selling")]));
        assert!(m.contains("EVENT_SOURCE=\"aws.partnercentral-selling\"") && m.contains("reserved"), "{m}");
        let m = message(with(&[("MAX_REQUESTS_PER_SECOND", "0")]));
        assert!(m.contains("MAX_REQUESTS_PER_SECOND=\"0\"") && m.contains("1 to 100"), "{m}");
        let m = message(with(&[("MAX_REQUESTS_PER_SECOND", "fast")]));
        assert!(m.contains("MAX_REQUESTS_PER_SECOND=\"fast\""), "{m}");
        let m = message(with(&[("MAX_REQUESTS_PER_SECOND", "500")]));
        assert!(m.contains("MAX_REQUESTS_PER_SECOND=\"500\""), "{m}");
        let m = message(with(&[("MAX_ATTEMPTS", "0")]));
        assert!(m.contains("MAX_ATTEMPTS=\"0\""), "{m}");
        let m = message(with(&[("EVENT_BUS_NAME", "default")]));
        assert!(m.contains("EVENT_BUS_NAME=\"default\""), "{m}");
        let m = message(with(&[("EVENT_BUS_NAME", "has space")]));
        assert!(m.contains("EVENT_BUS_NAME=\"has space\""), "{m}");
    }

    #[test]
    fn lists_reject_explicitly_empty_values_and_name_the_bad_item() {
        let env = Env::from_pairs([("HOURS", " , "), ("OK", "72, 24"), ("BAD", "72,abc")]);
        let parse = |s: &str| s.parse::<u32>().map_err(|e| e.to_string());
        let m = env.list_or("HOURS", vec![1], "hours", parse).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("HOURS") && m.contains("empty list"), "{m}");
        assert_eq!(env.list_or("OK", vec![], "hours", parse), Ok(vec![72, 24]));
        assert_eq!(env.list_or("UNSET", vec![1], "hours", parse), Ok(vec![1]));
        let m = env.list_or("BAD", vec![], "hours", parse).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("BAD=\"72,abc\"") && m.contains("item 2 \"abc\""), "{m}");
    }

    #[test]
    fn lists_report_every_bad_item_and_empty_items_by_position() {
        let env = Env::from_pairs([("GAP", "72,,4"), ("TWO", "0,abc, 3,x")]);
        let parse =
            |s: &str| s.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| "not a positive integer".to_owned());
        let m = env.list_or("GAP", vec![], "hours", parse).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(m, "GAP=\"72,,4\" is invalid: item 2 is empty (accepted: hours)");
        let m = env.list_or("TWO", vec![], "hours", parse).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            m,
            "TWO=\"0,abc, 3,x\" is invalid: item 1 \"0\": not a positive integer; item 2 \"abc\": not a positive \
             integer; item 4 \"x\": not a positive integer (accepted: hours)"
        );
    }

    #[test]
    fn participant_type_errors_say_what_is_accepted_once() {
        let env = Env::from_pairs([("SIDES", "RECEIVER,BOTH")]);
        let m = env.participant_types("SIDES").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            m,
            "SIDES=\"RECEIVER,BOTH\" is invalid: item 2 \"BOTH\": unknown participant type \
             (accepted: a comma-separated list of SENDER, RECEIVER)"
        );
    }

    #[test]
    fn state_config_validates_table_and_retention() {
        let ok = StateConfig::from_env(&Env::from_pairs([("STATE_TABLE_NAME", "pc-state")]));
        assert_eq!(ok.map(|c| (c.table_name, c.retention_days)), Ok(("pc-state".to_owned(), 30)));
        let m = StateConfig::from_env(&Env::from_pairs([])).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.starts_with("STATE_TABLE_NAME is required"), "{m}");
        let m = StateConfig::from_env(&Env::from_pairs([("STATE_TABLE_NAME", "t!")])).err().map(|e| e.to_string());
        assert!(m.unwrap_or_default().contains("STATE_TABLE_NAME=\"t!\""));
        let env = Env::from_pairs([("STATE_TABLE_NAME", "pc-state"), ("RETENTION_DAYS", "0")]);
        let m = StateConfig::from_env(&env).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(m.contains("RETENTION_DAYS=\"0\"") && m.contains("1 to 365"), "{m}");
    }

    #[test]
    fn flags_accept_common_spellings_only() {
        let env = Env::from_pairs([("A", "TRUE"), ("B", "0"), ("C", "maybe")]);
        assert_eq!(env.flag("A", false), Ok(true));
        assert_eq!(env.flag("B", true), Ok(false));
        assert_eq!(env.flag("UNSET", true), Ok(true));
        let m = env.flag("C", false).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(m, "C=\"maybe\" is invalid: not a boolean (accepted: true, false, 1, 0, yes, no (any case))");
    }
}
