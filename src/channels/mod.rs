//! Channels other than the widget: WhatsApp ([`whatsapp`]), the outbox worker that delivers
//! to them ([`outbox`]), and agent notifications of new handoffs ([`notify`]). Customer
//! messages from any channel go through the same loop as the widget's
//! ([`crate::conversation`]).

pub mod media;
pub mod notify;
pub mod outbox;
pub mod typing;
pub mod whatsapp;

use std::collections::HashMap;

use serde_json::Value;

use crate::conversation;
use crate::domain::rating;
use crate::state::AppState;
use crate::store::{ChannelRecord, HeldStatus, NewAttachment, NewMessage, StoreError};
use whatsapp::{Inbound, Number, StatusUpdate};

/// Runs a queue worker until the server stops: `run` handles what is due and answers how
/// many it handled; with nothing handled the worker waits for `wake`, at most `idle`.
pub(crate) fn run_worker<F, Fut>(
    state: &AppState,
    name: &'static str,
    wake: std::sync::Arc<tokio::sync::Notify>,
    idle: std::time::Duration,
    run: F,
) where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<usize, StoreError>> + Send,
{
    let state = state.clone();
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        loop {
            match run(state.clone()).await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(err) => tracing::warn!(error = %err, worker = name, "could not read the queue"),
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => return,
            }
        }
    });
}

/// What a webhook body held, once processed.
#[derive(Debug, Default)]
pub struct Processed {
    pub stored: usize,
    pub duplicates: usize,
    pub statuses: usize,
    /// Reports for a message whose send Baton has not finished recording: applied when it has.
    pub held: usize,
}

/// Stores every customer message of a WhatsApp webhook (idempotently on wamid), applies every
/// status, and starts the bot where it should answer.
pub async fn receive_whatsapp(
    state: &AppState,
    channel: &ChannelRecord,
    number: &Number,
    body: &Value,
) -> Result<Processed, StoreError> {
    let (inbound, statuses) = whatsapp::parse(body);
    let others = sibling_numbers(state, channel, number, &inbound).await?;
    let mut processed = Processed::default();
    let now = state.clock.now_ms();
    for message in inbound {
        // Meta sends every number of an app to the one callback URL the app has: a message
        // for another connected number of the workspace goes to that number's bot.
        let (channel, number) = message
            .to
            .as_ref()
            .and_then(|to| others.get(to))
            .map_or((channel, number), |(c, n)| (c, n));
        if notify::is_agent_number(state, &channel.workspace_id, message.phone.as_deref()).await? {
            notify::agent_wrote(state, &channel.workspace_id, message.phone.as_deref(), now)
                .await?;
            mark_read(state, number, &message, false);
            if let (Some(phone), Some(reply_id)) = (&message.phone, &message.reply_id) {
                notify::agent_tapped(state, &channel.workspace_id, &channel.id, phone, reply_id)
                    .await?;
            }
            continue;
        }
        // Whether the customer wrote to this very number (not to one Baton does not know, whose
        // message only came to this number's URL).
        let addressed = message
            .to
            .as_ref()
            .is_none_or(|to| *to == number.phone_number_id);
        match store_inbound(state, channel, &message, addressed).await? {
            Some(bot_answers) => {
                processed.stored += 1;
                mark_read(state, number, &message, bot_answers);
            }
            None => processed.duplicates += 1,
        }
    }
    let workspace_id = &channel.workspace_id;
    for status in statuses {
        if apply_status(state, workspace_id, &status, now).await? {
            processed.statuses += 1;
        } else if state.store.knows_wamid(workspace_id, &status.wamid).await? {
            // Known, but maybe only since the lookup (the send was recorded in between): once
            // more, then. A report applied twice moves nothing the second time.
            if apply_status(state, workspace_id, &status, now).await? {
                processed.statuses += 1;
            }
        } else {
            hold_status(state, workspace_id, status, now).await?;
            processed.held += 1;
        }
    }
    Ok(processed)
}

