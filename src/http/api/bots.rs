//! Bots: their texts, their public widget key, and which tools they use.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};

use crate::config::{LlmConfig, Secret};
use crate::domain::clock::rfc3339;
use crate::domain::{BotText, KbLanguage, Name, ParseError};
use crate::error::{ApiError, ApiResult, Code};
use crate::http::extract::{Admin, ApiJson, Caller};
use crate::marketplace;
use crate::state::AppState;
use crate::store::{BotPatch, BotRecord, NewBot};
use crate::{auth, crypto};

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/bots", post(create).get(list))
        .route("/bots/{bot_id}", get(read).patch(update))
        .route("/bots/{bot_id}/tools/{slug}", put(set_tool))
}

pub const DEFAULT_HANDOFF_MESSAGE: &str =
    "I'm connecting you with our team. A person will reply right here in this chat.";
pub const DEFAULT_GREETING: &str = "Hi! Ask me anything, or ask to talk to a person at any time.";
/// What the widget greets with instead of [`DEFAULT_GREETING`] when the bot cannot hand off.
pub const GREETING_WITHOUT_HANDOFF: &str = "Hi! Ask me anything.";
const DEFAULT_SYSTEM_PROMPT: &str =
    "You are a friendly support assistant. Answer only from the knowledge base.";

#[derive(Serialize)]
pub struct BotView {
    id: String,
    name: String,
    system_prompt: String,
    handoff_message: String,
    response_time_text: String,
    greeting: String,
    widget_key: String,
    /// The model, endpoint and key this bot uses instead of the instance's; `null` follows the
    /// instance. The key is write-only: it reads back as a hint (`••••1234`).
    llm_model: Option<String>,
    llm_base_url: Option<String>,
    llm_api_key: Option<String>,
    /// The knowledge base's language (`en`, `es`, … or `none`): how it is searched.
    kb_language: KbLanguage,
    /// How relevant (0 to 1) the best knowledge-base passage must be for the built-in bot to
    /// answer from it; below, the KB "has nothing" and the bot hands off. The default unless
    /// set (see `relevance_threshold_default`).
    relevance_threshold: f32,
    relevance_threshold_default: bool,
    /// Tools switched on for this bot (and installed in the workspace).
    tools: Vec<String>,
    widget_snippet: String,
    created_at: String,
    updated_at: String,
}

impl BotView {
    fn new(bot: BotRecord, tools: Vec<String>, public_url: &str, key: &Secret) -> Self {
        BotView {
            llm_api_key: key_hint(&bot, key),
            relevance_threshold: bot.relevance_threshold(),
            relevance_threshold_default: bot.relevance_threshold_set.is_none(),
            llm_base_url: bot.llm_base_url,
            widget_snippet: format!(
                "<script src=\"{public_url}/widget.js\" data-bot=\"{}\" async></script>",
                bot.widget_key
            ),
            id: bot.id,
            name: bot.name,
            system_prompt: bot.system_prompt,
            handoff_message: bot.handoff_message,
            response_time_text: bot.response_time_text,
            greeting: bot.greeting,
            widget_key: bot.widget_key,
            llm_model: bot.llm_model,
            kb_language: bot.kb_language,
            tools,
            created_at: rfc3339(bot.created_at),
            updated_at: rfc3339(bot.updated_at),
        }
    }
}

/// The bot's own model key as a hint (`••••1234`), if it has one. A key sealed under another
/// secret key (a changed BATON_SECRET_KEY) is still set: `••••`.
pub(crate) fn key_hint(bot: &BotRecord, key: &Secret) -> Option<String> {
    bot.llm_api_key_sealed.as_deref().map(|sealed| {
        crypto::decrypt(key, sealed).map_or_else(|_| "••••".to_owned(), |k| crypto::hint(&k))
    })
}

async fn view(state: &AppState, bot: BotRecord) -> ApiResult<BotView> {
    let tools = state.store.enabled_tools(&bot.id).await?;
    Ok(BotView::new(
        bot,
        tools,
        &state.config.public_url,
        &state.secret_key,
    ))
}

