//! The built-in responder: no model, no network. It detects requests for a person, searches
//! the knowledge base first for everything else, and answers by quoting the best passage when
//! it is relevant enough; otherwise the knowledge base "has nothing" and it hands off. A short
//! follow-up ("and express?") is read with the customer's previous message ([`follow_up`]),
//! and a message of several questions gets a quote for each article that answers one.

use std::sync::Arc;

use async_trait::async_trait;
use unicode_segmentation::UnicodeSegmentation;

use super::summary::{self, Searched};
use super::{Reply, Responder, ResponderError, Turn, decline_text, detect, human_request_reply};
use super::{follow_up, small_talk};
use crate::domain::handoff::Reason;
use crate::knowledge::{self, BotIndex, Coverage, Hit, KnowledgeBase, KnowledgeError};
use crate::store::Store;

/// How relevant the best passage must be to count as an answer, unless the bot sets its own
/// (`BotRecord::relevance_threshold`); chosen on development splits (docs/EVALUATION.md).
pub const RELEVANCE_THRESHOLD: f32 = 0.235;
/// Share of the question's content words the passage must contain to be quoted without a
/// caveat; below it, the answer is offered as partial.
const COVERED: f32 = 0.6;
/// Longest quote, in characters.
const QUOTE_CHARS: usize = 420;
/// Passages fetched, so that another section of the best document can be quoted instead.
const PASSAGES: usize = 5;
/// Questions of one message answered separately, at most ([`other_answers`]).
const MAX_QUESTIONS: usize = 3;
/// Missing words named in a partial answer's lead, at most.
const NAMED: usize = 3;

pub struct BuiltinResponder {
    store: Store,
    knowledge: KnowledgeBase,
}

impl BuiltinResponder {
    pub fn new(store: Store, knowledge: KnowledgeBase) -> Self {
        Self { store, knowledge }
    }
}

#[async_trait]
impl Responder for BuiltinResponder {
    async fn respond(&self, turn: Turn<'_>) -> Result<Reply, ResponderError> {
        let message = turn.message;
        if detect::is_human_request(message) {
            return Ok(human_request_reply(&turn));
        }
        if let Some(answer) = small_talk::answer(message) {
            return Ok(Reply::Answer(answer.to_owned()));
        }
        if let Some(language) = detect::identity::language(message) {
            return Ok(Reply::Answer(identity_answer(
                language,
                &turn.bot.name,
                turn.handoff_enabled,
            )));
        }
        let index = self.knowledge.index(&self.store, &turn.bot.id).await?;
        let threshold = turn.bot.relevance_threshold();
        let terms = index.terms(message).len();
        if let Some(answer) = follow_up_answer(&index, &turn, terms, threshold).await? {
            return Ok(Reply::Answer(answer));
        }
        if terms == 0 {
            return Ok(Reply::Answer(
                "Could you tell me a little more about what you need?".to_owned(),
            ));
        }
        let hits = knowledge::search_in(&index, message, PASSAGES).await?;
        match hits.first() {
            Some(best) if best.relevance >= threshold => {
                let (hit, _) = passage(&index, &hits, message).map_err(KnowledgeError::from)?;
                let others = other_answers(&index, message, hit, threshold).await?;
                // The best passage is judged against what the others leave to it.
                let rest = others
                    .iter()
                    .fold(message.to_owned(), |rest, (q, _)| rest.replace(q, " "));
                let coverage = index.coverage(&rest, hit).map_err(KnowledgeError::from)?;
                let mut answer = quoted(&index, hit, &rest, &coverage);
                for (question, other) in &others {
                    answer.push_str("\n\n");
                    answer.push_str(&quoted(&index, other, question, &Coverage::WHOLE));
                }
                Ok(Reply::Answer(answer))
            }
            best if turn.handoff_enabled => {
                let place;
                let searched = match best {
                    Some(hit) => {
                        place = hit.place();
                        Searched::Weak {
                            query: message,
                            place: &place,
                            relevance: hit.relevance,
                        }
                    }
                    None => Searched::Nothing { query: message },
                };
                Ok(Reply::Handoff {
                    reason: Reason::KbMiss,
                    summary: summary::write(turn.history, message, searched, Reason::KbMiss),
                })
            }
            _ => Ok(Reply::Answer(decline_text(Reason::KbMiss))),
        }
    }
}

