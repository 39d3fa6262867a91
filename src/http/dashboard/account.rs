//! The signed-in user's own account: choosing a new password. Someone logged in with the
//! one-time password printed on first start is sent here before anything else.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Flash, Nav, Page, back, check_csrf, csrf_field, layout};
use crate::accounts;
use crate::domain::Password;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Where the password is changed; the one page open to a user who must change theirs.
pub const PASSWORD_PAGE: &str = "/account/password";

pub fn router() -> Router<AppState> {
    Router::new().route(PASSWORD_PAGE, get(page).post(change))
}

async fn page(
    State(state): State<AppState>,
    Page(caller): Page,
    Query(flash): Query<Flash>,
) -> ApiResult<Markup> {
    let (pending, _, _) = state.store.handoff_counts(caller.workspace_id()).await?;
    let content = html! {
        div class="header" { h1 { "Your password" } }
        (flash.render())
        @if caller.user.must_change_password() {
            div class="flash error" role="alert" {
                "You logged in with the one-time password printed when Baton first started. \
                 Choose your own to go on."
            }
        }
        form class="card" method="post" action=(PASSWORD_PAGE) style="max-width:28rem" {
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
    };
    Ok(layout(
        &caller,
        Nav::Account,
        "Your password",
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
