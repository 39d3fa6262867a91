//! The text of a PDF, as Markdown the knowledge base cuts into passages like any other
//! document. `pdf-extract` reads the pages and hands over each character with its position
//! and size; from those this module rebuilds what a reader sees: lines, paragraphs (a line
//! broken at the margin joins the next, a word hyphenated there is mended), headings (lines set
//! larger than the body text), bullet lists, and no running headers, footers or page numbers
//! (a line found at the same place at the top or bottom of at least half the pages). Text drawn
//! at an angle (a "DRAFT" watermark, a label up the margin) is left out.

use std::collections::{HashMap, HashSet};

use pdf_extract::content::Content;
use pdf_extract::encryption::DecryptionError;
use pdf_extract::{
    Dictionary, Document, MediaBox, Object, ObjectId, OutputDev, OutputError, Transform,
};

/// Why a PDF gave no text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("the PDF could not be read ({0})")]
    Unreadable(String),
    #[error("the PDF is protected by a password: save it without one and send it again")]
    Locked,
    #[error("the PDF has no text to read (a scan is a picture of text: Baton reads text only)")]
    NoText,
}

/// Reads a PDF's text as Markdown: `# ` for its largest headings, `## `/`### ` for the smaller
/// ones, paragraphs between blank lines, `- ` list items.
pub fn to_markdown(bytes: &[u8]) -> Result<String, PdfError> {
    // A damaged file can make the reader panic: that is a file it cannot read. (What the
    // panic said is the reader's business, not the sender's.)
    let lines = std::panic::catch_unwind(|| read_lines(bytes)).map_err(|_| {
        tracing::warn!("the PDF reader gave up on a damaged file");
        PdfError::Unreadable("it is damaged".to_owned())
    })??;
    let markdown = Layout::of(lines).markdown();
    if markdown.trim().is_empty() {
        return Err(PdfError::NoText);
    }
    Ok(markdown)
}

/// One line of text as laid out on its page.
#[derive(Debug, Clone)]
struct Line {
    page: u32,
    /// The baseline's height on the page (PDF units, up is larger).
    y: f64,
    /// The left edge of its first character.
    x: f64,
    /// The size most of its characters are set in.
    size: f64,
    text: String,
}

fn read_lines(bytes: &[u8]) -> Result<Vec<Line>, PdfError> {
    let unreadable = |e: &dyn std::fmt::Display| PdfError::Unreadable(e.to_string());
    let mut doc = Document::load_mem(bytes).map_err(|e| unreadable(&e))?;
    // Many PDFs are "encrypted" only to forbid editing, with an empty password to read them.
    if doc.is_encrypted() {
        match doc.decrypt("") {
            Ok(()) => {}
            Err(pdf_extract::Error::Decryption(DecryptionError::IncorrectPassword)) => {
                return Err(PdfError::Locked);
            }
            Err(e) => return Err(unreadable(&e)),
        }
    }
    // The reader recurses through the page tree and through drawings that draw drawings, with
    // no guard: a file that loops would overflow the stack, which no panic handler catches.
    if !safe_to_read(&doc) {
        return Err(PdfError::Unreadable(
            "its pages or drawings refer to themselves".to_owned(),
        ));
    }
    let mut reader = Lines::default();
    pdf_extract::output_doc(&doc, &mut reader).map_err(|e| unreadable(&e))?;
    reader.finish_line();
    Ok(reader.lines)
}

/// Gathers characters into lines: a character well above or below the last one, or back at
/// the left, starts a new line; a gap wider than a tenth of the text's size is a space.
#[derive(Default)]
struct Lines {
    lines: Vec<Line>,
    current: Option<Line>,
    /// How many characters of the current line are set in each size.
    sizes: HashMap<u64, usize>,
    page: u32,
    last_end: f64,
    last_y: f64,
}

impl Lines {
    fn finish_line(&mut self) {
        if let Some(mut line) = self.current.take() {
            line.text = line.text.trim().to_owned();
            if let Some((size, _)) = self
                .sizes
                .drain()
                .max_by_key(|(size, chars)| (*chars, std::cmp::Reverse(*size)))
            {
                line.size = size as f64 / 10.0;
            }
            if !line.text.is_empty() {
                self.lines.push(line);
            }
        }
    }
}

