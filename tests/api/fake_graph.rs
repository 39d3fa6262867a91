//! A local stand-in for Meta's Graph API that speaks its protocol: bearer check, request
//! bodies as in the fixtures, `wamid` responses, Graph error envelopes, and scripted failures
//! (131047, 131056, 130429, 190, 5xx, slow answers). It knows which business numbers exist
//! and which token may use each, as Meta does (`GET /{phone-number-id}`).

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
/// A second number of the same business (same token).
pub const SECOND_NUMBER_ID: &str = "222";

/// A business number as Meta knows it.
#[derive(Clone, Debug)]
struct KnownNumber {
    display_phone_number: String,
    verified_name: String,
    /// The one access token that may use it.
    token: String,
}

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
    /// The wamid each accepted body was answered with.
    wamids: Vec<String>,
    reads: Vec<Value>,
    attempts: usize,
    counter: usize,
    down: bool,
    /// Files customers "sent": media id → (MIME type, bytes).
    media: std::collections::HashMap<String, (String, Vec<u8>)>,
    /// Media requests: lookups by id and downloads.
    media_requests: usize,
    /// Media lookups that answer 500 before one succeeds.
    media_failures: usize,
    /// Business numbers by phone number id.
    numbers: std::collections::HashMap<String, KnownNumber>,
    /// `GET /{phone-number-id}` lookups.
    number_checks: usize,
    /// Files Baton uploaded to send (`POST /{phone-number-id}/media`), in order.
    uploads: Vec<Upload>,
}

/// A file uploaded to be sent, as the fake took it.
#[derive(Clone, Debug)]
pub struct Upload {
    pub id: String,
    pub phone_number_id: String,
    pub mime_type: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The Graph error to answer unless `Authorization` carries the token that may use `number`:
/// 190 for a token Meta does not know, 100 for one of another business.
fn refusal(inner: &Inner, headers: &HeaderMap, number: &str) -> Option<Response> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !inner.numbers.values().any(|n| n.token == bearer) {
        // The fixture meta_error_401_invalid_token.json: code 190.
        let fixture = crate::whatsapp::fixture("meta_error_401_invalid_token.json");
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::from_slice::<Value>(&fixture).unwrap()),
            )
                .into_response(),
        );
    }
    match inner.numbers.get(number) {
        Some(known) if known.token == bearer => None,
        _ => Some(graph_error(
            400,
            100,
            &format!(
                "Unsupported get request. Object with ID '{number}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation"
            ),
        )),
    }
}

