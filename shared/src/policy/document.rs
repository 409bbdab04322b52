//! The policy document: where it comes from (exactly one of an inline variable and a file
//! variable), and its parsing into the function's serde shape with errors that name the JSON
//! path (`serde_path_to_error`): JSON syntax first (with line and column), then the objects
//! the document's [`Shape`] requires, then the serde shape itself (unknown fields, wrong
//! types, missing fields).

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Env;
use crate::invocation::json_type;
use crate::policy::validation::PolicyError;

/// The path of the whole document in errors.
const ROOT: &str = "(document)";

/// Where a document must have JSON objects. serde would also accept a struct written as an
/// array of its values; a policy's objects must be objects.
#[derive(Debug)]
pub enum Shape {
    /// An object; its members (when present) of these shapes, checked in this order.
    Object(&'static [(&'static str, Shape)]),
    /// An array (when it is one) whose every item has this shape.
    Each(&'static Shape),
}

/// Parse a policy document (JSON text) into `Document`, every error naming its JSON path.
pub fn parse<Document: DeserializeOwned>(text: &str, shape: &Shape) -> Result<Document, PolicyError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| PolicyError::Syntax { path: ROOT.to_owned(), message: e.to_string() })?;
    require(&value, shape, "")?;
    serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string();
        // An unknown member named "" at the top has an empty path: name the document.
        let path = if path == "." || path.is_empty() { ROOT.to_owned() } else { path };
        PolicyError::Syntax { path, message: e.into_inner().to_string() }
    })
}

fn require(value: &Value, shape: &Shape, path: &str) -> Result<(), PolicyError> {
    match shape {
        Shape::Object(members) => {
            if !value.is_object() {
                let path = if path.is_empty() { ROOT } else { path };
                let message = format!("expected an object, got {}", json_type(value));
                return Err(PolicyError::Syntax { path: path.to_owned(), message });
            }
            for (key, member) in *members {
                if let Some(v) = value.get(key) {
                    let path = if path.is_empty() { (*key).to_owned() } else { format!("{path}.{key}") };
                    require(v, member, &path)?;
                }
            }
        }
        Shape::Each(item) => {
            if let Value::Array(items) = value {
                for (i, v) in items.iter().enumerate() {
                    require(v, item, &format!("{path}[{i}]"))?;
                }
            }
        }
    }
    Ok(())
}

/// The variables a function reads its policy from: the document itself, or a path to it.
#[derive(Debug, Clone, Copy)]
pub struct PolicyVariables {
    /// E.g. `CANCEL_POLICY`: the policy document (JSON).
    pub inline: &'static str,
    /// E.g. `CANCEL_POLICY_FILE`: a path to the policy document.
    pub file: &'static str,
    /// What the policy is, in errors: e.g. `cancellation policy`.
    pub what: &'static str,
}

/// Where a policy came from, for logs and errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// The inline variable.
    Inline { variable: &'static str },
    /// The file the file variable names.
    File { variable: &'static str, path: String },
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::Inline { variable } => f.write_str(variable),
            PolicySource::File { variable, path } => write!(f, "{variable}={path:?}"),
        }
    }
}

