//! Pagination through the SDKs' own paginators: complete, no duplicates, stable under
//! concurrent inserts and modifications, tokens bound to their query.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_partnercentralaccount::operation::list_connection_invitations::ListConnectionInvitationsError;
use aws_sdk_partnercentralaccount::types::{InvitationStatus, ParticipantType};
use aws_sdk_partnercentralselling::operation::list_engagement_invitations::ListEngagementInvitationsError;
use aws_sdk_partnercentralselling::types::{
    OpportunityEngagementInvitationSort, OpportunityEngagementInvitationSortName,
    ParticipantType as SellingParticipant, SortOrder,
};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn connection_paginator_covers_the_filtered_set_exactly_once() {
    let (emu, fix, _) = start().await;
    let client = emu.account().await;
    for max in [1, 7, 100] {
        for ptype in [None, Some("RECEIVER")] {
            let mut req = client.list_connection_invitations().catalog("AWS").max_results(max);
            if let Some(p) = ptype {
                req = req.participant_type(ParticipantType::from(p));
            }
            let mut pages = req.into_paginator().send();
            let mut ids = Vec::new();
            let mut n_pages = 0;
            while let Some(page) = pages.next().await {
                let page = page.expect("page");
                assert!(page.connection_invitation_summaries().len() <= max as usize);
                n_pages += 1;
                ids.extend(page.connection_invitation_summaries().iter().map(|s| s.id().to_owned()));
            }
            let unique: BTreeSet<&String> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "no duplicates (MaxResults {max})");
            let expected: BTreeSet<&String> = fix
                .iter()
                .filter(|c| c.catalog == "AWS" && ptype.is_none_or(|p| c.participant == p))
                .map(|c| &c.id)
                .collect();
            assert_eq!(unique, expected, "MaxResults {max}, ParticipantType {ptype:?}");
            assert_eq!(n_pages, expected.len().div_ceil(max as usize), "no empty trailing page");
        }
    }
    emu.finish().await;
}

#[tokio::test]
async fn engagement_paginator_covers_the_filtered_set_in_order() {
    let (emu, _, fix) = start().await;
    let client = emu.selling().await;
    for max in [1, 7, 100] {
        for order in [SortOrder::Ascending, SortOrder::Descending] {
            let mut pages = client
                .list_engagement_invitations()
                .catalog("AWS")
                .participant_type(SellingParticipant::Receiver)
                .sort(
                    OpportunityEngagementInvitationSort::builder()
                        .sort_by(OpportunityEngagementInvitationSortName::InvitationDate)
                        .sort_order(order.clone())
                        .build()
                        .expect("sort"),
                )
                .max_results(max)
                .into_paginator()
                .send();
            let mut got = Vec::new();
            while let Some(page) = pages.next().await {
                for s in page.expect("page").engagement_invitation_summaries() {
                    got.push((s.invitation_date().map(sdk_secs).unwrap_or_default(), s.id().to_owned()));
                }
            }
            let mut want: Vec<(i64, String)> = fix
                .iter()
                .filter(|e| e.catalog == "AWS" && e.participant == "RECEIVER")
                .map(|e| (e.date, e.id.clone()))
                .collect();
            want.sort();
            if order == SortOrder::Descending {
                want.reverse();
            }
            assert_eq!(got, want, "MaxResults {max}, {order:?}");
        }
    }
    emu.finish().await;
}

