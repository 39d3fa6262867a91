//! A local stand-in for Meta's Graph API that speaks its protocol: bearer check, request
//! bodies as in the fixtures, `wamid` responses, Graph error envelopes, and scripted failures
//! (131047, 131056, 130429, 190, 5xx, slow answers).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{Value, json};

pub const TOKEN: &str = "EAAG-test-access-token";
pub const APP_SECRET: &str = "test_app_secret";
pub const VERIFY_TOKEN: &str = "verify-me-please";
pub const PHONE_NUMBER_ID: &str = "106540352242922";

/// What the fake does with the next send.
#[derive(Clone, Debug)]
pub enum Next {
    Accept,
    /// A Graph error: HTTP status, error code, details.
    Fail(u16, i64, &'static str),
    /// Answers after this long (longer than Baton's timeout = a timeout).
    Slow(Duration),
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Next>,
    /// Behaviours for sends to one recipient, before the general script.
    for_recipient: std::collections::HashMap<String, VecDeque<Next>>,
    sent: Vec<Value>,
    reads: Vec<Value>,
    attempts: usize,
    counter: usize,
    down: bool,
}

#[derive(Clone)]
pub struct FakeGraph {
    /// The base Baton is given as `BATON_WHATSAPP_GRAPH_URL`.
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route(
                "/v23.0/{phone_number_id}/messages",
                axum::routing::post(messages),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeGraph {
            base: format!("http://{addr}/v23.0"),
            inner,
        }
    }

    /// Queues behaviours for the next sends (reads are never scripted).
    pub fn script(&self, steps: &[Next]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .extend(steps.iter().cloned());
    }

    /// Queues behaviours for the next sends to one recipient (`to` as sent, digits only).
    pub fn script_for(&self, to: &str, steps: &[Next]) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .for_recipient
            .entry(to.to_owned())
            .or_default()
            .extend(steps.iter().cloned());
    }

    /// Every send answers 500 until `up()`.
    pub fn down(&self) {
        self.inner.lock().unwrap().down = true;
    }

    pub fn up(&self) {
        self.inner.lock().unwrap().down = false;
    }

    /// Accepted message bodies (not read receipts), in order.
    pub fn sent(&self) -> Vec<Value> {
        self.inner.lock().unwrap().sent.clone()
    }

    pub fn reads(&self) -> Vec<Value> {
        self.inner.lock().unwrap().reads.clone()
    }

    /// Send attempts, failed ones included.
    pub fn attempts(&self) -> usize {
        self.inner.lock().unwrap().attempts
    }
}

fn graph_error(status: u16, code: i64, details: &str) -> Response {
    let body = json!({"error": {
        "message": format!("({code}) {details}"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "A4O5fakefbtrace",
    }});
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

async fn messages(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(phone_number_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {TOKEN}")) {
        // The fixture meta_error_401_invalid_token.json: code 190.
        let fixture = crate::whatsapp::fixture("meta_error_401_invalid_token.json");
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::from_slice::<Value>(&fixture).unwrap()),
        )
            .into_response();
    }
    if phone_number_id != PHONE_NUMBER_ID || body["messaging_product"] != "whatsapp" {
        return graph_error(400, 100, "Invalid parameter");
    }
    if body["status"] == "read" {
        if body["message_id"]
            .as_str()
            .is_none_or(|id| !id.starts_with("wamid."))
        {
            return graph_error(400, 100, "message_id must be a wamid");
        }
        inner.lock().unwrap().reads.push(body);
        return Json(json!({"success": true})).into_response();
    }
    let shape_ok = match body["type"].as_str() {
        Some("text") => body["text"]["body"]
            .as_str()
            .is_some_and(|b| !b.is_empty() && b.chars().count() <= 4096),
        Some("template") => {
            body["template"]["name"].as_str().is_some()
                && body["template"]["language"]["code"].as_str().is_some()
        }
        _ => false,
    };
    let addressed = body["to"].as_str().is_some() || body["recipient"].as_str().is_some();
    if !shape_ok || !addressed {
        return graph_error(400, 100, "Invalid parameter");
    }
    let to = body["to"]
        .as_str()
        .or(body["recipient"].as_str())
        .unwrap_or_default()
        .to_owned();
    let next = {
        let mut inner = inner.lock().unwrap();
        inner.attempts += 1;
        if inner.down {
            Some(Next::Fail(500, 1, "Service temporarily unavailable"))
        } else if let Some(step) = inner
            .for_recipient
            .get_mut(&to)
            .and_then(VecDeque::pop_front)
        {
            Some(step)
        } else {
            inner.script.pop_front()
        }
    };
    match next.unwrap_or(Next::Accept) {
        Next::Fail(status, code, details) => return graph_error(status, code, details),
        Next::Slow(delay) => tokio::time::sleep(delay).await,
        Next::Accept => {}
    }
    let mut inner = inner.lock().unwrap();
    inner.counter += 1;
    let wamid = format!("wamid.FAKE{:04}", inner.counter);
    let to = body["to"]
        .as_str()
        .or(body["recipient"].as_str())
        .unwrap_or_default()
        .to_owned();
    inner.sent.push(body);
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": wamid, "message_status": "accepted"}],
    }))
    .into_response()
}