#[derive(Clone)]
pub struct FakeGraph {
    /// The base Baton is given as `BATON_WHATSAPP_GRAPH_URL`.
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let mut inner = Inner::default();
        for (id, display, name) in [
            (PHONE_NUMBER_ID, "+1 555-078-3881", "Acme Shop"),
            (SECOND_NUMBER_ID, "+1 555-010-0222", "Acme Wholesale"),
        ] {
            inner.numbers.insert(
                id.to_owned(),
                KnownNumber {
                    display_phone_number: display.to_owned(),
                    verified_name: name.to_owned(),
                    token: TOKEN.to_owned(),
                },
            );
        }
        let inner = Arc::new(Mutex::new(inner));
        let app = Router::new()
            .route(
                "/v23.0/{phone_number_id}/messages",
                axum::routing::post(messages),
            )
            .route("/v23.0/{node_id}", axum::routing::get(node))
            .route(
                "/v23.0/{phone_number_id}/media",
                axum::routing::post(upload_media),
            )
            .route(
                "/whatsapp_business/attachments/",
                axum::routing::get(media_download),
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

    /// Accepted message bodies with the wamid each was answered with.
    pub fn sent_with_ids(&self) -> Vec<(String, Value)> {
        let inner = self.inner.lock().unwrap();
        inner
            .wamids
            .iter()
            .cloned()
            .zip(inner.sent.clone())
            .collect()
    }

    pub fn reads(&self) -> Vec<Value> {
        self.inner.lock().unwrap().reads.clone()
    }

    /// Holds a file a customer sent, as WhatsApp would after upload.
    pub fn add_media(&self, id: &str, mime_type: &str, bytes: &[u8]) {
        self.inner
            .lock()
            .unwrap()
            .media
            .insert(id.to_owned(), (mime_type.to_owned(), bytes.to_vec()));
    }

    /// The next `n` media lookups answer 500.
    pub fn fail_media(&self, n: usize) {
        self.inner.lock().unwrap().media_failures = n;
    }

    pub fn media_requests(&self) -> usize {
        self.inner.lock().unwrap().media_requests
    }

    /// A business number of its own, with its own token.
    pub fn add_number(
        &self,
        id: &str,
        display_phone_number: &str,
        verified_name: &str,
        token: &str,
    ) {
        self.inner.lock().unwrap().numbers.insert(
            id.to_owned(),
            KnownNumber {
                display_phone_number: display_phone_number.to_owned(),
                verified_name: verified_name.to_owned(),
                token: token.to_owned(),
            },
        );
    }

    /// The business replaces its token (the old one expired or was revoked): its numbers take
    /// only the new one from now on.
    pub fn replace_token(&self, old: &str, new: &str) {
        for number in self.inner.lock().unwrap().numbers.values_mut() {
            if number.token == old {
                number.token = new.to_owned();
            }
        }
    }

    /// `GET /{phone-number-id}` lookups so far.
    pub fn number_checks(&self) -> usize {
        self.inner.lock().unwrap().number_checks
    }

    /// Files uploaded to be sent, in order.
    pub fn uploads(&self) -> Vec<Upload> {
        self.inner.lock().unwrap().uploads.clone()
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
    if let Some(refused) = refusal(&inner.lock().unwrap(), &headers, &phone_number_id) {
        return refused;
    }
    if body["messaging_product"] != "whatsapp" {
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
                && body["template"]["components"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .all(template_component_ok)
        }
        Some("interactive") => reply_buttons_ok(&body["interactive"]),
        // A file sent by the id of an upload from this number (Meta refuses another number's).
        Some(kind @ ("image" | "document")) => {
            let inner = inner.lock().unwrap();
            body[kind]["id"].as_str().is_some_and(|id| {
                inner.uploads.iter().any(|u| {
                    u.id == id
                        && u.phone_number_id == phone_number_id
                        && (kind == "document") == (u.mime_type == "application/pdf")
                })
            }) && (kind == "image" || body[kind]["filename"].as_str().is_some())
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
    inner.wamids.push(wamid.clone());
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": wamid, "message_status": "accepted"}],
    }))
    .into_response()
}

/// `POST /{phone-number-id}/media`: multipart `messaging_product=whatsapp`, `type` (the
/// file's MIME type) and `file`; answers the media id. Meta takes only the types it can send
/// (JPEG and PNG pictures, PDF among the documents) whose `type` matches the file part's.
async fn upload_media(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(phone_number_id): Path<String>,
    headers: HeaderMap,
    mut form: axum::extract::Multipart,
) -> Response {
    if let Some(refused) = refusal(&inner.lock().unwrap(), &headers, &phone_number_id) {
        return refused;
    }
    if inner.lock().unwrap().down {
        return graph_error(500, 2, "Service temporarily unavailable");
    }
    let (mut product, mut declared, mut file) = (None, None, None);
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default().to_owned().as_str() {
            "messaging_product" => product = field.text().await.ok(),
            "type" => declared = field.text().await.ok(),
            "file" => {
                let mime_type = field.content_type().unwrap_or_default().to_owned();
                let filename = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                file = Some((mime_type, filename, bytes));
            }
            _ => {}
        }
    }
    let Some((mime_type, filename, bytes)) = file else {
        return graph_error(400, 100, "The parameter file is required");
    };
    let supported = ["image/jpeg", "image/png", "application/pdf"].contains(&mime_type.as_str());
    if product.as_deref() != Some("whatsapp")
        || declared.as_deref() != Some(mime_type.as_str())
        || !supported
        || bytes.is_empty()
    {
        return graph_error(400, 100, "Invalid parameter");
    }
    let mut inner = inner.lock().unwrap();
    let id = format!("{}", 900_000_000 + inner.uploads.len());
    inner.uploads.push(Upload {
        id: id.clone(),
        phone_number_id,
        mime_type,
        filename,
        bytes,
    });
    Json(json!({"id": id})).into_response()
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

/// `GET /{id}`: a Graph node, a file a customer sent or (asked for its `fields`) a business
/// number, as Meta serves both from one path.
async fn node(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(node_id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(fields) = query.get("fields") else {
        return media_url(inner, node_id, headers);
    };
    let mut inner = inner.lock().unwrap();
    inner.number_checks += 1;
    if inner.down {
        return graph_error(500, 2, "Service temporarily unavailable");
    }
    if let Some(refused) = refusal(&inner, &headers, &node_id) {
        return refused;
    }
    let known = &inner.numbers[&node_id];
    // Only the fields asked for, and the id, as the Graph API answers `?fields=`.
    let mut answer = json!({"id": node_id});
    for field in fields.split(',') {
        match field {
            "display_phone_number" => answer[field] = json!(known.display_phone_number),
            "verified_name" => answer[field] = json!(known.verified_name),
            _ => {}
        }
    }
    Json(answer).into_response()
}

/// `GET /{media-id}`: where to download the file, for five minutes (Meta's lookaside URL).
fn media_url(inner: Arc<Mutex<Inner>>, media_id: String, headers: HeaderMap) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !bearer_ok(&headers) {
        return graph_error(401, 190, "Error validating access token");
    }
    let mut inner = inner.lock().unwrap();
    inner.media_requests += 1;
    if inner.media_failures > 0 {
        inner.media_failures -= 1;
        return graph_error(500, 2, "Service temporarily unavailable");
    }
    let Some((mime_type, bytes)) = inner.media.get(&media_id) else {
        return graph_error(400, 100, "Unsupported get request. Object does not exist");
    };
    use base64::Engine;
    use sha2::Digest;
    Json(json!({
        "url": format!("http://{host}/whatsapp_business/attachments/?mid={media_id}&ext=1744344496"),
        "mime_type": mime_type,
        "sha256": base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes)),
        "file_size": bytes.len(),
        "id": media_id,
        "messaging_product": "whatsapp",
    }))
    .into_response()
}

