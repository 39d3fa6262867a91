//! Dashboard pages over plain HTTP: login walls, CSRF, and the notification settings behind the
//! Settings → Notifications form.

use reqwest::StatusCode;
use serde_json::json;

use crate::fake_graph::{FakeGraph, PHONE_NUMBER_ID, TOKEN};
use crate::fake_openai::{FakeOpenAi, Step};
use crate::helpers::{Api, TestApp, code, spawn_app, spawn_app_with};

/// A dashboard page's HTML as `api`'s user sees it.
pub(crate) async fn page_html(app: &TestApp, api: &Api, path: &str) -> String {
    let response = api.client.get(app.url(path)).send().await.unwrap();
    response.text().await.unwrap()
}

#[tokio::test]
async fn pages_send_strangers_to_the_login_page() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for page in [
        "/handoffs",
        "/bots",
        "/marketplace",
        "/agents",
        "/settings/notifications",
        "/settings/webhooks",
        "/settings/business-hours",
        "/customers",
    ] {
        let response = client.get(app.url(page)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{page}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login?next="), "{location}");
    }
    let login = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let response = owner
        .client
        .post(app.url("/marketplace/request_handoff"))
        .form(&[("csrf_token", "forged"), ("action", "add")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (_, catalogue) = owner.get("/api/v1/marketplace").await;
    assert_eq!(catalogue[0]["installed"], false);

    // With the token from the session, the same form works.
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap();
    let response = owner
        .client
        .post(app.url("/marketplace/request_handoff"))
        .form(&[("csrf_token", token), ("action", "add")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (_, catalogue) = owner.get("/api/v1/marketplace").await;
    assert_eq!(catalogue[0]["installed"], true);
}

#[tokio::test]
async fn notification_settings_are_validated_saved_and_kept_per_workspace() {
    let graph = FakeGraph::start().await;
    graph.add_number("1065", "+44 20 7946 0958", "Other Ltd", "their-token");
    let base = graph.base.clone();
    let app = spawn_app_with(move |s| s.whatsapp_graph_url = Some(base)).await;
    let owner = app.owner().await;
    let (status, defaults) = owner.get("/api/v1/settings/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(defaults["whatsapp"]["enabled"], false);
    assert_eq!(defaults["whatsapp"]["template"]["name"], "new_handoff");

    let channel = |owner: &crate::helpers::Api, bot_id: String, number: &str, token: &str| {
        let owner = owner.clone();
        let body = json!({"phone_number_id": number, "access_token": token, "app_secret": "b",
                          "verify_token": "c"});
        async move {
            let (status, channel) = owner
                .post(&format!("/api/v1/bots/{bot_id}/channels/whatsapp"), body)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{channel}");
            channel["id"].as_str().unwrap().to_owned()
        }
    };
    let bot = owner.create_bot("Acme Help").await;
    let channel_id = channel(
        &owner,
        bot["id"].as_str().unwrap().to_owned(),
        PHONE_NUMBER_ID,
        TOKEN,
    )
    .await;
    let other = app.other_workspace("olga@other.test").await;
    let their_bot = other.create_bot("Other Help").await;
    let their_channel = channel(
        &other,
        their_bot["id"].as_str().unwrap().to_owned(),
        "1065",
        "their-token",
    )
    .await;
    for wrong in ["ch_1", their_channel.as_str()] {
        let wanted = json!({"whatsapp": {"enabled": true, "channel_id": wrong,
            "recipients": ["+14155550123"], "template": {"name": "a", "language": "de"}}});
        let (status, body) = owner.put("/api/v1/settings/notifications", wanted).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("channel_id")
        );
    }

    let wanted = json!({"whatsapp": {"enabled": true, "channel_id": channel_id,
        "recipients": ["+49 151 1234-5678", "+14155550123"],
        "template": {"name": "handoff_alert", "language": "de"}}});
    let (status, saved) = owner.put("/api/v1/settings/notifications", wanted).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved["whatsapp"]["recipients"],
        json!(["+4915112345678", "+14155550123"])
    );
    let (_, read) = owner.get("/api/v1/settings/notifications").await;
    assert_eq!(read, saved);

    let (status, body) = owner
        .put(
            "/api/v1/settings/notifications",
            json!({"whatsapp": {"enabled": false, "recipients": ["0151 not international"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "validation_failed");
    assert_eq!(owner.get("/api/v1/settings/notifications").await.1, saved);

    let agent = app.member(&owner, "agent@shop.test", "agent").await;
    let (status, _) = agent.put("/api/v1/settings/notifications", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An agent reads the settings without their colleagues' numbers, only their own.
    let (_, seen) = agent.get("/api/v1/settings/notifications").await;
    assert_eq!(seen["whatsapp"]["recipients"], json!([]), "{seen}");
    // Nor on the dashboard page, where the form is read-only for them.
    let html = page_html(&app, &agent, "/settings/notifications").await;
    assert!(html.contains("Settings → Notifications"), "{html}");
    let listed = |html: &str| {
        let start = html
            .find("id=\"wa-recipients\"")
            .expect("the numbers field");
        let field = &html[start..];
        field[field.find('>').unwrap() + 1..field.find("</textarea>").unwrap()].to_owned()
    };
    assert_eq!(listed(&html), "");
    let html = page_html(&app, &owner, "/settings/notifications").await;
    assert_eq!(listed(&html), "+4915112345678\n+14155550123");
    let (status, _) = agent
        .patch("/api/v1/me", json!({"whatsapp_number": "+1 415 555 0123"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, seen) = agent.get("/api/v1/settings/notifications").await;
    assert_eq!(seen["whatsapp"]["recipients"], json!(["+14155550123"]));
    assert_eq!(seen["whatsapp"]["template"], saved["whatsapp"]["template"]);
    let (_, theirs) = other.get("/api/v1/settings/notifications").await;
    assert_eq!(theirs["whatsapp"]["recipients"], json!([]));
}

#[tokio::test]
async fn logging_out_from_the_dashboard_ends_the_session() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap().to_owned();
    let forged = owner
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
    let response = owner
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        response.url().path().starts_with("/login"),
        "{}",
        response.url()
    );
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_bot_page_shows_and_changes_the_knowledge_base_language() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Ajuda").await;
    let id = bot["id"].as_str().unwrap();
    let page = page_html(&app, &owner, &format!("/bots/{id}")).await;
    assert!(
        page.contains(r#"<select id="kb_language" name="kb_language">"#),
        "{page}"
    );
    assert!(page.contains(r#"<option value="en" selected>"#), "{page}");
    assert!(page.contains(r#"<option value="none">"#), "{page}");

    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap();
    let save = |language: &'static str| {
        owner
            .client
            .post(app.url(&format!("/bots/{id}")))
            .form(&[("csrf_token", token), ("kb_language", language)])
            .send()
    };
    let page = save("pt").await.unwrap().text().await.unwrap();
    assert!(page.contains("Settings saved."), "{page}");
    assert!(page.contains(r#"<option value="pt" selected>"#), "{page}");
    assert_eq!(
        owner.get(&format!("/api/v1/bots/{id}")).await.1["kb_language"],
        "pt"
    );

    let page = save("zz").await.unwrap().text().await.unwrap();
    assert!(page.contains("kb_language: must be one of"), "{page}");
    assert_eq!(
        owner.get(&format!("/api/v1/bots/{id}")).await.1["kb_language"],
        "pt"
    );
}

#[tokio::test]
async fn the_bot_page_sets_and_clears_the_relevance_threshold() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let id = bot["id"].as_str().unwrap();
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap();
    let save = |threshold: &'static str| {
        owner
            .client
            .post(app.url(&format!("/bots/{id}")))
            .form(&[("csrf_token", token), ("relevance_threshold", threshold)])
            .send()
    };
    let url = format!("/api/v1/bots/{id}");
    let read = || owner.get(&url);

    let page = save("0.4").await.unwrap().text().await.unwrap();
    assert!(page.contains("Settings saved."), "{page}");
    assert!(page.contains(r#"name="relevance_threshold""#), "{page}");
    assert!(page.contains(r#"value="0.4""#), "{page}");
    assert_eq!(read().await.1["relevance_threshold"], json!(0.4));

    for bad in ["1.2", "high"] {
        let page = save(bad).await.unwrap().text().await.unwrap();
        assert!(
            page.contains("relevance_threshold: must be a number from 0 to 1"),
            "{page}"
        );
        assert_eq!(read().await.1["relevance_threshold"], json!(0.4));
    }

    // Emptied, the field shows the default as its placeholder and the bot follows it.
    let page = save("").await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"placeholder="0.235 (default)""#), "{page}");
    assert_eq!(read().await.1["relevance_threshold_default"], true);
}

#[tokio::test]
async fn the_bot_page_sets_the_bots_own_model_endpoint_and_key() {
    let own = FakeOpenAi::start_with_key(
        Some("sk-page-5678"),
        vec![Step::Answer("From the page's model.")],
    )
    .await;
    let app = spawn_app_with(|_| {}).await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let page_path = format!("/bots/{}", shop.bot_id);
    let api_path = format!("/api/v1/bots/{}", shop.bot_id);
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap();
    let save = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf_token", token.to_owned())];
        form.extend(fields);
        let request = owner.client.post(app.url(&page_path)).form(&form).send();
        async move { request.await.unwrap().text().await.unwrap() }
    };

    let test_question = || {
        let request = owner
            .client
            .get(app.url(&page_path))
            .query(&[("q", "How long does standard delivery take?")])
            .send();
        async move { request.await.unwrap().text().await.unwrap() }
    };
    let page = test_question().await;
    assert!(
        page.contains("Answers come from the built-in bot"),
        "{page}"
    );
    assert!(
        page.contains("The bot would answer “How long does standard delivery take?” from"),
        "{page}"
    );
    assert!(page.contains(r#"name="llm_api_key""#), "{page}");

    let page = save(vec![
        ("llm_model", "page-model".to_owned()),
        ("llm_base_url", own.base_url.clone()),
        ("llm_api_key", "sk-page-5678".to_owned()),
    ])
    .await;
    assert!(page.contains("Settings saved."), "{page}");
    assert!(page.contains("••••5678"), "{page}");
    assert!(
        !page.contains("sk-page-5678"),
        "the key is never shown again"
    );
    assert!(
        page.contains("written by the model <strong>page-model</strong>"),
        "{page}"
    );
    // "Test a question" speaks of what the model would be given, not of a quoted answer.
    let tested = test_question().await;
    assert!(
        tested.contains("The model would be given <strong>Shipping</strong> as relevant"),
        "{tested}"
    );
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("What do you sell?").await;
    assert_eq!(
        visitor.wait_for_messages(2).await[1]["text"],
        "From the page's model."
    );
    assert_eq!(own.requests()[0]["model"], "page-model");

    // Saving the form again with the key field left empty keeps the key.
    save(vec![
        ("llm_model", "page-model".to_owned()),
        ("llm_base_url", own.base_url.clone()),
        ("llm_api_key", String::new()),
    ])
    .await;
    assert_eq!(owner.get(&api_path).await.1["llm_api_key"], "••••5678");

    // A bad endpoint is refused with the field named, and nothing changes.
    let page = save(vec![("llm_base_url", "ftp://models.example/v1".to_owned())]).await;
    assert!(page.contains("llm_base_url: must be an http"), "{page}");
    assert_eq!(owner.get(&api_path).await.1["llm_base_url"], own.base_url);

    // Emptied fields and "remove this bot's key" put the bot back on the built-in responder.
    let page = save(vec![
        ("llm_model", String::new()),
        ("llm_base_url", String::new()),
        ("llm_api_key", String::new()),
        ("llm_api_key_clear", "true".to_owned()),
    ])
    .await;
    assert!(
        page.contains("Answers come from the built-in bot"),
        "{page}"
    );
    let (_, bot) = owner.get(&api_path).await;
    for field in ["llm_model", "llm_base_url", "llm_api_key"] {
        assert!(bot[field].is_null(), "{field}: {bot}");
    }
}

#[tokio::test]
async fn the_webhooks_page_adds_shows_the_secret_once_and_deletes() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap().to_owned();
    let submit = |fields: Vec<(&'static str, String)>| {
        let owner = owner.clone();
        let url = app.url("/settings/webhooks");
        async move {
            let response = owner.client.post(url).form(&fields).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };

    // Two boxes ticked: the webhook follows exactly those; the secret is on the answer page.
    let (status, page) = submit(vec![
        ("csrf_token", token.clone()),
        ("url", "https://crm.example.com/in".to_owned()),
        ("events", "handoff.created".to_owned()),
        ("events", "handoff.resolved".to_owned()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (_, list) = owner.get("/api/v1/webhooks").await;
    assert_eq!(list[0]["url"], "https://crm.example.com/in");
    assert_eq!(
        list[0]["events"],
        json!(["handoff.created", "handoff.resolved"])
    );
    let secret_at = page.find("whsec_").expect("the secret is shown");
    let secret: String = page[secret_at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(secret.len() > 30, "{secret}");
    let again = page_html(&app, &owner, "/settings/webhooks").await;
    assert!(again.contains("https://crm.example.com/in"));
    assert!(!again.contains(&secret), "the secret is shown only once");

    // A bad URL is explained on the page and adds nothing; a forged form changes nothing.
    let (status, page) = submit(vec![
        ("csrf_token", token.clone()),
        ("url", "javascript:alert(1)".to_owned()),
        ("events", "*".to_owned()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("flash error") && page.contains("not an http"),
        "{page}"
    );
    let (status, _) = submit(vec![
        ("csrf_token", "forged".to_owned()),
        ("url", "https://evil.example.com/".to_owned()),
    ])
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        owner
            .get("/api/v1/webhooks")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Agents see no webhooks and cannot add any.
    let agent = app.member(&owner, "agent@shop.test", "agent").await;
    let page = page_html(&app, &agent, "/settings/webhooks").await;
    assert!(page.contains("Only admins"));
    assert!(!page.contains("crm.example.com"));

    let id = list[0]["id"].as_str().unwrap();
    let response = owner
        .client
        .post(app.url(&format!("/settings/webhooks/{id}/delete")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(owner.get("/api/v1/webhooks").await.1, json!([]));
}

#[tokio::test]
async fn the_account_page_links_and_unlinks_the_users_whatsapp_number() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let page = page_html(&app, &owner, "/account/password").await;
    assert!(page.contains(r#"id="whatsapp_number""#), "{page}");
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap();
    let save = |number: &'static str| {
        owner
            .client
            .post(app.url("/account/whatsapp"))
            .form(&[("csrf_token", token), ("whatsapp_number", number)])
            .send()
    };
    let page = save("+49 151 1234 5678")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("WhatsApp number saved."), "{page}");
    assert!(page.contains(r#"value="+4915112345678""#), "{page}");
    assert_eq!(
        owner.get("/api/v1/me").await.1["user"]["whatsapp_number"],
        "+4915112345678"
    );
    let page = save("<script>1</script>")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("is not a phone number"), "{page}");
    assert!(!page.contains("<script>1"), "shown escaped");
    let page = save("").await.unwrap().text().await.unwrap();
    assert!(page.contains("WhatsApp number removed."), "{page}");
    assert_eq!(
        owner.get("/api/v1/me").await.1["user"]["whatsapp_number"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn the_customers_page_finds_shows_downloads_and_erases_a_customer() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    let owner = &shop.owner;
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap().to_owned();
    let jane = app
        .visitor_named(&shop.widget_key, Some("<b>Jane</b> & co"))
        .await;
    jane.say("<script>alert('order 4471')</script>").await;
    app.visitor_named(&shop.widget_key, Some("Bob"))
        .await
        .say("hello")
        .await;

    // Found by part of her name; every customer text is escaped.
    let page = page_html(&app, owner, "/customers?q=JANE").await;
    assert!(page.contains("&lt;b&gt;Jane&lt;/b&gt; &amp; co"), "{page}");
    assert!(!page.contains("<b>Jane</b>"));
    assert!(!page.contains("Bob"), "{page}");
    let (list, _) = owner.get_page("/api/v1/contacts?q=jane").await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let page = page_html(&app, owner, &format!("/customers/{id}")).await;
    assert!(
        page.contains("&lt;script&gt;alert('order 4471')&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"));

    // The download is the API's record, as a file.
    let response = owner
        .client
        .get(app.url(&format!("/customers/{id}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"customer-{id}.json\"").as_str()
    );
    let record: serde_json::Value = response.json().await.unwrap();
    assert_eq!(record["contact"]["name"], "<b>Jane</b> & co");
    assert_eq!(
        record["conversations"][0]["messages"][0]["text"],
        "<script>alert('order 4471')</script>"
    );

    // Agents are told it is for admins, and get no file.
    let agent = app.member(owner, "agent@shop.test", "agent").await;
    let page = page_html(&app, &agent, "/customers").await;
    assert!(page.contains("Only admins"), "{page}");
    assert!(!page.contains("Jane"));
    let response = agent
        .client
        .get(app.url(&format!("/customers/{id}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Retention: a number of days, or empty for "until erased"; anything else is explained.
    let retention = |keep_days: &'static str, csrf: String| {
        let url = app.url("/customers/retention");
        let client = owner.client.clone();
        async move {
            let response = client
                .post(url)
                .form(&[("csrf_token", csrf.as_str()), ("keep_days", keep_days)])
                .send()
                .await
                .unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, page) = retention("90", token.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("idle for 90 days are erased"), "{page}");
    assert!(page.contains("value=\"90\""), "{page}");
    assert_eq!(
        owner.get("/api/v1/settings/retention").await.1["keep_days"],
        90
    );
    let (_, page) = retention("ninety", token.clone()).await;
    assert!(page.contains("flash error"), "{page}");
    let (_, page) = retention("0", token.clone()).await;
    assert!(
        page.contains("flash error") && page.contains("from 1 to 3650"),
        "{page}"
    );
    let (status, _) = retention("", "forged".to_owned()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        owner.get("/api/v1/settings/retention").await.1["keep_days"],
        90
    );
    let (_, page) = retention("", token.clone()).await;
    assert!(page.contains("kept until you erase it"), "{page}");
    assert_eq!(
        owner.get("/api/v1/settings/retention").await.1["keep_days"],
        serde_json::Value::Null
    );

    // Erasing: not with a forged form, nor by an agent; then for good.
    let erase = |api: &Api, csrf: String| {
        let url = app.url(&format!("/customers/{id}/erase"));
        let client = api.client.clone();
        async move {
            let response = client
                .post(url)
                .form(&[("csrf_token", csrf)])
                .send()
                .await
                .unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, _) = erase(owner, "forged".to_owned()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, agent_me) = agent.get("/api/v1/me").await;
    let (status, _) = erase(&agent, agent_me["csrf_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, page) = erase(owner, token.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Erased &lt;b&gt;Jane&lt;/b&gt; &amp; co and everything kept about them."),
        "{page}"
    );
    assert!(page.contains("Bob") && !page.contains("Jane</b>"), "{page}");
    let (status, _) = owner.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = owner
        .client
        .get(app.url(&format!("/customers/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_bot_page_shows_the_number_replaces_its_secrets_and_disconnects_it() {
    let graph = FakeGraph::start().await;
    let base = graph.base.clone();
    let app = spawn_app_with(move |s| s.whatsapp_graph_url = Some(base)).await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap().to_owned();
    let bot_page = format!("/bots/{}", shop.bot_id);
    let post = |api: &Api, path: String, form: Vec<(&'static str, String)>| {
        let url = app.url(&path);
        let client = api.client.clone();
        async move {
            let response = client.post(url).form(&form).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };

    // A mistyped token is refused with Meta's reason; the right one connects the number,
    // shown as Meta names it.
    let connect = |access_token: &str| {
        vec![
            ("csrf_token", token.clone()),
            ("phone_number_id", PHONE_NUMBER_ID.to_owned()),
            ("access_token", access_token.to_owned()),
            ("app_secret", "s3cret".to_owned()),
            ("verify_token", "v".to_owned()),
        ]
    };
    let (_, page) = post(
        owner,
        format!("{bot_page}/channels/whatsapp"),
        connect("EAAG-typo"),
    )
    .await;
    assert!(
        page.contains("flash error") && page.contains("WhatsApp refused this access token"),
        "{page}"
    );
    let (_, page) = post(
        owner,
        format!("{bot_page}/channels/whatsapp"),
        connect(TOKEN),
    )
    .await;
    assert!(page.contains("+1 555-078-3881 · Acme Shop"), "{page}");
    let (_, channels) = owner.get("/api/v1/channels").await;
    let channel_id = channels[0]["id"].as_str().unwrap().to_owned();
    let secrets = format!("{bot_page}/channels/{channel_id}/secrets");
    let disconnect = format!("{bot_page}/channels/{channel_id}/disconnect");

    // Replacing secrets: nothing given changes nothing; a refused token keeps the old one.
    let (_, page) = post(
        owner,
        secrets.clone(),
        vec![
            ("csrf_token", token.clone()),
            ("access_token", " ".into()),
            ("app_secret", String::new()),
        ],
    )
    .await;
    assert!(page.contains("Nothing to save"), "{page}");
    graph.replace_token(TOKEN, "EAAG-renewed-2026");
    let (_, page) = post(
        owner,
        secrets.clone(),
        vec![
            ("csrf_token", token.clone()),
            ("access_token", "EAAG-renewed-202".into()),
        ],
    )
    .await;
    assert!(
        page.contains("flash error") && page.contains("190"),
        "{page}"
    );
    let (_, page) = post(
        owner,
        secrets.clone(),
        vec![
            ("csrf_token", token.clone()),
            ("access_token", "EAAG-renewed-2026".into()),
            ("app_secret", "rotated".into()),
        ],
    )
    .await;
    assert!(page.contains("Saved."), "{page}");
    assert!(!page.contains("EAAG-renewed-2026") && !page.contains("rotated"));
    assert_eq!(
        owner.get("/api/v1/channels").await.1[0]["access_token"],
        "••••2026"
    );

    // Disconnecting: not with a forged form, nor by an agent; then for good.
    let agent = app.member(owner, "amy@acme.test", "agent").await;
    let (_, agent_me) = agent.get("/api/v1/me").await;
    let agent_token = agent_me["csrf_token"].as_str().unwrap().to_owned();
    let agent_page = page_html(&app, &agent, &bot_page).await;
    assert!(!agent_page.contains("Disconnect number"), "{agent_page}");
    for (api, csrf) in [(owner, "forged".to_owned()), (&agent, agent_token.clone())] {
        let (status, _) = post(api, disconnect.clone(), vec![("csrf_token", csrf)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = post(
        &agent,
        secrets.clone(),
        vec![("csrf_token", agent_token), ("access_token", "x".into())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, page) = post(owner, disconnect, vec![("csrf_token", token.clone())]).await;
    assert!(page.contains("WhatsApp number disconnected."), "{page}");
    assert!(page.contains("No number connected."), "{page}");
    assert_eq!(owner.get("/api/v1/channels").await.1, json!([]));
}

#[tokio::test]
async fn an_admin_adds_a_web_page_to_the_knowledge_base_from_the_bot_page() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let id = bot["id"].as_str().unwrap();
    let page = page_html(&app, &owner, &format!("/bots/{id}")).await;
    assert!(page.contains("/documents/from-url"), "{page}");
    let (site, _) = crate::fake_site::help_centre().await;
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap();
    let post = |url: String, token: &str| {
        owner
            .client
            .post(app.url(&format!("/bots/{id}/documents/from-url")))
            .form(&[("csrf_token", token), ("url", url.as_str())])
            .send()
    };
    let forged = post(format!("{site}/help/returns"), "forged")
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let added = post(format!("{site}/help/returns"), token).await.unwrap();
    let text = added.text().await.unwrap();
    assert!(text.contains("Added “Returns and refunds”"), "{text}");
    assert!(text.contains("<td>Returns and refunds</td>"), "{text}");
    let again = post(format!("{site}/help/returns"), token).await.unwrap();
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("Updated “Returns and refunds”")
    );
    let missing = post(format!("{site}/help/gone"), token).await.unwrap();
    let text = missing.text().await.unwrap();
    assert!(
        text.contains("was not read") && text.contains("404"),
        "{text}"
    );
    let (_, listed) = owner.get(&format!("/api/v1/bots/{id}/documents")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn the_reports_page_shows_an_admin_the_span_and_bot_chosen_and_agents_are_kept_out() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("Do you fix <b>vintage</b> motorcycles?").await;
    crate::helpers::eventually(|| async {
        let (_, list) = owner.get("/api/v1/handoffs").await;
        list.as_array().filter(|l| !l.is_empty()).cloned()
    })
    .await;
    let other = owner.create_bot("Other shop").await;

    let page = page_html(&app, owner, "/reports").await;
    assert!(page.contains(r#"href="/reports" class="active""#), "{page}");
    assert!(page.contains(r#"<option value="30" selected>Last 30 days"#));
    assert!(page.contains("Handled by the bot alone"));
    assert!(page.contains("0 of 1"), "{page}");
    assert!(page.contains("0 asked for a person · 1 not in the KB"));
    // The customer's words are shown as text.
    assert!(page.contains("Do you fix &lt;b&gt;vintage&lt;/b&gt; motorcycles?"));
    assert!(!page.contains("<b>vintage</b>"));

    let bot = shop.bot_id.as_str();
    let page = page_html(&app, owner, &format!("/reports?days=7&bot={bot}")).await;
    assert!(page.contains(r#"<option value="7" selected>Last 7 days"#));
    assert!(page.contains(&format!(r#"<option value="{bot}" selected>Acme Help"#)));
    assert!(page.contains(&format!(r#"href="/bots/{bot}""#)));
    let other = other["id"].as_str().unwrap();
    let page = page_html(&app, owner, &format!("/reports?days=5&bot={other}")).await;
    assert!(page.contains(r#"<option value="30" selected>"#));
    assert!(page.contains("None in this span."));
    // A bot that is not the admin's is ignored: the page shows all of theirs.
    let page = page_html(&app, owner, "/reports?bot=bot_nobody").await;
    assert!(page.contains("1 not in the KB"), "{page}");

    let agent = app.member(owner, "agent@shop.test", "agent").await;
    let page = page_html(&app, &agent, "/reports").await;
    assert!(page.contains("Only admins can see reports."));
    assert!(!page.contains("motorcycles"));
}

#[tokio::test]
async fn an_admin_keeps_saved_replies_in_settings_and_a_refused_form_keeps_what_was_typed() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, me) = owner.get("/api/v1/me").await;
    let token = me["csrf_token"].as_str().unwrap().to_owned();
    let post = |path: &str, fields: Vec<(&'static str, String)>| {
        owner.client.post(app.url(path)).form(&fields).send()
    };
    let form = |token: &str, shortcut: &str, text: &str| {
        vec![
            ("csrf_token", token.to_owned()),
            ("shortcut", shortcut.to_owned()),
            ("text", text.to_owned()),
        ]
    };
    let page = page_html(&app, &owner, "/settings/saved-replies").await;
    assert!(page.contains("No saved replies yet."), "{page}");

    let forged = post("/settings/saved-replies", form("forged", "hours", "9 to 5"))
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let added = post(
        "/settings/saved-replies",
        form(
            &token,
            "hours",
            "We answer <b>9 to 5</b>, Monday to Friday.",
        ),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(added.contains("Added /hours."), "{added}");
    assert!(
        added.contains("We answer &lt;b&gt;9 to 5&lt;/b&gt;"),
        "{added}"
    );

    // A taken shortcut: the page says so and the form still holds the long text typed.
    let long_text = "Our returns policy, which took a while to write: 30 days.";
    let refused = post("/settings/saved-replies", form(&token, "HOURS", long_text))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("another saved reply has the shortcut /hours"),
        "{refused}"
    );
    assert!(refused.contains(long_text), "{refused}");
    assert!(refused.contains(r#"value="HOURS""#), "{refused}");

    let (_, list) = owner.get("/api/v1/saved-replies").await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let saved = post(
        &format!("/settings/saved-replies/{id}"),
        form(&token, "opening-hours", "We answer 9 to 5."),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(saved.contains("Saved /opening-hours."), "{saved}");
    let refused = post(
        &format!("/settings/saved-replies/{id}"),
        form(&token, "bad shortcut", "Edited text kept."),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("letters, digits, - and _ only"),
        "{refused}"
    );
    assert!(refused.contains("Edited text kept."), "{refused}");

    // Agents read them on the page, without forms, and cannot post.
    let agent = app.member(&owner, "agent@shop.test", "agent").await;
    let page = page_html(&app, &agent, "/settings/saved-replies").await;
    assert!(page.contains("/opening-hours") && page.contains("We answer 9 to 5."));
    assert!(page.contains("Only admins can add and change saved replies."));
    assert!(!page.contains(&format!("/settings/saved-replies/{id}/delete")));
    let (_, agent_me) = agent.get("/api/v1/me").await;
    let agent_token = agent_me["csrf_token"].as_str().unwrap();
    let denied = agent
        .client
        .post(app.url(&format!("/settings/saved-replies/{id}/delete")))
        .form(&[("csrf_token", agent_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let deleted = post(
        &format!("/settings/saved-replies/{id}/delete"),
        vec![("csrf_token", token.clone())],
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(deleted.contains("Deleted /opening-hours."), "{deleted}");
    assert!(deleted.contains("No saved replies yet."));
}
