//! Resumable event streams over WebSocket. A client connects with `after=<seq>`; the socket
//! first replays the log from the database, then follows the live hub. Whenever the hub skips
//! (a gap in sequence numbers, or this socket lagged behind the channel) the socket reloads
//! from the log, so a client sees every event exactly once and in order however slow it is —
//! and a slow client holds up no one else, since each has its own cursor. A customer's socket
//! also shows drafts of the bot's answer while a model writes it (`message.draft`, see
//! [`crate::store::Draft`]); they are not in the log, but a socket that connects mid-answer
//! starts with the latest one. A workspace socket that names a conversation (`typing=<id>`, the
//! dashboard's handoff page) is also told when that customer is typing: the one kind of
//! notice on it without a sequence number, so only a client that asks for it gets it.

pub mod relay;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::accounts::Credential;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Draft, DraftKind, EventRecord, Live, StoreResult};

/// Events read from the log per query when catching up.
const PAGE: i64 = 500;
/// The most streams one visitor may have open on a node: the widget connects in every tab of
/// the site (they share the chat), so a shopper's many tabs, not thousands of sockets opened
/// with one token.
pub const MAX_VISITOR_STREAMS: usize = 30;
/// The most streams one member may have open on a node, dashboard tabs and API clients
/// together.
pub const MAX_MEMBER_STREAMS: usize = 50;

/// Which events a socket follows, and how they are shown to it.
#[derive(Clone)]
pub enum Feed {
    /// Everything in a workspace, as agents and integrators see it, for as long as the
    /// session or API key it was opened with holds.
    Workspace {
        workspace_id: String,
        user_id: String,
        credential: Credential,
        /// The conversation whose customer's typing this socket is shown, if any.
        typing_in: Option<String>,
    },
    /// One conversation, as its customer sees it: messages and handoff status, nothing else.
    Visitor {
        workspace_id: String,
        conversation_id: String,
    },
}

impl Feed {
    fn wants(&self, event: &EventRecord) -> bool {
        match self {
            Feed::Workspace { workspace_id, .. } => event.workspace_id == *workspace_id,
            Feed::Visitor {
                workspace_id,
                conversation_id,
            } => {
                event.workspace_id == *workspace_id
                    && event.conversation_id.as_deref() == Some(conversation_id.as_str())
            }
        }
    }

    async fn load(&self, state: &AppState, after: i64) -> StoreResult<Vec<EventRecord>> {
        match self {
            Feed::Workspace { workspace_id, .. } => {
                state.store.events_after(workspace_id, after, PAGE).await
            }
            Feed::Visitor {
                conversation_id, ..
            } => {
                state
                    .store
                    .conversation_events_after(conversation_id, after, PAGE)
                    .await
            }
        }
    }

    /// What the socket shows of a draft: only the customer's own chat window shows answers
    /// being written and the team typing (agents and integrators see the message once it is
    /// stored); the team is shown the customer typing only where it asked to be.
    fn draft_view(&self, draft: &Draft) -> Option<Value> {
        match self {
            Feed::Workspace {
                workspace_id,
                typing_in,
                ..
            } => (draft.kind == DraftKind::CustomerTyping
                && draft.workspace_id == *workspace_id
                && typing_in.as_deref() == Some(draft.conversation_id.as_str()))
            .then(|| {
                serde_json::json!({
                    "type": "typing",
                    "author": "customer",
                    "conversation_id": draft.conversation_id,
                    "handoff_id": draft.id,
                })
            }),
            Feed::Visitor {
                workspace_id,
                conversation_id,
            } => {
                if draft.workspace_id != *workspace_id || draft.conversation_id != *conversation_id
                {
                    return None;
                }
                match draft.kind {
                    DraftKind::Answer => Some(serde_json::json!({
                        "type": "message.draft",
                        "id": draft.id,
                        "author": "bot",
                        "author_name": draft.author_name,
                        "text": draft.text,
                    })),
                    DraftKind::Typing => Some(serde_json::json!({
                        "type": "typing",
                        "author": "agent",
                        "author_name": draft.author_name,
                    })),
                    DraftKind::CustomerTyping => None,
                }
            }
        }
    }

    /// The draft of an answer being written when the socket connects, for a customer's feed.
    fn current_draft(&self, state: &AppState) -> Option<Value> {
        let Feed::Visitor {
            workspace_id,
            conversation_id,
        } = self
        else {
            return None;
        };
        let draft = state.store.current_draft(workspace_id, conversation_id)?;
        self.draft_view(&draft)
    }

