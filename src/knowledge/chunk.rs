//! Cutting documents into passages on their structure: headings start sections, paragraphs
//! and list items are the units, and a section longer than a passage is split between units.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use scraper::{ElementRef, Html, Node};

/// The formats a document can arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
}

impl Format {
    pub fn parse(raw: &str) -> Option<Format> {
        match raw {
            "text" => Some(Format::Text),
            "markdown" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }

    /// Guesses from a file name, for uploads.
    pub fn from_file_name(name: &str) -> Format {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".md") || lower.ends_with(".markdown") {
            Format::Markdown
        } else if lower.ends_with(".html") || lower.ends_with(".htm") {
            Format::Html
        } else {
            Format::Text
        }
    }
}

/// The title a file gives itself: Markdown's first top-level heading, HTML's `<title>` or
/// else its first `<h1>`. Plain text has none. Uploads and imports without a title use it
/// before the file's name ("Gift wrapping" rather than "gift-wrapping").
pub fn own_title(format: Format, content: &str) -> Option<String> {
    let title = match format {
        Format::Text => return None,
        Format::Markdown => {
            let mut title: Option<String> = None;
            for event in Parser::new(content) {
                match event {
                    Event::Start(Tag::Heading {
                        level: HeadingLevel::H1,
                        ..
                    }) => title = Some(String::new()),
                    Event::Text(text) | Event::Code(text) => {
                        if let Some(t) = title.as_mut() {
                            t.push_str(&text);
                        }
                    }
                    Event::End(TagEnd::Heading(HeadingLevel::H1)) => break,
                    _ => {}
                }
            }
            title?
        }
        Format::Html => {
            let document = Html::parse_document(content);
            ["title", "h1"].into_iter().find_map(|tag| {
                let selector = scraper::Selector::parse(tag).expect("a tag name is a selector");
                let text: String = document.select(&selector).next()?.text().collect();
                Some(text).filter(|t| !t.trim().is_empty())
            })?
        }
    };
    // A heading too long for a title is not one (a document's name is at most 100 characters).
    Some(clean(&title)).filter(|t| !t.is_empty() && t.chars().count() <= 100)
}

/// The title of an uploaded or imported file: its [`own_title`], else its name without the
/// extension.
pub fn file_title(format: Format, file_name: &str, content: &str) -> String {
    own_title(format, content).unwrap_or_else(|| {
        let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        name.rsplit_once('.')
            .map_or(name, |(stem, _)| stem)
            .to_owned()
    })
}

/// A passage: the heading it sits under and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    pub heading: String,
    pub body: String,
}

/// Passages aim at this many characters; a single longer paragraph stays whole.
const PASSAGE_CHARS: usize = 700;

/// A heading and the paragraphs under it.
#[derive(Default)]
struct Section {
    heading: String,
    units: Vec<String>,
}

pub fn passages(format: Format, content: &str) -> Vec<Passage> {
    let sections = match format {
        Format::Text => text_sections(content),
        Format::Markdown => markdown_sections(content),
        Format::Html => html_sections(content),
    };
    let mut out = Vec::new();
    for section in sections {
        let mut body = String::new();
        for unit in section.units {
            if !body.is_empty() && body.len() + unit.len() + 1 > PASSAGE_CHARS {
                out.push(Passage {
                    heading: section.heading.clone(),
                    body: std::mem::take(&mut body),
                });
            }
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(&unit);
        }
        if !body.is_empty() {
            out.push(Passage {
                heading: section.heading.clone(),
                body,
            });
        } else if !section.heading.is_empty() && out.is_empty() {
            // A heading alone still says something.
            out.push(Passage {
                heading: section.heading,
                body: String::new(),
            });
        }
    }
    out
}

fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Plain text: blank lines separate paragraphs; a short line ending without punctuation and
/// followed by a paragraph reads as a heading.
fn text_sections(content: &str) -> Vec<Section> {
    let mut sections = vec![Section::default()];
    for block in content
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        let mut lines = block.lines();
        let first = lines.next().unwrap_or_default().trim();
        let rest: Vec<&str> = lines.collect();
        let looks_like_heading = first.len() <= 80
            && !first.ends_with(['.', '!', '?', ':', ','])
            && (!rest.is_empty()
                || block.lines().count() == 1 && first.split_whitespace().count() <= 6);
        if looks_like_heading && !rest.is_empty() {
            sections.push(Section {
                heading: clean(first),
                units: rest
                    .iter()
                    .map(|l| clean(l))
                    .filter(|l| !l.is_empty())
                    .collect(),
            });
        } else if looks_like_heading {
            sections.push(Section {
                heading: clean(first),
                units: Vec::new(),
            });
        } else {
            let section = sections.last_mut().expect("one section at least");
            section.units.push(clean(block));
        }
    }
    sections
}

