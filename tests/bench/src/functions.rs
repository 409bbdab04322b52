//! The functions as the suite runs them: their binaries, environment and payloads, and
//! a [`Fleet`] of warm function processes on one [`Stack`] — with a tap in front of the
//! Lambda Runtime API (init = spawn → first `/next` poll) and one in front of DynamoDB
//! (state I/O calls per operation).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use harness::lambda::{FunctionProcess, Invocation};
use harness::stack::Stack;
use serde_json::{Value, json};

use crate::measure::{Profile, function_binary};
use crate::tap::Tap;
use crate::{Error, Result};

pub const LIST_AND_PUBLISH: &str = "list-and-publish";
pub const EXPIRE_SWEEPER: &str = "expire-sweeper";
pub const AUTO_CANCEL: &str = "auto-cancel";
pub const AUTO_RESPOND: &str = "auto-respond";
/// In the order they are run in a round.
pub const ALL: [&str; 3] = [LIST_AND_PUBLISH, EXPIRE_SWEEPER, AUTO_CANCEL];

/// Scheduled firings so far (each gets its own event id, as EventBridge gives it).
static FIRINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The payload of a scheduled invocation: `events/<name>-scheduled.json` when the function
/// ships one, else an EventBridge scheduled-rule event; as a new firing each time (the policy
/// functions cap their actions per firing): a fresh event `id` for a rule's event, a fresh
/// `scheduledTime` (a minute after the previous one) for EventBridge Scheduler's payload.
pub fn scheduled_event(name: &str) -> Value {
    let mut event = sample_scheduled_event(name);
    let n = FIRINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scheduled_time = event["scheduledTime"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    match scheduled_time {
        Some(t) => {
            let firing = t + chrono::Duration::minutes(i64::try_from(n).unwrap_or(i64::MAX / 60_000));
            event["scheduledTime"] = json!(firing.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        None => event["id"] = json!(format!("00000000-0000-0000-0000-{n:012}")),
    }
    event
}

fn sample_scheduled_event(name: &str) -> Value {
    harness::stack::event_file(&format!("{name}-scheduled.json")).unwrap_or_else(|_| {
        json!({
            "version": "0", "id": "00000000-0000-0000-0000-000000000000",
            "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
            "time": "2026-11-20T10:00:00Z", "region": "us-east-1",
            "resources": [format!("arn:aws:events:us-east-1:123456789012:rule/{name}")], "detail": {}
        })
    })
}

/// One warm function process.
struct Running {
    process: FunctionProcess,
    spawned: Instant,
}

/// What one invocation did, as seen from outside the process.
#[derive(Debug, Clone)]
pub struct Served {
    pub outcome: Invocation,
    pub wall: Duration,
}

/// The function processes of one stack, started on demand and kept warm between runs.
pub struct Fleet<'a> {
    pub stack: &'a Stack,
    profile: Profile,
    env: BTreeMap<String, Vec<(String, String)>>,
    running: BTreeMap<String, Running>,
    runtime_tap: Tap,
    pub dynamodb_tap: Tap,
    bins: BTreeMap<String, PathBuf>,
}

impl<'a> Fleet<'a> {
    /// `env` per function name: overrides on top of the stack's function environment.
    pub async fn new(
        stack: &'a Stack,
        profile: Profile,
        env: BTreeMap<String, Vec<(String, String)>>,
    ) -> Result<Fleet<'a>> {
        let mut bins = BTreeMap::new();
        for name in env.keys() {
            bins.insert(name.clone(), function_binary(name, profile)?);
        }
        Ok(Fleet {
            stack,
            profile,
            env,
            running: BTreeMap::new(),
            runtime_tap: Tap::start(&format!("http://127.0.0.1:{}", stack.runtime.port())).await?,
            dynamodb_tap: Tap::start(stack.moto.endpoint()).await?,
            bins,
        })
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    pub fn binary(&self, name: &str) -> Option<&PathBuf> {
        self.bins.get(name)
    }

    /// A new process serving `name` (through the taps, with its environment), and when it
    /// was spawned.
    fn spawn(&self, name: &str) -> Result<(FunctionProcess, Instant)> {
        let bin = self.bins.get(name).ok_or_else(|| Error::msg(format!("unknown function {name}")))?.clone();
        let runtime_api = format!("{}/.rt/{name}", self.runtime_tap.endpoint());
        let dynamodb = self.dynamodb_tap.endpoint();
        let mut overrides: Vec<(&str, &str)> =
            vec![("AWS_LAMBDA_RUNTIME_API", runtime_api.as_str()), ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.as_str())];
        if let Some(extra) = self.env.get(name) {
            overrides.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        let spawned = Instant::now();
        Ok((self.stack.start_function(name, &bin, &overrides)?, spawned))
    }

    /// Start `name`'s process if it is not running (a cold start). Returns true if started.
    pub fn ensure_started(&mut self, name: &str) -> Result<bool> {
        if self.running.contains_key(name) {
            return Ok(false);
        }
        let (process, spawned) = self.spawn(name)?;
        self.running.insert(name.to_owned(), Running { process, spawned });
        Ok(true)
    }

    /// Init time of `name`'s current process: from spawn to the runtime's first
    /// `/runtime/invocation/next` poll (what Lambda reports as Init Duration).
    pub fn init(&self, name: &str) -> Option<Duration> {
        let r = self.running.get(name)?;
        let prefix = format!("/.rt/{name}/");
        self.runtime_tap
            .records()
            .into_iter()
            .filter(|x| {
                x.at >= r.spawned && x.path.starts_with(&prefix) && x.path.ends_with("/runtime/invocation/next")
            })
            .map(|x| x.at.duration_since(r.spawned))
            .min()
    }

    pub fn pid(&self, name: &str) -> Option<u32> {
        self.running.get(name).and_then(|r| r.process.pid())
    }

    /// Invoke `name` (starting it if needed) and wait for its answer.
    pub async fn invoke(&mut self, name: &str, payload: &Value) -> Result<Served> {
        self.ensure_started(name)?;
        let started = Instant::now();
        let outcome = self.stack.invoke(name, payload).await?;
        Ok(Served { outcome, wall: started.elapsed() })
    }

    /// Two invocations of `name` at once, on two warm processes (a retried firing or a manual
    /// invoke while a run is in progress): a second process serving `name` is started, and
    /// both are invoked once it waits for work; it is stopped afterwards.
    pub async fn invoke_overlapping(&mut self, name: &str, payloads: [&Value; 2]) -> Result<[Invocation; 2]> {
        self.ensure_started(name)?;
        let (mut twin, spawned) = self.spawn(name)?;
        // Ready once it asks the runtime for its first invocation.
        let next = format!("/.rt/{name}/");
        let deadline = spawned + Duration::from_secs(30);
        while !self
            .runtime_tap
            .records()
            .iter()
            .any(|r| r.at >= spawned && r.path.starts_with(&next) && r.path.ends_with("/runtime/invocation/next"))
        {
            if Instant::now() > deadline {
                return Err(Error::msg(format!("the second {name} process never asked for work")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (a, b) = tokio::join!(self.stack.invoke(name, payloads[0]), self.stack.invoke(name, payloads[1]));
        twin.kill().await?;
        Ok([a?, b?])
    }

    /// SIGKILL `name`'s process; the next invocation starts a fresh one.
    pub async fn kill(&mut self, name: &str) -> Result<()> {
        if let Some(mut r) = self.running.remove(name) {
            r.process.kill().await?;
        }
        Ok(())
    }

    /// The log lines of `name`'s current process.
    pub fn logs(&self, name: &str) -> Vec<String> {
        self.running.get(name).map(|r| r.process.logs()).unwrap_or_default()
    }

    /// Stop every process.
    pub async fn stop_all(&mut self) -> Result<()> {
        let names: Vec<String> = self.running.keys().cloned().collect();
        for n in names {
            self.kill(&n).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheduled_payload_is_a_new_firing() {
        // auto-respond ships EventBridge Scheduler's payload, list-and-publish a rule's event.
        let (a, b) = (scheduled_event("auto-respond"), scheduled_event("auto-respond"));
        assert!(a["scheduledTime"].is_string() && a.get("id").is_none(), "{a}");
        assert_ne!(a["scheduledTime"], b["scheduledTime"]);
        let (c, d) = (scheduled_event("list-and-publish"), scheduled_event("list-and-publish"));
        assert_ne!(c["id"], d["id"]);
        assert_eq!(c["source"], "aws.events");
    }
}
