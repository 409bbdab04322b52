//! The two official service models (botocore JSON), parsed at start-up, and a generic
//! validator that walks a shape of the model over a JSON value.
//!
//! Everything the emulator checks about a request — and everything it promises about a
//! response — comes from here, not from hand-copied shapes: required members, member types,
//! enum values, string patterns and lengths, list lengths, integer ranges, unions.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use fancy_regex::Regex;
use serde_json::Value;

/// The embedded models (Apache-2.0, from botocore; see `models/NOTICE.md`).
pub const ACCOUNT_MODEL_JSON: &str = include_str!("../models/partnercentral-account-2025-04-04.service.json");
/// See [`ACCOUNT_MODEL_JSON`].
pub const SELLING_MODEL_JSON: &str = include_str!("../models/partnercentral-selling-2022-07-26.service.json");

/// Which of the two emulated APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Api {
    /// Partner Central Account API (`PartnerCentralAccount.*`).
    Account,
    /// Partner Central Selling API (`AWSPartnerCentralSelling.*`).
    Selling,
}

/// Problems with a model file itself (never with a request).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("model: {0}")]
    Malformed(String),
    #[error("model shape {shape}: pattern {pattern:?} does not compile: {source}")]
    Pattern {
        shape: String,
        pattern: String,
        #[source]
        source: Box<fancy_regex::Error>,
    },
}

/// One member of a structure.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub shape: String,
}

/// The kinds of shape that occur in the models.
#[derive(Debug, Clone)]
pub enum ShapeKind {
    Structure {
        members: Vec<Member>,
        required: Vec<String>,
        union: bool,
    },
    List {
        member: String,
        min: Option<i64>,
        max: Option<i64>,
    },
    Map {
        key: String,
        value: String,
        min: Option<i64>,
        max: Option<i64>,
    },
    String {
        enum_values: Option<Vec<String>>,
        pattern: Option<Arc<Regex>>,
        pattern_src: Option<String>,
        min: Option<i64>,
        max: Option<i64>,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Float,
    Boolean,
    Timestamp,
    Blob,
}

/// A named shape.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: String,
    pub kind: ShapeKind,
    /// `exception: true`.
    pub exception: bool,
    /// `fault: true` (server error, HTTP 500).
    pub fault: bool,
}

impl Shape {
    /// The members of a structure shape (empty for other kinds).
    pub fn members(&self) -> &[Member] {
        match &self.kind {
            ShapeKind::Structure { members, .. } => members,
            _ => &[],
        }
    }

    /// Whether a structure has a member of this name.
    pub fn has_member(&self, name: &str) -> bool {
        self.members().iter().any(|m| m.name == name)
    }
}

/// An operation of the model.
#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub input: Option<String>,
    pub output: Option<String>,
    pub errors: Vec<String>,
    /// `readonly: true` in the model (List/Get); every other operation is a write.
    pub readonly: bool,
}

/// A parsed service model.
#[derive(Debug)]
pub struct ServiceModel {
    pub api: Api,
    pub target_prefix: String,
    pub shapes: HashMap<String, Shape>,
    pub operations: HashMap<String, Operation>,
}

/// Whether a value is a request (lenient: unknown members are ignored, as AWS does for JSON
/// protocols; `null` means absent) or something the emulator produces (strict: no member
/// outside the model, no `null`, timestamps as ISO-8601 strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Input,
    Output,
}

/// What kind of rule a value broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ViolationKind {
    RequiredMissing,
    InvalidType,
    InvalidValue,
    InvalidEnum,
    InvalidFormat,
    InvalidLength,
    OutOfRange,
    TooManyValues,
    NotEnoughValues,
    UnknownMember,
    NullValue,
    UnionNotExactlyOne,
}

/// One rule broken at one place of the value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// Member path, e.g. `MaxResults`, `Status[0]`, `Sort.SortOrder`.
    pub path: String,
    pub kind: ViolationKind,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn opt_i64(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(|x| x.as_i64().or_else(|| x.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)))
}

