//! A tantivy index over one bot's passages, and the two judgements the bot makes with it:
//! which passage fits a question best, and whether it fits well enough to answer at all.
//!
//! A question is matched in four ways, each a BM25 field of its own: content words (stemmed,
//! without stop words), every word (so "what is my balance" keeps its "what is my"), word
//! pairs (order matters: "card declined" is not "declined card"), and character n-grams (typos
//! and word forms the stemmer misses). Each way's score is divided by the most that question
//! could score that way, so it reads as a share between 0 and 1 whatever the question's length
//! or the knowledge base's size. A passage is matched on its title (with its heading) and on
//! its body separately, and the stronger of the two counts fully, the weaker half: an FAQ is
//! found by its question, a help article by its text. A misspelt word the knowledge base never
//! uses is read as its nearest word, as a guess (see [`ONE_EDIT`]).
//!
//! Whether the best passage answers is a *margin* decision, not a raw cut-off: the confidence
//! is the best document's share of a softmax over the ten best documents' scores (with
//! missing places filled by documents that match nothing), so it is high only when one
//! document stands out and matches well. The weights and the temperature were chosen on
//! development splits only (CLINC150 `val`, BANKING77-OOS `valid`, StackFAQ group A); see
//! docs/EVALUATION.md.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder};

use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, WhitespaceTokenizer,
};
use tantivy::{DocAddress, Index, IndexReader, Searcher, TantivyDocument, Term, doc};

use super::classifier::{Classifier, Terms};
use crate::domain::KbLanguage;
use crate::store::ChunkRecord;

/// tantivy's BM25 term-frequency saturation: a term's score never exceeds `idf × (1 + K1)`.
const K1: f32 = 1.2;
/// How a question can match a passage, and how much each way counts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Way {
    Topic,
    Word,
    Pair,
    Gram,
}
/// Weights on the title side and on the body side, per way (chosen on development splits).
const TITLE_WEIGHTS: [(Way, f32); 4] = [
    (Way::Topic, 2.0),
    (Way::Word, 2.0),
    (Way::Pair, 0.5),
    (Way::Gram, 1.0),
];
const BODY_WEIGHTS: [(Way, f32); 3] = [(Way::Topic, 1.0), (Way::Word, 0.5), (Way::Pair, 2.0)];
/// How much the weaker of title and body adds to the stronger.
const WEAKER_SIDE: f32 = 0.5;
/// Softmax temperature of the confidence, and how many documents it compares.
const TEMPERATURE: f32 = 0.3;
const COMPARED: usize = 10;
/// Candidates fetched per side before the two are combined.
const CANDIDATES: usize = 200;

const TOPIC: &str = "baton-topic";
const WORD: &str = "baton-word";
const RAW: &str = "baton-raw";
/// The fast field holding a passage's document's number in the classifier.
const DOCUMENT_INDEX: &str = "document_index";

#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    document_id: Field,
    document_index: Field,
    title: Field,
    heading: Field,
    body: Field,
    title_topic: Field,
    title_word: Field,
    title_pair: Field,
    title_gram: Field,
    body_topic: Field,
    body_word: Field,
    body_pair: Field,
}

impl Fields {
    fn title(&self, way: Way) -> Option<Field> {
        Some(match way {
            Way::Topic => self.title_topic,
            Way::Word => self.title_word,
            Way::Pair => self.title_pair,
            Way::Gram => self.title_gram,
        })
    }

    /// The body has no n-gram field: on development data it only made rankings worse there.
    fn body(&self, way: Way) -> Option<Field> {
        match way {
            Way::Topic => Some(self.body_topic),
            Way::Word => Some(self.body_word),
            Way::Pair => Some(self.body_pair),
            Way::Gram => None,
        }
    }
}

/// One bot's passages, searchable.
pub struct BotIndex {
    reader: IndexReader,
    fields: Fields,
    analyzers: Analyzers,
    /// The language the analyzers were built for; a bot whose language changes gets a new index.
    language: KbLanguage,
    /// Which document a question is about, learned from the documents' own sentences; `None`
    /// for a knowledge base too small or too large to learn from.
    classifier: Option<Classifier>,
}

/// How much of a question a passage covers (see [`BotIndex::coverage`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// The IDF-weighted share of the question's content words the passage has, 0 to 1.
    pub share: f32,
    /// The question's content words the passage lacks, as written, in the question's order.
    pub missing: Vec<String>,
}

