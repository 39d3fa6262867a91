//! The loop every channel shares: a customer message is stored, then — only if the
//! conversation is still the bot's — the responder runs and its reply is stored under the same
//! condition, checked again at the moment of writing. A reply computed while a handoff began
//! is dropped, so the bot never talks over a person. One conversation's messages are answered
//! one at a time, in the order they were stored ([`TurnQueues`]).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::broadcast::{self, error::TryRecvError};
use tracing::Instrument;

use crate::bot::{
    Drafts, NoDrafts, Reply, Turn, decline_text, detect, handoff_text, response_time, summary,
};
use crate::channels::{notify, whatsapp};
use crate::domain::handoff::Reason;
use crate::domain::rating;
use crate::marketplace::REQUEST_HANDOFF;
use crate::state::AppState;
use crate::store::{
    BotRecord, ConversationRecord, CustomerMessage, Draft, DraftKind, Live, MessageRecord,
    NewMessage, StoreError, StoreResult, TURN_LEASE_MS, TakenTurn,
};

/// Stores a customer's message and, if the bot holds the conversation, starts its answer in
/// the background. Returns once the message is durable; `None` for a redelivery.
pub async fn receive(
    state: &AppState,
    conversation: &ConversationRecord,
    message: NewMessage<'_>,
) -> StoreResult<Option<CustomerMessage>> {
    let stored = state
        .store
        .add_customer_message(conversation, message, state.clock.now_ms())
        .await?;
    if let Some(CustomerMessage {
        message,
        conversation,
        needs_answer: true,
    }) = &stored
    {
        let (conversation, message) = (conversation.clone(), message.clone());
        // The message is stored: from here on nothing may fail the request, or a redelivery
        // would be taken for a duplicate and the message would never be answered. A failed
        // read only costs the shortcut; the turn itself looks again.
        let skips_queue = message.kind == "text"
            && detect::is_human_request(&message.text)
            && may_hand_off(state, &conversation.bot_id)
                .await
                .unwrap_or_else(|err| {
                    tracing::warn!(error = %err, "could not read the bot's tools; answering in turn");
                    false
                });
        if skips_queue {
            // A request for a person does not wait behind a slow answer: it hands off now,
            // and whatever the bot was still computing is dropped when it tries to send. (A
            // bot that may not hand off answers it in turn: its "I can't connect you" comes
            // after the answers to earlier messages.)
            state.turns.start_now(state, conversation, message);
        } else {
            state.turns.enqueue(state, conversation, message);
        }
    }
    Ok(stored)
}

/// The bot turns this node has queued or is computing. A customer who sends "hi" and then
/// "where is my order?" gets the answers in that order even when the first takes longer to
/// compute (a slow model call): each conversation has at most one worker, which answers its
/// messages one after another and ends when none are left. (A request for a person skips the
/// queue when the bot may hand off; see [`receive`].)
///
/// Each turn is also a row in the database, leased to this node while it is here
/// ([`sweep`] renews the leases): if this node stops, another takes the turn over.
#[derive(Clone, Default)]
pub struct TurnQueues {
    inner: Arc<Mutex<Queues>>,
}

#[derive(Default)]
struct Queues {
    /// A conversation is here while its worker runs; its queue holds what is still to answer.
    waiting: HashMap<String, VecDeque<(ConversationRecord, MessageRecord)>>,
    /// The messages whose turns are queued or being computed here: the leases to renew.
    held: HashSet<String>,
    /// How many sweeps this node has finished.
    sweeps: u64,
}

impl TurnQueues {
    /// Queues the bot's answer to `message`, starting the conversation's worker if it has none.
    pub fn enqueue(&self, state: &AppState, seen: ConversationRecord, message: MessageRecord) {
        let id = seen.id.clone();
        {
            let mut queues = self.lock();
            queues.held.insert(message.id.clone());
            match queues.waiting.entry(id.clone()) {
                Entry::Occupied(mut queue) => {
                    queue.get_mut().push_back((seen, message));
                    return;
                }
                Entry::Vacant(slot) => {
                    slot.insert(VecDeque::from([(seen, message)]));
                }
            }
        }
        let (queues, state) = (self.clone(), state.clone());
        tokio::spawn(async move { queues.work(&state, &id).await });
    }

