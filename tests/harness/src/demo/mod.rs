//! `make demo`: the whole system on this machine. Starts the stand-ins with a demo account,
//! runs each function that was built, changes a few invitations between runs, and prints
//! the events that reached the consumer queue.
//!
//! Each function contributes one act (`demo/<function>.rs`), run in order by `bin/demo.rs`.

pub mod approval;
pub mod auto_cancel;
pub mod auto_respond;
pub mod auto_respond_connections;
pub mod expire_sweeper;
pub mod list_and_publish;
pub mod native_relay;

use std::collections::BTreeMap;
use std::path::PathBuf;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use partnercentral_local::{CatalogChoice, GenerateConfig};
use serde_json::{Value, json};

use crate::lambda::FunctionProcess;
use crate::stack::{Stack, StackOptions, event_file};
use crate::{Error, Result};

/// The demo run: the stack, the function processes started so far, what arrived.
pub struct Demo {
    pub stack: Stack,
    bin_dir: PathBuf,
    functions: BTreeMap<String, FunctionProcess>,
    /// Events received per detail-type, over the whole demo.
    pub totals: BTreeMap<String, usize>,
    pub runs: usize,
    /// The events the last invocation delivered to the consumer queue (as a rule delivers
    /// them: the whole EventBridge event).
    pub last_events: Vec<Value>,
}

impl Demo {
    /// Start the stand-ins with a small generated account (deterministic).
    pub async fn start() -> Result<Demo> {
        let stack = Stack::start(StackOptions {
            generate: Some(GenerateConfig { seed: 7, engagements: 60, connections: 20, catalogs: CatalogChoice::Aws }),
            // Partner Central's native events, to the default bus and native-relay's queue.
            native_events: Some(Default::default()),
            ..StackOptions::default()
        })
        .await?;
        let bin_dir = std::env::current_exe()
            .map_err(|e| Error::msg(e.to_string()))?
            .parent()
            .map(PathBuf::from)
            .ok_or_else(|| Error::msg("no directory for the demo binary"))?;
        Ok(Demo {
            stack,
            bin_dir,
            functions: BTreeMap::new(),
            totals: BTreeMap::new(),
            runs: 0,
            last_events: Vec::new(),
        })
    }

    /// Whether the function's binary was built (the demo runs only what exists).
    pub fn has_function(&self, name: &str) -> bool {
        self.bin_dir.join(name).is_file()
    }

    /// Say what happens next.
    pub fn narrate(&self, text: &str) {
        println!("\n▶ {text}");
    }

    /// Invoke `name` with the event file `events/<event>` (starting its process on first
    /// use, with `env` on top of the stack's environment), then print the events that
    /// arrived at the consumer. Returns the function's summary.
    pub async fn run(&mut self, name: &str, event: &str, env: &[(&str, &str)]) -> Result<Value> {
        let payload = event_file(event)?;
        self.run_with(name, &payload, env).await
    }

    /// [`Demo::run`] with an inline payload.
    pub async fn run_with(&mut self, name: &str, payload: &Value, env: &[(&str, &str)]) -> Result<Value> {
        if !self.functions.contains_key(name) {
            let process = self.stack.start_function(name, &self.bin_dir.join(name), env)?;
            self.functions.insert(name.to_owned(), process);
        }
        self.invoke(name, payload).await
    }

    /// Start `name`'s process if it is not running yet.
    pub fn start_function(&mut self, name: &str) -> Result<()> {
        if !self.functions.contains_key(name) {
            let process = self.stack.start_function(name, &self.bin_dir.join(name), &[])?;
            self.functions.insert(name.to_owned(), process);
        }
        Ok(())
    }

    /// Invoke an already started function with an inline payload.
    pub async fn invoke(&mut self, name: &str, payload: &Value) -> Result<Value> {
        let output = self.stack.invoke(name, payload).await?.output()?;
        self.runs += 1;
        let events = self.stack.received().await?;
        self.print_events(name, &events);
        self.last_events = events;
        println!("  summary: {}", compact(&output));
        Ok(output)
    }

    /// Stop a function's process (e.g. to start it again with other settings).
    pub async fn stop(&mut self, name: &str) -> Result<()> {
        if let Some(mut p) = self.functions.remove(name) {
            p.kill().await?;
        }
        Ok(())
    }

