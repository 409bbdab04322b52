//! What a policy says about one subject (an invitation): the rules are ORed, the conditions
//! of one rule are ANDed, exclusions always win, and the first rule (in the document's order)
//! that matches is the one reported. Plus the combinators condition sets are written with:
//! each takes the condition as the document may leave it out (`None`: no condition, holds).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

/// One named rule: act on what matches all its conditions; `action`, when the function's
/// rules say what to do (`()` when it has one thing to do); `ask`: ask a person to approve
/// the action instead of taking it (`"ask": true` in the document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule<Conditions, Action = ()> {
    pub name: String,
    pub conditions: Conditions,
    pub action: Action,
    pub ask: bool,
}

/// A function's condition set: whether every condition that is set holds for `subject` at
/// `now` (AND).
pub trait Condition<Subject> {
    fn holds(&self, subject: &Subject, now: DateTime<Utc>) -> bool;
}

/// A function's exclusions: subjects never acted on, whatever the rules say.
pub trait Exclusion<Subject> {
    /// Which exclusion protected a subject.
    type Reason;
    fn protects(&self, subject: &Subject) -> Option<Self::Reason>;
}

/// What the policy says about one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'p, Rule, Reason> {
    /// No rule matches.
    NoMatch,
    /// `rule`, the first that matches, says act.
    Matched { rule: &'p Rule },
    /// A rule matches, but an exclusion wins.
    Excluded { rule: &'p Rule, reason: Reason },
}

/// The decision of `rules` and `exclusions` about `subject` at `now`. An exclusion only counts
/// when a rule matched (an excluded subject no rule selects is simply not matched).
pub fn evaluate<'p, Conditions, Action, Exclusions, Subject>(
    rules: &'p [Rule<Conditions, Action>],
    exclusions: &Exclusions,
    subject: &Subject,
    now: DateTime<Utc>,
) -> Decision<'p, Rule<Conditions, Action>, Exclusions::Reason>
where
    Conditions: Condition<Subject>,
    Exclusions: Exclusion<Subject>,
{
    let Some(rule) = rules.iter().find(|r| r.conditions.holds(subject, now)) else {
        return Decision::NoMatch;
    };
    match exclusions.protects(subject) {
        Some(reason) => Decision::Excluded { rule, reason },
        None => Decision::Matched { rule },
    }
}

/// The subject's `value` is one of `set` (exact, case-sensitive); a subject without the value
/// does not match a set condition.
pub fn one_of(set: Option<&BTreeSet<String>>, value: Option<&String>) -> bool {
    set.is_none_or(|s| value.is_some_and(|v| s.contains(v)))
}

/// Created more than `age` before `now` (strictly).
pub fn older_than(age: Option<Duration>, created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    age.is_none_or(|age| now - created_at > age)
}

/// Has an expiry, and it is at most `within` after `now`.
pub fn expires_within(within: Option<Duration>, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    within.is_none_or(|within| expires_at.is_some_and(|e| e - now <= within))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
    }

    /// A toy subject: a name and an age in hours.
    struct Subject {
        name: String,
        age_hours: i64,
    }

    fn subject(name: &str, age_hours: i64) -> Subject {
        Subject { name: name.to_owned(), age_hours }
    }

    #[derive(Debug, Default, PartialEq, Eq)]
    struct Toy {
        names: Option<BTreeSet<String>>,
        older_than_hours: Option<i64>,
    }

    impl Condition<Subject> for Toy {
        fn holds(&self, s: &Subject, now: DateTime<Utc>) -> bool {
            one_of(self.names.as_ref(), Some(&s.name))
                && older_than(self.older_than_hours.map(Duration::hours), now - Duration::hours(s.age_hours), now)
        }
    }

    /// Excludes subjects by name.
    struct Keep(&'static str);

    impl Exclusion<Subject> for Keep {
        type Reason = &'static str;
        fn protects(&self, s: &Subject) -> Option<&'static str> {
            (s.name == self.0).then_some("kept by name")
        }
    }

    fn rule(name: &str, conditions: Toy) -> Rule<Toy> {
        Rule { name: name.to_owned(), conditions, action: (), ask: false }
    }

    fn names(v: &[&str]) -> Option<BTreeSet<String>> {
        Some(v.iter().map(|s| (*s).to_owned()).collect())
    }

    fn matched<'p>(d: Decision<'p, Rule<Toy>, &'static str>) -> Option<&'p str> {
        match d {
            Decision::Matched { rule } => Some(rule.name.as_str()),
            _ => None,
        }
    }

    #[test]
    fn rules_are_ored_conditions_anded_and_the_first_matching_rule_is_reported() {
        let rules = [
            rule("old-a", Toy { names: names(&["a"]), older_than_hours: Some(10) }),
            rule("any-b", Toy { names: names(&["b"]), ..Toy::default() }),
            rule("old", Toy { older_than_hours: Some(20), ..Toy::default() }),
        ];
        let keep = Keep("kept");
        let decide = |s: Subject| matched(evaluate(&rules, &keep, &s, now()));
        assert_eq!(decide(subject("a", 11)), Some("old-a"), "both conditions hold");
        assert_eq!(decide(subject("a", 9)), None, "one condition fails: the rule does not match");
        assert_eq!(decide(subject("b", 1)), Some("any-b"));
        assert_eq!(decide(subject("a", 21)), Some("old-a"), "two rules match: the first is reported");
        assert_eq!(decide(subject("c", 21)), Some("old"));
    }

    #[test]
    fn exclusions_always_win_but_only_over_a_match() {
        let rules = [rule("old", Toy { older_than_hours: Some(10), ..Toy::default() })];
        let keep = Keep("kept");
        let excluded = evaluate(&rules, &keep, &subject("kept", 11), now());
        assert!(matches!(excluded, Decision::Excluded { rule, reason: "kept by name" } if rule.name == "old"));
        assert_eq!(evaluate(&rules, &keep, &subject("kept", 1), now()), Decision::NoMatch);
        let none: [Rule<Toy>; 0] = [];
        assert_eq!(evaluate(&none, &keep, &subject("other", 11), now()), Decision::NoMatch, "no rules, no match");
    }

    #[test]
    fn the_combinators_hold_when_their_condition_is_not_set() {
        let t = now();
        assert!(one_of(None, None) && older_than(None, t, t) && expires_within(None, None, t));
        let set = names(&["x"]);
        assert!(one_of(set.as_ref(), Some(&"x".to_owned())));
        assert!(!one_of(set.as_ref(), Some(&"X".to_owned())), "exact");
        assert!(!one_of(set.as_ref(), None), "no value, no match");
        let day = Some(Duration::days(1));
        assert!(!older_than(day, t - Duration::days(1), t), "strictly older");
        assert!(older_than(day, t - Duration::days(1) - Duration::seconds(1), t));
        assert!(expires_within(day, Some(t + Duration::days(1)), t), "at most");
        assert!(!expires_within(day, Some(t + Duration::days(1) + Duration::seconds(1)), t));
        assert!(!expires_within(day, None, t), "no expiry, no match");
    }
}
