//! CloudWatch metrics as Embedded Metric Format (EMF): one JSON line on stdout per run,
//! which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics — no API call, no
//! extra permission. Namespace `PartnerCentralInvitations`, dimensions `Function` and
//! `Catalog`.
//!
//! Lambda's log-level filtering applies to these lines too: each carries a `level` that passes
//! the configured application log level and an RFC 3339 `timestamp` (without one Lambda takes
//! the line for INFO), so the dashboard and the alarms see the metrics at every allowed level.

use std::io::Write;

use serde_json::{Map, Value, json};

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
        let definitions: Vec<Value> =
            self.values.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit})).collect();
        let mut doc = Map::new();
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function", "Catalog"]],
                    "Metrics": definitions,
                }],
            }),
        );
        doc.insert("Function".into(), json!(function));
        doc.insert("Catalog".into(), json!(catalog));
        for (name, value, _) in &self.values {
            doc.insert(name.clone(), json!(value));
        }
        Value::Object(doc)
    }

    /// The EMF document as a log line of `level` (see [`crate::telemetry::metrics_level`]),
    /// with the RFC 3339 `timestamp` Lambda needs to honour that level.
    pub fn log_line(&self, function: &str, catalog: &str, timestamp_ms: i64, level: &str) -> Value {
        let mut doc = self.to_emf(function, catalog, timestamp_ms);
        if let Value::Object(fields) = &mut doc {
            let timestamp = chrono::DateTime::from_timestamp_millis(timestamp_ms)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            fields.insert("level".into(), json!(level));
            fields.insert("timestamp".into(), json!(timestamp));
        }
        doc
    }

    /// Write the EMF line to stdout (where Lambda's log capture picks it up).
    pub fn emit(&self, function: &str, catalog: &str) {
        let configured = std::env::var(crate::telemetry::LAMBDA_LOG_LEVEL).ok();
        let level = crate::telemetry::metrics_level(configured.as_deref());
        let line = self.log_line(function, catalog, chrono::Utc::now().timestamp_millis(), level).to_string();
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            tracing::warn!(error = %e, "could not write metrics");
        }
    }
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
}
