//! `/widget/v1`: the public API the chat widget talks to from a business's site. A visitor is
//! known only by their signed token and reaches only their own conversation.

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};

use crate::auth::{self, Visitor};
use crate::conversation::{self, may_hand_off};
use crate::domain::upload;
use crate::domain::{MessageText, rating};
use crate::error::{ApiError, ApiResult, Code};
use crate::http::api::attachments::file_response;
use crate::http::api::bots::{DEFAULT_GREETING, GREETING_WITHOUT_HANDOFF};
use crate::http::extract::{
    ApiJson, ApiQuery, ClientAddr, FileUpload, WsUpgrade, bearer, id_shaped,
};
use crate::realtime::{self, Feed};
use crate::state::AppState;
use crate::store::{BotRecord, ConversationRecord, MessageRecord, NewMessage, RatingState};
use crate::views::messages_with_attachments;

/// The most a visitor's files in one handoff may weigh together.
pub const HANDOFF_FILE_BYTES: i64 = 50_000_000;

/// The name of a visitor the site did not name.
pub const ANONYMOUS_NAME: &str = "Website visitor";

pub fn router() -> Router<AppState> {
    // The widget runs on other sites; it authenticates with a bearer token, never cookies.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER]);
    Router::new()
        .route("/widget/v1/sessions", post(start_session))
        .route("/widget/v1/messages", post(send).get(history))
        .route(
            "/widget/v1/attachments",
            post(send_file).layer(DefaultBodyLimit::max(upload::MAX_BYTES + 64 * 1024)),
        )
        .route("/widget/v1/attachments/{id}", get(file))
        .route("/widget/v1/ratings", post(rate))
        .route("/widget/v1/typing", post(typing))
        .route("/widget/v1/stream", get(stream))
        .layer(cors)
}

/// A visitor proved by the `Authorization: Bearer <visitor token>` header.
pub struct VisitorAuth(pub Visitor);

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(bearer)
            .ok_or_else(|| {
                ApiError::new(
                    Code::AuthenticationRequired,
                    "send the visitor token as a bearer token",
                )
            })?;
        verified(state, token).map(VisitorAuth)
    }
}

fn verified(state: &AppState, token: &str) -> ApiResult<Visitor> {
    auth::verify_visitor(&state.secret_key, token.trim())
        .ok_or_else(|| ApiError::new(Code::AuthenticationRequired, "invalid visitor token"))
}

async fn visitor_conversation(
    state: &AppState,
    visitor: &Visitor,
) -> ApiResult<ConversationRecord> {
    Ok(state
        .store
        .conversation(&visitor.workspace_id, &visitor.conversation_id)
        .await?)
}

#[derive(Deserialize)]
struct SessionBody {
    widget_key: String,
    visitor_token: Option<String>,
    /// A name the site knows the visitor by, if any.
    name: Option<String>,
}

/// Starts a visitor's session, or resumes it when their token is still good for this bot.
async fn start_session(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<SessionBody>,
) -> ApiResult<Json<Value>> {
    let bot = state
        .store
        .bot_by_widget_key(body.widget_key.trim())
        .await
        .map_err(|_| ApiError::not_found("widget"))?;
    let returning = body
        .visitor_token
        .as_deref()
        .and_then(|token| auth::verify_visitor(&state.secret_key, token))
        .filter(|visitor| visitor.bot_id == bot.id);
    // A token whose conversation the business erased starts afresh, as a new visitor.
    let returning = match returning {
        Some(visitor) => match visitor_conversation(&state, &visitor).await {
            Ok(conversation) => Some((visitor, conversation)),
            Err(err) if err.code == Code::NotFound => None,
            Err(err) => return Err(err),
        },
        None => None,
    };
    let (visitor, conversation) = match returning {
        Some(found) => found,
        None => {
            // Each new visitor is a contact and a conversation in the database.
            state
                .limits
                .widget_sessions
                .check(&client)
                .map_err(|wait| {
                    ApiError::rate_limited(
                        "too many new chats from this address: try again later",
                        wait,
                    )
                })?;
            let now = state.clock.now_ms();
            let external_id = crate::domain::new_id("visitor");
            let name = body
                .name
                .as_deref()
                .and_then(|n| crate::domain::Name::parse("name", n).ok())
                .map_or_else(|| ANONYMOUS_NAME.to_owned(), |n| n.into_inner());
            let contact = state
                .store
                .upsert_contact(&bot.workspace_id, "widget", &external_id, &name, None, now)
                .await?;
            let conversation = state
                .store
                .conversation_for(&contact, &bot.id, None, now)
                .await?;
            let visitor = Visitor {
                workspace_id: bot.workspace_id.clone(),
                bot_id: bot.id.clone(),
                contact_id: contact.id,
                conversation_id: conversation.id.clone(),
            };
            (visitor, conversation)
        }
    };
    // The open handoff, as the customer may see it: its status and who is helping.
    let handoff = match &conversation.active_handoff_id {
        Some(id) => {
            let h = state.store.handoff(&visitor.workspace_id, id).await?;
            json!({"status": h.status, "agent_name": h.claimed_by_name})
        }
        None => Value::Null,
    };
    let may_hand_off = may_hand_off(&state, &bot.id).await?;
    Ok(Json(json!({
        "visitor_token": auth::sign_visitor(&state.secret_key, &visitor),
        "conversation_id": visitor.conversation_id,
        "bot": {"name": bot.name, "greeting": greeting(&bot, may_hand_off)},
        "handoff": handoff,
        "team": if may_hand_off { team(&state, &bot.workspace_id).await? } else { Value::Null },
    })))
}