/// A bot's editable fields, from the API's JSON or the dashboard's form.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct BotBody {
    pub name: Option<String>,
    pub system_prompt: Option<String>,
    pub handoff_message: Option<String>,
    pub response_time_text: Option<String>,
    pub greeting: Option<String>,
    #[serde(default, with = "nullable")]
    pub llm_model: Option<Option<String>>,
    #[serde(default, with = "nullable")]
    pub llm_base_url: Option<Option<String>>,
    #[serde(default, with = "nullable")]
    pub llm_api_key: Option<Option<String>>,
    pub kb_language: Option<String>,
    /// `null` goes back to the default.
    #[serde(default, with = "nullable")]
    pub relevance_threshold: Option<Option<f64>>,
}

/// Tells a missing field (keep) from an explicit `null` (clear).
pub(crate) mod nullable {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}

impl BotBody {
    /// The patch, with the model key (if any) sealed under `key` and the model endpoint (if
    /// any) one the instance's `llm` settings allow.
    pub(crate) fn into_patch(self, key: &Secret, llm: &LlmConfig) -> Result<BotPatch, ParseError> {
        let text = |field, value: Option<String>| {
            value
                .map(|v| BotText::parse(field, &v).map(BotText::into_inner))
                .transpose()
        };
        Ok(BotPatch {
            name: self
                .name
                .map(|n| Name::parse("name", &n).map(Name::into_inner))
                .transpose()?,
            system_prompt: text("system_prompt", self.system_prompt)?,
            handoff_message: text("handoff_message", self.handoff_message)?,
            response_time_text: text("response_time_text", self.response_time_text)?,
            greeting: text("greeting", self.greeting)?,
            llm_model: self
                .llm_model
                .map(|m| m.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty())),
            llm_base_url: self
                .llm_base_url
                .map(|url| url.map(|url| llm_base_url(&url, llm)).transpose())
                .transpose()?
                .map(Option::flatten),
            llm_api_key_sealed: self
                .llm_api_key
                .map(|k| k.map(|k| llm_api_key(&k)).transpose())
                .transpose()?
                .map(|k| k.flatten().map(|k| crypto::encrypt(key, &k))),
            kb_language: self
                .kb_language
                .as_deref()
                .map(KbLanguage::parse)
                .transpose()?,
            relevance_threshold: self
                .relevance_threshold
                .map(|t| t.map(relevance_threshold).transpose())
                .transpose()?,
        })
    }
}

