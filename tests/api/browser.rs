//! The dashboard and the widget in a real browser: Debian's Chromium, headless, driven over
//! WebDriver (chromedriver). Each test starts its own chromedriver; each person in a test gets
//! their own browser session (a separate profile, so separate cookies and storage). Missing
//! Chromium is a failure, not a skip: `scripts/test` installs it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::fake_openai::{FakeOpenAi, Step};
use crate::helpers::{Shop, TestApp, eventually, spawn_app};
use crate::llm::spawn_with_llm;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(),
        "Chromium and chromedriver are needed for the browser tests: \
         apt-get install chromium chromium-driver (scripts/test does it)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    eventually(|| async {
        reqwest::get(format!("{}/status", driver.url))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    driver
}

/// One person's browser.
pub struct Browser {
    client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn open(driver: &Driver) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            _profile: profile,
        }
    }

    pub async fn go(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Waits (up to ten seconds) for an element.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Answers the `confirm()` dialog the page shows: OK or Cancel.
    pub async fn answer_dialog(&self, ok: bool) {
        for _ in 0..100 {
            let answered = if ok {
                self.client.accept_alert().await
            } else {
                self.client.dismiss_alert().await
            };
            if answered.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no dialog appeared");
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap();
    }

    /// Types into whatever has the focus (an element inside a shadow root, which CSS from the
    /// page cannot reach).
    pub async fn type_into_focused(&self, text: &str) {
        let focused = self.client.active_element().await.unwrap();
        focused.send_keys(text).await.unwrap();
    }

    /// Runs JavaScript in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until the JavaScript expression is true.
    pub async fn until(&self, what: &str, expression: &str) {
        let script = format!("return !!({expression});");
        for _ in 0..200 {
            if self.js(&script).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting until {what}: {expression}");
    }

    pub async fn login(&self, app: &TestApp, email: &str, password: &str) {
        self.go(&app.url("/login")).await;
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("button[type=submit]").await;
        self.find("nav.sidebar").await;
    }

    /// Saves a screenshot under `test-artifacts/screenshots/`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-artifacts/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// A customer-facing page on another origin than Baton, with the widget tag on it, as a
/// business's site would have.
async fn host_page(app: &TestApp, widget_key: &str) -> String {
    let html = format!(
        "<!doctype html><html><head><title>Shop</title><style>body{{font:16px serif}} \
         .msg,button{{color:red!important;display:none!important}}</style></head><body>\
         <h1>Our shop</h1><script src=\"{}/widget.js\" data-bot=\"{widget_key}\" async></script>\
         </body></html>",
        app.url("")
    );
    let page = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(html) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, page).await });
    format!("http://{addr}/")
}

/// JavaScript that reaches into the widget's shadow root.
fn widget(css: &str) -> String {
    format!("document.querySelector('[data-baton-widget]').shadowRoot.querySelector('{css}')")
}

fn widget_all(css: &str) -> String {
    format!(
        "Array.from(document.querySelector('[data-baton-widget]').shadowRoot.querySelectorAll('{css}'))"
    )
}

async fn widget_say(customer: &Browser, text: &str) {
    customer
        .until(
            "the widget is ready",
            &format!(
                "{} && {}",
                widget(".input"),
                widget(".name") + ".textContent"
            ),
        )
        .await;
    let text = serde_json::to_string(text).unwrap();
    customer
        .js(&format!(
            "const i = {}; i.value = {text}; {}.requestSubmit(); return true;",
            widget(".input"),
            widget(".form")
        ))
        .await;
}

/// Types into the widget's message box with the keyboard, as a customer would.
async fn widget_type(customer: &Browser, keys: &str) {
    customer
        .until("the widget is ready", &widget(".input"))
        .await;
    customer
        .js(&format!("{}.focus(); return true;", widget(".input")))
        .await;
    customer.type_into_focused(keys).await;
}

async fn open_widget(customer: &Browser) {
    customer
        .until("the launcher shows", &widget(".launcher"))
        .await;
    customer
        .js(&format!("{}.click(); return true;", widget(".launcher")))
        .await;
    customer
        .until("the panel opens", &format!("!{}.hidden", widget(".panel")))
        .await;
}

/// A customer's browser on the business's site, with the chat widget open.
async fn customer_at_widget(driver: &Driver, app: &TestApp, widget_key: &str) -> Browser {
    let site = host_page(app, widget_key).await;
    let customer = Browser::open(driver).await;
    customer.go(&site).await;
    open_widget(&customer).await;
    customer
}

/// The workspace owner's browser, logged in to the dashboard.
async fn owner_at_dashboard(driver: &Driver, app: &TestApp) -> Browser {
    let owner = Browser::open(driver).await;
    owner
        .login(
            app,
            crate::helpers::OWNER_EMAIL,
            crate::helpers::OWNER_PASSWORD,
        )
        .await;
    owner
}

/// The owner's browser on the waiting handoff's page, having claimed it: the reply box open.
async fn owner_claims_at_dashboard(driver: &Driver, app: &TestApp, shop: &Shop) -> Browser {
    let admin = owner_at_dashboard(driver, app).await;
    admin
        .go(&app.url(&format!(
            "/handoffs/{}",
            shop.owner.pending_handoff_id().await
        )))
        .await;
    admin.click("#claim").await;
    reply_box_opens(&admin).await;
    admin
}

