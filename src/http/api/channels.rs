//! Connecting a WhatsApp number to a bot, checked with Meta first; moving it to another bot,
//! replacing its secrets, disconnecting it. Secrets are stored encrypted and never shown again
//! in full.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::channels::whatsapp::{Number, Profile};
use crate::crypto;
use crate::domain::clock::rfc3339;
use crate::error::{ApiError, ApiResult, Code};
use crate::http::extract::{Admin, ApiJson, Caller};
use crate::state::AppState;
use crate::store::ChannelRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bots/{bot_id}/channels/whatsapp", post(connect))
        .route("/channels", get(list))
        .route(
            "/channels/{channel_id}",
            get(read).patch(update).delete(disconnect),
        )
}

#[derive(Deserialize)]
pub(crate) struct ConnectBody {
    pub phone_number_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
}

/// What `PATCH /channels/{id}` changes: another bot of the workspace answers the number, and
/// any secret given replaces the stored one (a new access token is checked with Meta first).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBody {
    pub bot_id: Option<String>,
    pub access_token: Option<String>,
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
}

/// The channel as the API shows it: ids, the number as Meta named it, and the webhook URL;
/// secrets only as hints.
pub(crate) fn view(state: &AppState, channel: &ChannelRecord) -> Value {
    let number = Number::open(&state.secret_key, &channel.config).ok();
    let profile = number
        .as_ref()
        .map(|n| n.profile.clone())
        .unwrap_or_default();
    json!({
        "id": channel.id,
        "kind": channel.kind,
        "bot_id": channel.bot_id,
        "phone_number_id": number.as_ref().map(|n| n.phone_number_id.clone()),
        "display_phone_number": profile.display_phone_number,
        "verified_name": profile.verified_name,
        "access_token": number.as_ref().map(|n| crypto::hint(&n.access_token)),
        "webhook_url": format!("{}/webhooks/whatsapp/{}", state.config.public_url, channel.id),
        "created_at": rfc3339(channel.created_at),
    })
}

/// A required text field, trimmed.
fn required(name: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() || value.len() > 1024 {
        Err(ApiError::validation(format!(
            "{name}: is required (at most 1024 characters)"
        )))
    } else {
        Ok(value.to_owned())
    }
}

/// Asks Meta whether the number's token may send from it, and what the number is. Nothing is
/// stored unless Meta says yes: a typo in an id or a token is found now, not when the first
/// customer's answer fails to go out.
async fn check_with_meta(state: &AppState, number: &Number) -> ApiResult<Profile> {
    state.whatsapp.phone_number(number).await.map_err(|err| {
        if err.transient {
            ApiError::new(
                Code::WhatsappUnreachable,
                format!(
                    "could not check the number with WhatsApp ({err}); nothing was saved, \
                     try again in a moment"
                ),
            )
        } else {
            ApiError::new(
                Code::WhatsappRefused,
                format!(
                    "WhatsApp refused this access token for phone number id {}: {err}. Check the \
                     id, and that the token's system user has whatsapp_business_messaging and \
                     whatsapp_business_management on this WhatsApp account",
                    number.phone_number_id
                ),
            )
        }
    })
}

/// Stores a WhatsApp number for a bot once Meta has confirmed the token may send from it; the
/// secrets sealed. A number is connected to one bot only.
pub(crate) async fn connect_number(
    state: &AppState,
    workspace_id: &str,
    bot_id: &str,
    body: ConnectBody,
) -> ApiResult<ChannelRecord> {
    let bot = state.store.bot(workspace_id, bot_id).await?;
    let mut number = Number {
        phone_number_id: required("phone_number_id", &body.phone_number_id)?,
        access_token: required("access_token", &body.access_token)?,
        app_secret: required("app_secret", &body.app_secret)?,
        verify_token: required("verify_token", &body.verify_token)?,
        profile: Profile::default(),
    };
    if !number.phone_number_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::validation(
            "phone_number_id: digits only, as Meta shows it",
        ));
    }
    number.profile = check_with_meta(state, &number).await?;
    Ok(state
        .store
        .create_channel(
            workspace_id,
            &bot.id,
            "whatsapp",
            &number.phone_number_id,
            &number.seal(&state.secret_key),
            state.clock.now_ms(),
        )
        .await?)
}