impl Coverage {
    /// A passage that covers the whole question.
    pub const WHOLE: Coverage = Coverage {
        share: 1.0,
        missing: Vec::new(),
    };
}

/// Punctuation around a word ("hawaii?", "«envío»"); marks inside words (Devanagari vowel
/// signs) are not punctuation and stay.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '¿' | '¡' | '«' | '»' | '“' | '”' | '‘' | '’' | '…' | '،' | '؟' | '।'
        )
}

/// A passage found for a query.
#[derive(Debug, Clone)]
pub struct Hit {
    pub chunk_id: String,
    pub document_id: String,
    pub title: String,
    pub heading: String,
    pub body: String,
    /// How well the passage matches, from 0 to (about) 3; only comparable within one query.
    pub score: f32,
    /// The confidence that this passage's document is the one the question is about, from 0
    /// to 1: its share among the best documents (see the module documentation).
    pub relevance: f32,
}

impl Hit {
    /// Where the passage is: its document's title, and its section's heading when it has one
    /// ("Returns and refunds › Refunds").
    pub fn place(&self) -> String {
        if self.heading.is_empty() || self.heading == self.title {
            self.title.clone()
        } else {
            format!("{} › {}", self.title, self.heading)
        }
    }
}

/// Words that carry no topic: function words, and the question and politeness words customers
/// wrap every question in ("how do I…", "can you please…"). Without them, "how" would weigh as
/// much as "refund" in a query.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "done",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "hello",
    "her",
    "here",
    "hers",
    "hi",
    "him",
    "his",
    "how",
    "i",
    "i'm",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "know",
    "let",
    "like",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "need",
    "no",
    "not",
    "now",
    "of",
    "on",
    "one",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "please",
    "pls",
    "really",
    "she",
    "something",
    "anything",
    "thing",
    "things",
    "stuff",
    "way",
    "ok",
    "okay",
    "also",
    "still",
    "ever",
    "yes",
    "hey",
    "should",
    "so",
    "some",
    "such",
    "tell",
    "thank",
    "thanks",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "to",
    "too",
    "u",
    "up",
    "us",
    "very",
    "want",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "long",
    "many",
    "often",
    "soon",
    "able",
    "possible",
];

/// Misspellings mended: a word the knowledge base never uses is read as the knowledge base's
/// nearest word, if one is within reach — one edit (a transposition counts as one) for a
/// stemmed word of [`ONE_EDIT`] letters or more, two from [`TWO_EDITS`]. Shorter words are left
/// alone: at that length a typo and another real word are too alike ("ship", "shop"). Chosen
/// on development splits, where five letters cost out-of-scope recall (docs/EVALUATION.md).
const ONE_EDIT: usize = 6;
const TWO_EDITS: usize = 9;
static SPELLERS: LazyLock<[LevenshteinAutomatonBuilder; 2]> = LazyLock::new(|| {
    [
        LevenshteinAutomatonBuilder::new(1, true),
        LevenshteinAutomatonBuilder::new(2, true),
    ]
});

/// A Levenshtein automaton as the term dictionary walks it.
struct Nearby<'a>(&'a DFA);

impl tantivy_fst::Automaton for Nearby<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// English terms [`BotIndex::coverage`] does not count, stemmed as the analyzer leaves them:
/// pieces of contractions, their chat spellings ("dont", "whats" → "what", "ur"), time words
/// that only frame a question, and the everyday verbs and adverbs a question is phrased with
/// rather than about ("where do I *find*…", "how long do refunds *take*", "is express
/// *available*", "a *different* size", "the item I *received*…"): a passage that answers the
/// question never needs them, so naming them as what it lacks would only puzzle the customer.
const ENGLISH_FILLERS: &[&str] = &[
    "aren", "couldn", "didn", "doesn", "don", "hadn", "hasn", "haven", "isn", "ll", "re",
    "shouldn", "ve", "wasn", "weren", "won", "wouldn", "dont", "cant", "wont", "didnt", "doesnt",
    "isnt", "im", "ur", "plz", "wanna", "gonna", "what", "how", "where", "until", "yet", "alreadi",
    "sinc", "ago", "find", "take", "took", "make", "made", "use", "work", "happen", "tri", "buy",
    "bought", "receiv", "never", "instead", "usual", "normal", "avail", "differ",
];

