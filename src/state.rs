//! What every request handler shares, and how it is put together at start.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;

use crate::bot::builtin::BuiltinResponder;
use crate::bot::llm::LlmResponder;
use crate::bot::{PerBot, Responder};
use crate::config::{Config, Secret};
use crate::domain::Clock;
use crate::knowledge::KnowledgeBase;
use crate::store::Store;
use crate::throttle::Throttle;

/// Shared by every handler and background task; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Clock,
    /// Key for signing visitor tokens and encrypting channel secrets.
    pub secret_key: Secret,
    pub metrics: PrometheusHandle,
    /// Per-bot search indexes over the knowledge base.
    pub knowledge: KnowledgeBase,
    /// The bot's brain: built-in unless an LLM is configured.
    pub responder: Arc<dyn Responder>,
    /// Wakes the outbox worker when something was queued.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Wakes the media worker when a customer's file is waiting to be fetched.
    pub media_wake: Arc<tokio::sync::Notify>,
    /// Wakes the retention sweep when a workspace changed how long it keeps customers' data.
    pub retention_wake: Arc<tokio::sync::Notify>,
    /// Wakes automatic assignment when a handoff may have become assignable ([`crate::assign`]).
    pub assign_wake: Arc<tokio::sync::Notify>,
    /// Bot turns waiting, per conversation, so each conversation is answered in order.
    pub turns: crate::conversation::TurnQueues,
    /// The event streams open on this node, per visitor and member.
    pub streams: crate::realtime::OpenStreams,
    /// The WhatsApp Graph API client.
    pub whatsapp: Arc<crate::channels::whatsapp::Graph>,
    /// How often clients may try things that cost: logins, widget sessions and messages.
    pub limits: Arc<Limits>,
    /// The demo bot's widget key, under `baton demo`: the `/demo` page embeds it.
    pub demo_widget_key: Option<String>,
    /// Flips to `true` when the server starts draining, so long-lived sockets can close.
    pub shutdown: watch::Receiver<bool>,
    shutdown_tx: Arc<watch::Sender<bool>>,
}

/// The rate limits of this node.
pub struct Limits {
    /// Failed logins per email (ten a minute): guessing passwords gets slow fast, while
    /// logging in with the right one is never held up.
    pub logins: crate::throttle::FailureLimit,
    /// New widget sessions per client address: each makes a contact and a conversation.
    pub widget_sessions: Throttle,
    /// Widget messages per visitor: each may cost a model call.
    pub widget_messages: Throttle,
    /// Widget messages per client address, all its visitors together: ten visitors' worth,
    /// so new chats started from one address cannot multiply the per-visitor limit.
    pub widget_messages_per_address: Throttle,
    /// "Ana is typing" per conversation: one every two seconds reaches the chat window (it
    /// shows for ten), however fast the dashboard sends them.
    pub typing: Throttle,
    /// WhatsApp's typing indicator per conversation: it shows for 25 seconds, so one every
    /// twenty keeps it up while the agent types without a Graph API call per keystroke.
    pub whatsapp_typing: Throttle,
    /// "The customer is typing" per conversation: one every two seconds reaches the team.
    pub customer_typing: Throttle,
}

impl Limits {
    fn new(config: &Config) -> Self {
        Self {
            logins: crate::throttle::FailureLimit::per_minute(10),
            widget_sessions: Throttle::per_minute(config.widget_sessions_per_minute),
            widget_messages: Throttle::per_minute(config.widget_messages_per_minute),
            widget_messages_per_address: Throttle::per_minute(
                config.widget_messages_per_minute.saturating_mul(10),
            ),
            typing: Throttle::every(std::time::Duration::from_secs(2)),
            whatsapp_typing: Throttle::every(std::time::Duration::from_secs(20)),
            customer_typing: Throttle::every(std::time::Duration::from_secs(2)),
        }
    }
}

/// What the first start created, to be told once to whoever started Baton.
#[derive(Debug, Clone)]
pub struct FirstStart {
    pub email: String,
    /// Set when no password was configured and one was generated.
    pub one_time_password: Option<String>,
}

/// The database, its schema brought up to date (with the data folder a SQLite file needs):
/// for the server and for the commands that work on the database directly.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if !config.database_url.is_postgres() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
    }
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open database {}", config.database_url))?;
    store.migrate().await.context("database migration failed")?;
    Ok(store)
}

impl AppState {
    /// Connects to the database, runs migrations and creates the owner on first start.
    pub async fn start(
        config: Config,
        clock: Clock,
    ) -> anyhow::Result<(AppState, Option<FirstStart>)> {
        let store = open_store(&config).await?;
        let secret_key = match &config.secret_key {
            Some(key) => key.clone(),
            None => local_secret_key(&config)?,
        };
        let first_start = crate::accounts::ensure_owner(&store, &config, &clock).await?;
        let (shutdown_tx, shutdown) = watch::channel(false);
        let knowledge = KnowledgeBase::default();
        let whatsapp = Arc::new(crate::channels::whatsapp::Graph::new(
            &config.whatsapp_graph_url,
        ));
        if let Some(model) = &config.llm.model {
            tracing::info!(base_url = %config.llm.base_url, %model, "using the LLM responder");
        }
        let responder: Arc<dyn Responder> = Arc::new(PerBot {
            builtin: BuiltinResponder::new(store.clone(), knowledge.clone()),
            llm: LlmResponder::new(
                store.clone(),
                knowledge.clone(),
                config.llm.clone(),
                secret_key.clone(),
            )
            .context("cannot set up the HTTP client for the LLM")?,
        });
        let limits = Arc::new(Limits::new(&config));
        let state = AppState {
            knowledge,
            responder,
            store,
            config: Arc::new(config),
            clock,
            secret_key,
            metrics: metrics_handle(),
            demo_widget_key: None,
            limits,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            media_wake: Arc::new(tokio::sync::Notify::new()),
            retention_wake: Arc::new(tokio::sync::Notify::new()),
            assign_wake: Arc::new(tokio::sync::Notify::new()),
            turns: Default::default(),
            streams: Default::default(),
            whatsapp,
            shutdown,
            shutdown_tx: Arc::new(shutdown_tx),
        };
        Ok((state, first_start))
    }

    /// The same state with another responder (tests use slow or failing ones).
    pub fn with_responder(mut self, responder: Arc<dyn Responder>) -> Self {
        self.responder = responder;
        self
    }

    /// Tells long-lived connections to finish.
    pub fn begin_shutdown(&self) {
        self.shutdown_tx.send_replace(true);
    }
}

/// The Prometheus recorder is process-wide; tests start many servers in one process.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// Without `BATON_SECRET_KEY`, a single node keeps a random key in its data folder.
fn local_secret_key(config: &Config) -> anyhow::Result<Secret> {
    if config.database_url.is_postgres() {
        tracing::warn!(
            "BATON_SECRET_KEY is not set: using a key kept in the data folder; \
             every node sharing this database needs the same BATON_SECRET_KEY"
        );
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let path = config.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(key) if !key.trim().is_empty() => Ok(Secret::new(key.trim())),
        _ => {
            let key = crate::auth::random_token();
            std::fs::write(&path, &key)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(Secret::new(key))
        }
    }
}