/// Applies a report on a message or notification Baton sent; answers whether it was one of a
/// message's (moved or not), or moved a notification's status.
async fn apply_status(
    state: &AppState,
    workspace_id: &str,
    status: &StatusUpdate,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(id) = state
        .store
        .message_by_external_id(workspace_id, &status.wamid)
        .await?
    else {
        return notify::status_arrived(state, workspace_id, status, now).await;
    };
    state
        .store
        .set_delivery_status(
            workspace_id,
            &id,
            &status.status,
            status.error.as_deref(),
            now,
        )
        .await?;
    Ok(true)
}

/// Keeps a report that overtook the answer to its send. If the send was recorded meanwhile
/// (between the lookup and the hold), the report is applied at once: whichever of the two
/// sides takes it applies it.
async fn hold_status(
    state: &AppState,
    workspace_id: &str,
    status: StatusUpdate,
    now: i64,
) -> Result<(), StoreError> {
    let wamid = status.wamid.clone();
    let held = HeldStatus {
        wamid: status.wamid,
        status: status.status,
        error: status.error,
        code: status.code,
        received_at: now,
    };
    state.store.hold_status(workspace_id, &held).await?;
    if state.store.knows_wamid(workspace_id, &wamid).await? {
        apply_held_statuses(state, workspace_id, &wamid, now).await?;
    }
    Ok(())
}

/// Applies the reports held for a wamid, once the message or notification it is has been
/// recorded as sent. A report is let go only once applied (or once what it reports on is gone,
/// its customer erased); one that could not be applied stays until the hold runs out.
pub(crate) async fn apply_held_statuses(
    state: &AppState,
    workspace_id: &str,
    wamid: &str,
    now: i64,
) -> Result<(), StoreError> {
    for held in state.store.held_statuses(workspace_id, wamid).await? {
        let status = StatusUpdate {
            wamid: held.wamid.clone(),
            status: held.status.clone(),
            error: held.error.clone(),
            code: held.code,
        };
        match apply_status(state, workspace_id, &status, now).await {
            Ok(_) | Err(StoreError::NotFound(_)) => {}
            Err(err) => return Err(err),
        }
        state.store.drop_held_status(workspace_id, &held).await?;
    }
    Ok(())
}

/// The workspace's other WhatsApp numbers that messages of this body were sent to, by phone
/// number id. Only numbers of the same Meta app count: the body's signature proves the app's
/// secret, not any other. A message for a number Baton does not know stays with the channel
/// whose URL it came to.
async fn sibling_numbers(
    state: &AppState,
    channel: &ChannelRecord,
    number: &Number,
    inbound: &[Inbound],
) -> Result<HashMap<String, (ChannelRecord, Number)>, StoreError> {
    let mut found = HashMap::new();
    if inbound
        .iter()
        .all(|m| m.to.as_ref().is_none_or(|to| *to == number.phone_number_id))
    {
        return Ok(found);
    }
    for other in state.store.list_channels(&channel.workspace_id).await? {
        if other.id == channel.id || other.kind != "whatsapp" {
            continue;
        }
        let Ok(theirs) = Number::open(&state.secret_key, &other.config) else {
            continue;
        };
        if theirs.app_secret == number.app_secret {
            found.insert(theirs.phone_number_id.clone(), (other, theirs));
        }
    }
    Ok(found)
}