/// An OpenAI-compatible API's base URL, up to and including its version (`…/v1`); empty
/// means "follow the instance".
fn llm_base_url(value: &str, llm: &LlmConfig) -> Result<Option<String>, ParseError> {
    let value = value.trim().trim_end_matches('/');
    if value.is_empty() {
        return Ok(None);
    }
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
        _ => {
            return Err(ParseError::new(
                "llm_base_url",
                "must be an http:// or https:// URL, such as https://api.openai.com/v1",
            ));
        }
    }
    if !llm.allows(value) {
        return Err(ParseError::new(
            "llm_base_url",
            format!(
                "this instance lets bots use only these model endpoints: {}",
                llm.allowed_list()
            ),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A model API key as given; empty means "none of its own".
fn llm_api_key(value: &str) -> Result<Option<String>, ParseError> {
    let value = value.trim();
    if value.len() > 1_000 || value.chars().any(char::is_control) {
        return Err(ParseError::new(
            "llm_api_key",
            "must be one line of at most 1000 characters",
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// A relevance threshold as given: a number from 0 (answer whatever matches at all) to 1
/// (answer nothing from the knowledge base).
fn relevance_threshold(value: f64) -> Result<f64, ParseError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(ParseError::new(
            "relevance_threshold",
            "must be a number from 0 to 1, or null for the default",
        ))
    }
}

async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<BotBody>,
) -> ApiResult<(StatusCode, axum::Json<BotView>)> {
    let bot = create_bot(&state, caller.workspace_id(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&state, bot).await?)))
}

/// A new bot with the defaults for whatever the body leaves out, and its own widget key.
pub(crate) async fn create_bot(
    state: &AppState,
    workspace_id: &str,
    body: BotBody,
) -> ApiResult<BotRecord> {
    if body.name.is_none() {
        return Err(ApiError::validation("name: is required"));
    }
    let patch = body.into_patch(&state.secret_key, &state.config.llm)?;
    let bot = NewBot {
        name: patch.name.unwrap_or_default(),
        llm_model: patch.llm_model.flatten(),
        llm_base_url: patch.llm_base_url.flatten(),
        llm_api_key_sealed: patch.llm_api_key_sealed.flatten(),
        system_prompt: patch
            .system_prompt
            .unwrap_or_else(|| DEFAULT_SYSTEM_PROMPT.to_owned()),
        handoff_message: patch
            .handoff_message
            .unwrap_or_else(|| DEFAULT_HANDOFF_MESSAGE.to_owned()),
        response_time_text: patch
            .response_time_text
            .unwrap_or_else(|| crate::bot::response_time::DEFAULT.to_owned()),
        greeting: patch
            .greeting
            .unwrap_or_else(|| DEFAULT_GREETING.to_owned()),
        kb_language: patch.kb_language.unwrap_or_default(),
        relevance_threshold: patch.relevance_threshold.flatten(),
    };
    let widget_key = format!("wk_{}", &auth::random_token()[..24]);
    let now = state.clock.now_ms();
    Ok(state
        .store
        .create_bot(workspace_id, bot, &widget_key, now)
        .await?)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<BotView>>> {
    let mut views = Vec::new();
    for bot in state.store.list_bots(caller.workspace_id()).await? {
        views.push(view(&state, bot).await?);
    }
    Ok(axum::Json(views))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(bot_id): Path<String>,
) -> ApiResult<axum::Json<BotView>> {
    let bot = state.store.bot(caller.workspace_id(), &bot_id).await?;
    Ok(axum::Json(view(&state, bot).await?))
}

async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(bot_id): Path<String>,
    ApiJson(body): ApiJson<BotBody>,
) -> ApiResult<axum::Json<BotView>> {
    let patch = body.into_patch(&state.secret_key, &state.config.llm)?;
    let bot = state
        .store
        .update_bot(caller.workspace_id(), &bot_id, patch, state.clock.now_ms())
        .await?;
    Ok(axum::Json(view(&state, bot).await?))
}

#[derive(Deserialize)]
struct ToolSwitch {
    enabled: bool,
}

async fn set_tool(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((bot_id, slug)): Path<(String, String)>,
    ApiJson(body): ApiJson<ToolSwitch>,
) -> ApiResult<axum::Json<BotView>> {
    let bot = switch_tool(&state, caller.workspace_id(), &bot_id, &slug, body.enabled).await?;
    Ok(axum::Json(view(&state, bot).await?))
}

/// Switches a marketplace tool on or off for a bot; on needs it installed (409 otherwise).
pub(crate) async fn switch_tool(
    state: &AppState,
    workspace_id: &str,
    bot_id: &str,
    slug: &str,
    enabled: bool,
) -> ApiResult<BotRecord> {
    let bot = state.store.bot(workspace_id, bot_id).await?;
    let tool = marketplace::find(slug).ok_or_else(|| ApiError::not_found("tool"))?;
    let now = state.clock.now_ms();
    let switched = state
        .store
        .set_bot_tool(workspace_id, &bot.id, tool.slug, enabled, now)
        .await?;
    if !switched {
        return Err(ApiError::new(
            Code::ToolNotInstalled,
            format!(
                "{} is not installed in this workspace: add it from the Marketplace first",
                tool.name
            ),
        ));
    }
    Ok(bot)
}
