//! Is this message a request to talk to a person? A rule-based detector over normalised
//! text: a request names someone human (person, agent, representative…) together with a way
//! of asking for them (talk to, connect me, I want…), or is that name almost alone ("agent!",
//! "human please"). Questions *about* people — "are you a bot?", "what is your support
//! email?", "I spoke to an agent yesterday" — are not requests.

/// Words and phrases that name a human helper.
const HUMAN: &[&str] = &[
    "human",
    "humans",
    "person",
    "people",
    "real person",
    "someone",
    "somebody",
    "anyone",
    "agent",
    "agents",
    "live agent",
    "representative",
    "rep",
    "operator",
    "staff",
    "employee",
    "manager",
    "supervisor",
    "customer service",
    "customer support",
    "customer care",
    "support team",
    "your team",
    "the team",
    "live chat",
    "live support",
    "real human",
    "actual human",
    "actual person",
    "advisor",
    "consultant",
];

/// Ways of asking to be put in touch.
const ASK: &[&str] = &[
    "talk to",
    "talk with",
    "speak to",
    "speak with",
    "chat with",
    "chat to",
    "connect me",
    "connect with",
    "transfer me",
    "put me through",
    "put me in touch",
    "get me",
    "give me",
    "let me talk",
    "let me speak",
    "i want",
    "i wanna",
    "i need",
    "i would like",
    "i'd like",
    "id like",
    "can i get",
    "can i have",
    "could i get",
    "may i",
    "escalate",
    "contact a",
    "contact an",
    "contact someone",
    "reach a",
    "reach an",
    "reach someone",
    "is there a",
    "is there an",
    "is there someone",
    "is there anyone",
    "need help from",
    "hand me over",
    "hand over",
    "pass me",
    "route me",
];

/// Patterns that mention people without asking for one.
const NOT_A_REQUEST: &[&str] = &[
    "are you a",
    "are you human",
    "are you real",
    "are you an",
    "is this a bot",
    "is this a human",
    "is this a real",
    "is this automated",
    "am i talking to a",
    "am i chatting with a",
    "am i speaking to a",
    "am i speaking with a",
    "am i talking with a",
    "is this a person",
    "email",
    "e-mail",
    "phone number",
    "telephone number",
    "opening hours",
    "business hours",
    "address",
    "spoke to",
    "spoke with",
    "talked to",
    "talked with",
    "agent code",
    "agent number",
    "agent id",
    "travel agent",
    "real estate agent",
    "user agent",
];

/// A message reduced to lowercase words separated by single spaces, with ASCII apostrophes.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            '’' | '‘' | '`' => '\'',
            c => c,
        };
        if c.is_alphanumeric() || c == '\'' || c == '-' {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_owned()
}

fn contains_phrase(haystack: &str, phrase: &str) -> bool {
    // Whole-word match: pad both with spaces.
    format!(" {haystack} ").contains(&format!(" {phrase} "))
}

/// Whether the customer is asking to be handed to a person.
pub fn is_human_request(text: &str) -> bool {
    let text = normalise(text);
    if text.is_empty() {
        return false;
    }
    let names_human = HUMAN.iter().any(|p| contains_phrase(&text, p));
    if !names_human {
        return false;
    }
    if NOT_A_REQUEST.iter().any(|p| text.contains(p)) {
        return false;
    }
    let words = text.split(' ').count();
    let asks = ASK.iter().any(|p| contains_phrase(&text, p));
    // "agent", "human please", "representative now!!"
    let nearly_alone = words <= 3;
    asks || nearly_alone
}

/// Whether the customer asks what they are talking to ("are you a bot?", "is this a human?").
pub fn is_identity_question(text: &str) -> bool {
    let text = normalise(text);
    const ASKING: &[&str] = &[
        "are you a",
        "are you an",
        "are you human",
        "are you real",
        "is this a",
        "is this an",
        "am i talking to",
        "am i chatting with",
        "am i speaking to",
        "am i speaking with",
        "is this automated",
        "are you automated",
        "is this human",
    ];
    const WHAT: &[&str] = &[
        "bot",
        "robot",
        "human",
        "person",
        "real",
        "ai",
        "machine",
        "computer",
        "chatbot",
        "automated",
        "people",
    ];
    ASKING
        .iter()
        .any(|p| contains_phrase(&text, p) || text.starts_with(p))
        && WHAT.iter().any(|w| contains_phrase(&text, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_requests_are_detected() {
        for text in [
            "I want to talk to a person",
            "can I speak to an agent?",
            "connect me to support team please",
            "get me a human",
            "Agent!",
            "human please",
            "this is useless, get me a real person",
            "I’d like to speak with a representative",
            "is there someone I can talk to about my order?",
            "TRANSFER ME TO CUSTOMER SERVICE",
            "i need to chat with a live agent now",
        ] {
            assert!(is_human_request(text), "{text:?} should be a request");
        }
    }

    #[test]
    fn identity_questions_are_told_apart() {
        for text in [
            "are you a bot?",
            "Are you human",
            "am I talking to a real person?",
            "is this automated?",
        ] {
            assert!(is_identity_question(text), "{text:?}");
        }
        for text in [
            "I want a human",
            "are you open on sunday?",
            "is this a good jacket",
        ] {
            assert!(!is_identity_question(text), "{text:?}");
        }
    }

    #[test]
    fn questions_about_people_are_not_requests() {
        for text in [
            "are you a human?",
            "Are you a bot?",
            "what's your support email?",
            "what is your customer service phone number?",
            "my agent code doesn't work",
            "I spoke to an agent yesterday and they said it was shipped",
            "how long does shipping take?",
            "do people usually return this item?",
            "",
        ] {
            assert!(!is_human_request(text), "{text:?} should not be a request");
        }
    }
}
