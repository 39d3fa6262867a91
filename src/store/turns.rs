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
    /// `until`. A turn another node took over meanwhile stays that node's. One statement per
    /// turn, in id order, so renewing never holds locks another node's takeover waits on.
    pub async fn renew_turns(&self, message_ids: &[String], until: i64) -> StoreResult<()> {
        let mut ids: Vec<&String> = message_ids.iter().collect();
        ids.sort();
        for id in ids {
            sqlx::query(
                "UPDATE bot_turns SET leased_until = $1 WHERE message_id = $2 AND node_id = $3",
            )
            .bind(until)
            .bind(id)
            .bind(&self.node_id)
            .execute(self.pool())
            .await?;
        }
        Ok(())
    }

    /// Takes over up to `limit` turns whose lease ran out by `now` (their node stopped), leased
    /// to this node until `until`, oldest first.
    pub async fn take_over_turns(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<TakenTurn>> {
        let taken: Vec<(String, i64)> = sqlx::query_as(
            "UPDATE bot_turns SET node_id = $1, leased_until = $2, takeovers = takeovers + 1 \
             WHERE message_id IN (SELECT message_id FROM bot_turns WHERE leased_until < $3 \
                                  ORDER BY leased_until LIMIT $4) \
               AND leased_until < $3 \
             RETURNING message_id, takeovers",
        )
        .bind(&self.node_id)
        .bind(until)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut turns = Vec::with_capacity(taken.len());
        for (message_id, takeovers) in taken {
            let message: MessageRecord = sqlx::query_as(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1"
            ))
            .bind(&message_id)
            .fetch_one(self.pool())
            .await?;
            let conversation = self
                .conversation(&message.workspace_id, &message.conversation_id)
                .await?;
            let (later,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND seq > $2 \
                 AND author IN ('bot', 'agent')",
            )
            .bind(&message.conversation_id)
            .bind(message.seq)
            .fetch_one(self.pool())
            .await?;
            turns.push(TakenTurn {
                conversation,
                message,
                takeovers,
                overtaken: later > 0,
            });
        }
        turns.sort_by_key(|turn| (turn.message.created_at, turn.message.seq));
        Ok(turns)
    }

    /// Whether the turn of `message_id` is still to be taken: no answer stored, not ended.
    pub async fn turn_is_open(&self, message_id: &str) -> StoreResult<bool> {
        let open: Option<(String,)> =
            sqlx::query_as("SELECT message_id FROM bot_turns WHERE message_id = $1")
                .bind(message_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(open.is_some())
    }

    /// How many turns are still to be taken, on every node.
    pub async fn count_turns(&self) -> StoreResult<i64> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bot_turns")
            .fetch_one(self.pool())
            .await?;
        Ok(count)
    }

    /// Ends a turn of this node's that will not be answered (dropped, or failed for good), so
    /// no node takes it over. A turn already taken by its answer is not there any more, and
    /// one another node took over is that node's to end; either is fine.
    pub async fn end_turn(&self, message_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM bot_turns WHERE message_id = $1 AND node_id = $2")
            .bind(message_id)
            .bind(&self.node_id)
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

/// A turn a node took over from one that stopped working on it.
#[derive(Debug)]
pub struct TakenTurn {
    /// As it stands now.
    pub conversation: ConversationRecord,
    pub message: MessageRecord,
    /// How many times the turn has been taken over, this time included.
    pub takeovers: i64,
    /// Whether the bot or an agent has written in the conversation since the message: an
    /// answer to a later message, which read this one, came first.
    pub overtaken: bool,
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
