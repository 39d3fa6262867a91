//! `GET|PUT /api/v1/settings/notifications`: who hears about new handoffs;
//! `GET|PUT /api/v1/settings/retention`: how long customers' data is kept;
//! `GET|PUT /api/v1/settings/business-hours`: when the team is at work, and
//! `GET /api/v1/settings/business-hours/status`: whether it is now;
//! `GET|PUT /api/v1/settings/assignment`: whether new handoffs are given out automatically.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::domain::assignment::{self, AssignmentSettings};
use crate::domain::clock::rfc3339;
use crate::domain::hours::{self, BusinessHours};
use crate::domain::settings::{NotificationSettings, RetentionSettings};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, ApiJson, Caller};
use crate::state::AppState;
use crate::store::StoreError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/notifications", get(read).put(write))
        .route(
            "/settings/retention",
            get(read_retention).put(write_retention),
        )
        .route("/settings/business-hours", get(read_hours).put(write_hours))
        .route("/settings/business-hours/status", get(read_hours_status))
        .route(
            "/settings/assignment",
            get(read_assignment).put(write_assignment),
        )
}

const NAME: &str = "notifications";

/// The workspace's settings stored under `name`, or their defaults when none were saved.
async fn load_named<T: DeserializeOwned + Default>(
    state: &AppState,
    workspace_id: &str,
    name: &str,
) -> ApiResult<T> {
    match state.store.setting(workspace_id, name).await? {
        Some(json) => serde_json::from_str(&json).map_err(ApiError::internal),
        None => Ok(T::default()),
    }
}

/// Stores validated settings under `name`.
async fn store_named<T: Serialize>(
    state: &AppState,
    workspace_id: &str,
    name: &str,
    settings: &T,
) -> ApiResult<()> {
    let json = serde_json::to_string(settings).map_err(ApiError::internal)?;
    state
        .store
        .put_setting(workspace_id, name, &json, state.clock.now_ms())
        .await?;
    Ok(())
}

/// The workspace's notification settings, or the defaults when none were saved.
pub(crate) async fn load(state: &AppState, workspace_id: &str) -> ApiResult<NotificationSettings> {
    load_named(state, workspace_id, NAME).await
}

pub(crate) async fn save(
    state: &AppState,
    workspace_id: &str,
    settings: NotificationSettings,
) -> ApiResult<NotificationSettings> {
    let mut settings = settings.validated()?;
    if let Some(channel_id) = &settings.whatsapp.channel_id {
        let ours = match state.store.channel(channel_id).await {
            Ok(channel) => channel.workspace_id == workspace_id && channel.kind == "whatsapp",
            Err(StoreError::NotFound(_)) => false,
            Err(err) => return Err(err.into()),
        };
        if !ours && settings.whatsapp.enabled {
            return Err(ApiError::validation(
                "channel_id: no WhatsApp number of this workspace has this id",
            ));
        }
        if !ours {
            // Switched off, with a number since removed: forget it.
            settings.whatsapp.channel_id = None;
        }
    }
    store_named(state, workspace_id, NAME, &settings).await?;
    Ok(settings)
}

