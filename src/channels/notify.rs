//! Telling agents on WhatsApp that a handoff is waiting. WhatsApp's 24-hour rule applies to
//! agents too: an agent who wrote to the business number within a day gets free text, anyone
//! else the approved template. Notifications go through the outbox like any message, so a
//! failure is retried, recorded and shown, and never touches the handoff itself.

use std::collections::BTreeMap;

use serde_json::json;

use super::whatsapp::StatusUpdate;
use crate::domain::settings::NotificationSettings;
use crate::state::AppState;
use crate::store::{HandoffRecord, NewDelivery, OutboxRecord, StoreError};

/// WhatsApp's "more than 24 hours since the recipient wrote" refusal.
pub const RE_ENGAGEMENT: i64 = 131047;

/// WhatsApp's customer-service window.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
const INBOUND: &str = "whatsapp_agent_inbound";

async fn settings(
    state: &AppState,
    workspace_id: &str,
) -> Result<NotificationSettings, StoreError> {
    Ok(state
        .store
        .setting(workspace_id, "notifications")
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// When each agent number last wrote to the business number.
async fn last_inbound(
    state: &AppState,
    workspace_id: &str,
) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(state
        .store
        .setting(workspace_id, INBOUND)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// Whether this sender is one of the agents who get notifications (their messages are not
/// customer conversations).
pub async fn is_agent_number(
    state: &AppState,
    workspace_id: &str,
    phone: Option<&str>,
) -> Result<bool, StoreError> {
    let Some(phone) = phone else { return Ok(false) };
    let settings = settings(state, workspace_id).await?;
    Ok(settings.whatsapp.recipients.iter().any(|r| r == phone))
}

/// Remembers that an agent wrote: their window is open for a day.
pub async fn agent_wrote(
    state: &AppState,
    workspace_id: &str,
    phone: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    let Some(phone) = phone else { return Ok(()) };
    let mut seen = last_inbound(state, workspace_id).await?;
    seen.insert(phone.to_owned(), now);
    let json = serde_json::to_string(&seen).unwrap_or_default();
    state
        .store
        .put_setting(workspace_id, INBOUND, &json, now)
        .await
}

fn reason_text(reason: &str) -> &'static str {
    match reason {
        "customer_request" => "asked for a person",
        "kb_miss" => "has a question the knowledge base cannot answer",
        _ => "needs help the bot could not give",
    }
}

/// Queues a notification to every listed agent number for a new handoff.
pub async fn handoff_created(
    state: &AppState,
    handoff: &HandoffRecord,
) -> Result<usize, StoreError> {
    let ws = &handoff.workspace_id;
    let settings = settings(state, ws).await?.whatsapp;
    let Some(channel_id) = settings.channel_id.filter(|_| settings.enabled) else {
        return Ok(0);
    };
    let seen = last_inbound(state, ws).await?;
    let now = state.clock.now_ms();
    let link = format!("{}/handoffs/{}", state.config.public_url, handoff.id);
    for to in &settings.recipients {
        let in_window = seen.get(to).is_some_and(|at| now - at < WINDOW_MS);
        let template = json!({
            "name": settings.template.name,
            "language": settings.template.language,
            "parameters": [handoff.customer_name, reason_text(&handoff.reason), link],
        });
        let payload = if in_window {
            json!({
                "channel_id": channel_id,
                "to": to,
                // If WhatsApp says the window closed after all (131047), the template goes.
                "fallback_template": template,
                "text": format!(
                    "New handoff: {} {}. {}\n{}",
                    handoff.customer_name,
                    reason_text(&handoff.reason),
                    handoff.summary.split(". ").next().unwrap_or_default(),
                    link
                ),
            })
        } else {
            json!({"channel_id": channel_id, "to": to, "template": template})
        };
        let delivery = NewDelivery {
            kind: "whatsapp.notify",
            message_id: None,
            handoff_id: Some(&handoff.id),
            payload: payload.to_string(),
        };
        state.store.enqueue(ws, delivery, now).await?;
    }
    state.outbox_wake.notify_one();
    Ok(settings.recipients.len())
}

/// The agent's window had closed after all (WhatsApp refused the free text, at once or later
/// in a `failed` status): queues the approved template the notification carries instead.
pub async fn fall_back_to_template(
    state: &AppState,
    notification: &OutboxRecord,
    now: i64,
) -> Result<(), StoreError> {
    let mut payload: serde_json::Value =
        serde_json::from_str(&notification.payload).unwrap_or_default();
    let Some(template) = payload
        .get("fallback_template")
        .filter(|t| !t.is_null())
        .cloned()
    else {
        return Ok(());
    };
    payload["template"] = template;
    payload["text"] = serde_json::Value::Null;
    payload["fallback_template"] = serde_json::Value::Null;
    let retry = NewDelivery {
        kind: "whatsapp.notify",
        message_id: None,
        handoff_id: notification.handoff_id.as_deref(),
        payload: payload.to_string(),
    };
    state
        .store
        .enqueue(&notification.workspace_id, retry, now)
        .await?;
    state.outbox_wake.notify_one();
    Ok(())
}

/// A status report for a notification we sent: shown with the handoff; a late refusal for
/// the window sends the template. Answers whether it moved one.
pub async fn status_arrived(
    state: &AppState,
    workspace_id: &str,
    status: &StatusUpdate,
    now: i64,
) -> Result<bool, StoreError> {
    let moved = state
        .store
        .notification_status(
            workspace_id,
            &status.wamid,
            &status.status,
            status.error.as_deref(),
        )
        .await?;
    let Some(notification) = moved else {
        return Ok(false);
    };
    if status.status == "failed" && status.code == Some(RE_ENGAGEMENT) {
        fall_back_to_template(state, &notification, now).await?;
    }
    Ok(true)
}
