//! Connecting a WhatsApp number to a bot. Secrets are stored encrypted and never shown again
//! in full.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::channels::whatsapp::Number;
use crate::crypto;
use crate::domain::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, ApiJson, Caller};
use crate::state::AppState;
use crate::store::ChannelRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bots/{bot_id}/channels/whatsapp", post(connect))
        .route("/channels", get(list))
}

#[derive(Deserialize)]
pub(crate) struct ConnectBody {
    pub phone_number_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
}

/// The channel as the API shows it: ids and the webhook URL, secrets only as hints.
pub(crate) fn view(state: &AppState, channel: &ChannelRecord) -> Value {
    let number = Number::open(&state.secret_key, &channel.config).ok();
    json!({
        "id": channel.id,
        "kind": channel.kind,
        "bot_id": channel.bot_id,
        "phone_number_id": number.as_ref().map(|n| n.phone_number_id.clone()),
        "access_token": number.as_ref().map(|n| crypto::hint(&n.access_token)),
        "webhook_url": format!("{}/webhooks/whatsapp/{}", state.config.public_url, channel.id),
        "created_at": rfc3339(channel.created_at),
    })
}

/// Stores a WhatsApp number for a bot; what is required is checked, the secrets sealed.
pub(crate) async fn connect_number(
    state: &AppState,
    workspace_id: &str,
    bot_id: &str,
    body: ConnectBody,
) -> ApiResult<ChannelRecord> {
    let bot = state.store.bot(workspace_id, bot_id).await?;
    let field = |name: &str, value: &str| {
        let value = value.trim();
        if value.is_empty() || value.len() > 1024 {
            Err(ApiError::validation(format!(
                "{name}: is required (at most 1024 characters)"
            )))
        } else {
            Ok(value.to_owned())
        }
    };
    let number = Number {
        phone_number_id: field("phone_number_id", &body.phone_number_id)?,
        access_token: field("access_token", &body.access_token)?,
        app_secret: field("app_secret", &body.app_secret)?,
        verify_token: field("verify_token", &body.verify_token)?,
    };
    if !number.phone_number_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::validation(
            "phone_number_id: digits only, as Meta shows it",
        ));
    }
    Ok(state
        .store
        .create_channel(
            workspace_id,
            &bot.id,
            "whatsapp",
            &number.seal(&state.secret_key),
            state.clock.now_ms(),
        )
        .await?)
}

async fn connect(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(bot_id): Path<String>,
    ApiJson(body): ApiJson<ConnectBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let channel = connect_number(&state, caller.workspace_id(), &bot_id, body).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &channel))))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Value>>> {
    let channels = state.store.list_channels(caller.workspace_id()).await?;
    Ok(Json(channels.iter().map(|c| view(&state, c)).collect()))
}