/// The answer to a short follow-up ("and express?", "how?", [`follow_up`]), read together
/// with the customer's previous message: only when that finds a relevant passage which has
/// every word the follow-up itself names, so that "and can I pay with paypal?" after a
/// question about delivery is not answered about delivery again. `None`: ask it on its own.
async fn follow_up_answer(
    index: &Arc<BotIndex>,
    turn: &Turn<'_>,
    terms: usize,
    threshold: f32,
) -> Result<Option<String>, KnowledgeError> {
    let Some(before) = follow_up::previous(turn.history, turn.message, terms) else {
        return Ok(None);
    };
    let question = format!("{before}\n{}", turn.message);
    let hits = knowledge::search_in(index, &question, PASSAGES).await?;
    if hits.first().is_none_or(|best| best.relevance < threshold) {
        return Ok(None);
    }
    let (hit, coverage) = passage(index, &hits, turn.message)?;
    if terms > 0 && coverage.share < 1.0 {
        return Ok(None);
    }
    Ok(Some(quoted(index, hit, &question, &Coverage::WHOLE)))
}

/// In a message of several questions, those that a passage of another document than `main`'s
/// answers in full on its own, with that passage: "How long does delivery take? And can I
/// return sale items?" is answered by the return policy as a whole, and its first question gets
/// the delivery times after it. Whether the bot answers at all is still the whole message's
/// decision (docs/EVALUATION.md: deciding by its questions was no better on dev data).
async fn other_answers(
    index: &Arc<BotIndex>,
    message: &str,
    main: &Hit,
    threshold: f32,
) -> Result<Vec<(String, Hit)>, KnowledgeError> {
    let questions: Vec<&str> = message
        .unicode_sentences()
        .map(str::trim)
        .filter(|s| s.ends_with(['?', '؟']) || s.starts_with('¿'))
        .collect();
    let mut found: Vec<(String, Hit)> = Vec::new();
    if questions.len() < 2 {
        return Ok(found);
    }
    for question in questions.into_iter().take(MAX_QUESTIONS) {
        let hits = knowledge::search_in(index, question, PASSAGES).await?;
        if hits.first().is_none_or(|best| best.relevance < threshold) {
            continue;
        }
        let (hit, coverage) = passage(index, &hits, question)?;
        // Another section of an article already quoted is more often the same topic asked
        // again ("Do you ship to Canada? How much does it cost?") than a second question.
        let quoted_already = hit.document_id == main.document_id
            || found
                .iter()
                .any(|(_, other)| other.document_id == hit.document_id);
        if coverage.share >= 1.0 && !quoted_already {
            found.push((question.to_owned(), hit.clone()));
        }
    }
    Ok(found)
}

/// The bot's answer from a passage: the stretch that fits the question, led by a caveat when
/// the passage covers only part of it, and where it comes from.
fn quoted(index: &BotIndex, hit: &Hit, question: &str, coverage: &Coverage) -> String {
    let quote = knowledge::quote(index, hit, question, QUOTE_CHARS);
    format!(
        "{}{quote}\n\n(From “{}”)",
        partial_lead(coverage),
        hit.title
    )
}

/// The passage to quote and how much of the question it covers. The confidence belongs to the
/// best *document*; of its passages among the hits that score at least half as well as the
/// best one, the one that covers most of the question is quoted (the better-ranked on a tie):
/// "can I return a sale item?" is answered by the section that mentions sale items, not by the
/// one titled "How to return an item".
fn passage<'h>(
    index: &BotIndex,
    hits: &'h [Hit],
    question: &str,
) -> tantivy::Result<(&'h Hit, Coverage)> {
    let best = &hits[0];
    let mut chosen = (best, index.coverage(question, best)?);
    for hit in &hits[1..] {
        if hit.document_id != best.document_id || hit.score < best.score / 2.0 {
            continue;
        }
        let coverage = index.coverage(question, hit)?;
        if coverage.share > chosen.1.share {
            chosen = (hit, coverage);
        }
    }
    Ok(chosen)
}

