//! Plain domain types, parsed once at the edge so the rest of Baton never sees an unvalidated
//! string. Nothing here knows HTTP or SQL.

pub mod assignment;
pub mod clock;
pub mod handoff;
pub mod hours;
pub mod labels;
pub mod language;
pub mod rating;
pub mod search;
pub mod settings;
pub mod text;
pub mod upload;
pub mod webhook;

pub use clock::Clock;
pub use language::KbLanguage;
pub use text::{BotText, Email, MessageText, Name, Password, Role, Shortcut};

/// WhatsApp's customer-service window: free text reaches a customer only within 24 hours of
/// their last message.
pub const WHATSAPP_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Whether someone who last wrote at `last_wrote` (ms) may get free text at `now`.
pub fn whatsapp_window_open(last_wrote: Option<i64>, now: i64) -> bool {
    last_wrote.is_some_and(|at| now - at < WHATSAPP_WINDOW_MS)
}

/// Why a value given from outside was refused; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ParseError {
    pub field: &'static str,
    pub problem: String,
}

impl ParseError {
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}

/// A fresh random id with a readable prefix (`bot_…`, `hnd_…`), unique across nodes.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
