//! A document on its way into a knowledge base: checked and cut into passages the same way
//! whether it comes from the API, the dashboard's upload, the demo or `baton kb import`.

use super::chunk::{self, Format};
use super::pdf;
use crate::domain::{Name, ParseError};
use crate::store::NewDocument;

/// The largest document taken, from an upload or a file: a manual or an FAQ export.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// A document that passed every check, with its passages.
#[derive(Debug)]
pub struct Prepared {
    title: Name,
    format: Format,
    content: String,
    chunks: Vec<(String, String)>,
}

/// Checks a document and cuts it into `(heading, body)` passages.
pub fn prepare(title: &str, content: String, format: Format) -> Result<Prepared, ParseError> {
    let title = Name::parse("title", title)?;
    if content.trim().is_empty() {
        return Err(ParseError::new("content", "is empty"));
    }
    if content.contains('\0') {
        return Err(ParseError::new(
            "content",
            "contains NUL characters (send the document as text, Markdown or HTML)",
        ));
    }
    let chunks: Vec<(String, String)> = chunk::passages(format, &content)
        .into_iter()
        .map(|p| (p.heading, p.body))
        .collect();
    if chunks.is_empty() {
        return Err(ParseError::new("content", "has no text to learn from"));
    }
    Ok(Prepared {
        title,
        format,
        content,
        chunks,
    })
}

/// A file's content and format: a PDF (known by its first bytes, whatever its name or
/// `declared` format) is read into Markdown; anything else must be UTF-8 text, Markdown or
/// HTML: the `declared` format, else the one its name tells. Reading a PDF takes CPU time:
/// call it off the async runtime.
pub fn read_file(
    name: &str,
    bytes: Vec<u8>,
    declared: Option<Format>,
) -> Result<(Format, String), ParseError> {
    if bytes.starts_with(b"%PDF-") {
        let markdown =
            pdf::to_markdown(&bytes).map_err(|e| ParseError::new("file", e.to_string()))?;
        return Ok((Format::Markdown, markdown));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| ParseError::new("file", "must be a PDF or UTF-8 text, Markdown or HTML"))?;
    Ok((
        declared.unwrap_or_else(|| Format::from_file_name(name)),
        text,
    ))
}

impl Prepared {
    pub fn title(&self) -> &str {
        self.title.as_str()
    }

    /// How many passages the document was cut into.
    pub fn passages(&self) -> usize {
        self.chunks.len()
    }

    /// The rows to store.
    pub fn record(&self) -> NewDocument<'_> {
        NewDocument {
            title: self.title.as_str(),
            format: self.format.as_str(),
            content: &self.content,
            chunks: &self.chunks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_checked_before_it_is_cut() {
        let refused = |title: &str, content: &str| {
            prepare(title, content.to_owned(), Format::Text)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(refused(" ", "text"), "title: is required");
        assert_eq!(refused("Returns", " \n "), "content: is empty");
        assert!(refused("Returns", "a\0b").starts_with("content: contains NUL"));
        let doc = prepare(
            "Returns",
            "# Returns\n\nWithin 30 days.\n".to_owned(),
            Format::Markdown,
        )
        .unwrap();
        assert_eq!(doc.title(), "Returns");
        assert_eq!(doc.passages(), 1);
        assert_eq!(doc.record().format, "markdown");
    }
}
