//! The JSON shapes of messages and handoffs, shared by API responses and realtime events so
//! that a client sees one shape whichever way a record reaches it.

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::clock::rfc3339;
use crate::store::{
    AttachmentRecord, ContactSummary, HandoffRecord, MessageRecord, NoteRecord, OutboxRecord,
};

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: String,
    pub seq: i64,
    pub conversation_id: String,
    /// `customer`, `bot`, `agent` or `system`.
    pub author: String,
    pub author_name: String,
    pub kind: String,
    pub text: String,
    pub created_at: String,
    /// For messages Baton sends out. In the widget, an agent's reply is `sent` (stored), then
    /// `delivered` once the chat window has it; the bot's messages carry none. On WhatsApp, in
    /// order: `queued` (stored, waiting for the Graph API), `accepted` (taken by Meta, with a
    /// wamid), then what Meta reports — `sent`, `delivered`, `read` (`played` for a voice
    /// message) — or `failed`, with `delivery_error`. A note kept out of WhatsApp (the window
    /// had closed) has none.
    pub delivery_status: Option<String>,
    pub delivery_error: Option<String>,
    /// The file a customer sent with it, when there is one (WhatsApp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentView>,
}

/// A customer's file: `pending` while it is fetched from the channel (with `error` when the
/// last try failed and another is due), then `stored` (at `url`) or `failed` (with `error`).
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub id: String,
    /// `image`, `video`, `audio`, `document` or `sticker`.
    pub kind: String,
    pub mime_type: String,
    pub filename: Option<String>,
    pub size: Option<i64>,
    pub status: String,
    pub error: Option<String>,
    pub url: String,
}

impl From<&AttachmentRecord> for AttachmentView {
    fn from(a: &AttachmentRecord) -> Self {
        AttachmentView {
            id: a.id.clone(),
            kind: a.kind.clone(),
            mime_type: a.mime_type.clone(),
            filename: a.filename.clone(),
            size: a.size,
            status: a.status.clone(),
            error: (a.status != "stored")
                .then(|| a.last_error.clone())
                .flatten(),
            url: attachment_url(&a.id),
        }
    }
}

/// Where an agent fetches a customer's file.
pub fn attachment_url(id: &str) -> String {
    format!("/api/v1/attachments/{id}")
}

/// A conversation's messages with their files.
pub fn messages_with_attachments(
    messages: &[MessageRecord],
    attachments: &[AttachmentRecord],
) -> Vec<MessageView> {
    messages
        .iter()
        .map(|m| MessageView {
            attachment: attachments
                .iter()
                .find(|a| a.message_id == m.id)
                .map(AttachmentView::from),
            ..MessageView::from(m)
        })
        .collect()
}