/// The download itself: the file's bytes, only with the token.
async fn media_download(
    State(inner): State<Arc<Mutex<Inner>>>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !bearer_ok(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut inner = inner.lock().unwrap();
    inner.media_requests += 1;
    match query.get("mid").and_then(|id| inner.media.get(id)) {
        Some((mime_type, bytes)) => (
            [(axum::http::header::CONTENT_TYPE, mime_type.clone())],
            bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A template component as the Cloud API takes it: body parameters, or a quick-reply
/// button's payload at its index.
fn template_component_ok(component: &Value) -> bool {
    match component["type"].as_str() {
        Some("body") => component["parameters"].as_array().is_some(),
        Some("button") => {
            component["sub_type"] == "quick_reply"
                && component["index"].as_u64().is_some()
                && component["parameters"][0]["type"] == "payload"
                && component["parameters"][0]["payload"]
                    .as_str()
                    .is_some_and(|p| !p.is_empty())
        }
        _ => false,
    }
}

/// An interactive reply-buttons message within the Cloud API's limits: a body of at most
/// 1024 characters, one to three buttons with distinct ids (at most 256 characters) and
/// distinct titles (at most 20).
fn reply_buttons_ok(interactive: &Value) -> bool {
    let Some(buttons) = interactive["action"]["buttons"].as_array() else {
        return false;
    };
    let ids: Vec<&str> = buttons
        .iter()
        .filter_map(|b| b["reply"]["id"].as_str())
        .collect();
    let titles: Vec<&str> = buttons
        .iter()
        .filter_map(|b| b["reply"]["title"].as_str())
        .collect();
    let distinct = |list: &[&str]| {
        let set: std::collections::HashSet<&&str> = list.iter().collect();
        set.len() == list.len()
    };
    interactive["type"] == "button"
        && interactive["body"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty() && t.chars().count() <= 1024)
        && (1..=3).contains(&buttons.len())
        && buttons.iter().all(|b| b["type"] == "reply")
        && ids.len() == buttons.len()
        && titles.len() == buttons.len()
        && ids
            .iter()
            .all(|id| !id.is_empty() && id.chars().count() <= 256)
        && titles
            .iter()
            .all(|t| !t.is_empty() && t.chars().count() <= 20)
        && distinct(&ids)
        && distinct(&titles)
}
