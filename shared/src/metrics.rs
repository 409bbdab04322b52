//! CloudWatch metrics as Embedded Metric Format (EMF): one JSON line on stdout per run,
//! which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics — no API call, no
//! extra permission. Namespace `PartnerCentralInvitations`, dimensions `Function` and
//! `Catalog`.
//!
//! Lambda's log-level filtering applies to these lines too: each carries a `level` that passes
//! the configured application log level and an RFC 3339 `timestamp` (without one Lambda takes
//! the line for INFO), so the dashboard and the alarms see the metrics at every allowed level.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::domain::answer::{Answer, AnswerFact, answer_fact};
use crate::domain::{InvitationKind, RecordChange};

/// Metric namespace of every function.
pub const NAMESPACE: &str = "PartnerCentralInvitations";

/// A set of counts for one run.
#[derive(Debug, Clone, Default)]
pub struct RunMetrics {
    values: Vec<(String, f64, &'static str)>,
}

impl RunMetrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// A count (unit `Count`).
    pub fn count(mut self, name: impl Into<String>, value: impl Into<f64>) -> Self {
        self.values.push((name.into(), value.into(), "Count"));
        self
    }

    /// A duration in milliseconds.
    pub fn millis(mut self, name: impl Into<String>, value: impl Into<f64>) -> Self {
        self.values.push((name.into(), value.into(), "Milliseconds"));
        self
    }

    /// The EMF document for `function` and `catalog` at `timestamp_ms`.
    pub fn to_emf(&self, function: &str, catalog: &str, timestamp_ms: i64) -> Value {
        let metrics: Vec<(&str, &str, Value)> =
            self.values.iter().map(|(name, value, unit)| (name.as_str(), *unit, json!(value))).collect();
        emf_document(&[("Function", function), ("Catalog", catalog)], &metrics, timestamp_ms)
    }

    /// The EMF document as a log line of `level` (see [`crate::telemetry::metrics_level`]),
    /// with the RFC 3339 `timestamp` Lambda needs to honour that level.
    pub fn log_line(&self, function: &str, catalog: &str, timestamp_ms: i64, level: &str) -> Value {
        as_log_line(self.to_emf(function, catalog, timestamp_ms), timestamp_ms, level)
    }

    /// Write the EMF line to stdout (where Lambda's log capture picks it up).
    pub fn emit(&self, function: &str, catalog: &str) {
        write_lines(|timestamp_ms, level| vec![self.log_line(function, catalog, timestamp_ms, level)]);
    }
}

fn as_log_line(mut doc: Value, timestamp_ms: i64, level: &str) -> Value {
    if let Value::Object(fields) = &mut doc {
        let timestamp = chrono::DateTime::from_timestamp_millis(timestamp_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        fields.insert("level".into(), json!(level));
        fields.insert("timestamp".into(), json!(timestamp));
    }
    doc
}

/// Write EMF lines (made for the time and level now) to stdout.
fn write_lines(lines: impl FnOnce(i64, &str) -> Vec<Value>) {
    let configured = std::env::var(crate::telemetry::LAMBDA_LOG_LEVEL).ok();
    let level = crate::telemetry::metrics_level(configured.as_deref());
    let mut out = std::io::stdout().lock();
    for line in lines(chrono::Utc::now().timestamp_millis(), level) {
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            tracing::warn!(error = %e, "could not write metrics");
        }
    }
}

/// Seconds from receipt to answer of each invitation we received and someone answered
/// (dimensions `Catalog`, `Kind`, `AnsweredBy`: `policy`, `approval`, `person`), whichever
/// function recorded the answer: the dashboard's p50/p90.
pub const ANSWER_TIME: &str = "AnswerTime";
/// Received invitations that expired while unanswered (dimensions `Catalog`, `Kind`).
pub const EXPIRED_UNANSWERED: &str = "ExpiredUnanswered";
/// EMF takes at most 100 values per metric in one document.
const MAX_VALUES: usize = 100;

/// The answers (and expiries) a store committed, collected until the run reports them
/// (see [`crate::ports::StateStore::take_answers`]). Clones share the log.
#[derive(Debug, Clone, Default)]
pub struct AnswerLog(Arc<Mutex<Vec<AnswerFact>>>);

