//! `spawn_app()` and the clients tests talk to it with.

use std::net::SocketAddr;

use baton::config::{Config, Settings};
use baton::domain::Clock;
use baton::state::{AppState, FirstStart};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::oneshot;

pub const OWNER_EMAIL: &str = "owner@shop.test";
pub const OWNER_PASSWORD: &str = "owner-password-1";

/// Which database the tests run on, from `BATON_TEST_DATABASE` (`sqlite`, the default, or
/// `postgres`; then `BATON_TEST_POSTGRES_URL` names the server, default the local one).
fn postgres_admin_url() -> Option<String> {
    match std::env::var("BATON_TEST_DATABASE").as_deref() {
        Ok("postgres") => Some(
            std::env::var("BATON_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
        ),
        Ok("sqlite") | Err(_) => None,
        Ok(other) => panic!("BATON_TEST_DATABASE must be sqlite or postgres, not {other}"),
    }
}

/// A database made for one test and removed after it.
struct TestDb {
    url: String,
    /// The PostgreSQL database to drop, and the server to drop it on.
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    async fn create() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let Some(admin_url) = postgres_admin_url() else {
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("baton.db").display()
            );
            return TestDb {
                url,
                postgres: None,
                _dir: dir,
            };
        };
        let name = format!("baton_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL for the tests is not reachable");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let base = admin_url.rsplit_once('/').expect("URL with a database").0;
        TestDb {
            url: format!("{base}/{name}"),
            postgres: Some((admin_url, name)),
            _dir: dir,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on itself.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                }
            });
        })
        .join()
        .ok();
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub first_start: Option<FirstStart>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The database, dropped with the app that made it (a second node only borrows it).
    _db: Option<TestDb>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Baton with a responder made from the started state (say, one wrapping the built-in).
pub async fn spawn_app_with_responder(
    make: impl FnOnce(&AppState) -> std::sync::Arc<dyn baton::bot::Responder> + 'static,
) -> TestApp {
    spawn(|_| {}, Some(Box::new(make))).await
}

/// Starts Baton on port 0 with a fresh database; `adjust` changes settings before start.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(adjust, None).await
}

type MakeResponder = Box<dyn FnOnce(&AppState) -> std::sync::Arc<dyn baton::bot::Responder>>;

async fn spawn(adjust: impl FnOnce(&mut Settings), responder: Option<MakeResponder>) -> TestApp {
    baton::telemetry::init(baton::config::LogFormat::Text);
    let db = TestDb::create().await;
    let mut settings = Settings {
        database_url: Some(db.url.clone()),
        data_dir: Some(db._dir.path().to_owned()),
        admin_email: Some(OWNER_EMAIL.to_owned()),
        admin_password: Some(OWNER_PASSWORD.to_owned()),
        secret_key: Some("test-secret-key".to_owned()),
        ..Settings::default()
    };
    adjust(&mut settings);
    let mut app = start(settings, responder).await;
    app._db = Some(db);
    app
}

/// Starts a server on port 0 with these settings.
async fn start(settings: Settings, responder: Option<MakeResponder>) -> TestApp {
    start_at("127.0.0.1:0", settings, responder).await
}

