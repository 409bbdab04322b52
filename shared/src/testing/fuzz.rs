//! Strategies for the property tests of every parser of outside input (invocation payloads,
//! policies, the configuration environment, Partner Central responses, native events):
//! arbitrary JSON, and valid samples with a few random mutations (a member replaced by any
//! JSON, removed, or an unknown one added). Cases per property: `PROPTEST_CASES` (default
//! [`DEFAULT_CASES`]); `make fuzz` runs many more.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

use crate::config::{ConfigError, Env};
use crate::policy::PolicyError;

/// Cases per property inside `make test`.
pub const DEFAULT_CASES: u32 = 2_000;

/// The proptest configuration of every property: `PROPTEST_CASES` or [`DEFAULT_CASES`], and no
/// failure-persistence files in the source tree (a failure prints its minimal input).
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Strings that matter to parsers: empty, whitespace, huge, unicode, numbers and timestamps as
/// text, the members' own names, and anything else.
pub fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("PENDING".to_owned()),
        Just("WITHDRAWN".to_owned()),
        Just("AWS".to_owned()),
        Just("Sandbox".to_owned()),
        Just("null".to_owned()),
        Just("2026-11-20T12:00:00Z".to_owned()),
        Just("9999-99-99T99:99:99Z".to_owned()),
        Just("-1".to_owned()),
        Just("1e400".to_owned()),
        Just("x".repeat(5_000)),
        "[a-zA-Z0-9_#:/ .-]{0,24}",
        any::<String>(),
    ]
}

/// Any JSON value, nested a few levels.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        any_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A (mutated) JSON object as an environment: strings as they are, anything else as its JSON
/// text; not an object: an empty environment.
pub fn env_of(doc: &Value) -> Env {
    let pairs: Vec<(String, String)> = doc
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect())
        .unwrap_or_default();
    Env::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The variables every function reads (`CommonConfig`, `StateConfig`, contact details).
pub const COMMON_VARIABLES: [&str; 8] = [
    "CATALOG",
    "EVENT_BUS_NAME",
    "EVENT_SOURCE",
    "STATE_TABLE_NAME",
    "RETENTION_DAYS",
    "MAX_REQUESTS_PER_SECOND",
    "MAX_ATTEMPTS",
    "INCLUDE_CONTACT_DETAILS",
];

/// Whether the configuration error names one of [`COMMON_VARIABLES`] or of the function's
/// own `variables`, in its text too.
pub fn names_one_of(e: &ConfigError, variables: &[&str]) -> bool {
    let variable = match e {
        ConfigError::Missing { variable, .. } | ConfigError::Invalid { variable, .. } => *variable,
    };
    (COMMON_VARIABLES.contains(&variable) || variables.contains(&variable)) && e.to_string().contains(variable)
}

/// Whether every problem of a refused policy names its JSON path, in the message too.
pub fn names_its_paths(e: &PolicyError) -> bool {
    let shown = e.to_string();
    match e {
        PolicyError::Syntax { path, .. } => !path.is_empty() && shown.contains(path.as_str()),
        PolicyError::Invalid(problems) => {
            !problems.is_empty() && problems.iter().all(|p| !p.path.is_empty() && shown.contains(p.path.as_str()))
        }
    }
}

/// A sample document (e.g. an `events/` file); not JSON: `null` (then only mutations of null).
pub fn sample(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// One change to a JSON document.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// The value at the n-th path (modulo their number) becomes this.
    Replace(usize, Value),
    /// The member at the n-th path is removed (an array element: emptied to null).
    Remove(usize),
    /// An unknown member is added to the n-th object.
    AddMember(usize, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), any_json()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), any_string(), any_json()).prop_map(|(at, k, v)| Mutation::AddMember(at, k, v)),
    ]
}

/// `sample` (a valid document) with 1–3 random mutations.
pub fn mutated(sample: Value) -> impl Strategy<Value = Value> {
    prop::collection::vec(mutation(), 1..4).prop_map(move |mutations| {
        let mut doc = sample.clone();
        for m in mutations {
            apply(&mut doc, &m);
        }
        doc
    })
}

/// Half valid samples mutated, half arbitrary JSON.
pub fn input_like(sample: Value) -> impl Strategy<Value = Value> {
    prop_oneof![3 => mutated(sample), 1 => any_json()]
}

/// Every path in `doc` (object keys and array indexes), parents before children.
fn paths(doc: &Value) -> Vec<Vec<PathStep>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < out.len() {
        let path = out[i].clone();
        if let Some(v) = at(doc, &path) {
            match v {
                Value::Object(o) => {
                    out.extend(o.keys().map(|k| [path.clone(), vec![PathStep::Key(k.clone())]].concat()))
                }
                Value::Array(a) => out.extend((0..a.len()).map(|n| [path.clone(), vec![PathStep::Index(n)]].concat())),
                _ => {}
            }
        }
        i += 1;
    }
    out
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at<'v>(doc: &'v Value, path: &[PathStep]) -> Option<&'v Value> {
    path.iter().try_fold(doc, |v, step| match step {
        PathStep::Key(k) => v.get(k),
        PathStep::Index(n) => v.get(n),
    })
}

fn at_mut<'v>(doc: &'v mut Value, path: &[PathStep]) -> Option<&'v mut Value> {
    path.iter().try_fold(doc, |v, step| match step {
        PathStep::Key(k) => v.get_mut(k),
        PathStep::Index(n) => v.get_mut(n),
    })
}

fn apply(doc: &mut Value, m: &Mutation) {
    let all = paths(doc);
    let pick = |n: usize| all[n % all.len()].clone();
    match m {
        Mutation::Replace(n, v) => {
            if let Some(slot) = at_mut(doc, &pick(*n)) {
                *slot = v.clone();
            }
        }
        Mutation::Remove(n) => {
            let path = pick(*n);
            let Some((last, parent)) = path.split_last() else {
                *doc = Value::Null;
                return;
            };
            match (at_mut(doc, parent), last) {
                (Some(Value::Object(o)), PathStep::Key(k)) => {
                    o.remove(k);
                }
                (Some(Value::Array(a)), PathStep::Index(i)) if *i < a.len() => a[*i] = Value::Null,
                _ => {}
            }
        }
        Mutation::AddMember(n, k, v) => {
            let objects: Vec<Vec<PathStep>> =
                all.iter().filter(|p| at(doc, p).is_some_and(Value::is_object)).cloned().collect();
            if objects.is_empty() {
                return;
            }
            if let Some(Value::Object(o)) = at_mut(doc, &objects[*n % objects.len()]) {
                o.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use serde_json::json;

    use super::*;

    #[test]
    fn mutations_change_the_sample_somewhere_and_keep_it_json() {
        let sample = json!({"a": {"b": [1, 2, {"c": "d"}]}, "e": "f"});
        let mut runner = TestRunner::deterministic();
        let mut changed = 0;
        for _ in 0..200 {
            let v = mutated(sample.clone()).new_tree(&mut runner).map(|t| t.current()).unwrap_or(Value::Null);
            changed += usize::from(v != sample);
            assert!(serde_json::to_string(&v).is_ok());
        }
        assert!(changed > 150, "most mutations change something: {changed}/200");
    }
}