    /// Answers `message` now, beside whatever the conversation's worker is computing.
    pub fn start_now(&self, state: &AppState, seen: ConversationRecord, message: MessageRecord) {
        self.lock().held.insert(message.id.clone());
        let (queues, state) = (self.clone(), state.clone());
        tokio::spawn(async move { queues.run(&state, seen, message).await });
    }

    /// The messages whose turns this node holds.
    pub fn held(&self) -> Vec<String> {
        self.lock().held.iter().cloned().collect()
    }

    /// How many sweeps this node has finished: the first runs as it starts.
    pub fn sweeps(&self) -> u64 {
        self.lock().sweeps
    }

    async fn work(&self, state: &AppState, conversation_id: &str) {
        loop {
            let next = {
                let mut queues = self.lock();
                match queues
                    .waiting
                    .get_mut(conversation_id)
                    .and_then(VecDeque::pop_front)
                {
                    Some(next) => next,
                    None => {
                        queues.waiting.remove(conversation_id);
                        return;
                    }
                }
            };
            let (seen, message) = next;
            self.run(state, seen, message).await;
        }
    }

    /// One bot turn, logged under the conversation's span, then let go of. A turn that ended
    /// without an answer (dropped, or stopped by a panic) is ended in the database too, so no
    /// node tries it again; one that failed on the database is left for its lease to run out,
    /// and whichever node sweeps next tries it again (a few times: see [`sweep`]).
    async fn run(&self, state: &AppState, seen: ConversationRecord, message: MessageRecord) {
        let span = tracing::info_span!(
            "bot_turn",
            workspace_id = %seen.workspace_id,
            conversation_id = %seen.id,
        );
        let message_id = message.id.clone();
        // Its own task, so that a panic in one turn is logged and the next still runs.
        let turn = tokio::spawn({
            let state = state.clone();
            async move { bot_turn(&state, &seen, &message).await }.instrument(span.clone())
        });
        let unanswered = match turn.await {
            Ok(Ok(Outcome::Dropped)) => true,
            Ok(Ok(Outcome::Answered(_) | Outcome::HandedOff(_) | Outcome::TurnGone)) => false,
            Ok(Err(err @ StoreError::NotFound(_))) => {
                tracing::error!(parent: &span, error = %err, "the bot could not answer");
                true
            }
            Ok(Err(err)) => {
                tracing::error!(parent: &span, error = %err, "the bot could not answer; the message will be tried again");
                false
            }
            Err(err) if err.is_panic() => {
                tracing::error!(parent: &span, error = %err, "a bot turn failed");
                true
            }
            // Cancelled: the runtime is stopping, and the turn is the next node's.
            Err(_) => false,
        };
        if unanswered && let Err(err) = state.store.end_turn(&message_id).await {
            tracing::warn!(parent: &span, error = %err, "could not end a bot turn; it will be tried again");
        }
        self.lock().held.remove(&message_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queues> {
        self.inner.lock().expect("turn queue lock")
    }
}

/// Whether the bot has the `request_handoff` tool enabled.
pub async fn may_hand_off(state: &AppState, bot_id: &str) -> StoreResult<bool> {
    Ok(state
        .store
        .enabled_tools(bot_id)
        .await?
        .iter()
        .any(|slug| slug == REQUEST_HANDOFF))
}

/// What became of a bot turn.
#[derive(Debug)]
pub enum Outcome {
    Answered(MessageRecord),
    HandedOff(MessageRecord),
    /// The conversation changed hands while the bot was thinking (or, found only as the
    /// answer was stored, another node answered the message first); nothing was sent.
    Dropped,
    /// The message's turn was gone before the bot began: another node answered the message,
    /// or ended its turn. Nothing was computed or sent.
    TurnGone,
}

/// Runs the responder on `message` as the conversation stood (`seen`) and stores the result
/// only if the conversation still stands that way.
pub async fn bot_turn(
    state: &AppState,
    seen: &ConversationRecord,
    message: &MessageRecord,
) -> StoreResult<Outcome> {
    // Listening from before the check below, drafts can stop the moment the conversation
    // changes hands. Only the widget shows drafts.
    let chat_drafts = (seen.channel == "widget").then(|| ChatDrafts::new(state, seen, message));
    // A turn that waited behind one that handed off has nothing to say: skip the responder
    // (and its model call) rather than compute a reply the send check would drop.
    let now = state
        .store
        .conversation(&seen.workspace_id, &seen.id)
        .await?;
    if now.active_handoff_id != seen.active_handoff_id {
        metrics::counter!("baton_bot_turns_total", "outcome" => "dropped").increment(1);
        tracing::info!("bot turn skipped: the conversation changed hands while it waited");
        return Ok(Outcome::Dropped);
    }
    // Nor does one whose message another node answered while this one was slow to renew.
    if !state.store.turn_is_open(&message.id).await? {
        metrics::counter!("baton_bot_turns_total", "outcome" => "turn_gone").increment(1);
        tracing::info!("bot turn skipped: another node answered the message");
        return Ok(Outcome::TurnGone);
    }
    let bot = state.store.bot(&seen.workspace_id, &seen.bot_id).await?;
    let handoff_enabled = may_hand_off(state, &bot.id).await?;
    let history = state
        .store
        .latest_messages_after(&seen.id, seen.context_seq, 200)
        .await?;
    // Everything before this message, then what the bot and agents said after it arrived (the
    // answers to earlier messages, which run first), then the message itself; later customer
    // messages wait for their own turn.
    // A rating tap is feedback on the team, not part of what the customer asks the bot.
    let (mut history, later): (Vec<MessageRecord>, Vec<MessageRecord>) = history
        .into_iter()
        .filter(|m| m.kind != rating::TAP_KIND)
        .partition(|m| m.seq < message.seq);
    history.extend(
        later
            .into_iter()
            .filter(|m| m.seq > message.seq && m.author != "customer"),
    );
    history.push(message.clone());
    let chat_drafts = chat_drafts.map(|drafts| drafts.by(&bot.name));
    // Only a bot that may hand off promises anything (and only it reads the hours).
    let promise = if handoff_enabled {
        let hours = state.store.business_hours(&seen.workspace_id).await?;
        response_time::promise_at(&bot, &hours, state.clock.now_ms())
    } else {
        String::new()
    };
    let turn = Turn {
        bot: &bot,
        handoff_enabled,
        promise: &promise,
        history: &history,
        message: &message.text,
        drafts: match &chat_drafts {
            Some(drafts) => drafts,
            None => &NoDrafts,
        },
    };
    let reply = if message.kind == "reaction" {
        // A thumbs-up needs no answer.
        return Ok(Outcome::Dropped);
    } else if !whatsapp::bot_readable(&message.kind) {
        Ok(Reply::Answer(
            "Thanks! I can only read text messages: could you type your question?".to_owned(),
        ))
    } else {
        state.responder.respond(turn).await
    };
    let reply = match reply {
        Ok(reply) => reply,
        Err(err) => {
            tracing::warn!(error = %err, "responder failed");
            if handoff_enabled {
                Reply::Handoff {
                    reason: Reason::BotError,
                    summary: summary::failed(&history, &message.text, &err.to_string()),
                }
            } else {
                Reply::Answer(decline_text(Reason::BotError))
            }
        }
    };
    let stored = store_reply(state, seen, message, &bot, reply, handoff_enabled, &promise).await;
    // After the message (which replaces a draft in the chat window), when there is none, or
    // when it could not be stored: no draft outlives its turn.
    if let Some(drafts) = &chat_drafts {
        drafts.show("").await;
    }
    let outcome = stored?;
    state.outbox_wake.notify_one();
    let label = match &outcome {
        Outcome::Answered(_) => "answered",
        Outcome::HandedOff(_) => "handed_off",
        Outcome::Dropped => "dropped",
        Outcome::TurnGone => "turn_gone",
    };
    metrics::counter!("baton_bot_turns_total", "outcome" => label).increment(1);
    if matches!(outcome, Outcome::Dropped) {
        tracing::info!("bot reply dropped: the conversation changed hands while it was computed");
    }
    Ok(outcome)
}

/// Stores the bot's reply to `message`, if the conversation still stands as it was `seen`.
async fn store_reply(
    state: &AppState,
    seen: &ConversationRecord,
    message: &MessageRecord,
    bot: &BotRecord,
    reply: Reply,
    handoff_enabled: bool,
    promise: &str,
) -> StoreResult<Outcome> {
    let now = state.clock.now_ms();
    Ok(match reply {
        Reply::Answer(text) => state
            .store
            .add_bot_message(
                seen,
                &message.id,
                NewMessage::text("bot", &bot.name, &text),
                now,
            )
            .await?
            .map_or(Outcome::Dropped, Outcome::Answered),
        Reply::Handoff { reason, summary } if handoff_enabled => {
            let text = handoff_text(bot, promise);
            let opened = state
                .store
                .open_handoff(
                    seen,
                    &message.id,
                    NewMessage::text("bot", &bot.name, &text),
                    reason,
                    &summary,
                    now,
                )
                .await?;
            match opened {
                Some((message, handoff)) => {
                    tracing::info!(handoff_id = %handoff.id, reason = reason.as_str(), "handed off");
                    metrics::counter!("baton_handoffs_total", "reason" => reason.as_str())
                        .increment(1);
                    // Given to a teammate at once when the workspace assigns automatically (who
                    // is told); else everyone notified hears of it. Neither may undo the handoff.
                    if let Err(err) = tell_team(state, &handoff).await {
                        tracing::error!(error = %err, handoff_id = %handoff.id, "could not assign the handoff or queue agent notifications");
                    }
                    Outcome::HandedOff(message)
                }
                None => Outcome::Dropped,
            }
        }
        // A responder may not hand off when the tool is off; say so honestly instead.
        Reply::Handoff { reason, .. } => state
            .store
            .add_bot_message(
                seen,
                &message.id,
                NewMessage::text("bot", &bot.name, &decline_text(reason)),
                now,
            )
            .await?
            .map_or(Outcome::Dropped, Outcome::Answered),
    })
}

/// Assigns a new handoff when the workspace does so automatically — the assignee is told —
/// or, while it waits in the queue, tells everyone who is notified of new ones.
async fn tell_team(state: &AppState, handoff: &crate::store::HandoffRecord) -> StoreResult<()> {
    let given = crate::assign::workspace(state, &handoff.workspace_id).await?;
    if given.iter().any(|h| h.id == handoff.id) {
        return Ok(());
    }
    // Another run (a sweep, another node) may have given it first.
    let now = state
        .store
        .handoff(&handoff.workspace_id, &handoff.id)
        .await?;
    if now.status() == crate::domain::handoff::Status::Pending {
        notify::handoff_created(state, &now).await?;
    }
    Ok(())
}

/// The shortest time between two drafts of one answer: a model sends a piece every few
/// milliseconds, and a chat window reads as smoothly at a dozen updates a second.
const DRAFT_INTERVAL: Duration = Duration::from_millis(80);

/// Drafts of the bot's answer in a widget conversation, thinned to one per [`DRAFT_INTERVAL`],
/// and stopped — the last one taken away — as soon as this node sees the conversation change
/// hands: while a person holds it, the bot shows nothing, not even a draft.
struct ChatDrafts<'a> {
    state: &'a AppState,
    /// Everything but the text.
    draft: Draft,
    /// When the last draft went out; `None` before the first and after a draft is taken away.
    last: Mutex<Option<Instant>>,
    /// This node's live events, read up to now before each draft.
    changes: Mutex<broadcast::Receiver<Live>>,
    handed_over: AtomicBool,
}

impl<'a> ChatDrafts<'a> {
    fn new(
        state: &'a AppState,
        conversation: &ConversationRecord,
        message: &MessageRecord,
    ) -> Self {
        ChatDrafts {
            state,
            draft: Draft {
                workspace_id: conversation.workspace_id.clone(),
                conversation_id: conversation.id.clone(),
                id: message.id.clone(),
                author_name: String::new(),
                text: String::new(),
                kind: DraftKind::Answer,
            },
            last: Mutex::new(None),
            changes: Mutex::new(state.store.subscribe()),
            handed_over: AtomicBool::new(false),
        }
    }

