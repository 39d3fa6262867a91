//! Handoffs: opened by the bot, claimed, answered, released and resolved by people. Each
//! change runs in a [`WorkspaceTx`], so the rule checked by [`handoff::decide`] holds at the
//! moment of writing: of any number of concurrent claims exactly one finds the handoff pending.

use sqlx::FromRow;

use super::channels::record_status;
use super::conversations::{bot_may_speak, insert_message, load_conversation};
use super::notes::insert_note;
use super::ratings;
use super::turns::take_turn;
use super::{
    ConversationRecord, Member, MessageRecord, NewMessage, NoteRecord, Store, StoreError,
    StoreResult, WorkspaceTx,
};
use crate::domain::MessageText;
use crate::domain::assignment::{self, Candidate};
use crate::domain::handoff::{self, ASSIGNED, Action, Actor, LABELLED, Reason, Snapshot, Status};
use crate::domain::{Clock, new_id};
use crate::views::handoff_event;

#[derive(Debug, Clone, FromRow)]
pub struct HandoffRecord {
    pub id: String,
    pub workspace_id: String,
    pub conversation_id: String,
    pub bot_id: String,
    pub status: String,
    pub reason: String,
    pub summary: String,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
    // Joined from the conversation, its contact and the holder.
    pub channel: String,
    pub contact_id: String,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub claimed_by_name: Option<String>,
    pub last_customer_at: Option<i64>,
    /// The customer's rating of it, when one was asked for ([`crate::domain::rating`]).
    pub rating_message_id: Option<String>,
    pub rating_score: Option<String>,
    pub rating_comment: Option<String>,
    pub rating_requested_at: Option<i64>,
    pub rated_at: Option<i64>,
    /// The team's labels, as stored ([`crate::domain::labels::stored`]).
    pub labels: String,
}

impl HandoffRecord {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Resolved)
    }

    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            status: self.status(),
            holder: self.claimed_by.as_deref(),
        }
    }
}

/// What a run of automatic assignment did.
#[derive(Debug, Default)]
pub struct Assigned {
    /// Handoffs put back in the queue: given automatically, left unanswered by a holder no
    /// longer at the dashboard.
    pub taken_back: Vec<HandoffRecord>,
    /// Handoffs given to a member.
    pub given: Vec<HandoffRecord>,
}

/// Which handoffs to list.
#[derive(Debug, Clone, Default)]
pub struct HandoffFilter {
    pub status: Option<Status>,
    pub bot_id: Option<String>,
    /// Only those this member holds.
    pub holder: Option<String>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    pub limit: i64,
    /// The page after this handoff (the last of the previous page), in the same order.
    pub after: Option<String>,
    /// Only those filed under this label (a checked one, [`crate::domain::labels::label`]).
    pub label: Option<String>,
    /// Only those where every one of these terms ([`crate::domain::search::terms`]) is in the
    /// customer's name or number or in a message of the handoff.
    pub terms: Vec<String>,
}

const HANDOFF_SELECT: &str = "SELECT h.id, h.workspace_id, h.conversation_id, h.bot_id, h.status, \
    h.reason, h.summary, h.claimed_by, h.claimed_at, h.resolved_by, h.resolved_at, h.created_at, \
    c.channel, c.contact_id, ct.name AS customer_name, ct.phone AS customer_phone, \
    u.name AS claimed_by_name, c.last_customer_at, r.message_id AS rating_message_id, \
    r.score AS rating_score, r.comment AS rating_comment, \
    r.requested_at AS rating_requested_at, r.rated_at, h.labels \
    FROM handoffs h JOIN conversations c ON c.id = h.conversation_id \
    JOIN contacts ct ON ct.id = c.contact_id LEFT JOIN users u ON u.id = h.claimed_by \
    LEFT JOIN ratings r ON r.handoff_id = h.id";

