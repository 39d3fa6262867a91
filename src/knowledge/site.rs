//! A knowledge base read from a website: `baton kb import --bot … https://help.example.com/`
//! fetches the page named and, breadth first, every page it links to under the same address
//! (same scheme, host and port, and a path under the first page's folder), as robots.txt
//! allows and at most `max_pages` of them. Each page becomes one HTML document: its content
//! (its `<main>`, else its one `<article>`, else its body) without the site's header, footer,
//! navigation, sidebars and forms, titled by its first heading, else its `<title>`.
//!
//! This is for the operator at the command line, who names the site: it follows no address a
//! page could point it at outside that scope.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use super::document::MAX_BYTES;
use crate::domain::Name;

/// How Baton names itself to the site, and to its robots.txt.
pub const USER_AGENT: &str = "BatonKbImport";

/// What a page is allowed to take, from the first byte to the last.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest pause between two pages a robots.txt `Crawl-delay` is honoured with.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// Links to these are files, not pages: not fetched.
const NOT_PAGES: &[&str] = &[
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "svg", "ico", "zip", "gz", "mp4", "mp3", "webm",
    "css", "js", "json", "xml", "rss", "woff", "woff2", "ttf", "doc", "docx", "xls", "xlsx", "ppt",
    "pptx", "csv", "dmg", "exe",
];

/// Inside a page's content, these are the site around the text, not the text.
const CHROME: &[&str] = &[
    "header", "footer", "nav", "aside", "form", "script", "style", "noscript", "template", "svg",
    "button", "iframe", "select", "dialog",
];

/// One page read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Where it was read from.
    pub url: Url,
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
    robots: Option<String>,
    delay: Duration,
    queue: VecDeque<Url>,
    seen: HashSet<String>,
    max_pages: usize,
    /// Addresses taken from the queue so far.
    visited: usize,
}

impl Crawl {
    /// Starts at `start`; reads the site's robots.txt first (none, or an unreadable one,
    /// allows everything).
    pub async fn start(start: Url, max_pages: usize) -> anyhow::Result<Crawl> {
        if !matches!(start.scheme(), "http" | "https") || start.host_str().is_none() {
            anyhow::bail!("{start}: only http:// and https:// addresses can be imported");
        }
        let agent = format!("{USER_AGENT}/{}", env!("CARGO_PKG_VERSION"));
        // Where the address itself leads (http to https, a folder without its slash) is the
        // site; after that, redirects are links like any other, so a page is read once.
        let start = reqwest::Client::builder()
            .user_agent(&agent)
            .timeout(PAGE_TIMEOUT)
            .build()?
            .head(start.clone())
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("{start}: {}", unreadable(err)))?
            .url()
            .clone();
        let client = reqwest::Client::builder()
            .user_agent(agent)
            .timeout(PAGE_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let start = without_fragment(start);
        let mut scope = start.clone();
        scope.set_query(None);
        if !scope.path().ends_with('/') {
            let folder = match scope.path().rfind('/') {
                Some(i) => scope.path()[..=i].to_owned(),
                None => "/".to_owned(),
            };
            scope.set_path(&folder);
        }
        let robots = read_robots(&client, &start).await;
        let delay = robots
            .as_deref()
            .and_then(crawl_delay)
            .map_or(Duration::ZERO, |d| d.min(MAX_DELAY));
        let mut crawl = Crawl {
            client,
            scope,
            robots,
            delay,
            queue: VecDeque::new(),
            seen: HashSet::new(),
            max_pages,
            visited: 0,
        };
        crawl.enqueue(start);
        Ok(crawl)
    }

    /// Addresses found but not read because `max_pages` was reached.
    pub fn left(&self) -> usize {
        self.queue.len()
    }

    /// Reads the next page, or `None` when the site (or `max_pages`) is done.
    pub async fn next(&mut self) -> Option<Visit> {
        if self.visited >= self.max_pages {
            return None;
        }
        let url = self.queue.pop_front()?;
        if self.visited > 0 && !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.visited += 1;
        Some(self.visit(url).await)
    }

