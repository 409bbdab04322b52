//! The emulator's native Partner Central events, end to end: emulator → PutEvents → moto's
//! default bus → the fast path's rule → SQS. Each test asserts exactly which events arrive.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use harness::aws::{Consumer, native_events_queue, sdk_config};
use harness::moto::Moto;
use http_body_util::{BodyExt, Full};
use partnercentral_local::native::profile_id;
use partnercentral_local::{Emulator, EmulatorHandle, NativeEventsConfig, NativeFaults, SeedDocument};
use serde_json::{Value, json};

const US: &str = "111122223333";
const THEM: &str = "444455556666";
const T0: &str = "2026-11-20T10:00:00Z";
/// Bound of every wait for events; they normally arrive within milliseconds.
const WAIT: Duration = Duration::from_secs(20);

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn conn(id: &str, participant: &str, expires: &str) -> Value {
    json!({"Catalog": "AWS", "Id": format!("pacinv-{id}"), "ConnectionType": "OPPORTUNITY_COLLABORATION",
           "CreatedAt": "2026-11-15T09:00:00Z", "ExpiresAt": expires, "OtherParticipantIdentifier": THEM,
           "ParticipantType": participant, "Status": "PENDING", "InvitationMessage": "Hello",
           "InviterEmail": "ann@example.com", "InviterName": "Ann"})
}

fn eng(id: &str, participant: &str, expires: &str) -> Value {
    let mut e = json!({"Catalog": "AWS", "Id": format!("engi-{id}"), "PayloadType": "OpportunityInvitation",
           "EngagementId": "eng-0123456789abcd", "InvitationDate": "2026-11-15T00:00:00Z",
           "ExpirationDate": expires, "ParticipantType": participant, "Status": "PENDING"});
    if participant == "RECEIVER" {
        e["SenderAwsAccountId"] = json!(THEM);
        e["SenderCompanyName"] = json!("Them Inc");
    } else {
        e["Receiver"] = json!({"Account": {"AwsAccountId": THEM, "Alias": "them"}});
    }
    e
}

const LATER: &str = "2026-11-30T09:00:00Z";
const SOON: &str = "2026-11-21T00:00:00Z";

fn seed() -> SeedDocument {
    let doc = json!({
        "ConnectionInvitations": [
            conn("RECVACCEPT001", "RECEIVER", LATER), conn("RECVREJECT001", "RECEIVER", LATER),
            conn("RECVCANCEL001", "RECEIVER", LATER), conn("SENTACCEPT001", "SENDER", LATER),
            conn("SENTREJECT001", "SENDER", LATER), conn("SENTCANCEL001", "SENDER", LATER),
            conn("RECVEXPIRE001", "RECEIVER", SOON), conn("SENTEXPIRE001", "SENDER", SOON),
        ],
        "EngagementInvitations": [
            eng("rejectbyus001", "RECEIVER", LATER), eng("expires000001", "RECEIVER", SOON),
            eng("acceptedby001", "SENDER", LATER),
        ],
    });
    ok(SeedDocument::from_json(&doc.to_string()))
}

struct World {
    emulator: EmulatorHandle,
    queue: Consumer,
    _moto: Moto,
}

async fn world(faults: NativeFaults) -> World {
    world_with(faults, true, seed()).await
}

async fn world_with(faults: NativeFaults, frozen: bool, seed: SeedDocument) -> World {
    let moto = ok(Moto::start().await);
    let conf = sdk_config(moto.endpoint()).await;
    let queue =
        ok(native_events_queue(&aws_sdk_eventbridge::Client::new(&conf), &aws_sdk_sqs::Client::new(&conf), "AWS")
            .await);
    let emulator = ok(Emulator::builder()
        .listen(([127, 0, 0, 1], 0).into())
        .clock(ok(partnercentral_local::clock::parse_ts(T0)))
        .frozen_clock(frozen)
        .seed(seed)
        .native_events(NativeEventsConfig { faults, ..NativeEventsConfig::new(moto.endpoint()) })
        .spawn()
        .await);
    World { emulator, queue, _moto: moto }
}

