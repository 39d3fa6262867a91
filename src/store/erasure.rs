//! Erasing a customer: everything Baton keeps about them, in one transaction — for a customer
//! who asks to be forgotten, or a chat that should never have been kept.

use serde_json::{Value, json};

use super::contacts::NONE_OPEN;
use super::{Store, StoreError, StoreResult};

/// Why a customer is erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// An admin asked (the customer asked to be forgotten, or the chat should not be kept).
    Request,
    /// The workspace's retention period ran out: only if the customer has been idle since
    /// before this time and has no handoff open.
    Retention { idle_before: i64 },
}

/// What an erasure removed, as the `contact.erased` event tells dashboards and integrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    pub contact_id: String,
    pub conversation_ids: Vec<String>,
    pub handoff_ids: Vec<String>,
    /// `request` (an admin) or `retention` (the workspace's retention period).
    pub reason: &'static str,
}

impl Erased {
    /// As the API answers it and the event carries it: ids and the reason only.
    pub fn view(&self) -> Value {
        json!({
            "contact_id": self.contact_id,
            "conversation_ids": self.conversation_ids,
            "handoff_ids": self.handoff_ids,
            "reason": self.reason,
        })
    }
}

/// The contact's conversations; every statement below binds `$1` workspace, `$2` contact.
const CONVERSATIONS: &str =
    "SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2";

impl Store {
    /// Deletes a contact of the workspace and everything kept about them: their conversations,
    /// messages and attachments, handoffs and their summaries, the events that carried them
    /// (and webhook deliveries of those events), messages still queued for them and agent
    /// notifications about them, bot turns still open. A `contact.erased` event, which holds
    /// only ids, tells live dashboards, the customer's open chat window and integrations.
    /// The children go first, so nothing depends on foreign keys cascading.
    pub async fn erase_contact(
        &self,
        workspace_id: &str,
        contact_id: &str,
        now: i64,
    ) -> StoreResult<Erased> {
        self.erase(workspace_id, contact_id, Why::Request, now)
            .await
    }

    /// Erases the contact as [`Store::erase_contact`] does, only if they have been idle since
    /// before `idle_before` and have no handoff open — checked under the workspace's lock, so a
    /// message that arrives meanwhile keeps them. Otherwise `NotFound`, as if already gone.
    pub async fn erase_contact_if_idle(
        &self,
        workspace_id: &str,
        contact_id: &str,
        idle_before: i64,
        now: i64,
    ) -> StoreResult<Erased> {
        self.erase(
            workspace_id,
            contact_id,
            Why::Retention { idle_before },
            now,
        )
        .await
    }

    async fn erase(
        &self,
        workspace_id: &str,
        contact_id: &str,
        why: Why,
        now: i64,
    ) -> StoreResult<Erased> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let found: Option<String> = match why {
            Why::Request => {
                sqlx::query_scalar("SELECT id FROM contacts WHERE workspace_id = $1 AND id = $2")
                    .bind(workspace_id)
                    .bind(contact_id)
                    .fetch_optional(tx.conn())
                    .await?
            }
            Why::Retention { idle_before } => {
                sqlx::query_scalar(&format!(
                    "SELECT ct.id FROM contacts ct WHERE ct.workspace_id = $1 AND ct.id = $2 \
                     AND ct.last_active_at < $3 AND {NONE_OPEN}"
                ))
                .bind(workspace_id)
                .bind(contact_id)
                .bind(idle_before)
                .fetch_optional(tx.conn())
                .await?
            }
        };
        if found.is_none() {
            return Err(StoreError::NotFound("contact"));
        }
        let conversation_ids: Vec<String> =
            sqlx::query_scalar(&format!("{CONVERSATIONS} ORDER BY created_at, id"))
                .bind(workspace_id)
                .bind(contact_id)
                .fetch_all(tx.conn())
                .await?;
        let handoff_ids: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM handoffs WHERE conversation_id IN ({CONVERSATIONS}) \
             ORDER BY created_at, id"
        ))
        .bind(workspace_id)
        .bind(contact_id)
        .fetch_all(tx.conn())
        .await?;
        let messages =
            format!("SELECT id FROM messages WHERE conversation_id IN ({CONVERSATIONS})");
        let statements = [
            format!("DELETE FROM bot_turns WHERE message_id IN ({messages})"),
            format!("DELETE FROM attachments WHERE conversation_id IN ({CONVERSATIONS})"),
            format!(
                "DELETE FROM outbox WHERE workspace_id = $1 AND (message_id IN ({messages}) \
                 OR handoff_id IN (SELECT id FROM handoffs \
                 WHERE conversation_id IN ({CONVERSATIONS})))"
            ),
            format!(
                "DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND seq IN \
                 (SELECT seq FROM events WHERE workspace_id = $1 \
                 AND conversation_id IN ({CONVERSATIONS}))"
            ),
            format!(
                "DELETE FROM events WHERE workspace_id = $1 AND conversation_id IN ({CONVERSATIONS})"
            ),
            format!("DELETE FROM notes WHERE conversation_id IN ({CONVERSATIONS})"),
            format!("DELETE FROM ratings WHERE conversation_id IN ({CONVERSATIONS})"),
            format!("DELETE FROM messages WHERE conversation_id IN ({CONVERSATIONS})"),
            format!("DELETE FROM handoffs WHERE conversation_id IN ({CONVERSATIONS})"),
            "DELETE FROM conversations WHERE workspace_id = $1 AND contact_id = $2".to_owned(),
            "DELETE FROM contacts WHERE workspace_id = $1 AND id = $2".to_owned(),
        ];
        for statement in &statements {
            sqlx::query(statement)
                .bind(workspace_id)
                .bind(contact_id)
                .execute(tx.conn())
                .await?;
        }
        let erased = Erased {
            contact_id: contact_id.to_owned(),
            conversation_ids,
            handoff_ids,
            reason: match why {
                Why::Request => "request",
                Why::Retention { .. } => "retention",
            },
        };
        let seq = tx.next_seq().await?;
        tx.record(seq, "contact.erased", None, erased.view(), now)
            .await?;
        tx.commit().await?;
        Ok(erased)
    }
}
