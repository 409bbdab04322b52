//! The policy engine: a written policy document decides which invitations a function acts on
//! (auto-cancel's cancellations; auto-respond's answers next). The machinery is here, the
//! conditions are each function's own:
//!
//! - [`document`]: loading the document (an inline variable or a file, exactly one), parsing
//!   it with errors that name the JSON path, objects required where its [`Shape`] says;
//! - [`validation`]: every semantic problem at once, each `<path>: <problem>`, and the checks
//!   every policy shares (version, caps, rule names, bounded numbers, lists of values);
//! - [`evaluation`]: rules ORed, a rule's conditions ANDed, exclusions always win, the first
//!   matching rule reported; the combinators conditions are written with;
//! - [`source`]: where the text comes from when not from the environment (an SSM parameter,
//!   for policies larger than Lambda's 4 KB environment);
//! - [`hash`]: the canonical form of what a policy selects, its hash, and the deterministic
//!   client tokens derived from it.
//!
//! A function brings its document's serde shape (`deny_unknown_fields`), its condition set
//! ([`Condition`] + [`Canonical`]), its exclusions ([`Exclusion`] + [`Canonical`]) and, when
//! its rules say what to do, an action per rule; [`Policy`] ties them together.

pub mod document;
pub mod engine;
pub mod evaluation;
pub mod hash;
pub mod run;
pub mod source;
pub mod validation;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub use document::{LoadError, PolicySource, PolicyVariables, Shape, parse};
pub use evaluation::{Condition, Decision, Exclusion, Rule};
pub use hash::Canonical;
pub use run::{PolicyInvocation, PolicySummary, RunError, StartupError, outbound, parse_policy_invocation, run_policy};
pub use source::{PolicyOrigin, PolicySources, PolicyStartupError};
pub use validation::{Caps, PolicyError, Problem, Problems, RuleNames, default_dry_run};

/// What a policy allows, besides what it selects; not part of its hash, so the policy
/// reviewed in a dry run keeps its hash once switched to real runs, and changing a cap does
/// not re-plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Plan only, act on nothing (documents default it to true).
    pub dry_run: bool,
    /// At most this many actions per scheduled firing (its retries included).
    pub max_per_run: u32,
    /// At most this many actions per UTC day, whatever ran.
    pub max_per_day: u32,
}

/// A validated policy: its limits, its rules (each with the function's conditions, and an
/// action when the function's rules have one), its exclusions, and the hash of what it
/// selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy<Conditions, Exclusions, Action = ()> {
    pub limits: Limits,
    /// In the document's order: the first rule that matches is the one reported.
    pub rules: Vec<Rule<Conditions, Action>>,
    pub exclude: Exclusions,
    version: i64,
    hash: String,
    /// Old names the document used (still accepted), each with the name to use instead.
    warnings: Vec<String>,
}

impl<Conditions, Exclusions, Action> Policy<Conditions, Exclusions, Action>
where
    Conditions: Canonical,
    Exclusions: Canonical,
    Action: Canonical,
{
    /// The policy of document `version`, its hash computed.
    pub fn new(version: i64, limits: Limits, rules: Vec<Rule<Conditions, Action>>, exclude: Exclusions) -> Self {
        let mut policy = Policy { limits, rules, exclude, version, hash: String::new(), warnings: Vec::new() };
        policy.hash = hash::policy_hash(&policy.canonical_json());
        policy
    }

    /// What the policy selects (version, rules in order, exclusions) as canonical JSON: keys
    /// sorted, no whitespace, set-valued lists sorted and de-duplicated. Each rule is
    /// `{"name", "match"}`, plus `"action"` when its action is not `null` and `"ask": true` when it asks.
    pub fn canonical_json(&self) -> String {
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|r| {
                let mut rule = json!({"name": r.name, "match": r.conditions.canonical()});
                let action = r.action.canonical();
                if !action.is_null() {
                    rule["action"] = action;
                }
                // Only when set: the hashes of policies without `ask` are unchanged.
                if r.ask {
                    rule["ask"] = Value::Bool(true);
                }
                rule
            })
            .collect();
        hash::canonical_json(&json!({"version": self.version, "rules": rules, "exclude": self.exclude.canonical()}))
    }
}

impl<Conditions, Exclusions, Action> Policy<Conditions, Exclusions, Action> {
    /// What the policy says about `subject` at `now` (see [`evaluation::evaluate`]).
    pub fn evaluate<Subject>(
        &self,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> Decision<'_, Rule<Conditions, Action>, Exclusions::Reason>
    where
        Conditions: Condition<Subject>,
        Exclusions: Exclusion<Subject>,
    {
        evaluation::evaluate(&self.rules, &self.exclude, subject, now)
    }

    /// First 16 hex characters of the SHA-256 of [`Policy::canonical_json`]: identifies what
    /// the policy selects ([`Limits`] are not part of it).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The deterministic client token of acting on `id` under this policy (see
    /// [`hash::client_token`]): the same subject and policy always give the same token, so a
    /// retried or repeated run never acts twice.
    pub fn client_token(&self, prefix: &str, id: &str) -> String {
        hash::client_token(prefix, &self.hash, id)
    }

    /// Log, once at start-up, which policy a function runs with.
    pub fn log_loaded(&self, source: &impl std::fmt::Display) {
        tracing::info!(
            policy = %source,
            policy_hash = self.hash(),
            dry_run = self.limits.dry_run,
            max_actions_per_run = self.limits.max_per_run,
            max_actions_per_day = self.limits.max_per_day,
            rules = self.rules.len(),
            "policy loaded"
        );
        for warning in &self.warnings {
            tracing::warn!(policy = %source, warning = %warning, "deprecated policy field");
        }
    }

    /// The policy with these deprecation warnings (old names it used; not part of its hash).
    pub fn with_warnings(self, warnings: Vec<String>) -> Self {
        Policy { warnings, ..self }
    }

    /// Old names the document used, each with the name to use instead.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Rule names, in the document's order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.name.as_str())
    }
}