/// Whether two stems are one word: equal, or one a long prefix of the other, which the
/// stemmer leaves apart in a few families ("deliver" is "deliv", "delivery" "deliveri").
fn same_word(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long || (short.chars().count() >= 5 && long.starts_with(short))
}

#[derive(Clone)]
struct Analyzers {
    /// Content words: stop words removed, stemmed.
    topic: TextAnalyzer,
    /// Every word, stemmed.
    word: TextAnalyzer,
    /// Every word, folded but not stemmed: what character n-grams are cut from.
    plain: TextAnalyzer,
}

impl Analyzers {
    /// English keeps the analyzers tuned here; other languages are analysed as in
    /// [`super::analysis`].
    fn new(language: KbLanguage) -> Self {
        if language != KbLanguage::English {
            return Analyzers {
                topic: super::analysis::analyzer(language, true),
                word: super::analysis::analyzer(language, false),
                plain: super::analysis::plain(),
            };
        }
        let base = || {
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
        };
        let stopwords = StopWordFilter::remove(STOP_WORDS.iter().map(|w| (*w).to_owned()));
        Analyzers {
            topic: base()
                .filter(stopwords)
                .filter(Stemmer::new(Language::English))
                .build(),
            word: base().filter(Stemmer::new(Language::English)).build(),
            plain: base().build(),
        }
    }

