//! Erasing a customer who asks to be forgotten: everything kept about them goes, in every
//! place it was kept, and nothing of anyone else's.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{code, eventually, spawn_app};

#[tokio::test]
async fn erasing_a_customer_deletes_everything_kept_about_them_and_nothing_else() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    // An integration that is down: its deliveries wait in the queue, naming each event.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let (status, webhook) = owner
        .post("/api/v1/webhooks", json!({"url": down, "events": ["*"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    let webhook = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let leaving = app.visitor(&shop.widget_key).await;
    leaving
        .say("my order 4471 never came, jane@example.com, get me a human")
        .await;
    let staying = app.visitor(&shop.widget_key).await;
    staying.say("I want to talk to a person").await;
    let handoffs = eventually(|| async {
        let (_, list) = owner.get("/api/v1/handoffs").await;
        let list = list.as_array().unwrap().clone();
        (list.len() == 2).then_some(list)
    })
    .await;
    let of = |conversation: &str| -> Value {
        handoffs
            .iter()
            .find(|h| h["conversation_id"] == conversation)
            .unwrap()
            .clone()
    };
    let (gone, kept) = (of(&leaving.conversation_id), of(&staying.conversation_id));
    let gone_id = gone["id"].as_str().unwrap();
    // An agent is mid-conversation with the customer who leaves.
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{gone_id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = owner
        .post(
            &format!("/api/v1/handoffs/{gone_id}/messages"),
            json!({"text": "Looking into order 4471 now"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut window = leaving.stream(0).await;
    window.next_of("message.created").await;
    let contact = gone["customer"]["id"].as_str().unwrap();
    // The seqs of the events about the customer who leaves, each queued for the webhook.
    let theirs: Vec<Value> = app
        .events(owner, 0)
        .await
        .until_quiet(300)
        .await
        .into_iter()
        .filter(|e| e["conversation_id"] == leaving.conversation_id.as_str())
        .map(|e| e["seq"].clone())
        .collect();
    assert!(theirs.len() >= 4, "{theirs:?}");
    let queued = |deliveries: &Value| -> Vec<Value> {
        deliveries["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["seq"].clone())
            .filter(|seq| theirs.contains(seq))
            .collect()
    };
    let (_, before) = owner.get(&webhook).await;
    assert_eq!(queued(&before).len(), theirs.len(), "{before}");

    // Only admins of the workspace may erase.
    let agent = app.member(owner, "agent@shop.test", "agent").await;
    let (status, _) = agent.delete(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = app.other_workspace("olga@other.test").await;
    let (status, body) = stranger
        .delete(&format!("/api/v1/contacts/{contact}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, erased) = owner.delete(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(
        erased,
        json!({"contact_id": contact, "conversation_ids": [leaving.conversation_id],
               "handoff_ids": [gone_id], "reason": "request"})
    );

    // The customer's open chat window is told, and closed.
    window.next_of("conversation.erased").await;
    assert!(window.closes_within(2_000).await);
    // Their handoff is gone from every list; the other customer's is whole.
    let (status, _) = owner.get(&format!("/api/v1/handoffs/{gone_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for status in ["pending", "in_progress", "resolved"] {
        let (_, list) = owner
            .get(&format!("/api/v1/handoffs?status={status}"))
            .await;
        assert!(!list.to_string().contains(gone_id), "{list}");
    }
    let (status, still) = owner
        .get(&format!(
            "/api/v1/handoffs/{}",
            kept["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(still["messages"].to_string().contains("talk to a person"));
    // The event log, which streams and webhooks replay, keeps nothing of theirs: the only
    // trace is the erasure itself, which names ids and nothing they wrote.
    let replay = app.events(owner, 0).await.until_quiet(500).await;
    let text = Value::from(replay.clone()).to_string();
    // ("order 4471", not "4471": a random hex id may hold those digits.)
    for secret in ["order 4471", "jane@example.com", &leaving.conversation_id] {
        let traces = replay
            .iter()
            .filter(|e| e["type"] != "contact.erased" && e.to_string().contains(secret))
            .count();
        assert_eq!(traces, 0, "{secret} is still in the log: {text}");
    }
    assert!(text.contains("talk to a person"), "{text}");
    let last = replay.last().unwrap();
    assert_eq!(last["type"], "contact.erased");
    assert_eq!(last["handoff_ids"], json!([gone_id]));
    // Nor does the webhook's queue; the erasure itself is queued for it.
    let (_, after) = owner.get(&webhook).await;
    assert_eq!(queued(&after), Vec::<Value>::new(), "{after}");
    assert!(
        after["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["type"] == "contact.erased"),
        "{after}"
    );
    // The queue's counts no longer count it.
    let (_, counts) = owner.get("/api/v1/handoffs/counts").await;
    assert_eq!(
        counts["pending"].as_i64().unwrap() + counts["in_progress"].as_i64().unwrap(),
        1
    );

    // Their old token no longer opens anything; the chat window starts afresh.
    let (status, body) = leaving.api.get("/widget/v1/messages").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, fresh) = app
        .anonymous()
        .post(
            "/widget/v1/sessions",
            json!({"widget_key": shop.widget_key, "visitor_token": leaving.token}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    assert_ne!(fresh["conversation_id"], leaving.conversation_id.as_str());
    // A window that reconnects with the old token is told too.
    let mut late = leaving.stream(0).await;
    assert_eq!(late.next().await["type"], "conversation.erased");

    // Erasing twice finds nothing the second time.
    let (status, body) = owner.delete(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
}