/// Why no policy could be loaded; each names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("exactly one of {inline} (the policy JSON) and {file} (a path to it) must be set, but {found}")]
    Source { inline: &'static str, file: &'static str, found: &'static str },
    #[error("{variable}={path:?}: cannot read the policy file: {message}")]
    Unreadable { variable: &'static str, path: String, message: String },
    #[error("{origin}: invalid {what}: {error}")]
    Invalid { origin: PolicySource, what: &'static str, error: PolicyError },
}

impl PolicyVariables {
    /// Read the document from exactly one of the two variables and `parse` it.
    pub fn load<Policy>(
        &self,
        env: &Env,
        parse: impl FnOnce(&str) -> Result<Policy, PolicyError>,
    ) -> Result<(Policy, PolicySource), LoadError> {
        let (text, origin) = match (env.get(self.inline), env.get(self.file)) {
            (Some(_), Some(_)) => return Err(self.source_error("both are set")),
            (None, None) => return Err(self.source_error("neither is set")),
            (Some(text), None) => (text, PolicySource::Inline { variable: self.inline }),
            (None, Some(path)) => {
                let path = path.trim().to_owned();
                let text = std::fs::read_to_string(&path).map_err(|e| LoadError::Unreadable {
                    variable: self.file,
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                (text, PolicySource::File { variable: self.file, path })
            }
        };
        match parse(&text) {
            Ok(policy) => Ok((policy, origin)),
            Err(error) => Err(LoadError::Invalid { origin, what: self.what, error }),
        }
    }

    fn source_error(&self, found: &'static str) -> LoadError {
        LoadError::Source { inline: self.inline, file: self.file, found }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed")]
    struct Doc {
        version: i64,
        #[serde(default)]
        rules: Vec<RuleDoc>,
        #[serde(default)]
        exclude: Option<Exclude>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed")]
    struct RuleDoc {
        name: String,
        #[serde(rename = "match")]
        conditions: Match,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed")]
    struct Match {
        n: Option<i64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed")]
    struct Exclude {
        ids: Vec<String>,
    }

    const SHAPE: Shape = Shape::Object(&[
        ("rules", Shape::Each(&Shape::Object(&[("match", Shape::Object(&[]))]))),
        ("exclude", Shape::Object(&[])),
    ]);

    fn error(text: &str) -> String {
        match parse::<Doc>(text, &SHAPE) {
            Ok(doc) => panic!("accepted: {doc:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn shape_errors_name_their_json_path() {
        assert!(parse::<Doc>(r#"{"version": 1, "rules": [{"name": "a", "match": {"n": 1}}]}"#, &SHAPE).is_ok());
        assert!(
            error(r#"{"version": 1, "rules": [{"name": "a", "match": {"m": 1}}]}"#)
                .starts_with("rules[0].match.m: unknown field `m`")
        );
        assert!(error(r#"{"version": "1"}"#).starts_with("version: invalid type: string"));
        assert!(error(r#"{"rules": []}"#).starts_with("(document): missing field `version`"));
        assert!(error(r#"{"version": 1,"#).contains("line 1"), "syntax errors have line and column");
        assert!(error(r#"{"version": 1, "rules": {}}"#).starts_with("rules: invalid type: map"));
    }

    #[test]
    fn objects_written_as_arrays_are_refused_in_document_order() {
        assert_eq!(error("[1, []]"), "(document): expected an object, got an array");
        // The first rule's match comes before the second rule.
        let both = r#"{"version": 1, "rules": [{"name": "a", "match": [1]}, ["b", {}]]}"#;
        assert_eq!(error(both), "rules[0].match: expected an object, got an array");
        assert_eq!(
            error(r#"{"version": 1, "rules": [{"name": "a", "match": {}}, ["b", {}]]}"#).as_str(),
            "rules[1]: expected an object, got an array"
        );
        assert_eq!(error(r#"{"version": 1, "exclude": null}"#), "exclude: expected an object, got null");
    }

    const VARIABLES: PolicyVariables = PolicyVariables { inline: "X_POLICY", file: "X_POLICY_FILE", what: "x policy" };

    fn load(pairs: &[(&str, &str)]) -> Result<(i64, PolicySource), LoadError> {
        VARIABLES.load(&Env::from_pairs(pairs.iter().copied()), |text| parse::<Doc>(text, &SHAPE).map(|d| d.version))
    }

    fn load_error(pairs: &[(&str, &str)]) -> String {
        load(pairs).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_policy_is_loaded_from_exactly_one_variable() {
        assert_eq!(load(&[("X_POLICY", r#"{"version": 1}"#)]), Ok((1, PolicySource::Inline { variable: "X_POLICY" })));
        let path = std::env::temp_dir().join(format!("shared-policy-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"version": 2}"#).unwrap_or_else(|e| panic!("{e}"));
        let path_str = path.to_string_lossy().into_owned();
        let loaded = load(&[("X_POLICY_FILE", &path_str)]);
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let (version, origin) = loaded.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(version, 2);
        assert_eq!(origin.to_string(), format!("X_POLICY_FILE={path_str:?}"));
        assert_eq!(
            load_error(&[]),
            "exactly one of X_POLICY (the policy JSON) and X_POLICY_FILE (a path to it) must be set, but neither is set"
        );
        assert!(load_error(&[("X_POLICY", "{}"), ("X_POLICY_FILE", "/p.json")]).ends_with("but both are set"));
    }

    #[test]
    fn load_errors_name_the_variable() {
        let m = load_error(&[("X_POLICY_FILE", "/nonexistent/policy.json")]);
        assert!(m.starts_with("X_POLICY_FILE=\"/nonexistent/policy.json\": cannot read the policy file: "), "{m}");
        assert_eq!(
            load_error(&[("X_POLICY", r#"{"version": 1, "extra": 1}"#)]).split(", expected").next(),
            Some("X_POLICY: invalid x policy: extra: unknown field `extra`")
        );
    }
}
