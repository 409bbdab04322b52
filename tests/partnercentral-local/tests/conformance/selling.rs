//! Selling API (`AWSPartnerCentralSelling.*`) through `aws-sdk-partnercentralselling`.

use aws_sdk_partnercentralselling::Client;
use aws_sdk_partnercentralselling::operation::get_engagement_invitation::GetEngagementInvitationError;
use aws_sdk_partnercentralselling::operation::list_engagement_invitations::ListEngagementInvitationsError;
use aws_sdk_partnercentralselling::operation::reject_engagement_invitation::RejectEngagementInvitationError;
use aws_sdk_partnercentralselling::types::{
    EngagementInvitationPayloadType, InvitationStatus, OpportunityEngagementInvitationSort,
    OpportunityEngagementInvitationSortName, ParticipantType, SortOrder,
};
use serde_json::json;

use crate::common::*;

#[derive(Default, Clone, Debug)]
struct Filter {
    participant: &'static str,
    statuses: Vec<&'static str>,
    payloads: Vec<&'static str>,
    engagements: Vec<String>,
    senders: Vec<&'static str>,
    sort: Option<SortOrder>,
    max: Option<i32>,
}

async fn list(client: &Client, catalog: &str, f: &Filter) -> Vec<(i64, String)> {
    let mut req =
        client.list_engagement_invitations().catalog(catalog).participant_type(ParticipantType::from(f.participant));
    for s in &f.statuses {
        req = req.status(InvitationStatus::from(*s));
    }
    for p in &f.payloads {
        req = req.payload_type(EngagementInvitationPayloadType::from(*p));
    }
    for e in &f.engagements {
        req = req.engagement_identifier(e);
    }
    for s in &f.senders {
        req = req.sender_aws_account_id(*s);
    }
    if let Some(o) = &f.sort {
        req = req.sort(
            OpportunityEngagementInvitationSort::builder()
                .sort_order(o.clone())
                .sort_by(OpportunityEngagementInvitationSortName::InvitationDate)
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
        for s in page.expect("page").engagement_invitation_summaries() {
            let date = s.invitation_date().map(sdk_secs).expect("InvitationDate");
            out.push((date, s.id().to_owned()));
        }
    }
    out
}

fn expected(fix: &[EngFix], catalog: &str, f: &Filter) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = fix
        .iter()
        .filter(|e| e.catalog == catalog && e.participant == f.participant)
        .filter(|e| f.statuses.is_empty() || f.statuses.contains(&e.status))
        .filter(|e| f.payloads.is_empty() || f.payloads.contains(&e.payload))
        .filter(|e| {
            f.engagements.is_empty()
                || f.engagements.iter().any(|x| *x == e.engagement || x.ends_with(&format!("/{}", e.engagement)))
        })
        .filter(|e| f.senders.is_empty() || f.senders.contains(&e.sender))
        .map(|e| (e.date, e.id.clone()))
        .collect();
    v.sort();
    if f.sort != Some(SortOrder::Ascending) {
        v.reverse();
    }
    v
}

#[tokio::test]
async fn get_engagement_invitation_by_id_and_by_arn() {
    let (emu, _, fix) = start().await;
    let client = emu.selling().await;
    let e = fix.iter().find(|e| e.catalog == "AWS").expect("fixture");
    let by_id = client.get_engagement_invitation().catalog("AWS").identifier(&e.id).send().await.expect("get");
    assert_eq!(by_id.id(), e.id);
    assert_eq!(by_id.catalog(), "AWS");
    let arn = by_id.arn().expect("Arn").to_owned();
    assert_eq!(arn, format!("arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/{}", e.id));
    assert_eq!(by_id.status().map(|s| s.as_str()), Some(e.status));
    assert_eq!(by_id.payload_type().map(|p| p.as_str()), Some(e.payload));
    assert_eq!(by_id.engagement_id(), Some(e.engagement.as_str()));
    assert_eq!(by_id.invitation_date().map(sdk_secs), Some(e.date));
    assert_eq!(
        by_id.expiration_date().map(sdk_secs),
        Some(e.date + 15 * 86_400),
        "default expiry: 15 days after InvitationDate"
    );
    let receiver = by_id.receiver().expect("Receiver");
    let account = receiver.as_account().expect("Receiver.Account");
    assert_eq!(account.aws_account_id(), "999999999999");
    assert_eq!(account.alias(), Some("us"));
    let by_arn = client.get_engagement_invitation().catalog("AWS").identifier(&arn).send().await.expect("get by ARN");
    assert_eq!(by_arn.id(), e.id);
    let err = client
        .get_engagement_invitation()
        .catalog("Sandbox")
        .identifier(&e.id)
        .send()
        .await
        .expect_err("other catalog");
    match err.as_service_error() {
        Some(GetEngagementInvitationError::ResourceNotFoundException(x)) => {
            assert!(x.message().is_some_and(|m| m.contains(&e.id)))
        }
        other => panic!("expected ResourceNotFoundException, got {other:?}"),
    }
    emu.finish().await;
}

