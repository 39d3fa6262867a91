//! The knowledge base: documents in three formats, uploads, search, and deletion.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{code, spawn_app};

#[tokio::test]
async fn documents_in_each_format_are_chunked_and_searchable() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let docs = format!("/api/v1/bots/{}/documents", bot["id"].as_str().unwrap());
    let html = "<html><body><h1>Warranty</h1><p>Every jacket has a two-year warranty.</p>\
                <script>steal()</script><h2>Claims</h2><p>Send a photo of the defect to start a claim.</p></body></html>";
    for (title, format, content) in [
        ("Warranty", "html", html),
        (
            "Care",
            "markdown",
            "# Care\n\nWash at 30 degrees.\n\n## Drying\n\nNever tumble dry wool.",
        ),
        (
            "Stores",
            "text",
            "Opening hours\nWe are open Monday to Saturday from 9 to 6.",
        ),
    ] {
        let (status, body) = owner
            .post(
                &docs,
                json!({"title": title, "format": format, "content": content}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body["chunks"].as_i64().unwrap() >= 1, "{body}");
    }
    let (_, listed) = owner.get(&docs).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);

    let search = format!("/api/v1/bots/{}/search?q=", bot["id"].as_str().unwrap());
    let (status, found) = owner
        .get(&format!("{search}how%20long%20is%20the%20warranty"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["results"][0]["title"], "Warranty");
    assert!(
        found["results"][0]["text"]
            .as_str()
            .unwrap()
            .contains("two-year")
    );
    assert!(found["results"][0]["score"].as_f64().unwrap() > 0.0);
    assert_eq!(found["answerable"], true, "{found}");
    let all = found.to_string();
    assert!(
        !all.contains("steal()"),
        "script text is not knowledge: {all}"
    );
    let (_, found) = owner.get(&format!("{search}tumble%20drying")).await;
    assert_eq!(found["results"][0]["heading"], "Drying");
    let (_, found) = owner
        .get(&format!("{search}quantum%20chromodynamics"))
        .await;
    assert_eq!(found["answerable"], false);
}

#[tokio::test]
async fn a_file_upload_becomes_a_document() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let url = app.url(&format!(
        "/api/v1/bots/{}/documents",
        bot["id"].as_str().unwrap()
    ));
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text("# Gift wrapping\n\nWe gift-wrap any order for $3.")
            .file_name("gift-wrapping.md"),
    );
    let response = owner.client.post(url).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["title"], "gift-wrapping");
    assert_eq!(body["format"], "markdown");
    let (_, found) = owner
        .get(&format!(
            "/api/v1/bots/{}/search?q=gift%20wrap",
            bot["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(found["results"][0]["heading"], "Gift wrapping");
}

#[tokio::test]
async fn a_deleted_document_leaves_the_answers_at_once() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    let docs = format!("/api/v1/bots/{}/documents", shop.bot_id);
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("Is shipping free?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert!(messages[1]["text"].as_str().unwrap().contains("$50"));

    let (_, listed) = shop.owner.get(&docs).await;
    let shipping = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "Shipping")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = shop.owner.delete(&format!("{docs}/{shipping}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    visitor.say("Is shipping free?").await;
    let messages = visitor.wait_for_messages(4).await;
    let answer = messages[3]["text"].as_str().unwrap();
    assert!(!answer.contains("$50"), "{answer}");
    assert_eq!(
        shop.owner.delete(&format!("{docs}/{shipping}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn empty_or_unknown_documents_are_refused() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let docs = format!("/api/v1/bots/{}/documents", bot["id"].as_str().unwrap());
    let (status, body) = owner
        .post(&docs, json!({"title": "X", "content": "  "}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = owner
        .post(
            &docs,
            json!({"title": "X", "content": "text", "format": "pdf"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "validation_failed");
    assert_eq!(owner.get(&docs).await.1, json!([]));
}
