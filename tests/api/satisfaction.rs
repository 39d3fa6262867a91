//! The Satisfaction Survey tool: after an agent resolves a conversation, the customer is asked
//! to rate the help they got; the rating shows on the handoff, in events and in reports.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, Shop, TestApp, Visitor, code, eventually, spawn_app};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Installs the Satisfaction Survey and switches it on for the shop's bot.
pub(crate) async fn survey_on(shop: &Shop) {
    let (status, body) = shop
        .owner
        .post("/api/v1/marketplace/satisfaction_survey/install", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = shop
        .owner
        .put(
            &format!("/api/v1/bots/{}/tools/satisfaction_survey", shop.bot_id),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A visitor who asked for a person, and the path of their handoff, once it is open.
async fn handed_off(app: &TestApp, shop: &Shop) -> (Visitor, String) {
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want to talk to a human").await;
    let path = format!("/api/v1/handoffs/{}", shop.owner.pending_handoff_id().await);
    (visitor, path)
}

async fn act(api: &Api, path: &str, action: &str) -> Value {
    let (status, body) = api.post(&format!("{path}/{action}"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    body
}

async fn reply(api: &Api, path: &str, text: &str) {
    let (status, body) = api
        .post(&format!("{path}/messages"), json!({"text": text}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The rating question in the visitor's chat, if there is one.
async fn question(visitor: &Visitor) -> Option<Value> {
    visitor
        .messages()
        .await
        .into_iter()
        .find(|m| m["kind"] == "rating_request")
}

async fn rate(visitor: &Visitor, body: Value) -> (StatusCode, Value) {
    visitor.api.post("/widget/v1/ratings", body).await
}

#[tokio::test]
async fn a_customer_rates_the_agent_who_helped_and_the_team_sees_it() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    survey_on(&shop).await;
    let owner = &shop.owner;
    let ana = app.member(owner, "ana@shop.test", "agent").await;
    let (visitor, path) = handed_off(&app, &shop).await;
    act(&ana, &path, "claim").await;
    reply(&ana, &path, "Your parcel left this morning.").await;
    let mut team = app.events(owner, 0).await;
    // An admin resolves it: the rating is still ana's, who held it.
    let resolved = act(owner, &path, "resolve").await;
    assert_eq!(resolved["rating"]["score"], Value::Null, "{resolved}");
    assert!(resolved["rating"]["requested_at"].is_string(), "{resolved}");
    let event = team.next_of("handoff.resolved").await;
    assert_eq!(event["handoff"]["rating"], resolved["rating"], "{event}");

    // The question follows the note that the conversation was resolved, with an open rating.
    let asked = question(&visitor).await.expect("the customer is asked");
    assert_eq!(asked["author"], "system");
    assert_eq!(
        asked["text"],
        "How would you rate the help you got from ana?"
    );
    assert_eq!(
        asked["rating"],
        json!({"score": null, "comment": null, "open": true})
    );
    let texts: Vec<Value> = visitor
        .messages()
        .await
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    let at = texts.iter().position(|t| *t == asked["text"]).unwrap();
    assert!(
        texts[at - 1]
            .as_str()
            .unwrap()
            .starts_with("This conversation was resolved")
    );
    let message_id = asked["id"].as_str().unwrap();

    // Bad answers are refused and change nothing.
    for (body, status) in [
        (
            json!({"message_id": message_id, "score": "superb"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"message_id": message_id, "score": "great", "comment": "x".repeat(1001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"message_id": "msg_nope", "score": "great"}),
            StatusCode::NOT_FOUND,
        ),
        (json!({"score": "great"}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (got, answer) = rate(&visitor, body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
    }
    // Another visitor cannot answer this one's question.
    let stranger = app.visitor(&shop.widget_key).await;
    let (status, body) = rate(
        &stranger,
        json!({"message_id": message_id, "score": "poor"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // The customer rates; the team hears it live, so do the customer's other tabs; the
    // customer is thanked once.
    let mut tab = visitor.stream(0).await;
    let (status, body) = rate(&visitor, json!({"message_id": message_id, "score": "okay"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["score"], "okay");
    let event = team.next_of("handoff.rated").await;
    assert_eq!(event["handoff"]["rating"]["score"], "okay");
    assert_eq!(event["handoff"]["claimed_by"]["name"], "ana");
    let seen = tab.next_of("rating.updated").await;
    assert_eq!(seen["message_id"], message_id);
    assert_eq!(seen["score"], "okay");
    assert!(
        seen.get("handoff").is_none(),
        "the team's view stays with the team: {seen}"
    );
    // A change of mind, with a comment in markup (kept as text), then a repeat of it.
    let comment = "<b>Quick</b> and kind";
    for _ in 0..2 {
        let (status, body) = rate(
            &visitor,
            json!({"message_id": message_id, "score": "great", "comment": comment}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["comment"], comment);
    }
    let event = team.next_of("handoff.rated").await;
    assert_eq!(event["handoff"]["rating"]["score"], "great");
    assert_eq!(event["handoff"]["rating"]["comment"], comment);
    assert!(
        team.until_quiet(300)
            .await
            .iter()
            .all(|e| e["type"] != "handoff.rated"),
        "a repeat writes nothing"
    );
    let messages = visitor.messages().await;
    let thanks = messages
        .iter()
        .filter(|m| m["text"] == "Thank you for your feedback!")
        .count();
    assert_eq!(thanks, 1);
    let asked = question(&visitor).await.unwrap();
    assert_eq!(asked["rating"]["score"], "great");
    assert_eq!(asked["rating"]["comment"], comment);

    // The handoff shows it to the team; the dashboard prints the comment as text.
    let (_, handoff) = owner.get(&path).await;
    assert_eq!(handoff["rating"]["score"], "great");
    assert_eq!(handoff["rating"]["comment"], comment);
    let id = path.rsplit('/').next().unwrap();
    let page = crate::dashboard::page_html(&app, owner, &format!("/handoffs/{id}")).await;
    assert!(
        page.contains("😀 Great — “&lt;b&gt;Quick&lt;/b&gt; and kind”"),
        "{page}"
    );

    // The report counts it for ana.
    let (status, report) = owner.get("/api/v1/reports").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let s = &report["satisfaction"];
    assert_eq!(
        (
            s["asked"].as_i64(),
            s["rated"].as_i64(),
            s["great"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(s["score"], 1.0);
    let ana_row = report["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "ana")
        .unwrap();
    assert_eq!(ana_row["satisfaction"]["rated"], 1);
    let owner_row = report["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "owner" || p["role"] == "admin")
        .unwrap();
    assert_eq!(owner_row["satisfaction"]["asked"], 0, "{owner_row}");
    // A comment is feedback to read, listed with whose handoff it was.
    assert_eq!(report["feedback"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["feedback"][0]["comment"], comment);
    assert_eq!(report["feedback"][0]["agent_name"], "ana");
    assert_eq!(report["feedback"][0]["handoff_id"], id);
    let reports_page = crate::dashboard::page_html(&app, owner, "/reports").await;
    assert!(
        reports_page.contains("Customer satisfaction"),
        "{reports_page}"
    );
    assert!(
        reports_page.contains("— “&lt;b&gt;Quick&lt;/b&gt; and kind”"),
        "{reports_page}"
    );

    // The bot is back: the next question is answered, the rating is not taken for one.
    visitor.say("How long does standard delivery take?").await;
    let answered = eventually(|| async {
        let messages = visitor.messages().await;
        let last = messages.last()?.clone();
        (last["author"] == "bot").then_some(last)
    })
    .await;
    assert!(
        answered["text"]
            .as_str()
            .unwrap()
            .contains("3 to 5 business days"),
        "{answered}"
    );

    // A week on, the question no longer takes answers.
    app.state.clock.advance(DAY * 8);
    let (status, body) = rate(&visitor, json!({"message_id": message_id, "score": "poor"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "conflict");
    assert_eq!(question(&visitor).await.unwrap()["rating"]["open"], false);
    let (_, handoff) = owner.get(&path).await;
    assert_eq!(handoff["rating"]["score"], "great");

    // Erasing the customer takes the rating with them.
    let contact = handoff["customer"]["id"].as_str().unwrap();
    let (status, body) = owner.delete(&format!("/api/v1/contacts/{contact}")).await;
    assert!(status.is_success(), "{body}");
    let (_, report) = owner.get("/api/v1/reports?days=30").await;
    assert_eq!(report["satisfaction"]["asked"], 0, "{report}");
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM ratings")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn no_one_is_asked_without_the_survey_or_without_a_reply_from_the_team() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;

    // Survey off: resolving asks nothing.
    let (visitor, path) = handed_off(&app, &shop).await;
    act(owner, &path, "claim").await;
    reply(owner, &path, "Sorted.").await;
    let resolved = act(owner, &path, "resolve").await;
    assert_eq!(resolved["rating"], Value::Null);
    assert!(question(&visitor).await.is_none());

    // Installed, and switched on and off again for the bot: nothing either.
    survey_on(&shop).await;
    let (status, body) = owner
        .put(
            &format!("/api/v1/bots/{}/tools/satisfaction_survey", shop.bot_id),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (visitor, path) = handed_off(&app, &shop).await;
    act(owner, &path, "claim").await;
    reply(owner, &path, "Sorted.").await;
    act(owner, &path, "resolve").await;
    assert!(question(&visitor).await.is_none());

    // Survey on, but no one answered the customer: nothing to rate.
    survey_on(&shop).await;
    let (visitor, path) = handed_off(&app, &shop).await;
    act(owner, &path, "claim").await;
    act(owner, &path, "resolve").await;
    assert!(question(&visitor).await.is_none());
    // Nor when it was resolved straight from the queue.
    let (visitor, path) = handed_off(&app, &shop).await;
    act(owner, &path, "resolve").await;
    assert!(question(&visitor).await.is_none());

    // Uninstalled from the workspace, it asks no more.
    let (status, _) = owner
        .delete("/api/v1/marketplace/satisfaction_survey/install")
        .await;
    assert!(status.is_success());
    let (visitor, path) = handed_off(&app, &shop).await;
    act(owner, &path, "claim").await;
    reply(owner, &path, "Done.").await;
    act(owner, &path, "resolve").await;
    assert!(question(&visitor).await.is_none());
}

#[tokio::test]
async fn a_visitor_changing_their_rating_over_and_over_is_slowed_down() {
    let app = crate::helpers::spawn_app_with(|s| s.widget_messages_per_minute = Some(3)).await;
    let shop = app.shop(true).await;
    survey_on(&shop).await;
    let (visitor, path) = handed_off(&app, &shop).await;
    act(&shop.owner, &path, "claim").await;
    reply(&shop.owner, &path, "Here to help.").await;
    act(&shop.owner, &path, "resolve").await;
    let asked = question(&visitor).await.unwrap();
    // One message and two ratings fill the minute; the third rating waits.
    for score in ["great", "poor"] {
        let (status, body) =
            rate(&visitor, json!({"message_id": asked["id"], "score": score})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = rate(
        &visitor,
        json!({"message_id": asked["id"], "score": "okay"}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "rate_limited");
    let (_, handoff) = shop.owner.get(&path).await;
    assert_eq!(handoff["rating"]["score"], "poor");
}
