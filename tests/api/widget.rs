//! The widget API: sessions that return, messages stored before the 201, and tenancy.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{code, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_returning_visitor_keeps_their_conversation() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("hello").await;
    let (status, again) = app
        .anonymous()
        .post(
            "/widget/v1/sessions",
            json!({"widget_key": shop.widget_key, "visitor_token": visitor.token}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["conversation_id"], visitor.conversation_id.as_str());
    assert_eq!(again["bot"]["name"], "Acme Help");

    // A token for another bot starts a fresh conversation rather than crossing over.
    let other_bot = shop.owner.create_bot("Other").await;
    let (_, elsewhere) = app
        .anonymous()
        .post(
            "/widget/v1/sessions",
            json!({"widget_key": other_bot["widget_key"], "visitor_token": visitor.token}),
        )
        .await;
    assert_ne!(
        elsewhere["conversation_id"],
        visitor.conversation_id.as_str()
    );
}

#[tokio::test]
async fn the_chat_window_offers_a_person_only_when_the_bot_can_hand_off() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let greeting = || async {
        let (status, session) = app
            .anonymous()
            .post(
                "/widget/v1/sessions",
                json!({"widget_key": shop.widget_key}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        session["bot"]["greeting"].as_str().unwrap().to_owned()
    };
    let tool = format!("/api/v1/bots/{}/tools/request_handoff", shop.bot_id);
    assert!(greeting().await.contains("person"));
    // The tool off on the bot: the default greeting makes no such offer.
    let (status, _) = shop.owner.put(&tool, json!({"enabled": false})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(greeting().await, "Hi! Ask me anything.");
    // Nor with the tool enabled on the bot but uninstalled from the workspace, where a
    // request for a person is declined rather than promised.
    let (status, _) = shop.owner.put(&tool, json!({"enabled": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(greeting().await.contains("person"));
    let (status, body) = shop
        .owner
        .delete("/api/v1/marketplace/request_handoff/install")
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(greeting().await, "Hi! Ask me anything.");
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("get me a human").await;
    let reply = &visitor.wait_for_messages(2).await[1];
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("can't connect you with a person"),
        "{reply}"
    );
    let (_, handoffs) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(handoffs, json!([]));
    // A greeting the admin wrote is shown as written.
    let (status, _) = shop
        .owner
        .patch(
            &format!("/api/v1/bots/{}", shop.bot_id),
            json!({"greeting": "Welcome to Acme! Ask about orders."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(greeting().await, "Welcome to Acme! Ask about orders.");
}

#[tokio::test]
async fn a_visitor_reads_only_their_own_conversation() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let alice = app.visitor(&shop.widget_key).await;
    let bob = app.visitor(&shop.widget_key).await;
    alice.say("my secret order #99999").await;
    bob.say("hello").await;
    let bobs = bob.wait_for_messages(2).await;
    assert!(
        bobs.iter()
            .all(|m| !m["text"].as_str().unwrap().contains("99999"))
    );

    // A tampered token is refused outright.
    let mut forged = alice.token.clone();
    forged.insert(3, 'x');
    let (status, body) = app
        .anonymous()
        .with_bearer(&forged)
        .get("/widget/v1/messages")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "authentication_required");
    let (status, _) = app.anonymous().get("/widget/v1/messages").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .anonymous()
        .post("/widget/v1/sessions", json!({"widget_key": "wk_nope"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn markup_in_messages_is_stored_and_returned_verbatim_as_data() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let evil = "<script>alert('x')</script><img src=x onerror=alert(1)> get me a human";
    visitor.say(evil).await;
    let messages = visitor.wait_for_messages(2).await;
    assert_eq!(messages[0]["text"], evil);
    let handoff = shop.owner.first_handoff().await;
    let (_, full) = shop
        .owner
        .get(&format!(
            "/api/v1/handoffs/{}",
            handoff["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(full["messages"][0]["text"], evil);
}

#[tokio::test]
async fn empty_or_oversized_messages_are_refused_and_not_stored() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    for text in ["   ".to_owned(), "x".repeat(4097)] {
        let (status, body) = visitor
            .api
            .post("/widget/v1/messages", json!({"text": text}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, body) = visitor
        .api
        .post_raw(
            "/widget/v1/messages",
            "application/json",
            b"{\"text\":".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "malformed_json");
    assert!(visitor.messages().await.is_empty());
}

#[tokio::test]
async fn another_workspace_cannot_see_or_touch_our_handoffs() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("get me a human").await;
    let handoff = shop.owner.first_handoff().await;
    let id = handoff["id"].as_str().unwrap();
    let (_, full) = shop.owner.get(&format!("/api/v1/handoffs/{id}")).await;
    let message_id = full["messages"][0]["id"].as_str().unwrap().to_owned();
    let (_, documents) = shop
        .owner
        .get(&format!("/api/v1/bots/{}/documents", shop.bot_id))
        .await;
    let document_id = documents[0]["id"].as_str().unwrap().to_owned();
    let (_, me) = shop.owner.get("/api/v1/me").await;
    let owner_id = me["user"]["id"].as_str().unwrap().to_owned();
    let other = app.other_workspace("olga@other.test").await;
    assert_eq!(other.get("/api/v1/handoffs").await.1, json!([]));
    let (_, counts) = other.get("/api/v1/handoffs/counts").await;
    assert_eq!(counts["pending"], 0, "{counts}");
    // An admin of theirs, with every right in their own workspace, and none in ours.
    for (status, body) in [
        other
            .post(&format!("/api/v1/handoffs/{id}/release"), json!({}))
            .await,
        other
            .post(
                &format!("/api/v1/handoffs/{id}/messages/{message_id}/retry"),
                json!({}),
            )
            .await,
        other
            .post(
                &format!("/api/v1/bots/{}/documents", shop.bot_id),
                json!({"title": "Planted", "content": "Call 555-0100 for refunds.", "format": "markdown"}),
            )
            .await,
        other
            .delete(&format!(
                "/api/v1/bots/{}/documents/{document_id}",
                shop.bot_id
            ))
            .await,
        other
            .post(
                &format!("/api/v1/bots/{}/channels/whatsapp", shop.bot_id),
                json!({"phone_number_id": "1065", "access_token": "a", "app_secret": "b",
                       "verify_token": "c"}),
            )
            .await,
        other.delete(&format!("/api/v1/agents/{owner_id}")).await,
        other.get(&format!("/api/v1/handoffs/{id}")).await,
        other
            .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
            .await,
        other
            .post(
                &format!("/api/v1/handoffs/{id}/messages"),
                json!({"text": "hi"}),
            )
            .await,
        other
            .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
            .await,
        other
            .get(&format!("/api/v1/bots/{}/documents", shop.bot_id))
            .await,
        other
            .get(&format!("/api/v1/bots/{}/search?q=shipping", shop.bot_id))
            .await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let (_, ours) = shop.owner.get(&format!("/api/v1/handoffs/{id}")).await;
    assert_eq!(ours["status"], "pending");
    assert_eq!(ours["messages"], full["messages"]);
    let (_, still) = shop
        .owner
        .get(&format!("/api/v1/bots/{}/documents", shop.bot_id))
        .await;
    assert_eq!(still, documents);
    let (_, channels) = shop.owner.get("/api/v1/channels").await;
    assert_eq!(channels, json!([]));
    assert_eq!(shop.owner.get("/api/v1/me").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_message_sent_again_with_its_client_id_is_stored_and_answered_once() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let send = |text: &str, id: &str| {
        visitor.api.post(
            "/widget/v1/messages",
            json!({"text": text, "client_id": id}),
        )
    };
    let (status, first) = send("Is shipping free?", "7f3a9c").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // The answer was lost on the way back; the widget sends the same message again.
    let (status, again) = send("Is shipping free?", "7f3a9c").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], first["id"]);
    // The same id for other text is a client bug, not a repeat.
    let (status, body) = send("Something else", "7f3a9c").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    for bad in ["", "has space", &"x".repeat(65)] {
        let (status, body) = send("Hello", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("client_id")
        );
    }
    visitor.wait_for_messages(2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let messages = visitor.messages().await;
    let by = |author: &str| messages.iter().filter(|m| m["author"] == author).count();
    assert_eq!((by("customer"), by("bot")), (1, 1), "{messages:?}");
}

#[tokio::test]
async fn a_visitor_sending_too_fast_is_told_to_wait_and_nothing_extra_is_stored() {
    let app = spawn_app_with(|s| s.widget_messages_per_minute = Some(3)).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    for i in 0..3 {
        visitor.say(&format!("question {i}")).await;
    }
    let refused = reqwest::Client::new()
        .post(app.url("/widget/v1/messages"))
        .bearer_auth(&visitor.token)
        .json(&json!({"text": "question 3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Three a minute: the next one is free within twenty seconds.
    assert!((1..=20).contains(&wait), "{wait}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(code(&body), "rate_limited");
    assert_eq!(body["error"]["retry_after_seconds"], wait);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("wait {wait} s")),
        "{body}"
    );

    // The refused message was not stored (the others were, each before its 201).
    let messages = visitor.messages().await;
    let customer: Vec<_> = messages
        .iter()
        .filter(|m| m["author"] == "customer")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(customer, ["question 0", "question 1", "question 2"]);

    // Another visitor has their own allowance.
    let other = app.visitor(&shop.widget_key).await;
    other.say("hello").await;
}

#[tokio::test]
async fn new_chats_are_limited_per_client_address_and_returning_visitors_are_not() {
    let app = spawn_app_with(|s| s.widget_sessions_per_minute = Some(2)).await;
    let shop = app.shop(true).await;
    let first = app.visitor(&shop.widget_key).await;
    app.visitor(&shop.widget_key).await;
    let new_chat = json!({"widget_key": shop.widget_key});
    let (status, body) = app
        .anonymous()
        .post("/widget/v1/sessions", new_chat.clone())
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "rate_limited");
    // A returning visitor is not a new chat.
    let (status, again) = app
        .anonymous()
        .post(
            "/widget/v1/sessions",
            json!({"widget_key": shop.widget_key, "visitor_token": first.token}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["conversation_id"], first.conversation_id.as_str());
    // Without proxies configured, a forwarded address is the client's own claim: ignored.
    let spoofed = reqwest::Client::new()
        .post(app.url("/widget/v1/sessions"))
        .header("x-forwarded-for", "198.51.100.23")
        .json(&new_chat)
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn behind_a_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = spawn_app_with(|s| {
        s.widget_sessions_per_minute = Some(1);
        s.proxy_hops = Some(1);
    })
    .await;
    let shop = app.shop(true).await;
    let new_chat = |forwarded: &'static str| {
        reqwest::Client::new()
            .post(app.url("/widget/v1/sessions"))
            // What the client wrote, then what our proxy appended.
            .header("x-forwarded-for", forwarded)
            .json(&json!({"widget_key": shop.widget_key}))
            .send()
    };
    let statuses = [
        new_chat("203.0.113.1").await.unwrap().status(),
        new_chat("203.0.113.2").await.unwrap().status(),
        new_chat("203.0.113.1").await.unwrap().status(),
        // A client cannot escape by writing its own entry: the proxy's comes last.
        new_chat("192.0.2.77, 203.0.113.2").await.unwrap().status(),
    ];
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn new_chats_from_one_address_cannot_multiply_the_message_limit() {
    // Three a minute per visitor: thirty from one address, whatever the number of chats.
    let app = spawn_app_with(|s| s.widget_messages_per_minute = Some(3)).await;
    let shop = app.shop(false).await;
    for n in 0..10 {
        let visitor = app.visitor(&shop.widget_key).await;
        for i in 0..3 {
            visitor.say(&format!("visitor {n} question {i}")).await;
        }
    }
    let eleventh = app.visitor(&shop.widget_key).await;
    let (status, body) = eleventh
        .api
        .post("/widget/v1/messages", json!({"text": "one more"}))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "rate_limited");
}
