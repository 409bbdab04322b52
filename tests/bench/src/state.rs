//! The state table as the functions left it (read directly from moto, not through the tap, so
//! these reads are not counted): which invitations have a record, their status and version,
//! and how many Query pages reading them takes.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use harness::stack::{Stack, TABLE};

use crate::account::Kind;
use crate::{Error, Result};

/// One invitation record, the fields the suite needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    pub status: String,
    pub participant: String,
    pub version: u64,
}

/// Every record of catalog AWS.
#[derive(Debug, Clone, Default)]
pub struct StateSnapshot {
    pub records: BTreeMap<(Kind, String), RecordView>,
    /// Query pages it took to read them (what `load_records` costs).
    pub pages: u64,
}

fn s(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// Read every record (`pk = INV#AWS`).
pub async fn snapshot(stack: &Stack) -> Result<StateSnapshot> {
    let mut out = StateSnapshot::default();
    let mut start = None;
    loop {
        let answer = stack
            .dynamodb
            .query()
            .table_name(TABLE)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S("INV#AWS".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| Error::msg(format!("Query {TABLE}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e))))?;
        out.pages += 1;
        for item in answer.items() {
            let (Some(kind), Some(id), Some(status)) =
                (s(item, "kind").and_then(|k| Kind::parse(&k)), s(item, "id"), s(item, "status"))
            else {
                continue;
            };
            let version = item.get("version").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
            let participant = s(item, "participantType").unwrap_or_default();
            out.records.insert((kind, id), RecordView { status, participant, version });
        }
        match answer.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(out),
        }
    }
}

impl StateSnapshot {
    /// Records written between `self` and `after` (new or with a new version).
    pub fn changed(&self, after: &StateSnapshot) -> u64 {
        self.written(after).count() as u64
    }

    /// Kinds (connection, engagement) with at least one record written between `self` and
    /// `after`.
    pub fn changed_kinds(&self, after: &StateSnapshot) -> u64 {
        let kinds: std::collections::BTreeSet<Kind> = self.written(after).map(|(kind, _)| *kind).collect();
        kinds.len() as u64
    }

    /// Keys of the records written (created or given a new version) between `self` and `after`.
    fn written<'a>(&'a self, after: &'a StateSnapshot) -> impl Iterator<Item = &'a (Kind, String)> + 'a {
        after
            .records
            .iter()
            .filter(|(k, r)| self.records.get(*k).is_none_or(|b| b.version != r.version))
            .map(|(k, _)| k)
    }
}
