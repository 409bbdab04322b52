//! The approval act (issue #26, people in the loop): AWS sends a referral whose policy rule
//! says `"ask": true`. auto-respond's run answers nothing and publishes `Engagement Invitation
//! Approval Requested` with a one-time approval id; notify renders it for people (the chat
//! message and the e-mail subject that reach the SNS topic's subscribers); the act takes the
//! command from the notification's next steps — the payload is parsed out of the rendered
//! `aws lambda invoke`, never rebuilt — and runs it: auto-respond accepts with the approval as
//! the cause, the task completes, and the same command again acts once.
//!
//! [`answer_times`] closes the demo: the digest's `answerTimes` (p50/p90 from receipt to answer,
//! by kind and by who answered) over everything the acts before answered.

use chrono::{DateTime, Utc};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::{Value, json};

use super::{Demo, engagement_invitation};
use crate::{Error, Result};

const FUNCTION: &str = "auto-respond";
const NOTIFY: &str = "notify";
const SWEEPER: &str = "expire-sweeper";
const REFERRAL: &str = "engi-demoapproval1";
const ASKED: &str = "Engagement Invitation Approval Requested";
/// How long the person takes to decide (the emulator's clock moves on meanwhile).
const PERSON_HOURS: f64 = 2.0;

fn scheduled() -> Value {
    json!({"scheduledTime": "2026-11-20T08:00:00Z"})
}

/// Referrals from AWS need a person: the rule asks instead of accepting (recognised by its
/// title, so the generated account's other invitations are left alone).
fn policy() -> String {
    json!({
        "version": 1, "dryRun": false, "maxActionsPerRun": 5,
        "rules": [
            {"name": "referrals-need-a-person", "ask": true,
             "match": {"payloadTypes": ["OpportunityInvitation"], "senderAwsAccountIds": ["AWS"], "titleContains": "demo approval"},
             "action": "accept"}
        ]
    })
    .to_string()
}

/// Sent just now (15 days to answer).
fn referral(now: DateTime<Utc>) -> Value {
    let mut invitation = engagement_invitation(REFERRAL, now, 15 * 24);
    invitation["EngagementTitle"] = json!("Demo approval @channel <!here> x.io");
    invitation
}

/// The function name and the payload of a rendered `aws lambda invoke` decision command (as the
/// notification's next step shows it, in backticks or not): split as a POSIX shell splits it,
/// then `--function-name` and `--payload` read from the words.
pub fn decision_from_command(command: &str) -> Result<(String, Value)> {
    let words = shell_words(command.trim().trim_matches('`'))?;
    if words.get(..3) != Some(&["aws".to_owned(), "lambda".to_owned(), "invoke".to_owned()][..]) {
        return Err(Error::msg(format!("not an `aws lambda invoke` command: {command}")));
    }
    let option = |name: &str| -> Result<&String> {
        let at = words.iter().position(|w| w == name);
        at.and_then(|i| words.get(i + 1)).ok_or_else(|| Error::msg(format!("no {name} in the command: {command}")))
    };
    let function = option("--function-name")?.clone();
    let payload = serde_json::from_str(option("--payload")?)
        .map_err(|e| Error::msg(format!("the command's --payload is not JSON ({e}): {command}")))?;
    Ok((function, payload))
}

