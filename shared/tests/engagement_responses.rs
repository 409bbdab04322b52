//! Adapter tests of answering engagement invitations (`EngagementResponses` on the Selling
//! API): the real SDK client with responses stubbed by aws-smithy-mocks — what is sent (client
//! token on every attempt, filters, sort, page size, split identifier lists) and how answers
//! and errors are read (unknown values kept, Conflict and NotFound distinct, throttling
//! retried, pages followed).

use std::sync::{Arc, Mutex};

use aws_sdk_partnercentralselling as selling;
use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use futures::{StreamExt, TryStreamExt};
use selling::operation::list_engagement_by_accepting_invitation_tasks::ListEngagementByAcceptingInvitationTasksInput;
use shared::PartnerCentralError;
use shared::adapters::PartnerCentralSelling;
use shared::adapters::aws::partner_central_retry_config;
use shared::domain::Catalog;
use shared::domain::engagement_response::{AcceptanceTask, RejectionReason, TaskOutcome, TaskReasonCode, TaskStatus};
use shared::ports::{AcceptanceTaskQuery, EngagementResponses, TaskOrder};

/// What a stub saw of each request, member by member.
type Recorded = Arc<Mutex<Vec<Vec<Option<String>>>>>;

fn json_response(status: u16, body: &str) -> HttpResponse {
    let status = StatusCode::try_from(status).unwrap_or_else(|e| panic!("status: {e}"));
    let mut response = HttpResponse::new(status, SdkBody::from(body.to_owned()));
    response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
    response
}

fn adapter(rules: &[&aws_smithy_mocks::Rule]) -> PartnerCentralSelling {
    let client: selling::Client =
        mock_client!(selling, RuleMode::MatchAny, rules, |c| c.retry_config(partner_central_retry_config(3)));
    PartnerCentralSelling::new(client, Catalog::Aws)
}

const CONFLICT: &str =
    r#"{"__type":"ConflictException","Message":"Engagement invitation engi-0000000000001 is ACCEPTED"}"#;
const NOT_FOUND: &str =
    r#"{"__type":"ResourceNotFoundException","Message":"Engagement invitation engi-0000000000404 was not found"}"#;
const THROTTLED: &str = r#"{"__type":"ThrottlingException","Message":"Rate exceeded"}"#;

fn started_body(task: usize, invitation: usize) -> String {
    format!(
        r#"{{"TaskId":"task-{task:013}","TaskArn":"arn:aws:partnercentral:us-east-1:111122223333:catalog/AWS/engagement-by-accepting-invitation-task/task-{task:013}",
            "StartTime":"2026-11-20T10:00:00Z","TaskStatus":"IN_PROGRESS","EngagementInvitationId":"engi-{invitation:013}"}}"#
    )
}

#[tokio::test]
async fn starting_sends_the_client_token_and_reads_the_task() {
    let seen: Recorded = Arc::default();
    let recorder = seen.clone();
    let rule =
        mock!(selling::Client::start_engagement_by_accepting_invitation_task).then_compute_response(move |req| {
            recorder.lock().unwrap_or_else(|e| e.into_inner()).push(vec![
                req.catalog().map(str::to_owned),
                req.identifier().map(str::to_owned),
                req.client_token().map(str::to_owned),
            ]);
            MockResponse::Http(json_response(200, &started_body(1, 1)))
        });
    let task = adapter(&[&rule])
        .start_accepting_engagement_invitation("engi-0000000000001", "respond-engi-0000000000001-policy-ab12")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        *seen.lock().unwrap_or_else(|e| e.into_inner()),
        [[
            Some("AWS".to_owned()),
            Some("engi-0000000000001".to_owned()),
            Some("respond-engi-0000000000001-policy-ab12".to_owned())
        ]]
    );
    assert_eq!(task.task_id, "task-0000000000001");
    assert_eq!(task.status, TaskStatus::InProgress);
    assert_eq!(task.outcome(), TaskOutcome::Running);
    assert_eq!(task.invitation_id.as_deref(), Some("engi-0000000000001"));
    assert_eq!(task.started_at.map(|t| t.to_rfc3339()), Some("2026-11-20T10:00:00+00:00".to_owned()));
    assert!(task.task_arn.is_some_and(|a| a.ends_with("/task-0000000000001")));
    assert_eq!((task.opportunity_id, task.reason_code, task.message), (None, None, None));
}

