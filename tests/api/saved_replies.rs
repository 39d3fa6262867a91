//! Saved replies: admins write the team's ready answers, everyone in the workspace reads them,
//! and no other workspace sees or touches them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, code, spawn_app};

async fn add(api: &Api, shortcut: &str, text: &str) -> (StatusCode, Value) {
    api.post(
        "/api/v1/saved-replies",
        json!({"shortcut": shortcut, "text": text}),
    )
    .await
}

fn shortcuts(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["shortcut"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn admins_write_saved_replies_and_everyone_in_the_workspace_reads_them() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let agent = app.member(&owner, "agent@shop.test", "agent").await;

    let (status, refund) = add(&owner, "/Refund-Time", "  Refunds take 5 business days.  ").await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    assert_eq!(refund["shortcut"], "refund-time");
    assert_eq!(refund["text"], "Refunds take 5 business days.");
    let markup = "Hi {{customer_name}}, <b>see</b> <script>x()</script>";
    let (status, hello) = add(&owner, "hello", markup).await;
    assert_eq!(status, StatusCode::CREATED, "{hello}");
    let (status, _) = add(&owner, "envío", "Enviamos a todo el país.").await;
    assert_eq!(status, StatusCode::CREATED);

    // Agents read them, by shortcut, markup and all as text; they do not write them.
    let (status, list) = agent.get("/api/v1/saved-replies").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shortcuts(&list), ["envío", "hello", "refund-time"]);
    assert_eq!(list[1]["text"], markup);
    let (status, body) = add(&agent, "mine", "text").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let id = refund["id"].as_str().unwrap();
    let path = format!("/api/v1/saved-replies/{id}");
    let (status, _) = agent.patch(&path, json!({"text": "changed"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = agent.delete(&path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A shortcut is one per workspace, whatever its case.
    let (status, body) = add(&owner, "REFUND-time", "again").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/refund-time")
    );
    for (shortcut, text, field) in [
        ("two words", "text", "shortcut"),
        ("", "text", "shortcut"),
        (&"x".repeat(33), "text", "shortcut"),
        ("ok", "   ", "text"),
        ("ok", &"x".repeat(4097), "text"),
    ] {
        let (status, body) = add(&owner, shortcut, text).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{shortcut}: {body}"
        );
        assert_eq!(code(&body), "validation_failed");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
    let (status, body) = owner
        .post(
            "/api/v1/saved-replies",
            json!({"shortcut": "a", "text": "b", "extra": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Changing one: its text, its shortcut, not to one taken, not to nothing.
    let (status, changed) = owner
        .patch(&path, json!({"text": "Refunds take 3 to 5 business days."}))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["shortcut"], "refund-time");
    assert_eq!(changed["text"], "Refunds take 3 to 5 business days.");
    let (status, changed) = owner.patch(&path, json!({"shortcut": "refunds"})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["text"], "Refunds take 3 to 5 business days.");
    let (status, body) = owner.patch(&path, json!({"shortcut": "Hello"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = owner.patch(&path, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, list) = owner.get("/api/v1/saved-replies").await;
    assert_eq!(shortcuts(&list), ["envío", "hello", "refunds"]);

    // Another workspace sees none of them and can change none of them.
    let stranger = app.other_workspace("stranger@elsewhere.test").await;
    let (_, theirs) = stranger.get("/api/v1/saved-replies").await;
    assert_eq!(theirs, json!([]));
    let (status, _) = stranger.patch(&path, json!({"text": "mine now"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stranger.delete(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // …and may use the same shortcuts for its own.
    let (status, _) = add(&stranger, "hello", "Hi from elsewhere").await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _) = owner.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = owner.delete(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = agent.get("/api/v1/saved-replies").await;
    assert_eq!(shortcuts(&list), ["envío", "hello"]);
}

#[tokio::test]
async fn a_workspace_keeps_at_most_three_hundred_saved_replies() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for i in 0..300 {
        let (status, body) = add(&owner, &format!("r{i}"), "text").await;
        assert_eq!(status, StatusCode::CREATED, "{i}: {body}");
    }
    let (status, body) = add(&owner, "one-more", "text").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 300")
    );
    let (_, list) = owner.get("/api/v1/saved-replies").await;
    let id = list[0]["id"].as_str().unwrap();
    owner.delete(&format!("/api/v1/saved-replies/{id}")).await;
    let (status, _) = add(&owner, "one-more", "text").await;
    assert_eq!(status, StatusCode::CREATED);
}
