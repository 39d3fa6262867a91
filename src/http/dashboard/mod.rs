//! The agent dashboard: server-rendered pages (maud escapes every value, so customer text is
//! always text), plain HTML forms with a CSRF token for changes, and a little JavaScript
//! (`assets/dashboard.js`) for live updates over the events WebSocket.

mod account;
mod admin;
mod bots;
mod customers;
mod handoffs;
mod hours;
mod reports;
mod saved_replies;
mod webhooks;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::accounts;
use crate::error::{ApiError, ApiResult, Code};
use crate::http::extract::{Caller, end_session, from_another_site, session_cookie};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/handoffs") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .merge(handoffs::router())
        .merge(hours::router())
        .merge(customers::router())
        .merge(reports::router())
        .merge(saved_replies::router())
        .merge(bots::router())
        .merge(admin::router())
        .merge(webhooks::router())
        .merge(account::router())
        .layer(axum::middleware::map_response(content_security_policy))
}

/// Pages run only the dashboard's own script file: no inline script, no other origins. Even if
/// some text escaped its escaping, the browser would refuse to run it.
async fn content_security_policy(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
             base-uri 'self'; form-action 'self'",
        ),
    );
    response
}

/// A logged-in user looking at a page; anyone else is sent to the login page.
pub struct Page(pub Caller);

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) if caller.csrf_token.is_some() => {
                let open = matches!(parts.uri.path(), account::PASSWORD_PAGE | "/logout");
                if caller.user.must_change_password() && !open {
                    return Err(Redirect::to(account::PASSWORD_PAGE).into_response());
                }
                Ok(Page(caller))
            }
            _ => {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let target = format!("/login?next={}", urlencode(next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Refuses a form whose CSRF token is not the session's.
pub fn check_csrf(caller: &Caller, token: &str) -> Result<(), ApiError> {
    match &caller.csrf_token {
        Some(expected) if constant_eq(expected.as_bytes(), token.as_bytes()) => Ok(()),
        _ => Err(ApiError::forbidden(
            "the form expired or came from another site: reload the page and try again",
        )),
    }
}

/// Refuses a change by someone who is not an owner or admin.
pub fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("only admins can do this"))
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Which part of the navigation is active.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Handoffs,
    Customers,
    Reports,
    Bots,
    Marketplace,
    Notifications,
    BusinessHours,
    SavedReplies,
    Webhooks,
    Agents,
    Account,
}

/// The page frame: navigation, the user, and the content.
pub fn layout(caller: &Caller, nav: Nav, title: &str, pending: i64, content: Markup) -> Markup {
    let item = |target: Nav, href: &str, label: &str| {
        html! { a href=(href) class=[(target == nav).then_some("active")] { (label) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(caller.csrf_token.as_deref().unwrap_or_default());
                title { (title) " · Baton" }
                link rel="stylesheet" href="/assets/dashboard.css";
                script src="/assets/dashboard.js" defer {}
            }
            body data-user=(caller.user.id) data-admin=(caller.is_admin()) {
                nav class="sidebar" aria-label="Main" {
                    div class="logo" { span class="mark" { "B" } "Baton" }
                    div class="section" { "Tools" }
                    a href="/handoffs" class=[(nav == Nav::Handoffs).then_some("active")] {
                        "Handoffs"
                        span id="nav-pending" class=(if pending > 0 { "pill" } else { "pill zero" }) { (pending) }
                    }
                    (item(Nav::Customers, "/customers", "Customers"))
                    (item(Nav::Reports, "/reports", "Reports"))
                    div class="section" { "Build" }
                    (item(Nav::Bots, "/bots", "Bots"))
                    (item(Nav::Marketplace, "/marketplace", "Marketplace"))
                    div class="section" { "Settings" }
                    (item(Nav::Notifications, "/settings/notifications", "Notifications"))
                    (item(Nav::BusinessHours, hours::PATH, "Business hours"))
                    (item(Nav::SavedReplies, saved_replies::PATH, "Saved replies"))
                    (item(Nav::Webhooks, "/settings/webhooks", "Webhooks"))
                    (item(Nav::Agents, "/agents", "Agents"))
                    div class="spacer" {}
                    div class="me" {
                        div { strong { (caller.user.name) } }
                        // Shown by the script when the workspace assigns handoffs automatically.
                        button type="button" id="availability" class="availability" hidden
                            data-away=(caller.user.is_away()) aria-pressed=(caller.user.is_away()) {
                            (if caller.user.is_away() { "Away" } else { "Available" })
                        }
                        div class="muted small" { (caller.user.role().as_str()) " · "
                            a href=(account::PASSWORD_PAGE) class=[(nav == Nav::Account).then_some("active")] { "Account" } " · "
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf_token" value=(caller.csrf_token.as_deref().unwrap_or_default());
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main { (content) }
            }
        }
    }
}

/// The CSRF field every form carries.
pub fn csrf_field(caller: &Caller) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(caller.csrf_token.as_deref().unwrap_or_default()); }
}

/// A message shown at the top of a page after a form, from `?ok=` or `?error=`.
#[derive(Deserialize, Default)]
pub struct Flash {
    pub ok: Option<String>,
    pub error: Option<String>,
}

impl Flash {
    pub fn render(&self) -> Markup {
        html! {
            @if let Some(ok) = &self.ok { div class="flash ok" role="status" { (ok) } }
            @if let Some(error) = &self.error { div class="flash error" role="alert" { (error) } }
        }
    }
}

/// Back to a page with a message.
pub fn back(path: &str, result: Result<&str, String>) -> Response {
    let (key, text) = match result {
        Ok(text) => ("ok", text.to_owned()),
        Err(text) => ("error", text),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{key}={}", urlencode(&text))).into_response()
}

/// [`back`] after an action: `done` as the flash when it worked, the error's message if not.
/// A form's refusal the admin can fix (invalid input, a conflict such as a taken name): the
/// page again, answered with the refusal's status, its reason on top — `page` renders it with
/// the form as it was sent. Other errors as usual.
pub async fn refused<F, Fut>(err: ApiError, page: F) -> Result<Response, ApiError>
where
    F: FnOnce(Markup) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Markup>>,
{
    if !matches!(err.code, Code::ValidationFailed | Code::Conflict) {
        return Err(err);
    }
    let status = err.code.status();
    let notice = Flash {
        ok: None,
        error: Some(err.message),
    }
    .render();
    Ok((status, page(notice).await?).into_response())
}

pub fn back_after<T>(path: &str, result: ApiResult<T>, done: &str) -> Response {
    back(path, result.map(|_| done).map_err(|err| err.message))
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    error: Option<String>,
    ok: Option<String>,
}

async fn login_page(Query(query): Query<LoginQuery>) -> Markup {
    login_form(
        query.next.as_deref().unwrap_or("/handoffs"),
        query.error.as_deref(),
        query.ok.as_deref(),
    )
}

fn login_form(next: &str, error: Option<&str>, ok: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Log in · Baton" }
                link rel="stylesheet" href="/assets/dashboard.css";
            }
            body {
                div class="login-wrap" {
                    form class="card login" method="post" action="/login" {
                        div class="logo" { span class="mark" { "B" } "Baton" }
                        @if let Some(error) = error { div class="flash error" role="alert" { (error) } }
                        @if let Some(ok) = ok { div class="flash ok" role="status" { (ok) } }
                        input type="hidden" name="next" value=(next);
                        label for="email" { "Email" }
                        input id="email" type="email" name="email" autocomplete="username" required autofocus;
                        label for="password" { "Password" }
                        input id="password" type="password" name="password" autocomplete="current-password" required;
                        div style="margin-top:1.25rem" { button class="btn primary" type="submit" style="width:100%;justify-content:center" { "Log in" } }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    if from_another_site(&headers, &state.config.public_url) {
        // Another site's form would log the visitor into an account of its choosing.
        return Err(ApiError::forbidden("log in from Baton's own login page"));
    }
    let next = form
        .next
        .filter(|next| is_local_path(next))
        .unwrap_or_else(|| "/handoffs".to_owned());
    let user = match accounts::log_in(&state, &form.email, form.password).await? {
        accounts::Login::User(user) => user,
        accounts::Login::Refused => {
            return Ok(login_form(&next, Some("Wrong email or password."), None).into_response());
        }
        accounts::Login::Throttled(_) => {
            return Ok(login_form(
                &next,
                Some("Too many wrong passwords: wait a minute and try again."),
                None,
            )
            .into_response());
        }
    };
    let (token, _) = accounts::open_session(&state.store, &state.clock, &user).await?;
    Ok((jar.add(session_cookie(&state, token)), Redirect::to(&next)).into_response())
}

/// Whether `next` leads to a page of Baton itself: a path, not `//host` or `/\host` (which
/// browsers read as another host), and nothing a `Location` header cannot carry.
fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c == '\\')
}

/// A form whose only field is the CSRF token: logging out, deleting, removing.
#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    pub csrf_token: String,
}

async fn logout(
    State(state): State<AppState>,
    Page(caller): Page,
    jar: CookieJar,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &form.csrf_token)?;
    let jar = end_session(&state, jar).await?;
    Ok((jar, Redirect::to("/login")).into_response())
}

/// Raw JSON for a page's script, safe inside `<script>`: `<` is escaped so text cannot close
/// the tag.
pub fn json_for_script(value: &serde_json::Value) -> PreEscaped<String> {
    PreEscaped(value.to_string().replace('<', "\\u003c"))
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        for ok in ["/handoffs", "/bots/bot_1?tab=kb", "/"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\tevil",
            "/handoffs\nSet-Cookie: x=1",
            "handoffs",
            "",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}
