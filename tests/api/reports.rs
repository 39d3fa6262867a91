//! Reports: what the bot handled alone, how long customers waited for the team, who answered,
//! and the questions the knowledge base had no answer for — over the span asked for.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, TestApp, Visitor, code, eventually, spawn_app};

const MINUTE: Duration = Duration::from_secs(60);

/// A new widget visitor who says `text` and waits for the bot's one answer.
async fn asks(app: &TestApp, widget_key: &str, text: &str) -> Visitor {
    let visitor = app.visitor(widget_key).await;
    visitor.say(text).await;
    visitor.wait_for_messages(2).await;
    visitor
}

/// The id of the handoff of `visitor`'s conversation, once it is open.
async fn handoff_of(owner: &Api, visitor: &Visitor) -> String {
    eventually(|| async {
        let (_, list) = owner.get("/api/v1/handoffs").await;
        list.as_array()?
            .iter()
            .find(|h| h["conversation_id"] == visitor.conversation_id.as_str())
            .map(|h| h["id"].as_str().unwrap().to_owned())
    })
    .await
}

async fn act(api: &Api, handoff: &str, action: &str) {
    let (status, body) = api
        .post(&format!("/api/v1/handoffs/{handoff}/{action}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
}

async fn reply(api: &Api, handoff: &str, text: &str) {
    let (status, body) = api
        .post(
            &format!("/api/v1/handoffs/{handoff}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn report(api: &Api, query: &str) -> Value {
    let (status, body) = api.get(&format!("/api/v1/reports{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A wait in seconds, allowing for the real time the test itself takes between steps.
fn about(value: &Value, seconds: i64) -> bool {
    value
        .as_i64()
        .is_some_and(|v| (seconds..=seconds + 3).contains(&v))
}

#[tokio::test]
async fn a_report_counts_what_the_bot_handled_how_long_customers_waited_and_what_it_could_not_answer()
 {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let agents = app.agents(owner, 2).await;
    // Another workspace's customers and their bot count in its reports, not in this one's.
    let stranger = app.other_workspace("stranger@elsewhere.test").await;
    let theirs = stranger.create_bot("Elsewhere").await;
    let their_key = theirs["widget_key"].as_str().unwrap();
    asks(&app, their_key, "hello there").await;
    asks(&app, their_key, "What are your opening hours?").await;
    let (ann, bob) = (&agents[0].1, &agents[1].1);

    // One customer the bot answers, one who asks for a person, two who ask what the
    // knowledge base does not say (the same question, written differently).
    asks(
        &app,
        &shop.widget_key,
        "How much does standard shipping cost?",
    )
    .await;
    let wants_person = asks(&app, &shop.widget_key, "can I talk to a real person please").await;
    let first_miss = asks(&app, &shop.widget_key, "Do you repair vintage motorcycles?").await;
    let second_miss = asks(&app, &shop.widget_key, "do you REPAIR vintage motorcycles").await;
    let person = handoff_of(owner, &wants_person).await;
    let miss = handoff_of(owner, &first_miss).await;
    let second = handoff_of(owner, &second_miss).await;

    // Ann claims the first after 10 minutes, answers 5 minutes later and resolves it within
    // the hour; Bob claims a miss after 20 minutes and answers at once; one stays pending.
    app.state.clock.advance(10 * MINUTE);
    act(ann, &person, "claim").await;
    app.state.clock.advance(5 * MINUTE);
    reply(ann, &person, "Hi, Ann here. How can I help?").await;
    app.state.clock.advance(45 * MINUTE);
    act(ann, &person, "resolve").await;
    act(bob, &miss, "claim").await;
    reply(bob, &miss, "We don't, sorry.").await;
    reply(bob, &miss, "But a garage near you might.").await;

    let body = report(owner, "").await;
    assert_eq!(
        body["conversations"],
        json!({"active": 4, "handed_off": 3, "bot_only": 1, "bot_only_rate": 0.25})
    );
    assert_eq!(body["messages"]["customer"], 4);
    assert_eq!(body["messages"]["bot"], 4);
    assert_eq!(body["messages"]["agent"], 3);
    let handoffs = &body["handoffs"];
    assert_eq!(handoffs["opened"], 3);
    assert_eq!(
        (
            &handoffs["customer_request"],
            &handoffs["kb_miss"],
            &handoffs["bot_error"]
        ),
        (&json!(1), &json!(2), &json!(0))
    );
    assert_eq!(
        (
            &handoffs["pending"],
            &handoffs["in_progress"],
            &handoffs["resolved"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );
    // Claimed after 10 and 60 minutes: half within 10, 90% within 60.
    let claim = &handoffs["time_to_claim"];
    assert_eq!(claim["count"], 2);
    // The second miss has waited all along, and is said to.
    assert_eq!(claim["still_waiting"], 1);
    assert_eq!(handoffs["time_to_first_reply"]["still_waiting"], 1);
    assert_eq!(handoffs["time_to_resolve"]["still_waiting"], 2);
    assert!(about(&claim["median_seconds"], 600), "{claim}");
    assert!(about(&claim["p90_seconds"], 3600), "{claim}");
    let first_reply = &handoffs["time_to_first_reply"];
    assert_eq!(first_reply["count"], 2);
    assert!(about(&first_reply["median_seconds"], 900), "{first_reply}");
    assert!(about(&first_reply["p90_seconds"], 3600), "{first_reply}");
    let resolve = &handoffs["time_to_resolve"];
    assert_eq!(resolve["count"], 1);
    assert!(about(&resolve["median_seconds"], 3600), "{resolve}");

    // Everyone in the workspace, busiest first.
    let people = body["people"].as_array().unwrap();
    let names: Vec<&str> = people.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[..2], ["Agent 1", "Agent 0"]);
    let (bob_row, ann_row) = (&people[0], &people[1]);
    assert_eq!(
        (
            &bob_row["claimed"],
            &bob_row["resolved"],
            &bob_row["replies"]
        ),
        (&json!(1), &json!(0), &json!(2))
    );
    assert!(about(&bob_row["first_replies"]["median_seconds"], 3600));
    assert_eq!(
        (
            &ann_row["claimed"],
            &ann_row["resolved"],
            &ann_row["replies"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );
    assert!(about(&ann_row["first_replies"]["median_seconds"], 900));
    assert_eq!(people[2]["first_replies"]["count"], 0);
    assert_eq!(people[2]["first_replies"]["median_seconds"], Value::Null);
    assert_eq!(people[2]["first_replies"].get("still_waiting"), None);

    // The question the knowledge base lacks, once, with its latest wording and handoff.
    assert_eq!(
        body["unanswered"],
        json!([{
            "text": "do you REPAIR vintage motorcycles",
            "count": 2,
            "last_asked_at": body["unanswered"][0]["last_asked_at"],
            "handoff_id": second,
        }])
    );

    // Another bot of the workspace has had nothing; a span before any of it is empty too.
    let other = owner.create_bot("Other").await;
    let body = report(owner, &format!("?bot_id={}", other["id"].as_str().unwrap())).await;
    assert_eq!(body["conversations"]["active"], 0);
    assert_eq!(body["conversations"]["bot_only_rate"], Value::Null);
    assert_eq!(body["handoffs"]["opened"], 0);
    assert_eq!(
        body["handoffs"]["time_to_claim"]["median_seconds"],
        Value::Null
    );
    let body = report(owner, &format!("?bot_id={}&days=7", shop.bot_id)).await;
    assert_eq!(body["handoffs"]["opened"], 3);
    let body = report(owner, "?from=2020-01-01&to=2020-01-31").await;
    assert_eq!(body["from"], "2020-01-01T00:00:00.000Z");
    assert_eq!(body["to"], "2020-02-01T00:00:00.000Z");
    assert_eq!(
        body["messages"],
        json!({"customer": 0, "bot": 0, "agent": 0})
    );
    assert_eq!(body["unanswered"], json!([]));
}

#[tokio::test]
async fn reports_are_for_admins_of_the_workspace_and_a_span_that_makes_no_sense_is_refused() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let agent = app.member(&shop.owner, "agent@shop.test", "agent").await;
    let (status, body) = agent.get("/api/v1/reports").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = app.anonymous().get("/api/v1/reports").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let stranger = app.other_workspace("stranger@elsewhere.test").await;
    let (status, body) = stranger
        .get(&format!("/api/v1/reports?bot_id={}", shop.bot_id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    for (query, says) in [
        ("?from=yesterday", "from: "),
        ("?from=2026-11-02&to=2026-11-01", "from must be before to"),
        ("?from=2024-01-01&to=2026-01-01", "at most 366 days"),
        ("?days=0", "days: must be"),
        ("?days=7&from=2026-11-01", "either from or days"),
    ] {
        let (status, body) = shop.owner.get(&format!("/api/v1/reports{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(code(&body), "validation_failed");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{query}: {message}");
    }
    for query in ["?days=many", "?since=2026-11-01"] {
        let (status, body) = shop.owner.get(&format!("/api/v1/reports{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
}

#[tokio::test]
async fn each_handoff_of_a_conversation_has_its_own_first_reply_and_a_person_s_conversation_counts_in_every_span_they_had_it()
 {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let visitor = asks(&app, &shop.widget_key, "I want to talk to a human").await;
    let first = handoff_of(owner, &visitor).await;
    // The first is resolved without a word from anyone; the second gets a reply.
    act(owner, &first, "claim").await;
    act(owner, &first, "resolve").await;
    visitor.say("actually, get me a person again").await;
    let second = owner.pending_handoff_id().await;
    assert_ne!(first, second);
    app.state.clock.advance(3 * MINUTE);
    act(owner, &second, "claim").await;
    reply(owner, &second, "I'm here now.").await;

    let body = report(owner, "").await;
    assert_eq!(body["handoffs"]["opened"], 2);
    let first_reply = &body["handoffs"]["time_to_first_reply"];
    assert_eq!(first_reply["count"], 1, "{first_reply}");
    assert!(about(&first_reply["median_seconds"], 180), "{first_reply}");
    assert_eq!(first_reply["still_waiting"], 0);
    assert_eq!(body["conversations"]["active"], 1);
    assert_eq!(body["conversations"]["handed_off"], 1);

    // Two days on the customer writes to the person still holding it: in the last day no
    // handoff was opened, yet that conversation was with a person, not the bot.
    app.state.clock.advance(Duration::from_secs(2 * 86_400));
    visitor.say("are you still there?").await;
    let body = report(owner, "?days=1").await;
    assert_eq!(body["handoffs"]["opened"], 0);
    assert_eq!(
        body["conversations"],
        json!({"active": 1, "handed_off": 1, "bot_only": 0, "bot_only_rate": 0.0})
    );
    assert_eq!(body["messages"]["customer"], 1);
    assert_eq!(body["messages"]["bot"], 0);
}
