//! Several Baton nodes on one PostgreSQL: every event-producing transaction NOTIFYs
//! `node:workspace:seq` on commit, and each node LISTENs and hands other nodes' events to its
//! own hub, reading them from the log. A notification lost while the listener reconnects is
//! not an event lost: streams notice the gap in sequence numbers at the next event and reload.
//! Drafts of answers being written come on their own channel, whole in the payload; one
//! listener reads both, so they reach this node's streams in the order they were sent.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::state::AppState;
use crate::store::{Backend, DRAFT_CHANNEL, DraftNotice, NOTIFY_CHANNEL};

/// Starts the relay when the database is PostgreSQL; it stops with the server.
pub fn spawn(state: &AppState) {
    if state.store.backend() != Backend::Postgres {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        tokio::select! {
            () = run(&state) => {}
            _ = shutdown.changed() => {}
        }
    });
}

async fn run(state: &AppState) {
    loop {
        match listen(state).await {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(error = %err, "event relay lost PostgreSQL; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn listen(state: &AppState) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(state.config.database_url.expose()).await?;
    listener.listen_all([NOTIFY_CHANNEL, DRAFT_CHANNEL]).await?;
    loop {
        let notification = listener.recv().await?;
        if notification.channel() == DRAFT_CHANNEL {
            match serde_json::from_str::<DraftNotice>(notification.payload()) {
                Ok(notice) if notice.node != state.store.node_id() => {
                    state.store.relay_draft(notice.draft);
                }
                Ok(_) => {}
                Err(err) => tracing::debug!(error = %err, "unreadable draft notice"),
            }
            continue;
        }
        let mut parts = notification.payload().splitn(3, ':');
        let (Some(node), Some(workspace_id), Some(seq)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if node == state.store.node_id() {
            continue;
        }
        let Ok(seq) = seq.parse::<i64>() else {
            continue;
        };
        match state.store.event(workspace_id, seq).await {
            Ok(Some(event)) => state.store.relay(event),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "event relay could not read an event"),
        }
    }
}
