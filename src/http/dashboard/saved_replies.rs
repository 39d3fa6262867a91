//! Settings → Saved replies: the team's ready answers. Everyone reads them (and inserts them
//! in a handoff by typing `/` and the shortcut); admins add, change and delete them. A form
//! that is refused comes back with what was typed, so nothing has to be written twice.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Flash, Nav, Page, back, check_csrf, csrf_field, layout, refused, require_admin};
use crate::domain::{MessageText, Shortcut};
use crate::error::{ApiError, ApiResult};
use crate::http::api::saved_replies::{NewSavedReply, add_saved_reply};
use crate::http::extract::Caller;
use crate::state::AppState;
use crate::store::MAX_SAVED_REPLIES;

pub const PATH: &str = "/settings/saved-replies";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(page).post(create))
        .route("/settings/saved-replies/{id}", post(change))
        .route("/settings/saved-replies/{id}/delete", post(delete))
}

#[derive(Deserialize)]
struct ReplyForm {
    csrf_token: String,
    shortcut: String,
    text: String,
}

/// A form refused, shown again as it was sent: the new reply's (`id` none) or a saved one's.
struct Typed {
    id: Option<String>,
    shortcut: String,
    text: String,
}

impl ReplyForm {
    fn typed(self, id: Option<String>) -> Typed {
        Typed {
            id,
            shortcut: self.shortcut,
            text: self.text,
        }
    }
}

async fn page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    render(&state, &caller, flash.render(), None).await
}

async fn render(
    state: &AppState,
    caller: &Caller,
    notice: Markup,
    typed: Option<Typed>,
) -> ApiResult<Markup> {
    let ws = caller.workspace_id();
    let (pending, _, _) = state.store.handoff_counts(ws).await?;
    let replies = state.store.saved_replies(ws).await?;
    let admin = caller.is_admin();
    let typed_for = |id: Option<&str>| typed.as_ref().filter(|t| t.id.as_deref() == id);
    let content = html! {
        div class="header" { h1 { "Settings → Saved replies" } }
        (notice)
        p class="muted small" {
            "In a handoff, type " code { "/" } " and a shortcut to insert a reply. "
            code { "{{customer_name}}" } " and " code { "{{agent_name}}" }
            " are filled in with the customer's and your name; you can still edit the text before sending."
        }
        @if replies.is_empty() {
            div class="card" { p class="empty" { "No saved replies yet." } }
        }
        @for reply in &replies {
            @let shown = typed_for(Some(&reply.id));
            div class="card" data-reply=(reply.id) {
                @if admin {
                    form method="post" action=(format!("{PATH}/{}", reply.id)) {
                        (csrf_field(caller))
                        label for=(format!("shortcut-{}", reply.id)) { "Shortcut" }
                        input id=(format!("shortcut-{}", reply.id)) type="text" name="shortcut" required maxlength=(Shortcut::MAX_CHARS)
                            autofocus[shown.is_some()]
                            value=(shown.map_or(reply.shortcut.as_str(), |t| t.shortcut.as_str()));
                        label for=(format!("text-{}", reply.id)) { "Text" }
                        textarea id=(format!("text-{}", reply.id)) name="text" rows="3" required maxlength=(MessageText::MAX_CHARS) {
                            (shown.map_or(reply.text.as_str(), |t| t.text.as_str()))
                        }
                        div class="actions" style="margin-top:.6rem" {
                            button class="btn" type="submit" { "Save" }
                            button class="btn danger" type="submit" formnovalidate
                                formaction=(format!("{PATH}/{}/delete", reply.id))
                                data-confirm=(format!("Delete the saved reply /{}?", reply.shortcut)) { "Delete" }
                        }
                    }
                } @else {
                    div { code { "/" (reply.shortcut) } }
                    p style="white-space:pre-wrap;margin:.4rem 0 0" { (reply.text) }
                }
            }
        }
        @if admin {
            @let shown = typed_for(None);
            form class="card" method="post" action=(PATH) id="new-reply" {
                h2 { "Add a saved reply" }
                (csrf_field(caller))
                label for="reply-shortcut" { "Shortcut" }
                input id="reply-shortcut" type="text" name="shortcut" required maxlength=(Shortcut::MAX_CHARS)
                    placeholder="refund-policy" value=[shown.map(|t| t.shortcut.as_str())] autofocus[shown.is_some()];
                label for="reply-body" { "Text" }
                textarea id="reply-body" name="text" rows="4" required maxlength=(MessageText::MAX_CHARS)
                    placeholder="Hi {{customer_name}}, you can return unworn items within 30 days…" {
                    (shown.map_or("", |t| t.text.as_str()))
                }
                p class="hint" { "Up to " (MAX_SAVED_REPLIES) " replies; a shortcut is one word: letters, digits, - and _." }
                div style="margin-top:1rem" { button class="btn primary" type="submit" { "Add" } }
            }
        } @else {
            p class="muted small" { "Only admins can add and change saved replies." }
        }
    };
    Ok(layout(
        caller,
        Nav::SavedReplies,
        "Saved replies",
        pending,
        content,
    ))
}

async fn create(
    State(state): State<AppState>,
    Page(caller): Page,
    axum::Form(form): axum::Form<ReplyForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let body = NewSavedReply {
        shortcut: form.shortcut.clone(),
        text: form.text.clone(),
    };
    match add_saved_reply(&state, &caller, body).await {
        Ok(reply) => Ok(back(PATH, Ok(&format!("Added /{}.", reply.shortcut)))),
        // A bad or taken shortcut, an empty text, a full list: the form again, to fix.
        Err(err) => {
            refused(err, |notice| {
                render(&state, &caller, notice, Some(form.typed(None)))
            })
            .await
        }
    }
}

async fn change(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ReplyForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let changed = async {
        let shortcut = Shortcut::parse(&form.shortcut)?;
        let text = MessageText::parse(&form.text)?;
        let reply = state
            .store
            .change_saved_reply(
                caller.workspace_id(),
                &id,
                Some(&shortcut),
                Some(&text),
                state.clock.now_ms(),
            )
            .await?;
        Ok::<_, ApiError>(reply)
    }
    .await;
    match changed {
        Ok(reply) => Ok(back(PATH, Ok(&format!("Saved /{}.", reply.shortcut)))),
        Err(err) => {
            refused(err, |notice| {
                render(&state, &caller, notice, Some(form.typed(Some(id))))
            })
            .await
        }
    }
}

async fn delete(
    State(state): State<AppState>,
    Page(caller): Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<super::CsrfOnly>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    require_admin(&caller)?;
    let reply = state.store.saved_reply(caller.workspace_id(), &id).await;
    state
        .store
        .delete_saved_reply(caller.workspace_id(), &id)
        .await?;
    let name = reply.map_or_else(|_| "the reply".to_owned(), |r| format!("/{}", r.shortcut));
    Ok(back(PATH, Ok(&format!("Deleted {name}."))))
}
