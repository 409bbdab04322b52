//! auto-respond's act: engagement invitations we received, answered by a written policy —
//! first a dry run (plans, answers nothing), then the same policy for real: the referral's
//! acceptance task starts, the lead is rejected, and once the task completes the next run
//! publishes the opportunity it created.

use serde_json::{Value, json};

use super::{Demo, engagement_invitation};
use crate::Result;

const FUNCTION: &str = "auto-respond";
const REFERRAL: &str = "engi-demoreferral1";
const LEAD: &str = "engi-demolead00001";

/// What the schedule passes (the template has no auto-respond schedule yet, so there is no
/// sample event of it in `events/`).
fn scheduled() -> Value {
    json!({"scheduledTime": "2026-11-20T06:00:00Z"})
}

/// The demo's policy: accept our referral, reject the lead (both recognised by their title,
/// so the generated account's other invitations are left alone).
fn policy(dry_run: bool) -> String {
    json!({
        "version": 1,
        "dryRun": dry_run,
        "maxActionsPerRun": 5,
        "rules": [
            {"name": "aws-referrals", "match": {"payloadTypes": ["OpportunityInvitation"], "senderAwsAccountIds": ["AWS"], "titleContains": "demo referral"}, "action": "accept"},
            {"name": "unsupported-leads", "match": {"payloadTypes": ["LeadInvitation"], "titleContains": "demo lead"}, "action": "reject", "rejectionReason": "Unable to support"}
        ]
    })
    .to_string()
}

fn invitation(id: &str, payload: &str, title: &str, now: chrono::DateTime<chrono::Utc>) -> Value {
    let mut invitation = engagement_invitation(id, now, 10 * 24);
    invitation["PayloadType"] = json!(payload);
    invitation["EngagementTitle"] = json!(title);
    invitation
}

pub async fn act(demo: &mut Demo) -> Result<()> {
    let now = demo.stack.emulator_now().await?;
    demo.narrate("auto-respond — AWS sent us an opportunity referral and a lead; the policy accepts the referral and rejects the lead");
    demo.stack
        .put_invitation("engagement", invitation(REFERRAL, "OpportunityInvitation", "Demo referral: data lake", now))
        .await?;
    demo.stack.put_invitation("engagement", invitation(LEAD, "LeadInvitation", "Demo lead: web shop", now)).await?;

    demo.narrate("auto-respond, dry run (the default): \"Response Planned\" per match, nothing answered");
    let planned = demo.run_with(FUNCTION, &scheduled(), &[("RESPOND_POLICY", &policy(true))]).await?;
    demo.stop(FUNCTION).await?;

    demo.narrate(
        "auto-respond, the same policy with \"dryRun\": false: the referral's acceptance task starts \
         (deterministic ClientToken), the lead is rejected with its reason — same policyHash in the cause",
    );
    let answered = demo.run_with(FUNCTION, &scheduled(), &[("RESPOND_POLICY", &policy(false))]).await?;
    println!(
        "  policyHash: {} in the dry run, {} in the real run; accepting {}, rejected {}",
        planned["policyHash"], answered["policyHash"], answered["accepting"], answered["rejected"]
    );

    demo.stack.advance_clock(1.0 / 60.0).await?;
    demo.narrate(
        "a minute later the acceptance task has completed: the next run follows it and publishes the opportunity",
    );
    let followed = demo.run_with(FUNCTION, &scheduled(), &[]).await?;
    println!("  completed: {}", followed["acceptancesCompleted"]);
    demo.stop(FUNCTION).await
}