/// Applies an [`UpdateBody`] to a channel of the workspace.
pub(crate) async fn update_channel(
    state: &AppState,
    workspace_id: &str,
    channel_id: &str,
    body: UpdateBody,
) -> ApiResult<ChannelRecord> {
    let channel = state.store.channel_in(workspace_id, channel_id).await?;
    let mut number =
        Number::open(&state.secret_key, &channel.config).map_err(ApiError::internal)?;
    let old_app_secret = number.app_secret.clone();
    let bot_id = match &body.bot_id {
        Some(bot_id) => state.store.bot(workspace_id, bot_id).await?.id,
        None => channel.bot_id.clone(),
    };
    if let Some(secret) = &body.app_secret {
        number.app_secret = required("app_secret", secret)?;
    }
    if let Some(phrase) = &body.verify_token {
        number.verify_token = required("verify_token", phrase)?;
    }
    if let Some(token) = &body.access_token {
        number.access_token = required("access_token", token)?;
        number.profile = check_with_meta(state, &number).await?;
    }
    let config = number.seal(&state.secret_key);
    state
        .store
        .update_channel(workspace_id, channel_id, &bot_id, &config)
        .await?;
    if number.app_secret != old_app_secret {
        share_app_secret(state, workspace_id, &old_app_secret, &number.app_secret).await?;
    }
    Ok(ChannelRecord {
        bot_id,
        config,
        ..channel
    })
}

/// An app secret belongs to the Meta app, not to one number: the workspace's other numbers of
/// the same app (those that had the old secret) take the new one too, or their webhooks would
/// be refused as forged and no longer be told apart from the app's other numbers.
async fn share_app_secret(
    state: &AppState,
    workspace_id: &str,
    old: &str,
    new: &str,
) -> ApiResult<()> {
    for other in state.store.list_channels(workspace_id).await? {
        let Ok(mut number) = Number::open(&state.secret_key, &other.config) else {
            continue;
        };
        if number.app_secret == old {
            number.app_secret = new.to_owned();
            state
                .store
                .update_channel(
                    workspace_id,
                    &other.id,
                    &other.bot_id,
                    &number.seal(&state.secret_key),
                )
                .await?;
        }
    }
    Ok(())
}

/// Disconnects a channel of the workspace, unless agents are notified from it, customers on it
/// wait for or talk to an agent, or something of it is under way (see
/// [`crate::store::Store::delete_channel`]).
pub(crate) async fn disconnect_channel(
    state: &AppState,
    workspace_id: &str,
    channel_id: &str,
) -> ApiResult<()> {
    let channel = state.store.channel_in(workspace_id, channel_id).await?;
    let notifications = super::settings::load(state, workspace_id).await?;
    if notifications.whatsapp.enabled
        && notifications.whatsapp.channel_id.as_deref() == Some(channel.id.as_str())
    {
        return Err(ApiError::new(
            Code::Conflict,
            "agents are notified of new handoffs from this number; choose another number or \
             turn WhatsApp notifications off in Settings first",
        ));
    }
    Ok(state
        .store
        .delete_channel(workspace_id, &channel.id)
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

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(channel_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let channel = state
        .store
        .channel_in(caller.workspace_id(), &channel_id)
        .await?;
    Ok(Json(view(&state, &channel)))
}

async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(channel_id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let channel = update_channel(&state, caller.workspace_id(), &channel_id, body).await?;
    Ok(Json(view(&state, &channel)))
}

async fn disconnect(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(channel_id): Path<String>,
) -> ApiResult<StatusCode> {
    disconnect_channel(&state, caller.workspace_id(), &channel_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
