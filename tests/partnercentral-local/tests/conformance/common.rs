//! Shared test helpers: a seeded emulator, SDK clients, the control API, raw HTTP.

#![allow(dead_code)]

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_partnercentralaccount::config::{Credentials, Region};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use partnercentral_local::{Emulator, EmulatorBuilder, EmulatorHandle, FaultConfig, SeedDocument};
use serde_json::{Value, json};

/// The frozen clock every test starts at.
pub const T0: &str = "2026-11-20T10:00:00Z";

pub fn t0() -> chrono::DateTime<chrono::Utc> {
    partnercentral_local::clock::parse_ts(T0).expect("T0")
}

/// Seconds since the epoch of an RFC 3339 string (for comparing with SDK `DateTime`s).
pub fn secs(rfc3339: &str) -> i64 {
    partnercentral_local::clock::parse_ts(rfc3339).expect("timestamp").timestamp()
}

pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    partnercentral_local::clock::fmt_ts(&t)
}

/// One connection invitation of the fixture, as the test expects it.
#[derive(Debug, Clone)]
pub struct ConnFix {
    pub catalog: &'static str,
    pub id: String,
    pub created_at: i64,
    pub status: &'static str,
    pub participant: &'static str,
    pub ctype: &'static str,
    pub other: &'static str,
}

/// One engagement invitation of the fixture.
#[derive(Debug, Clone)]
pub struct EngFix {
    pub catalog: &'static str,
    pub id: String,
    pub date: i64,
    pub status: &'static str,
    pub participant: &'static str,
    pub payload: &'static str,
    pub engagement: String,
    pub sender: &'static str,
}

pub const CONN_STATUSES: [&str; 5] = ["PENDING", "ACCEPTED", "REJECTED", "CANCELED", "EXPIRED"];
pub const OTHERS: [&str; 4] = ["111111111111", "222222222222", "333333333333", "partner-x"];
pub const ENG_STATUSES: [&str; 4] = ["PENDING", "ACCEPTED", "REJECTED", "EXPIRED"];
pub const SENDERS: [&str; 3] = ["111111111111", "222222222222", "AWS"];

/// The standard fixture: 40 + 5 connection invitations, 60 + 4 engagement invitations
/// (AWS + Sandbox), with CreatedAt/InvitationDate ties to exercise tie-breaking.
pub fn fixture() -> (SeedDocument, Vec<ConnFix>, Vec<EngFix>) {
    let t0 = t0();
    let mut conns = Vec::new();
    let mut conn_json = Vec::new();
    for (catalog, n) in [("AWS", 40usize), ("Sandbox", 5)] {
        for i in 0..n {
            let created = t0 - chrono::Duration::hours((i / 2) as i64 + 1);
            let status = CONN_STATUSES[i % 5];
            let participant = if i % 2 == 0 { "RECEIVER" } else { "SENDER" };
            let ctype = if i % 3 == 0 { "SUBSIDIARY" } else { "OPPORTUNITY_COLLABORATION" };
            let other = OTHERS[i % 4];
            let id = format!("pacinv-{}{:012}", if catalog == "AWS" { "A" } else { "S" }, i);
            let expires = if status == "PENDING" {
                t0 + chrono::Duration::days(i as i64 + 1)
            } else {
                created + chrono::Duration::days(15)
            };
            conn_json.push(json!({
                "Catalog": catalog, "Id": id, "ConnectionType": ctype,
                "CreatedAt": ts(created), "UpdatedAt": ts(created), "ExpiresAt": ts(expires),
                "OtherParticipantIdentifier": other, "ParticipantType": participant,
                "Status": status, "InvitationMessage": format!("Let's connect #{i}"),
                "InviterEmail": format!("inviter{i}@example.com"), "InviterName": format!("Inviter {i}"),
            }));
            conns.push(ConnFix { catalog, id, created_at: created.timestamp(), status, participant, ctype, other });
        }
    }
    let mut engs = Vec::new();
    let mut eng_json = Vec::new();
    for (catalog, n) in [("AWS", 60usize), ("Sandbox", 4)] {
        for i in 0..n {
            let date = t0 - chrono::Duration::hours(5 * (i / 3) as i64 + 1);
            let status = ENG_STATUSES[i % 4];
            let participant = if i % 3 == 0 { "SENDER" } else { "RECEIVER" };
            let payload = if i % 2 == 0 { "OpportunityInvitation" } else { "LeadInvitation" };
            let engagement = format!("eng-{:014}", i % 10);
            let sender = SENDERS[i % 3];
            let id = format!("engi-{}{:012}", if catalog == "AWS" { "a" } else { "s" }, i);
            eng_json.push(json!({
                "Catalog": catalog, "Id": id, "PayloadType": payload,
                "EngagementId": engagement, "EngagementTitle": format!("Engagement {i}"),
                "Status": status, "InvitationDate": ts(date),
                "SenderAwsAccountId": sender, "SenderCompanyName": format!("Sender {sender}"),
                "Receiver": {"Account": {"AwsAccountId": "999999999999", "Alias": "us"}},
                "ParticipantType": participant,
                "InvitationMessage": format!("Join engagement {i}"),
            }));
            engs.push(EngFix { catalog, id, date: date.timestamp(), status, participant, payload, engagement, sender });
        }
    }
    let doc = SeedDocument { connection_invitations: conn_json, engagement_invitations: eng_json };
    (doc, conns, engs)
}

