//! Administration from the command line, straight on the database: no server needs to run,
//! and every running node sees the change at its next request (a bot's index is rebuilt when
//! its `kb_version` moves). `baton kb import` fills a knowledge base from files; `baton user`
//! adds people and resets a forgotten password.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use url::Url;

use crate::accounts;
use crate::auth;
use crate::domain::{Clock, Email, Name, Password, Role};
use crate::knowledge::chunk::{self, Format};
use crate::knowledge::document::{self, Prepared};
use crate::knowledge::site::{self, Visit};
use crate::store::{BotRecord, NewUser, SameTitle, Store, StoreError};

#[derive(Debug, clap::Subcommand)]
pub enum KbCommand {
    /// Add Markdown, HTML and text files, or the pages of a website, to a bot's knowledge
    /// base, with a progress bar. A file is titled by its first heading (HTML: its <title>),
    /// else its name; a web page by its first heading, else its <title>. A document the bot
    /// already has with that title is replaced, so importing again after editing the files
    /// (or the site) updates them.
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
    /// The most pages read from each website named.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_pages: u64,
    /// Files, folders searched for .md, .markdown, .html, .htm, .txt and .pdf files (hidden
    /// files and folders skipped), or website addresses (http:// or https://): the page and
    /// every page it links to under the same folder of the site, as its robots.txt allows.
    #[arg(required = true)]
    pub paths: Vec<String>,
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
const IMPORTED: &[&str] = &["md", "markdown", "html", "htm", "txt", "pdf"];

/// Runs a `baton kb` command; `Ok(false)` when some files or pages could not be imported.
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
    let (sites, paths): (Vec<&String>, Vec<&String>) = args
        .paths
        .iter()
        .partition(|p| p.starts_with("http://") || p.starts_with("https://"));
    let sites = sites
        .into_iter()
        .map(|s| Url::parse(s).with_context(|| format!("{s} is not a web address")))
        .collect::<anyhow::Result<Vec<Url>>>()?;
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let files = if paths.is_empty() {
        Vec::new()
    } else {
        files_under(&paths)?
    };
    // Reading PDFs takes CPU time: off the async runtime.
    let (documents, mut problems) = {
        let files = files.clone();
        tokio::task::spawn_blocking(move || read_all(&files))
            .await
            .context("reading the files failed")?
    };
    let same_title = if args.keep_existing {
        SameTitle::Keep
    } else {
        refuse_clashing_titles(&documents)?;
        SameTitle::Replace
    };
    let mut import = Import {
        store,
        bot: &bot,
        same_title,
        titles: documents
            .iter()
            .map(|(path, doc)| (doc.title().to_owned(), path.display().to_string()))
            .collect(),
        tally: Tally::default(),
    };

    if !files.is_empty() {
        let bar = ProgressBar::new(documents.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg:20} [{bar:40}] {pos}/{len} files ({elapsed})")
                .expect("a valid progress template")
                .progress_chars("=> "),
        );
        bar.set_message("importing");
        for (path, doc) in &documents {
            if let Err(err) = import.put(doc).await {
                problems.push((path.display().to_string(), err.to_string()));
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        let tally = std::mem::take(&mut import.tally);
        println!(
            "imported {} of {} files into bot {:?} ({}): {}",
            tally.added,
            files.len(),
            bot.name,
            bot.id,
            tally.summary()
        );
    }
    for site in sites {
        let (site_problems, skipped) = import.site(site, args.max_pages as usize).await;
        problems.extend(site_problems);
        for (url, why) in skipped {
            println!("  skipped: {url}: {why}");
        }
    }
    for (what, problem) in &problems {
        eprintln!("  not imported: {what}: {problem}");
    }
    Ok(problems.is_empty())
}

/// Documents added, and what they replaced.
#[derive(Default)]
struct Tally {
    added: usize,
    replaced: u64,
    passages: usize,
}

impl Tally {
    fn summary(&self) -> String {
        format!(
            "{} passages, {} replaced an earlier version",
            self.passages, self.replaced
        )
    }
}

/// One `kb import` run into one bot.
struct Import<'a> {
    store: &'a Store,
    bot: &'a BotRecord,
    same_title: SameTitle,
    /// Every title imported (or about to be, from files) in this run, with where it came from.
    titles: HashMap<String, String>,
    tally: Tally,
}

