//! Event streams: live, resumable with no gap and no duplicate, scoped to their owner.

use serde_json::{Value, json};

use crate::helpers::{Shop, Socket, TestApp, eventually, spawn_app, spawn_app_with};

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_reconnecting_client_gets_every_missed_event_once_in_order() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    let mut first = app.events(&shop.owner, 0).await;
    visitor.say("hello").await;
    let mut seen = vec![first.next().await, first.next().await];
    first.close().await;

    // Events happen while the client is away.
    let mut count = 2;
    for text in [
        "what does shipping cost?",
        "can I return unworn items?",
        "get me a human",
    ] {
        visitor.say(text).await;
        count += 2;
        visitor.wait_for_messages(count).await;
    }
    eventually(|| async {
        let (_, list) = shop.owner.get("/api/v1/handoffs").await;
        (!list.as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    visitor.say("still there?").await;

    let last = seen.last().unwrap()["seq"].as_i64().unwrap();
    let mut second = app.events(&shop.owner, last).await;
    // 3 questions, 2 answers, the handoff message, handoff.created, and one more message.
    for _ in 0..8 {
        seen.push(second.next().await);
    }
    assert_eq!(seqs(&seen), (1..=10).collect::<Vec<_>>(), "{seen:?}");
    assert!(
        second.quiet_for(300).await.is_none(),
        "no duplicates after the catch-up"
    );

    // And it keeps following live.
    visitor.say("hello again").await;
    assert_eq!(second.next().await["seq"], 11);
}

#[tokio::test]
async fn a_visitor_stream_resumes_and_shows_only_their_conversation() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let alice = app.visitor(&shop.widget_key).await;
    let bob = app.visitor(&shop.widget_key).await;

    alice.say("what does shipping cost?").await;
    let messages = alice.wait_for_messages(2).await;
    bob.say("hello from bob").await;
    bob.wait_for_messages(2).await;

    // Resuming after Alice's first message replays only her bot answer.
    let mut stream = alice.stream(messages[0]["seq"].as_i64().unwrap()).await;
    let replay = stream.next().await;
    assert_eq!(replay["message"]["id"], messages[1]["id"]);
    assert!(replay["message"].get("delivery_status").is_none());
    assert!(stream.quiet_for(300).await.is_none(), "nothing of Bob's");

    alice.say("thanks").await;
    let mine = stream.next().await;
    assert_eq!(mine["message"]["text"], "thanks");
}

#[tokio::test]
async fn streams_refuse_strangers() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("ws://{}/api/v1/events?after=0", app.addr);
    let refused = tokio_tungstenite::connect_async(url.into_client_request().unwrap()).await;
    assert!(refused.is_err(), "events need credentials");
    let url = format!(
        "ws://{}/widget/v1/stream?token=forged.token&after=0",
        app.addr
    );
    assert!(tokio_tungstenite::connect_async(url).await.is_err());

    // Another workspace's stream carries none of this workspace's events.
    let other = app.other_workspace("olga@other.test").await;
    let mut theirs = app.events(&other, 0).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("get me a human").await;
    visitor.wait_for_messages(2).await;
    assert!(theirs.quiet_for(300).await.is_none());
    let _ = Socket::close;
    let _ = json!({});
}

/// Two nodes on one PostgreSQL database and a shop, or `None` on SQLite: one SQLite file is
/// one node, and the PostgreSQL run of this suite covers what needs two.
async fn two_nodes() -> Option<(TestApp, TestApp, Shop)> {
    let app = spawn_app().await;
    if !app.on_postgres() {
        return None;
    }
    let node_b = app.second_node().await;
    let shop = app.shop(true).await;
    Some((app, node_b, shop))
}

#[tokio::test]
async fn an_event_on_one_node_reaches_clients_of_another() {
    let Some((app, node_b, shop)) = two_nodes().await else {
        return;
    };
    // The agent watches node B; the customer talks to node A.
    let mut events = node_b.events(&shop.owner, 0).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut stream_on_b = visitor.stream_at(node_b.addr, 0).await;
    visitor.say("get me a human").await;
    let created = events.next_of("handoff.created").await;
    assert_eq!(created["handoff"]["reason"], "customer_request");
    let first = stream_on_b.next_of("message.created").await;
    assert_eq!(first["message"]["text"], "get me a human");
}

