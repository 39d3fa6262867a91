//! `GET /api/v1/events?after=<seq>`: the workspace's events over WebSocket, resumable.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::http::extract::{ApiQuery, Caller, WsUpgrade};
use crate::realtime::{self, Feed};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(after): ApiQuery<After>,
    WsUpgrade(ws): WsUpgrade,
) -> ApiResult<Response> {
    let feed = Feed::Workspace {
        workspace_id: caller.user.workspace_id,
        user_id: caller.user.id,
        credential: caller.credential,
    };
    realtime::upgrade(ws, state, feed, after.after)
}