    fn print_events(&mut self, function: &str, events: &[Value]) {
        if events.is_empty() {
            println!("  {function}: no events");
            return;
        }
        let mut table = Table::new();
        table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header([
            "detail-type",
            "invitation",
            "status",
            "from",
            "details",
        ]);
        for e in events {
            let d = &e["detail"];
            let detail_type = e["detail-type"].as_str().unwrap_or("?").to_owned();
            *self.totals.entry(detail_type.clone()).or_default() += 1;
            let mut details = Vec::new();
            if let Some(h) = d["thresholdHours"].as_u64()
                && d["hoursRemaining"].is_number()
            {
                details.push(format!("<{h}h, {}h left", d["hoursRemaining"]));
            }
            // The expire-sweeper's digest: what expires within its window, soonest first.
            if let (Some(h), Some(listed)) = (d["thresholdHours"].as_u64(), d["invitations"].as_array()) {
                let soonest: Vec<String> = listed
                    .iter()
                    .take(3)
                    .map(|i| format!("{} {}h", i["invitationId"].as_str().unwrap_or("?"), i["hoursRemaining"]))
                    .collect();
                let more = if listed.len() > 3 { ", …" } else { "" };
                details.push(format!("within {h}h: {}{more}", soonest.join(", ")));
            }
            if let Some(rule) = d["cause"]["rule"].as_str() {
                match d["cause"]["type"].as_str() {
                    Some("approval") => details.push(format!("approved by a person (rule {rule})")),
                    _ => details.push(format!("policy rule {rule}")),
                }
            }
            if let Some(action) = d["approval"]["action"].as_str() {
                details.push(format!("asks a person: {action}?"));
            }
            if let Some(action) = d["response"]["action"].as_str() {
                details.push(format!("would {action}"));
            }
            if let Some(task) = d["task"]["taskId"].as_str() {
                details.push(format!("task {task}"));
            }
            if let Some(opportunity) = d["task"]["opportunityId"].as_str() {
                details.push(format!("opportunity {opportunity}"));
            }
            if let Some(reason) = d["task"]["reasonCode"].as_str() {
                details.push(format!("failed: {reason}"));
            }
            if let Some(n) = d["count"].as_u64() {
                details.push(format!("{n} invitations"));
            }
            table.add_row([
                detail_type,
                d["invitationId"].as_str().unwrap_or("-").to_owned(),
                d["status"].as_str().unwrap_or("-").to_owned(),
                d["previousStatus"].as_str().unwrap_or("-").to_owned(),
                details.join("; "),
            ]);
        }
        println!("  {function}: {} event(s) reached the consumer queue", events.len());
        for line in table.to_string().lines() {
            println!("  {line}");
        }
    }

    /// Stop everything and print the one-line summary.
    pub async fn finish(mut self) -> Result<()> {
        let names: Vec<String> = self.functions.keys().cloned().collect();
        for name in names {
            self.stop(&name).await?;
        }
        let total: usize = self.totals.values().sum();
        let by_type: Vec<String> = self.totals.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!("\n✔ demo done: {} function run(s), {total} event(s) delivered ({})", self.runs, by_type.join(", "));
        Ok(())
    }
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 300 { format!("{}…", &s[..s.char_indices().nth(300).map(|(i, _)| i).unwrap_or(s.len())]) } else { s }
}

/// An engagement invitation sent to us by AWS, expiring `hours` from `now` (seed format).
pub fn engagement_invitation(id: &str, now: chrono::DateTime<chrono::Utc>, hours_left: i64) -> Value {
    let expires = now + chrono::Duration::hours(hours_left);
    let sent = expires - chrono::Duration::days(15);
    json!({
        "Catalog": "AWS",
        "Id": id,
        "PayloadType": "OpportunityInvitation",
        "EngagementId": format!("eng-{}", &format!("{:0>14}", id.trim_start_matches("engi-"))[..14]),
        "EngagementTitle": "Demo opportunity",
        "Status": "PENDING",
        "InvitationDate": sent.to_rfc3339(),
        "ExpirationDate": expires.to_rfc3339(),
        "SenderAwsAccountId": "AWS",
        "SenderCompanyName": "Amazon Web Services",
        "ParticipantType": "RECEIVER",
        "Receiver": {"Account": {"AwsAccountId": "111122223333", "Alias": "demo"}}
    })
}
