//! "Ana is typing…": while the person helping a customer writes a reply, the customer sees it —
//! three dots in the chat window, WhatsApp's own typing indicator on WhatsApp. Nothing is
//! stored and the reply's text never leaves the dashboard before it is sent. The other way,
//! the team sees a chat-window customer typing while their handoff is open (WhatsApp does not
//! tell businesses that), and never what they type.

use crate::state::AppState;
use crate::store::{ConversationRecord, Draft, DraftKind, HandoffRecord, StoreResult};

use super::{outbox, whatsapp};

/// Shows the customer of `handoff` that `agent_name` is typing. The dashboard calls it every
/// few seconds while the box has text; more often is let through as a no-op.
pub async fn show(state: &AppState, handoff: &HandoffRecord, agent_name: &str) -> StoreResult<()> {
    let conversation = &handoff.conversation_id;
    if handoff.channel == "whatsapp" {
        return on_whatsapp(state, handoff).await;
    }
    if state.limits.typing.check(conversation).is_ok() {
        state
            .store
            .publish_draft(Draft {
                workspace_id: handoff.workspace_id.clone(),
                conversation_id: conversation.clone(),
                id: handoff.id.clone(),
                author_name: agent_name.to_owned(),
                text: String::new(),
                kind: DraftKind::Typing,
            })
            .await;
    }
    Ok(())
}

/// Shows the team that the customer of `conversation` is typing — while a handoff is open, the
/// only time someone from the team may be waiting on them (nothing otherwise). The caller
/// limits how often.
pub async fn show_customer(state: &AppState, conversation: &ConversationRecord) {
    let Some(handoff_id) = &conversation.active_handoff_id else {
        return;
    };
    state
        .store
        .publish_draft(Draft {
            workspace_id: conversation.workspace_id.clone(),
            conversation_id: conversation.id.clone(),
            id: handoff_id.clone(),
            author_name: String::new(),
            text: String::new(),
            kind: DraftKind::CustomerTyping,
        })
        .await;
}

/// WhatsApp shows typing against the customer's latest message (marking it read), for 25
/// seconds or until the reply arrives — only inside the 24-hour window, where a free-text reply
/// can follow. Best effort, like marking read: a failure loses nothing.
async fn on_whatsapp(state: &AppState, handoff: &HandoffRecord) -> StoreResult<()> {
    let now = state.clock.now_ms();
    if !crate::domain::whatsapp_window_open(handoff.last_customer_at, now) {
        return Ok(());
    }
    let conversation = state
        .store
        .conversation(&handoff.workspace_id, &handoff.conversation_id)
        .await?;
    let (Some(channel_id), Some(wamid)) = (
        conversation.channel_id,
        state
            .store
            .latest_customer_external_id(&conversation.id)
            .await?,
    ) else {
        return Ok(());
    };
    let number = match outbox::number_of(state, &handoff.workspace_id, &channel_id).await {
        Ok(number) => number,
        Err(err) => {
            tracing::debug!(error = %err, "no WhatsApp number to show typing from");
            return Ok(());
        }
    };
    // Counted only when an indicator goes out. (A reply clears it on the customer's phone; one
    // typed within twenty seconds of the last indicator shows none.)
    if state
        .limits
        .whatsapp_typing
        .check(&conversation.id)
        .is_err()
    {
        return Ok(());
    }
    let graph = state.whatsapp.clone();
    let body = whatsapp::read_body(&wamid, true);
    tokio::spawn(async move {
        if let Err(err) = graph.send(&number, &body).await {
            tracing::debug!(error = %err, "could not show a WhatsApp typing indicator");
        }
    });
    Ok(())
}
