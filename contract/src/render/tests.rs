use std::path::PathBuf;

use serde_json::Value;

use super::*;
use crate::ConnectionDetails;

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("schemas").join("samples")
}

/// Every file under schemas/samples/, whatever its name: a sample added without a rendering
/// fails here.
fn samples() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let dir = std::fs::read_dir(samples_dir()).unwrap_or_else(|e| panic!("schemas/samples: {e}"));
    for entry in dir.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(entry.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, event));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn render_sample(name: &str, event: &Value) -> Notification {
    let detail_type = event["detail-type"].as_str().unwrap_or_else(|| panic!("{name}: no detail-type"));
    render_event(detail_type, event["detail"].clone(), &Context::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_sample_renders_with_who_what_status_time_left_and_what_if_nobody_acts() {
    let all = samples();
    assert!(all.len() >= DetailType::ALL.len(), "a sample per detail-type");
    let mut seen = std::collections::BTreeSet::new();
    for (name, event) in &all {
        let n = render_sample(name, event);
        seen.insert(n.detail_type);
        assert_eq!(format!("{}.json", n.detail_type.slug()), *name, "the file is named after its detail-type");
        let title = n.title.markdown();
        assert!(!title.is_empty() && !title.contains('\n'), "{name}: title {title:?}");
        assert!(n.title.ascii().is_ascii(), "{name}");
        assert!(!n.keywords.is_empty(), "{name}");
        let labels: Vec<&str> = n.facts.iter().map(|(l, _)| *l).collect();
        assert!(labels.contains(&"Status") && labels.contains(&"If nobody acts"), "{name}: {labels:?}");
        if n.detail_type != DetailType::InvitationsExpiringDigest && n.detail_type != DetailType::HealthCheck {
            for wanted in ["About", "Time left"] {
                assert!(labels.contains(&wanted), "{name}: {wanted} missing from {labels:?}");
            }
            assert!(labels.contains(&"From") || labels.contains(&"To"), "{name}: {labels:?}");
            assert_eq!(n.thread_id.as_deref(), event["detail"]["invitationId"].as_str(), "{name}");
        }
        for (label, line) in &n.facts {
            let md = line.markdown();
            assert!(!md.trim().is_empty() && !md.contains('\n'), "{name}: {label} = {md:?}");
        }
    }
    assert_eq!(seen.len(), DetailType::ALL.len(), "every detail-type has a sample: {seen:?}");
}

#[test]
fn pending_invitations_we_received_say_what_to_do() {
    for (name, event) in samples() {
        let n = render_sample(&name, &event);
        let pending = event["detail"]["status"] == "PENDING";
        let received = event["detail"]["participantType"] == "RECEIVER";
        let wants_steps = matches!(
            n.detail_type,
            DetailType::EngagementInvitationCreated
                | DetailType::EngagementInvitationExpiringSoon
                | DetailType::EngagementInvitationAcceptanceFailed
                | DetailType::EngagementInvitationApprovalRequested
                | DetailType::ConnectionInvitationApprovalRequested
                | DetailType::InvitationsExpiringDigest
        );
        if wants_steps || (pending && received) {
            assert!(!n.next_steps.is_empty(), "{name}: no next steps");
        }
    }
}

#[test]
fn approval_requests_show_the_action_the_rule_the_deadline_and_the_command() {
    let context =
        Context { auto_respond_function: "s-auto-respond".into(), auto_cancel_function: "s-auto-cancel".into() };
    for file in ["engagement-invitation-approval-requested.json", "connection-invitation-approval-requested.json"] {
        let event: Value = serde_json::from_str(&std::fs::read_to_string(samples_dir().join(file)).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let n = render_event(event["detail-type"].as_str().unwrap_or_default(), event["detail"].clone(), &context)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let approval = &event["detail"]["approval"];
        let id = approval["approvalId"].as_str().unwrap_or_default();
        let request = n.approval.clone().unwrap_or_else(|| panic!("{file}: no approval request"));
        assert_eq!(request.approval_id, id);
        let expected_fn = if approval["function"] == "auto-respond" { "s-auto-respond" } else { "s-auto-cancel" };
        assert_eq!(request.function_name, expected_fn);
        let text = n.description_markdown();
        let rule = approval["rule"].as_str().unwrap_or_default();
        assert!(text.contains(&format!("`{rule}`")), "{text}");
        assert!(text.contains(approval["action"].as_str().unwrap_or_default()), "{text}");
        assert!(text.contains("Approve until"), "{text}");
        let steps: Vec<String> = n.next_steps.iter().map(Line::markdown).collect();
        let command = decision_command(expected_fn, id, Decision::Approve);
        assert!(steps.iter().any(|s| s.contains(&command)), "{steps:?}");
        assert!(command.contains(r#"{"approval":{"approvalId":"#) && command.contains(r#""decision":"approve"}}"#));
    }
}

#[test]
fn an_approval_id_that_would_break_the_command_gets_no_command() {
    let event: Value = serde_json::from_str(
        &std::fs::read_to_string(samples_dir().join("engagement-invitation-approval-requested.json"))
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for bad in ["has space", "quote'; rm -rf /", "", &"x".repeat(201), "ünicode"] {
        let mut detail = event["detail"].clone();
        detail["approval"]["approvalId"] = Value::from(bad);
        let n = render_event("Engagement Invitation Approval Requested", detail, &Context::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(n.approval.is_none(), "{bad:?}");
        assert!(n.next_steps.iter().all(|s| !s.markdown().contains("lambda invoke")), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Hostile partner text

/// What partner text could use to reach or fool people in a chat channel.
const HOSTILE: [&str; 14] = [
    "@here please accept",
    "@channel @everyone",
    "<!channel> <!here> <!everyone>",
    "<at>General</at> <at id=\"0\">Team</at>",
    "<https://evil.example/login|Partner Central>",
    "[click to accept](https://evil.example/a)",
    "visit https://evil.example/x or www.evil.example or evil.example",
    "`code` ```block``` *bold* _italic_ ~strike~ > quote # heading | table",
    "line one\nline two\r\n\n- item\n> quote",
    "\u{202E}gnp.exe\u{200B} zero\u{2028}width",
    ":white_check_mark: Approved by AWS",
    "ana@example.com",
    "&lt;!channel&gt; &amp;",
    "![img](https://evil.example/i.png)",
];

/// Forbidden in a rendering of partner text for chat.
const FORBIDDEN: [&str; 22] = [
    "@here",
    "@channel",
    "@everyone",
    "<!",
    "<at",
    "<http",
    "](",
    "[",
    "http://",
    "https://",
    "www.",
    "evil.example",
    "`",
    "*",
    "_",
    "~",
    ">",
    "|",
    "\u{202E}",
    "\u{200B}",
    ":white_check_mark:",
    "&lt;",
];

fn hostile_engagement(text: &str) -> Value {
    let raw =
        std::fs::read_to_string(samples_dir().join("engagement-invitation-acceptance-failed.json")).unwrap_or_default();
    let mut event: Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{e}"));
    let d = &mut event["detail"];
    d["invitation"]["engagementTitle"] = Value::from(text);
    d["invitation"]["payloadType"] = Value::from(text);
    d["invitation"]["otherParty"]["senderCompanyName"] = Value::from(text);
    d["invitation"]["otherParty"]["senderAwsAccountId"] = Value::from(text);
    d["task"]["message"] = Value::from(text);
    d["task"]["reasonCode"] = Value::from(text);
    event
}

fn hostile_connection(text: &str) -> Value {
    let raw = std::fs::read_to_string(samples_dir().join("connection-invitation-created.json")).unwrap_or_default();
    let mut event: Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{e}"));
    let d = &mut event["detail"];
    d["invitation"]["otherParty"]["participantIdentifier"] = Value::from(text);
    d["invitation"]["connectionType"] = Value::from(text);
    let details = ConnectionDetails {
        invitation_message: text.into(),
        inviter_name: text.into(),
        inviter_email: Some("ana@example.com".into()),
    };
    d["invitation"]["details"] = serde_json::to_value(details).unwrap_or_default();
    event
}

fn chat_text(n: &Notification) -> Vec<String> {
    let mut all = vec![n.title.markdown()];
    all.extend(n.facts.iter().map(|(_, l)| l.markdown()));
    all.extend(n.next_steps.iter().map(Line::markdown));
    all
}

/// The partner text of a line (what we wrote ourselves may hold our Markdown; identifiers
/// are code, checked by `Part::code`).
fn without_ours(line: &Line) -> String {
    Line(line.0.iter().filter(|p| matches!(p, Part::Theirs(_))).cloned().collect()).markdown()
}

#[test]
fn hostile_partner_text_mentions_nobody_links_nothing_and_formats_nothing_in_chat() {
    for text in HOSTILE {
        for event in [hostile_engagement(text), hostile_connection(text)] {
            let n = render_sample("hostile", &event);
            let mut lines = vec![&n.title];
            lines.extend(n.facts.iter().map(|(_, l)| l));
            for line in lines {
                let theirs = without_ours(line);
                for bad in FORBIDDEN {
                    assert!(!theirs.contains(bad), "{bad:?} survived in {theirs:?} (from {text:?})");
                }
                assert!(!line.markdown().contains('\n'), "a line break from {text:?}");
            }
            for line in chat_text(&n) {
                for mention in ["@here", "@channel", "@everyone", "<!channel>", "<!here>", "<at>"] {
                    assert!(!line.contains(mention), "{mention} in {line:?}");
                }
            }
        }
    }
}

#[test]
fn hostile_partner_text_links_nothing_in_e_mail_and_the_subject_is_ascii() {
    for text in HOSTILE {
        let n = render_sample("hostile", &hostile_connection(text));
        let body = n.description_plain();
        for bad in ["https://", "http://", "www.evil", "evil.example", "@example.com", "\u{202E}"] {
            assert!(!body.contains(bad), "{bad:?} in {body:?}");
        }
        assert_eq!(body.lines().count(), n.facts.len(), "one line per fact: {body:?}");
        let subject = n.title.ascii();
        assert!(subject.chars().all(|c| (' '..='~').contains(&c)), "{subject:?}");
    }
}

#[test]
fn long_partner_text_is_capped_and_its_words_broken() {
    let long = format!("{} {}", "A".repeat(5000), "word ".repeat(2000));
    let n = render_sample("long", &hostile_engagement(&long));
    for (label, line) in &n.facts {
        let md = line.markdown();
        assert!(md.chars().count() < 1200, "{label}: {} chars", md.chars().count());
        assert!(md.split(' ').all(|w| w.chars().count() <= 60), "{label}: a long word in {md}");
    }
    assert!(n.title.markdown().chars().count() <= 120, "{}", n.title.markdown());
    assert!(n.title.markdown().contains('…'), "cut titles say so");
}

#[test]
fn durations_read_like_people_write_them() {
    assert_eq!(duration_words(chrono::Duration::minutes(40)), "40 min");
    assert_eq!(duration_words(chrono::Duration::minutes(5 * 60 + 12)), "5 h 12 min");
    assert_eq!(duration_words(chrono::Duration::minutes(3 * 1440 + 4 * 60 + 59)), "3 d 4 h");
    assert_eq!(duration_words(chrono::Duration::minutes(-3)), "none");
}
