//! Administration from the command line, straight on the database: no server needs to run,
//! and every running node sees the change at its next request (a bot's index is rebuilt when
//! its `kb_version` moves). `baton kb import` fills a knowledge base from files; `baton user`
//! adds people and resets a forgotten password.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::accounts;
use crate::auth;
use crate::domain::{Clock, Email, Name, Password, Role};
use crate::knowledge::chunk::{self, Format};
use crate::knowledge::document::{self, Prepared};
use crate::store::{NewUser, SameTitle, Store, StoreError};

#[derive(Debug, clap::Subcommand)]
pub enum KbCommand {
    /// Add Markdown, HTML and text files to a bot's knowledge base, with a progress bar. A
    /// file is titled by its first heading (HTML: its <title>), else its name; a document the
    /// bot already has with that title is replaced, so importing again after editing the
    /// files updates them.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The bot's id (`bot_…`, in the dashboard's address of the bot).
    #[arg(long)]
    pub bot: String,
    /// Keep the bot's documents that have the title of an imported one, instead of
    /// replacing them.
    #[arg(long)]
    pub keep_existing: bool,
    /// Files, or folders searched for .md, .markdown, .html, .htm and .txt files (hidden
    /// files and folders skipped).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add an agent or an admin to a workspace and print a one-time password, which they
    /// replace with their own at their first login.
    Add(AddUserArgs),
    /// Give a user a new one-time password (a forgotten one, a lost owner login): their
    /// sessions end and they choose their own password at the next login.
    ResetPassword {
        /// The user's login email.
        email: String,
    },
    /// List every user of every workspace.
    List,
}

#[derive(Debug, clap::Args)]
pub struct AddUserArgs {
    /// Their login email.
    pub email: String,
    /// The name agents and customers see.
    #[arg(long)]
    pub name: String,
    /// `agent` or `admin`.
    #[arg(long, default_value = "agent")]
    pub role: String,
    /// The workspace's id (`ws_…`); needed only when there is more than one.
    #[arg(long)]
    pub workspace: Option<String>,
}

/// File extensions a folder is searched for.
const IMPORTED: &[&str] = &["md", "markdown", "html", "htm", "txt"];

