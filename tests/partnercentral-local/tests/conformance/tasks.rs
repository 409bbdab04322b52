//! Accepting engagement invitations (`StartEngagementByAcceptingInvitationTask`,
//! `ListEngagementByAcceptingInvitationTasks`, `AcceptEngagementInvitation`) through
//! `aws-sdk-partnercentralselling`. Tasks end on the emulator's virtual clock, which these
//! tests move through the control API: no test waits for wall-clock time.

use aws_sdk_partnercentralselling::Client;
use aws_sdk_partnercentralselling::operation::accept_engagement_invitation::AcceptEngagementInvitationError;
use aws_sdk_partnercentralselling::operation::list_engagement_by_accepting_invitation_tasks::ListEngagementByAcceptingInvitationTasksError;
use aws_sdk_partnercentralselling::operation::reject_engagement_invitation::RejectEngagementInvitationError;
use aws_sdk_partnercentralselling::operation::start_engagement_by_accepting_invitation_task::{
    StartEngagementByAcceptingInvitationTaskError, StartEngagementByAcceptingInvitationTaskOutput,
};
use aws_sdk_partnercentralselling::types::{
    InvitationStatus, ListEngagementByAcceptingInvitationTaskSummary, ListTasksSortBase, ListTasksSortName, ReasonCode,
    SortOrder, TaskStatus,
};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};

use crate::common::*;

/// A PENDING engagement invitation we received, dated an hour before [`T0`].
fn received(n: usize) -> Value {
    json!({"Catalog": "AWS", "Id": format!("engi-r{n:012}"), "PayloadType": "OpportunityInvitation",
           "EngagementId": format!("eng-{n:014}"), "SenderAwsAccountId": "AWS",
           "InvitationDate": ts(t0() - chrono::Duration::hours(1)), "ParticipantType": "RECEIVER"})
}

fn id(n: usize) -> String {
    format!("engi-r{n:012}")
}

fn arn(n: usize) -> String {
    format!("arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/{}", id(n))
}

/// `n` received PENDING invitations, plus: one we sent (`engi-sent000000001`), one already
/// ACCEPTED (`engi-done000000001`), and the extra entries given.
async fn emulator(n: usize, extra: Vec<Value>) -> Emu {
    let mut entries: Vec<Value> = (0..n).map(received).collect();
    let mut sent = received(0);
    sent["Id"] = json!("engi-sent000000001");
    sent["ParticipantType"] = json!("SENDER");
    let mut done = received(0);
    done["Id"] = json!("engi-done000000001");
    done["Status"] = json!("ACCEPTED");
    entries.extend([sent, done]);
    entries.extend(extra);
    let doc = SeedDocument { connection_invitations: vec![], engagement_invitations: entries };
    start_with(builder().seed(doc)).await
}

async fn start_task(
    client: &Client,
    identifier: &str,
    token: &str,
) -> Result<StartEngagementByAcceptingInvitationTaskOutput, StartEngagementByAcceptingInvitationTaskError> {
    client
        .start_engagement_by_accepting_invitation_task()
        .catalog("AWS")
        .identifier(identifier)
        .client_token(token)
        .send()
        .await
        .map_err(|e| e.into_service_error())
}

async fn invitation_status(client: &Client, identifier: &str) -> InvitationStatus {
    let got = client.get_engagement_invitation().catalog("AWS").identifier(identifier).send().await.expect("get");
    got.status().cloned().expect("Status")
}

async fn advance(emu: &Emu, seconds: i64) -> Value {
    emu.ok("POST", "/_emulator/clock/advance", Some(json!({ "seconds": seconds }))).await
}

#[derive(Debug, Default, Clone)]
struct TaskFilter {
    statuses: Vec<TaskStatus>,
    invitations: Vec<String>,
    tasks: Vec<String>,
    opportunities: Vec<String>,
    sort: Option<SortOrder>,
    max: Option<i32>,
}

