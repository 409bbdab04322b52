//! JSON Schemas of event contract v1, derived from the Rust types (schemars), checked in under
//! `schemas/` for consumers:
//!
//! - [`all`]: draft 2020-12 — the invitation detail, the digest detail, and the envelope of
//!   either kind (`schemas/*.v1.json`);
//! - [`registry_documents`]: one draft-04 document per detail-type, the whole envelope with
//!   `detail-type` pinned to its value (`schemas/registry/<slug>.json`): what the stack
//!   publishes to its EventBridge schema registry (type `JSONSchemaDraft4`, the only JSON
//!   Schema draft the registry takes, and what its code bindings are generated from).
//!
//! A test fails when a checked-in file is stale; `make schemas` rewrites them.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::digest::ExpiringDigestDetail;
use crate::envelope::{ReceivedDigestEvent, ReceivedEvent, ReceivedHealthCheckEvent, ReceivedInvitationEvent};
use crate::event::{DetailType, InvitationEventDetail};
use crate::health::HealthCheckDetail;

/// `$schema` of a draft-04 document.
pub const DRAFT04: &str = "http://json-schema.org/draft-04/schema#";

/// Every keyword of JSON Schema draft 4 (core and validation). A registry document uses no
/// other: the later drafts' keywords (`const`, `examples`, `contains`, `propertyNames`,
/// `if`/`then`/`else`, `$defs`, `$comment`, `readOnly`, ...) would be ignored at best.
pub const DRAFT04_KEYWORDS: [&str; 34] = [
    "$schema",
    "id",
    "$ref",
    "title",
    "description",
    "default",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "additionalItems",
    "items",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "additionalProperties",
    "definitions",
    "properties",
    "patternProperties",
    "dependencies",
    "enum",
    "type",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "format",
];

/// The `format`s draft 4 defines; schemars' others (`uint32`, `double`, ...) are dropped from
/// the registry documents (their `minimum`, where there is one, stays).
pub const DRAFT04_FORMATS: [&str; 6] = ["date-time", "email", "hostname", "ipv4", "ipv6", "uri"];

/// Every checked-in draft 2020-12 schema: file name under `schemas/` and its content.
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("invitation-event-detail.v1.json", to_value(schemars::schema_for!(InvitationEventDetail))),
        ("invitations-expiring-digest-detail.v1.json", to_value(schemars::schema_for!(ExpiringDigestDetail))),
        ("health-check-detail.v1.json", to_value(schemars::schema_for!(HealthCheckDetail))),
        // Every event on the bus, either kind.
        ("invitation-event.v1.json", to_value(schemars::schema_for!(ReceivedEvent))),
    ]
}

/// As schemars serializes it (`$schema`, `title`, `description` first).
fn to_value(schema: schemars::Schema) -> Value {
    serde_json::to_value(schema).unwrap_or_default()
}

/// The registry document of every detail-type, in [`DetailType::ALL`]'s order.
pub fn registry_documents() -> Vec<(DetailType, Value)> {
    DetailType::ALL.into_iter().map(|d| (d, registry_document(d))).collect()
}

/// The file of `detail_type`'s registry document under `schemas/registry/`.
pub fn registry_file_name(detail_type: DetailType) -> String {
    format!("{}.json", detail_type.slug())
}

/// The name of `detail_type`'s schema in the registry: `<source>@<TypeName>`, as EventBridge
/// names the schemas it discovers, e.g. `partnercentral.invitations@EngagementInvitationAccepted`.
pub fn registry_schema_name(source: &str, detail_type: DetailType) -> String {
    format!("{source}@{}", detail_type.type_name())
}

/// The draft-04 document of one detail-type: the envelope as EventBridge delivers it, with
/// `detail-type` pinned to its value, `source` a string (the stack's `EventSource`), and the
/// detail of its kind.
pub fn registry_document(detail_type: DetailType) -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.meta_schema = Some(DRAFT04.into());
    let generator = settings.into_generator();
    let root = match detail_type {
        DetailType::InvitationsExpiringDigest => generator.into_root_schema_for::<ReceivedDigestEvent>(),
        DetailType::HealthCheck => generator.into_root_schema_for::<ReceivedHealthCheckEvent>(),
        _ => generator.into_root_schema_for::<ReceivedInvitationEvent>(),
    };
    let mut doc = to_value(root);
    to_draft04(&mut doc);
    if let Some(root) = doc.as_object_mut() {
        root.insert("title".into(), json!(detail_type.type_name()));
        root.insert(
            "description".into(),
            json!(format!("The \"{detail_type}\" event as EventBridge delivers it (event contract v1)")),
        );
        if let Some(properties) = root.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert(
                "detail-type".into(),
                json!({"type": "string", "enum": [detail_type.as_str()], "description": "Always this value."}),
            );
            properties.insert(
                "source".into(),
                json!({"type": "string", "description": "The stack's EventSource (default partnercentral.invitations)."}),
            );
        }
    }
    doc
}

