//! The LLM responder: an OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
//! llama.cpp, LM Studio…) writes the answers, but acts only through two structured tools:
//! `search_knowledge_base`, so that answers come from the bot's own knowledge base, and
//! `request_handoff` (offered only when Request Handoff is enabled), so that a handoff is a
//! decision the code sees as data, never a phrase guessed from the model's text. Each bot may
//! bring its own model, endpoint and key; the instance's fill in what it leaves unset.
//!
//! Why it is shaped this way:
//! - The explicit-request detector runs first and needs no model, so "I want a person" hands
//!   off exactly as with the built-in responder, even when the model is down.
//! - Every model call is bounded: a limit on silence (before the answer starts, and between
//!   streamed pieces, so a stalled stream is noticed soon and a long steady one is not cut),
//!   a limit on the whole answer, one retry for failures that may pass (timeouts, 5xx, 429,
//!   unreadable answers), and a few tool rounds per turn. Whatever still
//!   fails becomes [`ResponderError::Model`], which the conversation loop turns into a
//!   `bot_error` handoff (or an apology when the bot may not hand off): the customer is never
//!   left waiting on a silent model.
//! - Answers are streamed when the server can (`"stream": true`): the customer's chat window
//!   shows the answer growing as a draft ([`Drafts`]), and the stored message replaces it. A
//!   streamed turn counts only once its stream has ended; one cut off midway is retried whole.
//! - The handoff summary is the model's own, followed by the searches the bot really ran and
//!   the reason, so agents can trust the "what the bot tried" part.

use std::time::Duration;

use async_trait::async_trait;
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};

mod protocol;

use self::protocol::{
    ModelTurn, StreamedTurn, ToolRequest, assistant_message, parse_completion, tool_schemas,
};
use super::summary::{failure_line, key_facts, reason_line, short};
use super::{
    Drafts, Reply, Responder, ResponderError, Turn, decline_text, detect, human_request_reply,
};
use crate::config::{LlmConfig, Secret};
use crate::crypto;
use crate::domain::handoff::Reason;
use crate::knowledge::{Hit, KnowledgeBase};
use crate::store::{BotRecord, MessageRecord, Store};

/// Model calls per customer message: search, maybe search again, answer — with one spare.
const MAX_ROUNDS: usize = 4;
/// Passages returned per search; more mostly adds noise to a small model's context.
const SEARCH_HITS: usize = 3;
/// Longest passage text handed to the model, in characters.
const PASSAGE_CHARS: usize = 1_500;
/// Longest summary kept from the model, in characters.
const SUMMARY_CHARS: usize = 1_000;
/// Most recent messages sent as history; older ones rarely matter and cost tokens.
const HISTORY_MESSAGES: usize = 30;
/// Pause before the one retry, so a briefly overloaded server gets a breath.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

pub struct LlmResponder {
    store: Store,
    knowledge: KnowledgeBase,
    /// The instance's endpoint, model and key, and the timeout and streaming every call uses.
    config: LlmConfig,
    /// Opens each bot's own model key.
    secret_key: Secret,
    /// One client for every request, so connections to the model server are reused; it
    /// carries the limit on silence (connecting, waiting, and between reads).
    http: reqwest::Client,
}

/// Where one bot's model calls go: the bot's own settings over the instance's.
struct Endpoint {
    /// `{base_url}/chat/completions`.
    url: String,
    key: Option<Secret>,
    model: String,
}

impl LlmResponder {
    pub fn new(
        store: Store,
        knowledge: KnowledgeBase,
        config: LlmConfig,
        secret_key: Secret,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .read_timeout(config.timeout)
            .build()?;
        Ok(Self {
            store,
            knowledge,
            config,
            secret_key,
            http,
        })
    }

    /// Whether this bot talks to a model: it names one, or the instance does.
    pub fn serves(&self, bot: &BotRecord) -> bool {
        self.config.model_for(bot.llm_model.as_deref()).is_some()
    }

