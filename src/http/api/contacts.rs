//! Customers as records: erasing one, with everything kept about them, when they ask to be
//! forgotten.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::delete;
use serde_json::Value;

use crate::error::ApiResult;
use crate::http::extract::Admin;
use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    Router::new().route("/contacts/{id}", delete(erase))
}

/// `DELETE /api/v1/contacts/{id}` (admins): the customer, their conversations, messages,
/// attachments and handoffs are deleted for good; 200 with the ids of what went, which the
/// `contact.erased` event carries too. A handoff's `customer.id` is the contact's id.
async fn erase(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let erased = state
        .store
        .erase_contact(caller.workspace_id(), &id, state.clock.now_ms())
        .await?;
    tracing::info!(
        contact = %erased.contact_id,
        by = %caller.user.id,
        conversations = erased.conversation_ids.len(),
        "erased a customer's data"
    );
    Ok(axum::Json(erased.view()))
}
