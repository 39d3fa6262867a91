//! The LLM responder through the real server, against a fake OpenAI-compatible endpoint:
//! knowledge-base tool calls, handoffs the model asks for, the detector that runs first,
//! retries, timeouts and malformed answers.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_openai::{API_KEY, FakeOpenAi, Step};
use baton::config::Settings;

use crate::helpers::{Api, TestApp, spawn_app_with};

const MODEL: &str = "gpt-test-mini";

/// Baton pointed at `fake`, with a model request timeout of `timeout_ms`.
pub async fn spawn_with_llm(fake: &FakeOpenAi, timeout_ms: u64) -> TestApp {
    spawn_with_llm_and(fake, timeout_ms, |_| {}).await
}

/// The same, with further settings.
async fn spawn_with_llm_and(
    fake: &FakeOpenAi,
    timeout_ms: u64,
    more: impl FnOnce(&mut Settings),
) -> TestApp {
    let base_url = fake.base_url.clone();
    spawn_app_with(move |settings| {
        settings.llm_base_url = Some(base_url);
        settings.llm_model = Some(MODEL.to_owned());
        settings.llm_api_key = Some(API_KEY.to_owned());
        settings.llm_timeout_ms = Some(timeout_ms);
        more(settings);
    })
    .await
}

async fn pending(owner: &Api) -> Vec<Value> {
    let (status, body) = owner.get("/api/v1/handoffs?status=pending").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

/// The one pending handoff, which must be a `bot_error`: its summary.
async fn bot_error_summary(owner: &Api) -> String {
    let handoffs = pending(owner).await;
    assert_eq!(handoffs.len(), 1, "{handoffs:#?}");
    assert_eq!(handoffs[0]["reason"], "bot_error");
    handoffs[0]["summary"].as_str().unwrap().to_owned()
}

fn tool_names(request: &Value) -> Vec<&str> {
    request["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["function"]["name"].as_str().unwrap())
        .collect()
}

fn system_text(request: &Value) -> &str {
    assert_eq!(request["messages"][0]["role"], "system");
    request["messages"][0]["content"].as_str().unwrap()
}

#[tokio::test]
async fn a_knowledge_base_question_is_answered_from_the_passage_the_model_searched() {
    let fake = FakeOpenAi::start(vec![
        Step::call(
            "search_knowledge_base",
            json!({"query": "standard delivery time"}),
        ),
        Step::Answer("Standard delivery takes 3 to 5 business days."),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("How long does standard delivery take?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert_eq!(messages[1]["author"], "bot");
    assert_eq!(
        messages[1]["text"],
        "Standard delivery takes 3 to 5 business days."
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first["model"], MODEL);
    assert_eq!(
        tool_names(first),
        ["search_knowledge_base", "request_handoff"]
    );
    let asked = first["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(asked["role"], "user");
    assert_eq!(asked["content"], "How long does standard delivery take?");

    // The second request carries the call and its result: the passage from the shop's KB.
    let messages = requests[1]["messages"].as_array().unwrap();
    let call = &messages[messages.len() - 2];
    assert_eq!(call["role"], "assistant");
    assert_eq!(
        call["tool_calls"][0]["function"]["name"],
        "search_knowledge_base"
    );
    let result = messages.last().unwrap();
    assert_eq!(result["role"], "tool");
    assert_eq!(result["tool_call_id"], call["tool_calls"][0]["id"]);
    let passages: Value = serde_json::from_str(result["content"].as_str().unwrap()).unwrap();
    let best = &passages["passages"][0];
    assert_eq!(best["title"], "Shipping");
    assert!(
        best["text"]
            .as_str()
            .unwrap()
            .contains("Standard delivery takes 3 to 5 business days"),
        "{passages}"
    );
    assert!(best["relevance"].as_f64().unwrap() > 0.0, "{passages}");
    assert_eq!(best["relevant"], true, "{passages}");
    assert!(passages.get("note").is_none(), "{passages}");
    assert!(pending(&shop.owner).await.is_empty());
}

#[tokio::test]
async fn passages_below_the_bots_relevance_threshold_are_marked_not_relevant() {
    let fake = FakeOpenAi::start(vec![
        Step::call(
            "search_knowledge_base",
            json!({"query": "how long does delivery take"}),
        ),
        Step::call(
            "request_handoff",
            json!({"reason": "kb_miss", "summary": "Asks about delivery times."}),
        ),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let url = format!("/api/v1/bots/{}", shop.bot_id);
    let (status, bot) = shop
        .owner
        .patch(&url, json!({"relevance_threshold": 0.99}))
        .await;
    assert_eq!(status, StatusCode::OK, "{bot}");
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("How long does delivery take?").await;
    visitor.wait_for_messages(2).await;
    let system = system_text(&fake.requests()[0]).to_owned();
    assert!(system.contains(r#""relevant": true"#), "{system}");
    let requests = fake.requests();
    let result = requests[1]["messages"].as_array().unwrap().last().unwrap();
    let passages: Value = serde_json::from_str(result["content"].as_str().unwrap()).unwrap();
    let best = &passages["passages"][0];
    assert_eq!(
        best["title"], "Shipping",
        "the passage is still shown: {passages}"
    );
    assert!(best["relevance"].as_f64().unwrap() < 0.99, "{passages}");
    assert_eq!(best["relevant"], false, "{passages}");
    assert!(
        passages["note"]
            .as_str()
            .unwrap()
            .starts_with("No passage is relevant enough"),
        "{passages}"
    );
    let handoffs = pending(&shop.owner).await;
    assert_eq!(handoffs[0]["reason"], "kb_miss");
}

#[tokio::test]
async fn the_model_can_hand_off_with_its_summary_and_reason_after_searching() {
    let fake = FakeOpenAi::start(vec![
        Step::call("search_knowledge_base", json!({"query": "gift wrapping"})),
        Step::call(
            "request_handoff",
            json!({"reason": "kb_miss",
                   "summary": "The customer wants their order #A98765 gift-wrapped; the help \
                               articles do not cover gift wrapping."}),
        ),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor
        .say("Can you gift-wrap my order #A98765 please?")
        .await;
    let messages = visitor.wait_for_messages(2).await;
    let said = messages[1]["text"].as_str().unwrap();
    assert!(said.contains("within 2 hours"), "{said}");

    let handoffs = pending(&shop.owner).await;
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0]["reason"], "kb_miss");
    let summary = handoffs[0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("The customer wants their order #A98765 gift-wrapped"),
        "{summary}"
    );
    assert!(
        summary.contains("searched the knowledge base for “gift wrapping”"),
        "the summary says what the bot tried: {summary}"
    );
    assert!(summary.contains("order #A98765"), "{summary}");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn outside_business_hours_the_model_knows_the_customer_hears_when_the_team_is_back() {
    let fake = FakeOpenAi::start(vec![
        Step::call("search_knowledge_base", json!({"query": "gift wrapping"})),
        Step::call(
            "request_handoff",
            json!({"reason": "kb_miss", "summary": "Wants gift wrapping."}),
        ),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    crate::business_hours::team_away(&app, &shop.owner).await;
    let said = crate::business_hours::first_answer(
        &app,
        &shop.widget_key,
        "Can you gift-wrap my order please?",
    )
    .await;
    assert!(
        said.contains("Our team is away right now and back on"),
        "{said}"
    );
    let requests = fake.requests();
    let system = system_text(&requests[0]);
    assert!(
        system.contains("the customer is told: \"Our team is away right now and back on"),
        "{system}"
    );
    assert!(!system.contains("within 2 hours"), "{system}");
}

#[tokio::test]
async fn a_handoff_for_a_knowledge_base_miss_is_refused_until_the_model_has_searched() {
    let fake = FakeOpenAi::start(vec![
        Step::call(
            "request_handoff",
            json!({"reason": "kb_miss", "summary": "Wants gift wrapping."}),
        ),
        Step::call("search_knowledge_base", json!({"query": "gift wrapping"})),
        Step::call(
            "request_handoff",
            json!({"reason": "kb_miss", "summary": "Wants gift wrapping."}),
        ),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("Do you offer gift wrapping?").await;
    visitor.wait_for_messages(2).await;
    let handoffs = pending(&shop.owner).await;
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0]["reason"], "kb_miss");

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    let refusal = requests[1]["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(refusal["role"], "tool");
    assert!(
        refusal["content"]
            .as_str()
            .unwrap()
            .contains("search_knowledge_base"),
        "{refusal}"
    );
}

#[tokio::test]
async fn a_request_for_a_person_the_detector_misses_can_be_handed_off_by_the_model() {
    let fake = FakeOpenAi::start(vec![Step::call(
        "request_handoff",
        json!({"reason": "customer_request",
               "summary": "The customer wants a colleague to look at a damaged parcel."}),
    )])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor
        .say("My parcel arrived damaged, could a colleague of yours look into it?")
        .await;
    visitor.wait_for_messages(2).await;
    let handoffs = pending(&shop.owner).await;
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0]["reason"], "customer_request");
    let summary = handoffs[0]["summary"].as_str().unwrap();
    assert!(summary.contains("damaged parcel"), "{summary}");
    assert!(
        summary.contains("Reason: the customer asked to talk to a person."),
        "{summary}"
    );
}

#[tokio::test]
async fn an_explicit_request_for_a_person_hands_off_without_asking_the_model() {
    let fake = FakeOpenAi::start(vec![]).await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("I want to talk to a person").await;
    let messages = visitor.wait_for_messages(2).await;
    assert!(
        messages[1]["text"]
            .as_str()
            .unwrap()
            .contains("within 2 hours")
    );
    let handoffs = pending(&shop.owner).await;
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0]["reason"], "customer_request");
    let summary = handoffs[0]["summary"].as_str().unwrap();
    assert!(summary.contains("asked for a person"), "{summary}");
    assert!(fake.requests().is_empty(), "the model must not be asked");
}

#[tokio::test]
async fn after_a_resolve_the_model_reads_a_fresh_context_not_the_handed_off_part() {
    let fake = FakeOpenAi::start(vec![
        Step::Answer("I'm sorry to hear that."),
        Step::Answer("Standard delivery takes 3 to 5 business days."),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("My order 4411 arrived broken").await;
    visitor.wait_for_messages(2).await;
    visitor.say("I want to talk to a person").await;
    let handoff = shop.owner.first_handoff().await;
    let id = handoff["id"].as_str().unwrap();
    for (path, body) in [
        ("claim", json!({})),
        (
            "messages",
            json!({"text": "A replacement for order 4411 is on its way."}),
        ),
        ("resolve", json!({})),
    ] {
        let (status, body) = shop
            .owner
            .post(&format!("/api/v1/handoffs/{id}/{path}"), body)
            .await;
        assert!(status.is_success(), "{path}: {body}");
    }
    let before = visitor.messages().await.len();
    visitor.say("How long does standard delivery take?").await;
    let messages = visitor.wait_for_messages(before + 2).await;
    assert_eq!(
        messages.last().unwrap()["text"],
        "Standard delivery takes 3 to 5 business days."
    );
    // SPEC §2.6: the model is asked with the new question alone, so it can neither hand off
    // again for the old problem nor repeat the agent's words as its own.
    let requests = fake.requests();
    assert_eq!(
        requests.len(),
        2,
        "the request for a person never reached the model"
    );
    let asked: Vec<&Value> = requests[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] != "system")
        .collect();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0]["content"], "How long does standard delivery take?");
    assert!(!requests[1].to_string().contains("4411"), "{}", requests[1]);
    // The first request, before any handoff, had only its own question too.
    assert!(requests[0].to_string().contains("4411"));
    assert!(pending(&shop.owner).await.is_empty());
}

#[tokio::test]
async fn without_request_handoff_the_model_is_not_offered_it_and_the_bot_promises_no_one() {
    let fake = FakeOpenAi::start(vec![
        Step::call("search_knowledge_base", json!({"query": "gift wrapping"})),
        Step::Answer("I'm sorry, I can't help with gift wrapping."),
        // A model that calls the tool anyway gets an honest decline, not a handoff.
        Step::call(
            "request_handoff",
            json!({"reason": "customer_request", "summary": "Wants a colleague."}),
        ),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(false).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("Do you offer gift wrapping?").await;
    visitor.wait_for_messages(2).await;
    let requests = fake.requests();
    assert_eq!(tool_names(&requests[0]), ["search_knowledge_base"]);
    let system = system_text(&requests[0]);
    assert!(!system.contains("request_handoff"), "{system}");
    assert!(system.contains("never promise"), "{system}");
    assert!(
        !system.contains("within 2 hours"),
        "no response time without a team to respond: {system}"
    );

    visitor
        .say("My parcel arrived damaged, could a colleague of yours look into it?")
        .await;
    let messages = visitor.wait_for_messages(4).await;
    let declined = messages[3]["text"].as_str().unwrap();
    assert_eq!(messages[3]["author"], "bot");
    assert!(
        declined.contains("can't connect you with a person"),
        "{declined}"
    );
    assert!(!declined.contains("within 2 hours"), "{declined}");

    visitor.say("I want to talk to a person").await;
    let messages = visitor.wait_for_messages(6).await;
    let declined = messages[5]["text"].as_str().unwrap();
    assert!(
        declined.contains("can't connect you with a person"),
        "{declined}"
    );
    assert_eq!(
        fake.requests().len(),
        3,
        "the detector answered the last one"
    );
    let (_, all) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(all.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_server_error_is_retried_once_and_the_answer_still_arrives() {
    let fake = FakeOpenAi::start(vec![
        Step::Fail(500),
        Step::Answer("Hello! What can I help you with?"),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("Do you sell rain jackets?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert_eq!(messages[1]["text"], "Hello! What can I help you with?");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0], requests[1], "the retry repeats the request");
    assert!(pending(&shop.owner).await.is_empty());
}

#[tokio::test]
async fn a_quick_second_message_is_answered_after_the_first_even_when_the_first_is_slow() {
    let fake = FakeOpenAi::start(vec![
        Step::Slow(700, "Yes: rain jackets are on the jackets page."),
        Step::Answer("We open at nine."),
    ])
    .await;
    let app = spawn_with_llm(&fake, 5_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("Do you sell rain jackets?").await;
    visitor.say("And when do you open?").await;
    let messages = visitor.wait_for_messages(4).await;
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Do you sell rain jackets?",
            "And when do you open?",
            "Yes: rain jackets are on the jackets page.",
            "We open at nine.",
        ]
    );
    // The second question reached the model only once the first was answered.
    let asked: Vec<Value> = fake
        .requests()
        .iter()
        .map(|r| r["messages"].as_array().unwrap().last().unwrap()["content"].clone())
        .collect();
    assert_eq!(
        asked,
        ["Do you sell rain jackets?", "And when do you open?"]
    );
    // …and with the first answer in its history, just before it.
    let second = fake.requests()[1]["messages"].as_array().unwrap().clone();
    let n = second.len();
    assert_eq!(second[n - 2]["role"], "assistant");
    assert_eq!(
        second[n - 2]["content"],
        "Yes: rain jackets are on the jackets page."
    );
    assert_eq!(second[n - 3]["content"], "Do you sell rain jackets?");
}

#[tokio::test]
async fn without_handoff_a_request_for_a_person_waits_its_turn_behind_a_slow_answer() {
    let fake = FakeOpenAi::start(vec![Step::Slow(
        700,
        "Yes: rain jackets are on the jackets page.",
    )])
    .await;
    let app = spawn_with_llm(&fake, 5_000).await;
    let shop = app.shop(false).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("Do you sell rain jackets?").await;
    visitor.say("I want to talk to a person").await;
    let messages = visitor.wait_for_messages(4).await;
    assert_eq!(
        messages[2]["text"],
        "Yes: rain jackets are on the jackets page."
    );
    let declined = messages[3]["text"].as_str().unwrap();
    assert!(
        declined.contains("can't connect you with a person"),
        "{declined}"
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "the detector answered the request"
    );
}

#[tokio::test]
async fn a_model_that_times_out_twice_hands_off_with_reason_bot_error() {
    let fake = FakeOpenAi::start(vec![Step::Hang, Step::Hang]).await;
    let app = spawn_with_llm(&fake, 300).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("How long does standard delivery take?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert!(
        messages[1]["text"]
            .as_str()
            .unwrap()
            .contains("within 2 hours")
    );
    let summary = bot_error_summary(&shop.owner).await;
    assert!(summary.contains("no answer within 300 ms"), "{summary}");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn malformed_tool_arguments_twice_hand_off_with_reason_bot_error() {
    let fake = FakeOpenAi::start(vec![
        Step::CallRaw("search_knowledge_base", "{\"query\": \"delivery"),
        Step::CallRaw("search_knowledge_base", "{query: delivery}"),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("How long does standard delivery take?").await;
    visitor.wait_for_messages(2).await;
    let summary = bot_error_summary(&shop.owner).await;
    assert!(summary.contains("malformed arguments"), "{summary}");
    // The fake checks that only well-formed calls are echoed back; none were.
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_model_that_fails_after_searching_hands_off_with_what_the_bot_found() {
    let fake = FakeOpenAi::start(vec![
        Step::call("search_knowledge_base", json!({"query": "delivery time"})),
        Step::Fail(500),
        Step::Fail(502),
    ])
    .await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor
        .say("Order #A12345 still hasn't come, how long does standard delivery take?")
        .await;
    visitor.wait_for_messages(2).await;
    let summary = bot_error_summary(&shop.owner).await;
    assert!(
        summary.starts_with("The customer asked: “Order #A12345"),
        "{summary}"
    );
    assert!(
        summary.contains("The bot searched the knowledge base for “delivery time” (best match"),
        "the search made before the model failed is kept: {summary}"
    );
    assert!(summary.contains("What failed: HTTP 502"), "{summary}");
    assert!(summary.contains("Key facts: order #A12345"), "{summary}");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_model_that_only_ever_calls_tools_is_stopped_after_four_rounds() {
    let search = || Step::call("search_knowledge_base", json!({"query": "delivery"}));
    let fake = FakeOpenAi::start(vec![search(), search(), search(), search()]).await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("How long does standard delivery take?").await;
    visitor.wait_for_messages(2).await;
    bot_error_summary(&shop.owner).await;
    assert_eq!(fake.requests().len(), 4);
}

#[tokio::test]
async fn when_the_model_fails_and_handoff_is_off_the_customer_gets_an_apology() {
    let fake = FakeOpenAi::start(vec![Step::Fail(503), Step::Fail(429)]).await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(false).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("How long does standard delivery take?").await;
    let messages = visitor.wait_for_messages(2).await;
    let said = messages[1]["text"].as_str().unwrap();
    assert!(said.contains("I'm sorry, I can't help with that"), "{said}");
    assert!(!said.contains("within 2 hours"), "{said}");
    let (_, all) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(all.as_array().unwrap().len(), 0);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn the_bots_system_prompt_and_response_time_reach_the_model() {
    let fake = FakeOpenAi::start(vec![Step::Answer("Hi, I'm Ada!")]).await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let (status, body) = shop
        .owner
        .patch(
            &format!("/api/v1/bots/{}", shop.bot_id),
            json!({"system_prompt": "You are Ada, Acme Outfitters' cheerful assistant.",
                   "response_time_text": "We reply within 4 hours on weekdays."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("hello, who am I chatting with today?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert_eq!(messages[1]["text"], "Hi, I'm Ada!");
    let requests = fake.requests();
    let system = system_text(&requests[0]);
    assert!(
        system.starts_with("You are Ada, Acme Outfitters' cheerful assistant."),
        "{system}"
    );
    assert!(
        system.contains("We reply within 4 hours on weekdays."),
        "{system}"
    );
    assert!(
        system.contains("always call search_knowledge_base"),
        "the KB-first rule: {system}"
    );
    assert!(system.contains("request_handoff"), "{system}");
}

#[tokio::test]
async fn a_bots_own_model_overrides_the_configured_one() {
    let fake = FakeOpenAi::start(vec![Step::Answer("Hello!")]).await;
    let app = spawn_with_llm(&fake, 2_000).await;
    let shop = app.shop(true).await;
    let (status, body) = shop
        .owner
        .patch(
            &format!("/api/v1/bots/{}", shop.bot_id),
            json!({"llm_model": "acme-large"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("hello, is the shop open?").await;
    visitor.wait_for_messages(2).await;
    assert_eq!(fake.requests()[0]["model"], "acme-large");
}

/// The customer's socket's events up to and including the bot's message, and one more if it
/// comes at once (the draft's taking away).
async fn widget_events_until_the_answer(socket: &mut crate::helpers::Socket) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let event = socket.next().await;
        let answered = event["type"] == "message.created" && event["message"]["author"] == "bot";
        events.push(event);
        if answered {
            break;
        }
    }
    events.extend(socket.quiet_for(500).await);
    events
}

fn drafts(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .filter(|e| e["type"] == "message.draft")
        .map(|e| e["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_streamed_answer_grows_in_the_widget_as_a_draft_and_is_stored_once_whole() {
    let fake = FakeOpenAi::start(vec![
        Step::call(
            "search_knowledge_base",
            json!({"query": "standard delivery time"}),
        ),
        Step::Pieces(
            150,
            vec!["Standard delivery ", "takes 3 to 5 ", "business days."],
        ),
    ])
    .await;
    let app = spawn_with_llm(&fake, 5_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut socket = visitor.stream(0).await;
    let mut agents = app.events(&shop.owner, 0).await;

    let asked = visitor.say("How long does standard delivery take?").await;
    let events = widget_events_until_the_answer(&mut socket).await;

    let whole = "Standard delivery takes 3 to 5 business days.";
    let shown = drafts(&events);
    // The answer grows: each draft is the one before it and more (a slow reader may see two
    // pieces arrive together, so how many drafts there are is not fixed).
    let growing = &shown[..shown.len() - 1];
    assert_eq!(growing.first(), Some(&"Standard delivery "), "{events:#?}");
    assert!(growing.len() >= 2, "{events:#?}");
    for pair in growing.windows(2) {
        assert!(
            pair[1].starts_with(pair[0]) && pair[1].len() > pair[0].len(),
            "{pair:?}"
        );
    }
    assert!(whole.starts_with(growing.last().unwrap()), "{events:#?}");
    // Each draft names the answer it belongs to and who writes it.
    let draft = events
        .iter()
        .find(|e| e["type"] == "message.draft")
        .unwrap();
    assert_eq!(draft["id"], asked["id"]);
    assert_eq!(draft["author"], "bot");
    assert_eq!(draft["author_name"], "Acme Help");
    // The message comes after the drafts, whole, and then the draft is taken away.
    let message = events
        .iter()
        .position(|e| e["type"] == "message.created" && e["message"]["author"] == "bot");
    assert_eq!(events[message.unwrap()]["message"]["text"], whole);
    assert_eq!(events.last().unwrap()["type"], "message.draft");
    assert_eq!(shown.last(), Some(&""));

    // Stored: the question and the whole answer, nothing of the drafts.
    let texts: Vec<Value> = visitor
        .messages()
        .await
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(
        texts,
        [json!("How long does standard delivery take?"), json!(whole)]
    );
    // Both model calls asked for a stream.
    assert!(fake.requests().iter().all(|r| r["stream"] == true));
    // Agents and integrators see the message, never the drafts.
    let created = agents.next_of("message.created").await;
    assert_eq!(created["message"]["author"], "customer");
    let created = agents.next_of("message.created").await;
    assert_eq!(created["message"]["text"], whole);
    for event in agents.until_quiet(300).await {
        assert_ne!(event["type"], "message.draft", "{event}");
    }
}

#[tokio::test]
async fn a_chat_window_that_connects_mid_answer_shows_the_draft_at_once() {
    // The model pauses 1.2 s before each piece: long enough to tell "shown on connecting"
    // from "shown when the next piece comes".
    let fake = FakeOpenAi::start(vec![Step::Pieces(
        1_200,
        vec!["Standard delivery ", "takes 3 to 5 ", "business days."],
    )])
    .await;
    let app = spawn_with_llm(&fake, 5_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut first_tab = visitor.stream(0).await;

    visitor.say("How long does delivery take?").await;
    assert_eq!(
        first_tab.next_of("message.draft").await["text"],
        "Standard delivery "
    );
    // A reload (or a second tab) while the model is between pieces: the history, then the
    // answer so far, before anything more is written.
    let mut reloaded = visitor.stream(0).await;
    let events = reloaded.until_quiet(500).await;
    assert_eq!(events[0]["message"]["author"], "customer", "{events:#?}");
    assert_eq!(drafts(&events), ["Standard delivery "], "{events:#?}");
    assert_eq!(events[1]["id"], events[0]["message"]["id"]);
    // It then follows the answer like any socket, to the message and the draft's removal.
    let rest = widget_events_until_the_answer(&mut reloaded).await;
    assert!(drafts(&rest).ends_with(&[""]), "{rest:#?}");
    // Once the answer is stored, a new socket gets the messages and no draft.
    let mut after = visitor.stream(0).await;
    let events = after.until_quiet(300).await;
    assert_eq!(events.len(), 2, "{events:#?}");
    assert!(drafts(&events).is_empty(), "{events:#?}");
}

#[tokio::test]
async fn a_stream_cut_off_midway_is_retried_whole_and_its_draft_taken_away() {
    let fake = FakeOpenAi::start(vec![
        Step::Cut("Standard deliv"),
        Step::Answer("Standard delivery takes 3 to 5 business days."),
    ])
    .await;
    let app = spawn_with_llm(&fake, 5_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut socket = visitor.stream(0).await;

    visitor.say("How long does delivery take?").await;
    let events = widget_events_until_the_answer(&mut socket).await;
    assert_eq!(
        drafts(&events),
        [
            "Standard deliv",
            "",
            "Standard delivery takes 3 to 5 business days.",
            ""
        ],
        "{events:#?}"
    );
    let messages = visitor.messages().await;
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[1]["text"],
        "Standard delivery takes 3 to 5 business days."
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_long_steady_stream_is_not_cut_by_the_silence_limit() {
    // Six pieces 150 ms apart: 900 ms in all, more than twice the 400 ms the model may be
    // silent, with no gap as long.
    let fake = FakeOpenAi::start(vec![Step::Pieces(
        150,
        vec![
            "Standard ",
            "delivery ",
            "takes ",
            "3 to 5 ",
            "business ",
            "days.",
        ],
    )])
    .await;
    let app = spawn_with_llm(&fake, 400).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("How long does delivery take?").await;
    assert_eq!(
        visitor.wait_for_messages(2).await[1]["text"],
        "Standard delivery takes 3 to 5 business days."
    );
    assert_eq!(fake.requests().len(), 1, "answered on the first try");
    assert!(pending(&shop.owner).await.is_empty());
}

#[tokio::test]
async fn a_stream_that_stalls_midway_is_given_up_after_the_silence_limit_and_retried() {
    let fake = FakeOpenAi::start(vec![
        Step::Stall("Standard deliv"),
        Step::Stall("Standard delivery ta"),
    ])
    .await;
    let app = spawn_with_llm(&fake, 300).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut socket = visitor.stream(0).await;

    visitor.say("How long does delivery take?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert!(
        messages[1]["text"]
            .as_str()
            .unwrap()
            .contains("within 2 hours"),
        "{messages:#?}"
    );
    let summary = bot_error_summary(&shop.owner).await;
    assert!(
        summary.contains("the answer stopped midway: nothing more for 300 ms"),
        "{summary}"
    );
    assert_eq!(fake.requests().len(), 2);
    // Each half-answer was shown and taken away; neither was stored.
    let events = socket.until_quiet(300).await;
    assert_eq!(
        drafts(&events),
        ["Standard deliv", "", "Standard delivery ta", ""],
        "{events:#?}"
    );
}

#[tokio::test]
async fn an_answer_longer_than_the_answer_limit_is_given_up_however_steadily_it_streams() {
    let fake = FakeOpenAi::start(vec![
        Step::Pieces(150, vec!["One, "; 8]),
        Step::Pieces(150, vec!["two, "; 8]),
    ])
    .await;
    let app = spawn_with_llm_and(&fake, 5_000, |settings| {
        settings.llm_answer_timeout_ms = Some(600);
    })
    .await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;

    visitor.say("Count for me").await;
    visitor.wait_for_messages(2).await;
    let summary = bot_error_summary(&shop.owner).await;
    assert!(
        summary.contains("the answer was not finished within 600 ms"),
        "{summary}"
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_draft_being_written_when_the_customer_asks_for_a_person_is_taken_away_unsent() {
    let fake = FakeOpenAi::start(vec![Step::Pieces(
        300,
        vec!["Rain jackets ", "are on ", "the jackets page."],
    )])
    .await;
    let app = spawn_with_llm(&fake, 5_000).await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut socket = visitor.stream(0).await;

    visitor.say("Do you sell rain jackets?").await;
    let first = socket.next_of("message.draft").await;
    assert_eq!(first["text"], "Rain jackets ");
    // The request for a person hands off at once, while the model is still writing.
    visitor.say("I want to talk to a person").await;
    let handoff = socket.next_of("handoff.updated").await;
    assert_eq!(handoff["status"], "pending");

    // The draft is taken away and the answer never stored: the bot does not talk over people.
    let mut last_draft = first;
    for event in socket.until_quiet(1_500).await {
        assert!(
            !(event["type"] == "message.created"
                && event["message"]["author"] == "bot"
                && event["message"]["text"] == "Rain jackets are on the jackets page."),
            "{event}"
        );
        if event["type"] == "message.draft" {
            // Once a person holds the conversation, the bot shows nothing more of its answer.
            assert_eq!(event["text"], "", "a draft shown after the handoff");
            last_draft = event;
        }
    }
    assert_eq!(last_draft["text"], "", "the draft was taken away");
    let texts: Vec<String> = visitor
        .messages()
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !texts.iter().any(|t| t.contains("jackets page")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn with_streaming_off_the_model_is_asked_for_one_whole_answer_and_no_draft_is_shown() {
    let fake = FakeOpenAi::start(vec![Step::Answer("We open at nine.")]).await;
    let base_url = fake.base_url.clone();
    let app = spawn_app_with(move |settings| {
        settings.llm_base_url = Some(base_url);
        settings.llm_model = Some(MODEL.to_owned());
        settings.llm_api_key = Some(API_KEY.to_owned());
        settings.llm_stream = Some(false);
    })
    .await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let mut socket = visitor.stream(0).await;

    visitor.say("When do you open?").await;
    let events = widget_events_until_the_answer(&mut socket).await;
    assert!(drafts(&events).is_empty(), "{events:#?}");
    assert_eq!(
        visitor.wait_for_messages(2).await[1]["text"],
        "We open at nine."
    );
    assert!(fake.requests()[0].get("stream").is_none());
}

#[tokio::test]
async fn a_bot_with_its_own_endpoint_uses_its_own_key_and_the_instance_key_stays_home() {
    let instance = FakeOpenAi::start(vec![]).await;
    let own = FakeOpenAi::start_with_key(
        Some("sk-own-key-1234"),
        vec![Step::Answer("Hello from our own model!")],
    )
    .await;
    let app = spawn_with_llm(&instance, 5_000).await;
    let shop = app.shop(true).await;
    let (status, bot) = shop
        .owner
        .patch(
            &format!("/api/v1/bots/{}", shop.bot_id),
            json!({"llm_base_url": format!("{}/", own.base_url), "llm_api_key": " sk-own-key-1234 ",
                   "llm_model": "own-model"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bot}");
    assert_eq!(bot["llm_base_url"], own.base_url, "trailing slash trimmed");
    assert_eq!(bot["llm_api_key"], "••••1234");
    let (_, read) = shop
        .owner
        .get(&format!("/api/v1/bots/{}", shop.bot_id))
        .await;
    assert!(!read.to_string().contains("sk-own-key"), "{read}");

    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("hello, what do you sell?").await;
    let messages = visitor.wait_for_messages(2).await;
    assert_eq!(messages[1]["text"], "Hello from our own model!");
    assert_eq!(own.requests()[0]["model"], "own-model");
    assert!(instance.requests().is_empty());
    // Stored sealed, not as given.
    let stored = app
        .state
        .store
        .bot_by_widget_key(&shop.widget_key)
        .await
        .unwrap();
    let sealed = stored.llm_api_key_sealed.unwrap();
    assert!(!sealed.contains("sk-own-key"), "{sealed}");

    // Without a key of its own, the bot's endpoint gets no key at all — never the instance's.
    let keyless =
        FakeOpenAi::start_with_key(None, vec![Step::Answer("Hi from a local model.")]).await;
    let (status, bot) = shop
        .owner
        .patch(
            &format!("/api/v1/bots/{}", shop.bot_id),
            json!({"llm_base_url": keyless.base_url, "llm_api_key": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bot}");
    assert!(bot["llm_api_key"].is_null());
    visitor.say("and now?").await;
    let messages = visitor.wait_for_messages(4).await;
    assert_eq!(messages[3]["text"], "Hi from a local model.");
    assert_eq!(keyless.requests().len(), 1);
    assert!(instance.requests().is_empty());
}

#[tokio::test]
async fn without_an_instance_model_a_bot_naming_its_own_uses_it_and_the_others_stay_built_in() {
    let own = FakeOpenAi::start_with_key(None, vec![Step::Answer("Model answer.")]).await;
    let app = spawn_app_with(|_| {}).await;
    let shop = app.shop(true).await;
    let (status, bot) = shop
        .owner
        .patch(
            &format!("/api/v1/bots/{}", shop.bot_id),
            json!({"llm_base_url": own.base_url, "llm_model": "llama3"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bot}");
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("What do you sell?").await;
    assert_eq!(
        visitor.wait_for_messages(2).await[1]["text"],
        "Model answer."
    );
    assert_eq!(own.requests()[0]["model"], "llama3");

    // A second bot with no model answers from its knowledge base, offline.
    let other = app.shop(true).await;
    let visitor = app.visitor(&other.widget_key).await;
    visitor.say("How long does standard delivery take?").await;
    let answer = visitor.wait_for_messages(2).await[1]["text"].clone();
    assert!(
        answer.as_str().unwrap().contains("3 to 5 business days"),
        "{answer}"
    );
    assert_eq!(own.requests().len(), 1);
}

#[tokio::test]
async fn a_bad_endpoint_or_key_is_refused_with_the_field_named() {
    let app = spawn_app_with(|_| {}).await;
    let shop = app.shop(true).await;
    let path = format!("/api/v1/bots/{}", shop.bot_id);
    for (body, field) in [
        (
            json!({"llm_base_url": "ftp://models.example/v1"}),
            "llm_base_url",
        ),
        (json!({"llm_base_url": "not a url"}), "llm_base_url"),
        (
            json!({"llm_base_url": "javascript:alert(1)"}),
            "llm_base_url",
        ),
        (
            json!({"llm_api_key": "sk-one\nX-Injected: yes"}),
            "llm_api_key",
        ),
        (json!({"llm_api_key": "k".repeat(1_001)}), "llm_api_key"),
    ] {
        let (status, error) = shop.owner.patch(&path, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert!(error.to_string().contains(field), "{body}: {error}");
    }
    // Nothing was changed by the refused requests.
    let (_, bot) = shop.owner.get(&path).await;
    assert!(
        bot["llm_base_url"].is_null() && bot["llm_api_key"].is_null(),
        "{bot}"
    );
}

#[tokio::test]
async fn an_instance_can_limit_the_model_endpoints_bots_may_choose() {
    let allowed =
        FakeOpenAi::start_with_key(None, vec![Step::Answer("From the allowed server.")]).await;
    let other = FakeOpenAi::start_with_key(None, vec![]).await;
    let list = format!("{}, http://models.internal.example/v1", allowed.base_url);
    let app = spawn_app_with(move |settings| settings.llm_bot_base_urls = Some(list)).await;
    let shop = app.shop(true).await;
    let path = format!("/api/v1/bots/{}", shop.bot_id);

    let (status, error) = shop
        .owner
        .patch(
            &path,
            json!({"llm_base_url": other.base_url, "llm_model": "llama3"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("llm_base_url:"), "{message}");
    assert!(message.contains(&allowed.base_url), "{message}");
    let (_, bot) = shop.owner.get(&path).await;
    assert!(
        bot["llm_model"].is_null(),
        "the whole change was refused: {bot}"
    );

    let (status, bot) = shop
        .owner
        .patch(
            &path,
            json!({"llm_base_url": allowed.base_url, "llm_model": "llama3"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bot}");
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("What do you sell?").await;
    assert_eq!(
        visitor.wait_for_messages(2).await[1]["text"],
        "From the allowed server."
    );

    // A URL stored before the list was narrowed is checked again when it is used: the bot
    // hands off rather than call it.
    let stored = app
        .state
        .store
        .bot_by_widget_key(&shop.widget_key)
        .await
        .unwrap();
    let patch = baton::store::BotPatch {
        llm_base_url: Some(Some(other.base_url.clone())),
        ..Default::default()
    };
    app.state
        .store
        .update_bot(&stored.workspace_id, &stored.id, patch, 0)
        .await
        .unwrap();
    visitor.say("And shoes?").await;
    visitor.wait_for_messages(4).await;
    let summary = bot_error_summary(&shop.owner).await;
    assert!(
        summary.contains("is not one this instance allows"),
        "{summary}"
    );
    assert!(other.requests().is_empty());
}
