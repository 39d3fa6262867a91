//! Ratings: asked for in the transaction that resolves a handoff, answered by the customer
//! from their chat window or a WhatsApp button ([`crate::domain::rating`]).

use super::conversations::{insert_message, load_conversation, system_notes_reach};
use super::handoffs::{HandoffRecord, load_handoff};
use super::{ConversationRecord, NewMessage, Store, StoreError, StoreResult, WorkspaceTx};
use crate::domain::rating::{self, Score};
use crate::marketplace::SATISFACTION_SURVEY;
use crate::views::handoff_event;

/// Asks the customer of a handoff being resolved to rate the help they got, when its bot has
/// the Satisfaction Survey tool, a person answered them during the handoff, and the question
/// can reach them (on WhatsApp: inside the 24-hour window). The rating is the holder's.
pub(super) async fn ask(
    tx: &mut WorkspaceTx,
    before: &HandoffRecord,
    conversation: &ConversationRecord,
    now: i64,
) -> StoreResult<()> {
    let (Some(agent_id), Some(agent_name)) = (&before.claimed_by, &before.claimed_by_name) else {
        return Ok(());
    };
    if !system_notes_reach(conversation, now) {
        return Ok(());
    }
    // A person's message since the handoff opened: after the customer message it answered
    // (older handoffs have none recorded) and not before it was opened.
    let wanted: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM bot_tools t JOIN installed_tools i \
           ON i.workspace_id = t.workspace_id AND i.slug = t.slug \
         WHERE t.bot_id = $1 AND t.slug = $2 \
         AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = $3 \
           AND m.author = 'agent' AND m.created_at >= $4 \
           AND m.seq > COALESCE((SELECT q.seq FROM handoffs h \
             JOIN messages q ON q.id = h.question_message_id WHERE h.id = $5), 0))",
    )
    .bind(&before.bot_id)
    .bind(SATISFACTION_SURVEY)
    .bind(&before.conversation_id)
    .bind(before.created_at)
    .bind(&before.id)
    .fetch_optional(tx.conn())
    .await?;
    if wanted.is_none() {
        return Ok(());
    }
    let question = rating::question(agent_name);
    let request = NewMessage {
        kind: rating::REQUEST_KIND,
        ..NewMessage::text("system", "Baton", &question)
    };
    let message = insert_message(tx, conversation, request, now).await?;
    sqlx::query(
        "INSERT INTO ratings (handoff_id, workspace_id, conversation_id, message_id, agent_id, \
         agent_name, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&before.id)
    .bind(&before.workspace_id)
    .bind(&before.conversation_id)
    .bind(&message.id)
    .bind(agent_id)
    .bind(agent_name)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

impl Store {
    /// Records the customer's answer to the rating request `message_id` of their conversation:
    /// a score, and a comment when one is given (`None` keeps the one there). The first answer
    /// thanks the customer; a repeat of the current answer writes nothing, and so does a tap
    /// (`tap_seq`, the sequence number of the customer's tap message) stored before the one
    /// that gave the current answer: a redelivered older tap. A request takes answers for
    /// [`rating::OPEN_MS`].
    #[allow(clippy::too_many_arguments)]
    pub async fn rate(
        &self,
        workspace_id: &str,
        conversation_id: &str,
        message_id: &str,
        score: Score,
        comment: Option<&str>,
        tap_seq: Option<i64>,
        now: i64,
    ) -> StoreResult<HandoffRecord> {
        let mut tx = self.workspace_tx(workspace_id).await?;
        let found: Option<Current> = sqlx::query_as(
            "SELECT handoff_id, score, comment, requested_at, rated_seq FROM ratings \
             WHERE workspace_id = $1 AND conversation_id = $2 AND message_id = $3",
        )
        .bind(workspace_id)
        .bind(conversation_id)
        .bind(message_id)
        .fetch_optional(tx.conn())
        .await?;
        let Current {
            handoff_id,
            score: was,
            comment: had_comment,
            requested_at,
            rated_seq,
        } = found.ok_or(StoreError::NotFound("rating request"))?;
        if !rating::is_open(requested_at, now) {
            return Err(StoreError::Conflict(
                "this rating request has closed: ratings are taken for a week after the \
                 conversation was resolved"
                    .to_owned(),
            ));
        }
        let comment = comment.map(str::to_owned).or(had_comment.clone());
        let unchanged = was.as_deref() == Some(score.as_str()) && comment == had_comment;
        let older_tap = matches!((tap_seq, rated_seq), (Some(tap), Some(last)) if tap <= last);
        if unchanged || older_tap {
            return load_handoff(&mut tx, &handoff_id).await;
        }
        sqlx::query(
            "UPDATE ratings SET score = $1, comment = $2, rated_at = $3, rated_seq = $4 \
             WHERE handoff_id = $5",
        )
        .bind(score.as_str())
        .bind(&comment)
        .bind(now)
        .bind(tap_seq)
        .bind(&handoff_id)
        .execute(tx.conn())
        .await?;
        if was.is_none() {
            let conversation = load_conversation(&mut tx, conversation_id).await?;
            let thanks = NewMessage::text("system", "Baton", rating::THANKS);
            insert_message(&mut tx, &conversation, thanks, now).await?;
        } else {
            // Customer activity, as a message is (retention counts from it).
            sqlx::query(
                "UPDATE contacts SET last_active_at = $1 WHERE id = \
                 (SELECT contact_id FROM conversations WHERE id = $2)",
            )
            .bind(now)
            .bind(conversation_id)
            .execute(tx.conn())
            .await?;
        }
        let after = load_handoff(&mut tx, &handoff_id).await?;
        let seq = tx.next_seq().await?;
        tx.record(
            seq,
            "handoff.rated",
            Some(conversation_id),
            handoff_event(&after),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The rating requests of a conversation and their answers, by request message id.
    pub async fn ratings_of(
        &self,
        workspace_id: &str,
        conversation_id: &str,
    ) -> StoreResult<Vec<RatingState>> {
        Ok(sqlx::query_as(
            "SELECT message_id, score, comment, requested_at FROM ratings \
             WHERE workspace_id = $1 AND conversation_id = $2",
        )
        .bind(workspace_id)
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?)
    }
}

/// A rating request's answer as [`Store::rate`] finds it.
#[derive(sqlx::FromRow)]
struct Current {
    handoff_id: String,
    score: Option<String>,
    comment: Option<String>,
    requested_at: i64,
    rated_seq: Option<i64>,
}

/// Where a rating request stands, as the customer's chat window shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RatingState {
    pub message_id: String,
    pub score: Option<String>,
    pub comment: Option<String>,
    pub requested_at: i64,
}
