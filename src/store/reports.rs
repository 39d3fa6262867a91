//! What reports are made of: the handoffs opened in a span of time with when each was claimed,
//! first answered by a person and resolved, and counts of the messages and conversations of
//! that span. The figures themselves are worked out in [`crate::reports`].

use sqlx::FromRow;

use super::{Store, StoreResult};

/// The span a report covers, `[from_ms, to_ms)`, and the bot it is limited to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub from_ms: i64,
    pub to_ms: i64,
    pub bot_id: Option<String>,
}

impl Span {
    fn bot(&self) -> &str {
        self.bot_id.as_deref().unwrap_or("")
    }
}

/// `sql` with the workspace as `$1`, the span as `$2`–`$3` and its bot (or '') as `$4`.
fn in_span<'q, O>(
    sql: &'q str,
    workspace_id: &'q str,
    span: &'q Span,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
where
    O: for<'r> FromRow<'r, sqlx::any::AnyRow>,
{
    sqlx::query_as(sql)
        .bind(workspace_id)
        .bind(span.from_ms)
        .bind(span.to_ms)
        .bind(span.bot())
}

/// One handoff opened in the span, with what happened to it.
#[derive(Debug, Clone, FromRow)]
pub struct HandoffFacts {
    pub id: String,
    pub reason: String,
    pub status: String,
    pub created_at: i64,
    /// When it was claimed and by whom: the claimant, not a holder it was transferred to since
    /// (a released handoff's earlier claim is forgotten).
    pub claimed_at: Option<i64>,
    pub claimed_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
    /// The first reply a person sent the customer while this handoff was open, and who sent it.
    pub first_reply_at: Option<i64>,
    pub first_reply_by: Option<String>,
    /// For a knowledge-base miss, the customer's question the bot could not answer.
    pub question: Option<String>,
    /// When the customer was asked to rate it, for whom (the holder at resolve), and their
    /// answer, if any.
    pub rating_asked_at: Option<i64>,
    pub rated_agent: Option<String>,
    pub rating: Option<String>,
}

/// An answer to the Satisfaction Survey given during the span.
#[derive(Debug, Clone, FromRow)]
pub struct RatingFacts {
    pub handoff_id: String,
    pub score: String,
    pub comment: Option<String>,
    /// Who held the handoff when it was resolved.
    pub agent_name: String,
    pub rated_at: i64,
}

/// The conversations customers wrote in during the span, and how many of those were with
/// people at some point of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConversationCounts {
    pub active: i64,
    pub handed_off: i64,
}

/// A person's replies to customers during the span.
#[derive(Debug, Clone, FromRow)]
pub struct RepliesBy {
    pub user_id: String,
    pub replies: i64,
}

/// The first message a person sent in the handoff's conversation while it was open. Read
/// from the customer's question on (from the start for handoffs older than that column), so
/// the conversation's earlier years are not read for it.
const FIRST_REPLY: &str = "FROM messages m WHERE m.conversation_id = h.conversation_id \
    AND m.seq > COALESCE(q.seq, 0) AND m.author = 'agent' AND m.created_at >= h.created_at \
    AND (h.resolved_at IS NULL OR m.created_at <= h.resolved_at) ORDER BY m.seq LIMIT 1";

/// Messages of the span, in conversations of the span's bot (not reactions or taps on rating
/// buttons: a customer answering how the team did is not a customer writing in).
const SPAN_MESSAGES: &str = "FROM messages m JOIN conversations c ON c.id = m.conversation_id \
    WHERE m.workspace_id = $1 AND m.created_at >= $2 AND m.created_at < $3 \
    AND ($4 = '' OR c.bot_id = $4) AND m.kind NOT IN ('reaction', 'rating')";