    /// The tokens of a text, in order, repeats kept.
    fn tokens(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
        let mut analyzer = analyzer.clone();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// What a text contributes to one way of matching, as whitespace-separated terms.
    fn terms(&self, way: Way, text: &str) -> Vec<String> {
        match way {
            Way::Topic => Self::tokens(&self.topic, text),
            Way::Word => Self::tokens(&self.word, text),
            Way::Pair => {
                let words = Self::tokens(&self.word, text);
                words
                    .windows(2)
                    .map(|w| format!("{}_{}", w[0], w[1]))
                    .collect()
            }
            Way::Gram => Self::tokens(&self.plain, text)
                .iter()
                .flat_map(|word| grams(word))
                .collect(),
        }
    }

    /// What the classifier reads of a text: every word stemmed, word pairs, n-grams.
    fn classifier_terms(&self, text: &str) -> Terms {
        [Way::Word, Way::Pair, Way::Gram].map(|way| self.terms(way, text))
    }
}

/// Character 3- to 5-grams of a word marked at both ends: "_card_" → "_ca", "car", … "ard_".
fn grams(word: &str) -> Vec<String> {
    let chars: Vec<char> = std::iter::once('_')
        .chain(word.chars())
        .chain(std::iter::once('_'))
        .collect();
    let mut out = Vec::new();
    for n in 3..=5 {
        for window in chars.windows(n) {
            out.push(window.iter().collect());
        }
    }
    out
}

impl BotIndex {
    pub fn build(chunks: &[ChunkRecord], language: KbLanguage) -> tantivy::Result<BotIndex> {
        let mut builder = Schema::builder();
        let indexed = |tokenizer: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let fields = Fields {
            chunk_id: builder.add_text_field("chunk_id", STRING | STORED),
            document_id: builder.add_text_field("document_id", STRING | STORED),
            document_index: builder.add_u64_field(DOCUMENT_INDEX, FAST),
            title: builder.add_text_field("title", STORED),
            heading: builder.add_text_field("heading", STORED),
            body: builder.add_text_field("body", STORED),
            title_topic: builder.add_text_field("title_topic", indexed(TOPIC)),
            title_word: builder.add_text_field("title_word", indexed(WORD)),
            title_pair: builder.add_text_field("title_pair", indexed(RAW)),
            title_gram: builder.add_text_field("title_gram", indexed(RAW)),
            body_topic: builder.add_text_field("body_topic", indexed(TOPIC)),
            body_word: builder.add_text_field("body_word", indexed(WORD)),
            body_pair: builder.add_text_field("body_pair", indexed(RAW)),
        };
        let analyzers = Analyzers::new(language);
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(TOPIC, analyzers.topic.clone());
        index.tokenizers().register(WORD, analyzers.word.clone());
        index.tokenizers().register(
            RAW,
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
        );
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
        // Each document's number, in order of first appearance.
        let mut documents: HashMap<&str, usize> = HashMap::new();
        // The title (with the heading) and every sentence of the body are examples of what the
        // document answers; analysed only once it is clear the classifier will be trained.
        let mut examples: Vec<(usize, std::borrow::Cow<str>)> = Vec::new();
        let mut seen: HashSet<(usize, &str)> = HashSet::new();
        for chunk in chunks {
            let title = format!("{}\n{}", chunk.title, chunk.heading);
            let joined = |way, text: &str| analyzers.terms(way, text).join(" ");
            let next = documents.len();
            let document = *documents.entry(chunk.document_id.as_str()).or_insert(next);
            if seen.insert((document, chunk.heading.as_str())) {
                examples.push((document, title.clone().into()));
            }
            for sentence in super::sentences(&chunk.body) {
                examples.push((document, sentence.into()));
            }
            writer.add_document(doc!(
                fields.chunk_id => chunk.id.as_str(),
                fields.document_id => chunk.document_id.as_str(),
                fields.document_index => document as u64,
                fields.title => chunk.title.as_str(),
                fields.heading => chunk.heading.as_str(),
                fields.body => chunk.body.as_str(),
                fields.title_topic => title.as_str(),
                fields.title_word => title.as_str(),
                fields.title_pair => joined(Way::Pair, &title),
                fields.title_gram => joined(Way::Gram, &title),
                fields.body_topic => chunk.body.as_str(),
                fields.body_word => chunk.body.as_str(),
                fields.body_pair => joined(Way::Pair, &chunk.body),
            ))?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        reader.reload()?;
        let classifier = Classifier::worth_training(examples.len(), documents.len())
            .then(|| {
                let examples: Vec<(usize, Terms)> = examples
                    .iter()
                    .map(|(document, text)| (*document, analyzers.classifier_terms(text)))
                    .collect();
                Classifier::train(&examples, documents.len())
            })
            .flatten();
        Ok(BotIndex {
            reader,
            fields,
            analyzers,
            language,
            classifier,
        })
    }

    /// About how many bytes the bot's own classifier holds (0 without one).
    pub fn learned_bytes(&self) -> usize {
        self.classifier.as_ref().map_or(0, Classifier::memory)
    }

    pub fn language(&self) -> KbLanguage {
        self.language
    }

    /// The content words of a text: lower-cased, folded, stemmed, without stop words, each
    /// once. Empty means the text has nothing to search for.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut terms = Vec::new();
        for term in self.analyzers.terms(Way::Topic, text) {
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        terms
    }

    /// How much of the question a passage covers: the IDF-weighted share of the question's
    /// content words that the passage (title, heading or body) contains, from 0 to 1, and the
    /// words it lacks as the question wrote them. The confidence says whether this is the right
    /// document; this says whether it answers all of what was asked ("refund *and* exchange").
    pub fn coverage(&self, question: &str, hit: &Hit) -> tantivy::Result<Coverage> {
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as f32;
        let present = self.terms(&format!("{}\n{}\n{}", hit.title, hit.heading, hit.body));
        let mut seen: Vec<String> = Vec::new();
        let (mut covered, mut total, mut missing) = (0.0, 0.0, Vec::new());
        // Word by word, so that what is missing can be named as the customer wrote it.
        for word in question.split_whitespace() {
            for term in self.terms(word) {
                if term.chars().all(|c| c.is_ascii_digit())
                    || self.is_filler(&term)
                    || seen.contains(&term)
                {
                    continue;
                }
                let df =
                    searcher.doc_freq(&Term::from_field_text(self.fields.body_topic, &term))?;
                let weight = (1.0 + (n - df as f32 + 0.5) / (df as f32 + 0.5)).ln();
                total += weight;
                // A misspelt word counts as the word it was meant to be.
                if present.iter().any(|p| same_word(p, &term))
                    || self
                        .respell(&searcher, &term)?
                        .is_some_and(|word| present.contains(&word))
                {
                    covered += weight;
                } else {
                    missing.push(word.trim_matches(is_punctuation).to_owned());
                }
                seen.push(term);
            }
        }
        missing.dedup();
        Ok(Coverage {
            share: if total > 0.0 { covered / total } else { 0.0 },
            missing,
        })
    }

    /// A term too slight to say what a question is about, though the search keeps it: a
    /// single letter, or in English the pieces of contractions ("hasn't" is "hasn" and "t")
    /// and a few time words that only frame a question ("until", "yet").
    fn is_filler(&self, term: &str) -> bool {
        term.chars().count() < 2
            || (self.language == KbLanguage::English && ENGLISH_FILLERS.contains(&term))
    }

    /// One side's query: every term of every way, each boosted by its way's weight over the
    /// most the question could score that way, so that a full match of one way adds its
    /// weight. `None` when the question has no term on this side.
    fn side_query(
        &self,
        searcher: &Searcher,
        query: &HashMap<Way, Vec<String>>,
        mended: &HashSet<String>,
        weights: &[(Way, f32)],
        field: impl Fn(Way) -> Option<Field>,
    ) -> tantivy::Result<Option<BooleanQuery>> {
        let n = searcher.num_docs() as f32;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for &(way, weight) in weights {
            let Some(field) = field(way) else {
                continue;
            };
            let mut found = Vec::new();
            let mut most = 0.0;
            for term in &query[&way] {
                // Numbers (order ids, quantities) are facts, not topics: a passage is not less
                // relevant for lacking the customer's order number.
                if term.chars().all(|c| c.is_ascii_digit() || c == '_') {
                    continue;
                }
                // A mended word (or a pair with one) is a guess: it matches, but the question
                // is scored against what it could have scored with the word as typed.
                let guessed = term.split('_').any(|w| mended.contains(w));
                let term = Term::from_field_text(field, term);
                // A term no passage has still counts in what the question could score (as
                // the rarest term would): what a passage lacks makes it less relevant.
                let df = searcher.doc_freq(&term)? as f32;
                let rarity = if guessed { 0.0 } else { df };
                most += (1.0 + (n - rarity + 0.5) / (rarity + 0.5)).ln() * (1.0 + K1);
                if df > 0.0 {
                    found.push(term);
                }
            }
            if most <= 0.0 {
                continue;
            }
            for term in found {
                let query = TermQuery::new(term, IndexRecordOption::WithFreqs);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), weight / most)),
                ));
            }
        }
        Ok((!clauses.is_empty()).then(|| BooleanQuery::new(clauses)))
    }

    /// How many passages have the term, as a word (title or body).
    fn word_frequency(&self, searcher: &Searcher, term: &str) -> tantivy::Result<u64> {
        let mut df = 0;
        for field in [self.fields.title_word, self.fields.body_word] {
            df += searcher.doc_freq(&Term::from_field_text(field, term))?;
        }
        Ok(df)
    }

    /// The knowledge base's own spelling of a word it does not have (see [`ONE_EDIT`]): its
    /// nearest word, the commonest of those as near. `None` for a word the knowledge base
    /// has, a number, a short word, or one with nothing near.
    fn respell(&self, searcher: &Searcher, term: &str) -> tantivy::Result<Option<String>> {
        let length = term.chars().count();
        if length < ONE_EDIT
            || term.chars().any(|c| c.is_ascii_digit())
            || self.word_frequency(searcher, term)? > 0
        {
            return Ok(None);
        }
        let dfa = SPELLERS[usize::from(length >= TWO_EDITS)].build_dfa(term);
        let mut found: HashMap<String, u64> = HashMap::new();
        for segment in searcher.segment_readers() {
            for field in [self.fields.title_word, self.fields.body_word] {
                let inverted = segment.inverted_index(field)?;
                let mut stream = inverted.terms().search(Nearby(&dfa)).into_stream()?;
                while stream.advance() {
                    if let Ok(word) = std::str::from_utf8(stream.key()) {
                        *found.entry(word.to_owned()).or_default() +=
                            u64::from(stream.value().doc_freq);
                    }
                }
            }
        }
        // (edits, passages having it, the word), best first.
        let mut best: Option<(u8, u64, String)> = None;
        for (word, df) in found {
            let Distance::Exact(edits) = dfa.eval(&word) else {
                continue;
            };
            let better = best.as_ref().is_none_or(|(e, d, w)| {
                (edits, std::cmp::Reverse(df), &word) < (*e, std::cmp::Reverse(*d), w)
            });
            if better {
                best = Some((edits, df, word));
            }
        }
        Ok(best.map(|(_, _, word)| word))
    }

    /// Mends the question's misspelt words ([`Self::respell`]) in its words, content words
    /// and word pairs (its character n-grams stay as typed), and returns the words put in.
    fn mend(
        &self,
        searcher: &Searcher,
        query: &mut HashMap<Way, Vec<String>>,
    ) -> tantivy::Result<HashSet<String>> {
        let mut mended: HashMap<String, String> = HashMap::new();
        for term in &query[&Way::Word] {
            if !mended.contains_key(term)
                && let Some(word) = self.respell(searcher, term)?
            {
                mended.insert(term.clone(), word);
            }
        }
        if mended.is_empty() {
            return Ok(HashSet::new());
        }
        for way in [Way::Word, Way::Topic] {
            for term in query.get_mut(&way).into_iter().flatten() {
                if let Some(word) = mended.get(term) {
                    *term = word.clone();
                }
            }
        }
        let pairs = query[&Way::Word]
            .windows(2)
            .map(|w| format!("{}_{}", w[0], w[1]))
            .collect();
        query.insert(Way::Pair, pairs);
        Ok(mended.into_values().collect())
    }

    pub fn search(&self, query: &str, limit: usize) -> tantivy::Result<Vec<Hit>> {
        // The question analysed once per way, for both sides and the classifier.
        let mut query: HashMap<Way, Vec<String>> = [Way::Topic, Way::Word, Way::Pair, Way::Gram]
            .into_iter()
            .map(|way| (way, self.analyzers.terms(way, query)))
            .collect();
        if query[&Way::Topic].is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let mended = self.mend(&searcher, &mut query)?;
        let learned = self.classifier.as_ref().map(|classifier| {
            classifier.evidence([Way::Word, Way::Pair, Way::Gram].map(|w| query[&w].as_slice()))
        });
        for terms in query.values_mut() {
            terms.sort();
            terms.dedup();
        }
        let fields = self.fields;
        let mut sides: HashMap<DocAddress, (f32, f32)> = HashMap::new();
        let title = self.side_query(&searcher, &query, &mended, &TITLE_WEIGHTS, |w| {
            fields.title(w)
        })?;
        let body = self.side_query(&searcher, &query, &mended, &BODY_WEIGHTS, |w| {
            fields.body(w)
        })?;
        let candidates = TopDocs::with_limit(CANDIDATES.max(limit));
        if let Some(title) = title {
            for (score, address) in searcher.search(&title, &candidates)? {
                sides.entry(address).or_default().0 = score;
            }
        }
        if let Some(body) = body {
            for (score, address) in searcher.search(&body, &candidates)? {
                sides.entry(address).or_default().1 = score;
            }
        }
        let mut scored: Vec<(f32, DocAddress)> = sides
            .into_iter()
            .map(|(address, (title, body))| {
                (title.max(body) + WEAKER_SIDE * title.min(body), address)
            })
            .collect();
        if let Some(learned) = learned {
            // What the classifier is sure of raises a document's score in proportion: up to
            // double for a certain one, nothing for a guess.
            let columns: Vec<Column<u64>> = searcher
                .segment_readers()
                .iter()
                .map(|segment| segment.fast_fields().u64(DOCUMENT_INDEX))
                .collect::<tantivy::Result<_>>()?;
            for (score, address) in &mut scored {
                let document = columns[address.segment_ord as usize].first(address.doc_id);
                if let Some(p) = document.and_then(|d| learned.get(d as usize)) {
                    *score *= 1.0 + p;
                }
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));

        let mut hits = Vec::new();
        // The best score of each document, in rank order, for the confidence.
        let mut documents: Vec<(String, f32)> = Vec::new();
        for (score, address) in scored {
            if hits.len() >= limit && documents.len() >= COMPARED {
                break;
            }
            let doc: TantivyDocument = searcher.doc(address)?;
            let get = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let document_id = get(fields.document_id);
            if documents.len() < COMPARED && !documents.iter().any(|(d, _)| *d == document_id) {
                documents.push((document_id.clone(), score));
            }
            if hits.len() < limit {
                hits.push(Hit {
                    chunk_id: get(fields.chunk_id),
                    document_id,
                    title: get(fields.title),
                    heading: get(fields.heading),
                    body: get(fields.body),
                    score,
                    relevance: 0.0,
                });
            }
        }
        let confidence = confidences(&documents);
        for hit in &mut hits {
            hit.relevance = confidence.get(&hit.document_id).copied().unwrap_or(0.0);
        }
        Ok(hits)
    }
}