impl From<&MessageRecord> for MessageView {
    fn from(m: &MessageRecord) -> Self {
        MessageView {
            id: m.id.clone(),
            seq: m.seq,
            conversation_id: m.conversation_id.clone(),
            author: m.author.clone(),
            author_name: m.author_name.clone(),
            kind: m.kind.clone(),
            text: m.text.clone(),
            created_at: rfc3339(m.created_at),
            delivery_status: m.delivery_status.clone(),
            delivery_error: m.delivery_error.clone(),
            attachment: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HandoffView {
    pub id: String,
    pub status: String,
    pub reason: String,
    pub summary: String,
    pub conversation_id: String,
    pub bot_id: String,
    pub channel: String,
    pub customer: Value,
    pub created_at: String,
    pub claimed_by: Option<Value>,
    pub claimed_at: Option<String>,
    pub resolved_at: Option<String>,
    /// When the customer last wrote: agents need it for WhatsApp's 24-hour window.
    pub last_customer_at: Option<String>,
    /// When the customer was asked to rate the help they got: `{score, comment, requested_at,
    /// closes_at, rated_at, message_id}`, `score` `null` until they answer; `null` when not
    /// asked.
    pub rating: Option<Value>,
    /// The labels the team filed it under, sorted.
    pub labels: Vec<String>,
}

impl From<&HandoffRecord> for HandoffView {
    fn from(h: &HandoffRecord) -> Self {
        HandoffView {
            id: h.id.clone(),
            status: h.status.clone(),
            reason: h.reason.clone(),
            summary: h.summary.clone(),
            conversation_id: h.conversation_id.clone(),
            bot_id: h.bot_id.clone(),
            channel: h.channel.clone(),
            customer: json!({"id": h.contact_id, "name": h.customer_name, "phone": h.customer_phone}),
            created_at: rfc3339(h.created_at),
            claimed_by: h
                .claimed_by
                .as_ref()
                .map(|id| json!({"id": id, "name": h.claimed_by_name})),
            claimed_at: h.claimed_at.map(rfc3339),
            resolved_at: h.resolved_at.map(rfc3339),
            last_customer_at: h.last_customer_at.map(rfc3339),
            rating: h.rating_requested_at.map(|requested_at| {
                json!({
                    "score": h.rating_score,
                    "comment": h.rating_comment,
                    "requested_at": rfc3339(requested_at),
                    "closes_at": rfc3339(requested_at + crate::domain::rating::OPEN_MS),
                    "rated_at": h.rated_at.map(rfc3339),
                    "message_id": h.rating_message_id,
                })
            }),
            labels: crate::domain::labels::from_stored(&h.labels),
        }
    }
}

/// A note the team wrote about a conversation: shown to members and integrators, never to
/// the customer.
#[derive(Debug, Clone, Serialize)]
pub struct NoteView {
    pub id: String,
    pub conversation_id: String,
    /// The handoff it was written on (`null` once that handoff is gone).
    pub handoff_id: Option<String>,
    /// `{id, name}`; `id` is `null` once the author has left the workspace.
    pub author: Value,
    pub text: String,
    /// Where it sits among the conversation's messages, which carry the same sequence.
    pub seq: i64,
    pub created_at: String,
}

impl From<&NoteRecord> for NoteView {
    fn from(n: &NoteRecord) -> Self {
        NoteView {
            id: n.id.clone(),
            conversation_id: n.conversation_id.clone(),
            handoff_id: n.handoff_id.clone(),
            author: json!({"id": n.user_id, "name": n.author_name}),
            text: n.text.clone(),
            seq: n.seq,
            created_at: rfc3339(n.created_at),
        }
    }
}

/// A customer in the contacts list (`GET /api/v1/contacts`).
#[derive(Debug, Clone, Serialize)]
pub struct ContactView {
    pub id: String,
    /// `widget` or `whatsapp`.
    pub channel: String,
    pub name: String,
    pub phone: Option<String>,
    pub created_at: String,
    /// Their latest message or handoff change; the retention period counts from it.
    pub last_active_at: String,
    pub conversations: i64,
    /// A handoff still pending or in progress: such a customer is never erased by retention.
    pub open_handoff_id: Option<String>,
}

impl From<&ContactSummary> for ContactView {
    fn from(c: &ContactSummary) -> Self {
        ContactView {
            id: c.id.clone(),
            channel: c.channel.clone(),
            name: c.name.clone(),
            phone: c.phone.clone(),
            created_at: rfc3339(c.created_at),
            last_active_at: rfc3339(c.last_active_at),
            conversations: c.conversations,
            open_handoff_id: c.open_handoff_id.clone(),
        }
    }
}

/// The payload of a `message.created` event.
pub fn message_event(message: &MessageRecord, attachment: Option<&AttachmentRecord>) -> Value {
    let view = MessageView {
        attachment: attachment.map(AttachmentView::from),
        ..MessageView::from(message)
    };
    json!({"conversation_id": message.conversation_id, "message": view})
}

/// The payload of a `handoff.*` event.
pub fn handoff_event(handoff: &HandoffRecord) -> Value {
    json!({"conversation_id": handoff.conversation_id, "handoff": HandoffView::from(handoff)})
}

/// The payload of a `note.created` event.
pub fn note_event(note: &NoteRecord) -> Value {
    json!({"conversation_id": note.conversation_id, "note": NoteView::from(note)})
}

/// Where an agent notification stands: `pending` (queued, or waiting to be tried again after
/// `last_error`), `sent`, `delivered`, `read`, or `failed` (refused at once or reported failed
/// later).
pub fn notification_status(n: &OutboxRecord) -> &'static str {
    match (n.done_at, n.delivery_status.as_deref()) {
        (None, _) => "pending",
        (Some(_), Some("failed")) => "failed",
        (Some(_), Some("delivered")) => "delivered",
        (Some(_), Some("read" | "played")) => "read",
        (Some(_), _) if n.last_error.is_some() && n.external_id.is_none() => "failed",
        (Some(_), _) => "sent",
    }
}
