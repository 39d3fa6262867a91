//! Telling agents on WhatsApp that a handoff is waiting, or was passed to them. WhatsApp's
//! 24-hour rule applies to agents too: an agent who wrote to the business number within a day
//! gets free text, anyone else the approved template. Notifications go through the outbox like
//! any message, so a failure is retried, recorded and shown, and never touches the handoff
//! itself.

use std::collections::BTreeMap;

use serde_json::json;

use super::whatsapp::StatusUpdate;
use crate::bot::summary::short;
use crate::domain::handoff::{Action, Actor, Refusal, Status};
use crate::domain::settings::NotificationSettings;
use crate::state::AppState;
use crate::store::{HandoffRecord, NewDelivery, OutboxRecord, StoreError};

/// WhatsApp's "more than 24 hours since the recipient wrote" refusal.
pub const RE_ENGAGEMENT: i64 = 131047;

/// WhatsApp's customer-service window.
pub const WINDOW_MS: i64 = crate::domain::WHATSAPP_WINDOW_MS;
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
    // Numbers on someone's account can claim from WhatsApp; others are only told.
    let linked: Vec<String> = state
        .store
        .list_users(ws)
        .await?
        .into_iter()
        .filter_map(|u| u.whatsapp_number)
        .collect();
    let taps = [Tap::Accept, Tap::Decline].map(|tap| tap.id(&handoff.id));
    // A list saved before numbers were deduplicated on save may still name one twice.
    let mut notified = std::collections::HashSet::new();
    for to in settings.recipients.iter().filter(|to| notified.insert(*to)) {
        let in_window = crate::domain::whatsapp_window_open(seen.get(to).copied(), now);
        let mut template = json!({
            "name": settings.template.name,
            "language": settings.template.language,
            "parameters": [handoff.customer_name, reason_text(&handoff.reason), link],
        });
        if settings.template.quick_replies {
            template["quick_replies"] = json!(taps);
        }
        let text = format!(
            "New handoff: {} {}. {}\n{}",
            handoff.customer_name,
            reason_text(&handoff.reason),
            // A model's summary can be long; a message with buttons takes 1024 characters.
            short(handoff.summary.split(". ").next().unwrap_or_default()),
            link
        );
        let mut payload = notification(&channel_id, to, in_window, template, text);
        if in_window && linked.contains(to) {
            payload["buttons"] = json!([[taps[0], "Accept"], [taps[1], "Decline"]]);
        }
        enqueue(state, handoff, payload, now).await?;
    }
    state.outbox_wake.notify_one();
    Ok(settings.recipients.len())
}

/// Tells the member a handoff was passed or assigned to, at the WhatsApp number on their
/// account, when the workspace sends notifications: the new-handoff template with "was handed
/// to you by Ana" (`by`, id and name) or "was assigned to you" (automatically, `None`) as its
/// reason, or free text inside their 24-hour window. No Accept/Decline: it is theirs already.
/// Someone who moved it to themselves is not told. Answers whether a notification was queued.
pub async fn handoff_given(
    state: &AppState,
    handoff: &HandoffRecord,
    by: Option<(&str, &str)>,
) -> Result<bool, StoreError> {
    let ws = &handoff.workspace_id;
    let settings = settings(state, ws).await?.whatsapp;
    let Some(channel_id) = settings.channel_id.filter(|_| settings.enabled) else {
        return Ok(false);
    };
    let by_holder = |holder: &str| by.is_some_and(|(id, _)| id == holder);
    let Some(holder) = handoff.claimed_by.as_deref().filter(|h| !by_holder(h)) else {
        return Ok(false);
    };
    let Some(to) = state.store.user(ws, holder).await?.whatsapp_number else {
        return Ok(false);
    };
    let now = state.clock.now_ms();
    let in_window =
        crate::domain::whatsapp_window_open(last_inbound(state, ws).await?.get(&to).copied(), now);
    let link = format!("{}/handoffs/{}", state.config.public_url, handoff.id);
    let customer = &handoff.customer_name;
    let (reason, text) = match by {
        Some((_, by_name)) => (
            format!("was handed to you by {by_name}"),
            format!("{by_name} passed you a handoff: {customer}.\n{link}"),
        ),
        None => (
            "was assigned to you".to_owned(),
            format!("A handoff was assigned to you: {customer}.\n{link}"),
        ),
    };
    let template = json!({
        "name": settings.template.name,
        "language": settings.template.language,
        "parameters": [customer, reason, link],
    });
    let payload = notification(&channel_id, &to, in_window, template, text);
    enqueue(state, handoff, payload, now).await?;
    state.outbox_wake.notify_one();
    Ok(true)
}