impl Store {
    /// The handoffs opened in the span, oldest first.
    pub async fn handoffs_opened(
        &self,
        workspace_id: &str,
        span: &Span,
    ) -> StoreResult<Vec<HandoffFacts>> {
        Ok(in_span(
            &format!(
                "SELECT h.id, h.reason, h.status, h.created_at, h.claimed_at, \
             COALESCE(h.claimant, h.claimed_by) AS claimed_by, \
             h.resolved_at, h.resolved_by, \
             (SELECT m.created_at {FIRST_REPLY}) AS first_reply_at, \
             (SELECT m.user_id {FIRST_REPLY}) AS first_reply_by, \
             CASE WHEN h.reason = 'kb_miss' THEN COALESCE(q.text, \
               (SELECT m.text FROM messages m WHERE m.conversation_id = h.conversation_id \
                AND m.author = 'customer' AND m.kind NOT IN ('reaction', 'rating') \
                AND m.created_at <= h.created_at ORDER BY m.seq DESC LIMIT 1)) \
             END AS question, \
             r.requested_at AS rating_asked_at, r.agent_id AS rated_agent, r.score AS rating \
             FROM handoffs h LEFT JOIN messages q ON q.id = h.question_message_id \
             LEFT JOIN ratings r ON r.handoff_id = h.id \
             WHERE h.workspace_id = $1 AND h.created_at >= $2 \
             AND h.created_at < $3 AND ($4 = '' OR h.bot_id = $4) \
             ORDER BY h.created_at, h.id"
            ),
            workspace_id,
            span,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// The answers to the Satisfaction Survey given in the span that are worth reading —
    /// short of Great, or with a comment —, newest first, at most `limit`.
    pub async fn feedback_given(
        &self,
        workspace_id: &str,
        span: &Span,
        limit: i64,
    ) -> StoreResult<Vec<RatingFacts>> {
        Ok(in_span(
            "SELECT r.handoff_id, r.score, r.comment, r.agent_name, r.rated_at \
             FROM ratings r JOIN handoffs h ON h.id = r.handoff_id \
             WHERE r.workspace_id = $1 AND r.rated_at >= $2 AND r.rated_at < $3 \
             AND ($4 = '' OR h.bot_id = $4) \
             AND (r.score <> 'great' OR r.comment IS NOT NULL) \
             ORDER BY r.rated_at DESC, r.handoff_id DESC LIMIT $5",
            workspace_id,
            span,
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// How many messages each kind of author (`customer`, `bot`, `agent`, `system`) wrote in
    /// the span; reactions and taps on rating buttons are not counted.
    pub async fn messages_by_author(
        &self,
        workspace_id: &str,
        span: &Span,
    ) -> StoreResult<Vec<(String, i64)>> {
        Ok(in_span(
            &format!("SELECT m.author, COUNT(*) {SPAN_MESSAGES} GROUP BY m.author"),
            workspace_id,
            span,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// How many replies each person sent customers in the span.
    pub async fn replies_by_person(
        &self,
        workspace_id: &str,
        span: &Span,
    ) -> StoreResult<Vec<RepliesBy>> {
        Ok(in_span(
            &format!(
                "SELECT m.user_id, COUNT(*) AS replies {SPAN_MESSAGES} \
             AND m.author = 'agent' AND m.user_id IS NOT NULL GROUP BY m.user_id"
            ),
            workspace_id,
            span,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// The conversations a customer wrote in during the span, and how many of them were with
    /// people at some point of it (a handoff open then, whenever it was opened).
    pub async fn conversation_counts(
        &self,
        workspace_id: &str,
        span: &Span,
    ) -> StoreResult<ConversationCounts> {
        let (active, handed_off): (i64, i64) = in_span(
            &format!(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM handoffs h \
               WHERE h.conversation_id = written.conversation_id AND h.created_at < $3 \
               AND (h.resolved_at IS NULL OR h.resolved_at >= $2)) THEN 1 ELSE 0 END), 0) \
             FROM (SELECT DISTINCT m.conversation_id {SPAN_MESSAGES} \
               AND m.author = 'customer') written"
            ),
            workspace_id,
            span,
        )
        .fetch_one(self.pool())
        .await?;
        Ok(ConversationCounts { active, handed_off })
    }
}
