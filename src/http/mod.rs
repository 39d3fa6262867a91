//! The HTTP surface: the JSON API under `/api/v1`, health and metrics. Handlers are thin: they
//! extract, call one store or service function, and map the result.

pub mod api;
mod assets;
mod dashboard;
pub mod extract;
mod metrics;
pub mod webhooks;
pub mod widget;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, Code};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .nest("/api/v1", api::router())
        .merge(widget::router())
        .merge(webhooks::router())
        .merge(dashboard::router())
        .merge(assets::router())
        // A route layer runs after routing, so the route pattern is known for the labels.
        .route_layer(axum::middleware::from_fn(metrics::track))
        .fallback(not_found)
        .layer(axum::middleware::map_response(method_not_allowed))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Prometheus text; behind a bearer token when `BATON_METRICS_TOKEN` is set.
async fn metrics_text(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let given = headers.get(header::AUTHORIZATION).and_then(extract::bearer);
        // Digests are compared, so the time taken says nothing about the token.
        let digest = |v: &str| Sha256::digest(v.as_bytes());
        if given.map(digest) != Some(digest(token.expose())) {
            let refusal = ApiError::new(
                Code::AuthenticationRequired,
                "metrics need the bearer token set in BATON_METRICS_TOKEN",
            );
            return (
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                refusal,
            )
                .into_response();
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// Axum's own 405 has an empty body; it gets the API's error shape, keeping its `Allow`
/// and other headers. (Not a method fallback: that would answer CORS preflights for the widget before
/// the CORS layer could.)
async fn method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut answer = ApiError::new(
        Code::MethodNotAllowed,
        "this route does not take that method",
    )
    .into_response();
    // `Allow`, and the CORS headers of the widget's routes, stay as they were.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}
