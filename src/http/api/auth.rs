//! Login, logout, and the caller's own account.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::UserView;
use crate::accounts::{self, Login, PasswordRefusal};
use crate::domain::Password;
use crate::domain::settings::parse_optional_phone;
use crate::error::{ApiError, ApiResult, Code};
use crate::http::extract::{ApiJson, Caller, end_session, session_cookie};
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me).patch(update_me))
        .route("/me/password", post(change_password))
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    let user = match accounts::log_in(&state, &body.email, body.password).await? {
        Login::User(user) => user,
        Login::Refused => {
            return Err(ApiError::new(
                Code::InvalidCredentials,
                "wrong email or password",
            ));
        }
        Login::Throttled(wait) => {
            return Err(ApiError::rate_limited(
                "too many wrong passwords for this email: wait a little and try again",
                wait,
            ));
        }
    };
    let (token, csrf) = accounts::open_session(&state.store, &state.clock, &user).await?;
    let body = json!({"user": UserView::from(&user), "csrf_token": csrf});
    Ok((jar.add(session_cookie(&state, token)), axum::Json(body)))
}

async fn logout(State(state): State<AppState>, jar: CookieJar) -> ApiResult<impl IntoResponse> {
    Ok((end_session(&state, jar).await?, StatusCode::NO_CONTENT))
}

async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    let workspace = state.store.workspace(caller.workspace_id()).await?;
    Ok(axum::Json(json!({
        "user": UserView::from(&caller.user),
        "workspace": {"id": workspace.id, "name": workspace.name},
        "is_instance_owner": caller.user.is_instance_owner(),
        "csrf_token": caller.csrf_token,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeBody {
    /// `null` or `""` unlinks the number.
    #[serde(default, with = "super::bots::nullable")]
    whatsapp_number: Option<Option<String>>,
    /// Away: given no handoffs automatically.
    away: Option<bool>,
}

/// What a user may change about themselves besides the password: their WhatsApp number, and
/// whether they are away.
async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<MeBody>,
) -> ApiResult<axum::Json<UserView>> {
    let mut user = caller.user.clone();
    if let Some(number) = body.whatsapp_number {
        let number = parse_optional_phone("whatsapp_number", &number.unwrap_or_default())?;
        user = state
            .store
            .set_whatsapp_number(caller.workspace_id(), &user.id, number.as_deref())
            .await?;
    }
    if let Some(away) = body.away {
        user = state
            .store
            .set_away(caller.workspace_id(), &user.id, away)
            .await?;
        // Back: what waits in the queue may be theirs now.
        if !away {
            state.assign_wake.notify_one();
        }
    }
    Ok(axum::Json(UserView::from(&user)))
}

#[derive(Deserialize)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Changing the password ends every session of the user, this one included.
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    let new_password = Password::parse(&body.new_password)?;
    let changed =
        accounts::change_password(&state, &caller.user, body.current_password, new_password)
            .await?;
    match changed {
        Ok(()) => {}
        Err(refusal @ PasswordRefusal::WrongCurrent) => {
            return Err(ApiError::new(Code::InvalidCredentials, refusal.to_string()));
        }
        Err(refusal @ PasswordRefusal::Unchanged) => {
            return Err(ApiError::validation(format!("new_password: {refusal}")));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
