//! The `baton` command itself: settings precedence, the health check, `kb import` from files
//! and from a website, and `user`.

use std::process::Command;

fn baton() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    // Start from a clean slate: no BATON_* from the developer's shell.
    for (name, _) in std::env::vars() {
        if name.starts_with("BATON_") {
            command.env_remove(name);
        }
    }
    command
}

fn effective(command: &mut Command) -> String {
    let output = command.output().expect("baton runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn flags_beat_environment_which_beats_the_file_which_beats_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baton.toml");
    std::fs::write(
        &file,
        "bind = \"127.0.0.1:7001\"\npublic_url = \"https://file.example\"\n\
         data_dir = \"/tmp/from-file\"\nllm_model = \"file-model\"\n",
    )
    .unwrap();
    let out = effective(
        baton()
            .args(["config", "--config"])
            .arg(&file)
            .args(["--bind", "127.0.0.1:7003"])
            .env("BATON_BIND", "127.0.0.1:7002")
            .env("BATON_PUBLIC_URL", "https://env.example"),
    );
    assert!(out.contains("bind = \"127.0.0.1:7003\""), "{out}");
    assert!(
        out.contains("public_url = \"https://env.example\""),
        "{out}"
    );
    assert!(out.contains("data_dir = \"/tmp/from-file\""), "{out}");
    assert!(out.contains("llm_model = \"file-model\""), "{out}");
    assert!(
        out.contains("whatsapp_graph_url = \"https://graph.facebook.com/v23.0\""),
        "{out}"
    );
}

#[test]
fn printed_settings_never_show_secrets() {
    let out = effective(
        baton()
            .arg("config")
            .env("BATON_DATABASE_URL", "postgres://baton:hunter2@db/baton")
            .env("BATON_ADMIN_PASSWORD", "owner-secret-9")
            .env("BATON_SECRET_KEY", "signing-secret-9"),
    );
    assert!(out.contains("postgres://baton:***@db/baton"), "{out}");
    for secret in ["hunter2", "owner-secret-9", "signing-secret-9"] {
        assert!(!out.contains(secret), "{secret} leaked: {out}");
    }
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baton.toml");
    std::fs::write(&file, "bnid = \"oops\"\n").unwrap();
    let output = baton()
        .arg("config")
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("invalid config file") && err.contains("bnid"),
        "{err}"
    );
}

