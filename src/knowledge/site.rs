//! A knowledge base read from a website: `baton kb import --bot … https://help.example.com/`
//! fetches the page named and, breadth first, every page it links to under the same address
//! (same scheme, host and port, and a path in the first page's folder), as robots.txt allows
//! and at most `max_pages` of them. Each page becomes one HTML document: its content (its
//! `<main>`, else its one `<article>`, else its body) without the site's header, footer,
//! navigation, sidebars and forms, titled by its first heading, else its `<title>`.
//!
//! The crawl is for the operator at the command line, who names the site: it follows no
//! address a page could point it at outside that scope. [`read_page`] reads one page, with a
//! client its caller chose (the API's keeps a workspace off the instance's network).

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use scraper::{ElementRef, Html, Node, Selector};
use texting_robots::Robot;
use url::Url;

use super::document::MAX_BYTES;
use crate::domain::Name;

/// How Baton names itself to the site, and to its robots.txt.
pub const USER_AGENT: &str = "BatonKbImport";

/// What a page is allowed to take, from the first byte to the last.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest pause between two pages a robots.txt `Crawl-delay` is honoured with.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// The most of a robots.txt read (Google reads 500 KiB).
const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// Links to these are files, not pages: not fetched.
const NOT_PAGES: &[&str] = &[
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "svg", "ico", "zip", "gz", "mp4", "mp3", "webm",
    "css", "js", "json", "xml", "rss", "woff", "woff2", "ttf", "doc", "docx", "xls", "xlsx", "ppt",
    "pptx", "csv", "dmg", "exe",
];

/// Inside a page's content, these are the site around the text, not the text. `header` and
/// `footer` only outside an article (an article's own header holds its title).
const CHROME: &[&str] = &[
    "header", "footer", "nav", "aside", "form", "script", "style", "noscript", "template", "svg",
    "iframe", "select", "dialog",
];

/// Query parameters that say where a visitor came from, not which page it is.
const TRACKING: &[&str] = &["fbclid", "gclid", "msclkid", "mc_cid", "mc_eid", "ref"];

/// Elements after which the text that follows is a new line, not the same word.
const BREAKS: &[&str] = &[
    "br",
    "p",
    "div",
    "li",
    "tr",
    "td",
    "th",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "section",
    "article",
    "ul",
    "ol",
    "table",
    "summary",
    "details",
];

/// One page read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Where it was read from.
    pub url: Url,
    /// Its first heading, else its `<title>`, else its path.
    pub title: String,
    /// Its content as HTML (elements without their attributes), under its title.
    pub html: String,
}

/// What became of one address.
#[derive(Debug)]
pub enum Visit {
    Page(Page),
    /// A redirect to an address of the site, which is read in its turn (once, however many
    /// addresses lead to it).
    Moved(Url, Url),
    /// Not a page to import (another kind of file, or it led outside the site); not a failure.
    Skipped(Url, String),
    /// It should have been a page and could not be read.
    Failed(Url, String),
}

/// A website being read, one page per [`Crawl::next`].
pub struct Crawl {
    client: reqwest::Client,
    /// The first page's folder: pages are read under it only.
    scope: Url,
    robots: Option<Robot>,
    delay: Duration,
    queue: VecDeque<Url>,
    seen: HashSet<String>,
    max_pages: usize,
    /// Pages read so far (redirects and other files do not count).
    pages: usize,
    /// Whether anything has been fetched yet (the first fetch waits for no delay).
    fetched: bool,
}

