//! Settings: every one is a command-line flag, a `BATON_*` environment variable, or a key in an
//! optional TOML file, with flags > environment > file > defaults.
//!
//! clap already gives flags precedence over the environment; the file fills whatever both left
//! unset, and [`Config::resolve`] applies the defaults last.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

/// The raw settings as given by flags, environment and file; `None` means "not given here".
#[derive(Args, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "BATON_BIND", global = true)]
    pub bind: Option<SocketAddr>,
    /// Folder for the SQLite database and other local state.
    #[arg(long, env = "BATON_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`; default: a SQLite file in the data folder.
    #[arg(long, env = "BATON_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// The URL customers and agents reach Baton at (used in links and the widget snippet);
    /// default: `http://` and the bind address, with `localhost` for an address that means
    /// "every interface" (`0.0.0.0`, `::`), which a browser cannot open.
    #[arg(long, env = "BATON_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Email of the owner account created on first start.
    #[arg(long, env = "BATON_ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,
    /// Password of the owner account created on first start.
    #[arg(
        long,
        env = "BATON_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub admin_password: Option<String>,
    /// Base URL of an OpenAI-compatible API; with a model set, the LLM responder is used.
    #[arg(long, env = "BATON_LLM_BASE_URL", global = true)]
    pub llm_base_url: Option<String>,
    #[arg(long, env = "BATON_LLM_API_KEY", global = true, hide_env_values = true)]
    pub llm_api_key: Option<String>,
    #[arg(long, env = "BATON_LLM_MODEL", global = true)]
    pub llm_model: Option<String>,
    /// How long the model may stay silent, in milliseconds (default 30000): before its answer
    /// begins, and between two pieces of a streamed answer. A longer silence is retried once,
    /// then the bot hands off.
    #[arg(long, env = "BATON_LLM_TIMEOUT_MS", global = true)]
    pub llm_timeout_ms: Option<u64>,
    /// The longest one answer may take in all, however steadily it streams, in milliseconds
    /// (default 120000); longer is treated as a silence.
    #[arg(long, env = "BATON_LLM_ANSWER_TIMEOUT_MS", global = true)]
    pub llm_answer_timeout_ms: Option<u64>,
    /// Whether to ask the model to stream its answers (default true), so the chat widget shows
    /// them as they are written; set it to false for a server that cannot stream with tools.
    #[arg(
        long,
        env = "BATON_LLM_STREAM",
        global = true,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub llm_stream: Option<bool>,
    /// The model endpoints bots may choose (`llm_base_url` of a bot), comma-separated base
    /// URLs; a URL below one of them is allowed too. `none`: bots use the instance's endpoint
    /// only. Unset: any http(s) URL, for instances whose workspace admins are trusted.
    #[arg(long, env = "BATON_LLM_BOT_BASE_URLS", global = true)]
    pub llm_bot_base_urls: Option<String>,
    /// WhatsApp Graph API base, with its version.
    #[arg(long, env = "BATON_WHATSAPP_GRAPH_URL", global = true)]
    pub whatsapp_graph_url: Option<String>,
    /// Key for signing visitor tokens and encrypting channel secrets. Default: a random key
    /// kept in the data folder (set it explicitly when several nodes share one database).
    #[arg(long, env = "BATON_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Largest request body accepted, in bytes (documents uploads get ten times this).
    #[arg(long, env = "BATON_MAX_BODY_BYTES", global = true)]
    pub max_body_bytes: Option<usize>,
    /// `text` (default) or `json` log lines.
    #[arg(long, env = "BATON_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
    /// When set, `GET /metrics` answers only requests with `Authorization: Bearer <token>`.
    #[arg(
        long,
        env = "BATON_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// Messages one widget visitor may send a minute, in bursts of as many (default 30; 0: no
    /// limit). More are refused with 429 and `Retry-After`, before anything is stored.
    #[arg(long, env = "BATON_WIDGET_MESSAGES_PER_MINUTE", global = true)]
    pub widget_messages_per_minute: Option<u32>,
    /// New widget sessions one client address may start a minute (default 60; 0: no limit).
    /// Returning visitors, who send their token, are not counted.
    #[arg(long, env = "BATON_WIDGET_SESSIONS_PER_MINUTE", global = true)]
    pub widget_sessions_per_minute: Option<u32>,
    /// How many reverse proxies stand in front of Baton and append to `X-Forwarded-For`
    /// (default 0: the client is the connection's peer, and the header is ignored, as anyone
    /// can write it). With N, the client is the N-th address from the header's right end.
    #[arg(long, env = "BATON_PROXY_HOPS", global = true)]
    pub proxy_hops: Option<usize>,
    /// Whether webhooks may be delivered to this machine and its private network (loopback,
    /// 10/8, 172.16/12, 192.168/16, link-local, unique-local; default true, as a team's own
    /// integrations often run beside Baton): an instance that hosts workspaces for others sets
    /// it to false, so no admin can make Baton send requests into the network it runs in.
    #[arg(
        long,
        env = "BATON_WEBHOOKS_ALLOW_LOCAL",
        global = true,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub webhooks_allow_local: Option<bool>,
    /// Seconds between pings on a live stream (default 30). A stream whose client has not
    /// answered for two of them is closed, so a vanished browser does not hold it; a proxy
    /// that drops idle connections sooner needs a shorter one.
    #[arg(long, env = "BATON_STREAM_HEARTBEAT_SECS", global = true)]
    pub stream_heartbeat_secs: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// A database URL whose password is masked when printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }
    /// The URL with any password replaced by `***`, fit for logs.
    pub fn masked(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let Some((userinfo, host)) = rest.split_once('@') else {
            return self.0.clone();
        };
        match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => self.0.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.masked())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Settings with defaults applied: what the rest of Baton reads.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub public_url: String,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    /// The instance's model endpoint; bots may override each part (`llm_model`,
    /// `llm_base_url`, `llm_api_key`).
    pub llm: LlmConfig,
    pub whatsapp_graph_url: String,
    pub secret_key: Option<Secret>,
    pub max_body_bytes: usize,
    pub log_format: LogFormat,
    /// The bearer token `/metrics` asks for; `None` leaves it open (the default).
    pub metrics_token: Option<Secret>,
    /// Messages a widget visitor may send a minute; 0: no limit.
    pub widget_messages_per_minute: u32,
    /// New widget sessions a client address may start a minute; 0: no limit.
    pub widget_sessions_per_minute: u32,
    /// Reverse proxies in front that append to `X-Forwarded-For`; 0: trust no header.
    pub proxy_hops: usize,
    /// Whether webhooks may go to local and private addresses.
    pub webhooks_allow_local: bool,
    /// Time between pings on a live stream; a client silent for two is gone.
    pub stream_heartbeat: Duration,
}