impl World {
    async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<Full<Bytes>>();
        let uri = format!("{}/_emulator/{path}", self.emulator.url());
        let request =
            ok(hyper::Request::builder().method(method).uri(&uri).body(Full::new(Bytes::from(body.to_string()))));
        let response = ok(client.request(request).await);
        let status = response.status();
        let bytes = ok(response.into_body().collect().await).to_bytes();
        let value: Value = ok(serde_json::from_slice(&bytes));
        assert!(status.is_success(), "{method} {uri}: {status} {value}");
        value
    }

    async fn counts(&self) -> Value {
        self.control("GET", "native-events", Value::Null).await["counts"].clone()
    }

    /// Wait (bounded) until the emulator has attempted every event it queued; then the
    /// events it sent are in the queue, since moto routes during PutEvents.
    async fn settled(&self) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let c = self.counts().await;
            if c["pending"] == json!(0) {
                return c;
            }
            assert!(tokio::time::Instant::now() < deadline, "native events still pending: {c}");
            tokio::task::yield_now().await;
        }
    }

    async fn account(&self) -> aws_sdk_partnercentralaccount::Client {
        aws_sdk_partnercentralaccount::Client::new(&sdk_config(&self.emulator.url()).await)
    }

    async fn selling(&self) -> aws_sdk_partnercentralselling::Client {
        aws_sdk_partnercentralselling::Client::new(&sdk_config(&self.emulator.url()).await)
    }
}

/// `(detail-type, invitation id)` of each event, sorted.
fn keys(events: &[Value]) -> Vec<(String, String)> {
    let mut k: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            let d = &e["detail"];
            let inv = d.get("connectionInvitation").or_else(|| d.get("engagementInvitation")).unwrap_or(&Value::Null);
            (e["detail-type"].as_str().unwrap_or("?").to_owned(), inv["id"].as_str().unwrap_or("?").to_owned())
        })
        .collect();
    k.sort();
    k
}

