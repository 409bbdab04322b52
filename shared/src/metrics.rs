//! CloudWatch metrics as Embedded Metric Format (EMF): one JSON line on stdout per run,
//! which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics — no API call, no
//! extra permission. Namespace `PartnerCentralInvitations`, dimensions `Function` and
//! `Catalog`.

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

    /// Write the EMF line to stdout (where Lambda's log capture picks it up).
    pub fn emit(&self, function: &str, catalog: &str) {
        let line = self.to_emf(function, catalog, chrono::Utc::now().timestamp_millis()).to_string();
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
}