/// The team's current or next time away, for the window to say so while a customer waits for a
/// person (`away_from <= now < back_at`, with the server's `now` to correct the visitor's
/// clock); `null` when business hours are off or the team never leaves.
async fn team(state: &AppState, workspace_id: &str) -> ApiResult<Value> {
    let hours = state.store.business_hours(workspace_id).await?;
    let now = state.clock.now_ms();
    Ok(hours
        .schedule()
        .and_then(|schedule| schedule.outlook(now).away)
        .map_or(
            Value::Null,
            |(from, back_at)| json!({"away_from": from, "back_at": back_at, "now": now}),
        ))
}

/// The greeting the chat window opens with. The default one offers a person, which only a
/// bot that may hand off can keep (SPEC: a bot without the tool never pretends an agent is
/// coming); a greeting the admin wrote is shown as written.
fn greeting(bot: &BotRecord, may_hand_off: bool) -> &str {
    if bot.greeting == DEFAULT_GREETING && !may_hand_off {
        GREETING_WITHOUT_HANDOFF
    } else {
        &bot.greeting
    }
}

#[derive(Deserialize)]
struct SendBody {
    text: String,
    /// Chosen by the widget per message and sent again with a retry, so a message whose
    /// answer was lost on the way back is not stored (and answered) twice.
    client_id: Option<String>,
}

/// Stores the visitor's message; the 201 means it is durable. The bot answers on the stream.
/// A retry with the same `client_id` answers 200 with the message already stored. A visitor
/// sending faster than `BATON_WIDGET_MESSAGES_PER_MINUTE` (or an address sending ten times
/// that, from all its visitors) gets 429, and nothing is stored.
async fn send(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    VisitorAuth(visitor): VisitorAuth,
    ApiJson(body): ApiJson<SendBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // Before anything is stored: each message may cost a model call.
    not_too_fast(&state, &visitor, &client)?;
    let text = MessageText::parse(&body.text)?;
    let message = NewMessage::text("customer", "", text.as_str());
    receive(&state, &visitor, message, body.client_id.as_deref()).await
}

#[derive(Deserialize)]
struct FileQuery {
    client_id: Option<String>,
}

/// `POST /widget/v1/attachments`: the visitor sends a picture or a PDF (multipart: `file`,
/// optional `client_id`), stored with its message as one; answered like a message (201, or
/// 200 for a retry). Only while a handoff is open (a person looks at files, the bot reads
/// text: 409 otherwise), counted against the visitor's message rate — both checked before the
/// body is read —, and at most [`HANDOFF_FILE_BYTES`] of the visitor's files in one handoff
/// (413 past it). A `client_id` in the query (as the widget sends it) is looked up first: the
/// retry of a file whose answer was lost is answered 200 even after the handoff closed or the
/// budget filled up.
async fn send_file(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    VisitorAuth(visitor): VisitorAuth,
    ApiQuery(query): ApiQuery<FileQuery>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    not_too_fast(&state, &visitor, &client)?;
    let conversation = visitor_conversation(&state, &visitor).await?;
    if let Some(client_id) = query
        .client_id
        .as_deref()
        .map(parse_client_id)
        .transpose()?
    {
        let first = state
            .store
            .message_with_external_id(&conversation.id, client_id)
            .await?;
        if let Some(first) = first {
            let FileUpload { upload, client_id } =
                FileUpload::from_request(request, &state).await?;
            one_client_id(query.client_id, client_id)?;
            return repeated(&state, &visitor, first, &upload.message_text()).await;
        }
    }
    let Some(handoff_id) = &conversation.active_handoff_id else {
        return Err(ApiError::new(
            Code::Conflict,
            "files are for a person from the team: ask for one first",
        ));
    };
    let handoff = state
        .store
        .handoff(&visitor.workspace_id, handoff_id)
        .await?;
    let held = state
        .store
        .customer_file_bytes(&visitor.workspace_id, &conversation.id, handoff.created_at)
        .await?;
    let too_much = || {
        ApiError::new(
            Code::PayloadTooLarge,
            format!(
                "you can send the team at most {} MB of files at a time",
                HANDOFF_FILE_BYTES / 1_000_000
            ),
        )
    };
    if held >= HANDOFF_FILE_BYTES {
        return Err(too_much());
    }
    let FileUpload { upload, client_id } = FileUpload::from_request(request, &state).await?;
    let client_id = one_client_id(query.client_id, client_id)?;
    if held + upload.bytes.len() as i64 > HANDOFF_FILE_BYTES {
        return Err(too_much());
    }
    let text = upload.message_text();
    let message = NewMessage {
        kind: upload.kind,
        file: Some(&upload),
        ..NewMessage::text("customer", "", &text)
    };
    receive(&state, &visitor, message, client_id.as_deref()).await
}

