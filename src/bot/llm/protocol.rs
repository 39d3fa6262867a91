//! The chat-completions wire format as Baton speaks it: the `tools` schemas it offers, the
//! assistant message it echoes back, and the reading of a response into an answer or tool
//! calls whose arguments are already checked — so the responder never handles raw JSON.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::handoff::Reason;

/// The tool names are part of the prompt's rules too: renaming one means rewording them.
pub const SEARCH_TOOL: &str = "search_knowledge_base";
pub const HANDOFF_TOOL: &str = "request_handoff";

/// What the model did with its turn.
#[derive(Debug)]
pub enum ModelTurn {
    Answer(String),
    ToolCalls {
        /// Text some models send alongside tool calls; echoed back with them.
        content: Option<String>,
        calls: Vec<ToolCall>,
    },
}

#[derive(Debug)]
pub struct ToolCall {
    /// Each tool result names the call it answers by this id.
    pub id: String,
    pub name: String,
    /// The arguments as a JSON string, as the protocol wants them echoed back.
    pub arguments: String,
    pub request: ToolRequest,
}

/// A tool call with its arguments parsed and checked.
#[derive(Debug, PartialEq)]
pub enum ToolRequest {
    Search { query: String },
    Handoff { reason: Reason, summary: String },
}

/// The `tools` array: JSON-schema descriptions of what the model may call.
pub fn tool_schemas(handoff_enabled: bool) -> Value {
    let mut tools = vec![json!({
        "type": "function",
        "function": {
            "name": SEARCH_TOOL,
            "description": "Search the business's knowledge base (its help articles). Returns \
                            the best passages, each with a relevance from 0 (unrelated) to 1 \
                            and whether it is relevant enough to answer from.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {
                        "type": "string",
                        "description": "What to look for: the customer's question or its \
                                        key words."
                    }
                },
                "required": ["query"],
                "additionalProperties": false
            }
        }
    })];
    if handoff_enabled {
        tools.push(json!({
            "type": "function",
            "function": {
                "name": HANDOFF_TOOL,
                "description": "Pass the conversation to the human support team. Use it when \
                                the customer asks for a person, or when the knowledge base \
                                has nothing relevant to their question.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "reason": {
                            "type": "string",
                            "enum": ["customer_request", "kb_miss"],
                            "description": "customer_request: the customer asked for a \
                                            person. kb_miss: the knowledge base has no answer."
                        },
                        "summary": {
                            "type": "string",
                            "description": "For the agent: what the customer wants, what you \
                                            searched for and found, and why you hand off."
                        }
                    },
                    "required": ["reason", "summary"],
                    "additionalProperties": false
                }
            }
        }));
    }
    Value::Array(tools)
}

/// The assistant message that carried tool calls, echoed back before their results.
pub fn assistant_message(content: Option<&str>, calls: &[ToolCall]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|call| {
            json!({
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            })
        })
        .collect();
    json!({"role": "assistant", "content": content, "tool_calls": calls})
}

/// The response body of a chat completion, as far as Baton reads it.
#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: AssistantMessage,
}

#[derive(Deserialize)]
struct AssistantMessage {
    content: Option<String>,
    tool_calls: Option<Vec<RawToolCall>>,
}

#[derive(Deserialize)]
struct RawToolCall {
    /// Some local servers leave it out; a unique one is made up then, since each tool result
    /// must name the call it answers.
    id: Option<String>,
    function: RawFunction,
}

#[derive(Deserialize)]
struct RawFunction {
    name: String,
    /// A JSON string per the protocol; some servers send the object itself.
    arguments: Value,
}

/// Reads a chat-completions response into an answer or checked tool calls.
pub fn parse_completion(body: &str) -> Result<ModelTurn, String> {
    let completion: Completion = serde_json::from_str(body)
        .map_err(|e| format!("unreadable response from the model: {e}"))?;
    let message = completion
        .choices
        .into_iter()
        .next()
        .ok_or("the model's response has no choices")?
        .message;
    read_message(message)
}

/// The assistant message, whole or assembled from a stream, as an answer or checked tool calls.
fn read_message(message: AssistantMessage) -> Result<ModelTurn, String> {
    let content = message.content.filter(|c| !c.trim().is_empty());
    let raw_calls = message.tool_calls.unwrap_or_default();
    if raw_calls.is_empty() {
        return content
            .map(|text| ModelTurn::Answer(text.trim().to_owned()))
            .ok_or_else(|| "the model answered with nothing".to_owned());
    }
    let calls = raw_calls
        .into_iter()
        .map(parse_call)
        .collect::<Result<_, _>>()?;
    Ok(ModelTurn::ToolCalls { content, calls })
}

