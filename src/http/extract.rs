//! Extractors: who is calling (session cookie or API key), whether they may manage the
//! workspace, and JSON bodies whose rejections use the API's error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;

use crate::auth;
use crate::error::{ApiError, Code};
use crate::state::AppState;
use crate::store::UserRecord;

pub const SESSION_COOKIE: &str = "baton_session";

/// Ends the session the request's cookie names (if any) and answers the jar without it.
pub async fn end_session(state: &AppState, jar: CookieJar) -> Result<CookieJar, ApiError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state
            .store
            .delete_session(&auth::digest(cookie.value()))
            .await?;
    }
    let gone = axum_extra::extract::cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .build();
    Ok(jar.remove(gone))
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Lax (no other site's form
/// sends it), Secure when Baton is served over HTTPS, and as long-lived as the session.
pub fn session_cookie(
    state: &AppState,
    token: String,
) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .secure(state.config.public_url.starts_with("https://"))
        .max_age(time::Duration::milliseconds(
            crate::accounts::SESSION_TTL_MS,
        ))
        .build()
}

/// An authenticated user of a workspace; every query a handler makes is scoped by
/// `user.workspace_id`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRecord,
    /// The session's CSRF token; `None` for API-key callers, who have no cookie to abuse.
    pub csrf_token: Option<String>,
}

impl Caller {
    pub fn workspace_id(&self) -> &str {
        &self.user.workspace_id
    }

    pub fn is_admin(&self) -> bool {
        self.user.role().is_admin()
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = state.clock.now_ms();
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let key = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(|| {
                    ApiError::new(
                        Code::AuthenticationRequired,
                        "the Authorization header must be \"Bearer <api key>\"",
                    )
                })?;
            let user = state.store.api_key_user(&auth::digest(key), now).await?;
            return user
                .map(|user| Caller {
                    user,
                    csrf_token: None,
                })
                .ok_or_else(|| ApiError::new(Code::AuthenticationRequired, "unknown API key"));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(cookie) = jar.get(SESSION_COOKIE) {
            let session = state
                .store
                .session(&auth::digest(cookie.value()), now)
                .await?;
            if let Some(session) = session {
                return Ok(Caller {
                    user: session.user,
                    csrf_token: Some(session.csrf_token),
                });
            }
        }
        Err(ApiError::new(
            Code::AuthenticationRequired,
            "log in or send an API key",
        ))
    }
}

/// A caller who may manage the workspace: an owner or an admin.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.is_admin() {
            return Err(ApiError::forbidden("only admins can do this"));
        }
        Ok(Admin(caller))
    }
}

/// A JSON body; malformed JSON is a 400, a body of the wrong shape a 422, too large a 413.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let code = match &rejection {
        JsonRejection::JsonDataError(_) => Code::InvalidBody,
        JsonRejection::JsonSyntaxError(_) => Code::MalformedJson,
        JsonRejection::MissingJsonContentType(_) => Code::UnsupportedMediaType,
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        _ => Code::BadRequest,
    };
    let message = match code {
        Code::PayloadTooLarge => "the request body is too large".to_owned(),
        Code::UnsupportedMediaType => "send the body as application/json".to_owned(),
        _ => rejection.body_text(),
    };
    ApiError::new(code, message)
}
