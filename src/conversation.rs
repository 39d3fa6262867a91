//! The loop every channel shares: a customer message is stored, then — only if the
//! conversation is still the bot's — the responder runs and its reply is stored under the same
//! condition, checked again at the moment of writing. A reply computed while a handoff began
//! is dropped, so the bot never talks over a person.

use tracing::Instrument;

use crate::bot::{Reply, Turn, decline_text, handoff_text};
use crate::channels::{notify, whatsapp};
use crate::domain::handoff::Reason;
use crate::marketplace::REQUEST_HANDOFF;
use crate::state::AppState;
use crate::store::{ConversationRecord, CustomerMessage, MessageRecord, NewMessage, StoreResult};

/// Stores a customer's message and, if the bot holds the conversation, starts its answer in
/// the background. Returns once the message is durable; `None` for a redelivery.
pub async fn receive(
    state: &AppState,
    conversation: &ConversationRecord,
    message: NewMessage<'_>,
) -> StoreResult<Option<CustomerMessage>> {
    let stored = state
        .store
        .add_customer_message(conversation, message, state.clock.now_ms())
        .await?;
    if let Some(CustomerMessage {
        message,
        conversation,
    }) = &stored
        && conversation.active_handoff_id.is_none()
    {
        let state = state.clone();
        let (conversation, message) = (conversation.clone(), message.clone());
        let span = tracing::info_span!(
            "bot_turn",
            workspace_id = %conversation.workspace_id,
            conversation_id = %conversation.id,
        );
        tokio::spawn(
            async move {
                if let Err(err) = bot_turn(&state, &conversation, &message).await {
                    tracing::error!(error = %err, "the bot could not answer");
                }
            }
            .instrument(span),
        );
    }
    Ok(stored)
}

/// What became of a bot turn.
#[derive(Debug)]
pub enum Outcome {
    Answered(MessageRecord),
    HandedOff(MessageRecord),
    /// The conversation changed hands while the bot was thinking; nothing was sent.
    Dropped,
}

/// Runs the responder on `message` as the conversation stood (`seen`) and stores the result
/// only if the conversation still stands that way.
pub async fn bot_turn(
    state: &AppState,
    seen: &ConversationRecord,
    message: &MessageRecord,
) -> StoreResult<Outcome> {
    let bot = state.store.bot(&seen.workspace_id, &seen.bot_id).await?;
    let handoff_enabled = state
        .store
        .enabled_tools(&bot.id)
        .await?
        .iter()
        .any(|slug| slug == REQUEST_HANDOFF);
    let history = state
        .store
        .messages_after(&seen.id, seen.context_seq, 200)
        .await?;
    let history: Vec<MessageRecord> = history
        .into_iter()
        .filter(|m| m.seq <= message.seq)
        .collect();
    let turn = Turn {
        bot: &bot,
        handoff_enabled,
        history: &history,
        message: &message.text,
    };
    let reply = if message.kind == "reaction" {
        // A thumbs-up needs no answer.
        return Ok(Outcome::Dropped);
    } else if !whatsapp::bot_readable(&message.kind) {
        Ok(Reply::Answer(
            "Thanks! I can only read text messages: could you type your question?".to_owned(),
        ))
    } else {
        state.responder.respond(turn).await
    };
    let reply = match reply {
        Ok(reply) => reply,
        Err(err) => {
            tracing::warn!(error = %err, "responder failed");
            if handoff_enabled {
                Reply::Handoff {
                    reason: Reason::BotError,
                    summary: format!(
                        "The customer asked: “{}”. The bot failed to answer ({err}). \
                         Reason: the bot failed to answer.",
                        message.text
                    ),
                }
            } else {
                Reply::Answer(decline_text(Reason::BotError))
            }
        }
    };
    let now = state.clock.now_ms();
    let outcome = match reply {
        Reply::Answer(text) => state
            .store
            .add_bot_message(seen, NewMessage::text("bot", &bot.name, &text), now)
            .await?
            .map_or(Outcome::Dropped, Outcome::Answered),
        Reply::Handoff { reason, summary } if handoff_enabled => {
            let text = handoff_text(&bot);
            let opened = state
                .store
                .open_handoff(
                    seen,
                    NewMessage::text("bot", &bot.name, &text),
                    reason,
                    &summary,
                    now,
                )
                .await?;
            match opened {
                Some((message, handoff)) => {
                    tracing::info!(handoff_id = %handoff.id, reason = reason.as_str(), "handed off");
                    metrics::counter!("baton_handoffs_total", "reason" => reason.as_str())
                        .increment(1);
                    // Telling agents must never hold up or undo the handoff.
                    if let Err(err) = notify::handoff_created(state, &handoff).await {
                        tracing::error!(error = %err, handoff_id = %handoff.id, "could not queue agent notifications");
                    }
                    Outcome::HandedOff(message)
                }
                None => Outcome::Dropped,
            }
        }
        // A responder may not hand off when the tool is off; say so honestly instead.
        Reply::Handoff { reason, .. } => state
            .store
            .add_bot_message(
                seen,
                NewMessage::text("bot", &bot.name, &decline_text(reason)),
                now,
            )
            .await?
            .map_or(Outcome::Dropped, Outcome::Answered),
    };
    state.outbox_wake.notify_one();
    let label = match &outcome {
        Outcome::Answered(_) => "answered",
        Outcome::HandedOff(_) => "handed_off",
        Outcome::Dropped => "dropped",
    };
    metrics::counter!("baton_bot_turns_total", "outcome" => label).increment(1);
    if matches!(outcome, Outcome::Dropped) {
        tracing::info!("bot reply dropped: the conversation changed hands while it was computed");
    }
    Ok(outcome)
}

/// How far back a restart looks for customer messages the bot never got to answer.
const RESUME_WINDOW_MS: i64 = 60 * 60 * 1000;

/// Answers customer messages that were stored but not answered because Baton stopped in
/// between: a message is acknowledged once durable, so its answer must survive a restart too.
pub async fn resume_unanswered(state: &AppState) -> StoreResult<usize> {
    let since = state.clock.now_ms() - RESUME_WINDOW_MS;
    let pending = state.store.unanswered(since).await?;
    let count = pending.len();
    for (conversation, message) in pending {
        if let Err(err) = bot_turn(state, &conversation, &message).await {
            tracing::error!(error = %err, conversation_id = %conversation.id, "could not answer after restart");
        }
    }
    if count > 0 {
        tracing::info!(
            count,
            "answered customer messages left unanswered by a restart"
        );
    }
    Ok(count)
}
