//! Bots, the marketplace and per-bot tools; health and metrics.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{code, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_bot_is_created_with_defaults_read_and_updated() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Shop helper").await;
    let id = bot["id"].as_str().unwrap();
    assert!(bot["widget_key"].as_str().unwrap().starts_with("wk_"));
    assert!(
        bot["response_time_text"]
            .as_str()
            .unwrap()
            .contains("2 hours")
    );
    assert!(
        bot["widget_snippet"]
            .as_str()
            .unwrap()
            .contains(bot["widget_key"].as_str().unwrap())
    );
    assert_eq!(bot["tools"], json!([]));
    assert_eq!(bot["kb_language"], "en");

    let (status, updated) = owner
        .patch(
            &format!("/api/v1/bots/{id}"),
            json!({"system_prompt": "Be brief.", "response_time_text": "We reply within a day."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Shop helper");
    assert_eq!(updated["system_prompt"], "Be brief.");
    let (_, read) = owner.get(&format!("/api/v1/bots/{id}")).await;
    assert_eq!(read["response_time_text"], "We reply within a day.");
    assert_eq!(read["widget_key"], bot["widget_key"]);

    let (_, all) = owner.get("/api/v1/bots").await;
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn request_handoff_is_installed_then_enabled_then_gone_on_uninstall() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Shop").await;
    let tool_url = format!(
        "/api/v1/bots/{}/tools/request_handoff",
        bot["id"].as_str().unwrap()
    );

    let (_, catalogue) = owner.get("/api/v1/marketplace").await;
    let entry = &catalogue.as_array().unwrap()[0];
    assert_eq!(entry["slug"], "request_handoff");
    assert_eq!(entry["name"], "Request Handoff");
    assert_eq!(entry["installed"], false);

    let (status, body) = owner.put(&tool_url, json!({"enabled": true})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "tool_not_installed");

    let (status, _) = owner
        .post("/api/v1/marketplace/request_handoff/install", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, catalogue) = owner.get("/api/v1/marketplace").await;
    assert_eq!(catalogue[0]["installed"], true);

    let (status, body) = owner.put(&tool_url, json!({"enabled": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tools"], json!(["request_handoff"]));
    // Enabling twice is harmless.
    assert_eq!(
        owner.put(&tool_url, json!({"enabled": true})).await.0,
        StatusCode::OK
    );

    let (status, _) = owner
        .delete("/api/v1/marketplace/request_handoff/install")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, read) = owner
        .get(&format!("/api/v1/bots/{}", bot["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["tools"], json!([]));

    // Reinstalling does not silently switch it back on.
    owner
        .post("/api/v1/marketplace/request_handoff/install", json!({}))
        .await;
    let (_, read) = owner
        .get(&format!("/api/v1/bots/{}", bot["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["tools"], json!([]));

    let (status, body) = owner.put(&tool_url, json!({"enabled": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn unknown_tools_and_bots_answer_404() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Shop").await;
    let (status, body) = owner
        .post("/api/v1/marketplace/teleport/install", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    let (status, _) = owner
        .put(
            &format!(
                "/api/v1/bots/{}/tools/teleport",
                bot["id"].as_str().unwrap()
            ),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        owner.get("/api/v1/bots/bot_missing").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        owner.get("/api/v1/no/such/route").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn with_a_metrics_token_metrics_need_it_and_health_does_not() {
    let app = spawn_app_with(|settings| settings.metrics_token = Some("m-secret".to_owned())).await;
    let api = app.anonymous();
    assert_eq!(api.get("/healthz").await.0, StatusCode::OK);
    let (status, body) = api.get("/metrics").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(code(&body), "authentication_required");
    assert_eq!(
        api.with_bearer("wrong").get("/metrics").await.0,
        StatusCode::UNAUTHORIZED
    );
    let raw = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(
        raw.headers()["www-authenticate"].to_str().unwrap(),
        "Bearer realm=\"metrics\""
    );
    let (status, metrics) = api.with_bearer("m-secret").get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("baton_http_requests_total")
    );
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = spawn_app().await;
    let api = app.anonymous();
    let (status, body) = api.get("/healthz").await;
    assert_eq!((status, body), (StatusCode::OK, json!("ok")));
    api.get("/api/v1/bots").await;
    let (status, metrics) = api.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let metrics = metrics.as_str().unwrap();
    assert!(metrics.contains("baton_http_requests_total{"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/bots\""), "{metrics}");
    assert!(
        metrics.contains("baton_http_request_duration_seconds"),
        "{metrics}"
    );
}
