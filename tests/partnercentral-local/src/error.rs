//! AWS errors as the awsJson1_0 protocol carries them.
//!
//! Body: `{"__type": "<ShapeName>", "message": "...", <the error shape's own members>}`. The
//! lower-case `message` is the protocol's generic member (every SDK reads it); the shape's
//! members (`Message`, `Reason`, `ErrorDetails`/`ErrorList`, …) are added only when the API's
//! model declares them, so the Account API's `ConflictException` carries a `Reason` and the
//! Selling API's does not.

use serde_json::{Map, Value, json};

use crate::model::{ServiceModel, Violation, ViolationKind};

/// Protocol-level errors that are not shapes of either model.
pub const UNKNOWN_OPERATION: &str = "UnknownOperationException";
/// Malformed JSON body.
pub const SERIALIZATION: &str = "SerializationException";

/// An error response of the AWS API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// Shape name, sent as `__type`.
    pub type_name: String,
    pub message: String,
    /// The error shape's members other than `Message`.
    pub members: Box<Map<String, Value>>,
    /// HTTP status.
    pub status: u16,
}

impl ApiError {
    /// An error of a shape of `model`; HTTP 500 for `fault` shapes, else 400.
    pub fn modeled(model: &ServiceModel, type_name: &str, message: impl Into<String>) -> Self {
        let shape = model.shape(type_name);
        let status = if shape.is_some_and(|s| s.fault) { 500 } else { 400 };
        ApiError { type_name: type_name.to_owned(), message: message.into(), members: Box::default(), status }
            .with_model_member(model, "Message", None)
    }

    /// Add member `name` if (and only if) this API's error shape declares it. `None` marks a
    /// member that is filled from `message` (i.e. `Message`).
    fn with_model_member(mut self, model: &ServiceModel, name: &str, value: Option<Value>) -> Self {
        if model.shape(&self.type_name).is_some_and(|s| s.has_member(name)) {
            let v = value.unwrap_or_else(|| json!(self.message));
            self.members.insert(name.to_owned(), v);
        }
        self
    }

    /// Add a `Reason` (only where the model's shape has one).
    pub fn with_reason(self, model: &ServiceModel, reason: &str) -> Self {
        self.with_model_member(model, "Reason", Some(json!(reason)))
    }

    /// A protocol error outside the models (`UnknownOperationException`, …).
    pub fn protocol(type_name: &str, message: impl Into<String>, status: u16) -> Self {
        ApiError { type_name: type_name.to_owned(), message: message.into(), members: Box::default(), status }
    }

    /// `ResourceNotFoundException` (Account API: Reason `CONNECTION_INVITATION_NOT_FOUND`).
    pub fn not_found(model: &ServiceModel, message: impl Into<String>, reason: &str) -> Self {
        ApiError::modeled(model, "ResourceNotFoundException", message).with_reason(model, reason)
    }

    /// `ConflictException` with a reason where the model has one.
    pub fn conflict(model: &ServiceModel, reason: &str, message: impl Into<String>) -> Self {
        ApiError::modeled(model, "ConflictException", message).with_reason(model, reason)
    }

    /// `ThrottlingException`.
    pub fn throttling(model: &ServiceModel, message: impl Into<String>) -> Self {
        ApiError::modeled(model, "ThrottlingException", message)
    }

    /// `InternalServerException` (HTTP 500).
    pub fn internal(model: &ServiceModel, message: impl Into<String>) -> Self {
        ApiError::modeled(model, "InternalServerException", message)
    }

    /// `ValidationException` with reason `REQUEST_VALIDATION_FAILED` and one field error per
    /// violation, in the member the API's model uses (`ErrorDetails` on the Account API,
    /// `ErrorList` on the Selling API).
    pub fn validation(model: &ServiceModel, violations: &[Violation]) -> Self {
        let n = violations.len();
        let detail: Vec<String> = violations
            .iter()
            .map(|v| format!("Value at '{}' failed to satisfy constraint: {}", v.path, v.message))
            .collect();
        let message = format!("{n} validation error{} detected: {}", if n == 1 { "" } else { "s" }, detail.join("; "));
        let mut err =
            ApiError::modeled(model, "ValidationException", message).with_reason(model, "REQUEST_VALIDATION_FAILED");
        let shape = model.shape("ValidationException");
        if shape.is_some_and(|s| s.has_member("ErrorDetails")) {
            // Account: ValidationErrorList of ValidationError union { FieldValidationError }.
            let codes =
                code_enum(model, &["ValidationException", "ErrorDetails", "[]", "FieldValidationError", "Code"]);
            let list: Vec<Value> = violations
                .iter()
                .map(|v| {
                    json!({"FieldValidationError": {
                        "Name": v.path,
                        "Message": v.message,
                        "Code": field_code(v.kind, &codes),
                    }})
                })
                .collect();
            err.members.insert("ErrorDetails".into(), Value::Array(list));
        } else if shape.is_some_and(|s| s.has_member("ErrorList")) {
            // Selling: ValidationExceptionErrorList of { FieldName, Message, Code }.
            let codes = code_enum(model, &["ValidationException", "ErrorList", "[]", "Code"]);
            let list: Vec<Value> = violations
                .iter()
                .map(|v| {
                    json!({
                        "FieldName": v.path,
                        "Message": v.message,
                        "Code": field_code(v.kind, &codes),
                    })
                })
                .collect();
            err.members.insert("ErrorList".into(), Value::Array(list));
        }
        err
    }

