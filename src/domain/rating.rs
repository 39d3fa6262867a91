//! Customer satisfaction: when an agent resolves a conversation on a bot with the Satisfaction
//! Survey tool, the customer is asked to rate the help they got — Great, Okay or Poor — in
//! their chat window (buttons) or on WhatsApp (reply buttons). A rating can be changed, and
//! the widget takes a comment with it, until the request closes.

use std::fmt;

use super::ParseError;

/// The kind of the system message that asks for a rating.
pub const REQUEST_KIND: &str = "rating_request";

/// The kind of a customer's WhatsApp tap on one of its buttons.
pub const TAP_KIND: &str = "rating";

/// How long a request takes ratings: a week after the conversation was resolved.
pub const OPEN_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// What the customer reads after their first rating.
pub const THANKS: &str = "Thank you for your feedback!";

/// The longest comment taken.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// How the customer rated the help they got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Great,
    Okay,
    Poor,
}

impl Score {
    pub const ALL: [Score; 3] = [Score::Great, Score::Okay, Score::Poor];

    pub fn as_str(self) -> &'static str {
        match self {
            Score::Great => "great",
            Score::Okay => "okay",
            Score::Poor => "poor",
        }
    }

    /// The button's label (WhatsApp takes at most 20 characters).
    pub fn label(self) -> &'static str {
        match self {
            Score::Great => "😀 Great",
            Score::Okay => "😐 Okay",
            Score::Poor => "🙁 Poor",
        }
    }

    pub fn parse(raw: &str) -> Result<Score, ParseError> {
        Score::ALL
            .into_iter()
            .find(|score| score.as_str() == raw.trim())
            .ok_or_else(|| ParseError::new("score", "must be great, okay or poor"))
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a question asked at `requested_at` still takes answers at `now`.
pub fn is_open(requested_at: i64, now: i64) -> bool {
    now - requested_at <= OPEN_MS
}

/// The question the customer is asked about the agent who helped them.
pub fn question(agent_name: &str) -> String {
    format!("How would you rate the help you got from {agent_name}?")
}

/// The id of a rating button on WhatsApp: `rate:<request message id>:<score>`.
pub fn button_id(message_id: &str, score: Score) -> String {
    format!("rate:{message_id}:{score}")
}

/// The request and the score behind a tapped rating button.
pub fn parse_button(id: &str) -> Option<(&str, Score)> {
    let (message_id, score) = id.strip_prefix("rate:")?.rsplit_once(':')?;
    let score = Score::parse(score).ok()?;
    message_id
        .starts_with("msg_")
        .then_some((message_id, score))
}

/// A comment: trimmed, at most [`MAX_COMMENT_CHARS`], no NUL; empty means none.
pub fn parse_comment(raw: &str) -> Result<Option<String>, ParseError> {
    let comment = raw.trim();
    if comment.contains('\0') {
        return Err(ParseError::new(
            "comment",
            "must not contain NUL characters",
        ));
    }
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(ParseError::new(
            "comment",
            format!("must be at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    Ok((!comment.is_empty()).then(|| comment.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_button_id_carries_its_request_and_score_back() {
        for score in Score::ALL {
            let id = button_id("msg_abc123", score);
            assert_eq!(parse_button(&id), Some(("msg_abc123", score)));
            assert!(score.label().chars().count() <= 20, "WhatsApp's limit");
        }
        assert_eq!(parse_button("accept:hnd_1"), None);
        assert_eq!(parse_button("rate:msg_1:superb"), None);
        assert_eq!(parse_button("rate:hnd_1:great"), None);
        assert_eq!(parse_button("rate:great"), None);
    }

    #[test]
    fn scores_and_comments_are_checked() {
        assert_eq!(Score::parse(" okay "), Ok(Score::Okay));
        assert!(Score::parse("5").is_err());
        assert_eq!(parse_comment("  "), Ok(None));
        assert_eq!(parse_comment(" quick! "), Ok(Some("quick!".to_owned())));
        assert!(parse_comment("a\0b").is_err());
        assert!(parse_comment(&"é".repeat(MAX_COMMENT_CHARS + 1)).is_err());
        assert!(parse_comment(&"é".repeat(MAX_COMMENT_CHARS)).is_ok());
    }
}
