//! Marketplace, Agents (with automatic assignment) and Settings → Notifications.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    CsrfOnly, Flash, Nav, Page, back, back_after, check_csrf, csrf_field, layout, require_admin,
};
use crate::domain::Role;
use crate::domain::assignment::AssignmentSettings;
use crate::domain::settings::{NotificationSettings, Template, WhatsappNotifications};
use crate::error::{ApiError, ApiResult};
use crate::http::api::agents::{NewAgent, add_member, remove_member};
use crate::http::api::settings;
use crate::marketplace;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/marketplace", get(marketplace_page))
        .route("/marketplace/{slug}", post(marketplace_change))
        .route("/agents", get(agents_page).post(add_agent))
        .route("/agents/{id}/remove", post(remove_agent))
        .route("/agents/assignment", post(save_assignment))
        .route(
            "/settings/notifications",
            get(notifications_page).post(save_notifications),
        )
}

async fn marketplace_page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let installed = state.store.installed_tools(ws).await?;
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let content = html! {
        div class="header" { h1 { "Marketplace" } }
        (flash.render())
        @for tool in marketplace::CATALOGUE {
            @let is_installed = installed.iter().any(|s| s == tool.slug);
            div class="card" data-tool=(tool.slug) {
                div class="header" style="margin-bottom:.5rem" {
                    h2 style="margin:0" { (tool.name) }
                    @if caller.is_admin() {
                        form method="post" action=(format!("/marketplace/{}", tool.slug)) {
                            (csrf_field(&caller))
                            @if is_installed {
                                input type="hidden" name="action" value="remove";
                                button class="btn danger" type="submit" { "Remove" }
                            } @else {
                                input type="hidden" name="action" value="add";
                                button class="btn primary" type="submit" { "Add" }
                            }
                        }
                    }
                }
                p class="muted" style="margin:0" { (tool.description) }
                @if is_installed {
                    p class="small" { span class="badge resolved" { "Installed" } " Switch it on per bot in " a href="/bots" { "Bots" } " → Settings → Tools." }
                }
            }
        }
    };
    Ok(layout(
        &caller,
        Nav::Marketplace,
        "Marketplace",
        pending,
        content,
    ))
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf_token: String,
    action: String,
}

async fn marketplace_change(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<ChangeForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let tool = marketplace::find(&slug).ok_or_else(|| ApiError::not_found("tool"))?;
    let ws = caller.workspace_id();
    if form.action == "add" {
        state
            .store
            .install_tool(ws, tool.slug, state.clock.now_ms())
            .await?;
        Ok(back(
            "/marketplace",
            Ok(&format!(
                "{} added. Switch it on for a bot in its Settings → Tools.",
                tool.name
            )),
        ))
    } else {
        state.store.uninstall_tool(ws, tool.slug).await?;
        Ok(back(
            "/marketplace",
            Ok(&format!("{} removed from every bot.", tool.name)),
        ))
    }
}

