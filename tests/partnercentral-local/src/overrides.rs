//! Response overrides: serve chosen invitations with a member the model would not allow (a
//! value the API may add tomorrow, e.g. `Status: "WITHDRAWN"`) or without a member, so the
//! clients' forward-compatible reading can be exercised with the real SDK parsing.
//!
//! An override names an invitation id, a member and a raw value (`null`: the member is left
//! out). It applies to every AWS response object with that `Id` — list summaries and Get,
//! Accept, Cancel answers alike — after the emulator's own response validation, which it
//! bypasses for those objects only. The stored invitation is not changed; its native events
//! and state transitions go on as before. Control API: `/_emulator/response-overrides`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One member of one invitation, served as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseOverride {
    /// The invitation's `Id`.
    #[serde(rename = "Id")]
    pub id: String,
    /// The member to replace or remove, e.g. `Status`.
    #[serde(rename = "Member")]
    pub member: String,
    /// Its raw value on the wire; `null` leaves the member out.
    #[serde(rename = "Value")]
    pub value: Value,
}

/// Every override in force.
#[derive(Debug, Default)]
pub struct Overrides {
    items: Vec<ResponseOverride>,
}

impl Overrides {
    /// Add one, replacing an override of the same id and member.
    pub fn set(&mut self, o: ResponseOverride) -> Result<(), String> {
        if o.id.is_empty() || o.member.is_empty() {
            return Err("Id and Member must not be empty".into());
        }
        if o.member == "Id" {
            return Err("Member Id cannot be overridden (it selects the invitation)".into());
        }
        self.items.retain(|x| !(x.id == o.id && x.member == o.member));
        self.items.push(o);
        Ok(())
    }

    /// Remove every override of `id` (all of them with `None`); how many were removed.
    pub fn clear(&mut self, id: Option<&str>) -> usize {
        let before = self.items.len();
        self.items.retain(|x| id.is_some_and(|id| x.id != id));
        before - self.items.len()
    }

    pub fn list(&self) -> &[ResponseOverride] {
        &self.items
    }

    /// Apply to every object of a response, at any depth, whose `Id` is overridden; how many
    /// objects were changed.
    pub fn apply(&self, response: &mut Value) -> usize {
        if self.items.is_empty() {
            return 0;
        }
        let mut changed = 0;
        self.walk(response, &mut changed);
        changed
    }

    fn walk(&self, v: &mut Value, changed: &mut usize) {
        match v {
            Value::Object(o) => {
                let id = o.get("Id").and_then(Value::as_str).map(str::to_owned);
                if let Some(id) = id {
                    let mut touched = false;
                    for x in self.items.iter().filter(|x| x.id == id) {
                        touched = true;
                        if x.value.is_null() {
                            o.remove(&x.member);
                        } else {
                            o.insert(x.member.clone(), x.value.clone());
                        }
                    }
                    *changed += usize::from(touched);
                }
                for child in o.values_mut() {
                    self.walk(child, changed);
                }
            }
            Value::Array(items) => {
                for child in items {
                    self.walk(child, changed);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set(o: &mut Overrides, id: &str, member: &str, value: Value) {
        let r = o.set(ResponseOverride { id: id.into(), member: member.into(), value });
        assert_eq!(r, Ok(()));
    }

    #[test]
    fn overrides_replace_or_remove_members_of_the_named_invitation_only() {
        let mut o = Overrides::default();
        set(&mut o, "engi-1", "Status", json!("WITHDRAWN"));
        set(&mut o, "engi-2", "InvitationDate", Value::Null);
        let mut page = json!({"EngagementInvitationSummaries": [
            {"Id": "engi-1", "Status": "PENDING", "InvitationDate": "2026-11-01T00:00:00Z"},
            {"Id": "engi-2", "Status": "PENDING", "InvitationDate": "2026-11-01T00:00:00Z"},
            {"Id": "engi-3", "Status": "PENDING", "InvitationDate": "2026-11-01T00:00:00Z"}
        ], "NextToken": "x"});
        assert_eq!(o.apply(&mut page), 2);
        assert_eq!(page["EngagementInvitationSummaries"][0]["Status"], "WITHDRAWN");
        assert_eq!(page["EngagementInvitationSummaries"][1].get("InvitationDate"), None);
        assert_eq!(page["EngagementInvitationSummaries"][2]["Status"], "PENDING");
        let mut get = json!({"Id": "engi-1", "Status": "ACCEPTED"});
        assert_eq!(o.apply(&mut get), 1);
        assert_eq!(get["Status"], "WITHDRAWN");
    }

    #[test]
    fn a_second_override_of_a_member_replaces_the_first_and_clear_removes_them() {
        let mut o = Overrides::default();
        set(&mut o, "engi-1", "Status", json!("WITHDRAWN"));
        set(&mut o, "engi-1", "Status", json!("ON_HOLD"));
        set(&mut o, "engi-2", "Status", json!("ON_HOLD"));
        assert_eq!(o.list().len(), 2);
        assert_eq!(o.clear(Some("engi-1")), 1);
        assert_eq!(o.clear(None), 1);
        assert!(o.list().is_empty());
        let bad = o.set(ResponseOverride { id: "engi-1".into(), member: "Id".into(), value: json!("x") });
        assert!(bad.is_err_and(|e| e.contains("Member Id")));
    }
}
