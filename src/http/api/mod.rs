//! `/api/v1`: one module per area, each exposing `router()`.

pub(crate) mod agents;
pub(crate) mod attachments;
mod auth;
pub(crate) mod bots;
pub(crate) mod channels;
pub(crate) mod contacts;
pub(crate) mod documents;
mod events;
mod handoffs;
mod keys;
mod marketplace;
pub(crate) mod reports;
pub(crate) mod saved_replies;
pub(crate) mod settings;
pub(crate) mod webhooks;
mod workspaces;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::Serialize;

use crate::domain::clock::rfc3339;
use crate::state::AppState;
use crate::store::UserRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(agents::router())
        .merge(attachments::router())
        .merge(workspaces::router())
        .merge(keys::router())
        .merge(bots::router())
        .merge(documents::router())
        .merge(handoffs::router())
        .merge(events::router())
        .merge(marketplace::router())
        .merge(settings::router())
        .merge(channels::router())
        .merge(contacts::router())
        .merge(reports::router())
        .merge(saved_replies::router())
        .merge(webhooks::router())
}

/// The `Link` header value of a list's next page: `path` with `params` as its query.
pub(crate) fn next_page(path: &str, params: &[(&str, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        query.append_pair(key, value);
    }
    format!("<{path}?{}>; rel=\"next\"", query.finish())
}

/// `response` with a `Link` header to the next page, when there is one.
pub(crate) fn with_next_link(mut response: Response, next: Option<String>) -> Response {
    if let Some(link) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}

/// A user as the API shows them: never their password hash.
#[derive(Serialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub workspace_id: String,
    pub created_at: String,
    /// The account still has its one-time password: nothing but `/me`, the password change
    /// and logout answers until it is changed.
    pub must_change_password: bool,
    /// Their own WhatsApp number, from which they can accept handoff notifications.
    pub whatsapp_number: Option<String>,
    /// Away: given no handoffs automatically (see `/settings/assignment`).
    pub away: bool,
    /// When their dashboard last showed a sign of life: they count as there for automatic
    /// assignment within three stream heartbeats (90 s by default) of it.
    pub last_seen_at: Option<String>,
}

impl From<&UserRecord> for UserView {
    fn from(user: &UserRecord) -> Self {
        UserView {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role().as_str(),
            workspace_id: user.workspace_id.clone(),
            created_at: rfc3339(user.created_at),
            must_change_password: user.must_change_password(),
            whatsapp_number: user.whatsapp_number.clone(),
            away: user.is_away(),
            last_seen_at: user.seen_at.map(rfc3339),
        }
    }
}
