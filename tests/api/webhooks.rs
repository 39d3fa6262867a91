//! Outbound webhooks against a local receiver over real HTTP: what is sent and how it is
//! signed, retries with backoff, giving up and sending again, several nodes on one queue, and
//! the API's checks (bad input, admins only, other workspaces' ids).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Inner {
    /// Statuses to answer with, in order; 200 once it is empty.
    script: VecDeque<u16>,
    /// How long to wait before answering.
    delay: Duration,
    got: Vec<Received>,
}

/// An integrator's endpoint: records every request and answers as scripted.
#[derive(Clone)]
struct Receiver {
    url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new()
            .route("/hooks/baton", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hooks/baton"),
            inner,
        }
    }

    fn answer(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().script.extend(statuses);
    }

    fn answer_after(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    fn got(&self) -> Vec<Received> {
        self.inner.lock().unwrap().got.clone()
    }

    /// Waits until `n` requests have arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        eventually(|| async {
            let got = self.got();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: String,
) -> AxumStatus {
    let (status, delay) = {
        let mut inner = inner.lock().unwrap();
        inner.got.push(Received {
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body,
        });
        (inner.script.pop_front().unwrap_or(200), inner.delay)
    };
    tokio::time::sleep(delay).await;
    AxumStatus::from_u16(status).unwrap()
}

/// Checks a delivery's signature the way an integrator would: HMAC-SHA256 of
/// `<timestamp>.<raw body>` under the webhook's secret, compared in constant time. Answers
/// the timestamp (unix seconds).
fn verify_signature(received: &Received, secret: &str) -> i64 {
    let timestamp = received.header("x-baton-timestamp");
    let signature = received.header("x-baton-signature");
    let hex_mac = signature
        .strip_prefix("sha256=")
        .unwrap_or_else(|| panic!("signature {signature:?}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", received.body).as_bytes());
    mac.verify_slice(&hex::decode(hex_mac).unwrap())
        .expect("the signature matches the body and timestamp");
    timestamp.parse().unwrap()
}