#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Where the OpenAI-compatible API lives, up to and including its version (`…/v1`).
    pub base_url: String,
    /// Sent as a bearer token; local servers (Ollama, llama.cpp) usually need none.
    pub api_key: Option<Secret>,
    /// The model every bot uses unless it names its own; with neither, a bot uses the
    /// built-in responder.
    pub model: Option<String>,
    /// The longest the model may stay silent: before the answer's first byte, and between
    /// two streamed pieces (a stalled stream is noticed this soon, a long one is not cut).
    pub timeout: Duration,
    /// The longest one chat-completions request may take in all, its last piece included.
    pub answer_timeout: Duration,
    /// Ask for `"stream": true` (server-sent events).
    pub stream: bool,
    /// Where a bot may send its model calls instead of `base_url`: `None`, anywhere.
    pub bot_base_urls: Option<Vec<reqwest::Url>>,
}

impl LlmConfig {
    /// The model a bot talks to: its own, else the instance's; `None`: the built-in bot.
    pub fn model_for<'a>(&'a self, bot_model: Option<&'a str>) -> Option<&'a str> {
        bot_model.or(self.model.as_deref())
    }

    /// Whether a bot may send its model calls to `base_url`: it is one of the allowed base
    /// URLs or below one (same scheme, host and port; the path continues the allowed one's).
    pub fn allows(&self, base_url: &str) -> bool {
        let Some(allowed) = &self.bot_base_urls else {
            return true;
        };
        let Ok(url) = reqwest::Url::parse(base_url) else {
            return false;
        };
        allowed.iter().any(|allowed| {
            let prefix = allowed.path().trim_end_matches('/');
            let path = url.path().trim_end_matches('/');
            url.scheme() == allowed.scheme()
                && url.host_str() == allowed.host_str()
                && url.port_or_known_default() == allowed.port_or_known_default()
                && url.username().is_empty()
                && url.password().is_none()
                && (path == prefix || path.starts_with(&format!("{prefix}/")))
        })
    }