async fn list_tasks(client: &Client, f: &TaskFilter) -> Vec<ListEngagementByAcceptingInvitationTaskSummary> {
    let mut req = client.list_engagement_by_accepting_invitation_tasks().catalog("AWS");
    for s in &f.statuses {
        req = req.task_status(s.clone());
    }
    for i in &f.invitations {
        req = req.engagement_invitation_identifier(i);
    }
    for t in &f.tasks {
        req = req.task_identifier(t);
    }
    for o in &f.opportunities {
        req = req.opportunity_identifier(o);
    }
    if let Some(order) = &f.sort {
        req = req.sort(
            ListTasksSortBase::builder()
                .sort_order(order.clone())
                .sort_by(ListTasksSortName::StartTime)
                .build()
                .expect("sort"),
        );
    }
    if let Some(m) = f.max {
        req = req.max_results(m);
    }
    let mut out = Vec::new();
    let mut pages = req.into_paginator().send();
    while let Some(page) = pages.next().await {
        out.extend(page.expect("page").task_summaries().iter().cloned());
    }
    out
}

#[tokio::test]
async fn a_task_completes_after_the_delay_on_the_virtual_clock_and_accepts_the_invitation() {
    let emu = emulator(1, vec![]).await;
    let client = emu.selling().await;
    let started = start_task(&client, &id(0), "token-0").await.expect("start");
    let task_id = started.task_id().expect("TaskId").to_owned();
    assert!(task_id.starts_with("task-") && task_id.len() == 18, "{task_id}");
    assert_eq!(
        started.task_arn(),
        Some(
            format!("arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-by-accepting-invitation-task/{task_id}")
                .as_str()
        )
    );
    assert_eq!(started.task_status(), Some(&TaskStatus::InProgress));
    assert_eq!(started.start_time().map(sdk_secs), Some(t0().timestamp()));
    assert_eq!(started.engagement_invitation_id(), Some(id(0).as_str()));
    assert_eq!(started.opportunity_id(), None, "no opportunity before the task completes");
    assert_eq!(invitation_status(&client, &id(0)).await, InvitationStatus::Pending, "pending while the task runs");

    // The default delay is 5 s of virtual time: nothing happens before.
    advance(&emu, 4).await;
    let running = list_tasks(&client, &TaskFilter { invitations: vec![id(0)], ..TaskFilter::default() }).await;
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].task_status(), Some(&TaskStatus::InProgress));
    let after = advance(&emu, 1).await;
    assert_eq!(after["tasks_ended"], 1);

    let done = list_tasks(&client, &TaskFilter { tasks: vec![task_id.clone()], ..TaskFilter::default() }).await;
    assert_eq!(done.len(), 1);
    let task = &done[0];
    assert_eq!(task.task_status(), Some(&TaskStatus::Complete));
    let opportunity = task.opportunity_id().expect("OpportunityId once complete");
    assert!(opportunity.starts_with('O') && opportunity[1..].bytes().all(|b| b.is_ascii_digit()), "{opportunity}");
    assert!(task.resource_snapshot_job_id().is_some_and(|j| j.starts_with("job-")));
    assert_eq!(task.reason_code(), None);
    assert_eq!(invitation_status(&client, &id(0)).await, InvitationStatus::Accepted);

    // The same token and request: the same task, as it is now.
    let again = start_task(&client, &id(0), "token-0").await.expect("idempotent repeat");
    assert_eq!(again.task_id(), Some(task_id.as_str()));
    assert_eq!(again.task_status(), Some(&TaskStatus::Complete));
    assert_eq!(again.opportunity_id(), Some(opportunity));
    // The same token for another request: the modelled ConflictException.
    let err = start_task(&client, &arn(0), "token-0").await.expect_err("token reused for another request");
    assert!(err.is_conflict_exception(), "{err:?}");
    // A new token for an invitation that is no longer PENDING: ConflictException.
    let err = start_task(&client, &id(0), "token-1").await.expect_err("already accepted");
    assert!(err.is_conflict_exception(), "{err:?}");
    let all = list_tasks(&client, &TaskFilter::default()).await;
    assert_eq!(all.len(), 1, "repeats never start a second task");
    emu.finish().await;
}