    /// The bot's endpoint. A bot with its own base URL sends only its own key there (or
    /// none): the instance's key never leaves for an address a workspace chose.
    fn endpoint(&self, bot: &BotRecord) -> Result<Endpoint, ResponderError> {
        let model = self
            .config
            .model_for(bot.llm_model.as_deref())
            .ok_or_else(|| ResponderError::Model("no model is set for this bot".to_owned()))?
            .to_owned();
        let own_key = match &bot.llm_api_key_sealed {
            Some(sealed) => Some(
                crypto::decrypt(&self.secret_key, sealed)
                    .map(Secret::new)
                    .map_err(|_| {
                        ResponderError::Model(
                    "this bot's model API key cannot be opened (was the secret key changed?); \
                     set it again"
                        .to_owned(),
                )
                    })?,
            ),
            None => None,
        };
        let (base_url, key) = match &bot.llm_base_url {
            // Checked when it was set, and again here: the instance's list may have changed.
            Some(base_url) if !self.config.allows(base_url) => {
                return Err(ResponderError::Model(format!(
                    "this bot's model endpoint {base_url} is not one this instance allows \
                     (BATON_LLM_BOT_BASE_URLS: {})",
                    self.config.allowed_list()
                )));
            }
            Some(base_url) => (base_url.as_str(), own_key),
            None => (
                self.config.base_url.as_str(),
                own_key.or_else(|| self.config.api_key.clone()),
            ),
        };
        Ok(Endpoint {
            url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            key,
            model,
        })
    }
}

#[async_trait]
impl Responder for LlmResponder {
    #[tracing::instrument(skip_all, fields(bot_id = %turn.bot.id))]
    async fn respond(&self, turn: Turn<'_>) -> Result<Reply, ResponderError> {
        if detect::is_human_request(turn.message) {
            return Ok(human_request_reply(&turn));
        }
        let mut searches: Vec<Search> = Vec::new();
        match self.converse(&turn, &mut searches).await {
            // The agent learns what the bot had already looked up before the model failed.
            Err(ResponderError::Model(why)) if turn.handoff_enabled => {
                tracing::warn!(error = %why, "the model failed; handing off");
                Ok(Reply::Handoff {
                    reason: Reason::BotError,
                    summary: handoff_summary(&turn, "", &searches, Reason::BotError, Some(&why)),
                })
            }
            other => other,
        }
    }
}

