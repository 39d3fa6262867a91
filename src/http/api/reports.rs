//! `GET /api/v1/reports` (admins): how the bot and the team did over a span of time.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, ApiQuery};
use crate::reports::{self, Report};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/reports", get(report))
}

/// The span and bot a report is asked for, as the API and the dashboard take them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    /// A date (`2026-11-01`, UTC) or an RFC 3339 time; default `days` before `to`.
    pub from: Option<String>,
    /// A date (its whole day counts) or an RFC 3339 time; default now.
    pub to: Option<String>,
    pub days: Option<i64>,
    pub bot_id: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Json<Report>> {
    Ok(Json(
        report_for(&state, caller.workspace_id(), query).await?,
    ))
}

/// The workspace's report for `query`: a span that makes no sense is a validation error, and
/// a bot of another workspace is not found.
pub(crate) async fn report_for(
    state: &AppState,
    workspace_id: &str,
    query: ReportQuery,
) -> ApiResult<Report> {
    let bot_id = query.bot_id.filter(|b| !b.is_empty());
    if let Some(bot_id) = &bot_id {
        state.store.bot(workspace_id, bot_id).await?;
    }
    let span = reports::span(
        query.from.as_deref(),
        query.to.as_deref(),
        query.days,
        bot_id,
        state.clock.now_ms(),
    )
    .map_err(ApiError::validation)?;
    Ok(reports::build(&state.store, workspace_id, &span).await?)
}