    fn by(mut self, author_name: &str) -> Self {
        self.draft.author_name = author_name.to_owned();
        self
    }

    /// Whether a handoff event of this conversation has gone by since the turn began. A
    /// listener that fell behind cannot tell, so it stops drafting too: the message still
    /// comes if the bot still holds the conversation.
    fn handed_over(&self) -> bool {
        if self.handed_over.load(Ordering::Relaxed) {
            return true;
        }
        let mut changes = self.changes.lock().expect("draft listener");
        let handed_over = loop {
            match changes.try_recv() {
                // (A rating answers a handoff that is over, a label files it: neither hands
                // anything over.)
                Ok(Live::Event(event))
                    if event.kind.starts_with("handoff.")
                        && event.kind != "handoff.rated"
                        && event.kind != crate::domain::handoff::LABELLED
                        && event.conversation_id.as_deref()
                            == Some(self.draft.conversation_id.as_str()) =>
                {
                    break true;
                }
                Ok(_) => {}
                Err(TryRecvError::Lagged(_)) => break true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break false,
            }
        };
        self.handed_over.store(handed_over, Ordering::Relaxed);
        handed_over
    }
}

#[async_trait]
impl Drafts for ChatDrafts<'_> {
    async fn show(&self, text: &str) {
        let text = if self.handed_over() { "" } else { text };
        {
            let mut last = self.last.lock().expect("draft clock");
            let now = Instant::now();
            match *last {
                // Nothing shown, nothing to take away.
                None if text.is_empty() => return,
                Some(_) if text.is_empty() => *last = None,
                Some(at) if now.duration_since(at) < DRAFT_INTERVAL => return,
                _ => *last = Some(now),
            }
        }
        let draft = Draft {
            text: text.to_owned(),
            ..self.draft.clone()
        };
        self.state.store.publish_draft(draft).await;
    }
}

