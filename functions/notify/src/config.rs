//! Configuration of notify, read and validated once at start-up; an error names the
//! variable, the value and what is accepted.

use invitation_events::render::Context;
use shared::config::{ConfigError, Env};
use shared::domain::Catalog;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `CATALOG`: only labels the health report (the events carry their own).
    pub catalog: Catalog,
    /// `NOTIFICATION_TOPIC_ARN`: the SNS topic the notifications are published to.
    pub topic_arn: String,
    /// `AUTO_RESPOND_FUNCTION_NAME`, `AUTO_CANCEL_FUNCTION_NAME`: the functions an approval's
    /// command invokes (the template sets the stack's; default `auto-respond`, `auto-cancel`).
    pub context: Context,
}

const TOPIC_ACCEPTED: &str =
    "an SNS topic ARN, arn:<partition>:sns:<region>:<12-digit account>:<name> (the template sets the stack's topic)";
const FUNCTION_ACCEPTED: &str = "a Lambda function name: 1-64 of A-Z a-z 0-9 _ -";

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let catalog = env.required("CATALOG", "AWS or Sandbox")?;
        let catalog =
            catalog.trim().parse().map_err(|e| ConfigError::invalid("CATALOG", &catalog, e, "AWS or Sandbox"))?;
        let defaults = Context::default();
        Ok(Config {
            catalog,
            topic_arn: topic_arn(env)?,
            context: Context {
                auto_respond_function: function_name(
                    env,
                    "AUTO_RESPOND_FUNCTION_NAME",
                    defaults.auto_respond_function,
                )?,
                auto_cancel_function: function_name(env, "AUTO_CANCEL_FUNCTION_NAME", defaults.auto_cancel_function)?,
            },
        })
    }
}

fn topic_arn(env: &Env) -> Result<String, ConfigError> {
    const VARIABLE: &str = "NOTIFICATION_TOPIC_ARN";
    let raw = env.required(VARIABLE, TOPIC_ACCEPTED)?;
    let arn = raw.trim();
    let parts: Vec<&str> = arn.split(':').collect();
    let problem = match parts.as_slice() {
        ["arn", partition, "sns", region, account, name] => {
            if !partition.starts_with("aws") {
                Some(format!("partition {partition:?} is not an AWS partition"))
            } else if region.is_empty() {
                Some("no region".to_owned())
            } else if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                Some(format!("account {account:?} is not 12 digits"))
            } else if name.is_empty()
                || name.len() > 256
                || !name.trim_end_matches(".fifo").bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                Some(format!("topic name {name:?} is not 1-256 of A-Z a-z 0-9 _ -"))
            } else {
                None
            }
        }
        _ => Some("not an SNS topic ARN (six parts, service sns)".to_owned()),
    };
    match problem {
        None => Ok(arn.to_owned()),
        Some(p) => Err(ConfigError::invalid(VARIABLE, &raw, p, TOPIC_ACCEPTED)),
    }
}

fn function_name(env: &Env, variable: &'static str, default: String) -> Result<String, ConfigError> {
    let Some(raw) = env.get(variable) else {
        return Ok(default);
    };
    let name = raw.trim();
    match !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        true => Ok(name.to_owned()),
        false => Err(ConfigError::invalid(variable, &raw, "not a function name", FUNCTION_ACCEPTED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:s-notifications";

    fn config(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let mut all = vec![("CATALOG", "AWS")];
        all.extend_from_slice(pairs);
        Config::from_env(&Env::from_pairs(all)).map_err(|e| e.to_string())
    }

    #[test]
    fn the_topic_is_required_and_must_be_a_topic_arn() {
        let c = config(&[("NOTIFICATION_TOPIC_ARN", TOPIC)]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.topic_arn, TOPIC);
        assert_eq!(c.context, Context::default());
        assert_eq!(
            config(&[]).err(),
            Some(format!("NOTIFICATION_TOPIC_ARN is required but not set (accepted: {TOPIC_ACCEPTED})"))
        );
        for (bad, problem) in [
            ("arn:aws:sqs:us-east-1:111122223333:q", "not an SNS topic ARN"),
            ("arn:aws:sns:us-east-1:1111:t", "account \"1111\" is not 12 digits"),
            ("arn:aws:sns:us-east-1:111122223333:a b", "topic name \"a b\""),
        ] {
            let e = config(&[("NOTIFICATION_TOPIC_ARN", bad)]).err().unwrap_or_default();
            assert!(
                e.starts_with(&format!("NOTIFICATION_TOPIC_ARN={bad:?} is invalid: ")) && e.contains(problem),
                "{e}"
            );
        }
    }

    #[test]
    fn function_names_name_the_variable_when_wrong() {
        let c = config(&[("NOTIFICATION_TOPIC_ARN", TOPIC), ("AUTO_RESPOND_FUNCTION_NAME", "s-auto-respond")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.context.auto_respond_function, "s-auto-respond");
        assert_eq!(c.context.auto_cancel_function, "auto-cancel");
        let e = config(&[("NOTIFICATION_TOPIC_ARN", TOPIC), ("AUTO_CANCEL_FUNCTION_NAME", "x y")]).err();
        assert_eq!(
            e,
            Some(format!(
                "AUTO_CANCEL_FUNCTION_NAME=\"x y\" is invalid: not a function name (accepted: {FUNCTION_ACCEPTED})"
            ))
        );
    }
}