    async fn visit(&mut self, url: Url) -> Visit {
        let response = match self.client.get(url.clone()).send().await {
            Ok(response) => response,
            Err(err) => return Visit::Failed(url, unreadable(err)),
        };
        let status = response.status();
        if status.is_redirection() {
            let target = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|to| url.join(to).ok())
                .map(without_fragment);
            return match target {
                Some(target) if self.in_scope(&target) => {
                    self.enqueue(target.clone());
                    Visit::Moved(url, target)
                }
                Some(target) => {
                    Visit::Skipped(url, format!("it leads outside the site, to {target}"))
                }
                None => Visit::Failed(url, format!("the site answered {status} with no Location")),
            };
        }
        if !status.is_success() {
            return Visit::Failed(url, format!("the site answered {status}"));
        }
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !(kind.starts_with("text/html") || kind.starts_with("application/xhtml")) {
            return Visit::Skipped(url, format!("not a web page ({kind})"));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BYTES as u64)
        {
            return Visit::Failed(url, too_large());
        }
        let body = match response.bytes().await {
            Ok(body) if body.len() > MAX_BYTES => return Visit::Failed(url, too_large()),
            Ok(body) => body,
            Err(err) => return Visit::Failed(url, unreadable(err)),
        };
        let html = Html::parse_document(&String::from_utf8_lossy(&body));
        for link in links(&html, &url) {
            self.enqueue(link);
        }
        match page(&html, url.clone()) {
            Some(page) => Visit::Page(page),
            None => Visit::Skipped(url, "no text on the page".to_owned()),
        }
    }

    fn enqueue(&mut self, url: Url) {
        if self.in_scope(&url) && self.allowed(&url) && self.seen.insert(url.to_string()) {
            self.queue.push_back(url);
        }
    }

    fn in_scope(&self, url: &Url) -> bool {
        url.scheme() == self.scope.scheme()
            && url.host_str() == self.scope.host_str()
            && url.port_or_known_default() == self.scope.port_or_known_default()
            && url.path().starts_with(self.scope.path())
            && !url
                .path()
                .rsplit_once('.')
                .is_some_and(|(_, ext)| NOT_PAGES.contains(&ext.to_ascii_lowercase().as_str()))
    }

    fn allowed(&self, url: &Url) -> bool {
        self.robots.as_deref().is_none_or(|robots| {
            robotstxt::DefaultMatcher::default().one_agent_allowed_by_robots(
                robots,
                USER_AGENT,
                url.as_str(),
            )
        })
    }
}

fn too_large() -> String {
    format!("larger than {} MiB", MAX_BYTES / (1024 * 1024))
}

/// A fetch error without the address (the caller names it), with its cause.
fn unreadable(err: reqwest::Error) -> String {
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

fn without_fragment(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}

/// The site's robots.txt, if it has one that reads as text.
async fn read_robots(client: &reqwest::Client, start: &Url) -> Option<String> {
    let robots = start.join("/robots.txt").ok()?;
    let response = client.get(robots).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.text().await.ok()
}

/// The `Crawl-delay` of the group that applies to Baton (its own, else `*`).
fn crawl_delay(robots: &str) -> Option<Duration> {
    let (mut ours, mut anyone) = (None, None);
    let mut agents: Vec<String> = Vec::new();
    let mut in_rules = false;
    for line in robots.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        if key == "user-agent" {
            if in_rules {
                agents.clear();
                in_rules = false;
            }
            agents.push(value.to_ascii_lowercase());
            continue;
        }
        in_rules = true;
        if key != "crawl-delay" {
            continue;
        }
        let Ok(seconds) = value.parse::<f64>() else {
            continue;
        };
        let delay = Duration::from_secs_f64(seconds.clamp(0.0, 3600.0));
        if agents.iter().any(|a| a == &USER_AGENT.to_ascii_lowercase()) {
            ours = Some(delay);
        } else if agents.iter().any(|a| a == "*") {
            anyone = Some(delay);
        }
    }
    ours.or(anyone)
}

/// Every page address a page links to, resolved against it, without fragments.
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
        .map(without_fragment)
        .collect()
}

/// A page's content and title, or `None` when it has no text.
fn page(html: &Html, url: Url) -> Option<Page> {
    let content = content_of(html)?;
    let mut body = String::new();
    if !write_clean(content, &mut body) {
        return None;
    }
    let first = |root: ElementRef<'_>, tag: &str| {
        let selector = Selector::parse(tag).expect("a tag name is a selector");
        root.select(&selector)
            .map(|e| squeeze(&e.text().collect::<String>()))
            .find(|t| !t.is_empty())
    };
    let title = first(content, "h1")
        .or_else(|| first(html.root_element(), "title"))
        .unwrap_or_else(|| url.path().trim_matches('/').to_owned());
    let title = if title.is_empty() {
        url.host_str().unwrap_or("home").to_owned()
    } else {
        title
    };
    let title = shorten(&title, Name::MAX_CHARS);
    let html = format!(
        "<html><head><title>{}</title></head><body>{body}</body></html>",
        escape(&title)
    );
    Some(Page { url, title, html })
}

