//! A named local session for `make invoke … STATE=<name>`: what one invoke leaves behind (the
//! state table, the emulator's invitations and clock) saved to a file and put back before the
//! next invoke of the same session, so that consecutive invokes see each other's work (a
//! baseline, then a full sync, then "nothing changed") as consecutive Lambda runs would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::stack::{Stack, TABLE};
use crate::{Error, Result};

/// What a session file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The emulator's clock when the session was saved (the clock stays there: invokes of one
    /// session see the same Partner Central time unless its data says otherwise).
    pub clock: DateTime<Utc>,
    /// The emulator's invitations, in its seed format.
    pub invitations: Value,
    /// Every item of the state table, as plain JSON.
    pub table: Vec<Value>,
}

/// Where session `name` is kept: `<dir>/<name>.json`.
pub fn session_path(dir: &Path, name: &str) -> Result<PathBuf> {
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid || name.starts_with('.') {
        return Err(Error::msg(format!(
            "session name {name:?} is invalid (accepted: letters, digits, '-', '_', '.', not starting with '.')"
        )));
    }
    Ok(dir.join(format!("{name}.json")))
}

impl Session {
    /// The session at `path`, or `None` when it was never saved.
    pub fn load(path: &Path) -> Result<Option<Session>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::msg(format!("{}: {e}", path.display()))),
        };
        let doc: Value = serde_json::from_str(&text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        let clock = doc["clock"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| Error::msg(format!("{}: no RFC 3339 `clock`", path.display())))?;
        let table = doc["table"].as_array().cloned().unwrap_or_default();
        Ok(Some(Session { clock, invitations: doc["invitations"].clone(), table }))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::msg(format!("{}: {e}", dir.display())))?;
        }
        let doc = json!({"clock": self.clock.to_rfc3339(), "invitations": self.invitations, "table": self.table});
        let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::msg(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))
    }

    /// Read the session out of a running stack.
    pub async fn capture(stack: &Stack) -> Result<Session> {
        let clock = stack.emulator_now().await?;
        let connections = stack.emulator_control("GET", "connection-invitations", None).await?;
        let engagements = stack.emulator_control("GET", "engagement-invitations", None).await?;
        let invitations = json!({
            "ConnectionInvitations": connections["ConnectionInvitations"],
            "EngagementInvitations": engagements["EngagementInvitations"],
        });
        let items: Vec<HashMap<String, AttributeValue>> = stack
            .dynamodb
            .scan()
            .table_name(TABLE)
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<_, _>>()
            .await
            .map_err(Error::sdk("Scan"))?;
        let table = items
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(|e| Error::msg(format!("state item: {e}"))))
            .collect::<Result<_>>()?;
        Ok(Session { clock, invitations, table })
    }

    /// Put the session into a freshly started stack (started with [`Session::clock`]).
    pub async fn restore(&self, stack: &Stack) -> Result<()> {
        stack.emulator_control("POST", "seed", Some(self.invitations.clone())).await?;
        for item in &self.table {
            let item: HashMap<String, AttributeValue> =
                serde_dynamo::to_item(item).map_err(|e| Error::msg(format!("state item {item}: {e}")))?;
            stack
                .dynamodb
                .put_item()
                .table_name(TABLE)
                .set_item(Some(item))
                .send()
                .await
                .map_err(Error::sdk("PutItem"))?;
        }
        Ok(())
    }
}
