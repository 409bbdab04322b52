//! auto-respond's connection act: connection invitations other partners sent us, answered by a
//! written policy — a dry run first (`Connection Invitation Response Planned`, nothing
//! answered), then for real: the known partner's invitation is accepted (the connection is
//! created), the stranger's rejected with the reason; a second run answers nothing twice.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::Demo;
use crate::Result;

const FUNCTION: &str = "auto-respond";
const PARTNER: &str = "pacinv-DemoPartner01";
const STRANGER: &str = "pacinv-DemoStranger1";
/// The partner we work with, and one we do not know (both only in this act).
const KNOWN: &str = "111122223399";
const UNKNOWN: &str = "999988887799";

fn scheduled() -> Value {
    json!({"scheduledTime": "2026-11-20T07:00:00Z"})
}

/// Accept the known partner's collaboration invitations, reject the unknown one's (named by
/// participant id, so the generated account's other invitations are left alone).
fn policy(dry_run: bool) -> String {
    json!({
        "version": 1, "dryRun": dry_run, "maxActionsPerRun": 5,
        "rules": [
            {"name": "known-partners", "kind": "connection",
             "match": {"otherParticipantIdentifiers": [KNOWN], "connectionTypes": ["OPPORTUNITY_COLLABORATION"]},
             "action": "accept"},
            {"name": "unknown-partners", "kind": "connection", "match": {"otherParticipantIdentifiers": [UNKNOWN]},
             "action": "reject", "rejectionReason": "Not a partner we work with"}
        ]
    })
    .to_string()
}

fn received(id: &str, now: DateTime<Utc>, other: &str) -> Value {
    json!({
        "Catalog": "AWS", "Id": id, "ConnectionType": "OPPORTUNITY_COLLABORATION",
        "CreatedAt": (now - Duration::hours(30)).to_rfc3339(),
        "OtherParticipantIdentifier": other, "ParticipantType": "RECEIVER", "Status": "PENDING",
        "InvitationMessage": "Shall we co-sell?", "InviterEmail": "alliances@example.com", "InviterName": "Demo Alliances"
    })
}

pub async fn act(demo: &mut Demo) -> Result<()> {
    let now = demo.stack.emulator_now().await?;
    demo.narrate("auto-respond — two partners asked to connect with us; the policy accepts the one we know and rejects the other");
    demo.stack.put_invitation("connection", received(PARTNER, now, KNOWN)).await?;
    demo.stack.put_invitation("connection", received(STRANGER, now, UNKNOWN)).await?;

    demo.narrate("auto-respond, dry run: \"Connection Invitation Response Planned\" per match, nothing answered");
    let planned = demo.run_with(FUNCTION, &scheduled(), &[("RESPOND_POLICY", &policy(true))]).await?;
    demo.stop(FUNCTION).await?;

    demo.narrate(
        "auto-respond, the same policy with \"dryRun\": false: AcceptConnectionInvitation and \
         RejectConnectionInvitation with ClientTokens keyed on the invitation — same policyHash in the cause",
    );
    let answered = demo.run_with(FUNCTION, &scheduled(), &[("RESPOND_POLICY", &policy(false))]).await?;
    println!(
        "  policyHash: {} in the dry run, {} in the real run; accepted {}, rejected {}",
        planned["policyHash"], answered["policyHash"], answered["accepted"], answered["rejected"]
    );
    demo.narrate("run again: nothing is answered twice");
    let again = demo.run_with(FUNCTION, &scheduled(), &[]).await?;
    println!("  accepted {}, rejected {}", again["accepted"], again["rejected"]);
    demo.stop(FUNCTION).await
}
