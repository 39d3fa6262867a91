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
    _db: TestDb,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Baton on port 0 with a fresh database; `adjust` changes settings before start.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    settings.public_url = Some(format!("http://{addr}"));
    let config = Config::resolve(settings).expect("valid test config");
    let (state, first_start) = AppState::start(config, Clock::default())
        .await
        .expect("Baton starts");
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
        _db: db,
    }
}

impl TestApp {
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

    pub async fn create_bot(&self, name: &str) -> Value {
        let (status, body) = self.post("/api/v1/bots", json!({"name": name})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

/// The error code of an API error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}
