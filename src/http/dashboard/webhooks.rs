//! Settings → Webhooks: add an integrator's endpoint, see how its deliveries go, delete it.
//! The signing secret appears once, on the page the form answers with — never in a URL.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::{Flash, Nav, Page, back, check_csrf, csrf_field, layout, require_admin};
use crate::domain::clock::rfc3339;
use crate::domain::webhook::{ALL_EVENTS, EVENT_TYPES};
use crate::error::{ApiError, ApiResult};
use crate::http::api::webhooks::{RECENT, add};
use crate::http::extract::Caller;
use crate::state::AppState;

const PATH: &str = "/settings/webhooks";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(page).post(create))
        .route("/settings/webhooks/{id}/delete", post(delete))
}

async fn page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    render(&state, &caller, flash.render()).await
}

async fn render(state: &AppState, caller: &Caller, notice: Markup) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let webhooks = if caller.is_admin() {
        state.store.webhooks(ws).await?
    } else {
        Vec::new()
    };
    let mut rows = Vec::with_capacity(webhooks.len());
    for webhook in webhooks {
        let deliveries = state.store.webhook_deliveries(&webhook.id, RECENT).await?;
        let count = |status: &str| deliveries.iter().filter(|d| d.status == status).count();
        let summary = format!(
            "{} delivered · {} pending · {} failed",
            count("delivered"),
            count("pending"),
            count("failed")
        );
        let last_error = deliveries
            .iter()
            .find(|d| d.status != "delivered")
            .and_then(|d| d.last_error.clone());
        rows.push((webhook, summary, last_error));
    }
    let content = html! {
        div class="header" { h1 { "Settings → Webhooks" } }
        (notice)
        @if !caller.is_admin() {
            p class="muted" { "Only admins can see and change webhooks." }
        } @else {
            p class="muted small" {
                "Baton POSTs each event you choose to your URL as JSON, signed with "
                code { "X-Baton-Signature" } " (HMAC-SHA256 of " code { "<timestamp>.<body>" }
                "), and retries for about an hour until your endpoint answers 2xx."
            }
            div class="card" style="padding:0" {
                table {
                    thead { tr { th { "URL" } th { "Events" } th { "Last " (RECENT) " deliveries" } th {} } }
                    tbody {
                        @if rows.is_empty() {
                            tr { td colspan="4" class="muted" { "No webhooks yet." } }
                        }
                        @for (webhook, summary, last_error) in &rows {
                            tr data-webhook=(webhook.id) {
                                td { code { (webhook.url) } div class="muted small" { "added " (rfc3339(webhook.created_at)) } }
                                td { (webhook.events.join(", ")) }
                                td {
                                    (summary)
                                    @if let Some(error) = last_error { div class="muted small" { "last error: " (error) } }
                                }
                                td {
                                    form method="post" action=(format!("{PATH}/{}/delete", webhook.id)) {
                                        (csrf_field(caller))
                                        button class="btn danger" type="submit" { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form class="card" method="post" action=(PATH) {
                h2 { "Add a webhook" }
                (csrf_field(caller))
                label for="webhook-url" { "Endpoint URL" }
                input id="webhook-url" type="url" name="url" required placeholder="https://example.com/hooks/baton";
                fieldset style="border:0;padding:0;margin:1rem 0 0" {
                    legend { "Events" }
                    label class="small" { input type="checkbox" name="events" value=(ALL_EVENTS) checked; " every event, including types added later" }
                    @for kind in EVENT_TYPES {
                        label class="small" { input type="checkbox" name="events" value=(kind); " " code { (kind) } }
                    }
                }
                div style="margin-top:1rem" { button class="btn primary" type="submit" { "Add" } }
            }
        }
    };
    Ok(layout(caller, Nav::Webhooks, "Webhooks", pending, content))
}

/// The form as sent: `events` repeats once per ticked box.
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

async fn create(
    State(state): State<AppState>,
    Page(caller): Page,
    axum::Form(fields): axum::Form<Fields>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, field(&fields, "csrf_token"))?;
    require_admin(&caller)?;
    let mut events: Vec<String> = fields
        .iter()
        .filter(|(key, _)| key == "events")
        .map(|(_, value)| value.clone())
        .collect();
    // "Every event" ticked covers the rest.
    if events.iter().any(|e| e == ALL_EVENTS) {
        events = vec![ALL_EVENTS.to_owned()];
    }
    let url = field(&fields, "url");
    let notice = match add(&state, caller.workspace_id(), url, &events).await {
        Ok((webhook, secret)) => html! {
            div class="flash ok" role="status" {
                "Webhook added for " code { (webhook.url) } ". Its signing secret, shown only now: "
                code id="webhook-secret" { (secret) }
            }
        },
        Err(err) if err.code == crate::error::Code::ValidationFailed => Flash {
            ok: None,
            error: Some(err.message),
        }
        .render(),
        Err(err) => return Err(err),
    };
    Ok(render(&state, &caller, notice).await?.into_response())
}

async fn delete(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<super::CsrfOnly>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    state
        .store
        .delete_webhook(caller.workspace_id(), &id)
        .await?;
    Ok(back(PATH, Ok("Webhook deleted.")))
}
