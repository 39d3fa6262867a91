//! A WhatsApp number's life in Baton, against the fake Graph API: connected once Meta confirms
//! the token may use it, its secrets replaced, moved to another bot, disconnected — never while
//! a customer on it waits for an agent — and connected again.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_graph::{
    APP_SECRET, FakeGraph, PHONE_NUMBER_ID, SECOND_NUMBER_ID, TOKEN, VERIFY_TOKEN,
};
use crate::helpers::{code, eventually, spawn_app_with};
use crate::whatsapp::{Setup, sign, sign_with, text_from, text_to};

fn connect_body(number: &str, token: &str) -> Value {
    json!({"phone_number_id": number, "access_token": token, "app_secret": APP_SECRET,
           "verify_token": VERIFY_TOKEN})
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_number_is_connected_only_once_meta_confirms_the_token_may_use_it() {
    let graph = FakeGraph::start().await;
    let base = graph.base.clone();
    let app = spawn_app_with(move |s| s.whatsapp_graph_url = Some(base)).await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let connect = format!("/api/v1/bots/{}/channels/whatsapp", shop.bot_id);

    // A token Meta does not know (expired, mistyped): refused with Meta's reason.
    let (status, body) = owner
        .post(&connect, connect_body(PHONE_NUMBER_ID, "EAAG-expired"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "whatsapp_refused");
    assert!(
        message(&body).contains(PHONE_NUMBER_ID) && message(&body).contains("190"),
        "{body}"
    );
    // A number id the token's business does not have (a typo).
    let (status, body) = owner
        .post(&connect, connect_body("106540352242923", TOKEN))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(message(&body).contains("does not exist"), "{body}");
    // Meta out of reach: nothing is saved, and the error says so.
    graph.down();
    let (status, body) = owner
        .post(&connect, connect_body(PHONE_NUMBER_ID, TOKEN))
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(code(&body), "whatsapp_unreachable");
    assert!(message(&body).contains("nothing was saved"), "{body}");
    graph.up();
    assert_eq!(owner.get("/api/v1/channels").await.1, json!([]));

    let (status, channel) = owner
        .post(&connect, connect_body(PHONE_NUMBER_ID, TOKEN))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{channel}");
    assert_eq!(channel["display_phone_number"], "+1 555-078-3881");
    assert_eq!(channel["verified_name"], "Acme Shop");
    assert_eq!(graph.number_checks(), 4);
    let path = format!("/api/v1/channels/{}", channel["id"].as_str().unwrap());
    assert_eq!(owner.get(&path).await, (StatusCode::OK, channel.clone()));

    // One number, one bot: not for a second bot, not in another workspace.
    let second = owner.create_bot("Acme Wholesale").await;
    let (status, body) = owner
        .post(
            &format!(
                "/api/v1/bots/{}/channels/whatsapp",
                second["id"].as_str().unwrap()
            ),
            connect_body(PHONE_NUMBER_ID, TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(message(&body).contains("already connected"), "{body}");
    let other = app.other_workspace("olga@other.test").await;
    let their_bot = other.create_bot("Other Help").await;
    let their_bot_id = their_bot["id"].as_str().unwrap();
    let (status, _) = other
        .post(
            &format!("/api/v1/bots/{their_bot_id}/channels/whatsapp"),
            connect_body(PHONE_NUMBER_ID, TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Nor can that workspace see, change or disconnect ours, or point it at its bot.
    assert_eq!(other.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        other.patch(&path, json!({"verify_token": "x"})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(other.delete(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        owner.patch(&path, json!({"bot_id": their_bot_id})).await.0,
        StatusCode::NOT_FOUND
    );
    // Agents see the number; only admins change it.
    let agent = app.member(owner, "amy@acme.test", "agent").await;
    assert_eq!(agent.get(&path).await.0, StatusCode::OK);
    assert_eq!(
        agent.patch(&path, json!({"verify_token": "x"})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(agent.delete(&path).await.0, StatusCode::FORBIDDEN);
    // A misspelt field or an empty secret changes nothing.
    for wrong in [json!({"acces_token": "x"}), json!({"app_secret": "  "})] {
        let (status, body) = owner.patch(&path, wrong).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    assert_eq!(owner.get(&path).await.1, channel);
}

#[tokio::test]
async fn a_replaced_token_or_app_secret_takes_effect_and_a_number_moves_to_another_bot() {
    let s = Setup::new().await;
    let owner = &s.shop.owner;
    let path = format!("/api/v1/channels/{}", s.channel_id);
    let (_, before) = owner.get(&path).await;

    // The business replaces the token at Meta: the old one stops working, and answers fail.
    s.graph.replace_token(TOKEN, "EAAG-renewed-2026");
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.t1",
        "Is shipping free?",
    ))
    .await;
    let (_, me) = owner.get("/api/v1/me").await;
    let ws = me["workspace"]["id"].as_str().unwrap().to_owned();
    eventually(|| async {
        let events = s.app.state.store.events_after(&ws, 0, 100).await.unwrap();
        events
            .iter()
            .any(|e| e.kind == "message.status" && e.payload.contains("190"))
            .then_some(())
    })
    .await;
    assert!(s.graph.sent().is_empty());

    // A mistyped new token is refused and the stored one kept.
    let (status, body) = owner
        .patch(&path, json!({"access_token": "EAAG-renwed-2026"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "whatsapp_refused");
    assert_eq!(owner.get(&path).await.1, before);
    // The right one replaces it, and the bot answers again.
    let (status, after) = owner
        .patch(&path, json!({"access_token": "EAAG-renewed-2026"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_ne!(after["access_token"], before["access_token"]);
    assert_eq!(after["verified_name"], "Acme Shop");
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.t2",
        "How long does delivery take?",
    ))
    .await;
    assert_eq!(s.sent(1).await[0]["to"], "4915112345678");

    // The same Meta app's second number, for a second bot.
    let second = owner.create_bot("Acme Wholesale").await;
    let second_id = second["id"].as_str().unwrap();
    owner.enable_handoff(second_id).await;
    let (status, sibling) = owner
        .post(
            &format!("/api/v1/bots/{second_id}/channels/whatsapp"),
            connect_body(SECOND_NUMBER_ID, "EAAG-renewed-2026"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sibling}");
    let sibling_url = s.app.url(&format!(
        "/webhooks/whatsapp/{}",
        sibling["id"].as_str().unwrap()
    ));

    // A new app secret: Meta signs with it from now on, and the old one's signature is forged,
    // on both numbers of the app.
    let (status, _) = owner
        .patch(&path, json!({"app_secret": "rotated-app-secret"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let body = text_from("4915112345678", "Lena", "wamid.t3", "thanks");
    assert_eq!(
        s.post(&body, Some(&sign(&body))).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, text) = s
        .post(&body, Some(&sign_with("rotated-app-secret", &body)))
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let to_sibling = |body: Vec<u8>, secret: &str| {
        let request = reqwest::Client::new()
            .post(&sibling_url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign_with(secret, &body))
            .body(body);
        async move { request.send().await.unwrap().status() }
    };
    let body = text_to(SECOND_NUMBER_ID, "4915100000007", "wamid.s1", "hello");
    assert_eq!(
        to_sibling(body.clone(), APP_SECRET).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(to_sibling(body, "rotated-app-secret").await, StatusCode::OK);

    // The number moves to the second bot: whoever writes next talks to that bot.
    assert_eq!(
        owner.patch(&path, json!({"bot_id": "bot_missing"})).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, moved) = owner.patch(&path, json!({"bot_id": second_id})).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["bot_id"], second_id);
    let body = text_from("4915100000009", "Mia", "wamid.m1", "get me a human please");
    let (status, text) = s
        .post(&body, Some(&sign_with("rotated-app-secret", &body)))
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let handoffs = eventually(|| async {
        let handoffs = s.handoffs().await;
        (!handoffs.is_empty()).then_some(handoffs)
    })
    .await;
    assert_eq!(handoffs.len(), 1, "{handoffs:?}");
    assert_eq!(handoffs[0]["bot_id"], second_id);
    // While Mia waits for an agent, her number cannot move to another bot.
    let (status, body) = owner.patch(&path, json!({"bot_id": s.shop.bot_id})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(message(&body).contains("resolve their handoffs"), "{body}");

    // A message of Mia's for a number Baton does not know, arriving at the second number's URL,
    // stays with that channel but does not take her conversation off the number she wrote to.
    let body = text_to("999", "4915100000009", "wamid.m2", "are you there?");
    assert_eq!(to_sibling(body, "rotated-app-secret").await, StatusCode::OK);
    let channels: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT c.channel_id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id \
         WHERE ct.name = 'Mia'",
    )
    .fetch_all(s.app.state.store.pool())
    .await
    .unwrap();
    assert_eq!(channels, vec![(Some(s.channel_id.clone()),)]);
}

#[tokio::test]
async fn a_number_is_disconnected_only_when_no_customer_on_it_waits_for_an_agent() {
    let s = Setup::new().await;
    let owner = &s.shop.owner;
    let path = format!("/api/v1/channels/{}", s.channel_id);
    // Meta is down: the bot's answer waits to be retried, so the number cannot go yet.
    s.graph.down();
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.d0",
        "Is shipping free?",
    ))
    .await;
    eventually(|| async { (s.graph.attempts() >= 1).then_some(()) }).await;
    let (status, body) = owner.delete(&path).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(message(&body).contains("still being sent"), "{body}");
    s.graph.up();
    s.app
        .state
        .clock
        .advance(std::time::Duration::from_secs(60));
    s.app.state.outbox_wake.notify_one();
    s.sent(1).await;

    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.d1",
        "get me a human please",
    ))
    .await;
    let handoff = eventually(|| async { s.handoffs().await.into_iter().next() }).await;
    let handoff_id = handoff["id"].as_str().unwrap();

    // Lena waits for an agent, whose replies could not reach her without the number.
    let (status, body) = owner.delete(&path).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(message(&body).contains("resolve their handoffs"), "{body}");
    let (status, body) = owner
        .post(&format!("/api/v1/handoffs/{handoff_id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = owner
        .post(&format!("/api/v1/handoffs/{handoff_id}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Agents are notified of new handoffs from it: it cannot go either.
    let notify = |enabled: bool| {
        json!({"whatsapp": {"enabled": enabled, "channel_id": s.channel_id,
               "recipients": ["+14155550123"],
               "template": {"name": "new_handoff", "language": "en_US"}}})
    };
    let (status, body) = owner
        .put("/api/v1/settings/notifications", notify(true))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = owner.delete(&path).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(message(&body).contains("notified"), "{body}");
    let (status, _) = owner
        .put("/api/v1/settings/notifications", notify(false))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Once what resolving sent has gone out, the number can go.
    let status = eventually(|| async {
        let (status, body) = owner.delete(&path).await;
        (!message(&body).contains("still being sent")).then_some(status)
    })
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Gone with its secrets: Meta's calls to its URL are not found; Lena's history stays.
    assert_eq!(owner.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(owner.get("/api/v1/channels").await.1, json!([]));
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM channels")
        .fetch_one(s.app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(count, 0);
    let body = text_from("4915112345678", "Lena", "wamid.d2", "hello?");
    assert_eq!(
        s.post(&body, Some(&sign(&body))).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, history) = owner.get(&format!("/api/v1/handoffs/{handoff_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        history.to_string().contains("get me a human please"),
        "{history}"
    );

    // The number is free again. Lena writes to it and is answered through the new channel.
    let (status, channel) = owner
        .post(
            &format!("/api/v1/bots/{}/channels/whatsapp", s.shop.bot_id),
            connect_body(PHONE_NUMBER_ID, TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{channel}");
    assert_ne!(channel["id"], s.channel_id);
    let sent_before = s.graph.sent().len();
    let body = text_from(
        "4915112345678",
        "Lena",
        "wamid.d3",
        "How long does delivery take?",
    );
    let response = reqwest::Client::new()
        .post(s.app.url(&format!(
            "/webhooks/whatsapp/{}",
            channel["id"].as_str().unwrap()
        )))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(&body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let sent = s.sent(sent_before + 1).await;
    assert_eq!(sent.last().unwrap()["to"], "4915112345678", "{sent:?}");
}