fn parse_call(raw: RawToolCall) -> Result<ToolCall, String> {
    let name = raw.function.name;
    let malformed = |why: String| format!("malformed arguments for {name}: {why}");
    let arguments = match raw.function.arguments {
        Value::String(text) => text,
        object @ Value::Object(_) => object.to_string(),
        other => return Err(malformed(format!("expected a JSON string, got {other}"))),
    };
    let request = match name.as_str() {
        SEARCH_TOOL => {
            #[derive(Deserialize)]
            struct Args {
                query: String,
            }
            let args: Args =
                serde_json::from_str(&arguments).map_err(|e| malformed(e.to_string()))?;
            let query = args.query.trim().to_owned();
            if query.is_empty() {
                return Err(malformed("the query is empty".to_owned()));
            }
            ToolRequest::Search { query }
        }
        HANDOFF_TOOL => {
            #[derive(Deserialize)]
            struct Args {
                reason: String,
                summary: String,
            }
            let args: Args =
                serde_json::from_str(&arguments).map_err(|e| malformed(e.to_string()))?;
            ToolRequest::Handoff {
                reason: parse_reason(&args.reason),
                summary: args.summary.trim().to_owned(),
            }
        }
        other => return Err(format!("the model called an unknown tool {other:?}")),
    };
    Ok(ToolCall {
        id: raw
            .id
            .unwrap_or_else(|| format!("call_{}", uuid::Uuid::new_v4().simple())),
        name,
        arguments,
        request,
    })
}

/// A streamed chat completion (`"stream": true`), assembled chunk by chunk from its
/// server-sent events: the answer's text grows with each `delta.content`, and each tool call's
/// name and JSON arguments arrive in pieces under the call's `index`.
#[derive(Default)]
pub struct StreamedTurn {
    content: String,
    calls: Vec<PartialCall>,
    /// A chunk named a `finish_reason` (or the `[DONE]` line came): the turn is complete.
    finished: bool,
}

#[derive(Default)]
struct PartialCall {
    index: u64,
    id: Option<String>,
    name: String,
    arguments: String,
}

/// One `data:` line of a stream.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    /// Some servers report a failure inside the stream, after the 200 status.
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
    tool_calls: Option<Vec<CallDelta>>,
}

#[derive(Deserialize)]
struct CallDelta {
    /// Which call this piece belongs to; a few servers leave it out and send each call whole.
    index: Option<u64>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

/// The line that ends an OpenAI stream.
pub const STREAM_DONE: &str = "[DONE]";

impl StreamedTurn {
    /// Takes one event's data. Returns whether it added to the answer's text.
    pub fn push(&mut self, data: &str) -> Result<bool, String> {
        if data.trim() == STREAM_DONE {
            self.finished = true;
            return Ok(false);
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|e| format!("unreadable chunk in the model's stream: {e}"))?;
        if let Some(error) = chunk.error {
            return Err(format!("the model's stream failed: {}", error_text(&error)));
        }
        let mut grew = false;
        // Only the first choice is read, as for a whole completion; a final usage chunk has none.
        for choice in chunk.choices.into_iter().take(1) {
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                self.content.push_str(&text);
                grew = true;
            }
            for delta in choice.delta.tool_calls.into_iter().flatten() {
                self.add_call_piece(delta);
            }
            self.finished |= choice.finish_reason.is_some();
        }
        Ok(grew)
    }

