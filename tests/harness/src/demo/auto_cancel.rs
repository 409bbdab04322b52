//! auto-cancel's act: a written policy, first as a dry run (plans, cancels nothing), then the
//! same policy switched to real runs (cancels what was planned, same policy hash).

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::Demo;
use crate::process::workspace_root;
use crate::{Error, Result};

const FUNCTION: &str = "auto-cancel";
const EXAMPLE_POLICY: &str = "events/auto-cancel-policy.example.json";

/// A PENDING connection invitation (seed format) created `age_hours` before `now`.
fn connection(
    id: &str,
    participant: &str,
    connection_type: &str,
    now: DateTime<Utc>,
    age_hours: i64,
    other: &str,
) -> Value {
    json!({
        "Catalog": "AWS", "Id": id, "ConnectionType": connection_type,
        "CreatedAt": (now - Duration::hours(age_hours)).to_rfc3339(),
        "OtherParticipantIdentifier": other, "ParticipantType": participant, "Status": "PENDING",
        "InvitationMessage": "Shall we co-sell?", "InviterEmail": "alliances@example.com", "InviterName": "Demo Alliances"
    })
}

pub async fn act(demo: &mut Demo) -> Result<()> {
    let now = demo.stack.emulator_now().await?;
    demo.narrate(
        "auto-cancel — we sent six connection invitations: one stale collaboration (12 days), one \
         subsidiary invitation expiring in 12 h, one to a blocked partner, one to a partner the policy \
         excludes, one fresh; and we received one that would match every rule",
    );
    for invitation in [
        connection("pacinv-DemoStale0001", "SENDER", "OPPORTUNITY_COLLABORATION", now, 12 * 24, "111122223334"),
        connection("pacinv-DemoExpiring1", "SENDER", "SUBSIDIARY", now, 15 * 24 - 12, "111122223335"),
        connection("pacinv-DemoBlocked01", "SENDER", "OPPORTUNITY_COLLABORATION", now, 24, "123456789012"),
        connection("pacinv-DemoKeep00001", "SENDER", "OPPORTUNITY_COLLABORATION", now, 13 * 24, "210987654321"),
        connection("pacinv-DemoFresh0001", "SENDER", "OPPORTUNITY_COLLABORATION", now, 48, "111122223336"),
        connection("pacinv-DemoRecvd0001", "RECEIVER", "OPPORTUNITY_COLLABORATION", now, 14 * 24, "123456789012"),
    ] {
        demo.stack.put_invitation("connection", invitation).await?;
    }

    let path = workspace_root().join(EXAMPLE_POLICY);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    demo.narrate(&format!(
        "auto-cancel, dry run with CANCEL_POLICY_FILE={EXAMPLE_POLICY}: \"Cancellation Planned\" per match, nothing canceled"
    ));
    let path_text = path.to_string_lossy().into_owned();
    let planned = demo.run(FUNCTION, "auto-cancel-scheduled.json", &[("CANCEL_POLICY_FILE", &path_text)]).await?;

    demo.narrate("auto-cancel, the same dry run again: already planned under this policy hash, nothing new");
    demo.run(FUNCTION, "auto-cancel-scheduled.json", &[]).await?;
    demo.stop(FUNCTION).await?;

    let mut policy: Value = serde_json::from_str(&text).map_err(|e| Error::msg(format!("{EXAMPLE_POLICY}: {e}")))?;
    policy["dryRun"] = json!(false);
    demo.narrate(
        "auto-cancel, the same policy with \"dryRun\": false (inline CANCEL_POLICY): cancels what was planned — \
         same policyHash in the cause — and leaves the excluded, the fresh and the received ones",
    );
    let canceled = demo.run(FUNCTION, "auto-cancel-scheduled.json", &[("CANCEL_POLICY", &policy.to_string())]).await?;
    println!(
        "  policyHash: {} in the dry run, {} in the real run; canceled {}, skipped {}, deferred {}",
        planned["policyHash"], canceled["policyHash"], canceled["canceled"], canceled["skipped"], canceled["deferred"]
    );
    demo.stop(FUNCTION).await
}
