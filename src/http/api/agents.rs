//! The people of a workspace: admins add agents and other admins.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use serde::Deserialize;

use super::UserView;
use crate::accounts;
use crate::domain::{Email, Name, Password, Role};
use crate::error::{ApiError, ApiResult, Code};
use crate::http::extract::{Admin, ApiJson, Caller};
use crate::state::AppState;
use crate::store::{NewUser, UserRecord};

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/agents", post(create).get(list))
        .route("/agents/{id}", delete(remove))
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
        must_change_password: false,
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
    let views = users.iter().map(|user| {
        let mut view = UserView::from(user);
        // A colleague's personal number is for admins (who set up notifications) only.
        if !caller.is_admin() && user.id != caller.user.id {
            view.whatsapp_number = None;
        }
        view
    });
    Ok(axum::Json(views.collect()))
}

async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    remove_member(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an agent or admin (never the owner, never oneself); the handoffs they held go back
/// to the queue. Answers how many went back.
pub(crate) async fn remove_member(state: &AppState, caller: &Caller, id: &str) -> ApiResult<usize> {
    let user = state.store.user(caller.workspace_id(), id).await?;
    if user.id == caller.user.id {
        return Err(ApiError::new(Code::Conflict, "you cannot remove yourself"));
    }
    if user.role() == Role::Owner {
        return Err(ApiError::forbidden(
            "the workspace's owner cannot be removed",
        ));
    }
    let released = state
        .store
        .remove_user(
            caller.workspace_id(),
            &user.id,
            crate::store::Member {
                user_id: &caller.user.id,
                name: &caller.user.name,
            },
            state.clock.now_ms(),
        )
        .await?;
    tracing::info!(user_id = %user.id, released = released.len(), "member removed");
    // Their customers' notes ("… left the conversation") are on their way on WhatsApp, and
    // their handoffs, back in the queue, to whoever automatic assignment gives them.
    state.outbox_wake.notify_one();
    state.assign_wake.notify_one();
    Ok(released.len())
}