async fn agent(shop: &Shop, email: &str, name: &str) {
    let (status, body) = shop
        .owner
        .post(
            "/api/v1/agents",
            json!({"email": email, "name": name, "password": "agent-password-1", "role": "agent"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_loop_with_a_mouse_in_two_browsers() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    agent(&shop, "sam@shop.test", "Sam Rivera").await;
    let driver = driver().await;
    let site = host_page(&app, &shop.widget_key).await;

    // The agent watches the queue before anything happens.
    let agent = Browser::open(&driver).await;
    agent.login(&app, "sam@shop.test", "agent-password-1").await;
    agent.go(&app.url("/handoffs")).await;
    agent.find("#handoff-list").await;
    agent.screenshot("01-handoffs-empty").await;

    // The customer asks on the shop's site, and the bot answers from the knowledge base.
    let customer = Browser::open(&driver).await;
    customer.go(&site).await;
    open_widget(&customer).await;
    widget_say(&customer, "How long does standard delivery take?").await;
    customer
        .until(
            "the bot answers",
            &format!(
                "{}.some(m => m.textContent.includes('3 to 5 business days'))",
                widget_all(".msg.bot")
            ),
        )
        .await;
    // The host page's CSS cannot reach inside the widget.
    let visible = customer
        .js(&format!(
            "return getComputedStyle({}).display;",
            widget(".msg.bot")
        ))
        .await;
    assert_ne!(visible, json!("none"));

    widget_say(&customer, "I want to talk to a person").await;
    customer
        .until(
            "the bot says the team is coming",
            &format!(
                "{}.some(m => m.textContent.includes('within 2 hours'))",
                widget_all(".msg.bot")
            ),
        )
        .await;
    customer
        .until(
            "the header says so",
            &format!(
                "{}.textContent.includes('Connecting you')",
                widget(".status")
            ),
        )
        .await;
    customer.screenshot("02-widget-handoff-requested").await;

    // It appears in the agent's Pending tab without a reload.
    agent
        .until(
            "the new handoff appears live",
            "document.querySelectorAll('#handoff-list tr[data-handoff]').length === 1",
        )
        .await;
    agent
        .until(
            "the count moves",
            "document.getElementById('count-pending').textContent === '1'",
        )
        .await;
    agent.screenshot("03-handoffs-pending").await;
    agent.click("#handoff-list tr[data-handoff] a.open").await;
    agent.find("#summary").await;
    let summary = agent.find("#summary").await.text().await.unwrap();
    assert!(summary.contains("asked for a person"), "{summary}");

    // Claim, reply; the customer sees the reply live with the agent's name.
    agent.click("#claim").await;
    agent
        .until(
            "the claim shows",
            "document.getElementById('status-badge').textContent === 'In progress'",
        )
        .await;
    reply_box_opens(&agent).await;
    agent
        .type_into("#reply-text", "Hi, Sam here. Let me check your order.")
        .await;
    agent.click("#send").await;
    customer
        .until(
            "the agent's reply arrives",
            &format!(
                "{}.some(m => m.textContent.includes('Let me check your order'))",
                widget_all(".msg.agent")
            ),
        )
        .await;
    let who = customer
        .js(&format!(
            "return {}.textContent;",
            widget(".msg.agent .who")
        ))
        .await;
    assert_eq!(who, json!("Sam Rivera"));
    customer
        .until(
            "the header names the agent",
            &format!("{}.textContent.includes('Sam Rivera')", widget(".status")),
        )
        .await;
    customer.screenshot("04-widget-agent-reply").await;

    // The customer answers; the agent sees it live, and the delivery status of the reply.
    widget_say(&customer, "Thanks! It is order #A1234.").await;
    agent
        .until("the customer's message arrives", "Array.from(document.querySelectorAll('.msg.customer')).some(m => m.textContent.includes('#A1234'))")
        .await;
    agent.until("the reply shows as delivered", "Array.from(document.querySelectorAll('.delivery')).some(d => d.textContent === 'delivered')").await;
    agent.screenshot("05-handoff-conversation").await;

    // Resolve: the bot answers the next question again.
    agent.click("#resolve").await;
    agent
        .until(
            "it is resolved",
            "document.getElementById('status-badge').textContent === 'Resolved'",
        )
        .await;
    widget_say(&customer, "Is shipping free?").await;
    customer
        .until(
            "the bot is back",
            &format!(
                "{}.some(m => m.textContent.includes('$50'))",
                widget_all(".msg.bot")
            ),
        )
        .await;
    customer.screenshot("06-widget-bot-again").await;
    agent.close().await;
    customer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_two_agents_race_the_loser_sees_who_won_at_once() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    agent(&shop, "ana@shop.test", "Ana").await;
    agent(&shop, "bo@shop.test", "Bo").await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("connect me to customer service").await;
    let handoff = shop.owner.first_handoff().await;
    let page = app.url(&format!("/handoffs/{}", handoff["id"].as_str().unwrap()));
    let driver = driver().await;
    let ana = Browser::open(&driver).await;
    let bo = Browser::open(&driver).await;
    ana.login(&app, "ana@shop.test", "agent-password-1").await;
    bo.login(&app, "bo@shop.test", "agent-password-1").await;
    ana.go(&page).await;
    bo.go(&page).await;
    ana.find("#claim").await;
    bo.find("#claim").await;

    // Both click at once (through the pages' own handlers, so a button the live update has
    // just hidden is still "clicked"); exactly one wins, and the other's page says who.
    let click = "document.getElementById('claim').click(); return true;";
    let _ = tokio::join!(ana.js(click), bo.js(click));
    for browser in [&ana, &bo] {
        browser
            .until(
                "the page settles",
                "document.getElementById('status-badge').textContent === 'In progress'",
            )
            .await;
    }
    let ana_holds = ana
        .js("return document.getElementById('holder-banner').hidden;")
        .await
        == json!(true);
    let (loser, winner) = if ana_holds {
        (&bo, "Ana")
    } else {
        (&ana, "Bo")
    };
    loser
        .until(
            "the loser sees the winner",
            &format!("document.getElementById('holder-banner').textContent.includes('{winner}')"),
        )
        .await;
    loser
        .until(
            "the loser cannot reply",
            "document.getElementById('reply-text').disabled",
        )
        .await;
    assert_eq!(
        loser
            .js("return document.getElementById('claim').hidden;")
            .await,
        json!(true)
    );
    loser.screenshot("07-handoff-claimed-by-other").await;
    ana.close().await;
    bo.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_from_a_customer_is_shown_as_text_and_runs_nothing() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    let evil = "<img src=x onerror=alert(1)><script>alert(2)</script> get me a human";
    visitor.say(evil).await;
    let handoff = shop.owner.first_handoff().await;
    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;
    // Any alert() would leave a dialog open and fail the next WebDriver command.
    admin.go(&app.url("/handoffs")).await;
    admin.find("#handoff-list tr[data-handoff]").await;
    admin
        .go(&app.url(&format!("/handoffs/{}", handoff["id"].as_str().unwrap())))
        .await;
    let shown = admin
        .find("#conversation .msg.customer .text")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(shown, evil);
    assert_eq!(
        admin
            .js("return document.querySelectorAll('main img, main script:not(#page-data)').length;")
            .await,
        json!(0)
    );
    // A message arriving live is text too.
    visitor
        .say("<b>bold?</b><img src=y onerror=alert(3)>")
        .await;
    admin
        .until("the live message arrives", "Array.from(document.querySelectorAll('.msg.customer .text')).some(t => t.textContent.includes('<b>bold?</b>'))")
        .await;
    assert_eq!(
        admin
            .js("return document.querySelectorAll('main img, main b').length;")
            .await,
        json!(0)
    );
    // A Content-Security-Policy forbids inline script on dashboard pages.
    let response = reqwest::get(app.url("/login")).await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"));
    assert_eq!(script_src, Some("script-src 'self'"), "{csp}");
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_reconnects_after_a_server_restart_and_misses_nothing() {
    let mut app = spawn_app().await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    widget_say(&customer, "I want to talk to a person").await;
    customer
        .until(
            "the handoff message",
            &format!(
                "{}.some(m => m.textContent.includes('within 2 hours'))",
                widget_all(".msg.bot")
            ),
        )
        .await;
    let handoff = shop.owner.first_handoff().await;
    let id = handoff["id"].as_str().unwrap().to_owned();

    // Baton goes down; while the widget waits to reconnect, the agent answers twice on the
    // restarted server. Both replies reach the widget, in order, once each.
    app.shutdown().await.unwrap();
    let again = app.restart().await;
    let agent = again.owner().await;
    agent
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    for text in [
        "First reply after the restart",
        "Second reply after the restart",
    ] {
        let (status, body) = agent
            .post(
                &format!("/api/v1/handoffs/{id}/messages"),
                json!({"text": text}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    }
    customer
        .until(
            "both replies arrive",
            &format!(
                "{}.filter(m => m.textContent.includes('after the restart')).length === 2",
                widget_all(".msg.agent")
            ),
        )
        .await;
    let order = customer
        .js(&format!(
            "return {}.map(m => m.textContent);",
            widget_all(".msg.agent")
        ))
        .await;
    let order: Vec<String> = serde_json::from_value(order).unwrap();
    assert!(
        order[0].contains("First") && order[1].contains("Second"),
        "{order:?}"
    );
    customer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_grows_in_the_widget_and_becomes_one_message() {
    let fake = FakeOpenAi::start(vec![Step::Pieces(
        400,
        vec!["Standard delivery ", "takes 3 to 5 ", "business days."],
    )])
    .await;
    let app = spawn_with_llm(&fake, 10_000).await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    widget_say(&customer, "How long does delivery take?").await;

    // While the model writes, the answer so far shows in a draft bubble, not yet the whole.
    customer
        .until(
            "a draft shows part of the answer",
            &format!(
                "{0} && {0}.textContent.startsWith('Standard delivery') \
                 && !{0}.textContent.includes('business days')",
                widget(".msg.bot.draft")
            ),
        )
        .await;
    customer.screenshot("09-widget-draft").await;
    // Then the stored message replaces it: one bot bubble with the whole answer, no draft.
    customer
        .until(
            "the whole answer replaces the draft",
            &format!(
                "!{} && {}.some(m => m.textContent === 'Standard delivery takes 3 to 5 business days.')",
                widget(".msg.draft"),
                widget_all(".msg.bot")
            ),
        )
        .await;
    let answers = customer
        .js(&format!(
            "return {}.filter(m => m.textContent.includes('Standard delivery')).length;",
            widget_all(".msg.bot")
        ))
        .await;
    assert_eq!(answers, json!(1));
    customer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_gives_a_bot_its_own_model_on_the_bot_page_and_customers_get_its_answers() {
    let own = FakeOpenAi::start_with_key(
        Some("sk-from-the-page-4321"),
        vec![Step::Answer("Hello from the bot's own model.")],
    )
    .await;
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;
    admin.go(&app.url(&format!("/bots/{}", shop.bot_id))).await;
    admin
        .until(
            "the page says the built-in bot answers",
            "document.querySelector('#answered-by').textContent.includes('built-in bot')",
        )
        .await;
    admin.type_into("#llm_model", "shop-model").await;
    admin.type_into("#llm_base_url", &own.base_url).await;
    admin
        .type_into("#llm_api_key", "sk-from-the-page-4321")
        .await;
    admin
        .click(&format!(
            "form[action='/bots/{}'] button[type=submit]",
            shop.bot_id
        ))
        .await;
    admin
        .until(
            "the page names the model",
            "document.querySelector('#answered-by strong')?.textContent === 'shop-model'",
        )
        .await;
    let placeholder = admin
        .js("return document.querySelector('#llm_api_key').placeholder;")
        .await;
    assert_eq!(placeholder, json!("••••4321: empty keeps it"));
    admin
        .js("document.querySelector('#model').scrollIntoView(); return null;")
        .await;
    admin.screenshot("15-bot-model").await;

    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    widget_say(&customer, "What do you sell?").await;
    customer
        .until(
            "the bot's own model answers",
            &format!(
                "{}.some(m => m.textContent === \"Hello from the bot's own model.\")",
                widget_all(".msg.bot")
            ),
        )
        .await;
    assert_eq!(own.requests()[0]["model"], "shop-model");
    customer.close().await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_keeps_the_conversation_across_a_reload() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    widget_say(&customer, "Can I return unworn items?").await;
    customer
        .until(
            "the bot answers",
            &format!(
                "{}.some(m => m.textContent.includes('30 days'))",
                widget_all(".msg.bot")
            ),
        )
        .await;

    customer.client.refresh().await.unwrap();
    open_widget(&customer).await;
    customer
        .until(
            "the history is back",
            &format!(
                "{}.some(m => m.textContent.includes('Can I return unworn items?'))",
                widget_all(".msg.customer")
            ),
        )
        .await;
    widget_say(&customer, "Is shipping free?").await;
    customer
        .until(
            "the same conversation goes on",
            &format!(
                "{}.some(m => m.textContent.includes('$50'))",
                widget_all(".msg.bot")
            ),
        )
        .await;
    let customers = customer
        .js(&format!("return {}.length;", widget_all(".msg.customer")))
        .await;
    assert_eq!(customers, json!(2));
    // Phone-sized: the panel takes the whole screen.
    customer.client.set_window_size(390, 844).await.unwrap();
    let width = customer
        .js(&format!(
            "return {}.getBoundingClientRect().width;",
            widget(".panel")
        ))
        .await;
    assert!(width.as_f64().unwrap() >= 370.0, "{width}");
    customer.screenshot("08-widget-phone").await;
    // Escape closes it and gives focus back to the launcher.
    customer.js(&format!("{}.dispatchEvent(new KeyboardEvent('keydown', {{key: 'Escape', bubbles: true}})); return true;", widget(".panel"))).await;
    customer
        .until("the panel closes", &format!("{}.hidden", widget(".panel")))
        .await;
    customer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_marketplace_and_the_tool_toggle_work_through_the_ui() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Shop helper").await;
    let bot_id = bot["id"].as_str().unwrap();
    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;

    // Not installed yet: the bot page points to the marketplace.
    admin.go(&app.url(&format!("/bots/{bot_id}"))).await;
    admin.find("#tools a[href='/marketplace']").await;
    admin.click("#tools a[href='/marketplace']").await;
    admin
        .click("[data-tool=request_handoff] button.primary")
        .await;
    admin
        .find("[data-tool=request_handoff] .badge.resolved")
        .await;
    admin.screenshot("09-marketplace").await;

    admin.go(&app.url(&format!("/bots/{bot_id}"))).await;
    admin.click("#toggle-request_handoff").await;
    admin.find("#toggle-request_handoff.on").await;
    let (_, read) = owner.get(&format!("/api/v1/bots/{bot_id}")).await;
    assert_eq!(read["tools"], json!(["request_handoff"]));

    // Upload a document through the page, with the search box finding it.
    let files = tempfile::tempdir().unwrap();
    let upload = |name: &str, bytes: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let admin = &admin;
        async move {
            admin
                .find("#doc-file")
                .await
                .send_keys(&path.display().to_string())
                .await
                .unwrap();
            admin.click("#upload button[type=submit]").await;
        }
    };
    upload(
        "gift-wrapping.md",
        b"# Gift wrapping\n\nWe gift-wrap any order for $3.",
    )
    .await;
    admin
        .until(
            "the upload lands",
            "document.body.textContent.includes('passages')",
        )
        .await;
    admin.type_into("#kb-search", "gift wrap").await;
    admin.click("#kb-search + button").await;
    admin.find("#search-results .result").await;
    // A PDF goes the same way; one locked by a password is refused, saying why.
    upload("locked.pdf", include_bytes!("../fixtures/locked.pdf")).await;
    admin
        .until(
            "the locked PDF is refused",
            "document.getElementById('upload-status').textContent.includes('protected by a password')",
        )
        .await;
    upload(
        "delivery-guide.pdf",
        include_bytes!("../fixtures/delivery-guide.pdf"),
    )
    .await;
    admin
        .until(
            "the PDF lands",
            "document.body.textContent.includes('Added “Delivery”')",
        )
        .await;
    admin.type_into("#kb-search", "express delivery cost").await;
    admin.click("#kb-search + button").await;
    admin
        .until(
            "the PDF's passage is found",
            "(document.querySelector('#search-results .result') || {textContent: ''}).textContent.includes('12.90')",
        )
        .await;
    admin.screenshot("10-bot-settings").await;

    admin.go(&app.url("/agents")).await;
    admin.type_into("#agent-name", "Sam Rivera").await;
    admin.type_into("#agent-email", "sam@shop.test").await;
    admin.type_into("#agent-password", "agent-password-1").await;
    admin
        .click("form[action='/agents'] button[type=submit]")
        .await;
    admin
        .until(
            "the agent is listed",
            "document.body.textContent.includes('sam@shop.test')",
        )
        .await;
    admin.screenshot("13-agents").await;
    // Removing asks first: "cancel" keeps Sam, "OK" removes him.
    let remove = "form[action$='/remove'] button";
    admin.click(remove).await;
    admin.answer_dialog(false).await;
    let listed = admin.js("return document.body.textContent").await;
    assert!(listed.as_str().unwrap().contains("sam@shop.test"));
    admin.click(remove).await;
    admin.answer_dialog(true).await;
    admin
        .until(
            "Sam is removed",
            "document.querySelector('.flash.ok') !== null \
             && !document.body.textContent.includes('sam@shop.test')",
        )
        .await;
    admin.go(&app.url("/settings/notifications")).await;
    admin.type_into("#wa-recipients", "+49 151 1234 5678").await;
    admin
        .click("form[action='/settings/notifications'] button[type=submit]")
        .await;
    admin
        .until(
            "it is saved",
            "document.querySelector('.flash.ok') !== null",
        )
        .await;
    admin.screenshot("14-notifications").await;
    let (_, saved) = owner.get("/api/v1/settings/notifications").await;
    assert_eq!(saved["whatsapp"]["recipients"], json!(["+4915112345678"]));

    admin.go(&app.url("/marketplace")).await;
    admin
        .click("[data-tool=request_handoff] button.danger")
        .await;
    admin
        .find("[data-tool=request_handoff] button.primary")
        .await;
    let (_, read) = owner.get(&format!("/api/v1/bots/{bot_id}")).await;
    assert_eq!(read["tools"], json!([]));
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_erases_a_customer_and_their_chat_window_starts_afresh() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    widget_say(
        &customer,
        "Please delete my data, my email is jane@example.com",
    )
    .await;
    widget_say(&customer, "I want to talk to a person").await;
    let handoff = eventually(|| async {
        let (_, list) = shop.owner.get("/api/v1/handoffs").await;
        list.as_array().unwrap().first().cloned()
    })
    .await;
    let owner = owner_at_dashboard(&driver, &app).await;
    owner
        .go(&app.url(&format!("/handoffs/{}", handoff["id"].as_str().unwrap())))
        .await;
    owner.find("#conversation").await;
    // Cancelling the question erases nothing.
    owner.click("#erase").await;
    owner.answer_dialog(false).await;
    owner.click("#erase").await;
    owner.answer_dialog(true).await;
    owner
        .until(
            "the queue says the customer was erased",
            "location.pathname === '/handoffs' && document.querySelector('.flash.ok') \
             && document.querySelector('.flash.ok').textContent.includes('Erased')",
        )
        .await;
    let listed = owner
        .js("return document.getElementById('handoff-list').textContent;")
        .await;
    assert!(!listed.to_string().contains("Website visitor"), "{listed}");
    // The customer's open window empties and starts a new chat.
    customer
        .until(
            "the old messages are gone",
            &format!(
                "{}.length === 0 && {}.length === 1",
                widget_all(".msg.customer"),
                widget_all(".msg.bot")
            ),
        )
        .await;
    widget_say(&customer, "Is shipping free?").await;
    customer
        .until(
            "the new chat is answered",
            &format!(
                "{}.some(m => m.textContent.includes('$50'))",
                widget_all(".msg.bot")
            ),
        )
        .await;
    let (_, list) = shop.owner.get("/api/v1/handoffs").await;
    assert_eq!(list, json!([]));
    customer.close().await;
    owner.close().await;
}

#[tokio::test]
async fn an_admin_finds_a_customer_and_erases_them_from_the_customers_page() {
    let app = spawn_app().await;
    let shop = app.shop(false).await;
    for (name, text) in [("Jane Roe", "where is order 4471?"), ("Bob", "hello")] {
        app.visitor_named(&shop.widget_key, Some(name))
            .await
            .say(text)
            .await;
    }
    let driver = driver().await;
    let owner = owner_at_dashboard(&driver, &app).await;
    owner.click("nav a[href='/customers']").await;
    owner.type_into("input[name=q]", "roe").await;
    owner.click("form[role=search] button").await;
    owner
        .until(
            "the search finds Jane alone",
            "location.search === '?q=roe' \
             && document.querySelectorAll('#customer-list tr[data-contact]').length === 1",
        )
        .await;
    owner.screenshot("customers-search").await;
    owner.click("#customer-list a").await;
    owner
        .until(
            "her conversation is shown",
            "document.querySelector('.conversation') \
             && document.querySelector('.conversation').textContent.includes('order 4471')",
        )
        .await;
    owner.screenshot("customer-page").await;
    // Cancelling the question erases nothing.
    owner.click("#erase").await;
    owner.answer_dialog(false).await;
    let (list, _) = shop.owner.get_page("/api/v1/contacts").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    owner.click("#erase").await;
    owner.answer_dialog(true).await;
    owner
        .until(
            "the list says she was erased",
            "location.pathname === '/customers' && document.querySelector('.flash.ok') \
             && document.querySelector('.flash.ok').textContent.includes('Erased Jane Roe')",
        )
        .await;
    let listed = owner
        .js("return document.getElementById('customer-list').textContent;")
        .await;
    assert!(!listed.to_string().contains("Jane"), "{listed}");
    assert!(listed.to_string().contains("Bob"), "{listed}");
    owner.close().await;
}

/// Waits until the handoff page's reply box takes text (the claim went through).
async fn reply_box_opens(browser: &Browser) {
    browser
        .until(
            "the reply box opens",
            "!document.getElementById('reply-text').disabled",
        )
        .await;
}

/// Waits until the handoff page's reply box holds `text`.
async fn reply_box_holds(browser: &Browser, text: &str) {
    browser
        .until(
            &format!("the reply box holds {text:?}"),
            &format!(
                "document.getElementById('reply-text').value === {}",
                serde_json::to_string(text).unwrap()
            ),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_inserts_a_saved_reply_by_typing_its_shortcut_and_the_customer_gets_it() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let owner = &shop.owner;
    for (shortcut, text) in [
        ("refund-time", "Refunds take 5 business days."),
        (
            "returns",
            "Hi {{customer_name}}, {{agent_name}} here. <b>Unworn</b> items go back within 30 days.",
        ),
        ("hours", "We answer 9 to 5."),
    ] {
        let (status, body) = owner
            .post(
                "/api/v1/saved-replies",
                json!({"shortcut": shortcut, "text": text}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    }
    let (_, me) = owner.get("/api/v1/me").await;
    let owner_name = me["user"]["name"].as_str().unwrap().to_owned();
    // A name with what JavaScript's replace() would read as a pattern is put in as written.
    let visitor = app.visitor_named(&shop.widget_key, Some("Maria $&")).await;
    visitor.say("I want to talk to a human").await;
    let handoff = owner.first_handoff().await;

    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;
    admin
        .go(&app.url(&format!("/handoffs/{}", handoff["id"].as_str().unwrap())))
        .await;
    admin.click("#claim").await;
    reply_box_opens(&admin).await;
    // A shortcut that matches nothing is not sent by Enter: the list says so.
    admin.type_into("#reply-text", "/zzz\u{e007}").await;
    admin
        .until(
            "the list says nothing matches",
            "document.getElementById('reply-suggestions').textContent.includes('No saved reply matches /zzz')",
        )
        .await;
    admin
        .js("const t = document.getElementById('reply-text'); t.value = ''; t.dispatchEvent(new Event('input')); return true;")
        .await;
    admin.type_into("#reply-text", "/re").await;
    admin
        .until(
            "two saved replies are offered",
            "document.querySelectorAll('#reply-suggestions li').length === 2 && !document.getElementById('reply-suggestions').hidden",
        )
        .await;
    let offered = admin
        .js("return Array.from(document.querySelectorAll('#reply-suggestions li')).map(li => li.dataset.shortcut);")
        .await;
    assert_eq!(offered, json!(["refund-time", "returns"]));
    // The saved text is shown as text, not markup.
    assert_eq!(
        admin
            .js("return document.querySelectorAll('#reply-suggestions b').length;")
            .await,
        json!(0)
    );
    // Arrow down to the second, Enter puts it in the box (and sends nothing yet).
    admin.type_into("#reply-text", "\u{e015}\u{e007}").await;
    let expected =
        format!("Hi Maria $&, {owner_name} here. <b>Unworn</b> items go back within 30 days.");
    reply_box_holds(&admin, &expected).await;
    assert_eq!(
        admin
            .js("return document.getElementById('reply-suggestions').hidden;")
            .await,
        json!(true)
    );
    let before = visitor.messages().await;
    assert!(before.iter().all(|m| m["author"] != "agent"), "{before:?}");
    // A second Enter sends it, and the customer gets it as written.
    admin.type_into("#reply-text", "\u{e007}").await;
    let messages = visitor.wait_for_messages(before.len() + 1).await;
    let sent: Vec<&str> = messages
        .iter()
        .filter(|m| m["author"] == "agent")
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(sent, [expected.as_str()]);

    // A visitor the site did not name is greeted without one.
    let anonymous = app.visitor(&shop.widget_key).await;
    anonymous.say("get me a real person").await;
    let second = owner.pending_handoff_id().await;
    admin.go(&app.url(&format!("/handoffs/{second}"))).await;
    admin.click("#claim").await;
    reply_box_opens(&admin).await;
    admin.type_into("#reply-text", "/returns\u{e004}").await;
    let expected = format!("Hi, {owner_name} here. <b>Unworn</b> items go back within 30 days.");
    reply_box_holds(&admin, &expected).await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_leaves_a_note_and_hands_the_customer_to_an_agent_who_replies() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    agent(&shop, "bo@shop.test", "Bo").await;
    let (_, people) = shop.owner.get("/api/v1/agents").await;
    let bo_id = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "bo@shop.test")
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .unwrap();
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want to talk to a human").await;
    let page = app.url(&format!(
        "/handoffs/{}",
        shop.owner.pending_handoff_id().await
    ));

    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;
    let bo = Browser::open(&driver).await;
    bo.login(&app, "bo@shop.test", "agent-password-1").await;
    admin.go(&page).await;
    bo.go(&page).await;
    admin.click("#claim").await;
    reply_box_opens(&admin).await;
    bo.until(
        "Bo sees the admin holds it",
        "!document.getElementById('holder-banner').hidden && document.getElementById('transfer-form').hidden",
    )
    .await;

    // A note: on the admin's page at once, on Bo's live, in front of the customer never.
    admin
        .type_into(
            "#note-text",
            "Asked twice about invoice 4411 <b>already</b>",
        )
        .await;
    admin.click("#add-note").await;
    let shows_note = "Array.from(document.querySelectorAll('.msg.note .text')).some(n => n.textContent === 'Asked twice about invoice 4411 <b>already</b>')";
    admin.until("the note is shown", shows_note).await;
    bo.until("the note arrives live", shows_note).await;

    // The admin hands it to Bo, who can reply at once.
    admin
        .js(&format!(
            "document.getElementById('transfer-to').value = {}; return true;",
            serde_json::to_string(&bo_id).unwrap()
        ))
        .await;
    admin.type_into("#transfer-note", "Yours: invoices").await;
    admin.click("#transfer").await;
    admin
        .until(
            "the admin's page names Bo",
            "document.getElementById('holder').textContent === 'Bo'",
        )
        .await;
    reply_box_opens(&bo).await;
    bo.until(
        "Bo's page has the transfer note and may pass it on",
        "Array.from(document.querySelectorAll('.msg.note .text')).some(n => n.textContent === 'Yours: invoices') && !document.getElementById('transfer-form').hidden",
    )
    .await;
    let options = bo
        .js("return Array.from(document.querySelectorAll('#transfer-to option')).map(o => o.textContent);")
        .await;
    assert!(
        !options.to_string().contains("Bo"),
        "the holder is not offered to himself: {options}"
    );
    bo.type_into("#reply-text", "Bo here, about that invoice.\u{e007}")
        .await;
    let messages = eventually(|| async {
        let messages = visitor.messages().await;
        messages
            .iter()
            .any(|m| m["text"] == "Bo here, about that invoice.")
            .then_some(messages)
    })
    .await;
    let texts = serde_json::to_string(&messages).unwrap();
    assert!(texts.contains("passed the conversation to Bo."), "{texts}");
    assert!(
        !texts.contains("invoice 4411"),
        "a note reached the customer: {texts}"
    );
    assert!(
        !texts.contains("Yours: invoices"),
        "a note reached the customer: {texts}"
    );
    admin.close().await;
    bo.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_rates_the_help_in_the_widget_and_the_agent_sees_it_live() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;

    // The admin adds the Satisfaction Survey and switches it on for the bot, with the mouse.
    admin.go(&app.url("/marketplace")).await;
    admin
        .click("[data-tool=satisfaction_survey] button.primary")
        .await;
    admin
        .find("[data-tool=satisfaction_survey] .badge.resolved")
        .await;
    admin.go(&app.url(&format!("/bots/{}", shop.bot_id))).await;
    admin.click("#toggle-satisfaction_survey").await;
    admin.find("#toggle-satisfaction_survey.on").await;
    let (_, read) = shop
        .owner
        .get(&format!("/api/v1/bots/{}", shop.bot_id))
        .await;
    assert_eq!(
        read["tools"],
        json!(["request_handoff", "satisfaction_survey"])
    );

    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    widget_say(&customer, "I want to talk to a human").await;
    let page = app.url(&format!(
        "/handoffs/{}",
        shop.owner.pending_handoff_id().await
    ));
    admin.go(&page).await;
    admin.click("#claim").await;
    reply_box_opens(&admin).await;
    admin
        .type_into("#reply-text", "Your refund went out today.\u{e007}")
        .await;
    customer
        .until(
            "the reply arrives",
            &format!(
                "{}.some(m => m.textContent.includes('Your refund went out today.'))",
                widget_all(".msg.agent")
            ),
        )
        .await;
    assert_eq!(
        admin
            .js("return document.getElementById('rating').hidden")
            .await,
        json!(true),
        "nothing to show before the customer is asked"
    );
    admin.click("#resolve").await;

    // The question comes with three buttons; the customer picks Great, then adds a comment.
    customer
        .until(
            "the question arrives",
            &format!("{}.length === 3", widget_all(".rating .score")),
        )
        .await;
    let asked = customer
        .js(&format!("return {}.textContent", widget(".rating")))
        .await;
    assert!(
        asked
            .as_str()
            .unwrap()
            .starts_with("How would you rate the help you got from"),
        "{asked}"
    );
    customer
        .js(&format!(
            "{}.find(b => b.dataset.score === 'great').click(); return true;",
            widget_all(".rating .score")
        ))
        .await;
    customer
        .until(
            "Great is chosen and a comment may follow",
            &format!(
                "{}.getAttribute('aria-pressed') === 'true' && !{}.hidden",
                widget(".score[data-score=great]"),
                widget(".rating .comment")
            ),
        )
        .await;
    admin
        .until(
            "the agent sees the rating live",
            "!document.getElementById('rating').hidden && document.getElementById('rating').textContent === '😀 Great'",
        )
        .await;
    let comment = "<img src=x onerror=\"document.title='owned'\"> So quick!";
    customer
        .js(&format!(
            "const c = {}; c.querySelector('textarea').value = {}; c.requestSubmit(); return true;",
            widget(".rating .comment"),
            serde_json::to_string(comment).unwrap()
        ))
        .await;
    customer
        .until(
            "the comment is taken and the customer thanked",
            &format!(
                "{}.textContent.includes('So quick!') && {}.hidden && {}.some(m => m.textContent === 'Thank you for your feedback!')",
                widget(".rating .rated"),
                widget(".rating .comment"),
                widget_all(".msg.system")
            ),
        )
        .await;
    let expected = format!("😀 Great — “{comment}”");
    admin
        .until(
            "the comment reaches the agent as text",
            &format!(
                "document.getElementById('rating').textContent === {}",
                serde_json::to_string(&expected).unwrap()
            ),
        )
        .await;
    for browser in [&customer, &admin] {
        let title = browser.js("return document.title").await;
        assert_ne!(title, json!("owned"), "markup in a comment ran");
    }
    assert_eq!(
        customer
            .js(&format!("return {}.length", widget_all(".rating img")))
            .await,
        json!(0)
    );
    admin.screenshot("19-rating").await;
    customer.screenshot("20-widget-rating").await;

    // After a reload the widget shows the answer, still changeable.
    let here = customer.js("return location.href").await;
    customer.go(here.as_str().unwrap()).await;
    open_widget(&customer).await;
    customer
        .until(
            "the answer is kept",
            &format!(
                "{0} && {0}.getAttribute('aria-pressed') === 'true' && !{0}.disabled",
                widget(".score[data-score=great]")
            ),
        )
        .await;
    let (_, handoff) = shop
        .owner
        .get(&format!(
            "/api/v1/handoffs/{}",
            page.rsplit('/').next().unwrap()
        ))
        .await;
    assert_eq!(handoff["rating"]["score"], "great");
    assert_eq!(handoff["rating"]["comment"], comment);
    customer.close().await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_business_hours_and_a_customer_after_hours_sees_the_team_is_away() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;

    // The team works one hour, three days from now: it is away whenever this test runs.
    let now = chrono::DateTime::from_timestamp_millis(app.state.clock.now_ms()).unwrap();
    let day = now.date_naive() + chrono::Days::new(3);
    let key = day.format("%a").to_string().to_lowercase();
    admin.go(&app.url("/settings/business-hours")).await;
    admin
        .js(
            "for (const d of ['mon','tue','wed','thu','fri','sat','sun']) \
             document.getElementById('hours-' + d).value = ''; \
             document.getElementById('hours-timezone').value = ''; return true;",
        )
        .await;
    admin.type_into("#hours-timezone", "UTC").await;
    admin
        .type_into(&format!("#hours-{key}"), "09:00–10:00")
        .await;
    admin.click("#hours-enabled").await;
    admin.click("button[type=submit].primary").await;
    admin
        .until(
            "the page says the team is away",
            "document.getElementById('hours-now').textContent.includes('Now: away')",
        )
        .await;
    admin.screenshot("business-hours-settings").await;

    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    widget_say(&customer, "I want to talk to a human").await;
    let weekday = day.format("%A %-d %B").to_string();
    customer
        .until(
            "the bot says when the team is back",
            &format!(
                "{}.some(m => m.textContent.includes('away right now and back on {weekday} at 09:00 (UTC)'))",
                widget_all(".msg.bot")
            ),
        )
        .await;
    customer
        .until(
            "the header says the team is away",
            &format!(
                "{}.textContent.includes('The team is away · back')",
                widget(".status")
            ),
        )
        .await;
    customer.screenshot("widget-team-away").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_and_the_agent_see_each_other_typing_and_then_the_message() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    widget_say(&customer, "I want to talk to a human").await;
    let admin = owner_claims_at_dashboard(&driver, &app, &shop).await;
    admin
        .type_into("#reply-text", "Let me check your order")
        .await;
    customer
        .until(
            "the customer sees someone typing",
            &format!(
                "!{}.hidden && {}.textContent.endsWith(' is typing…')",
                widget(".typing"),
                widget(".status")
            ),
        )
        .await;
    customer.screenshot("widget-agent-typing").await;
    admin.type_into("#reply-text", "\u{e007}").await;
    customer
        .until(
            "the reply takes the dots' place",
            &format!(
                "{}.some(m => m.textContent.includes('Let me check your order')) && {}.hidden \
                 && {}.textContent.endsWith(' is here')",
                widget_all(".msg.agent"),
                widget(".typing"),
                widget(".status")
            ),
        )
        .await;

    // The other way: the customer types, and the agent sees it under the history.
    widget_type(&customer, "It is order 1234").await;
    let line = "document.getElementById('customer-typing')";
    admin
        .until(
            "the agent sees the customer typing",
            &format!("!{line}.hidden && {line}.textContent === 'Website visitor is typing…'"),
        )
        .await;
    admin.screenshot("dashboard-customer-typing").await;
    widget_type(&customer, "\u{e007}").await;
    admin
        .until(
            "the customer's message arrives",
            "Array.from(document.querySelectorAll('#conversation .msg.customer'))\
             .some(m => m.textContent.includes('It is order 1234'))",
        )
        .await;
    // At once, not when the line would have gone by itself.
    assert_eq!(
        admin.js(&format!("return {line}.hidden;")).await,
        json!(true),
        "the message takes the line's place"
    );
}

#[tokio::test]
async fn an_agent_files_a_handoff_under_a_label_and_finds_it_in_the_queue() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I want a refund, get me a person").await;
    let id = shop.owner.pending_handoff_id().await;
    // Another one, never labelled, which the filtered queue leaves out.
    app.visitor(&shop.widget_key)
        .await
        .say("get me a human")
        .await;
    let (_, pending) = eventually(|| async {
        let (status, list) = shop.owner.get("/api/v1/handoffs?status=pending").await;
        (list.as_array().map_or(0, Vec::len) == 2).then_some((status, list))
    })
    .await;
    let other = pending
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] != id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;
    admin.go(&app.url(&format!("/handoffs/{id}"))).await;

    // Typed and Enter, then typed and the button.
    admin.type_into("#label-text", "#Refund\u{e007}").await;
    admin
        .until(
            "the label shows",
            "document.querySelector('#labels [data-label=\"refund\"]')",
        )
        .await;
    admin.type_into("#label-text", "vip").await;
    admin.click("#add-label").await;
    admin
        .until(
            "both labels show, the box emptied",
            "document.querySelectorAll('#labels .badge.label').length === 2 \
             && document.getElementById('label-text').value === ''",
        )
        .await;
    admin.screenshot("dashboard-handoff-labels").await;
    admin.click("#labels [data-label=\"vip\"] .unlabel").await;
    admin
        .until(
            "the label taken off is gone",
            "!document.querySelector('#labels [data-label=\"vip\"]')",
        )
        .await;
    // The page shows it at once; the server has it once the change is answered.
    eventually(|| async {
        let (_, handoff) = shop.owner.get(&format!("/api/v1/handoffs/{id}")).await;
        (handoff["labels"] == json!(["refund"])).then_some(())
    })
    .await;

    // In the queue, the label filters it.
    admin.go(&app.url("/handoffs")).await;
    admin.click("#handoff-list a.badge.label").await;
    admin.find("#label-filter").await;
    let url = admin.js("return location.search;").await;
    assert!(url.as_str().unwrap().contains("label=refund"), "{url}");
    admin
        .until(
            "the handoff is in the filtered queue",
            &format!("document.querySelector('[data-handoff=\"{id}\"]')"),
        )
        .await;
    assert_eq!(
        admin
            .js(&format!(
                "return !document.querySelector('[data-handoff=\"{other}\"]');"
            ))
            .await,
        json!(true),
        "the unlabelled one is left out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_turns_on_automatic_assignment_and_the_agent_at_the_dashboard_gets_the_customer() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    agent(&shop, "ana@shop.test", "Ana").await;
    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;
    admin.go(&app.url("/agents")).await;
    assert_eq!(
        admin
            .js("return document.getElementById('availability').hidden;")
            .await,
        json!(true),
        "no Available/Away while handoffs are not assigned automatically"
    );
    // A limit that is no number is refused and nothing changes.
    admin.click("#assignment-auto").await;
    admin
        .js(
            "document.getElementById('assignment-limit').type = 'text'; \
             document.getElementById('assignment-limit').value = 'two';",
        )
        .await;
    admin.click("#save-assignment").await;
    admin.find(".flash.error").await;
    let (_, setting) = shop.owner.get("/api/v1/settings/assignment").await;
    assert_eq!(setting["auto"], false);
    admin.click("#assignment-auto").await;
    admin
        .js("document.getElementById('assignment-limit').value = '2';")
        .await;
    admin.click("#save-assignment").await;
    admin.find(".flash.ok").await;
    let (_, setting) = shop.owner.get("/api/v1/settings/assignment").await;
    assert_eq!(setting, json!({"auto": true, "limit": 2}));

    // The owner, busy elsewhere, steps away with the button in the sidebar.
    admin
        .until(
            "Available shows",
            "!document.getElementById('availability').hidden \
             && document.getElementById('availability').textContent.trim() === 'Available'",
        )
        .await;
    admin.click("#availability").await;
    admin
        .until(
            "Away shows",
            "document.getElementById('availability').textContent.trim() === 'Away'",
        )
        .await;
    let (_, me) = shop.owner.get("/api/v1/me").await;
    assert_eq!(me["user"]["away"], true);

    // Ana logs in and has the queue open; the Agents page lists her as available.
    let ana = Browser::open(&driver).await;
    ana.login(&app, "ana@shop.test", "agent-password-1").await;
    ana.find("#handoff-list").await;
    admin.go(&app.url("/agents")).await;
    admin
        .until(
            "Ana is listed as available, the owner as away",
            "[...document.querySelectorAll('td.availability')].map(td => td.textContent.trim()).sort().join() === 'Available,Away'",
        )
        .await;
    admin.screenshot("dashboard-agents-assignment").await;

    // A customer asks for a person: it is Ana's without anyone claiming it.
    let visitor = app.visitor(&shop.widget_key).await;
    visitor.say("I need to talk to a human").await;
    let id = eventually(|| async {
        let (_, held) = shop.owner.get("/api/v1/handoffs?status=in_progress").await;
        let held = held.as_array()?.first()?.clone();
        (held["claimed_by"]["name"] == "Ana").then(|| held["id"].as_str().unwrap().to_owned())
    })
    .await;
    ana.go(&app.url(&format!("/handoffs/{id}"))).await;
    reply_box_opens(&ana).await;
    ana.screenshot("dashboard-assigned-handoff").await;
}

/// Puts a file into a file input as if it were picked (the input is hidden behind a button, as
/// pickers are): the bytes come from base64.
fn pick_file(input: &str, name: &str, mime_type: &str, base64: &str) -> String {
    format!(
        "const input = {input}; const bytes = Uint8Array.from(atob('{base64}'), c => c.charCodeAt(0)); \
         const picked = new DataTransfer(); \
         picked.items.add(new File([bytes], '{name}', {{type: '{mime_type}'}})); \
         input.files = picked.files; input.dispatchEvent(new Event('change')); return true;"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_sends_a_screenshot_and_the_agent_answers_with_a_pdf() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let driver = driver().await;
    let customer = customer_at_widget(&driver, &app, &shop.widget_key).await;
    // The bot cannot look at a picture: the paperclip is there only once a person is.
    assert_eq!(
        customer
            .js(&format!("return {}.hidden;", widget(".attach")))
            .await,
        json!(true)
    );
    widget_say(&customer, "I want to talk to a human").await;
    customer
        .until(
            "the paperclip shows",
            &format!("!{}.hidden", widget(".attach")),
        )
        .await;
    let admin = owner_claims_at_dashboard(&driver, &app, &shop).await;

    let pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    customer
        .js(&pick_file(
            &widget(".picker"),
            "broken mug.png",
            "image/png",
            pixel,
        ))
        .await;
    customer
        .until(
            "the customer's picture shows in the chat",
            &format!(
                "{}.some(img => img.complete && img.naturalWidth === 1)",
                widget_all(".msg.customer .file img")
            ),
        )
        .await;
    admin
        .until(
            "the agent sees it live",
            "Array.from(document.querySelectorAll('.msg.customer .attachment img'))\
             .some(img => img.complete && img.naturalWidth === 1)",
        )
        .await;

    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD.encode(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    );
    admin
        .js(&pick_file(
            "document.getElementById('reply-file')",
            "invoice-1042.pdf",
            "application/pdf",
            &pdf,
        ))
        .await;
    admin
        .until(
            "the PDF is in the history, to download",
            "Array.from(document.querySelectorAll('.msg.agent .attachment a[download]'))\
             .some(a => a.textContent.includes('invoice-1042.pdf'))",
        )
        .await;
    customer
        .until(
            "the customer gets it, ready to open",
            &format!(
                "{}.some(a => a.textContent.startsWith('invoice-1042.pdf') && a.href.startsWith('blob:'))",
                widget_all(".msg.agent .file")
            ),
        )
        .await;
    customer.screenshot("widget-files").await;
    admin.screenshot("dashboard-files").await;

    // Markup is no file: the customer is told why, and nothing is sent.
    let page = base64::engine::general_purpose::STANDARD.encode(b"<script>alert(1)</script>");
    customer
        .js(&pick_file(
            &widget(".picker"),
            "cat.png",
            "image/png",
            &page,
        ))
        .await;
    customer
        .until(
            "the customer reads why",
            &format!(
                "{}.some(m => m.textContent.includes('only pictures (JPEG or PNG) and PDF documents'))",
                widget_all(".msg.system")
            ),
        )
        .await;
    let (_, full) = shop
        .owner
        .get(&format!(
            "/api/v1/handoffs/{}",
            shop.owner.first_handoff().await["id"].as_str().unwrap()
        ))
        .await;
    let files: Vec<_> = full["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["attachment"]["filename"].as_str())
        .collect();
    assert_eq!(
        files,
        ["broken mug.png", "invoice-1042.pdf"],
        "nothing more was stored"
    );
}

#[tokio::test]
async fn an_agent_searches_the_queue_and_the_handoff_opens_at_the_message_found() {
    let app = spawn_app().await;
    let shop = app.shop(true).await;
    let visitor = app.visitor(&shop.widget_key).await;
    visitor
        .say("The blender jar cracked on day one, I need a human")
        .await;
    let id = shop.owner.pending_handoff_id().await;
    // A long conversation after it: the page opens at the latest unless it is asked otherwise.
    let (status, _) = shop
        .owner
        .post(&format!("/api/v1/handoffs/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    for i in 0..25 {
        let (status, body) = shop
            .owner
            .post(
                &format!("/api/v1/handoffs/{id}/messages"),
                json!({"text": format!("Update {i}: still looking into it.")}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    }
    // Another, which the search leaves out.
    app.visitor(&shop.widget_key)
        .await
        .say("get me a person")
        .await;
    eventually(|| async {
        let (_, pending) = shop.owner.get("/api/v1/handoffs?status=pending").await;
        (pending.as_array().map_or(0, Vec::len) == 1).then_some(())
    })
    .await;
    let driver = driver().await;
    let admin = owner_at_dashboard(&driver, &app).await;
    admin.go(&app.url("/handoffs")).await;

    // Typed and Enter: found in another tab than the one open, the words marked.
    admin.type_into("#search", "Blender \"JAR\"\u{e007}").await;
    admin
        .until(
            "the handoff is found, its words marked",
            &format!(
                "document.querySelectorAll('#handoff-list tr.row').length === 1 \
                 && document.querySelector('[data-handoff=\"{id}\"]') \
                 && Array.from(document.querySelectorAll('#handoff-list mark'), \
                    m => m.textContent).join() === 'blender,jar'"
            ),
        )
        .await;
    admin.screenshot("dashboard-handoff-search").await;
    // A tab narrows the search, and keeps it.
    admin.click(".tabs a[data-tab=\"pending\"]").await;
    admin
        .until(
            "not waiting: not found there",
            "document.querySelector('.tabs a.active[data-tab=\"pending\"]') \
             && document.getElementById('search').value === 'Blender \"JAR\"' \
             && !document.querySelector('#handoff-list tr.row')",
        )
        .await;
    admin.click(".tabs a[data-tab=\"in_progress\"]").await;
    admin
        .until(
            "in progress: found",
            &format!("document.querySelector('[data-handoff=\"{id}\"]')"),
        )
        .await;
    admin.click("#handoff-list a.open").await;
    admin
        .until(
            "the handoff opens at the message found, not at the latest",
            "(() => { const m = document.querySelector(':target'); \
               const c = document.getElementById('conversation'); \
               if (!m || !c || !c.contains(m)) return false; \
               const a = m.getBoundingClientRect(), b = c.getBoundingClientRect(); \
               return m.textContent.includes('blender jar cracked') \
                 && a.top >= b.top && a.bottom <= b.bottom \
                 && c.scrollTop + c.clientHeight < c.scrollHeight - 50; })()",
        )
        .await;

    // Clear search: back to the queue's tab.
    admin.go(&app.url("/handoffs?q=blender")).await;
    admin.click("#clear-search").await;
    admin
        .until(
            "the queue is back",
            "document.querySelector('.tabs a.active') && !document.getElementById('clear-search') \
             && document.getElementById('search').value === ''",
        )
        .await;
}
