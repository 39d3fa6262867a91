//! The built-in responder: no model, no network. It detects requests for a person, searches
//! the knowledge base first for everything else, and answers by quoting the best passage when
//! it is relevant enough; otherwise the knowledge base "has nothing" and it hands off.

use async_trait::async_trait;

use super::small_talk;
use super::summary::{self, Searched};
use super::{Reply, Responder, ResponderError, Turn, decline_text, detect, human_request_reply};
use crate::domain::handoff::Reason;
use crate::knowledge::{self, KnowledgeBase};
use crate::store::Store;

/// How relevant the best passage must be to count as an answer, unless the bot sets its own
/// (`BotRecord::relevance_threshold`); chosen on development splits (docs/EVALUATION.md).
pub const RELEVANCE_THRESHOLD: f32 = 0.235;
/// Share of the question's content words the passage must contain to be quoted without a
/// caveat; below it, the answer is offered as partial.
const COVERED: f32 = 0.6;
/// Longest quote, in characters.
const QUOTE_CHARS: usize = 420;

pub struct BuiltinResponder {
    store: Store,
    knowledge: KnowledgeBase,
}

impl BuiltinResponder {
    pub fn new(store: Store, knowledge: KnowledgeBase) -> Self {
        Self { store, knowledge }
    }
}

#[async_trait]
impl Responder for BuiltinResponder {
    async fn respond(&self, turn: Turn<'_>) -> Result<Reply, ResponderError> {
        let message = turn.message;
        if detect::is_human_request(message) {
            return Ok(human_request_reply(&turn));
        }
        if let Some(answer) = small_talk::answer(message) {
            return Ok(Reply::Answer(answer.to_owned()));
        }
        if detect::is_identity_question(message) {
            let offer = if turn.handoff_enabled {
                " If you'd like to talk to a person, just ask and I'll connect you with the team."
            } else {
                ""
            };
            return Ok(Reply::Answer(format!(
                "I'm {}'s automated assistant. I answer from our help articles.{offer}",
                turn.bot.name
            )));
        }
        let index = self.knowledge.index(&self.store, &turn.bot.id).await?;
        let hits = {
            let index = index.clone();
            let query = message.to_owned();
            tokio::task::spawn_blocking(move || index.search(&query, 3))
                .await
                .map_err(knowledge::KnowledgeError::from)?
                .map_err(knowledge::KnowledgeError::from)?
        };
        if index.terms(message).is_empty() {
            return Ok(Reply::Answer(
                "Could you tell me a little more about what you need?".to_owned(),
            ));
        }
        match hits.first() {
            Some(best) if best.relevance >= turn.bot.relevance_threshold() => {
                let quote = knowledge::quote(&index, best, message, QUOTE_CHARS);
                // A passage that covers only part of the question is offered as such.
                let coverage = index
                    .coverage(message, best)
                    .map_err(knowledge::KnowledgeError::from)?;
                let lead = if coverage < COVERED {
                    "This may not answer everything you asked, but here is what I found:\n\n"
                } else {
                    ""
                };
                Ok(Reply::Answer(format!(
                    "{lead}{quote}\n\n(From “{}”)",
                    best.title
                )))
            }
            best if turn.handoff_enabled => {
                let searched = match best {
                    Some(hit) => Searched::Weak {
                        query: message,
                        title: &hit.title,
                        relevance: hit.relevance,
                    },
                    None => Searched::Nothing { query: message },
                };
                Ok(Reply::Handoff {
                    reason: Reason::KbMiss,
                    summary: summary::write(turn.history, message, searched, Reason::KbMiss),
                })
            }
            _ => Ok(Reply::Answer(decline_text(Reason::KbMiss))),
        }
    }
}
