//! The WhatsApp Business Cloud API as Meta speaks it (see shared/WHATSAPP.md): signed webhooks
//! in, Graph API sends out, and what each error code means for a retry.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::config::Secret;
use crate::crypto;

/// The name of a WhatsApp customer whose message carried neither a profile name nor a number.
pub const UNNAMED_CUSTOMER: &str = "WhatsApp customer";

/// A connected number, secrets decrypted.
#[derive(Clone)]
pub struct Number {
    pub phone_number_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
    /// What Meta said the number is when it was connected (or its token last replaced).
    pub profile: Profile,
}

/// A business number as Meta shows it: `GET /{phone-number-id}`. Empty for a number connected
/// before Baton checked numbers with Meta.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_name: Option<String>,
}

/// How a number is stored: secrets sealed with `BATON_SECRET_KEY`, the profile in clear.
#[derive(Serialize, Deserialize)]
struct Stored {
    phone_number_id: String,
    access_token: String,
    app_secret: String,
    verify_token: String,
    #[serde(flatten)]
    profile: Profile,
}

impl Number {
    pub fn seal(&self, key: &Secret) -> String {
        json!(Stored {
            phone_number_id: self.phone_number_id.clone(),
            access_token: crypto::encrypt(key, &self.access_token),
            app_secret: crypto::encrypt(key, &self.app_secret),
            verify_token: crypto::encrypt(key, &self.verify_token),
            profile: self.profile.clone(),
        })
        .to_string()
    }