#[tokio::test]
async fn a_planned_failure_ends_the_task_with_its_reason_code_and_leaves_the_invitation_pending() {
    // One invitation fails by its seed entry, another by a control-API patch after start.
    let mut seeded = received(1);
    seeded["EmulatorTaskOutcome"] = json!({"ReasonCode": "OpportunityValidationFailed", "DelaySeconds": 60});
    let emu = emulator(1, vec![seeded]).await;
    let client = emu.selling().await;

    let by_seed = start_task(&client, &id(1), "seeded").await.expect("start");
    let by_patch = start_task(&client, &id(0), "patched").await.expect("start");
    emu.ok(
        "PATCH",
        &format!("/_emulator/engagement-invitations/AWS/{}", id(0)),
        Some(json!({"EmulatorTaskOutcome": {"ReasonCode": "EngagementConflict", "Message": "Engagement is locked"}})),
    )
    .await;
    advance(&emu, 5).await;
    let tasks = list_tasks(&client, &TaskFilter::default()).await;
    let find = |id: Option<&str>| tasks.iter().find(|t| t.task_id() == id).cloned().expect("task listed");
    let patched = find(by_patch.task_id());
    assert_eq!(patched.task_status(), Some(&TaskStatus::Failed));
    assert_eq!(patched.reason_code(), Some(&ReasonCode::EngagementConflict));
    assert_eq!(patched.message(), Some("Engagement is locked"));
    assert_eq!(patched.opportunity_id(), None);
    assert_eq!(find(by_seed.task_id()).task_status(), Some(&TaskStatus::InProgress), "its own delay is 60 s");

    advance(&emu, 55).await;
    let seeded = list_tasks(&client, &TaskFilter { invitations: vec![arn(1)], ..TaskFilter::default() }).await;
    assert_eq!(seeded[0].task_status(), Some(&TaskStatus::Failed));
    assert_eq!(seeded[0].reason_code(), Some(&ReasonCode::OpportunityValidationFailed));
    assert!(seeded[0].message().is_some_and(|m| m.contains("OpportunityValidationFailed")));
    assert_eq!(invitation_status(&client, &id(0)).await, InvitationStatus::Pending);
    assert_eq!(invitation_status(&client, &id(1)).await, InvitationStatus::Pending);

    // A failed task does not block a new one (with a new token).
    emu.ok(
        "PATCH",
        &format!("/_emulator/engagement-invitations/AWS/{}", id(0)),
        Some(json!({"EmulatorTaskOutcome": null})),
    )
    .await;
    let retry = start_task(&client, &id(0), "patched-2").await.expect("a new task after a failed one");
    assert_ne!(retry.task_id(), by_patch.task_id());
    advance(&emu, 5).await;
    assert_eq!(invitation_status(&client, &id(0)).await, InvitationStatus::Accepted);
    emu.finish().await;
}

