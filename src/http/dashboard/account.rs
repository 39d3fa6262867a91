//! The signed-in user's own account: choosing a new password, and the WhatsApp number from
//! which they can accept handoff notifications. Someone logged in with the one-time password
//! printed on first start is sent here before anything else.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Flash, Nav, Page, back, check_csrf, csrf_field, layout};
use crate::accounts;
use crate::domain::Password;
use crate::domain::settings::parse_optional_phone;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Where the password is changed; the one page open to a user who must change theirs.
pub const PASSWORD_PAGE: &str = "/account/password";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PASSWORD_PAGE, get(page).post(change))
        .route("/account/whatsapp", post(set_whatsapp))
}

async fn page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    let (pending, _, _) = state.store.handoff_counts(caller.workspace_id()).await?;
    let content = html! {
        div class="header" { h1 { "Your account" } }
        (flash.render())
        @if caller.user.must_change_password() {
            div class="flash error" role="alert" {
                "You logged in with the one-time password printed when Baton first started. \
                 Choose your own to go on."
            }
        }
        form class="card" method="post" action=(PASSWORD_PAGE) style="max-width:28rem" {
            h2 { "Password" }
            (csrf_field(&caller))
            label for="current_password" { "Current password" }
            input id="current_password" type="password" name="current_password" autocomplete="current-password" required;
            label for="new_password" { "New password" }
            input id="new_password" type="password" name="new_password" autocomplete="new-password" minlength="8" required;
            label for="confirm_password" { "New password, again" }
            input id="confirm_password" type="password" name="confirm_password" autocomplete="new-password" minlength="8" required;
            div class="hint" { "You will log in again with it, here and on your other devices." }
            div style="margin-top:1rem" { button class="btn primary" type="submit" { "Change password" } }
        }
        @if !caller.user.must_change_password() {
            form class="card" method="post" action="/account/whatsapp" style="max-width:28rem" {
                h2 { "Your WhatsApp number" }
                (csrf_field(&caller))
                label for="whatsapp_number" { "Number, in international form" }
                input id="whatsapp_number" type="tel" name="whatsapp_number" placeholder="+4915112345678" value=(caller.user.whatsapp_number.as_deref().unwrap_or_default());
                div class="hint" { "When this number gets a new-handoff notification (Settings → Notifications), its Accept button claims the handoff for you. Leave it empty to unlink it." }
                div style="margin-top:1rem" { button class="btn primary" type="submit" { "Save number" } }
            }
        }
    };
    Ok(layout(
        &caller,
        Nav::Account,
        "Your account",
        pending,
        content,
    ))
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// Changes the password and ends every session of the user: they log in again with it.
async fn change(
    State(state): State<AppState>,
    Page(caller): Page,
    Form(form): Form<ChangeForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    if form.new_password != form.confirm_password {
        return Ok(back(
            PASSWORD_PAGE,
            Err("The two new passwords differ.".to_owned()),
        ));
    }
    let new_password = match Password::parse(&form.new_password) {
        Ok(password) => password,
        Err(err) => return Ok(back(PASSWORD_PAGE, Err(err.to_string()))),
    };
    let changed =
        accounts::change_password(&state, &caller.user, form.current_password, new_password)
            .await?;
    Ok(match changed {
        Ok(()) => {
            Redirect::to("/login?ok=Password%20changed%3A%20log%20in%20with%20the%20new%20one.")
                .into_response()
        }
        Err(refusal) => {
            let text = refusal.to_string();
            back(
                PASSWORD_PAGE,
                Err(text[..1].to_uppercase() + &text[1..] + "."),
            )
        }
    })
}

#[derive(Deserialize)]
struct WhatsappForm {
    csrf_token: String,
    whatsapp_number: String,
}

/// Links (or, empty, unlinks) the user's WhatsApp number.
async fn set_whatsapp(
    State(state): State<AppState>,
    Page(caller): Page,
    Form(form): Form<WhatsappForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    let number = match parse_optional_phone("whatsapp_number", &form.whatsapp_number) {
        Ok(number) => number,
        Err(err) => return Ok(back(PASSWORD_PAGE, Err(err.problem))),
    };
    let saved = state
        .store
        .set_whatsapp_number(caller.workspace_id(), &caller.user.id, number.as_deref())
        .await;
    Ok(match (saved, number) {
        (Ok(_), Some(_)) => back(PASSWORD_PAGE, Ok("WhatsApp number saved.")),
        (Ok(_), None) => back(PASSWORD_PAGE, Ok("WhatsApp number removed.")),
        (Err(crate::store::StoreError::Conflict(_)), _) => back(
            PASSWORD_PAGE,
            Err("Another member of the workspace has this WhatsApp number.".to_owned()),
        ),
        (Err(err), _) => return Err(err.into()),
    })
}