/// Runs a `baton kb` command; `Ok(false)` when some files could not be imported.
pub async fn kb(store: &Store, command: KbCommand) -> anyhow::Result<bool> {
    let KbCommand::Import(args) = command;
    let bot = match store.any_bot(&args.bot).await {
        Err(StoreError::NotFound(_)) => bail!(
            "no bot with the id {:?}; the bots are:\n{}",
            args.bot,
            bot_list(store).await?
        ),
        found => found?,
    };
    let files = files_under(&args.paths)?;
    let (documents, mut problems) = read_all(&files);
    let same_title = if args.keep_existing {
        SameTitle::Keep
    } else {
        refuse_clashing_titles(&documents)?;
        SameTitle::Replace
    };

    let bar = ProgressBar::new(documents.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:20} [{bar:40}] {pos}/{len} files ({elapsed})")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    bar.set_message("importing");
    let (mut added, mut replaced, mut passages) = (0usize, 0u64, 0usize);
    let clock = Clock::default();
    for (path, doc) in &documents {
        match store
            .put_document(
                &bot.workspace_id,
                &bot.id,
                doc.record(),
                same_title,
                clock.now_ms(),
            )
            .await
        {
            Ok((_, gone)) => {
                added += 1;
                replaced += gone;
                passages += doc.passages();
            }
            Err(err) => problems.push((path.clone(), err.to_string())),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    println!(
        "imported {added} of {} files into bot {:?} ({}): {passages} passages, {replaced} \
         replaced an earlier version",
        files.len(),
        bot.name,
        bot.id
    );
    for (path, problem) in &problems {
        eprintln!("  not imported: {}: {problem}", path.display());
    }
    Ok(problems.is_empty())
}

/// Every file named, and every file with an imported extension under every folder named, in
/// a stable order. A path that does not exist is an error before anything is imported.
fn files_under(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        bail!(
            "no files to import: folders are searched for {} files",
            IMPORTED.join(", ")
        );
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("{}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMPORTED.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}

type Problems = Vec<(PathBuf, String)>;

/// Reads and checks every file before any is stored; the ones that fail are reported, not
/// imported.
fn read_all(files: &[PathBuf]) -> (Vec<(PathBuf, Prepared)>, Problems) {
    let (mut documents, mut problems) = (Vec::new(), Vec::new());
    for path in files {
        match read_one(path) {
            Ok(doc) => documents.push((path.clone(), doc)),
            Err(problem) => problems.push((path.clone(), problem)),
        }
    }
    (documents, problems)
}

fn read_one(path: &Path) -> Result<Prepared, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.len() > document::MAX_BYTES {
        return Err(format!(
            "larger than {} MiB",
            document::MAX_BYTES / (1024 * 1024)
        ));
    }
    let content =
        String::from_utf8(bytes).map_err(|_| "not UTF-8 text, Markdown or HTML".to_owned())?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let format = Format::from_file_name(&name);
    let title = chunk::file_title(format, &name, &content);
    document::prepare(&title, content, format).map_err(|e| e.to_string())
}

/// Two files of one import with the same title would replace each other.
fn refuse_clashing_titles(documents: &[(PathBuf, Prepared)]) -> anyhow::Result<()> {
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for (path, doc) in documents {
        if let Some(first) = seen.insert(doc.title(), path) {
            bail!(
                "{} and {} are both titled {:?}, and the second would replace the first: \
                 give one a different first heading, or pass --keep-existing to keep both \
                 (nothing was imported)",
                first.display(),
                path.display(),
                doc.title()
            );
        }
    }
    Ok(())
}

/// Every workspace's name by its id.
async fn workspace_names(store: &Store) -> anyhow::Result<HashMap<String, String>> {
    Ok(store
        .workspaces()
        .await?
        .into_iter()
        .map(|w| (w.id, w.name))
        .collect())
}

async fn bot_list(store: &Store) -> anyhow::Result<String> {
    let workspaces = workspace_names(store).await?;
    let bots = store.all_bots().await?;
    if bots.is_empty() {
        return Ok("  (none yet: create one in the dashboard or with POST /api/v1/bots)".into());
    }
    Ok(bots
        .iter()
        .map(|b| {
            let workspace = workspaces.get(&b.workspace_id).map_or("?", String::as_str);
            format!("  {}  {} (workspace {workspace:?})", b.id, b.name)
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Runs a `baton user` command.
pub async fn user(store: &Store, command: UserCommand, login_url: &str) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(args) => add_user(store, args, login_url).await,
        UserCommand::ResetPassword { email } => {
            let email = Email::parse(&email)?;
            let Some((user, _)) = store.user_for_login(&email).await? else {
                bail!("no user has the email {email}");
            };
            let password = auth::one_time_password();
            let hash = accounts::hash(Password::parse(&password)?).await;
            store.reset_password(&user.id, &hash).await?;
            println!(
                "{} <{}> has a new one-time password: {password}\nthey log in at {login_url} \
                 and choose their own; their sessions have ended",
                user.name, user.email
            );
            Ok(())
        }
        UserCommand::List => {
            let workspaces = workspace_names(store).await?;
            for user in store.all_users().await? {
                let workspace = workspaces
                    .get(&user.workspace_id)
                    .map_or("?", String::as_str);
                let pending = if user.must_change_password() {
                    "  (one-time password not yet replaced)"
                } else {
                    ""
                };
                println!(
                    "{}\t{}\t{}\tworkspace {workspace:?} ({}){pending}",
                    user.email, user.name, user.role, user.workspace_id
                );
            }
            Ok(())
        }
    }
}

async fn add_user(store: &Store, args: AddUserArgs, login_url: &str) -> anyhow::Result<()> {
    let email = Email::parse(&args.email)?;
    let name = Name::parse("name", &args.name)?;
    let role = match Role::parse(&args.role)? {
        Role::Owner => bail!("role: must be \"admin\" or \"agent\" (a workspace has one owner)"),
        role => role,
    };
    let workspaces = store.workspaces().await?;
    let workspace = match &args.workspace {
        Some(id) => workspaces.iter().find(|w| &w.id == id),
        None if workspaces.len() == 1 => workspaces.first(),
        None => None,
    };
    let Some(workspace) = workspace else {
        if workspaces.is_empty() {
            bail!("there is no workspace yet: start Baton once to create the first, and its owner");
        }
        let known: Vec<String> = workspaces
            .iter()
            .map(|w| format!("  {}  {}", w.id, w.name))
            .collect();
        bail!(
            "{}; the workspaces are:\n{}",
            match &args.workspace {
                Some(id) => format!("no workspace has the id {id:?}"),
                None => "there are several workspaces: name one with --workspace".to_owned(),
            },
            known.join("\n")
        );
    };
    let password = auth::one_time_password();
    let hash = accounts::hash(Password::parse(&password)?).await;
    let user = NewUser {
        email: &email,
        name: &name,
        password_hash: &hash,
        role,
        must_change_password: true,
    };
    let user = match store
        .create_user(&workspace.id, user, Clock::default().now_ms())
        .await
    {
        Err(StoreError::Conflict(_)) => bail!("a user with the email {email} already exists"),
        created => created?,
    };
    println!(
        "added {} <{}> as {} to workspace {:?}\none-time password: {password}\nthey log in \
         at {login_url} and choose their own",
        user.name, user.email, user.role, workspace.name
    );
    Ok(())
}
