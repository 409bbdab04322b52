//! The wire protocol as AWS speaks it, the response contract, the control API and the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use partnercentral_local::{Direction, Models};
use serde_json::{Value, json};

use crate::common::*;

const ACCOUNT: &str = "PartnerCentralAccount";
const SELLING: &str = "AWSPartnerCentralSelling";

#[tokio::test]
async fn unknown_operations_targets_paths_and_bodies() {
    let (emu, _, _) = start().await;
    for target in [
        format!("{ACCOUNT}.GetPartner"),
        format!("{SELLING}.ListOpportunities"),
        format!("{ACCOUNT}.NoSuchThing"),
        "SomeOtherService.ListThings".to_owned(),
    ] {
        let (s, v) = emu.aws(&target, json!({})).await;
        assert_eq!((s, v["__type"].as_str()), (400, Some("UnknownOperationException")), "{target}: {v}");
    }
    let (s, _, v) = emu.raw("POST", "/", &[("content-type", "application/x-amz-json-1.0")], "{}").await;
    assert_eq!((s, v["__type"].as_str()), (400, Some("UnknownOperationException")), "no target");
    for (method, path) in [("GET", "/"), ("POST", "/elsewhere"), ("PUT", "/")] {
        let (s, _, v) =
            emu.raw(method, path, &[("x-amz-target", "PartnerCentralAccount.GetConnectionInvitation")], "{}").await;
        assert_eq!((s, v["__type"].as_str()), (404, Some("UnknownOperationException")), "{method} {path}");
    }
    let (s, v) = emu
        .raw("POST", "/", &[("x-amz-target", "PartnerCentralAccount.GetConnectionInvitation")], "{nope")
        .await
        .pipe(|(s, _, v)| (s, v));
    assert_eq!((s, v["__type"].as_str()), (400, Some("SerializationException")), "{v}");
    let stats = emu.stats().await;
    assert_eq!(stats["errors"]["UnknownOperationException"], 8, "{stats}");
    emu.finish().await;
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

#[tokio::test]
async fn wire_format_timestamps_and_error_bodies() {
    let (emu, _, _) = start().await;
    let (s, v) = emu
        .aws(
            &format!("{ACCOUNT}.GetConnectionInvitation"),
            json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000000"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["CreatedAt"], "2026-11-20T09:00:00Z", "iso8601 strings, not epoch numbers");
    assert_eq!(v["ExpiresAt"], "2026-11-21T10:00:00Z");
    let (s, v) = emu
        .aws(
            &format!("{ACCOUNT}.CancelConnectionInvitation"),
            json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000000", "ClientToken": "t1"}),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["__type"], "ConflictException");
    assert_eq!(v["Reason"], "INCOMPATIBLE_CONNECTION_INVITATION_STATE");
    assert_eq!(v["message"], v["Message"]);
    let (s, v) =
        emu.aws(&format!("{SELLING}.ListEngagementInvitations"), json!({"Catalog": "AWS", "MaxResults": 500})).await;
    assert_eq!(s, 400);
    assert_eq!(v["__type"], "ValidationException");
    assert_eq!(v["Reason"], "REQUEST_VALIDATION_FAILED");
    let mut fields: Vec<&str> =
        v["ErrorList"].as_array().expect("ErrorList").iter().filter_map(|e| e["FieldName"].as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["MaxResults", "ParticipantType"], "{v}");
    // Unknown members are ignored, as AWS does for JSON protocols.
    let (s, _) = emu
        .aws(
            &format!("{SELLING}.GetEngagementInvitation"),
            json!({"Catalog": "AWS", "Identifier": "engi-a000000000000", "FutureMember": [1, 2]}),
        )
        .await;
    assert_eq!(s, 200);
    emu.finish().await;
}

/// Every operation, raw on the wire, success and error: each body checked against the model's
/// output (or error) shape here in the test as well as inside the emulator.
#[tokio::test]
async fn every_response_conforms_to_the_model() {
    let (emu, _, _) = start().await;
    let models = Models::shared().expect("models");
    let calls: Vec<(&str, &str, Value)> = vec![
        (ACCOUNT, "ListConnectionInvitations", json!({"Catalog": "AWS", "MaxResults": 3})),
        (ACCOUNT, "ListConnectionInvitations", json!({"Catalog": "AWS", "MaxResults": 0})),
        (ACCOUNT, "GetConnectionInvitation", json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000001"})),
        (ACCOUNT, "GetConnectionInvitation", json!({"Catalog": "AWS", "Identifier": "pacinv-XXXXXXXXXXXXX"})),
        (
            ACCOUNT,
            "CreateConnectionInvitation",
            json!({"Catalog": "AWS", "ClientToken": "c1",
            "ConnectionType": "SUBSIDIARY", "Email": "a@example.com", "Message": "m", "Name": "n",
            "ReceiverIdentifier": "123456789012"}),
        ),
        (ACCOUNT, "CreateConnectionInvitation", json!({"Catalog": "AWS", "ClientToken": "c1"})),
        (
            ACCOUNT,
            "CancelConnectionInvitation",
            json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000005", "ClientToken": "c2"}),
        ),
        (
            ACCOUNT,
            "CancelConnectionInvitation",
            json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000005", "ClientToken": "c3"}),
        ),
        (
            ACCOUNT,
            "AcceptConnectionInvitation",
            json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000000", "ClientToken": "c4"}),
        ),
        (
            ACCOUNT,
            "AcceptConnectionInvitation",
            json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000000", "ClientToken": "c5"}),
        ),
        (
            ACCOUNT,
            "RejectConnectionInvitation",
            json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000010", "ClientToken": "c6", "Reason": "no"}),
        ),
        (
            ACCOUNT,
            "RejectConnectionInvitation",
            json!({"Catalog": "AWS", "Identifier": "pacinv-A000000000010", "ClientToken": "c6"}),
        ),
        (
            SELLING,
            "ListEngagementInvitations",
            json!({"Catalog": "AWS", "ParticipantType": "RECEIVER", "MaxResults": 2}),
        ),
        (SELLING, "ListEngagementInvitations", json!({"Catalog": "AWS"})),
        (SELLING, "GetEngagementInvitation", json!({"Catalog": "AWS", "Identifier": "engi-a000000000001"})),
        (SELLING, "GetEngagementInvitation", json!({"Catalog": "AWS", "Identifier": "engi-zzzzzzzzzzzzz"})),
        (
            SELLING,
            "RejectEngagementInvitation",
            json!({"Catalog": "AWS", "Identifier": "engi-a000000000004", "RejectionReason": "no"}),
        ),
        (SELLING, "RejectEngagementInvitation", json!({"Catalog": "AWS", "Identifier": "engi-a000000000004"})),
    ];
    let mut ok_ops = std::collections::BTreeSet::new();
    for (prefix, op, body) in calls {
        let (s, v) = emu.aws(&format!("{prefix}.{op}"), body.clone()).await;
        let model = if prefix == ACCOUNT { &models.account } else { &models.selling };
        let operation = model.operation(op).expect("operation in model");
        let violations = if s == 200 {
            ok_ops.insert(op);
            match &operation.output {
                Some(shape) => model.validate(shape, &v, Direction::Output),
                None => {
                    assert_eq!(v, json!({}), "{op} has no output shape");
                    vec![]
                }
            }
        } else {
            let t = v["__type"].as_str().expect("__type");
            assert!(operation.errors.iter().any(|e| e == t), "{t} is a modeled error of {op}");
            assert_eq!(s == 500, model.shape(t).is_some_and(|x| x.fault));
            model.validate_except(t, &v, Direction::Output, &["__type", "message"])
        };
        assert!(violations.is_empty(), "{op} {body}: {s} {v}: {violations:?}");
    }
    assert_eq!(ok_ops.len(), 9, "all nine operations answered successfully once: {ok_ops:?}");
    emu.finish().await;
}

#[tokio::test]
async fn control_api_endpoints() {
    let emu = start_with(builder()).await;
    let h = emu.ok("GET", "/_emulator/health", None).await;
    assert_eq!((h["status"].as_str(), h["connection_invitations"].as_u64()), (Some("ok"), Some(0)));
    assert_eq!(emu.ok("GET", "/_emulator/clock", None).await["now"], T0);
    let set = emu.ok("POST", "/_emulator/clock", Some(json!({"now": "2027-01-01T00:00:00Z"}))).await;
    assert_eq!(set["now"], "2027-01-01T00:00:00Z");
    let adv = emu.ok("POST", "/_emulator/clock/advance", Some(json!({"seconds": 90}))).await;
    assert_eq!(adv["now"], "2027-01-01T00:01:30Z");
    // Upsert with a model violation: the error names the field.
    let (s, v) = emu
        .control(
            "POST",
            "/_emulator/connection-invitations",
            Some(json!({
            "Catalog": "AWS", "Id": "pacinv-C000000000001", "ConnectionType": "SUBSIDIARY",
            "CreatedAt": "2027-01-01T00:00:00Z", "OtherParticipantIdentifier": "123456789012",
            "ParticipantType": "SENDER", "Status": "PENDING", "InvitationMessage": "hi",
            "InviterEmail": "bad", "InviterName": "Me"})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["violations"][0]["path"], "(body).InviterEmail", "{v}");
    let c = emu
        .ok(
            "POST",
            "/_emulator/connection-invitations",
            Some(json!({
            "Catalog": "AWS", "Id": "pacinv-C000000000001", "ConnectionType": "SUBSIDIARY",
            "CreatedAt": "2027-01-01T00:00:00Z", "OtherParticipantIdentifier": "123456789012",
            "ParticipantType": "SENDER", "Status": "PENDING", "InvitationMessage": "hi",
            "InviterEmail": "me@example.com", "InviterName": "Me"})),
        )
        .await;
    assert_eq!(c["ExpiresAt"], "2027-01-16T00:00:00Z");
    let path = "/_emulator/connection-invitations/AWS/pacinv-C000000000001";
    let p = emu.ok("PATCH", path, Some(json!({"Status": "ACCEPTED"}))).await;
    assert_eq!((p["Status"].as_str(), p["UpdatedAt"].as_str()), (Some("ACCEPTED"), Some("2027-01-01T00:01:30Z")));
    let (s, _) = emu.control("PATCH", path, Some(json!({"Id": "pacinv-C000000000002"}))).await;
    assert_eq!(s, 400, "ids are immutable");
    assert_eq!(emu.ok("GET", path, None).await["Status"], "ACCEPTED");
    let all = emu.ok("GET", "/_emulator/connection-invitations?catalog=AWS", None).await;
    assert_eq!(all["ConnectionInvitations"].as_array().map(Vec::len), Some(1));
    let pending = emu.ok("GET", "/_emulator/connection-invitations?catalog=AWS&status=PENDING", None).await;
    assert_eq!(pending["ConnectionInvitations"].as_array().map(Vec::len), Some(0), "the only one is ACCEPTED");
    let accepted = emu.ok("GET", "/_emulator/connection-invitations?status=ACCEPTED", None).await;
    assert_eq!(accepted["ConnectionInvitations"].as_array().map(Vec::len), Some(1));
    emu.ok("DELETE", path, None).await;
    assert_eq!(emu.control("GET", path, None).await.0, 404);
    let e = emu
        .ok(
            "POST",
            "/_emulator/engagement-invitations",
            Some(json!({"Catalog": "Sandbox", "Id": "engi-c00000000001a"})),
        )
        .await;
    assert_eq!(e["ExpirationDate"], "2027-01-16T00:01:30Z");
    let epath = "/_emulator/engagement-invitations/Sandbox/engi-c00000000001a";
    let ep = emu.ok("PATCH", epath, Some(json!({"ExpirationDate": "2027-01-01T00:00:00Z"}))).await;
    assert_eq!(ep["Status"], "EXPIRED", "a past expiry expires at once: {ep}");
    let f = emu.ok("GET", "/_emulator/faults", None).await;
    assert_eq!(f["rate_limit"], Value::Null);
    let r = emu.ok("POST", "/_emulator/reset", Some(json!({"now": "2026-01-01T00:00:00Z"}))).await;
    assert_eq!((r["now"].as_str(), r["engagement_invitations"].as_u64()), (Some("2026-01-01T00:00:00Z"), Some(0)));
    let r = emu.ok("POST", "/_emulator/reset", None).await;
    assert_eq!(r["now"], T0, "reset goes back to the start clock");
    assert_eq!(emu.control("GET", "/_emulator/nope", None).await.0, 404);
    assert_eq!(emu.control("DELETE", "/_emulator/health", None).await.0, 405);
    let (s, v) = emu
        .control(
            "POST",
            "/_emulator/seed",
            Some(json!({"EngagementInvitations": [{"Catalog": "AWS", "Id": "engi-bad", "Status": "CANCELED"}]})),
        )
        .await;
    assert_eq!(s, 400);
    let paths: Vec<&str> =
        v["violations"].as_array().expect("violations").iter().filter_map(|x| x["path"].as_str()).collect();
    assert!(paths.contains(&"EngagementInvitations[0].Id"), "{v}");
    emu.finish().await;
}

#[tokio::test]
async fn reset_can_restore_the_start_data() {
    let (emu, fix, engs) = start().await;
    emu.ok("POST", "/_emulator/reset", None).await;
    assert_eq!(emu.ok("GET", "/_emulator/health", None).await["connection_invitations"], 0);
    let r = emu.ok("POST", "/_emulator/reset", Some(json!({"reseed": true}))).await;
    assert_eq!(r["connection_invitations"].as_u64(), Some(fix.len() as u64));
    assert_eq!(r["engagement_invitations"].as_u64(), Some(engs.len() as u64));
    emu.finish().await;
}

#[tokio::test]
async fn generated_account_serves_the_sdk() {
    let emu = start_with(builder().generate(partnercentral_local::GenerateConfig {
        seed: 5,
        engagements: 300,
        connections: 80,
        catalogs: partnercentral_local::CatalogChoice::Both,
    }))
    .await;
    let h = emu.ok("GET", "/_emulator/health", None).await;
    assert_eq!(h["engagement_invitations"], 600);
    let selling = emu.selling().await;
    let mut pages = selling
        .list_engagement_invitations()
        .catalog("Sandbox")
        .participant_type(aws_sdk_partnercentralselling::types::ParticipantType::Receiver)
        .max_results(100)
        .into_paginator()
        .send();
    let mut n = 0;
    let mut first_id = None;
    while let Some(p) = pages.next().await {
        for s in p.expect("page").engagement_invitation_summaries() {
            n += 1;
            first_id.get_or_insert_with(|| s.id().to_owned());
        }
    }
    assert!(n > 150, "most generated invitations are received ones: {n}");
    let got = selling
        .get_engagement_invitation()
        .catalog("Sandbox")
        .identifier(first_id.expect("one"))
        .send()
        .await
        .expect("get");
    assert!(got.payload().is_some(), "generated invitations carry payloads");
    let account = emu.account().await;
    let list = account.list_connection_invitations().catalog("AWS").max_results(100).send().await.expect("list");
    assert_eq!(list.connection_invitation_summaries().len(), 80);
    emu.finish().await;
}

/// The binary: one readiness line on stdout, a working server, clean exit on SIGTERM.
#[tokio::test]
async fn binary_prints_readiness_line_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnercentral-local"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--generate",
            "--engagements",
            "30",
            "--connections",
            "10",
            "--clock",
            T0,
            "--freeze-clock",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start binary");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        line
    })
    .await
    .expect("reader");
    let addr = line
        .trim()
        .strip_prefix("partnercentral-local listening on ")
        .unwrap_or_else(|| panic!("readiness line: {line:?}"))
        .to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let req = http::Request::get("/_emulator/health")
        .header("host", &addr)
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .expect("req");
    let resp = sender.send_request(req).await.expect("health");
    assert_eq!(resp.status(), 200);
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.expect("join").expect("wait");
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
}
