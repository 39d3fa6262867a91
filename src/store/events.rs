//! The per-workspace event log, and the transaction every event-producing change runs in.
//!
//! A [`WorkspaceTx`] starts by writing the workspace's row. That write takes the row lock on
//! PostgreSQL and the write lock on SQLite, so changes in one workspace are serialised: inside
//! the transaction what was read stays true until commit, sequence numbers come out gap-free
//! and in commit order, and a reconnecting client that asks for `after=<seq>` misses nothing.
//! On commit the events go to this node's hub and, on PostgreSQL, to other nodes by NOTIFY.

use std::sync::Arc;

use serde_json::Value;
use sqlx::FromRow;
use tokio::sync::broadcast;

use super::{Backend, Store, StoreResult};

#[derive(Debug, Clone, FromRow)]
pub struct EventRecord {
    pub workspace_id: String,
    pub seq: i64,
    pub kind: String,
    pub conversation_id: Option<String>,
    /// The event as clients receive it: `{"type", "seq", …}`.
    pub payload: String,
    pub created_at: i64,
}

/// The NOTIFY channel other nodes listen on; the payload is `node_id:workspace_id:seq`.
pub const NOTIFY_CHANNEL: &str = "baton_events";

/// What this node's live streams receive: committed events, and drafts of answers still being
/// written. One channel carries both, so a stream sees them in the order they happened — a
/// draft never arrives after the message that replaced it.
#[derive(Debug, Clone)]
pub enum Live {
    Event(Arc<EventRecord>),
    Draft(Arc<super::Draft>),
    /// A session of this user ended, an API key of theirs was deleted or they were removed
    /// (by this node): their open streams check now that their credential still holds, and
    /// end if not. Streams on other nodes check at their next heartbeat.
    AccessChanged {
        user_id: Arc<str>,
    },
}

pub struct WorkspaceTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    workspace_id: String,
    events: Vec<EventRecord>,
    /// Whether the workspace has webhooks, read under its lock (so it stays true to commit).
    has_webhooks: bool,
    /// Whether an event was queued for a webhook, so the delivery worker is woken on commit.
    webhooks_queued: bool,
    store: Store,
}

impl Store {
    /// Begins a transaction holding the workspace's write lock.
    pub async fn workspace_tx(&self, workspace_id: &str) -> StoreResult<WorkspaceTx> {
        let mut tx = self.pool().begin().await?;
        let locked: Option<(i64,)> = sqlx::query_as(
            "UPDATE workspaces SET event_seq = event_seq WHERE id = $1 RETURNING webhook_count",
        )
        .bind(workspace_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (webhooks,) = locked.ok_or(super::StoreError::NotFound("workspace"))?;
        Ok(WorkspaceTx {
            tx,
            workspace_id: workspace_id.to_owned(),
            events: Vec::new(),
            has_webhooks: webhooks > 0,
            webhooks_queued: false,
            store: self.clone(),
        })
    }

    /// Events of a workspace after `after`, oldest first, at most `limit`.
    pub async fn events_after(
        &self,
        workspace_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, seq, kind, conversation_id, payload, created_at FROM events \
             WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(workspace_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Events of one conversation after `after`, oldest first, at most `limit`.
    pub async fn conversation_events_after(
        &self,
        conversation_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<EventRecord>> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, seq, kind, conversation_id, payload, created_at FROM events \
             WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(conversation_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The last sequence number handed out in a workspace: where a page's live updates start.
    pub async fn workspace_seq(&self, workspace_id: &str) -> StoreResult<i64> {
        let (seq,): (i64,) = sqlx::query_as("SELECT event_seq FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(super::StoreError::NotFound("workspace"))?;
        Ok(seq)
    }

    pub async fn event(&self, workspace_id: &str, seq: i64) -> StoreResult<Option<EventRecord>> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, seq, kind, conversation_id, payload, created_at FROM events \
             WHERE workspace_id = $1 AND seq = $2",
        )
        .bind(workspace_id)
        .bind(seq)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Every committed event, as it is committed on this node (and, on PostgreSQL, on others
    /// once the listener relays it).
    pub fn subscribe(&self) -> broadcast::Receiver<Live> {
        self.hub.subscribe()
    }

    /// Hands an event committed elsewhere (another node) to this node's subscribers.
    pub fn relay(&self, event: EventRecord) {
        let _ = self.hub.send(Live::Event(Arc::new(event)));
    }
}

impl WorkspaceTx {
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }

    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// The next sequence number of the workspace's log.
    pub async fn next_seq(&mut self) -> StoreResult<i64> {
        let (seq,): (i64,) = sqlx::query_as(
            "UPDATE workspaces SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
        )
        .bind(&self.workspace_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(seq)
    }

    /// Records an event under a sequence number from [`WorkspaceTx::next_seq`]. `payload` is an
    /// object; `type` and `seq` are added to it.
    pub async fn record(
        &mut self,
        seq: i64,
        kind: &str,
        conversation_id: Option<&str>,
        mut payload: Value,
        now: i64,
    ) -> StoreResult<()> {
        payload["type"] = Value::from(kind);
        payload["seq"] = Value::from(seq);
        let event = EventRecord {
            workspace_id: self.workspace_id.clone(),
            seq,
            kind: kind.to_owned(),
            conversation_id: conversation_id.map(str::to_owned),
            payload: payload.to_string(),
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO events (workspace_id, seq, kind, conversation_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&event.workspace_id)
        .bind(event.seq)
        .bind(&event.kind)
        .bind(&event.conversation_id)
        .bind(&event.payload)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        if self.has_webhooks {
            let queued =
                super::webhooks::queue_deliveries(&mut self.tx, &self.workspace_id, seq, kind, now)
                    .await?;
            self.webhooks_queued |= queued > 0;
        }
        if self.store.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(format!(
                    "{}:{}:{}",
                    self.store.node_id, event.workspace_id, event.seq
                ))
                .execute(&mut *self.tx)
                .await?;
        }
        self.events.push(event);
        Ok(())
    }

    /// Commits, then tells subscribers on this node.
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        for event in self.events {
            let _ = self.store.hub.send(Live::Event(Arc::new(event)));
        }
        if self.webhooks_queued {
            self.store.wake_webhook_worker();
        }
        Ok(())
    }
}