    /// The allowed base URLs as an admin reads them.
    pub fn allowed_list(&self) -> String {
        match &self.bot_base_urls {
            None => "any http(s) URL".to_owned(),
            Some(urls) if urls.is_empty() => "none".to_owned(),
            Some(urls) => urls
                .iter()
                .map(|u| u.as_str().trim_end_matches('/'))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_LLM_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_WHATSAPP_GRAPH_URL: &str = "https://graph.facebook.com/v23.0";
const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
const DEFAULT_LLM_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_LLM_ANSWER_TIMEOUT_MS: u64 = 120_000;
const DEFAULT_WIDGET_MESSAGES_PER_MINUTE: u32 = 30;
const DEFAULT_WIDGET_SESSIONS_PER_MINUTE: u32 = 60;
const DEFAULT_STREAM_HEARTBEAT_SECS: u64 = 30;

/// Where this machine's own browser reaches a server bound to `bind`.
fn default_public_url(bind: SocketAddr) -> String {
    if bind.ip().is_unspecified() {
        format!("http://localhost:{}", bind.port())
    } else {
        format!("http://{bind}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("BATON_DATABASE_URL must start with sqlite:// or postgres://, got {0}")]
    DatabaseScheme(DatabaseUrl),
    #[error(
        "BATON_LLM_BOT_BASE_URLS must list http:// or https:// URLs separated by commas, or be `none`; cannot read {0:?}"
    )]
    BotBaseUrl(String),
}

impl Settings {
    /// Reads a TOML settings file; its keys are the flag names with `_` (`database_url = …`).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Fills every setting this one leaves unset from `lower`.
    pub fn or(self, lower: Settings) -> Settings {
        Settings {
            bind: self.bind.or(lower.bind),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            public_url: self.public_url.or(lower.public_url),
            admin_email: self.admin_email.or(lower.admin_email),
            admin_password: self.admin_password.or(lower.admin_password),
            llm_base_url: self.llm_base_url.or(lower.llm_base_url),
            llm_api_key: self.llm_api_key.or(lower.llm_api_key),
            llm_model: self.llm_model.or(lower.llm_model),
            llm_timeout_ms: self.llm_timeout_ms.or(lower.llm_timeout_ms),
            llm_answer_timeout_ms: self.llm_answer_timeout_ms.or(lower.llm_answer_timeout_ms),
            llm_stream: self.llm_stream.or(lower.llm_stream),
            llm_bot_base_urls: self.llm_bot_base_urls.or(lower.llm_bot_base_urls),
            whatsapp_graph_url: self.whatsapp_graph_url.or(lower.whatsapp_graph_url),
            secret_key: self.secret_key.or(lower.secret_key),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            log_format: self.log_format.or(lower.log_format),
            metrics_token: self.metrics_token.or(lower.metrics_token),
            widget_messages_per_minute: self
                .widget_messages_per_minute
                .or(lower.widget_messages_per_minute),
            widget_sessions_per_minute: self
                .widget_sessions_per_minute
                .or(lower.widget_sessions_per_minute),
            proxy_hops: self.proxy_hops.or(lower.proxy_hops),
            webhooks_allow_local: self.webhooks_allow_local.or(lower.webhooks_allow_local),
            stream_heartbeat_secs: self.stream_heartbeat_secs.or(lower.stream_heartbeat_secs),
        }
    }
}

impl Config {
    /// Applies the defaults to settings already merged from flags, environment and file.
    pub fn resolve(settings: Settings) -> Result<Config, ConfigError> {
        let bind = settings
            .bind
            .unwrap_or_else(|| DEFAULT_BIND.parse().expect("default bind address"));
        let data_dir = settings
            .data_dir
            .unwrap_or_else(|| PathBuf::from("./baton-data"));
        let database_url = DatabaseUrl(settings.database_url.unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("baton.db").display())
        }));
        if !database_url.is_postgres() && !database_url.expose().starts_with("sqlite:") {
            return Err(ConfigError::DatabaseScheme(database_url));
        }
        let public_url = settings
            .public_url
            .unwrap_or_else(|| default_public_url(bind))
            .trim_end_matches('/')
            .to_owned();
        let llm = LlmConfig {
            base_url: settings
                .llm_base_url
                .unwrap_or_else(|| DEFAULT_LLM_BASE_URL.to_owned()),
            api_key: settings.llm_api_key.map(Secret),
            model: settings.llm_model.filter(|m| !m.trim().is_empty()),
            timeout: Duration::from_millis(
                settings.llm_timeout_ms.unwrap_or(DEFAULT_LLM_TIMEOUT_MS),
            ),
            answer_timeout: Duration::from_millis(
                settings
                    .llm_answer_timeout_ms
                    .unwrap_or(DEFAULT_LLM_ANSWER_TIMEOUT_MS),
            ),
            stream: settings.llm_stream.unwrap_or(true),
            bot_base_urls: settings
                .llm_bot_base_urls
                .as_deref()
                .map(bot_base_urls)
                .transpose()?,
        };
        Ok(Config {
            bind,
            data_dir,
            database_url,
            public_url,
            admin_email: settings.admin_email,
            admin_password: settings.admin_password.map(Secret),
            llm,
            whatsapp_graph_url: settings
                .whatsapp_graph_url
                .unwrap_or_else(|| DEFAULT_WHATSAPP_GRAPH_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            secret_key: settings.secret_key.map(Secret),
            max_body_bytes: settings.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            log_format: settings.log_format.unwrap_or(LogFormat::Text),
            // Empty means unset: no client can send an empty bearer token.
            metrics_token: settings
                .metrics_token
                .filter(|token| !token.trim().is_empty())
                .map(Secret),
            widget_messages_per_minute: settings
                .widget_messages_per_minute
                .unwrap_or(DEFAULT_WIDGET_MESSAGES_PER_MINUTE),
            widget_sessions_per_minute: settings
                .widget_sessions_per_minute
                .unwrap_or(DEFAULT_WIDGET_SESSIONS_PER_MINUTE),
            proxy_hops: settings.proxy_hops.unwrap_or(0),
            webhooks_allow_local: settings.webhooks_allow_local.unwrap_or(true),
            stream_heartbeat: Duration::from_secs(
                settings
                    .stream_heartbeat_secs
                    .unwrap_or(DEFAULT_STREAM_HEARTBEAT_SECS)
                    .max(1),
            ),
        })
    }
}

/// `BATON_LLM_BOT_BASE_URLS` read: `none`, or http(s) URLs separated by commas.
fn bot_base_urls(value: &str) -> Result<Vec<reqwest::Url>, ConfigError> {
    if value.trim() == "none" {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| match reqwest::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
                Ok(parsed)
            }
            _ => Err(ConfigError::BotBaseUrl(url.to_owned())),
        })
        .collect()
}

