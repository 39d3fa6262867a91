//! Customers as records, for admins: the list (searched by name, number or id), everything
//! kept about one customer as a download, and erasing it when they ask to be forgotten.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Admin, ApiQuery, Caller};
use crate::state::AppState;
use crate::store::{ContactCursor, ContactFilter, Erased};
use crate::views::{ContactView, HandoffView, NoteView, messages_with_attachments};

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/contacts", get(list))
        .route("/contacts/{id}", get(read).delete(erase))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Part of a name, phone number or channel id, or a whole contact id.
    q: Option<String>,
    limit: Option<i64>,
    /// The next page, as the `Link` header gives it: the place after the previous page's
    /// last customer.
    after: Option<String>,
}

/// `GET /api/v1/contacts`: customers, most recently active first; a full page links to the
/// next (`Link: <…>; rel="next"`), as `/handoffs` does.
async fn list(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(raw) => Some(ContactCursor::parse(raw).ok_or_else(|| {
            ApiError::validation("after: not a place in this list; follow the Link header")
        })?),
    };
    let filter = ContactFilter {
        query: query.q.filter(|q| !q.trim().is_empty()),
        limit: query.limit.unwrap_or(100).clamp(1, 500),
        after,
    };
    let contacts = state
        .store
        .list_contacts(caller.workspace_id(), &filter)
        .await?;
    let next = match contacts.last() {
        Some(last) if contacts.len() as i64 == filter.limit => {
            let mut params = vec![("limit", filter.limit.to_string())];
            if let Some(q) = &filter.query {
                params.push(("q", q.clone()));
            }
            params.push(("after", ContactCursor::after(last).to_string()));
            Some(super::next_page("/api/v1/contacts", &params))
        }
        _ => None,
    };
    let contacts: Vec<ContactView> = contacts.iter().map(ContactView::from).collect();
    Ok(super::with_next_link(
        axum::Json(contacts).into_response(),
        next,
    ))
}

/// Everything Baton keeps about a customer, for them to have a copy (a subject access
/// request) or an admin to look through: who they are, every conversation with every bot
/// with all its messages and files and the notes the team wrote about it, and every handoff
/// with its summary.
pub(crate) async fn export(state: &AppState, workspace_id: &str, id: &str) -> ApiResult<Value> {
    let contact = state.store.contact(workspace_id, id).await?;
    let mut conversations = Vec::new();
    for conversation in state
        .store
        .conversations_of_contact(workspace_id, id)
        .await?
    {
        let messages = state.store.all_messages(&conversation.id).await?;
        let attachments = state
            .store
            .attachments_of(workspace_id, &conversation.id)
            .await?;
        let notes = state.store.notes_of(workspace_id, &conversation.id).await?;
        conversations.push(json!({
            "id": conversation.id,
            "bot_id": conversation.bot_id,
            "channel": conversation.channel,
            "created_at": rfc3339(conversation.created_at),
            "messages": messages_with_attachments(&messages, &attachments),
            "notes": notes.iter().map(NoteView::from).collect::<Vec<_>>(),
        }));
    }
    let handoffs: Vec<HandoffView> = state
        .store
        .handoffs_of_contact(workspace_id, id)
        .await?
        .iter()
        .map(HandoffView::from)
        .collect();
    Ok(json!({
        "contact": {
            "id": contact.id,
            "channel": contact.channel,
            "external_id": contact.external_id,
            "name": contact.name,
            "phone": contact.phone,
            "created_at": rfc3339(contact.created_at),
            "last_message_at": contact.last_inbound_at.map(rfc3339),
        },
        "conversations": conversations,
        "handoffs": handoffs,
        "exported_at": rfc3339(state.clock.now_ms()),
    }))
}

/// `GET /api/v1/contacts/{id}`: the customer's whole record (see [`export`]).
async fn read(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        export(&state, caller.workspace_id(), &id).await?,
    ))
}

/// `DELETE /api/v1/contacts/{id}` (admins): the customer, their conversations, messages,
/// attachments and handoffs are deleted for good; 200 with the ids of what went, which the
/// `contact.erased` event carries too. A handoff's `customer.id` is the contact's id.
async fn erase(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(erase_for(&state, &caller, &id).await?.view()))
}

/// Erases a customer of the caller's workspace, for the API and the dashboard alike.
pub(crate) async fn erase_for(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Erased> {
    let erased = state
        .store
        .erase_contact(caller.workspace_id(), id, state.clock.now_ms())
        .await?;
    tracing::info!(
        contact = %erased.contact_id,
        by = %caller.user.id,
        conversations = erased.conversation_ids.len(),
        "erased a customer's data"
    );
    // Whoever held their handoff is free for the next one.
    state.assign_wake.notify_one();
    Ok(erased)
}
