//! The control API under `/_emulator/` (plain JSON; never on an AWS path).
//!
//! See the crate's README for the endpoints. Errors: `{"error": "...", "violations": [...]}`
//! with HTTP 400 (bad request), 404 (no such record or endpoint) or 405 (wrong method).

use bytes::Bytes;
use chrono::Duration;
use http::{Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::{Map, Value, json};

use crate::clock::{fmt_ts, parse_ts};
use crate::data::AcceptanceTask;
use crate::faults::{FaultPatch, Faults};
use crate::hold::HoldSpec;
use crate::model::Violation;
use crate::overrides::ResponseOverride;
use crate::seed::{SeedDocument, SeedError, parse_connection_invitation, parse_engagement_invitation};
use crate::server::{Shared, json_response, lock, read_body};
use crate::state::State;
use crate::stats::Stats;

const JSON: &str = "application/json";

struct Fail {
    status: u16,
    error: String,
    violations: Vec<Violation>,
}

type Reply = Result<(u16, Value), Fail>;

fn bad(error: impl Into<String>) -> Fail {
    Fail { status: 400, error: error.into(), violations: vec![] }
}

fn not_found(error: impl Into<String>) -> Fail {
    Fail { status: 404, error: error.into(), violations: vec![] }
}

fn invalid(error: impl Into<String>, violations: Vec<Violation>) -> Fail {
    Fail { status: 400, error: error.into(), violations }
}

/// Serve one control request.
pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let body = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(e) => return reply(Err(bad(e))),
    };
    let segments: Vec<&str> = path.trim_start_matches("/_emulator").split('/').filter(|s| !s.is_empty()).collect();
    let result = if segments == ["hold", "wait"] && method == Method::POST {
        wait_for_hold(shared, &body).await
    } else {
        route(shared, &method, &segments, &query, &body)
    };
    crate::native::state_changed(shared);
    tracing::debug!(%method, %path, ok = result.is_ok(), "control request");
    reply(result)
}

fn reply(r: Reply) -> Response<Full<Bytes>> {
    match r {
        Ok((status, v)) => json_response(status, JSON, &v),
        Err(f) => {
            let mut body = json!({"error": f.error});
            if !f.violations.is_empty() {
                body["violations"] = json!(f.violations);
            }
            json_response(f.status, JSON, &body)
        }
    }
}

fn parse_body(body: &Bytes) -> Result<Value, Fail> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("body is not valid JSON: {e}")))
}

fn method_not_allowed(method: &Method) -> Fail {
    Fail { status: 405, error: format!("method {method} not allowed here"), violations: vec![] }
}

