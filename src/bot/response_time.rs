//! The response time a customer is promised at a handoff. An admin may set it on the bot; left
//! at the default, the bot's system prompt is read for a sentence that states one ("We answer
//! within 24 hours on weekdays."), so the customer is never promised a time the business did
//! not give.

use std::borrow::Cow;

use crate::store::BotRecord;

/// The response-time text a new bot gets.
pub const DEFAULT: &str = "Our team responds within 2 hours during business hours.";

/// Words that name a span of time, in the languages the detector knows (stems, lowercase).
const UNITS: [&str; 22] = [
    "minute",
    "min ",
    "mins",
    "hour",
    "hrs",
    "business day",
    "working day",
    "day",
    "week",
    "minuto",
    "hora",
    "día",
    "dia ",
    "dias",
    "heure",
    "jour",
    "stunde",
    "tag",
    "giorn",
    "jam",
    "menit",
    "hari",
];

/// Words that say someone answers (stems, lowercase).
const ANSWERS: [&str; 16] = [
    "respond",
    "reply",
    "replies",
    "answer",
    "get back",
    "back to you",
    "in touch",
    "responde",
    "contesta",
    "répond",
    "repond",
    "antwort",
    "rispond",
    "balas",
    "jawab",
    "atend",
];

/// Instructions to the bot that wrap the sentence meant for the customer.
const WRAPPERS: [&str; 8] = [
    "tell the customer that ",
    "tell customers that ",
    "tell the customer ",
    "tell customers ",
    "let customers know that ",
    "let the customer know that ",
    "say that ",
    "mention that ",
];

/// What the customer is told about when the team will reply.
pub fn promised(bot: &BotRecord) -> Cow<'_, str> {
    let set = bot.response_time_text.trim();
    if set != DEFAULT {
        return Cow::Borrowed(set);
    }
    from_prompt(&bot.system_prompt).map_or(Cow::Borrowed(set), Cow::Owned)
}

/// The first sentence of a prompt that states a response time, as the customer should read it.
pub fn from_prompt(prompt: &str) -> Option<String> {
    prompt
        .split_inclusive(['.', '!', '\n'])
        .map(str::trim)
        .find(|sentence| states_a_response_time(sentence))
        .map(as_told)
}

fn states_a_response_time(sentence: &str) -> bool {
    let lower = format!("{} ", sentence.to_lowercase());
    let has_number = lower.chars().any(|c| c.is_ascii_digit())
        || [
            "one ", "two ", "few ", "a day", "an hour", "same day", "24/7",
        ]
        .iter()
        .any(|w| lower.contains(w));
    has_number
        && UNITS.iter().any(|u| lower.contains(u))
        && ANSWERS.iter().any(|a| lower.contains(a))
}

/// Drops an instruction wrapped around the sentence ("Tell customers that …") and makes it
/// a sentence of its own.
fn as_told(sentence: &str) -> String {
    let sentence = sentence.trim_start_matches(['-', '*', '•', ' ']);
    let lower = sentence.to_lowercase();
    let told = WRAPPERS
        .iter()
        .find(|w| lower.starts_with(*w))
        .map_or(sentence, |w| &sentence[w.len()..]);
    let mut chars = told.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stated_response_time_is_found_in_the_prompt() {
        let prompt = "You are Acme's assistant. Be brief and friendly.\n\
                      Our team answers within 24 hours on weekdays. Never discuss prices.";
        assert_eq!(
            from_prompt(prompt).as_deref(),
            Some("Our team answers within 24 hours on weekdays.")
        );
    }

    #[test]
    fn an_instruction_becomes_what_the_customer_reads() {
        assert_eq!(
            from_prompt("- tell customers that we reply within one business day").as_deref(),
            Some("We reply within one business day.")
        );
        assert_eq!(
            from_prompt("Nuestro equipo responde en 4 horas.").as_deref(),
            Some("Nuestro equipo responde en 4 horas.")
        );
    }

    #[test]
    fn other_rules_with_numbers_are_not_response_times() {
        for prompt in [
            "Answer in at most 2 sentences.",
            "Keep replies under 100 words.",
            "Our shop opens at 9 and closes at 17.",
            "Returns are accepted within 30 days.",
            "You are a friendly support assistant. Answer only from the knowledge base.",
        ] {
            assert_eq!(from_prompt(prompt), None, "{prompt}");
        }
    }
}