#[tokio::test]
async fn only_pending_received_invitations_without_a_running_task_can_be_answered() {
    let emu = emulator(2, vec![]).await;
    let client = emu.selling().await;
    for (identifier, why) in [("engi-sent000000001", "we sent it"), ("engi-done000000001", "already ACCEPTED")] {
        let err = start_task(&client, identifier, &format!("t-{identifier}")).await.expect_err(why);
        assert!(err.is_conflict_exception(), "{why}: {err:?}");
        let err = client
            .accept_engagement_invitation()
            .catalog("AWS")
            .identifier(identifier)
            .send()
            .await
            .expect_err(why)
            .into_service_error();
        assert!(matches!(err, AcceptEngagementInvitationError::ConflictException(_)), "{why}: {err:?}");
    }
    let err = start_task(&client, "engi-zzzzzzzzzzzzz", "t-unknown").await.expect_err("unknown");
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    start_task(&client, &id(0), "t-running").await.expect("start");

    // While a task runs, a second task, a reject and an accept all conflict.
    let err = start_task(&client, &id(0), "t-second").await.expect_err("a task is running");
    assert!(err.is_conflict_exception(), "{err:?}");
    let err = client
        .reject_engagement_invitation()
        .catalog("AWS")
        .identifier(id(0))
        .rejection_reason("Unable to support")
        .send()
        .await
        .expect_err("being accepted")
        .into_service_error();
    assert!(matches!(err, RejectEngagementInvitationError::ConflictException(_)), "{err:?}");
    let err = client
        .accept_engagement_invitation()
        .catalog("AWS")
        .identifier(arn(0))
        .send()
        .await
        .expect_err("being accepted")
        .into_service_error();
    assert!(matches!(err, AcceptEngagementInvitationError::ConflictException(_)), "{err:?}");

    // AcceptEngagementInvitation: synchronous, by id or ARN, once.
    client.accept_engagement_invitation().catalog("AWS").identifier(arn(1)).send().await.expect("accept");
    assert_eq!(invitation_status(&client, &id(1)).await, InvitationStatus::Accepted);
    let err = client
        .accept_engagement_invitation()
        .catalog("AWS")
        .identifier(id(1))
        .send()
        .await
        .expect_err("accepted already")
        .into_service_error();
    assert!(matches!(err, AcceptEngagementInvitationError::ConflictException(_)), "{err:?}");
    let err = client
        .accept_engagement_invitation()
        .catalog("Sandbox")
        .identifier(id(1))
        .send()
        .await
        .expect_err("other catalog")
        .into_service_error();
    assert!(matches!(err, AcceptEngagementInvitationError::ResourceNotFoundException(_)), "{err:?}");
    emu.finish().await;
}

#[tokio::test]
async fn an_invitation_that_expires_before_its_task_ends_fails_the_task() {
    let mut expiring = received(3);
    expiring["InvitationDate"] = json!(ts(t0() - chrono::Duration::days(15) + chrono::Duration::seconds(3)));
    let emu = emulator(0, vec![expiring]).await;
    let client = emu.selling().await;
    let started = start_task(&client, &id(3), "t").await.expect("start while still pending");
    advance(&emu, 10).await;
    let tasks = list_tasks(&client, &TaskFilter::default()).await;
    assert_eq!(tasks[0].task_id(), started.task_id());
    assert_eq!(tasks[0].task_status(), Some(&TaskStatus::Failed));
    assert_eq!(tasks[0].reason_code(), Some(&ReasonCode::EngagementInvitationConflict));
    assert_eq!(invitation_status(&client, &id(3)).await, InvitationStatus::Expired);
    emu.finish().await;
}