/// Each compared document's softmax share. Places the knowledge base cannot fill (it has
/// fewer matching documents than [`COMPARED`]) count as documents scoring zero, so a lone
/// weak match is not mistaken for a confident one.
fn confidences(documents: &[(String, f32)]) -> HashMap<String, f32> {
    let best = documents.first().map_or(0.0, |(_, s)| *s).max(0.0);
    let weight = |score: f32| ((score - best) / TEMPERATURE).exp();
    let empty = COMPARED.saturating_sub(documents.len()) as f32 * weight(0.0);
    let total: f32 = documents.iter().map(|(_, s)| weight(*s)).sum::<f32>() + empty;
    documents
        .iter()
        .map(|(d, s)| (d.clone(), weight(*s) / total))
        .collect()
}

#[cfg(test)]
mod language_tests {
    //! Knowledge bases in other languages, searched in their own language: each test asks in
    //! a different word form (or spelling) from the one the passage uses.

    use super::*;
    use crate::bot::builtin::RELEVANCE_THRESHOLD;

    fn index(language: KbLanguage, passages: &[(&str, &str, &str)]) -> BotIndex {
        let chunks: Vec<ChunkRecord> = passages
            .iter()
            .enumerate()
            .map(|(i, (title, heading, body))| ChunkRecord {
                id: (i + 1).to_string(),
                document_id: format!("doc-{}", i + 1),
                title: (*title).into(),
                heading: (*heading).into(),
                body: (*body).into(),
            })
            .collect();
        BotIndex::build(&chunks, language).unwrap()
    }

