//! Customers (admins): find a customer by name, number or id; read everything kept about
//! them, download it as JSON, or erase it; and set how long customers' data is kept.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::handoffs::{ago, history};
use super::{Flash, Nav, Page, back, check_csrf, csrf_field, layout, require_admin};
use crate::domain::clock::rfc3339;
use crate::domain::settings::RetentionSettings;
use crate::error::{ApiError, ApiResult};
use crate::http::api::contacts::{erase_for, export};
use crate::http::api::settings::{load_retention, save_retention};
use crate::http::extract::Caller;
use crate::state::AppState;
use crate::store::{ContactCursor, ContactFilter, StoreError};

const PATH: &str = "/customers";

/// Customers per page.
const PAGE: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list))
        .route("/customers/retention", post(set_retention))
        .route("/customers/{id}", get(view))
        .route("/customers/{id}/export", get(download))
        .route("/customers/{id}/erase", post(erase))
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

/// Admins only, as the API's `/contacts`; others are told so on the page.
fn admins_only(caller: &Caller, pending: i64, title: &str) -> Markup {
    layout(
        caller,
        Nav::Customers,
        title,
        pending,
        html! {
            div class="header" { h1 { "Customers" } }
            p class="muted" { "Only admins can look up, download and erase customers' data." }
        },
    )
}

async fn list(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(query): Query<ListQuery>,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    if !caller.is_admin() {
        return Ok(admins_only(&caller, pending, "Customers"));
    }
    let search = query.q.unwrap_or_default();
    let filter = ContactFilter {
        query: Some(search.clone()).filter(|q| !q.trim().is_empty()),
        limit: PAGE,
        after: query.after.as_deref().and_then(ContactCursor::parse),
    };
    let contacts = state.store.list_contacts(ws, &filter).await?;
    let retention = load_retention(&state, ws).await?;
    let now = state.clock.now_ms();
    let next = contacts
        .last()
        .filter(|_| contacts.len() as i64 == PAGE)
        .map(|last| {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("q", &search)
                .append_pair("after", &ContactCursor::after(last).to_string())
                .finish();
            format!("{PATH}?{query}")
        });
    let content = html! {
        div class="header" { h1 { "Customers" } }
        (flash.render())
        form class="actions" method="get" action=(PATH) role="search" style="margin-bottom:1rem" {
            input type="search" name="q" value=(search) aria-label="Search customers"
                placeholder="Name, phone number or id" style="max-width:24rem";
            button class="btn" type="submit" { "Search" }
        }
        div class="card" style="padding:0" {
            table {
                thead { tr { th { "Customer" } th { "Channel" } th { "Last active" } th { "Chats" } th { "Handoff" } } }
                tbody id="customer-list" {
                    @for c in &contacts {
                        tr data-contact=(c.id) {
                            td {
                                a href=(format!("{PATH}/{}", c.id)) { (c.name) }
                                @if let Some(phone) = &c.phone { div class="muted small" { (phone) } }
                            }
                            td { (c.channel) }
                            td title=(rfc3339(c.last_active_at)) { (ago(c.last_active_at, now)) }
                            td { (c.conversations) }
                            td {
                                @if let Some(handoff) = &c.open_handoff_id {
                                    a href=(format!("/handoffs/{handoff}")) { "open" }
                                } @else { span class="muted" { "—" } }
                            }
                        }
                    }
                    @if contacts.is_empty() {
                        tr { td colspan="5" class="empty" {
                            @if search.trim().is_empty() { "No customers yet." } @else { "No customer matches “" (search) "”." }
                        } }
                    }
                    @if let Some(next) = &next {
                        tr { td colspan="5" { a class="btn" id="next-page" href=(next) { "Next " (PAGE) " →" } } }
                    }
                }
            }
        }
        form class="card" method="post" action="/customers/retention" {
            h2 { "Data retention" }
            (csrf_field(&caller))
            p class="muted small" {
                "Erase a customer, with their chats, files and handoffs, once they have been idle this many days. "
                "Customers with a handoff still open are kept. Leave it empty to keep data until you erase it."
            }
            label for="keep-days" { "Keep customers' data for (days)" }
            input id="keep-days" type="number" name="keep_days" min="1" max=(RetentionSettings::MAX_DAYS)
                value=[retention.keep_days] placeholder="forever" style="max-width:10rem";
            div style="margin-top:1rem" { button class="btn primary" type="submit" { "Save" } }
        }
    };
    Ok(layout(
        &caller,
        Nav::Customers,
        "Customers",
        pending,
        content,
    ))
}

#[derive(Deserialize)]
struct RetentionForm {
    csrf_token: String,
    keep_days: String,
}

