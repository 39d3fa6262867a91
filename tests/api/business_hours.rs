//! Business hours: outside them a customer handed off is told when the team is back instead of
//! a response time, the chat window says the team is away, and reports measure waits in the
//! hours the team was at work.

use chrono::{DateTime, Datelike, Days, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dashboard::page_html;
use crate::helpers::{Api, TestApp, spawn_app};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Business hours with the team at work only from 09:00 to 10:00 UTC three days from now, so
/// that it is away now whatever the time; returns when it is back, in unix milliseconds.
pub(crate) async fn team_away(app: &TestApp, owner: &Api) -> i64 {
    let now = DateTime::<Utc>::from_timestamp_millis(app.state.clock.now_ms()).unwrap();
    let day = now.date_naive() + Days::new(3);
    let key = DAYS[day.weekday().num_days_from_monday() as usize];
    let (status, body) = owner
        .put(
            "/api/v1/settings/business-hours",
            json!({"enabled": true, "timezone": "UTC",
                   "week": {key: [{"from": "9:00", "to": "10:00"}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["week"][key][0]["from"], "09:00", "normalised: {body}");
    day.and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

/// "Monday 30 November", as the customer is told it.
fn day_name(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap()
        .format("%A %-d %B")
        .to_string()
}

/// What the bot answers a new visitor's first message.
pub(crate) async fn first_answer(app: &TestApp, widget_key: &str, text: &str) -> String {
    let visitor = app.visitor(widget_key).await;
    visitor.say(text).await;
    visitor.wait_for_messages(2).await[1]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What a new chat window is told when it opens.
async fn new_chat(app: &TestApp, widget_key: &str) -> Value {
    let (status, session) = app
        .anonymous()
        .post("/widget/v1/sessions", json!({"widget_key": widget_key}))
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    session
}

fn ms(rfc3339: &Value) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

#[tokio::test]
async fn a_customer_handed_off_while_the_team_is_away_hears_when_it_is_back() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let back_at = team_away(&app, owner).await;
    let back = format!("back on {} at 09:00 (UTC)", day_name(back_at));

    let (status, now) = owner.get("/api/v1/settings/business-hours/status").await;
    assert_eq!(status, StatusCode::OK, "{now}");
    assert_eq!(now["open"], false, "{now}");
    assert_eq!(ms(&now["back_at"]), back_at, "{now}");
    assert_eq!(
        now["back"],
        format!("on {} at 09:00 (UTC)", day_name(back_at))
    );

    // The chat window learns the team is away, and until when.
    let session = new_chat(&app, &shop.widget_key).await;
    let team = &session["team"];
    assert_eq!(team["back_at"], back_at, "{session}");
    assert!(team["away_from"].as_i64().unwrap() <= team["now"].as_i64().unwrap());

    let told = first_answer(&app, &shop.widget_key, "I want to talk to a human").await;
    assert!(told.contains(&back), "{told}");
    assert!(
        !told.contains("within 2 hours"),
        "no response time nobody is there to keep: {told}"
    );
    let first = owner.pending_handoff_id().await;

    // Monday morning: the team is back, and answers five minutes later.
    let now = app.state.clock.now_ms();
    app.state.clock.advance(std::time::Duration::from_millis(
        (back_at - now + 5 * 60_000) as u64,
    ));
    let (_, now) = owner.get("/api/v1/settings/business-hours/status").await;
    assert_eq!(now["open"], true, "{now}");
    assert_eq!(ms(&now["away_from"]), back_at + 3_600_000, "{now}");
    let path = format!("/api/v1/handoffs/{first}");
    let (status, body) = owner.post(&format!("{path}/claim"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = owner
        .post(
            &format!("{path}/messages"),
            json!({"text": "Good morning!"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // A customer handed off now is promised the bot's response time again.
    let told = first_answer(&app, &shop.widget_key, "can I speak to a person please").await;
    assert!(told.contains("within 2 hours"), "{told}");
    assert!(!told.contains("away"), "{told}");

    // Reports: the first handoff waited three days by the clock, five minutes at work.
    let (status, report) = owner.get("/api/v1/reports").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let open = &report["business_hours"];
    assert_eq!(open["opened_after_hours"], 1, "{report}");
    let clock_wait = report["handoffs"]["time_to_first_reply"]["median_seconds"]
        .as_i64()
        .unwrap();
    assert!(clock_wait > 2 * 86_400, "{report}");
    let open_wait = open["time_to_first_reply"]["median_seconds"]
        .as_i64()
        .unwrap();
    assert!((300..330).contains(&open_wait), "{report}");
    let html = page_html(&app, owner, "/reports").await;
    assert!(html.contains("1 opened outside business hours"), "{html}");
    assert!(html.contains("in business hours: 5 min"), "{html}");
}

#[tokio::test]
async fn business_hours_are_checked_kept_per_workspace_and_changed_by_admins_only() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (status, hours) = owner.get("/api/v1/settings/business-hours").await;
    assert_eq!(status, StatusCode::OK, "{hours}");
    assert_eq!(hours["enabled"], false, "off until switched on: {hours}");
    assert_eq!(
        hours["closed_on"],
        json!([]),
        "every field, even empty: {hours}"
    );
    assert_eq!(
        hours["week"]["mon"][0],
        json!({"from": "09:00", "to": "17:00"})
    );
    let (_, now) = owner.get("/api/v1/settings/business-hours/status").await;
    assert_eq!(
        now,
        json!({"enabled": false, "open": true, "away_from": null, "back_at": null, "back": null})
    );

    let put = |body: Value| {
        let owner = &owner;
        async move { owner.put("/api/v1/settings/business-hours", body).await }
    };
    for (body, says) in [
        (
            json!({"enabled": true, "timezone": "Mars/Olympus"}),
            "not a time zone",
        ),
        (
            json!({"enabled": true, "week": {"mon": [{"from": "17:00", "to": "09:00"}]}}),
            "ends before it starts",
        ),
        (
            json!({"enabled": true, "week": {"tue": [{"from": "09:00", "to": "13:00"},
                                                     {"from": "12:00", "to": "18:00"}]}}),
            "overlap",
        ),
        (json!({"enabled": true, "week": {}}), "at least one day"),
        (json!({"enabled": true, "away_message": " "}), "{back}"),
        (
            json!({"enabled": true, "week": {"wed": [{"from": "25:00", "to": "26:00"}]}}),
            "wed: \"25:00\" is not a time of day",
        ),
        (
            json!({"enabled": true, "closed_on": ["2026-12-25", "2026-02-30"]}),
            "\"2026-02-30\" is not a date",
        ),
    ] {
        let (status, error) = put(body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert!(
            error["error"]["message"].as_str().unwrap().contains(says),
            "{body}: {error}"
        );
    }
    let (status, error) = put(json!({"enabled": true, "holidays": []})).await;
    assert!(status.is_client_error(), "{error}");
    assert_eq!(
        owner.get("/api/v1/settings/business-hours").await.1,
        hours,
        "nothing saved"
    );

    let wanted = json!({"enabled": true, "timezone": "America/New_York",
                        "week": {"sat": [{"from": "10:00", "to": "14:00"}]},
                        "away_message": "  Back {back}, promise.  "});
    let (status, saved) = put(wanted).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["away_message"], "Back {back}, promise.");
    assert_eq!(saved["week"]["mon"], json!([]), "days left out are closed");
    assert_eq!(owner.get("/api/v1/settings/business-hours").await.1, saved);

    // Agents read them, and cannot change them; another workspace has its own.
    let agent = app.member(&owner, "ana@shop.test", "agent").await;
    assert_eq!(agent.get("/api/v1/settings/business-hours").await.1, saved);
    let (status, body) = agent
        .put("/api/v1/settings/business-hours", json!({"enabled": false}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let page = page_html(&app, &agent, "/settings/business-hours").await;
    assert!(page.contains("America/New_York"), "{page}");
    assert!(
        !page.contains(r#"type="submit">Save"#),
        "agents get no Save button"
    );
    let page = page_html(&app, &owner, "/settings/business-hours").await;
    assert!(page.contains(r#"type="submit">Save"#), "admins do");
    let other = app.other_workspace("owner@other.test").await;
    assert_eq!(
        other.get("/api/v1/settings/business-hours").await.1["enabled"],
        false
    );
    assert_eq!(owner.get("/api/v1/settings/business-hours").await.1, saved);
}

#[tokio::test]
async fn an_admin_sets_the_hours_in_the_dashboard_form() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap().to_owned();
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let (owner, token, url) = (&owner, token.clone(), app.url("/settings/business-hours"));
        async move {
            let mut form = vec![("csrf_token", token.as_str())];
            form.extend(fields);
            let response = owner.client.post(url).form(&form).send().await.unwrap();
            let query = response.url().query().unwrap_or_default().to_owned();
            (response.status(), response.text().await.unwrap(), query)
        }
    };
    let fields = |mon: &'static str, closed_on: &'static str| {
        vec![
            ("closed_on", closed_on),
            ("enabled", "true"),
            ("timezone", "Europe/Madrid"),
            ("mon", mon),
            ("tue", "09:00–17:00"),
            ("wed", ""),
            ("thu", ""),
            ("fri", "9:00 - 15:00"),
            ("sat", ""),
            ("sun", ""),
            ("away_message", "We're out until {back}."),
        ]
    };
    // Refused: the page again, the reason on top and what was typed still in the form.
    let (status, page, _) = post(fields("9am – 5pm", "2099-12-25")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("mon: &quot;9am&quot; is not a time of day"),
        "{page}"
    );
    assert!(page.contains(r#"value="9am – 5pm""#), "{page}");
    assert!(
        page.contains("We&#x27;re out until {back}.") || page.contains("We're out until {back}."),
        "{page}"
    );
    assert_eq!(
        owner.get("/api/v1/settings/business-hours").await.1["enabled"],
        false
    );

    let (status, page, _) = post(fields("08:00–12:00", "2099-12-25, 25/12/2099")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is not a date like 2026-12-25"), "{page}");
    assert!(page.contains(r#"value="2099-12-25, 25/12/2099""#), "{page}");

    let (status, _, query) = post(fields(
        "08:00–12:00, 13:00–17:30",
        "2099-12-25,2099-12-24\n 2099-12-25",
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(query, "ok=Saved.");
    let (_, hours) = owner.get("/api/v1/settings/business-hours").await;
    assert_eq!(hours["timezone"], "Europe/Madrid");
    assert_eq!(
        hours["week"]["mon"],
        json!([{"from": "08:00", "to": "12:00"}, {"from": "13:00", "to": "17:30"}])
    );
    assert_eq!(
        hours["week"]["fri"],
        json!([{"from": "09:00", "to": "15:00"}])
    );
    assert_eq!(hours["closed_on"], json!(["2099-12-24", "2099-12-25"]));
    let page = page_html(&app, &owner, "/settings/business-hours").await;
    assert!(page.contains("08:00–12:00, 13:00–17:30"), "{page}");
    assert!(page.contains("Now: "), "{page}");
    assert!(page.contains(r#"value="2099-12-24, 2099-12-25""#), "{page}");
    assert!(
        page.contains("Next closed day: Thursday 24 December 2099."),
        "{page}"
    );

    // A forged form changes nothing.
    let response = owner
        .client
        .post(app.url("/settings/business-hours"))
        .form(&[("csrf_token", "forged"), ("timezone", "UTC")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(owner.get("/api/v1/settings/business-hours").await.1, hours);
}

#[tokio::test]
async fn on_a_closed_day_a_customer_hears_the_day_the_team_is_back() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    // A team at work around the clock, but closed today and tomorrow.
    let today = DateTime::<Utc>::from_timestamp_millis(app.state.clock.now_ms())
        .unwrap()
        .date_naive();
    let tomorrow = today + Days::new(1);
    let all_day = json!([{"from": "00:00", "to": "24:00"}]);
    let week: serde_json::Map<String, Value> = DAYS
        .iter()
        .map(|day| (day.to_string(), all_day.clone()))
        .collect();
    let (status, body) = owner
        .put(
            "/api/v1/settings/business-hours",
            json!({"enabled": true, "timezone": "UTC", "week": week,
                   "closed_on": [tomorrow.to_string(), today.to_string(), today.to_string()]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["closed_on"],
        json!([today.to_string(), tomorrow.to_string()]),
        "in order, once"
    );
    let back_at = (today + Days::new(2))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();

    let (_, now) = owner.get("/api/v1/settings/business-hours/status").await;
    assert_eq!(now["open"], false, "{now}");
    assert_eq!(ms(&now["back_at"]), back_at, "{now}");
    assert_eq!(
        new_chat(&app, &shop.widget_key).await["team"]["back_at"],
        back_at
    );
    let told = first_answer(&app, &shop.widget_key, "I want to talk to a human").await;
    let back = format!("back on {} at 00:00 (UTC)", day_name(back_at));
    assert!(told.contains(&back), "{told}");

    // The day after: at work again, and a customer is promised the response time.
    let now = app.state.clock.now_ms();
    app.state.clock.advance(std::time::Duration::from_millis(
        (back_at - now + 60_000) as u64,
    ));
    let (_, now) = owner.get("/api/v1/settings/business-hours/status").await;
    assert_eq!(now["open"], true, "{now}");
    let told = first_answer(&app, &shop.widget_key, "can I speak to a person please").await;
    assert!(told.contains("within 2 hours"), "{told}");
}

#[tokio::test]
async fn with_business_hours_off_nothing_changes() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    // Saved but switched off: the same as never set.
    let (status, body) = owner
        .put(
            "/api/v1/settings/business-hours",
            json!({"enabled": false, "week": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = new_chat(&app, &shop.widget_key).await;
    assert_eq!(session["team"], Value::Null, "{session}");
    let told = first_answer(&app, &shop.widget_key, "I want to talk to a human").await;
    assert!(told.contains("within 2 hours"), "{told}");
    let (_, report) = owner.get("/api/v1/reports").await;
    assert_eq!(report["business_hours"], Value::Null, "{report}");
    assert_eq!(report["handoffs"]["opened"], 1, "{report}");

    // A bot that may not hand off tells its chat window nothing about the team.
    team_away(&app, owner).await;
    let alone = owner.create_bot("Alone").await;
    let session = new_chat(&app, alone["widget_key"].as_str().unwrap()).await;
    assert_eq!(session["team"], Value::Null, "{session}");
}
