//! Baton: a self-hosted customer-support chatbot whose heart is the handoff from bot to human.
//!
//! The map:
//! - [`config`]: settings from flags, `BATON_*` variables and a TOML file.
//! - [`domain`]: plain types parsed at the edge (emails, names, roles, knowledge-base
//!   languages) and the clock; no HTTP, no SQL.
//! - [`store`]: persistence on SQLite or PostgreSQL behind one [`store::Store`].
//! - [`auth`]: password hashing, session tokens and API keys.
//! - [`accounts`]: the owner made on first start, logins, workspaces.
//! - [`marketplace`]: the catalogue of tools a workspace can add to its bots.
//! - [`knowledge`]: documents cut into passages, indexed per bot with tantivy in the bot's
//!   language, quoted.
//! - [`bot`]: the `Responder`: built-in (human-request detection, KB answers, summaries) or an
//!   OpenAI-compatible LLM with knowledge-base and handoff tools.
//! - [`channels`]: WhatsApp (webhooks, the Graph API client) and the outbox that delivers.
//! - [`crypto`]: channel secrets encrypted at rest.
//! - [`conversation`]: the loop every channel shares: store, answer, or stay silent.
//! - [`demo`]: the seeded workspace `baton demo` starts with.
//! - [`realtime`]: resumable WebSocket event streams over the event log.
//! - [`reports`]: how the bot and the team did over a span: conversations the bot handled
//!   alone, waits for a person, who answered, the questions the knowledge base could not answer.
//! - [`views`]: the JSON shapes of messages and handoffs, for responses and events.
//! - [`http`]: the JSON API, health and metrics; thin handlers over the modules above.
//! - [`state`]: what handlers share, and how it is assembled at start.
//! - [`cli`]: `baton kb import` and `baton user`, administration straight on the database.
//! - [`bench`]: `baton bench`, figures measured on a real process over loopback.
//! - [`eval`]: `baton eval`, the bot's judgement (human-request detection, "the KB has
//!   nothing", retrieval) measured on the public datasets in `eval-data/`.
//! - [`train`]: `baton train-detector`, which trains the human-request classifier on the
//!   datasets' training splits and hand-written examples, and writes its weights file.
//! - [`webhooks`]: signed deliveries of workspace events to integrators' endpoints.
//! - [`telemetry`]: structured logging.
//! - [`throttle`]: per-key rate limits (logins, widget sessions and messages).

pub mod accounts;
pub mod assign;
pub mod auth;
pub mod bench;
pub mod bot;
pub mod channels;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod error;
pub mod eval;
pub mod http;
pub mod knowledge;
pub mod marketplace;
pub mod realtime;
pub mod reports;
pub mod retention;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod train;
pub mod views;
pub mod webhooks;

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::state::AppState;

/// Serves Baton on an already-bound listener until `shutdown` completes, then stops taking
/// connections, tells sockets to close, and lets in-flight requests finish.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = http::router(state.clone());
    realtime::relay::spawn(&state);
    channels::outbox::spawn(&state);
    channels::media::spawn(&state);
    webhooks::spawn(&state).map_err(std::io::Error::other)?;
    conversation::spawn_sweeper(&state);
    retention::spawn(&state);
    assign::spawn(&state);
    spawn_search_fill(&state);
    let draining = state.clone();
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        draining.begin_shutdown();
    })
    .await;
    // The turns still queued here are the next node's to answer, at once.
    if let Err(err) = state.store.release_turns().await {
        tracing::warn!(error = %err, "could not hand this node's bot turns on");
    }
    state.store.close().await;
    served
}

/// Writes the search text of messages stored without one (before the handoff search existed,
/// or by an older node during an upgrade), a batch at a time from start with a pause between
/// batches (the database serves the team meanwhile), then hourly.
fn spawn_search_fill(state: &AppState) {
    let never = std::sync::Arc::new(tokio::sync::Notify::new());
    let hourly = std::time::Duration::from_secs(3600);
    channels::run_worker(state, "message search", never, hourly, |state| async move {
        let filled = state.store.fill_message_search().await?;
        if filled > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Ok(filled)
    });
}
