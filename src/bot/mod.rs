//! The bot's brain: a [`Responder`] turns the customer's latest message into an answer, a
//! handoff, or a polite "I can't help with that". [`builtin`] needs no model; [`llm`] asks an
//! OpenAI-compatible model, with the knowledge base and the handoff as tools.

pub mod builtin;
pub mod detect;
pub mod follow_up;
pub mod llm;
pub mod response_time;
pub mod small_talk;
pub mod summary;

use async_trait::async_trait;

use crate::domain::handoff::Reason;
use crate::store::{BotRecord, MessageRecord};

/// What a responder gets to work with.
pub struct Turn<'a> {
    pub bot: &'a BotRecord,
    /// Whether Request Handoff is installed in the workspace and enabled on this bot.
    pub handoff_enabled: bool,
    /// What a customer handed off now is told about when the team will answer: the bot's
    /// response time, or, outside business hours, when the team is back.
    pub promise: &'a str,
    /// The conversation since the bot's context began (the last resolve), oldest first,
    /// ending with the message to answer.
    pub history: &'a [MessageRecord],
    pub message: &'a str,
    /// Where an answer being written may be shown before it is final.
    pub drafts: &'a dyn Drafts,
}

/// Shows an answer while it is still being written (a model streaming its reply), so the
/// customer's chat window can show it growing. A draft is only shown, never stored: what the
/// responder finally returns is what the conversation keeps, and it replaces the draft.
#[async_trait]
pub trait Drafts: Send + Sync {
    /// The answer so far; each call replaces the last, and empty text takes the draft away.
    async fn show(&self, text: &str);
}

/// For channels that cannot show a message before it is sent whole (WhatsApp), and for
/// responders that write their answer at once.
pub struct NoDrafts;

#[async_trait]
impl Drafts for NoDrafts {
    async fn show(&self, _text: &str) {}
}

/// What the bot decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Say this to the customer.
    Answer(String),
    /// Pass the conversation to people (only produced when handoff is enabled).
    Handoff { reason: Reason, summary: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ResponderError {
    #[error("knowledge base: {0}")]
    Knowledge(#[from] crate::knowledge::KnowledgeError),
    #[error("model: {0}")]
    Model(String),
}

#[async_trait]
pub trait Responder: Send + Sync {
    async fn respond(&self, turn: Turn<'_>) -> Result<Reply, ResponderError>;
}

/// Each bot's responder: the LLM one when the bot has a model (its own or the instance's),
/// the built-in one otherwise — so one instance can run some bots on a model and others
/// offline.
pub struct PerBot {
    pub builtin: builtin::BuiltinResponder,
    pub llm: llm::LlmResponder,
}

#[async_trait]
impl Responder for PerBot {
    async fn respond(&self, turn: Turn<'_>) -> Result<Reply, ResponderError> {
        if self.llm.serves(turn.bot) {
            self.llm.respond(turn).await
        } else {
            self.builtin.respond(turn).await
        }
    }
}

/// The reply to an explicit request for a person, the same whichever responder runs: a
/// handoff with an extractive summary, or, when the bot may not hand off, an honest decline.
pub fn human_request_reply(turn: &Turn<'_>) -> Reply {
    if turn.handoff_enabled {
        Reply::Handoff {
            reason: Reason::CustomerRequest,
            summary: summary::write(
                turn.history,
                turn.message,
                summary::Searched::NotSearched,
                Reason::CustomerRequest,
            ),
        }
    } else {
        Reply::Answer(decline_text(Reason::CustomerRequest))
    }
}

/// What the bot says when it hands off: the bot's handoff message and what it promises
/// (see [`Turn::promise`]).
pub fn handoff_text(bot: &BotRecord, promise: &str) -> String {
    [bot.handoff_message.trim(), promise.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the bot says when it cannot help and may not hand off: no promise of a person.
pub fn decline_text(reason: Reason) -> String {
    match reason {
        Reason::CustomerRequest => "I'm sorry, I can't connect you with a person in this chat. \
            I'm happy to help with questions about our products and services, though."
            .to_owned(),
        Reason::KbMiss | Reason::BotError => "I'm sorry, I can't help with that. \
            Could you rephrase your question, or ask me about something else?"
            .to_owned(),
    }
}

/// A conversation for unit tests: `(author, text)` pairs, numbered from seq 1.
#[cfg(test)]
pub(crate) fn said(texts: &[(&str, &str)]) -> Vec<MessageRecord> {
    texts
        .iter()
        .enumerate()
        .map(|(i, (author, text))| MessageRecord {
            id: format!("m{i}"),
            workspace_id: "w".into(),
            conversation_id: "c".into(),
            seq: i as i64 + 1,
            author: (*author).into(),
            author_name: String::new(),
            user_id: None,
            kind: "text".into(),
            text: (*text).into(),
            external_id: None,
            delivery_status: None,
            delivery_error: None,
            created_at: 0,
        })
        .collect()
}
