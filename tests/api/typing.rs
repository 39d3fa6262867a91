//! "Ana is typing…": the person helping a customer is shown typing in the customer's chat
//! window while they write a reply; nothing is stored and nobody else may.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{code, spawn_app};

#[tokio::test]
async fn the_customer_sees_the_holder_typing_and_nobody_else_can_pretend_to() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let sam = app.member(owner, "sam@shop.test", "agent").await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want to talk to a human").await;
    let id = owner.pending_handoff_id().await;
    let typing = format!("/api/v1/handoffs/{id}/typing");

    // Nobody holds it yet: an agent cannot be typing to the customer.
    let (status, body) = ana.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = ana
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut chat = visitor.stream(0).await;
    let mut team = app.events(owner, 0).await;
    let before = visitor.messages().await.len();
    let (status, body) = ana.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let shown = chat.next_of("typing").await;
    assert_eq!(
        shown,
        json!({"type": "typing", "author": "agent", "author_name": "ana"}),
        "who, and nothing of what they write"
    );
    // Sent again at once, it is let through without showing twice.
    let (status, _) = ana.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let again = chat.until_quiet(300).await;
    assert!(again.iter().all(|e| e["type"] != "typing"), "{again:?}");
    // An admin may write to the customer, so may be typing too.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let (status, _) = owner.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(chat.next_of("typing").await["author_name"], "Owner");

    // A colleague who does not hold it is told who does; another workspace finds nothing.
    let (status, body) = sam.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("ana"),
        "{body}"
    );
    let other = app.other_workspace("owner@other.test").await;
    let (status, body) = other.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "not_found");

    // Ana replies: the message replaces the dots; nothing was stored for typing, and the team's
    // stream never carried it.
    let (status, _) = ana
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"text": "Hi, Ana here."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let message = chat.next_of("message.created").await;
    assert_eq!(message["message"]["text"], "Hi, Ana here.");
    assert_eq!(visitor.messages().await.len(), before + 1);
    let events = team.until_quiet(300).await;
    assert!(events.iter().all(|e| e["type"] != "typing"), "{events:?}");

    // Resolved: nobody is typing to the customer any more.
    let (status, _) = ana
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ana.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn the_team_sees_the_customer_typing_only_on_the_handoffs_page_and_only_while_it_is_open() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let visitor = app.visitor(&shop.widget_key).await;
    let conversation = visitor.conversation_id.clone();
    let watching = format!("after=0&typing={conversation}");
    let mut page = app.events_with(owner, &watching).await;

    // The bot holds the chat: nobody from the team is waiting on the customer.
    let (status, body) = visitor.api.post("/widget/v1/typing", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let events = page.until_quiet(300).await;
    assert!(events.iter().all(|e| e["type"] != "typing"), "{events:?}");
    // (That one counted: one every two seconds per chat is looked at.)
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;

    visitor.say("I want to talk to a human").await;
    let id = owner.pending_handoff_id().await;
    // An integrator's stream (every event with a sequence number), another conversation's
    // page, another workspace naming this conversation, and the customer's own chat window.
    let mut integrator = app.events(owner, 0).await;
    let mut elsewhere = app.events_with(owner, "after=0&typing=conv_other").await;
    let other = app.other_workspace("owner@other.test").await;
    let mut spy = app.events_with(&other, &watching).await;
    let mut chat = visitor.stream(0).await;

    let (status, _) = visitor.api.post("/widget/v1/typing", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        page.next_of("typing").await,
        json!({"type": "typing", "author": "customer", "conversation_id": conversation,
               "handoff_id": id}),
        "that they type, never what"
    );
    // Sent again at once, it does not show twice.
    let (status, _) = visitor.api.post("/widget/v1/typing", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let again = page.until_quiet(300).await;
    assert!(again.iter().all(|e| e["type"] != "typing"), "{again:?}");
    for socket in [&mut integrator, &mut elsewhere, &mut spy, &mut chat] {
        let events = socket.until_quiet(300).await;
        assert!(events.iter().all(|e| e["type"] != "typing"), "{events:?}");
    }
    let events = integrator.until_quiet(100).await;
    assert!(events.iter().all(|e| e["seq"].is_i64()), "{events:?}");

    // Claimed, the holder is shown it too; nothing was stored.
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = visitor.messages().await.len();
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let (status, _) = visitor.api.post("/widget/v1/typing", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(page.next_of("typing").await["handoff_id"], id);
    assert_eq!(visitor.messages().await.len(), before);

    // Only the visitor's own token may say so.
    let (status, body) = app.anonymous().post("/widget/v1/typing", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // Resolved: the bot holds the chat again, and the team is not told.
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let (status, _) = visitor.api.post("/widget/v1/typing", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let events = page.until_quiet(300).await;
    assert!(events.iter().all(|e| e["type"] != "typing"), "{events:?}");
}