impl OutputDev for Lines {
    fn begin_page(
        &mut self,
        page: u32,
        _media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.finish_line();
        self.page = page;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.finish_line();
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        // Text drawn at an angle is a watermark or a label, not what the page says.
        let rotated = trm.m12.abs() > trm.m11.abs() * 0.05 || trm.m21.abs() > trm.m22.abs() * 0.05;
        let size = font_size * trm.m22.abs();
        let (x, y) = (trm.m31, trm.m32);
        let text: String = char.chars().filter(|c| !c.is_control()).collect();
        if rotated || size <= 0.0 || !size.is_finite() || !x.is_finite() || text.is_empty() {
            return Ok(());
        }
        let moved = (y - self.last_y).abs();
        let new_line = self.current.is_none()
            || moved > size * 1.5
            || (x < self.last_end && moved > size * 0.5);
        if new_line {
            self.finish_line();
            self.current = Some(Line {
                page: self.page,
                y,
                x,
                size,
                text: String::new(),
            });
        }
        let line = self.current.as_mut().expect("a line was started");
        let spaced =
            line.text.ends_with(char::is_whitespace) || text.starts_with(char::is_whitespace);
        if !new_line && !spaced && x > self.last_end + size * 0.1 {
            line.text.push(' ');
        }
        line.text.push_str(&text);
        *self.sizes.entry(size_key(size)).or_default() += text.chars().count();
        self.last_y = y;
        // Where the next character would start: its advance, letter and word spacing included
        // (so letter-spaced capitals are not read as single letters).
        self.last_end = x + (width * font_size + spacing) * trm.m11.abs();
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Whether the reader can go through a document without looping: no page's chain of parents
/// comes back on itself or is absurdly long, and no drawing (form XObject) draws itself,
/// directly or through others, or nests deeper than any real document does.
fn safe_to_read(doc: &Document) -> bool {
    const DEEPEST: usize = 32;
    let dictionary = |object: &Object| -> Option<ObjectId> { object.as_reference().ok() };
    for page in doc.get_pages().into_values() {
        let mut seen = HashSet::new();
        let mut at = Some(page);
        while let Some(id) = at {
            if !seen.insert(id) || seen.len() > 256 {
                return false;
            }
            at = doc
                .get_dictionary(id)
                .ok()
                .and_then(|d| d.get(b"Parent").ok())
                .and_then(dictionary);
        }
    }
    // Follows the drawings each content actually draws (`Do`); one without resources of its
    // own draws with those of whoever drew it, as the reader does.
    fn walk(
        doc: &Document,
        content: &[u8],
        resources: &Dictionary,
        depth: usize,
        budget: &mut usize,
    ) -> bool {
        if depth > DEEPEST || *budget == 0 {
            return false;
        }
        *budget -= 1;
        let xobjects = dictionary_at(doc, resources, b"XObject");
        let (Some(xobjects), Ok(content)) = (xobjects, Content::decode(content)) else {
            // Nothing it could draw, or nothing the reader will read either.
            return true;
        };
        content.operations.iter().all(|operation| {
            let drawn = (operation.operator == "Do")
                .then(|| operation.operands.first())
                .flatten()
                .and_then(|name| name.as_name().ok())
                .and_then(|name| xobjects.get(name).ok())
                .and_then(|object| doc.dereference(object).ok());
            let Some((_, Object::Stream(form))) = drawn else {
                return true;
            };
            let own = dictionary_at(doc, &form.dict, b"Resources").unwrap_or(resources);
            let inner = form.get_plain_content().unwrap_or_default();
            walk(doc, &inner, own, depth + 1, budget)
        })
    }
    let mut budget = 100_000;
    doc.get_pages().into_iter().all(|(_, page)| {
        let content = doc.get_page_content(page).unwrap_or_default();
        // A page without resources has its parent's (the chain was checked above).
        let mut at = doc.get_dictionary(page).ok();
        while let Some(dict) = at {
            if let Some(resources) = dictionary_at(doc, dict, b"Resources") {
                return walk(doc, &content, resources, 0, &mut budget);
            }
            at = dict
                .get(b"Parent")
                .ok()
                .and_then(dictionary)
                .and_then(|id| doc.get_dictionary(id).ok());
        }
        true
    })
}

/// The dictionary `dict` holds under `key`, there or by reference.
fn dictionary_at<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Dictionary> {
    let object = dict.get(key).ok()?;
    doc.dereference(object).ok()?.1.as_dict().ok()
}

/// The lines of a whole document, with what they tell about its layout.
struct Layout {
    lines: Vec<Line>,
    /// The size most of the text is set in.
    body: f64,
    /// Heading sizes, largest first (at most three levels).
    heading_sizes: Vec<f64>,
}

impl Layout {
    fn of(lines: Vec<Line>) -> Layout {
        let mut chars_by_size: HashMap<u64, usize> = HashMap::new();
        for line in &lines {
            *chars_by_size.entry(size_key(line.size)).or_default() += line.text.chars().count();
        }
        let body = chars_by_size
            .iter()
            .max_by_key(|(size, chars)| (**chars, std::cmp::Reverse(**size)))
            .map_or(0.0, |(size, _)| *size as f64 / 10.0);
        let lines = without_running_lines(lines, body);
        let mut heading_sizes: Vec<f64> = chars_by_size
            .keys()
            .map(|size| *size as f64 / 10.0)
            .filter(|size| *size >= body * 1.15)
            .collect();
        heading_sizes.sort_by(|a, b| b.total_cmp(a));
        heading_sizes.truncate(3);
        Layout {
            lines,
            body,
            heading_sizes,
        }
    }

    /// The heading level of a line set larger than the body text, if it is one (not one that
    /// ends a sentence: a large-print notice is text).
    fn heading_level(&self, line: &Line) -> Option<usize> {
        if line.size < self.body * 1.15
            || line.text.chars().count() > 120
            || (line.text.ends_with('.') && !line.text.ends_with(".."))
        {
            return None;
        }
        let level = self
            .heading_sizes
            .iter()
            .position(|size| line.size >= size - 0.05)
            .unwrap_or(self.heading_sizes.len().saturating_sub(1));
        Some(level + 1)
    }

    fn markdown(&self) -> String {
        let mut blocks: Vec<String> = Vec::new();
        let mut paragraph = String::new();
        let mut previous: Option<&Line> = None;
        // The first line of the list item being read: its lines go on indented past its bullet.
        let mut item_start: Option<&Line> = None;
        let mut heading: Option<(usize, String)> = None;
        let flush = |paragraph: &mut String, blocks: &mut Vec<String>| {
            if !paragraph.is_empty() {
                blocks.push(std::mem::take(paragraph));
            }
        };
        // A "heading" of more than a few lines is larger text, not a heading.
        let close = |heading: &mut Option<(usize, String)>, blocks: &mut Vec<String>| {
            if let Some((level, text)) = heading.take() {
                blocks.push(if text.chars().count() > 150 {
                    escape(&text)
                } else {
                    format!("{} {}", "#".repeat(level), escape(&text))
                });
            }
        };
        for line in &self.lines {
            let level = self.heading_level(line);
            // A heading set on two lines is one heading.
            if let (Some(level), Some((open, text))) = (level, heading.as_mut())
                && *open == level
                && previous.is_some_and(|p| {
                    p.page == line.page && (0.0..line.size * 1.6).contains(&(p.y - line.y))
                })
            {
                text.push(' ');
                text.push_str(&line.text);
                previous = Some(line);
                continue;
            }
            close(&mut heading, &mut blocks);
            if let Some(level) = level {
                flush(&mut paragraph, &mut blocks);
                item_start = None;
                heading = Some((level, line.text.clone()));
                previous = Some(line);
                continue;
            }
            let item = bullet(&line.text);
            let gap = previous.map_or(f64::INFINITY, |p| {
                let gap = p.y - line.y;
                if p.page == line.page && gap >= 0.0 {
                    gap
                } else if ends_sentence(&paragraph) {
                    // Over a page break, or up into the next column, a paragraph goes on unless
                    // its last line ended one.
                    f64::INFINITY
                } else {
                    0.0
                }
            });
            let item_ends = item_start
                .is_some_and(|start| start.page != line.page || line.x < start.x + line.size * 0.5);
            let new_paragraph =
                paragraph.is_empty() || item.is_some() || item_ends || gap > line.size * 1.8;
            if new_paragraph {
                flush(&mut paragraph, &mut blocks);
                item_start = item.map(|_| line);
                match item {
                    Some(rest) => paragraph = format!("- {}", escape(rest)),
                    None => paragraph = escape(&line.text),
                }
            } else {
                join_line(&mut paragraph, &escape(&line.text));
            }
            previous = Some(line);
        }
        close(&mut heading, &mut blocks);
        flush(&mut paragraph, &mut blocks);
        blocks.join("\n\n")
    }
}

fn size_key(size: f64) -> u64 {
    (size * 10.0).round() as u64
}

/// Appends the next line of a paragraph: a word hyphenated at the margin is mended
/// ("refund-" + "able" is "refundable"), anything else joins with a space. A hyphen after a
/// space is a dash ("Monday -" + "except" stays apart), unless it is the hyphen character a
/// typesetter adds at a break (U+2010, or a soft hyphen), which some writers place apart.
fn join_line(paragraph: &mut String, next: &str) {
    let before_hyphen = paragraph.strip_suffix('-').or_else(|| {
        paragraph
            .strip_suffix(['\u{2010}', '\u{ad}'])
            .map(str::trim_end)
    });
    match before_hyphen {
        Some(word)
            if word.chars().last().is_some_and(char::is_alphabetic)
                && next.chars().next().is_some_and(char::is_lowercase) =>
        {
            paragraph.truncate(word.len());
        }
        _ => paragraph.push(' '),
    }
    paragraph.push_str(next);
}

fn ends_sentence(paragraph: &str) -> bool {
    paragraph
        .trim_end()
        .trim_end_matches(['"', '”', '’', '\'', ')', ']', '»'])
        .ends_with(['.', '!', '?', ':', '…', '。'])
}

/// The rest of a line that starts with a bullet.
fn bullet(line: &str) -> Option<&str> {
    // U+F0B7 and U+F0A7: the Symbol and Wingdings bullets of PDFs written by Word.
    let rest = line.strip_prefix([
        '•', '●', '▪', '◦', '‣', '∙', '–', '-', '*', '·', '\u{f0b7}', '\u{f0a7}',
    ])?;
    rest.starts_with(char::is_whitespace)
        .then(|| rest.trim_start())
        .filter(|rest| !rest.is_empty())
}

/// Text as Markdown shows it literally: what would start a heading, a list, emphasis, a link,
/// code or HTML is escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '#' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    // A line starting "1." or "+ " would be a list, "---" a rule, "=" under text a heading.
    let lead_digits = out.chars().take_while(char::is_ascii_digit).count();
    let list_number = lead_digits > 0 && out[lead_digits..].starts_with(['.', ')']);
    if list_number {
        out.insert(lead_digits, '\\');
    } else if out.starts_with(['+', '-', '=']) {
        out.insert(0, '\\');
    }
    out
}

/// Drops the lines a document repeats at the top or bottom of its pages (a running title, a
/// footer, "Page 3 of 7") and bare page numbers. A line counts as running when, with its digits
/// ignored, it stands at the same height among the two highest or two lowest lines of at least
/// half the pages (two pages at least) and is not set larger than the body text (a chapter
/// heading opening each page stays). By height, not order: many writers draw headers last.
fn without_running_lines(lines: Vec<Line>, body: f64) -> Vec<Line> {
    let mut by_page: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        by_page.entry(line.page).or_default().push(i);
    }
    let pages = by_page.len();
    let place = |line: &Line| (shape(&line.text), (line.y / 2.0).round() as i64);
    let mut edge_counts: HashMap<(String, i64), usize> = HashMap::new();
    let mut at_edge = vec![false; lines.len()];
    for indexes in by_page.values_mut() {
        indexes.sort_by(|a, b| lines[*b].y.total_cmp(&lines[*a].y));
        let mut seen_here = HashSet::new();
        for (n, &i) in indexes.iter().enumerate() {
            if (n < 2 || n + 2 >= indexes.len()) && lines[i].size < body * 1.15 {
                at_edge[i] = true;
                if seen_here.insert(place(&lines[i])) {
                    *edge_counts.entry(place(&lines[i])).or_default() += 1;
                }
            }
        }
    }
    let running = |i: usize, line: &Line| {
        at_edge[i]
            && (is_page_number(&line.text) || {
                let count = edge_counts.get(&place(line)).copied().unwrap_or(0);
                pages >= 2 && count >= 2 && count * 2 >= pages
            })
    };
    lines
        .into_iter()
        .enumerate()
        .filter(|(i, line)| !running(*i, line))
        .map(|(_, line)| line)
        .collect()
}

/// A line with its digits ignored, so "Page 2" and "Page 3" are the same running line.
fn shape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_ascii_digit())
        .flat_map(char::to_lowercase)
        .collect()
}

/// "7", "- 7 -", "Page 7", "Page 7 of 9", "7 / 9": one or two page numbers (up to four digits,
/// no leading zero, the first no larger than the second) and the words around them — not a
/// phone number, a date or a row of figures.
fn is_page_number(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "page", "p.", "seite", "página", "pagina", "of", "von", "de", "di", "sur",
    ];
    let lower = text.to_lowercase();
    let mut numbers = Vec::new();
    for word in lower.split(|c: char| c.is_whitespace() || matches!(c, '/' | '-' | '–' | '|')) {
        if word.is_empty() || WORDS.contains(&word) {
            continue;
        }
        let number = (word.len() <= 4 && !word.starts_with('0'))
            .then(|| word.parse::<u32>().ok())
            .flatten();
        match number {
            Some(number) => numbers.push(number),
            None => return false,
        }
    }
    match numbers[..] {
        [_] => true,
        [page, of] => page <= of,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