fn route(shared: &Shared, method: &Method, seg: &[&str], query: &str, body: &Bytes) -> Reply {
    // Keep stored data current before anyone looks at it.
    lock(&shared.state).catch_up();
    if let ["native-events"] = seg {
        return match *method {
            Method::GET => Ok((200, shared.native.status_json())),
            Method::POST | Method::PUT => {
                let patch =
                    serde_json::from_slice(body).map_err(|e| bad(format!("invalid native-events body: {e}")))?;
                shared.native.patch_faults(patch).map(|v| (200, v)).map_err(bad)
            }
            _ => Err(method_not_allowed(method)),
        };
    }
    match (seg, method) {
        (["health"], &Method::GET) => {
            let st = lock(&shared.state);
            let (c, e) = st.counts();
            Ok((
                200,
                json!({"status": "ok", "now": fmt_ts(&st.now()),
                       "connection_invitations": c, "engagement_invitations": e}),
            ))
        }
        (["clock"], &Method::GET) => Ok((200, clock_json(&lock(&shared.state)))),
        (["clock"], &Method::POST | &Method::PUT) => set_clock(shared, &parse_body(body)?),
        (["clock", "advance"], &Method::POST) => advance_clock(shared, &parse_body(body)?),
        (["stats"], &Method::GET) => Ok((200, stats_json(shared))),
        (["answers"], &Method::GET) => Ok((200, json!({"answers": lock(&shared.state).answers}))),
        (["stats", "reset"], &Method::POST) => {
            *lock(&shared.stats) = Stats::default();
            lock(&shared.faults).reset_windows();
            Ok((200, stats_json(shared)))
        }
        (["faults"], &Method::GET) => Ok((200, json!(lock(&shared.faults).config))),
        (["faults"], &Method::POST | &Method::PUT) => {
            let patch: FaultPatch =
                serde_json::from_slice(body).map_err(|e| bad(format!("invalid faults body: {e}")))?;
            let mut f = lock(&shared.faults);
            f.patch(patch).map_err(bad)?;
            Ok((200, json!(f.config)))
        }
        (["reset"], &Method::POST) => reset(shared, &parse_body(body)?),
        (["hold"], &Method::GET) => Ok((200, json!(lock(&shared.holds).status()))),
        (["hold"], &Method::POST | &Method::PUT) => {
            let spec: HoldSpec = serde_json::from_slice(body).map_err(|e| bad(format!("invalid hold body: {e}")))?;
            let mut h = lock(&shared.holds);
            h.arm(spec).map_err(bad)?;
            Ok((200, json!(h.status())))
        }
        (["hold"], &Method::DELETE) | (["hold", "release"], &Method::POST) => {
            let mut h = lock(&shared.holds);
            let released = h.release();
            let mut out = json!(h.status());
            out["was_held"] = json!(released);
            Ok((200, out))
        }
        (["seed"], &Method::POST) => {
            let doc: SeedDocument =
                serde_json::from_slice(body).map_err(|e| bad(format!("invalid seed document: {e}")))?;
            let mut st = lock(&shared.state);
            let data = match doc.load(shared.models, st.now()) {
                Ok(d) => d,
                Err(SeedError::Invalid(v)) => {
                    return Err(invalid("seed data does not match the model", v));
                }
                Err(e) => return Err(bad(e.to_string())),
            };
            let counts = json!({"ConnectionInvitations": data.connection_invitations.len(),
                                "EngagementInvitations": data.engagement_invitations.len()});
            st.load(data);
            st.expire_due();
            Ok((200, counts))
        }
        (["connection-invitations"], &Method::GET) => {
            let st = lock(&shared.state);
            let catalog = query_param(query, "catalog");
            let status = query_param(query, "status");
            let items: Vec<Value> = st
                .catalogs
                .iter()
                .filter(|(k, _)| catalog.as_deref().is_none_or(|c| c == k.as_str()))
                .flat_map(|(_, c)| c.connection_invitations.values())
                .filter(|x| status.as_deref().is_none_or(|s| s == x.status))
                .map(|x| x.detail_json())
                .collect();
            Ok((200, json!({"ConnectionInvitations": items})))
        }
        (["connection-invitations"], &Method::POST | &Method::PUT) => {
            let entry = parse_body(body)?;
            let c = parse_connection_invitation(shared.models, &entry, "(body)")
                .map_err(|v| invalid("invitation does not match the model", v))?;
            let out = c.detail_json();
            let mut st = lock(&shared.state);
            st.upsert_connection_invitation(c);
            st.expire_due();
            Ok((200, out))
        }
        (["engagement-invitations"], &Method::GET) => {
            let st = lock(&shared.state);
            let catalog = query_param(query, "catalog");
            let status = query_param(query, "status");
            let items: Vec<Value> = st
                .catalogs
                .iter()
                .filter(|(k, _)| catalog.as_deref().is_none_or(|c| c == k.as_str()))
                .flat_map(|(_, c)| c.engagement_invitations.values())
                .filter(|x| status.as_deref().is_none_or(|s| s == x.status))
                .map(|x| x.seed_json())
                .collect();
            Ok((200, json!({"EngagementInvitations": items})))
        }
        (["engagement-invitations"], &Method::POST | &Method::PUT) => {
            let entry = parse_body(body)?;
            let mut st = lock(&shared.state);
            let e = parse_engagement_invitation(shared.models, &entry, "(body)", st.now())
                .map_err(|v| invalid("invitation does not match the model", v))?;
            let out = e.seed_json();
            st.upsert_engagement_invitation(e);
            st.expire_due();
            Ok((200, out))
        }
        (["engagement-tasks"], &Method::GET) => {
            let st = lock(&shared.state);
            let catalog = query_param(query, "catalog");
            let status = query_param(query, "status");
            let invitation = query_param(query, "invitation");
            let mut tasks: Vec<&AcceptanceTask> = st
                .tasks()
                .filter(|t| catalog.as_deref().is_none_or(|c| c == t.catalog))
                .filter(|t| status.as_deref().is_none_or(|s| s == t.status))
                .filter(|t| invitation.as_deref().is_none_or(|i| i == t.invitation_id))
                .collect();
            tasks.sort_by(|a, b| (a.start_time, &a.id).cmp(&(b.start_time, &b.id)));
            let items: Vec<Value> = tasks.into_iter().map(AcceptanceTask::control_json).collect();
            Ok((200, json!({"Tasks": items})))
        }
        (["engagement-tasks", catalog, id], &Method::GET) => {
            let st = lock(&shared.state);
            st.catalog(catalog)
                .and_then(|c| c.acceptance_tasks.get(*id))
                .map(|t| (200, t.control_json()))
                .ok_or_else(|| not_found(format!("no acceptance task {catalog}/{id}")))
        }
        (["task-delay"], &Method::GET) => Ok((200, task_delay_json(&lock(&shared.state)))),
        (["task-delay"], &Method::POST | &Method::PUT) => {
            let body = parse_body(body)?;
            let seconds = body
                .get("seconds")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("give {\"seconds\": n}, a whole number of seconds (0 or more)"))?;
            let mut st = lock(&shared.state);
            st.task_delay = Duration::seconds(i64::try_from(seconds).map_err(|_| bad("seconds is too large"))?);
            Ok((200, task_delay_json(&st)))
        }
        (["quotas"], &Method::GET) => Ok((200, quotas_json(&lock(&shared.state)))),
        (["quotas"], &Method::POST | &Method::PUT) => {
            let body = parse_body(body)?;
            let obj = body.as_object().ok_or_else(|| bad("give {\"active_connections\": n}"))?;
            if let Some(k) = obj.keys().find(|k| k.as_str() != "active_connections") {
                return Err(bad(format!("unknown quota {k}; accepted: active_connections")));
            }
            let mut st = lock(&shared.state);
            if let Some(v) = obj.get("active_connections") {
                let n = v
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| bad(format!("active_connections must be a whole number (0 or more), got {v}")))?;
                st.active_connection_limit = n;
            }
            Ok((200, quotas_json(&st)))
        }
        (["response-overrides"], &Method::GET) => Ok((200, overrides_json(shared))),
        (["response-overrides"], &Method::POST | &Method::PUT) => {
            let o: ResponseOverride = serde_json::from_slice(body)
                .map_err(|e| bad(format!("invalid response override (give Id, Member, Value): {e}")))?;
            lock(&shared.overrides).set(o).map_err(bad)?;
            Ok((200, overrides_json(shared)))
        }
        (["response-overrides"], &Method::DELETE) => {
            let removed = lock(&shared.overrides).clear(None);
            Ok((200, json!({"removed": removed})))
        }
        (["response-overrides", id], &Method::DELETE) => {
            let removed = lock(&shared.overrides).clear(Some(id));
            Ok((200, json!({"removed": removed})))
        }
        (["connection-invitations", catalog, id], m) => connection_record(shared, m, catalog, id, body),
        (["engagement-invitations", catalog, id], m) => engagement_record(shared, m, catalog, id, body),
        (
            ["health"]
            | ["clock"]
            | ["clock", "advance"]
            | ["stats"]
            | ["stats", "reset"]
            | ["faults"]
            | ["reset"]
            | ["hold"]
            | ["hold", "release"]
            | ["seed"]
            | ["connection-invitations"]
            | ["engagement-invitations"]
            | ["engagement-tasks"]
            | ["engagement-tasks", _, _]
            | ["task-delay"]
            | ["quotas"]
            | ["response-overrides"]
            | ["response-overrides", _],
            m,
        ) => Err(method_not_allowed(m)),
        _ => Err(not_found(format!("no control endpoint /_emulator/{}", seg.join("/")))),
    }
}

