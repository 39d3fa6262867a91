//! Drafts: the text of a bot answer while a model is still writing it, for the customer's chat
//! window to show growing. A draft is not a message and not an event: it is never stored, has
//! no sequence number, and a client that misses one loses nothing, since the stored message
//! replaces it. It goes to this node's live streams and, on PostgreSQL, to other nodes by
//! NOTIFY (the customer's socket may be held by another node than the one answering).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Backend, Live, Store};

/// The NOTIFY channel for drafts; the payload is a [`DraftNotice`] as JSON.
pub const DRAFT_CHANNEL: &str = "baton_drafts";

/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. A draft longer than that reaches
/// only this node's sockets; other nodes' customers see it stop growing until the message.
const NOTIFY_LIMIT: usize = 7_900;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub workspace_id: String,
    pub conversation_id: String,
    /// The answer's own id while it is written: the customer message it answers.
    pub id: String,
    pub author_name: String,
    /// The answer so far; empty when the draft is taken away.
    pub text: String,
}

/// What one node tells the others.
#[derive(Serialize, Deserialize)]
pub struct DraftNotice {
    pub node: String,
    pub draft: Draft,
}

impl Store {
    /// Shows a draft on every node's live streams. Best effort: a draft that cannot be relayed
    /// is only logged, since the message that follows carries the whole answer.
    pub async fn publish_draft(&self, draft: Draft) {
        if self.backend == Backend::Postgres {
            let notice = DraftNotice {
                node: self.node_id.clone(),
                draft: draft.clone(),
            };
            let payload = serde_json::to_string(&notice).unwrap_or_default();
            if payload.len() < NOTIFY_LIMIT {
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(DRAFT_CHANNEL)
                    .bind(payload)
                    .execute(&self.pool)
                    .await;
                if let Err(err) = sent {
                    tracing::debug!(error = %err, "a draft was not relayed to other nodes");
                }
            }
        }
        self.relay_draft(draft);
    }

    /// Hands a draft (from this node or another) to this node's subscribers.
    pub fn relay_draft(&self, draft: Draft) {
        let _ = self.hub.send(Live::Draft(Arc::new(draft)));
    }
}