impl LlmResponder {
    /// The model's turns for one customer message, running the tools it calls, until it
    /// answers or hands off. Every search is noted in `searches`, also when a later call fails.
    async fn converse(
        &self,
        turn: &Turn<'_>,
        searches: &mut Vec<Search>,
    ) -> Result<Reply, ResponderError> {
        let endpoint = self.endpoint(turn.bot)?;
        let tools = tool_schemas(turn.handoff_enabled);
        let mut messages = vec![json!({"role": "system", "content": system_prompt(turn)})];
        messages.extend(history(turn.history, turn.message));
        for round in 1..=MAX_ROUNDS {
            let (content, calls) = match self
                .complete(&endpoint, &messages, &tools, turn.drafts)
                .await?
            {
                ModelTurn::Answer(text) => return Ok(Reply::Answer(text)),
                ModelTurn::ToolCalls { content, calls } => (content, calls),
            };
            tracing::debug!(round, calls = calls.len(), "the model called tools");
            messages.push(assistant_message(content.as_deref(), &calls));
            for call in calls {
                let result = match call.request {
                    ToolRequest::Search { query } => {
                        let hits = self
                            .knowledge
                            .search(&self.store, &turn.bot.id, &query, SEARCH_HITS)
                            .await?;
                        let result = search_result(&query, &hits, turn.bot.relevance_threshold());
                        searches.push(Search::new(query, &hits));
                        result
                    }
                    // The knowledge base comes first (spec §2.1b): a "nothing relevant" the
                    // bot never looked for is sent back as a tool error, not obeyed.
                    ToolRequest::Handoff {
                        reason: Reason::KbMiss,
                        ..
                    } if searches.is_empty() => json!({
                        "error": "Search the knowledge base with search_knowledge_base before \
                                  handing off because it has no answer."
                    }),
                    ToolRequest::Handoff { reason, summary } => {
                        return Ok(if turn.handoff_enabled {
                            Reply::Handoff {
                                reason,
                                summary: handoff_summary(turn, &summary, searches, reason, None),
                            }
                        } else {
                            // Not offered, but asked for anyway: decline honestly.
                            Reply::Answer(decline_text(reason))
                        });
                    }
                };
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": result.to_string(),
                }));
            }
        }
        Err(ResponderError::Model(format!(
            "the model gave no answer after {MAX_ROUNDS} rounds of tool calls"
        )))
    }

    /// One model call, retried once if the failure may pass.
    async fn complete(
        &self,
        endpoint: &Endpoint,
        messages: &[Value],
        tools: &Value,
        drafts: &dyn Drafts,
    ) -> Result<ModelTurn, ResponderError> {
        let mut body = json!({"model": endpoint.model, "messages": messages, "tools": tools});
        if self.config.stream {
            body["stream"] = json!(true);
        }
        let failure = match self.attempt(endpoint, &body, drafts).await {
            Ok(turn) => return Ok(turn),
            Err(Failure::Final(why)) => return Err(ResponderError::Model(why)),
            Err(Failure::Transient(why)) => why,
        };
        tracing::warn!(error = %failure, "the model call failed; retrying once");
        tokio::time::sleep(RETRY_PAUSE).await;
        self.attempt(endpoint, &body, drafts)
            .await
            .map_err(|failure| {
                let (Failure::Final(why) | Failure::Transient(why)) = failure;
                ResponderError::Model(format!("{why} (after one retry)"))
            })
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        body: &Value,
        drafts: &dyn Drafts,
    ) -> Result<ModelTurn, Failure> {
        let deadline = Instant::now() + self.config.answer_timeout;
        let mut request = self.http.post(&endpoint.url).json(body);
        if let Some(key) = &endpoint.key {
            request = request.bearer_auth(key.expose());
        }
        let sent = timeout_at(deadline, request.send())
            .await
            .map_err(|_| self.too_long())?
            .map_err(|e| self.transport(e))?;
        let status = sent.status();
        let streamed = sent
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if status.is_success() && streamed {
            return self.read_stream(sent, drafts, deadline).await;
        }
        // A server that ignores `stream` answers with one JSON body, read as such.
        let text = timeout_at(deadline, sent.text())
            .await
            .map_err(|_| self.too_long())?
            .map_err(|e| self.transport(e))?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::Transient(format!(
                "HTTP {status}: {}",
                short(&text)
            )));
        }
        if !status.is_success() {
            // A wrong key, model name or URL will not fix itself on a retry.
            return Err(Failure::Final(format!("HTTP {status}: {}", short(&text))));
        }
        parse_completion(&text).map_err(Failure::Transient)
    }

    /// Reads a streamed answer, showing its text as a draft while it grows — unless the model
    /// turns to tool calls, whose turn is not an answer. A draft that does not end as the
    /// answer (tool calls, a failure) is taken away.
    async fn read_stream(
        &self,
        response: reqwest::Response,
        drafts: &dyn Drafts,
        deadline: Instant,
    ) -> Result<ModelTurn, Failure> {
        let mut events = response.bytes_stream().eventsource();
        let mut turn = StreamedTurn::default();
        let mut shown = false;
        let read = async {
            while let Some(event) = events.next().await {
                let event = event.map_err(|e| match e {
                    EventStreamError::Transport(e) if e.is_timeout() => {
                        Failure::Transient(format!(
                            "the answer stopped midway: nothing more for {} ms",
                            self.config.timeout.as_millis()
                        ))
                    }
                    EventStreamError::Transport(e) => self.transport(e),
                    other => Failure::Transient(format!("unreadable model stream: {other}")),
                })?;
                if turn.push(&event.data).map_err(Failure::Transient)? && !turn.calls_tools() {
                    drafts.show(turn.text()).await;
                    shown = true;
                }
            }
            turn.finish().map_err(Failure::Transient)
        };
        let result = match timeout_at(deadline, read).await {
            Ok(result) => result,
            Err(_) => Err(self.too_long()),
        };
        if shown && !matches!(result, Ok(ModelTurn::Answer(_))) {
            drafts.show("").await;
        }
        result
    }

    fn too_long(&self) -> Failure {
        Failure::Transient(format!(
            "the answer was not finished within {} ms",
            self.config.answer_timeout.as_millis()
        ))
    }

    fn transport(&self, error: reqwest::Error) -> Failure {
        Failure::Transient(if error.is_timeout() {
            format!("no answer within {} ms", self.config.timeout.as_millis())
        } else if error.is_connect() {
            // The root cause (DNS, refused, TLS) is what an operator needs to fix it.
            let mut cause: &dyn std::error::Error = &error;
            while let Some(source) = cause.source() {
                cause = source;
            }
            format!("cannot connect to the model server: {cause}")
        } else {
            error.without_url().to_string()
        })
    }
}

