//! API keys for integrators and scripts. A key acts as the member who made it, with their
//! role: an admin's key manages the workspace, an agent's claims and answers handoffs. It is
//! shown once and only its digest is kept. Admins see and delete every key of the workspace,
//! agents their own.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth;
use crate::domain::Name;
use crate::domain::clock::rfc3339;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, Caller};
use crate::state::AppState;
use crate::store::ApiKeyRecord;

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/api-keys", post(create).get(list))
        .route("/api-keys/{id}", delete(remove))
}

#[derive(Deserialize)]
struct NewKey {
    name: String,
}

#[derive(Serialize)]
struct KeyView {
    id: String,
    name: String,
    prefix: String,
    created_at: String,
    last_used_at: Option<String>,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(key: ApiKeyRecord) -> Self {
        KeyView {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            created_at: rfc3339(key.created_at),
            last_used_at: key.last_used_at.map(rfc3339),
        }
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewKey>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let name = Name::parse("name", &body.name)?;
    let key = auth::new_api_key();
    let prefix = &key[..auth::API_KEY_PREFIX.len() + 6];
    let record = state
        .store
        .create_api_key(
            &caller.user,
            &name,
            &auth::digest(&key),
            prefix,
            state.clock.now_ms(),
        )
        .await?;
    let mut view =
        serde_json::to_value(KeyView::from(record)).map_err(crate::error::ApiError::internal)?;
    view["key"] = json!(key);
    Ok((StatusCode::CREATED, axum::Json(view)))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<KeyView>>> {
    let keys = state
        .store
        .list_api_keys(caller.workspace_id(), own_only(&caller))
        .await?;
    Ok(axum::Json(keys.into_iter().map(KeyView::from).collect()))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_api_key(caller.workspace_id(), &id, own_only(&caller))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose keys the caller may see and delete: an agent only their own.
fn own_only(caller: &Caller) -> Option<&str> {
    (!caller.is_admin()).then_some(caller.user.id.as_str())
}