    /// The member whose dashboard this is, for automatic assignment ([`crate::assign`]): a
    /// session's stream, not an integrator's key. Answers their workspace and id.
    fn dashboard_of(&self) -> Option<(&str, &str)> {
        match self {
            Feed::Workspace {
                workspace_id,
                user_id,
                credential: Credential::Session(_),
                ..
            } => Some((workspace_id, user_id)),
            _ => None,
        }
    }

    /// Notes that a member is there when this is their dashboard: when it opens, and at each
    /// heartbeat after it answered the last ping; `marked` keeps when. Answers their workspace
    /// when it was. (A database that cannot answer right now changes nothing.)
    async fn note_presence(&self, state: &AppState, marked: &AtomicI64) -> Option<&str> {
        let (workspace_id, user_id) = self.dashboard_of()?;
        let now = state.clock.now_ms();
        match state.store.mark_seen(user_id, now).await {
            Ok(()) => marked.store(now, Ordering::Relaxed),
            Err(err) => tracing::debug!(error = %err, "could not note a member's presence"),
        }
        Some(workspace_id)
    }

    /// Notes that a member is gone when their last stream on this node closes — unless the
    /// node is stopping (they will be back on another in a moment), or another stream (a new
    /// page, a tab on another node) marked them since this one did (`marked`).
    async fn note_departure(&self, state: &AppState, marked: i64) {
        let Some((_, user_id)) = self.dashboard_of() else {
            return;
        };
        if marked == 0 || *state.shutdown.borrow() || state.streams.count(&self.slot_key()) > 0 {
            return;
        }
        let expired = state.clock.now_ms() - crate::assign::presence_ms(state);
        if let Err(err) = state.store.mark_gone(user_id, marked, expired).await {
            tracing::debug!(error = %err, "could not note a member's departure");
        }
    }

    /// Whose streams this one counts among ([`OpenStreams`]).
    fn slot_key(&self) -> String {
        match self {
            Feed::Workspace { user_id, .. } => format!("member:{user_id}"),
            Feed::Visitor {
                conversation_id, ..
            } => format!("visitor:{conversation_id}"),
        }
    }

    /// Whether whoever opened the feed may still read it: after a logout, a password change,
    /// a deleted key or the member's removal the stream is cut off — at once on the node where
    /// it happened, at the next heartbeat elsewhere. (A database that cannot answer right now
    /// does not end the stream.)
    async fn still_allowed(&self, state: &AppState) -> bool {
        let Feed::Workspace {
            workspace_id,
            user_id,
            credential,
            ..
        } = self
        else {
            return true;
        };
        match credential.holder(&state.store, state.clock.now_ms()).await {
            Ok(Some(user)) => user.id == *user_id && user.workspace_id == *workspace_id,
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// Whether this is a customer's feed whose conversation no longer exists (erased while
    /// the chat window was away).
    async fn erased(&self, state: &AppState) -> StoreResult<bool> {
        let Feed::Visitor {
            workspace_id,
            conversation_id,
        } = self
        else {
            return Ok(false);
        };
        match state
            .store
            .conversation(workspace_id, conversation_id)
            .await
        {
            Ok(_) => Ok(false),
            Err(crate::store::StoreError::NotFound(_)) => Ok(true),
            Err(err) => Err(err),
        }
    }

    /// Whether `event` erased this customer's feed's conversation.
    fn erased_by(&self, event: &EventRecord) -> bool {
        let Feed::Visitor {
            workspace_id,
            conversation_id,
        } = self
        else {
            return false;
        };
        event.kind == "contact.erased"
            && event.workspace_id == *workspace_id
            && serde_json::from_str::<Value>(&event.payload).is_ok_and(|payload| {
                payload["conversation_ids"]
                    .as_array()
                    .is_some_and(|ids| ids.iter().any(|id| id == conversation_id.as_str()))
            })
    }

    fn opened_by(&self, user: &str) -> bool {
        matches!(self, Feed::Workspace { user_id, .. } if user_id == user)
    }

    /// A visitor's feed has gaps by nature (other conversations' events), so only the
    /// workspace feed can trust "next number" to mean "nothing missed".
    fn contiguous(&self) -> bool {
        matches!(self, Feed::Workspace { .. })
    }
}

/// Upgrades with small buffers: an idle connection should cost a few KB, not the 128 KB
/// tungstenite reserves by default. Refused with 429 when whoever opens it already has as
/// many streams open on this node as they may ([`MAX_VISITOR_STREAMS`],
/// [`MAX_MEMBER_STREAMS`]).
pub fn upgrade(
    ws: WebSocketUpgrade,
    state: AppState,
    feed: Feed,
    after: i64,
) -> Result<Response, ApiError> {
    let (max, whose) = match &feed {
        Feed::Workspace { .. } => (MAX_MEMBER_STREAMS, "you have"),
        Feed::Visitor { .. } => (MAX_VISITOR_STREAMS, "this chat has"),
    };
    let key = feed.slot_key();
    // A place frees when a stream closes; one whose client vanished is closed within three
    // heartbeats, so that is when a retry surely finds one.
    let slot = state.streams.open(key, max).ok_or_else(|| {
        ApiError::rate_limited(
            format!("{whose} {max} live streams open already; close one first"),
            3 * state.config.stream_heartbeat,
        )
    })?;
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            metrics::gauge!("baton_open_websockets").increment(1.0);
            let marked = AtomicI64::new(0);
            if let Err(err) = follow(socket, &state, &feed, after, &marked).await {
                tracing::debug!(error = %err, "event stream ended");
            }
            metrics::gauge!("baton_open_websockets").decrement(1.0);
            drop(slot);
            feed.note_departure(&state, marked.load(Ordering::Relaxed))
                .await;
        }))
}

