//! End to end: a cancellation policy larger than Lambda's 4 KB environment, kept in an SSM
//! parameter on moto (`AWS_ENDPOINT_URL_SSM`, the SDK's standard variable), read by the built
//! `auto-cancel` binary at start-up, validated, its hash logged and used like an inline policy.

use std::path::Path;
use std::time::Duration;

use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use chrono::{DateTime, TimeZone, Utc};
use harness::contract::{ids, strings};
use harness::lambda::FunctionProcess;
use harness::stack::{Stack, StackOptions, event_file};
use partnercentral_local::SeedDocument;
use serde_json::{Value, json};

const FUNCTION: &str = "auto-cancel";
const PARAMETER: &str = "/invitations/cancel-policy";
const STALE: &str = "pacinv-Stale00000001";
const BLOCKED: &str = "pacinv-Blocked000042";
const YOUNG: &str = "pacinv-Young00000001";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().unwrap_or_default()
}

fn connection(id: &str, age_days: i64, other: &str) -> Value {
    json!({
        "Catalog": "AWS", "Id": id, "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": (t0() - chrono::Duration::days(age_days)).to_rfc3339(),
        "OtherParticipantIdentifier": other, "ParticipantType": "SENDER", "Status": "PENDING",
        "InvitationMessage": "Hello", "InviterEmail": "ann@example.com", "InviterName": "Ann"
    })
}

/// A real policy that outgrew the environment: one rule per blocked partner (60 of them),
/// plus the stale-invitation rule.
fn large_policy() -> String {
    let mut rules = vec![json!({"name": "stale-collaboration", "match": {"olderThanDays": 10}})];
    rules.extend((0..60).map(|i| {
        json!({"name": format!("blocked-partner-{i:02}"),
               "match": {"otherParticipantIdentifiers": [format!("9000000000{i:02}")]}})
    }));
    json!({"version": 1, "dryRun": false, "maxCancellationsPerRun": 10, "maxCancellationsPerDay": 10, "rules": rules})
        .to_string()
}

async fn put_parameter(stack: &Stack, value: &str) -> i64 {
    let ssm = aws_sdk_ssm::Client::new(&harness::aws::sdk_config(stack.moto.endpoint()).await);
    let out = ssm
        .put_parameter()
        .name(PARAMETER)
        .r#type(ParameterType::String)
        // Standard parameters hold 4 KB, Advanced ones 8 KB.
        .tier(ParameterTier::Advanced)
        .value(value)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutParameter: {e:?}"));
    out.version()
}

fn start(stack: &Stack, env: &[(&str, &str)]) -> FunctionProcess {
    let ssm = stack.moto.endpoint().to_owned();
    let mut env = env.to_vec();
    env.push(("AWS_ENDPOINT_URL_SSM", &ssm));
    stack
        .start_function(FUNCTION, Path::new(env!("CARGO_BIN_EXE_auto-cancel")), &env)
        .unwrap_or_else(|e| panic!("start: {e}"))
}

#[tokio::test]
async fn a_policy_over_four_kilobytes_is_read_from_its_ssm_parameter_validated_logged_and_used() {
    let seed = json!({"ConnectionInvitations": [
        connection(STALE, 12, "111111111111"),
        connection(BLOCKED, 1, "900000000042"),
        connection(YOUNG, 2, "444444444444"),
    ]});
    let seed = SeedDocument::from_json(&seed.to_string()).unwrap_or_else(|e| panic!("seed: {e}"));
    let stack = Stack::start(StackOptions { clock: Some(t0()), seed: Some(seed), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("stack: {e}"));
    let policy = large_policy();
    assert!(policy.len() > 4096, "the policy must not fit Lambda's environment: {} bytes", policy.len());
    let version = put_parameter(&stack, &policy).await;

    let mut f = start(&stack, &[("CANCEL_POLICY_PARAMETER", PARAMETER)]);
    let scheduled = event_file("auto-cancel-scheduled.json").unwrap_or_else(|e| panic!("{e}"));
    let s = stack.invoke(FUNCTION, &scheduled).await.and_then(|i| i.output()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s["dryRun"], false, "{s}");
    assert_eq!(strings(&s["canceled"]), ids(&[STALE, BLOCKED]), "{s}");
    let hash = s["policyHash"].as_str().unwrap_or_default().to_owned();
    assert_eq!(hash.len(), 16, "{s}");
    f.kill().await.unwrap_or_else(|e| panic!("{e}"));
    let loaded = f
        .logs()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == "policy loaded" || l["message"] == "policy loaded")
        .unwrap_or_else(|| panic!("no 'policy loaded' line: {:#?}", f.logs()));
    let text = loaded.to_string();
    assert!(text.contains(&format!(r#"CANCEL_POLICY_PARAMETER=\"{PARAMETER}\" (version {version})"#)), "{text}");
    assert!(text.contains(&format!(r#""policy_hash":"{hash}""#)), "the hash the run used is logged: {text}");

    // A parameter the role may read but that does not exist, or an invalid policy in it: the
    // function does not start, and says which variable, which parameter and what is wrong.
    let mut f = start(&stack, &[("CANCEL_POLICY_PARAMETER", "/invitations/no-such-policy")]);
    assert!(!f.wait_exit(Duration::from_secs(20)).await.unwrap_or_else(|e| panic!("{e}")).success());
    let logs = f.logs().join("\n");
    assert!(logs.contains(r#"CANCEL_POLICY_PARAMETER=\"/invitations/no-such-policy\": cannot read the SSM parameter: no such parameter"#), "{logs}");
    let broken = policy.replacen(r#""olderThanDays":10"#, r#""olderThanDays":-1"#, 1);
    let version = put_parameter(&stack, &broken).await;
    let mut f = start(&stack, &[("CANCEL_POLICY_PARAMETER", PARAMETER)]);
    assert!(!f.wait_exit(Duration::from_secs(20)).await.unwrap_or_else(|e| panic!("{e}")).success());
    let logs = f.logs().join("\n");
    let why = format!(
        r#"CANCEL_POLICY_PARAMETER=\"{PARAMETER}\" (version {version}): invalid cancellation policy: rules[0].match.olderThanDays: must be >= 0 (got -1)"#
    );
    assert!(logs.contains(&why), "{logs}");
    stack.shutdown().await;
}
