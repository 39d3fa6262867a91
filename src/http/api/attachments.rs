//! `GET /api/v1/attachments/{id}`: a file of a conversation, for agents of its workspace.
//!
//! The bytes are a customer's (or an agent's), so they are served so that a browser cannot run them as our
//! page: `nosniff`, a sandboxing content security policy, and shown inline only for pictures,
//! sound and video that browsers display themselves (never SVG, which can carry script);
//! anything else is a download.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::{ApiError, ApiResult, Code};
use crate::http::extract::Caller;
use crate::state::AppState;
use crate::store::AttachmentRecord;

pub fn router() -> Router<AppState> {
    Router::new().route("/attachments/{id}", get(download))
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (attachment, content) = state
        .store
        .attachment_content(caller.workspace_id(), &id)
        .await?;
    file_response(&attachment, content)
}

/// The file as an answer, with the headers that keep a browser from running it; 409 while a
/// customer's file is still being fetched from WhatsApp, or when that failed.
pub(crate) fn file_response(
    attachment: &AttachmentRecord,
    content: Option<Vec<u8>>,
) -> ApiResult<Response> {
    let Some(content) = content else {
        let why = match attachment.status.as_str() {
            "failed" => format!(
                "the file could not be fetched from WhatsApp: {}",
                attachment.last_error.as_deref().unwrap_or("unknown error")
            ),
            _ => "the file is still being fetched from WhatsApp".to_owned(),
        };
        return Err(ApiError::new(Code::Conflict, why));
    };
    let essence = media_type(&attachment.mime_type);
    let content_type = HeaderValue::from_str(&essence)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let inline = (essence.starts_with("image/") && essence != "image/svg+xml")
        || essence.starts_with("audio/")
        || essence.starts_with("video/");
    let name = attachment
        .filename
        .as_deref()
        .map(safe_filename)
        .unwrap_or_else(|| format!("{}-{}", attachment.kind, attachment.id));
    let disposition = format!(
        "{}; filename=\"{name}\"",
        if inline { "inline" } else { "attachment" }
    );
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'; style-src 'unsafe-inline'"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=86400"),
        ),
    ];
    Ok((headers, content).into_response())
}

/// The sender's MIME type reduced to one `type/subtype` of token characters, lowercase, its
/// parameters dropped; anything else (a list, `image/png, text/html`) is
/// `application/octet-stream`, a download.
pub(crate) fn media_type(given: &str) -> String {
    let essence = given
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) => essence,
        _ => "application/octet-stream".to_owned(),
    }
}

/// A file name fit for a quoted header parameter: printable ASCII without quotes or
/// backslashes (anything else becomes `_`), at most 100 characters.
fn safe_filename(name: &str) -> String {
    name.chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{media_type, safe_filename};

    #[test]
    fn only_one_plain_media_type_is_served_as_given() {
        assert_eq!(media_type("image/JPEG"), "image/jpeg");
        assert_eq!(media_type("audio/ogg; codecs=opus"), "audio/ogg");
        assert_eq!(
            media_type("image/png, text/html"),
            "application/octet-stream"
        );
        assert_eq!(media_type("text/html\r\nX: y"), "application/octet-stream");
        assert_eq!(media_type("nonsense"), "application/octet-stream");
    }

    #[test]
    fn file_names_cannot_break_the_header() {
        assert_eq!(safe_filename("invoice 12.pdf"), "invoice 12.pdf");
        assert_eq!(
            safe_filename("a\"; filename=evil.html\r\n.pdf"),
            "a_; filename=evil.html__.pdf"
        );
        assert_eq!(safe_filename("façture.pdf"), "fa_ture.pdf");
        assert_eq!(safe_filename(&"x".repeat(500)).len(), 100);
    }
}
