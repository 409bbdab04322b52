//! The twelve emulated AWS operations.
//!
//! Requests reach these functions already validated against the operation's input shape;
//! the functions implement the service's semantics (catalog partitioning, state rules,
//! client-token idempotency, pagination, lazy expiry).

use chrono::Duration;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::clock::fmt_ts;
use crate::data::{
    AcceptanceTask, Connection, ConnectionInvitation, DEFAULT_EXPIRY_DAYS, EngagementInvitation, acceptance_task_arn,
    canonical, connection_invitation_arn, participant, status, task_status,
};
use crate::error::{ApiError, UNKNOWN_OPERATION};
use crate::model::{Api, Models, ServiceModel};
use crate::pagination::{self, Cursor, TokenError};
use crate::state::{AnswerLogEntry, AnswerOutcome, IdempotencyRecord, State};

/// Page size when a list request has no `MaxResults` (the model gives no default).
pub const DEFAULT_MAX_RESULTS: usize = 20;

/// The operations the emulator implements, per API.
pub const ACCOUNT_OPERATIONS: &[&str] = &[
    "ListConnectionInvitations",
    "GetConnectionInvitation",
    "CancelConnectionInvitation",
    "CreateConnectionInvitation",
    "AcceptConnectionInvitation",
    "RejectConnectionInvitation",
];
/// See [`ACCOUNT_OPERATIONS`].
pub const SELLING_OPERATIONS: &[&str] = &[
    "ListEngagementInvitations",
    "GetEngagementInvitation",
    "RejectEngagementInvitation",
    "AcceptEngagementInvitation",
    "StartEngagementByAcceptingInvitationTask",
    "ListEngagementByAcceptingInvitationTasks",
];

/// Whether the emulator implements `operation` of `api`.
pub fn is_emulated(api: Api, operation: &str) -> bool {
    match api {
        Api::Account => ACCOUNT_OPERATIONS.contains(&operation),
        Api::Selling => SELLING_OPERATIONS.contains(&operation),
    }
}

/// Run an operation whose input has been validated.
pub fn dispatch(
    models: &Models,
    state: &mut State,
    api: Api,
    operation: &str,
    input: &Value,
) -> Result<Value, ApiError> {
    state.catch_up();
    let m = models.api(api);
    let ctx = Ctx { m, input };
    if !ANSWER_OPERATIONS.contains(&operation) {
        return ctx.run(state, api, operation);
    }
    // An answer: logged with what became of it (`GET /_emulator/answers`).
    let replay = ctx
        .idempotency_key(operation)
        .is_some_and(|(key, fingerprint)| state.idempotency.get(&key).is_some_and(|r| r.fingerprint == fingerprint));
    let result = ctx.run(state, api, operation);
    let (outcome, error) = match &result {
        Ok(_) if replay => (AnswerOutcome::Replay, None),
        Ok(_) => (AnswerOutcome::Effect, None),
        Err(e) => (AnswerOutcome::Refused, Some(format!("{}: {}", e.type_name, e.message))),
    };
    state.answers.push(AnswerLogEntry {
        operation: operation.to_owned(),
        catalog: ctx.catalog().to_owned(),
        invitation_id: ctx.s("Identifier").unwrap_or_default().to_owned(),
        client_token: ctx.s("ClientToken").map(str::to_owned),
        outcome,
        error,
    });
    result
}

/// The operations that answer an invitation (or start its acceptance), logged in
/// [`State::answers`].
pub const ANSWER_OPERATIONS: &[&str] = &[
    "AcceptConnectionInvitation",
    "RejectConnectionInvitation",
    "CancelConnectionInvitation",
    "AcceptEngagementInvitation",
    "RejectEngagementInvitation",
    "StartEngagementByAcceptingInvitationTask",
];