impl Crawl {
    /// Starts at `start`: where the address leads (http to https, a folder without its
    /// slash) is the site, and the folder of where it leads is the scope — `/help` and
    /// `/help/` both mean the `/help/` folder. Reads the site's robots.txt first; a site that
    /// has none allows everything, one that fails to answer is not read.
    pub async fn start(start: Url, max_pages: usize) -> anyhow::Result<Crawl> {
        if !matches!(start.scheme(), "http" | "https") || start.host_str().is_none() {
            anyhow::bail!("only http:// and https:// addresses can be imported");
        }
        let following = client().build()?;
        let start = following
            .get(start)
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("{}", unreadable(err)))?
            .url()
            .clone();
        let start = normalise(start);
        let robots = read_robots(&following, &start).await?;
        // After the first address, redirects are links like any other: a page is read once.
        let client = client()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let delay = robots
            .as_ref()
            .and_then(|r| r.delay)
            .filter(|d| d.is_finite() && *d > 0.0)
            .map_or(Duration::ZERO, |d| {
                Duration::from_secs_f32(d.min(MAX_DELAY.as_secs_f32()))
            });
        let mut crawl = Crawl {
            client,
            scope: scope_of(&start),
            robots,
            delay,
            queue: VecDeque::new(),
            seen: HashSet::new(),
            max_pages,
            pages: 0,
            fetched: false,
        };
        if !crawl.allowed(&start) {
            anyhow::bail!(
                "the site's robots.txt does not let crawlers ({USER_AGENT} or *) read {start}"
            );
        }
        crawl.enqueue(start);
        Ok(crawl)
    }

    /// The folder read.
    pub fn scope(&self) -> &Url {
        &self.scope
    }

    /// Addresses found but not read because `max_pages` was reached.
    pub fn left(&self) -> usize {
        self.queue.len()
    }

    /// Reads the next address, or `None` when the site (or `max_pages`) is done.
    pub async fn next(&mut self) -> Option<Visit> {
        if self.pages >= self.max_pages {
            return None;
        }
        let url = self.queue.pop_front()?;
        if self.fetched && !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.fetched = true;
        let visit = self.visit(url).await;
        if matches!(visit, Visit::Page(_)) {
            self.pages += 1;
        }
        Some(visit)
    }

    async fn visit(&mut self, url: Url) -> Visit {
        let text = match fetch(&self.client, &url).await {
            Err(NotRead::Failed(why)) => return Visit::Failed(url, why),
            Err(NotRead::Skipped(why)) => return Visit::Skipped(url, why),
            Ok(Answer::Document(text, _)) => text,
            Ok(Answer::Redirect(None)) => {
                return Visit::Failed(url, "the site redirected with no Location".to_owned());
            }
            Ok(Answer::Redirect(Some(target))) => {
                let target = normalise(target);
                return if !self.in_scope(&target) {
                    Visit::Skipped(url, format!("it leads outside the site, to {target}"))
                } else if !self.allowed(&target) {
                    Visit::Skipped(
                        url,
                        format!("it leads to {target}, which robots.txt closes"),
                    )
                } else {
                    self.enqueue(target.clone());
                    Visit::Moved(url, target)
                };
            }
        };
        let html = Html::parse_document(&text);
        let base = base_of(&html, &url);
        for link in links(&html, &base) {
            self.enqueue(link);
        }
        match page(&html, url.clone()) {
            Some(page) => Visit::Page(page),
            None => Visit::Skipped(url, no_text()),
        }
    }

    fn enqueue(&mut self, url: Url) {
        let url = normalise(url);
        if self.in_scope(&url) && !self.seen.contains(url.as_str()) && self.allowed(&url) {
            self.seen.insert(url.to_string());
            self.queue.push_back(url);
        }
    }

    fn in_scope(&self, url: &Url) -> bool {
        let folder = self.scope.path();
        url.scheme() == self.scope.scheme()
            && url.host_str() == self.scope.host_str()
            && url.port_or_known_default() == self.scope.port_or_known_default()
            && (url.path().starts_with(folder) || url.path() == folder.trim_end_matches('/'))
            && !url
                .path()
                .rsplit_once('.')
                .is_some_and(|(_, ext)| NOT_PAGES.contains(&ext.to_ascii_lowercase().as_str()))
    }

    fn allowed(&self, url: &Url) -> bool {
        self.robots.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }
}

