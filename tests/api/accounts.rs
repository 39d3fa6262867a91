//! Owner on first start, logins, sessions, API keys and roles.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{OWNER_EMAIL, OWNER_PASSWORD, code, spawn_app, spawn_app_with};

#[tokio::test]
async fn first_start_creates_the_configured_owner_who_can_log_in() {
    let app = spawn_app().await;
    let first = app
        .first_start
        .as_ref()
        .expect("owner created on first start");
    assert_eq!(first.email, OWNER_EMAIL);
    assert!(first.one_time_password.is_none());

    let (status, me) = app.owner().await.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["email"], OWNER_EMAIL);
    assert_eq!(me["user"]["role"], "owner");
    assert_eq!(me["is_instance_owner"], true);
    assert!(me["user"].get("password_hash").is_none());
}

#[tokio::test]
async fn a_short_configured_owner_password_is_the_operators_choice_and_works() {
    let app = spawn_app_with(|s| s.admin_password = Some("admin".to_owned())).await;
    let owner = app.login(OWNER_EMAIL, "admin").await;
    let (status, me) = owner.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["must_change_password"], false);
    // People choosing a password in Baton still need eight characters.
    let (status, body) = owner
        .post(
            "/api/v1/agents",
            json!({"email": "a@shop.test", "name": "A", "password": "short", "role": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn without_a_configured_password_a_one_time_password_is_made_and_works() {
    let app = spawn_app_with(|s| {
        s.admin_email = None;
        s.admin_password = None;
    })
    .await;
    let first = app.first_start.clone().expect("owner created");
    let password = first.one_time_password.expect("a generated password");
    assert!(password.len() >= 16);
    let owner = app.login(&first.email, &password).await;

    // It is printed to the log, so it opens nothing but the way to a password of one's own.
    let (status, me) = owner.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["must_change_password"], true);
    for (status, body) in [
        owner.get("/api/v1/handoffs").await,
        owner
            .post("/api/v1/api-keys", json!({"name": "sneaky"}))
            .await,
        owner
            .patch("/api/v1/me", json!({"whatsapp_number": "+14155550123"}))
            .await,
    ] {
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(code(&body), "password_change_required");
    }
    // Keeping it is no change.
    let (status, body) = owner
        .post(
            "/api/v1/me/password",
            json!({"current_password": password, "new_password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = owner
        .post(
            "/api/v1/me/password",
            json!({"current_password": password, "new_password": "my-own-password-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let owner = app.login(&first.email, "my-own-password-1").await;
    let (status, me) = owner.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["must_change_password"], false);
    let (status, _) = owner.get("/api/v1/handoffs").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_second_start_on_the_same_database_creates_no_second_owner() {
    let app = spawn_app().await;
    let again =
        baton::accounts::ensure_owner(&app.state.store, &app.state.config, &app.state.clock)
            .await
            .unwrap();
    assert!(again.is_none());
    assert_eq!(app.state.store.count_users().await.unwrap(), 1);
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_is_refused_alike() {
    let app = spawn_app().await;
    let api = app.anonymous();
    for (email, password) in [
        (OWNER_EMAIL, "not-the-password"),
        ("nobody@shop.test", OWNER_PASSWORD),
    ] {
        let (status, body) = api
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&body), "invalid_credentials");
        assert_eq!(body["error"]["message"], "wrong email or password");
    }
    let (status, body) = api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "authentication_required");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    let response = owner_login(&app).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("baton_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let api = app.owner().await;
    let (status, _) = api.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changing_the_password_needs_the_old_one_and_ends_sessions() {
    let app = spawn_app().await;
    let api = app.owner().await;
    let (status, body) = api
        .post(
            "/api/v1/me/password",
            json!({"current_password": "wrong-one", "new_password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = api
        .post(
            "/api/v1/me/password",
            json!({"current_password": OWNER_PASSWORD, "new_password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(api.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    app.login(OWNER_EMAIL, "brand-new-pass").await;
}

#[tokio::test]
async fn an_api_key_is_shown_once_and_then_authenticates_as_its_maker() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (status, created) = owner
        .post("/api/v1/api-keys", json!({"name": "CRM sync"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("baton_"));

    let (_, listed) = owner.get("/api/v1/api-keys").await;
    let listed = listed.to_string();
    assert!(
        listed.contains("CRM sync") && !listed.contains(&key),
        "{listed}"
    );

    let integrator = owner.with_bearer(&key);
    let (status, me) = integrator.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["email"], OWNER_EMAIL);
    integrator.create_bot("Made with a key").await;

    let id = created["id"].as_str().unwrap();
    assert_eq!(
        owner.delete(&format!("/api/v1/api-keys/{id}")).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = integrator.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "authentication_required");
    assert_eq!(
        owner.with_bearer("baton_made-up").get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_agents_key_acts_as_that_agent_and_is_theirs_alone() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, admins) = owner
        .post("/api/v1/api-keys", json!({"name": "CRM sync"}))
        .await;
    let agent = app.member(&owner, "agent@shop.test", "agent").await;
    let (status, created) = agent
        .post("/api/v1/api-keys", json!({"name": "my script"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let script = agent.with_bearer(created["key"].as_str().unwrap());
    let (_, me) = script.get("/api/v1/me").await;
    assert_eq!(me["user"]["email"], "agent@shop.test");
    assert_eq!(me["user"]["role"], "agent");
    // With an agent's rights, not more.
    let (status, _) = script.post("/api/v1/bots", json!({"name": "Mine"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The agent sees and deletes their own keys only; the owner sees every key.
    let (_, listed) = agent.get("/api/v1/api-keys").await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["my script"]);
    let (_, listed) = owner.get("/api/v1/api-keys").await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let (status, _) = agent
        .delete(&format!(
            "/api/v1/api-keys/{}",
            admins["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = owner
        .delete(&format!(
            "/api/v1/api-keys/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(script.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn agents_cannot_manage_the_workspace() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Shop").await;
    let agent = app.member(&owner, "agent@shop.test", "agent").await;

    let attempts = [
        agent
            .post(
                "/api/v1/agents",
                json!({"email": "x@shop.test", "name": "X", "password": "password-123", "role": "agent"}),
            )
            .await,
        agent.post("/api/v1/marketplace/request_handoff/install", json!({})).await,
        agent.post("/api/v1/bots", json!({"name": "Mine"})).await,
        agent
            .put(
                &format!("/api/v1/bots/{}/tools/request_handoff", bot["id"].as_str().unwrap()),
                json!({"enabled": true}),
            )
            .await,
        agent
            .post(
                "/api/v1/workspaces",
                json!({"name": "W", "owner": {"email": "w@w.test", "name": "W", "password": "password-123"}}),
            )
            .await,
    ];
    for (status, body) in attempts {
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(code(&body), "forbidden");
    }
    // Reading is fine.
    let (status, bots) = agent.get("/api/v1/bots").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bots.as_array().unwrap().len(), 1);
    let (_, me) = agent.get("/api/v1/me").await;
    assert_eq!(me["user"]["role"], "agent");
}

#[tokio::test]
async fn admins_add_agents_and_admins_but_no_owners_and_no_duplicate_emails() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let admin = app.member(&owner, "admin@shop.test", "admin").await;
    app.member(&admin, "agent@shop.test", "agent").await;
    let (status, body) = admin
        .post(
            "/api/v1/agents",
            json!({"email": "AGENT@shop.test", "name": "Again", "password": "password-123", "role": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = admin
        .post(
            "/api/v1/agents",
            json!({"email": "boss@shop.test", "name": "Boss", "password": "password-123", "role": "owner"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, people) = owner.get("/api/v1/agents").await;
    assert_eq!(people.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn shutdown_lets_the_server_finish_cleanly() {
    let mut app = spawn_app().await;
    assert_eq!(app.anonymous().get("/healthz").await.0, StatusCode::OK);
    app.shutdown().await.expect("clean shutdown");
    assert!(reqwest::get(app.url("/healthz")).await.is_err());
}

#[tokio::test]
async fn guessing_passwords_is_throttled_per_email() {
    let app = spawn_app().await;
    let api = app.anonymous();
    // Logging in with the right password costs nothing: a script may log in often.
    for _ in 0..15 {
        let (status, body) = api
            .post(
                "/api/v1/auth/login",
                json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (status, _) = api
            .post(
                "/api/v1/auth/login",
                json!({"email": OWNER_EMAIL, "password": "guess-guess"}),
            )
            .await;
        statuses.push(status);
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let (status, body) = api
        .post(
            "/api/v1/auth/login",
            json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&body), "rate_limited");
    // Ten wrong a minute: the next attempt is free when the first of them is a minute old.
    let wait = body["error"]["retry_after_seconds"].as_u64().unwrap();
    assert!((1..=60).contains(&wait), "{body}");
    // Other accounts are not locked out by it.
    let (status, _) = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "someone@else.test", "password": "whatever-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// The owner logging in through the API, with no cookie store.
async fn owner_login(app: &crate::helpers::TestApp) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}))
        .send()
        .await
        .unwrap()
}

/// The session cookie of a fresh login, as a `Cookie` header value.
async fn session_cookie(app: &crate::helpers::TestApp) -> String {
    let response = owner_login(app).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn another_sites_page_cannot_use_the_session_but_programs_and_our_pages_can() {
    let app = spawn_app().await;
    let cookie = session_cookie(&app).await;
    let create = |headers: &[(&str, &str)], name: &str| {
        let mut request = reqwest::Client::new()
            .post(app.url("/api/v1/bots"))
            .header("cookie", &cookie)
            .json(&json!({"name": name}));
        for (header, value) in headers {
            request = request.header(*header, *value);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    // A forged request from another site, or from a sibling subdomain.
    let forged: [&[(&str, &str)]; 3] = [
        &[("origin", "https://evil.example")],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://www.shop.example"),
        ],
    ];
    for headers in forged {
        let (status, body) = create(headers, "Forged").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}: {body}");
        assert_eq!(code(&body), "forbidden");
    }
    // Baton's own pages, and programs (no Origin), go through.
    let host = app.url("").trim_end_matches('/').to_owned();
    let own: [&[(&str, &str)]; 3] = [
        &[("sec-fetch-site", "same-origin"), ("origin", &host)],
        &[("origin", &host)],
        &[],
    ];
    for headers in own {
        let (status, body) = create(headers, "Ours").await;
        assert_eq!(status, StatusCode::CREATED, "{headers:?}: {body}");
    }
    let owner = app.owner().await;
    let (_, bots) = owner.get("/api/v1/bots").await;
    let names: Vec<&str> = bots
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ours", "Ours", "Ours"]);
    // Reading is not refused; an API key is not a cookie and is not refused either.
    let response = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, key) = owner
        .post("/api/v1/api-keys", json!({"name": "sync"}))
        .await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/bots"))
        .bearer_auth(key["key"].as_str().unwrap())
        .header("origin", "https://evil.example")
        .json(&json!({"name": "By key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // Another site's page cannot open the live event stream with the cookie either.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let ws_url = app.url("/api/v1/events").replacen("http", "ws", 1);
    let mut request = ws_url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        other => panic!(
            "a cross-site WebSocket was not refused: {:?}",
            other.map(|_| ())
        ),
    }
    let mut request = ws_url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
}

#[tokio::test]
async fn the_login_form_leads_only_to_baton_pages_and_only_from_baton() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let log_in = |next: &'static str, origin: Option<&'static str>| {
        let mut request = client.post(app.url("/login")).form(&[
            ("email", OWNER_EMAIL),
            ("password", OWNER_PASSWORD),
            ("next", next),
        ]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    for (next, lands) in [
        ("/bots", "/bots"),
        ("//evil.example", "/handoffs"),
        ("/\\evil.example", "/handoffs"),
        ("/\tevil.example", "/handoffs"),
        ("https://evil.example", "/handoffs"),
    ] {
        let response = log_in(next, None).await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(response.headers()["location"], lands, "{next:?}");
    }
    // Another site's form would log the visitor into an account of its choosing.
    let response = log_in("/bots", Some("https://evil.example")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("set-cookie").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_chooses_a_password_of_their_own_at_the_first_login_in_the_browser() {
    let app = spawn_app_with(|s| {
        s.admin_email = None;
        s.admin_password = None;
    })
    .await;
    let first = app.first_start.clone().expect("owner created");
    let one_time = first.one_time_password.expect("a generated password");
    let driver = crate::browser::driver().await;
    let owner = crate::browser::Browser::open(&driver).await;
    owner.login(&app, &first.email, &one_time).await;
    let on_password_page = "location.pathname === '/account/password' && \
         document.querySelector('.flash.error').textContent.includes('one-time password')";
    owner
        .until("sent to choose a password", on_password_page)
        .await;
    // Nothing else opens meanwhile.
    owner.go(&app.url("/handoffs")).await;
    owner
        .until("sent back to choose a password", on_password_page)
        .await;
    owner.screenshot("15-first-login-password").await;

    // Two different new passwords are refused; matching ones are taken.
    owner.type_into("#current_password", &one_time).await;
    owner.type_into("#new_password", "my-own-password-1").await;
    owner
        .type_into("#confirm_password", "my-own-password-2")
        .await;
    owner.click("form.card button[type=submit]").await;
    owner
        .until(
            "told the two differ",
            "document.querySelector('.flash.error').textContent.includes('differ')",
        )
        .await;
    owner.type_into("#current_password", &one_time).await;
    owner.type_into("#new_password", "my-own-password-1").await;
    owner
        .type_into("#confirm_password", "my-own-password-1")
        .await;
    owner.click("form.card button[type=submit]").await;
    owner
        .until(
            "asked to log in again",
            "location.pathname === '/login' && \
             document.querySelector('.flash.ok').textContent.includes('Password changed')",
        )
        .await;
    owner.login(&app, &first.email, "my-own-password-1").await;
    owner.go(&app.url("/handoffs")).await;
    owner
        .until("the queue opens", "location.pathname === '/handoffs'")
        .await;
    owner.close().await;
    // The one-time password no longer works.
    let (status, _) = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"email": first.email, "password": one_time}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
