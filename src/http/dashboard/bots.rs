//! Bots: the list, and one bot's settings, tools, knowledge base and widget snippet.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Flash, Nav, Page, back, back_after, check_csrf, csrf_field, layout, require_admin};
use crate::bot::builtin::RELEVANCE_THRESHOLD;
use crate::domain::KbLanguage;
use crate::error::{ApiError, ApiResult};
use crate::http::api::bots::{BotBody, create_bot, key_hint, switch_tool};
use crate::http::api::channels::{
    ConnectBody, UpdateBody, connect_number, disconnect_channel, update_channel,
};
use crate::http::api::documents::{UrlBody, add_page};
use crate::marketplace;
use crate::state::AppState;
use crate::store::BotRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bots", get(list).post(create))
        .route("/bots/{id}", get(view).post(update))
        .route("/bots/{id}/tools/{slug}", post(toggle))
        .route("/bots/{id}/documents/{doc}/delete", post(delete_document))
        .route("/bots/{id}/documents/from-url", post(add_web_page))
        .route("/bots/{id}/channels/whatsapp", post(connect_whatsapp))
        .route(
            "/bots/{id}/channels/{channel_id}/secrets",
            post(replace_secrets),
        )
        .route(
            "/bots/{id}/channels/{channel_id}/disconnect",
            post(disconnect),
        )
}

async fn list(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let mut bots = Vec::new();
    for bot in state.store.list_bots(ws).await? {
        let tools = state.store.enabled_tools(&bot.id).await?;
        bots.push((bot, tools));
    }
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let content = html! {
        div class="header" { h1 { "Bots" } }
        (flash.render())
        div class="card" style="padding:0" {
            table {
                thead { tr { th { "Name" } th { "Tools" } th { "Widget key" } } }
                tbody {
                    @for (bot, tools) in &bots {
                        tr class="row" {
                            td { a class="open" href=(format!("/bots/{}", bot.id)) { (bot.name) } }
                            td { @if tools.is_empty() { span class="muted" { "none" } } @else { @for t in tools.iter() { span class="badge" { (t) } " " } } }
                            td { code { (bot.widget_key) } }
                        }
                    }
                    @if bots.is_empty() { tr { td colspan="3" class="empty" { "No bots yet: create one below." } } }
                }
            }
        }
        @if caller.is_admin() {
            form class="card" method="post" action="/bots" {
                h2 { "New bot" }
                (csrf_field(&caller))
                label for="new-bot-name" { "Name" }
                input id="new-bot-name" type="text" name="name" required placeholder="Acme Help";
                div style="margin-top:1rem" { button class="btn primary" type="submit" { "Create bot" } }
            }
        }
    };
    Ok(layout(&caller, Nav::Bots, "Bots", pending, content))
}

#[derive(Deserialize)]
struct BotForm {
    csrf_token: String,
    name: Option<String>,
    system_prompt: Option<String>,
    handoff_message: Option<String>,
    response_time_text: Option<String>,
    greeting: Option<String>,
    kb_language: Option<String>,
    relevance_threshold: Option<String>,
    llm_model: Option<String>,
    llm_base_url: Option<String>,
    /// Empty keeps the key the bot has; `llm_api_key_clear` removes it.
    llm_api_key: Option<String>,
    llm_api_key_clear: Option<String>,
}

impl BotForm {
    fn body(self) -> BotBody {
        BotBody {
            name: self.name,
            system_prompt: self.system_prompt,
            handoff_message: self.handoff_message,
            response_time_text: self.response_time_text,
            greeting: self.greeting,
            // Empty model or endpoint: follow the instance's.
            llm_model: self.llm_model.map(Some),
            llm_base_url: self.llm_base_url.map(Some),
            llm_api_key: match (self.llm_api_key_clear, self.llm_api_key) {
                (Some(_), _) => Some(None),
                (None, Some(key)) if !key.trim().is_empty() => Some(Some(key)),
                (None, _) => None,
            },
            kb_language: self.kb_language,
            // Empty is the default; anything but a number is refused as out of range.
            relevance_threshold: self.relevance_threshold.map(|t| match t.trim() {
                "" => None,
                t => Some(t.parse().unwrap_or(f64::NAN)),
            }),
        }
    }
}

