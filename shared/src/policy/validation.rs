//! Why a policy document is refused: the first shape error (with its JSON path), or every
//! semantic problem at once, each `<path>: <problem>` (e.g. `rules[2].name: empty`), joined
//! by `; `. [`Problems`] collects them, with the checks every policy shares.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;

use super::{Limits, Rule};

/// Longest accepted rule name (it travels in every policy event's `cause.rule`).
pub const MAX_RULE_NAME_CHARS: usize = 64;

/// One semantic problem of a policy: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub problem: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON, wrong type, unknown or missing field (the first such error).
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    /// Well-formed but invalid; every problem found.
    #[error("{}", .0.iter().map(Problem::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
}

/// The problems found so far, in document order.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn add(&mut self, path: impl Into<String>, problem: impl Into<String>) {
        self.0.push(Problem { path: path.into(), problem: problem.into() });
    }

    /// `value` when no problem was found, else every problem.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, PolicyError> {
        if self.0.is_empty() { Ok(value()) } else { Err(PolicyError::Invalid(self.0)) }
    }

    /// `version` is one of `supported`.
    pub fn version(&mut self, version: i64, supported: &[i64]) {
        if !supported.contains(&version) {
            let accepted = supported.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            self.add("version", format!("unsupported {version} (accepted: {accepted})"));
        }
    }

    /// A cap on actions: `default` when not given, else 1 to `max`. `hint`: how to act on
    /// nothing instead (a cap of 0 is refused), e.g. `to cancel nothing, set dryRun to true`.
    pub fn cap(&mut self, path: &str, value: Option<i64>, default: u32, max: u32, hint: &str) -> u32 {
        match value {
            None => default,
            Some(n) => match u32::try_from(n) {
                Ok(cap) if (1..=max).contains(&cap) => cap,
                _ => {
                    self.add(path, format!("{n} is out of range (accepted: 1 to {max}; {hint})"));
                    default
                }
            },
        }
    }

    /// A whole number within `range`; `None` (and a problem) outside it. `below`: why the
    /// minimum, when it needs saying.
    pub fn bounded(&mut self, path: &str, value: i64, range: RangeInclusive<u32>, below: Option<&str>) -> Option<u32> {
        let (min, max) = (i64::from(*range.start()), i64::from(*range.end()));
        if value < min {
            let why = below.map(|b| format!("; {b}")).unwrap_or_default();
            self.add(path, format!("must be >= {min} (got {value}{why})"));
            None
        } else if value > max {
            self.add(path, format!("must be <= {max} (got {value})"));
            None
        } else {
            u32::try_from(value).ok()
        }
    }

    /// A list of values taken as a set. `if_empty`: the problem of an empty list, when one
    /// must not be empty; `check`: the problem of one value, if any (reported at
    /// `<path>[<index>]`).
    pub fn set(
        &mut self,
        path: &str,
        values: Vec<String>,
        if_empty: Option<&str>,
        check: impl Fn(&str) -> Option<String>,
    ) -> BTreeSet<String> {
        if let Some(problem) = if_empty.filter(|_| values.is_empty()) {
            self.add(path, problem);
        }
        for (i, value) in values.iter().enumerate() {
            if let Some(problem) = check(value) {
                self.add(format!("{path}[{i}]"), problem);
            }
        }
        values.into_iter().collect()
    }
}

/// How a policy document names and bounds its caps on actions.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// e.g. `maxCancellationsPerRun`.
    pub per_run: &'static str,
    /// e.g. `maxCancellationsPerDay` (defaults to the per-run cap).
    pub per_day: &'static str,
    /// The per-run cap when the document does not say.
    pub default_per_run: u32,
    /// The highest accepted cap.
    pub max: u32,
    /// How to act on nothing instead (a cap of 0 is refused), e.g. `to cancel nothing, set
    /// dryRun to true`.
    pub hint: &'static str,
}

/// `dryRun` when a document does not say: plan only.
pub fn default_dry_run() -> bool {
    true
}

impl Problems {
    /// A document's [`Limits`]: `dry_run`, and its caps as written (`None`: not given).
    pub fn limits(&mut self, caps: &Caps, dry_run: bool, per_run: Option<i64>, per_day: Option<i64>) -> Limits {
        let max_per_run = self.cap(caps.per_run, per_run, caps.default_per_run, caps.max, caps.hint);
        let max_per_day = self.cap(caps.per_day, per_day, max_per_run, caps.max, caps.hint);
        Limits { dry_run, max_per_run, max_per_day }
    }