/// Records the `ClientToken` of every attempt as it goes on the wire.
#[derive(Debug, Clone, Default)]
struct WireTokens(Arc<Mutex<Vec<String>>>);

impl Intercept for WireTokens {
    fn name(&self) -> &'static str {
        "WireTokens"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body: serde_json::Value = serde_json::from_slice(context.request().body().bytes().unwrap_or_default())?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(body["ClientToken"].as_str().unwrap_or_default().to_owned());
        Ok(())
    }
}

#[tokio::test]
async fn throttled_starts_are_retried_with_the_same_client_token() {
    let rule = mock!(selling::Client::start_engagement_by_accepting_invitation_task)
        .sequence()
        .http_response(|| json_response(400, THROTTLED))
        .times(2)
        .http_response(|| json_response(200, &started_body(7, 1)))
        .build();
    let tokens = WireTokens::default();
    let recorder = tokens.clone();
    let client: selling::Client = mock_client!(selling, RuleMode::MatchAny, [&rule], |c| c
        .retry_config(partner_central_retry_config(3))
        .interceptor(recorder.clone()));
    let task = PartnerCentralSelling::new(client, Catalog::Aws)
        .start_accepting_engagement_invitation("engi-0000000000001", "token-1")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(task.task_id, "task-0000000000007");
    assert_eq!(
        *tokens.0.lock().unwrap_or_else(|e| e.into_inner()),
        ["token-1", "token-1", "token-1"],
        "two throttled attempts and the success, all with the one token: a retry cannot start a second task"
    );
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_a_throttled_error() {
    let rule = mock!(selling::Client::start_engagement_by_accepting_invitation_task)
        .sequence()
        .http_response(|| json_response(400, THROTTLED))
        .repeatedly()
        .build();
    let err = adapter(&[&rule]).start_accepting_engagement_invitation("engi-0000000000001", "t").await.err();
    assert!(
        matches!(
            err,
            Some(PartnerCentralError::Throttled { operation: "StartEngagementByAcceptingInvitationTask", .. })
        ),
        "{err:?}"
    );
    assert_eq!(rule.num_calls(), 3, "MAX_ATTEMPTS bounds the attempts");
}

#[tokio::test]
async fn conflict_and_not_found_are_distinct_and_not_retried() {
    let conflict = mock!(selling::Client::start_engagement_by_accepting_invitation_task)
        .match_requests(|r| r.identifier() == Some("engi-0000000000001"))
        .then_http_response(|| json_response(400, CONFLICT));
    let not_found = mock!(selling::Client::start_engagement_by_accepting_invitation_task)
        .match_requests(|r| r.identifier() == Some("engi-0000000000404"))
        .then_http_response(|| json_response(400, NOT_FOUND));
    let reject_conflict = mock!(selling::Client::reject_engagement_invitation)
        .match_requests(|r| r.identifier() == Some("engi-0000000000001"))
        .then_http_response(|| json_response(400, CONFLICT));
    let reject_not_found = mock!(selling::Client::reject_engagement_invitation)
        .match_requests(|r| r.identifier() == Some("engi-0000000000404"))
        .then_http_response(|| json_response(400, NOT_FOUND));
    let pc = adapter(&[&conflict, &not_found, &reject_conflict, &reject_not_found]);
    let reason = RejectionReason::new("Unable to support").unwrap_or_else(|e| panic!("{e}"));

    let err = pc.start_accepting_engagement_invitation("engi-0000000000001", "t1").await.err();
    match &err {
        Some(PartnerCentralError::Conflict { operation, reason, message }) => {
            assert_eq!(*operation, "StartEngagementByAcceptingInvitationTask");
            assert_eq!(reason, "UNSPECIFIED", "the Selling API's ConflictException has no Reason");
            assert!(message.contains("is ACCEPTED"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let err = pc.start_accepting_engagement_invitation("engi-0000000000404", "t2").await.err();
    assert!(matches!(err, Some(PartnerCentralError::NotFound { .. })), "{err:?}");
    let err = pc.reject_engagement_invitation("engi-0000000000001", &reason).await.err();
    assert!(
        matches!(err, Some(PartnerCentralError::Conflict { operation: "RejectEngagementInvitation", .. })),
        "{err:?}"
    );
    let err = pc.reject_engagement_invitation("engi-0000000000404", &reason).await.err();
    assert!(matches!(err, Some(PartnerCentralError::NotFound { operation: "RejectEngagementInvitation", .. })));
    for rule in [&conflict, &not_found, &reject_conflict, &reject_not_found] {
        assert_eq!(rule.num_calls(), 1, "client errors are not retried");
    }
}

#[tokio::test]
async fn rejecting_sends_the_reason() {
    let reasons: Recorded = Arc::default();
    let recorder = reasons.clone();
    let rule = mock!(selling::Client::reject_engagement_invitation).then_compute_response(move |req| {
        recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(vec![req.identifier().map(str::to_owned), req.rejection_reason().map(str::to_owned)]);
        MockResponse::Http(json_response(200, "{}"))
    });
    let reason = RejectionReason::new("Duplicate of partner referral").unwrap_or_else(|e| panic!("{e}"));
    adapter(&[&rule])
        .reject_engagement_invitation("engi-0000000000002", &reason)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        *reasons.lock().unwrap_or_else(|e| e.into_inner()),
        [[Some("engi-0000000000002".to_owned()), Some("Duplicate of partner referral".to_owned())]]
    );
}

/// A task summary as the API sends it.
fn summary(task: usize, invitation: usize, status: &str, extra: &str) -> String {
    format!(
        r#"{{"TaskId":"task-{task:013}","TaskArn":"arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-by-accepting-invitation-task/task-{task:013}",
            "StartTime":"2026-11-20T10:{:02}:00Z","TaskStatus":"{status}","EngagementInvitationId":"engi-{invitation:013}"{extra}}}"#,
        task % 60
    )
}

type Requests = Arc<Mutex<Vec<ListEngagementByAcceptingInvitationTasksInput>>>;

#[tokio::test]
async fn the_listing_follows_every_page_keeps_unknown_values_and_skips_an_unreadable_task() {
    let seen: Requests = Arc::default();
    let recorder = seen.clone();
    let rule = mock!(selling::Client::list_engagement_by_accepting_invitation_tasks).then_compute_response(move |req| {
        recorder.lock().unwrap_or_else(|e| e.into_inner()).push(req.clone());
        let body = match req.next_token() {
            None => format!(
                r#"{{"TaskSummaries":[{},{}],"NextToken":"p2"}}"#,
                summary(3, 3, "IN_PROGRESS", ""),
                summary(2, 2, "COMPLETE", r#","OpportunityId":"O1234567890","ResourceSnapshotJobId":"job-0000000000002""#)
            ),
            Some("p2") => format!(
                r#"{{"TaskSummaries":[{},{},{{"TaskStatus":"FAILED","EngagementInvitationId":"engi-0000000000009"}}],"NextToken":"p3"}}"#,
                summary(1, 1, "FAILED", r#","ReasonCode":"OpportunityValidationFailed","Message":"Customer website missing""#),
                summary(4, 4, "CANCELLING", r#","ReasonCode":"SomethingNew""#)
            ),
            Some(_) => r#"{"TaskSummaries":[]}"#.to_owned(),
        };
        MockResponse::Http(json_response(200, &body))
    });
    let query = AcceptanceTaskQuery {
        statuses: vec![TaskStatus::InProgress, TaskStatus::Failed],
        order: TaskOrder::NewestFirst,
        ..AcceptanceTaskQuery::default()
    };
    let pages: Vec<Vec<AcceptanceTask>> =
        adapter(&[&rule]).list_acceptance_tasks(query).try_collect().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 0], "the task without a TaskId is skipped");
    let tasks = pages.concat();
    assert_eq!(tasks[1].outcome(), TaskOutcome::Completed { opportunity_id: Some("O1234567890") });
    assert_eq!(tasks[1].resource_snapshot_job_id.as_deref(), Some("job-0000000000002"));
    assert_eq!(
        tasks[2].outcome(),
        TaskOutcome::Failed {
            reason_code: Some(&TaskReasonCode::new("OpportunityValidationFailed")),
            message: Some("Customer website missing")
        }
    );
    assert_eq!(tasks[3].status, TaskStatus::Other("CANCELLING".into()), "an unknown TaskStatus is kept");
    assert_eq!(tasks[3].outcome(), TaskOutcome::Unrecognized { status: "CANCELLING" });
    assert_eq!(tasks[3].reason_code.as_ref().map(TaskReasonCode::as_str), Some("SomethingNew"));

    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(seen.len(), 3, "one call per page");
    for req in seen.iter() {
        assert_eq!(req.catalog(), Some("AWS"));
        assert_eq!(req.max_results(), Some(100));
        assert_eq!(req.task_status().iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["IN_PROGRESS", "FAILED"]);
        let sort = req.sort().map(|s| (s.sort_by().as_str().to_owned(), s.sort_order().as_str().to_owned()));
        assert_eq!(sort, Some(("StartTime".into(), "DESCENDING".into())));
        assert!(req.engagement_invitation_identifier().is_empty() && req.task_identifier().is_empty());
    }
}

#[tokio::test]
async fn more_than_ten_invitations_are_listed_ten_at_a_time() {
    let seen: Requests = Arc::default();
    let recorder = seen.clone();
    let rule =
        mock!(selling::Client::list_engagement_by_accepting_invitation_tasks).then_compute_response(move |req| {
            recorder.lock().unwrap_or_else(|e| e.into_inner()).push(req.clone());
            let tasks: Vec<String> = req
                .engagement_invitation_identifier()
                .iter()
                .filter_map(|i| i.strip_prefix("engi-")?.parse::<usize>().ok())
                .map(|n| summary(n, n, "COMPLETE", ""))
                .collect();
            MockResponse::Http(json_response(200, &format!(r#"{{"TaskSummaries":[{}]}}"#, tasks.join(","))))
        });
    let ids: Vec<String> = (1..=23).map(|n| format!("engi-{n:013}")).collect();
    let pages: Vec<Vec<AcceptanceTask>> = adapter(&[&rule])
        .list_acceptance_tasks(AcceptanceTaskQuery::for_invitations(ids.clone()))
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<String> = pages.concat().into_iter().filter_map(|t| t.invitation_id).collect();
    assert_eq!(got, ids, "every invitation's task, once");
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    let sizes: Vec<usize> = seen.iter().map(|r| r.engagement_invitation_identifier().len()).collect();
    assert_eq!(sizes, [10, 10, 3], "the API takes at most 10 identifiers per filter");
}

#[tokio::test]
async fn one_invitations_tasks_and_one_task_by_id() {
    let seen: Requests = Arc::default();
    let recorder = seen.clone();
    let rule =
        mock!(selling::Client::list_engagement_by_accepting_invitation_tasks).then_compute_response(move |req| {
            recorder.lock().unwrap_or_else(|e| e.into_inner()).push(req.clone());
            let body = if req.task_identifier().is_empty() {
                format!(
                    r#"{{"TaskSummaries":[{},{}]}}"#,
                    summary(2, 5, "IN_PROGRESS", ""),
                    summary(1, 5, "FAILED", r#","ReasonCode":"InternalError""#)
                )
            } else {
                r#"{"TaskSummaries":[]}"#.to_owned()
            };
            MockResponse::Http(json_response(200, &body))
        });
    let pc = adapter(&[&rule]);
    let tasks = pc.acceptance_tasks_of("engi-0000000000005").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        tasks.iter().map(|t| t.task_id.as_str()).collect::<Vec<_>>(),
        ["task-0000000000002", "task-0000000000001"]
    );
    let none = pc.acceptance_task("task-0000000000099").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(none, None);
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(seen[0].engagement_invitation_identifier(), ["engi-0000000000005"]);
    assert_eq!(seen[0].sort().map(|s| s.sort_order().as_str()), Some("DESCENDING"));
    assert_eq!(seen[1].task_identifier(), ["task-0000000000099"]);
}

#[tokio::test]
async fn a_listing_error_is_classified_and_ends_the_listing() {
    let rule = mock!(selling::Client::list_engagement_by_accepting_invitation_tasks).then_http_response(|| {
        json_response(
            400,
            r#"{"__type":"ValidationException","Message":"1 validation error","Reason":"REQUEST_VALIDATION_FAILED",
                "ErrorList":[{"FieldName":"TaskIdentifier[0]","Message":"bad","Code":"INVALID_STRING_FORMAT"}]}"#,
        )
    });
    let pages: Vec<Result<Vec<AcceptanceTask>, PartnerCentralError>> = adapter(&[&rule])
        .list_acceptance_tasks(AcceptanceTaskQuery { task_ids: vec!["bogus".into()], ..AcceptanceTaskQuery::default() })
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 1);
    match &pages[0] {
        Err(PartnerCentralError::Validation { operation, fields, .. }) => {
            assert_eq!(*operation, "ListEngagementByAcceptingInvitationTasks");
            assert_eq!(fields, &["TaskIdentifier[0]".to_owned()]);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}
