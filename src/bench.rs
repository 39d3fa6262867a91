//! `baton bench`: measures a real Baton process from the outside, over loopback only. It
//! starts `baton demo` as a child on a fresh SQLite database (or the database given), then
//! measures start time, knowledge-base search latency, customer-message throughput, agent →
//! widget delivery latency, and the memory an idle WebSocket costs the server. Every loop is
//! bounded; the child is stopped at the end. Figures go to standard output as a table.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// What to measure, and how much.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Idle widget WebSockets to hold open for the memory figure.
    #[arg(long, default_value_t = 1000)]
    pub connections: usize,
    /// Agent replies timed from POST to arrival on the customer's stream.
    #[arg(long, default_value_t = 200)]
    pub replies: usize,
    /// Customer messages sent for the throughput figure.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Concurrent senders for the throughput figure.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Knowledge-base searches timed, and handoff searches of each kind.
    #[arg(long, default_value_t = 500)]
    pub searches: usize,
    /// Handoffs opened (each a customer's conversation) before the handoff search is timed.
    #[arg(long, default_value_t = 1000)]
    pub handoffs: usize,
}

struct Server {
    child: Child,
    base: String,
    widget_key: String,
    bot_id: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("baton-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let started = Instant::now();
    let server = start_server(&dir).await?;
    let start_ms = started.elapsed().as_secs_f64() * 1000.0;
    let client = reqwest::Client::new();
    let admin = login(&server.base).await?;
    let mut rows = vec![row(
        "start: process spawn to first healthy answer (ms)",
        start_ms,
    )];

    let (widget_gz, first_visit) = widget_weight(&client, &server).await?;
    rows.push(row("widget.js gzipped (KiB)", widget_gz as f64 / 1024.0));
    rows.push(row(
        "widget first visit, everything loaded (KiB)",
        first_visit as f64 / 1024.0,
    ));

    let rss_start = rss_kib(&server.child)?;
    rows.push(row(
        "memory: resident after start (MiB)",
        rss_start as f64 / 1024.0,
    ));

    let search = search_latency(&client, &server, &admin, args.searches).await?;
    rows.push(row("KB search over HTTP p50 (ms)", search.0));
    rows.push(row("KB search over HTTP p99 (ms)", search.1));

    let (rate, answered, p50, p99) = throughput(&server, args.messages, args.concurrency).await?;
    rows.push(row("customer messages stored per second", rate));
    rows.push(row(
        "customer messages stored and answered by the bot per second",
        answered,
    ));
    rows.push(row("customer message POST p50 (ms)", p50));
    rows.push(row("customer message POST p99 (ms)", p99));

    let delivery = delivery_latency(&client, &server, &admin, args.replies).await?;
    rows.push(row("agent reply → widget stream p50 (ms)", delivery.0));
    rows.push(row("agent reply → widget stream p99 (ms)", delivery.1));

    let (rare, common) =
        handoff_search(&server, &admin, args.handoffs.max(1), args.searches).await?;
    rows.push(row(
        &format!(
            "handoff search, {} handoffs, words in one (ms) p50",
            args.handoffs
        ),
        rare.0,
    ));
    rows.push(row("handoff search, words in one (ms) p99", rare.1));
    rows.push(row(
        "handoff search, a word in all, first 100 (ms) p50",
        common.0,
    ));
    rows.push(row(
        "handoff search, a word in all, first 100 (ms) p99",
        common.1,
    ));

    let (held, per_conn) = idle_connections(&server, args.connections).await?;
    rows.push(row("idle widget WebSockets held", held as f64));
    rows.push(row("server memory per idle WebSocket (KiB)", per_conn));
    rows.push(row(
        "memory: resident at the end (MiB)",
        rss_kib(&server.child)? as f64 / 1024.0,
    ));

    println!("\n| measure | value |\n|---|---|");
    for (name, value) in rows {
        println!("| {name} | {value} |");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn row(name: &str, value: f64) -> (String, String) {
    let text = if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    };
    (name.to_owned(), text)
}

async fn start_server(dir: &std::path::Path) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new(std::env::current_exe()?)
        .arg("demo")
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir)
        .env("BATON_LOG", "warn")
        // Load from one address is what the bench is for: the abuse limits would measure
        // themselves.
        .env("BATON_WIDGET_MESSAGES_PER_MINUTE", "0")
        .env("BATON_WIDGET_SESSIONS_PER_MINUTE", "0")
        .env_remove("BATON_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting baton demo")?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut widget_key, mut bot_id) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while widget_key.is_none() || bot_id.is_none() {
        if Instant::now() > deadline {
            bail!("baton demo did not print its widget key");
        }
        let Some(line) = lines.next_line().await? else {
            bail!("baton demo exited")
        };
        if let Some(key) = line.split_whitespace().find(|w| w.starts_with("wk_")) {
            widget_key = Some(key.to_owned());
        }
        if let Some(id) = line.split(['(', ')', ' ']).find(|w| w.starts_with("bot_")) {
            bot_id = Some(id.to_owned());
        }
    }
    // Keep draining the child's output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(Server {
                child,
                base,
                widget_key: widget_key.unwrap_or_default(),
                bot_id: bot_id.unwrap_or_default(),
            });
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("baton demo never answered /healthz")
}