/// A client that reads pages as Baton does: named `BatonKbImport/<version>`, at most
/// [`PAGE_TIMEOUT`] a page; its redirects are the caller's to choose.
pub fn client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(format!("{USER_AGENT}/{}", env!("CARGO_PKG_VERSION")))
        .timeout(PAGE_TIMEOUT)
}

/// The folder a crawl from `start` reads: its path if that ends in `/` or names no file
/// (`/help` → `/help/`), else the folder the file is in (`/help/index.html` → `/help/`).
fn scope_of(start: &Url) -> Url {
    let mut scope = start.clone();
    scope.set_query(None);
    let path = scope.path().to_owned();
    let last = path.rsplit('/').next().unwrap_or_default();
    let folder = if path.ends_with('/') {
        path
    } else if !last.contains('.') {
        format!("{path}/")
    } else {
        path[..=path.rfind('/').unwrap_or(0)].to_owned()
    };
    scope.set_path(&folder);
    scope
}

/// One address per page: no fragment, no tracking parameters (`utm_…`, `fbclid`…), no empty
/// query, and a folder's `index.html` as the folder.
fn normalise(mut url: Url) -> Url {
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_") && !TRACKING.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else if url.query_pairs().count() != kept.len() {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    for index in ["index.html", "index.htm"] {
        if let Some(folder) = url.path().strip_suffix(index).map(str::to_owned) {
            url.set_path(&folder);
        }
    }
    url
}

/// What a GET of an address answered.
enum Answer {
    /// A web page, as text, and where it was read from (after redirects the client followed).
    Document(String, Url),
    /// A redirect (the client follows none itself), and where to, if it says.
    Redirect(Option<Url>),
}

/// Why an address gave no page.
enum NotRead {
    /// It should have been a page and could not be read.
    Failed(String),
    /// It is something else (another kind of file).
    Skipped(String),
}

/// Reads one address: a web page's text, a redirect, or why it is neither.
async fn fetch(client: &reqwest::Client, url: &Url) -> Result<Answer, NotRead> {
    let failed = NotRead::Failed;
    let response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|err| failed(unreadable(err)))?;
    let status = response.status();
    if status.is_redirection() {
        let target = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|to| url.join(to).ok());
        return Ok(Answer::Redirect(target));
    }
    if !status.is_success() {
        return Err(failed(format!("the site answered {status}")));
    }
    let landed = response.url().clone();
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !(kind.starts_with("text/html") || kind.starts_with("application/xhtml")) {
        return Err(NotRead::Skipped(format!("not a web page ({kind})")));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BYTES as u64)
    {
        return Err(failed(too_large()));
    }
    let body = response
        .bytes()
        .await
        .map_err(|err| failed(unreadable(err)))?;
    if body.len() > MAX_BYTES {
        return Err(failed(too_large()));
    }
    Ok(Answer::Document(decode(&body, &kind), landed))
}

/// Reads the one page at `url` with `client` (which follows redirects, or not, as its
/// owner chose); answers why not when it is no page with text.
pub async fn read_page(client: &reqwest::Client, url: Url) -> Result<Page, String> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("only http:// and https:// addresses can be read".to_owned());
    }
    match fetch(client, &url).await {
        Ok(Answer::Document(text, landed)) => {
            page(&Html::parse_document(&text), landed).ok_or_else(no_text)
        }
        Ok(Answer::Redirect(_)) => Err("it redirects too many times".to_owned()),
        Err(NotRead::Failed(why) | NotRead::Skipped(why)) => Err(why),
    }
}

fn no_text() -> String {
    "no text on the page".to_owned()
}

fn too_large() -> String {
    format!("larger than {} MiB", MAX_BYTES / (1024 * 1024))
}

/// A fetch error without the address (the caller names it), with its cause.
fn unreadable(err: reqwest::Error) -> String {
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        if let Some(local) = cause.downcast_ref::<crate::webhooks::LocalOnly>() {
            return local.to_string();
        }
        source = cause.source();
    }
    let cause = std::error::Error::source(&err).map(|s| format!(": {s}"));
    let text = if err.is_timeout() {
        "it took too long to answer".to_owned()
    } else if err.is_connect() {
        "the site could not be reached".to_owned()
    } else {
        err.without_url().to_string()
    };
    text + cause.as_deref().unwrap_or_default()
}

