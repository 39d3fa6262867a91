//! A bot's knowledge base: add documents (JSON or a file upload), list, delete, and search it
//! the way the bot would.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::BotText;
use crate::domain::clock::rfc3339;
use crate::domain::webhook::literal_local_address;
use crate::error::{ApiError, ApiResult, Code};
use crate::http::extract::{Admin, ApiJson, ApiQuery, Caller, multipart_error};
use crate::knowledge::chunk::{self, Format};
use crate::knowledge::{document, site};
use crate::state::AppState;
use crate::store::DocumentRecord;
use crate::store::SameTitle;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/bots/{bot_id}/documents",
            get(list)
                .post(add)
                .layer(DefaultBodyLimit::max(document::MAX_BYTES)),
        )
        .route("/bots/{bot_id}/documents/from-url", post(from_url))
        .route("/bots/{bot_id}/documents/{doc_id}", delete(remove))
        .route("/bots/{bot_id}/search", get(search))
}

#[derive(Serialize)]
struct DocumentView {
    id: String,
    bot_id: String,
    title: String,
    format: String,
    chunks: i64,
    created_at: String,
}

impl From<DocumentRecord> for DocumentView {
    fn from(d: DocumentRecord) -> Self {
        DocumentView {
            id: d.id,
            bot_id: d.bot_id,
            title: d.title,
            format: d.format,
            chunks: d.chunks,
            created_at: rfc3339(d.created_at),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DocumentBody {
    pub title: String,
    pub content: String,
    pub format: Option<String>,
}

/// A document from either a JSON body or a multipart upload (`file`, optional `title`).
pub(crate) async fn read_document(request: Request, state: &AppState) -> ApiResult<DocumentBody> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let ApiJson(doc) = ApiJson::<DocumentBody>::from_request(request, state).await?;
        return Ok(doc);
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::new(Code::BadRequest, e.body_text()))?;
    let (mut title, mut file, mut format) = (None, None, None);
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("title") => title = Some(field.text().await.map_err(multipart_error)?),
            Some("format") => format = Some(field.text().await.map_err(multipart_error)?),
            Some("file") => {
                let name = field.file_name().unwrap_or("document.txt").to_owned();
                let bytes = field.bytes().await.map_err(multipart_error)?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let (name, bytes) = file.ok_or_else(|| ApiError::validation("file: is required"))?;
    let declared = format.as_deref().map(parse_format).transpose()?;
    // Off the async runtime: a long PDF takes a while to read.
    let (read_name, bytes) = (name.clone(), Vec::from(bytes));
    let (format, content) =
        tokio::task::spawn_blocking(move || document::read_file(&read_name, bytes, declared))
            .await
            .map_err(|_| ApiError::internal("a file could not be read"))??;
    let title = match title.filter(|t| !t.trim().is_empty()) {
        Some(title) => title,
        None => chunk::file_title(format, &name, &content),
    };
    Ok(DocumentBody {
        title,
        content,
        format: Some(format.as_str().to_owned()),
    })
}

fn parse_format(raw: &str) -> ApiResult<Format> {
    Format::parse(raw).ok_or_else(|| ApiError::validation("format: must be text, markdown or html"))
}

async fn add(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(bot_id): Path<String>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let bot = state.store.bot(caller.workspace_id(), &bot_id).await?;
    let doc = read_document(request, &state).await?;
    let record = store_document(&state, caller.workspace_id(), &bot.id, doc).await?;
    Ok((StatusCode::CREATED, Json(json!(DocumentView::from(record)))))
}

/// Checks a document, cuts it into passages and stores it in the bot's knowledge base.
pub(crate) async fn store_document(
    state: &AppState,
    workspace_id: &str,
    bot_id: &str,
    doc: DocumentBody,
) -> ApiResult<DocumentRecord> {
    let format = match doc.format.as_deref() {
        None => Format::Text,
        Some(raw) => parse_format(raw)?,
    };
    let prepared = document::prepare(&doc.title, doc.content, format)?;
    Ok(state
        .store
        .add_document(
            workspace_id,
            bot_id,
            prepared.record(),
            state.clock.now_ms(),
        )
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UrlBody {
    pub url: String,
    /// Instead of the page's first heading (else its `<title>`).
    pub title: Option<String>,
}

/// `POST /api/v1/bots/{bot_id}/documents/from-url {url, title?}`: one web page as a document
/// (its content without the site around it, as `baton kb import` reads a site); a document
/// of the same title is replaced, so adding the page again refreshes it.
async fn from_url(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(bot_id): Path<String>,
    ApiJson(body): ApiJson<UrlBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (record, replaced, url) = add_page(&state, caller.workspace_id(), &bot_id, body).await?;
    let mut view = json!(DocumentView::from(record));
    view["url"] = json!(url);
    view["replaced"] = json!(replaced);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Reads a web page a workspace names and stores it in its bot's knowledge base; answers the
/// document, how many it replaced and the address it was read from. The address is reached
/// as the instance allows a workspace's addresses (`BATON_WEBHOOKS_ALLOW_LOCAL`).
pub(crate) async fn add_page(
    state: &AppState,
    workspace_id: &str,
    bot_id: &str,
    body: UrlBody,
) -> ApiResult<(DocumentRecord, u64, String)> {
    let bot = state.store.bot(workspace_id, bot_id).await?;
    let url = url::Url::parse(body.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| ApiError::validation("url: must be an http:// or https:// address"))?;
    let allow_local = state.config.webhooks_allow_local;
    if let Some(ip) = literal_local_address(&url).filter(|_| !allow_local) {
        let refusal = crate::domain::webhook::local_refusal(&ip.to_string());
        return Err(ApiError::validation(format!("url: {refusal}")));
    }
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 5 {
            attempt.error("too many redirects")
        } else if !allow_local && literal_local_address(attempt.url()).is_some() {
            let address = attempt.url().host_str().unwrap_or_default().to_owned();
            attempt.error(crate::webhooks::LocalOnly(address))
        } else {
            attempt.follow()
        }
    });
    let client = crate::webhooks::public_only(site::client().redirect(redirects), allow_local)
        .build()
        .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
    let page = site::read_page(&client, url.clone())
        .await
        .map_err(|why| ApiError::new(Code::PageUnreadable, format!("{url} was not read: {why}")))?;
    let title = body
        .title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(page.title);
    let prepared = document::prepare(&title, page.html, Format::Html)?;
    let (record, replaced) = state
        .store
        .put_document(
            workspace_id,
            &bot.id,
            prepared.record(),
            SameTitle::Replace,
            state.clock.now_ms(),
        )
        .await?;
    Ok((record, replaced, page.url.to_string()))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(bot_id): Path<String>,
) -> ApiResult<Json<Vec<DocumentView>>> {
    let bot = state.store.bot(caller.workspace_id(), &bot_id).await?;
    let docs = state
        .store
        .list_documents(caller.workspace_id(), &bot.id)
        .await?;
    Ok(Json(docs.into_iter().map(DocumentView::from).collect()))
}

async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((bot_id, doc_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_document(caller.workspace_id(), &bot_id, &doc_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    limit: Option<usize>,
}

/// Ranked passages with their scores, and whether the bot would answer from the best one.
async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Path(bot_id): Path<String>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let bot = state.store.bot(caller.workspace_id(), &bot_id).await?;
    let q = BotText::parse("q", &query.q)?.into_inner();
    let hits = state
        .knowledge
        .search(
            &state.store,
            &bot.id,
            &q,
            query.limit.unwrap_or(5).clamp(1, 50),
        )
        .await
        .map_err(ApiError::internal)?;
    let threshold = bot.relevance_threshold();
    Ok(Json(json!({
        "query": q,
        "threshold": decimal(threshold),
        "answerable": hits.first().is_some_and(|h| h.relevance >= threshold),
        "results": hits.iter().map(|h| json!({
            "document_id": h.document_id,
            "chunk_id": h.chunk_id,
            "title": h.title,
            "heading": h.heading,
            "text": h.body,
            "score": decimal(h.score),
            "relevance": decimal(h.relevance),
        })).collect::<Vec<_>>(),
    })))
}

/// An `f32` as the shortest decimal that reads back as it (0.99, not 0.9900000095367432, which
/// is what widening it to the JSON number's `f64` would show).
fn decimal(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}