    pub fn open(key: &Secret, stored: &str) -> Result<Number, crypto::DecryptError> {
        let stored: Stored = serde_json::from_str(stored).map_err(|_| crypto::DecryptError)?;
        Ok(Number {
            phone_number_id: stored.phone_number_id,
            access_token: crypto::decrypt(key, &stored.access_token)?,
            app_secret: crypto::decrypt(key, &stored.app_secret)?,
            verify_token: crypto::decrypt(key, &stored.verify_token)?,
            profile: stored.profile,
        })
    }
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` over the raw body, in constant time.
pub fn signature_ok(app_secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Whom a message goes to: a phone number (`to`) or a business-scoped user id (`recipient`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Phone(String),
    User(String),
}

impl Recipient {
    fn field(&self) -> (&'static str, &str) {
        match self {
            Recipient::Phone(phone) => ("to", phone.trim_start_matches('+')),
            Recipient::User(id) => ("recipient", id),
        }
    }
}

pub fn text_body(to: &Recipient, text: &str) -> Value {
    let (field, value) = to.field();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        field: value,
        "type": "text",
        "text": {"preview_url": false, "body": text},
    })
}

/// A picture or a document uploaded before (`media_id`); a document shows its file name.
pub fn media_body(to: &Recipient, kind: &str, media_id: &str, filename: Option<&str>) -> Value {
    let (field, value) = to.field();
    let mut media = json!({"id": media_id});
    if let Some(filename) = filename.filter(|_| kind == "document") {
        media["filename"] = filename.into();
    }
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        field: value,
        "type": kind,
        kind: media,
    })
}

/// A template message; `parameters` fill the body's `{{1}}`, `{{2}}`…, and `quick_replies`
/// are the payloads of the template's quick-reply buttons, in order (what a tap sends back).
pub fn template_body(
    to: &Recipient,
    name: &str,
    language: &str,
    parameters: &[String],
    quick_replies: &[String],
) -> Value {
    let (field, value) = to.field();
    let mut template = json!({"name": name, "language": {"code": language}});
    let mut components = Vec::new();
    if !parameters.is_empty() {
        let parameters: Vec<Value> = parameters
            .iter()
            .map(|p| json!({"type": "text", "text": p}))
            .collect();
        components.push(json!({"type": "body", "parameters": parameters}));
    }
    for (index, payload) in quick_replies.iter().enumerate() {
        components.push(json!({
            "type": "button",
            "sub_type": "quick_reply",
            "index": index,
            "parameters": [{"type": "payload", "payload": payload}],
        }));
    }
    if !components.is_empty() {
        template["components"] = Value::Array(components);
    }
    json!({"messaging_product": "whatsapp", field: value, "type": "template", "template": template})
}

/// A text with reply buttons (`(id, title)`, at most three), allowed inside the 24-hour
/// window like free text; a tap comes back as an `interactive` message with the id.
pub fn buttons_body(to: &Recipient, text: &str, buttons: &[(String, String)]) -> Value {
    let (field, value) = to.field();
    let buttons: Vec<Value> = buttons
        .iter()
        .map(|(id, title)| json!({"type": "reply", "reply": {"id": id, "title": title}}))
        .collect();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        field: value,
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": text}, "action": {"buttons": buttons}},
    })
}

/// Marks a customer's message read, optionally with a typing indicator (a reply is coming).
pub fn read_body(message_id: &str, typing: bool) -> Value {
    let mut body =
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": message_id});
    if typing {
        body["typing_indicator"] = json!({"type": "text"});
    }
    body
}

/// Why a send did not go through, and whether trying again can help.
#[derive(Debug, Clone)]
pub struct SendError {
    pub code: Option<i64>,
    pub message: String,
    pub transient: bool,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(code) => write!(f, "({code}) {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Meta's codes that mean "later", not "never": throughput and pair-rate limits, and the
/// generic temporary failures.
fn transient_code(code: i64) -> bool {
    matches!(code, 130429 | 131056 | 131000 | 1 | 2 | 4 | 80007 | 133004)
}

/// How long one Graph API call may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long downloading one file may take (WhatsApp files go up to 100 MB; we keep at most
/// [`MAX_MEDIA_BYTES`]).
pub const MEDIA_TIMEOUT: Duration = Duration::from_secs(60);
/// How long uploading an agent's file (at most 5 MB) may take.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest file kept: WhatsApp's limit for images is 5 MB, for video and audio 16 MB.
pub const MAX_MEDIA_BYTES: usize = 16 * 1024 * 1024;

pub struct Graph {
    http: reqwest::Client,
    base: String,
}

impl Graph {
    pub fn new(base: &str) -> Graph {
        Graph {
            http: reqwest::Client::builder()
                .timeout(SEND_TIMEOUT)
                .build()
                .expect("HTTP client"),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// `POST /{phone-number-id}/messages`; answers the new message's wamid (or "" for reads).
    pub async fn send(&self, number: &Number, body: &Value) -> Result<String, SendError> {
        let url = format!("{}/{}/messages", self.base, number.phone_number_id);
        let request = self
            .http
            .post(&url)
            .bearer_auth(&number.access_token)
            .json(body);
        let answer = graph_answer(request).await?;
        Ok(answer["messages"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// `GET /{phone-number-id}` with the number's token: Meta's answer to "may this token send
    /// from this number, and which number is it?". A wrong token, a number id the token's
    /// business does not own, or a typo all come back as Graph errors (190, 100).
    pub async fn phone_number(&self, number: &Number) -> Result<Profile, SendError> {
        let url = format!("{}/{}", self.base, number.phone_number_id);
        let request = self
            .http
            .get(&url)
            .query(&[("fields", "display_phone_number,verified_name")])
            .bearer_auth(&number.access_token);
        let answer = graph_answer(request).await?;
        if answer["id"].as_str() != Some(number.phone_number_id.as_str()) {
            return Err(SendError {
                code: None,
                message: format!(
                    "Meta answered for another object than phone number id {}",
                    number.phone_number_id
                ),
                transient: false,
            });
        }
        Ok(serde_json::from_value(answer).unwrap_or_default())
    }

    /// `POST /{phone-number-id}/media` (multipart: `messaging_product`, `type`, `file`): a file
    /// to send from this number, answered with its media id.
    pub async fn upload_media(
        &self,
        number: &Number,
        mime_type: &str,
        filename: &str,
        content: Vec<u8>,
    ) -> Result<String, SendError> {
        let file = reqwest::multipart::Part::bytes(content)
            .file_name(filename.to_owned())
            .mime_str(mime_type)
            .map_err(|e| SendError {
                code: None,
                message: format!("the file's type {mime_type:?} was refused: {e}"),
                transient: false,
            })?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime_type.to_owned())
            .part("file", file);
        let request = self
            .http
            .post(format!("{}/{}/media", self.base, number.phone_number_id))
            .bearer_auth(&number.access_token)
            .timeout(UPLOAD_TIMEOUT)
            .multipart(form);
        graph_answer(request).await?["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SendError {
                code: None,
                message: "the media upload answered no id".to_owned(),
                transient: true,
            })
    }

    /// A file a customer sent: `GET /{media-id}` for its short-lived URL, then that URL, both
    /// with the number's token. Answers the file's type and bytes, checked against `sha256`
    /// (base64, as the webhook gave it) and cut off past [`MAX_MEDIA_BYTES`].
    pub async fn fetch_media(
        &self,
        number: &Number,
        media_id: &str,
        sha256: Option<&str>,
    ) -> Result<(String, Vec<u8>), SendError> {
        let failed = |message: String, transient: bool| SendError {
            code: None,
            message,
            transient,
        };
        let response = self
            .http
            .get(format!("{}/{media_id}", self.base))
            .bearer_auth(&number.access_token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let info: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(graph_error(status, &info));
        }
        let url = info["url"]
            .as_str()
            .ok_or_else(|| failed("the media answer has no url".to_owned(), false))?;
        // A number, or a number in a string, as some Graph versions send it.
        let size = info["file_size"]
            .as_u64()
            .or_else(|| info["file_size"].as_str().and_then(|s| s.parse().ok()));
        if size.is_some_and(|size| size > MAX_MEDIA_BYTES as u64) {
            return Err(failed(
                format!("the file is larger than {} MiB", MAX_MEDIA_BYTES >> 20),
                false,
            ));
        }
        let mime_type = info["mime_type"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut response = self
            .http
            .get(url)
            .bearer_auth(&number.access_token)
            .timeout(MEDIA_TIMEOUT)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            // The URL lasts five minutes: asking for a new one may help.
            return Err(failed(
                format!("the media download answered {status}"),
                status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 404,
            ));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if bytes.len() + chunk.len() > MAX_MEDIA_BYTES {
                return Err(failed(
                    format!("the file is larger than {} MiB", MAX_MEDIA_BYTES >> 20),
                    false,
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        let expected = sha256.or(info["sha256"].as_str()).and_then(digest_bytes);
        if let Some(expected) = expected {
            use sha2::Digest;
            if Sha256::digest(&bytes).as_slice() != expected.as_slice() {
                // Not a blip: WhatsApp would hand over the same bytes again.
                return Err(failed(
                    "the file does not match its SHA-256".to_owned(),
                    false,
                ));
            }
        }
        Ok((mime_type, bytes))
    }
}

/// A SHA-256 as WhatsApp writes it: base64 in webhooks, hex in some media answers.
fn digest_bytes(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = text.trim();
    let decoded = if text.len() == 64 {
        hex::decode(text).ok()
    } else {
        base64::engine::general_purpose::STANDARD.decode(text).ok()
    };
    decoded.filter(|bytes| bytes.len() == 32)
}

/// Sends a Graph API request: its JSON answer, or the error the Graph envelope (or the network)
/// gave.
async fn graph_answer(request: reqwest::RequestBuilder) -> Result<Value, SendError> {
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(graph_error(status, &answer));
    }
    Ok(answer)
}

/// Meta could not be reached (or did not answer in time): worth trying again.
fn unreachable(err: reqwest::Error) -> SendError {
    SendError {
        code: None,
        message: format!("WhatsApp API unreachable: {err}"),
        transient: true,
    }
}

/// A Graph API error answer as a [`SendError`]: transient for 5xx, 429 and Meta's "later"
/// codes.
fn graph_error(status: reqwest::StatusCode, answer: &Value) -> SendError {
    let code = answer["error"]["code"].as_i64();
    let details = answer["error"]["error_data"]["details"]
        .as_str()
        .or(answer["error"]["message"].as_str())
        .unwrap_or("no details")
        .to_owned();
    SendError {
        code,
        message: details,
        transient: status.is_server_error()
            || status.as_u16() == 429
            || code.is_some_and(transient_code),
    }
}

/// One thing a customer sent, as Baton records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub wamid: String,
    /// The business number it was sent to (`metadata.phone_number_id`), when given.
    pub to: Option<String>,
    /// `user_id` when present (2026 business-scoped ids), else `wa_id`.
    pub contact_key: String,
    /// The phone number, when WhatsApp gave one.
    pub phone: Option<String>,
    pub name: String,
    /// `text`, `image`, `location`, `interactive`, `button`, `reaction`, …
    pub kind: String,
    /// What the history shows; for text and button taps, what the bot reads.
    pub text: String,
    /// The file of an image, video, voice note, document or sticker, to fetch.
    pub media: Option<Media>,
    /// What a tapped button stands for: a template quick reply's `payload`, an interactive
    /// reply's `id` (ours, such as `accept:hnd_…`; the text shown is in `text`).
    pub reply_id: Option<String>,
}

/// A file WhatsApp holds for us, as an inbound message names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub id: String,
    pub mime_type: String,
    /// Base64 of the file's SHA-256.
    pub sha256: Option<String>,
    pub filename: Option<String>,
}

impl Media {
    fn of(kind: &str, message: &Value) -> Option<Media> {
        if !matches!(kind, "image" | "video" | "audio" | "document" | "sticker") {
            return None;
        }
        let file = &message[kind];
        let text = |key: &str| file[key].as_str().map(|v| v.replace('\0', ""));
        Some(Media {
            id: text("id").filter(|id| !id.is_empty())?,
            mime_type: text("mime_type").unwrap_or_else(|| "application/octet-stream".to_owned()),
            sha256: text("sha256"),
            filename: text("filename"),
        })
    }
}

/// A status of one of our messages.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub wamid: String,
    pub status: String,
    pub error: Option<String>,
    /// The error's code, to act on (131047: the recipient's window had closed).
    pub code: Option<i64>,
}

/// Everything in one webhook body: every entry, change, message and status. A message without
/// an id is skipped: it could not be told from its redeliveries.
pub fn parse(body: &Value) -> (Vec<Inbound>, Vec<StatusUpdate>) {
    let mut inbound = Vec::new();
    let mut statuses = Vec::new();
    let changes = body["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["changes"].as_array().into_iter().flatten());
    for change in changes {
        if change["field"] != "messages" {
            continue;
        }
        let value = &change["value"];
        let to = value["metadata"]["phone_number_id"]
            .as_str()
            .map(str::to_owned);
        let contacts = value["contacts"].as_array().cloned().unwrap_or_default();
        for message in value["messages"].as_array().into_iter().flatten() {
            let from = message["from"].as_str();
            let from_user = message["from_user_id"].as_str();
            let contact = contacts
                .iter()
                .find(|c| {
                    (from.is_some() && c["wa_id"].as_str() == from)
                        || (from_user.is_some() && c["user_id"].as_str() == from_user)
                })
                .or(contacts.first());
            let user_id = from_user.or(contact.and_then(|c| c["user_id"].as_str()));
            let wa_id = from.or(contact.and_then(|c| c["wa_id"].as_str()));
            let (Some(key), Some(wamid)) = (user_id.or(wa_id), message["id"].as_str()) else {
                continue;
            };
            let name = contact
                .and_then(|c| {
                    c["profile"]["name"]
                        .as_str()
                        .or(c["profile"]["username"].as_str())
                })
                .or(wa_id)
                .unwrap_or(UNNAMED_CUSTOMER);
            let kind = message["type"].as_str().unwrap_or("unknown").to_owned();
            inbound.push(Inbound {
                wamid: wamid.to_owned(),
                to: to.clone(),
                contact_key: key.to_owned(),
                phone: wa_id.map(|w| format!("+{w}")),
                // PostgreSQL's text cannot hold NUL; what a phone sends is stored without it.
                name: name.replace('\0', ""),
                text: describe(&kind, message).replace('\0', ""),
                media: Media::of(&kind, message),
                reply_id: reply_id(&kind, message),
                kind,
            });
        }
        for status in value["statuses"].as_array().into_iter().flatten() {
            let first_error = status["errors"].as_array().and_then(|e| e.first());
            let error = first_error.map(|e| {
                let code = e["code"]
                    .as_i64()
                    .map(|c| format!("({c}) "))
                    .unwrap_or_default();
                let text = e["error_data"]["details"]
                    .as_str()
                    .or(e["message"].as_str())
                    .or(e["title"].as_str())
                    .unwrap_or("failed");
                format!("{code}{text}")
            });
            statuses.push(StatusUpdate {
                wamid: status["id"].as_str().unwrap_or_default().to_owned(),
                status: status["status"].as_str().unwrap_or_default().to_owned(),
                error,
                code: first_error.and_then(|e| e["code"].as_i64()),
            });
        }
    }
    (inbound, statuses)
}

/// The id behind a tapped button, if the message is a tap.
fn reply_id(kind: &str, m: &Value) -> Option<String> {
    let id = match kind {
        "button" => &m["button"]["payload"],
        "interactive" => {
            let reply = &m["interactive"];
            if reply["type"] == "list_reply" {
                &reply["list_reply"]["id"]
            } else {
                &reply["button_reply"]["id"]
            }
        }
        _ => return None,
    };
    id.as_str().filter(|id| !id.is_empty()).map(str::to_owned)
}

/// The readable form of a message of any type.
fn describe(kind: &str, m: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match kind {
        "text" => s(&m["text"]["body"]),
        "interactive" => {
            let reply = &m["interactive"];
            let picked = if reply["type"] == "list_reply" {
                &reply["list_reply"]
            } else {
                &reply["button_reply"]
            };
            s(&picked["title"])
        }
        "button" => s(&m["button"]["text"]),
        "image" | "video" | "audio" | "document" | "sticker" => {
            let caption = s(&m[kind]["caption"]);
            let file = s(&m[kind]["filename"]);
            let detail = [caption, file]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            if detail.is_empty() {
                format!("[{kind}]")
            } else {
                format!("[{kind}] {detail}")
            }
        }
        "location" => {
            let l = &m["location"];
            let place = [s(&l["name"]), s(&l["address"])]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "[location] {}{}, {}",
                if place.is_empty() {
                    String::new()
                } else {
                    format!("{place} · ")
                },
                l["latitude"],
                l["longitude"]
            )
        }
        "reaction" => format!("[reaction {}]", s(&m["reaction"]["emoji"])),
        "contacts" => "[shared contact]".to_owned(),
        "order" => "[order]".to_owned(),
        _ => "[a message WhatsApp could not show]".to_owned(),
    }
}

/// Message kinds whose text the bot can read and answer.
pub fn bot_readable(kind: &str) -> bool {
    matches!(kind, "text" | "interactive" | "button")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tapped_button_carries_its_payload_or_reply_id() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/whatsapp-fixtures/pywa_callback_button.json"
        );
        let fixtures: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        for case in ["button", "quick_reply", "quick_reply_without_context"] {
            let (inbound, _) = parse(&fixtures[case]);
            assert_eq!(
                inbound[0].reply_id.as_deref(),
                Some("callback_data"),
                "{case}"
            );
            assert_eq!(inbound[0].text, "title", "{case}");
        }
        let text = json!({"entry": [{"changes": [{"field": "messages", "value": {
            "contacts": [{"wa_id": "15550001111"}],
            "messages": [{"from": "15550001111", "id": "wamid.t", "type": "text",
                          "text": {"body": "accept:hnd_1"}}]}}]}]});
        assert_eq!(parse(&text).0[0].reply_id, None, "typed text is not a tap");
    }

    #[test]
    fn a_files_hash_is_read_in_base64_or_hex() {
        // The image fixture's hash, and the same 32 bytes in hex.
        let base64 = digest_bytes("SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=").unwrap();
        let hex = hex::encode(&base64);
        assert_eq!(digest_bytes(&hex), Some(base64.clone()));
        assert_eq!(digest_bytes(&hex.to_uppercase()), Some(base64));
        assert_eq!(digest_bytes("not a hash"), None);
        assert_eq!(digest_bytes("c2hvcnQ="), None);
    }

    #[test]
    fn signatures_check_the_exact_bytes() {
        let body = br#"{"a":1}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signature_ok("secret", body, &good));
        assert!(!signature_ok("other", body, &good));
        assert!(!signature_ok("secret", br#"{"a":2}"#, &good));
        assert!(!signature_ok("secret", body, "sha1=abc"));
    }

    #[test]
    fn the_unicode_test_vector_holds_over_the_escaped_body() {
        // whatsapp-api-js test vector: Meta signs the \uXXXX-escaped form.
        let raw = "Let's pretend this body is equal to the message object and can handle unicode characters like みどりいろ and J'ai mangé des pâtes";
        let escaped: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    format!("\\u{:04x}", c as u32)
                }
            })
            .collect();
        let header = "sha256=0363007aabdf1ab579f35936651a460fb5fa1aaf40df98b1264446b72cc96688";
        assert!(signature_ok("YOUR_APP_SECRET", escaped.as_bytes(), header));
        assert!(!signature_ok("YOUR_APP_SECRET", raw.as_bytes(), header));
    }

    #[test]
    fn messages_say_which_number_they_were_sent_to_and_need_an_id() {
        let change = |number: &str, id: Value| {
            json!({"field": "messages", "value": {
                "metadata": {"phone_number_id": number},
                "contacts": [{"profile": {"name": "Ana"}, "wa_id": "4915112345678"}],
                "messages": [{"from": "4915112345678", "id": id, "type": "text",
                              "text": {"body": "hi"}}],
            }})
        };
        let body = json!({"entry": [{"changes": [
            change("111", json!("wamid.A")),
            change("222", json!("wamid.B")),
            change("111", Value::Null),
        ]}]});
        let (inbound, _) = parse(&body);
        let seen: Vec<(&str, Option<&str>)> = inbound
            .iter()
            .map(|m| (m.wamid.as_str(), m.to.as_deref()))
            .collect();
        assert_eq!(seen, [("wamid.A", Some("111")), ("wamid.B", Some("222"))]);
    }

    #[test]
    fn template_bodies_carry_parameters() {
        let body = template_body(
            &Recipient::Phone("+4915112345678".into()),
            "new_handoff",
            "en_US",
            &["Ana".into()],
            &["accept:hnd_1".into(), "decline:hnd_1".into()],
        );
        assert_eq!(body["template"]["components"][1]["sub_type"], "quick_reply");
        assert_eq!(body["template"]["components"][2]["index"], 1);
        assert_eq!(
            body["template"]["components"][2]["parameters"][0]["payload"],
            "decline:hnd_1"
        );
        assert_eq!(body["to"], "4915112345678");
        assert_eq!(
            body["template"]["components"][0]["parameters"][0]["text"],
            "Ana"
        );
        let body = text_body(&Recipient::User("US.123".into()), "hi");
        assert_eq!(body["recipient"], "US.123");
        assert!(body.get("to").is_none());
    }
}
