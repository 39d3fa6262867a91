//! The whole loop on the widget channel: bot answers, handoff, claim, reply, resolve.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use baton::bot::{Reply, Responder, ResponderError, Turn};
use baton::conversation::{Outcome, bot_turn, sweep};
use baton::store::{NewMessage, TURN_LEASE_MS};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::helpers::{code, eventually, spawn_app, spawn_app_with_responder};

fn texts(messages: &[Value]) -> Vec<(String, String)> {
    messages
        .iter()
        .map(|m| {
            (
                m["author"].as_str().unwrap().to_owned(),
                m["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn pending(owner: &crate::helpers::Api) -> Vec<Value> {
    let (status, body) = owner.get("/api/v1/handoffs?status=pending").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

#[tokio::test]
async fn the_whole_loop_from_question_to_handoff_to_resolve_and_back_to_the_bot() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let mut events = app.events(&shop.owner, 0).await;
    let visitor = app.visitor(&shop.widget_key).await;

    // A knowledge-base question gets an answer quoted from the knowledge base.
    visitor.say("How long does standard delivery take?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert_eq!(messages[1]["author"], "bot");
    let answer = messages[1]["text"].as_str().unwrap();
    assert!(answer.contains("3 to 5 business days"), "{answer}");
    assert!(
        answer.contains("Shipping"),
        "the answer names its source: {answer}"
    );

    // Asking for a person: the handoff message with the response time, then a pending handoff.
    visitor.say("I want to talk to a person").await;
    let messages = visitor.wait_for_messages(4).await;
    let handoff_text = messages[3]["text"].as_str().unwrap();
    assert_eq!(messages[3]["author"], "bot");
    assert!(handoff_text.contains("within 2 hours"), "{handoff_text}");
    let created = events.next_of("handoff.created").await;
    let handoff = &created["handoff"];
    assert_eq!(handoff["status"], "pending");
    assert_eq!(handoff["reason"], "customer_request");
    assert_eq!(handoff["channel"], "widget");
    let summary = handoff["summary"].as_str().unwrap();
    assert!(
        summary.contains("asked for a person") && summary.contains("standard delivery"),
        "{summary}"
    );
    let id = handoff["id"].as_str().unwrap().to_owned();
    assert_eq!(pending(&shop.owner).await.len(), 1);

    // The customer writes more: the bot stays silent, agents see it live.
    visitor
        .say("My order number is #A1234, it never came")
        .await;
    let live = events.next_of("message.created").await;
    assert_eq!(
        live["message"]["text"],
        "My order number is #A1234, it never came"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = visitor.messages().await;
    assert_eq!(
        messages.len(),
        5,
        "the bot must stay silent: {:?}",
        texts(&messages)
    );

    // An agent claims it and replies; the customer's stream delivers the reply with the name.
    let agents = app.agents(&shop.owner, 2).await;
    let (name, agent) = &agents[0];
    let mut stream = visitor.stream(messages[4]["seq"].as_i64().unwrap()).await;
    let (status, claimed) = agent
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
    assert_eq!(claimed["status"], "in_progress");
    assert_eq!(claimed["claimed_by"]["name"], name.as_str());
    let joined = stream.next_of("message.created").await;
    assert_eq!(joined["message"]["author"], "system");
    let update = stream.next_of("handoff.updated").await;
    assert_eq!(update["status"], "in_progress");
    assert!(update.get("summary").is_none());

    let (status, sent) = agent
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"text": "Hi, I'm on it!"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["delivery_status"], "sent");
    let reply = stream.next_of("message.created").await;
    assert_eq!(reply["message"]["text"], "Hi, I'm on it!");
    assert_eq!(reply["message"]["author"], "agent");
    assert_eq!(reply["message"]["author_name"], name.as_str());
    // Delivery to the widget shows on the agent's side.
    let status_event = events.next_of("message.status").await;
    assert_eq!(status_event["message_id"], sent["id"]);
    assert_eq!(status_event["delivery_status"], "delivered");

    // Someone who does not hold it may not reply.
    let (_, other) = &agents[1];
    let (status, body) = other
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"text": "me too"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "not_claim_holder");
    assert_eq!(body["error"]["holder"]["name"], name.as_str());

    // Resolve: the bot is back, answers the next question, and hands off nothing new.
    let (status, resolved) = agent
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    let before = visitor.messages().await.len();
    visitor.say("Can I return unworn items?").await;
    let messages = visitor.wait_for_messages(before + 2).await;
    let last = messages.last().unwrap();
    assert_eq!(last["author"], "bot");
    assert!(last["text"].as_str().unwrap().contains("30 days"), "{last}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(pending(&shop.owner).await.is_empty());
    let (_, all) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(all.as_array().unwrap().len(), 1);

    // The agent's view has the whole history.
    let (_, full) = shop.owner.get(&format!("/api/v1/handoffs/{id}")).await;
    let authors: Vec<&str> = full["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert!(
        authors.starts_with(&[
            "customer", "bot", "customer", "bot", "customer", "system", "agent"
        ]),
        "{authors:?}"
    );
}

#[tokio::test]
async fn a_later_request_opens_a_new_handoff_on_the_same_conversation() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("get me a human").await;
    let first = eventually(|| async { pending(&shop.owner).await.first().cloned() }).await;
    let id = first["id"].as_str().unwrap();
    shop.owner
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    visitor.say("sorry, I need an agent again").await;
    let second = eventually(|| async { pending(&shop.owner).await.first().cloned() }).await;
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["conversation_id"], first["conversation_id"]);
    let (_, full) = shop
        .owner
        .get(&format!(
            "/api/v1/handoffs/{}",
            second["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        full["messages"].as_array().unwrap().len() >= 5,
        "history stays whole: {full}"
    );
}

#[tokio::test]
async fn twenty_concurrent_claims_have_exactly_one_winner() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("connect me to customer service").await;
    let handoff = eventually(|| async { pending(&shop.owner).await.first().cloned() }).await;
    let url = format!("/api/v1/handoffs/{}/claim", handoff["id"].as_str().unwrap());
    let agents = app.agents(&shop.owner, 20).await;
    let claims = agents.iter().map(|(_, api)| api.post(&url, json!({})));
    let results = futures_util::future::join_all(claims).await;
    let winners: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].0 == StatusCode::OK)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = &agents[winners[0]].0;
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert_eq!(code(body), "already_claimed");
        assert_eq!(body["error"]["holder"]["name"], winner.as_str());
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(winner.as_str())
        );
    }
    // One system message, one claim event: the losers wrote nothing.
    let joined = visitor
        .messages()
        .await
        .iter()
        .filter(|m| m["author"] == "system")
        .count();
    assert_eq!(joined, 1);
}