/// Why a model call failed, and whether trying again may help.
#[derive(Debug)]
enum Failure {
    Transient(String),
    Final(String),
}

/// The system message: the bot's own prompt, then the rules Baton holds every bot to.
fn system_prompt(turn: &Turn<'_>) -> String {
    let mut parts = Vec::new();
    let own = turn.bot.system_prompt.trim();
    if !own.is_empty() {
        parts.push(own.to_owned());
    }
    let mut rules = vec![
        "Rules you must follow:",
        "- Before answering a question, always call search_knowledge_base, and answer only \
         from the passages it marks \"relevant\": true. Never invent facts, prices, dates or \
         policies.",
        "- Greetings and thanks need no search; answer them briefly.",
        "- Keep answers short and friendly, in the customer's language.",
    ];
    if turn.handoff_enabled {
        rules.push(
            "- If the knowledge base has nothing relevant to the question, call \
             request_handoff with reason \"kb_miss\" instead of answering.",
        );
        rules.push(
            "- If the customer asks to talk to a person, call request_handoff with reason \
             \"customer_request\".",
        );
    } else {
        rules.push(
            "- If the knowledge base has nothing relevant, say politely that you can't help \
             with that. This chat cannot be passed to a person: never promise that a person, \
             agent or team will reply or get in touch.",
        );
    }
    parts.push(rules.join("\n"));
    // Only when a handoff can happen: without one, a response time would read as a promise
    // that someone is coming (spec §2.2).
    let promise = turn.promise.trim();
    if turn.handoff_enabled && !promise.is_empty() {
        parts.push(format!(
            "When you hand off, the customer is told: \"{promise}\" Never promise any other \
             response time, whatever the instructions above say."
        ));
    }
    parts.join("\n\n")
}

/// The conversation as chat messages, ending with the message to answer.
///
/// Customers speak as `user`. The bot and agents both speak as `assistant`: to the customer
/// they are the business, and the model should stay consistent with what an agent said.
/// System notices ("Ana joined the conversation") are for the customer's screen, not
/// dialogue, so they are left out.
fn history(history: &[MessageRecord], message: &str) -> Vec<Value> {
    let recent = &history[history.len().saturating_sub(HISTORY_MESSAGES)..];
    let mut messages: Vec<Value> = recent
        .iter()
        .filter_map(|m| match m.author.as_str() {
            "customer" => Some(json!({"role": "user", "content": m.text})),
            "bot" | "agent" => Some(json!({"role": "assistant", "content": m.text})),
            _ => None,
        })
        .collect();
    let ends_with_message =
        matches!(history.last(), Some(m) if m.author == "customer" && m.text == message);
    if !ends_with_message {
        messages.push(json!({"role": "user", "content": message}));
    }
    messages
}

