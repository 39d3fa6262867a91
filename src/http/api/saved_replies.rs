//! Saved replies: the team's ready answers, inserted in a handoff's reply box by typing `/`
//! and a shortcut. Everyone in the workspace reads them; admins write them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::domain::clock::rfc3339;
use crate::domain::{MessageText, Shortcut};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, ApiJson, Caller};
use crate::state::AppState;
use crate::store::SavedReplyRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/saved-replies", get(list).post(add))
        .route("/saved-replies/{id}", patch(change).delete(remove))
}

#[derive(Serialize)]
pub(crate) struct SavedReplyView {
    pub id: String,
    pub shortcut: String,
    pub text: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<SavedReplyRecord> for SavedReplyView {
    fn from(reply: SavedReplyRecord) -> Self {
        SavedReplyView {
            id: reply.id,
            shortcut: reply.shortcut,
            text: reply.text,
            created_by: reply.created_by,
            created_at: rfc3339(reply.created_at),
            updated_at: rfc3339(reply.updated_at),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSavedReply {
    pub shortcut: String,
    pub text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedReplyPatch {
    shortcut: Option<String>,
    text: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SavedReplyView>>> {
    let replies = state.store.saved_replies(caller.workspace_id()).await?;
    Ok(Json(
        replies.into_iter().map(SavedReplyView::from).collect(),
    ))
}

async fn add(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<NewSavedReply>,
) -> ApiResult<(StatusCode, Json<SavedReplyView>)> {
    let reply = add_saved_reply(&state, &caller, body).await?;
    Ok((StatusCode::CREATED, Json(reply)))
}

/// Adds a saved reply for the caller's workspace, as the API and the dashboard take it.
pub(crate) async fn add_saved_reply(
    state: &AppState,
    caller: &Caller,
    body: NewSavedReply,
) -> ApiResult<SavedReplyView> {
    let shortcut = Shortcut::parse(&body.shortcut)?;
    let text = MessageText::parse(&body.text)?;
    let reply = state
        .store
        .add_saved_reply(
            caller.workspace_id(),
            &caller.user.id,
            &shortcut,
            &text,
            state.clock.now_ms(),
        )
        .await?;
    Ok(reply.into())
}

async fn change(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SavedReplyPatch>,
) -> ApiResult<Json<SavedReplyView>> {
    if body.shortcut.is_none() && body.text.is_none() {
        return Err(ApiError::validation("give a shortcut, a text or both"));
    }
    let shortcut = body.shortcut.as_deref().map(Shortcut::parse).transpose()?;
    let text = body.text.as_deref().map(MessageText::parse).transpose()?;
    let reply = state
        .store
        .change_saved_reply(
            caller.workspace_id(),
            &id,
            shortcut.as_ref(),
            text.as_ref(),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Json(reply.into()))
}

async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_saved_reply(caller.workspace_id(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
