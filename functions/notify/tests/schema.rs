//! Every rendered notification against the service's rules: the documented custom
//! notification schema (kept as data in tests/notify/custom-notification.schema.json, with its
//! source address), SNS's limits (message size, e-mail subject), for every sample under
//! schemas/samples/ and for worst-case hostile partner text.
//!
//! `RENDERINGS_OUT=<file>` also writes one rendering per detail-type (chat and e-mail form) as
//! Markdown, for the release note.

use std::path::{Path, PathBuf};

use invitation_events::render::{Context, render_event};
use notify::format::{MAX_SNS_MESSAGE_BYTES, MAX_SUBJECT_CHARS, Publication};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator() -> jsonschema::Validator {
    let schema = read_json(&root().join("tests/notify/custom-notification.schema.json"));
    assert!(
        schema["description"]
            .as_str()
            .unwrap_or_default()
            .contains("https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html"),
        "the schema names its source"
    );
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema: {e}"))
}

fn samples() -> Vec<(String, Value)> {
    let dir = root().join("schemas/samples");
    let mut all: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), read_json(&e.path())))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

fn publication(event: &Value) -> Publication {
    let context = Context {
        auto_respond_function: "my-stack-auto-respond".into(),
        auto_cancel_function: "my-stack-auto-cancel".into(),
    };
    let n = render_event(event["detail-type"].as_str().unwrap_or_default(), event["detail"].clone(), &context)
        .unwrap_or_else(|e| panic!("{e}"));
    Publication::of(&n)
}

/// Checks one publication against the schema and SNS's limits; returns its size.
fn check(name: &str, p: &Publication, validator: &jsonschema::Validator) -> usize {
    let errors: Vec<String> =
        validator.iter_errors(&p.chat).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{}", p.chat);
    assert!(p.size() <= MAX_SNS_MESSAGE_BYTES, "{name}: {} bytes", p.size());
    assert!(
        p.subject.len() <= MAX_SUBJECT_CHARS && p.subject.chars().all(|c| (' '..='~').contains(&c)),
        "{name}: {:?}",
        p.subject
    );
    let message: Value = serde_json::from_str(&p.message).unwrap_or_else(|e| panic!("{name}: {e}"));
    let keys: Vec<&String> = message.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["default", "email"], "{name}: MessageStructure json needs `default`");
    p.size()
}

#[test]
fn every_sample_renders_to_a_valid_custom_notification_within_sns_limits() {
    let validator = validator();
    let mut largest = (String::new(), 0);
    let all = samples();
    assert!(all.len() >= 20, "{} samples", all.len());
    for (name, event) in &all {
        let size = check(name, &publication(event), &validator);
        if size > largest.1 {
            largest = (name.clone(), size);
        }
    }
    println!("largest rendered sample: {} ({} bytes)", largest.0, largest.1);
    if let Ok(out) = std::env::var("RENDERINGS_OUT") {
        write_renderings(Path::new(&out), &all);
    }
}

#[test]
fn the_worst_partner_text_still_fits() {
    let validator = validator();
    let huge = format!("@here <!channel> {} \n", "[x](https://evil.example) ".repeat(20_000));
    let mut worst = 0;
    for (name, event) in samples() {
        let mut event = event;
        let d = &mut event["detail"];
        if d.get("invitation").is_some() {
            for field in ["engagementTitle", "payloadType", "connectionType"] {
                d["invitation"][field] = Value::from(huge.as_str());
            }
            for field in ["senderCompanyName", "senderAwsAccountId", "participantIdentifier", "receiverAlias"] {
                d["invitation"]["otherParty"][field] = Value::from(huge.as_str());
            }
            d["invitation"]["details"] = serde_json::json!({"invitationMessage": huge, "inviterName": huge});
        }
        if d.get("task").is_some() {
            d["task"]["message"] = Value::from(huge.as_str());
        }
        if let Some(list) = d.get_mut("invitations").and_then(Value::as_array_mut) {
            let first = list.first().cloned().unwrap_or_default();
            *list = (0..500).map(|_| first.clone()).collect();
            for inv in list.iter_mut() {
                inv["title"] = Value::from(huge.as_str());
            }
            d["count"] = Value::from(500);
        }
        let p = publication(&event);
        worst = worst.max(check(&name, &p, &validator));
        for bad in ["@here", "<!channel>", "](", "evil.example"] {
            assert!(!p.chat["content"].to_string().contains(bad), "{name}: {bad}");
        }
    }
    println!("largest worst-case rendering: {worst} bytes");
}

fn write_renderings(out: &Path, all: &[(String, Value)]) {
    let mut md = String::from(
        "# notify: one rendering per detail-type\n\nGenerated by `RENDERINGS_OUT=... cargo nextest run -p notify --test schema` \
         from schemas/samples/ (function names as a stack `my-stack` would set them). Chat: the Amazon Q Developer custom \
         notification published to the topic (`default`); e-mail: the subject and the plain-text body (`email`).\n",
    );
    for (name, event) in all {
        let p = publication(event);
        let message: Value = serde_json::from_str(&p.message).unwrap_or_default();
        let pretty = serde_json::to_string_pretty(&p.chat).unwrap_or_default();
        md += &format!(
            "\n## {}\n\nSample: `schemas/samples/{name}`; SNS message {} bytes.\n\n### Chat (custom notification)\n\n```json\n{pretty}\n```\n\n### E-mail\n\nSubject: `{}`\n\n```text\n{}```\n",
            event["detail-type"].as_str().unwrap_or_default(),
            p.size(),
            p.subject,
            message["email"].as_str().unwrap_or_default()
        );
    }
    // And what hostile partner text becomes.
    if let Some((_, event)) = all.iter().find(|(name, _)| name == "engagement-invitation-created.json") {
        let mut event = event.clone();
        event["detail"]["invitation"]["engagementTitle"] =
            Value::from("@here <!channel> URGENT: [accept now](https://evil.example/x) *free* `credits`\nline two");
        event["detail"]["invitation"]["otherParty"]["senderCompanyName"] =
            Value::from("<at>General</at> Evil\u{202E}Corp www.evil.example");
        let p = publication(&event);
        let message: Value = serde_json::from_str(&p.message).unwrap_or_default();
        md += &format!(
            "\n## Hostile partner text (the Created sample, title and company name replaced)\n\nTitle: `{}`; company: `{}`.\n\n```json\n{}\n```\n\nSubject: `{}`\n\n```text\n{}```\n",
            event["detail"]["invitation"]["engagementTitle"].as_str().unwrap_or_default().replace('\n', "\\n"),
            event["detail"]["invitation"]["otherParty"]["senderCompanyName"]
                .as_str()
                .unwrap_or_default()
                .replace('\u{202E}', "\\u202E"),
            serde_json::to_string_pretty(&p.chat["content"]).unwrap_or_default(),
            p.subject,
            message["email"].as_str().unwrap_or_default()
        );
    }
    std::fs::write(out, md).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