#[tokio::test]
async fn a_draft_written_on_one_node_reaches_the_customer_on_another() {
    let Some((app, node_b, shop)) = two_nodes().await else {
        return;
    };
    let visitor = app.visitor(&shop.widget_key).await;
    let mut stream_on_b = visitor.stream_at(node_b.addr, 0).await;
    let mut agents_on_b = node_b.events(&shop.owner, 0).await;
    // Node A writes a draft of an answer in this conversation, as a streaming model would.
    let (_, me) = shop.owner.get("/api/v1/me").await;
    let draft = baton::store::Draft {
        workspace_id: me["workspace"]["id"].as_str().unwrap().to_owned(),
        conversation_id: visitor.conversation_id.clone(),
        id: "msg_being_answered".to_owned(),
        author_name: "Acme Help".to_owned(),
        text: "Standard delivery takes".to_owned(),
        kind: baton::store::DraftKind::Answer,
    };
    app.state.store.publish_draft(draft.clone()).await;
    let shown = stream_on_b.next_of("message.draft").await;
    assert_eq!(shown["text"], "Standard delivery takes");
    assert_eq!(shown["id"], "msg_being_answered");
    assert_eq!(shown["author_name"], "Acme Help");
    // Only the customer's own stream shows it.
    for event in agents_on_b.until_quiet(300).await {
        assert_ne!(event["type"], "message.draft", "{event}");
    }
    // Node B remembers it: a chat window that connects there now starts with it…
    let mut reconnected = visitor.stream_at(node_b.addr, 0).await;
    let events = reconnected.until_quiet(300).await;
    let shown: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "message.draft")
        .collect();
    assert_eq!(shown.len(), 1, "{events:#?}");
    assert_eq!(shown[0]["text"], "Standard delivery takes");
    // …until the draft is taken away on node A.
    let taken_away = baton::store::Draft {
        text: String::new(),
        ..draft.clone()
    };
    app.state.store.publish_draft(taken_away).await;
    assert_eq!(stream_on_b.next_of("message.draft").await["text"], "");
    let mut later = visitor.stream_at(node_b.addr, 0).await;
    for event in later.until_quiet(300).await {
        assert_ne!(event["type"], "message.draft", "{event}");
    }
    // A person typing on node A shows on node B as well, and is not kept for later windows.
    let typing = baton::store::Draft {
        id: "hnd_helping".to_owned(),
        author_name: "Ana".to_owned(),
        text: String::new(),
        kind: baton::store::DraftKind::Typing,
        ..draft
    };
    app.state.store.publish_draft(typing).await;
    assert_eq!(
        stream_on_b.next_of("typing").await,
        json!({"type": "typing", "author": "agent", "author_name": "Ana"})
    );
    let mut latest = visitor.stream_at(node_b.addr, 0).await;
    for event in latest.until_quiet(300).await {
        assert_ne!(event["type"], "typing", "{event}");
    }
}

#[tokio::test]
async fn a_customer_typing_on_one_node_is_shown_to_the_team_on_another() {
    let Some((app, node_b, shop)) = two_nodes().await else {
        return;
    };
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("get me a human").await;
    let id = shop.owner.pending_handoff_id().await;
    // The agent's handoff page is on node B; the chat window talks to node A.
    let mut page = node_b
        .events_with(
            &shop.owner,
            &format!("after=0&typing={}", visitor.conversation_id),
        )
        .await;
    let (status, _) = visitor.api.post("/widget/v1/typing", json!({})).await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    let shown = page.next_of("typing").await;
    assert_eq!(shown["author"], "customer");
    assert_eq!(shown["handoff_id"], id);
}