    /// Every rule of a document, in order: its name checked first (`name`: where a rule
    /// document has it), then `rule` (its conditions and action, problems reported at
    /// `rules[<index>]…`); `ask`: whether the rule asks a person instead of acting.
    pub fn rules<Document, Conditions, Action>(
        &mut self,
        documents: Vec<Document>,
        name: impl Fn(&Document) -> &str,
        ask: impl Fn(&Document) -> bool,
        mut rule: impl FnMut(usize, Document, &mut Problems) -> (Conditions, Action),
    ) -> Vec<Rule<Conditions, Action>> {
        let mut names = RuleNames::default();
        let mut rules = Vec::with_capacity(documents.len());
        for (i, document) in documents.into_iter().enumerate() {
            let name = names.check(i, name(&document), self);
            let ask = ask(&document);
            let (conditions, action) = rule(i, document, self);
            rules.push(Rule { name, conditions, action, ask });
        }
        rules
    }
}

/// The names of a policy's rules so far: each non-blank (trimmed), at most
/// [`MAX_RULE_NAME_CHARS`] characters, without control characters, and unique.
#[derive(Debug, Default)]
pub struct RuleNames(BTreeMap<String, usize>);

impl RuleNames {
    /// The trimmed name of `rules[index]`, its problem added if it has one.
    pub fn check(&mut self, index: usize, name: &str, problems: &mut Problems) -> String {
        let path = format!("rules[{index}].name");
        let name = name.trim().to_owned();
        if name.is_empty() {
            problems.add(path, "empty");
        } else if name.chars().count() > MAX_RULE_NAME_CHARS {
            problems.add(path, format!("longer than {MAX_RULE_NAME_CHARS} characters"));
        } else if name.chars().any(char::is_control) {
            problems.add(path, "contains control characters");
        } else if let Some(first) = self.0.get(&name) {
            problems.add(path, format!("duplicate of rules[{first}]"));
        } else {
            self.0.insert(name.clone(), index);
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(problems: Problems) -> String {
        problems.into_result(|| ()).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn every_problem_is_reported_with_its_path_in_order() {
        let mut p = Problems::default();
        p.version(2, &[1]);
        let cap = p.cap("maxActionsPerRun", Some(0), 10, 1000, "to act on nothing, set dryRun to true");
        assert_eq!(cap, 10, "the default stands in for a refused cap");
        assert_eq!(p.cap("maxActionsPerDay", None, 7, 1000, "-"), 7);
        assert_eq!(p.cap("maxActionsPerDay", Some(1000), 7, 1000, "-"), 1000);
        let error = p.into_result(|| ()).err();
        let paths = match &error {
            Some(PolicyError::Invalid(problems)) => problems.iter().map(|p| p.path.as_str()).collect(),
            _ => Vec::new(),
        };
        assert_eq!(paths, ["version", "maxActionsPerRun"]);
        assert_eq!(
            error.map(|e| e.to_string()).unwrap_or_default(),
            "version: unsupported 2 (accepted: 1); maxActionsPerRun: 0 is out of range (accepted: 1 to 1000; to act \
             on nothing, set dryRun to true)"
        );
        assert_eq!(Problems::default().into_result(|| 5), Ok(5));
    }

    #[test]
    fn numbers_outside_their_range_are_refused() {
        let mut p = Problems::default();
        assert_eq!(p.bounded("a", 3, 0..=10, None), Some(3));
        assert_eq!(p.bounded("b", -1, 0..=10, None), None);
        assert_eq!(p.bounded("c", 0, 1..=10, Some("why")), None);
        assert_eq!(p.bounded("d", 11, 1..=10, Some("why")), None);
        assert_eq!(rendered(p), "b: must be >= 0 (got -1); c: must be >= 1 (got 0; why); d: must be <= 10 (got 11)");
    }

    #[test]
    fn lists_are_checked_value_by_value() {
        let mut p = Problems::default();
        let check = |v: &str| (v != "ok").then(|| format!("{v:?} is not ok"));
        let set = p.set("m.xs", vec!["ok".into(), "bad".into(), "ok".into()], Some("empty list"), check);
        assert_eq!(set.len(), 2, "a set: repeats collapse");
        assert!(p.set("m.ys", vec![], Some("empty list (omit it)"), check).is_empty());
        assert!(p.set("m.zs", vec![], None, check).is_empty(), "may be empty");
        assert_eq!(rendered(p), "m.xs[1]: \"bad\" is not ok; m.ys: empty list (omit it)");
    }

    #[test]
    fn rule_names_are_trimmed_non_blank_short_printable_and_unique() {
        let mut p = Problems::default();
        let mut names = RuleNames::default();
        assert_eq!(names.check(0, " stale ", &mut p), "stale");
        names.check(1, "  ", &mut p);
        names.check(2, &"x".repeat(65), &mut p);
        names.check(3, "a\u{7}b", &mut p);
        names.check(4, "stale", &mut p);
        names.check(5, &"y".repeat(64), &mut p);
        assert_eq!(
            rendered(p),
            "rules[1].name: empty; rules[2].name: longer than 64 characters; rules[3].name: contains control \
             characters; rules[4].name: duplicate of rules[0]"
        );
    }
}
