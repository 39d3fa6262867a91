//! More workspaces on one installation, each with its own owner and data.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::UserView;
use crate::accounts;
use crate::domain::{Email, Name, Password};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, Caller};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new().route("/workspaces", post(create))
}

#[derive(Deserialize)]
struct NewWorkspace {
    name: String,
    owner: NewOwner,
}

#[derive(Deserialize)]
struct NewOwner {
    email: String,
    name: String,
    password: String,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewWorkspace>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    if !caller.user.is_instance_owner() {
        return Err(ApiError::forbidden(
            "only the owner of this Baton installation can create workspaces",
        ));
    }
    let (workspace, owner) = accounts::create_workspace(
        &state.store,
        &state.clock,
        Name::parse("name", &body.name)?,
        Email::parse(&body.owner.email)?,
        Name::parse("owner.name", &body.owner.name)?,
        Password::parse(&body.owner.password)?,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": workspace.id,
            "name": workspace.name,
            "owner": UserView::from(&owner),
        })),
    ))
}