/// The part of the page that is its text: `<main>` (or `role="main"`), else its one
/// `<article>`, else its body.
fn content_of(html: &Html) -> Option<ElementRef<'_>> {
    let select = |css: &str| {
        let selector = Selector::parse(css).expect("a valid selector");
        html.select(&selector).collect::<Vec<_>>()
    };
    if let Some(main) = select("main, [role=main]").into_iter().next() {
        return Some(main);
    }
    let articles = select("article");
    if articles.len() == 1 {
        return Some(articles[0]);
    }
    select("body").into_iter().next()
}

/// `element`'s children as plain HTML: the site's chrome (see [`CHROME`]) left out, and
/// elements without their attributes (nothing the chunker reads is in them). Answers whether
/// any text was written.
fn write_clean(element: ElementRef<'_>, out: &mut String) -> bool {
    let mut any_text = false;
    for child in element.children() {
        match child.value() {
            Node::Text(text) => {
                any_text |= !text.trim().is_empty();
                out.push_str(&escape(text));
            }
            Node::Element(el) => {
                let name = el.name();
                if CHROME.contains(&name) {
                    continue;
                }
                let Some(child) = ElementRef::wrap(child) else {
                    continue;
                };
                out.push('<');
                out.push_str(name);
                out.push('>');
                any_text |= write_clean(child, out);
                if !matches!(
                    name,
                    "br" | "hr" | "img" | "input" | "meta" | "link" | "wbr"
                ) {
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
            _ => {}
        }
    }
    any_text
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
             <header><a href=/>Acme</a> Log in</header><nav>Home · Orders</nav>\
             <main class=x><h1 id=t>Returns &amp; refunds</h1>\
             <p onclick=\"x()\">Return within <b>30 days</b> &lt;unworn&gt;.</p>\
             <aside>Related: Shipping</aside><form>Was this helpful? <button>Yes</button></form>\
             <script>track()</script></main><footer>© Acme</footer></body></html>",
        );
        assert_eq!(got.title, "Returns & refunds");
        assert_eq!(
            got.html,
            "<html><head><title>Returns &amp; refunds</title></head><body>\
             <h1>Returns &amp; refunds</h1><p>Return within <b>30 days</b> &lt;unworn&gt;.</p>\
             </body></html>"
        );
    }

    #[test]
    fn without_main_the_one_article_or_the_body_is_read_and_titled() {
        let got = page_of(
            "<html><head><title>Shipping</title></head><body><nav>Menu</nav>\
             <article><p>Free over $50.</p></article><footer>Bye</footer></body></html>",
        );
        assert_eq!(got.title, "Shipping");
        assert!(
            got.html
                .ends_with("<body><p>Free over $50.</p></body></html>")
        );
        let got = page_of(
            "<body><header>Top</header><article><p>One</p></article>\
             <article><p>Two</p></article></body>",
        );
        assert_eq!(got.title, "help/returns");
        assert!(got.html.contains("One") && got.html.contains("Two"));
        assert!(!got.html.contains("Top"));
        let long = "word ".repeat(40);
        let got = page_of(&format!("<h1>{long}</h1><p>x</p>"));
        assert!(got.title.chars().count() <= Name::MAX_CHARS);
        assert!(got.title.ends_with("word…"), "{}", got.title);
        let empty = Html::parse_document("<body><nav>Only a menu</nav></body>");
        assert!(page(&empty, Url::parse("https://x.test/").unwrap()).is_none());
    }

    #[test]
    fn links_resolve_against_the_page_without_fragments_or_nofollow() {
        let html = Html::parse_document(
            "<a href=\"returns#top\">R</a><a href=\"/help/shipping?lang=en\">S</a>\
             <a href=\"mailto:help@example.com\">M</a><a rel=\"nofollow\" href=\"login\">L</a>\
             <a href=\"https://other.example/\">O</a>",
        );
        let base = Url::parse("https://help.example.com/help/index.html").unwrap();
        let got: Vec<String> = links(&html, &base).iter().map(Url::to_string).collect();
        assert_eq!(
            got,
            [
                "https://help.example.com/help/returns",
                "https://help.example.com/help/shipping?lang=en",
                "https://other.example/",
            ]
        );
    }

    #[test]
    fn the_crawl_delay_is_the_one_for_baton_else_for_everyone() {
        let robots = "User-agent: *\nCrawl-delay: 2\n\nUser-agent: OtherBot\nCrawl-delay: 9\n";
        assert_eq!(crawl_delay(robots), Some(Duration::from_secs(2)));
        let robots = "User-agent: *\nCrawl-delay: 2\n\nUser-agent: batonkbimport\n\
                      Crawl-delay: 0.5 # be quick\n";
        assert_eq!(crawl_delay(robots), Some(Duration::from_millis(500)));
        assert_eq!(crawl_delay("User-agent: *\nDisallow: /x\n"), None);
    }
}
