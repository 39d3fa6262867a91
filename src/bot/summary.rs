//! The note an agent reads first: what the customer wants, what the bot tried, and why it
//! handed off, plus the facts worth copying (order numbers, emails, phone numbers).

use std::sync::OnceLock;

use regex::Regex;

use crate::domain::handoff::Reason;
use crate::store::MessageRecord;

/// What the bot's knowledge-base search found, for the summary.
pub enum Searched<'a> {
    NotSearched,
    Nothing {
        query: &'a str,
    },
    Weak {
        query: &'a str,
        /// The closest passage's document and section ([`crate::knowledge::Hit::place`]).
        place: &'a str,
        relevance: f32,
    },
}

pub fn write(
    history: &[MessageRecord],
    message: &str,
    searched: Searched<'_>,
    reason: Reason,
) -> String {
    compose(history, message, searched, reason, None)
}

/// The summary of a handoff because the bot failed (`bot_error`): the same account of the
/// conversation, with what failed in one short sentence (a model's whole error body is for
/// the logs, not for the agent).
pub fn failed(history: &[MessageRecord], message: &str, why: &str) -> String {
    compose(
        history,
        message,
        Searched::NotSearched,
        Reason::BotError,
        Some(why),
    )
}

fn compose(
    history: &[MessageRecord],
    message: &str,
    searched: Searched<'_>,
    reason: Reason,
    failure: Option<&str>,
) -> String {
    let earlier: Vec<&MessageRecord> = history
        .iter()
        .filter(|m| m.author == "customer" && m.text != message)
        .collect();
    let mut parts = Vec::new();
    match reason {
        Reason::CustomerRequest => {
            parts.push(format!(
                "The customer asked for a person: “{}”.",
                short(message)
            ));
            if let Some(topic) = earlier.last() {
                // What the bot tried for it: its answer, which the customer did not settle for.
                let answer = history
                    .iter()
                    .find(|m| m.author == "bot" && m.seq > topic.seq);
                parts.push(match answer {
                    Some(answer) => format!(
                        "Before that they asked: “{}”; the bot answered: “{}”.",
                        short(&topic.text),
                        short(&answer.text)
                    ),
                    None => format!("Before that they asked: “{}”.", short(&topic.text)),
                });
            }
        }
        Reason::KbMiss | Reason::BotError => {
            parts.push(format!("The customer asked: “{}”.", short(message)));
        }
    }
    // The built-in bot searches for the message itself: said once, not quoted twice.
    let searched_for = |query: &str| {
        if short(query) == short(message) {
            "The bot searched the knowledge base for it".to_owned()
        } else {
            format!("The bot searched the knowledge base for “{}”", short(query))
        }
    };
    match searched {
        Searched::NotSearched => {}
        Searched::Nothing { query } => {
            parts.push(format!("{} and found nothing.", searched_for(query)));
        }
        Searched::Weak {
            query,
            place,
            relevance,
        } => parts.push(format!(
            "{}; the closest passage (“{place}”, relevance {relevance:.2}) did not answer it.",
            searched_for(query)
        )),
    }
    // Customer messages the bot answered: an answer sent in pieces (WhatsApp's length limit)
    // counts once.
    let mut answered = 0;
    let mut waiting = false;
    for m in history {
        match m.author.as_str() {
            "customer" => waiting = true,
            "bot" if waiting => {
                answered += 1;
                waiting = false;
            }
            _ => {}
        }
    }
    match answered {
        0 => {}
        1 => parts.push("The bot had answered one earlier message.".to_owned()),
        n => parts.push(format!("The bot had answered {n} earlier messages.")),
    }
    if let Some(why) = failure {
        parts.push(failure_line(why));
    }
    parts.push(reason_line(reason).to_owned());
    let mut texts: Vec<&str> = earlier.iter().map(|m| m.text.as_str()).collect();
    texts.push(message);
    let facts = key_facts(&texts);
    if !facts.is_empty() {
        parts.push(format!("Key facts: {}.", facts.join(", ")));
    }
    parts.join(" ")
}

/// The closing sentence of every summary, so agents find the reason in the same words.
pub fn reason_line(reason: Reason) -> &'static str {
    match reason {
        Reason::CustomerRequest => "Reason: the customer asked to talk to a person.",
        Reason::KbMiss => "Reason: the knowledge base has no answer.",
        Reason::BotError => "Reason: the bot failed to answer.",
    }
}