impl Config {
    /// The effective settings as TOML lines, secrets masked: what `baton config` prints.
    pub fn describe(&self) -> String {
        let quote = |v: &str| format!("{v:?}");
        let masked = |v: &Option<Secret>| v.as_ref().map(|_| quote("***"));
        let mut lines = vec![
            ("bind", Some(quote(&self.bind.to_string()))),
            (
                "data_dir",
                Some(quote(&self.data_dir.display().to_string())),
            ),
            ("database_url", Some(quote(&self.database_url.masked()))),
            ("public_url", Some(quote(&self.public_url))),
            ("admin_email", self.admin_email.as_deref().map(quote)),
            ("admin_password", masked(&self.admin_password)),
            ("whatsapp_graph_url", Some(quote(&self.whatsapp_graph_url))),
            ("secret_key", masked(&self.secret_key)),
            ("max_body_bytes", Some(self.max_body_bytes.to_string())),
            (
                "log_format",
                Some(quote(&format!("{:?}", self.log_format).to_lowercase())),
            ),
            ("metrics_token", masked(&self.metrics_token)),
            (
                "widget_messages_per_minute",
                Some(self.widget_messages_per_minute.to_string()),
            ),
            (
                "widget_sessions_per_minute",
                Some(self.widget_sessions_per_minute.to_string()),
            ),
            ("proxy_hops", Some(self.proxy_hops.to_string())),
            (
                "webhooks_allow_local",
                Some(self.webhooks_allow_local.to_string()),
            ),
            (
                "stream_heartbeat_secs",
                Some(self.stream_heartbeat.as_secs().to_string()),
            ),
        ];
        let llm = &self.llm;
        lines.push(("llm_model", llm.model.as_deref().map(quote)));
        lines.push(("llm_base_url", Some(quote(&llm.base_url))));
        lines.push(("llm_api_key", masked(&llm.api_key)));
        lines.push(("llm_timeout_ms", Some(llm.timeout.as_millis().to_string())));
        lines.push((
            "llm_answer_timeout_ms",
            Some(llm.answer_timeout.as_millis().to_string()),
        ));
        lines.push(("llm_stream", Some(llm.stream.to_string())));
        lines.push((
            "llm_bot_base_urls",
            llm.bot_base_urls
                .as_ref()
                .map(|_| quote(&llm.allowed_list())),
        ));
        lines
            .into_iter()
            .map(|(key, value)| match value {
                Some(value) => format!("{key} = {value}\n"),
                None => format!("# {key} is not set\n"),
            })
            .collect()
    }
}

