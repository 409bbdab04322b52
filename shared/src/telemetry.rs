//! Logging of every function: JSON lines that Lambda's log-level filtering reads as we mean
//! them, and no personal data from the AWS SDK's own tracing at any level.
//!
//! - Lambda filters JSON application logs by their `level` key, and takes a line whose
//!   `timestamp` is missing or not RFC 3339 for INFO whatever its level (so with the log level
//!   at WARN it would drop even our errors). Every line therefore carries both; the
//!   `lambda_runtime` default subscriber leaves the time out, so this one is ours.
//! - The AWS SDK and the HTTP stack under it log whole requests and responses at DEBUG and
//!   TRACE, inviter e-mail addresses among them. Their crates are capped at INFO here, whatever
//!   level is configured, so "never logged" holds at every level.
//! - Metric lines (EMF, see [`crate::metrics`]) are not tracing events; [`metrics_level`] gives
//!   the level they carry so that they pass the configured filter.

use std::str::FromStr;

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, FilterFn, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The variable Lambda sets from the function's `ApplicationLogLevel` (`TRACE` … `FATAL`).
pub const LAMBDA_LOG_LEVEL: &str = "AWS_LAMBDA_LOG_LEVEL";
/// `JSON` when the function's log format is JSON.
pub const LAMBDA_LOG_FORMAT: &str = "AWS_LAMBDA_LOG_FORMAT";

/// Target prefixes of the crates whose tracing never goes above INFO: the AWS SDK, its
/// runtime, and the HTTP and TLS stack under it.
pub const CAPPED_TARGETS: [&str; 9] = [
    "aws_smithy",
    "aws_sdk",
    "aws_config",
    "aws_runtime",
    "aws_sigv4",
    "aws_credential_types",
    "hyper",
    "h2",
    "rustls",
];

/// Whether an event or span of `target` at `level` may be logged (the SDK cap).
pub fn allowed(target: &str, level: &Level) -> bool {
    *level <= Level::INFO || !CAPPED_TARGETS.iter().any(|prefix| target.starts_with(prefix))
}

/// The level configured for the process: `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` if it is a
/// plain level, else INFO. Lambda's `FATAL` has no tracing equivalent and means ERROR here.
pub fn configured_level(lambda_level: Option<&str>, rust_log: Option<&str>) -> LevelFilter {
    let parse = |raw: &str| match raw.trim().to_ascii_uppercase().as_str() {
        "FATAL" => Some(LevelFilter::ERROR),
        other => LevelFilter::from_str(other).ok(),
    };
    lambda_level.and_then(parse).or_else(|| rust_log.and_then(parse)).unwrap_or(LevelFilter::INFO)
}

/// The `level` a metric line carries so that Lambda keeps it under `configured` (Lambda's own
/// level name, e.g. `WARN`): INFO, or the configured level when that is stricter.
pub fn metrics_level(configured: Option<&str>) -> &'static str {
    match configured.map(|l| l.trim().to_ascii_uppercase()).as_deref() {
        Some("WARN") => "WARN",
        Some("ERROR") => "ERROR",
        Some("FATAL") => "FATAL",
        _ => "INFO",
    }
}

/// The subscriber of a function: JSON (when `json`) with `timestamp` and `level`, filtered at
/// `level` (plus any `RUST_LOG` directives in `directives`), SDK crates capped at INFO.
pub fn subscriber<Writer>(
    level: LevelFilter,
    directives: Option<&str>,
    json: bool,
    writer: Writer,
) -> Box<dyn Subscriber + Send + Sync>
where
    Writer: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // The level first, then any per-target directives (alone they would turn the rest off).
    let directives = std::iter::once(level.to_string()).chain(directives.map(str::to_owned)).collect::<Vec<_>>();
    let filter = EnvFilter::builder().parse_lossy(directives.join(","));
    let cap = FilterFn::new(|meta: &Metadata<'_>| allowed(meta.target(), meta.level()));
    let fmt = tracing_subscriber::fmt::layer().with_target(false).with_writer(writer);
    let registry = tracing_subscriber::registry().with(filter).with(cap);
    if json { Box::new(registry.with(fmt.json())) } else { Box::new(registry.with(fmt)) }
}

/// Install the function's subscriber for the process (the first thing `main` does).
pub fn init_logging() {
    let lambda_level = std::env::var(LAMBDA_LOG_LEVEL).ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    let level = configured_level(lambda_level.as_deref(), rust_log.as_deref());
    // RUST_LOG may also hold per-crate directives (local runs); Lambda's level wins.
    let directives = if lambda_level.is_none() { rust_log.as_deref() } else { None };
    let json = std::env::var(LAMBDA_LOG_FORMAT).is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if tracing::subscriber::set_global_default(subscriber(level, directives, json, std::io::stdout)).is_err() {
        tracing::warn!("a tracing subscriber was already installed");
    }
}

