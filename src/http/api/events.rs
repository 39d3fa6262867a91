//! `GET /api/v1/events?after=<seq>`: the workspace's events over WebSocket, resumable.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Caller, WsUpgrade, id_shaped};
use crate::realtime::{self, Feed};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
    /// A conversation whose customer's typing to show (`{"type": "typing", "author":
    /// "customer", …}`, with no `seq`): only for clients that ask.
    typing: Option<String>,
}

async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(after): ApiQuery<After>,
    WsUpgrade(ws): WsUpgrade,
) -> ApiResult<Response> {
    // Kept for the socket's life and compared with every notice: an id, nothing bigger.
    if let Some(id) = &after.typing {
        if !id_shaped(id) {
            return Err(ApiError::validation(
                "typing: must be a conversation id (at most 64 letters, digits, '_' or '-')",
            ));
        }
    }
    let feed = Feed::Workspace {
        workspace_id: caller.user.workspace_id,
        user_id: caller.user.id,
        credential: caller.credential,
        typing_in: after.typing,
    };
    realtime::upgrade(ws, state, feed, after.after)
}