impl Ctx<'_> {
    fn run(&self, state: &mut State, api: Api, operation: &str) -> Result<Value, ApiError> {
        let ctx = self;
        match (api, operation) {
            (Api::Account, "ListConnectionInvitations") => ctx.list_connection_invitations(state),
            (Api::Account, "GetConnectionInvitation") => ctx.find_connection_invitation(state).map(|c| c.detail_json()),
            (Api::Account, "CancelConnectionInvitation") => ctx.idempotent(state, operation, |ctx, s| {
                ctx.transition(s, participant::SENDER, status::CANCELED, "canceled").map(|c| c.detail_json())
            }),
            (Api::Account, "RejectConnectionInvitation") => ctx.idempotent(state, operation, |ctx, s| {
                ctx.transition(s, participant::RECEIVER, status::REJECTED, "rejected").map(|c| c.detail_json())
            }),
            (Api::Account, "AcceptConnectionInvitation") => ctx.idempotent(state, operation, |ctx, s| ctx.accept(s)),
            (Api::Account, "CreateConnectionInvitation") => ctx.idempotent(state, operation, |ctx, s| ctx.create(s)),
            (Api::Selling, "ListEngagementInvitations") => ctx.list_engagement_invitations(state),
            (Api::Selling, "GetEngagementInvitation") => ctx.find_engagement_invitation(state).map(|e| e.detail_json()),
            (Api::Selling, "RejectEngagementInvitation") => {
                ctx.answer_engagement_invitation(state, status::REJECTED, "rejected").map(|()| json!({}))
            }
            (Api::Selling, "AcceptEngagementInvitation") => {
                ctx.answer_engagement_invitation(state, status::ACCEPTED, "accepted").map(|()| json!({}))
            }
            (Api::Selling, "StartEngagementByAcceptingInvitationTask") => {
                let first = ctx.idempotent(state, operation, |ctx, s| ctx.start_acceptance_task(s))?;
                // A repeat answers with the task as it is now (same TaskId), not a stale copy.
                Ok(ctx.current_task(state, first))
            }
            (Api::Selling, "ListEngagementByAcceptingInvitationTasks") => ctx.list_acceptance_tasks(state),
            _ => Err(ApiError::protocol(
                UNKNOWN_OPERATION,
                format!("Operation {operation} is not supported by this emulator"),
                400,
            )),
        }
    }
}

/// A 12-digit AWS account id for a participant identifier: the identifier itself when it
/// is one, otherwise a stable hash of it.
pub fn account_id_for(identifier: &str) -> String {
    if identifier.len() == 12 && identifier.bytes().all(|b| b.is_ascii_digit()) {
        return identifier.to_owned();
    }
    let d = Sha256::digest(identifier.as_bytes());
    let mut n = [0u8; 8];
    n.copy_from_slice(&d[..8]);
    format!("{:012}", u64::from_be_bytes(n) % 1_000_000_000_000)
}

struct Ctx<'a> {
    m: &'a ServiceModel,
    input: &'a Value,
}