async fn set_retention(
    State(state): State<AppState>,
    Page(caller): Page,
    axum::Form(form): axum::Form<RetentionForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let keep_days = match form.keep_days.trim() {
        "" => None,
        days => match days.parse() {
            Ok(days) => Some(days),
            Err(_) => return Ok(back(PATH, Err(format!("{days:?} is not a number of days")))),
        },
    };
    Ok(
        match save_retention(
            &state,
            caller.workspace_id(),
            RetentionSettings { keep_days },
        )
        .await
        {
            Ok(RetentionSettings {
                keep_days: Some(days),
            }) => back(
                PATH,
                Ok(&format!(
                    "Saved: customers idle for {days} days are erased."
                )),
            ),
            Ok(_) => back(
                PATH,
                Ok("Saved: customers' data is kept until you erase it."),
            ),
            Err(err) => back(PATH, Err(err.message)),
        },
    )
}

async fn view(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    if !caller.is_admin() {
        return Ok(admins_only(&caller, pending, "Customer"));
    }
    let contact = state.store.contact(ws, &id).await?;
    let conversations = state.store.conversations_of_contact(ws, &id).await?;
    let handoffs = state.store.handoffs_of_contact(ws, &id).await?;
    let bots = state.store.list_bots(ws).await?;
    let bot_name = |bot_id: &str| {
        bots.iter()
            .find(|b| b.id == bot_id)
            .map_or_else(|| bot_id.to_owned(), |b| b.name.clone())
    };
    let now = state.clock.now_ms();
    let mut chats = Vec::with_capacity(conversations.len());
    for conversation in &conversations {
        let messages = state.store.all_messages(&conversation.id).await?;
        let attachments = state.store.attachments_of(ws, &conversation.id).await?;
        let notes = state.store.notes_of(ws, &conversation.id).await?;
        let shown = history(&messages, &notes, &attachments);
        chats.push((conversation, messages.len(), shown));
    }
    let content = html! {
        div class="header" {
            div {
                a href=(PATH) class="small" { "← All customers" }
                h1 style="margin-top:.4rem" { (contact.name) }
            }
            div class="actions" {
                a class="btn" id="download" href=(format!("{PATH}/{}/export", contact.id)) download { "Download data (JSON)" }
                form method="post" action=(format!("{PATH}/{}/erase", contact.id))
                    data-confirm=(format!("Erase {}? Their conversations, messages, files, handoffs, ratings and the team's notes are deleted for good.", contact.name)) {
                    (csrf_field(&caller))
                    button class="btn danger" id="erase" type="submit" { "Erase customer" }
                }
            }
        }
        div class="grid2" style="grid-template-columns: 2fr 1fr" {
            div {
                @if chats.is_empty() {
                    div class="card" { p class="muted" { "No conversations." } }
                }
                @for (conversation, count, shown) in &chats {
                    div class="card" data-conversation=(conversation.id) {
                        h2 { "With " (bot_name(&conversation.bot_id)) " · " (conversation.channel) " · " (count) " messages" }
                        div class="conversation" { (shown) }
                    }
                }
            }
            div class="card" {
                h2 { "Details" }
                dl class="facts" {
                    dt { "Id" } dd style="word-break:break-all" { code { (contact.id) } }
                    dt { "Channel" } dd { (contact.channel) }
                    @if let Some(phone) = &contact.phone { dt { "Phone" } dd { (phone) } }
                    dt { "First seen" } dd title=(rfc3339(contact.created_at)) { (ago(contact.created_at, now)) }
                    @if let Some(at) = contact.last_inbound_at {
                        dt { "Last wrote" } dd title=(rfc3339(at)) { (ago(at, now)) }
                    }
                }
                h2 style="margin-top:1.2rem" { "Handoffs" }
                @if handoffs.is_empty() { p class="muted small" { "None." } }
                ul class="small" style="padding-left:1.1rem" {
                    @for h in &handoffs {
                        li {
                            a href=(format!("/handoffs/{}", h.id)) { (rfc3339(h.created_at)) }
                            " · " (h.status.replace('_', " ")) " · " (h.reason.replace('_', " "))
                        }
                    }
                }
            }
        }
    };
    Ok(layout(
        &caller,
        Nav::Customers,
        &contact.name,
        pending,
        content,
    ))
}

/// The customer's whole record as a JSON file, the same document `GET /api/v1/contacts/{id}`
/// answers.
async fn download(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_admin(&caller)?;
    let record = export(&state, caller.workspace_id(), &id).await?;
    let body = serde_json::to_vec_pretty(&record).map_err(ApiError::internal)?;
    // Ids are Baton's own (letters, digits, `_`), so the name needs no quoting beyond this.
    let filename: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"customer-{filename}.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

async fn erase(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let name = match state.store.contact(caller.workspace_id(), &id).await {
        Ok(contact) => contact.name,
        // A second click, or another admin or the retention sweep was first.
        Err(StoreError::NotFound(_)) => {
            return Ok(back(PATH, Err("This customer was already erased.".into())));
        }
        Err(err) => return Err(err.into()),
    };
    erase_for(&state, &caller, &id).await?;
    Ok(back(
        PATH,
        Ok(&format!("Erased {name} and everything kept about them.")),
    ))
}
