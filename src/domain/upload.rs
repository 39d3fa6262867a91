//! A file uploaded to Baton — a customer's from the chat window, an agent's from the
//! dashboard. What it is is read from its bytes, never from the name or type the sender gave,
//! and only what every browser shows safely and WhatsApp delivers as a picture or a document
//! is taken: JPEG and PNG pictures, PDF documents, up to WhatsApp's limit for pictures. The
//! name keeps the extension of what the file is, so what an agent or a customer saves opens
//! as that and nothing else.

use std::sync::LazyLock;

use super::ParseError;

/// The most an uploaded file may weigh: WhatsApp's limit for a picture, 5 MB.
pub const MAX_BYTES: usize = 5_000_000;

/// The longest name kept before its extension, in characters.
const MAX_NAME_CHARS: usize = 100;

/// `(media type, kind, extensions)` of each type taken, the first extension the one added to
/// a name without any of them; the kind is WhatsApp's word for it.
const ACCEPTED: [(&str, &str, &[&str]); 3] = [
    ("image/jpeg", "image", &["jpg", "jpeg"]),
    ("image/png", "image", &["png"]),
    ("application/pdf", "document", &["pdf"]),
];

/// Control and format characters (line breaks, right-to-left overrides that would show
/// `invoice<U+202E>fdp.exe` as `invoiceexe.pdf`): never part of a name kept.
static HIDDEN: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"[\p{Cc}\p{Cf}]").expect("a valid pattern"));

/// What the refusal of any other file says.
pub const ACCEPTED_TEXT: &str = "only pictures (JPEG or PNG) and PDF documents can be sent";

/// A checked file, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// `image` or `document`.
    pub kind: &'static str,
    pub mime_type: &'static str,
    pub filename: String,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// Checks a file sent as `field`, named `name` by the sender (if at all).
    pub fn check(
        field: &'static str,
        name: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<Upload, ParseError> {
        if bytes.is_empty() {
            return Err(ParseError::new(field, "the file is empty"));
        }
        if bytes.len() > MAX_BYTES {
            return Err(ParseError::new(
                field,
                format!("the file is larger than {} MB", MAX_BYTES / 1_000_000),
            ));
        }
        // A PDF must start as one: a page with "%PDF" somewhere in its first kilobyte is one
        // to `infer`, not to us.
        let found = infer::get(&bytes)
            .map(|kind| kind.mime_type())
            .filter(|found| *found != "application/pdf" || bytes.starts_with(b"%PDF-"));
        let &(mime_type, kind, extensions) = ACCEPTED
            .iter()
            .find(|(mime_type, ..)| Some(*mime_type) == found)
            .ok_or_else(|| ParseError::new(field, ACCEPTED_TEXT))?;
        let name = name.map(clean_name).unwrap_or_default();
        let (stem, extension) = match name.rsplit_once('.') {
            Some((stem, extension))
                if !stem.is_empty() && extensions.contains(&extension.to_lowercase().as_str()) =>
            {
                (stem, extension)
            }
            _ => (name.as_str(), extensions[0]),
        };
        let stem: String = stem.chars().take(MAX_NAME_CHARS).collect();
        let stem = if stem.is_empty() { kind } else { stem.as_str() };
        let filename = format!("{stem}.{extension}");
        Ok(Upload {
            kind,
            mime_type,
            filename,
            bytes,
        })
    }

    /// What the conversation's history says in the message's place: `[image] photo.png`.
    pub fn message_text(&self) -> String {
        format!("[{}] {}", self.kind, self.filename)
    }
}

/// The last part of a path as a browser or a phone may send it, without control or format
/// characters, surrounding space or dots (no hidden `.png`, no `photo..png`).
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let visible = HIDDEN.replace_all(last, "");
    visible.trim().trim_matches('.').trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";

    #[test]
    fn pictures_and_pdfs_are_known_by_their_bytes_whatever_they_are_called() {
        let png = Upload::check("file", Some("report.pdf"), PNG.to_vec()).unwrap();
        assert_eq!((png.kind, png.mime_type), ("image", "image/png"));
        assert_eq!(png.filename, "report.pdf.png", "named as what it is");
        let pdf = Upload::check("file", None, PDF.to_vec()).unwrap();
        assert_eq!((pdf.kind, pdf.mime_type), ("document", "application/pdf"));
        assert_eq!(pdf.filename, "document.pdf");
        assert_eq!(pdf.message_text(), "[document] document.pdf");
    }

    #[test]
    fn anything_else_is_refused_with_what_may_be_sent() {
        for bytes in [
            b"<html><script>alert(1)</script></html>".to_vec(),
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            b"GIF89a\x01\0\x01\0".to_vec(),
            b"<html><script>alert(1)</script><!--%PDF-1.4-->".to_vec(),
            b" %PDF-1.4\n".to_vec(),
            b"MZ\x90\0\x03\0\0\0".to_vec(),
            b"plain words".to_vec(),
        ] {
            let err = Upload::check("file", Some("x.png"), bytes).unwrap_err();
            assert_eq!(err.to_string(), format!("file: {ACCEPTED_TEXT}"));
        }
        let err = Upload::check("file", None, Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "file: the file is empty");
        let mut big = PNG.to_vec();
        big.resize(MAX_BYTES + 1, 0);
        let err = Upload::check("file", None, big).unwrap_err();
        assert_eq!(err.to_string(), "file: the file is larger than 5 MB");
    }

    #[test]
    fn a_name_keeps_its_last_part_without_control_characters() {
        let named = |name: &str| {
            Upload::check("file", Some(name), PNG.to_vec())
                .unwrap()
                .filename
        };
        assert_eq!(named("C:\\Users\\ana\\screen shot.png"), "screen shot.png");
        assert_eq!(named("../../etc/passwd"), "passwd.png");
        assert_eq!(named("a\r\nb.png"), "ab.png");
        assert_eq!(named("invoice\u{202e}gnp.exe"), "invoicegnp.exe.png");
        assert_eq!(named("Photo.PNG"), "Photo.PNG");
        assert_eq!(named("receipt.hta"), "receipt.hta.png");
        assert_eq!(named("  "), "image.png");
        assert_eq!(named(&"é".repeat(300)).chars().count(), MAX_NAME_CHARS + 4);
        let long = format!("{}.png", "x".repeat(MAX_NAME_CHARS + 2));
        assert_eq!(named(&long), format!("{}.png", "x".repeat(MAX_NAME_CHARS)));
        assert_eq!(named("photo."), "photo.png");
        assert_eq!(named(".png"), "png.png");
        assert_eq!(named("."), "image.png");
        assert_eq!(named(".."), "image.png");
        let jpeg = |name| {
            Upload::check("file", Some(name), b"\xff\xd8\xff\xe0\0\x10JFIF\0".to_vec())
                .unwrap()
                .filename
        };
        assert_eq!(jpeg("cat.jpeg"), "cat.jpeg");
        assert_eq!(jpeg("cat"), "cat.jpg");
    }
}
