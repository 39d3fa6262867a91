//! WhatsApp end to end, against the fake Graph API, with Meta's own payloads and signatures.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::fake_graph::{APP_SECRET, FakeGraph, Next, PHONE_NUMBER_ID, TOKEN, VERIFY_TOKEN};
use crate::helpers::{Api, Shop, TestApp, code, eventually, spawn_app_with};

/// A file from shared/whatsapp-fixtures, byte for byte.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/whatsapp-fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(crate) fn sign(body: &[u8]) -> String {
    sign_with(APP_SECRET, body)
}

/// `X-Hub-Signature-256` as a Meta app with this secret signs the body.
pub(crate) fn sign_with(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A text message from a customer, shaped as Meta sends it.
pub(crate) fn text_from(wa_id: &str, name: &str, wamid: &str, body: &str) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477", "changes": [{
    "field": "messages",
    "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": "1749416383", "type": "text",
                      "text": {"body": body}}],
    }}]}]})
    .to_string()
    .into_bytes()
}

/// The same, sent to the business number `to` (its `metadata.phone_number_id`).
pub(crate) fn text_to(to: &str, wa_id: &str, wamid: &str, body: &str) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&text_from(wa_id, "Lena", wamid, body)).unwrap();
    value["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!(to);
    value.to_string().into_bytes()
}

/// A status webhook for one of our messages.
fn status_of(wamid: &str, status: &str, recipient: &str) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477", "changes": [{
    "field": "messages",
    "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [{"id": wamid, "status": status, "timestamp": "1749416400",
                      "recipient_id": recipient}],
    }}]}]})
    .to_string()
    .into_bytes()
}

