//! The delivery formats of a [`Notification`] (pure): the Amazon Q Developer in chat
//! applications custom notification (what Slack and Microsoft Teams channels show), the e-mail
//! subject and body, and the SNS message that carries both (`MessageStructure: json`: e-mail
//! subscribers get the text, every other protocol — Amazon Q's HTTPS endpoint, SQS — the
//! custom notification).
//!
//! The custom notification's shape and rules are AWS's
//! (<https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html>): `version`
//! "1.0", `source` "custom", `content.textType` "client-markdown"; the schema we check every
//! rendering against is `tests/notify/custom-notification.schema.json`.

use invitation_events::render::{Line, Notification};
use serde_json::{Value, json};

/// SNS: the whole message (with its attributes) is at most 256 KiB.
pub const MAX_SNS_MESSAGE_BYTES: usize = 262_144;
/// SNS: an e-mail `Subject` is ASCII, without line breaks, shorter than 100 characters.
pub const MAX_SUBJECT_CHARS: usize = 99;
/// Our caps of the custom notification's fields (the stored schema's `maxLength`/`maxItems`).
pub const MAX_TITLE_CHARS: usize = 250;
pub const MAX_DESCRIPTION_CHARS: usize = 3_000;
pub const MAX_NEXT_STEPS: usize = 5;
pub const MAX_NEXT_STEP_CHARS: usize = 500;
pub const MAX_KEYWORDS: usize = 10;
pub const MAX_KEYWORD_CHARS: usize = 50;

/// `metadata.eventType` of an approval request: what the Approve and Dismiss buttons
/// (`AWS::Chatbot::CustomAction` attachments) select on.
pub const APPROVAL_EVENT_TYPE: &str = "approval-requested";
/// The `metadata.additionalContext` keys the buttons' commands read.
pub const APPROVAL_ID_KEY: &str = "approvalId";
pub const APPROVAL_FUNCTION_KEY: &str = "approvalFunction";

fn capped(text: String, max: usize) -> String {
    invitation_events::render::text::cap(&text, max)
}

/// `metadata.eventType`: the detail-type's slug, or [`APPROVAL_EVENT_TYPE`] for the two
/// Approval Requested detail-types (one value for the buttons to match).
pub fn event_type(n: &Notification) -> String {
    match n.approval {
        Some(_) => APPROVAL_EVENT_TYPE.to_owned(),
        None => n.detail_type.slug(),
    }
}

/// The custom notification (the SNS message every protocol but e-mail receives).
pub fn custom_notification(n: &Notification) -> Value {
    let mut context = serde_json::Map::new();
    // Every value fits a button variable ([\x21-\x7F]+): the slug, not the spaced name.
    context.insert("detailType".into(), json!(n.detail_type.slug()));
    context.insert("eventId".into(), json!(n.event_id));
    if let Some(a) = &n.approval {
        context.insert(APPROVAL_ID_KEY.into(), json!(a.approval_id));
        context.insert(APPROVAL_FUNCTION_KEY.into(), json!(a.function_name));
        context.insert("approvalAction".into(), json!(a.action.as_str()));
    }
    let mut metadata = json!({
        "summary": subject(n),
        "eventType": event_type(n),
        "relatedResources": n.resource.iter().collect::<Vec<_>>(),
        "additionalContext": context,
    });
    if let Some(thread) = &n.thread_id {
        metadata["threadId"] = json!(thread);
    }
    json!({
        "version": "1.0",
        "source": "custom",
        "id": n.event_id,
        "content": {
            "textType": "client-markdown",
            "title": capped(n.title.markdown(), MAX_TITLE_CHARS),
            "description": capped(n.description_markdown(), MAX_DESCRIPTION_CHARS),
            "nextSteps": n.next_steps.iter().take(MAX_NEXT_STEPS).map(|s| capped(s.markdown(), MAX_NEXT_STEP_CHARS)).collect::<Vec<_>>(),
            "keywords": n.keywords.iter().take(MAX_KEYWORDS).map(|k| capped(k.clone(), MAX_KEYWORD_CHARS)).collect::<Vec<_>>(),
        },
        "metadata": metadata,
    })
}

/// The e-mail subject: the title in ASCII, at most [`MAX_SUBJECT_CHARS`].
pub fn subject(n: &Notification) -> String {
    let ascii = n.title.ascii();
    // Emojis fold to `?`: a subject starts with our words, not with a placeholder.
    let trimmed = ascii.trim_start_matches(['?', ' ']).trim();
    let text = if trimmed.chars().count() > MAX_SUBJECT_CHARS {
        let kept: String = trimmed.chars().take(MAX_SUBJECT_CHARS - 3).collect();
        format!("{}...", kept.trim_end())
    } else {
        trimmed.to_owned()
    };
    match text.is_empty() {
        true => "Partner Central invitation".to_owned(),
        false => text,
    }
}

