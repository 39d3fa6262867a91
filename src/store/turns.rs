//! Bot turns still to be taken: one row per customer message the bot has to answer, leased to
//! the node answering it. The row is written with the message ([`Store::add_customer_message`])
//! and taken — deleted — in the transaction that stores the answer, so of all the nodes that
//! may compute an answer to one message, exactly one stores it. A node renews the leases of the
//! turns it has queued or is computing; when a node stops, its leases run out and any node
//! takes the turns over.

use super::conversations::MESSAGE_COLUMNS;
use super::{ConversationRecord, MessageRecord, Store, StoreResult, WorkspaceTx};

/// How long a node's lease on a turn lasts unless renewed. A node renews its leases every few
/// seconds however long a model takes, so this is how long a stopped node's turns wait before
/// another node answers them.
pub const TURN_LEASE_MS: i64 = 30_000;

impl Store {
    /// Extends this node's leases on these turns (those it has queued or is computing) to
    /// `until`. A turn another node took over meanwhile stays that node's.
    pub async fn renew_turns(&self, message_ids: &[String], until: i64) -> StoreResult<()> {
        if message_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for id in message_ids {
            sqlx::query(
                "UPDATE bot_turns SET leased_until = $1 WHERE message_id = $2 AND node_id = $3",
            )
            .bind(until)
            .bind(id)
            .bind(&self.node_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes over up to `limit` turns whose lease ran out by `now` (their node stopped), leased
    /// to this node until `until`: each with its conversation as it stands now, oldest first.
    pub async fn take_over_turns(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<(ConversationRecord, MessageRecord)>> {
        let taken: Vec<(String,)> = sqlx::query_as(
            "UPDATE bot_turns SET node_id = $1, leased_until = $2 \
             WHERE message_id IN (SELECT message_id FROM bot_turns WHERE leased_until < $3 \
                                  ORDER BY leased_until LIMIT $4) \
               AND leased_until < $3 \
             RETURNING message_id",
        )
        .bind(&self.node_id)
        .bind(until)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut turns = Vec::with_capacity(taken.len());
        for (message_id,) in taken {
            let message: MessageRecord = sqlx::query_as(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1"
            ))
            .bind(&message_id)
            .fetch_one(self.pool())
            .await?;
            let conversation = self
                .conversation(&message.workspace_id, &message.conversation_id)
                .await?;
            turns.push((conversation, message));
        }
        turns.sort_by_key(|(_, message)| (message.created_at, message.seq));
        Ok(turns)
    }

    /// Ends a turn that will not be answered (dropped, or failed for good), so no node takes
    /// it over. A turn already taken by its answer is not there any more; that is fine.
    pub async fn end_turn(&self, message_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM bot_turns WHERE message_id = $1")
            .bind(message_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Lets go of every turn this node holds, for the next node to take over at once: what a
    /// node does as it stops.
    pub async fn release_turns(&self) -> StoreResult<()> {
        sqlx::query("UPDATE bot_turns SET leased_until = 0 WHERE node_id = $1")
            .bind(&self.node_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// Writes the turn of a customer message just stored, leased to `node_id` from `now`.
pub(super) async fn open_turn(
    tx: &mut WorkspaceTx,
    message_id: &str,
    node_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO bot_turns (message_id, node_id, leased_until) VALUES ($1, $2, $3)")
        .bind(message_id)
        .bind(node_id)
        .bind(now + TURN_LEASE_MS)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Takes the turn of `message_id` in the transaction that stores its answer: `false` when it is
/// gone — another node's answer took it, or it was ended — and this answer must not be stored.
pub(super) async fn take_turn(tx: &mut WorkspaceTx, message_id: &str) -> StoreResult<bool> {
    let taken = sqlx::query("DELETE FROM bot_turns WHERE message_id = $1")
        .bind(message_id)
        .execute(tx.conn())
        .await?;
    Ok(taken.rows_affected() == 1)
}