/// Lambda's documented log-level filtering of one JSON line, for tests: `true` when a function
/// configured at `configured` (`TRACE` … `FATAL`) keeps the line.
pub fn lambda_keeps(line: &str, configured: &str) -> bool {
    const ORDER: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    let rank = |l: &str| ORDER.iter().position(|o| o.eq_ignore_ascii_case(l));
    let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
        return rank("INFO") >= rank(configured);
    };
    let timestamp_valid = value
        .get("timestamp")
        .and_then(|t| t.as_str())
        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok());
    let level = value.get("level").and_then(|l| l.as_str()).filter(|_| timestamp_valid).unwrap_or("INFO");
    rank(level).or(rank("INFO")) >= rank(configured)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    impl Buffer {
        fn lines(&self) -> Vec<String> {
            let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
            String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect()
        }
    }

    fn log_everything_at(level: LevelFilter, directives: Option<&str>) -> Vec<String> {
        let buffer = Buffer::default();
        let subscriber = subscriber(level, directives, true, buffer.clone());
        tracing::subscriber::with_default(subscriber, || {
            // What the SDK's orchestrator logs of an operation output at TRACE and DEBUG.
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", output = "inviterEmail: jane@example.com", "deserialized output");
            tracing::debug!(target: "aws_sdk_partnercentralaccount::operation", "inviter jane@example.com");
            tracing::debug!(target: "hyper_util::client", "response body jane@example.com");
            tracing::info!(target: "aws_config::profile", "loaded the SDK configuration");
            tracing::debug!(target: "list_and_publish::run", "a debug line of ours");
            tracing::error!(target: "list_and_publish::run", "an error of ours");
        });
        buffer.lines()
    }

    #[test]
    fn sdk_crates_never_log_below_info_whatever_the_level() {
        for directives in [None, Some("aws_smithy_runtime=trace,hyper=trace")] {
            let lines = log_everything_at(LevelFilter::TRACE, directives);
            let all = lines.join("\n");
            assert!(!all.contains("jane@example.com"), "{directives:?}: {all}");
            assert!(all.contains("loaded the SDK configuration"), "SDK INFO lines stay: {all}");
            assert!(all.contains("a debug line of ours") && all.contains("an error of ours"), "{all}");
        }
    }

    #[test]
    fn every_line_carries_an_rfc3339_timestamp_and_its_level_so_lambda_filters_it_right() {
        let lines = log_everything_at(LevelFilter::DEBUG, None);
        let error = lines.iter().find(|l| l.contains("an error of ours")).cloned().unwrap_or_default();
        let debug = lines.iter().find(|l| l.contains("a debug line of ours")).cloned().unwrap_or_default();
        assert!(lambda_keeps(&error, "ERROR") && lambda_keeps(&error, "WARN"), "{error}");
        assert!(!lambda_keeps(&debug, "INFO") && lambda_keeps(&debug, "DEBUG"), "{debug}");
        let v: serde_json::Value = serde_json::from_str(&error).unwrap_or_default();
        assert_eq!(v["level"], "ERROR");
    }

    #[test]
    fn the_lambda_filter_model_follows_the_documented_rules() {
        let ts = "2026-11-30T10:00:00.000001Z";
        assert!(!lambda_keeps(r#"{"msg": "no level"}"#, "WARN"), "no level: INFO");
        assert!(!lambda_keeps(r#"{"level": "ERROR", "msg": "no timestamp"}"#, "WARN"), "no timestamp: INFO");
        assert!(lambda_keeps(&format!(r#"{{"level": "ERROR", "timestamp": "{ts}"}}"#), "WARN"));
        assert!(!lambda_keeps("plain text", "WARN") && lambda_keeps("plain text", "INFO"));
    }

    #[test]
    fn levels_are_read_from_lambda_first_and_fatal_is_error() {
        assert_eq!(configured_level(Some("WARN"), Some("debug")), LevelFilter::WARN);
        assert_eq!(configured_level(Some("FATAL"), None), LevelFilter::ERROR);
        assert_eq!(configured_level(None, Some("debug")), LevelFilter::DEBUG);
        assert_eq!(configured_level(None, Some("harness=debug")), LevelFilter::INFO);
        assert_eq!(configured_level(None, None), LevelFilter::INFO);
        assert_eq!(metrics_level(Some("debug")), "INFO");
        assert_eq!(metrics_level(Some("fatal")), "FATAL");
        assert_eq!(metrics_level(None), "INFO");
    }
}