/// How many streams each visitor and member has open on this node.
#[derive(Clone, Default)]
pub struct OpenStreams {
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl OpenStreams {
    /// One more stream for `key`, unless it has `max` open already; the stream counts until
    /// the slot is dropped (the socket closed, or the upgrade never happened).
    fn open(&self, key: String, max: usize) -> Option<StreamSlot> {
        let mut open = self.lock();
        let count = open.entry(key.clone()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            streams: self.clone(),
            key,
        })
    }

    /// How many streams `key` has open.
    fn count(&self, key: &str) -> usize {
        self.lock().get(key).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.open.lock().expect("open streams lock")
    }
}

/// One open stream, counted while it lives.
struct StreamSlot {
    streams: OpenStreams,
    key: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        // Never panic here: a poisoned count is still a count.
        let mut open = self
            .streams
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("socket: {0}")]
    Socket(#[from] axum::Error),
}

async fn follow(
    mut socket: WebSocket,
    state: &AppState,
    feed: &Feed,
    after: i64,
    marked: &AtomicI64,
) -> Result<(), StreamError> {
    // Subscribe before reading the log, so nothing committed in between is missed; and read
    // the answer being written at the same moment, so every draft that follows is newer.
    let mut live = state.store.subscribe();
    let writing = feed.current_draft(state);
    let mut shutdown = state.shutdown.clone();
    let mut last = after;
    if feed.erased(state).await? {
        return say_erased(socket).await;
    }
    catch_up(&mut socket, state, feed, &mut last).await?;
    if let Some(workspace_id) = feed.note_presence(state, marked).await {
        // Someone opened the dashboard: what waits may be theirs now.
        if let Err(err) = crate::assign::workspace(state, workspace_id).await {
            tracing::warn!(error = %err, "could not assign on a member's arrival");
        }
    }
    if let Some(view) = writing {
        socket
            .send(Message::Text(Utf8Bytes::from(view.to_string())))
            .await?;
    }
    // Ping every beat; a browser answers on its own. A client that has answered neither of
    // the last two pings has gone (a laptop shut, a network dropped) without closing: its
    // socket would otherwise hold a stream's place until TCP gives up, many minutes later.
    // Beats missed while a long catch-up was being sent are not made up in a burst.
    let mut heartbeat = tokio::time::interval(state.config.stream_heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    let mut unanswered = 0;
    // Whether the client said anything (a pong) since the last beat: only then is it there.
    let mut answered = false;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(Live::Draft(draft)) => {
                    if let Some(view) = feed.draft_view(&draft) {
                        socket.send(Message::Text(Utf8Bytes::from(view.to_string()))).await?;
                    }
                }
                Ok(Live::Event(event)) if feed.erased_by(&event) => {
                    return say_erased(socket).await;
                }
                Ok(Live::Event(event)) if feed.wants(&event) && event.seq > last => {
                    if feed.contiguous() && event.seq == last + 1 {
                        deliver(&mut socket, state, feed, &event).await?;
                        last = event.seq;
                    } else {
                        catch_up(&mut socket, state, feed, &mut last).await?;
                    }
                }
                Ok(Live::AccessChanged { user_id })
                    if feed.opened_by(&user_id) && !feed.still_allowed(state).await =>
                {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    // What was skipped may have been the erasure of this customer's chat.
                    if feed.erased(state).await? {
                        return say_erased(socket).await;
                    }
                    catch_up(&mut socket, state, feed, &mut last).await?;
                }
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {
                    unanswered = 0;
                    answered = true;
                }
            },
            _ = heartbeat.tick() => {
                if unanswered >= 2 {
                    tracing::debug!("closing a stream whose client stopped answering");
                    break;
                }
                if !feed.still_allowed(state).await {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
                if std::mem::take(&mut answered) {
                    feed.note_presence(state, marked).await;
                }
                socket.send(Message::Ping(Default::default())).await?;
                unanswered += 1;
            }
            // The flag only ever flips to `true`, so any change means "stop".
            _ = shutdown.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
    Ok(())
}

/// Tells a customer's chat window that the business erased the conversation (it starts
/// afresh), and closes.
async fn say_erased(mut socket: WebSocket) -> Result<(), StreamError> {
    let notice = serde_json::json!({"type": "conversation.erased"}).to_string();
    socket.send(Message::Text(Utf8Bytes::from(notice))).await?;
    let _ = socket.send(Message::Close(None)).await;
    Ok(())
}

/// Sends everything in the log after `last`.
async fn catch_up(
    socket: &mut WebSocket,
    state: &AppState,
    feed: &Feed,
    last: &mut i64,
) -> Result<(), StreamError> {
    loop {
        let events = feed.load(state, *last).await?;
        let full = events.len() as i64 == PAGE;
        for event in &events {
            deliver(socket, state, feed, event).await?;
            *last = event.seq;
        }
        if !full {
            return Ok(());
        }
    }
}

async fn deliver(
    socket: &mut WebSocket,
    state: &AppState,
    feed: &Feed,
    event: &EventRecord,
) -> Result<(), StreamError> {
    let text = match feed {
        Feed::Workspace { .. } => event.payload.clone(),
        Feed::Visitor { .. } => match visitor_view(event) {
            Some(view) => view.to_string(),
            None => return Ok(()),
        },
    };
    socket.send(Message::Text(Utf8Bytes::from(text))).await?;
    if let Feed::Visitor { workspace_id, .. } = feed
        && let Some(id) = undelivered_agent_message(event)
    {
        state
            .store
            .mark_delivered(workspace_id, &[id], state.clock.now_ms())
            .await?;
    }
    Ok(())
}

/// What a customer may see of an event: messages without internal fields, and the handoff's
/// status without its summary or reason.
pub fn visitor_view(event: &EventRecord) -> Option<Value> {
    let payload: Value = serde_json::from_str(&event.payload).ok()?;
    match event.kind.as_str() {
        "message.created" => Some(serde_json::json!({
            "type": "message.created",
            "seq": event.seq,
            "message": visitor_message(&payload["message"]),
        })),
        // The team's own filing.
        crate::domain::handoff::LABELLED => None,
        // A rating answers an old handoff: it says nothing about the one open now.
        "handoff.rated" => Some(serde_json::json!({
            "type": "rating.updated",
            "seq": event.seq,
            "message_id": payload["handoff"]["rating"]["message_id"],
            "score": payload["handoff"]["rating"]["score"],
            "comment": payload["handoff"]["rating"]["comment"],
        })),
        kind if kind.starts_with("handoff.") => Some(serde_json::json!({
            "type": "handoff.updated",
            "seq": event.seq,
            "status": payload["handoff"]["status"],
            "agent_name": payload["handoff"]["claimed_by"]["name"],
        })),
        _ => None,
    }
}

/// A message as the widget shows it; a file with it is fetched from the widget's own address,
/// with the visitor's token.
pub fn visitor_message(message: &Value) -> Value {
    let mut view = serde_json::json!({
        "id": message["id"],
        "seq": message["seq"],
        "author": message["author"],
        "author_name": message["author_name"],
        "text": message["text"],
        "kind": message["kind"],
        "created_at": message["created_at"],
    });
    let file = &message["attachment"];
    if let Some(id) = file["id"].as_str().filter(|_| file["status"] == "stored") {
        view["attachment"] = serde_json::json!({
            "id": id,
            "kind": file["kind"],
            "mime_type": file["mime_type"],
            "filename": file["filename"],
            "size": file["size"],
            "url": format!("/widget/v1/attachments/{id}"),
        });
    }
    view
}

fn undelivered_agent_message(event: &EventRecord) -> Option<String> {
    if event.kind != "message.created" {
        return None;
    }
    let payload: Value = serde_json::from_str(&event.payload).ok()?;
    let message = &payload["message"];
    (message["author"] == "agent" && message["delivery_status"] == "sent")
        .then(|| message["id"].as_str().map(str::to_owned))
        .flatten()
}