async fn create_webhook(owner: &Api, url: &str, events: Value) -> Value {
    let (status, webhook) = owner
        .post("/api/v1/webhooks", json!({"url": url, "events": events}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    webhook
}

async fn deliveries(owner: &Api, webhook_id: &str) -> Vec<Value> {
    let (status, webhook) = owner.get(&format!("/api/v1/webhooks/{webhook_id}")).await;
    assert_eq!(status, StatusCode::OK, "{webhook}");
    webhook["deliveries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn handoff_and_message_events_reach_the_endpoint_signed() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &shop.owner,
        &receiver.url,
        json!(["handoff.created", "handoff.claimed", "message.created"]),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    let secret = webhook["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 30,
        "{secret}"
    );
    assert_eq!(
        webhook["events"],
        json!(["handoff.claimed", "handoff.created", "message.created"])
    );

    let visitor = app.visitor(&shop.widget_key).await;
    visitor
        .say("I want to talk to a person <script>alert(1)</script>")
        .await;
    // The customer's message, the bot's handoff notice, the handoff.
    let got = receiver.wait_for(3).await;
    let handoff = shop.owner.first_handoff().await;
    let (status, _) = shop
        .owner
        .post(
            &format!("/api/v1/handoffs/{}/claim", handoff["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = receiver.wait_for(got.len() + 2).await; // the system message and the claim

    let mut last_seq = 0;
    let now = app.state.clock.now_ms() / 1000;
    for received in &got {
        let sent_at = verify_signature(received, secret);
        assert!(
            (now - sent_at).abs() < 300,
            "timestamp {sent_at} is not {now}"
        );
        let event = received.json();
        assert_eq!(received.header("content-type"), "application/json");
        assert_eq!(received.header("x-baton-event"), event["type"]);
        let seq = event["seq"].as_i64().unwrap();
        assert_eq!(received.header("x-baton-delivery"), format!("{id}.{seq}"));
        assert!(seq > last_seq, "one webhook's deliveries come in order");
        last_seq = seq;
    }
    let kinds: Vec<&str> = got.iter().map(|r| r.header("x-baton-event")).collect();
    assert!(!kinds.contains(&"message.status"), "{kinds:?}");
    let customer = got
        .iter()
        .map(Received::json)
        .find(|e| e["type"] == "message.created" && e["message"]["author"] == "customer")
        .expect("the customer's message");
    // Sent as data, exactly as written: the receiver decides how to show it.
    assert_eq!(
        customer["message"]["text"],
        "I want to talk to a person <script>alert(1)</script>"
    );
    let created = got
        .iter()
        .map(Received::json)
        .find(|e| e["type"] == "handoff.created")
        .expect("handoff.created");
    assert_eq!(created["handoff"]["reason"], "customer_request");
    assert_eq!(created["handoff"]["id"], handoff["id"]);
    let claimed = got
        .iter()
        .map(Received::json)
        .find(|e| e["type"] == "handoff.claimed")
        .expect("handoff.claimed");
    assert_eq!(claimed["handoff"]["status"], "in_progress");

    // The webhook shows what was delivered; the secret is never shown again.
    let (_, list) = shop.owner.get("/api/v1/webhooks").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("secret").is_none(), "{list}");
    let shown = eventually(|| async {
        let shown = deliveries(&shop.owner, id).await;
        shown
            .iter()
            .all(|d| d["status"] == "delivered")
            .then_some(shown)
    })
    .await;
    assert_eq!(shown.len(), got.len());
    assert_eq!(shown[0]["response_status"], 200);
    assert_eq!(shown[0]["attempts"], 1);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_and_can_be_sent_again() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let receiver = Receiver::start().await;
    let webhook = create_webhook(&shop.owner, &receiver.url, json!(["handoff.created"])).await;
    let id = webhook["id"].as_str().unwrap();
    let secret = webhook["secret"].as_str().unwrap();
    let wake = || {
        // Backoff waits are seconds: move Baton's clock instead of sleeping.
        app.state.clock.advance(Duration::from_secs(700));
        app.state.store.wake_webhook_worker();
    };

    receiver.answer(&[503, 500]);
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("can I speak to a human please").await;
    receiver.wait_for(1).await;
    let pending = eventually(|| async {
        let shown = deliveries(&shop.owner, id).await;
        (shown.first()?["response_status"] == 503).then(|| shown[0].clone())
    })
    .await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["attempts"], 1);
    assert!(pending["next_attempt_at"].is_string(), "{pending}");
    assert!(
        pending["last_error"].as_str().unwrap().contains("503"),
        "{pending}"
    );
    wake();
    receiver.wait_for(2).await;
    eventually(|| async { (deliveries(&shop.owner, id).await[0]["attempts"] == 2).then_some(()) })
        .await;
    wake();
    let got = receiver.wait_for(3).await;
    // Every attempt is the same delivery, signed afresh.
    let timestamps: Vec<i64> = got.iter().map(|r| verify_signature(r, secret)).collect();
    assert!(timestamps.windows(2).all(|t| t[1] > t[0]), "{timestamps:?}");
    for received in &got {
        assert_eq!(received.body, got[0].body);
        assert_eq!(
            received.header("x-baton-delivery"),
            got[0].header("x-baton-delivery")
        );
    }
    let done = eventually(|| async {
        let shown = deliveries(&shop.owner, id).await;
        (shown[0]["status"] == "delivered").then(|| shown[0].clone())
    })
    .await;
    assert_eq!(done["attempts"], 3);
    assert!(done["next_attempt_at"].is_null());

    // An endpoint that keeps failing is given up on after the last attempt, visibly; the
    // integrator can send it again once the endpoint is mended.
    let seq = done["seq"].as_i64().unwrap();
    receiver.answer(&[500; 16]);
    let (status, again) = shop
        .owner
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/{seq}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["status"], "pending");
    let failed = eventually(|| async {
        wake();
        let shown = deliveries(&shop.owner, id).await;
        (shown[0]["status"] == "failed").then(|| shown[0].clone())
    })
    .await;
    assert_eq!(failed["attempts"], 16);
    assert_eq!(failed["response_status"], 500);
    assert_eq!(receiver.got().len(), 3 + 16);
    let (status, _) = shop
        .owner
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/{seq}/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    receiver.wait_for(3 + 16 + 1).await;
    eventually(|| async {
        (deliveries(&shop.owner, id).await[0]["status"] == "delivered").then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_endpoint_is_retried_and_says_why() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    // A port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let webhook = create_webhook(&shop.owner, &format!("http://{closed}/hook"), json!(["*"])).await;
    let id = webhook["id"].as_str().unwrap();
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("hello").await;
    let first = eventually(|| async {
        let shown = deliveries(&shop.owner, id).await;
        shown
            .into_iter()
            .find(|d| d["attempts"].as_i64() >= Some(1) && d["last_error"].is_string())
    })
    .await;
    assert_eq!(first["status"], "pending");
    assert_eq!(first["last_error"], "could not connect");
    assert!(first["response_status"].is_null());
}

#[tokio::test]
async fn a_delivery_in_flight_is_not_due_for_other_workers() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let receiver = Receiver::start().await;
    receiver.answer_after(Duration::from_secs(2));
    create_webhook(&shop.owner, &receiver.url, json!(["handoff.created"])).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("a human please").await;
    receiver.wait_for(1).await;
    // While the endpoint thinks, the delivery is leased: no worker may take it before the
    // lease ends, and none spins waiting for it.
    let now = app.state.clock.now_ms();
    let next = app.state.store.next_webhook_delivery_at().await.unwrap();
    assert!(
        next.is_some_and(|at| at > now + 60_000),
        "{next:?} vs {now}"
    );
    eventually(|| async {
        app.state
            .store
            .next_webhook_delivery_at()
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(receiver.got().len(), 1);
}

#[tokio::test]
async fn each_delivery_is_sent_once_when_several_nodes_share_the_queue() {
    let app = spawn_app().await;
    let other = app.second_node().await;
    let shop = app.shop(true).await;
    let receiver = Receiver::start().await;
    create_webhook(&shop.owner, &receiver.url, json!(["message.created"])).await;
    for i in 0..4 {
        let visitor = app.visitor(&shop.widget_key).await;
        // Half the conversations on each node, as behind a load balancer.
        let api = if i % 2 == 0 { &app } else { &other };
        let (status, body) = api
            .anonymous()
            .with_bearer(&visitor.token)
            .post(
                "/widget/v1/messages",
                json!({"text": "how much is shipping?"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // Four questions, four answers.
    receiver.wait_for(8).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = receiver.got();
    let mut ids: Vec<&str> = got.iter().map(|r| r.header("x-baton-delivery")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "no delivery sent twice");
    assert_eq!(got.len(), 8);
}

#[tokio::test]
async fn webhooks_refuse_bad_input_and_stay_in_their_workspace() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let receiver = Receiver::start().await;
    let owner = &shop.owner;

    for (body, field) in [
        (
            json!({"url": "ftp://example.com/x", "events": ["*"]}),
            "url",
        ),
        (json!({"url": "not a url", "events": ["*"]}), "url"),
        (
            json!({"url": "https://user:pw@example.com/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/", "events": ["handoff.opened"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/", "events": []}),
            "events",
        ),
    ] {
        let (status, error) = owner.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {error}");
        assert_eq!(code(&error), "validation_failed");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{error}"
        );
    }
    let (status, error) = owner
        .post("/api/v1/webhooks", json!({"events": ["*"]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, error) = owner
        .post_raw(
            "/api/v1/webhooks",
            "application/json",
            b"{\"url\": ".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(code(&error), "malformed_json");

    // Omitting `events` follows every type.
    let (status, every) = owner
        .post("/api/v1/webhooks", json!({"url": receiver.url}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{every}");
    assert_eq!(every["events"], json!(["*"]));
    let id = every["id"].as_str().unwrap();

    // Agents may not see or change webhooks; an API key acts as its admin.
    let agent = app.member(owner, "agent@shop.test", "agent").await;
    let (status, _) = agent.get("/api/v1/webhooks").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = agent
        .post("/api/v1/webhooks", json!({"url": receiver.url}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, key) = owner.post("/api/v1/api-keys", json!({"name": "crm"})).await;
    let integrator = owner.with_bearer(key["key"].as_str().unwrap());
    let (status, list) = integrator.get("/api/v1/webhooks").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["id"], id);

    // Another workspace sees none of them and cannot touch them.
    let stranger = app.other_workspace("olga@other.test").await;
    let (_, theirs) = stranger.get("/api/v1/webhooks").await;
    assert_eq!(theirs, json!([]));
    for (status, body) in [
        stranger.get(&format!("/api/v1/webhooks/{id}")).await,
        stranger.delete(&format!("/api/v1/webhooks/{id}")).await,
        stranger
            .post(
                &format!("/api/v1/webhooks/{id}/deliveries/1/retry"),
                json!({}),
            )
            .await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let (status, _) = owner
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/first/retry"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Their events are not sent to this workspace's endpoint.
    let (_, bot) = stranger
        .post("/api/v1/bots", json!({"name": "Other bot"}))
        .await;
    let other_visitor = app.visitor(bot["widget_key"].as_str().unwrap()).await;
    other_visitor.say("hello from elsewhere").await;
    other_visitor.wait_for_messages(2).await;

    // Deleted, it gets nothing more.
    let (status, _) = owner.delete(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = owner.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("how much is shipping?").await;
    visitor.wait_for_messages(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.got().is_empty(), "{:?}", receiver.got());

    // A workspace has a bounded number of webhooks.
    for _ in 0..20 {
        create_webhook(owner, &receiver.url, json!(["handoff.created"])).await;
    }
    let (status, error) = owner
        .post("/api/v1/webhooks", json!({"url": receiver.url}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
}

#[tokio::test]
async fn webhooks_go_to_this_machine_or_its_network_only_when_the_instance_allows_it() {
    let app = spawn_app_with(|s| s.webhooks_allow_local = Some(false)).await;
    let shop = app.shop(true).await;
    let receiver = Receiver::start().await;
    // An address written in the URL is refused at once: this machine, cloud metadata.
    let here = receiver.url.strip_prefix("http://127.0.0.1:").unwrap();
    for url in [
        receiver.url.clone(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::1]/hook".to_owned(),
    ] {
        let (status, body) = shop
            .owner
            .post("/api/v1/webhooks", json!({"url": url, "events": ["*"]}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("BATON_WEBHOOKS_ALLOW_LOCAL"),
            "{body}"
        );
    }
    // A name is resolved at each delivery; one that leads only here is not delivered to.
    let webhook = create_webhook(
        &shop.owner,
        &format!("http://localhost:{here}"),
        json!(["*"]),
    )
    .await;
    let id = webhook["id"].as_str().unwrap();
    app.visitor(&shop.widget_key).await.say("hello").await;
    let tried = eventually(|| async {
        deliveries(&shop.owner, id)
            .await
            .into_iter()
            .find(|d| d["last_error"].is_string())
    })
    .await;
    assert!(
        tried["last_error"]
            .as_str()
            .unwrap()
            .contains("localhost is a local or private address"),
        "{tried}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.inner.lock().unwrap().got.is_empty());
}

#[tokio::test]
async fn a_local_endpoint_saved_while_allowed_is_not_delivered_to_once_that_is_turned_off() {
    let mut app = spawn_app().await;
    let shop = app.shop(true).await;
    let receiver = Receiver::start().await;
    let webhook = create_webhook(&shop.owner, &receiver.url, json!(["*"])).await;
    let id = webhook["id"].as_str().unwrap();
    app.shutdown().await.unwrap();
    let strict = app
        .second_node_with(|s| s.webhooks_allow_local = Some(false))
        .await;
    let owner = strict.owner().await;
    let visitor = strict.visitor(&shop.widget_key).await;
    visitor.say("hello").await;
    let failed = eventually(|| async {
        deliveries(&owner, id)
            .await
            .into_iter()
            .find(|d| d["status"] == "failed")
    })
    .await;
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1 is a local or private address"),
        "{failed}"
    );
    assert!(receiver.inner.lock().unwrap().got.is_empty());
}
