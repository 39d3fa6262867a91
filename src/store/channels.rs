//! Connected channels (WhatsApp numbers) and the outbox that delivers to them.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult, WorkspaceTx, conflict_on_unique};
use crate::domain::new_id;

#[derive(Debug, Clone, FromRow)]
pub struct ChannelRecord {
    pub id: String,
    pub workspace_id: String,
    pub bot_id: String,
    pub kind: String,
    /// JSON; secrets inside are encrypted.
    pub config: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct OutboxRecord {
    pub id: String,
    pub workspace_id: String,
    pub kind: String,
    pub message_id: Option<String>,
    pub handoff_id: Option<String>,
    pub payload: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub done_at: Option<i64>,
    pub created_at: i64,
    /// The channel's id for what was sent (a wamid), and the latest status it reported.
    pub external_id: Option<String>,
    pub delivery_status: Option<String>,
}

/// A channel's report on a message it accepted, held until the message's id there (a wamid)
/// is stored: see [`Store::hold_status`].
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct HeldStatus {
    pub wamid: String,
    pub status: String,
    pub error: Option<String>,
    pub code: Option<i64>,
    pub received_at: i64,
}

/// How long a report for a wamid Baton does not know is kept: the race it covers lasts the
/// moment between the channel accepting a message and Baton recording its answer (seconds); a
/// report still unclaimed ten minutes later is for something Baton never sent.
const HOLD_MS: i64 = 600_000;

/// Something to deliver, queued in the same transaction as the message it carries.
pub struct NewDelivery<'a> {
    pub kind: &'a str,
    pub message_id: Option<&'a str>,
    pub handoff_id: Option<&'a str>,
    pub payload: String,
}

const OUTBOX_COLUMNS: &str = "id, workspace_id, kind, message_id, handoff_id, payload, attempts, \
                              last_error, done_at, created_at, external_id, delivery_status";