// Multi-threaded: the child process is awaited while the server keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_says_whether_a_server_answers() {
    let app = crate::helpers::spawn_app().await;
    let status = baton()
        .args(["healthcheck", "--bind", &app.addr.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let status = baton()
        .args(["healthcheck", "--bind", &free.to_string()])
        .status()
        .unwrap();
    assert!(!status.success());
}

/// `baton` on the database of a running test server.
fn baton_on(app: &crate::helpers::TestApp) -> Command {
    let mut command = baton();
    command.env("BATON_DATABASE_URL", app.state.config.database_url.expose());
    command.env("BATON_PUBLIC_URL", app.url(""));
    command
}

fn run(command: &mut Command) -> (bool, String, String) {
    let output = command.output().expect("baton runs");
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

// Multi-threaded: the child process is awaited while the server keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_import_fills_a_running_bots_knowledge_base_and_updates_it_when_run_again() {
    let app = crate::helpers::spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let bot_id = bot["id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path();
    std::fs::create_dir_all(docs.join("policies/.drafts")).unwrap();
    let returns = docs.join("policies/returns.md");
    std::fs::write(
        &returns,
        "# Returns and refunds\n\nYou can return any unworn item within 30 days for a full \
         refund.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("shipping.html"),
        "<html><head><title>Shipping</title></head><body><h1>Delivery</h1>\
         <p>Orders over $50 ship free. <script>alert(1)</script></p></body></html>",
    )
    .unwrap();
    std::fs::write(docs.join("care.txt"), "Wash wool by hand in cold water.").unwrap();
    std::fs::write(
        docs.join("policies/delivery.pdf"),
        include_bytes!("../fixtures/delivery-guide.pdf"),
    )
    .unwrap();
    std::fs::write(
        docs.join("locked.pdf"),
        include_bytes!("../fixtures/locked.pdf"),
    )
    .unwrap();
    // Not imported: a hidden draft, a file of another kind, and one that is not text.
    std::fs::write(docs.join("policies/.drafts/secret.md"), "# Draft\n\nNo.").unwrap();
    std::fs::write(docs.join("logo.png"), [0x89, b'P', b'N', b'G']).unwrap();
    std::fs::write(docs.join("latin1.txt"), [b'c', 0xe9, b'\n']).unwrap();

    let (ok, out, err) = run(baton_on(&app)
        .args(["kb", "import", "--bot", &bot_id])
        .arg(docs));
    assert!(
        !ok,
        "a file that could not be imported fails the run: {out}"
    );
    assert!(out.contains("imported 4 of 6 files"), "{out}");
    assert!(err.contains("latin1.txt") && err.contains("UTF-8"), "{err}");
    assert!(
        err.contains("locked.pdf") && err.contains("protected by a password"),
        "{err}"
    );
    let (_, listed) = owner.get(&format!("/api/v1/bots/{bot_id}/documents")).await;
    let titles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 4, "{listed}");
    for title in ["Returns and refunds", "Shipping", "care", "Delivery"] {
        assert!(titles.contains(&title), "{title} in {titles:?}");
    }

    // The running server answers from the import, without a restart.
    let visitor = app.visitor(bot["widget_key"].as_str().unwrap()).await;
    visitor.say("Can I return an item for a refund?").await;
    let messages = visitor.wait_for_messages(2).await;
    let answer = messages[1]["text"].as_str().unwrap();
    assert!(answer.contains("30 days"), "{answer}");
    visitor.say("How much does express delivery cost?").await;
    let messages = visitor.wait_for_messages(4).await;
    let answer = messages[3]["text"].as_str().unwrap();
    assert!(answer.contains("€12.90"), "{answer}");

    // Edited and imported again: the document is replaced, not doubled.
    std::fs::write(
        &returns,
        "# Returns and refunds\n\nYou can return any unworn item within 60 days for a full \
         refund.\n",
    )
    .unwrap();
    let (ok, out, err) = run(baton_on(&app)
        .args(["kb", "import", "--bot", &bot_id])
        .arg(&returns));
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 replaced"), "{out}");
    let (_, listed) = owner.get(&format!("/api/v1/bots/{bot_id}/documents")).await;
    assert_eq!(listed.as_array().unwrap().len(), 4, "{listed}");
    visitor.say("Can I return an item for a refund?").await;
    let messages = visitor.wait_for_messages(6).await;
    let answer = messages[5]["text"].as_str().unwrap();
    assert!(answer.contains("60 days"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_import_refuses_before_importing_anything() {
    let app = crate::helpers::spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let bot_id = bot["id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "# Returns\n\nWithin 30 days.").unwrap();
    std::fs::write(dir.path().join("b.md"), "# Returns\n\nWithin 60 days.").unwrap();

    let (ok, _, err) = run(baton_on(&app)
        .args(["kb", "import", "--bot", "bot_nope"])
        .arg(dir.path()));
    assert!(!ok);
    assert!(
        err.contains("no bot with the id \"bot_nope\"") && err.contains(&bot_id),
        "the error lists the bots there are: {err}"
    );
    let (ok, _, err) = run(baton_on(&app)
        .args(["kb", "import", "--bot", &bot_id])
        .arg(dir.path().join("missing")));
    assert!(!ok);
    assert!(err.contains("missing"), "{err}");
    let (ok, _, err) = run(baton_on(&app)
        .args(["kb", "import", "--bot", &bot_id])
        .arg(dir.path()));
    assert!(!ok);
    assert!(
        err.contains("both titled \"Returns\"") && err.contains("nothing was imported"),
        "{err}"
    );
    let (_, listed) = owner.get(&format!("/api/v1/bots/{bot_id}/documents")).await;
    assert_eq!(listed, serde_json::json!([]));

    let (ok, out, err) = run(baton_on(&app)
        .args(["kb", "import", "--keep-existing", "--bot", &bot_id])
        .arg(dir.path()));
    assert!(ok, "{out}{err}");
    let (_, listed) = owner.get(&format!("/api/v1/bots/{bot_id}/documents")).await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_import_reads_a_help_centre_from_its_website() {
    let app = crate::helpers::spawn_app().await;
    let owner = app.owner().await;
    let bot = owner.create_bot("Help").await;
    let bot_id = bot["id"].as_str().unwrap().to_owned();
    let (site, asked) = crate::fake_site::help_centre().await;

    // The address without its slash is where the site leads it: the /help/ folder.
    let (ok, out, err) = run(baton_on(&app)
        .args(["kb", "import", "--bot", &bot_id])
        .arg(format!("{site}/help")));
    // The broken link fails the run, and is named; the rest is imported.
    assert!(!ok, "{out}{err}");
    assert!(err.contains("/help/gone") && err.contains("404"), "{err}");
    assert!(out.contains(&format!("reading {site}/help/ ")), "{out}");
    assert!(out.contains("imported 4 of 4 pages"), "{out}");
    assert!(
        out.contains("care.txt") && out.contains("not a web page"),
        "{out}"
    );
    let asked = asked.lock().unwrap().clone();
    for never in [
        "/help/private/drafts",
        "/blog/",
        "/login",
        "/help/manual.pdf",
    ] {
        assert!(
            !asked.contains(&never.to_owned()),
            "{never} was fetched: {asked:?}"
        );
    }
    // However a page is linked (a redirect, a tracking parameter, its index.html), it is
    // read once; the start once to find where it leads, once to read it.
    for (path, times) in [("/help/shipping", 1), ("/help/returns", 1), ("/help/", 2)] {
        assert_eq!(
            asked.iter().filter(|p| *p == path).count(),
            times,
            "{path}: {asked:?}"
        );
    }

    let (_, listed) = owner.get(&format!("/api/v1/bots/{bot_id}/documents")).await;
    let mut titles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    // Two pages with one heading are told apart by their address.
    assert_eq!(
        titles,
        [
            "How can we help?",
            "Returns and refunds",
            "Returns and refunds (help/exchanges)",
            "Shipping rates"
        ]
    );
    // The site's header, menu and footer are not knowledge.
    let (_, found) = owner
        .get(&format!(
            "/api/v1/bots/{bot_id}/search?q=help%20returns%20shipping%20topics"
        ))
        .await;
    let results = found["results"].as_array().unwrap();
    assert!(results.len() >= 3, "{found}");
    let text = found["results"].to_string();
    for chrome in ["Acme Inc", "Log in", "Partners", "Blog"] {
        assert!(!text.contains(chrome), "{chrome} in {found}");
    }

    // The running server answers from the pages.
    let visitor = app.visitor(bot["widget_key"].as_str().unwrap()).await;
    visitor.say("How much does shipping cost?").await;
    let messages = visitor.wait_for_messages(2).await;
    let answer = messages[1]["text"].as_str().unwrap();
    assert!(answer.contains("$4.95"), "{answer}");

    // Read again, limited to one page: the home page is replaced, not doubled, and the run
    // says what it left.
    let (_, out, _) = run(baton_on(&app)
        .args(["kb", "import", "--max-pages", "1", "--bot", &bot_id])
        .arg(format!("{site}/help/")));
    assert!(
        out.contains("imported 1 of 1 pages") && out.contains("1 replaced"),
        "{out}"
    );
    assert!(out.contains("stopped at --max-pages 1"), "{out}");
    let (_, listed) = owner.get(&format!("/api/v1/bots/{bot_id}/documents")).await;
    assert_eq!(listed.as_array().unwrap().len(), 4, "{listed}");

    // A folder the site's robots.txt closes to Baton is not read at all, and says why.
    let (ok, _, err) = run(baton_on(&app)
        .args(["kb", "import", "--bot", &bot_id])
        .arg(format!("{site}/help/private/")));
    assert!(!ok);
    assert!(err.contains("robots.txt does not let"), "{err}");

    // An address that is not a site's is a clear error before anything is read.
    let (ok, _, err) = run(baton_on(&app)
        .args(["kb", "import", "--bot", &bot_id])
        .arg("http://127.0.0.1:9/help/"));
    assert!(!ok);
    assert!(err.contains("could not be reached"), "{err}");
}

/// The one-time password in `baton user`'s output.
fn printed_password(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.contains("one-time password"))
        .unwrap_or_else(|| panic!("no password in {out}"));
    line.rsplit(' ').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_and_reset_password_give_one_time_passwords() {
    use crate::helpers::{OWNER_EMAIL, OWNER_PASSWORD, code};
    use reqwest::StatusCode;
    let app = crate::helpers::spawn_app().await;

    let (ok, out, err) = run(baton_on(&app).args([
        "user",
        "add",
        "kim@shop.test",
        "--name",
        "Kim Lee",
        "--role",
        "agent",
    ]));
    assert!(ok, "{err}");
    assert!(out.contains(&app.url("/login")), "{out}");
    let password = printed_password(&out);
    let kim = app.login("kim@shop.test", &password).await;
    let (_, me) = kim.get("/api/v1/me").await;
    assert_eq!(me["user"]["role"], "agent");
    assert_eq!(me["user"]["must_change_password"], true);
    let (status, body) = kim.get("/api/v1/handoffs").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "password_change_required");

    let (ok, _, err) =
        run(baton_on(&app).args(["user", "add", "kim@shop.test", "--name", "Kim again"]));
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = run(baton_on(&app).args([
        "user",
        "add",
        "x@shop.test",
        "--name",
        "X",
        "--role",
        "owner",
    ]));
    assert!(!ok);
    assert!(err.contains("role"), "{err}");

    // The owner forgot their password.
    let owner = app.owner().await;
    let (ok, out, err) = run(baton_on(&app).args(["user", "reset-password", OWNER_EMAIL]));
    assert!(ok, "{err}");
    let fresh = printed_password(&out);
    let (status, _) = owner.get("/api/v1/bots").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "their sessions ended");
    let (status, _) = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            serde_json::json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password is gone");
    let owner = app.login(OWNER_EMAIL, &fresh).await;
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(me["user"]["must_change_password"], true);

    let (ok, _, err) = run(baton_on(&app).args(["user", "reset-password", "nobody@shop.test"]));
    assert!(!ok);
    assert!(err.contains("no user has the email"), "{err}");

    let (ok, out, _) = run(baton_on(&app).args(["user", "list"]));
    assert!(ok);
    assert!(
        out.contains(OWNER_EMAIL) && out.contains("kim@shop.test\tKim Lee\tagent"),
        "{out}"
    );
}