async fn agents_page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let users = state.store.list_users(ws).await?;
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let assignment = state.store.assignment(ws).await?;
    let present_since = state.clock.now_ms() - crate::assign::presence_ms(&state);
    let content = html! {
        div class="header" { h1 { "Agents" } }
        (flash.render())
        div class="card" style="padding:0" {
            table {
                thead { tr {
                    th { "Name" } th { "Email" } th { "Role" }
                    @if assignment.auto { th { "New handoffs" } }
                    @if caller.is_admin() { th {} }
                } }
                tbody {
                    @for user in &users {
                        tr data-user=(user.id) {
                            td { (user.name) } td { (user.email) } td { span class="badge" { (user.role) } }
                            @if assignment.auto {
                                td class="availability" {
                                    @if user.is_away() { span class="badge" { "Away" } }
                                    @else if user.seen_at.is_some_and(|at| at >= present_since) { span class="badge ok" { "Available" } }
                                    @else { span class="muted" { "Not on the dashboard" } }
                                }
                            }
                            @if caller.is_admin() {
                                td {
                                    @if user.role() != Role::Owner && user.id != caller.user.id {
                                        form method="post" action=(format!("/agents/{}/remove", user.id))
                                            data-confirm=(format!("Remove {}? They can no longer log in, and the conversations they are handling go back to the queue.", user.name)) {
                                            (csrf_field(&caller))
                                            button class="btn danger" type="submit" { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if caller.is_admin() {
            form class="card" method="post" action="/agents" {
                h2 { "Add a person" }
                (csrf_field(&caller))
                div class="grid2" {
                    div { label for="agent-name" { "Name" } input id="agent-name" type="text" name="name" required; }
                    div { label for="agent-email" { "Email" } input id="agent-email" type="email" name="email" required; }
                    div { label for="agent-password" { "Password" } input id="agent-password" type="password" name="password" required minlength="8"; }
                    div {
                        label for="agent-role" { "Role" }
                        select id="agent-role" name="role" { option value="agent" { "Agent" } option value="admin" { "Admin" } }
                    }
                }
                div style="margin-top:1rem" { button class="btn primary" type="submit" { "Add" } }
            }
            form class="card" method="post" action="/agents/assignment" id="assignment-form" {
                h2 { "Automatic assignment" }
                (csrf_field(&caller))
                p class="muted" {
                    "Each new handoff goes straight to a teammate who has the Handoffs page open and is not set to Away: "
                    "whoever holds the fewest, then whoever was given one longest ago. Nobody is given more than the limit; "
                    "what nobody can take waits in the queue until someone frees up."
                }
                label class="check" {
                    input id="assignment-auto" type="checkbox" name="auto" value="true" checked[assignment.auto];
                    " Assign new handoffs automatically"
                }
                div style="max-width:16rem" {
                    label for="assignment-limit" { "At most this many open handoffs each" }
                    input id="assignment-limit" type="number" name="limit" min="1" max=(AssignmentSettings::MAX_LIMIT) value=(assignment.limit) required;
                }
                div style="margin-top:1rem" { button class="btn primary" type="submit" id="save-assignment" { "Save" } }
            }
        } @else if assignment.auto {
            p class="muted" {
                "New handoffs are assigned automatically, at most " (assignment.limit)
                " open each, to whoever has the Handoffs page open and is not set to Away."
            }
        }
    };
    Ok(layout(&caller, Nav::Agents, "Agents", pending, content))
}

#[derive(Deserialize)]
struct AgentForm {
    csrf_token: String,
    name: String,
    email: String,
    password: String,
    role: String,
}

async fn add_agent(
    State(state): State<AppState>,
    Page(caller): Page,
    axum::Form(form): axum::Form<AgentForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let member = NewAgent {
        email: form.email,
        name: form.name,
        password: form.password,
        role: form.role,
    };
    Ok(
        match add_member(&state, caller.workspace_id(), member).await {
            Ok(user) => back("/agents", Ok(&format!("{} can now log in.", user.name))),
            Err(err) => back("/agents", Err(err.message)),
        },
    )
}

async fn notifications_page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let current = settings::load_for(&state, &caller).await?;
    let channels: Vec<serde_json::Value> = state
        .store
        .list_channels(ws)
        .await?
        .iter()
        .map(|c| crate::http::api::channels::view(&state, c))
        .collect();
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let wa = &current.whatsapp;
    let disabled = !caller.is_admin();
    let content = html! {
        div class="header" { h1 { "Settings → Notifications" } }
        (flash.render())
        form class="card" method="post" action="/settings/notifications" {
            h2 { "WhatsApp messages to agents" }
            p class="muted small" { "On every new handoff, each number below gets a WhatsApp message: free text if that agent wrote to your business number in the last 24 hours, otherwise the approved template." }
            (csrf_field(&caller))
            div class="toggle" {
                label for="wa-enabled" style="margin:0" { "Send WhatsApp notifications" }
                input id="wa-enabled" type="checkbox" name="enabled" value="true" checked[wa.enabled] disabled[disabled];
            }
            label for="wa-channel" { "Send from" }
            select id="wa-channel" name="channel_id" disabled[disabled] {
                option value="" { "— choose a connected number —" }
                @for c in &channels {
                    @let id = c["id"].as_str().unwrap_or_default();
                    option value=(id) selected[wa.channel_id.as_deref() == Some(id)] {
                        "WhatsApp " (c["phone_number_id"].as_str().unwrap_or("?"))
                    }
                }
            }
            @if channels.is_empty() { div class="hint" { "Connect a WhatsApp number on a bot's page first." } }
            label for="wa-recipients" { "Agents' numbers" }
            textarea id="wa-recipients" name="recipients" placeholder="+4915112345678, one per line" disabled[disabled] { (wa.recipients.join("\n")) }
            div class="grid2" {
                div { label for="wa-template" { "Template name" } input id="wa-template" type="text" name="template_name" value=(wa.template.name) disabled[disabled]; }
                div { label for="wa-language" { "Template language" } input id="wa-language" type="text" name="template_language" value=(wa.template.language) disabled[disabled]; }
            }
            div class="toggle" {
                label for="wa-quick" style="margin:0" { "The template has Accept and Decline quick-reply buttons" }
                input id="wa-quick" type="checkbox" name="quick_replies" value="true" checked[wa.template.quick_replies] disabled[disabled];
            }
            div class="hint" { "An agent whose WhatsApp number is on their account (Account page) gets Accept and Decline buttons: Accept claims the handoff for them, unless someone was faster." }
            @if !disabled { div style="margin-top:1rem" { button class="btn primary" type="submit" { "Save" } } }
        }
    };
    Ok(layout(
        &caller,
        Nav::Notifications,
        "Notifications",
        pending,
        content,
    ))
}

#[derive(Deserialize)]
struct NotificationsForm {
    csrf_token: String,
    enabled: Option<String>,
    channel_id: String,
    recipients: String,
    template_name: String,
    template_language: String,
    quick_replies: Option<String>,
}

async fn save_notifications(
    State(state): State<AppState>,
    Page(caller): Page,
    axum::Form(form): axum::Form<NotificationsForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let wanted = NotificationSettings {
        whatsapp: WhatsappNotifications {
            enabled: form.enabled.as_deref() == Some("true"),
            channel_id: Some(form.channel_id.trim().to_owned()).filter(|c| !c.is_empty()),
            recipients: form
                .recipients
                .split([',', '\n'])
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            template: Template {
                name: form.template_name.trim().to_owned(),
                language: form.template_language.trim().to_owned(),
                quick_replies: form.quick_replies.as_deref() == Some("true"),
            },
        },
    };
    Ok(back_after(
        "/settings/notifications",
        settings::save(&state, caller.workspace_id(), wanted).await,
        "Saved.",
    ))
}

#[derive(Deserialize)]
struct AssignmentForm {
    csrf_token: String,
    auto: Option<String>,
    limit: String,
}

async fn save_assignment(
    State(state): State<AppState>,
    Page(caller): Page,
    axum::Form(form): axum::Form<AssignmentForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let Ok(limit) = form.limit.trim().parse() else {
        return Ok(back(
            "/agents",
            Err(format!(
                "limit: must be a whole number from 1 to {}",
                AssignmentSettings::MAX_LIMIT
            )),
        ));
    };
    let wanted = AssignmentSettings {
        auto: form.auto.as_deref() == Some("true"),
        limit,
    };
    Ok(back_after(
        "/agents",
        settings::save_assignment(&state, caller.workspace_id(), wanted).await,
        "Saved.",
    ))
}

async fn remove_agent(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    Ok(match remove_member(&state, &caller, &id).await {
        Ok(0) => back("/agents", Ok("Removed.")),
        Ok(n) => back(
            "/agents",
            Ok(&format!(
                "Removed. {n} conversation(s) they were handling went back to the queue."
            )),
        ),
        Err(err) => back("/agents", Err(err.message)),
    })
}