/// Words of a shell command line: blanks separate, single quotes keep everything, double
/// quotes keep everything but `\"` and `\\`, a backslash outside quotes escapes one character.
fn shell_words(line: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(Error::msg(format!("unterminated ' in: {line}"))),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(Error::msg(format!("unterminated \" in: {line}"))),
                        },
                        Some(c) => w.push(c),
                        None => return Err(Error::msg(format!("unterminated \" in: {line}"))),
                    }
                }
            }
            '\\' => {
                let escaped = chars.next().ok_or_else(|| Error::msg(format!("trailing \\ in: {line}")))?;
                word.get_or_insert_with(String::new).push(escaped);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// One line per event, for the flow's list at the end: what, which invitation, why.
fn flow_line(step: &str, event: &Value) -> String {
    let d = &event["detail"];
    let cause = &d["cause"];
    let why = match cause["type"].as_str() {
        Some("approval") => format!(
            "cause {{type: approval, rule: {}, approvalId: {}}}",
            cause["rule"].as_str().unwrap_or("?"),
            cause["approvalId"].as_str().unwrap_or("?")
        ),
        Some(t) => format!("cause {{type: {t}, rule: {}}}", cause["rule"].as_str().unwrap_or("?")),
        None => "no cause".to_owned(),
    };
    format!(
        "{step:<22} {:<44} {:<20} {why}",
        event["detail-type"].as_str().unwrap_or("?"),
        d["invitationId"].as_str().unwrap_or("-")
    )
}

fn expect(what: &str, summary: &Value, field: &str, wanted: &str) -> Result<()> {
    match summary[field].as_str() {
        Some(v) if v == wanted => Ok(()),
        _ => Err(Error::msg(format!("{what}: expected {field} {wanted:?}, got {summary}"))),
    }
}

pub async fn act(demo: &mut Demo) -> Result<()> {
    let now = demo.stack.emulator_now().await?;
    let mut flow: Vec<String> = Vec::new();
    demo.narrate(
        "approvals — AWS sends us a referral; the policy will not accept it alone: its rule says \"ask\" \
         (the title is hostile on purpose: it tries to mention the whole channel and to inject a link)",
    );
    demo.stack.put_invitation("engagement", referral(now)).await?;

    demo.narrate("auto-respond's scheduled run: no answer, one Approval Requested with a one-time approvalId");
    let asked = demo.run_with(FUNCTION, &scheduled(), &[("RESPOND_POLICY", &policy())]).await?;
    flow.extend(demo.last_events.iter().map(|e| flow_line("scheduled run (asks)", e)));
    let request = demo
        .last_events
        .iter()
        .find(|e| e["detail-type"] == ASKED && e["detail"]["invitationId"] == REFERRAL)
        .cloned()
        .ok_or_else(|| Error::msg(format!("no {ASKED} for {REFERRAL}; the run: {asked}")))?;

    demo.narrate(
        "notify, invoked with that event as the rule on our bus delivers it: renders it for people and \
         publishes it to the SNS topic (Amazon Q Developer → Slack / Teams; e-mail subscribers)",
    );
    demo.run_with(NOTIFY, &request, &[("AUTO_RESPOND_FUNCTION_NAME", FUNCTION)]).await?;
    let messages = demo.stack.notifications().await?;
    let [envelope] = &messages[..] else {
        return Err(Error::msg(format!(
            "expected one notification on the topic, got {}: {messages:?}",
            messages.len()
        )));
    };
    let chat: Value = serde_json::from_str(envelope["Message"].as_str().unwrap_or_default())
        .map_err(|e| Error::msg(format!("the notification is not a custom notification ({e}): {envelope}")))?;
    let content = &chat["content"];
    println!("  What a person sees (the SQS subscriber of the topic received it):");
    println!("  ┌ e-mail subject: {}", envelope["Subject"].as_str().unwrap_or("?"));
    println!("  │ chat title:     {}", content["title"].as_str().unwrap_or("?"));
    for line in content["description"].as_str().unwrap_or_default().lines() {
        println!("  │   {line}");
    }
    println!("  │ next steps:");
    let steps: Vec<&str> = content["nextSteps"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for step in &steps {
        println!("  │   • {step}");
    }
    println!(
        "  └ buttons: eventType {} → Approve / Dismiss with approvalId {}",
        chat["metadata"]["eventType"], chat["metadata"]["additionalContext"]["approvalId"]
    );

    let command = steps
        .iter()
        .find(|s| s.contains("aws lambda invoke"))
        .ok_or_else(|| Error::msg(format!("no `aws lambda invoke` in the notification's next steps: {steps:?}")))?;
    let (function, payload) = decision_from_command(command)?;
    if function != FUNCTION {
        return Err(Error::msg(format!("the command invokes {function}, not {FUNCTION}: {command}")));
    }
    demo.stack.advance_clock(PERSON_HOURS).await?;
    demo.narrate(&format!(
        "{PERSON_HOURS} hours later a person approves with the notification's command, as shown (function and \
         payload taken from it): invoke {function} with {payload}"
    ));
    let approved = demo.invoke(&function, &payload).await?;
    expect("the approval", &approved, "outcome", "started")?;
    flow.extend(demo.last_events.iter().map(|e| flow_line("approval (command)", e)));
    println!(
        "  outcome {}: acceptance task {} started with the policy's ClientToken; cause {}",
        approved["outcome"], approved["taskId"], approved["cause"]
    );

    demo.stack.advance_clock(1.0 / 60.0).await?;
    demo.narrate(
        "a minute later the task has completed: the next run follows it — Accepted, with the approval as its cause",
    );
    let followed = demo.run_with(FUNCTION, &scheduled(), &[]).await?;
    flow.extend(demo.last_events.iter().map(|e| flow_line("next run (follows)", e)));
    let accepted = demo.last_events.iter().any(|e| {
        e["detail-type"] == "Engagement Invitation Accepted"
            && e["detail"]["invitationId"] == REFERRAL
            && e["detail"]["cause"]["type"] == "approval"
    });
    if !accepted {
        return Err(Error::msg(format!("no Accepted with the approval cause for {REFERRAL}; the run: {followed}")));
    }

    demo.narrate("the same command again (the button pressed twice): nothing is done twice");
    let replay = demo.invoke(&function, &payload).await?;
    expect("the replayed approval", &replay, "outcome", "alreadyDone")?;
    demo.stop(FUNCTION).await?;

    println!("\n  The approval flow's events, in order:");
    for line in flow {
        println!("    {line}");
    }
    Ok(())
}

/// The digest's answer-time figures over everything the demo's acts answered: from receipt
/// to answer, p50/p90 by kind and by who answered (a policy rule, a person's approval, a person
/// in Partner Central), and what expired unanswered. Printed as a table; returns `answerTimes`.
pub async fn answer_times(demo: &mut Demo) -> Result<Value> {
    demo.narrate(
        "How fast we answer, a minute later: the digest's answerTimes (expire-sweeper, input {\"digest\": true}) \
         over what the acts answered — hours from receipt to answer, by kind and by who answered",
    );
    // A minute on: the emulator's clock is frozen between moves, and each process's "now" is
    // the service's last `Date` (whole seconds) plus the time since it read it, so an answer
    // recorded a moment ago could otherwise be a few milliseconds "after" the digest's now and
    // wait for tomorrow's digest.
    demo.stack.advance_clock(1.0 / 60.0).await?;
    demo.run(SWEEPER, "expire-sweeper-digest.json", &[]).await?;
    let digest = demo
        .last_events
        .iter()
        .find(|e| e["detail-type"] == "Invitations Expiring Digest")
        .ok_or_else(|| Error::msg("the digest run published no Invitations Expiring Digest"))?;
    let times = digest["detail"]["answerTimes"].clone();
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header([
        "kind",
        "answered by",
        "count",
        "p50 h",
        "p90 h",
    ]);
    for row in times["answered"].as_array().into_iter().flatten() {
        table.add_row([
            row["kind"].as_str().unwrap_or("?").to_owned(),
            row["answeredBy"].as_str().unwrap_or("?").to_owned(),
            row["count"].to_string(),
            row["p50Hours"].to_string(),
            row["p90Hours"].to_string(),
        ]);
    }
    println!("  answer times over the last {} days (nearest-rank percentiles):", times["windowDays"]);
    for line in table.to_string().lines() {
        println!("  {line}");
    }
    println!(
        "  expired while unanswered: {} engagement, {} connection",
        times["expiredUnanswered"]["engagement"], times["expiredUnanswered"]["connection"]
    );
    Ok(times)
}

#[cfg(test)]
mod tests {
    use invitation_events::render::{Decision, decision_command};

    use super::*;

    const ID: &str = "ar:e:accept:0123456789abcdef:0123456789abcdef01234567:engi-demoapproval1";

    #[test]
    fn the_rendered_command_gives_back_the_function_and_the_payload() {
        let command = decision_command("s-auto-respond", ID, Decision::Approve);
        let expected = json!({"approval": {"approvalId": ID, "decision": "approve"}});
        let parsed = decision_from_command(&command).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed, ("s-auto-respond".to_owned(), expected.clone()));
        // As the chat shows it: in backticks.
        let parsed = decision_from_command(&format!("`{command}`")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.1, expected);
    }

    #[test]
    fn a_command_that_is_not_a_decision_is_refused_naming_what_is_wrong() {
        let missing = decision_from_command("aws lambda invoke --function-name f out.json").err();
        assert!(missing.is_some_and(|e| e.to_string().contains("no --payload")));
        let other = decision_from_command("aws s3 ls").err();
        assert!(other.is_some_and(|e| e.to_string().contains("not an `aws lambda invoke`")));
        let open = decision_from_command("aws lambda invoke --payload '{\"a\": 1").err();
        assert!(open.is_some_and(|e| e.to_string().contains("unterminated '")));
        let not_json = decision_from_command("aws lambda invoke --function-name f --payload 'x' o").err();
        assert!(not_json.is_some_and(|e| e.to_string().contains("--payload is not JSON")));
    }

    #[test]
    fn words_split_as_a_shell_splits_them() {
        let words = shell_words(r#"a 'b c' "d \"e\"" f\ g  'h'"i""#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(words, ["a", "b c", "d \"e\"", "f g", "hi"]);
        assert_eq!(shell_words("''").unwrap_or_default(), [""]);
    }
}
