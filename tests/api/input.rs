//! Bad input gets a clear error and stores nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{code, spawn_app, spawn_app_with};

#[tokio::test]
async fn malformed_json_is_a_400_and_stores_nothing() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (status, body) = owner
        .post_raw(
            "/api/v1/bots",
            "application/json",
            b"{\"name\": \"Sh".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "malformed_json");
    assert_eq!(owner.get("/api/v1/bots").await.1, json!([]));
}

#[tokio::test]
async fn wrong_types_and_invalid_values_are_a_422() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (status, body) = owner.post("/api/v1/bots", json!({"name": 42})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "invalid_body");
    let (status, body) = owner.post("/api/v1/bots", json!({"name": "   "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "validation_failed");
    assert!(body["error"]["message"].as_str().unwrap().contains("name"));
    let (status, _) = owner
        .post("/api/v1/bots", json!({"name": "X", "colour": "red"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = owner
        .post(
            "/api/v1/agents",
            json!({"email": "not-an-email", "name": "A", "password": "password-123", "role": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["message"].as_str().unwrap().contains("email"));
    let (status, _) = owner
        .post(
            "/api/v1/agents",
            json!({"email": "a@shop.test", "name": "A", "password": "short", "role": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(owner.get("/api/v1/bots").await.1, json!([]));
    assert_eq!(
        owner
            .get("/api/v1/agents")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn an_oversized_body_is_a_413_and_stores_nothing() {
    let app = spawn_app_with(|s| s.max_body_bytes = Some(4096)).await;
    let owner = app.owner().await;
    let huge = json!({"name": "Big", "system_prompt": "x".repeat(10_000)});
    let (status, body) = owner.post("/api/v1/bots", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "payload_too_large");
    assert_eq!(owner.get("/api/v1/bots").await.1, json!([]));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (status, body) = owner
        .post_raw("/api/v1/bots", "text/plain", b"name=Shop".to_vec())
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(code(&body), "unsupported_media_type");
}

#[tokio::test]
async fn markup_in_names_is_stored_and_returned_verbatim() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let name = "<script>alert('x')</script> & <b>Co</b>";
    let bot = owner.create_bot(name).await;
    let (_, read) = owner
        .get(&format!("/api/v1/bots/{}", bot["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["name"], name);
}

#[tokio::test]
async fn bad_query_strings_and_wrong_methods_answer_in_the_error_shape() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let search = format!("/api/v1/bots/{}/search", shop.bot_id);
    for (api, path) in [
        (&shop.owner, "/api/v1/handoffs?limit=many"),
        (&shop.owner, search.as_str()),
        (&shop.owner, "/api/v1/events?after=yesterday"),
        (&visitor.api, "/widget/v1/messages?after=x"),
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(code(&body), "bad_request", "{path}: {body}");
    }
    let (status, body) = shop.owner.delete("/api/v1/me").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(code(&body), "method_not_allowed");

    // A stream's address opened as a page: told to use a WebSocket, in the same shape.
    let stream = format!("/widget/v1/stream?token={}", visitor.token);
    for (api, path) in [
        (&shop.owner, "/api/v1/events"),
        (&visitor.api, stream.as_str()),
    ] {
        let response = api.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED, "{path}");
        assert_eq!(response.headers()["upgrade"], "websocket", "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(code(&body), "upgrade_required", "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("connect with a WebSocket client"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn nul_characters_are_refused_as_input_not_failed_on_by_the_database() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let bot = format!("/api/v1/bots/{}", shop.bot_id);
    let (status, body) = shop
        .owner
        .patch(&bot, json!({"greeting": "Hi\u{0}there"}))
        .await;
    refused_naming(status, &body, "greeting");
    let (status, body) = shop
        .owner
        .post(
            &format!("{bot}/documents"),
            json!({"title": "Binary", "content": "PK\u{0}\u{3}\u{4} not text"}),
        )
        .await;
    refused_naming(status, &body, "content");
    let (_, docs) = shop.owner.get(&format!("{bot}/documents")).await;
    assert_eq!(docs.as_array().unwrap().len(), 2, "{docs}");
    let (_, stored) = shop.owner.get(&bot).await;
    assert!(!stored["greeting"].as_str().unwrap().contains("there"));
}

/// A 422 whose message names the field at fault.
fn refused_naming(status: StatusCode, body: &serde_json::Value, field: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(field), "{message}");
}
