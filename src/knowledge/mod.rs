//! The knowledge base: documents cut into passages ([`chunk`]), indexed per bot ([`index`]) in
//! the bot's language ([`analysis`], [`stopwords`]), and quoted as answers. Each node keeps an
//! in-memory index per bot and rebuilds it when the bot's `kb_version` or `kb_language` in the
//! database changes, so a document added or deleted, or a language switched, on any node is
//! in the next answer everywhere.

pub mod analysis;
pub mod chunk;
mod classifier;
pub mod document;
pub mod index;
pub mod pdf;
pub mod site;
mod stopwords;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Mutex as AsyncMutex;

use crate::domain::KbLanguage;
use crate::store::{Store, StoreError};
pub use index::{BotIndex, Coverage, Hit};

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("index build task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

struct Cached {
    version: i64,
    language: KbLanguage,
    index: Arc<BotIndex>,
}

/// Per-bot indexes, built on first use and after every change.
#[derive(Clone, Default)]
pub struct KnowledgeBase {
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    /// One build at a time per bot, so a burst of searches after a change builds once; bots
    /// build side by side (a build that trains the bot's classifier can take seconds).
    building: Arc<Mutex<HashMap<String, Arc<AsyncMutex<()>>>>>,
}

impl KnowledgeBase {
    /// The bot's current index.
    pub async fn index(
        &self,
        store: &Store,
        bot_id: &str,
    ) -> Result<Arc<BotIndex>, KnowledgeError> {
        let (version, language) = store.kb_state(bot_id).await?;
        if let Some(index) = self.cached(bot_id, version, language) {
            return Ok(index);
        }
        let lock = self
            .building
            .lock()
            .expect("build locks")
            .entry(bot_id.to_owned())
            .or_default()
            .clone();
        let _building = lock.lock().await;
        if let Some(index) = self.cached(bot_id, version, language) {
            return Ok(index);
        }
        let chunks = store.bot_chunks(bot_id).await?;
        let index = Arc::new(
            tokio::task::spawn_blocking(move || BotIndex::build(&chunks, language)).await??,
        );
        self.cache.lock().expect("cache lock").insert(
            bot_id.to_owned(),
            Cached {
                version,
                language,
                index: index.clone(),
            },
        );
        Ok(index)
    }

    fn cached(&self, bot_id: &str, version: i64, language: KbLanguage) -> Option<Arc<BotIndex>> {
        let cache = self.cache.lock().expect("cache lock");
        cache
            .get(bot_id)
            .filter(|c| c.version == version && c.language == language)
            .map(|c| c.index.clone())
    }

    pub async fn search(
        &self,
        store: &Store,
        bot_id: &str,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Hit>, KnowledgeError> {
        search_in(&self.index(store, bot_id).await?, query, limit).await
    }
}

/// [`BotIndex::search`] off the async runtime: a search reads the index from disk and runs
/// the classifier, which a runtime thread should not wait on.
pub async fn search_in(
    index: &Arc<BotIndex>,
    query: &str,
    limit: usize,
) -> Result<Vec<Hit>, KnowledgeError> {
    let (index, query) = (index.clone(), query.to_owned());
    Ok(tokio::task::spawn_blocking(move || index.search(&query, limit)).await??)
}

/// The most useful stretch of a passage for a question: whole sentences (or list items)
/// around the one that shares most of the question's terms, never cut mid-word.
pub fn quote(index: &BotIndex, hit: &Hit, question: &str, max_chars: usize) -> String {
    let wanted = index.terms(question);
    let units = sentences(&hit.body);
    if units.is_empty() {
        return hit.heading.clone();
    }
    let overlap = |unit: &str| {
        let terms = index.terms(unit);
        wanted.iter().filter(|t| terms.contains(t)).count()
    };
    let best = (0..units.len())
        .max_by_key(|&i| (overlap(units[i]), usize::MAX - i))
        .unwrap_or(0);
    let mut start = best;
    let mut end = best + 1;
    let mut len = units[best].len();
    // Grow forwards first (explanations follow their topic sentence), then backwards.
    while end < units.len() && len + units[end].len() < max_chars {
        len += units[end].len() + 1;
        end += 1;
    }
    while start > 0 && len + units[start - 1].len() < max_chars {
        start -= 1;
        len += units[start].len() + 1;
    }
    let mut text = units[start..end].join(" ");
    if units[start..end].iter().any(|u| u.starts_with('•')) {
        text = units[start..end].join("\n");
    }
    if text.chars().count() > max_chars {
        text = trim_words(&text, max_chars);
    }
    text
}

/// Sentences and list items of a passage. A sentence ends at a full stop, question or
/// exclamation mark (Latin, Arabic `؟` `۔`, Devanagari `।` `॥`) followed by a space and a
/// capital or a letter of a script without case.
pub(crate) fn sentences(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut start = 0;
        for (i, c) in line.char_indices() {
            let end = i + c.len_utf8();
            let mut next = line[end..].chars();
            let ends_sentence = matches!(c, '.' | '!' | '?' | '؟' | '۔' | '।' | '॥')
                && next.next() == Some(' ')
                && next
                    .next()
                    .is_some_and(|n| n.is_ascii_uppercase() || !n.is_ascii());
            if ends_sentence {
                out.push(line[start..end].trim());
                start = end;
            }
        }
        let rest = line[start..].trim();
        if !rest.is_empty() {
            out.push(rest);
        }
    }
    out
}

/// Cuts at the last whole word before `max_chars` and marks the cut.
fn trim_words(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 2 > max_chars {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ChunkRecord;

    fn chunk(id: &str, title: &str, heading: &str, body: &str) -> ChunkRecord {
        ChunkRecord {
            id: id.into(),
            document_id: format!("doc-{id}"),
            title: title.into(),
            heading: heading.into(),
            body: body.into(),
        }
    }

    fn shop() -> BotIndex {
        BotIndex::build(
            &[
            chunk("1", "Shipping", "Delivery times", "Standard delivery takes 3 to 5 business days. Express delivery arrives the next business day if you order before 2 pm."),
            chunk("2", "Returns", "Return policy", "You can return unworn items within 30 days of delivery. Refunds go back to the original payment method within 5 days."),
            chunk("3", "Payments", "Accepted cards", "We accept Visa, Mastercard, American Express and PayPal."),
            ],
            KbLanguage::English,
        )
        .unwrap()
    }

    #[test]
    fn the_passage_that_answers_ranks_first_with_high_relevance() {
        let index = shop();
        let hits = index.search("How long does delivery take?", 3).unwrap();
        assert_eq!(hits[0].chunk_id, "1");
        assert!(
            hits[0].relevance >= crate::bot::builtin::RELEVANCE_THRESHOLD,
            "{hits:?}"
        );
        let hits = index.search("can I return items I bought?", 3).unwrap();
        assert_eq!(hits[0].chunk_id, "2");
        let hits = index.search("do you take paypal", 3).unwrap();
        assert_eq!(hits[0].chunk_id, "3");
    }

    #[test]
    fn a_hit_is_placed_by_its_article_and_its_section() {
        let index = shop();
        assert_eq!(
            index.search("refunds", 1).unwrap()[0].place(),
            "Returns › Return policy"
        );
        let whole = BotIndex::build(
            &[chunk("9", "Returns", "", "Refunds take 5 days.")],
            KbLanguage::English,
        )
        .unwrap();
        assert_eq!(whole.search("refunds", 1).unwrap()[0].place(), "Returns");
    }

    #[test]
    fn an_unrelated_question_has_low_relevance() {
        let index = shop();
        let hits = index
            .search("what is the airspeed of a swallow", 3)
            .unwrap();
        assert!(hits.first().is_none_or(|h| h.relevance < 0.4), "{hits:?}");
    }

    #[test]
    fn stemming_matches_word_forms() {
        let index = shop();
        let hits = index.search("refunded", 1).unwrap();
        assert_eq!(hits[0].chunk_id, "2");
    }

    #[test]
    fn coverage_says_how_much_of_the_question_a_passage_answers() {
        let index = shop();
        let hit = &index.search("refunds", 1).unwrap()[0];
        let whole = index.coverage("refunds", hit).unwrap();
        assert_eq!(whole.share, 1.0);
        assert!(whole.missing.is_empty());
        let partial = index
            .coverage("Refunds for orders shipped to Hawaii?", hit)
            .unwrap();
        assert!(partial.share > 0.0 && partial.share < 0.6, "{partial:?}");
        // What the passage lacks, as the question wrote it, without its punctuation; the
        // stop word "for" and the covered "Refunds" are not named.
        assert_eq!(partial.missing, ["orders", "shipped", "Hawaii"]);
        // An order number is a fact, not a topic: never missing.
        let numbered = index.coverage("refund for order 4411", hit).unwrap();
        assert_eq!(numbered.missing, ["order"]);
    }

    #[test]
    fn coverage_ignores_contractions_and_framing_words_and_joins_split_stems() {
        let index = shop();
        let delivery = &index.search("delivery", 1).unwrap()[0];
        // "deliver" stems to "deliv" and "delivery" to "deliveri": one word all the same.
        let weekdays = index
            .coverage("do you deliver the next day?", delivery)
            .unwrap();
        assert_eq!((weekdays.share, weekdays.missing.len()), (1.0, 0));
        // "hasn't", "yet" and "it's" say nothing of the topic, so only "weeks" is lacking.
        let late = index
            .coverage(
                "my delivery hasn't arrived yet, it's been 2 weeks",
                delivery,
            )
            .unwrap();
        assert_eq!(late.missing, ["weeks"]);
        // Chat spellings of question words are no more a topic than the words themselves.
        let chat = index.coverage("whats ur delivery time", delivery).unwrap();
        assert_eq!((chat.share, chat.missing.len()), (1.0, 0), "{chat:?}");
        // The everyday verbs and adverbs a question is phrased with are not what it asks about.
        let framed = index
            .coverage(
                "where would I usually find delivery times for Hawaii?",
                delivery,
            )
            .unwrap();
        assert_eq!(framed.missing, ["Hawaii"]);
        let refunds = &index.search("refunds", 1).unwrap()[0];
        for question in [
            "where do I find my refund",
            "is a refund available instead",
            "I never received my refund",
            "the items I bought, can I use a refund",
        ] {
            let coverage = index.coverage(question, refunds).unwrap();
            assert_eq!(
                (coverage.share, coverage.missing.len()),
                (1.0, 0),
                "{question}: {coverage:?}"
            );
        }
        // A short stem is not a prefix match: "card" is not "cardigan".
        let cards = &index.search("paypal", 1).unwrap()[0];
        let cardigan = index.coverage("paypal for a cardigan", cards).unwrap();
        assert_eq!(cardigan.missing, ["cardigan"]);
    }

    #[test]
    fn a_misspelt_word_is_read_as_the_knowledge_base_spells_it() {
        let index = shop();
        // "delivry" is no word of the knowledge base; "delivery" is one edit away.
        let hits = index.search("how long does delivry take", 3).unwrap();
        assert_eq!(hits[0].chunk_id, "1");
        assert!(
            hits[0].relevance >= crate::bot::builtin::RELEVANCE_THRESHOLD,
            "{hits:?}"
        );
        let typed = index
            .coverage("how long does delivry take", &hits[0])
            .unwrap();
        assert!(!typed.missing.iter().any(|w| w == "delivry"), "{typed:?}");
        // Mended words are guesses: the question scores less than one spelt right.
        let spelt = index.search("how long does delivery take", 3).unwrap();
        assert!(spelt[0].score > hits[0].score, "{spelt:?} {hits:?}");
    }

    #[test]
    fn quotes_are_whole_sentences_around_the_best_one() {
        let index = shop();
        let question = "when will my refund be paid back?";
        let hit = &index.search(question, 1).unwrap()[0];
        let quoted = quote(&index, hit, question, 80);
        assert_eq!(
            quoted,
            "Refunds go back to the original payment method within 5 days."
        );
    }

    #[test]
    fn quotes_in_another_language_pick_the_sentence_that_answers() {
        let index = BotIndex::build(
            &[chunk(
                "1",
                "Devoluciones",
                "Política de devoluciones",
                "Puedes devolver los productos sin usar en un plazo de 30 días. Los reembolsos se \
                 hacen al método de pago original en 5 días hábiles. ¿Tienes dudas? Escríbenos.",
            )],
            KbLanguage::Spanish,
        )
        .unwrap();
        let question = "¿cuándo me llega el reembolso?";
        let hit = &index.search(question, 1).unwrap()[0];
        assert_eq!(
            quote(&index, hit, question, 80),
            "Los reembolsos se hacen al método de pago original en 5 días hábiles."
        );
    }

    #[test]
    fn arabic_and_hindi_sentences_end_at_their_own_marks() {
        assert_eq!(
            sentences("هل لديك سؤال؟ اكتب لنا."),
            ["هل لديك سؤال؟", "اكتب لنا."]
        );
        assert_eq!(
            sentences("पैसे वापस मिलेंगे। पाँच दिन लगते हैं।"),
            ["पैसे वापस मिलेंगे।", "पाँच दिन लगते हैं।"]
        );
        assert_eq!(
            sentences("Order before 2 p.m. today. Or call us!"),
            ["Order before 2 p.m. today.", "Or call us!"]
        );
    }

    #[test]
    fn over_long_text_is_cut_between_words() {
        let cut = trim_words("alpha beta gamma delta", 12);
        assert_eq!(cut, "alpha beta…");
    }
}
