//! A local stand-in for an OpenAI-compatible chat-completions server. It speaks the real
//! protocol — bearer key, `model`, `messages`, `tools` with JSON-schema parameters, tool calls
//! whose `arguments` are a JSON *string*, `finish_reason: "tool_calls"` — checks that every
//! request keeps it, records every request, and answers from a script the test sets. A request
//! with `"stream": true` is answered as OpenAI streams: server-sent `chat.completion.chunk`
//! events whose deltas carry the text in pieces and each tool call's arguments in fragments,
//! ending with `data: [DONE]`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;
use serde_json::{Value, json};

pub const API_KEY: &str = "sk-test-baton";

/// One answer of the fake, in the order the test scripts them.
pub enum Step {
    /// A final text answer.
    Answer(&'static str),
    /// A final text answer, after this many milliseconds (a slow model).
    Slow(u64, &'static str),
    /// Tool calls, each a name and its arguments (sent as a JSON string, as the API does).
    Call(Vec<(&'static str, Value)>),
    /// A tool call whose `arguments` string is sent as given, valid JSON or not.
    CallRaw(&'static str, &'static str),
    /// A text answer in these pieces, each sent this many milliseconds after the last (all at
    /// once, after the whole wait, when the request does not stream).
    Pieces(u64, Vec<&'static str>),
    /// A stream that stops after this text, with no `finish_reason` and no `[DONE]` (a body
    /// cut off midway when the request does not stream).
    Cut(&'static str),
    /// A stream that sends this text, then nothing more while keeping the connection open (a
    /// body that stops after half its bytes when the request does not stream).
    Stall(&'static str),
    /// Never answers: longer than any timeout the tests set.
    Hang,
    /// An HTTP error with an OpenAI-style error body.
    Fail(u16),
}

impl Step {
    pub fn call(name: &'static str, arguments: Value) -> Step {
        Step::Call(vec![(name, arguments)])
    }
}

#[derive(Default)]
struct Shared {
    /// The bearer key every request must carry; `None`: requests must carry none.
    key: Option<String>,
    script: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<Value>>,
    /// Requests that broke the protocol, or came when the script had nothing left.
    violations: Mutex<Vec<String>>,
}

pub struct FakeOpenAi {
    /// The base URL to give Baton, with the `/v1` prefix real servers use.
    pub base_url: String,
    shared: Arc<Shared>,
}

impl FakeOpenAi {
    /// Starts the fake on 127.0.0.1:0 in the test's runtime.
    pub async fn start(script: Vec<Step>) -> FakeOpenAi {
        FakeOpenAi::start_with_key(Some(API_KEY), script).await
    }

    /// A fake that wants this bearer key, or (with `None`) no `Authorization` header at all.
    pub async fn start_with_key(key: Option<&str>, script: Vec<Step>) -> FakeOpenAi {
        let shared = Arc::new(Shared {
            key: key.map(str::to_owned),
            ..Shared::default()
        });
        shared.script.lock().unwrap().extend(script);
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeOpenAi {
            base_url: format!("http://{addr}/v1"),
            shared,
        }
    }

    /// Every request received so far; fails the test if any broke the protocol.
    pub fn requests(&self) -> Vec<Value> {
        let violations = self.shared.violations.lock().unwrap().clone();
        assert!(
            violations.is_empty(),
            "protocol violations: {violations:#?}"
        );
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    shared.requests.lock().unwrap().push(body.clone());
    let sent = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let wanted = shared.key.as_ref().map(|key| format!("Bearer {key}"));
    if sent != wanted {
        return violation(
            &shared,
            StatusCode::UNAUTHORIZED,
            &format!("wrong Authorization: {sent:?}"),
        );
    }
    if let Err(why) = check_request(&body) {
        return violation(&shared, StatusCode::BAD_REQUEST, &why);
    }
    let step = shared.script.lock().unwrap().pop_front();
    let model = body["model"].clone();
    let reply = Reply {
        model,
        stream: body["stream"] == true,
    };
    match step {
        None => violation(
            &shared,
            StatusCode::INTERNAL_SERVER_ERROR,
            "a request came after the script ended",
        ),
        Some(Step::Answer(text)) => reply.text(vec![text], 0).await,
        Some(Step::Slow(ms, text)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            reply.text(vec![text], 0).await
        }
        Some(Step::Pieces(ms, pieces)) => reply.text(pieces, ms).await,
        Some(Step::Cut(text)) => reply.cut(text),
        Some(Step::Stall(text)) => reply.stall(text),
        Some(Step::Call(calls)) => {
            let calls = calls
                .into_iter()
                .map(|(name, arguments)| (name, arguments.to_string()))
                .collect();
            reply.tool_calls(calls)
        }
        Some(Step::CallRaw(name, arguments)) => {
            reply.tool_calls(vec![(name, arguments.to_owned())])
        }
        Some(Step::Hang) => std::future::pending::<Response>().await,
        Some(Step::Fail(status)) => {
            let status = StatusCode::from_u16(status).unwrap();
            error(status, "scripted failure")
        }
    }
}

/// How one request is answered: whole, or streamed.
struct Reply {
    model: Value,
    stream: bool,
}

impl Reply {
    /// A text answer; streamed piece by piece with `pause_ms` between pieces.
    async fn text(&self, pieces: Vec<&str>, pause_ms: u64) -> Response {
        if !self.stream {
            let wait = pause_ms * pieces.len() as u64;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            return completion(&self.model, answer(&pieces.concat()), "stop");
        }
        let mut chunks = vec![(
            0,
            self.chunk(json!({"role": "assistant", "content": ""}), None),
        )];
        for piece in pieces {
            chunks.push((pause_ms, self.chunk(json!({"content": piece}), None)));
        }
        chunks.push((0, self.chunk(json!({}), Some("stop"))));
        chunks.push((0, "[DONE]".to_owned()));
        sse(chunks)
    }

    /// Text that stops short of its end.
    fn cut(&self, text: &str) -> Response {
        if !self.stream {
            let whole = completion_body(&self.model, answer(text), "stop").to_string();
            let half = whole[..whole.len() / 2].to_owned();
            return ([("content-type", "application/json")], half).into_response();
        }
        sse(vec![
            (
                0,
                self.chunk(json!({"role": "assistant", "content": ""}), None),
            ),
            (0, self.chunk(json!({"content": text}), None)),
        ])
    }

    /// Text, then silence with the connection held open.
    fn stall(&self, text: &str) -> Response {
        let head = if self.stream {
            let start = self.chunk(json!({"role": "assistant", "content": ""}), None);
            let piece = self.chunk(json!({"content": text}), None);
            format!("data: {start}\n\ndata: {piece}\n\n")
        } else {
            let whole = completion_body(&self.model, answer(text), "stop").to_string();
            whole[..whole.len() / 2].to_owned()
        };
        let content_type = if self.stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let body = futures_util::stream::once(async move { Ok::<_, Infallible>(head) })
            .chain(futures_util::stream::pending());
        (
            [("content-type", content_type)],
            axum::body::Body::from_stream(body),
        )
            .into_response()
    }

    /// Tool calls; streamed as OpenAI does: the call's id and name first with empty arguments,
    /// then the arguments string in two fragments.
    fn tool_calls(&self, calls: Vec<(&str, String)>) -> Response {
        let calls: Vec<(String, &str, String)> = calls
            .into_iter()
            .map(|(name, arguments)| {
                let id = format!("call_{}", uuid::Uuid::new_v4().simple());
                (id, name, arguments)
            })
            .collect();
        if !self.stream {
            let calls: Vec<Value> = calls
                .into_iter()
                .map(|(id, name, arguments)| {
                    json!({
                        "id": id,
                        "type": "function",
                        "function": {"name": name, "arguments": arguments},
                    })
                })
                .collect();
            let message = json!({"role": "assistant", "content": null, "tool_calls": calls});
            return completion(&self.model, message, "tool_calls");
        }
        let mut chunks = vec![(
            0,
            self.chunk(json!({"role": "assistant", "content": null}), None),
        )];
        for (index, (id, name, arguments)) in calls.into_iter().enumerate() {
            let start = json!({"index": index, "id": id, "type": "function",
                               "function": {"name": name, "arguments": ""}});
            chunks.push((0, self.chunk(json!({"tool_calls": [start]}), None)));
            let middle = arguments.char_indices().nth(arguments.chars().count() / 2);
            let (head, tail) = arguments.split_at(middle.map_or(0, |(at, _)| at));
            for fragment in [head, tail] {
                let piece = json!({"index": index, "function": {"arguments": fragment}});
                chunks.push((0, self.chunk(json!({"tool_calls": [piece]}), None)));
            }
        }
        chunks.push((0, self.chunk(json!({}), Some("tool_calls"))));
        chunks.push((0, "[DONE]".to_owned()));
        sse(chunks)
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> String {
        json!({
            "id": "chatcmpl-stream",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        })
        .to_string()
    }
}

fn answer(text: &str) -> Value {
    json!({"role": "assistant", "content": text})
}

/// A `text/event-stream` body: each chunk as a `data:` event, after its pause.
fn sse(chunks: Vec<(u64, String)>) -> Response {
    let events = futures_util::stream::iter(chunks).then(|(pause_ms, data)| async move {
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        Ok::<_, Infallible>(Event::default().data(data))
    });
    Sse::new(events).into_response()
}

fn completion(model: &Value, message: Value, finish_reason: &str) -> Response {
    Json(completion_body(model, message, finish_reason)).into_response()
}

fn completion_body(model: &Value, message: Value, finish_reason: &str) -> Value {
    json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    })
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "server_error", "code": null}});
    (status, Json(body)).into_response()
}

fn violation(shared: &Shared, status: StatusCode, why: &str) -> Response {
    shared.violations.lock().unwrap().push(why.to_owned());
    error(status, why)
}

/// What a real server would reject: a missing model, malformed messages, a tool result that
/// answers no call, or tools without proper JSON-schema parameters.
fn check_request(body: &Value) -> Result<(), String> {
    if body["model"].as_str().is_none_or(str::is_empty) {
        return Err("`model` is missing".into());
    }
    if !body["stream"].is_null() && !body["stream"].is_boolean() {
        return Err("`stream` is not a boolean".into());
    }
    let messages = body["messages"]
        .as_array()
        .filter(|m| !m.is_empty())
        .ok_or("`messages` is missing or empty")?;
    let mut call_ids: Vec<&str> = Vec::new();
    for message in messages {
        match message["role"].as_str() {
            Some("system" | "user") if message["content"].is_string() => {}
            Some("assistant") => {
                for call in message["tool_calls"].as_array().into_iter().flatten() {
                    let arguments_are_json = call["function"]["arguments"]
                        .as_str()
                        .is_some_and(|a| serde_json::from_str::<Value>(a).is_ok());
                    if call["type"] != "function" || !arguments_are_json {
                        return Err(format!("bad assistant tool call {call}"));
                    }
                    call_ids.extend(call["id"].as_str());
                }
                if !message["content"].is_string() && message["tool_calls"].is_null() {
                    return Err(format!("assistant message without content {message}"));
                }
            }
            Some("tool") => {
                let id = message["tool_call_id"].as_str().unwrap_or_default();
                if !call_ids.contains(&id) || !message["content"].is_string() {
                    return Err(format!("tool message answers no earlier call: {message}"));
                }
            }
            _ => return Err(format!("bad message {message}")),
        }
    }
    for tool in body["tools"].as_array().ok_or("`tools` is missing")? {
        check_tool(tool)?;
    }
    Ok(())
}

fn check_tool(tool: &Value) -> Result<(), String> {
    let function = &tool["function"];
    let parameters = &function["parameters"];
    let wanted: &[&str] = match function["name"].as_str() {
        Some("search_knowledge_base") => &["query"],
        Some("request_handoff") => &["reason", "summary"],
        _ => return Err(format!("unexpected tool {tool}")),
    };
    let well_formed = tool["type"] == "function"
        && function["description"].is_string()
        && parameters["type"] == "object";
    if !well_formed {
        return Err(format!("malformed tool {tool}"));
    }
    for name in wanted {
        let required = parameters["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|v| v == name));
        if parameters["properties"][name]["type"] != "string" || !required {
            return Err(format!(
                "tool parameter {name} is not a required string: {tool}"
            ));
        }
    }
    Ok(())
}
