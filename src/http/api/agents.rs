//! The people of a workspace: admins add agents and other admins.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

use super::UserView;
use crate::accounts;
use crate::domain::{Email, Name, Password, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, ApiJson, Caller};
use crate::state::AppState;
use crate::store::{NewUser, UserRecord};

pub fn router() -> axum::Router<AppState> {
    Router::new().route("/agents", post(create).get(list))
}

/// A person to add, from the API's JSON or the dashboard's form.
#[derive(Deserialize)]
pub(crate) struct NewAgent {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: String,
}

async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<NewAgent>,
) -> ApiResult<(StatusCode, axum::Json<UserView>)> {
    let user = add_member(&state, caller.workspace_id(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(UserView::from(&user))))
}

/// Adds an agent or admin to the workspace; never another owner.
pub(crate) async fn add_member(
    state: &AppState,
    workspace_id: &str,
    body: NewAgent,
) -> ApiResult<UserRecord> {
    let email = Email::parse(&body.email)?;
    let name = Name::parse("name", &body.name)?;
    let password = Password::parse(&body.password)?;
    let role = match Role::parse(&body.role)? {
        Role::Owner => return Err(ApiError::validation("role: must be \"admin\" or \"agent\"")),
        role => role,
    };
    let hash = accounts::hash(password).await;
    let user = NewUser {
        email: &email,
        name: &name,
        password_hash: &hash,
        role,
    };
    Ok(state
        .store
        .create_user(workspace_id, user, state.clock.now_ms())
        .await?)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<UserView>>> {
    let users = state.store.list_users(caller.workspace_id()).await?;
    Ok(axum::Json(users.iter().map(UserView::from).collect()))
}