impl Store {
    /// Opens a handoff with the bot's handoff message, as the bot's answer to the customer
    /// message `answering`, if the conversation is still the bot's as `seen` and the message's
    /// turn is still there to take. `None` means someone else changed the conversation or
    /// answered the message first, and nothing was written.
    pub async fn open_handoff(
        &self,
        seen: &ConversationRecord,
        answering: &str,
        bot_message: NewMessage<'_>,
        reason: Reason,
        summary: &str,
        now: i64,
    ) -> StoreResult<Option<(MessageRecord, HandoffRecord)>> {
        let mut tx = self.workspace_tx(&seen.workspace_id).await?;
        let current = load_conversation(&mut tx, &seen.id).await?;
        if !bot_may_speak(seen, &current) || !take_turn(&mut tx, answering).await? {
            return Ok(None);
        }
        let message = insert_message(&mut tx, &current, bot_message, now).await?;
        let id = new_id("hnd");
        sqlx::query(
            "INSERT INTO handoffs (id, workspace_id, conversation_id, bot_id, status, reason, \
             summary, created_at, question_message_id) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&current.workspace_id)
        .bind(&current.id)
        .bind(&current.bot_id)
        .bind(reason.as_str())
        .bind(summary)
        .bind(now)
        .bind(answering)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "UPDATE conversations SET active_handoff_id = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(&id)
        .bind(now)
        .bind(&current.id)
        .execute(tx.conn())
        .await?;
        let handoff = load_handoff(&mut tx, &id).await?;
        record_handoff_event(&mut tx, "handoff.created", &handoff, now).await?;
        tx.commit().await?;
        Ok(Some((message, handoff)))
    }

    pub async fn handoff(&self, workspace_id: &str, id: &str) -> StoreResult<HandoffRecord> {
        sqlx::query_as(&format!(
            "{HANDOFF_SELECT} WHERE h.workspace_id = $1 AND h.id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("handoff"))
    }

    pub async fn list_handoffs(
        &self,
        workspace_id: &str,
        filter: &HandoffFilter,
    ) -> StoreResult<Vec<HandoffRecord>> {
        let (order, beyond) = if filter.oldest_first {
            ("ASC", ">")
        } else {
            ("DESC", "<")
        };
        let cursor = match &filter.after {
            Some(id) => {
                let (created_at,): (i64,) = sqlx::query_as(
                    "SELECT created_at FROM handoffs WHERE workspace_id = $1 AND id = $2",
                )
                .bind(workspace_id)
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::NotFound("handoff"))?;
                Some((created_at, id.as_str()))
            }
            None => None,
        };
        let (after_at, after_id) = cursor.unwrap_or((0, ""));
        let sql = format!(
            "{HANDOFF_SELECT} WHERE h.workspace_id = $1 \
             AND ($2 = '' OR h.status = $2) AND ($3 = '' OR h.bot_id = $3) \
             AND ($5 = '' OR h.created_at {beyond} $6 OR (h.created_at = $6 AND h.id {beyond} $5)) \
             AND ($7 = '' OR h.claimed_by = $7) \
             AND ($8 = '' OR ',' || h.labels || ',' LIKE $8 ESCAPE '\\'){} \
             ORDER BY h.created_at {order}, h.id {order} LIMIT $4",
            super::search::handoff_has_terms(9, filter.terms.len())
        );
        let mut query = sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(filter.status.map(Status::as_str).unwrap_or(""))
            .bind(filter.bot_id.as_deref().unwrap_or(""))
            .bind(filter.limit)
            .bind(after_id)
            .bind(after_at)
            .bind(filter.holder.as_deref().unwrap_or(""))
            .bind(filter.label.as_deref().map_or(String::new(), |label| {
                // `_` is one of LIKE's wildcards, and may be in a label.
                format!("%,{},%", label.replace('_', "\\_"))
            }));
        for pattern in super::search::term_patterns(&filter.terms) {
            query = query.bind(pattern);
        }
        Ok(query.fetch_all(self.pool()).await?)
    }

    /// Files a handoff under `labels` (checked, [`crate::domain::labels::labels`]) in place of
    /// the ones it had — any member, whatever its state: the team's own filing, never shown to
    /// the customer. The event `handoff.labelled` says who; nothing happens when they are
    /// the same.
    pub async fn label_handoff(
        &self,
        workspace_id: &str,
        id: &str,
        labels: &[String],
        by: Member<'_>,
        now: i64,
    ) -> StoreResult<HandoffRecord> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let before = load_handoff(&mut tx, id).await?;
        let stored = crate::domain::labels::stored(labels);
        if before.labels == stored {
            return Ok(before);
        }
        sqlx::query("UPDATE handoffs SET labels = $1 WHERE id = $2")
            .bind(&stored)
            .bind(id)
            .execute(tx.conn())
            .await?;
        let after = load_handoff(&mut tx, id).await?;
        let mut payload = handoff_event(&after);
        payload["by"] = serde_json::json!({"id": by.user_id, "name": by.name});
        let seq = tx.next_seq().await?;
        tx.record(seq, LABELLED, Some(&after.conversation_id), payload, now)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every handoff of the contact's conversations, oldest first.
    pub async fn handoffs_of_contact(
        &self,
        workspace_id: &str,
        contact_id: &str,
    ) -> StoreResult<Vec<HandoffRecord>> {
        Ok(sqlx::query_as(&format!(
            "{HANDOFF_SELECT} WHERE h.workspace_id = $1 AND c.contact_id = $2 \
             ORDER BY h.created_at, h.id"
        ))
        .bind(workspace_id)
        .bind(contact_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// How many handoffs are in each status: `(pending, in_progress, resolved)`.
    pub async fn handoff_counts(&self, workspace_id: &str) -> StoreResult<(i64, i64, i64)> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM handoffs WHERE workspace_id = $1 GROUP BY status",
        )
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?;
        let count = |s: &str| rows.iter().find(|(st, _)| st == s).map_or(0, |(_, n)| *n);
        Ok((count("pending"), count("in_progress"), count("resolved")))
    }

    /// Claims, releases or resolves a handoff; a refused action writes nothing.
    pub async fn act_on_handoff(
        &self,
        workspace_id: &str,
        id: &str,
        actor: Actor<'_>,
        actor_name: &str,
        action: Action,
        now: i64,
    ) -> StoreResult<HandoffRecord> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let before = load_handoff(&mut tx, id).await?;
        let next =
            handoff::decide(before.snapshot(), actor, action).map_err(StoreError::Refused)?;
        let (kind, note) = match action {
            Action::Claim => {
                sqlx::query(
                    "UPDATE handoffs SET status = $1, claimed_by = $2, claimant = $2, \
                     claimed_at = $3 WHERE id = $4",
                )
                .bind(next.as_str())
                .bind(actor.user_id)
                .bind(now)
                .bind(id)
                .execute(tx.conn())
                .await?;
                (
                    "handoff.claimed",
                    format!("{actor_name} joined the conversation."),
                )
            }
            Action::Release => {
                release(&mut tx, &before).await?;
                ("handoff.released", release_note(&before))
            }
            Action::Resolve => {
                sqlx::query(
                    "UPDATE handoffs SET status = $1, resolved_by = $2, resolved_at = $3 WHERE id = $4",
                )
                .bind(next.as_str())
                .bind(actor.user_id)
                .bind(now)
                .bind(id)
                .execute(tx.conn())
                .await?;
                (
                    "handoff.resolved",
                    "This conversation was resolved. The assistant is back to help.".to_owned(),
                )
            }
            Action::Reply | Action::Transfer => {
                unreachable!("replies go through add_agent_message, transfers transfer_handoff")
            }
        };
        let by = Member::acting(actor, actor_name);
        let resolved = action == Action::Resolve;
        let after = finish_action(&mut tx, &before, kind, &note, Some(by), resolved, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Hands a handoff to another member of the workspace (see [`handoff::transfer`]: `seen`
    /// is whom the caller saw holding it), with an optional note for them; the customer is
    /// told who is with them now. The claim stays the claimant's, time and credit: the
    /// customer's wait ended then.
    #[allow(clippy::too_many_arguments)]
    pub async fn transfer_handoff(
        &self,
        workspace_id: &str,
        id: &str,
        actor: Actor<'_>,
        actor_name: &str,
        to: &str,
        seen: Option<Option<&str>>,
        note: Option<&MessageText>,
        now: i64,
    ) -> StoreResult<(HandoffRecord, Option<NoteRecord>)> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let before = load_handoff(&mut tx, id).await?;
        let next =
            handoff::transfer(before.snapshot(), actor, to, seen).map_err(StoreError::Refused)?;
        let to_name: String =
            sqlx::query_scalar("SELECT name FROM users WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(to)
                .fetch_optional(tx.conn())
                .await?
                .ok_or(StoreError::NotFound("member"))?;
        // An assigned handoff is claimed by its assignee; a transferred one stays claimed by
        // whoever claimed it (the right-hand sides read the row as it was).
        sqlx::query(
            "UPDATE handoffs SET status = $1, claimed_by = $2, \
             claimant = CASE WHEN claimed_at IS NULL THEN $2 ELSE claimant END, \
             claimed_at = COALESCE(claimed_at, $3), auto_assigned_at = NULL, \
             auto_assigned_seq = NULL WHERE id = $4",
        )
        .bind(next.as_str())
        .bind(to)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        let told = match &before.claimed_by_name {
            Some(from) if before.claimed_by.as_deref() == Some(actor.user_id) => {
                format!("{from} passed the conversation to {to_name}.")
            }
            Some(_) => format!("{to_name} is taking over the conversation."),
            None => format!("{to_name} joined the conversation."),
        };
        let by = Member::acting(actor, actor_name);
        let after = finish_action(
            &mut tx,
            &before,
            "handoff.transferred",
            &told,
            Some(by),
            false,
            now,
        )
        .await?;
        let note = match note {
            Some(text) => {
                Some(insert_note(&mut tx, &after.conversation_id, id, by, text, now).await?)
            }
            None => None,
        };
        tx.commit().await?;
        Ok((after, note))
    }

    /// Gives the workspace's pending handoffs, oldest first, to members who are not away and
    /// whose dashboard showed a sign of life within `presence_ms`, as [`assignment::pick`]
    /// chooses, nobody past `limit` open handoffs and never back to whom it was released
    /// from. First, each handoff given automatically that its holder has not answered in
    /// [`assignment::UNANSWERED_MS`] while gone from the dashboard for
    /// [`assignment::GONE_MS`] more than that goes to someone else — when someone can take it.
    /// Under the workspace lock, so that a claim, another node's run or a new handoff waits:
    /// each handoff is given once, and the counts it goes by are the ones that stand. The time
    /// is read once the lock is held.
    pub async fn assign_pending(
        &self,
        workspace_id: &str,
        limit: u32,
        presence_ms: i64,
        clock: &Clock,
    ) -> StoreResult<Assigned> {
        // Most runs find nothing to do: look before the lock.
        let now = clock.now_ms();
        let (waiting, present, left): (i64, i64, i64) = sqlx::query_as(&format!(
            "SELECT (SELECT COUNT(*) FROM handoffs WHERE workspace_id = $1 \
             AND status = 'pending'), (SELECT COUNT(*) FROM users WHERE workspace_id = $1 \
             AND away = 0 AND seen_at >= $4), (SELECT COUNT(*) {LEFT_UNANSWERED})"
        ))
        .bind(workspace_id)
        .bind(now - presence_ms - assignment::GONE_MS)
        .bind(now - assignment::UNANSWERED_MS)
        .bind(now - presence_ms)
        .fetch_one(self.pool())
        .await?;
        if present == 0 || (waiting == 0 && left == 0) {
            return Ok(Assigned::default());
        }
        let mut tx = self.workspace_tx(workspace_id).await?;
        let now = clock.now_ms();
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT u.id, u.name, (SELECT COUNT(*) FROM handoffs h WHERE h.workspace_id = $1 \
             AND h.claimed_by = u.id AND h.status = 'in_progress'), u.assigned_at \
             FROM users u WHERE u.workspace_id = $1 AND u.away = 0 AND u.seen_at >= $2",
        )
        .bind(workspace_id)
        .bind(now - presence_ms)
        .fetch_all(tx.conn())
        .await?;
        let mut team: Vec<Candidate> = rows
            .into_iter()
            .map(|(user_id, name, open, assigned_at)| Candidate {
                user_id,
                name,
                open,
                assigned_at,
            })
            .collect();
        let mut done = Assigned::default();
        // Left unanswered by a holder who is gone: to someone else, when someone can take it.
        let left: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT h.id, h.claimed_by {LEFT_UNANSWERED} ORDER BY h.created_at, h.id"
        ))
        .bind(workspace_id)
        .bind(now - presence_ms - assignment::GONE_MS)
        .bind(now - assignment::UNANSWERED_MS)
        .fetch_all(tx.conn())
        .await?;
        for (id, holder) in left {
            let Some(chosen) = assignment::pick(&team, limit, Some(&holder)) else {
                continue;
            };
            let before = load_handoff(&mut tx, &id).await?;
            release(&mut tx, &before).await?;
            let note = release_note(&before);
            let released = finish_action(
                &mut tx,
                &before,
                "handoff.released",
                &note,
                None,
                false,
                now,
            )
            .await?;
            done.given
                .push(give(&mut tx, &released, &mut team[chosen], now).await?);
            done.taken_back.push(released);
        }
        let pending: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, released_from FROM handoffs WHERE workspace_id = $1 \
             AND status = 'pending' ORDER BY created_at, id LIMIT 100",
        )
        .bind(workspace_id)
        .fetch_all(tx.conn())
        .await?;
        for (id, released_from) in pending {
            let Some(chosen) = assignment::pick(&team, limit, released_from.as_deref()) else {
                continue;
            };
            let before = load_handoff(&mut tx, &id).await?;
            done.given
                .push(give(&mut tx, &before, &mut team[chosen], now).await?);
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Removes a member of the workspace: their sessions and API keys end, the handoffs they
    /// were handling go back to the queue (the customer is told someone else will reply), and
    /// what they wrote stays, under their name. Answers the handoffs put back.
    pub async fn remove_user(
        &self,
        workspace_id: &str,
        user_id: &str,
        by: Member<'_>,
        now: i64,
    ) -> StoreResult<Vec<HandoffRecord>> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let held: Vec<HandoffRecord> = sqlx::query_as(&format!(
            "{HANDOFF_SELECT} WHERE h.workspace_id = $1 AND h.claimed_by = $2 \
             AND h.status = 'in_progress' ORDER BY h.created_at, h.id"
        ))
        .bind(workspace_id)
        .bind(user_id)
        .fetch_all(tx.conn())
        .await?;
        let mut released = Vec::with_capacity(held.len());
        for before in &held {
            release(&mut tx, before).await?;
            let note = release_note(before);
            released.push(
                finish_action(
                    &mut tx,
                    before,
                    "handoff.released",
                    &note,
                    Some(by),
                    false,
                    now,
                )
                .await?,
            );
        }
        let deleted = sqlx::query("DELETE FROM users WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        tx.commit().await?;
        self.access_changed(user_id);
        Ok(released)
    }

    /// Stores an agent's reply if the rules let this actor reply now.
    pub async fn add_agent_message(
        &self,
        workspace_id: &str,
        handoff_id: &str,
        actor: Actor<'_>,
        message: NewMessage<'_>,
        now: i64,
    ) -> StoreResult<(HandoffRecord, MessageRecord)> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let handoff = load_handoff(&mut tx, handoff_id).await?;
        handoff::decide(handoff.snapshot(), actor, Action::Reply).map_err(StoreError::Refused)?;
        let conversation = load_conversation(&mut tx, &handoff.conversation_id).await?;
        let stored = insert_message(&mut tx, &conversation, message, now).await?;
        tx.commit().await?;
        Ok((handoff, stored))
    }

    /// Queues a message whose delivery failed for good to be sent again, under the rule for
    /// replying (the holder or an admin, while the handoff is in progress).
    pub async fn resend_message(
        &self,
        workspace_id: &str,
        handoff_id: &str,
        message_id: &str,
        actor: Actor<'_>,
        now: i64,
    ) -> StoreResult<MessageRecord> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let handoff = load_handoff(&mut tx, handoff_id).await?;
        handoff::decide(handoff.snapshot(), actor, Action::Reply).map_err(StoreError::Refused)?;
        let (status,): (Option<String>,) = sqlx::query_as(
            "SELECT delivery_status FROM messages WHERE id = $1 AND conversation_id = $2",
        )
        .bind(message_id)
        .bind(&handoff.conversation_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound("message"))?;
        if status.as_deref() != Some("failed") {
            return Err(StoreError::Conflict(
                "only a message whose delivery failed can be sent again".to_owned(),
            ));
        }
        // Only a delivery the worker is done with: one it is still sending (a late `failed`
        // report can arrive meanwhile) is left to finish.
        let requeued = sqlx::query(
            "UPDATE outbox SET done_at = NULL, attempts = 0, next_attempt_at = $1, \
                 locked_until = NULL, last_error = NULL WHERE message_id = $2 \
                 AND done_at IS NOT NULL",
        )
        .bind(now)
        .bind(message_id)
        .execute(tx.conn())
        .await?;
        if requeued.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "this message is not waiting to be sent again: it is being sent, or is not \
                 delivered through a channel"
                    .to_owned(),
            ));
        }
        // The old send's id goes: a late report about it must not mark the new one failed.
        sqlx::query(
            "UPDATE messages SET delivery_status = 'queued', delivery_error = NULL, \
                 external_id = NULL WHERE id = $1",
        )
        .bind(message_id)
        .execute(tx.conn())
        .await?;
        // A file is uploaded afresh: the failure may have been the upload's (Meta's media ids
        // also expire after 30 days).
        sqlx::query("UPDATE attachments SET media_id = NULL WHERE message_id = $1")
            .bind(message_id)
            .execute(tx.conn())
            .await?;
        record_status(
            &mut tx,
            &handoff.conversation_id,
            message_id,
            "queued",
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        self.conversation_message(&handoff.conversation_id, message_id)
            .await
    }
}

