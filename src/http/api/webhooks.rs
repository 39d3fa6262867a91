//! `/api/v1/webhooks`: integrators' endpoints for workspace events (admins only). The signing
//! secret is shown once, when the webhook is made; each webhook shows its latest deliveries,
//! and a delivery can be sent again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::ParseError;
use crate::domain::clock::rfc3339;
use crate::domain::webhook::{ALL_EVENTS, Subscription, literal_local_address, local_refusal};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, ApiJson};
use crate::state::AppState;
use crate::store::{WebhookDeliveryRecord, WebhookRecord};

/// Enough for a few integrations; more is more likely a loop in someone's script.
const MAX_WEBHOOKS: usize = 20;
/// Deliveries shown with a webhook.
pub(crate) const RECENT: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", post(create).get(list))
        .route("/webhooks/{id}", get(read).delete(remove))
        .route("/webhooks/{id}/deliveries/{seq}/retry", post(retry))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    /// Omitted: every event type.
    #[serde(default = "every_event")]
    events: Vec<String>,
}

fn every_event() -> Vec<String> {
    vec![ALL_EVENTS.to_owned()]
}

#[derive(Serialize)]
struct WebhookView {
    id: String,
    url: String,
    events: Vec<String>,
    created_at: String,
}

impl From<WebhookRecord> for WebhookView {
    fn from(webhook: WebhookRecord) -> Self {
        WebhookView {
            id: webhook.id,
            url: webhook.url,
            events: webhook.events,
            created_at: rfc3339(webhook.created_at),
        }
    }
}

#[derive(Serialize)]
struct DeliveryView {
    seq: i64,
    #[serde(rename = "type")]
    kind: String,
    /// `pending`, `delivered` or `failed`.
    status: String,
    attempts: i64,
    response_status: Option<i64>,
    last_error: Option<String>,
    /// When the next attempt is due, while pending.
    next_attempt_at: Option<String>,
    /// When it was delivered or given up on.
    done_at: Option<String>,
    created_at: String,
}

impl From<WebhookDeliveryRecord> for DeliveryView {
    fn from(delivery: WebhookDeliveryRecord) -> Self {
        DeliveryView {
            seq: delivery.seq,
            next_attempt_at: delivery
                .done_at
                .is_none()
                .then(|| rfc3339(delivery.next_attempt_at)),
            kind: delivery.kind,
            status: delivery.status,
            attempts: delivery.attempts,
            response_status: delivery.response_status,
            last_error: delivery.last_error,
            done_at: delivery.done_at.map(rfc3339),
            created_at: rfc3339(delivery.created_at),
        }
    }
}

fn to_value(view: impl Serialize) -> ApiResult<Value> {
    serde_json::to_value(view).map_err(ApiError::internal)
}

/// Adds a webhook to a workspace; answers it with its signing secret, to be shown once.
pub(crate) async fn add(
    state: &AppState,
    workspace_id: &str,
    url: &str,
    events: &[String],
) -> ApiResult<(WebhookRecord, String)> {
    let subscription = Subscription::parse(url, events)?;
    if !state.config.webhooks_allow_local
        && let Some(ip) = literal_local_address(&subscription.url)
    {
        return Err(ApiError::from(ParseError::new(
            "url",
            local_refusal(&ip.to_string()),
        )));
    }
    if state.store.webhooks(workspace_id).await?.len() >= MAX_WEBHOOKS {
        return Err(ApiError::validation(format!(
            "a workspace has at most {MAX_WEBHOOKS} webhooks; delete one first"
        )));
    }
    let secret = crate::webhooks::new_secret();
    let sealed = crate::crypto::encrypt(&state.secret_key, &secret);
    let webhook = state
        .store
        .create_webhook(workspace_id, &subscription, &sealed, state.clock.now_ms())
        .await?;
    Ok((webhook, secret))
}

async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (webhook, secret) = add(&state, caller.workspace_id(), &body.url, &body.events).await?;
    let mut view = to_value(WebhookView::from(webhook))?;
    view["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

async fn list(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> ApiResult<Json<Vec<WebhookView>>> {
    let webhooks = state.store.webhooks(caller.workspace_id()).await?;
    Ok(Json(webhooks.into_iter().map(WebhookView::from).collect()))
}

/// The webhook and its latest deliveries, newest first.
async fn read(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let webhook = state.store.webhook(caller.workspace_id(), &id).await?;
    let deliveries = state.store.webhook_deliveries(&webhook.id, RECENT).await?;
    let mut view = to_value(WebhookView::from(webhook))?;
    view["deliveries"] = to_value(
        deliveries
            .into_iter()
            .map(DeliveryView::from)
            .collect::<Vec<_>>(),
    )?;
    Ok(Json(view))
}

async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_webhook(caller.workspace_id(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a delivery again, from a fresh set of attempts.
async fn retry(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, seq)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let seq: i64 = seq.parse().map_err(|_| ApiError::not_found("delivery"))?;
    let delivery = state
        .store
        .requeue_webhook_delivery(caller.workspace_id(), &id, seq, state.clock.now_ms())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryView::from(delivery))))
}
