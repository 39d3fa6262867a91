//! Drafts: the text of a bot answer while a model is still writing it, for the customer's chat
//! window to show growing — or, of kind [`DraftKind::Typing`], only that a person from the team
//! is typing a reply (its text stays theirs until they send it), and of kind
//! [`DraftKind::CustomerTyping`] that the customer is typing, for the team. A draft is not a message and not an event: it is never stored, has
//! no sequence number, and a client that misses one loses nothing, since the stored message
//! replaces it. It goes to this node's live streams and, on PostgreSQL, to other nodes by
//! NOTIFY (the customer's socket may be held by another node than the one answering). Each
//! node also remembers the latest draft of every answer being written ([`Writing`]), so a chat
//! window that connects mid-answer shows it at once instead of at the model's next piece.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// The answer's own id while it is written: the customer message it answers (for someone
    /// typing, the handoff).
    pub id: String,
    pub author_name: String,
    /// The answer so far; empty when the draft is taken away (and for a person typing).
    pub text: String,
    #[serde(default)]
    pub kind: DraftKind,
}

/// What a draft shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftKind {
    /// The bot's answer as it is written.
    #[default]
    Answer,
    /// A person from the team is typing a reply: shown for a few seconds, never remembered
    /// for a chat window that connects later.
    Typing,
    /// The customer is typing in the chat window while a handoff is open: shown to the team on
    /// the handoff's page, never to the customer, never remembered. (A node from before this
    /// kind cannot read such a notice and only logs it.)
    CustomerTyping,
}

/// A draft older than this is not shown to a chat window that connects: the answer it belongs
/// to has long finished or failed (a model may not take longer than `BATON_LLM_ANSWER_TIMEOUT_MS`,
/// 2 minutes by default), and only a node that stopped mid-answer leaves one behind.
const STALE: Duration = Duration::from_secs(120);

/// The latest draft of each answer being written, per conversation, as this node last saw it.
#[derive(Clone, Debug, Default)]
pub struct Writing(Arc<Mutex<Latest>>);

/// Conversation id → when its draft came, and the draft.
type Latest = HashMap<String, (Instant, Arc<Draft>)>;

impl Writing {
    /// Remembers a draft, or forgets its answer's when the draft is taken away.
    fn note(&self, draft: &Arc<Draft>) {
        if draft.kind != DraftKind::Answer {
            return;
        }
        let now = Instant::now();
        let mut writing = self.0.lock().expect("drafts lock");
        // Whatever a stopped node left behind goes as soon as anything else is written.
        writing.retain(|_, (at, _)| now.duration_since(*at) < STALE);
        if !draft.text.is_empty() {
            writing.insert(draft.conversation_id.clone(), (now, draft.clone()));
        } else if writing
            .get(&draft.conversation_id)
            .is_some_and(|(_, shown)| shown.id == draft.id)
        {
            writing.remove(&draft.conversation_id);
        }
    }

    fn current(&self, workspace_id: &str, conversation_id: &str) -> Option<Arc<Draft>> {
        let writing = self.0.lock().expect("drafts lock");
        writing
            .get(conversation_id)
            .filter(|(at, draft)| at.elapsed() < STALE && draft.workspace_id == workspace_id)
            .map(|(_, draft)| draft.clone())
    }
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
        let draft = Arc::new(draft);
        self.writing.note(&draft);
        let _ = self.hub.send(Live::Draft(draft));
    }

    /// The draft of the answer being written in a conversation, if there is one.
    pub fn current_draft(&self, workspace_id: &str, conversation_id: &str) -> Option<Arc<Draft>> {
        self.writing.current(workspace_id, conversation_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(conversation: &str, answer: &str, text: &str) -> Arc<Draft> {
        Arc::new(Draft {
            workspace_id: "ws_a".to_owned(),
            conversation_id: conversation.to_owned(),
            id: answer.to_owned(),
            author_name: "Acme Help".to_owned(),
            text: text.to_owned(),
            kind: DraftKind::Answer,
        })
    }

    #[test]
    fn a_notice_from_a_node_that_knows_no_kinds_is_an_answer() {
        let notice: DraftNotice = serde_json::from_str(
            r#"{"node": "n1", "draft": {"workspace_id": "ws_a", "conversation_id": "c",
                "id": "m", "author_name": "Acme Help", "text": "Stan"}}"#,
        )
        .unwrap();
        assert_eq!(notice.draft.kind, DraftKind::Answer);
        let typing = Draft {
            kind: DraftKind::Typing,
            ..notice.draft
        };
        let json = serde_json::to_value(&typing).unwrap();
        assert_eq!(json["kind"], "typing");
        let customer = Draft {
            kind: DraftKind::CustomerTyping,
            ..typing
        };
        assert_eq!(
            serde_json::to_value(&customer).unwrap()["kind"],
            "customer_typing"
        );
    }

    #[test]
    fn a_person_typing_is_never_remembered() {
        let writing = Writing::default();
        for kind in [DraftKind::Typing, DraftKind::CustomerTyping] {
            let typing = Arc::new(Draft {
                kind,
                ..(*draft("c1", "hnd_1", "never shown")).clone()
            });
            writing.note(&typing);
            assert!(writing.current("ws_a", "c1").is_none(), "{kind:?}");
        }
    }

    #[test]
    fn the_latest_draft_of_each_conversation_is_kept_until_its_answer_takes_it_away() {
        let writing = Writing::default();
        writing.note(&draft("conv_1", "msg_1", "Standard"));
        writing.note(&draft("conv_1", "msg_1", "Standard delivery"));
        writing.note(&draft("conv_2", "msg_2", "Returns"));
        let current = writing.current("ws_a", "conv_1").unwrap();
        assert_eq!(current.text, "Standard delivery");
        // Only its own workspace sees it.
        assert!(writing.current("ws_b", "conv_1").is_none());
        // Taking away another answer's draft (an earlier one, finishing late) leaves it.
        writing.note(&draft("conv_1", "msg_0", ""));
        assert!(writing.current("ws_a", "conv_1").is_some());
        writing.note(&draft("conv_1", "msg_1", ""));
        assert!(writing.current("ws_a", "conv_1").is_none());
        assert_eq!(writing.current("ws_a", "conv_2").unwrap().text, "Returns");
    }

    #[test]
    fn a_draft_left_behind_by_a_stopped_node_is_neither_shown_nor_kept() {
        let writing = Writing::default();
        let old = Instant::now().checked_sub(STALE + Duration::from_secs(1));
        let Some(old) = old else { return };
        writing.0.lock().unwrap().insert(
            "conv_1".to_owned(),
            (old, draft("conv_1", "msg_1", "Stand")),
        );
        assert!(writing.current("ws_a", "conv_1").is_none());
        writing.note(&draft("conv_2", "msg_2", "Returns"));
        assert!(!writing.0.lock().unwrap().contains_key("conv_1"));
    }
}