/// What failed, in a sentence short enough to read at a glance.
pub fn failure_line(why: &str) -> String {
    format!("What failed: {}.", short(why).trim_end_matches('.'))
}

/// `text` on one line, cut at a word boundary after about 160 characters.
pub fn short(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= 160 {
        return text;
    }
    let cut: String = text.chars().take(157).collect();
    format!(
        "{}…",
        cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head)
    )
}

/// Order numbers, emails and phone numbers mentioned by the customer, in order, once each.
pub fn key_facts(texts: &[&str]) -> Vec<String> {
    static PATTERNS: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        vec![
            (
                "email",
                Regex::new(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+").expect("email pattern"),
            ),
            (
                "phone",
                Regex::new(r"\+\d[\d ()-]{7,}\d").expect("phone pattern"),
            ),
            (
                "order",
                Regex::new(r"(?i)(?:#\s?[A-Z0-9-]{3,}|\b[A-Z]{2,4}-?\d{4,}\b|\b\d{5,}\b)")
                    .expect("order pattern"),
            ),
        ]
    });
    let mut facts: Vec<String> = Vec::new();
    for text in texts {
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for (label, pattern) in patterns {
            for found in pattern.find_iter(text) {
                if taken
                    .iter()
                    .any(|&(s, e)| found.start() < e && s < found.end())
                {
                    continue;
                }
                taken.push((found.start(), found.end()));
                let fact = format!("{label} {}", found.as_str().trim());
                if !facts.contains(&fact) {
                    facts.push(fact);
                }
            }
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_found_once_each() {
        let facts = key_facts(&[
            "My order #A12345 never came, email me at ana@example.com",
            "Order #A12345 again, or call +44 20 7946 0958",
        ]);
        assert_eq!(
            facts,
            [
                "email ana@example.com",
                "order #A12345",
                "phone +44 20 7946 0958"
            ]
        );
    }

    #[test]
    fn a_request_for_a_person_says_what_the_bot_had_answered() {
        let history = crate::bot::said(&[
            ("customer", "Is shipping free for order #4411?"),
            ("bot", "Shipping is free on orders over $50."),
            ("customer", "that's not what I asked, get me a human"),
        ]);
        let text = write(
            &history,
            &history[2].text,
            Searched::NotSearched,
            Reason::CustomerRequest,
        );
        assert!(
            text.contains(
                "Before that they asked: “Is shipping free for order #4411?”; the bot answered: “Shipping is free on orders over $50.”."
            ),
            "{text}"
        );
        assert!(text.contains("order #4411"), "{text}");
        assert!(text.contains("answered one earlier message"), "{text}");
        // One answer that went out in two pieces is still one answer.
        let mut pieces = history.clone();
        pieces.insert(2, pieces[1].clone());
        let text = write(
            &pieces,
            &history[2].text,
            Searched::NotSearched,
            Reason::CustomerRequest,
        );
        assert!(text.contains("answered one earlier message"), "{text}");
        // Their question not answered yet (the bot was still thinking): no answer named.
        let text = write(
            &history[..1],
            "get me a human",
            Searched::NotSearched,
            Reason::CustomerRequest,
        );
        assert!(
            text.contains("Before that they asked: “Is shipping free for order #4411?”."),
            "{text}"
        );
    }

    #[test]
    fn a_summary_says_what_why_and_what_was_tried() {
        let text = write(
            &[],
            "Where is my parcel 123456?",
            Searched::Nothing {
                query: "Where is my parcel 123456?",
            },
            Reason::KbMiss,
        );
        assert!(
            text.starts_with("The customer asked: “Where is my parcel 123456?”."),
            "{text}"
        );
        // The message is quoted once; the search that was for it says so.
        assert!(
            text.contains("The bot searched the knowledge base for it and found nothing."),
            "{text}"
        );
        assert_eq!(text.matches("parcel").count(), 1, "{text}");
        assert!(
            text.contains("Reason: the knowledge base has no answer."),
            "{text}"
        );
        assert!(text.contains("order 123456"), "{text}");
        // A model's own search words are quoted, since they differ from the message.
        let text = write(
            &[],
            "Do you wrap presents?",
            Searched::Weak {
                query: "gift wrapping",
                place: "Payments",
                relevance: 0.12,
            },
            Reason::KbMiss,
        );
        assert!(
            text.contains(
                "The bot searched the knowledge base for “gift wrapping”; the closest passage (“Payments”, relevance 0.12) did not answer it."
            ),
            "{text}"
        );
    }
}
