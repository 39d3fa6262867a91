//! The delivery worker: sends what the outbox holds, records every outcome on the message,
//! and retries what can succeed later with exponential backoff. Rows are claimed with a lease,
//! so several nodes can run workers on one database; a row whose sender died is picked up
//! again when its lease runs out (at-least-once: a crash between Meta's 200 and our write can
//! send a message twice, never zero times).

use std::time::Duration;

use serde_json::Value;

use super::whatsapp::{self, Graph, Number, Recipient, SendError};
use crate::state::AppState;
use crate::store::{AttachmentRecord, OutboxRecord, StoreError};

/// Deliveries claimed at once; they are sent one after another.
const BATCH: i64 = 5;
/// How long a claimed delivery is ours before another worker may take it: long enough for the
/// whole batch to time out one by one — each an agent's file uploaded and then sent — so a
/// slow Graph API never lets a second worker send the end of a batch the first is still
/// working through.
const LEASE_MS: i64 = BATCH
    * ((whatsapp::UPLOAD_TIMEOUT.as_millis() + whatsapp::SEND_TIMEOUT.as_millis()) as i64 + 10_000);
/// Attempts before a transient failure counts as final: with [`backoff_ms`], about six hours
/// of trying, so an outage at Meta's end of an afternoon loses no reply. After that the
/// message shows `failed` and an agent may send it again.
pub const MAX_ATTEMPTS: i64 = 45;
/// Attempts for an agent notification: about 17 minutes. Later than that it would announce a
/// handoff someone has long taken.
const NOTIFY_MAX_ATTEMPTS: i64 = 10;

/// Backoff after the n-th failed attempt: 2 s, 4 s, 8 s … capped at 10 minutes.
pub fn backoff_ms(attempts: i64) -> i64 {
    (1_000i64 << attempts.clamp(1, 10)).min(600_000)
}

/// Starts the worker; it stops with the server.
pub fn spawn(state: &AppState) {
    super::run_worker(
        state,
        "outbox",
        state.outbox_wake.clone(),
        Duration::from_millis(500),
        |state| async move { run_due(&state, &state.whatsapp).await },
    );
}

/// Sends every delivery that is due now; answers how many it handled.
pub async fn run_due(state: &AppState, graph: &Graph) -> Result<usize, StoreError> {
    let now = state.clock.now_ms();
    let due = state.store.claim_deliveries(now, LEASE_MS, BATCH).await?;
    let handled = due.len();
    for delivery in due {
        let span = tracing::info_span!("deliver", workspace_id = %delivery.workspace_id, kind = %delivery.kind);
        let _entered = span.enter();
        let outcome = attempt(state, graph, &delivery).await;
        if let Err(err) = record(state, &delivery, outcome).await {
            tracing::error!(error = %err, delivery = %delivery.id, "outbox: could not record an outcome");
        }
    }
    Ok(handled)
}

/// What one attempt gave.
enum Outcome {
    Sent(String),
    Failed(SendError),
}

async fn attempt(state: &AppState, graph: &Graph, delivery: &OutboxRecord) -> Outcome {
    match build(state, graph, delivery).await {
        Ok((number, body)) => match graph.send(&number, &body).await {
            Ok(wamid) => Outcome::Sent(wamid),
            Err(err) => Outcome::Failed(err),
        },
        Err(err) => Outcome::Failed(err),
    }
}

/// A delivery that cannot be built: for good when what it names is gone or malformed, for
/// now when the database could not be read (a blip must not fail a message for good).
fn unbuildable(err: impl std::fmt::Display, transient: bool) -> SendError {
    SendError {
        code: None,
        message: err.to_string(),
        transient,
    }
}

fn store_failure(err: StoreError) -> SendError {
    let transient = !matches!(err, StoreError::NotFound(_));
    unbuildable(err, transient)
}