impl Import<'_> {
    async fn put(&mut self, doc: &Prepared) -> Result<(), StoreError> {
        let (_, gone) = self
            .store
            .put_document(
                &self.bot.workspace_id,
                &self.bot.id,
                doc.record(),
                self.same_title,
                Clock::default().now_ms(),
            )
            .await?;
        self.tally.added += 1;
        self.tally.replaced += gone;
        self.tally.passages += doc.passages();
        Ok(())
    }

    /// Reads a website page by page and imports each page as it comes; answers the addresses
    /// that failed and those skipped.
    async fn site(&mut self, start: Url, max_pages: usize) -> (Problems, Problems) {
        let (mut problems, mut skipped) = (Vec::new(), Vec::new());
        let mut crawl = match site::Crawl::start(start.clone(), max_pages).await {
            Ok(crawl) => crawl,
            Err(err) => {
                problems.push((start.to_string(), err.to_string()));
                return (problems, skipped);
            }
        };
        println!(
            "reading {} (every page of that folder it links to)",
            crawl.scope()
        );
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} pages ({elapsed}) {wide_msg}")
                .expect("a valid progress template"),
        );
        let mut pages = 0;
        // Each page's text by its title, to tell the same page under two addresses from two
        // pages that share a title.
        let mut texts: HashMap<String, String> = HashMap::new();
        while let Some(visit) = crawl.next().await {
            let page = match visit {
                Visit::Page(page) => page,
                Visit::Moved(..) => continue,
                Visit::Skipped(url, why) => {
                    skipped.push((url.to_string(), why));
                    continue;
                }
                Visit::Failed(url, why) => {
                    problems.push((url.to_string(), why));
                    continue;
                }
            };
            pages += 1;
            bar.inc(1);
            bar.set_message(page.url.to_string());
            let url = page.url.to_string();
            let mut title = page.title.clone();
            if let Some(first) = self.titles.get(&title) {
                if texts.get(&title) == Some(&page.html) {
                    skipped.push((url, format!("the same page as {first}")));
                    continue;
                }
                // Two pages, one title: the second is told apart by its address.
                title = site::titled_by_path(&title, &page.url);
                if let Some(first) = self.titles.get(&title) {
                    skipped.push((
                        url,
                        format!("titled {title:?} like {first}, which was kept"),
                    ));
                    continue;
                }
            }
            let doc = match document::prepare(&title, page.html.clone(), Format::Html) {
                Ok(doc) => doc,
                Err(err) => {
                    problems.push((url, err.to_string()));
                    continue;
                }
            };
            match self.put(&doc).await {
                Ok(()) => {
                    self.titles.insert(title.clone(), url);
                    texts.insert(title, page.html);
                }
                Err(err) => problems.push((url, err.to_string())),
            }
        }
        bar.finish_and_clear();
        let tally = std::mem::take(&mut self.tally);
        println!(
            "imported {} of {pages} pages read from {start} into bot {:?} ({}): {}",
            tally.added,
            self.bot.name,
            self.bot.id,
            tally.summary()
        );
        if crawl.left() > 0 {
            println!(
                "  stopped at --max-pages {max_pages}: {} more addresses it links to were not read",
                crawl.left()
            );
        }
        if pages == 0 {
            problems.push((
                start.to_string(),
                "no page could be read from it (see above and below)".to_owned(),
            ));
        }
        (problems, skipped)
    }
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

/// What could not be imported (a file or an address), and why.
type Problems = Vec<(String, String)>;

/// Reads and checks every file before any is stored; the ones that fail are reported, not
/// imported.
fn read_all(files: &[PathBuf]) -> (Vec<(PathBuf, Prepared)>, Problems) {
    let (mut documents, mut problems) = (Vec::new(), Vec::new());
    for path in files {
        match read_one(path) {
            Ok(doc) => documents.push((path.clone(), doc)),
            Err(problem) => problems.push((path.display().to_string(), problem)),
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
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let (format, content) = document::read_file(&name, bytes, None).map_err(|e| e.to_string())?;
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