/// The site's robots.txt (RFC 9309): none (4xx) allows everything; a server error closes the
/// site, and so does one that cannot be reached.
async fn read_robots(client: &reqwest::Client, start: &Url) -> anyhow::Result<Option<Robot>> {
    let address = start.join("/robots.txt")?;
    let response = client
        .get(address.clone())
        .send()
        .await
        .map_err(|err| anyhow::anyhow!("{address}: {}", unreadable(err)))?;
    let status = response.status();
    if status.is_client_error() {
        return Ok(None);
    }
    if !status.is_success() {
        anyhow::bail!("{address} answered {status}; crawlers wait until it answers");
    }
    let body = response
        .bytes()
        .await
        .map_err(|err| anyhow::anyhow!("{address}: {}", unreadable(err)))?;
    let body = &body[..body.len().min(MAX_ROBOTS_BYTES)];
    Ok(Robot::new(USER_AGENT, body).ok())
}

/// A page's bytes as text, in the charset its `Content-Type` or its `<meta>` names (else
/// UTF-8, which a byte-order mark also overrides).
fn decode(body: &[u8], content_type: &str) -> String {
    let named = |text: &str| {
        let at = text.find("charset=")? + "charset=".len();
        let name: String = text[at..]
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
            .collect();
        encoding_rs::Encoding::for_label(name.as_bytes())
    };
    let head = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_ascii_lowercase();
    let encoding = named(content_type)
        .or_else(|| named(&head))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(body).0.into_owned()
}

/// The address a page's links are relative to: its `<base href>`, else its own.
fn base_of(html: &Html, url: &Url) -> Url {
    let base = Selector::parse("base[href]").expect("a valid selector");
    html.select(&base)
        .next()
        .and_then(|b| url.join(b.value().attr("href")?).ok())
        .unwrap_or_else(|| url.clone())
}

/// Every page address a page links to, resolved against `base`, without fragments.
fn links(html: &Html, base: &Url) -> Vec<Url> {
    let anchors = Selector::parse("a[href]").expect("a valid selector");
    html.select(&anchors)
        .filter(|a| {
            a.value()
                .attr("rel")
                .is_none_or(|rel| !rel.split_whitespace().any(|r| r == "nofollow"))
        })
        .filter_map(|a| base.join(a.value().attr("href")?.trim()).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .map(normalise)
        .collect()
}

/// A page's content and title, or `None` when it has no text.
fn page(html: &Html, url: Url) -> Option<Page> {
    let mut written = None;
    for content in contents_of(html) {
        let mut clean = Clean::default();
        clean.write(
            content,
            matches!(content.value().name(), "main" | "article"),
        );
        if clean.any_text {
            written = Some(clean);
            break;
        }
    }
    let clean = written?;
    let title_tag = Selector::parse("title").expect("a tag name is a selector");
    let title = clean
        .first_heading
        .clone()
        .or_else(|| {
            html.select(&title_tag)
                .map(|e| squeeze(&e.text().collect::<String>()))
                .find(|t| !t.is_empty())
        })
        .unwrap_or_else(|| url.path().trim_matches('/').to_owned());
    let title = if title.is_empty() {
        url.host_str().unwrap_or("home").to_owned()
    } else {
        title
    };
    let title = shorten(&title, Name::MAX_CHARS);
    let html = format!(
        "<html><head><title>{}</title></head><body>{}</body></html>",
        escape(&title),
        clean.out
    );
    Some(Page { url, title, html })
}

/// Where a page's text may be, best first: `<main>` (or `role="main"`), its one `<article>`,
/// its body.
fn contents_of(html: &Html) -> Vec<ElementRef<'_>> {
    let select = |css: &str| {
        let selector = Selector::parse(css).expect("a valid selector");
        html.select(&selector).collect::<Vec<_>>()
    };
    let mut found: Vec<ElementRef<'_>> = select("main, [role=main]").into_iter().take(1).collect();
    let articles = select("article");
    if articles.len() == 1 {
        found.push(articles[0]);
    }
    found.extend(select("body").into_iter().take(1));
    found
}

