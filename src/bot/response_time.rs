//! The response time a customer is promised at a handoff. An admin may set it on the bot; left
//! at the default, the bot's system prompt is read for a sentence that states one ("We answer
//! within 24 hours on weekdays."), so the customer is never promised a time the business did
//! not give.

use std::borrow::Cow;

use crate::domain::hours::BusinessHours;
use crate::store::BotRecord;

/// The response-time text a new bot gets.
pub const DEFAULT: &str = "Our team responds within 2 hours during business hours.";

/// Words that name a span of time, whole words, in the languages the detector knows.
const UNITS: [&str; 40] = [
    "minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "day", "days", "week",
    "weeks", "minuto", "minutos", "hora", "horas", "día", "días", "dia", "dias", "heure", "heures",
    "jour", "jours", "stunde", "stunden", "tag", "tagen", "tage", "ora", "ore", "giorno", "giorni",
    "jam", "menit", "hari", "semana", "semanas", "semaine", "woche",
];

/// Number words that come before a unit ("one business day", "a few hours").
const NUMBER_WORDS: [&str; 12] = [
    "one", "two", "three", "few", "a", "an", "un", "una", "uno", "ein", "einem", "same",
];

/// Word beginnings that say someone answers.
const ANSWERS: [&str; 14] = [
    "respond", "repl", "answer", "get back", "responde", "contest", "répond", "repond", "antwort",
    "rispond", "balas", "jawab", "atend", "in touch",
];

/// Whole words for the business speaking of itself: a promise, not an instruction.
const WE: [&str; 24] = [
    "we", "our", "us", "team", "nosotros", "nuestro", "nuestra", "equipo", "nous", "notre",
    "équipe", "wir", "unser", "unsere", "unserem", "nuestros", "noi", "nostro", "nostra", "kami",
    "tim", "nós", "nosso", "nossa",
];

/// Words that turn a sentence into a rule about promises rather than a promise.
const NOT_A_PROMISE: [&str; 14] = [
    "never", "not", "don't", "dont", "no", "nunca", "jamais", "nie", "nicht", "mai", "jangan",
    "if", "tell", "say",
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

/// What a customer handed off at `now_ms` is told about when the team will answer: when the
/// team is back, outside business hours; the bot's response time otherwise.
pub fn promise_at(bot: &BotRecord, hours: &BusinessHours, now_ms: i64) -> String {
    hours
        .away_text(now_ms)
        .unwrap_or_else(|| promised(bot).into_owned())
}

/// The first sentence of a prompt that states a response time, as the customer should read it:
/// the business speaking of itself ("we", "our team"), a number and a unit of time, a verb of
/// answering, and no negation or condition ("Never promise a reply within 2 hours" is a rule
/// for the bot, not a promise).
pub fn from_prompt(prompt: &str) -> Option<String> {
    prompt
        .split_inclusive(['.', '!', '\n', ';'])
        .map(|s| unwrap_instruction(s.trim().trim_end_matches(';')))
        .find(|sentence| states_a_response_time(sentence))
        .map(as_told)
}

fn states_a_response_time(sentence: &str) -> bool {
    let lower = sentence.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    let timed = words.windows(2).any(|pair| {
        let number = pair[0].chars().all(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&pair[0]);
        number && UNITS.contains(&pair[1])
    }) || lower.contains("business day")
        || lower.contains("working day");
    timed
        && has(&WE)
        && !has(&NOT_A_PROMISE)
        && ANSWERS.iter().any(|a| {
            words.iter().any(|w| w.starts_with(a)) || (a.contains(' ') && lower.contains(a))
        })
}

/// The sentence without an instruction wrapped around its start ("Tell customers that …").
fn unwrap_instruction(sentence: &str) -> &str {
    let sentence = sentence.trim_start_matches(['-', '*', '•', ' ']);
    let lower = sentence.to_lowercase();
    WRAPPERS
        .iter()
        .find(|w| lower.starts_with(*w))
        .map_or(sentence, |w| &sentence[w.len()..])
}

/// The sentence as its own sentence: a capital first and a full stop last.
fn as_told(sentence: &str) -> String {
    let mut chars = sentence.chars();
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
            "Never promise that we reply within 24 hours.",
            "Do not say our team answers within 2 hours.",
            "If asked, tell customers that we reply in 1 day.",
            "Answer only from the knowledge base; returns are accepted within 30 days.",
            "Reply to every customer today; our admin answers the phone 24/7.",
            "Someone on our team answers the phone on Mondays.",
            "We answer in at most 3 sentences.",
        ] {
            assert_eq!(from_prompt(prompt), None, "{prompt}");
        }
    }
}
