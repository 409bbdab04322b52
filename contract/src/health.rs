//! The detail of a `Health Check` event: put on the bus by a function invoked with the check
//! payload (`make smoke`), to prove it may publish there. It is about no invitation; the
//! documented consumer patterns do not match it.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::invitation::Catalog;

/// The `Detail` of a `Health Check` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    title = "HealthCheckDetail",
    description = "Detail of the Health Check event (event contract v1): a deployed function proving it can publish; about no invitation"
)]
pub struct HealthCheckDetail {
    /// Contract version, `"1"`.
    pub schema_version: String,
    /// One per check (derived from the invocation's request id).
    pub event_id: String,
    pub catalog: Catalog,
    /// The function that put it on the bus (`list-and-publish`, `native-relay`, ...).
    pub function: String,
    /// When the check ran.
    pub checked_at: DateTime<Utc>,
}
