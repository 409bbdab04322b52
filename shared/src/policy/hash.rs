//! The canonical form of what a policy selects, its hash, and the client tokens derived from
//! it. The hash travels in every policy event (`cause.policyHash`) and in the client token
//! that keeps an action idempotent: a change here changes the contract (the functions pin
//! known values in their tests).

use std::collections::BTreeSet;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The part of a policy that selects, as JSON; written out canonically (keys sorted, no
/// whitespace) by [`canonical_json`], so formatting and key order never change a hash.
pub trait Canonical {
    fn canonical(&self) -> Value;
}

/// A rule without an action (the function has one thing to do): nothing in the canonical
/// form.
impl Canonical for () {
    fn canonical(&self) -> Value {
        Value::Null
    }
}

/// An answer to an engagement invitation (auto-respond's rules): `{"action": "accept"}` or
/// `{"action": "reject", "rejectionReason": ...}`.
impl Canonical for crate::domain::Response {
    fn canonical(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A set-valued list, canonically: sorted, without repeats.
pub fn set(values: &BTreeSet<String>) -> Value {
    Value::from(values.iter().cloned().collect::<Vec<_>>())
}

/// JSON text with object keys sorted and no whitespace, whatever map order serde_json uses.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The policy hash of a canonical form: the first 16 hex characters of its SHA-256.
pub fn policy_hash(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))[..16].to_owned()
}

/// `<prefix>-<policyHash>-<first 20 hex of sha256(id)>`: the same subject under the same
/// policy always gives the same token. With a 2-character prefix, 40 characters of
/// `[A-Za-z0-9-]` (Partner Central's client tokens take up to 64 of `[A-Za-z0-9-_]`).
pub fn client_token(prefix: &str, policy_hash: &str, id: &str) -> String {
    let id_hash = hex::encode(Sha256::digest(id.as_bytes()));
    format!("{prefix}-{policy_hash}-{}", &id_hash[..20])
}

/// `<prefix>-<action>-<first 32 hex of sha256(id)>`: the token of one action on one
/// invitation, whatever policy decided it — a run killed after acting and a policy edited
/// before the next run can never act on the invitation a second time (the same action
/// returns the same result; another action meets an invitation no longer PENDING). At most
/// 2 + 1 + 8 + 1 + 32 = 44 characters of `[A-Za-z0-9-]` for an action of up to 8 letters.
pub fn action_token(prefix: &str, action: &str, id: &str) -> String {
    let id_hash = hex::encode(Sha256::digest(id.as_bytes()));
    format!("{prefix}-{action}-{}", &id_hash[..32])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_canonical_form_sorts_keys_at_every_depth_and_drops_whitespace() {
        let a = json!({"b": [ {"z": 1, "a": "x y"} ], "a": {"d": null, "c": true}});
        assert_eq!(canonical_json(&a), r#"{"a":{"c":true,"d":null},"b":[{"a":"x y","z":1}]}"#);
        let b: Value =
            serde_json::from_str(r#"{ "a" : { "d" : null , "c" : true } , "b" : [ { "a" : "x y", "z" : 1 } ] }"#)
                .unwrap_or_default();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&json!({"k\"ey": "v"})), r#"{"k\"ey":"v"}"#, "keys are escaped as JSON");
    }

    #[test]
    fn sets_are_sorted_and_hashes_are_16_hex() {
        let s: BTreeSet<String> = ["b", "a", "b"].into_iter().map(String::from).collect();
        assert_eq!(set(&s), json!(["a", "b"]));
        let h = policy_hash(r#"{"version":1}"#);
        assert_eq!(h.len(), 16);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(h, policy_hash(r#"{"version":2}"#));
    }

    #[test]
    fn client_tokens_are_deterministic_and_short() {
        let t = client_token("ac", "0123456789abcdef", "pacinv-A000000000001");
        assert_eq!(t, client_token("ac", "0123456789abcdef", "pacinv-A000000000001"));
        assert_ne!(t, client_token("ac", "0123456789abcdef", "pacinv-A000000000002"));
        assert_ne!(t, client_token("ar", "0123456789abcdef", "pacinv-A000000000001"));
        assert!(t.starts_with("ac-0123456789abcdef-"), "{t}");
        assert_eq!(t.len(), 40);
    }

    #[test]
    fn action_tokens_depend_on_the_invitation_and_the_action_only() {
        let t = action_token("ar", "accept", "pacinv-A000000000001");
        assert_eq!(t, action_token("ar", "accept", "pacinv-A000000000001"));
        assert_ne!(t, action_token("ar", "reject", "pacinv-A000000000001"));
        assert_ne!(t, action_token("ar", "accept", "pacinv-A000000000002"));
        assert!(t.starts_with("ar-accept-") && t.len() == 42, "{t}");
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