/// An admin API key for the demo workspace.
async fn login(base: &str) -> anyhow::Result<String> {
    let jar = reqwest::Client::builder().cookie_store(true).build()?;
    jar.post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": crate::demo::OWNER_EMAIL, "password": crate::demo::PASSWORD}))
        .send()
        .await?
        .error_for_status()
        .context("demo login")?;
    let key: Value = jar
        .post(format!("{base}/api/v1/api-keys"))
        .json(&json!({"name": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    Ok(key["key"].as_str().context("api key")?.to_owned())
}

/// What a visitor's browser downloads on a first visit: the script (compressed, as browsers ask
/// for it), the session and the (empty) history. Bytes on the wire, bodies only.
async fn widget_weight(
    client: &reqwest::Client,
    server: &Server,
) -> anyhow::Result<(usize, usize)> {
    let script = client
        .get(format!("{}/widget.js", server.base))
        .header("accept-encoding", "gzip")
        .send()
        .await?
        .error_for_status()?;
    let gzipped = script
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let script_bytes = script.bytes().await?.len();
    if !gzipped {
        bail!("/widget.js was not sent compressed");
    }
    let session = client
        .post(format!("{}/widget/v1/sessions", server.base))
        .json(&json!({"widget_key": server.widget_key}))
        .send()
        .await?
        .bytes()
        .await?;
    let token = serde_json::from_slice::<Value>(&session)?["visitor_token"]
        .as_str()
        .context("token")?
        .to_owned();
    let history = client
        .get(format!("{}/widget/v1/messages?after=0", server.base))
        .bearer_auth(token)
        .send()
        .await?
        .bytes()
        .await?;
    Ok((script_bytes, script_bytes + session.len() + history.len()))
}

fn rss_kib(child: &Child) -> anyhow::Result<u64> {
    let pid = child.id().context("child is running")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS")
}

fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99))
}

async fn search_latency(
    client: &reqwest::Client,
    server: &Server,
    key: &str,
    n: usize,
) -> anyhow::Result<(f64, f64)> {
    const QUERIES: &[&str] = &[
        "how long does delivery take",
        "can I return sale items",
        "do you accept paypal",
        "reset my password",
        "international shipping costs",
    ];
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        client
            .get(format!(
                "{}/api/v1/bots/{}/search",
                server.base, server.bot_id
            ))
            .query(&[("q", QUERIES[i % QUERIES.len()])])
            .bearer_auth(key)
            .send()
            .await?
            .error_for_status()?;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(percentiles(samples))
}

async fn visitor(client: &reqwest::Client, server: &Server) -> anyhow::Result<String> {
    open_session(client, &server.base, &server.widget_key, None).await
}