/// Stores one inbound message; `Some(bot_answers)` when new, `None` for a redelivery.
/// `addressed`: the customer wrote to this channel's number, so answers go out from it.
async fn store_inbound(
    state: &AppState,
    channel: &ChannelRecord,
    message: &Inbound,
    addressed: bool,
) -> Result<Option<bool>, StoreError> {
    let now = state.clock.now_ms();
    // A customer first seen by phone number (`wa_id`) stays the same contact — and keeps their
    // conversation and any open handoff — when Meta starts sending a business-scoped user id.
    let wa_id = message.phone.as_deref().map(|p| p.trim_start_matches('+'));
    let key = match wa_id {
        Some(wa_id)
            if wa_id != message.contact_key
                && state
                    .store
                    .has_contact(&channel.workspace_id, "whatsapp", wa_id)
                    .await? =>
        {
            wa_id
        }
        _ => message.contact_key.as_str(),
    };
    let contact = state
        .store
        .upsert_contact(
            &channel.workspace_id,
            "whatsapp",
            key,
            &message.name,
            message.phone.as_deref(),
            now,
        )
        .await?;
    let mut conversation = state
        .store
        .conversation_for(&contact, &channel.bot_id, Some(&channel.id), now)
        .await?;
    // Answers go back through the number the customer last wrote to: another number of the
    // bot, or the same number connected again after its old channel was disconnected.
    if addressed && conversation.channel_id.as_deref() != Some(channel.id.as_str()) {
        state
            .store
            .set_conversation_channel(&channel.workspace_id, &conversation.id, &channel.id)
            .await?;
        conversation.channel_id = Some(channel.id.clone());
    }
    // A tap on a rating button is kept as the customer's message (the bot does not answer it).
    let rated = message.reply_id.as_deref().and_then(rating::parse_button);
    let new = NewMessage {
        kind: if rated.is_some() {
            rating::TAP_KIND
        } else {
            &message.kind
        },
        external_id: Some(&message.wamid),
        ..NewMessage::text("customer", &contact.name, &message.text)
    };
    let stored = conversation::receive(state, &conversation, new).await?;
    if let Some((request, score)) = rated {
        // Also for a redelivery, like the attachment below, whose first delivery may have
        // stopped before the rating was written: the tap's place in the conversation decides
        // whether it is still the latest answer.
        let tap_seq = match &stored {
            Some(stored) => Some(stored.message.seq),
            None => state
                .store
                .message_with_external_id(&conversation.id, &message.wamid)
                .await?
                .map(|m| m.seq),
        };
        let outcome = state
            .store
            .rate(
                &channel.workspace_id,
                &conversation.id,
                request,
                score,
                None,
                tap_seq,
                now,
            )
            .await;
        match outcome {
            Ok(_) => {}
            // A tap on a week-old question, or on one erased since, is only a message.
            Err(err @ (StoreError::NotFound(_) | StoreError::Conflict(_))) => {
                tracing::info!(error = %err, "a rating tap was not taken");
            }
            Err(err) => return Err(err),
        }
    }
    if let Some(media) = &message.media {
        // Also for a redelivery: the first delivery may have stopped between the two writes.
        let message_id = match &stored {
            Some(stored) => Some(stored.message.id.clone()),
            None => state
                .store
                .message_with_external_id(&conversation.id, &message.wamid)
                .await?
                .map(|m| m.id),
        };
        if let Some(message_id) = message_id {
            let attachment = NewAttachment {
                workspace_id: &channel.workspace_id,
                message_id: &message_id,
                conversation_id: &conversation.id,
                channel_id: &channel.id,
                media_id: &media.id,
                kind: &message.kind,
                mime_type: &media.mime_type,
                filename: media.filename.as_deref(),
                sha256: media.sha256.as_deref(),
            };
            state.store.add_attachment(attachment, now).await?;
            state.media_wake.notify_one();
        }
    }
    Ok(stored.map(|s| s.needs_answer))
}

/// Tells WhatsApp the message was read (and that a reply is being typed, when the bot will
/// answer). Best effort: a failure here loses nothing.
fn mark_read(state: &AppState, number: &Number, message: &Inbound, typing: bool) {
    let graph = state.whatsapp.clone();
    let number = number.clone();
    let body = whatsapp::read_body(&message.wamid, typing);
    tokio::spawn(async move {
        if let Err(err) = graph.send(&number, &body).await {
            tracing::debug!(error = %err, "could not mark a WhatsApp message read");
        }
    });
}