/// A running emulator for one test.
pub struct Emu {
    pub handle: EmulatorHandle,
    pub url: String,
}

/// The builder every test starts from: frozen clock at [`T0`], responses validated.
pub fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .listen("127.0.0.1:0".parse().expect("addr"))
        .clock(t0())
        .frozen_clock(true)
        .validate_responses(true)
}

/// Start with the standard fixture.
pub async fn start() -> (Emu, Vec<ConnFix>, Vec<EngFix>) {
    let (doc, c, e) = fixture();
    (start_with(builder().seed(doc)).await, c, e)
}

pub async fn start_with(b: EmulatorBuilder) -> Emu {
    let handle = b.spawn().await.expect("emulator starts");
    let url = handle.url();
    Emu { handle, url }
}

async fn sdk_config(url: &str, retry: RetryConfig) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(url)
        .retry_config(retry)
        .load()
        .await
}

/// Retries off: the first answer is what the test sees.
pub fn no_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(1)
}

/// Standard retries with short back-off (fault-injection tests).
pub fn fast_retries(max_attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

impl Emu {
    pub async fn account(&self) -> aws_sdk_partnercentralaccount::Client {
        aws_sdk_partnercentralaccount::Client::new(&sdk_config(&self.url, no_retries()).await)
    }

    pub async fn selling(&self) -> aws_sdk_partnercentralselling::Client {
        aws_sdk_partnercentralselling::Client::new(&sdk_config(&self.url, no_retries()).await)
    }

    pub async fn account_with(&self, retry: RetryConfig) -> aws_sdk_partnercentralaccount::Client {
        aws_sdk_partnercentralaccount::Client::new(&sdk_config(&self.url, retry).await)
    }

    pub async fn selling_with(&self, retry: RetryConfig) -> aws_sdk_partnercentralselling::Client {
        aws_sdk_partnercentralselling::Client::new(&sdk_config(&self.url, retry).await)
    }

    /// A raw HTTP/1.1 request; returns status, headers and the body (JSON, or a string).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, http::HeaderMap, Value) {
        let stream = tokio::net::TcpStream::connect(self.handle.addr()).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(conn);
        let mut req = http::Request::builder().method(method).uri(path).header("host", self.handle.addr().to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::from(body.to_owned()))).expect("request");
        let resp = sender.send_request(req).await.expect("response");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, v)
    }

    /// A raw AWS JSON request (`POST /`, `X-Amz-Target`).
    pub async fn aws(&self, target: &str, body: Value) -> (u16, Value) {
        let (s, h, v) = self
            .raw(
                "POST",
                "/",
                &[("x-amz-target", target), ("content-type", "application/x-amz-json-1.0")],
                &body.to_string(),
            )
            .await;
        assert_eq!(
            h.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/x-amz-json-1.0"),
            "AWS responses carry the awsJson1_0 content type"
        );
        (s, v)
    }

    /// A control API call.
    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let b = body.map(|v| v.to_string()).unwrap_or_default();
        let (s, _, v) = self.raw(method, path, &[("content-type", "application/json")], &b).await;
        (s, v)
    }

    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.control(method, path, body).await;
        assert_eq!(s, 200, "{method} {path}: {v}");
        v
    }

    pub async fn stats(&self) -> Value {
        self.ok("GET", "/_emulator/stats", None).await
    }

    /// End of test: no response the emulator produced violated the model; then stop.
    pub async fn finish(self) {
        let stats = self.stats().await;
        assert_eq!(stats["response_violations"], 0, "every response must conform to the model: {stats}");
        self.handle.shutdown().await.expect("clean shutdown");
    }
}

/// Unwrap the SDK `DateTime` as epoch seconds.
pub fn sdk_secs(t: &aws_smithy_types::DateTime) -> i64 {
    t.secs()
}

/// Turn a fault config into the JSON the control API takes.
pub fn faults_json(f: &FaultConfig) -> Value {
    serde_json::to_value(f).expect("faults json")
}
