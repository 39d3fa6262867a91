//! The `baton` command: parses the command line, loads settings, and runs one subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use baton::config::{Config, Settings};
use baton::domain::Clock;
use baton::state::{AppState, FirstStart};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "baton",
    version,
    about = "Customer-support chatbot with a human handoff"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// A TOML file with settings (keys as the flags, with `_`): below flags and environment.
    #[arg(long, env = "BATON_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Run the server with a demo workspace: a shop's bot with a knowledge base, Request
    /// Handoff enabled, an agent, and known logins (data in ./baton-demo unless set).
    Demo,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage a bot's knowledge base from files (`baton kb import --bot <id> <files or folders>`).
    #[command(subcommand)]
    Kb(baton::cli::KbCommand),
    /// Add users and reset forgotten passwords (`baton user add|reset-password|list`).
    #[command(subcommand)]
    User(baton::cli::UserCommand),
    /// Exit 0 if a Baton server answers at the bind address, 1 otherwise.
    Healthcheck,
    /// Print the effective settings (secrets masked) and exit.
    Config,
    /// Measure a Baton process (started as `baton demo` on a fresh SQLite database) over
    /// loopback: start time, search latency, throughput, delivery latency, memory.
    Bench(baton::bench::BenchArgs),
    /// Measure the built-in bot's judgement on the public eval data (human-request detection,
    /// "the KB has nothing", retrieval) and print one table.
    Eval(baton::eval::EvalArgs),
    /// Train the human-request detector on the eval data's training splits and the
    /// hand-written examples, and write its weights (data/detector/model.tsv).
    TrainDetector(baton::train::TrainArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("baton: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = match &cli.config {
        Some(path) => cli.settings.or(Settings::from_file(path)?),
        None => cli.settings,
    };
    let settings = match cli.command {
        Command::Demo => demo_defaults(settings),
        _ => settings,
    };
    let config = Config::resolve(settings)?;
    baton::telemetry::init(config.log_format);
    for name in baton::config::unknown_env_vars() {
        tracing::warn!(variable = %name, "unknown BATON_ setting in the environment, ignored");
    }
    match cli.command {
        Command::Serve => serve(config, false).await.map(|()| ExitCode::SUCCESS),
        Command::Demo => serve(config, true).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => {
            baton::state::open_store(&config).await?;
            tracing::info!(database = %config.database_url, "database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Kb(command) => {
            let store = baton::state::open_store(&config).await?;
            Ok(match baton::cli::kb(&store, command).await? {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            })
        }
        Command::User(command) => {
            let store = baton::state::open_store(&config).await?;
            let login = format!("{}/login", config.public_url.trim_end_matches('/'));
            baton::cli::user(&store, command, &login).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck => healthcheck(&config).await,
        Command::Bench(args) => baton::bench::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Eval(args) => tokio::task::spawn_blocking(move || baton::eval::run(&args))
            .await?
            .map(|()| ExitCode::SUCCESS)
            .map_err(Into::into),
        Command::TrainDetector(args) => {
            tokio::task::spawn_blocking(move || baton::train::run(&args))
                .await?
                .map(|()| ExitCode::SUCCESS)
                .map_err(Into::into)
        }
        Command::Config => {
            print!("{}", config.describe());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The demo keeps its data apart and has logins anyone can type.
fn demo_defaults(settings: Settings) -> Settings {
    settings.or(Settings {
        data_dir: Some(PathBuf::from("./baton-demo")),
        admin_email: Some(baton::demo::OWNER_EMAIL.to_owned()),
        admin_password: Some(baton::demo::PASSWORD.to_owned()),
        ..Settings::default()
    })
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let bind = config.bind;
    let (mut state, first_start) = AppState::start(config, Clock::default()).await?;
    let demo = match demo {
        true => {
            let owner = state.config.admin_email.clone().unwrap_or_default();
            Some(
                baton::demo::seed(&state, &owner)
                    .await
                    .context("seeding the demo")?,
            )
        }
        false => None,
    };
    state.demo_widget_key = demo.as_ref().map(|d| d.bot.widget_key.clone());
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!(
        address = %listener.local_addr()?,
        database = %state.config.database_url,
        "Baton is serving at {}",
        state.config.public_url
    );
    if let Some(first) = first_start {
        announce_owner(&first, &state.config.public_url);
    }
    if let Some(demo) = demo {
        announce_demo(&demo, &state);
    }
    baton::serve(state, listener, shutdown_signal()).await?;
    Ok(())
}

/// Says once how to log in for the first time.
fn announce_owner(first: &FirstStart, public_url: &str) {
    match &first.one_time_password {
        Some(password) => tracing::warn!(
            "created the owner account: log in at {public_url} as {} with the one-time \
             password {password}; you will be asked to choose your own before anything else \
             (or POST /api/v1/me/password). It is not shown again",
            first.email
        ),
        None => tracing::info!(
            "created the owner account {} with the password from BATON_ADMIN_PASSWORD",
            first.email
        ),
    }
}

fn announce_demo(demo: &baton::demo::Demo, state: &AppState) {
    let url = &state.config.public_url;
    let owner = state.config.admin_email.as_deref().unwrap_or_default();
    println!(
        "\nBaton demo is running at {url}\n\n\
         \x20 Customer      {url}/demo  (the shop page with the chat widget)\n\
         \x20 Agent         {url}/handoffs  (the dashboard; open it in a second tab)\n\
         \x20 Admin login   {owner} / {password} (if you set BATON_ADMIN_*, yours)\n\
         \x20 Agent login   {agent} / {password}\n\
         \x20 Bot           {bot} (id {bot_id})\n\
         \x20 Widget key    {key}\n\n\
         Or play both sides with curl: see \"Try the handoff\" in README.md.\n\
         Press Ctrl-C to stop.\n",
        password = baton::demo::PASSWORD,
        agent = baton::demo::AGENT_EMAIL,
        bot = demo.bot.name,
        bot_id = demo.bot.id,
        key = demo.bot.widget_key,
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn healthcheck(config: &Config) -> anyhow::Result<ExitCode> {
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{addr}/healthz");
    let answer = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    match answer {
        Ok(response) if response.status().is_success() => {
            println!("ok: {url}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(response) => {
            println!("unhealthy: {url} answered {}", response.status());
            Ok(ExitCode::FAILURE)
        }
        Err(err) => {
            println!("unreachable: {url}: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}