/// A new chat-window visitor of the bot with this widget key (named, or not): their token.
async fn open_session(
    client: &reqwest::Client,
    base: &str,
    widget_key: &str,
    name: Option<&str>,
) -> anyhow::Result<String> {
    let session: Value = client
        .post(format!("{base}/widget/v1/sessions"))
        .json(&json!({"widget_key": widget_key, "name": name}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(session["visitor_token"]
        .as_str()
        .context("token")?
        .to_owned())
}

/// Customer messages from `concurrency` visitors at once: how fast they are stored (the 201),
/// and how fast the bot has answered them all.
async fn throughput(
    server: &Server,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<(f64, f64, f64, f64)> {
    let client = reqwest::Client::new();
    let per_task = total.div_ceil(concurrency.max(1));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut tokens = Vec::new();
    for _ in 0..concurrency.max(1) {
        let client = client.clone();
        let token = visitor(&client, server).await?;
        tokens.push(token.clone());
        let url = format!("{}/widget/v1/messages", server.base);
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(per_task);
            for i in 0..per_task {
                let t = Instant::now();
                let sent = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"text": QUESTIONS[i % QUESTIONS.len()]}))
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    samples.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await?);
    }
    let rate = samples.len() as f64 / started.elapsed().as_secs_f64();
    // Every message gets a bot answer; wait (at most a minute) until all are there.
    let deadline = Instant::now() + Duration::from_secs(60);
    for token in &tokens {
        loop {
            let messages: Value = client
                .get(format!("{}/widget/v1/messages", server.base))
                .bearer_auth(token)
                .send()
                .await?
                .json()
                .await?;
            let count = messages.as_array().map_or(0, Vec::len);
            if count >= 2 * per_task {
                break;
            }
            if Instant::now() > deadline {
                bail!("the bot had not answered every message after a minute");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let answered = samples.len() as f64 / started.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(samples);
    Ok((rate, answered, p50, p99))
}

/// Questions the demo knowledge base answers, so every message gets a bot reply.
const QUESTIONS: &[&str] = &[
    "How long does delivery take?",
    "Can I pay with PayPal?",
    "How do I return an item?",
    "Is shipping free?",
    "When will I get my refund?",
];

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn stream(server: &Server, token: &str) -> anyhow::Result<Ws> {
    let url = format!(
        "{}/widget/v1/stream?token={token}&after=0",
        server.base.replace("http", "ws")
    );
    Ok(tokio_tungstenite::connect_async(url).await?.0)
}

async fn delivery_latency(
    client: &reqwest::Client,
    server: &Server,
    key: &str,
    n: usize,
) -> anyhow::Result<(f64, f64)> {
    let token = visitor(client, server).await?;
    let sent: Value = client
        .post(format!("{}/widget/v1/messages", server.base))
        .bearer_auth(&token)
        .json(&json!({"text": "I want to talk to a person"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let seq = sent["seq"].as_i64().context("message seq")?;
    let mut handoff = None;
    for _ in 0..500 {
        let list: Value = client
            .get(format!(
                "{}/api/v1/handoffs?status=pending&limit=500",
                server.base
            ))
            .bearer_auth(key)
            .send()
            .await?
            .json()
            .await?;
        // Ours is the one whose conversation holds our message.
        for candidate in list.as_array().into_iter().flatten() {
            let id = candidate["id"].as_str().unwrap_or_default();
            let full: Value = client
                .get(format!("{}/api/v1/handoffs/{id}", server.base))
                .bearer_auth(key)
                .send()
                .await?
                .json()
                .await?;
            let ours = full["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["seq"] == seq);
            if ours {
                handoff = Some(id.to_owned());
            }
        }
        if handoff.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let handoff = handoff.context("the handoff never appeared")?;
    let base = format!("{}/api/v1/handoffs/{handoff}", server.base);
    client
        .post(format!("{base}/claim"))
        .bearer_auth(key)
        .send()
        .await?
        .error_for_status()?;
    let mut ws = stream(server, &token).await?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let text = format!("reply {i}");
        let t = Instant::now();
        client
            .post(format!("{base}/messages"))
            .bearer_auth(key)
            .json(&json!({"text": text}))
            .send()
            .await?
            .error_for_status()?;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .context("reply not delivered within 5 s")?
                .context("stream closed")??;
            if frame
                .to_text()
                .is_ok_and(|t| t.contains(&format!("\"{text}\"")))
            {
                break;
            }
        }
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(percentiles(samples))
}

/// Opens `handoffs` handoffs, each customer naming their own order, then times `n` searches
/// of the handoffs for one order (found in one handoff: every handoff is looked at) and `n`
/// for a word every handoff holds (the first page, 100, is enough).
async fn handoff_search(
    server: &Server,
    key: &str,
    handoffs: usize,
    n: usize,
) -> anyhow::Result<((f64, f64), (f64, f64))> {
    let client = reqwest::Client::new();
    let count = |client: reqwest::Client| async move {
        let counts: Value = client
            .get(format!("{}/api/v1/handoffs/counts", server.base))
            .bearer_auth(key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::Ok(counts["pending"].as_u64().unwrap_or(0) as usize)
    };
    let before = count(client.clone()).await?;
    let workers = 16;
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let client = client.clone();
        let base = server.base.clone();
        let widget_key = server.widget_key.clone();
        tasks.push(tokio::spawn(async move {
            for i in (worker..handoffs).step_by(workers) {
                let name = format!("Customer {i}");
                let token = open_session(&client, &base, &widget_key, Some(&name)).await?;
                for text in [
                    format!("Hello, my order BX-{i:05} arrived damaged and the box was open."),
                    "I want to talk to a person please".to_owned(),
                ] {
                    client
                        .post(format!("{base}/widget/v1/messages"))
                        .bearer_auth(&token)
                        .json(&json!({"text": text}))
                        .send()
                        .await?
                        .error_for_status()?;
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(client.clone()).await? < before + handoffs {
        if Instant::now() > deadline {
            bail!("the handoffs had not all opened after two minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let timed = |query: String| {
        let client = client.clone();
        async move {
            let t = Instant::now();
            let found: Value = client
                .get(format!("{}/api/v1/handoffs", server.base))
                .query(&[("q", query.as_str())])
                .bearer_auth(key)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            anyhow::Ok((ms, found.as_array().map_or(0, Vec::len)))
        }
    };
    let (mut rare, mut common) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let (ms, found) = timed(format!("damaged bx-{:05}", (i * 7919) % handoffs)).await?;
        anyhow::ensure!(found == 1, "one order's search found {found} handoffs");
        rare.push(ms);
        let (ms, found) = timed("damaged".to_owned()).await?;
        anyhow::ensure!(found == 100.min(handoffs), "a common word found {found}");
        common.push(ms);
    }
    Ok((percentiles(rare), percentiles(common)))
}

async fn idle_connections(server: &Server, n: usize) -> anyhow::Result<(usize, f64)> {
    let client = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        tokens.push(visitor(&client, server).await?);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(&server.child)?;
    let mut sockets = Vec::with_capacity(n);
    for token in &tokens {
        sockets.push(stream(server, token).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(&server.child)?;
    let per = after.saturating_sub(before) as f64 / n.max(1) as f64;
    let held = sockets.len();
    drop(sockets);
    Ok((held, per))
}