async fn create(
    State(state): State<AppState>,
    Page(caller): Page,
    axum::Form(form): axum::Form<BotForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    match create_bot(&state, caller.workspace_id(), form.body()).await {
        Ok(bot) => Ok(back(&format!("/bots/{}", bot.id), Ok("Bot created."))),
        Err(err) => Ok(back("/bots", Err(err.message))),
    }
}

#[derive(Deserialize)]
struct ViewQuery {
    q: Option<String>,
    ok: Option<String>,
    error: Option<String>,
}

async fn view(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    Query(query): Query<ViewQuery>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let bot = state.store.bot(ws, &id).await?;
    let installed = state.store.installed_tools(ws).await?;
    let enabled = state.store.enabled_tools(&bot.id).await?;
    let docs = state.store.list_documents(ws, &bot.id).await?;
    let channels: Vec<serde_json::Value> = state
        .store
        .list_channels(ws)
        .await?
        .iter()
        .filter(|c| c.bot_id == bot.id)
        .map(|c| crate::http::api::channels::view(&state, c))
        .collect();
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let q = query.q.clone().filter(|q| !q.trim().is_empty());
    let hits = match &q {
        Some(q) => state
            .knowledge
            .search(&state.store, &bot.id, q, 5)
            .await
            .map_err(ApiError::internal)?,
        None => Vec::new(),
    };
    let flash = Flash {
        ok: query.ok,
        error: query.error,
    };
    let snippet = format!(
        "<script src=\"{}/widget.js\" data-bot=\"{}\" async></script>",
        state.config.public_url, bot.widget_key
    );
    let disabled = !caller.is_admin();
    let uses_model = state
        .config
        .llm
        .model_for(bot.llm_model.as_deref())
        .is_some();
    let content = html! {
        div class="header" {
            div { a href="/bots" class="small" { "← Bots" } h1 style="margin-top:.4rem" { (bot.name) } }
        }
        (flash.render())
        div class="grid2" {
            form class="card" method="post" action=(format!("/bots/{}", bot.id)) {
                h2 { "Settings" }
                (csrf_field(&caller))
                label for="name" { "Name" }
                input id="name" type="text" name="name" value=(bot.name) required disabled[disabled];
                label for="greeting" { "Greeting" }
                textarea id="greeting" name="greeting" disabled[disabled] { (bot.greeting) }
                label for="system_prompt" { "System prompt" }
                textarea id="system_prompt" name="system_prompt" disabled[disabled] { (bot.system_prompt) }
                label for="handoff_message" { "Handoff message" }
                textarea id="handoff_message" name="handoff_message" disabled[disabled] { (bot.handoff_message) }
                label for="response_time_text" { "Response time" }
                input id="response_time_text" type="text" name="response_time_text" value=(bot.response_time_text) disabled[disabled];
                div class="hint" {
                    "Said after the handoff message. Left at “" (crate::bot::response_time::DEFAULT)
                    "”, a response time the system prompt states (“We answer within 24 hours.”) is said instead; empty says none."
                }
                label for="kb_language" { "Knowledge base language" }
                select id="kb_language" name="kb_language" disabled[disabled] {
                    @for language in KbLanguage::ALL {
                        option value=(language.as_str()) selected[language == bot.kb_language] { (language.label()) }
                    }
                }
                div class="hint" { "The language your documents and your customers’ questions are in: it decides how words are matched (“reembolsos” finds “reembolso”). Changing it re-indexes the knowledge base." }
                label for="relevance_threshold" { "Relevance needed to answer" }
                input id="relevance_threshold" type="number" name="relevance_threshold" min="0" max="1" step="any"
                    value=[bot.relevance_threshold_set] placeholder=(format!("{RELEVANCE_THRESHOLD} (default)")) disabled[disabled];
                div class="hint" { "From 0 to 1. The built-in bot answers from the knowledge base only when the best passage is at least this relevant; otherwise it hands off. Higher is more cautious. Empty: the default. “Test a question” below shows the relevance of each match." }
                (model_fields(&bot, &state, disabled))
                @if !disabled { div style="margin-top:1rem" { button class="btn primary" type="submit" { "Save settings" } } }
            }
            div {
                section class="card" id="tools" {
                    h2 { "Settings → Tools" }
                    @for tool in marketplace::CATALOGUE {
                        @let installed = installed.iter().any(|s| s == tool.slug);
                        @let on = enabled.iter().any(|s| s == tool.slug);
                        div class="toggle" {
                            div {
                                strong { (tool.name) }
                                div class="muted small" { (tool.description) }
                                @if !installed {
                                    div class="small" style="margin-top:.3rem" { "Not installed. " a href="/marketplace" { "Add it from the Marketplace" } }
                                }
                            }
                            @if installed {
                                form method="post" action=(format!("/bots/{}/tools/{}", bot.id, tool.slug)) {
                                    (csrf_field(&caller))
                                    input type="hidden" name="enabled" value=(if on { "false" } else { "true" });
                                    button type="submit" class=(if on { "switch on" } else { "switch" }) role="switch"
                                        aria-checked=(on) aria-label=(tool.name) id=(format!("toggle-{}", tool.slug)) disabled[disabled] {}
                                }
                            }
                        }
                    }
                }
                section class="card" id="whatsapp" {
                    h2 { "WhatsApp" }
                    @for channel in &channels {
                        @let channel_id = channel["id"].as_str().unwrap_or("");
                        @let number = channel["display_phone_number"].as_str();
                        dl class="facts" style="margin-bottom:1rem" {
                            @if let Some(number) = number {
                                dt { "Number" } dd class="wa-number" {
                                    (number)
                                    @if let Some(name) = channel["verified_name"].as_str() { " · " (name) }
                                }
                            }
                            dt { "Phone number id" } dd { (channel["phone_number_id"].as_str().unwrap_or("?")) }
                            dt { "Access token" } dd { (channel["access_token"].as_str().unwrap_or("?")) }
                            dt { "Webhook URL" } dd { code class="webhook-url" { (channel["webhook_url"].as_str().unwrap_or("")) } }
                            dt { "Channel id" } dd { code { (channel_id) } }
                        }
                        @if !disabled {
                            details style="margin-bottom:1rem" {
                                summary class="small" style="cursor:pointer" { "Replace access token or app secret" }
                                form method="post" action=(format!("/bots/{}/channels/{channel_id}/secrets", bot.id)) {
                                    (csrf_field(&caller))
                                    label for=(format!("wa-new-token-{channel_id}")) { "New access token (checked with Meta before it is saved)" }
                                    input id=(format!("wa-new-token-{channel_id}")) type="password" name="access_token" autocomplete="off";
                                    label for=(format!("wa-new-secret-{channel_id}")) { "New app secret (leave empty to keep)" }
                                    input id=(format!("wa-new-secret-{channel_id}")) type="password" name="app_secret" autocomplete="off";
                                    div style="margin-top:1rem" { button class="btn" type="submit" { "Save" } }
                                }
                            }
                            form method="post" action=(format!("/bots/{}/channels/{channel_id}/disconnect", bot.id))
                                data-confirm=(format!("Disconnect {}? Customers who write to it are no longer answered until it is connected again.", number.unwrap_or("this number"))) {
                                (csrf_field(&caller))
                                button class="btn danger" type="submit" id=(format!("disconnect-{channel_id}")) { "Disconnect number" }
                            }
                        }
                    }
                    @if channels.is_empty() { p class="muted small" { "No number connected. Customers who write to your WhatsApp Business number get this bot and the same handoff as on the widget." } }
                    @if !disabled {
                        details open[channels.is_empty()] {
                            summary class="small" style="cursor:pointer" { "Connect a number" }
                            form method="post" action=(format!("/bots/{}/channels/whatsapp", bot.id)) {
                                (csrf_field(&caller))
                                label for="wa-pnid" { "Phone number ID" }
                                input id="wa-pnid" type="text" name="phone_number_id" required inputmode="numeric" placeholder="106540352242922";
                                label for="wa-token" { "Access token" }
                                input id="wa-token" type="password" name="access_token" required autocomplete="off";
                                label for="wa-secret" { "App secret" }
                                input id="wa-secret" type="password" name="app_secret" required autocomplete="off";
                                label for="wa-verify" { "Verify token (any phrase; enter the same in Meta's webhook settings)" }
                                input id="wa-verify" type="text" name="verify_token" required autocomplete="off";
                                p class="muted small" { "Baton asks Meta whether the token may send from this number before it saves anything." }
                                div style="margin-top:1rem" { button class="btn primary" type="submit" { "Connect" } }
                            }
                        }
                    }
                }
                section class="card" {
                    h2 { "Widget" }
                    p class="muted small" { "Paste this tag before </body> on your site." }
                    pre class="snippet" id="snippet" { (snippet) }
                    button class="btn" type="button" data-copy="snippet" { "Copy snippet" }
                }
            }
        }
        section class="card" id="knowledge" {
            h2 { "Knowledge base" }
            @if !disabled {
                // Uploaded by the page's script (with progress) straight to the API.
                form id="upload" method="post" enctype="multipart/form-data" action=(format!("/api/v1/bots/{}/documents", bot.id)) {
                    div class="actions" style="align-items:end" {
                        div style="flex:1" {
                            label for="doc-file" { "Upload a file (PDF, text, Markdown or HTML)" }
                            input id="doc-file" type="file" name="file" accept=".pdf,.txt,.md,.markdown,.html,.htm" required;
                        }
                        div style="flex:1" {
                            label for="doc-title" { "Title (optional)" }
                            input id="doc-title" type="text" name="title";
                        }
                        button class="btn primary" type="submit" { "Upload" }
                    }
                    div class="progress" id="upload-progress" { div {} }
                    div class="hint" id="upload-status" {}
                }
                form method="post" action=(format!("/bots/{}/documents/from-url", bot.id)) style="margin-top:.75rem" {
                    (csrf_field(&caller))
                    div class="actions" style="align-items:end" {
                        div style="flex:1" {
                            label for="doc-url" { "Or add a web page (its text, without the site's menus; adding it again updates it)" }
                            input id="doc-url" type="url" name="url" required placeholder="https://help.example.com/returns";
                        }
                        button class="btn" type="submit" { "Add page" }
                    }
                }
            }
            table style="margin-top:1rem" {
                thead { tr { th { "Document" } th { "Format" } th { "Passages" } th {} } }
                tbody {
                    @for doc in &docs {
                        tr {
                            td { (doc.title) }
                            td { span class="badge" { (doc.format) } }
                            td { (doc.chunks) }
                            td style="text-align:right" {
                                @if !disabled {
                                    form method="post" action=(format!("/bots/{}/documents/{}/delete", bot.id, doc.id)) {
                                        (csrf_field(&caller))
                                        button class="btn danger" type="submit" aria-label=(format!("Delete {}", doc.title)) { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                    @if docs.is_empty() { tr { td colspan="4" class="empty" { "No documents yet. The bot answers only from what you upload here." } } }
                }
            }
            form method="get" action=(format!("/bots/{}", bot.id)) style="margin-top:1.25rem" {
                label for="kb-search" { "Test a question" }
                div class="actions" {
                    input id="kb-search" type="search" name="q" value=(q.as_deref().unwrap_or("")) placeholder="How long does delivery take?" style="flex:1";
                    button class="btn" type="submit" { "Search" }
                }
            }
            @if let Some(q) = &q {
                div id="search-results" {
                    p class="small" {
                        @match hits.first() {
                            Some(best) if best.relevance >= bot.relevance_threshold() => {
                                @if uses_model { "The model would be given " strong { (best.title) } " as relevant to “" (q) "” (and write its answer from it)." }
                                @else { "The bot would answer “" (q) "” from " strong { (best.title) } "." }
                            }
                            _ => {
                                "The knowledge base has nothing relevant for “" (q) "”: "
                                @if uses_model { "the model is told so, and should hand off (or decline, if Request Handoff is off)." }
                                @else { "the bot would hand off (or decline, if Request Handoff is off)." }
                            }
                        }
                    }
                    @for hit in &hits {
                        div class="result" {
                            div { strong { (hit.title) } @if !hit.heading.is_empty() { " › " (hit.heading) } }
                            div class="muted small score" { "relevance " (format!("{:.2}", hit.relevance)) " · BM25 " (format!("{:.2}", hit.score)) }
                            div class="small" { (hit.body) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(&caller, Nav::Bots, &bot.name, pending, content))
}

/// The bot's language model: which one writes its answers now, and its own model, endpoint
/// and key over the instance's.
fn model_fields(bot: &BotRecord, state: &AppState, disabled: bool) -> Markup {
    let instance = &state.config.llm;
    let model = instance.model_for(bot.llm_model.as_deref());
    let endpoint = bot.llm_base_url.as_deref().unwrap_or(&instance.base_url);
    let key = key_hint(bot, &state.secret_key);
    html! {
        h3 id="model" { "Language model" }
        p class="small" id="answered-by" {
            @match model {
                Some(model) => { "Answers are written by the model " strong { (model) } " at " code { (endpoint) } ", searching this knowledge base first." }
                None => { "Answers come from the built-in bot, offline: no language model is set for this bot or this instance." }
            }
        }
        label for="llm_model" { "Model" }
        input id="llm_model" type="text" name="llm_model" value=[bot.llm_model.as_deref()] autocomplete="off"
            placeholder=(instance.model.as_deref().map_or("none: the built-in bot answers".to_owned(), |m| format!("{m} (this instance’s)"))) disabled[disabled];
        label for="llm_base_url" { "Endpoint (OpenAI-compatible, up to /v1)" }
        input id="llm_base_url" type="url" name="llm_base_url" value=[bot.llm_base_url.as_deref()] autocomplete="off"
            placeholder=(format!("{} (this instance’s)", instance.base_url)) disabled[disabled];
        @if instance.bot_base_urls.is_some() {
            div class="hint" { "This instance allows: " (instance.allowed_list()) "." }
        }
        label for="llm_api_key" { "API key" }
        input id="llm_api_key" type="password" name="llm_api_key" autocomplete="new-password"
            placeholder=(key.as_deref().map_or("none of its own".to_owned(), |hint| format!("{hint}: empty keeps it"))) disabled[disabled];
        @if key.is_some() {
            label class="check" { input type="checkbox" name="llm_api_key_clear" value="true" disabled[disabled]; " Remove this bot’s key" }
        }
        div class="hint" { "Empty fields follow the instance’s settings. With its own endpoint, a bot sends only its own key there, never the instance’s. The key is stored encrypted and never shown again." }
    }
}

async fn update(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<BotForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let path = format!("/bots/{id}");
    let patch = match form.body().into_patch(&state.secret_key, &state.config.llm) {
        Ok(patch) => patch,
        Err(err) => return Ok(back(&path, Err(err.to_string()))),
    };
    state
        .store
        .update_bot(caller.workspace_id(), &id, patch, state.clock.now_ms())
        .await?;
    Ok(back(&path, Ok("Settings saved.")))
}

#[derive(Deserialize)]
struct ToggleForm {
    csrf_token: String,
    enabled: String,
}

async fn toggle(
    State(state): State<AppState>,
    Page(caller): Page,
    Path((id, slug)): Path<(String, String)>,
    axum::Form(form): axum::Form<ToggleForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let enabled = form.enabled == "true";
    let path = format!("/bots/{id}");
    let name = marketplace::find(&slug).map_or("The tool", |tool| tool.name);
    let state_now = if enabled { "on" } else { "off" };
    Ok(
        match switch_tool(&state, caller.workspace_id(), &id, &slug, enabled).await {
            Ok(_) => back(&path, Ok(&format!("{name} is {state_now} for this bot."))),
            Err(err) => back(&path, Err(err.message)),
        },
    )
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

#[derive(Deserialize)]
struct WebPageForm {
    csrf_token: String,
    url: String,
}

async fn add_web_page(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<WebPageForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let path = format!("/bots/{id}");
    let body = UrlBody {
        url: form.url,
        title: None,
    };
    Ok(
        match add_page(&state, caller.workspace_id(), &id, body).await {
            Ok((doc, replaced, _)) => {
                let done = if replaced > 0 { "Updated" } else { "Added" };
                let text = format!("{done} “{}”: {} passages.", doc.title, doc.chunks);
                back(&path, Ok(&text))
            }
            Err(err) => back(&path, Err(err.message)),
        },
    )
}

async fn delete_document(
    State(state): State<AppState>,
    Page(caller): Page,
    Path((id, doc)): Path<(String, String)>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    state
        .store
        .delete_document(caller.workspace_id(), &id, &doc)
        .await?;
    Ok(back(&format!("/bots/{id}"), Ok("Document deleted.")))
}

#[derive(Deserialize)]
struct WhatsappForm {
    csrf_token: String,
    phone_number_id: String,
    access_token: String,
    app_secret: String,
    verify_token: String,
}

async fn connect_whatsapp(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<WhatsappForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let body = ConnectBody {
        phone_number_id: form.phone_number_id,
        access_token: form.access_token,
        app_secret: form.app_secret,
        verify_token: form.verify_token,
    };
    let path = format!("/bots/{id}");
    Ok(back_after(
        &path,
        connect_number(&state, caller.workspace_id(), &id, body).await,
        "WhatsApp number connected. Paste the webhook URL and your verify token into Meta's webhook settings.",
    ))
}

#[derive(Deserialize)]
struct SecretsForm {
    csrf_token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    app_secret: String,
}

/// Replaces a number's access token and/or app secret; an empty field keeps what is stored.
async fn replace_secrets(
    State(state): State<AppState>,
    Page(caller): Page,
    Path((id, channel_id)): Path<(String, String)>,
    axum::Form(form): axum::Form<SecretsForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let given = |value: String| (!value.trim().is_empty()).then_some(value);
    let body = UpdateBody {
        access_token: given(form.access_token),
        app_secret: given(form.app_secret),
        ..UpdateBody::default()
    };
    let path = format!("/bots/{id}");
    if body.access_token.is_none() && body.app_secret.is_none() {
        return Ok(back(
            &path,
            Err("Nothing to save: enter a new access token or app secret.".into()),
        ));
    }
    Ok(back_after(
        &path,
        update_channel(&state, caller.workspace_id(), &channel_id, body).await,
        "Saved. Baton uses the new secrets from now on.",
    ))
}

async fn disconnect(
    State(state): State<AppState>,
    Page(caller): Page,
    Path((id, channel_id)): Path<(String, String)>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let path = format!("/bots/{id}");
    Ok(back_after(
        &path,
        disconnect_channel(&state, caller.workspace_id(), &channel_id).await,
        "WhatsApp number disconnected. Remove the webhook in Meta's app settings too.",
    ))
}
