//! The `baton` command itself: settings precedence and the health check.

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