fn target_shape(v: &Value, key: &str, owner: &str) -> Result<String, ModelError> {
    v.get(key)
        .and_then(|m| m.get("shape"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ModelError::Malformed(format!("shape {owner}: {key} has no target shape")))
}

/// Smithy patterns are matched against the whole value (the botocore models carry them
/// without `^…$`); several use look-ahead, hence `fancy-regex`.
fn compile_full_match(pattern: &str) -> Result<Regex, fancy_regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

impl ServiceModel {
    /// Parse a botocore service model.
    pub fn parse(api: Api, json: &str) -> Result<Self, ModelError> {
        let root: Value = serde_json::from_str(json)?;
        let target_prefix = root
            .pointer("/metadata/targetPrefix")
            .and_then(Value::as_str)
            .ok_or_else(|| ModelError::Malformed("metadata.targetPrefix missing".into()))?
            .to_owned();
        let raw_shapes = root
            .get("shapes")
            .and_then(Value::as_object)
            .ok_or_else(|| ModelError::Malformed("shapes missing".into()))?;
        let mut compiled: HashMap<String, Arc<Regex>> = HashMap::new();
        let mut shapes = HashMap::with_capacity(raw_shapes.len());
        for (name, s) in raw_shapes {
            let ty = s
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| ModelError::Malformed(format!("shape {name} has no type")))?;
            let kind = match ty {
                "structure" => {
                    let members = s
                        .get("members")
                        .and_then(Value::as_object)
                        .map(|ms| {
                            ms.iter()
                                .map(|(mname, mv)| {
                                    mv.get("shape")
                                        .and_then(Value::as_str)
                                        .map(|t| Member { name: mname.clone(), shape: t.to_owned() })
                                        .ok_or_else(|| {
                                            ModelError::Malformed(format!("shape {name}: member {mname} has no shape"))
                                        })
                                })
                                .collect::<Result<Vec<_>, _>>()
                        })
                        .transpose()?
                        .unwrap_or_default();
                    let required = s
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                        .unwrap_or_default();
                    ShapeKind::Structure {
                        members,
                        required,
                        union: s.get("union").and_then(Value::as_bool).unwrap_or(false),
                    }
                }
                "list" => ShapeKind::List {
                    member: target_shape(s, "member", name)?,
                    min: opt_i64(s, "min"),
                    max: opt_i64(s, "max"),
                },
                "map" => ShapeKind::Map {
                    key: target_shape(s, "key", name)?,
                    value: target_shape(s, "value", name)?,
                    min: opt_i64(s, "min"),
                    max: opt_i64(s, "max"),
                },
                "string" => {
                    let pattern_src = s.get("pattern").and_then(Value::as_str).map(str::to_owned);
                    let pattern = match &pattern_src {
                        None => None,
                        Some(p) => Some(match compiled.get(p) {
                            Some(r) => Arc::clone(r),
                            None => {
                                let r = Arc::new(compile_full_match(p).map_err(|e| ModelError::Pattern {
                                    shape: name.clone(),
                                    pattern: p.clone(),
                                    source: Box::new(e),
                                })?);
                                compiled.insert(p.clone(), Arc::clone(&r));
                                r
                            }
                        }),
                    };
                    ShapeKind::String {
                        enum_values: s
                            .get("enum")
                            .and_then(Value::as_array)
                            .map(|e| e.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
                        pattern,
                        pattern_src,
                        min: opt_i64(s, "min"),
                        max: opt_i64(s, "max"),
                    }
                }
                "integer" | "long" => ShapeKind::Integer { min: opt_i64(s, "min"), max: opt_i64(s, "max") },
                "float" | "double" => ShapeKind::Float,
                "boolean" => ShapeKind::Boolean,
                "timestamp" => ShapeKind::Timestamp,
                "blob" => ShapeKind::Blob,
                other => {
                    return Err(ModelError::Malformed(format!("shape {name} has unsupported type {other}")));
                }
            };
            shapes.insert(
                name.clone(),
                Shape {
                    name: name.clone(),
                    kind,
                    exception: s.get("exception").and_then(Value::as_bool).unwrap_or(false),
                    fault: s.get("fault").and_then(Value::as_bool).unwrap_or(false),
                },
            );
        }
        let raw_ops = root
            .get("operations")
            .and_then(Value::as_object)
            .ok_or_else(|| ModelError::Malformed("operations missing".into()))?;
        let mut operations = HashMap::with_capacity(raw_ops.len());
        for (name, o) in raw_ops {
            let shape_of =
                |key: &str| o.get(key).and_then(|x| x.get("shape")).and_then(Value::as_str).map(str::to_owned);
            let errors = o
                .get("errors")
                .and_then(Value::as_array)
                .map(|es| es.iter().filter_map(|e| e.get("shape").and_then(Value::as_str)).map(str::to_owned).collect())
                .unwrap_or_default();
            operations.insert(
                name.clone(),
                Operation {
                    name: name.clone(),
                    input: shape_of("input"),
                    output: shape_of("output"),
                    errors,
                    readonly: o.get("readonly").and_then(Value::as_bool).unwrap_or(false),
                },
            );
        }
        let model = ServiceModel { api, target_prefix, shapes, operations };
        // Every referenced shape must exist, or the validator would silently skip it.
        for shape in model.shapes.values() {
            let targets: Vec<&str> = match &shape.kind {
                ShapeKind::Structure { members, .. } => members.iter().map(|m| m.shape.as_str()).collect(),
                ShapeKind::List { member, .. } => vec![member.as_str()],
                ShapeKind::Map { key, value, .. } => vec![key.as_str(), value.as_str()],
                _ => vec![],
            };
            for t in targets {
                if !model.shapes.contains_key(t) {
                    return Err(ModelError::Malformed(format!("shape {} refers to unknown shape {t}", shape.name)));
                }
            }
        }
        Ok(model)
    }

    /// A shape by name.
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// An operation by name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// The shape of member `member` of structure `structure`.
    pub fn member_shape(&self, structure: &str, member: &str) -> Option<&str> {
        self.shape(structure)?.members().iter().find(|m| m.name == member).map(|m| m.shape.as_str())
    }

    /// Validate `value` against shape `shape_name`; an empty result means it conforms.
    pub fn validate(&self, shape_name: &str, value: &Value, dir: Direction) -> Vec<Violation> {
        let mut out = Vec::new();
        self.walk(shape_name, value, "", dir, &mut out);
        out
    }

    /// Validate the members of a structure value against a structure shape, except the
    /// listed members (used for error bodies, whose `__type`/`message` are protocol members).
    pub fn validate_except(
        &self,
        shape_name: &str,
        value: &Value,
        dir: Direction,
        protocol_members: &[&str],
    ) -> Vec<Violation> {
        match value {
            Value::Object(map) => {
                let mut copy = map.clone();
                for m in protocol_members {
                    copy.remove(*m);
                }
                self.validate(shape_name, &Value::Object(copy), dir)
            }
            other => self.validate(shape_name, other, dir),
        }
    }

    fn walk(&self, shape_name: &str, value: &Value, path: &str, dir: Direction, out: &mut Vec<Violation>) {
        let Some(shape) = self.shapes.get(shape_name) else {
            out.push(Violation {
                path: path.to_owned(),
                kind: ViolationKind::InvalidType,
                message: format!("model has no shape {shape_name}"),
            });
            return;
        };
        let here = if path.is_empty() { "(root)" } else { path };
        let mut push = |kind, message: String| out.push(Violation { path: here.to_owned(), kind, message });
        if value.is_null() {
            // Members that are null are handled by the structure walk; a null list element
            // or map value is a violation in both directions.
            push(ViolationKind::NullValue, "value must not be null".into());
            return;
        }
        match &shape.kind {
            ShapeKind::Structure { members, required, union } => {
                let Some(obj) = value.as_object() else {
                    push(ViolationKind::InvalidType, "expected a JSON object".into());
                    return;
                };
                let child = |name: &str| {
                    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
                };
                for req in required {
                    let present = obj.get(req).is_some_and(|v| !v.is_null());
                    if !present {
                        out.push(Violation {
                            path: child(req),
                            kind: ViolationKind::RequiredMissing,
                            message: "Member must not be null (required member is missing)".into(),
                        });
                    }
                }
                let mut set_members = 0usize;
                for (k, v) in obj {
                    match members.iter().find(|m| &m.name == k) {
                        None => {
                            if dir == Direction::Output {
                                out.push(Violation {
                                    path: child(k),
                                    kind: ViolationKind::UnknownMember,
                                    message: format!("member is not in the model's {} shape", shape.name),
                                });
                            }
                        }
                        Some(m) => {
                            if v.is_null() {
                                if dir == Direction::Output {
                                    out.push(Violation {
                                        path: child(k),
                                        kind: ViolationKind::NullValue,
                                        message: "absent members must be omitted, not null".into(),
                                    });
                                }
                                continue;
                            }
                            set_members += 1;
                            self.walk(&m.shape, v, &child(k), dir, out);
                        }
                    }
                }
                if *union && set_members != 1 {
                    out.push(Violation {
                        path: here.to_owned(),
                        kind: ViolationKind::UnionNotExactlyOne,
                        message: format!("exactly one member of union {} must be set, found {set_members}", shape.name),
                    });
                }
            }
            ShapeKind::List { member, min, max } => {
                let Some(items) = value.as_array() else {
                    push(ViolationKind::InvalidType, "expected a JSON array".into());
                    return;
                };
                let n = items.len() as i64;
                if let Some(min) = min
                    && n < *min
                {
                    push(
                        ViolationKind::NotEnoughValues,
                        format!("Member must have length greater than or equal to {min}"),
                    );
                }
                if let Some(max) = max
                    && n > *max
                {
                    push(ViolationKind::TooManyValues, format!("Member must have length less than or equal to {max}"));
                }
                for (i, item) in items.iter().enumerate() {
                    self.walk(member, item, &format!("{path}[{i}]"), dir, out);
                }
            }
            ShapeKind::Map { key, value: vshape, min, max } => {
                let Some(obj) = value.as_object() else {
                    push(ViolationKind::InvalidType, "expected a JSON object".into());
                    return;
                };
                let n = obj.len() as i64;
                if let Some(min) = min
                    && n < *min
                {
                    push(ViolationKind::NotEnoughValues, format!("Map must have at least {min} entries"));
                }
                if let Some(max) = max
                    && n > *max
                {
                    push(ViolationKind::TooManyValues, format!("Map must have at most {max} entries"));
                }
                for (k, v) in obj {
                    let p = format!("{path}.{k}");
                    self.walk(key, &Value::String(k.clone()), &p, dir, out);
                    self.walk(vshape, v, &p, dir, out);
                }
            }
            ShapeKind::String { enum_values, pattern, pattern_src, min, max } => {
                let Some(s) = value.as_str() else {
                    push(ViolationKind::InvalidType, "expected a JSON string".into());
                    return;
                };
                if let Some(values) = enum_values
                    && !values.iter().any(|e| e == s)
                {
                    push(
                        ViolationKind::InvalidEnum,
                        format!(
                            "Value '{s}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                            values.join(", ")
                        ),
                    );
                    return;
                }
                let len = s.chars().count() as i64;
                if let Some(min) = min
                    && len < *min
                {
                    push(
                        ViolationKind::InvalidLength,
                        format!("Member must have length greater than or equal to {min}"),
                    );
                }
                if let Some(max) = max
                    && len > *max
                {
                    push(ViolationKind::InvalidLength, format!("Member must have length less than or equal to {max}"));
                }
                if let (Some(re), Some(src)) = (pattern, pattern_src) {
                    // A pattern engine error (e.g. backtrack limit) counts as a mismatch.
                    if !re.is_match(s).unwrap_or(false) {
                        push(
                            ViolationKind::InvalidFormat,
                            format!(
                                "Value failed to satisfy constraint: Member must satisfy regular expression pattern: {src}"
                            ),
                        );
                    }
                }
            }
            ShapeKind::Integer { min, max } => {
                let Some(n) = value.as_i64() else {
                    push(ViolationKind::InvalidType, "expected an integer".into());
                    return;
                };
                if let Some(min) = min
                    && n < *min
                {
                    push(
                        ViolationKind::OutOfRange,
                        format!(
                            "Value '{n}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
                        ),
                    );
                }
                if let Some(max) = max
                    && n > *max
                {
                    push(
                        ViolationKind::OutOfRange,
                        format!(
                            "Value '{n}' failed to satisfy constraint: Member must have value less than or equal to {max}"
                        ),
                    );
                }
            }
            ShapeKind::Float => {
                if !value.is_number() {
                    push(ViolationKind::InvalidType, "expected a number".into());
                }
            }
            ShapeKind::Boolean => {
                if !value.is_boolean() {
                    push(ViolationKind::InvalidType, "expected a boolean".into());
                }
            }
            ShapeKind::Blob => {
                if !value.is_string() {
                    push(ViolationKind::InvalidType, "expected a base64 string".into());
                }
            }
            ShapeKind::Timestamp => match (value, dir) {
                (Value::String(s), _) => {
                    if chrono::DateTime::parse_from_rfc3339(s).is_err() {
                        push(ViolationKind::InvalidFormat, format!("'{s}' is not an ISO-8601 (RFC 3339) timestamp"));
                    }
                }
                (Value::Number(_), Direction::Input) => {}
                _ => push(ViolationKind::InvalidType, "expected an ISO-8601 timestamp string".into()),
            },
        }
    }
}

/// Both models, parsed once per process (the models are constants).
#[derive(Debug)]
pub struct Models {
    pub account: ServiceModel,
    pub selling: ServiceModel,
}

impl Models {
    /// Parse the embedded models.
    pub fn load() -> Result<Self, ModelError> {
        Ok(Models {
            account: ServiceModel::parse(Api::Account, ACCOUNT_MODEL_JSON)?,
            selling: ServiceModel::parse(Api::Selling, SELLING_MODEL_JSON)?,
        })
    }

    /// The process-wide parsed models.
    pub fn shared() -> Result<&'static Models, ModelError> {
        static MODELS: OnceLock<Result<Models, String>> = OnceLock::new();
        match MODELS.get_or_init(|| Models::load().map_err(|e| e.to_string())) {
            Ok(m) => Ok(m),
            Err(e) => Err(ModelError::Malformed(e.clone())),
        }
    }

    /// The model of one API.
    pub fn api(&self, api: Api) -> &ServiceModel {
        match api {
            Api::Account => &self.account,
            Api::Selling => &self.selling,
        }
    }

    /// Which API a `X-Amz-Target` prefix belongs to.
    pub fn api_for_prefix(&self, prefix: &str) -> Option<Api> {
        if prefix == self.account.target_prefix {
            Some(Api::Account)
        } else if prefix == self.selling.target_prefix {
            Some(Api::Selling)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn models() -> &'static Models {
        Models::shared().expect("embedded models parse")
    }

    #[test]
    fn embedded_models_parse_and_know_their_prefixes() {
        let m = models();
        assert_eq!(m.account.target_prefix, "PartnerCentralAccount");
        assert_eq!(m.selling.target_prefix, "AWSPartnerCentralSelling");
        assert_eq!(m.api_for_prefix("PartnerCentralAccount"), Some(Api::Account));
        assert_eq!(m.api_for_prefix("Nope"), None);
        assert!(m.account.operation("ListConnectionInvitations").is_some());
        assert!(m.selling.operation("RejectEngagementInvitation").is_some_and(|o| !o.readonly));
        assert!(m.selling.operation("ListEngagementByAcceptingInvitationTasks").is_some_and(|o| o.readonly));
    }

    #[test]
    fn patterns_are_full_matches() {
        let m = &models().account;
        let ok = m.validate(
            "GetConnectionInvitationRequest",
            &json!({"Catalog": "AWS", "Identifier": "pacinv-ABCDEFGHIJ123"}),
            Direction::Input,
        );
        assert!(ok.is_empty(), "{ok:?}");
        let bad = m.validate(
            "GetConnectionInvitationRequest",
            &json!({"Catalog": "AWS", "Identifier": "xpacinv-ABCDEFGHIJ123x"}),
            Direction::Input,
        );
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].path, "Identifier");
        assert_eq!(bad[0].kind, ViolationKind::InvalidFormat);
    }

    #[test]
    fn lookahead_and_unicode_escape_patterns_work() {
        let s = &models().selling;
        // (?=.{1,255}$)(arn:.*|engi-[0-9a-z]{13})
        let v = |id: &str| {
            s.validate("GetEngagementInvitationRequest", &json!({"Catalog": "AWS", "Identifier": id}), Direction::Input)
        };
        assert!(v("engi-0123456789abc").is_empty());
        assert!(v(&format!("arn:{}", "x".repeat(200))).is_empty());
        assert_eq!(v(&format!("arn:{}", "x".repeat(260))).len(), 1);
        assert_eq!(v("engi-0123456789ABC").len(), 1);
        // [\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD]{1,80}
        let r = |reason: &str| {
            s.validate(
                "RejectEngagementInvitationRequest",
                &json!({"Catalog": "AWS", "Identifier": "engi-0123456789abc", "RejectionReason": reason}),
                Direction::Input,
            )
        };
        assert!(r("Customer not a fit — é").is_empty());
        assert_eq!(r("tab\tinside").len(), 1);
    }

    #[test]
    fn ranges_enums_lists_and_required_members_are_named() {
        let s = &models().selling;
        let v = s.validate(
            "ListEngagementInvitationsRequest",
            &json!({"Catalog": "AWS", "MaxResults": 0, "Status": ["PENDING", "CANCELED"], "Sort": {"SortOrder": "ASCENDING"}}),
            Direction::Input,
        );
        let paths: Vec<(&str, ViolationKind)> = v.iter().map(|x| (x.path.as_str(), x.kind)).collect();
        assert!(paths.contains(&("ParticipantType", ViolationKind::RequiredMissing)));
        assert!(paths.contains(&("MaxResults", ViolationKind::OutOfRange)));
        assert!(paths.contains(&("Status[1]", ViolationKind::InvalidEnum)));
        assert!(paths.contains(&("Sort.SortBy", ViolationKind::RequiredMissing)));
        assert_eq!(v.len(), 4, "{v:?}");
        let too_many = s.validate(
            "ListEngagementInvitationsRequest",
            &json!({"Catalog": "AWS", "ParticipantType": "RECEIVER", "Status": vec!["PENDING"; 11], "MaxResults": 101}),
            Direction::Input,
        );
        assert!(too_many.iter().any(|x| x.path == "Status" && x.kind == ViolationKind::TooManyValues));
        assert!(too_many.iter().any(|x| x.path == "MaxResults" && x.kind == ViolationKind::OutOfRange));
    }

    #[test]
    fn input_is_lenient_output_is_strict() {
        let a = &models().account;
        let req = json!({"Catalog": "AWS", "Identifier": "pacinv-ABCDEFGHIJ123", "Extra": 1, "NextToken": null});
        assert!(a.validate("GetConnectionInvitationRequest", &req, Direction::Input).is_empty());
        let resp = json!({
            "Catalog": "AWS", "Id": "pacinv-ABCDEFGHIJ123",
            "Arn": "arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/pacinv-ABCDEFGHIJ123",
            "ConnectionType": "OPPORTUNITY_COLLABORATION",
            "CreatedAt": "2026-11-20T10:00:00Z", "UpdatedAt": "2026-11-20T10:00:00Z",
            "OtherParticipantIdentifier": "123456789012", "ParticipantType": "SENDER",
            "Status": "PENDING", "InvitationMessage": "hi", "InviterEmail": "a@b.example",
            "InviterName": "Ann"
        });
        assert!(a.validate("GetConnectionInvitationResponse", &resp, Direction::Output).is_empty());
        let mut missing = resp.clone();
        if let Some(o) = missing.as_object_mut() {
            o.remove("InviterEmail");
            o.insert("Surprise".into(), json!("x"));
            o.insert("CreatedAt".into(), json!(1_700_000_000));
        }
        let v = a.validate("GetConnectionInvitationResponse", &missing, Direction::Output);
        let kinds: Vec<(&str, ViolationKind)> = v.iter().map(|x| (x.path.as_str(), x.kind)).collect();
        assert!(kinds.contains(&("InviterEmail", ViolationKind::RequiredMissing)));
        assert!(kinds.contains(&("Surprise", ViolationKind::UnknownMember)));
        assert!(kinds.contains(&("CreatedAt", ViolationKind::InvalidType)));
    }

    #[test]
    fn unions_need_exactly_one_member() {
        let s = &models().selling;
        let base = |receiver: Value| json!({"Id": "engi-0123456789abc", "Catalog": "AWS", "Receiver": receiver});
        assert!(
            s.validate(
                "EngagementInvitationSummary",
                &base(json!({"Account": {"AwsAccountId": "123456789012"}})),
                Direction::Output
            )
            .is_empty()
        );
        let v = s.validate("EngagementInvitationSummary", &base(json!({})), Direction::Output);
        assert_eq!(v[0].kind, ViolationKind::UnionNotExactlyOne);
        assert_eq!(v[0].path, "Receiver");
    }
}