#[tokio::test]
async fn sort_ascending_descending_and_default() {
    let (emu, _, fix) = start().await;
    let client = emu.selling().await;
    for sort in [None, Some(SortOrder::Ascending), Some(SortOrder::Descending)] {
        for max in [None, Some(7)] {
            let f = Filter { participant: "RECEIVER", sort: sort.clone(), max, ..Filter::default() };
            let got = list(&client, "AWS", &f).await;
            assert_eq!(got, expected(&fix, "AWS", &f), "{f:?}");
            let dates: Vec<i64> = got.iter().map(|x| x.0).collect();
            let ascending = dates.windows(2).all(|w| w[0] <= w[1]);
            let descending = dates.windows(2).all(|w| w[0] >= w[1]);
            match sort {
                Some(SortOrder::Ascending) => assert!(ascending),
                _ => assert!(descending, "default order is InvitationDate descending"),
            }
        }
    }
    emu.finish().await;
}

#[tokio::test]
async fn every_filter_alone_and_combined() {
    let (emu, _, fix) = start().await;
    let client = emu.selling().await;
    let arn_of_eng3 = "arn:aws:partnercentral:us-east-1::catalog/AWS/engagement/eng-00000000000003".to_owned();
    let base = |p| Filter { participant: p, max: Some(100), ..Filter::default() };
    let cases = vec![
        base("RECEIVER"),
        base("SENDER"),
        Filter { statuses: vec!["PENDING"], ..base("RECEIVER") },
        Filter { statuses: vec!["ACCEPTED", "EXPIRED"], ..base("RECEIVER") },
        Filter { payloads: vec!["LeadInvitation"], ..base("RECEIVER") },
        Filter { payloads: vec!["OpportunityInvitation", "LeadInvitation"], ..base("SENDER") },
        Filter { engagements: vec!["eng-00000000000001".into()], ..base("RECEIVER") },
        Filter { engagements: vec![arn_of_eng3.clone(), "eng-00000000000004".into()], ..base("SENDER") },
        Filter { senders: vec!["AWS"], ..base("RECEIVER") },
        Filter { senders: vec!["111111111111", "222222222222"], ..base("RECEIVER") },
        Filter {
            statuses: vec!["PENDING", "REJECTED"],
            payloads: vec!["OpportunityInvitation"],
            senders: vec!["222222222222", "AWS"],
            ..base("RECEIVER")
        },
        Filter {
            statuses: vec!["PENDING"],
            payloads: vec!["LeadInvitation"],
            engagements: vec!["eng-00000000000001".into(), "eng-00000000000005".into()],
            senders: vec!["111111111111", "222222222222", "AWS"],
            sort: Some(SortOrder::Ascending),
            ..base("RECEIVER")
        },
    ];
    let mut nonempty = 0;
    for f in cases {
        let want = expected(&fix, "AWS", &f);
        if !want.is_empty() {
            nonempty += 1;
        }
        assert_eq!(list(&client, "AWS", &f).await, want, "{f:?}");
    }
    assert!(nonempty >= 10, "the fixture must make most filter cases non-trivial");
    let sandbox = list(&client, "Sandbox", &base("RECEIVER")).await;
    assert_eq!(sandbox, expected(&fix, "Sandbox", &base("RECEIVER")));
    assert!(sandbox.iter().all(|(_, id)| id.starts_with("engi-s")), "catalogs are partitioned");
    emu.finish().await;
}

