//! Persistence on SQLite or PostgreSQL, chosen by the database URL's scheme.
//!
//! Why one `Store` over sqlx's `Any` driver rather than a trait with two implementations: the
//! schema and every query are written in the SQL the two databases share (text ids, `BIGINT`
//! unix-millisecond times, `$n` placeholders, `RETURNING`, `ON CONFLICT`), so two
//! implementations would be the same code twice. Where the databases really differ (pragmas,
//! LISTEN/NOTIFY) [`Backend`] says which one this is. The same integration suite runs against
//! both, so a query that only one of them accepts fails a test.

mod accounts;
mod attachments;
mod bots;
mod channels;
mod contacts;
mod conversations;
mod drafts;
mod erasure;
mod events;
mod handoffs;
mod knowledge;
mod notes;
mod ratings;
mod reports;
mod saved_replies;
mod search;
mod settings;
mod turns;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use tokio::sync::broadcast;

pub use accounts::{ApiKeyRecord, NewUser, SessionRecord, UserRecord, WorkspaceRecord};
pub use attachments::{AttachmentRecord, NewAttachment};
pub use bots::{BotPatch, BotRecord, NewBot};
pub use channels::{ChannelRecord, HeldStatus, NewDelivery, OutboxRecord, status_rank};
pub use contacts::{ContactCursor, ContactFilter, ContactSummary};
pub use conversations::{
    ContactRecord, ConversationRecord, CustomerMessage, MessageRecord, NewMessage,
};
pub use drafts::{DRAFT_CHANNEL, Draft, DraftKind, DraftNotice};
pub use erasure::Erased;
pub use events::{EventRecord, Live, NOTIFY_CHANNEL, WorkspaceTx};
pub use handoffs::{Assigned, HandoffFilter, HandoffRecord};
pub use knowledge::{ChunkRecord, DocumentRecord, NewDocument, SameTitle};
pub use notes::{Member, NoteRecord};
pub use ratings::RatingState;
pub use reports::{ConversationCounts, HandoffFacts, RatingFacts, RepliesBy, Span};
pub use saved_replies::{MAX_SAVED_REPLIES, SavedReplyRecord};
pub use search::MessageMatch;
pub use turns::{TURN_LEASE_MS, TakenTurn};
pub use webhooks::{DeliveryOutcome, WebhookDeliveryRecord, WebhookRecord};

use crate::config::DatabaseUrl;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// A handoff rule refused the action; nothing was written.
    #[error("{0}")]
    Refused(crate::domain::handoff::Refusal),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Committed events and answers being written, for this node's realtime streams.
    hub: broadcast::Sender<Live>,
    /// The latest draft of each answer being written, for chat windows that connect mid-answer.
    writing: drafts::Writing,
    /// Tells this node's own NOTIFYs from other nodes'.
    node_id: String,
    /// Wakes this node's webhook worker when a commit queued a delivery.
    webhook_wake: std::sync::Arc<tokio::sync::Notify>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects to the database the URL names, creating a SQLite file if there is none.
    pub async fn connect(url: &DatabaseUrl) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.is_postgres() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let options = AnyConnectOptions::from_str(url.expose())?;
        let max = match backend {
            // SQLite has one writer at a time; more connections only add lock waits.
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets readers work while one writer commits; the setting lives in the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        // Subscribers that fall this far behind reload from the event log instead.
        let (hub, _) = broadcast::channel(1024);
        Ok(Store {
            pool,
            backend,
            hub,
            writing: drafts::Writing::default(),
            node_id: crate::domain::new_id("node"),
            webhook_wake: Default::default(),
        })
    }

    /// Brings the schema up to date; safe to run on every start and from several nodes.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        self.fill_channel_numbers().await?;
        self.fill_contact_search().await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Answers whether the database takes a query, for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Turns a unique-constraint violation into a conflict the API can explain.
pub(crate) fn conflict_on_unique(err: sqlx::Error, message: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(message.to_owned())
        }
        _ => StoreError::Database(err),
    }
}
