//! Customers as records (admins): the list and its search, the download of everything kept
//! about one customer, and retention — customers idle past the workspace's period are erased.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, TestApp, Visitor, code, spawn_app};

const DAY: Duration = Duration::from_secs(86_400);

/// The names on every page of `path`, following the `Link` headers.
async fn names_on_pages(api: &Api, path: &str) -> Vec<Vec<String>> {
    let mut next = Some(path.to_owned());
    let mut pages = Vec::new();
    while let Some(path) = next.take() {
        let (page, following) = api.get_page(&path).await;
        next = following;
        pages.push(
            page.as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect(),
        );
    }
    pages
}

/// The names of the workspace's customers, most recently active first.
async fn names(api: &Api) -> Vec<String> {
    names_on_pages(api, "/api/v1/contacts").await.concat()
}

/// A visitor known by `name` who writes `text`, a second after the previous one, once the
/// bot has answered (its answer is activity too, at the time it is stored).
async fn customer(app: &TestApp, widget_key: &str, name: &str, text: &str) -> Visitor {
    app.state.clock.advance(Duration::from_secs(1));
    let visitor = app.visitor_named(widget_key, Some(name)).await;
    visitor.say(text).await;
    visitor.wait_for_messages(2).await;
    visitor
}

#[tokio::test]
async fn admins_find_customers_by_name_number_or_id_newest_activity_first() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    let owner = &shop.owner;
    let ann_lee = customer(&app, &shop.widget_key, "Ann Lee", "hello").await;
    customer(&app, &shop.widget_key, "Bob Stone", "hello").await;
    customer(&app, &shop.widget_key, "Ann-Marie 50%_off", "hello").await;
    assert_eq!(
        names(owner).await,
        ["Ann-Marie 50%_off", "Bob Stone", "Ann Lee"]
    );

    // Pages of two: the last, short page links nowhere.
    assert_eq!(
        names_on_pages(owner, "/api/v1/contacts?limit=2").await,
        [vec!["Ann-Marie 50%_off", "Bob Stone"], vec!["Ann Lee"]]
    );
    // Search is by part of a name, any case; its wildcards are taken as text.
    let search = |q: &str| {
        let path = format!("/api/v1/contacts?q={}", urlencode(q));
        async move { names_on_pages(owner, &path).await.concat() }
    };
    assert_eq!(search("ANN").await, ["Ann-Marie 50%_off", "Ann Lee"]);
    assert_eq!(search("50%_").await, ["Ann-Marie 50%_off"]);
    assert_eq!(search("%").await, ["Ann-Marie 50%_off"]);
    assert!(search("nobody").await.is_empty());
    // Paging through a search keeps to it (a full page always links on, here to none).
    assert_eq!(
        names_on_pages(owner, "/api/v1/contacts?q=ann&limit=1").await,
        [vec!["Ann-Marie 50%_off"], vec!["Ann Lee"], vec![]]
    );

    // A whole id finds a customer.
    let (list, _) = owner.get_page("/api/v1/contacts").await;
    let ann = list.as_array().unwrap()[2].clone();
    assert_eq!(ann["channel"], "widget");
    assert_eq!(ann["conversations"], 1);
    assert_eq!(ann["open_handoff_id"], Value::Null);
    let ann_id = ann["id"].as_str().unwrap();
    assert_eq!(search(ann_id).await, ["Ann Lee"]);

    // Writing again moves a customer to the top, and the pages being read neither repeat
    // nor skip anyone who stays where they were.
    let (first, next) = owner.get_page("/api/v1/contacts?limit=1").await;
    assert_eq!(first[0]["name"], "Ann-Marie 50%_off");
    app.state.clock.advance(Duration::from_secs(1));
    ann_lee.say("me again").await;
    ann_lee.wait_for_messages(4).await;
    let rest = names_on_pages(owner, &next.unwrap()).await.concat();
    assert_eq!(rest, ["Bob Stone"]);
    assert_eq!(
        names(owner).await,
        ["Ann Lee", "Ann-Marie 50%_off", "Bob Stone"]
    );

    // A WhatsApp customer is found by their number however it is spelt; a search of
    // separators alone finds no number.
    let (_, me) = owner.get("/api/v1/me").await;
    app.state
        .store
        .upsert_contact(
            me["workspace"]["id"].as_str().unwrap(),
            "whatsapp",
            "4915112345678",
            "Hans",
            Some("+4915112345678"),
            app.state.clock.now_ms(),
        )
        .await
        .unwrap();
    assert_eq!(search("+49 151 1234-5678").await, ["Hans"]);
    assert_eq!(search("(0151) 1234").await, Vec::<String>::new());
    assert_eq!(search("1234").await, ["Hans"]);
    assert_eq!(search(" - ").await, ["Ann-Marie 50%_off"]);

    // Names in any script are found in any case, with or without their accents.
    for name in ["José Álvarez", "Иван Петров", "İsmail Işık"] {
        customer(&app, &shop.widget_key, name, "hola").await;
    }
    for (q, found) in [
        ("JOSÉ", "José Álvarez"),
        ("jose alvarez", "José Álvarez"),
        ("ИВАН", "Иван Петров"),
        ("петров", "Иван Петров"),
        ("ismail isik", "İsmail Işık"),
        ("IŞIK", "İsmail Işık"),
    ] {
        assert_eq!(search(q).await, [found], "{q}");
    }
    // A search of nothing but an accent finds no one (not everyone).
    assert!(search("\u{301}").await.is_empty());
    // A name and a channel id are not one text to search across.
    let (list, _) = owner.get_page("/api/v1/contacts").await;
    let ivan_id = list[1]["id"].as_str().unwrap();
    let (_, ivan) = owner.get(&format!("/api/v1/contacts/{ivan_id}")).await;
    let visitor_id = ivan["contact"]["external_id"].as_str().unwrap();
    assert_eq!(search(&visitor_id.to_uppercase()).await, ["Иван Петров"]);
    let across = format!("петров\n{}", &visitor_id[..3]);
    assert!(search(&across).await.is_empty(), "{across}");

    // Only admins; another workspace sees none of them and cannot page from them.
    let agent = app.member(owner, "agent@shop.test", "agent").await;
    let (status, body) = agent.get("/api/v1/contacts").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let stranger = app.other_workspace("stranger@other.test").await;
    assert!(names(&stranger).await.is_empty());
    let (status, body) = owner.get(&format!("/api/v1/contacts?after={ann_id}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = owner.get("/api/v1/contacts?sort=name").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn the_download_holds_every_message_and_handoff_of_the_customer_and_no_one_elses() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let jane = app
        .visitor_named(&shop.widget_key, Some("Jane <b>Doe</b>"))
        .await;
    jane.say("my order 4471 never came, jane@example.com, get me a human")
        .await;
    let other = app.visitor_named(&shop.widget_key, Some("Other")).await;
    other.say("what are your shipping costs?").await;
    let handoff = owner.first_handoff().await;
    let handoff_id = handoff["id"].as_str().unwrap();
    let (status, _) = owner
        .post(&format!("/api/v1/handoffs/{handoff_id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = owner
        .post(
            &format!("/api/v1/handoffs/{handoff_id}/messages"),
            json!({"text": "Looking into order 4471 now"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let contact = handoff["customer"]["id"].as_str().unwrap();

    let (status, record) = owner.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["contact"]["id"], contact);
    assert_eq!(record["contact"]["name"], "Jane <b>Doe</b>");
    assert_eq!(record["contact"]["channel"], "widget");
    let conversations = record["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["id"], jane.conversation_id.as_str());
    let texts: Vec<&str> = conversations[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts.first(),
        Some(&"my order 4471 never came, jane@example.com, get me a human")
    );
    assert!(texts.contains(&"Looking into order 4471 now"), "{texts:?}");
    assert!(
        !texts.iter().any(|t| t.contains("shipping costs")),
        "{texts:?}"
    );
    let handoffs = record["handoffs"].as_array().unwrap();
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0]["id"], handoff_id);
    assert!(
        handoffs[0]["summary"].as_str().unwrap().contains("4471"),
        "{record}"
    );

    // The list says the handoff is open.
    let (list, _) = owner.get_page("/api/v1/contacts?q=jane").await;
    assert_eq!(list[0]["open_handoff_id"], handoff_id);

    let agent = app.member(owner, "agent@shop.test", "agent").await;
    let (status, _) = agent.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = app.other_workspace("stranger@other.test").await;
    let (status, body) = stranger.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "not_found");

    // After the erase there is nothing to download.
    let (status, erased) = owner.delete(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(erased["reason"], "request");
    let (status, _) = owner.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(names(owner).await, ["Other"]);
}

/// `api`'s user by an API key: sessions end after 30 days, and retention is counted in months.
async fn keyed(api: &Api) -> Api {
    let (status, created) = api
        .post("/api/v1/api-keys", json!({"name": "retention test"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    api.with_bearer(created["key"].as_str().unwrap())
}

#[tokio::test]
async fn retention_erases_customers_idle_past_the_period_but_not_while_a_handoff_is_open() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &keyed(&shop.owner).await;
    let (status, settings) = owner.get("/api/v1/settings/retention").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings, json!({"keep_days": null}));
    for wrong in [json!({"keep_days": 0}), json!({"keep_days": 3651})] {
        let (status, body) = owner.put("/api/v1/settings/retention", wrong).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, body) = owner
        .put("/api/v1/settings/retention", json!({"keep_days": "30"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let agent = app.member(owner, "agent@shop.test", "agent").await;
    let (status, _) = agent
        .put("/api/v1/settings/retention", json!({"keep_days": 1}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Without a period nothing is ever erased.
    customer(
        &app,
        &shop.widget_key,
        "Olga",
        "what are your shipping costs?",
    )
    .await;
    let walt = customer(&app, &shop.widget_key, "Walt", "I want to talk to a person").await;
    let walts_handoff = eventually_handoff_of(owner, &walt.conversation_id).await;
    let (list, _) = owner.get_page("/api/v1/contacts?q=olga").await;
    let olga = list[0]["id"].clone();
    app.state.clock.advance(400 * DAY);
    assert_eq!(baton::retention::run_due(&app.state).await.unwrap(), 0);

    let (status, settings) = owner
        .put("/api/v1/settings/retention", json!({"keep_days": 30}))
        .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings, json!({"keep_days": 30}));
    let (_, settings) = owner.get("/api/v1/settings/retention").await;
    assert_eq!(settings["keep_days"], 30);
    // Another workspace with a period of its own, and a customer of its own.
    let stranger = keyed(&app.other_workspace("stranger@other.test").await).await;
    let (status, _) = stranger
        .put("/api/v1/settings/retention", json!({"keep_days": 365}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let strangers_bot = stranger.create_bot("Other Help").await;
    customer(
        &app,
        strangers_bot["widget_key"].as_str().unwrap(),
        "Sam",
        "hello",
    )
    .await;
    let nina = customer(&app, &shop.widget_key, "Nina", "hello").await;

    // Saving woke the sweep: Olga, idle 400 days, is erased, with the event that says so;
    // Walt waits for an agent; Nina and Sam are new.
    let mut events = app.events(owner, 0).await;
    let erased = events.next_of("contact.erased").await;
    assert_eq!(erased["contact_id"], olga);
    assert_eq!(erased["reason"], "retention");
    assert_eq!(names(owner).await, ["Nina", "Walt"]);
    assert_eq!(names(&stranger).await, ["Sam"]);

    // Once Walt's handoff is resolved, his 30 days start; a message restarts them.
    let (status, _) = owner
        .post(
            &format!("/api/v1/handoffs/{walts_handoff}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.state.clock.advance(20 * DAY);
    nina.say("still there?").await;
    app.state.clock.advance(11 * DAY);
    // Nothing wakes the sweep now (it runs hourly): run it here.
    baton::retention::run_due(&app.state).await.unwrap();
    assert_eq!(names(owner).await, ["Nina"]);
    assert_eq!(names(&stranger).await, ["Sam"]);
}

/// The handoff of the conversation, once the bot has opened it.
async fn eventually_handoff_of(owner: &Api, conversation: &str) -> String {
    crate::helpers::eventually(|| async {
        let (_, list) = owner.get("/api/v1/handoffs").await;
        list.as_array()?
            .iter()
            .find(|h| h["conversation_id"] == conversation)
            .map(|h| h["id"].as_str().unwrap().to_owned())
    })
    .await
}

#[tokio::test]
async fn a_customer_who_writes_while_the_sweep_runs_is_kept() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    let owner = &keyed(&shop.owner).await;
    let (_, me) = owner.get("/api/v1/me").await;
    let workspace = me["workspace"]["id"].as_str().unwrap().to_owned();
    let store = &app.state.store;
    let olga = customer(&app, &shop.widget_key, "Olga", "hello").await;
    let hans = |now| {
        store.upsert_contact(
            &workspace,
            "whatsapp",
            "4915112345678",
            "Hans",
            Some("+4915112345678"),
            now,
        )
    };
    let hans_id = hans(app.state.clock.now_ms()).await.unwrap().id;
    app.state.clock.advance(40 * DAY);
    let now = app.state.clock.now_ms();
    let before = now - 30 * 86_400_000;
    let mut stale = store.stale_contacts(&workspace, before, 10).await.unwrap();
    stale.sort();
    let (list, _) = owner.get_page("/api/v1/contacts?q=olga").await;
    let olga_id = list[0]["id"].as_str().unwrap().to_owned();
    let mut expected = vec![olga_id.clone(), hans_id.clone()];
    expected.sort();
    assert_eq!(stale, expected);

    // Between the sweep's list and its erase, Olga writes in the widget, and Hans's next
    // WhatsApp message arrives (the contact is looked up before the message is stored).
    olga.say("I'm back").await;
    hans(now).await.unwrap();
    for id in [&olga_id, &hans_id] {
        let kept = store
            .erase_contact_if_idle(&workspace, id, before, now)
            .await;
        assert!(
            matches!(kept, Err(baton::store::StoreError::NotFound(_))),
            "{kept:?}"
        );
    }
    assert_eq!(names(owner).await.len(), 2);
}