fn by_id(events: &[Value]) -> BTreeMap<String, Value> {
    events.iter().map(|e| (keys(std::slice::from_ref(e))[0].1.clone(), e.clone())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_change_arrives_as_the_native_event_our_account_receives_and_our_own_actions_as_none() {
    let w = world(NativeFaults::default()).await;
    let account = w.account().await;
    let selling = w.selling().await;

    // Our own actions.
    let accepted_by_us = ok(account
        .accept_connection_invitation()
        .catalog("AWS")
        .identifier("pacinv-RECVACCEPT001")
        .client_token("a1")
        .send()
        .await);
    ok(account
        .reject_connection_invitation()
        .catalog("AWS")
        .identifier("pacinv-RECVREJECT001")
        .client_token("r1")
        .send()
        .await);
    ok(account
        .cancel_connection_invitation()
        .catalog("AWS")
        .identifier("pacinv-SENTCANCEL001")
        .client_token("c1")
        .send()
        .await);
    ok(account
        .create_connection_invitation()
        .catalog("AWS")
        .client_token("n1")
        .connection_type(aws_sdk_partnercentralaccount::types::ConnectionType::OpportunityCollaboration)
        .email("me@example.com")
        .message("Let us collaborate")
        .name("Pat")
        .receiver_identifier("777788889999")
        .send()
        .await);
    ok(selling.reject_engagement_invitation().catalog("AWS").identifier("engi-rejectbyus001").send().await);
    // The other side's actions and new invitations (control API).
    w.control("PATCH", "connection-invitations/AWS/pacinv-RECVCANCEL001", json!({"Status": "CANCELED"})).await;
    w.control("PATCH", "connection-invitations/AWS/pacinv-SENTACCEPT001", json!({"Status": "ACCEPTED"})).await;
    w.control("PATCH", "connection-invitations/AWS/pacinv-SENTREJECT001", json!({"Status": "REJECTED"})).await;
    w.control("PATCH", "engagement-invitations/AWS/engi-acceptedby001", json!({"Status": "ACCEPTED"})).await;
    w.control("POST", "connection-invitations", conn("RECVNEW000001", "RECEIVER", LATER)).await;
    w.control("POST", "engagement-invitations", eng("newinvite0001", "RECEIVER", LATER)).await;
    // Clock-driven expiry.
    let clock = w.control("POST", "clock/advance", json!({"hours": 15})).await;
    assert_eq!(clock["expired"], json!(3));

    let expected: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = [
            ("Partner Connection Invitation Accepted", "pacinv-RECVACCEPT001"),
            ("Partner Connection Invitation Cancelled", "pacinv-RECVCANCEL001"),
            ("Partner Connection Invitation Accepted", "pacinv-SENTACCEPT001"),
            ("Partner Connection Invitation Rejected", "pacinv-SENTREJECT001"),
            ("Partner Connection Invitation Received", "pacinv-RECVNEW000001"),
            ("Partner Connection Invitation Expired", "pacinv-RECVEXPIRE001"),
            ("Partner Connection Invitation Expired", "pacinv-SENTEXPIRE001"),
            ("Engagement Invitation Rejected", "engi-rejectbyus001"),
            ("Engagement Invitation Accepted", "engi-acceptedby001"),
            ("Engagement Invitation Created", "engi-newinvite0001"),
            ("Engagement Invitation Expired", "engi-expires000001"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        v.sort();
        v
    };
    let events = ok(w.queue.receive(expected.len(), WAIT).await);
    let counts = w.settled().await;
    assert_eq!(counts, json!({"emitted": 11, "dropped": 0, "duplicated": 0, "sent": 11, "failed": 0, "pending": 0}));
    // Every send was attempted and moto routes during PutEvents: nothing else is on its way.
    let extra = ok(w.queue.drain().await);
    assert!(extra.is_empty(), "events beyond the expected ones: {extra:#?}");
    assert_eq!(keys(&events), expected, "{events:#?}");

    for e in &events {
        let source = if e["detail-type"].as_str().is_some_and(|t| t.starts_with("Engagement")) {
            "aws.partnercentral-selling"
        } else {
            "aws.partnercentral-account"
        };
        assert_eq!(e["source"], json!(source));
        assert_eq!(e["region"], json!("us-east-1"));
        assert_eq!(e["detail"]["catalog"], json!("AWS"));
        let inv = e["detail"].get("connectionInvitation").or_else(|| e["detail"].get("engagementInvitation"));
        assert_eq!(e["resources"], json!([inv.map(|i| i["arn"].clone()).unwrap_or_default()]));
    }
    let events = by_id(&events);
    let arn = |kind: &str, id: &str| format!("arn:aws:partnercentral:us-east-1::catalog/AWS/{kind}/{id}");
    assert_eq!(
        events["pacinv-RECVNEW000001"]["detail"],
        json!({"catalog": "AWS", "connectionInvitation": {
            "arn": arn("connection-invitation", "pacinv-RECVNEW000001"), "id": "pacinv-RECVNEW000001",
            "connectionType": "OpportunityCollaboration", "inviterEmail": "ann@example.com",
            "invitationMessage": "Hello", "senderCompanyName": "Ann", "senderProfileId": profile_id(THEM),
            "expiresAt": LATER}})
    );
    assert_eq!(events["pacinv-RECVNEW000001"]["time"], json!(T0));
    let accepted = &events["pacinv-RECVACCEPT001"]["detail"]["connectionInvitation"];
    let connection = &accepted["connection"];
    assert_eq!(
        (&connection["Participant1AccountId"], &connection["Participant2AccountId"], &connection["status"]),
        (&json!(THEM), &json!(US), &json!("ACTIVE"))
    );
    assert!(connection["id"].as_str().is_some_and(|i| i.starts_with("pac-")));
    let answered = accepted_by_us.connection().map(|c| (c.id().to_owned(), c.arn().to_owned()));
    assert_eq!(
        Some((connection["id"].clone(), connection["arn"].clone())),
        answered.map(|(id, arn)| (json!(id), json!(arn))),
        "the event names the connection AcceptConnectionInvitation answered with"
    );
    assert_eq!(connection["arn"], json!(arn("connection", connection["id"].as_str().unwrap_or_default())));
    let sent_accepted = &events["pacinv-SENTACCEPT001"]["detail"]["connectionInvitation"]["connection"];
    assert_eq!(sent_accepted["Participant1AccountId"], json!(US));
    assert_eq!(
        events["pacinv-SENTREJECT001"]["detail"]["connectionInvitation"]["receiverProfileId"],
        json!(profile_id(THEM))
    );
    assert_eq!(
        events["pacinv-RECVCANCEL001"]["detail"]["connectionInvitation"]["senderProfileId"],
        json!(profile_id(THEM))
    );
    let expired = &events["pacinv-SENTEXPIRE001"];
    assert_eq!(expired["time"], json!(SOON), "expired at the expiry instant");
    assert_eq!(
        (
            &expired["detail"]["connectionInvitation"]["senderProfileId"],
            &expired["detail"]["connectionInvitation"]["receiverProfileId"]
        ),
        (&json!(profile_id(US)), &json!(profile_id(THEM)))
    );
    assert_eq!(
        events["engi-newinvite0001"]["detail"],
        json!({"catalog": "AWS", "engagementInvitation": {
            "arn": arn("engagement-invitation", "engi-newinvite0001"), "id": "engi-newinvite0001",
            "engagementId": "eng-0123456789abcd", "senderAccountId": THEM, "receiverAccountId": US,
            "participantType": "Receiver", "payloadType": "OpportunityInvitation",
            "senderCompanyName": "Them Inc", "expirationDate": LATER}})
    );
    let accepted = &events["engi-acceptedby001"]["detail"]["engagementInvitation"];
    assert_eq!(
        (&accepted["participantType"], &accepted["senderAccountId"], &accepted["receiverAccountId"]),
        (&json!("Sender"), &json!(US), &json!(THEM))
    );
    assert!(accepted.get("senderCompanyName").is_none() && accepted.get("expirationDate").is_none());
    assert_eq!(events["engi-rejectbyus001"]["detail"]["engagementInvitation"]["participantType"], json!("Receiver"));
}

#[tokio::test(flavor = "multi_thread")]
async fn dropping_every_native_event_delivers_none() {
    let w = world(NativeFaults { drop_rate: 1.0, ..NativeFaults::default() }).await;
    w.control("PATCH", "connection-invitations/AWS/pacinv-SENTACCEPT001", json!({"Status": "ACCEPTED"})).await;
    w.control("POST", "clock/advance", json!({"days": 1})).await;
    let counts = w.settled().await;
    assert_eq!(counts, json!({"emitted": 4, "dropped": 4, "duplicated": 0, "sent": 0, "failed": 0, "pending": 0}));
    assert!(ok(w.queue.receive(1, Duration::from_secs(1)).await).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicating_every_native_event_delivers_each_twice_and_faults_change_at_run_time() {
    let w = world(NativeFaults::default()).await;
    let status = w.control("POST", "native-events", json!({"duplicate_rate": 1.0, "seed": 5})).await;
    assert_eq!(status["faults"], json!({"drop_rate": 0.0, "duplicate_rate": 1.0, "delay_ms": 0, "seed": 5}));
    assert_eq!((&status["bus"], &status["account_id"]), (&json!("default"), &json!(US)));
    w.control("PATCH", "connection-invitations/AWS/pacinv-SENTREJECT001", json!({"Status": "REJECTED"})).await;
    w.control("POST", "engagement-invitations", eng("newinvite0001", "RECEIVER", LATER)).await;
    let events = ok(w.queue.receive(4, WAIT).await);
    let counts = w.settled().await;
    assert_eq!(counts, json!({"emitted": 2, "dropped": 0, "duplicated": 2, "sent": 4, "failed": 0, "pending": 0}));
    assert!(ok(w.queue.drain().await).is_empty());
    let mut k = keys(&events);
    k.dedup();
    assert_eq!(
        k,
        [
            ("Engagement Invitation Created".to_owned(), "engi-newinvite0001".to_owned()),
            ("Partner Connection Invitation Rejected".to_owned(), "pacinv-SENTREJECT001".to_owned())
        ]
    );
    // The two copies of each are the same event: same detail, time and resources. (moto gives
    // each PutEvents entry its own `id`; see the README on duplicates.)
    let strip = |e: &Value| {
        let mut e = e.clone();
        if let Some(m) = e.as_object_mut() {
            m.retain(|k, _| !matches!(k.as_str(), "id" | "ingestion-time"));
        }
        e
    };
    let mut bodies: Vec<String> = events.iter().map(|e| strip(e).to_string()).collect();
    bodies.sort();
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[2], bodies[3]);
    assert_ne!(bodies[1], bodies[2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn delayed_native_events_all_arrive() {
    let w = world(NativeFaults { delay_ms: 300, seed: 9, ..NativeFaults::default() }).await;
    for id in ["pacinv-SENTACCEPT001", "pacinv-RECVACCEPT001"] {
        w.control("PATCH", &format!("connection-invitations/AWS/{id}"), json!({"Status": "ACCEPTED"})).await;
    }
    let events = ok(w.queue.receive(2, WAIT).await);
    assert_eq!(
        keys(&events),
        [
            ("Partner Connection Invitation Accepted".to_owned(), "pacinv-RECVACCEPT001".to_owned()),
            ("Partner Connection Invitation Accepted".to_owned(), "pacinv-SENTACCEPT001".to_owned())
        ]
    );
    assert_eq!(w.settled().await["sent"], json!(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_clock_expires_invitations_on_time_without_any_request() {
    // The clock runs from T0; the invitation expires a second later. Nothing calls the
    // emulator: only its own ticker can notice the expiry.
    let doc = json!({"EngagementInvitations": [eng("expires000001", "RECEIVER", "2026-11-20T10:00:01Z")]});
    let w = world_with(NativeFaults::default(), false, ok(SeedDocument::from_json(&doc.to_string()))).await;
    let events = ok(w.queue.receive(1, WAIT).await);
    assert_eq!(keys(&events), [("Engagement Invitation Expired".to_owned(), "engi-expires000001".to_owned())]);
    assert_eq!(events[0]["time"], json!("2026-11-20T10:00:01Z"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_accept_emits_nothing_and_the_answers_that_follow_emit_their_events() {
    let w = world(NativeFaults::default()).await;
    let account = w.account().await;
    // No room for a new connection: Partner Central refuses the accept, and nothing changes.
    w.control("POST", "quotas", json!({"active_connections": 0})).await;
    let accept = || {
        account
            .accept_connection_invitation()
            .catalog("AWS")
            .identifier("pacinv-RECVACCEPT001")
            .client_token("q1")
            .send()
    };
    let refused = accept().await.expect_err("over the active-connection limit");
    assert!(
        matches!(
            refused.as_service_error(),
            Some(aws_sdk_partnercentralaccount::operation::accept_connection_invitation::AcceptConnectionInvitationError::ServiceQuotaExceededException(_))
        ),
        "{refused:?}"
    );
    assert_eq!(w.settled().await["emitted"], json!(0), "a refused answer is no change");
    // Room again: the same token accepts; and an acceptance task accepts a referral.
    w.control("POST", "quotas", json!({"active_connections": 1})).await;
    let accepted = ok(accept().await);
    let selling = w.selling().await;
    ok(selling
        .start_engagement_by_accepting_invitation_task()
        .catalog("AWS")
        .identifier("engi-rejectbyus001")
        .client_token("t1")
        .send()
        .await);
    let ended = w.control("POST", "clock/advance", json!({"seconds": 5})).await;
    assert_eq!(ended["tasks_ended"], json!(1));
    let events = ok(w.queue.receive(2, WAIT).await);
    assert_eq!(w.settled().await["emitted"], json!(2));
    assert_eq!(
        keys(&events),
        [
            ("Engagement Invitation Accepted".to_owned(), "engi-rejectbyus001".to_owned()),
            ("Partner Connection Invitation Accepted".to_owned(), "pacinv-RECVACCEPT001".to_owned()),
        ]
    );
    let by = by_id(&events);
    let connection = &by["pacinv-RECVACCEPT001"]["detail"]["connectionInvitation"]["connection"];
    assert_eq!(connection["id"], json!(accepted.connection().map(|c| c.id().to_owned())));
}