#[tokio::test]
async fn inserts_and_changes_between_pages_neither_repeat_nor_skip() {
    let (emu, fix, _) = start().await;
    let client = emu.account().await;
    let pre_existing: BTreeSet<String> = fix.iter().filter(|c| c.catalog == "AWS").map(|c| c.id.clone()).collect();
    for max in [1, 7] {
        emu.ok("POST", "/_emulator/reset", Some(json!({"reseed": false}))).await;
        let (doc, _, _) = fixture();
        emu.ok("POST", "/_emulator/seed", Some(serde_json::to_value(&doc).expect("doc"))).await;
        let mut pages = client.list_connection_invitations().catalog("AWS").max_results(max).into_paginator().send();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut page_no = 0;
        while let Some(page) = pages.next().await {
            for s in page.expect("page").connection_invitation_summaries() {
                *seen.entry(s.id().to_owned()).or_default() += 1;
            }
            page_no += 1;
            // Between pages: insert newer, older and equal-timestamp items, and modify
            // pre-existing ones (status, expiry) — all through the control API.
            let created = [
                t0() + chrono::Duration::hours(1),
                t0() - chrono::Duration::hours(100),
                t0() - chrono::Duration::hours(3),
            ];
            let c = created[page_no % 3];
            let new_id = format!("pacinv-N{max:02}{page_no:010}");
            emu.ok(
                "POST",
                "/_emulator/connection-invitations",
                Some(json!({
                    "Catalog": "AWS", "Id": new_id, "ConnectionType": "SUBSIDIARY",
                    "CreatedAt": ts(c), "OtherParticipantIdentifier": "777777777777",
                    "ParticipantType": "RECEIVER", "Status": "PENDING",
                    "InvitationMessage": "inserted", "InviterEmail": "n@example.com",
                    "InviterName": "New"})),
            )
            .await;
            let victim = format!("pacinv-A{:012}", (page_no * 3) % 40);
            emu.ok(
                "PATCH",
                &format!("/_emulator/connection-invitations/AWS/{victim}"),
                Some(json!({"Status": "REJECTED", "ExpiresAt": ts(t0() + chrono::Duration::days(30))})),
            )
            .await;
            if page_no == 2 {
                let created = client
                    .create_connection_invitation()
                    .catalog("AWS")
                    .client_token(format!("tok-page-{max}"))
                    .connection_type(aws_sdk_partnercentralaccount::types::ConnectionType::Subsidiary)
                    .email("me@example.com")
                    .message("hi")
                    .name("Me")
                    .receiver_identifier("888888888888")
                    .send()
                    .await
                    .expect("create between pages");
                assert_eq!(created.status(), &InvitationStatus::Pending);
            }
        }
        for id in &pre_existing {
            assert_eq!(seen.get(id), Some(&1), "pre-existing {id} seen exactly once (MaxResults {max})");
        }
        assert!(seen.values().all(|n| *n == 1), "no item repeated (MaxResults {max})");
    }
    emu.finish().await;
}

#[tokio::test]
async fn tokens_are_bound_to_their_query() {
    let (emu, _, _) = start().await;
    let account = emu.account().await;
    let first = account.list_connection_invitations().catalog("AWS").max_results(5).send().await.expect("page 1");
    let token = first.next_token().expect("token").to_owned();
    // Same query with a different page size: fine.
    let second = account
        .list_connection_invitations()
        .catalog("AWS")
        .max_results(9)
        .next_token(&token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(second.connection_invitation_summaries().len(), 9);
    for (catalog, status, tok) in [
        ("Sandbox", None, token.clone()),
        ("AWS", Some(InvitationStatus::Pending), token.clone()),
        ("AWS", None, "garbage".to_owned()),
    ] {
        let err = account
            .list_connection_invitations()
            .catalog(catalog)
            .set_status(status)
            .next_token(tok)
            .send()
            .await
            .expect_err("foreign token");
        match err.as_service_error() {
            Some(ListConnectionInvitationsError::ValidationException(e)) => {
                let f = e.error_details()[0].as_field_validation_error().expect("field");
                assert_eq!(f.name(), "NextToken");
            }
            other => panic!("expected ValidationException, got {other:?}"),
        }
    }
    let selling = emu.selling().await;
    let err = selling
        .list_engagement_invitations()
        .catalog("AWS")
        .participant_type(SellingParticipant::Receiver)
        .next_token(token)
        .send()
        .await
        .expect_err("an Account API token is not a Selling API token");
    match err.as_service_error() {
        Some(ListEngagementInvitationsError::ValidationException(e)) => {
            assert_eq!(e.error_list()[0].field_name(), Some("NextToken"));
        }
        other => panic!("expected ValidationException, got {other:?}"),
    }
    emu.finish().await;
}