/// A page's content written again as plain HTML: the site's chrome (see [`CHROME`]) left
/// out, elements without their attributes (nothing the chunker reads is in them), a line
/// break after each block so words of two lines never run together.
#[derive(Default)]
struct Clean {
    out: String,
    any_text: bool,
    first_heading: Option<String>,
}

impl Clean {
    fn write(&mut self, element: ElementRef<'_>, in_article: bool) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => {
                    self.any_text |= !text.trim().is_empty();
                    self.out.push_str(&escape(text));
                }
                Node::Element(el) => {
                    let name = el.name();
                    if CHROME.contains(&name)
                        && !(in_article && matches!(name, "header" | "footer"))
                    {
                        continue;
                    }
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    if self.first_heading.is_none() && name == "h1" {
                        let text = squeeze(&child.text().collect::<String>());
                        if !text.is_empty() {
                            self.first_heading = Some(text);
                        }
                    }
                    self.out.push('<');
                    self.out.push_str(name);
                    self.out.push('>');
                    let in_article = in_article || matches!(name, "main" | "article");
                    self.write(child, in_article);
                    if !matches!(
                        name,
                        "br" | "hr" | "img" | "input" | "meta" | "link" | "wbr"
                    ) {
                        self.out.push_str("</");
                        self.out.push_str(name);
                        self.out.push('>');
                    }
                    if BREAKS.contains(&name) {
                        self.out.push('\n');
                    }
                }
                _ => {}
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A page's title told apart from another page's by its address: `Pricing (plans/team)`.
pub fn titled_by_path(title: &str, url: &Url) -> String {
    let path = url.path().trim_matches('/');
    let room = Name::MAX_CHARS
        .saturating_sub(path.chars().count() + 3)
        .max(10);
    shorten(
        &format!("{} ({path})", shorten(title, room)),
        Name::MAX_CHARS,
    )
}

/// At most `max` characters, cut at a word where there is one.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > cut.len() / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(html: &str) -> Page {
        let url = Url::parse("https://help.example.com/help/returns").unwrap();
        page(&Html::parse_document(html), url).expect("a page")
    }

    #[test]
    fn a_page_keeps_its_content_without_the_site_around_it() {
        let got = page_of(
            "<html><head><title>Returns | Acme Help</title><style>p{}</style></head><body>\
             <header><h1>Acme Help</h1> Log in</header><nav>Home · Orders</nav>\
             <main class=x><h1 id=t>Returns &amp; refunds</h1>\
             <p onclick=\"x()\">Return within <b>30 days</b> &lt;unworn&gt;.</p>\
             <p>Mon–Fri<br>9–5</p>\
             <aside>Related: Shipping</aside><form>Was this helpful? <button>Yes</button></form>\
             <script>track()</script></main><footer>© Acme</footer></body></html>",
        );
        assert_eq!(got.title, "Returns & refunds");
        assert_eq!(
            got.html,
            "<html><head><title>Returns &amp; refunds</title></head><body>\
             <h1>Returns &amp; refunds</h1>\n<p>Return within <b>30 days</b> &lt;unworn&gt;.</p>\n\
             <p>Mon–Fri<br>\n9–5</p>\n</body></html>"
        );
        let passages =
            crate::knowledge::chunk::passages(crate::knowledge::chunk::Format::Html, &got.html);
        assert!(
            passages.iter().any(|p| p.body.contains("Mon–Fri 9–5")),
            "{passages:?}"
        );
    }

    #[test]
    fn without_main_the_one_article_or_the_body_is_read_and_titled() {
        // The logo's heading in the site's header is not the page's title.
        let got = page_of(
            "<html><head><title>Shipping</title></head><body><header><h1>Acme</h1></header>\
             <nav>Menu</nav><article><header><h1>Delivery</h1><p>Updated today</p></header>\
             <p>Free over $50.</p><h3><button>Do you ship abroad?</button></h3><p>Yes.</p>\
             </article><footer>Bye</footer></body></html>",
        );
        assert_eq!(got.title, "Delivery");
        for kept in ["Updated today", "Free over $50.", "Do you ship abroad?"] {
            assert!(got.html.contains(kept), "{kept}: {}", got.html);
        }
        assert!(
            !got.html.contains("Acme") && !got.html.contains("Bye"),
            "{}",
            got.html
        );
        let got = page_of(
            "<body><header><h1>Top</h1></header><article><p>One</p></article>\
             <article><p>Two</p></article></body>",
        );
        assert_eq!(got.title, "help/returns");
        assert!(got.html.contains("One") && got.html.contains("Two"));
        assert!(!got.html.contains("Top"));
        // An empty <main> (a script's mount point) falls back to the body.
        let got = page_of("<body><main></main><div><p>Text outside main</p></div></body>");
        assert!(got.html.contains("Text outside main"));
        let long = "word ".repeat(40);
        let got = page_of(&format!("<h1>{long}</h1><p>x</p>"));
        assert!(got.title.chars().count() <= Name::MAX_CHARS);
        assert!(got.title.ends_with("word…"), "{}", got.title);
        let empty = Html::parse_document("<body><nav>Only a menu</nav></body>");
        assert!(page(&empty, Url::parse("https://x.test/").unwrap()).is_none());
    }

    #[test]
    fn links_resolve_against_the_page_or_its_base_with_one_address_per_page() {
        let html = Html::parse_document(
            "<a href=\"returns#top\">R</a><a href=\"/help/shipping?lang=en&utm_source=x\">S</a>\
             <a href=\"mailto:help@example.com\">M</a><a rel=\"nofollow\" href=\"login\">L</a>\
             <a href=\"https://other.example/\">O</a><a href=\"faq/index.html?fbclid=1\">F</a>",
        );
        let base = Url::parse("https://help.example.com/help/index.html").unwrap();
        let got: Vec<String> = links(&html, &base).iter().map(Url::to_string).collect();
        assert_eq!(
            got,
            [
                "https://help.example.com/help/returns",
                "https://help.example.com/help/shipping?lang=en",
                "https://other.example/",
                "https://help.example.com/help/faq/",
            ]
        );
        let with_base = Html::parse_document(
            "<head><base href=\"https://help.example.com/docs/\"></head><a href=\"a\">A</a>",
        );
        assert_eq!(
            base_of(&with_base, &base).join("a").unwrap().as_str(),
            "https://help.example.com/docs/a"
        );
    }

    #[test]
    fn the_scope_is_the_folder_the_address_names() {
        let scope = |a: &str| scope_of(&Url::parse(a).unwrap()).to_string();
        assert_eq!(scope("https://x.test/help/"), "https://x.test/help/");
        assert_eq!(scope("https://x.test/hc/en-us"), "https://x.test/hc/en-us/");
        assert_eq!(
            scope("https://x.test/help/index.html?a=1"),
            "https://x.test/help/"
        );
        assert_eq!(scope("https://x.test"), "https://x.test/");
    }

    #[test]
    fn a_page_is_decoded_in_the_charset_it_names() {
        let latin1 = b"<p>caf\xe9</p>";
        assert_eq!(
            decode(latin1, "text/html; charset=ISO-8859-1"),
            "<p>café</p>"
        );
        let meta = b"<head><meta charset=\"windows-1252\"></head><p>\x93quoted\x94</p>";
        assert!(decode(meta, "text/html").contains("“quoted”"));
        assert_eq!(decode("<p>café</p>".as_bytes(), "text/html"), "<p>café</p>");
    }
}