/// Rewrites what schemars' draft-07 output has beyond draft 4: `const` → a one-value `enum`,
/// a numeric `exclusiveMinimum`/`exclusiveMaximum` → `minimum`/`maximum` with the boolean
/// form, boolean subschemas → `{}` / `{"not": {}}`, and drops what draft 4 lacks
/// (`examples`, `$comment`, `readOnly`, formats it does not define, ...).
pub fn to_draft04(schema: &mut Value) {
    if let Some(root) = schema.as_object_mut() {
        root.insert("$schema".into(), json!(DRAFT04));
        if let Some(defs) = root.remove("$defs") {
            root.insert("definitions".into(), defs);
        }
    }
    walk_schemas(schema, &mut |s| {
        if let Some(value) = s.remove("const") {
            s.insert("enum".into(), json!([value]));
        }
        for (exclusive, inclusive) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
            if let Some(limit) = s.get(exclusive).filter(|v| v.is_number()).cloned() {
                s.insert(inclusive.into(), limit);
                s.insert(exclusive.into(), json!(true));
            }
        }
        if s.get("format").and_then(Value::as_str).is_some_and(|f| !DRAFT04_FORMATS.contains(&f)) {
            s.remove("format");
        }
        s.retain(|keyword, _| DRAFT04_KEYWORDS.contains(&keyword.as_str()));
    });
}

/// Where `schema` uses what draft 4 lacks: one line per keyword, with its JSON pointer.
pub fn draft04_violations(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(schema, "", true, &mut found);
    found
}

fn check(schema: &Value, at: &str, root: bool, found: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        found.push(format!("{at}: a boolean schema (draft 6+)"));
        return;
    };
    for (keyword, value) in s {
        let here = format!("{at}/{keyword}");
        if !DRAFT04_KEYWORDS.contains(&keyword.as_str()) {
            found.push(format!("{here}: keyword {keyword:?} is not draft 4"));
        }
        match keyword.as_str() {
            "$schema" if !root || value != DRAFT04 => found.push(format!("{here}: not the draft-04 meta-schema")),
            "exclusiveMinimum" | "exclusiveMaximum" if !value.is_boolean() => {
                found.push(format!("{here}: must be a boolean in draft 4"))
            }
            "format" if !value.as_str().is_some_and(|f| DRAFT04_FORMATS.contains(&f)) => {
                found.push(format!("{here}: format {value} is not defined by draft 4"))
            }
            "$ref" if !value.as_str().is_some_and(|r| r.starts_with("#/definitions/")) => {
                found.push(format!("{here}: {value} does not point into #/definitions"))
            }
            _ => {}
        }
    }
    for (keyword, sub) in subschemas(s) {
        match sub {
            Sub::One(v) => check(v, &format!("{at}/{keyword}"), false, found),
            Sub::Many(list) => {
                for (i, v) in list.iter().enumerate() {
                    check(v, &format!("{at}/{keyword}/{i}"), false, found);
                }
            }
            Sub::Named(map) => {
                for (name, v) in map {
                    check(v, &format!("{at}/{keyword}/{name}"), false, found);
                }
            }
        }
    }
}