#[tokio::test]
async fn a_stream_ends_when_the_session_or_key_it_was_opened_with_does() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.member(&owner, "ana@acme.test", "agent").await;
    // Ana on two devices: two sessions, each with its live stream.
    let laptop = app
        .session_cookie("ana@acme.test", "member-password-1")
        .await;
    let phone = app
        .session_cookie("ana@acme.test", "member-password-1")
        .await;
    let events = app.url("/api/v1/events?after=0").replacen("http", "ws", 1);
    let mut on_laptop = Socket::connect_with(&events, "cookie", &laptop).await;
    let mut on_phone = Socket::connect_with(&events, "cookie", &phone).await;
    let mut owners = app.events(&owner, 0).await;

    // Logging out on the laptop ends the laptop's stream, not the phone's.
    let logout = reqwest::Client::new()
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", &laptop)
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_success());
    assert!(
        on_laptop.closes_within(3000).await,
        "a logged-out session keeps streaming"
    );
    assert!(!on_phone.closes_within(300).await);

    // A new password ends every session of hers, and so the phone's stream.
    let changed = reqwest::Client::new()
        .post(app.url("/api/v1/me/password"))
        .header("cookie", &phone)
        .json(&json!({"current_password": "member-password-1",
                       "new_password": "another-password-2"}))
        .send()
        .await
        .unwrap();
    assert!(changed.status().is_success());
    assert!(
        on_phone.closes_within(3000).await,
        "a stream outlives the password change"
    );

    // A deleted API key's stream ends; the owner's other stream goes on.
    let (_, key) = owner
        .post("/api/v1/api-keys", json!({"name": "sync"}))
        .await;
    let mut synced = app
        .events(&owner.with_bearer(key["key"].as_str().unwrap()), 0)
        .await;
    let (status, _) = owner
        .delete(&format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    assert!(
        synced.closes_within(3000).await,
        "a deleted key keeps streaming"
    );
    assert!(!owners.closes_within(300).await);
}

#[tokio::test]
async fn one_chat_cannot_hold_more_than_its_share_of_live_streams() {
    use tokio_tungstenite::tungstenite::Error;
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut open = Vec::new();
    for _ in 0..baton::realtime::MAX_VISITOR_STREAMS {
        open.push(visitor.stream(0).await);
    }
    let url = format!(
        "ws://{}/widget/v1/stream?token={}&after=0",
        app.addr, visitor.token
    );
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(Error::Http(response)) => {
            assert_eq!(response.status(), 429);
            // A vanished client's stream is closed within three heartbeats of 30 s.
            assert_eq!(response.headers()["retry-after"], "90");
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "rate_limited", "{body}");
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("one stream too many was opened"),
    }
    // Another chat is not held back by this one...
    let other = app.visitor(&shop.widget_key).await;
    let mut theirs = other.stream(0).await;
    other.say("hello").await;
    assert_eq!(theirs.next().await["type"], "message.created");
    // ...and closing a stream frees its place.
    open.pop().unwrap().close().await;
    let mut again =
        eventually(|| async { tokio_tungstenite::connect_async(url.as_str()).await.ok() })
            .await
            .0;
    use futures_util::StreamExt;
    visitor.say("hello").await;
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), again.next())
        .await
        .expect("an event")
        .unwrap()
        .unwrap();
    assert!(
        frame.to_text().unwrap().contains("message.created"),
        "{frame:?}"
    );
}

#[tokio::test]
async fn a_stream_whose_client_stopped_answering_is_closed() {
    let app = spawn_app_with(|s| s.stream_heartbeat_secs = Some(1)).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    // Both are pinged every second; only a socket that is read answers (as a browser does),
    // so `gone` is a laptop shut mid-chat.
    let mut live = visitor.stream(0).await;
    let mut gone = visitor.stream(0).await;
    assert!(
        !live.closes_within(4_500).await,
        "a client that answers pings keeps its stream"
    );
    assert!(
        gone.closes_within(1_000).await,
        "a client silent for two heartbeats still has its stream"
    );
    visitor.say("still there?").await;
    assert_eq!(
        live.next_of("message.created").await["message"]["text"],
        "still there?"
    );
}