/// Puts a claimed handoff back in the queue.
async fn release(tx: &mut WorkspaceTx, handoff: &HandoffRecord) -> StoreResult<()> {
    // Who had it is remembered, so that automatic assignment does not give it straight back.
    sqlx::query(
        "UPDATE handoffs SET status = 'pending', claimed_by = NULL, claimant = NULL, \
         claimed_at = NULL, released_from = claimed_by, auto_assigned_at = NULL, \
         auto_assigned_seq = NULL WHERE id = $1",
    )
    .bind(&handoff.id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Handoffs given automatically before $3 whose holder has shown no sign of life at the
/// dashboard since $2 and has not written to the customer since (by the event log's order,
/// not clocks): `FROM …` for a query that binds the workspace as $1.
const LEFT_UNANSWERED: &str = "FROM handoffs h JOIN users u ON u.id = h.claimed_by \
    WHERE h.workspace_id = $1 AND h.status = 'in_progress' AND h.auto_assigned_at <= $3 \
    AND (u.seen_at IS NULL OR u.seen_at < $2) AND NOT EXISTS (SELECT 1 FROM messages m \
    WHERE m.conversation_id = h.conversation_id AND m.author = 'agent' \
    AND m.user_id = h.claimed_by AND m.seq > h.auto_assigned_seq)";

/// Gives a pending handoff to `member` automatically: theirs from now, the customer told they
/// joined, and their answers counted from its event on.
async fn give(
    tx: &mut WorkspaceTx,
    before: &HandoffRecord,
    member: &mut Candidate,
    now: i64,
) -> StoreResult<HandoffRecord> {
    sqlx::query(
        "UPDATE handoffs SET status = 'in_progress', claimed_by = $1, claimant = $1, \
         claimed_at = $2, auto_assigned_at = $2 WHERE id = $3",
    )
    .bind(&member.user_id)
    .bind(now)
    .bind(&before.id)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE users SET assigned_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&member.user_id)
        .execute(tx.conn())
        .await?;
    member.open += 1;
    member.assigned_at = Some(now);
    let note = format!("{} joined the conversation.", member.name);
    let after = finish_action(tx, before, ASSIGNED, &note, None, false, now).await?;
    // The event just recorded holds the workspace's latest sequence number.
    sqlx::query(
        "UPDATE handoffs SET auto_assigned_seq = \
         (SELECT event_seq FROM workspaces WHERE id = $1) WHERE id = $2",
    )
    .bind(tx.workspace_id().to_owned())
    .bind(&before.id)
    .execute(tx.conn())
    .await?;
    Ok(after)
}

/// What the customer reads when their agent leaves the conversation.
fn release_note(before: &HandoffRecord) -> String {
    let left = before.claimed_by_name.as_deref().unwrap_or("The agent");
    format!("{left} left the conversation. Someone else from the team will reply here.")
}

/// Writes what every handoff action writes after its own change: the note the customer reads,
/// the event (with the member who acted, when one did), and — when the handoff was resolved —
/// the question how the team did (when the bot asks it) and a fresh context for the bot.
async fn finish_action(
    tx: &mut WorkspaceTx,
    before: &HandoffRecord,
    kind: &str,
    note: &str,
    by: Option<Member<'_>>,
    resolved: bool,
    now: i64,
) -> StoreResult<HandoffRecord> {
    let conversation = load_conversation(tx, &before.conversation_id).await?;
    insert_message(
        tx,
        &conversation,
        NewMessage::text("system", "Baton", note),
        now,
    )
    .await?;
    if resolved {
        // After the note that it was resolved, and before the event, which then carries it.
        ratings::ask(tx, before, &conversation, now).await?;
    }
    let seq = tx.next_seq().await?;
    if resolved {
        // A fresh context: the bot never reads back into the handed-off part.
        sqlx::query(
            "UPDATE conversations SET active_handoff_id = NULL, context_seq = $1, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(seq)
        .bind(now)
        .bind(&conversation.id)
        .execute(tx.conn())
        .await?;
    }
    let after = load_handoff(tx, &before.id).await?;
    let mut payload = handoff_event(&after);
    if let Some(by) = by {
        payload["by"] = serde_json::json!({"id": by.user_id, "name": by.name});
    }
    tx.record(seq, kind, Some(&after.conversation_id), payload, now)
        .await?;
    Ok(after)
}

pub(super) async fn load_handoff(tx: &mut WorkspaceTx, id: &str) -> StoreResult<HandoffRecord> {
    let workspace_id = tx.workspace_id().to_owned();
    sqlx::query_as(&format!(
        "{HANDOFF_SELECT} WHERE h.workspace_id = $1 AND h.id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(StoreError::NotFound("handoff"))
}

async fn record_handoff_event(
    tx: &mut WorkspaceTx,
    kind: &str,
    handoff: &HandoffRecord,
    now: i64,
) -> StoreResult<()> {
    let seq = tx.next_seq().await?;
    tx.record(
        seq,
        kind,
        Some(&handoff.conversation_id),
        handoff_event(handoff),
        now,
    )
    .await
}