/// The retry id of a file, from the query or the form (both only if they agree).
fn one_client_id(query: Option<String>, form: Option<String>) -> ApiResult<Option<String>> {
    match (query, form) {
        (Some(query), Some(form)) if query != form => Err(ApiError::validation(
            "client_id: the query and the form give two different ids",
        )),
        (query, form) => Ok(query.or(form)),
    }
}

/// A visitor sending faster than `BATON_WIDGET_MESSAGES_PER_MINUTE` (or an address sending ten
/// times that, from all its visitors) gets 429, and nothing is stored.
fn not_too_fast(state: &AppState, visitor: &Visitor, client: &str) -> ApiResult<()> {
    let limits = &state.limits;
    limits
        .widget_messages
        .check(&visitor.conversation_id)
        .and_then(|()| limits.widget_messages_per_address.check(client))
        .map_err(|wait| {
            let seconds = crate::throttle::whole_seconds(wait);
            ApiError::rate_limited(
                format!("you are sending messages too fast: wait {seconds} s and send again"),
                wait,
            )
        })
}

/// Stores the visitor's message under their name, once per `client_id`: a repeat answers 200
/// with the message stored first (a client id used for another message is a 409).
async fn receive(
    state: &AppState,
    visitor: &Visitor,
    message: NewMessage<'_>,
    client_id: Option<&str>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let client_id = client_id.map(parse_client_id).transpose()?;
    let conversation = visitor_conversation(state, visitor).await?;
    let contact = state
        .store
        .contact(&visitor.workspace_id, &visitor.contact_id)
        .await?;
    let text = message.text;
    let message = NewMessage {
        author_name: &contact.name,
        external_id: client_id,
        ..message
    };
    match conversation::receive(state, &conversation, message).await? {
        Some(stored) => answer(state, visitor, StatusCode::CREATED, stored.message).await,
        None => {
            // Only a message with a client id can be a repeat.
            let client_id = client_id.unwrap_or_default();
            let first = state
                .store
                .message_with_external_id(&conversation.id, client_id)
                .await?
                .ok_or_else(|| ApiError::internal("a repeated message could not be found"))?;
            repeated(state, visitor, first, text).await
        }
    }
}

/// The answer to a repeat of a stored message: 200 with it, if it is the same message (a
/// client id used for another message is a 409).
async fn repeated(
    state: &AppState,
    visitor: &Visitor,
    first: MessageRecord,
    text: &str,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if first.text != text {
        return Err(ApiError::new(
            Code::Conflict,
            "client_id was already used for another message",
        ));
    }
    answer(state, visitor, StatusCode::OK, first).await
}

/// A stored message as the widget sees it, with its file if it has one.
async fn answer(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    message: MessageRecord,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let attachments = if message.kind == "text" {
        Vec::new()
    } else {
        state
            .store
            .attachments_of(&visitor.workspace_id, &visitor.conversation_id)
            .await?
    };
    let views = messages_with_attachments(std::slice::from_ref(&message), &attachments);
    Ok((status, Json(realtime::visitor_message(&json!(views[0])))))
}