#[tokio::test]
async fn admins_release_claims_and_agents_cannot() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("can I speak to a representative?").await;
    let handoff = eventually(|| async { pending(&shop.owner).await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();
    let agents = app.agents(&shop.owner, 2).await;
    agents[0]
        .1
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    let (status, body) = agents[0]
        .1
        .post(&format!("/api/v1/handoffs/{id}/release"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, released) = shop
        .owner
        .post(&format!("/api/v1/handoffs/{id}/release"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{released}");
    assert_eq!(released["status"], "pending");
    assert_eq!(released["claimed_by"], Value::Null);
    // Released again, now that no one holds it: nothing to release, and said so.
    let (status, body) = shop
        .owner
        .post(&format!("/api/v1/handoffs/{id}/release"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "conflict");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing to release")
    );
    let (status, _) = agents[1]
        .1
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // The admin may answer over the holder's shoulder; an unclaimed agent may not resolve.
    let (status, _) = shop
        .owner
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"text": "Admin here"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = agents[0]
        .1
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = agents[1]
        .1
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = agents[1]
        .1
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "handoff_not_open");
}

#[tokio::test]
async fn a_question_the_knowledge_base_cannot_answer_hands_off_as_kb_miss() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("Do you repair vintage motorcycles?").await;
    let handoff = eventually(|| async { pending(&shop.owner).await.first().cloned() }).await;
    assert_eq!(handoff["reason"], "kb_miss");
    let summary = handoff["summary"].as_str().unwrap();
    assert!(
        summary.contains("vintage motorcycles") && summary.contains("knowledge base"),
        "{summary}"
    );
    let messages = visitor.wait_for_messages(2).await;
    assert!(
        messages[1]["text"]
            .as_str()
            .unwrap()
            .contains("connecting you")
    );
}

#[tokio::test]
async fn without_the_tool_enabled_the_bot_declines_politely_and_promises_no_one() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("Do you repair vintage motorcycles?").await;
    let messages = visitor.wait_for_messages(2).await;
    let miss = messages[1]["text"].as_str().unwrap().to_lowercase();
    visitor.say("I want to talk to a human").await;
    let messages = visitor.wait_for_messages(4).await;
    let request = messages[3]["text"].as_str().unwrap().to_lowercase();
    for text in [&miss, &request] {
        assert!(text.contains("sorry"), "{text}");
        assert!(
            !text.contains("connecting")
                && !text.contains("will reply")
                && !text.contains("team responds"),
            "{text}"
        );
    }
    assert!(request.contains("can't connect you"), "{request}");
    let metrics = app.anonymous().get("/metrics").await.1;
    assert!(
        metrics.as_str().unwrap().contains("baton_bot_turns_total"),
        "{metrics}"
    );
    assert!(pending(&shop.owner).await.is_empty());
    // Installed but not enabled on this bot is the same as not installed.
    let (_, all) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(all, json!([]));
}

#[tokio::test]
async fn questions_about_people_are_answered_not_handed_off() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let (status, body) = shop
        .owner
        .post(
            &format!("/api/v1/bots/{}/documents", shop.bot_id),
            json!({"title": "Contact us", "format": "markdown",
                   "content": "# Contact us\n\nOur support email is help@acme.test. \
                               Our support phone number is +1 415 555 0100, weekdays 9 to 5."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let visitor = app.visitor(&shop.widget_key).await;
    // SPEC §2.1: asking what the bot is, or how to reach support, is not asking for a person.
    let asked = [
        ("hello", None),
        ("are you a human?", Some("assistant")),
        ("Am I talking to a bot?", Some("assistant")),
        ("what is your support email?", Some("help@acme.test")),
        ("what's your support phone number?", Some("555 0100")),
        ("how much does shipping cost?", Some("$50")),
    ];
    for (n, (question, expected)) in asked.iter().enumerate() {
        visitor.say(question).await;
        let messages = visitor.wait_for_messages(2 * n + 2).await;
        let answer = messages[2 * n + 1]["text"].as_str().unwrap();
        assert_eq!(
            messages[2 * n + 1]["author"],
            "bot",
            "{:?}",
            texts(&messages)
        );
        if let Some(expected) = expected {
            assert!(answer.contains(expected), "{question}: {answer}");
        }
    }
    let (_, all) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(all, json!([]));
}

#[tokio::test]
async fn greetings_and_thanks_in_other_languages_are_answered_in_kind_not_handed_off() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("¡Hola! 👋").await;
    visitor.wait_for_messages(2).await;
    visitor.say("Merhaba").await;
    visitor.wait_for_messages(4).await;
    visitor.say("شكراً").await;
    let messages = visitor.wait_for_messages(6).await;
    assert_eq!(
        [
            &messages[1]["text"],
            &messages[3]["text"],
            &messages[5]["text"]
        ],
        [
            "¡Hola! ¿En qué puedo ayudarte hoy?",
            "Merhaba! Bugün size nasıl yardımcı olabilirim?",
            "على الرحب والسعة! هل هناك شيء آخر يمكنني مساعدتك به؟",
        ],
        "{:?}",
        texts(&messages)
    );
    assert!(pending(&shop.owner).await.is_empty());
}

/// A responder that holds its answer to messages containing "[slow]" until let go.
struct Slow {
    inner: Arc<dyn Responder>,
    gate: Arc<Semaphore>,
    finished: Arc<Semaphore>,
}

#[async_trait]
impl Responder for Slow {
    async fn respond(&self, turn: Turn<'_>) -> Result<Reply, ResponderError> {
        let slow = turn.message.contains("[slow]");
        if slow {
            self.gate.acquire().await.unwrap().forget();
        }
        let reply = self.inner.respond(turn).await;
        if slow {
            self.finished.add_permits(1);
        }
        reply
    }
}

/// Baton with the [`Slow`] responder: answers to "[slow]" messages wait for a permit on the
/// first semaphore, and each adds one to the second once computed.
async fn spawn_slow_app() -> (crate::helpers::TestApp, Arc<Semaphore>, Arc<Semaphore>) {
    let gate = Arc::new(Semaphore::new(0));
    let finished = Arc::new(Semaphore::new(0));
    let (g, f) = (gate.clone(), finished.clone());
    let app = spawn_app_with_responder(move |state| {
        Arc::new(Slow {
            inner: state.responder.clone(),
            gate: g,
            finished: f,
        })
    })
    .await;
    (app, gate, finished)
}

#[tokio::test]
async fn a_bot_reply_computed_while_a_handoff_began_is_dropped() {
    let (app, gate, finished) = spawn_slow_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor
        .say("How long does standard delivery take? [slow]")
        .await;
    visitor.say("actually, let me talk to a person").await;
    let handoff = eventually(|| async { pending(&shop.owner).await.first().cloned() }).await;
    let agents = app.agents(&shop.owner, 1).await;
    agents[0]
        .1
        .post(
            &format!("/api/v1/handoffs/{}/claim", handoff["id"].as_str().unwrap()),
            json!({}),
        )
        .await;

    gate.add_permits(1);
    finished.acquire().await.unwrap().forget();
    // The turn has its reply; give it time to try to store it, then check it did not.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = visitor.messages().await;
    assert!(
        messages
            .iter()
            .all(|m| !m["text"].as_str().unwrap().contains("3 to 5 business days")),
        "the stale answer reached the customer: {:?}",
        texts(&messages)
    );
}

#[tokio::test]
async fn a_bot_turn_reads_the_latest_messages_of_a_long_conversation() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("get me a human").await;
    let handoff = eventually(|| async { pending(&shop.owner).await.first().cloned() }).await;
    let store = &app.state.store;
    let workspace_id = store
        .bot_by_widget_key(&shop.widget_key)
        .await
        .unwrap()
        .workspace_id;
    let conversation = store
        .conversation(&workspace_id, handoff["conversation_id"].as_str().unwrap())
        .await
        .unwrap();
    for i in 0..210 {
        let text = format!("note {i}");
        store
            .add_customer_message(&conversation, NewMessage::text("customer", "Ann", &text), i)
            .await
            .unwrap();
    }
    let latest = store
        .latest_messages_after(&conversation.id, conversation.context_seq, 200)
        .await
        .unwrap();
    assert_eq!(latest.len(), 200);
    assert_eq!(latest[0].text, "note 10");
    assert_eq!(latest[199].text, "note 209");
    assert!(latest.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn the_send_check_is_atomic_with_the_conversation_state() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("get me a human").await;
    let handoff = eventually(|| async { pending(&shop.owner).await.first().cloned() }).await;
    let workspace_id = app
        .state
        .store
        .bot_by_widget_key(&shop.widget_key)
        .await
        .unwrap()
        .workspace_id;
    let conversation = app
        .state
        .store
        .conversation(&workspace_id, handoff["conversation_id"].as_str().unwrap())
        .await
        .unwrap();
    // What the bot saw before the handoff: no handoff, the same context.
    let mut stale = conversation.clone();
    stale.active_handoff_id = None;
    let message = app
        .state
        .store
        .messages_after(&conversation.id, 0, 10)
        .await
        .unwrap()[0]
        .clone();
    // (A turn that sees the change before it starts stops there; one that sees it only at the
    // send is the slow-responder test above.)
    let outcome = bot_turn(&app.state, &stale, &message).await.unwrap();
    assert!(matches!(outcome, Outcome::Dropped), "{outcome:?}");

    // And after a resolve, a reply computed in the old context is dropped as well.
    shop.owner
        .post(
            &format!(
                "/api/v1/handoffs/{}/resolve",
                handoff["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    let outcome = bot_turn(&app.state, &conversation, &message).await.unwrap();
    assert!(matches!(outcome, Outcome::Dropped), "{outcome:?}");
}

#[tokio::test]
async fn a_request_for_a_person_in_another_language_hands_off_too() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    for (text, expected) in [
        ("Quero falar com um atendente", 1),
        ("Хочу поговорить с оператором", 2),
    ] {
        let visitor = app.visitor(&shop.widget_key).await;
        visitor.say(text).await;
        let handoffs = eventually(|| async {
            let list = pending(&shop.owner).await;
            (list.len() == expected).then_some(list)
        })
        .await;
        assert_eq!(handoffs[0]["reason"], "customer_request", "{text}");
    }
}

/// A customer message stored, acknowledged, and then left: the node that stored it "crashed"
/// before its bot turn ran (the store call alone leases the turn to it but queues nothing).
async fn store_and_crash(
    app: &crate::helpers::TestApp,
    widget_key: &str,
    visitor: &crate::helpers::Visitor,
    text: &str,
    at: i64,
) {
    let workspace_id = shop_workspace(app, widget_key).await;
    let conversation = app
        .state
        .store
        .conversation(&workspace_id, &visitor.conversation_id)
        .await
        .unwrap();
    let stored = app
        .state
        .store
        .add_customer_message(
            &conversation,
            NewMessage::text("customer", "Website visitor", text),
            at,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(stored.needs_answer);
}

/// Another node on the same database, once its first sweep (which runs as it starts, in the
/// background) is over: the tests move its clock and sweep by hand after that.
async fn second_node_swept(app: &crate::helpers::TestApp) -> crate::helpers::TestApp {
    let node = app.second_node().await;
    eventually(|| async { (node.state.turns.sweeps() > 0).then_some(()) }).await;
    node
}

/// A chat whose "hello" was answered, then whose "Is shipping free?" was stored by a node that
/// "crashed" before answering it.
async fn answered_then_crashed(
    app: &crate::helpers::TestApp,
) -> (crate::helpers::Shop, crate::helpers::Visitor) {
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("hello").await;
    visitor.wait_for_messages(2).await;
    let now = app.state.clock.now_ms();
    store_and_crash(app, &shop.widget_key, &visitor, "Is shipping free?", now).await;
    (shop, visitor)
}

/// Moves a node's clock past the lease of every turn written until now.
fn past_the_lease(app: &crate::helpers::TestApp) {
    app.state
        .clock
        .advance(Duration::from_millis(TURN_LEASE_MS as u64 + 1));
}

#[tokio::test]
async fn a_message_whose_node_crashed_is_answered_by_another_once_the_lease_runs_out() {
    let app = spawn_app().await;
    let (shop, visitor) = answered_then_crashed(&app).await;
    assert_eq!(visitor.messages().await.len(), 3);

    // Other nodes start: while the lease runs, the turn is not theirs to take.
    let other = second_node_swept(&app).await;
    let third = second_node_swept(&app).await;
    assert_eq!(sweep(&other.state).await.unwrap(), 0);
    past_the_lease(&other);
    past_the_lease(&third);
    // Past it, of two nodes sweeping at once exactly one takes the turn.
    let (one, two) = tokio::join!(sweep(&other.state), sweep(&third.state));
    assert_eq!(one.unwrap() + two.unwrap(), 1);
    let messages = visitor.wait_for_messages(4).await;
    assert!(
        messages[3]["text"].as_str().unwrap().contains("$50"),
        "{messages:?}"
    );
    // Answered once: the turn is gone, for this node and every other.
    assert_eq!(sweep(&other.state).await.unwrap(), 0);
    past_the_lease(&app);
    past_the_lease(&app);
    assert_eq!(sweep(&app.state).await.unwrap(), 0);
    assert_eq!(app.state.store.count_turns().await.unwrap(), 0);
    // A node that still had the message queued finds its turn gone and computes nothing.
    let workspace_id = shop_workspace(&app, &shop.widget_key).await;
    let conversation = app
        .state
        .store
        .conversation(&workspace_id, &visitor.conversation_id)
        .await
        .unwrap();
    let stored = app
        .state
        .store
        .messages_after(&conversation.id, 0, 10)
        .await
        .unwrap();
    let outcome = bot_turn(&app.state, &conversation, &stored[2])
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::TurnGone), "{outcome:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(visitor.messages().await.len(), 4, "{messages:?}");
}

#[tokio::test]
async fn a_node_that_stops_hands_its_unanswered_messages_to_the_next_at_once() {
    let mut app = spawn_app().await;
    let (_shop, visitor) = answered_then_crashed(&app).await;

    // Stopping lets go of the lease: the node started in its place answers without waiting.
    app.shutdown().await.unwrap();
    let _restarted = app.restart().await;
    let messages = visitor.wait_for_messages(4).await;
    assert!(
        messages[3]["text"].as_str().unwrap().contains("$50"),
        "{messages:?}"
    );
}

#[tokio::test]
async fn of_two_nodes_computing_one_answer_only_the_first_stores_it_and_a_live_node_keeps_its_turns()
 {
    let (slow_node, gate, finished) = spawn_slow_app().await;
    let shop = slow_node.shop(true).await;
    let visitor = slow_node.visitor(&shop.widget_key).await;
    visitor.say("Is shipping free? [slow]").await;
    assert_eq!(slow_node.state.turns.held().len(), 1);

    // The slow node renews its lease while its model thinks, so the other node leaves the
    // turn alone even past the first lease...
    let other = second_node_swept(&slow_node).await;
    slow_node.state.clock.advance(Duration::from_secs(20));
    sweep(&slow_node.state).await.unwrap();
    other.state.clock.advance(Duration::from_secs(40));
    assert_eq!(sweep(&other.state).await.unwrap(), 0);
    // ...until it stops renewing (a node that lost the database for longer than a lease).
    other.state.clock.advance(Duration::from_secs(20));
    assert_eq!(sweep(&other.state).await.unwrap(), 1);
    let messages = visitor.wait_for_messages(2).await;
    assert!(
        messages[1]["text"].as_str().unwrap().contains("$50"),
        "{messages:?}"
    );

    // The slow node's answer comes too late: storing it would answer the message twice.
    gate.add_permits(1);
    finished.acquire().await.unwrap().forget();
    eventually(|| async { slow_node.state.turns.held().is_empty().then_some(()) }).await;
    let messages = visitor.messages().await;
    assert_eq!(messages.len(), 2, "{:?}", texts(&messages));
    assert_eq!(slow_node.state.store.count_turns().await.unwrap(), 0);
}

#[tokio::test]
async fn a_turn_taken_over_when_there_is_nothing_left_to_say_is_ended_unanswered() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let now = app.state.clock.now_ms();
    // While its turn waits for the lease to run out, the customer asks for a person, and
    // writes again during the handoff (which the bot owes no answer).
    let handed_off = app.visitor(&shop.widget_key).await;
    store_and_crash(
        &app,
        &shop.widget_key,
        &handed_off,
        "Is shipping free?",
        now,
    )
    .await;
    handed_off.say("I want to talk to a person").await;
    pending_eventually(&shop.owner).await;
    handed_off.say("are you there?").await;
    // The customer writes again, and the bot's answer, which read the first message, comes
    // first.
    let overtaken = app.visitor(&shop.widget_key).await;
    store_and_crash(&app, &shop.widget_key, &overtaken, "Is shipping free?", now).await;
    overtaken.say("hello").await;
    overtaken.wait_for_messages(3).await;
    assert_eq!(app.state.store.count_turns().await.unwrap(), 2);
    // A day is as long as a turn waits: past it, nobody is answered out of the blue.
    let a_day_ago = now - baton::domain::WHATSAPP_WINDOW_MS - 1;
    let forgotten = app.visitor(&shop.widget_key).await;
    store_and_crash(
        &app,
        &shop.widget_key,
        &forgotten,
        "Is shipping free?",
        a_day_ago,
    )
    .await;
    let before = [
        handed_off.messages().await.len(),
        overtaken.messages().await.len(),
    ];

    let late = second_node_swept(&app).await;
    past_the_lease(&late);
    assert_eq!(sweep(&late.state).await.unwrap(), 0, "the bot stays silent");
    // Ended, not left for the next sweep.
    assert_eq!(app.state.store.count_turns().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = [
        handed_off.messages().await.len(),
        overtaken.messages().await.len(),
    ];
    assert_eq!(after, before);
    assert_eq!(forgotten.messages().await.len(), 1);
}

async fn pending_eventually(owner: &crate::helpers::Api) -> Value {
    eventually(|| async { pending(owner).await.first().cloned() }).await
}

async fn shop_workspace(app: &crate::helpers::TestApp, widget_key: &str) -> String {
    app.state
        .store
        .bot_by_widget_key(widget_key)
        .await
        .unwrap()
        .workspace_id
}

#[tokio::test]
async fn removing_an_agent_puts_their_conversations_back_in_the_queue() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let (_, ana_me) = ana.get("/api/v1/me").await;
    let ana_id = ana_me["user"]["id"].as_str().unwrap().to_owned();
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want to talk to a person").await;
    let handoff = owner.first_handoff().await;
    let path = format!("/api/v1/handoffs/{}", handoff["id"].as_str().unwrap());
    assert_eq!(
        ana.post(&format!("{path}/claim"), json!({})).await.0,
        StatusCode::OK
    );
    let (status, _) = ana
        .post(
            &format!("{path}/messages"),
            json!({"text": "Hi, Ana here."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut events = app.events(owner, 0).await;

    // Who may not remove whom: agents nobody, admins not themselves nor the owner.
    let admin = app.member(owner, "max@shop.test", "admin").await;
    let (_, owner_me) = owner.get("/api/v1/me").await;
    let owner_id = owner_me["user"]["id"].as_str().unwrap();
    let (status, _) = ana.delete(&format!("/api/v1/agents/{owner_id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = admin.delete(&format!("/api/v1/agents/{owner_id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = owner.delete(&format!("/api/v1/agents/{owner_id}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let other = app.other_workspace("olga@other.test").await;
    let (status, _) = other.delete(&format!("/api/v1/agents/{ana_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = admin.delete(&format!("/api/v1/agents/{ana_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Ana is logged out everywhere.
    assert_eq!(ana.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (_, people) = owner.get("/api/v1/agents").await;
    assert!(!people.to_string().contains("ana@shop.test"), "{people}");
    // Her conversation is waiting again, live, and the customer is told.
    let released = events.next_of("handoff.released").await;
    assert_eq!(released["handoff"]["status"], "pending", "{released}");
    let (_, now) = owner.get(&path).await;
    assert_eq!(now["status"], "pending");
    assert!(now["claimed_by"].is_null(), "{now}");
    let messages = visitor.messages().await;
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"Hi, Ana here."),
        "what she wrote stays: {texts:?}"
    );
    assert!(
        texts
            .last()
            .unwrap()
            .starts_with("ana left the conversation"),
        "{texts:?}"
    );
    // Someone else takes over.
    assert_eq!(
        admin.post(&format!("{path}/claim"), json!({})).await.0,
        StatusCode::OK
    );
    let (status, _) = owner.delete(&format!("/api/v1/agents/{ana_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A removed admin's API keys stop working with them.
    let (_, key) = admin
        .post("/api/v1/api-keys", json!({"name": "sync"}))
        .await;
    let admin_key = admin.with_bearer(key["key"].as_str().unwrap());
    assert_eq!(admin_key.get("/api/v1/me").await.0, StatusCode::OK);
    let (_, max) = admin.get("/api/v1/me").await;
    let max_id = max["user"]["id"].as_str().unwrap();
    let mut max_events = app.events(&admin_key, 0).await;
    let (status, _) = owner.delete(&format!("/api/v1/agents/{max_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        admin_key.get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    // The live stream they had open ends too; the owner's goes on.
    assert!(
        max_events.closes_within(3000).await,
        "a removed admin's stream stays open"
    );
    assert!(!events.closes_within(300).await);
}

#[tokio::test]
async fn the_handoff_list_pages_through_every_handoff_with_next_links() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    for _ in 0..5 {
        let visitor = app.visitor(&shop.widget_key).await;
        visitor.say("I want to talk to a person").await;
        // Some created in the same millisecond, some not: the order holds either way.
        app.state.clock.advance(Duration::from_millis(1));
    }
    let all = eventually(|| async {
        let (_, all) = owner.get("/api/v1/handoffs?limit=500").await;
        let all: Vec<Value> = all.as_array().unwrap().clone();
        (all.len() == 5).then_some(all)
    })
    .await;

    for order in ["newest", "oldest"] {
        let mut next = Some(format!("/api/v1/handoffs?order={order}&limit=2"));
        let mut seen = Vec::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            let (page, following) = owner.get_page(&path).await;
            next = following;
            seen.extend(page.as_array().unwrap().iter().map(|h| h["id"].clone()));
            pages += 1;
        }
        // 2 + 2 + 1: the short page has no next link.
        assert_eq!(pages, 3);
        let mut expected: Vec<Value> = all.iter().map(|h| h["id"].clone()).collect();
        if order == "oldest" {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{order}");
    }

    // Another workspace's handoff is no cursor here.
    let stranger = app.other_workspace("stranger@other.test").await;
    let (status, body) = stranger
        .get(&format!(
            "/api/v1/handoffs?after={}",
            all[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn the_customer_is_promised_the_response_time_the_bots_prompt_states() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let bot = format!("/api/v1/bots/{}", shop.bot_id);
    let (status, body) = shop
        .owner
        .patch(
            &bot,
            json!({"system_prompt": "You help Acme's customers. Keep answers short.\n\
                   Tell customers that our team answers within 24 hours on weekdays."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want to talk to a person").await;
    let promised = visitor.wait_for_messages(2).await[1]["text"].clone();
    let promised = promised.as_str().unwrap();
    assert!(
        promised.ends_with("Our team answers within 24 hours on weekdays."),
        "{promised}"
    );
    assert!(!promised.contains("2 hours"), "{promised}");

    // A response time set on the bot wins over the prompt.
    shop.owner
        .patch(
            &bot,
            json!({"response_time_text": "We reply within 30 minutes."}),
        )
        .await;
    let other = app.visitor(&shop.widget_key).await;
    other.say("get me a human").await;
    let promised = other.wait_for_messages(2).await[1]["text"].clone();
    assert!(
        promised
            .as_str()
            .unwrap()
            .ends_with("We reply within 30 minutes."),
        "{promised}"
    );
}