    fn add_call_piece(&mut self, delta: CallDelta) {
        let index = delta.index.unwrap_or_else(|| {
            // Without an index, a piece with a new id starts a new call.
            match (&delta.id, self.calls.last()) {
                (Some(id), Some(last)) if last.id.as_ref() != Some(id) => last.index + 1,
                (_, Some(last)) => last.index,
                (_, None) => 0,
            }
        });
        let position = match self.calls.iter().position(|call| call.index == index) {
            Some(position) => position,
            None => {
                self.calls.push(PartialCall {
                    index,
                    ..PartialCall::default()
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[position];
        if delta.id.is_some() {
            call.id = delta.id;
        }
        if let Some(function) = delta.function {
            call.name
                .push_str(function.name.as_deref().unwrap_or_default());
            call.arguments
                .push_str(function.arguments.as_deref().unwrap_or_default());
        }
    }

    /// The answer's text so far.
    pub fn text(&self) -> &str {
        &self.content
    }

    /// Whether the model has begun calling tools, so its text is not (yet) the answer.
    pub fn calls_tools(&self) -> bool {
        !self.calls.is_empty()
    }

    /// The whole turn, once the stream has ended; a stream cut off before its end is an error
    /// (a retry may pass), never half an answer.
    pub fn finish(self) -> Result<ModelTurn, String> {
        if !self.finished {
            return Err("the model's stream ended before the answer did".to_owned());
        }
        let mut calls = self.calls;
        calls.sort_by_key(|call| call.index);
        read_message(AssistantMessage {
            content: Some(self.content),
            tool_calls: Some(
                calls
                    .into_iter()
                    .map(|call| RawToolCall {
                        id: call.id,
                        function: RawFunction {
                            name: call.name,
                            arguments: Value::String(call.arguments),
                        },
                    })
                    .collect(),
            ),
        })
    }
}

/// An OpenAI-style error object's message, or the object itself.
fn error_text(error: &Value) -> String {
    match error["message"].as_str() {
        Some(message) => message.to_owned(),
        None => error.to_string(),
    }
}

/// The two reasons the schema offers, and a sensible reading of anything else a model
/// writes: a mention of a person means the customer asked for one; otherwise the bot had no
/// answer, which is what a handoff without a customer request means.
fn parse_reason(raw: &str) -> Reason {
    let text = raw.trim().to_lowercase().replace([' ', '-'], "_");
    match text.as_str() {
        "customer_request" => Reason::CustomerRequest,
        "kb_miss" => Reason::KbMiss,
        _ if ["customer", "person", "human", "agent", "request"]
            .iter()
            .any(|word| text.contains(word)) =>
        {
            Reason::CustomerRequest
        }
        _ => Reason::KbMiss,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_are_read_with_arguments_as_a_string_or_an_object() {
        let body = json!({"choices": [{"finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {
                "name": "search_knowledge_base", "arguments": "{\"query\": \"refunds\"}"}},
            {"type": "function", "function": {
                "name": "request_handoff",
                "arguments": {"reason": "kb_miss", "summary": " Wants a refund. "}}}
        ]}}]});
        let ModelTurn::ToolCalls { content, calls } = parse_completion(&body.to_string()).unwrap()
        else {
            panic!("expected tool calls");
        };
        assert_eq!(content, None);
        assert_eq!(calls[0].id, "call_1");
        assert_eq!(
            calls[0].request,
            ToolRequest::Search {
                query: "refunds".into()
            }
        );
        assert!(calls[1].id.starts_with("call_") && calls[1].id != "call_1");
        assert_eq!(
            calls[1].request,
            ToolRequest::Handoff {
                reason: Reason::KbMiss,
                summary: "Wants a refund.".into()
            }
        );
    }

    #[test]
    fn malformed_arguments_unknown_tools_and_empty_answers_are_errors() {
        for (name, arguments) in [
            ("search_knowledge_base", json!("{\"query\": ")),
            ("search_knowledge_base", json!("{\"q\": \"x\"}")),
            ("search_knowledge_base", json!("{\"query\": \"  \"}")),
            ("request_handoff", json!("{\"reason\": \"kb_miss\"}")),
            ("search_knowledge_base", json!(42)),
            ("delete_everything", json!("{}")),
        ] {
            let body = json!({"choices": [{"message": {"tool_calls": [
                {"id": "c", "type": "function", "function": {"name": name, "arguments": arguments}}
            ]}}]});
            assert!(
                parse_completion(&body.to_string()).is_err(),
                "{name} {arguments}"
            );
        }
        let empty = json!({"choices": [{"message": {"content": "  "}}]});
        assert!(parse_completion(&empty.to_string()).is_err());
        assert!(parse_completion("<html>Bad gateway</html>").is_err());
    }

    #[test]
    fn a_plain_answer_is_trimmed() {
        let body = json!({"choices": [{"message": {"content": " Hello! \n"}}]});
        assert!(matches!(
            parse_completion(&body.to_string()).unwrap(),
            ModelTurn::Answer(text) if text == "Hello!"
        ));
    }

    fn chunk(delta: Value, finish_reason: Option<&str>) -> String {
        json!({"object": "chat.completion.chunk",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})
        .to_string()
    }

    #[test]
    fn a_streamed_answer_grows_piece_by_piece_and_counts_once_finished() {
        let mut turn = StreamedTurn::default();
        assert!(
            !turn
                .push(&chunk(json!({"role": "assistant", "content": ""}), None))
                .unwrap()
        );
        assert!(
            turn.push(&chunk(json!({"content": "Standard delivery "}), None))
                .unwrap()
        );
        assert!(
            turn.push(&chunk(json!({"content": "takes 3 days. "}), None))
                .unwrap()
        );
        assert_eq!(turn.text(), "Standard delivery takes 3 days. ");
        assert!(!turn.calls_tools());
        assert!(!turn.push(&chunk(json!({}), Some("stop"))).unwrap());
        // A usage chunk has no choices; the end line closes the stream.
        assert!(
            !turn
                .push(r#"{"choices": [], "usage": {"total_tokens": 9}}"#)
                .unwrap()
        );
        assert!(!turn.push(STREAM_DONE).unwrap());
        assert!(matches!(
            turn.finish().unwrap(),
            ModelTurn::Answer(text) if text == "Standard delivery takes 3 days."
        ));
    }

    #[test]
    fn streamed_tool_calls_are_assembled_from_their_fragments() {
        let mut turn = StreamedTurn::default();
        let pieces = [
            json!([{"index": 0, "id": "call_a", "type": "function",
                    "function": {"name": "search_knowledge_base", "arguments": ""}}]),
            json!([{"index": 0, "function": {"arguments": "{\"query\": \"ref"}}]),
            json!([{"index": 1, "id": "call_b", "type": "function",
                    "function": {"name": "request_handoff", "arguments": "{\"reason\":"}}]),
            json!([{"index": 0, "function": {"arguments": "unds\"}"}}]),
            json!([{"index": 1, "function": {"arguments": " \"kb_miss\", \"summary\": \"x\"}"}}]),
        ];
        for piece in pieces {
            assert!(
                !turn
                    .push(&chunk(json!({"tool_calls": piece}), None))
                    .unwrap()
            );
        }
        assert!(turn.calls_tools());
        turn.push(&chunk(json!({}), Some("tool_calls"))).unwrap();
        let ModelTurn::ToolCalls { content, calls } = turn.finish().unwrap() else {
            panic!("expected tool calls");
        };
        assert_eq!(content, None);
        assert_eq!(calls[0].id, "call_a");
        assert_eq!(calls[0].arguments, "{\"query\": \"refunds\"}");
        assert_eq!(
            calls[0].request,
            ToolRequest::Search {
                query: "refunds".into()
            }
        );
        assert_eq!(calls[1].id, "call_b");
        assert!(matches!(
            calls[1].request,
            ToolRequest::Handoff {
                reason: Reason::KbMiss,
                ..
            }
        ));
    }

    #[test]
    fn whole_calls_without_an_index_are_told_apart_by_their_ids() {
        let mut turn = StreamedTurn::default();
        for (id, query) in [("c1", "refunds"), ("c2", "delivery")] {
            let call = json!([{"id": id, "type": "function", "function": {
                "name": "search_knowledge_base",
                "arguments": json!({"query": query}).to_string()}}]);
            turn.push(&chunk(json!({"tool_calls": call}), None))
                .unwrap();
        }
        turn.push(STREAM_DONE).unwrap();
        let ModelTurn::ToolCalls { calls, .. } = turn.finish().unwrap() else {
            panic!("expected tool calls");
        };
        let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c1", "c2"]);
    }

    #[test]
    fn a_stream_cut_off_an_error_in_it_or_garbage_is_an_error_not_half_an_answer() {
        let mut cut = StreamedTurn::default();
        cut.push(&chunk(json!({"content": "Standard deliv"}), None))
            .unwrap();
        assert!(cut.finish().is_err());

        let mut failed = StreamedTurn::default();
        let error = json!({"error": {"message": "model overloaded", "type": "server_error"}});
        let why = failed.push(&error.to_string()).unwrap_err();
        assert!(why.contains("model overloaded"), "{why}");

        assert!(StreamedTurn::default().push("<html>").is_err());

        let mut empty = StreamedTurn::default();
        empty.push(&chunk(json!({}), Some("stop"))).unwrap();
        assert!(empty.finish().is_err(), "an empty answer is no answer");
    }

    #[test]
    fn reasons_outside_the_schema_are_read_sensibly() {
        assert_eq!(parse_reason("customer_request"), Reason::CustomerRequest);
        assert_eq!(parse_reason("kb_miss"), Reason::KbMiss);
        assert_eq!(
            parse_reason("Customer wants a human"),
            Reason::CustomerRequest
        );
        assert_eq!(parse_reason("KB-Miss"), Reason::KbMiss);
        assert_eq!(parse_reason("no relevant info"), Reason::KbMiss);
    }

    #[test]
    fn request_handoff_is_offered_only_when_enabled() {
        let names = |tools: Value| -> Vec<String> {
            tools
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(tool_schemas(false)), [SEARCH_TOOL]);
        assert_eq!(names(tool_schemas(true)), [SEARCH_TOOL, HANDOFF_TOOL]);
    }
}