/// The e-mail body: plain text, the title, the facts, the next steps, what it is.
pub fn email_body(n: &Notification) -> String {
    let mut out = format!("{}\n\n{}\n", n.title.plain(), n.description_plain());
    if !n.next_steps.is_empty() {
        out += "\nNext steps:\n";
        for step in &n.next_steps {
            out += &format!("- {}\n", step.plain());
        }
    }
    out += &format!("\nEvent: {} (id {})\n", n.detail_type, n.event_id);
    if let Some(resource) = &n.resource {
        out += &format!("Invitation: {}\n", Line::new().code(resource.clone()).plain());
    }
    out += "\nSent by the Partner Central invitation automation (notify). Keywords: ";
    out += &n.keywords.join(", ");
    out += "\n";
    out
}

/// What is published to the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The e-mail subject (SNS's `Subject`).
    pub subject: String,
    /// SNS's `Message` with `MessageStructure: json`: `default` (the custom notification, as
    /// a JSON string) and `email` (the plain-text body).
    pub message: String,
    /// The custom notification, for logs and tests.
    pub chat: Value,
}

impl Publication {
    pub fn of(n: &Notification) -> Publication {
        let chat = custom_notification(n);
        let message = json!({"default": chat.to_string(), "email": email_body(n)}).to_string();
        Publication { subject: subject(n), message, chat }
    }

    /// The bytes SNS counts against its limit: the message and the subject.
    pub fn size(&self) -> usize {
        self.message.len() + self.subject.len()
    }
}

#[cfg(test)]
mod tests {
    use invitation_events::render::{Context, render_event};

    use super::*;

    fn sample(name: &str) -> Notification {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/samples").join(name);
        let event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        render_event(event["detail-type"].as_str().unwrap_or_default(), event["detail"].clone(), &Context::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn the_message_carries_the_chat_notification_by_default_and_text_for_e_mail() {
        let n = sample("engagement-invitation-created.json");
        let p = Publication::of(&n);
        let message: Value = serde_json::from_str(&p.message).unwrap_or_default();
        let default: Value = serde_json::from_str(message["default"].as_str().unwrap_or_default()).unwrap_or_default();
        assert_eq!(default, p.chat);
        assert_eq!(default["version"], "1.0");
        assert_eq!(default["source"], "custom");
        assert_eq!(default["content"]["textType"], "client-markdown");
        assert_eq!(default["metadata"]["threadId"], "engi-5zq8w3n1r7y2k");
        let email = message["email"].as_str().unwrap_or_default();
        assert!(email.starts_with("📨 New engagement invitation from Amazon Web Services\n"), "{email}");
        assert!(email.contains("From: Amazon Web Services (account AWS)"), "{email}");
        assert_eq!(p.subject, "New engagement invitation from Amazon Web Services");
    }

    #[test]
    fn approval_requests_carry_what_the_buttons_read() {
        let n = sample("engagement-invitation-approval-requested.json");
        let chat = Publication::of(&n).chat;
        assert_eq!(chat["metadata"]["eventType"], APPROVAL_EVENT_TYPE);
        let id = chat["metadata"]["additionalContext"][APPROVAL_ID_KEY].as_str().unwrap_or_default();
        assert!(id.starts_with("apr1.") && id.bytes().all(|b| (0x21..0x7f).contains(&b)), "{id}");
        assert_eq!(chat["metadata"]["additionalContext"][APPROVAL_FUNCTION_KEY], "auto-respond");
        // Other notifications have no approval id for a button to pick up.
        let other = Publication::of(&sample("engagement-invitation-created.json")).chat;
        assert!(other["metadata"]["additionalContext"].get(APPROVAL_ID_KEY).is_none());
        assert_ne!(other["metadata"]["eventType"], APPROVAL_EVENT_TYPE);
    }

    #[test]
    fn the_subject_is_ascii_and_short_whatever_the_title() {
        let mut n = sample("engagement-invitation-created.json");
        n.title = Line::ours("📨 ").theirs(&"Ünïcödé ".repeat(100), 500);
        let s = subject(&n);
        assert!(s.len() <= MAX_SUBJECT_CHARS && s.is_ascii() && !s.starts_with('?'), "{s}");
        assert!(s.ends_with("..."), "{s}");
        n.title = Line::ours("📨");
        assert_eq!(subject(&n), "Partner Central invitation");
    }
}