/// Starts a server at this address (port 0: any free port).
async fn start_at(bind: &str, mut settings: Settings, responder: Option<MakeResponder>) -> TestApp {
    let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    settings.public_url = Some(format!("http://{addr}"));
    let config = Config::resolve(settings).expect("valid test config");
    let (mut state, first_start) = AppState::start(config, Clock::default())
        .await
        .expect("Baton starts");
    if let Some(make) = responder {
        let responder = make(&state);
        state = state.with_responder(responder);
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(baton::serve(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        state,
        first_start,
        stop: Some(stop),
        server: Some(server),
        _db: None,
    }
}

impl TestApp {
    /// Whether the tests run on PostgreSQL, where several nodes can share a database.
    pub fn on_postgres(&self) -> bool {
        self.state.config.database_url.is_postgres()
    }

    /// Another Baton node on the same database, as a second server behind a load balancer.
    pub async fn second_node(&self) -> TestApp {
        self.second_node_with(|_| {}).await
    }

    /// This server started again after `shutdown()`: same database, same address, so clients
    /// (a widget in a browser) reconnect to it as they would after a real restart.
    pub async fn restart(&self) -> TestApp {
        let settings = Settings {
            database_url: Some(self.state.config.database_url.expose().to_owned()),
            data_dir: Some(self.state.config.data_dir.clone()),
            secret_key: Some("test-secret-key".to_owned()),
            webhooks_allow_local: Some(self.state.config.webhooks_allow_local),
            ..Settings::default()
        };
        start_at(&self.addr.to_string(), settings, None).await
    }

    /// Another node on the same database (or this one restarted), with adjusted settings.
    pub async fn second_node_with(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = Settings {
            database_url: Some(self.state.config.database_url.expose().to_owned()),
            data_dir: Some(self.state.config.data_dir.clone()),
            secret_key: Some("test-secret-key".to_owned()),
            webhooks_allow_local: Some(self.state.config.webhooks_allow_local),
            ..Settings::default()
        };
        adjust(&mut settings);
        start(settings, None).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client with no credentials.
    pub fn anonymous(&self) -> Api {
        Api {
            base: self.url(""),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            bearer: None,
        }
    }

    /// A client logged in with a session cookie.
    pub async fn login(&self, email: &str, password: &str) -> Api {
        let api = self.anonymous();
        let (status, body) = api
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login as {email}: {body}");
        api
    }

    pub async fn owner(&self) -> Api {
        self.login(OWNER_EMAIL, OWNER_PASSWORD).await
    }

    /// Creates a user in the workspace of `admin` and logs them in.
    pub async fn member(&self, admin: &Api, email: &str, role: &str) -> Api {
        let (status, body) = admin
            .post(
                "/api/v1/agents",
                json!({"email": email, "name": email.split('@').next().unwrap(),
                       "password": "member-password-1", "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login(email, "member-password-1").await
    }

    /// A second workspace with its own owner, made by the instance owner.
    pub async fn other_workspace(&self, owner_email: &str) -> Api {
        let (status, body) = self
            .owner()
            .await
            .post(
                "/api/v1/workspaces",
                json!({"name": "Other Co", "owner": {"email": owner_email, "name": "Olga",
                       "password": "other-password-1"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login(owner_email, "other-password-1").await
    }

    /// Stops the server the way a SIGTERM does and waits for it to finish.
    pub async fn shutdown(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await.expect("server task"),
            None => Ok(()),
        }
    }
}

/// A JSON client for the API; every call answers the status and the parsed body.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub bearer: Option<String>,
}

impl Api {
    pub fn with_bearer(&self, key: &str) -> Api {
        Api {
            base: self.base.clone(),
            client: reqwest::Client::new(),
            bearer: Some(key.to_owned()),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let request = match &self.bearer {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        let response = request.send().await.expect("request reaches Baton");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    /// One page of a list, and the path of the next page from its `Link` header.
    pub async fn get_page(&self, path: &str) -> (Value, Option<String>) {
        let request = self.client.get(format!("{}{path}", self.base));
        let request = match &self.bearer {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        let response = request.send().await.expect("request reaches Baton");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let next = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned())
            .map(|l| {
                assert!(l.ends_with("; rel=\"next\""), "{l}");
                l[1..l.find('>').unwrap()].to_owned()
            });
        (response.json().await.unwrap(), next)
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.delete(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.client.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.client.put(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            self.client
                .patch(format!("{}{path}", self.base))
                .json(&body),
        )
        .await
    }

    /// Sends a file as `multipart/form-data` (part `file`, and `client_id` when given).
    pub async fn post_file(
        &self,
        path: &str,
        filename: &str,
        mime_type: &str,
        bytes: &[u8],
        client_id: Option<&str>,
    ) -> (StatusCode, Value) {
        let file = reqwest::multipart::Part::bytes(bytes.to_vec())
            .file_name(filename.to_owned())
            .mime_str(mime_type)
            .unwrap();
        let mut form = reqwest::multipart::Form::new().part("file", file);
        if let Some(id) = client_id {
            form = form.text("client_id", id.to_owned());
        }
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .multipart(form),
        )
        .await
    }

    /// Sends raw bytes as the body, for tests of malformed input.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    /// The newest handoff of the workspace, waiting (up to ten seconds) for one to appear.
    pub async fn first_handoff(&self) -> Value {
        eventually(|| async {
            let (_, list) = self.get("/api/v1/handoffs").await;
            list.as_array().and_then(|l| l.first().cloned())
        })
        .await
    }

    /// The id of the newest pending handoff, waiting (up to ten seconds) for one.
    pub async fn pending_handoff_id(&self) -> String {
        eventually(|| async {
            let (_, list) = self.get("/api/v1/handoffs?status=pending").await;
            list.as_array()?
                .first()
                .map(|h| h["id"].as_str().unwrap().to_owned())
        })
        .await
    }

    /// The id of a pending handoff that is none of `known`, waiting (up to ten seconds) for one.
    pub async fn another_pending_handoff_id(&self, known: &[&str]) -> String {
        eventually(|| async {
            let (_, pending) = self.get("/api/v1/handoffs?status=pending").await;
            ids(&pending)
                .into_iter()
                .find(|id| !known.contains(id))
                .map(str::to_owned)
        })
        .await
    }

    pub async fn create_bot(&self, name: &str) -> Value {
        let (status, body) = self.post("/api/v1/bots", json!({"name": name})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Turns the bot's Request Handoff tool on (it must be installed).
    pub async fn enable_handoff(&self, bot_id: &str) {
        let (status, body) = self
            .put(
                &format!("/api/v1/bots/{bot_id}/tools/request_handoff"),
                json!({"enabled": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

/// The error code of an API error body.
/// The ids of a list of records.
pub fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|record| record["id"].as_str().unwrap())
        .collect()
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// A workspace set up like a small shop: a bot with a knowledge base, Request Handoff
/// installed and (unless asked otherwise) enabled.
pub struct Shop {
    pub owner: Api,
    pub bot_id: String,
    pub widget_key: String,
}

pub const SHIPPING_DOC: &str = "# Shipping\n\n## Delivery times\n\nStandard delivery takes 3 to 5 business days. Express delivery arrives the next business day when you order before 2 pm.\n\n## Shipping costs\n\nShipping is free on orders over $50. Below that, standard shipping costs $4.95.\n";
pub const RETURNS_DOC: &str = "# Returns\n\n## Return policy\n\nYou can return unworn items within 30 days of delivery for a full refund. Refunds go back to the original payment method within 5 business days.\n";

impl TestApp {
    pub async fn shop(&self, handoff_enabled: bool) -> Shop {
        let owner = self.owner().await;
        let bot = owner.create_bot("Acme Help").await;
        let bot_id = bot["id"].as_str().unwrap().to_owned();
        for (title, content) in [("Shipping", SHIPPING_DOC), ("Returns", RETURNS_DOC)] {
            let (status, body) = owner
                .post(
                    &format!("/api/v1/bots/{bot_id}/documents"),
                    json!({"title": title, "content": content, "format": "markdown"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        owner
            .post("/api/v1/marketplace/request_handoff/install", json!({}))
            .await;
        if handoff_enabled {
            owner.enable_handoff(&bot_id).await;
        }
        Shop {
            owner,
            bot_id,
            widget_key: bot["widget_key"].as_str().unwrap().to_owned(),
        }
    }

    /// A new widget visitor of the bot with this widget key.
    pub async fn visitor(&self, widget_key: &str) -> Visitor {
        self.visitor_named(widget_key, None).await
    }

    /// A new widget visitor whom the site knows by `name`.
    pub async fn visitor_named(&self, widget_key: &str, name: Option<&str>) -> Visitor {
        let api = self.anonymous();
        let (status, session) = api
            .post(
                "/widget/v1/sessions",
                json!({"widget_key": widget_key, "name": name}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        let token = session["visitor_token"].as_str().unwrap().to_owned();
        Visitor {
            api: api.with_bearer(&token),
            conversation_id: session["conversation_id"].as_str().unwrap().to_owned(),
            token,
            addr: self.addr,
        }
    }

    /// `n` agents of the owner's workspace, each with an API key, made directly in the store
    /// so that tests needing many agents do not hash many passwords.
    pub async fn agents(&self, owner: &Api, n: usize) -> Vec<(String, Api)> {
        let (_, me) = owner.get("/api/v1/me").await;
        let workspace_id = me["workspace"]["id"].as_str().unwrap().to_owned();
        let hash = baton::auth::hash_password(
            &baton::domain::Password::parse("agent-password-1").unwrap(),
        );
        let mut agents = Vec::new();
        for i in 0..n {
            let email = baton::domain::Email::parse(&format!("agent{i}@shop.test")).unwrap();
            let name = baton::domain::Name::parse("name", &format!("Agent {i}")).unwrap();
            let user = self
                .state
                .store
                .create_user(
                    &workspace_id,
                    baton::store::NewUser {
                        email: &email,
                        name: &name,
                        password_hash: &hash,
                        role: baton::domain::Role::Agent,
                        must_change_password: false,
                    },
                    self.state.clock.now_ms(),
                )
                .await
                .unwrap();
            let key = baton::auth::new_api_key();
            self.state
                .store
                .create_api_key(&user, &name, &baton::auth::digest(&key), "baton_", 0)
                .await
                .unwrap();
            agents.push((user.name.clone(), owner.with_bearer(&key)));
        }
        agents
    }
}

/// A widget visitor: their token and their conversation.
pub struct Visitor {
    pub api: Api,
    pub token: String,
    pub conversation_id: String,
    addr: SocketAddr,
}

impl Visitor {
    pub async fn say(&self, text: &str) -> Value {
        let (status, body) = self
            .api
            .post("/widget/v1/messages", json!({"text": text}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub async fn messages(&self) -> Vec<Value> {
        let (status, body) = self.api.get("/widget/v1/messages").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().unwrap().clone()
    }

    /// Waits until the conversation has `n` messages, and returns them.
    pub async fn wait_for_messages(&self, n: usize) -> Vec<Value> {
        eventually(|| async {
            let messages = self.messages().await;
            (messages.len() >= n).then_some(messages)
        })
        .await
    }

    pub async fn stream(&self, after: i64) -> Socket {
        self.stream_at(self.addr, after).await
    }

    /// The visitor's stream from the server at `addr` (another node behind the same balancer).
    pub async fn stream_at(&self, addr: SocketAddr, after: i64) -> Socket {
        Socket::connect(
            &format!(
                "ws://{addr}/widget/v1/stream?token={}&after={after}",
                self.token
            ),
            None,
        )
        .await
    }
}

/// Polls `check` until it answers, for at most ten seconds.
pub async fn eventually<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A WebSocket client reading JSON events.
pub struct Socket {
    inner: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Socket {
    pub async fn connect(url: &str, bearer: Option<&str>) -> Socket {
        match bearer {
            Some(key) => Self::connect_with(url, "authorization", &format!("Bearer {key}")).await,
            None => Self::connect_with(url, "user-agent", "baton-tests").await,
        }
    }

    /// Connects sending one more header (a cookie, an origin, a bearer token).
    pub async fn connect_with(url: &str, header: &'static str, value: &str) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(header, value.parse().unwrap());
        let (inner, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket connects");
        Socket { inner }
    }

    /// The next JSON event, waiting at most five seconds.
    pub async fn next(&mut self) -> Value {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(5), self.inner.next())
                .await
                .expect("an event within 5 s")
                .expect("socket open")
                .expect("frame");
            if let Message::Text(text) = frame {
                return serde_json::from_str(&text).unwrap();
            }
        }
    }

    /// The next event of this type, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let event = self.next().await;
            if event["type"] == kind {
                return event;
            }
        }
    }

    /// Whether an event arrives within `ms` milliseconds.
    pub async fn quiet_for(&mut self, ms: u64) -> Option<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        match tokio::time::timeout(std::time::Duration::from_millis(ms), self.inner.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => Some(serde_json::from_str(&text).unwrap()),
            _ => None,
        }
    }

    /// Whether the server closes the socket within `ms` milliseconds (events before are skipped).
    pub async fn closes_within(&mut self, ms: u64) -> bool {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Every event that arrives until none has for `ms` milliseconds.
    pub async fn until_quiet(&mut self, ms: u64) -> Vec<Value> {
        let mut events = Vec::new();
        while let Some(event) = self.quiet_for(ms).await {
            events.push(event);
        }
        events
    }

    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
    }
}

impl TestApp {
    /// The workspace event stream, authenticated with an API key of `api`'s user.
    pub async fn events(&self, owner: &Api, after: i64) -> Socket {
        self.events_with(owner, &format!("after={after}")).await
    }

    /// Logs in without a cookie store and answers the `Cookie` header the session needs.
    pub async fn session_cookie(&self, email: &str, password: &str) -> String {
        let response = reqwest::Client::new()
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "login as {email}");
        let set = response.headers()["set-cookie"].to_str().unwrap();
        set.split(';').next().unwrap().to_owned()
    }

    /// A member made by [`TestApp::member`] with the dashboard open: the event stream of a
    /// session of theirs, as a page of the dashboard holds it.
    pub async fn on_dashboard(&self, email: &str) -> Socket {
        let cookie = self.session_cookie(email, "member-password-1").await;
        let url = format!("ws://{}/api/v1/events?after=0", self.addr);
        Socket::connect_with(&url, "cookie", &cookie).await
    }

    /// The workspace event stream opened with this query (`after=0&typing=conv_1`).
    pub async fn events_with(&self, owner: &Api, query: &str) -> Socket {
        let key = match &owner.bearer {
            Some(key) => key.clone(),
            None => {
                let (_, created) = owner
                    .post("/api/v1/api-keys", json!({"name": "events"}))
                    .await;
                created["key"].as_str().unwrap().to_owned()
            }
        };
        Socket::connect(
            &format!("ws://{}/api/v1/events?{query}", self.addr),
            Some(&key),
        )
        .await
    }
}