/// The settings as `caller` may read them: admins everything; an agent sees whether their own
/// number is notified, not their colleagues' numbers (as `GET /api/v1/agents` shows them only
/// to admins). For the API and the dashboard page alike.
pub(crate) async fn load_for(state: &AppState, caller: &Caller) -> ApiResult<NotificationSettings> {
    let mut settings = load(state, caller.workspace_id()).await?;
    if !caller.is_admin() {
        let own = caller.user.whatsapp_number.as_deref();
        settings
            .whatsapp
            .recipients
            .retain(|number| Some(number.as_str()) == own);
    }
    Ok(settings)
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<NotificationSettings>> {
    Ok(Json(load_for(&state, &caller).await?))
}

async fn write(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(settings): ApiJson<NotificationSettings>,
) -> ApiResult<Json<NotificationSettings>> {
    Ok(Json(save(&state, caller.workspace_id(), settings).await?))
}

/// The name the retention settings are stored under; the sweep reads every workspace's.
pub(crate) const RETENTION: &str = "retention";

/// The workspace's retention settings; by default data is kept until an admin erases it.
pub(crate) async fn load_retention(
    state: &AppState,
    workspace_id: &str,
) -> ApiResult<RetentionSettings> {
    load_named(state, workspace_id, RETENTION).await
}

pub(crate) async fn save_retention(
    state: &AppState,
    workspace_id: &str,
    settings: RetentionSettings,
) -> ApiResult<RetentionSettings> {
    let settings = settings.validated()?;
    store_named(state, workspace_id, RETENTION, &settings).await?;
    // A shorter period applies now, not at the next hourly sweep.
    state.retention_wake.notify_one();
    Ok(settings)
}

async fn read_retention(
    State(state): State<AppState>,
    Admin(caller): Admin,
) -> ApiResult<Json<RetentionSettings>> {
    Ok(Json(load_retention(&state, caller.workspace_id()).await?))
}

async fn write_retention(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(settings): ApiJson<RetentionSettings>,
) -> ApiResult<Json<RetentionSettings>> {
    Ok(Json(
        save_retention(&state, caller.workspace_id(), settings).await?,
    ))
}

pub(crate) async fn save_hours(
    state: &AppState,
    workspace_id: &str,
    hours: BusinessHours,
) -> ApiResult<BusinessHours> {
    let hours = hours.validated()?;
    store_named(state, workspace_id, hours::SETTING, &hours).await?;
    Ok(hours)
}

/// Whether the team is at work at `now_ms`, and its current or next time away: `back` is when
/// it returns as a handed-off customer is told it.
pub(crate) fn hours_status(hours: &BusinessHours, now_ms: i64) -> Value {
    let Some(schedule) = hours.schedule() else {
        return json!({"enabled": false, "open": true, "away_from": null, "back_at": null, "back": null});
    };
    let outlook = schedule.outlook(now_ms);
    json!({
        "enabled": true,
        "open": outlook.open,
        "away_from": outlook.away.map(|(from, _)| rfc3339(from)),
        "back_at": outlook.away.map(|(_, back)| rfc3339(back)),
        "back": outlook.away.map(|(_, back)| schedule.when(back)),
    })
}

/// The hours as the API answers them: every field, `closed_on` too when empty (the stored
/// form leaves it out, for older nodes' sake).
fn hours_view(hours: &BusinessHours) -> Value {
    let mut view = json!(hours);
    view["closed_on"] = json!(hours.closed_on);
    view
}

/// Every member may read the hours (agents plan their day by them); admins change them.
async fn read_hours(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let hours = state.store.business_hours(caller.workspace_id()).await?;
    Ok(Json(hours_view(&hours)))
}

async fn write_hours(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(hours): ApiJson<BusinessHours>,
) -> ApiResult<Json<Value>> {
    let hours = save_hours(&state, caller.workspace_id(), hours).await?;
    Ok(Json(hours_view(&hours)))
}

async fn read_hours_status(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let hours = state.store.business_hours(caller.workspace_id()).await?;
    Ok(Json(hours_status(&hours, state.clock.now_ms())))
}

pub(crate) async fn save_assignment(
    state: &AppState,
    workspace_id: &str,
    settings: AssignmentSettings,
) -> ApiResult<AssignmentSettings> {
    let settings = settings.validated()?;
    store_named(state, workspace_id, assignment::SETTING, &settings).await?;
    // Switched on: the handoffs waiting now are given out now.
    state.assign_wake.notify_one();
    Ok(settings)
}

/// Every member may read it (agents learn whether new handoffs come to them by themselves);
/// admins change it.
async fn read_assignment(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AssignmentSettings>> {
    Ok(Json(state.store.assignment(caller.workspace_id()).await?))
}

async fn write_assignment(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(settings): ApiJson<AssignmentSettings>,
) -> ApiResult<Json<AssignmentSettings>> {
    Ok(Json(
        save_assignment(&state, caller.workspace_id(), settings).await?,
    ))
}
