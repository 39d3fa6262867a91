//! Short messages that only make sense after the one before: "and express?" after "how long
//! does delivery take?", "what about Canada?" after a question about shipping costs, or a bare
//! "how?" after "can I return it?". The built-in responder reads such a message together with
//! the customer's previous one, and keeps that reading only when the passage it finds has
//! every word the follow-up itself names (see `builtin`), so a new question that happens to
//! begin with "and" is still answered on its own.

use crate::store::MessageRecord;

use super::detect;

/// Longest message, in words, read as a follow-up.
const MAX_WORDS: usize = 6;
/// Most content words a follow-up with an opening cue may name: it adds a detail to the
/// question before, it does not ask a new one.
const MAX_TERMS: usize = 2;

/// Words that open a follow-up, normalised ([`detect::normalise`]): English, Spanish,
/// Portuguese, French, German, Italian, Indonesian, Hindi, Turkish, Russian and Arabic.
const OPENERS: &[&str] = &[
    "and",
    "also",
    "or",
    "plus",
    "what about",
    "how about",
    "y",
    "y si",
    "que tal",
    "e",
    "e se",
    "e quanto",
    "et",
    "et pour",
    "und",
    "und wenn",
    "was ist mit",
    "e per",
    "dan",
    "kalau",
    "bagaimana dengan",
    "aur",
    "peki",
    "ya",
    "а",
    "и",
    "а если",
    "و",
    "وماذا عن",
];

/// The customer's previous message, when `message` reads as a follow-up to it: a short message
/// that names nothing to search for (`terms` is 0: "how?", "how much?"), or one that opens like
/// a follow-up ("and", "what about"…) and names at most two things. `history` ends with
/// `message`, as [`super::Turn::history`] does.
pub fn previous<'h>(history: &'h [MessageRecord], message: &str, terms: usize) -> Option<&'h str> {
    let normalised = detect::normalise(message);
    let words: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() || words.len() > MAX_WORDS {
        return None;
    }
    let opens = OPENERS.iter().any(|opener| {
        let cue: Vec<&str> = opener.split(' ').collect();
        words.len() > cue.len() && words.starts_with(&cue)
    });
    if terms > 0 && !(opens && terms <= MAX_TERMS) {
        return None;
    }
    let (_, before) = history.split_last()?;
    before
        .iter()
        .rev()
        .find(|m| m.author == "customer")
        .map(|m| m.text.as_str())
        .filter(|text| !text.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::said;

    #[test]
    fn a_short_message_that_adds_to_the_last_question_is_read_with_it() {
        let history = said(&[
            ("customer", "How long does delivery take?"),
            ("bot", "Standard delivery takes 3 to 5 business days."),
            ("customer", "and express?"),
        ]);
        assert_eq!(
            previous(&history, "and express?", 1),
            Some("How long does delivery take?")
        );
        assert_eq!(
            previous(&history, "What about Canada?", 1),
            Some("How long does delivery take?")
        );
        // Nothing to search for at all: only the question before gives it a topic.
        assert_eq!(
            previous(&history, "how?", 0),
            Some("How long does delivery take?")
        );
        assert_eq!(
            previous(&history, "¿y para Canadá?", 1),
            Some("How long does delivery take?")
        );
    }

    #[test]
    fn a_message_that_asks_something_of_its_own_is_not_a_follow_up() {
        let history = said(&[
            ("customer", "How long does delivery take?"),
            ("bot", "Standard delivery takes 3 to 5 business days."),
            ("customer", "x"),
        ]);
        // Names its own topic without an opening cue.
        assert_eq!(previous(&history, "can I pay with paypal", 2), None);
        // Opens like one, but names too much to be a detail of the last question.
        assert_eq!(
            previous(&history, "and can I return sale swimwear", 3),
            None
        );
        // Too long to lean on the last message.
        assert_eq!(
            previous(&history, "and also I wanted to ask you about this", 0),
            None
        );
        // The first message of a conversation has nothing before it.
        assert_eq!(previous(&said(&[("customer", "how?")]), "how?", 0), None);
    }
}
