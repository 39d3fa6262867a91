//! Handoffs for agents: list, read with the whole history, claim, reply, release, resolve.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::MessageText;
use crate::domain::handoff::{Action, Actor, Refusal, Status};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, Caller};
use crate::state::AppState;
use crate::store::{HandoffFilter, NewMessage, StoreError};
use crate::views::{HandoffView, MessageView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/handoffs", get(list))
        .route("/handoffs/counts", get(counts))
        .route("/handoffs/{id}", get(read))
        .route("/handoffs/{id}/claim", post(claim))
        .route("/handoffs/{id}/release", post(release))
        .route("/handoffs/{id}/resolve", post(resolve))
        .route("/handoffs/{id}/messages", post(reply))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    bot_id: Option<String>,
    /// `newest` (default) or `oldest`.
    order: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<HandoffView>>> {
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(Status::parse(raw).ok_or_else(|| {
            ApiError::validation("status: must be pending, in_progress or resolved")
        })?),
    };
    let filter = HandoffFilter {
        status,
        bot_id: query.bot_id,
        oldest_first: query.order.as_deref() == Some("oldest"),
        limit: query.limit.unwrap_or(100).clamp(1, 500),
    };
    let handoffs = state
        .store
        .list_handoffs(caller.workspace_id(), &filter)
        .await?;
    Ok(Json(handoffs.iter().map(HandoffView::from).collect()))
}

async fn counts(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let (pending, in_progress, resolved) =
        state.store.handoff_counts(caller.workspace_id()).await?;
    Ok(Json(
        json!({"pending": pending, "in_progress": in_progress, "resolved": resolved}),
    ))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let handoff = state.store.handoff(caller.workspace_id(), &id).await?;
    let messages = state
        .store
        .messages_after(&handoff.conversation_id, 0, 10_000)
        .await?;
    let mut body = json!(HandoffView::from(&handoff));
    body["messages"] = json!(messages.iter().map(MessageView::from).collect::<Vec<_>>());
    Ok(Json(body))
}

/// Runs one state-machine action for the caller.
async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<Json<HandoffView>> {
    let actor = Actor {
        user_id: &caller.user.id,
        is_admin: caller.is_admin(),
    };
    let now = state.clock.now_ms();
    let handoff = state
        .store
        .act_on_handoff(
            caller.workspace_id(),
            id,
            actor,
            &caller.user.name,
            action,
            now,
        )
        .await;
    match handoff {
        Ok(handoff) => Ok(Json(HandoffView::from(&handoff))),
        Err(err) => Err(name_holder(state, caller, err).await),
    }
}

/// A refusal that names a holder says who, by name, so the agent knows whom to ask.
async fn name_holder(state: &AppState, caller: &Caller, err: StoreError) -> ApiError {
    let holder = match &err {
        StoreError::Refused(Refusal::AlreadyClaimed { holder } | Refusal::NotHolder { holder }) => {
            Some(holder.clone())
        }
        _ => None,
    };
    let mut api_error = ApiError::from(err);
    if let Some(holder) = holder
        && let Ok(user) = state.store.user(caller.workspace_id(), &holder).await
    {
        let who = if user.id == caller.user.id {
            "you".to_owned()
        } else {
            user.name.clone()
        };
        api_error.message = format!("{} (held by {who})", api_error.message);
        api_error = api_error.with_details(json!({"holder": {"id": user.id, "name": user.name}}));
    }
    api_error
}

async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoffView>> {
    act(&state, &caller, &id, Action::Claim).await
}

async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoffView>> {
    act(&state, &caller, &id, Action::Release).await
}

async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoffView>> {
    act(&state, &caller, &id, Action::Resolve).await
}

#[derive(Deserialize)]
struct ReplyBody {
    text: String,
}

/// Stores the agent's reply, then it is delivered on the customer's channel; the response
/// carries the message with its delivery status.
async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let text = MessageText::parse(&body.text)?;
    let actor = Actor {
        user_id: &caller.user.id,
        is_admin: caller.is_admin(),
    };
    let message = NewMessage {
        user_id: Some(&caller.user.id),
        delivery_status: Some("sent"),
        ..NewMessage::text("agent", &caller.user.name, text.as_str())
    };
    let stored = state
        .store
        .add_agent_message(
            caller.workspace_id(),
            &id,
            actor,
            message,
            state.clock.now_ms(),
        )
        .await;
    match stored {
        Ok((_, message)) => Ok((StatusCode::CREATED, Json(MessageView::from(&message)))),
        Err(err) => Err(name_holder(&state, &caller, err).await),
    }
}