    /// The passage a question finds, which must be relevant enough to answer from.
    fn answers(index: &BotIndex, question: &str, chunk_id: &str) {
        let hits = index.search(question, 3).unwrap();
        let best = hits
            .first()
            .unwrap_or_else(|| panic!("nothing found for {question:?}"));
        assert_eq!(best.chunk_id, chunk_id, "{question:?}: {hits:?}");
        assert!(
            best.relevance >= RELEVANCE_THRESHOLD,
            "{question:?} is not answered: {hits:?}"
        );
    }

    #[test]
    fn english_keeps_its_own_stop_words_and_stemmer() {
        let index = index(KbLanguage::English, &[]);
        assert_eq!(index.language(), KbLanguage::English);
        assert_eq!(index.terms("How do I get my refunds, please?"), ["refund"]);
        assert_eq!(index.terms("Atención"), ["atencion"]);
    }

    #[test]
    fn spanish_singular_and_plural_find_each_other_with_or_without_accents() {
        let index = index(
            KbLanguage::Spanish,
            &[
                (
                    "Envíos",
                    "Plazos de entrega",
                    "El envío estándar tarda de 3 a 5 días hábiles. El envío exprés llega al día siguiente.",
                ),
                (
                    "Devoluciones",
                    "Política de devoluciones",
                    "Puedes devolver los productos sin usar en un plazo de 30 días. Los reembolsos se hacen al método de pago original.",
                ),
                (
                    "Pagos",
                    "Tarjetas aceptadas",
                    "Aceptamos Visa, Mastercard y PayPal.",
                ),
            ],
        );
        answers(&index, "reembolso", "2");
        answers(&index, "¿Cuánto tarda el envio?", "1");
        answers(&index, "Hola, quiero hacer una devolución por favor", "2");
        answers(&index, "tarjeta", "3");
        assert_eq!(index.terms("reembolsos"), index.terms("Reembolso"));
    }