    /// A `ValidationException` about one field.
    pub fn invalid_field(model: &ServiceModel, field: &str, message: impl Into<String>) -> Self {
        ApiError::validation(
            model,
            &[Violation { path: field.to_owned(), kind: ViolationKind::InvalidValue, message: message.into() }],
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("__type".into(), json!(self.type_name));
        m.insert("message".into(), json!(self.message));
        for (k, v) in self.members.iter() {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// Follow a member path (`[]` = list element) from a shape to an enum string shape, and
/// return its values.
fn code_enum(model: &ServiceModel, path: &[&str]) -> Vec<String> {
    let Some((first, rest)) = path.split_first() else {
        return vec![];
    };
    let mut shape = (*first).to_owned();
    for step in rest {
        let next = if *step == "[]" {
            match model.shape(&shape).map(|s| &s.kind) {
                Some(crate::model::ShapeKind::List { member, .. }) => Some(member.clone()),
                _ => None,
            }
        } else {
            model.member_shape(&shape, step).map(str::to_owned)
        };
        match next {
            Some(n) => shape = n,
            None => return vec![],
        }
    }
    match model.shape(&shape).map(|s| &s.kind) {
        Some(crate::model::ShapeKind::String { enum_values: Some(v), .. }) => v.clone(),
        _ => vec![],
    }
}

/// The most specific code the model offers for a violation, falling back to `INVALID_VALUE`.
fn field_code(kind: ViolationKind, codes: &[String]) -> String {
    let preferred: &[&str] = match kind {
        ViolationKind::RequiredMissing => &["REQUIRED_FIELD_MISSING"],
        ViolationKind::InvalidEnum => &["INVALID_ENUM_VALUE"],
        ViolationKind::InvalidFormat => &["INVALID_STRING_FORMAT"],
        ViolationKind::OutOfRange => &["VALUE_OUT_OF_RANGE"],
        ViolationKind::TooManyValues => &["TOO_MANY_VALUES"],
        ViolationKind::NotEnoughValues => &["NOT_ENOUGH_VALUES"],
        _ => &[],
    };
    preferred
        .iter()
        .find(|p| codes.iter().any(|c| c == *p))
        .map(|p| (*p).to_owned())
        .unwrap_or_else(|| "INVALID_VALUE".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Models};

    #[test]
    fn error_bodies_follow_each_apis_model() {
        let m = Models::shared().expect("models");
        let a = ApiError::conflict(&m.account, "CONFLICT_CLIENT_TOKEN", "reused");
        assert_eq!(a.status, 400);
        assert_eq!(a.body()["Reason"], "CONFLICT_CLIENT_TOKEN");
        assert_eq!(a.body()["Message"], "reused");
        assert!(
            m.account
                .validate_except("ConflictException", &a.body(), Direction::Output, &["__type", "message"])
                .is_empty()
        );
        let s = ApiError::conflict(&m.selling, "CONFLICT_CLIENT_TOKEN", "reused");
        assert!(s.body().get("Reason").is_none(), "selling ConflictException has no Reason");
        assert_eq!(ApiError::internal(&m.selling, "boom").status, 500);
        let v = Violation { path: "MaxResults".into(), kind: ViolationKind::OutOfRange, message: "too big".into() };
        let av = ApiError::validation(&m.account, std::slice::from_ref(&v)).body();
        assert_eq!(av["ErrorDetails"][0]["FieldValidationError"]["Name"], "MaxResults");
        assert_eq!(av["ErrorDetails"][0]["FieldValidationError"]["Code"], "INVALID_VALUE");
        let sv = ApiError::validation(&m.selling, &[v]).body();
        assert_eq!(sv["ErrorList"][0]["FieldName"], "MaxResults");
        assert_eq!(sv["ErrorList"][0]["Code"], "VALUE_OUT_OF_RANGE");
        for (model, body) in [(&m.account, av), (&m.selling, sv)] {
            let violations =
                model.validate_except("ValidationException", &body, Direction::Output, &["__type", "message"]);
            assert!(violations.is_empty(), "{violations:?}");
        }
    }
}