/// What an answer opens with when its passage covers only part of the question: that it may
/// not answer everything, and which of the customer's words it says nothing about.
fn partial_lead(coverage: &Coverage) -> String {
    if coverage.share >= COVERED {
        return String::new();
    }
    let named: Vec<String> = coverage
        .missing
        .iter()
        .take(NAMED)
        .map(|word| format!("“{word}”"))
        .collect();
    match named.split_last() {
        None => {
            "This may not answer everything you asked, but here is what I found:\n\n".to_owned()
        }
        Some((last, [])) => format!(
            "This may not answer everything you asked (it says nothing about {last}), but here is what I found:\n\n"
        ),
        Some((last, rest)) => format!(
            "This may not answer everything you asked (it says nothing about {} or {last}), but here is what I found:\n\n",
            rest.join(", ")
        ),
    }
}

/// "Acme's", but "Acme Outfitters'".
fn possessive(name: &str) -> String {
    if name.ends_with(['s', 'S']) {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}

/// What the bot says when asked whether it is a bot, in the language of the question: what it
/// is, what it answers from and — only when a person can take over — how to reach one.
fn identity_answer(language: &str, bot: &str, handoff_enabled: bool) -> String {
    let (is, offer) = match language {
        "es" => (
            format!(
                "Soy el asistente automático de {bot}. Respondo con nuestros artículos de ayuda."
            ),
            " Si quieres hablar con una persona, pídelo y te paso con el equipo.",
        ),
        "pt" => (
            format!(
                "Sou o assistente automático de {bot}. Respondo com base nos nossos artigos de ajuda."
            ),
            " Se quiser falar com uma pessoa, é só pedir que eu passo você para a equipe.",
        ),
        "fr" => (
            format!(
                "Je suis l'assistant automatique de {bot}. Je réponds à partir de nos articles d'aide."
            ),
            " Si vous voulez parler à une personne, demandez-le et je vous mets en relation avec l'équipe.",
        ),
        "de" => (
            format!(
                "Ich bin der automatische Assistent von {bot}. Ich antworte aus unseren Hilfeartikeln."
            ),
            " Wenn Sie mit einem Menschen sprechen möchten, sagen Sie es einfach, und ich verbinde Sie mit dem Team.",
        ),
        "it" => (
            format!(
                "Sono l'assistente automatico di {bot}. Rispondo in base ai nostri articoli di aiuto."
            ),
            " Se vuoi parlare con una persona, chiedilo pure e ti metto in contatto con il team.",
        ),
        "id" => (
            format!("Saya asisten otomatis {bot}. Saya menjawab dari artikel bantuan kami."),
            " Kalau ingin bicara dengan orang, minta saja dan saya hubungkan dengan tim.",
        ),
        "hi" => (
            format!(
                "Main {bot} ka automated assistant hoon. Main hamare help articles se jawab deta hoon."
            ),
            " Agar aap kisi insaan se baat karna chahte hain, bas kahiye, main aapko team se jod dunga.",
        ),
        "ar" => (
            format!("أنا المساعد الآلي لـ {bot}. أجيب من مقالات المساعدة لدينا."),
            " إذا أردت التحدث مع شخص، اطلب ذلك وسأوصلك بالفريق.",
        ),
        "tr" => (
            format!(
                "Ben {bot} için çalışan otomatik bir asistanım. Yardım makalelerimize göre yanıt veriyorum."
            ),
            " Bir kişiyle konuşmak isterseniz söylemeniz yeterli, sizi ekibe bağlarım.",
        ),
        "ru" => (
            format!("Я автоматический помощник {bot}. Я отвечаю по нашим справочным статьям."),
            " Если хотите поговорить с человеком, просто попросите, и я передам вас команде.",
        ),
        _ => (
            format!(
                "I'm {} automated assistant. I answer from our help articles.",
                possessive(bot)
            ),
            " If you'd like to talk to a person, just ask and I'll connect you with the team.",
        ),
    };
    if handoff_enabled { is + offer } else { is }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::KbLanguage;
    use crate::store::ChunkRecord;

    #[test]
    fn the_section_of_the_best_document_that_covers_the_question_is_quoted() {
        // The demo's knowledge base, cut into passages as it is when seeded.
        let mut chunks = Vec::new();
        for (title, content) in crate::demo::DOCUMENTS {
            for passage in knowledge::chunk::passages(knowledge::chunk::Format::Markdown, content) {
                chunks.push(ChunkRecord {
                    id: format!("{title}/{}", passage.heading),
                    document_id: title.to_string(),
                    title: title.to_string(),
                    heading: passage.heading,
                    body: passage.body,
                });
            }
        }
        let index = BotIndex::build(&chunks, KbLanguage::English).unwrap();
        let question = "can i return a sale item";
        let hits = index.search(question, PASSAGES).unwrap();
        // The section titled for returning ranks first; the one about sale items answers.
        assert_eq!(hits[0].heading, "How to return an item", "{hits:?}");
        let (hit, coverage) = passage(&index, &hits, question).unwrap();
        assert_eq!(hit.heading, "Return policy");
        assert_eq!(coverage.share, 1.0);
        // A question one section answers whole keeps that section.
        let question = "how do I print the return label";
        let hits = index.search(question, PASSAGES).unwrap();
        let (hit, _) = passage(&index, &hits, question).unwrap();
        assert_eq!(hit.heading, "How to return an item");
    }

    #[test]
    fn a_partial_answer_names_what_it_says_nothing_about() {
        let lead = |share: f32, missing: &[&str]| {
            partial_lead(&Coverage {
                share,
                missing: missing.iter().map(|w| w.to_string()).collect(),
            })
        };
        assert_eq!(lead(0.8, &["hawaii"]), "");
        assert_eq!(
            lead(0.4, &["Hawaii"]),
            "This may not answer everything you asked (it says nothing about “Hawaii”), but here is what I found:\n\n"
        );
        assert!(
            lead(0.2, &["express", "hawaii", "boat", "tomorrow"])
                .contains("(it says nothing about “express”, “hawaii” or “boat”)")
        );
        assert!(lead(0.0, &[]).starts_with("This may not answer everything you asked, but"));
    }

    #[test]
    fn a_name_ending_in_s_takes_only_an_apostrophe() {
        assert_eq!(possessive("Acme"), "Acme's");
        assert_eq!(possessive("Acme Outfitters"), "Acme Outfitters'");
        assert!(
            identity_answer("en", "Acme Outfitters", false)
                .starts_with("I'm Acme Outfitters' automated")
        );
    }

    #[test]
    fn the_bot_says_what_it_is_in_the_question_s_language_and_offers_a_person_only_if_it_can() {
        let es = identity_answer("es", "Acme", true);
        assert!(
            es.starts_with("Soy el asistente automático de Acme."),
            "{es}"
        );
        assert!(es.contains("hablar con una persona"), "{es}");
        let ru = identity_answer("ru", "Acme", false);
        assert_eq!(
            ru,
            "Я автоматический помощник Acme. Я отвечаю по нашим справочным статьям."
        );
        let en = identity_answer("en", "Acme", true);
        assert!(en.ends_with("connect you with the team."), "{en}");
        for language in [
            "en", "es", "pt", "fr", "de", "it", "id", "hi", "ar", "tr", "ru",
        ] {
            let alone = identity_answer(language, "Acme", false);
            let offered = identity_answer(language, "Acme", true);
            assert!(
                alone.contains("Acme") && offered.len() > alone.len(),
                "{language}"
            );
            if language != "en" {
                assert_ne!(alone, identity_answer("en", "Acme", false), "{language}");
            }
        }
    }
}