/// The `BATON_*` variables Baton reads; anything else with that prefix is probably a typo.
pub const KNOWN_ENV: &[&str] = &[
    "BATON_BIND",
    "BATON_DATA_DIR",
    "BATON_DATABASE_URL",
    "BATON_PUBLIC_URL",
    "BATON_ADMIN_EMAIL",
    "BATON_ADMIN_PASSWORD",
    "BATON_LLM_BASE_URL",
    "BATON_LLM_API_KEY",
    "BATON_LLM_MODEL",
    "BATON_LLM_TIMEOUT_MS",
    "BATON_LLM_ANSWER_TIMEOUT_MS",
    "BATON_LLM_STREAM",
    "BATON_LLM_BOT_BASE_URLS",
    "BATON_WHATSAPP_GRAPH_URL",
    "BATON_SECRET_KEY",
    "BATON_MAX_BODY_BYTES",
    "BATON_LOG_FORMAT",
    "BATON_METRICS_TOKEN",
    "BATON_WIDGET_MESSAGES_PER_MINUTE",
    "BATON_WIDGET_SESSIONS_PER_MINUTE",
    "BATON_PROXY_HOPS",
    "BATON_CONFIG",
    "BATON_LOG",
    "BATON_EVAL_DATA",
];

/// Names of `BATON_*` environment variables that Baton does not know.
pub fn unknown_env_vars() -> Vec<String> {
    std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("BATON_") && !name.starts_with("BATON_TEST_"))
        .filter(|name| !KNOWN_ENV.contains(&name.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_password_is_masked_in_debug_and_display() {
        let url = DatabaseUrl("postgres://baton:hunter2@db:5432/baton".into());
        assert_eq!(url.to_string(), "postgres://baton:***@db:5432/baton");
        assert!(!format!("{url:?}").contains("hunter2"));
        let config = Config::resolve(Settings {
            database_url: Some(url.expose().into()),
            admin_password: Some("s3cret-pass".into()),
            ..Settings::default()
        })
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("s3cret-pass"));
    }

    #[test]
    fn higher_layer_wins_and_lower_layer_fills_gaps() {
        let flags = Settings {
            bind: Some("127.0.0.1:9000".parse().unwrap()),
            ..Settings::default()
        };
        let file: Settings =
            toml::from_str("bind = \"127.0.0.1:7000\"\npublic_url = \"https://help.example\"\n")
                .unwrap();
        let config = Config::resolve(flags.or(file)).unwrap();
        assert_eq!(config.bind.port(), 9000);
        assert_eq!(config.public_url, "https://help.example");
        assert!(config.database_url.expose().starts_with("sqlite://"));
    }

    #[test]
    fn the_default_public_url_is_one_a_browser_can_open() {
        let url = |bind: &str| {
            Config::resolve(Settings {
                bind: Some(bind.parse().unwrap()),
                ..Settings::default()
            })
            .unwrap()
            .public_url
        };
        assert_eq!(url("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::1]:8080"), "http://[::1]:8080");
        assert_eq!(url("0.0.0.0:8080"), "http://localhost:8080");
        assert_eq!(url("[::]:9000"), "http://localhost:9000");
    }

    #[test]
    fn bots_may_use_only_the_listed_endpoints_and_what_lies_below_them() {
        let llm = |list: Option<&str>| {
            Config::resolve(Settings {
                llm_bot_base_urls: list.map(str::to_owned),
                ..Settings::default()
            })
            .map(|config| config.llm)
        };
        let open = llm(None).unwrap();
        assert!(open.allows("http://10.0.0.5:8000/v1"));
        let listed = llm(Some(
            "https://api.openai.com/v1/, http://ollama.internal:11434",
        ))
        .unwrap();
        for allowed in [
            "https://api.openai.com/v1",
            "https://API.openai.com/v1/",
            "https://api.openai.com:443/v1/projects/x",
            "http://ollama.internal:11434/v1",
        ] {
            assert!(listed.allows(allowed), "{allowed}");
        }
        for refused in [
            "https://api.openai.com.evil.example/v1",
            "https://api.openai.com/v10",
            "https://api.openai.com/",
            "http://api.openai.com/v1",
            "https://api.openai.com:8443/v1",
            "https://user:pass@api.openai.com/v1",
            "http://ollama.internal:11435/v1",
            "http://169.254.169.254/latest",
            "not a url",
        ] {
            assert!(!listed.allows(refused), "{refused}");
        }
        assert_eq!(
            listed.allowed_list(),
            "https://api.openai.com/v1, http://ollama.internal:11434"
        );
        let none = llm(Some("none")).unwrap();
        assert!(!none.allows("https://api.openai.com/v1"));
        assert_eq!(none.allowed_list(), "none");
        let err = llm(Some("https://ok.example/v1, ftp://files.example")).unwrap_err();
        assert!(err.to_string().contains("\"ftp://files.example\""), "{err}");
    }

    #[test]
    fn unknown_scheme_is_rejected() {
        let err = Config::resolve(Settings {
            database_url: Some("mysql://x".into()),
            ..Settings::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("sqlite:// or postgres://"));
    }
}