/// The id of the first message by `author` in a handoff's full view.
fn first_by(full: &Value, author: &str) -> String {
    full["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["author"] == author)
        .unwrap_or_else(|| panic!("no {author} message in {full}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An app with a fake Graph API and a shop whose bot answers the fake's number.
pub(crate) struct Setup {
    pub(crate) app: TestApp,
    pub(crate) shop: Shop,
    pub(crate) graph: FakeGraph,
    pub(crate) channel_id: String,
}

impl Setup {
    pub(crate) async fn new() -> Setup {
        let graph = FakeGraph::start().await;
        let base = graph.base.clone();
        let app = spawn_app_with(move |s| s.whatsapp_graph_url = Some(base)).await;
        let shop = app.shop(true).await;
        let (status, channel) = shop
            .owner
            .post(
                &format!("/api/v1/bots/{}/channels/whatsapp", shop.bot_id),
                json!({"phone_number_id": PHONE_NUMBER_ID, "access_token": TOKEN,
                       "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{channel}");
        let channel_id = channel["id"].as_str().unwrap().to_owned();
        assert!(
            channel["webhook_url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/webhooks/whatsapp/{channel_id}"))
        );
        Setup {
            app,
            shop,
            graph,
            channel_id,
        }
    }

    pub(crate) async fn post(&self, body: &[u8], signature: Option<&str>) -> (StatusCode, String) {
        let mut request = reqwest::Client::new()
            .post(
                self.app
                    .url(&format!("/webhooks/whatsapp/{}", self.channel_id)),
            )
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    pub(crate) async fn deliver(&self, body: &[u8]) {
        let (status, text) = self.post(body, Some(&sign(body))).await;
        assert_eq!(status, StatusCode::OK, "{text}");
    }

    pub(crate) async fn handoffs(&self) -> Vec<Value> {
        self.shop
            .owner
            .get("/api/v1/handoffs")
            .await
            .1
            .as_array()
            .unwrap()
            .clone()
    }

    /// Waits until the fake has accepted `n` messages, and returns them.
    pub(crate) async fn sent(&self, n: usize) -> Vec<Value> {
        eventually(|| async {
            let sent = self.graph.sent();
            (sent.len() >= n).then_some(sent)
        })
        .await
    }
}

#[tokio::test]
async fn the_verification_handshake_echoes_the_challenge_only_for_our_token() {
    let s = Setup::new().await;
    let url = |token: &str| {
        s.app.url(&format!(
            "/webhooks/whatsapp/{}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}",
            s.channel_id
        ))
    };
    let ok = reqwest::get(url(VERIFY_TOKEN)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    assert_eq!(
        reqwest::get(url("wrong")).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let other = s
        .app
        .url("/webhooks/whatsapp/ch_missing?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x");
    assert_eq!(
        reqwest::get(other).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn metas_own_payload_and_signature_are_accepted_and_stored_once() {
    let s = Setup::new().await;
    let body = fixture("meta_webhook_text.json");
    let vector = "sha256=bec51913f460e445f1596819524b4c58d79a001bcb2c0cb0ef1e09b2cb9fe031";
    assert_eq!(sign(&body), vector, "the fixture's published test vector");
    let (status, _) = s.post(&body, Some(vector)).await;
    assert_eq!(status, StatusCode::OK);
    // Meta redelivers: the same message id is stored once.
    let (status, _) = s.post(&body, Some(vector)).await;
    assert_eq!(status, StatusCode::OK);

    let answer = s.sent(1).await;
    assert_eq!(answer[0]["to"], "16505551234");
    assert_eq!(answer[0]["type"], "text");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        s.graph.sent().len(),
        1,
        "one answer for one message: {:?}",
        s.graph.sent()
    );
    // The customer's message was marked read, with a typing indicator as the bot answered.
    let reads =
        eventually(|| async { (!s.graph.reads().is_empty()).then(|| s.graph.reads()) }).await;
    assert_eq!(
        reads[0]["message_id"],
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
    assert_eq!(reads[0]["typing_indicator"]["type"], "text");
}

#[tokio::test]
async fn a_missing_forged_or_stale_signature_is_refused_and_stores_nothing() {
    let s = Setup::new().await;
    let body = text_from(
        "4915112345678",
        "Mallory",
        "wamid.forged1",
        "get me a human",
    );
    let (status, text) = s.post(&body, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    let (status, _) = s
        .post(
            &body,
            Some("sha256=0000000000000000000000000000000000000000000000000000000000000000"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A signature that was valid for another body (a replay with altered content).
    let stale = sign(&fixture("meta_webhook_text.json"));
    let (status, _) = s.post(&body, Some(&stale)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(s.handoffs().await.is_empty());
    assert!(s.graph.sent().is_empty());
    // Malformed JSON with a valid signature is a clear 400.
    let junk = b"{not json".to_vec();
    let (status, text) = s.post(&junk, Some(&sign(&junk))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
}

#[tokio::test]
async fn the_whole_handoff_loop_runs_over_whatsapp_with_agents_notified() {
    let s = Setup::new().await;
    let (status, body) = s
        .shop
        .owner
        .put(
            "/api/v1/settings/notifications",
            json!({"whatsapp": {"enabled": true, "channel_id": s.channel_id,
                   "recipients": ["+14155550123"], "template": {"name": "new_handoff", "language": "en_US"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in1",
        "I want to talk to a person",
    ))
    .await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    assert_eq!(handoff["channel"], "whatsapp");
    assert_eq!(handoff["customer"]["name"], "Lena");
    assert_eq!(handoff["customer"]["phone"], "+4915112345678");

    // The customer gets the handoff message; the agent (never wrote to us) gets the template.
    let sent = s.sent(2).await;
    let to_customer = sent.iter().find(|b| b["to"] == "4915112345678").unwrap();
    assert!(
        to_customer["text"]["body"]
            .as_str()
            .unwrap()
            .contains("within 2 hours")
    );
    let to_agent = sent.iter().find(|b| b["to"] == "14155550123").unwrap();
    assert_eq!(to_agent["type"], "template");
    assert_eq!(to_agent["template"]["name"], "new_handoff");
    assert_eq!(
        to_agent["template"]["components"][0]["parameters"][0]["text"],
        "Lena"
    );
    let id = handoff["id"].as_str().unwrap();
    let full = s.handoff_view(id).await;
    assert_eq!(full["notifications"][0]["status"], "sent", "{full}");

    // Claim and reply: the reply reaches the fake Graph API as text to the customer.
    let agents = s.app.agents(&s.shop.owner, 1).await;
    let agent = &agents[0].1;
    assert_eq!(
        agent
            .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let (status, reply) = agent
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"text": "Hi Lena, Sam here."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["delivery_status"], "queued");
    // Lena is told a person has joined, then reads the reply.
    let sent = s.sent(4).await;
    assert_eq!(
        sent[2]["text"]["body"],
        format!("{} joined the conversation.", agents[0].0)
    );
    assert_eq!(sent[3]["text"]["body"], "Hi Lena, Sam here.");

    // Statuses arrive (out of order, twice); the message keeps the highest.
    let message_id = reply["id"].as_str().unwrap();
    eventually(|| async {
        let full = s.handoff_view(id).await;
        let m = full["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == message_id)
            .cloned()?;
        (m["delivery_status"] == "accepted").then_some(())
    })
    .await;
    let sent_wamid = "wamid.FAKE0004";
    for status in ["read", "delivered", "read", "sent"] {
        s.deliver(&status_of(sent_wamid, status, "4915112345678"))
            .await;
    }
    let full = s.handoff_view(id).await;
    let reply_now = full["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == message_id)
        .unwrap()
        .clone();
    assert_eq!(reply_now["delivery_status"], "read", "{reply_now}");
    // The note that the agent joined has its status too.
    s.deliver(&status_of("wamid.FAKE0003", "delivered", "4915112345678"))
        .await;
    let note = first_by(&full, "system");
    eventually(|| async {
        let full = s.handoff_view(id).await;
        full["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == note.as_str() && m["delivery_status"] == "delivered")
            .then_some(())
    })
    .await;

    // Resolve: the bot answers the customer again.
    agent
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in2",
        "Is shipping free?",
    ))
    .await;
    // Lena is told the bot is back, and the bot answers her again.
    let sent = s.sent(6).await;
    assert!(
        sent[4]["text"]["body"]
            .as_str()
            .unwrap()
            .contains("resolved"),
        "{:?}",
        sent[4]
    );
    assert!(
        sent[5]["text"]["body"].as_str().unwrap().contains("$50"),
        "{:?}",
        sent[5]
    );
    assert_eq!(s.handoffs().await.len(), 1);
}

#[tokio::test]
async fn a_notification_refused_for_the_window_falls_back_to_the_template() {
    let s = Setup::new().await;
    s.shop
        .owner
        .put(
            "/api/v1/settings/notifications",
            json!({"whatsapp": {"enabled": true, "channel_id": s.channel_id, "recipients": ["+14155550123"]}}),
        )
        .await;
    s.deliver(&text_from(
        "14155550123",
        "Agent Sam",
        "wamid.agent1",
        "hi, it's Sam",
    ))
    .await;
    // WhatsApp refuses the agent's free text (131047): their window closed after all.
    s.graph.script_for(
        "14155550123",
        &[Next::Fail(400, 131047, "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")],
    );
    s.lena_asks_for_a_person().await;
    let sent = s.sent(2).await;
    let to_agent = sent.iter().find(|b| b["to"] == "14155550123").unwrap();
    assert_eq!(to_agent["type"], "template", "{sent:?}");
    let handoff = s.handoffs().await[0].clone();
    let full = s.handoff_view(handoff["id"].as_str().unwrap()).await;
    let statuses: Vec<&str> = full["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "sent"], "{full}");
}

/// A failed status, as Meta reports a send it accepted and then could not deliver.
fn failed_status(wamid: &str, recipient: &str, code: i64, details: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&status_of(wamid, "failed", recipient)).unwrap();
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"] = json!([{
        "code": code, "title": "Re-engagement message", "message": "Re-engagement message",
        "error_data": {"details": details},
    }]);
    body.to_string().into_bytes()
}

#[tokio::test]
async fn a_notification_reported_failed_for_the_window_after_it_was_accepted_falls_back_to_the_template()
 {
    let s = Setup::new().await;
    s.shop
        .owner
        .put(
            "/api/v1/settings/notifications",
            json!({"whatsapp": {"enabled": true, "channel_id": s.channel_id,
                   "recipients": ["+14155550123", "+14155550124"]}}),
        )
        .await;
    for (wa_id, wamid) in [("14155550123", "wamid.sam"), ("14155550124", "wamid.kim")] {
        s.deliver(&text_from(wa_id, "Agent", wamid, "hi, it's me"))
            .await;
    }
    s.lena_asks_for_a_person().await;
    // WhatsApp accepts both free-text notifications (and the customer's reply).
    let sent = s.sent(3).await;
    assert!(
        sent.iter()
            .filter(|b| b["to"] != "4915112345678")
            .all(|b| b["type"] == "text"),
        "{sent:?}"
    );
    let id_for = |to: &str| {
        s.graph
            .sent_with_ids()
            .into_iter()
            .find(|(_, b)| b["to"] == to)
            .unwrap()
            .0
    };
    let handoff = s.handoffs().await[0].clone();
    let path = format!("/api/v1/handoffs/{}", handoff["id"].as_str().unwrap());
    let notifications = || async {
        let (_, full) = s.shop.owner.get(&path).await;
        full["notifications"].as_array().unwrap().clone()
    };

    // Then reports Sam's failed: his window had closed after all. Kim's is delivered.
    let refusal = failed_status(
        &id_for("14155550123"),
        "14155550123",
        131047,
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    );
    s.deliver(&refusal).await;
    s.deliver(&status_of(
        &id_for("14155550124"),
        "delivered",
        "14155550124",
    ))
    .await;
    let sent = s.sent(4).await;
    assert_eq!(sent[3]["to"], "14155550123");
    assert_eq!(sent[3]["type"], "template", "{sent:?}");
    assert_eq!(
        sent[3]["template"]["components"][0]["parameters"][0]["text"],
        "Lena"
    );
    let listed = eventually(|| async {
        let listed = notifications().await;
        (listed.len() == 3 && listed.iter().all(|n| n["status"] != "pending")).then_some(listed)
    })
    .await;
    let by = |to: &str, template: bool| {
        listed
            .iter()
            .find(|n| n["to"] == to && n["by_template"] == template)
            .unwrap_or_else(|| panic!("{listed:?}"))
            .clone()
    };
    let refused = by("+14155550123", false);
    assert_eq!(refused["status"], "failed");
    assert!(
        refused["error"].as_str().unwrap().contains("131047"),
        "{refused}"
    );
    assert_eq!(by("+14155550123", true)["status"], "sent");
    assert_eq!(by("+14155550124", false)["status"], "delivered");

    // Meta redelivering the report sends nothing more.
    s.deliver(&refusal).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(s.graph.sent().len(), 4);
    assert_eq!(notifications().await.len(), 3);
}

#[tokio::test]
async fn an_agent_who_wrote_within_a_day_is_notified_with_free_text() {
    let s = Setup::new().await;
    s.shop
        .owner
        .put(
            "/api/v1/settings/notifications",
            json!({"whatsapp": {"enabled": true, "channel_id": s.channel_id, "recipients": ["+14155550123"]}}),
        )
        .await;
    // The agent writes to the business number: not a customer conversation, but their window opens.
    s.deliver(&text_from(
        "14155550123",
        "Agent Sam",
        "wamid.agent1",
        "hi, it's Sam",
    ))
    .await;
    s.lena_asks_for_a_person().await;
    let sent = s.sent(2).await;
    let to_agent = sent.iter().find(|b| b["to"] == "14155550123").unwrap();
    assert_eq!(to_agent["type"], "text");
    assert!(to_agent["text"]["body"].as_str().unwrap().contains("Lena"));
    let handoffs = s.handoffs().await;
    assert_eq!(
        handoffs.len(),
        1,
        "the agent's own message opened no conversation"
    );
}

#[tokio::test]
async fn deliveries_are_retried_through_an_outage_and_permanent_errors_are_not() {
    let s = Setup::new().await;
    // Three transient failures (a 5xx, the throughput and the pair rate limits), then success.
    s.graph.script(&[
        Next::Fail(503, 1, "Service unavailable"),
        Next::Fail(400, 130429, "Rate limit hit"),
        Next::Fail(
            400,
            131056,
            "(Business Account, Consumer Account) pair rate limit hit",
        ),
    ]);
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in1",
        "Is shipping free?",
    ))
    .await;
    eventually(|| async { (s.graph.attempts() >= 1).then_some(()) }).await;
    // Backoff waits are seconds: move Baton's clock instead of sleeping.
    for _ in 0..4 {
        s.app.state.clock.advance(Duration::from_secs(60));
        s.app.state.outbox_wake.notify_one();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent = s.sent(1).await;
    assert!(sent[0]["text"]["body"].as_str().unwrap().contains("$50"));
    assert_eq!(s.graph.attempts(), 4);

    // Undeliverable (131026): no retry, the failure and its reason on the message.
    s.graph
        .script(&[Next::Fail(400, 131026, "Message undeliverable")]);
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in2",
        "get me a human",
    ))
    .await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();
    let failed = eventually(|| async {
        let full = s.handoff_view(id).await;
        full["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["delivery_status"] == "failed")
            .cloned()
    })
    .await;
    assert!(
        failed["delivery_error"]
            .as_str()
            .unwrap()
            .contains("131026"),
        "{failed}"
    );
    let attempts = s.graph.attempts();
    s.app.state.clock.advance(Duration::from_secs(3600));
    s.app.state.outbox_wake.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        s.graph.attempts(),
        attempts,
        "a permanent error is not retried"
    );
}

#[tokio::test]
async fn an_expired_token_fails_the_delivery_with_its_reason() {
    let s = Setup::new().await;
    s.graph
        .script(&[Next::Fail(401, 190, "Error validating access token")]);
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in1",
        "Is shipping free?",
    ))
    .await;
    let ws = workspace(&s).await;
    let conversation_failed = eventually(|| async {
        let events = s.app.state.store.events_after(&ws, 0, 100).await.unwrap();
        events
            .iter()
            .find(|e| e.kind == "message.status" && e.payload.contains("failed"))
            .cloned()
    })
    .await;
    assert!(
        conversation_failed.payload.contains("190"),
        "{}",
        conversation_failed.payload
    );
}

async fn workspace(s: &Setup) -> String {
    let (_, me) = s.shop.owner.get("/api/v1/me").await;
    me["workspace"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_queued_message_survives_a_restart_and_is_sent_once() {
    let mut s = Setup::new().await;
    s.graph.down();
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in1",
        "Is shipping free?",
    ))
    .await;
    eventually(|| async { (s.graph.attempts() >= 1).then_some(()) }).await;
    s.app.shutdown().await.unwrap();

    // A new Baton on the same database, the API back up: the answer goes out, once.
    s.graph.up();
    let graph_url = s.graph.base.clone();
    let again = s
        .app
        .second_node_with(move |settings| settings.whatsapp_graph_url = Some(graph_url))
        .await;
    again.state.clock.advance(Duration::from_secs(120));
    again.state.outbox_wake.notify_one();
    let sent = s.sent(1).await;
    assert!(sent[0]["text"]["body"].as_str().unwrap().contains("$50"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.graph.sent().len(), 1);
}

#[tokio::test]
async fn outside_the_24_hour_window_free_text_is_refused_and_a_template_goes() {
    let s = Setup::new().await;
    s.lena_asks_for_a_person().await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();
    assert!(handoff["last_customer_at"].is_string());
    s.shop
        .owner
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    // The handoff message and the note that the owner joined.
    s.sent(2).await;

    s.app.state.clock.advance(Duration::from_secs(25 * 3600));
    let (status, body) = s
        .shop
        .owner
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"text": "Sorry for the wait!"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "whatsapp_window_closed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24 hours")
    );
    // An agent who does not hold the handoff hears that first, whatever they send.
    let agent = s.app.member(&s.shop.owner, "kim@acme.test", "agent").await;
    let (status, body) = agent
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"text": "Sorry for the wait!"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "not_claim_holder", "{body}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.graph.sent().len(), 2, "nothing was sent");

    let (status, body) = s
        .shop
        .owner
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"template": {"name": "follow_up", "language": "en_US", "parameters": ["Lena"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sent = s.sent(3).await;
    assert_eq!(sent[2]["type"], "template");
    assert_eq!(sent[2]["template"]["name"], "follow_up");
    // Resolved a day after Lena last wrote: the note stays in the history, not sent to her.
    let (status, _) = s
        .shop
        .owner
        .post(&format!("/api/v1/handoffs/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.graph.sent().len(), 3, "{:?}", s.graph.sent());
    let full = s.handoff_view(id).await;
    let note = full["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(note["author"], "system", "{note}");
    assert_eq!(note["delivery_status"], Value::Null, "{note}");
}

#[tokio::test]
async fn other_message_types_are_recorded_readably_and_answered_sensibly() {
    let s = Setup::new().await;
    for (file, vector) in [
        (
            "meta_webhook_image.json",
            "sha256=0f1d43d3d906775592b8a17b951d6c2b3bbf6a72078e014dedb75448bad83586",
        ),
        (
            "meta_webhook_location.json",
            "sha256=99c7f197a585aab40a867bd3fad33e69164fe5cb817d9e2a0989ba0417308ff7",
        ),
    ] {
        let (status, _) = s.post(&fixture(file), Some(vector)).await;
        assert_eq!(status, StatusCode::OK, "{file}");
    }
    let sent = s.sent(2).await;
    for body in &sent {
        assert!(
            body["text"]["body"]
                .as_str()
                .unwrap()
                .contains("only read text"),
            "{body}"
        );
    }
    let ws = workspace(&s).await;
    let events = s.app.state.store.events_after(&ws, 0, 100).await.unwrap();
    let texts: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "message.created")
        .map(|e| {
            serde_json::from_str::<Value>(&e.payload).unwrap()["message"]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(texts.iter().any(|t| t.starts_with("[image]")), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("[location]")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn a_button_tap_reaches_the_bot_as_its_title_and_bsuid_contacts_are_keyed_by_user_id() {
    let s = Setup::new().await;
    let (status, _) = s
        .post(
            &fixture("meta_webhook_interactive_button_reply.json"),
            Some("sha256=9535d22b68424bb3538bc6e6154ff4a7cf519f86c16b0acc04ea0fd1b5e038d0"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .post(
            &fixture("whatsapp-api-js_incoming_v25_bsuid.json"),
            Some("sha256=a7d6d1b5b16b6f58b7d272e8712f1b117837cdd3788aa5e276434b2c038f768d"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let sent = s.sent(2).await;
    assert!(sent.iter().all(|b| b["type"] == "text"), "{sent:?}");
    let bsuid: Value =
        serde_json::from_slice(&fixture("whatsapp-api-js_incoming_v25_bsuid.json")).unwrap();
    let contact = &bsuid["entry"][0]["changes"][0]["value"]["contacts"][0];
    let addressed = sent.iter().any(|b| {
        b["recipient"] == contact["user_id"]
            || (contact["wa_id"].is_string() && b["to"] == contact["wa_id"])
    });
    assert!(addressed, "{sent:?} / {contact}");
}

#[tokio::test]
async fn channel_secrets_are_stored_encrypted_and_never_shown_in_full() {
    let s = Setup::new().await;
    let (_, channels) = s.shop.owner.get("/api/v1/channels").await;
    let shown = channels.to_string();
    assert!(
        !shown.contains(TOKEN) && !shown.contains(APP_SECRET) && !shown.contains(VERIFY_TOKEN),
        "{shown}"
    );
    assert!(shown.contains("••••"), "{shown}");
    let stored = s
        .app
        .state
        .store
        .channel(&s.channel_id)
        .await
        .unwrap()
        .config;
    assert!(
        !stored.contains(TOKEN) && !stored.contains(APP_SECRET),
        "{stored}"
    );
    // Another workspace cannot connect a number to our bot.
    let other = s.app.other_workspace("olga@other.test").await;
    let (status, _) = other
        .post(
            &format!("/api/v1/bots/{}/channels/whatsapp", s.shop.bot_id),
            json!({"phone_number_id": "1", "access_token": "a", "app_secret": "b", "verify_token": "c"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_slow_graph_api_does_not_hold_up_the_webhook_acknowledgement() {
    let s = Setup::new().await;
    s.graph.script(&[Next::Slow(Duration::from_secs(2))]);
    let body = text_from("4915112345678", "Lena", "wamid.in1", "Is shipping free?");
    s.deliver(&body).await;
    // Acknowledged (and the message stored) while the send is still hanging at Meta.
    assert!(s.graph.sent().is_empty());
    let ws = workspace(&s).await;
    let stored = s.app.state.store.events_after(&ws, 0, 10).await.unwrap();
    assert!(
        stored
            .iter()
            .any(|e| e.payload.contains("Is shipping free?"))
    );
    let sent = s.sent(1).await;
    assert!(sent[0]["text"]["body"].as_str().unwrap().contains("$50"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_connects_a_number_and_answers_outside_the_window_with_a_template_in_the_browser()
{
    let graph = FakeGraph::start().await;
    let base = graph.base.clone();
    let app = spawn_app_with(move |s| s.whatsapp_graph_url = Some(base)).await;
    let shop = app.shop(true).await;
    let driver = crate::browser::driver().await;
    let admin = crate::browser::Browser::open(&driver).await;
    admin
        .login(
            &app,
            crate::helpers::OWNER_EMAIL,
            crate::helpers::OWNER_PASSWORD,
        )
        .await;

    // Connect the number through the bot page.
    admin.go(&app.url(&format!("/bots/{}", shop.bot_id))).await;
    admin.type_into("#wa-pnid", PHONE_NUMBER_ID).await;
    admin.type_into("#wa-token", TOKEN).await;
    admin.type_into("#wa-secret", APP_SECRET).await;
    admin.type_into("#wa-verify", VERIFY_TOKEN).await;
    admin.click("#whatsapp button[type=submit]").await;
    let url = admin
        .find("#whatsapp .webhook-url")
        .await
        .text()
        .await
        .unwrap();
    let channel_id = url.rsplit('/').next().unwrap().to_owned();
    // Meta confirmed the number, and the page names it as Meta does.
    let number = admin
        .find("#whatsapp .wa-number")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(number, "+1 555-078-3881 · Acme Shop");
    admin.screenshot("11-bot-whatsapp-connected").await;
    let page = admin.js("return document.body.textContent;").await;
    assert!(
        !page.as_str().unwrap().contains(TOKEN),
        "the token is never shown again"
    );

    // A customer writes, hands off; a day later only a template can go.
    let s = Setup {
        app,
        shop,
        graph,
        channel_id,
    };
    s.lena_asks_for_a_person().await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();
    s.shop
        .owner
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    s.sent(2).await;
    admin.go(&s.app.url(&format!("/handoffs/{id}"))).await;
    // She sends a photo too (a real one-pixel PNG, so the browser must decode it), which the
    // open page shows as soon as it is fetched.
    let pixel = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
            .unwrap()
    };
    s.graph.add_media("55", "image/png", &pixel);
    s.deliver(&image_from(
        "4915112345678",
        "wamid.pixel",
        "55",
        &base64_sha256(&pixel),
    ))
    .await;
    admin
        .until(
            "the customer's photo is shown without a reload",
            "(() => { const img = document.querySelector('.msg.customer .attachment img'); \
              return img && img.complete && img.naturalWidth === 1; })()",
        )
        .await;
    s.app.state.clock.advance(Duration::from_secs(25 * 3600));
    admin.go(&s.app.url(&format!("/handoffs/{id}"))).await;
    admin
        .until(
            "the window shows closed",
            "document.getElementById('window').textContent.includes('closed')",
        )
        .await;
    admin
        .until(
            "free text is off",
            "document.getElementById('reply-text').disabled",
        )
        .await;
    admin.type_into("#tpl-name", "follow_up").await;
    admin.type_into("#tpl-params", "Lena").await;
    admin.click("#template-form button[type=submit]").await;
    let sent = s.sent(3).await;
    assert_eq!(sent[2]["type"], "template");
    assert_eq!(sent[2]["template"]["name"], "follow_up");
    admin.until("the template shows in the history", "Array.from(document.querySelectorAll('.msg.agent')).some(m => m.textContent.includes('follow_up'))").await;
    admin.screenshot("12-handoff-whatsapp-template").await;
    admin.close().await;
}

#[tokio::test]
async fn a_message_for_another_number_of_the_app_reaches_that_numbers_bot() {
    let s = Setup::new().await;
    let owner = &s.shop.owner;
    let second = owner.create_bot("Acme Wholesale").await;
    let second_id = second["id"].as_str().unwrap();
    owner.enable_handoff(second_id).await;
    // The same Meta app (same secret), another number; Meta calls the app's one URL.
    let (status, body) = owner
        .post(
            &format!("/api/v1/bots/{second_id}/channels/whatsapp"),
            json!({"phone_number_id": "222", "access_token": TOKEN,
                   "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    s.deliver(&text_to(
        "222",
        "4915100000001",
        "wamid.w1",
        "get me a human please",
    ))
    .await;
    // A number Baton does not know stays with the channel whose URL was called.
    s.deliver(&text_to(
        "999",
        "4915100000002",
        "wamid.w2",
        "get me a human please",
    ))
    .await;
    let handoffs = eventually(|| async {
        let handoffs = s.handoffs().await;
        (handoffs.len() == 2).then_some(handoffs)
    })
    .await;
    let bot_of = |phone: &str| {
        handoffs
            .iter()
            .find(|h| h["customer"]["phone"] == phone)
            .map(|h| h["bot_id"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        bot_of("+4915100000001").as_deref(),
        Some(second_id),
        "{handoffs:?}"
    );
    assert_eq!(
        bot_of("+4915100000002"),
        Some(s.shop.bot_id.clone()),
        "{handoffs:?}"
    );
}

#[tokio::test]
async fn first_messages_arriving_together_start_one_conversation() {
    let s = Setup::new().await;
    // A new customer sends an album: Meta delivers the webhooks at the same moment.
    let bodies: Vec<Vec<u8>> = (0..6)
        .map(|i| text_from("4915112345678", "Lena", &format!("wamid.album{i}"), "look"))
        .collect();
    let signed: Vec<String> = bodies.iter().map(|b| sign(b)).collect();
    let posts = bodies
        .iter()
        .zip(&signed)
        .map(|(body, signature)| s.post(body, Some(signature)));
    for (status, text) in futures_util::future::join_all(posts).await {
        assert_eq!(status, StatusCode::OK, "{text}");
    }
    let (conversations, messages): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(DISTINCT conversation_id), COUNT(*) FROM messages WHERE author = 'customer'",
    )
    .fetch_one(s.app.state.store.pool())
    .await
    .unwrap();
    assert_eq!((conversations, messages), (1, 6));
}

#[tokio::test]
async fn a_reply_held_back_by_a_rate_limit_still_goes_out_before_later_ones() {
    let s = Setup::new().await;
    s.graph.script(&[Next::Fail(
        400,
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
    )]);
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in1",
        "Is shipping free?",
    ))
    .await;
    eventually(|| async { (s.graph.attempts() >= 1).then_some(()) }).await;
    // The bot's answer waits for its retry; the handoff message written after it waits too.
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in2",
        "get me a human",
    ))
    .await;
    eventually(|| async { (s.handoffs().await.len() == 1).then_some(()) }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(s.graph.sent().is_empty(), "{:?}", s.graph.sent());
    s.app.state.clock.advance(Duration::from_secs(60));
    s.app.state.outbox_wake.notify_one();
    let sent = s.sent(2).await;
    let texts: Vec<&str> = sent
        .iter()
        .map(|b| b["text"]["body"].as_str().unwrap())
        .collect();
    let (_, bot) = s
        .shop
        .owner
        .get(&format!("/api/v1/bots/{}", s.shop.bot_id))
        .await;
    assert!(texts[0].contains("$50"), "{texts:?}");
    assert!(
        texts[1].starts_with(bot["handoff_message"].as_str().unwrap()),
        "{texts:?} / {bot}"
    );
}

#[tokio::test]
async fn a_report_that_overtakes_the_answer_to_its_send_is_applied_once_the_send_is_recorded() {
    let s = Setup::new().await;
    // Meta takes its time answering the send of the handoff message, and meanwhile its own
    // webhook already says the message was delivered (the fake numbers its wamids in order).
    s.graph.script(&[Next::Slow(Duration::from_millis(1500))]);
    s.lena_asks_for_a_person().await;
    for status in ["sent", "delivered"] {
        s.deliver(&status_of("wamid.FAKE0001", status, "4915112345678"))
            .await;
    }
    assert!(
        s.graph.sent().is_empty(),
        "the send should still be hanging"
    );
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();
    let full = s.handoff_view(id).await;
    let message_id = first_by(&full, "bot");
    assert_eq!(s.sent(1).await[0]["to"], "4915112345678");
    eventually(|| async { (s.delivery_of(id, &message_id).await == "delivered").then_some(()) })
        .await;
    let pool = s.app.state.store.pool();
    let held = || async {
        sqlx::query_as::<_, (String,)>("SELECT wamid FROM early_statuses")
            .fetch_all(pool)
            .await
            .unwrap()
    };
    assert!(held().await.is_empty());

    // A report on a message Baton never sent (another app on the number) is held ten minutes
    // at most: dropped by the next report held, or by the hourly sweep.
    s.deliver(&status_of("wamid.elsewhere1", "read", "4915112345678"))
        .await;
    assert_eq!(held().await, [("wamid.elsewhere1".to_owned(),)]);
    s.app.state.clock.advance(Duration::from_secs(2 * 3600));
    s.deliver(&status_of("wamid.elsewhere2", "read", "4915112345678"))
        .await;
    assert_eq!(held().await, [("wamid.elsewhere2".to_owned(),)]);
    // Reports on what Baton did send are applied, not held.
    s.deliver(&status_of("wamid.FAKE0001", "read", "4915112345678"))
        .await;
    assert_eq!(s.delivery_of(id, &message_id).await, "read");
    assert_eq!(held().await.len(), 1);
    s.app.state.clock.advance(Duration::from_secs(11 * 60));
    baton::retention::run_due(&s.app.state).await.unwrap();
    assert!(held().await.is_empty());
}

#[tokio::test]
async fn a_bot_message_longer_than_whatsapp_takes_goes_out_whole_in_pieces() {
    let s = Setup::new().await;
    // A handoff message of 6,000 characters (bot texts may have 8,000; WhatsApp takes 4,096).
    let paragraph = "We answer every message in the order it arrives. ".repeat(20);
    let long = [paragraph.trim(); 6].join("\n\n");
    let (status, bot) = s
        .shop
        .owner
        .patch(
            &format!("/api/v1/bots/{}", s.shop.bot_id),
            json!({"handoff_message": long}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bot}");
    s.lena_asks_for_a_person().await;
    let sent = s.sent(2).await;
    let texts: Vec<&str> = sent
        .iter()
        .map(|b| b["text"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.iter().all(|t| t.chars().count() <= 4096));
    // Cut between paragraphs, nothing lost, in order; the response time closes the last piece.
    assert!(texts[0].ends_with("arrives."), "{}", texts[0]);
    let whole = texts.join("\n\n");
    assert!(whole.starts_with(&long), "{whole}");
    // The agent sees the same two messages, each with its delivery status.
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let full = s.handoff_view(handoff["id"].as_str().unwrap()).await;
    let bot_texts: Vec<&Value> = full["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "bot")
        .collect();
    assert_eq!(bot_texts.len(), 2, "{full}");
    for (message, sent) in bot_texts.iter().zip(&texts) {
        assert_eq!(message["text"].as_str().unwrap(), *sent);
        assert!(message["delivery_status"].is_string(), "{message}");
    }
}

#[tokio::test]
async fn a_customer_known_by_number_keeps_their_conversation_when_a_user_id_appears() {
    let s = Setup::new().await;
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.n1",
        "get me a human",
    ))
    .await;
    let handoff = s.shop.owner.first_handoff().await;
    // Later Meta sends the business-scoped user id alongside the number.
    let with_user_id = json!({"object": "whatsapp_business_account", "entry": [{"id": "1",
    "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Lena"}, "wa_id": "4915112345678",
                      "user_id": "DE.1234567890"}],
        "messages": [{"from": "4915112345678", "from_user_id": "DE.1234567890",
                      "id": "wamid.n2", "timestamp": "1749416400", "type": "text",
                      "text": {"body": "my order is 4412"}}],
    }}]}]})
    .to_string()
    .into_bytes();
    s.deliver(&with_user_id).await;
    let path = format!("/api/v1/handoffs/{}", handoff["id"].as_str().unwrap());
    let full = eventually(|| async {
        let (_, full) = s.shop.owner.get(&path).await;
        full.to_string()
            .contains("my order is 4412")
            .then_some(full)
    })
    .await;
    assert_eq!(s.handoffs().await.len(), 1, "{full}");
}

/// Meta's image webhook (from Sheena, +16505551234) for another file: its media id, message
/// id and hash replaced.
fn image_message(wamid: &str, media_id: &str, sha256: &str) -> Vec<u8> {
    image_from("16505551234", wamid, media_id, sha256)
}

/// The same, from another customer.
fn image_from(wa_id: &str, wamid: &str, media_id: &str, sha256: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&fixture("meta_webhook_image.json")).unwrap();
    let value = &mut body["entry"][0]["changes"][0]["value"];
    value["contacts"][0]["wa_id"] = json!(wa_id);
    let message = &mut value["messages"][0];
    message["from"] = json!(wa_id);
    message["id"] = json!(wamid);
    message["image"]["id"] = json!(media_id);
    message["image"]["sha256"] = json!(sha256);
    serde_json::to_vec(&body).unwrap()
}

fn base64_sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn a_photo_the_customer_sends_is_fetched_once_and_shown_only_to_their_workspace() {
    let s = Setup::new().await;
    let photo = b"\xff\xd8\xff\xe0 a stand-in for a photo of a broken mug".to_vec();
    s.graph.add_media("1003383421387256", "image/jpeg", &photo);
    // The Graph API is down for the first lookup: the fetch is tried again.
    s.graph.fail_media(1);
    s.deliver(&text_from(
        "16505551234",
        "Sheena Nelson",
        "wamid.first",
        "I want to talk to a person",
    ))
    .await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let path = format!("/api/v1/handoffs/{}", handoff["id"].as_str().unwrap());
    let mut events = s.app.events(&s.shop.owner, 0).await;
    let photo_message = image_message("wamid.photo", "1003383421387256", &base64_sha256(&photo));
    s.deliver(&photo_message).await;
    // Watchers hear of the file at once, and of the failed try.
    let recorded = events.next_of("message.attachment").await;
    assert_eq!(recorded["conversation_id"], handoff["conversation_id"]);
    assert_eq!(recorded["attachment"]["status"], "pending");
    assert!(recorded["attachment"]["error"].is_null(), "{recorded}");
    let failed_try = events.next_of("message.attachment").await;
    assert_eq!(failed_try["message_id"], recorded["message_id"]);
    assert_eq!(failed_try["attachment"]["status"], "pending");
    assert!(
        failed_try["attachment"]["error"]
            .as_str()
            .unwrap()
            .contains("temporarily unavailable"),
        "{failed_try}"
    );
    // The backoff (ten seconds) passes: time runs on while we wait.

    let attachment = eventually(|| async {
        s.app.state.clock.advance(Duration::from_millis(500));
        let (_, full) = s.shop.owner.get(&path).await;
        let messages = full["messages"].as_array().unwrap().clone();
        let with_file = messages.into_iter().find(|m| !m["attachment"].is_null())?;
        assert_eq!(with_file["text"], "[image] Taj Mahal");
        let attachment = with_file["attachment"].clone();
        (attachment["status"] == "stored").then_some(attachment)
    })
    .await;
    assert_eq!(attachment["kind"], "image");
    assert_eq!(attachment["mime_type"], "image/jpeg");
    assert_eq!(attachment["size"], photo.len());
    let stored = events.next_of("message.attachment").await;
    assert_eq!(stored["attachment"], attachment);
    let url = attachment["url"].as_str().unwrap();

    // The agent gets the very bytes, served so a browser shows them and runs nothing.
    let (_, key) = s
        .shop
        .owner
        .post("/api/v1/api-keys", json!({"name": "files"}))
        .await;
    let response = reqwest::Client::new()
        .get(s.app.url(url))
        .bearer_auth(key["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), photo);

    // Meta redelivering the webhook stores and fetches nothing more.
    let requests = s.graph.media_requests();
    s.deliver(&photo_message).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.graph.media_requests(), requests);
    let (_, full) = s.shop.owner.get(&path).await;
    let files = full["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["attachment"].is_null())
        .count();
    assert_eq!(files, 1);

    // Another workspace cannot read it, nor can someone without a login.
    let stranger = s.app.other_workspace("stranger@other.test").await;
    let (status, body) = stranger.get(url).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = s.app.anonymous().get(url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_file_that_does_not_match_its_hash_is_not_kept_and_says_why() {
    let s = Setup::new().await;
    s.graph
        .add_media("77", "application/pdf", b"%PDF-1.4 not what was sent");
    s.deliver(&text_from(
        "16505551234",
        "Sheena",
        "wamid.hi",
        "get me a human",
    ))
    .await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let path = format!("/api/v1/handoffs/{}", handoff["id"].as_str().unwrap());
    // The fixture's own hash, of Meta's photo, not of these bytes.
    s.deliver(&image_message(
        "wamid.doc",
        "77",
        "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
    ))
    .await;
    let attachment = eventually(|| async {
        let (_, full) = s.shop.owner.get(&path).await;
        let messages = full["messages"].as_array().unwrap().clone();
        let attachment =
            messages.into_iter().find(|m| !m["attachment"].is_null())?["attachment"].clone();
        (attachment["status"] == "failed").then_some(attachment)
    })
    .await;
    assert!(
        attachment["error"].as_str().unwrap().contains("SHA-256"),
        "{attachment}"
    );
    let (status, body) = s.shop.owner.get(attachment["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not be fetched"),
        "{body}"
    );
}

impl Setup {
    /// Lena (+49 151 12345678) writes "get me a human".
    async fn lena_asks_for_a_person(&self) {
        self.deliver(&text_from(
            "4915112345678",
            "Lena",
            "wamid.in1",
            "get me a human",
        ))
        .await;
    }

    /// A handoff from Lena, claimed by the owner, with the handoff message and the note that
    /// the owner joined both delivered.
    async fn claimed_handoff(&self) -> String {
        self.lena_asks_for_a_person().await;
        let handoff = eventually(|| async { self.handoffs().await.first().cloned() }).await;
        let id = handoff["id"].as_str().unwrap().to_owned();
        let (status, _) = self
            .shop
            .owner
            .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let sent = self.sent(2).await;
        assert!(
            sent[1]["text"]["body"]
                .as_str()
                .unwrap()
                .ends_with("joined the conversation."),
            "{sent:?}"
        );
        id
    }

    /// A handoff as the agent's page reads it: the handoff, its messages and notifications.
    async fn handoff_view(&self, id: &str) -> Value {
        let (status, full) = self.shop.owner.get(&format!("/api/v1/handoffs/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{full}");
        full
    }

    /// A message's delivery status as the agent sees it.
    async fn delivery_of(&self, handoff_id: &str, message_id: &str) -> Value {
        self.handoff_view(handoff_id).await["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == message_id)
            .unwrap()["delivery_status"]
            .clone()
    }

    /// The agent replies while WhatsApp is down, and stays down: the reply is tried for hours
    /// of (test) time, then counts as failed. Answers the message id and the hours it took.
    async fn reply_that_fails_for_good(&self, handoff_id: &str, text: &str) -> (String, f64) {
        self.graph.down();
        let (status, reply) = self
            .shop
            .owner
            .post(
                &format!("/api/v1/handoffs/{handoff_id}/messages"),
                json!({ "text": text }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        let message_id = reply["id"].as_str().unwrap().to_owned();
        let clock = &self.app.state.clock;
        let started = clock.now_ms();
        let hours = |now: i64| (now - started) as f64 / 3_600_000.0;
        let mut rounds = 0;
        while self.delivery_of(handoff_id, &message_id).await != "failed" {
            assert!(
                hours(clock.now_ms()) < 9.0,
                "still not failed after 9 hours"
            );
            // A delivery stuck behind another that is not due would never come round.
            rounds += 1;
            assert!(rounds < 500, "no progress after {rounds} rounds");
            if hours(clock.now_ms()) >= 5.0 {
                // Five hours into the outage it is still being tried.
                assert_eq!(self.delivery_of(handoff_id, &message_id).await, "queued");
            }
            // On to the next attempt.
            let state = &self.app.state;
            if let Some(due) = state.store.next_delivery_at().await.unwrap() {
                clock.advance(Duration::from_millis((due - clock.now_ms()).max(0) as u64));
            }
            baton::channels::outbox::run_due(&self.app.state, &self.app.state.whatsapp)
                .await
                .unwrap();
        }
        (message_id, hours(clock.now_ms()))
    }
}

#[tokio::test]
async fn a_reply_whatsapp_cannot_take_for_hours_fails_then_the_agent_sends_it_again() {
    let s = Setup::new().await;
    let id = s.claimed_handoff().await;
    let (message_id, hours) = s
        .reply_that_fails_for_good(&id, "Your refund is on its way")
        .await;
    assert!((6.0..6.5).contains(&hours), "failed after {hours} hours");
    let retry = format!("/api/v1/handoffs/{id}/messages/{message_id}/retry");

    // Someone who does not hold the handoff, or another workspace, may not send it again.
    let agent = s.app.member(&s.shop.owner, "kim@shop.test", "agent").await;
    let (status, body) = agent.post(&retry, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let stranger = s.app.other_workspace("stranger@other.test").await;
    let (status, _) = stranger.post(&retry, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // WhatsApp is back: the holder sends it again, and it goes once.
    s.graph.up();
    let (status, again) = s.shop.owner.post(&retry, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["delivery_status"], "queued");
    let sent = s.sent(3).await;
    assert_eq!(sent[2]["text"]["body"], "Your refund is on its way");
    eventually(|| async { (s.delivery_of(&id, &message_id).await == "accepted").then_some(()) })
        .await;
    let (status, body) = s.shop.owner.post(&retry, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(s.graph.sent().len(), 3);

    // Free text that failed cannot be sent again once the customer's window has closed.
    let (late, _) = s.reply_that_fails_for_good(&id, "Anything else?").await;
    s.app.state.clock.advance(Duration::from_secs(24 * 3600));
    s.graph.up();
    let (status, body) = s
        .shop
        .owner
        .post(
            &format!("/api/v1/handoffs/{id}/messages/{late}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "whatsapp_window_closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reply_is_sent_again_from_the_handoff_page_in_the_browser() {
    let s = Setup::new().await;
    let id = s.claimed_handoff().await;
    let (message_id, _) = s
        .reply_that_fails_for_good(&id, "Your refund is on its way")
        .await;
    let driver = crate::browser::driver().await;
    let agent = crate::browser::Browser::open(&driver).await;
    agent
        .login(
            &s.app,
            crate::helpers::OWNER_EMAIL,
            crate::helpers::OWNER_PASSWORD,
        )
        .await;
    agent.go(&s.app.url(&format!("/handoffs/{id}"))).await;
    let label = format!("[data-delivery=\"{message_id}\"]");
    agent
        .until(
            "the reply shows failed, with why on hover",
            &format!(
                "(() => {{ const l = document.querySelector('{label}'); \
                 return l && l.textContent === 'failed' && l.title.includes('unavailable'); }})()"
            ),
        )
        .await;
    agent.screenshot("13-handoff-reply-failed").await;
    s.graph.up();
    agent.click(&format!("{label} + button.resend")).await;
    agent
        .until(
            "the reply goes out and the button goes away",
            &format!(
                "(() => {{ const l = document.querySelector('{label}'); \
                 return l.textContent === 'accepted' && !document.querySelector('button.resend'); }})()"
            ),
        )
        .await;
    agent.screenshot("14-handoff-reply-sent-again").await;
    assert_eq!(
        s.sent(3).await[2]["text"]["body"],
        "Your refund is on its way"
    );
    agent.close().await;
}

#[tokio::test]
async fn a_reply_reported_failed_after_acceptance_is_sent_again_and_a_stale_report_changes_nothing()
{
    let s = Setup::new().await;
    let id = s.claimed_handoff().await;
    let (_, reply) = s
        .shop
        .owner
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            json!({"text": "Your parcel left today"}),
        )
        .await;
    let message_id = reply["id"].as_str().unwrap().to_owned();
    s.sent(3).await;
    let first_wamid = s.graph.sent_with_ids()[2].0.clone();
    eventually(|| async { (s.delivery_of(&id, &message_id).await == "accepted").then_some(()) })
        .await;
    // WhatsApp accepted it, then could not deliver it.
    let report = failed_status(
        &first_wamid,
        "4915112345678",
        131000,
        "Something went wrong",
    );
    s.deliver(&report).await;
    eventually(|| async { (s.delivery_of(&id, &message_id).await == "failed").then_some(()) })
        .await;

    // Sent again; while the new send is on its way, Meta redelivers the old report: it is
    // about the old send and does not mark the new one failed.
    s.graph.script(&[Next::Slow(Duration::from_millis(800))]);
    let retry = format!("/api/v1/handoffs/{id}/messages/{message_id}/retry");
    let (status, body) = s.shop.owner.post(&retry, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s.deliver(&report).await;
    assert_eq!(s.delivery_of(&id, &message_id).await, "queued");
    let (status, body) = s.shop.owner.post(&retry, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let sent = s.sent(4).await;
    assert_eq!(sent[3]["text"]["body"], "Your parcel left today");
    eventually(|| async { (s.delivery_of(&id, &message_id).await == "accepted").then_some(()) })
        .await;
    s.deliver(&report).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.delivery_of(&id, &message_id).await, "accepted");
    assert_eq!(s.graph.sent().len(), 4);
}

/// A tap on one of our buttons, shaped as Meta sends it: `interactive` for a reply button of
/// a free-form message, `button` for a template's quick reply.
fn tap_from(wa_id: &str, wamid: &str, template: bool, id: &str, title: &str) -> Vec<u8> {
    let message = if template {
        json!({"from": wa_id, "id": wamid, "timestamp": "1749416390", "type": "button",
               "context": {"from": "15550783881", "id": "wamid.notification"},
               "button": {"payload": id, "text": title}})
    } else {
        json!({"from": wa_id, "id": wamid, "timestamp": "1749416390", "type": "interactive",
               "context": {"from": "15550783881", "id": "wamid.notification"},
               "interactive": {"type": "button_reply", "button_reply": {"id": id, "title": title}}})
    };
    json!({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477", "changes": [{
    "field": "messages",
    "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Agent"}, "wa_id": wa_id}],
        "messages": [message],
    }}]}]})
    .to_string()
    .into_bytes()
}

const SAM: &str = "14155550123";
const KIM: &str = "14155550124";

impl Setup {
    /// Notifications on for Sam's and Kim's numbers, each on an agent's account; with
    /// `quick_replies`, the template has Accept and Decline buttons.
    async fn agents_on_whatsapp(&self, quick_replies: bool) -> Vec<(String, Api)> {
        let (status, body) = self
            .shop
            .owner
            .put(
                "/api/v1/settings/notifications",
                json!({"whatsapp": {"enabled": true, "channel_id": self.channel_id,
                       "recipients": [format!("+{SAM}"), format!("+{KIM}")],
                       "template": {"name": "new_handoff", "language": "en_US",
                                    "quick_replies": quick_replies}}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let agents = self.app.agents(&self.shop.owner, 2).await;
        for ((_, agent), number) in agents.iter().zip([SAM, KIM]) {
            let (status, me) = agent
                .patch(
                    "/api/v1/me",
                    json!({"whatsapp_number": format!("+{number}")}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{me}");
            assert_eq!(me["whatsapp_number"], format!("+{number}"));
        }
        agents
    }

    /// Taps a template's quick reply from `number`, and returns the one answer it gets.
    async fn tap_answer(&self, number: &str, wamid: &str, reply: &str) -> String {
        let before = self.graph.sent().len();
        let title = if reply.starts_with("accept:") {
            "Accept"
        } else {
            "Decline"
        };
        self.deliver(&tap_from(number, wamid, true, reply, title))
            .await;
        // (An Accept that claims also tells the customer who joined.)
        eventually(|| async { (!self.sent_to(number, before).is_empty()).then_some(()) }).await;
        // One answer, not two (and the customer's note, after an Accept, has gone out too).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let told = self.sent_to(number, before);
        assert_eq!(told.len(), 1, "{told:#?}");
        told[0]["text"]["body"].as_str().unwrap().to_owned()
    }

    /// What the fake accepted for this number since `from`.
    fn sent_to(&self, number: &str, from: usize) -> Vec<Value> {
        self.graph.sent()[from..]
            .iter()
            .filter(|b| b["to"] == number)
            .cloned()
            .collect()
    }
}

#[tokio::test]
async fn two_agents_tapping_accept_at_once_one_gets_the_customer_and_the_other_is_told() {
    let s = Setup::new().await;
    let agents = s.agents_on_whatsapp(false).await;
    // Both wrote to the business number today: their notifications may be free-form.
    s.deliver(&text_from(SAM, "Sam", "wamid.sam1", "morning"))
        .await;
    s.deliver(&text_from(KIM, "Kim", "wamid.kim1", "hi")).await;
    s.lena_asks_for_a_person().await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();

    let sent = s.sent(3).await;
    for number in [SAM, KIM] {
        let to_agent = sent.iter().find(|b| b["to"] == number).unwrap();
        assert_eq!(to_agent["type"], "interactive", "{to_agent}");
        let buttons = &to_agent["interactive"]["action"]["buttons"];
        assert_eq!(buttons[0]["reply"]["id"], format!("accept:{id}"));
        assert_eq!(buttons[0]["reply"]["title"], "Accept");
        assert_eq!(buttons[1]["reply"]["id"], format!("decline:{id}"));
        assert!(
            to_agent["interactive"]["body"]["text"]
                .as_str()
                .unwrap()
                .contains("Lena")
        );
    }

    // Both tap Accept at the same moment.
    let before = s.graph.sent().len();
    let accept = format!("accept:{id}");
    let sam_tap = tap_from(SAM, "wamid.sam2", false, &accept, "Accept");
    let kim_tap = tap_from(KIM, "wamid.kim2", false, &accept, "Accept");
    tokio::join!(s.deliver(&sam_tap), s.deliver(&kim_tap));
    // One answer each, and Lena is told who joined.
    let answers = s.sent(before + 3).await;
    assert_eq!(answers.len(), before + 3, "{answers:#?}");
    let full = s.handoff_view(id).await;
    assert_eq!(full["status"], "in_progress", "{full}");
    let holder = full["claimed_by"]["name"]
        .as_str()
        .unwrap_or_else(|| panic!("a holder: {full}"))
        .to_owned();
    let (winner, loser, winner_name) = if holder == agents[0].0 {
        (SAM, KIM, "Agent 0")
    } else {
        (KIM, SAM, "Agent 1")
    };
    let told = |number: &str| {
        let got = s.sent_to(number, before);
        assert_eq!(got.len(), 1, "{got:#?}");
        got[0]["text"]["body"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        told("4915112345678"),
        format!("{winner_name} joined the conversation.")
    );
    let won = told(winner);
    assert!(
        won.starts_with("Lena is yours") && won.contains(&format!("/handoffs/{id}")),
        "{won}"
    );
    let lost = told(loser);
    assert_eq!(lost, format!("{winner_name} already took Lena's handoff."));
    // The answers to the taps are not listed as notifications: one per agent, as before.
    let full = s.handoff_view(id).await;
    assert_eq!(full["notifications"].as_array().unwrap().len(), 2, "{full}");

    // The claim is the dashboard's: the holder can reply, the other cannot.
    let (winner_api, loser_api) = if winner == SAM {
        (&agents[0].1, &agents[1].1)
    } else {
        (&agents[1].1, &agents[0].1)
    };
    let reply = |api: &'static str| json!({"text": api});
    let (status, _) = loser_api
        .post(&format!("/api/v1/handoffs/{id}/messages"), reply("me too"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = winner_api
        .post(
            &format!("/api/v1/handoffs/{id}/messages"),
            reply("Hi Lena!"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn the_templates_quick_replies_accept_or_decline_and_an_unknown_number_is_told_how() {
    let s = Setup::new().await;
    let agents = s.agents_on_whatsapp(true).await;
    s.lena_asks_for_a_person().await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();
    let sent = s.sent(3).await;
    let to_sam = sent.iter().find(|b| b["to"] == SAM).unwrap();
    assert_eq!(to_sam["type"], "template", "outside the window: {to_sam}");
    let components = &to_sam["template"]["components"];
    assert_eq!(components[1]["sub_type"], "quick_reply");
    assert_eq!(
        components[1]["parameters"][0]["payload"],
        format!("accept:{id}")
    );
    assert_eq!(components[2]["index"], 1);
    assert_eq!(
        components[2]["parameters"][0]["payload"],
        format!("decline:{id}")
    );

    // Kim declines: nothing changes but a word back.
    let told = s
        .tap_answer(KIM, "wamid.kim2", &format!("decline:{id}"))
        .await;
    assert_eq!(
        told,
        "OK: Lena's handoff stays in the queue for the others."
    );
    let full = s.handoff_view(id).await;
    assert_eq!(full["status"], "pending");

    // Sam's number leaves his account: his Accept claims nothing and says what to do.
    let (status, me) = agents[0]
        .1
        .patch("/api/v1/me", json!({"whatsapp_number": null}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["whatsapp_number"], Value::Null);
    let told = s
        .tap_answer(SAM, "wamid.sam2", &format!("accept:{id}"))
        .await;
    assert!(
        told.starts_with("This number is not on anyone's Baton account"),
        "{told}"
    );
    let full = s.handoff_view(id).await;
    assert_eq!(full["status"], "pending");

    // Kim changes her mind: Accept on the template claims it for her.
    let told = s
        .tap_answer(KIM, "wamid.kim3", &format!("accept:{id}"))
        .await;
    assert!(told.starts_with("Lena is yours"), "{told}");
    let full = s.handoff_view(id).await;
    assert_eq!(full["status"], "in_progress");
    assert_eq!(full["claimed_by"]["name"], agents[1].0.as_str(), "{full}");

    // Sam, whose number is on nobody's account, declines a handoff already taken.
    let told = s
        .tap_answer(SAM, "wamid.sam3", &format!("decline:{id}"))
        .await;
    assert_eq!(told, "OK. Someone has already taken Lena's handoff.");

    // A tap naming another workspace's handoff, or none, claims nothing and says nothing.
    let other = s.app.other_workspace("olga@other.test").await;
    let bot = other.create_bot("Other help").await;
    let bot_id = bot["id"].as_str().unwrap();
    other
        .post("/api/v1/marketplace/request_handoff/install", json!({}))
        .await;
    other
        .put(
            &format!("/api/v1/bots/{bot_id}/tools/request_handoff"),
            json!({"enabled": true}),
        )
        .await;
    let visitor = s.app.visitor(bot["widget_key"].as_str().unwrap()).await;
    visitor.say("get me a human").await;
    let theirs = eventually(|| async {
        let (_, list) = other.get("/api/v1/handoffs").await;
        list.as_array().and_then(|l| l.first().cloned())
    })
    .await;
    let theirs = theirs["id"].as_str().unwrap();
    let before = s.graph.sent().len();
    for (wamid, reply) in [
        ("wamid.kim4", format!("accept:{theirs}")),
        ("wamid.kim5", "accept:hnd_nope".to_owned()),
    ] {
        s.deliver(&tap_from(KIM, wamid, true, &reply, "Accept"))
            .await;
    }
    // A tap that is answered, delivered after them, is the only answer.
    s.deliver(&tap_from(
        KIM,
        "wamid.kim6",
        true,
        &format!("decline:{id}"),
        "Decline",
    ))
    .await;
    s.sent(before + 1).await;
    let told = s.sent_to(KIM, before);
    assert_eq!(told.len(), 1, "{told:#?}");
    assert_eq!(
        told[0]["text"]["body"],
        "OK. Someone has already taken Lena's handoff."
    );
    let (_, full) = other.get(&format!("/api/v1/handoffs/{theirs}")).await;
    assert_eq!(full["status"], "pending", "{full}");
}

#[tokio::test]
async fn a_members_whatsapp_number_is_checked_and_belongs_to_one_member() {
    let s = Setup::new().await;
    let agents = s.app.agents(&s.shop.owner, 2).await;
    let (status, body) = agents[0]
        .1
        .patch("/api/v1/me", json!({"whatsapp_number": "0151 1234"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("whatsapp_number:"),
        "{body}"
    );
    let (status, me) = agents[0]
        .1
        .patch("/api/v1/me", json!({"whatsapp_number": "+1 415 555 0123"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["whatsapp_number"], "+14155550123");
    let (status, body) = agents[1]
        .1
        .patch("/api/v1/me", json!({"whatsapp_number": "+14155550123"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = agents[1]
        .1
        .patch("/api/v1/me", json!({"name": "Kim"}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only the number is changed here"
    );
    let (_, me) = agents[0].1.get("/api/v1/me").await;
    assert_eq!(me["user"]["whatsapp_number"], "+14155550123");
    // Admins see the numbers in the member list; other agents do not.
    let number_of = |list: &Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == name)
            .unwrap()["whatsapp_number"]
            .clone()
    };
    let (_, listed) = s.shop.owner.get("/api/v1/agents").await;
    assert_eq!(number_of(&listed, &agents[0].0), "+14155550123");
    let (_, listed) = agents[1].1.get("/api/v1/agents").await;
    assert_eq!(number_of(&listed, &agents[0].0), Value::Null);
}

#[tokio::test]
async fn the_agent_a_customer_is_passed_to_hears_of_it_on_whatsapp() {
    let s = Setup::new().await;
    let agents = s.agents_on_whatsapp(true).await;
    let ((sam_name, sam), (_, kim)) = (&agents[0], &agents[1]);
    // Sam wrote to the business number today, Kim did not.
    s.deliver(&text_from(SAM, "Sam", "wamid.sam1", "morning"))
        .await;
    s.lena_asks_for_a_person().await;
    let handoff = eventually(|| async { s.handoffs().await.first().cloned() }).await;
    let id = handoff["id"].as_str().unwrap();
    let path = format!("/api/v1/handoffs/{id}");
    let (_, kim_me) = kim.get("/api/v1/me").await;
    let (_, sam_me) = sam.get("/api/v1/me").await;
    assert_eq!(
        sam.post(&format!("{path}/claim"), json!({})).await.0,
        StatusCode::OK
    );
    // Everything the new handoff and the claim sent has gone out.
    let settled = eventually(|| async {
        let n = s.graph.sent().len();
        tokio::time::sleep(Duration::from_millis(300)).await;
        (s.graph.sent().len() == n).then_some(n)
    })
    .await;

    // Sam passes Lena to Kim: Kim, outside her window, gets the template saying so — no
    // Accept/Decline, she has it already.
    let (status, body) = sam
        .post(
            &format!("{path}/transfer"),
            json!({"user_id": kim_me["user"]["id"], "from": sam_me["user"]["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let told = eventually(|| async {
        let told = s.sent_to(KIM, settled);
        (!told.is_empty()).then_some(told)
    })
    .await;
    assert_eq!(told.len(), 1, "{told:#?}");
    assert_eq!(told[0]["type"], "template");
    let components = told[0]["template"]["components"].as_array().unwrap();
    assert_eq!(components.len(), 1, "no buttons: {told:#?}");
    let parameters = &components[0]["parameters"];
    assert_eq!(parameters[0]["text"], "Lena");
    assert_eq!(
        parameters[1]["text"],
        format!("was handed to you by {sam_name}")
    );
    assert!(parameters[2]["text"].as_str().unwrap().ends_with(id));
    // The customer was told who is with her; Sam was not notified of his own move.
    let to_lena = s.sent_to("4915112345678", settled);
    assert_eq!(
        to_lena[0]["text"]["body"],
        format!("{sam_name} passed the conversation to Agent 1.")
    );
    assert!(s.sent_to(SAM, settled).is_empty());

    // Kim hands it back: Sam wrote today, so his notice is free text with the link.
    let before = s.graph.sent().len();
    let (status, _) = kim
        .post(
            &format!("{path}/transfer"),
            json!({"user_id": sam_me["user"]["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let told = eventually(|| async {
        let told = s.sent_to(SAM, before);
        (!told.is_empty()).then_some(told)
    })
    .await;
    let text = told[0]["text"]["body"].as_str().unwrap();
    assert!(
        text.starts_with("Agent 1 passed you a handoff: Lena."),
        "{text}"
    );
    assert!(text.ends_with(id), "{text}");
    let (_, full) = s.shop.owner.get(&path).await;
    assert_eq!(
        full["notifications"].as_array().unwrap().len(),
        4,
        "two for the new handoff, one per transfer: {full}"
    );
}

impl Setup {
    /// On a bot with the Satisfaction Survey, a handoff from Lena the owner claimed and
    /// answered, with the answer sent (three messages out). Answers its id and API path.
    async fn answered_handoff_with_survey(&self) -> (String, String) {
        crate::satisfaction::survey_on(&self.shop).await;
        let id = self.claimed_handoff().await;
        let path = format!("/api/v1/handoffs/{id}");
        let (status, body) = self
            .shop
            .owner
            .post(
                &format!("{path}/messages"),
                json!({"text": "Your parcel is on its way."}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.sent(3).await;
        (id, path)
    }
}

#[tokio::test]
async fn a_whatsapp_customer_rates_with_a_button_and_the_bot_does_not_answer_the_tap() {
    let s = Setup::new().await;
    let (id, path) = s.answered_handoff_with_survey().await;
    let owner = &s.shop.owner;
    let (status, body) = owner.post(&format!("{path}/resolve"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // After the note that it was resolved, the question, with three reply buttons.
    let sent = s.sent(5).await;
    assert!(
        sent[3]["text"]["body"]
            .as_str()
            .unwrap()
            .starts_with("This conversation was resolved"),
        "{sent:#?}"
    );
    let question = &sent[4];
    assert_eq!(question["to"], "4915112345678");
    assert_eq!(question["type"], "interactive", "{question}");
    let agent = body["claimed_by"]["name"].as_str().unwrap();
    assert_eq!(
        question["interactive"]["body"]["text"],
        format!("How would you rate the help you got from {agent}?")
    );
    let buttons = question["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap();
    let titles: Vec<&str> = buttons
        .iter()
        .map(|b| b["reply"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["😀 Great", "😐 Okay", "🙁 Poor"]);
    let poor = buttons[2]["reply"]["id"].as_str().unwrap();
    assert!(
        poor.starts_with("rate:msg_") && poor.ends_with(":poor"),
        "{poor}"
    );

    // Lena taps Poor: the rating is the agent's, she is thanked, and the bot stays quiet.
    let tap = tap_from("4915112345678", "wamid.rate1", false, poor, "🙁 Poor");
    s.deliver(&tap).await;
    let sent = s.sent(6).await;
    assert_eq!(sent[5]["text"]["body"], "Thank you for your feedback!");
    let view = s.handoff_view(&id).await;
    assert_eq!(view["rating"]["score"], "poor", "{view}");
    // Meta delivers the tap again: nothing more is written or sent.
    s.deliver(&tap).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.graph.sent().len(), 6, "{:#?}", s.graph.sent());
    let view = s.handoff_view(&id).await;
    let messages = view["messages"].as_array().unwrap();
    let taps: Vec<&Value> = messages.iter().filter(|m| m["kind"] == "rating").collect();
    assert_eq!(taps.len(), 1, "{messages:#?}");
    assert_eq!(taps[0]["author"], "customer");
    assert_eq!(taps[0]["text"], "🙁 Poor");
    assert_ne!(messages.last().unwrap()["author"], "bot", "{messages:#?}");

    // She changes her mind (no second thanks); then Meta delivers her first tap once more,
    // late: the newer answer stands.
    let great = buttons[0]["reply"]["id"].as_str().unwrap();
    s.deliver(&tap_from(
        "4915112345678",
        "wamid.rate1b",
        false,
        great,
        "😀 Great",
    ))
    .await;
    assert_eq!(s.handoff_view(&id).await["rating"]["score"], "great");
    s.deliver(&tap).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.handoff_view(&id).await["rating"]["score"], "great");
    assert_eq!(s.graph.sent().len(), 6, "{:#?}", s.graph.sent());

    // A tap on a question that is not hers — another customer's, or made up — is kept as a
    // message and rates nothing.
    let visitor = s.app.visitor(&s.shop.widget_key).await;
    visitor.say("I want to talk to a human").await;
    let other = format!("/api/v1/handoffs/{}", owner.pending_handoff_id().await);
    for action in ["claim", "messages", "resolve"] {
        let (status, body) = owner
            .post(&format!("{other}/{action}"), json!({"text": "Hello!"}))
            .await;
        assert!(status.is_success(), "{action}: {body}");
    }
    let theirs = visitor
        .messages()
        .await
        .into_iter()
        .find(|m| m["kind"] == "rating_request")
        .unwrap();
    let sent_before = s.graph.sent().len();
    for (wamid, id) in [
        (
            "wamid.rate2",
            format!("rate:{}:great", theirs["id"].as_str().unwrap()),
        ),
        ("wamid.rate3", "rate:msg_madeup:great".to_owned()),
    ] {
        s.deliver(&tap_from("4915112345678", wamid, false, &id, "😀 Great"))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.handoff_view(&id).await["rating"]["score"], "great");
    let (_, other) = owner.get(&other).await;
    assert_eq!(other["rating"]["score"], Value::Null, "{other}");
    assert_eq!(
        s.graph.sent().len(),
        sent_before,
        "nothing answers a stray tap"
    );

    // The bot answers her next question as if the taps were not there; reports count her
    // two questions, not her taps.
    s.deliver(&text_from(
        "4915112345678",
        "Lena",
        "wamid.in2",
        "How long does standard delivery take?",
    ))
    .await;
    let answer = s.sent(sent_before + 1).await;
    assert!(
        answer[sent_before]["text"]["body"]
            .as_str()
            .unwrap()
            .contains("3 to 5 business days"),
        "{answer:#?}"
    );
    let (_, report) = owner.get("/api/v1/reports").await;
    assert_eq!(
        report["messages"]["customer"], 3,
        "Lena's two and the visitor's one: {report}"
    );
}

#[tokio::test]
async fn no_rating_is_asked_once_whatsapp_no_longer_takes_free_text() {
    let s = Setup::new().await;
    let (id, path) = s.answered_handoff_with_survey().await;
    let owner = &s.shop.owner;
    // Lena has not written for a day: the question could not reach her, so it is not asked.
    s.app.state.clock.advance(Duration::from_secs(25 * 60 * 60));
    let (status, resolved) = owner.post(&format!("{path}/resolve"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["rating"], Value::Null, "{resolved}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.graph.sent().len(), 3, "{:#?}", s.graph.sent());
    let messages = s.handoff_view(&id).await["messages"].clone();
    assert!(
        messages
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["kind"] != "rating_request"),
        "{messages:#?}"
    );
}

#[tokio::test]
async fn an_agent_typing_shows_whatsapps_typing_indicator_on_the_customers_last_message() {
    let s = Setup::new().await;
    let id = s.claimed_handoff().await;
    // Lena writes again while the agent holds the chat: read at once, with no typing (the bot
    // does not answer).
    s.deliver(&text_from("4915112345678", "Lena", "wamid.in2", "hello?"))
        .await;
    let receipt = eventually(|| async {
        s.graph
            .reads()
            .into_iter()
            .find(|r| r["message_id"] == "wamid.in2")
    })
    .await;
    assert_eq!(receipt.get("typing_indicator"), None);
    let reads = s.graph.reads().len();
    let typing = format!("/api/v1/handoffs/{id}/typing");
    let (status, body) = s.shop.owner.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let shown = eventually(|| async {
        let all = s.graph.reads();
        (all.len() > reads).then(|| all[reads].clone())
    })
    .await;
    assert_eq!(
        shown,
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.in2",
               "typing_indicator": {"type": "text"}}),
        "on her latest message"
    );
    // It shows for 25 seconds: typing on does not call the Graph API per keystroke.
    let (status, _) = s.shop.owner.post(&typing, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(s.graph.reads().len(), reads + 1);
    assert!(
        s.graph
            .sent()
            .iter()
            .all(|m| m.get("typing_indicator").is_none())
    );
}

#[tokio::test]
async fn no_typing_indicator_once_the_customers_window_has_closed() {
    let s = Setup::new().await;
    let id = s.claimed_handoff().await;
    s.app
        .state
        .clock
        .advance(std::time::Duration::from_secs(25 * 3600));
    // Her message's own receipt has gone out: only a typing indicator is left to count.
    eventually(|| async { (!s.graph.reads().is_empty()).then_some(()) }).await;
    let reads = s.graph.reads().len();
    let (status, body) = s
        .shop
        .owner
        .post(&format!("/api/v1/handoffs/{id}/typing"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(s.graph.reads().len(), reads, "{:?}", s.graph.reads());
}