impl Ctx<'_> {
    fn s(&self, k: &str) -> Option<&str> {
        self.input.get(k).and_then(Value::as_str)
    }

    fn catalog(&self) -> &str {
        self.s("Catalog").unwrap_or_default()
    }

    fn strings(&self, k: &str) -> Option<Vec<&str>> {
        self.input
            .get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .filter(|v: &Vec<&str>| !v.is_empty())
    }

    fn page_size(&self) -> usize {
        self.input.get("MaxResults").and_then(Value::as_u64).map_or(DEFAULT_MAX_RESULTS, |n| n as usize)
    }

    fn cursor(&self, operation: &str) -> Result<(String, Option<Cursor>), ApiError> {
        let fp = pagination::query_fingerprint(operation, self.input);
        let after = match self.s("NextToken") {
            None => None,
            Some(t) => Some(
                pagination::decode(t, &fp)
                    .map_err(|e: TokenError| ApiError::invalid_field(self.m, "NextToken", e.to_string()))?,
            ),
        };
        Ok((fp, after))
    }

    fn not_found_connection_invitation(&self) -> ApiError {
        ApiError::not_found(
            self.m,
            format!(
                "Connection invitation {} was not found in catalog {}",
                self.s("Identifier").unwrap_or_default(),
                self.catalog()
            ),
            "CONNECTION_INVITATION_NOT_FOUND",
        )
    }

    fn find_connection_invitation<'s>(&self, state: &'s State) -> Result<&'s ConnectionInvitation, ApiError> {
        let id = self.s("Identifier").unwrap_or_default();
        state
            .catalog(self.catalog())
            .and_then(|c| c.connection_invitations.get(id))
            .ok_or_else(|| self.not_found_connection_invitation())
    }

    fn list_connection_invitations(&self, state: &State) -> Result<Value, ApiError> {
        let (fp, after) = self.cursor("ListConnectionInvitations")?;
        let conn_type = self.s("ConnectionType");
        let ptype = self.s("ParticipantType");
        let st = self.s("Status");
        let others = self.strings("OtherParticipantIdentifiers");
        let items: Vec<&ConnectionInvitation> = state
            .catalog(self.catalog())
            .map(|c| {
                c.connection_invitations
                    .values()
                    .filter(|c| conn_type.is_none_or(|t| c.connection_type == t))
                    .filter(|c| ptype.is_none_or(|t| c.participant_type == t))
                    .filter(|c| st.is_none_or(|t| c.status == t))
                    .filter(|c| others.as_ref().is_none_or(|o| o.contains(&c.other_participant_identifier.as_str())))
                    .collect()
            })
            .unwrap_or_default();
        let (page, next) = pagination::page(
            items,
            |c| (c.created_at.timestamp_millis(), c.id.as_str()),
            true,
            after.as_ref(),
            self.page_size(),
        );
        let mut out = Map::new();
        out.insert(
            "ConnectionInvitationSummaries".into(),
            Value::Array(page.iter().map(|c| c.summary_json()).collect()),
        );
        if let Some(n) = next {
            out.insert("NextToken".into(), json!(pagination::encode(&fp, &n)));
        }
        Ok(Value::Object(out))
    }

    /// The idempotency record's key (catalog, operation, ClientToken) and the request's
    /// fingerprint (canonical, without the token), when the request has a `ClientToken`.
    fn idempotency_key(&self, operation: &str) -> Option<((String, String, String), String)> {
        let token = self.s("ClientToken")?;
        let mut req = self.input.clone();
        if let Some(o) = req.as_object_mut() {
            o.retain(|k, _| k != "ClientToken");
        }
        let key = (self.catalog().to_owned(), operation.to_owned(), token.to_owned());
        Some((key, canonical(&req).to_string()))
    }

    /// Run `f` at most once per (catalog, operation, ClientToken): a repeat with the same
    /// request returns the first answer again; the token with a different request is a
    /// `ConflictException` (`CONFLICT_CLIENT_TOKEN`). Failures are not remembered.
    fn idempotent(
        &self,
        state: &mut State,
        operation: &str,
        f: impl FnOnce(&Self, &mut State) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        let Some((key, fingerprint)) = self.idempotency_key(operation) else {
            return f(self, state);
        };
        let token = key.2.clone();
        if let Some(rec) = state.idempotency.get(&key) {
            if rec.fingerprint == fingerprint {
                return Ok(rec.response.clone());
            }
            return Err(ApiError::conflict(
                self.m,
                "CONFLICT_CLIENT_TOKEN",
                format!("ClientToken {token} was already used for a different {operation} request"),
            ));
        }
        let response = f(self, state)?;
        state.idempotency.insert(key, IdempotencyRecord { fingerprint, response: response.clone() });
        Ok(response)
    }

    /// Move a PENDING invitation in which we have role `role` to `to`.
    fn transition(
        &self,
        state: &mut State,
        role: &str,
        to: &str,
        verb: &str,
    ) -> Result<ConnectionInvitation, ApiError> {
        let now = state.now();
        let id = self.s("Identifier").unwrap_or_default();
        let Some(c) = state.catalogs.get_mut(self.catalog()).and_then(|cat| cat.connection_invitations.get_mut(id))
        else {
            return Err(self.not_found_connection_invitation());
        };
        if c.status != status::PENDING || c.participant_type != role {
            return Err(ApiError::conflict(
                self.m,
                "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
                format!(
                    "Connection invitation {id} is {} and you are its {}; only a PENDING invitation whose {role} you are can be {verb}",
                    c.status, c.participant_type
                ),
            ));
        }
        c.status = to.to_owned();
        c.updated_at = now;
        Ok(c.clone())
    }

    /// `ServiceQuotaExceededException` (`LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION`) when
    /// accepting the invitation would open a connection beyond the catalog's active-connection
    /// limit. Accepting another type with a participant we are already connected to opens no
    /// new connection. An invitation that is unknown or not acceptable is left to
    /// [`Ctx::transition`]'s errors (not found, conflict), which come first, as on AWS.
    fn check_connection_quota(&self, state: &State) -> Result<(), ApiError> {
        let id = self.s("Identifier").unwrap_or_default();
        let Some(inv) = state.catalog(self.catalog()).and_then(|c| c.connection_invitations.get(id)) else {
            return Ok(());
        };
        if inv.status != status::PENDING || inv.participant_type != participant::RECEIVER {
            return Ok(());
        }
        let active = state.active_connections(self.catalog());
        let limit = state.active_connection_limit;
        if active.contains(&account_id_for(&inv.other_participant_identifier)) || active.len() < limit {
            return Ok(());
        }
        Err(ApiError::modeled(
            self.m,
            "ServiceQuotaExceededException",
            format!(
                "Accepting connection invitation {id} would exceed the limit of {limit} active connections in catalog {} ({} active)",
                self.catalog(),
                active.len()
            ),
        )
        .with_reason(self.m, "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION"))
    }

    fn accept(&self, state: &mut State) -> Result<Value, ApiError> {
        self.check_connection_quota(state)?;
        let inv = self.transition(state, participant::RECEIVER, status::ACCEPTED, "accepted")?;
        let now = inv.updated_at;
        let catalog = inv.catalog.clone();
        let account = account_id_for(&inv.other_participant_identifier);
        let existing = state.catalog(&catalog).and_then(|c| c.connections.get(&account)).map(|c| c.id.clone());
        let conn_id = match existing {
            Some(id) => id,
            None => {
                let taken: Vec<String> = state
                    .catalog(&catalog)
                    .map(|c| c.connections.values().map(|x| x.id.clone()).collect())
                    .unwrap_or_default();
                state.new_id("pac-", false, 13, |id| taken.iter().any(|t| t == id))
            }
        };
        let cat = state.catalog_mut(&catalog);
        let conn = cat.connections.entry(account.clone()).or_insert_with(|| Connection {
            catalog: catalog.clone(),
            id: conn_id.clone(),
            other_participant_account_id: account.clone(),
            updated_at: now,
            connection_types: Map::new(),
        });
        conn.updated_at = now;
        conn.connection_types.insert(
            inv.connection_type.clone(),
            json!({
                "CreatedAt": fmt_ts(&now),
                "InviterEmail": inv.inviter_email,
                "InviterName": inv.inviter_name,
                "Status": "ACTIVE",
                "OtherParticipant": {"Account": {"Name": inv.inviter_name}},
            }),
        );
        let conn_json = conn.to_json();
        if let Some(c) = cat.connection_invitations.get_mut(&inv.id) {
            c.connection_id = Some(conn_id);
        }
        Ok(json!({ "Connection": conn_json }))
    }

    fn create(&self, state: &mut State) -> Result<Value, ApiError> {
        let now = state.now();
        let catalog = self.catalog().to_owned();
        let receiver = self.s("ReceiverIdentifier").unwrap_or_default().to_owned();
        let ctype = self.s("ConnectionType").unwrap_or_default().to_owned();
        let duplicate = state.catalog(&catalog).and_then(|c| {
            c.connection_invitations.values().find(|x| {
                x.status == status::PENDING
                    && x.participant_type == participant::SENDER
                    && x.other_participant_identifier == receiver
                    && x.connection_type == ctype
            })
        });
        if let Some(d) = duplicate {
            return Err(ApiError::conflict(
                self.m,
                "DUPLICATE_CONNECTION_INVITATION",
                format!("A pending {ctype} connection invitation to {receiver} already exists: {}", d.id),
            ));
        }
        let taken: Vec<String> =
            state.catalog(&catalog).map(|c| c.connection_invitations.keys().cloned().collect()).unwrap_or_default();
        let id = state.new_id("pacinv-", false, 13, |id| taken.iter().any(|t| t == id));
        let inv = ConnectionInvitation {
            arn: connection_invitation_arn(&catalog, &id),
            catalog,
            id,
            connection_id: None,
            connection_type: ctype,
            created_at: now,
            updated_at: now,
            expires_at: Some(now + Duration::days(DEFAULT_EXPIRY_DAYS)),
            other_participant_identifier: receiver,
            participant_type: participant::SENDER.to_owned(),
            status: status::PENDING.to_owned(),
            invitation_message: self.s("Message").unwrap_or_default().to_owned(),
            inviter_email: self.s("Email").unwrap_or_default().to_owned(),
            inviter_name: self.s("Name").unwrap_or_default().to_owned(),
        };
        let out = inv.detail_json();
        state.upsert_connection_invitation(inv);
        Ok(out)
    }

    fn find_engagement_invitation<'s>(&self, state: &'s State) -> Result<&'s EngagementInvitation, ApiError> {
        let ident = self.s("Identifier").unwrap_or_default();
        let cat = state.catalog(self.catalog());
        cat.and_then(|c| {
            c.engagement_invitations.get(ident).or_else(|| c.engagement_invitations.values().find(|e| e.arn == ident))
        })
        .ok_or_else(|| {
            ApiError::not_found(
                self.m,
                format!("Engagement invitation {ident} was not found in catalog {}", self.catalog()),
                "",
            )
        })
    }

    fn list_engagement_invitations(&self, state: &State) -> Result<Value, ApiError> {
        let (fp, after) = self.cursor("ListEngagementInvitations")?;
        let ptype = self.s("ParticipantType");
        let statuses = self.strings("Status");
        let payloads = self.strings("PayloadType");
        let engagements = self.strings("EngagementIdentifier");
        let senders = self.strings("SenderAwsAccountId");
        let descending =
            self.input.pointer("/Sort/SortOrder").and_then(Value::as_str).is_none_or(|o| o == "DESCENDING");
        let items: Vec<&EngagementInvitation> = state
            .catalog(self.catalog())
            .map(|c| {
                c.engagement_invitations
                    .values()
                    .filter(|e| ptype.is_none_or(|t| e.participant_type == t))
                    .filter(|e| statuses.as_ref().is_none_or(|s| s.contains(&e.status.as_str())))
                    .filter(|e| {
                        payloads.as_ref().is_none_or(|p| e.payload_type.as_deref().is_some_and(|t| p.contains(&t)))
                    })
                    .filter(|e| {
                        engagements.as_ref().is_none_or(|ids| {
                            e.engagement_id
                                .as_deref()
                                .is_some_and(|eid| ids.iter().any(|i| *i == eid || i.ends_with(&format!("/{eid}"))))
                        })
                    })
                    .filter(|e| {
                        senders
                            .as_ref()
                            .is_none_or(|s| e.sender_aws_account_id.as_deref().is_some_and(|a| s.contains(&a)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (page, next) = pagination::page(
            items,
            |e| (e.invitation_date.timestamp_millis(), e.id.as_str()),
            descending,
            after.as_ref(),
            self.page_size(),
        );
        let mut out = Map::new();
        out.insert(
            "EngagementInvitationSummaries".into(),
            Value::Array(page.iter().map(|e| e.summary_json()).collect()),
        );
        if let Some(n) = next {
            out.insert("NextToken".into(), json!(pagination::encode(&fp, &n)));
        }
        Ok(Value::Object(out))
    }

    /// Reject (`RejectEngagementInvitation`, storing `RejectionReason`) or accept
    /// (`AcceptEngagementInvitation`) a PENDING invitation we received that no acceptance task
    /// is working on; otherwise `ConflictException`.
    fn answer_engagement_invitation(&self, state: &mut State, to: &str, verb: &str) -> Result<(), ApiError> {
        let id = self.find_engagement_invitation(state)?.id.clone();
        let reason = self.s("RejectionReason").map(str::to_owned);
        if let Some(task) = state.catalog(self.catalog()).and_then(|c| c.task_in_progress(&id)) {
            return Err(ApiError::conflict(
                self.m,
                "",
                format!("Engagement invitation {id} is being accepted by task {}", task.id),
            ));
        }
        let Some(e) = state.catalogs.get_mut(self.catalog()).and_then(|c| c.engagement_invitations.get_mut(&id)) else {
            return Err(ApiError::internal(self.m, "invitation vanished"));
        };
        if e.status != status::PENDING || e.participant_type != participant::RECEIVER {
            return Err(ApiError::conflict(
                self.m,
                "INCOMPATIBLE_ENGAGEMENT_INVITATION_STATE",
                format!(
                    "Engagement invitation {id} is {} and you are its {}; only a PENDING invitation you received can be {verb}",
                    e.status, e.participant_type
                ),
            ));
        }
        e.status = to.to_owned();
        if to == status::REJECTED {
            e.rejection_reason = reason;
        }
        Ok(())
    }

    /// `StartEngagementByAcceptingInvitationTask`: a PENDING invitation we received, with no
    /// task running for it, gets a task that ends after the task delay (see
    /// [`State::end_due_tasks`]). The answer is the task IN_PROGRESS.
    fn start_acceptance_task(&self, state: &mut State) -> Result<Value, ApiError> {
        let inv = self.find_engagement_invitation(state)?;
        let (id, catalog) = (inv.id.clone(), inv.catalog.clone());
        if inv.status != status::PENDING || inv.participant_type != participant::RECEIVER {
            return Err(ApiError::conflict(
                self.m,
                "",
                format!(
                    "Engagement invitation {id} is {} and you are its {}; only a PENDING invitation you received can be accepted",
                    inv.status, inv.participant_type
                ),
            ));
        }
        let delay = inv.task_plan.as_ref().and_then(|p| p.delay_seconds);
        if let Some(task) = state.catalog(&catalog).and_then(|c| c.task_in_progress(&id)) {
            return Err(ApiError::conflict(
                self.m,
                "",
                format!("Engagement invitation {id} is already being accepted by task {}", task.id),
            ));
        }
        let now = state.now();
        let delay = delay.map_or(state.task_delay, |s| Duration::seconds(s.min(i64::MAX as u64 / 1000) as i64));
        let taken: Vec<String> =
            state.catalog(&catalog).map(|c| c.acceptance_tasks.keys().cloned().collect()).unwrap_or_default();
        let task_id = state.new_id("task-", true, 13, |t| taken.iter().any(|x| x == t));
        let task = AcceptanceTask {
            arn: acceptance_task_arn(&catalog, &task_id),
            catalog,
            id: task_id,
            start_time: now,
            ends_at: now + delay,
            invitation_id: id,
            status: task_status::IN_PROGRESS.to_owned(),
            message: None,
            reason_code: None,
            opportunity_id: None,
            resource_snapshot_job_id: None,
        };
        let out = task.to_json();
        state.insert_task(task);
        Ok(out)
    }

    /// The task an earlier answer named, as it is now.
    fn current_task(&self, state: &State, answer: Value) -> Value {
        answer
            .get("TaskId")
            .and_then(Value::as_str)
            .and_then(|id| state.catalog(self.catalog()).and_then(|c| c.acceptance_tasks.get(id)))
            .map_or(answer.clone(), AcceptanceTask::to_json)
    }

    /// `ListEngagementByAcceptingInvitationTasks`: every filter of the model (any listed value
    /// matches; identifiers by id or by ARN), `StartTime` descending unless `Sort` says
    /// otherwise, ties by `TaskId`.
    fn list_acceptance_tasks(&self, state: &State) -> Result<Value, ApiError> {
        let (fp, after) = self.cursor("ListEngagementByAcceptingInvitationTasks")?;
        let statuses = self.strings("TaskStatus");
        let opportunities = self.strings("OpportunityIdentifier");
        let invitations = self.strings("EngagementInvitationIdentifier");
        let task_ids = self.strings("TaskIdentifier");
        let id_or_arn = |wanted: &[&str], id: &str| wanted.iter().any(|w| *w == id || w.ends_with(&format!("/{id}")));
        let descending =
            self.input.pointer("/Sort/SortOrder").and_then(Value::as_str).is_none_or(|o| o == "DESCENDING");
        let items: Vec<&AcceptanceTask> = state
            .catalog(self.catalog())
            .map(|c| {
                c.acceptance_tasks
                    .values()
                    .filter(|t| statuses.as_ref().is_none_or(|s| s.contains(&t.status.as_str())))
                    .filter(|t| {
                        opportunities
                            .as_ref()
                            .is_none_or(|o| t.opportunity_id.as_deref().is_some_and(|id| o.contains(&id)))
                    })
                    .filter(|t| invitations.as_ref().is_none_or(|i| id_or_arn(i, &t.invitation_id)))
                    .filter(|t| task_ids.as_ref().is_none_or(|i| id_or_arn(i, &t.id)))
                    .collect()
            })
            .unwrap_or_default();
        let (page, next) = pagination::page(
            items,
            |t| (t.start_time.timestamp_millis(), t.id.as_str()),
            descending,
            after.as_ref(),
            self.page_size(),
        );
        let mut out = Map::new();
        out.insert("TaskSummaries".into(), Value::Array(page.iter().map(|t| t.to_json()).collect()));
        if let Some(n) = next {
            out.insert("NextToken".into(), json!(pagination::encode(&fp, &n)));
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_kept_or_derived_stably() {
        assert_eq!(account_id_for("123456789012"), "123456789012");
        let a = account_id_for("partner-x");
        assert_eq!(a.len(), 12);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(a, account_id_for("partner-x"));
    }
}
