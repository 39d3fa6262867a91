//! `/webhooks/whatsapp/{channel_id}`: Meta's verification handshake (GET) and signed events
//! (POST). A POST is verified over its raw bytes before anything is parsed or stored, stored
//! before it is acknowledged, and idempotent (Meta redelivers).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::channels::{self, whatsapp};
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use crate::store::ChannelRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/whatsapp/{channel_id}", get(verify).post(receive))
        // Meta's payloads stay well under this.
        .layer(DefaultBodyLimit::max(3 * 1024 * 1024))
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
}

async fn number(
    state: &AppState,
    channel_id: &str,
) -> ApiResult<(ChannelRecord, whatsapp::Number)> {
    let channel = state.store.channel(channel_id).await?;
    let number =
        whatsapp::Number::open(&state.secret_key, &channel.config).map_err(ApiError::internal)?;
    Ok((channel, number))
}

/// Echoes `hub.challenge` when the mode is `subscribe` and the verify token is ours.
async fn verify(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    Query(handshake): Query<Handshake>,
) -> Response {
    let Ok((_, number)) = number(&state, &channel_id).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let token_ok = handshake.verify_token.as_deref().is_some_and(|given| {
        let (a, b) = (given.as_bytes(), number.verify_token.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    });
    match (handshake.mode.as_deref(), handshake.challenge) {
        (Some("subscribe"), Some(challenge)) if token_ok => (
            [(axum::http::header::CONTENT_TYPE, "text/plain")],
            challenge,
        )
            .into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (channel, number) = number(&state, &channel_id).await?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                Code::AuthenticationRequired,
                "X-Hub-Signature-256 is missing",
            )
        })?;
    if !whatsapp::signature_ok(&number.app_secret, &body, signature) {
        return Err(ApiError::forbidden(
            "the signature does not match this channel's app secret",
        ));
    }
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(Code::MalformedJson, format!("the body is not JSON: {e}")))?;
    let processed = channels::receive_whatsapp(&state, &channel, &number, &payload).await?;
    tracing::info!(
        channel_id = %channel.id,
        stored = processed.stored,
        duplicates = processed.duplicates,
        statuses = processed.statuses,
        held = processed.held,
        "WhatsApp webhook"
    );
    Ok(Json(json!({"received": true})))
}
