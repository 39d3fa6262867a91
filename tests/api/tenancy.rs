//! A workspace sees and touches only its own data: another workspace's ids answer 404.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{code, spawn_app};

#[tokio::test]
async fn another_workspaces_ids_answer_404_on_every_route() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Ours").await;
    let bot_id = bot["id"].as_str().unwrap();
    let (_, key) = owner
        .post("/api/v1/api-keys", json!({"name": "ours"}))
        .await;
    let key_id = key["id"].as_str().unwrap();

    let intruder = app.other_workspace("olga@other.test").await;
    intruder
        .post("/api/v1/marketplace/request_handoff/install", json!({}))
        .await;
    let attempts = [
        intruder.get(&format!("/api/v1/bots/{bot_id}")).await,
        intruder
            .patch(&format!("/api/v1/bots/{bot_id}"), json!({"name": "Stolen"}))
            .await,
        intruder
            .put(
                &format!("/api/v1/bots/{bot_id}/tools/request_handoff"),
                json!({"enabled": true}),
            )
            .await,
        intruder.delete(&format!("/api/v1/api-keys/{key_id}")).await,
    ];
    for (status, body) in attempts {
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(code(&body), "not_found");
    }
    let (_, bots) = intruder.get("/api/v1/bots").await;
    assert_eq!(bots, json!([]));
    let (_, keys) = intruder.get("/api/v1/api-keys").await;
    assert_eq!(keys, json!([]));
    let (_, people) = intruder.get("/api/v1/agents").await;
    assert_eq!(people.as_array().unwrap().len(), 1);

    // Nothing of ours changed.
    let (_, ours) = owner.get(&format!("/api/v1/bots/{bot_id}")).await;
    assert_eq!(ours["name"], "Ours");
    assert_eq!(ours["tools"], json!([]));
    assert_eq!(
        owner
            .get("/api/v1/api-keys")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn installing_a_tool_in_one_workspace_leaves_the_other_alone() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let other = app.other_workspace("olga@other.test").await;
    other
        .post("/api/v1/marketplace/request_handoff/install", json!({}))
        .await;
    let (_, catalogue) = owner.get("/api/v1/marketplace").await;
    assert_eq!(catalogue[0]["installed"], false);
}

#[tokio::test]
async fn only_the_instance_owner_creates_workspaces() {
    let app = spawn_app().await;
    let other = app.other_workspace("olga@other.test").await;
    let (_, me) = other.get("/api/v1/me").await;
    assert_eq!(me["user"]["role"], "owner");
    assert_eq!(me["is_instance_owner"], false);
    let (status, body) = other
        .post(
            "/api/v1/workspaces",
            json!({"name": "Third", "owner": {"email": "t@t.test", "name": "T", "password": "password-123"}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}