    #[test]
    fn portuguese_accents_fold_so_unaccented_questions_match() {
        let index = index(
            KbLanguage::Portuguese,
            &[
                (
                    "Entrega",
                    "Prazos",
                    "A entrega padrão leva de 3 a 5 dias úteis.",
                ),
                (
                    "Devoluções",
                    "Política de devolução",
                    "Você pode devolver produtos não usados em até 30 dias. O reembolso é feito no cartão de crédito.",
                ),
            ],
        );
        answers(&index, "devolucoes", "2");
        answers(&index, "reembolso no cartao de credito", "2");
        answers(&index, "oi, qual o prazo de entrega padrao?", "1");
    }

    #[test]
    fn german_inflected_nouns_and_umlaut_spellings_match() {
        let index = index(
            KbLanguage::German,
            &[
                (
                    "Versand",
                    "Lieferzeiten",
                    "Die Lieferung dauert zwei bis drei Werktage. Für Bestellungen über 50 Euro ist der Versand kostenlos.",
                ),
                (
                    "Rückgabe",
                    "Rückerstattungen",
                    "Rückerstattungen werden innerhalb von fünf Tagen auf das ursprüngliche Zahlungsmittel gebucht.",
                ),
            ],
        );
        answers(&index, "Rückerstattung", "2");
        answers(&index, "Rueckerstattung Zahlungsmittels", "2");
        answers(&index, "Lieferungen", "1");
        answers(&index, "kostenloser Versand für meine Bestellung?", "1");
    }