#[tokio::test]
async fn the_task_listing_pages_filters_and_sorts_as_modelled() {
    let emu = emulator(24, vec![]).await;
    let client = emu.selling().await;
    // 24 tasks of 14 s, started in pairs two seconds apart (ties on StartTime are broken by
    // TaskId); when they are listed (24 s later) the first 12 have ended, the last 12 run.
    emu.ok("POST", "/_emulator/task-delay", Some(json!({"seconds": 14}))).await;
    let mut started = Vec::new();
    for n in 0..24 {
        let out = start_task(&client, &id(n), &format!("token-{n}")).await.expect("start");
        started.push((n, out.task_id().expect("TaskId").to_owned()));
        if n % 2 == 1 {
            emu.ok("POST", "/_emulator/clock/advance", Some(json!({"seconds": 2}))).await;
        }
    }
    let all = list_tasks(&client, &TaskFilter { max: Some(5), ..TaskFilter::default() }).await;
    assert_eq!(all.len(), 24, "every task once over five pages");
    let keys: Vec<(i64, String)> = all
        .iter()
        .map(|t| (t.start_time().map(sdk_secs).expect("StartTime"), t.task_id().expect("TaskId").to_owned()))
        .collect();
    let mut descending = keys.clone();
    descending.sort();
    descending.reverse();
    assert_eq!(keys, descending, "default order: StartTime descending, then TaskId");
    let ascending =
        list_tasks(&client, &TaskFilter { sort: Some(SortOrder::Ascending), max: Some(7), ..TaskFilter::default() })
            .await;
    let mut asc_keys: Vec<(i64, String)> = ascending
        .iter()
        .map(|t| (t.start_time().map(sdk_secs).expect("StartTime"), t.task_id().expect("TaskId").to_owned()))
        .collect();
    assert_eq!(asc_keys.len(), 24);
    asc_keys.reverse();
    assert_eq!(asc_keys, keys);

    let complete =
        list_tasks(&client, &TaskFilter { statuses: vec![TaskStatus::Complete], ..TaskFilter::default() }).await;
    let running =
        list_tasks(&client, &TaskFilter { statuses: vec![TaskStatus::InProgress], ..TaskFilter::default() }).await;
    assert_eq!((complete.len(), running.len()), (12, 12), "tasks started ≥ 14 s before now have ended");
    let both = list_tasks(
        &client,
        &TaskFilter { statuses: vec![TaskStatus::InProgress, TaskStatus::Complete], ..TaskFilter::default() },
    )
    .await;
    assert_eq!(both.len(), 24);
    let failed = list_tasks(&client, &TaskFilter { statuses: vec![TaskStatus::Failed], ..TaskFilter::default() }).await;
    assert!(failed.is_empty());

    let by_invitation = list_tasks(
        &client,
        &TaskFilter { invitations: vec![id(3), arn(20), "engi-zzzzzzzzzzzzz".into()], ..TaskFilter::default() },
    )
    .await;
    let mut got: Vec<&str> = by_invitation.iter().filter_map(|t| t.engagement_invitation_id()).collect();
    got.sort_unstable();
    assert_eq!(got, [id(3), id(20)]);
    let wanted_task = &started[7].1;
    let task_arn = format!(
        "arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-by-accepting-invitation-task/{}",
        started[9].1
    );
    let by_task =
        list_tasks(&client, &TaskFilter { tasks: vec![wanted_task.clone(), task_arn], ..TaskFilter::default() }).await;
    let mut got: Vec<&str> = by_task.iter().filter_map(|t| t.engagement_invitation_id()).collect();
    got.sort_unstable();
    assert_eq!(got, [id(7), id(9)]);
    let opportunity = complete[0].opportunity_id().expect("OpportunityId").to_owned();
    let by_opportunity =
        list_tasks(&client, &TaskFilter { opportunities: vec![opportunity.clone()], ..TaskFilter::default() }).await;
    assert_eq!(by_opportunity.len(), 1);
    assert_eq!(by_opportunity[0].opportunity_id(), Some(opportunity.as_str()));
    let combined = list_tasks(
        &client,
        &TaskFilter {
            statuses: vec![TaskStatus::InProgress],
            invitations: vec![id(3), id(20)],
            ..TaskFilter::default()
        },
    )
    .await;
    assert_eq!(combined.iter().filter_map(|t| t.engagement_invitation_id()).collect::<Vec<_>>(), [id(20)]);

    // Other catalogs see none of them; the model's limits are enforced.
    let sandbox =
        client.list_engagement_by_accepting_invitation_tasks().catalog("Sandbox").send().await.expect("list sandbox");
    assert!(sandbox.task_summaries().is_empty());
    let err = client
        .list_engagement_by_accepting_invitation_tasks()
        .catalog("AWS")
        .max_results(1001)
        .send()
        .await
        .expect_err("MaxResults above 1000")
        .into_service_error();
    match err {
        ListEngagementByAcceptingInvitationTasksError::ValidationException(v) => {
            assert_eq!(v.error_list()[0].field_name(), Some("MaxResults"))
        }
        other => panic!("expected ValidationException, got {other:?}"),
    }
    let first_page = client
        .list_engagement_by_accepting_invitation_tasks()
        .catalog("AWS")
        .max_results(5)
        .send()
        .await
        .expect("page");
    let token = first_page.next_token().expect("NextToken").to_owned();
    let err = client
        .list_engagement_by_accepting_invitation_tasks()
        .catalog("AWS")
        .task_status(TaskStatus::Complete)
        .next_token(token)
        .send()
        .await
        .expect_err("a token of another query")
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    emu.finish().await;
}