fn markdown_sections(content: &str) -> Vec<Section> {
    let mut sections = vec![Section::default()];
    let mut heading: Option<String> = None;
    let mut unit = String::new();
    let mut depth_item = 0usize;
    let flush = |unit: &mut String, sections: &mut Vec<Section>| {
        let text = clean(unit);
        if !text.is_empty() {
            sections.last_mut().expect("section").units.push(text);
        }
        unit.clear();
    };
    for event in Parser::new(content) {
        match event {
            Event::Start(Tag::Heading { level, .. }) if level <= HeadingLevel::H4 => {
                flush(&mut unit, &mut sections);
                heading = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) if heading.is_some() => {
                sections.push(Section {
                    heading: clean(&heading.take().unwrap_or_default()),
                    units: Vec::new(),
                });
            }
            Event::Start(Tag::Item) => {
                flush(&mut unit, &mut sections);
                depth_item += 1;
                unit.push_str("• ");
            }
            Event::End(TagEnd::Item) => {
                depth_item = depth_item.saturating_sub(1);
                flush(&mut unit, &mut sections);
            }
            Event::End(TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::BlockQuote(_))
                if depth_item == 0 =>
            {
                flush(&mut unit, &mut sections);
            }
            Event::Text(text) | Event::Code(text) => match heading.as_mut() {
                Some(h) => h.push_str(&text),
                None => unit.push_str(&text),
            },
            Event::SoftBreak | Event::HardBreak => match heading.as_mut() {
                Some(h) => h.push(' '),
                None => unit.push(' '),
            },
            Event::End(TagEnd::TableCell) => unit.push_str(" | "),
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => flush(&mut unit, &mut sections),
            _ => {}
        }
    }
    flush(&mut unit, &mut sections);
    sections
}

const HTML_BLOCKS: &[&str] = &[
    "p",
    "li",
    "dt",
    "dd",
    "td",
    "th",
    "pre",
    "blockquote",
    "figcaption",
];
const HTML_SKIP: &[&str] = &["script", "style", "noscript", "template", "nav", "head"];

fn html_sections(content: &str) -> Vec<Section> {
    let document = Html::parse_document(content);
    let mut sections = vec![Section::default()];
    walk_html(document.root_element(), &mut sections);
    sections
}

fn walk_html(element: ElementRef<'_>, sections: &mut Vec<Section>) {
    for child in element.children() {
        let Some(child_el) = ElementRef::wrap(child) else {
            if let Node::Text(text) = child.value() {
                // Loose text directly inside containers (a <div> with words in it).
                let text = clean(text);
                if !text.is_empty() {
                    sections.last_mut().expect("section").units.push(text);
                }
            }
            continue;
        };
        let name = child_el.value().name();
        if HTML_SKIP.contains(&name) {
            continue;
        }
        if matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
            sections.push(Section {
                heading: clean(&child_el.text().collect::<String>()),
                units: Vec::new(),
            });
        } else if HTML_BLOCKS.contains(&name) {
            let mut text = clean(&child_el.text().collect::<String>());
            if name == "li" {
                text = format!("• {text}");
            }
            if !text.is_empty() {
                sections.last_mut().expect("section").units.push(text);
            }
        } else {
            walk_html(child_el, sections);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_names_itself_by_its_first_heading_or_html_title() {
        let md = "Intro line\n\n## Not this\n\n# Gift `wrapping`\n\nText.\n\n# Later\n";
        assert_eq!(
            own_title(Format::Markdown, md).as_deref(),
            Some("Gift wrapping")
        );
        assert_eq!(
            own_title(Format::Markdown, "## Only a section\n\nText."),
            None
        );
        let html = "<html><head><title> Returns &amp; refunds </title></head>\
                    <body><h1>Other</h1></body></html>";
        assert_eq!(
            own_title(Format::Html, html).as_deref(),
            Some("Returns & refunds")
        );
        assert_eq!(
            own_title(Format::Html, "<h1>Shipping</h1><p>Free over $50.</p>").as_deref(),
            Some("Shipping")
        );
        assert_eq!(own_title(Format::Text, "Shipping\n\nFree over $50."), None);
        let long = format!("# {}\n\nText.", "word ".repeat(30));
        assert_eq!(own_title(Format::Markdown, &long), None);
    }

    #[test]
    fn markdown_is_cut_at_headings_and_keeps_them() {
        let md = "# Shipping\n\nWe ship worldwide.\n\n## Costs\n\nStandard shipping is free over $50.\n\n- Express: $15\n- Overnight: $30\n";
        let got = passages(Format::Markdown, md);
        assert_eq!(got[0].heading, "Shipping");
        assert_eq!(got[0].body, "We ship worldwide.");
        assert_eq!(got[1].heading, "Costs");
        assert!(got[1].body.contains("free over $50") && got[1].body.contains("• Express: $15"));
    }

    #[test]
    fn html_keeps_text_and_drops_scripts() {
        let html = "<html><head><title>x</title><script>alert(1)</script></head><body>\
            <h2>Returns</h2><p>Return within <b>30 days</b>.</p><ul><li>Unworn</li></ul></body></html>";
        let got = passages(Format::Html, html);
        let all: String = got
            .iter()
            .map(|p| format!("{}|{}", p.heading, p.body))
            .collect();
        assert!(
            all.contains("Returns|Return within 30 days.\n• Unworn"),
            "{all}"
        );
        assert!(!all.contains("alert"));
    }

    #[test]
    fn long_sections_split_between_paragraphs() {
        let para = "word ".repeat(100);
        let text = format!("Intro\n{para}\n\n{para}\n\n{para}");
        let got = passages(Format::Text, &text);
        assert!(got.len() >= 2, "{got:?}");
        assert!(got.iter().all(|p| p.heading == "Intro"));
    }

    #[test]
    fn plain_paragraphs_without_headings_are_passages() {
        let got = passages(
            Format::Text,
            "We are open 9 to 5.\n\nCall us any time, really.",
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].heading, "");
        assert_eq!(
            got[0].body,
            "We are open 9 to 5.\nCall us any time, really."
        );
    }
}