    #[test]
    fn russian_case_endings_match() {
        let index = index(
            KbLanguage::Russian,
            &[
                (
                    "Доставка",
                    "Сроки доставки",
                    "Доставка по Москве занимает один день.",
                ),
                (
                    "Возврат",
                    "Возврат товара",
                    "Возврат товара возможен в течение 14 дней. Деньги вернём на карту.",
                ),
            ],
        );
        answers(&index, "доставку", "1");
        answers(&index, "Здравствуйте, подскажите про возврате товаров", "2");
        answers(&index, "деньгами на карте", "2");
    }

    #[test]
    fn arabic_articles_prefixes_and_marks_do_not_get_in_the_way() {
        let index = index(
            KbLanguage::Arabic,
            &[
                (
                    "الإرجاع",
                    "سياسة الإرجاع",
                    "يمكنك إرجاع المنتجات خلال 14 يومًا من الاستلام.",
                ),
                ("الشحن", "تكلفة الشحن", "الشحن مجاني للطلبات فوق 200 ريال."),
            ],
        );
        answers(&index, "كيف يمكنني ارجاع منتج؟", "1");
        answers(&index, "والشحن", "2");
        answers(&index, "الشَّحْن", "2");
    }

    #[test]
    fn none_folds_and_lowercases_but_keeps_words_whole() {
        let index = index(
            KbLanguage::None,
            &[
                (
                    "Pengembalian dana",
                    "Proses",
                    "Pengembalian dana diproses dalam 5 hari kerja.",
                ),
                (
                    "Pengiriman",
                    "Ongkos kirim",
                    "Pengiriman gratis untuk pesanan di atas Rp100.000.",
                ),
                ("भुगतान", "कार्ड", "हम सभी अंतर्राष्ट्रीय कार्ड स्वीकार करते हैं।"),
            ],
        );
        assert_eq!(index.terms("Pengembalian DANA"), ["pengembalian", "dana"]);
        answers(&index, "pengembalian dana", "1");
        answers(&index, "ongkos kirim pengiriman", "2");
        answers(&index, "अंतर्राष्ट्रीय कार्ड", "3");
    }

    #[test]
    fn only_words_the_knowledge_base_lacks_are_respelt_and_only_when_long_enough() {
        let index = index(
            KbLanguage::English,
            &[
                ("Payments", "", "We accept Visa, Mastercard and PayPal."),
                (
                    "Shipping",
                    "",
                    "Standard delivery takes 3 to 5 business days.",
                ),
            ],
        );
        let searcher = index.reader.searcher();
        let respell = |term: &str| index.respell(&searcher, term).unwrap();
        assert_eq!(respell("deliveri"), None, "a word it has");
        assert_eq!(respell("delivri").as_deref(), Some("deliveri"));
        assert_eq!(respell("paypol").as_deref(), Some("paypal"));
        // Two edits only from nine letters.
        assert_eq!(respell("mastrcrd"), None);
        assert_eq!(respell("mastercrd").as_deref(), Some("mastercard"));
        // Short words ("visa", "day") are too like other real words to respell.
        assert_eq!(respell("vise"), None);
        assert_eq!(respell("dayz"), None);
        assert_eq!(respell("swallow"), None, "nothing near");
        assert_eq!(respell("2024"), None, "a number");
    }
}