/// `GET /widget/v1/attachments/{id}`: a file of the visitor's own conversation (theirs or an
/// agent's); any other id is not found.
async fn file(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (attachment, content) = state
        .store
        .attachment_content(&visitor.workspace_id, &id)
        .await?;
    if attachment.conversation_id != visitor.conversation_id {
        return Err(ApiError::not_found("attachment"));
    }
    // Not kept in the visitor's browser: an erased chat's files go with it.
    let mut response = file_response(&attachment, content)?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn parse_client_id(id: &str) -> ApiResult<&str> {
    if id_shaped(id) {
        Ok(id)
    } else {
        Err(ApiError::validation(
            "client_id: must be 1 to 64 letters, digits, '-' or '_'",
        ))
    }
}

#[derive(Deserialize)]
struct AfterQuery {
    #[serde(default)]
    after: i64,
    token: Option<String>,
}

/// The visitor's messages after `after`; agent messages fetched here count as delivered.
async fn history(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
    ApiQuery(query): ApiQuery<AfterQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let messages = state
        .store
        .messages_after(&visitor.conversation_id, query.after, 500)
        .await?;
    if messages.is_empty() {
        // Nothing new, or nothing at all: a conversation that was erased is not found.
        visitor_conversation(&state, &visitor).await?;
    }
    let attachments = if messages.iter().any(|m| m.kind != "text") {
        state
            .store
            .attachments_of(&visitor.workspace_id, &visitor.conversation_id)
            .await?
    } else {
        Vec::new()
    };
    let undelivered: Vec<String> = messages
        .iter()
        .filter(|m| m.author == "agent" && m.delivery_status.as_deref() == Some("sent"))
        .map(|m| m.id.clone())
        .collect();
    state
        .store
        .mark_delivered(&visitor.workspace_id, &undelivered, state.clock.now_ms())
        .await?;
    let ratings = if messages.iter().any(|m| m.kind == rating::REQUEST_KIND) {
        state
            .store
            .ratings_of(&visitor.workspace_id, &visitor.conversation_id)
            .await?
    } else {
        Vec::new()
    };
    let now = state.clock.now_ms();
    let views = messages_with_attachments(&messages, &attachments);
    Ok(Json(
        messages
            .iter()
            .zip(views)
            .map(|(m, view)| {
                let mut view = realtime::visitor_message(&json!(view));
                if let Some(asked) = ratings.iter().find(|r| r.message_id == m.id) {
                    view["rating"] = rating_view(asked, now);
                }
                view
            })
            .collect(),
    ))
}

/// Where a rating request stands for the chat window: its answer, and whether it still
/// takes one.
fn rating_view(asked: &RatingState, now: i64) -> Value {
    json!({
        "score": asked.score,
        "comment": asked.comment,
        "open": rating::is_open(asked.requested_at, now),
    })
}

#[derive(Deserialize)]
struct RateBody {
    /// The message that asked.
    message_id: String,
    score: String,
    comment: Option<String>,
}

/// The visitor rates the help they got, answering a rating request in their conversation;
/// they may change it, and add a comment, while the request is open. Each change is an event
/// (and a webhook delivery), so changes count against the visitor's message rate.
async fn rate(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
    ApiJson(body): ApiJson<RateBody>,
) -> ApiResult<Json<Value>> {
    state
        .limits
        .widget_messages
        .check(&visitor.conversation_id)
        .map_err(|wait| {
            ApiError::rate_limited("you are rating too fast: try again in a moment", wait)
        })?;
    let score = rating::Score::parse(&body.score)?;
    let comment = body
        .comment
        .as_deref()
        .map(rating::parse_comment)
        .transpose()?
        .flatten();
    let handoff = state
        .store
        .rate(
            &visitor.workspace_id,
            &visitor.conversation_id,
            body.message_id.trim(),
            score,
            comment.as_deref(),
            None,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Json(json!({
        "message_id": handoff.rating_message_id,
        "score": handoff.rating_score,
        "comment": handoff.rating_comment,
    })))
}

/// The visitor is typing: shown to the team on the handoff's page while a handoff is open
/// (nothing otherwise), never what they type. 204 either way; one every two seconds per chat
/// is shown, and more often costs no database read.
async fn typing(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
) -> ApiResult<StatusCode> {
    if state
        .limits
        .customer_typing
        .check(&visitor.conversation_id)
        .is_ok()
    {
        let conversation = visitor_conversation(&state, &visitor).await?;
        crate::channels::typing::show_customer(&state, &conversation).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The visitor's live stream; the token rides in the query, as browsers cannot set headers on
/// a WebSocket.
async fn stream(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AfterQuery>,
    WsUpgrade(ws): WsUpgrade,
) -> ApiResult<Response> {
    let token = query
        .token
        .as_deref()
        .ok_or_else(|| ApiError::new(Code::AuthenticationRequired, "token is required"))?;
    let visitor = verified(&state, token)?;
    // A conversation erased since is not refused here (a browser cannot read why a
    // WebSocket was refused): the stream says so, and the chat window starts afresh.
    let feed = Feed::Visitor {
        workspace_id: visitor.workspace_id,
        conversation_id: visitor.conversation_id,
    };
    realtime::upgrade(ws, state, feed, query.after)
}