impl AnswerLog {
    /// Note the answer `change` recorded, if it recorded one (call once it is committed).
    pub fn note(&self, change: &RecordChange) {
        if let Some(fact) = answer_fact(&change.record, &change.events) {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(fact);
        }
    }

    /// The facts noted since the last call.
    pub fn take(&self) -> Vec<AnswerFact> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// One EMF document: `dimensions` (name, value) as its one dimension set, `metrics`
/// (name, unit, value or array of values).
fn emf_document(dimensions: &[(&str, &str)], metrics: &[(&str, &str, Value)], timestamp_ms: i64) -> Value {
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let definitions: Vec<Value> = metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [names], "Metrics": definitions}],
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).into(), json!(v));
    }
    for (name, _, value) in metrics {
        doc.insert((*name).into(), value.clone());
    }
    Value::Object(doc)
}

/// The EMF documents of `facts`: one `AnswerTime` document (values in seconds, at most 100
/// per document) per kind and answerer, one `ExpiredUnanswered` count per kind.
pub fn answer_documents(facts: &[AnswerFact], catalog: &str, timestamp_ms: i64) -> Vec<Value> {
    let mut times: std::collections::BTreeMap<(InvitationKind, &'static str), Vec<f64>> = Default::default();
    let mut expired: std::collections::BTreeMap<InvitationKind, u32> = Default::default();
    for f in facts {
        match f.answer {
            Answer::By(by) => times.entry((f.kind, by.as_str())).or_default().push(f.seconds()),
            Answer::Unanswered => *expired.entry(f.kind).or_default() += 1,
        }
    }
    let mut docs = Vec::new();
    for ((kind, by), values) in times {
        for chunk in values.chunks(MAX_VALUES) {
            let dims = [("Catalog", catalog), ("Kind", kind.as_str()), ("AnsweredBy", by)];
            docs.push(emf_document(&dims, &[(ANSWER_TIME, "Seconds", json!(chunk))], timestamp_ms));
        }
    }
    for (kind, n) in expired {
        let dims = [("Catalog", catalog), ("Kind", kind.as_str())];
        docs.push(emf_document(&dims, &[(EXPIRED_UNANSWERED, "Count", json!(n))], timestamp_ms));
    }
    docs
}

/// Write the answer metrics of `facts` to stdout (nothing when there are none).
pub fn emit_answers(facts: &[AnswerFact], catalog: &str) {
    if facts.is_empty() {
        return;
    }
    write_lines(|timestamp_ms, level| {
        answer_documents(facts, catalog, timestamp_ms)
            .into_iter()
            .map(|d| as_log_line(d, timestamp_ms, level))
            .collect()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_every_metric_with_its_dimensions() {
        let doc =
            RunMetrics::new().count("EventsDelivered", 3).millis("Duration", 120).to_emf("list-and-publish", "AWS", 1);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Function", "Catalog"]]));
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][1],
            json!({"Name": "Duration", "Unit": "Milliseconds"})
        );
        assert_eq!(doc["EventsDelivered"], 3.0);
        assert_eq!(doc["Function"], "list-and-publish");
        assert_eq!(doc["Catalog"], "AWS");
    }

    #[test]
    fn metric_lines_survive_lambda_log_level_filtering_at_every_level() {
        let metrics = RunMetrics::new().count("EventsFailed", 1);
        for configured in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] {
            let level = crate::telemetry::metrics_level(Some(configured));
            let line = metrics.log_line("expire-sweeper", "AWS", 1_764_500_000_000, level).to_string();
            assert_eq!(serde_json::from_str::<Value>(&line).ok().map(|v| v["EventsFailed"].clone()), Some(json!(1.0)));
            assert!(crate::telemetry::lambda_keeps(&line, configured), "{configured}: {line}");
        }
        // Without the level and timestamp (as before), WARN dropped them.
        assert!(!crate::telemetry::lambda_keeps(r#"{"_aws": {}, "EventsFailed": 1}"#, "WARN"));
    }

    fn fact(kind: InvitationKind, answer: Answer, hours: i64) -> AnswerFact {
        let at = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        AnswerFact { kind, answer, received_at: at - chrono::Duration::hours(hours), at }
    }

    #[test]
    fn answer_times_go_out_per_kind_and_answerer_and_expiries_per_kind() {
        use crate::domain::AnsweredBy;
        let mut facts: Vec<AnswerFact> =
            (1..=150).map(|h| fact(InvitationKind::Engagement, Answer::By(AnsweredBy::Policy), h)).collect();
        facts.push(fact(InvitationKind::Connection, Answer::By(AnsweredBy::Person), 2));
        facts.push(fact(InvitationKind::Engagement, Answer::Unanswered, 360));
        facts.push(fact(InvitationKind::Engagement, Answer::Unanswered, 360));
        let docs = answer_documents(&facts, "AWS", 5);
        let shape: Vec<(Value, Value, usize)> = docs
            .iter()
            .filter(|d| d.get(ANSWER_TIME).is_some())
            .map(|d| (d["Kind"].clone(), d["AnsweredBy"].clone(), d[ANSWER_TIME].as_array().map_or(0, Vec::len)))
            .collect();
        // 150 values: two documents (EMF takes at most 100 values per metric).
        assert_eq!(
            shape,
            [
                (json!("connection"), json!("person"), 1),
                (json!("engagement"), json!("policy"), 100),
                (json!("engagement"), json!("policy"), 50)
            ]
        );
        let first = &docs[0];
        assert_eq!(first[ANSWER_TIME], json!([7200.0]));
        assert_eq!(first["Catalog"], "AWS");
        assert_eq!(
            first["_aws"]["CloudWatchMetrics"][0],
            json!({"Namespace": NAMESPACE, "Dimensions": [["Catalog", "Kind", "AnsweredBy"]],
                   "Metrics": [{"Name": "AnswerTime", "Unit": "Seconds"}]})
        );
        let expired: Vec<&Value> = docs.iter().filter(|d| d.get(EXPIRED_UNANSWERED).is_some()).collect();
        assert_eq!(expired.len(), 1);
        assert_eq!((&expired[0]["Kind"], &expired[0][EXPIRED_UNANSWERED]), (&json!("engagement"), &json!(2)));
        assert_eq!(expired[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Catalog", "Kind"]]));
        assert!(answer_documents(&[], "AWS", 5).is_empty());
    }

    #[tokio::test]
    async fn a_store_reports_each_committed_answer_once_and_none_of_a_conflicting_change() {
        use crate::domain::{AnsweredBy, InvitationEvent, InvitationRecord, InvitationStatus, OutboundEvent};
        use crate::ports::StateStore;
        use crate::testing::{MemoryStateStore, engagement_invitation};
        let now = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        let store = MemoryStateStore::new();
        let pending = engagement_invitation("engi-0000000000001", now - chrono::Duration::hours(30));
        let seen = RecordChange::update(InvitationRecord::first_sighting(&pending, true, now), vec![]);
        store.commit(vec![seen]).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.take_answers().is_empty(), "a first sighting answers nothing");
        let record = store.record(pending.kind, &pending.id).unwrap_or_else(|| panic!("stored"));
        let accepted = crate::domain::Invitation { status: InvitationStatus::Accepted, ..pending.clone() };
        let event = InvitationEvent::transition(&accepted, InvitationStatus::Pending, now)
            .and_then(|e| OutboundEvent::from_event(&e).ok())
            .unwrap_or_else(|| panic!("a transition event"));
        let mut next = record.clone();
        next.observe(&accepted, now);
        let change = RecordChange::update(next, vec![event]);
        let kept = change.record.answer.as_deref().map(|a| (a.answer, a.at));
        assert_eq!(kept, Some((Answer::By(AnsweredBy::Person), now)), "the record keeps who answered, and when");
        store.commit(vec![change.clone()]).await.unwrap_or_else(|e| panic!("{e}"));
        let facts = store.take_answers();
        let answered: Vec<(Answer, f64)> = facts.iter().map(|f| (f.answer, f.seconds())).collect();
        assert_eq!(answered, [(Answer::By(AnsweredBy::Person), 30.0 * 3600.0)]);
        assert!(store.take_answers().is_empty(), "taken once");
        // The same change again conflicts (the record moved on): nothing is reported.
        store.commit(vec![change]).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.take_answers().is_empty());
    }
}