#[tokio::test]
async fn control_api_lists_tasks_sets_the_delay_and_checks_planned_outcomes() {
    let emu = emulator(2, vec![]).await;
    let client = emu.selling().await;
    assert_eq!(emu.ok("GET", "/_emulator/task-delay", None).await, json!({"seconds": 5}));
    assert_eq!(emu.ok("POST", "/_emulator/task-delay", Some(json!({"seconds": 30}))).await, json!({"seconds": 30}));
    let started = start_task(&client, &id(0), "t0").await.expect("start");
    let tasks = emu.ok("GET", "/_emulator/engagement-tasks?catalog=AWS&status=IN_PROGRESS", None).await;
    assert_eq!(tasks["Tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(tasks["Tasks"][0]["EndsAt"], ts(t0() + chrono::Duration::seconds(30)));
    assert_eq!(tasks["Tasks"][0]["Catalog"], "AWS");
    let task_id = started.task_id().expect("TaskId");
    let one = emu.ok("GET", &format!("/_emulator/engagement-tasks/AWS/{task_id}"), None).await;
    assert_eq!(one["EngagementInvitationId"], id(0));
    let (status, _) = emu.control("GET", "/_emulator/engagement-tasks/AWS/task-0000000000000", None).await;
    assert_eq!(status, 404);

    let (status, body) = emu
        .control(
            "PATCH",
            &format!("/_emulator/engagement-invitations/AWS/{}", id(1)),
            Some(json!({"EmulatorTaskOutcome": {"ReasonCode": "NoSuchReason", "DelaySeconds": -1, "Bogus": 1}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let mut paths: Vec<&str> =
        body["violations"].as_array().expect("violations").iter().filter_map(|v| v["path"].as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "(body).EmulatorTaskOutcome.Bogus",
            "(body).EmulatorTaskOutcome.DelaySeconds",
            "(body).EmulatorTaskOutcome.ReasonCode"
        ]
    );
    let (status, _) = emu.control("POST", "/_emulator/task-delay", Some(json!({"seconds": "soon"}))).await;
    assert_eq!(status, 400);

    // Reset forgets tasks and restores the start-up delay.
    emu.ok("POST", "/_emulator/reset", Some(json!({"reseed": true}))).await;
    assert_eq!(emu.ok("GET", "/_emulator/engagement-tasks", None).await, json!({"Tasks": []}));
    assert_eq!(emu.ok("GET", "/_emulator/task-delay", None).await, json!({"seconds": 5}));
    emu.finish().await;
}

#[tokio::test]
async fn stats_count_writes_per_api_and_not_reads() {
    let emu = emulator(1, vec![]).await;
    let client = emu.selling().await;
    list_tasks(&client, &TaskFilter::default()).await;
    invitation_status(&client, &id(0)).await;
    let stats = emu.stats().await;
    assert_eq!(stats["max_writes_per_second"], json!({}), "List and Get are readonly in the model: {stats}");
    start_task(&client, &id(0), "w").await.expect("start");
    let stats = emu.stats().await;
    assert_eq!(stats["max_writes_per_second"], json!({"Selling": 1}), "{stats}");
    emu.finish().await;
}