/// What still depends on a channel: how many of its conversations have a handoff open, and how
/// many things of it are under way — deliveries not yet done (sending or waiting to be
/// retried), files not yet fetched, customer messages the bot has still to answer.
async fn channel_work(
    tx: &mut WorkspaceTx,
    workspace_id: &str,
    id: &str,
) -> StoreResult<(i64, i64)> {
    let (open, busy): (i64, i64) = sqlx::query_as(
        "SELECT \
           (SELECT COUNT(*) FROM conversations \
            WHERE workspace_id = $1 AND channel_id = $2 AND active_handoff_id IS NOT NULL), \
           (SELECT COUNT(*) FROM outbox o \
            JOIN messages m ON m.id = o.message_id \
            JOIN conversations c ON c.id = m.conversation_id \
            WHERE o.workspace_id = $1 AND c.channel_id = $2 AND o.done_at IS NULL) \
           + (SELECT COUNT(*) FROM attachments \
              WHERE workspace_id = $1 AND channel_id = $2 AND status = 'pending') \
           + (SELECT COUNT(*) FROM bot_turns t \
              JOIN messages m ON m.id = t.message_id \
              JOIN conversations c ON c.id = m.conversation_id \
              WHERE c.workspace_id = $1 AND c.channel_id = $2)",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    Ok((open, busy))
}

const NUMBER_TAKEN: &str = "this WhatsApp number is already connected to a bot; \
                            disconnect it there first";

/// Delivery statuses in the order they happen; a status never moves backwards.
pub fn status_rank(status: &str) -> i32 {
    match status {
        "queued" => 0,
        "accepted" => 1,
        "sent" => 2,
        "delivered" => 3,
        "read" | "played" => 4,
        _ => -1,
    }
}

/// Whether a status report moves a delivery on from `current`: forward only, and a failure
/// after delivery is not news (before it, it is).
fn status_moves(current: Option<&str>, status: &str) -> bool {
    let current_rank = current.map_or(-1, status_rank);
    match status {
        "failed" => current != Some("failed") && current_rank < status_rank("delivered"),
        _ => status_rank(status) > current_rank,
    }
}

impl Store {
    /// A new channel. `phone_number_id` is the business number, connected once per instance:
    /// a second channel of it is a conflict.
    pub async fn create_channel(
        &self,
        workspace_id: &str,
        bot_id: &str,
        kind: &str,
        phone_number_id: &str,
        config: &str,
        now: i64,
    ) -> StoreResult<ChannelRecord> {
        let record = ChannelRecord {
            id: new_id("ch"),
            workspace_id: workspace_id.to_owned(),
            bot_id: bot_id.to_owned(),
            kind: kind.to_owned(),
            config: config.to_owned(),
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO channels (id, workspace_id, bot_id, kind, phone_number_id, config, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&record.id)
        .bind(workspace_id)
        .bind(bot_id)
        .bind(kind)
        .bind(phone_number_id)
        .bind(config)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| conflict_on_unique(e, NUMBER_TAKEN))?;
        Ok(record)
    }

    /// A channel of this workspace (another workspace's is not found).
    pub async fn channel_in(&self, workspace_id: &str, id: &str) -> StoreResult<ChannelRecord> {
        match self.channel(id).await {
            Ok(channel) if channel.workspace_id == workspace_id => Ok(channel),
            Ok(_) => Err(StoreError::NotFound("channel")),
            Err(err) => Err(err),
        }
    }

    /// Replaces a channel's config (new secrets) and moves it to `bot_id`. A move is refused
    /// while a customer on the number waits for or talks to an agent: their next message would
    /// start a conversation with the other bot, out of the agent's sight. Checked under the
    /// workspace's lock, which opening a handoff takes.
    pub async fn update_channel(
        &self,
        workspace_id: &str,
        id: &str,
        bot_id: &str,
        config: &str,
    ) -> StoreResult<()> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let (current,): (String,) =
            sqlx::query_as("SELECT bot_id FROM channels WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(id)
                .fetch_optional(tx.conn())
                .await?
                .ok_or(StoreError::NotFound("channel"))?;
        if current != bot_id {
            let (open, _) = channel_work(&mut tx, workspace_id, id).await?;
            if open > 0 {
                return Err(StoreError::Conflict(format!(
                    "{open} customer(s) on this number are waiting for or talking to an agent; \
                     resolve their handoffs before moving it to another bot"
                )));
            }
        }
        sqlx::query(
            "UPDATE channels SET bot_id = $3, config = $4 WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(bot_id)
        .bind(config)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Disconnects a channel: its secrets are deleted and its webhook URL answers 404. Refused
    /// while a customer who wrote to it waits for or talks to an agent, whose replies could no
    /// longer reach them, and while anything of it is still under way (a message being sent or
    /// retried, a file being fetched, an answer being written); checked under the workspace's
    /// lock, which opening a handoff and storing a message take. Its conversations stay, without
    /// a channel, until their customer writes to a connected number again.
    pub async fn delete_channel(&self, workspace_id: &str, id: &str) -> StoreResult<()> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let (open, busy) = channel_work(&mut tx, workspace_id, id).await?;
        if open > 0 {
            return Err(StoreError::Conflict(format!(
                "{open} customer(s) on this number are waiting for or talking to an agent; \
                 resolve their handoffs before disconnecting it"
            )));
        }
        if busy > 0 {
            return Err(StoreError::Conflict(format!(
                "{busy} message(s) or file(s) of this number are still being sent, fetched or \
                 answered; try again once they are done"
            )));
        }
        let done = sqlx::query("DELETE FROM channels WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("channel"));
        }
        tx.commit().await
    }

    /// Fills `channels.phone_number_id` (migration 0015) from the configs of channels connected
    /// before it existed. A number found on two such channels stays on the first only.
    pub(super) async fn fill_channel_numbers(&self) -> StoreResult<()> {
        let missing: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, config FROM channels WHERE phone_number_id IS NULL ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await?;
        for (id, config) in missing {
            let config: serde_json::Value = serde_json::from_str(&config).unwrap_or_default();
            let Some(number) = config["phone_number_id"].as_str() else {
                continue;
            };
            let filled = sqlx::query("UPDATE channels SET phone_number_id = $1 WHERE id = $2")
                .bind(number)
                .bind(&id)
                .execute(self.pool())
                .await;
            match filled.map_err(|e| conflict_on_unique(e, NUMBER_TAKEN)) {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => {
                    tracing::warn!(channel_id = %id, phone_number_id = number,
                        "this WhatsApp number is connected twice; disconnect one of its channels");
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// A channel by id alone: webhooks arrive without a session, named by the channel id.
    pub async fn channel(&self, id: &str) -> StoreResult<ChannelRecord> {
        sqlx::query_as(
            "SELECT id, workspace_id, bot_id, kind, config, created_at FROM channels WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("channel"))
    }

    pub async fn list_channels(&self, workspace_id: &str) -> StoreResult<Vec<ChannelRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, workspace_id, bot_id, kind, config, created_at FROM channels \
             WHERE workspace_id = $1 ORDER BY created_at, id",
        )
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Claims up to `limit` deliveries that are due, so no other worker sends them meanwhile.
    /// A conversation's messages go out in the order they were written: one waits while an
    /// earlier one of its conversation is unsent (in flight, or waiting to be retried), so a
    /// bot reply held back by a rate limit never reaches the customer after the agent's first
    /// words.
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRecord>> {
        Ok(sqlx::query_as(&format!(
            "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT o.id FROM outbox o LEFT JOIN messages m ON m.id = o.message_id \
                 WHERE o.done_at IS NULL AND o.next_attempt_at <= $2 \
                 AND (o.locked_until IS NULL OR o.locked_until < $2) \
                 AND NOT EXISTS (SELECT 1 FROM outbox e JOIN messages em ON em.id = e.message_id \
                     WHERE e.done_at IS NULL AND em.conversation_id = m.conversation_id \
                     AND em.seq < m.seq) \
                 ORDER BY o.next_attempt_at LIMIT $3) \
               AND done_at IS NULL AND (locked_until IS NULL OR locked_until < $2) \
             RETURNING {OUTBOX_COLUMNS}"
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// When the next delivery is due, if any is waiting.
    pub async fn next_delivery_at(&self) -> StoreResult<Option<i64>> {
        let (next,): (Option<i64>,) =
            sqlx::query_as("SELECT MIN(next_attempt_at) FROM outbox WHERE done_at IS NULL")
                .fetch_one(self.pool())
                .await?;
        Ok(next)
    }

    /// Marks a delivery done — sent, with the channel's id for it (`Ok(wamid)`), or failed for
    /// good (`Err(reason)`) — and its message, if it carries one, `accepted` or `failed`, in one
    /// transaction: an agent who sees `failed` can always send it again (the delivery is done),
    /// and a crash between the two never leaves a sent message to be sent twice.
    pub async fn finish_delivery(
        &self,
        workspace_id: &str,
        delivery_id: &str,
        message_id: Option<&str>,
        result: Result<&str, &str>,
        now: i64,
    ) -> StoreResult<()> {
        let (external_id, error) = match result {
            Ok(external_id) => (Some(external_id), None),
            Err(error) => (None, Some(error)),
        };
        let mut tx = self.workspace_tx(workspace_id).await?;
        if let Some(message_id) = message_id {
            let status = if result.is_ok() { "accepted" } else { "failed" };
            // A message erased meanwhile takes its delivery with it; either way it is done.
            match move_delivery_status(&mut tx, message_id, status, error, external_id, now).await {
                Ok(_) | Err(StoreError::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
        sqlx::query(
            "UPDATE outbox SET done_at = $1, locked_until = NULL, last_error = $2, \
                 external_id = $3, delivery_status = $4 WHERE id = $5",
        )
        .bind(now)
        .bind(error)
        .bind(external_id)
        .bind(external_id.map(|_| "accepted"))
        .bind(delivery_id)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Moves a sent notification's status forward when WhatsApp reports on it; answers the
    /// notification when it moved (a redelivered report moves nothing). Under the workspace's
    /// lock, so of two reports handled at once each is weighed against the other's result.
    pub async fn notification_status(
        &self,
        workspace_id: &str,
        external_id: &str,
        status: &str,
        error: Option<&str>,
    ) -> StoreResult<Option<OutboxRecord>> {
        // Most reports that reach here are for nothing of ours: no lock for those.
        let ours: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM outbox \
             WHERE workspace_id = $1 AND external_id = $2 AND kind = 'whatsapp.notify'",
        )
        .bind(workspace_id)
        .bind(external_id)
        .fetch_optional(self.pool())
        .await?;
        let Some((id,)) = ours else {
            return Ok(None);
        };
        let mut tx = self.workspace_tx(workspace_id).await?;
        let (current,): (Option<String>,) =
            sqlx::query_as("SELECT delivery_status FROM outbox WHERE id = $1")
                .bind(&id)
                .fetch_one(tx.conn())
                .await?;
        if !status_moves(current.as_deref(), status) {
            return Ok(None);
        }
        let moved = sqlx::query_as(&format!(
            "UPDATE outbox SET delivery_status = $1, last_error = COALESCE($2, last_error) \
             WHERE id = $3 RETURNING {OUTBOX_COLUMNS}"
        ))
        .bind(status)
        .bind(error)
        .bind(&id)
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(Some(moved))
    }

    pub async fn retry_delivery(&self, id: &str, at: i64, error: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3",
        )
        .bind(at)
        .bind(error)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Notifications queued for a handoff, with how they went (not the answers to agents'
    /// taps on them).
    pub async fn handoff_deliveries(
        &self,
        workspace_id: &str,
        handoff_id: &str,
    ) -> StoreResult<Vec<OutboxRecord>> {
        let all: Vec<OutboxRecord> = sqlx::query_as(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE workspace_id = $1 AND handoff_id = $2 \
             ORDER BY created_at, id"
        ))
        .bind(workspace_id)
        .bind(handoff_id)
        .fetch_all(self.pool())
        .await?;
        Ok(all
            .into_iter()
            .filter(|n| {
                serde_json::from_str::<serde_json::Value>(&n.payload)
                    .map_or(true, |p| p[crate::channels::notify::TAP_REPLY] != true)
            })
            .collect())
    }

    /// Queues deliveries outside a message transaction (agent notifications).
    pub async fn enqueue(
        &self,
        workspace_id: &str,
        delivery: NewDelivery<'_>,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        enqueue(&mut tx, delivery, now).await?;
        tx.commit().await
    }

    /// Moves a message's delivery status forward (never back), with a `message.status` event,
    /// as the channel reports it; answers whether it moved.
    pub async fn set_delivery_status(
        &self,
        workspace_id: &str,
        message_id: &str,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let moved = move_delivery_status(&mut tx, message_id, status, error, None, now).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Keeps a report for a wamid no message or notification has yet (the channel's report
    /// overtook the answer to the send), and drops held reports nobody claimed in time.
    pub async fn hold_status(&self, workspace_id: &str, held: &HeldStatus) -> StoreResult<()> {
        self.drop_stale_held_statuses(held.received_at).await?;
        sqlx::query(
            "INSERT INTO early_statuses (workspace_id, wamid, status, error, code, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(workspace_id)
        .bind(&held.wamid)
        .bind(&held.status)
        .bind(&held.error)
        .bind(held.code)
        .bind(held.received_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Drops the reports held longer than the hold (a wamid embeds its recipient's number, so
    /// they are not kept for nothing); answers how many.
    pub async fn drop_stale_held_statuses(&self, now: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM early_statuses WHERE received_at < $1")
                .bind(now - HOLD_MS)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    /// The reports held for a wamid, in the order they arrived.
    pub async fn held_statuses(
        &self,
        workspace_id: &str,
        wamid: &str,
    ) -> StoreResult<Vec<HeldStatus>> {
        Ok(sqlx::query_as(
            "SELECT wamid, status, error, code, received_at FROM early_statuses \
             WHERE workspace_id = $1 AND wamid = $2 ORDER BY received_at",
        )
        .bind(workspace_id)
        .bind(wamid)
        .fetch_all(self.pool())
        .await?)
    }

    /// Lets a held report go, once applied. Two callers may both have applied it (the webhook
    /// that held it and the sender that recorded the wamid): harmless, a status never moves
    /// back or twice.
    pub async fn drop_held_status(&self, workspace_id: &str, held: &HeldStatus) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM early_statuses WHERE workspace_id = $1 AND wamid = $2 AND status = $3 \
             AND received_at = $4",
        )
        .bind(workspace_id)
        .bind(&held.wamid)
        .bind(&held.status)
        .bind(held.received_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Whether a message or a notification of the workspace was sent as this wamid.
    pub async fn knows_wamid(&self, workspace_id: &str, wamid: &str) -> StoreResult<bool> {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM messages WHERE workspace_id = $1 AND external_id = $2 \
             UNION ALL SELECT 1 FROM outbox WHERE workspace_id = $1 AND external_id = $2 \
             LIMIT 1",
        )
        .bind(workspace_id)
        .bind(wamid)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Our message with this channel id (wamid), for status webhooks.
    pub async fn message_by_external_id(
        &self,
        workspace_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM messages WHERE workspace_id = $1 AND external_id = $2 \
             AND author IN ('bot', 'agent', 'system')",
        )
        .bind(workspace_id)
        .bind(external_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(id,)| id))
    }
}

/// Queues a delivery inside an open workspace transaction.
pub(super) async fn enqueue(
    tx: &mut WorkspaceTx,
    delivery: NewDelivery<'_>,
    now: i64,
) -> StoreResult<()> {
    let workspace_id = tx.workspace_id().to_owned();
    // A notification about a handoff whose customer was erased meanwhile is not queued: it
    // would name them. (Under the workspace's lock, so an erase cannot slip in between.)
    sqlx::query(
        "INSERT INTO outbox (id, workspace_id, kind, message_id, handoff_id, payload, attempts, \
         next_attempt_at, created_at) SELECT $1, $2, $3, $4, $5, $6, 0, $7, $7 \
         WHERE $5 IS NULL OR EXISTS (SELECT 1 FROM handoffs WHERE id = $5)",
    )
    .bind(new_id("out"))
    .bind(workspace_id)
    .bind(delivery.kind)
    .bind(delivery.message_id)
    .bind(delivery.handoff_id)
    .bind(&delivery.payload)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Moves a message's delivery status forward (never back), with a `message.status` event;
/// `external_id` is the channel's id for it (a wamid), set on acceptance.
async fn move_delivery_status(
    tx: &mut WorkspaceTx,
    message_id: &str,
    status: &str,
    error: Option<&str>,
    external_id: Option<&str>,
    now: i64,
) -> StoreResult<bool> {
    let current: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT conversation_id, delivery_status FROM messages WHERE id = $1 AND workspace_id = $2",
    )
    .bind(message_id)
    .bind(tx.workspace_id().to_owned())
    .fetch_optional(tx.conn())
    .await?;
    let Some((conversation_id, current)) = current else {
        return Err(StoreError::NotFound("message"));
    };
    let moves = status_moves(current.as_deref(), status);
    if let Some(external_id) = external_id {
        sqlx::query("UPDATE messages SET external_id = $1 WHERE id = $2")
            .bind(external_id)
            .bind(message_id)
            .execute(tx.conn())
            .await?;
    }
    if !moves {
        return Ok(false);
    }
    sqlx::query("UPDATE messages SET delivery_status = $1, delivery_error = $2 WHERE id = $3")
        .bind(status)
        .bind(error)
        .bind(message_id)
        .execute(tx.conn())
        .await?;
    record_status(tx, &conversation_id, message_id, status, error, now).await?;
    Ok(true)
}

/// The `message.status` event of a message's new delivery status.
pub(super) async fn record_status(
    tx: &mut WorkspaceTx,
    conversation_id: &str,
    message_id: &str,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    let seq = tx.next_seq().await?;
    let payload = serde_json::json!({
        "conversation_id": conversation_id,
        "message_id": message_id,
        "delivery_status": status,
        "delivery_error": error,
    });
    tx.record(seq, "message.status", Some(conversation_id), payload, now)
        .await
}