/// The search tool's result: the passages, each marked with whether it is relevant enough to
/// answer from by the bot's own threshold (the one the built-in responder answers by), and a
/// plain word when none is.
fn search_result(query: &str, hits: &[Hit], threshold: f32) -> Value {
    let passages: Vec<Value> = hits
        .iter()
        .map(|hit| {
            json!({
                "title": hit.title,
                "heading": hit.heading,
                "text": hit.body.chars().take(PASSAGE_CHARS).collect::<String>(),
                "relevance": (f64::from(hit.relevance) * 100.0).round() / 100.0,
                "relevant": hit.relevance >= threshold,
            })
        })
        .collect();
    let mut result = json!({"query": query, "passages": passages});
    if hits.is_empty() {
        result["note"] = json!("The knowledge base has nothing on this.");
    } else if hits.iter().all(|hit| hit.relevance < threshold) {
        result["note"] = json!(
            "No passage is relevant enough to answer from: the knowledge base has nothing on this."
        );
    }
    result
}

/// A search the bot ran, remembered for the handoff summary.
struct Search {
    query: String,
    best: Option<(String, f32)>,
}

impl Search {
    fn new(query: String, hits: &[Hit]) -> Self {
        let best = hits.first().map(|hit| (hit.title.clone(), hit.relevance));
        Search { query, best }
    }
}

/// The model's summary, then what the bot really searched, what failed (if the model did),
/// the reason and the key facts.
fn handoff_summary(
    turn: &Turn<'_>,
    summary: &str,
    searches: &[Search],
    reason: Reason,
    failure: Option<&str>,
) -> String {
    let mut parts = Vec::new();
    match summary.trim() {
        "" => parts.push(format!("The customer asked: “{}”.", short(turn.message))),
        // A runaway model must not bury the facts that follow.
        summary => parts.push(summary.chars().take(SUMMARY_CHARS).collect()),
    }
    if !searches.is_empty() {
        let tried: Vec<String> = searches
            .iter()
            .map(|search| match &search.best {
                Some((title, relevance)) => format!(
                    "“{}” (best match “{title}”, relevance {relevance:.2})",
                    short(&search.query)
                ),
                None => format!("“{}” (nothing found)", short(&search.query)),
            })
            .collect();
        parts.push(format!(
            "The bot searched the knowledge base for {}.",
            tried.join("; ")
        ));
    }
    if let Some(why) = failure {
        parts.push(failure_line(why));
    }
    parts.push(reason_line(reason).to_owned());
    let mut said: Vec<&str> = turn
        .history
        .iter()
        .filter(|m| m.author == "customer")
        .map(|m| m.text.as_str())
        .collect();
    if !said.contains(&turn.message) {
        said.push(turn.message);
    }
    let facts = key_facts(&said);
    if !facts.is_empty() {
        parts.push(format!("Key facts: {}.", facts.join(", ")));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(author: &str, text: &str) -> MessageRecord {
        MessageRecord {
            id: String::new(),
            workspace_id: String::new(),
            conversation_id: String::new(),
            seq: 0,
            author: author.to_owned(),
            author_name: String::new(),
            user_id: None,
            kind: "text".to_owned(),
            text: text.to_owned(),
            external_id: None,
            delivery_status: None,
            delivery_error: None,
            created_at: 0,
        }
    }

    #[test]
    fn history_maps_authors_to_roles_and_skips_system_notices() {
        let records = [
            record("customer", "hi"),
            record("bot", "Hello!"),
            record("system", "Ana joined the conversation"),
            record("agent", "Ana here."),
            record("customer", "where is my order?"),
        ];
        let messages = history(&records, "where is my order?");
        let roles: Vec<&str> = messages
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant", "assistant", "user"]);
        assert_eq!(messages[3]["content"], "where is my order?");
        // A history that does not end with the message still gets it last.
        let messages = history(&records[..2], "and returns?");
        assert_eq!(messages.last().unwrap()["content"], "and returns?");
    }
}