/// The number to send from and the Graph request body.
async fn build(
    state: &AppState,
    graph: &Graph,
    delivery: &OutboxRecord,
) -> Result<(Number, Value), SendError> {
    let payload: Value =
        serde_json::from_str(&delivery.payload).map_err(|e| unbuildable(e, false))?;
    let ws = &delivery.workspace_id;
    let (channel_id, to) = match delivery.kind.as_str() {
        "whatsapp.message" => {
            let conversation_id = payload["conversation_id"].as_str().unwrap_or_default();
            let conversation = state
                .store
                .conversation(ws, conversation_id)
                .await
                .map_err(store_failure)?;
            let contact = state
                .store
                .contact(ws, &conversation.contact_id)
                .await
                .map_err(store_failure)?;
            let to = match contact.phone {
                Some(phone) => Recipient::Phone(phone),
                None => Recipient::User(contact.external_id),
            };
            let channel_id = conversation
                .channel_id
                .ok_or_else(|| unbuildable("the conversation has no channel", false))?;
            (channel_id, to)
        }
        "whatsapp.notify" => (
            payload["channel_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            Recipient::Phone(payload["to"].as_str().unwrap_or_default().to_owned()),
        ),
        other => return Err(unbuildable(format!("unknown delivery kind {other}"), false)),
    };
    let number = number_of(state, ws, &channel_id).await?;
    let strings = |list: Option<&Value>| -> Vec<String> {
        list.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect()
    };
    let text = payload["text"].as_str().unwrap_or_default();
    if let Some(attachment_id) = payload["attachment_id"].as_str() {
        let (attachment, media_id) =
            uploaded(state, graph, &number, &channel_id, ws, attachment_id).await?;
        let body = whatsapp::media_body(
            &to,
            &attachment.kind,
            &media_id,
            attachment.filename.as_deref(),
        );
        return Ok((number, body));
    }
    let body = match payload["template"].as_object() {
        Some(template) => whatsapp::template_body(
            &to,
            template
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            template
                .get("language")
                .and_then(Value::as_str)
                .unwrap_or("en_US"),
            &strings(template.get("parameters")),
            &strings(template.get("quick_replies")),
        ),
        None => match payload["buttons"].as_array() {
            // `[[id, title], …]`: the notification's Accept and Decline.
            Some(buttons) => {
                let buttons: Vec<(String, String)> = buttons
                    .iter()
                    .filter_map(|b| {
                        let pair = strings(Some(b));
                        Some((pair.first()?.clone(), pair.get(1)?.clone()))
                    })
                    .collect();
                whatsapp::buttons_body(&to, text, &buttons)
            }
            None => whatsapp::text_body(&to, text),
        },
    };
    Ok((number, body))
}

/// An agent's file and its WhatsApp media id: uploaded from the conversation's number on the
/// first attempt, the id kept (with the channel it belongs to) so that a retry sends the same
/// upload; uploaded again if the conversation has moved to another number since, or an agent
/// sends a failed message again.
async fn uploaded(
    state: &AppState,
    graph: &Graph,
    number: &Number,
    channel_id: &str,
    workspace_id: &str,
    attachment_id: &str,
) -> Result<(AttachmentRecord, String), SendError> {
    let attachment = state
        .store
        .attachment(workspace_id, attachment_id)
        .await
        .map_err(store_failure)?;
    if let (Some(media_id), Some(from)) = (&attachment.media_id, &attachment.channel_id)
        && from == channel_id
    {
        let media_id = media_id.clone();
        return Ok((attachment, media_id));
    }
    let (_, content) = state
        .store
        .attachment_content(workspace_id, attachment_id)
        .await
        .map_err(store_failure)?;
    let content = content.ok_or_else(|| unbuildable("the file has no content", false))?;
    let filename = attachment.filename.as_deref().unwrap_or(&attachment.kind);
    let media_id = graph
        .upload_media(number, &attachment.mime_type, filename, content)
        .await?;
    state
        .store
        .set_media_id(&attachment.id, channel_id, &media_id)
        .await
        .map_err(store_failure)?;
    Ok((attachment, media_id))
}

/// The WhatsApp number of a channel of this workspace, with its token.
pub(crate) async fn number_of(
    state: &AppState,
    workspace_id: &str,
    channel_id: &str,
) -> Result<Number, SendError> {
    let channel = state
        .store
        .channel(channel_id)
        .await
        .map_err(store_failure)?;
    if channel.workspace_id != workspace_id {
        return Err(unbuildable(
            "the channel belongs to another workspace",
            false,
        ));
    }
    Number::open(&state.secret_key, &channel.config).map_err(|e| unbuildable(e, false))
}

async fn record(
    state: &AppState,
    delivery: &OutboxRecord,
    outcome: Outcome,
) -> Result<(), StoreError> {
    let now = state.clock.now_ms();
    let ws = &delivery.workspace_id;
    let message = delivery.message_id.as_deref();
    match outcome {
        Outcome::Sent(wamid) => {
            state
                .store
                .finish_delivery(ws, &delivery.id, message, Ok(&wamid), now)
                .await?;
            // WhatsApp's first report can come before this answer was recorded. The send is
            // recorded either way: a report that cannot be applied now is only logged.
            if let Err(err) = super::apply_held_statuses(state, ws, &wamid, now).await {
                tracing::warn!(error = %err, "could not apply a report that came before its send was recorded");
            }
            Ok(())
        }
        Outcome::Failed(err) if err.transient && delivery.attempts < max_attempts(delivery) => {
            tracing::warn!(error = %err, attempts = delivery.attempts, "delivery failed; will retry");
            let at = now + backoff_ms(delivery.attempts);
            state
                .store
                .retry_delivery(&delivery.id, at, &err.to_string())
                .await
        }
        Outcome::Failed(err)
            if err.code == Some(super::notify::RE_ENGAGEMENT)
                && delivery.kind == "whatsapp.notify" =>
        {
            super::notify::fall_back_to_template(state, delivery, now).await?;
            state
                .store
                .finish_delivery(ws, &delivery.id, None, Err(&err.to_string()), now)
                .await
        }
        Outcome::Failed(err) => {
            tracing::warn!(error = %err, attempts = delivery.attempts, "delivery failed for good");
            state
                .store
                .finish_delivery(ws, &delivery.id, message, Err(&err.to_string()), now)
                .await
        }
    }
}

fn max_attempts(delivery: &OutboxRecord) -> i64 {
    if delivery.kind == "whatsapp.notify" {
        NOTIFY_MAX_ATTEMPTS
    } else {
        MAX_ATTEMPTS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_is_tried_for_about_six_hours() {
        let waited: i64 = (1..MAX_ATTEMPTS).map(backoff_ms).sum();
        assert!(
            (6 * 3_600_000..7 * 3_600_000).contains(&waited),
            "{waited} ms"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(30), 600_000);
    }
}