#[tokio::test]
async fn reject_only_pending_received_invitations() {
    let (emu, _, fix) = start().await;
    let client = emu.selling().await;
    let target = fix
        .iter()
        .find(|e| e.catalog == "AWS" && e.status == "PENDING" && e.participant == "RECEIVER")
        .expect("fixture");
    client
        .reject_engagement_invitation()
        .catalog("AWS")
        .identifier(&target.id)
        .rejection_reason("Customer not a fit")
        .send()
        .await
        .expect("reject");
    let got = client.get_engagement_invitation().catalog("AWS").identifier(&target.id).send().await.expect("get");
    assert_eq!(got.status(), Some(&InvitationStatus::Rejected));
    assert_eq!(got.rejection_reason(), Some("Customer not a fit"));
    let again = client
        .reject_engagement_invitation()
        .catalog("AWS")
        .identifier(&target.id)
        .send()
        .await
        .expect_err("already rejected");
    assert!(
        matches!(again.as_service_error(), Some(RejectEngagementInvitationError::ConflictException(_))),
        "{again:?}"
    );
    let sent =
        fix.iter().find(|e| e.catalog == "AWS" && e.status == "PENDING" && e.participant == "SENDER").expect("fixture");
    let err = client
        .reject_engagement_invitation()
        .catalog("AWS")
        .identifier(&sent.id)
        .send()
        .await
        .expect_err("cannot reject what we sent");
    assert!(matches!(err.as_service_error(), Some(RejectEngagementInvitationError::ConflictException(_))));
    let err = client
        .reject_engagement_invitation()
        .catalog("AWS")
        .identifier("engi-zzzzzzzzzzzzz")
        .send()
        .await
        .expect_err("unknown");
    assert!(matches!(err.as_service_error(), Some(RejectEngagementInvitationError::ResourceNotFoundException(_))));
    emu.finish().await;
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let (emu, _, _) = start().await;
    let client = emu.selling().await;
    let field_names =
        |err: &aws_sdk_partnercentralselling::error::SdkError<ListEngagementInvitationsError, _>| match err
            .as_service_error()
        {
            Some(ListEngagementInvitationsError::ValidationException(e)) => {
                assert_eq!(e.reason().as_str(), "REQUEST_VALIDATION_FAILED");
                e.error_list()
                    .iter()
                    .map(|x| (x.field_name().unwrap_or_default().to_owned(), x.code().as_str().to_owned()))
                    .collect::<Vec<_>>()
            }
            other => panic!("expected ValidationException, got {other:?}"),
        };
    let err =
        client.list_engagement_invitations().catalog("AWS").send().await.expect_err("ParticipantType is required");
    assert_eq!(field_names(&err), [("ParticipantType".to_owned(), "REQUIRED_FIELD_MISSING".to_owned())]);
    for bad in [0, 101] {
        let err = client
            .list_engagement_invitations()
            .catalog("AWS")
            .participant_type(ParticipantType::Receiver)
            .max_results(bad)
            .send()
            .await
            .expect_err("MaxResults out of range");
        assert_eq!(field_names(&err), [("MaxResults".to_owned(), "VALUE_OUT_OF_RANGE".to_owned())]);
    }
    let err = client
        .list_engagement_invitations()
        .catalog("AWS")
        .participant_type(ParticipantType::Receiver)
        .status(InvitationStatus::Pending)
        .status(InvitationStatus::from("CANCELED"))
        .send()
        .await
        .expect_err("CANCELED is not an engagement invitation status");
    assert_eq!(field_names(&err), [("Status[1]".to_owned(), "INVALID_ENUM_VALUE".to_owned())]);
    let err = client
        .get_engagement_invitation()
        .catalog("AWS")
        .identifier("engi-UPPERCASE1234")
        .send()
        .await
        .expect_err("bad identifier");
    match err.as_service_error() {
        Some(GetEngagementInvitationError::ValidationException(e)) => {
            assert_eq!(e.error_list()[0].field_name(), Some("Identifier"));
        }
        other => panic!("expected ValidationException, got {other:?}"),
    }
    emu.finish().await;
}

#[tokio::test]
async fn engagement_invitations_expire_fifteen_days_after_invitation_date() {
    let emu = start_with(builder()).await;
    let client = emu.selling().await;
    emu.ok(
        "POST",
        "/_emulator/engagement-invitations",
        Some(json!({"Catalog": "AWS", "Id": "engi-expiresoon001", "PayloadType": "OpportunityInvitation",
                    "InvitationDate": ts(t0() - chrono::Duration::days(14))})),
    )
    .await;
    let get = || client.get_engagement_invitation().catalog("AWS").identifier("engi-expiresoon001").send();
    let before = get().await.expect("get");
    assert_eq!(before.status(), Some(&InvitationStatus::Pending));
    assert_eq!(before.expiration_date().map(sdk_secs), Some(t0().timestamp() + 86_400));
    emu.ok("POST", "/_emulator/clock/advance", Some(json!({"hours": 23}))).await;
    assert_eq!(get().await.expect("get").status(), Some(&InvitationStatus::Pending));
    emu.ok("POST", "/_emulator/clock/advance", Some(json!({"hours": 1}))).await;
    assert_eq!(get().await.expect("get").status(), Some(&InvitationStatus::Expired));
    let listed =
        list(&client, "AWS", &Filter { participant: "RECEIVER", statuses: vec!["EXPIRED"], ..Filter::default() }).await;
    assert_eq!(listed.len(), 1);
    emu.finish().await;
}
