//! The tool catalogue, and installing tools into the workspace.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, Caller};
use crate::marketplace::{self, Tool};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new().route("/marketplace", get(list)).route(
        "/marketplace/{slug}/install",
        post(install).delete(uninstall),
    )
}

#[derive(Serialize)]
struct ToolView {
    #[serde(flatten)]
    tool: Tool,
    installed: bool,
}

async fn catalogue(state: &AppState, workspace_id: &str) -> ApiResult<Vec<ToolView>> {
    let installed = state.store.installed_tools(workspace_id).await?;
    Ok(marketplace::CATALOGUE
        .iter()
        .map(|tool| ToolView {
            tool: *tool,
            installed: installed.iter().any(|slug| slug == tool.slug),
        })
        .collect())
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<ToolView>>> {
    Ok(axum::Json(catalogue(&state, caller.workspace_id()).await?))
}

async fn install(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<ToolView>> {
    let tool = marketplace::find(&slug).ok_or_else(|| ApiError::not_found("tool"))?;
    state
        .store
        .install_tool(caller.workspace_id(), tool.slug, state.clock.now_ms())
        .await?;
    Ok(axum::Json(ToolView {
        tool: *tool,
        installed: true,
    }))
}

/// Uninstalling also switches the tool off on every bot of the workspace.
async fn uninstall(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<ToolView>> {
    let tool = marketplace::find(&slug).ok_or_else(|| ApiError::not_found("tool"))?;
    state
        .store
        .uninstall_tool(caller.workspace_id(), tool.slug)
        .await?;
    Ok(axum::Json(ToolView {
        tool: *tool,
        installed: false,
    }))
}