/// How old a message a node answers when it takes its turn over: a day, so a long outage
/// loses no one (past it, WhatsApp refuses free text anyway).
const TAKE_OVER_WINDOW_MS: i64 = crate::domain::WHATSAPP_WINDOW_MS;

/// How often a node renews the leases of its turns and looks for turns a stopped node left:
/// well within [`TURN_LEASE_MS`], so a live node's leases never run out.
const SWEEP_EVERY: Duration = Duration::from_millis(TURN_LEASE_MS as u64 / 3);

/// Runs [`sweep`] from start until the server stops, every [`SWEEP_EVERY`].
pub fn spawn_sweeper(state: &AppState) {
    let never = Arc::new(tokio::sync::Notify::new());
    crate::channels::run_worker(state, "bot turns", never, SWEEP_EVERY, |state| async move {
        sweep(&state).await.map(|_| 0)
    });
}

/// How many times a turn is taken over before it is given up: a turn whose every try fails
/// (a reply the database refuses) must not call the model every half-minute for a day.
const MAX_TAKEOVERS: i64 = 3;

/// Renews the leases of this node's turns, then takes over the turns whose node stopped
/// (crashed, or lost the database for longer than a lease) and queues them here: a message is
/// acknowledged once durable, so its answer must outlive the node that stored it. A taken turn
/// is ended unanswered when there is nothing left to say: the conversation changed hands since,
/// an answer to a later message (which read this one) came first, or it is older than a day —
/// or when it has been taken over [`MAX_TAKEOVERS`] times. Returns how many turns were queued.
/// (Of two nodes that end up computing one turn — one that was only slow to renew, and the one
/// that took it over — only the first to store an answer does: storing takes the turn.)
pub async fn sweep(state: &AppState) -> StoreResult<usize> {
    let now = state.clock.now_ms();
    state
        .store
        .renew_turns(&state.turns.held(), now + TURN_LEASE_MS)
        .await?;
    const BATCH: i64 = 100;
    let mut queued = 0;
    loop {
        let taken = state
            .store
            .take_over_turns(now, now + TURN_LEASE_MS, BATCH)
            .await?;
        let full = taken.len() as i64 == BATCH;
        for TakenTurn {
            conversation,
            message,
            takeovers,
            overtaken,
        } in taken
        {
            let stale = conversation.active_handoff_id.is_some()
                || message.seq <= conversation.context_seq
                || overtaken
                || message.created_at < now - TAKE_OVER_WINDOW_MS;
            if takeovers > MAX_TAKEOVERS {
                tracing::error!(
                    conversation_id = %conversation.id,
                    message_id = %message.id,
                    "gave up answering a message: every try failed"
                );
            }
            if stale || takeovers > MAX_TAKEOVERS {
                state.store.end_turn(&message.id).await?;
            } else {
                // Through the queues, so that a customer writing again now is answered after.
                state.turns.enqueue(state, conversation, message);
                queued += 1;
            }
        }
        if !full {
            break;
        }
    }
    state.turns.lock().sweeps += 1;
    if queued > 0 {
        tracing::info!(
            count = queued,
            "took over answers to customer messages a stopped node had left"
        );
    }
    Ok(queued)
}