/// A notification to one agent number: free text inside their window — with the template to
/// fall back on if WhatsApp says the window closed after all (131047) — else the template.
fn notification(
    channel_id: &str,
    to: &str,
    in_window: bool,
    template: serde_json::Value,
    text: String,
) -> serde_json::Value {
    if in_window {
        json!({"channel_id": channel_id, "to": to, "fallback_template": template, "text": text})
    } else {
        json!({"channel_id": channel_id, "to": to, "template": template})
    }
}

async fn enqueue(
    state: &AppState,
    handoff: &HandoffRecord,
    payload: serde_json::Value,
    now: i64,
) -> Result<(), StoreError> {
    let delivery = NewDelivery {
        kind: "whatsapp.notify",
        message_id: None,
        handoff_id: Some(&handoff.id),
        payload: payload.to_string(),
    };
    state
        .store
        .enqueue(&handoff.workspace_id, delivery, now)
        .await
}

/// A notification's button: what the agent answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tap {
    Accept,
    Decline,
}

impl Tap {
    /// The button's id (interactive) or payload (template): `accept:hnd_…`.
    fn id(self, handoff_id: &str) -> String {
        match self {
            Tap::Accept => format!("accept:{handoff_id}"),
            Tap::Decline => format!("decline:{handoff_id}"),
        }
    }

    fn parse(id: &str) -> Option<(Tap, &str)> {
        let (tap, handoff_id) = id.split_once(':')?;
        let tap = match tap {
            "accept" => Tap::Accept,
            "decline" => Tap::Decline,
            _ => return None,
        };
        Some((tap, handoff_id)).filter(|(_, id)| id.starts_with("hnd_"))
    }
}

/// The payload field that marks the answer to an agent's tap.
pub const TAP_REPLY: &str = "tap_reply";

/// An agent tapped Accept or Decline on a notification: Accept claims the handoff for the
/// member whose account has this number — exactly as the dashboard's Claim, so of two agents
/// tapping at once one gets it and the other is told who did. The agent gets a one-line
/// answer either way (their window is open: they just wrote). Other taps are ignored.
pub async fn agent_tapped(
    state: &AppState,
    workspace_id: &str,
    channel_id: &str,
    phone: &str,
    reply_id: &str,
) -> Result<(), StoreError> {
    let Some((tap, handoff_id)) = Tap::parse(reply_id) else {
        return Ok(());
    };
    let link = format!("{}/handoffs/{handoff_id}", state.config.public_url);
    let handoff = match state.store.handoff(workspace_id, handoff_id).await {
        Ok(handoff) => handoff,
        Err(StoreError::NotFound(_)) => return Ok(()),
        Err(err) => return Err(err),
    };
    let customer = &handoff.customer_name;
    let user = state.store.user_by_whatsapp(workspace_id, phone).await?;
    let text = match (tap, user) {
        (Tap::Decline, _) => match Status::parse(&handoff.status) {
            Some(Status::Pending) => {
                format!("OK: {customer}'s handoff stays in the queue for the others.")
            }
            Some(Status::Resolved) => format!("OK. {customer}'s handoff is already resolved."),
            _ => format!("OK. Someone has already taken {customer}'s handoff."),
        },
        (Tap::Accept, None) => format!(
            "This number is not on anyone's Baton account, so it cannot claim handoffs. Add it \
             on your Account page, or claim {customer}'s handoff in the dashboard: {link}"
        ),
        (Tap::Accept, Some(user)) => {
            let actor = Actor {
                user_id: &user.id,
                is_admin: user.role().is_admin(),
            };
            let claimed = state
                .store
                .act_on_handoff(
                    workspace_id,
                    handoff_id,
                    actor,
                    &user.name,
                    Action::Claim,
                    state.clock.now_ms(),
                )
                .await;
            match claimed {
                Ok(_) => format!("{customer} is yours. Open the conversation to reply: {link}"),
                Err(StoreError::Refused(Refusal::AlreadyClaimed { holder }))
                    if holder == user.id =>
                {
                    format!("{customer} is already yours: {link}")
                }
                Err(StoreError::Refused(Refusal::AlreadyClaimed { holder })) => {
                    let who = state
                        .store
                        .user(workspace_id, &holder)
                        .await
                        .map_or_else(|_| "Another agent".to_owned(), |u| u.name);
                    format!("{who} already took {customer}'s handoff.")
                }
                Err(StoreError::Refused(Refusal::Closed)) => {
                    format!("{customer}'s handoff is already resolved.")
                }
                Err(err) => return Err(err),
            }
        }
    };
    // Tied to the handoff, so erasing the customer deletes it (it names them); marked as a
    // reply, so it is not listed among the notifications.
    let delivery = NewDelivery {
        kind: "whatsapp.notify",
        message_id: None,
        handoff_id: Some(handoff_id),
        payload: json!({"channel_id": channel_id, "to": phone, "text": text, TAP_REPLY: true})
            .to_string(),
    };
    state
        .store
        .enqueue(workspace_id, delivery, state.clock.now_ms())
        .await?;
    state.outbox_wake.notify_one();
    Ok(())
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
