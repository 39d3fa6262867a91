//! Files embedded in the binary at build time: the dashboard's stylesheet and script, the chat
//! widget, and the demo page.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

const DASHBOARD_CSS: &str = include_str!("../../assets/dashboard.css");
const DASHBOARD_JS: &str = include_str!("../../assets/dashboard.js");
pub const WIDGET_JS: &str = include_str!("../../assets/widget.js");
const DEMO_HTML: &str = include_str!("../../assets/demo.html");

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/assets/dashboard.css",
            get(|| async { asset("text/css", DASHBOARD_CSS) }),
        )
        .route(
            "/assets/dashboard.js",
            get(|| async { asset("text/javascript", DASHBOARD_JS) }),
        )
        .route(
            "/widget.js",
            get(|| async { asset("text/javascript", WIDGET_JS) }),
        )
        .route("/demo", get(demo))
        // The widget is what a business's visitors download: send it compressed.
        .layer(tower_http::compression::CompressionLayer::new())
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Short, so an upgrade reaches browsers soon; long enough to spare repeat loads.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// A plain shop page with the demo bot's widget on it (only under `baton demo`).
async fn demo(State(state): State<AppState>) -> Response {
    match &state.demo_widget_key {
        Some(key) => Html(
            DEMO_HTML
                .replace("{{WIDGET_KEY}}", key)
                .replace("{{PUBLIC_URL}}", &state.config.public_url),
        )
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "the demo page exists under `baton demo`",
        )
            .into_response(),
    }
}