/// `POST /_emulator/hold/wait {"timeout_ms"?: n}` (default 10 s): answers as soon as a
/// request is held (at once if one already is), or with `held: null` after the timeout.
async fn wait_for_hold(shared: &Shared, body: &Bytes) -> Reply {
    let body = parse_body(body)?;
    let timeout_ms = match body.get("timeout_ms") {
        None => 10_000,
        Some(v) => v.as_u64().ok_or_else(|| bad("timeout_ms must be a whole number of milliseconds"))?,
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(timeout_ms);
    loop {
        let notified = shared.hold_signal.notified();
        tokio::pin!(notified);
        // Register before looking, so a hold that happens in between is not missed.
        notified.as_mut().enable();
        let status = lock(&shared.holds).status();
        if status.held.is_some() {
            return Ok((200, json!(status)));
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok((200, json!(lock(&shared.holds).status())));
        }
    }
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

fn overrides_json(shared: &Shared) -> Value {
    json!({"Overrides": lock(&shared.overrides).list()})
}

/// `{"active_connections": limit, "usage": {"<Catalog>": {"active_connections": n}}}`.
fn quotas_json(st: &State) -> Value {
    let usage: Map<String, Value> = st
        .catalogs
        .keys()
        .map(|c| (c.clone(), json!({"active_connections": st.active_connections(c).len()})))
        .collect();
    json!({"active_connections": st.active_connection_limit, "usage": usage})
}

fn task_delay_json(st: &State) -> Value {
    json!({"seconds": st.task_delay.num_seconds()})
}

fn clock_json(st: &State) -> Value {
    json!({"now": fmt_ts(&st.now()), "frozen": st.clock.frozen()})
}

fn set_clock(shared: &Shared, body: &Value) -> Reply {
    let mut st = lock(&shared.state);
    if let Some(now) = body.get("now") {
        let s = now.as_str().ok_or_else(|| bad("now must be an RFC 3339 string"))?;
        let t = parse_ts(s).map_err(|e| bad(format!("now: {e}")))?;
        st.clock.set(t);
    }
    if let Some(f) = body.get("frozen") {
        let f = f.as_bool().ok_or_else(|| bad("frozen must be a boolean"))?;
        st.clock.set_frozen(f);
    }
    let (tasks_ended, expired) = st.catch_up();
    let mut out = clock_json(&st);
    out["expired"] = json!(expired);
    out["tasks_ended"] = json!(tasks_ended);
    Ok((200, out))
}

fn advance_clock(shared: &Shared, body: &Value) -> Reply {
    let units = [("seconds", 1i64), ("minutes", 60), ("hours", 3600), ("days", 86_400)];
    let mut total_ms: f64 = 0.0;
    let mut any = false;
    for (name, secs) in units {
        if let Some(v) = body.get(name) {
            let n = v.as_f64().ok_or_else(|| bad(format!("{name} must be a number")))?;
            total_ms += n * secs as f64 * 1000.0;
            any = true;
        }
    }
    if !any || !total_ms.is_finite() || total_ms.abs() > 1e15 {
        return Err(bad("give seconds, minutes, hours and/or days (numbers)"));
    }
    let mut st = lock(&shared.state);
    st.clock.advance(Duration::milliseconds(total_ms.round() as i64));
    let (tasks_ended, expired) = st.catch_up();
    let mut out = clock_json(&st);
    out["expired"] = json!(expired);
    out["tasks_ended"] = json!(tasks_ended);
    Ok((200, out))
}

fn stats_json(shared: &Shared) -> Value {
    let mut v = json!(*lock(&shared.stats));
    let f = lock(&shared.faults);
    v["max_requests_per_second"] = json!(f.max_admitted_per_second);
    v["max_received_per_second"] = json!(f.max_received_per_second);
    v
}

fn reset(shared: &Shared, body: &Value) -> Reply {
    let start = &shared.start;
    let now = match body.get("now") {
        None => start.clock_start,
        Some(v) => {
            let s = v.as_str().ok_or_else(|| bad("now must be an RFC 3339 string"))?;
            parse_ts(s).map_err(|e| bad(format!("now: {e}")))?
        }
    };
    let reseed = match body.get("reseed") {
        None => false,
        Some(v) => v.as_bool().ok_or_else(|| bad("reseed must be a boolean"))?,
    };
    let mut st = lock(&shared.state);
    *st = State::new(crate::clock::VirtualClock::new(now, start.frozen), start.id_seed);
    st.task_delay = start.task_delay;
    st.active_connection_limit = start.active_connection_limit;
    if reseed {
        st.load(start.data.clone());
    }
    st.expire_due();
    *lock(&shared.stats) = Stats::default();
    *lock(&shared.faults) = Faults::new(start.faults.clone());
    lock(&shared.holds).release();
    lock(&shared.overrides).clear(None);
    shared.native.rebaseline(&st);
    let (c, e) = st.counts();
    Ok((200, json!({"now": fmt_ts(&st.now()), "connection_invitations": c, "engagement_invitations": e})))
}

fn merge(mut base: Value, patch: &Value) -> Result<Value, Fail> {
    let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) else {
        return Err(bad("patch body must be a JSON object"));
    };
    for (k, v) in p {
        if (k == "Catalog" || k == "Id") && b.get(k) != Some(v) {
            return Err(bad(format!("{k} cannot be changed; delete and re-create instead")));
        }
        if v.is_null() {
            b.remove(k);
        } else {
            b.insert(k.clone(), v.clone());
        }
    }
    Ok(base)
}

fn connection_record(shared: &Shared, method: &Method, catalog: &str, id: &str, body: &Bytes) -> Reply {
    let mut st = lock(&shared.state);
    let current = st
        .catalog(catalog)
        .and_then(|c| c.connection_invitations.get(id))
        .cloned()
        .ok_or_else(|| not_found(format!("no connection invitation {catalog}/{id}")))?;
    match *method {
        Method::GET => Ok((200, current.detail_json())),
        Method::DELETE => {
            st.catalog_mut(catalog).connection_invitations.remove(id);
            Ok((200, json!({"deleted": id})))
        }
        Method::PATCH => {
            let patch = parse_body(body)?;
            let mut merged = merge(current.detail_json(), &patch)?;
            let status_changed = patch.get("Status").and_then(Value::as_str).is_some_and(|s| s != current.status);
            if status_changed
                && patch.get("UpdatedAt").is_none()
                && let Some(m) = merged.as_object_mut()
            {
                m.insert("UpdatedAt".into(), json!(fmt_ts(&st.now())));
            }
            let c = parse_connection_invitation(shared.models, &merged, "(body)")
                .map_err(|v| invalid("patched invitation does not match the model", v))?;
            let out = c.detail_json();
            st.upsert_connection_invitation(c);
            st.expire_due();
            let fresh =
                st.catalog(catalog).and_then(|c| c.connection_invitations.get(id)).map_or(out, |c| c.detail_json());
            Ok((200, fresh))
        }
        _ => Err(method_not_allowed(method)),
    }
}

fn engagement_record(shared: &Shared, method: &Method, catalog: &str, id: &str, body: &Bytes) -> Reply {
    let mut st = lock(&shared.state);
    let current = st
        .catalog(catalog)
        .and_then(|c| c.engagement_invitations.get(id))
        .cloned()
        .ok_or_else(|| not_found(format!("no engagement invitation {catalog}/{id}")))?;
    match *method {
        Method::GET => Ok((200, current.seed_json())),
        Method::DELETE => {
            st.catalog_mut(catalog).engagement_invitations.remove(id);
            Ok((200, json!({"deleted": id})))
        }
        Method::PATCH => {
            let patch = parse_body(body)?;
            let merged = merge(current.seed_json(), &patch)?;
            let now = st.now();
            let e = parse_engagement_invitation(shared.models, &merged, "(body)", now)
                .map_err(|v| invalid("patched invitation does not match the model", v))?;
            st.upsert_engagement_invitation(e);
            st.expire_due();
            let fresh = st
                .catalog(catalog)
                .and_then(|c| c.engagement_invitations.get(id))
                .map_or(Value::Object(Map::new()), |c| c.seed_json());
            Ok((200, fresh))
        }
        _ => Err(method_not_allowed(method)),
    }
}