enum Sub<'a> {
    One(&'a Value),
    Many(&'a Vec<Value>),
    Named(&'a Map<String, Value>),
}

/// The subschemas of a draft-04 schema object, by keyword. `additionalProperties` and
/// `additionalItems` may be booleans in draft 4: those are not subschemas.
fn subschemas(s: &Map<String, Value>) -> Vec<(&str, Sub<'_>)> {
    let mut out = Vec::new();
    for (keyword, value) in s {
        let k = keyword.as_str();
        match (k, value) {
            ("properties" | "patternProperties" | "definitions", Value::Object(map)) => out.push((k, Sub::Named(map))),
            ("dependencies", Value::Object(map)) => {
                // A dependency is a schema or a list of property names.
                out.extend(map.values().filter(|v| !v.is_array()).map(|v| (k, Sub::One(v))));
            }
            ("items", Value::Array(list)) | ("allOf" | "anyOf" | "oneOf", Value::Array(list)) => {
                out.push((k, Sub::Many(list)))
            }
            ("items" | "not", v) => out.push((k, Sub::One(v))),
            ("additionalProperties" | "additionalItems", v @ Value::Object(_)) => out.push((k, Sub::One(v))),
            _ => {}
        }
    }
    out
}

/// Calls `f` on every schema object in `schema` (itself included), after replacing boolean
/// subschemas by their object form.
fn walk_schemas(schema: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    let Some(s) = schema.as_object_mut() else { return };
    f(s);
    for (keyword, value) in s.iter_mut() {
        match (keyword.as_str(), value) {
            ("properties" | "patternProperties" | "definitions" | "dependencies", Value::Object(map)) => {
                for v in map.values_mut() {
                    if !v.is_array() {
                        object_form(v);
                        walk_schemas(v, f);
                    }
                }
            }
            ("items" | "allOf" | "anyOf" | "oneOf", Value::Array(list)) => {
                for v in list {
                    object_form(v);
                    walk_schemas(v, f);
                }
            }
            ("items" | "not", v) => {
                object_form(v);
                walk_schemas(v, f);
            }
            ("additionalProperties" | "additionalItems", v @ Value::Object(_)) => walk_schemas(v, f),
            _ => {}
        }
    }
}

/// `true` → `{}`, `false` → `{"not": {}}`: draft 4 has no boolean schemas.
fn object_form(v: &mut Value) {
    match v {
        Value::Bool(true) => *v = json!({}),
        Value::Bool(false) => *v = json!({"not": {}}),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detail_type_has_a_draft04_document_pinning_it() {
        for (d, doc) in registry_documents() {
            assert_eq!(doc["$schema"], DRAFT04, "{d}");
            assert_eq!(doc["properties"]["detail-type"]["enum"], json!([d.as_str()]), "{d}");
            assert_eq!(doc["properties"]["source"]["type"], "string", "{d}");
            assert_eq!(doc["title"], d.type_name());
            assert!(doc.get("definitions").is_some() && doc.get("$defs").is_none(), "{d}");
            assert_eq!(draft04_violations(&doc), Vec::<String>::new(), "{d}");
        }
        let digest = registry_document(DetailType::InvitationsExpiringDigest);
        assert_eq!(digest["properties"]["detail"]["$ref"], "#/definitions/ExpiringDigestDetail");
        let accepted = registry_document(DetailType::EngagementInvitationAccepted);
        assert_eq!(accepted["properties"]["detail"]["$ref"], "#/definitions/InvitationEventDetail");
    }

    #[test]
    fn later_drafts_keywords_are_rewritten_or_dropped() {
        let mut s = json!({
            "$defs": {"A": {"type": "integer", "format": "uint32", "exclusiveMinimum": 0, "examples": [1]}},
            "type": "object",
            "properties": {
                "k": {"const": "x", "$comment": "c"},
                "b": true,
                "n": {"anyOf": [{"$ref": "#/definitions/A"}, false]},
                "t": {"type": "string", "format": "date-time", "readOnly": true},
            },
            "additionalProperties": false,
            "propertyNames": {"pattern": "^[a-z]$"},
        });
        to_draft04(&mut s);
        assert_eq!(
            s,
            json!({
                "$schema": DRAFT04,
                "definitions": {"A": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}},
                "type": "object",
                "properties": {
                    "k": {"enum": ["x"]},
                    "b": {},
                    "n": {"anyOf": [{"$ref": "#/definitions/A"}, {"not": {}}]},
                    "t": {"type": "string", "format": "date-time"},
                },
                "additionalProperties": false,
            })
        );
        assert_eq!(draft04_violations(&s), Vec::<String>::new());
    }

    #[test]
    fn violations_name_the_keyword_and_where_it_is() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {"a": {"const": 1}, "b": {"items": {"contains": {}}}, "c": true},
            "$defs": {},
            "exclusiveMaximum": 3,
        });
        let found = draft04_violations(&s);
        for expected in [
            "/$schema: not the draft-04 meta-schema",
            "/properties/a/const: keyword \"const\" is not draft 4",
            "/properties/b/items/contains: keyword \"contains\" is not draft 4",
            "/properties/c: a boolean schema (draft 6+)",
            "/$defs: keyword \"$defs\" is not draft 4",
            "/exclusiveMaximum: must be a boolean in draft 4",
        ] {
            assert!(found.iter().any(|f| f == expected), "{expected} not in {found:#?}");
        }
    }
}
